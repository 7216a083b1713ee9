"""Untrusted text on its way out: to the terminal, into JSON, into a spreadsheet.

Evidence file names, batch fields, operator names and purposes are written by
people firetrace cannot trust. Three ways out, one function each:

- :func:`terminal_text` shows control characters (ESC, BEL, NUL, ...), bidi
  overrides, invisible format characters and unpaired surrogates as visible
  escapes (``\\x1b``, ``\\u202e``), so a name cannot move the cursor, recolour
  the screen, retitle the window or make ``evil.exe`` read as ``exe.live``.
  The command line's consoles also pass everything they print through it (a
  net under the explicit calls; see ``firetrace.cli.common``).
- :func:`escape_json_text` turns the same characters in a JSON document into
  ``\\uXXXX`` escapes: the document decodes to exactly the same values.
- :func:`csv_cell` neutralises cells a spreadsheet would run as a formula
  (leading ``=``, ``+``, ``-``, ``@``, tab, CR or LF, and their fullwidth forms)
  with a leading apostrophe, as OWASP recommends; every CSV writer uses it.

:func:`field_problem` is the check behind refusing the characters no typed
field may hold (batch fields, ``--operator``, ``--purpose``, ``correct --set``):
controls and bidi embeddings, overrides and isolates. Joiners and direction
marks stay allowed in fields (Persian and Indic names need them); they are only
shown escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Unicode categories Cc (controls), Cf (format: bidi controls, zero-width and
# tag characters), Cs (surrogates), Zl and Zp (line and paragraph separators).
# Written out (a test checks the list against unicodedata) so that importing
# this module stays instant.
_FORMAT_RANGES = (
    "\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ud800-\udfff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE = re.compile(f"[\x00-\x1f{_FORMAT_RANGES}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_FORMAT_RANGES}]")
_FORMAT = re.compile(f"[{_FORMAT_RANGES}]")  # in JSON text: controls are escaped already
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def visible_escape(char: str) -> str:
    """One character as a visible escape: ``\\x1b``, ``\\u202e``, ``\\U000e0041``.

    A surrogate standing for an undecodable byte of a file name (Python's
    ``surrogateescape``, U+DC80..U+DCFF) is shown as that byte, ``\\xNN``.
    """
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_text(value: object, *, multiline: bool = False) -> str:
    """``value`` as text that is safe to print on a terminal.

    Every control, bidi, invisible-format and surrogate character becomes a
    visible escape. ``multiline`` keeps line feeds (for free text shown as
    several lines); otherwise they are escaped too, so one field stays on one line.
    """
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_BUT_NEWLINE if multiline else _UNSAFE
    if not pattern.search(text):
        return text
    return pattern.sub(lambda m: visible_escape(m.group()), text)


# Never in a typed field: C0 controls (tab, LF and CR only where a field may span
# lines), DEL and C1 controls, bidi embeddings, overrides and isolates (they
# reorder what is shown: 'evil\u202eexe.txt'), unpaired surrogates and the
# invisible tag characters.
_FIELD_FORBIDDEN = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
    "\U000e0000-\U000e007f"
)
FIELD_FORBIDDEN = re.compile(f"[{_FIELD_FORBIDDEN}]")
_LINE_FIELD_FORBIDDEN = re.compile(f"[\t\n\r{_FIELD_FORBIDDEN}]")


def field_problem(text: str, *, multiline: bool = True) -> str | None:
    """Why ``text`` cannot be stored as a typed field, in a few words naming the
    character and its position, or None when it can. ``multiline`` false also
    refuses tab, line feed and carriage return (a one-line value: an operator)."""
    found = (FIELD_FORBIDDEN if multiline else _LINE_FIELD_FORBIDDEN).search(text)
    if found is None:
        return None
    char = found.group()
    kind = "a bidi control" if _BIDI.match(char) else "a control"
    return f"contains {kind} character ({visible_escape(char)}) at position {found.start() + 1}"


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters past U+FFFF
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_json_text(document: str) -> str:
    """A JSON text with every unsafe character spelt as a ``\\uXXXX`` escape.

    Inside a JSON document these characters can only sit in strings, where the
    escape means the same character: the values decode unchanged. (Controls
    below U+0020 are already escaped by :func:`json.dumps`.)
    """
    if not _FORMAT.search(document):
        return document
    return _FORMAT.sub(lambda m: _json_escape(m.group()), document)


# A cell starting with one of these is a formula (or starts one) in Excel,
# LibreOffice or Google Sheets; the fullwidth forms are read as the ASCII ones.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> object:
    """A value ready for a CSV cell: text that a spreadsheet would evaluate gets
    a leading apostrophe (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``,
    ``-77123`` -> ``'-77123``); None becomes empty; numbers pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def restore_csv_cell(text: str) -> str:
    """The value :func:`csv_cell` was given, for text it wrote: ``'=x`` -> ``=x``
    (text that did not need the apostrophe is returned as it is)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_LEADS):
        return text[1:]
    return text


def csv_row(values: Iterable[object]) -> list[object]:
    """:func:`csv_cell` of every value of a row."""
    return [csv_cell(v) for v in values]
