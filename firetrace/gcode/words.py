"""G-code text to a table of words, with numpy over the whole buffer.

Every byte is classified through one lookup table (upper-casing letters and
dropping blanks on the way), comments (``;`` to the end of the line and
``( ... )``) are masked with a difference array, and each word's number is
computed from its digits' place values with one weighted ``bincount``. No Python
code runs per line or per word. Line numbers (``N123``) and checksums (``*45``)
are words like any other and are simply never asked for; a word whose value is
not a plain decimal number (``M486 A"part"``, a Klipper macro's ``NAME=x``) has
the value NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEWLINE, STAR = 10, 42
DROP = 0  # table value for bytes that never reach the word stream

# byte -> itself, upper-cased for letters; blanks and control bytes -> DROP
_TABLE = np.arange(256, dtype=np.uint8)
_TABLE[ord("a") : ord("z") + 1] -= 32
for _blank in b" \t\r\f\v\x00%":
    _TABLE[_blank] = DROP
_POW10 = 10.0 ** np.arange(-30, 31, dtype=np.float64)
_MAX_EXPONENT = 30
MAX_NUMBER_CHARS = 16  # a longer number is not a plain G-code value: NaN
SHORT_NUMBER_CHARS = 8  # most words: read in the narrow table


@dataclass
class Words:
    """The words of a G-code text: letter, value and 0-based source line of each."""

    letters: np.ndarray  # uint8, upper case
    values: np.ndarray  # float64, NaN when the word has no plain number
    lines: np.ndarray  # int64
    line_count: int
    newlines: np.ndarray  # byte offset of every newline of the text (for markers)

    def column(self, letter: str, mask_lines: np.ndarray | None = None) -> np.ndarray:
        """One value per line for *letter* (NaN where the line has no such word;
        the last one wins when a line repeats it)."""
        out = np.full(self.line_count, np.nan)
        pick = self.letters == ord(letter)
        out[self.lines[pick]] = self.values[pick]
        return out

    def has_code(self, letter: str, code: float) -> np.ndarray:
        """Per line: does it hold the word *letter* *code* (``G`` 1 matches G1 and G01)."""
        out = np.zeros(self.line_count, dtype=bool)
        pick = (self.letters == ord(letter)) & (self.values == code)
        out[self.lines[pick]] = True
        return out

    def has_letter(self, letter: str) -> np.ndarray:
        out = np.zeros(self.line_count, dtype=bool)
        out[self.lines[self.letters == ord(letter)]] = True
        return out


def _comment_mask(buf: np.ndarray, newlines: np.ndarray) -> np.ndarray:
    """True for every byte inside a ``;`` comment or a ``( ... )`` comment."""
    n = len(buf)
    change = np.zeros(n + 1, dtype=np.int8)
    line_end = np.append(newlines, n)  # the end of the line that holds each byte
    semis = np.flatnonzero(buf == ord(";"))
    if len(semis):
        line_of = np.searchsorted(newlines, semis)
        first = np.concatenate(([True], line_of[1:] != line_of[:-1]))
        # one start per line and one end per line: plain (unbuffered) assignment is exact
        change[semis[first]] += 1
        change[line_end[line_of[first]]] -= 1
    opens = np.flatnonzero(buf == ord("("))
    if len(opens):
        closes = np.append(np.flatnonzero(buf == ord(")")), n)  # n: never closed
        eol = line_end[np.searchsorted(newlines, opens)]
        close_at = closes[np.searchsorted(closes, opens)] + 1
        np.add.at(change, opens, 1)
        np.add.at(change, np.minimum(close_at, eol), -1)
    return np.cumsum(change[:n], dtype=np.int8) > 0


def _parse_numbers(chars: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The number after each word start (a letter, newline or ``*``), NaN when the
    characters up to the next start are not a plain decimal number of at most
    :data:`MAX_NUMBER_CHARS` characters.

    Each word's characters become one row of a fixed-width table (gathered from a
    strided view of the text), read column by column with Horner's rule into an
    integer mantissa and a count of decimals: a few whole-column operations per
    character position, none per word."""
    n_words = len(starts)
    lengths = np.append(starts[1:], len(chars)) - starts - 1
    padded = np.concatenate((chars, np.zeros(MAX_NUMBER_CHARS + 1, dtype=np.uint8)))
    window = np.lib.stride_tricks.sliding_window_view(padded, MAX_NUMBER_CHARS)
    values = np.full(n_words, np.nan)
    short = lengths <= SHORT_NUMBER_CHARS
    for group, width in ((short, SHORT_NUMBER_CHARS), (~short, MAX_NUMBER_CHARS)):
        index = np.flatnonzero(group & (lengths > 0))
        if len(index):
            values[index] = _horner(window[starts[index] + 1, :width], lengths[index])
    return values


def _horner(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    n = len(rows)
    mantissa = np.zeros(n, dtype=np.int64)
    decimals = np.zeros(n, dtype=np.int64)
    seen_dot = np.zeros(n, dtype=bool)
    bad = lengths > rows.shape[1]
    digits = np.zeros(n, dtype=bool)
    negative = rows[:, 0] == 45
    for column in range(rows.shape[1]):
        char = rows[:, column]
        inside = column < lengths
        digit = char - np.uint8(48)
        is_digit = (digit < 10) & inside
        np.copyto(mantissa, mantissa * 10 + digit, where=is_digit)
        decimals += is_digit & seen_dot
        digits |= is_digit
        is_dot = (char == 46) & inside
        sign = ((char == 45) | (char == 43)) & (column == 0)
        bad |= inside & ~(is_digit | is_dot | sign)
        bad |= is_dot & seen_dot
        seen_dot |= is_dot
    value = mantissa / _POW10[decimals + _MAX_EXPONENT]
    value[negative] *= -1.0
    value[bad | ~digits] = np.nan
    return value


def split_words(data: bytes) -> Words:
    """Tokenise a whole G-code text (see the module docstring)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == NEWLINE)
    line_count = len(newlines) + (1 if len(buf) and buf[-1] != NEWLINE else 0)
    if len(buf) == 0:
        empty = np.zeros(0)
        return Words(empty.astype(np.uint8), empty, empty.astype(np.int64), 0, newlines)
    mapped = _TABLE[buf]
    keep = mapped != DROP
    if b";" in data or b"(" in data:
        keep &= ~_comment_mask(buf, newlines)
    chars = mapped[keep]
    if len(chars) == 0 or chars[-1] != NEWLINE:
        chars = np.append(chars, np.uint8(NEWLINE))
    is_letter = (chars >= 65) & (chars <= 90)
    boundary = is_letter | (chars == NEWLINE) | (chars == STAR)
    starts = np.flatnonzero(boundary)
    values = _parse_numbers(chars, starts)
    letters = chars[starts]
    ends_line = letters == NEWLINE
    lines = np.cumsum(ends_line, dtype=np.int64) - ends_line
    word = (letters != NEWLINE) & (letters != STAR)
    return Words(letters[word], values[word], lines[word], line_count, newlines)
