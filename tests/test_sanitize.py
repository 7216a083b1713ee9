"""The terminal sanitiser, the JSON escaper and the CSV formula neutraliser."""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata

from firetrace.sanitize import (
    csv_cell,
    escape_json_text,
    field_problem,
    terminal_text,
)

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def test_the_written_out_ranges_cover_every_unsafe_category():
    # The module lists the ranges by hand (instant import); unicodedata is the truth.
    missed = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in UNSAFE_CATEGORIES
        and terminal_text(chr(code)) == chr(code)
    ]
    assert missed == []


def test_escapes_are_visible_and_plain_text_passes_unchanged():
    assert terminal_text("a\x1b[2Jb\x07c\x00") == "a\\x1b[2Jb\\x07c\\x00"
    assert terminal_text("evil\u202eexe.txt") == "evil\\u202eexe.txt"
    assert terminal_text("bad-\udcff-byte") == "bad-\\xff-byte"  # surrogateescape'd name
    assert terminal_text("two\nlines") == "two\\nlines"
    assert terminal_text("two\nlines", multiline=True) == "two\nlines"
    plain = "Glock 17 — Ærø, 9×19 mm, 東京"
    assert terminal_text(plain) is plain


def test_field_problem_names_the_kind_and_position():
    assert field_problem("ok text, Ærø 東京") is None
    assert field_problem("\u0645\u06cc\u200c\u0634\u0648\u062f") is None  # a Persian ZWNJ
    found = field_problem("ab\u202ecd")
    assert found == "contains a bidi control character (\\u202e) at position 3"
    assert "control character (\\x1b)" in field_problem("\x1b[31m")
    assert field_problem("a\nb") is None
    assert "control character (\\n)" in field_problem("a\nb", multiline=False)


def test_json_escaping_keeps_the_values():
    document = json.dumps(
        {"name": "x\u202ey\u200b\ud800\U000e0041", "n": "\x1b"}, ensure_ascii=False
    )
    escaped = escape_json_text(document)
    assert escaped.isascii() and json.loads(escaped) == json.loads(document)


def test_formula_cells_are_neutralised_and_read_back_as_text():
    cells = ['=HYPERLINK("http://x","y")', "@SUM(1)", "-77123", "+1", "\t=1", "＝1", "ok"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_cell(c) for c in cells])
    read = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert [cell[1:] if cell.startswith("'") else None for cell in read[:-1]] == cells[:-1]
    assert read[-1] == "ok"
    assert csv_cell(-5) == -5 and csv_cell(None) == "" and csv_cell(True) == "true"
