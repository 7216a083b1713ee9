"""The batch reader decodes whole-line blocks: block edges must change nothing.

``MAX_LINE_BYTES`` is both the line limit and the block size, so shrinking it
puts block edges everywhere: inside quoted multi-line fields, beside multi-byte
characters, next to CRLF pairs.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from firetrace.errors import InputError
from firetrace.registry import readers
from firetrace.registry.readers import open_batch


def _expected(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader)
    return [(reader.line_num, row) for row in reader]


def _read(path) -> list[tuple[int, list[str]]]:
    with open_batch(path, known_columns=["a", "b", "c"]) as batch:
        return [(line, values) for line, values, _ in batch.rows]


CELLS = ["x", "ünï", "日本", '"quoted, comma"', '"two\nlines"', '"q""q"', "", "7"]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("block", [17, 64, 200])
def test_rows_and_line_numbers_do_not_depend_on_block_edges(tmp_path, monkeypatch, seed, block):
    rng = random.Random(seed)
    ending = "\r\n" if seed % 2 else "\n"
    lines = ["a,b,c"] + [",".join(rng.choice(CELLS[:-3]) for _ in range(3)) for _ in range(60)]
    lines = [line for line in lines if len(line.encode()) < block - 2]
    text = ending.join(lines) + ending
    path = tmp_path / "b.csv"
    path.write_bytes(text.encode())
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", block)
    assert _read(path) == _expected(text)


def test_multi_line_quoted_field_across_blocks(tmp_path, monkeypatch):
    text = 'a,b,c\n1,"ab\ncd\nef",x\n2,y,z\n'
    path = tmp_path / "b.csv"
    path.write_text(text)
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 12)
    assert _read(path) == [(4, ["1", "ab\ncd\nef", "x"]), (5, ["2", "y", "z"])]


def test_byte_order_mark_is_dropped_once(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("\ufeffa,b,c\n\ufeff1,2,3\n".encode())
    assert _read(path) == [(2, ["\ufeff1", "2", "3"])]


@pytest.mark.parametrize("block", [16, 1 << 20])
def test_bad_utf8_is_named_by_line_and_column_in_any_block(tmp_path, monkeypatch, block):
    lines = [b"a,b,c"] + [b"1,2,3"] * 20
    lines[13] = b"1,\xe9t\xe9,3"
    lines[17] = b"\xff,2,3"
    path = tmp_path / "b.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", block)
    with pytest.raises(InputError) as caught:
        _read(path)
    message = str(caught.value)
    assert "line 14" in message and "byte 0xe9 at column 3" in message
    assert "also 1 more lines: 18" in message


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"a,b,c\n" + b"1,2," + b"3" * 40 + b"\n", 2),  # long line ending in a newline
        (b"a,b,c\n1,2,3\n" + b"4" * 80, 3),  # long last line without one
        (b"a" * 100, 1),  # a header that never ends
    ],
)
def test_a_line_over_the_limit_is_refused_by_number(tmp_path, monkeypatch, content, line):
    path = tmp_path / "b.csv"
    path.write_bytes(content)
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 32)
    with pytest.raises(InputError, match=f"line {line}: line longer than 32 bytes"):
        _read(path)


def test_a_line_at_the_limit_is_read(tmp_path, monkeypatch):
    row = b"1,2," + b"3" * 27 + b"\n"  # 32 bytes with its newline
    path = tmp_path / "b.csv"
    path.write_bytes(b"a,b,c\n" + row + row)
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 32)
    assert [line for line, _ in _read(path)] == [2, 3]


def test_an_open_quote_is_named_by_the_line_its_record_starts_on(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text('a,b,c\n1,"two\nlines",3\n4,5,6\n7,"never\nclosed\n')
    with pytest.raises(InputError, match="line 5: malformed CSV .*quote left open"):
        _read(path)


def test_reading_never_lowers_the_process_wide_csv_field_limit(tmp_path, monkeypatch):
    """The csv module's field limit is global: a reader with a small line limit
    once left it at 64 for every later csv user of the process (a dupes CSV test
    failed after it). It is only ever raised now."""
    path = tmp_path / "b.csv"
    path.write_text("a,b,c\n1,2,3\n")
    before = csv.field_size_limit()
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 64)
    assert _read(path) == [(2, ["1", "2", "3"])]
    assert csv.field_size_limit() == before
    csv.field_size_limit(100)
    try:
        monkeypatch.setattr(readers, "MAX_LINE_BYTES", 1 << 20)
        _read(path)
        assert csv.field_size_limit() == 1 << 20  # raised to what a line may hold
    finally:
        csv.field_size_limit(before)
