"""G-code text to a table of words, with numpy over the whole buffer.

Comments (``;`` to the end of the line and ``( ... )``) are found as byte
intervals and cut out, blanks are dropped and letters upper-cased by one
``bytes.translate``; every letter, newline and ``*`` then starts a word. Each
word's number is read from its characters packed eight to a 64-bit integer: the
digits are combined with three multiplications per word (the "eight digits at
once" technique of fast decimal parsers), the decimal point and sign checked
bytewise. No Python code runs per line or per word. Line numbers (``N123``) and
checksums (``*45``) are words like any other and are simply never asked for; a
word whose value is not a plain decimal number (``M486 A"part"``, a Klipper
macro's ``NAME=x``) has the value NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEWLINE, STAR = 10, 42
_BLANKS = b" \t\r\f\v\x00%"
_UPPER = bytes(range(256)).upper()
_POW10 = 10.0 ** np.arange(-30, 31, dtype=np.float64)
_MAX_EXPONENT = 30
MAX_NUMBER_CHARS = 16  # a longer number is not a plain G-code value: NaN
PACKED_CHARS = 8  # numbers up to this long (nearly all) are read eight bytes at once
# bytes of a packed word beyond its length are cleared with these masks
_LENGTH_MASK = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)


@dataclass
class Words:
    """The words of a G-code text: letter, value and 0-based source line of each."""

    letters: np.ndarray  # uint8, upper case
    values: np.ndarray  # float64, NaN when the word has no plain number
    lines: np.ndarray  # int64
    line_count: int
    newlines: np.ndarray  # byte offset of every newline of the text (for markers)

    def __post_init__(self) -> None:
        self._of: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def of(self, letter: str) -> tuple[np.ndarray, np.ndarray]:
        """(lines, values) of the words of *letter*, in file order."""
        if letter not in self._of:
            index = np.flatnonzero(self.letters == ord(letter))
            self._of[letter] = (self.lines[index], self.values[index])
        return self._of[letter]

    def column(self, letter: str) -> np.ndarray:
        """One value per line for *letter* (NaN where the line has no such word;
        the last one wins when a line repeats it)."""
        out = np.full(self.line_count, np.nan)
        lines, values = self.of(letter)
        out[lines] = values
        return out

    def lines_with(self, letter: str, code: float) -> np.ndarray:
        """The lines (in order) that hold the word *letter* *code* (``G`` 1 matches
        G1 and G01)."""
        lines, values = self.of(letter)
        return lines[values == code]

    def has_code(self, letter: str, code: float) -> np.ndarray:
        """Per line: does it hold the word *letter* *code*."""
        out = np.zeros(self.line_count, dtype=bool)
        out[self.lines_with(letter, code)] = True
        return out

    def has_letter(self, letter: str) -> np.ndarray:
        out = np.zeros(self.line_count, dtype=bool)
        out[self.of(letter)[0]] = True
        return out


def comment_spans(buf: np.ndarray, newlines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of the comments of a text, merged and in order: from the first
    ``;`` of a line to its end, and from ``(`` to the next ``)`` or the line's end."""
    n = len(buf)
    line_end = np.append(newlines, n)  # the end of the line that holds each byte
    starts, ends = [], []
    semis = np.flatnonzero(buf == ord(";"))
    if len(semis):
        line_of = np.searchsorted(newlines, semis)
        first = np.concatenate(([True], line_of[1:] != line_of[:-1]))
        starts.append(semis[first])
        ends.append(line_end[line_of[first]])
    opens = np.flatnonzero(buf == ord("("))
    if len(opens):
        closes = np.append(np.flatnonzero(buf == ord(")")), n)  # n: never closed
        eol = line_end[np.searchsorted(newlines, opens)]
        starts.append(opens)
        ends.append(np.minimum(closes[np.searchsorted(closes, opens)] + 1, eol))
    if not starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start, end = np.concatenate(starts), np.concatenate(ends)
    order = np.argsort(start, kind="stable")
    start, end = start[order], np.maximum.accumulate(end[order])
    # a span that begins inside the one before is part of it
    new = np.concatenate(([True], start[1:] > end[:-1]))
    group_end = np.append(np.flatnonzero(new)[1:], len(start)) - 1
    return start[new], end[group_end]


def _without_comments(data: bytes, buf: np.ndarray, newlines: np.ndarray) -> bytes:
    """The text with every comment cut out: the text alternates between kept runs
    and comments, so one ``np.repeat`` of (keep, cut, keep, ...) by the runs'
    lengths gives the mask of the bytes kept."""
    if b";" not in data and b"(" not in data:
        return data
    starts, ends = comment_spans(buf, newlines)
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, len(buf)
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends
    keep = np.zeros(len(bounds) - 1, dtype=bool)
    keep[::2] = True
    return buf[np.repeat(keep, np.diff(bounds))].tobytes()


def _horner(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Numbers of up to ``rows.shape[1]`` characters, read column by column
    (Horner's rule into an integer mantissa and a count of decimals)."""
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


def _eight_digits(packed: np.ndarray) -> np.ndarray:
    """The decimal value of eight ASCII digits packed into each uint64 (first
    character in the lowest byte): pairs, then quadruples, then the eight."""
    u = np.uint64
    value = packed - u(0x3030303030303030)
    value = value * u(10) + (value >> u(8))  # byte 2k: the two digits 2k, 2k+1
    mask = u(0x000000FF000000FF)
    high_pairs = (value & mask) * u(100 + (1000000 << 32))
    low_pairs = ((value >> u(16)) & mask) * u(1 + (10000 << 32))
    value = (high_pairs + low_pairs) >> u(32)
    return (value & u(0xFFFFFFFF)).astype(np.int64)


def _packed_numbers(packed: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Numbers of 1 to 8 characters, each packed into a uint64 (first character in
    the lowest byte): checked bytewise, then the sign and the point taken out and
    the digits moved to the high end (zeros before them), so that one
    :func:`_eight_digits` reads the mantissa without any division."""
    u = np.uint64
    packed = packed & _LENGTH_MASK[lengths]
    chars = packed.view(np.uint8).reshape(-1, PACKED_CHARS)
    is_digit = (chars - np.uint8(48)) < 10
    dot_bytes = (chars == 46).view(np.uint64).ravel()  # 1 at each point's byte
    signed = (chars[:, 0] == 45) | (chars[:, 0] == 43)
    allowed = is_digit | (chars == 46) | (chars == 0)  # 0: beyond the word's length
    allowed[:, 0] |= signed
    bad = (~allowed).view(np.uint64).ravel() != 0
    bad |= is_digit.view(np.uint64).ravel() == 0  # no digit at all
    bad |= (dot_bytes & (dot_bytes - u(1))) != 0  # two points
    negative = chars[:, 0] == 45
    packed = np.where(signed, (packed & ~u(0xFF)) | u(48), packed)
    has_dot = dot_bytes != 0
    point = (np.frexp(dot_bytes.astype(np.float64))[1] - 1) // 8  # byte of the point
    point = np.where(has_dot, point, 0).astype(np.uint64)
    # the point taken out: the characters before it move up one byte, a 0 in front
    before = _LENGTH_MASK[point]
    shifted = ((packed & before) << u(8)) | (packed & ~(before | (before << u(8)) | u(0xFF)))
    shifted |= u(48)
    packed = np.where(has_dot, shifted, packed)
    # the last character to the top byte, zeros below
    gap = (PACKED_CHARS - lengths).astype(np.uint64) * u(8)
    packed = (packed << gap) | (u(0x3030303030303030) & _LENGTH_MASK[PACKED_CHARS - lengths])
    mantissa = _eight_digits(packed)
    decimals = np.where(has_dot, lengths - 1 - point.astype(np.int64), 0)
    value = mantissa / _POW10[decimals + _MAX_EXPONENT]
    value[negative] *= -1.0
    value[bad] = np.nan
    return value


def _parse_numbers(chars: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The number in ``chars[start + 1 : end]`` of each word, NaN when it is empty
    or not a plain decimal number of at most :data:`MAX_NUMBER_CHARS` characters."""
    lengths = ends - starts - 1
    values = np.full(len(starts), np.nan)
    padded = np.concatenate((chars, np.zeros(MAX_NUMBER_CHARS + 1, dtype=np.uint8)))
    short = np.flatnonzero((lengths > 0) & (lengths <= PACKED_CHARS))
    if len(short):
        # every byte offset read as the start of an (unaligned) little-endian uint64
        as_u64 = np.ndarray((len(chars) + 1,), dtype="<u8", buffer=padded, strides=(1,))
        values[short] = _packed_numbers(as_u64[starts[short] + 1], lengths[short])
    long = np.flatnonzero((lengths > PACKED_CHARS) & (lengths <= MAX_NUMBER_CHARS))
    if len(long):
        window = np.lib.stride_tricks.sliding_window_view(padded, MAX_NUMBER_CHARS)
        values[long] = _horner(window[starts[long] + 1], lengths[long])
    return values


def _letter_filter(letters: str | None) -> np.ndarray | None:
    if letters is None:
        return None
    table = np.zeros(256, dtype=bool)
    table[[ord(c) for c in letters.upper()]] = True
    return table


BLOCK_BYTES = 1 << 20  # the text is read in blocks of about this size (whole lines)


def _block_words(data: bytes, newlines: np.ndarray, wanted: np.ndarray | None):
    """(letters, values, lines) of the words of a block of whole lines; lines
    counted from the block's first line."""
    buf = np.frombuffer(data, dtype=np.uint8)
    text = _without_comments(data, buf, newlines).translate(_UPPER, _BLANKS)
    if not text.endswith(b"\n"):
        text += b"\n"
    chars = np.frombuffer(text, dtype=np.uint8)
    # letters, newlines and '*' start words (compared, not looked up: 4x faster)
    starts = np.flatnonzero(((chars - np.uint8(65)) < 26) | (chars == NEWLINE) | (chars == STAR))
    ends = np.append(starts[1:], len(chars))
    first = chars[starts]
    ends_line = first == NEWLINE
    lines = np.cumsum(ends_line, dtype=np.int64) - ends_line
    keep = ~ends_line & (first != STAR)
    if wanted is not None:
        keep &= wanted[first]
    pick = np.flatnonzero(keep)
    return first[pick], _parse_numbers(chars, starts[pick], ends[pick]), lines[pick]


def split_words(data: bytes, letters: str | None = None) -> Words:
    """Tokenise a whole G-code text (see the module docstring). With *letters*
    (``"GXYZE"``), only the words of those letters are kept: the others (feed
    rates, line numbers, checksums) are never read. The text is read in blocks
    of whole lines (:data:`BLOCK_BYTES`), so that the temporaries stay small."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == NEWLINE)
    line_count = len(newlines) + (1 if len(buf) and buf[-1] != NEWLINE else 0)
    wanted = _letter_filter(letters)
    parts = []
    begin, first_line = 0, 0
    while begin < len(data):
        # a block ends after its last newline (a line longer than a block is one)
        last = int(np.searchsorted(newlines, begin + BLOCK_BYTES)) - 1
        last = max(last, first_line)
        end = int(newlines[last]) + 1 if last < len(newlines) else len(data)
        block_lines = newlines[first_line : last + 1] - begin
        found = _block_words(data[begin:end], block_lines, wanted)
        parts.append((found[0], found[1], found[2] + first_line))
        first_line += len(block_lines)
        begin = end
    if not parts:
        empty = np.zeros(0)
        return Words(empty.astype(np.uint8), empty, empty.astype(np.int64), 0, newlines)
    letters_, values, lines = (np.concatenate(column) for column in zip(*parts, strict=True))
    return Words(letters_, values, lines, line_count, newlines)
