"""Readers for record batches: CSV (delimiter sniffed), JSON Lines and XLSX.

Each reader streams a file as ``(line, values, problem)`` triples aligned to
the batch's header: ``values`` is a list of strings (``""`` for an empty cell)
and ``problem`` a one-line reason when the row cannot be used (a ragged row, a
line that is not a JSON object). Input that cannot be read at all (missing
file, not UTF-8, no header, a line longer than :data:`MAX_LINE_BYTES`) raises
:class:`~firetrace.errors.InputError` naming the file and line. Readers know
nothing about column meanings; :mod:`.validate` does. Adding a format means one
``_open_<format>`` function and an entry in :data:`READERS`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from firetrace.errors import InputError, UsageError
from firetrace.inputs import DuplicateKey, parse_json, regular_file
from firetrace.sanitize import restore_csv_cell
from firetrace.suggest import unknown_message

# One physical line (and one CSV field) may not exceed this: bounds memory on
# hostile input such as a multi-gigabyte line without a newline.
MAX_LINE_BYTES = 1 << 20

RowTriple = tuple[int, list[str] | None, str | None]

UTF8 = "utf-8"
# The columns a rejects file (import --errors FILE) puts before a bad row's own
# values, as csvkit's csvclean does. A batch holding them is a rejects file being
# imported again: they are not batch columns and are skipped.
REJECT_COLUMNS = ("line_number", "msg")
# Offered when --encoding names no codec Python knows.
COMMON_ENCODINGS = ("utf-8", "cp1252", "latin-1", "iso-8859-15", "cp1250", "cp1251", "mac-roman")


def text_encoding(name: str) -> str:
    """The codec ``--encoding NAME`` means (``cp1252``, ``latin-1``, ``utf-8``), or a
    usage error. Only encodings that write ASCII as ASCII (so a line ends in the
    byte ``\\n``) can be read line by line; UTF-16 and UTF-32 are refused."""

    try:
        codec = codecs.lookup(name).name
    except LookupError:
        message = unknown_message("encoding", name, COMMON_ENCODINGS)
        raise UsageError(f"--encoding: {message}") from None
    if '\n,;\t"Az09'.encode(codec, errors="replace") != b'\n,;\t"Az09':
        raise UsageError(f"--encoding: {name} is not ASCII-compatible; save the file as UTF-8")
    return UTF8 if codec in ("utf-8", "utf-8-sig") else codec


@dataclass
class Batch:
    """An opened batch: its header and a one-pass row iterator."""

    path: Path
    format: str
    columns: list[str]
    rows: Iterator[RowTriple]
    size: int
    _position: Callable[[], int] = field(repr=False, default=lambda: 0)
    _close: Callable[[], None] = field(repr=False, default=lambda: None)
    # CSV whose header is the file's first line: its delimiter and the byte offset
    # where the data rows start, so the rows can be read in ranges (csv_range_rows).
    delimiter: str | None = None
    data_start: int | None = None
    encoding: str = UTF8  # the text encoding CSV and JSON Lines rows are decoded from
    rejects: bool = False  # a rejects file imported again (REJECT_COLUMNS in the header)
    patched: bool = False  # rows replaced by fixes (import --fixes): read by one process

    def bytes_read(self) -> int:
        """How far into the file the reader is (for a progress bar)."""
        return self._position()

    def close(self) -> None:
        """Close the batch's file."""
        self._close()

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def detect_format(path: Path, head: bytes) -> str:
    """``csv``, ``jsonl`` or ``xlsx``, by extension, else by content."""
    suffix = path.suffix.lower()
    by_suffix = {
        ".csv": "csv",
        ".tsv": "csv",
        ".txt": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "jsonl",
        ".xlsx": "xlsx",
        ".xlsm": "xlsx",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    return "csv"


def _check_text_encoding(path: Path, head: bytes) -> None:
    # UTF-32 first: its little-endian mark begins with UTF-16's.
    for marks, name in (
        ((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"), "UTF-32"),
        ((b"\xff\xfe", b"\xfe\xff"), "UTF-16"),
    ):
        if head.startswith(marks):
            raise InputError(
                f"file is {name} encoded; save it as UTF-8",
                path=str(path),
                line=1,
                field="encoding",
            )
    if b"\x00" in head:
        raise InputError(
            "binary content (NUL bytes): not a CSV or JSON Lines batch",
            path=str(path),
            line=head[: head.index(b"\x00")].count(b"\n") + 1,
            field="encoding",
        )
    if b"\r" in head and b"\n" not in head and len(head.split(b"\r")) > 2:
        raise InputError(
            "lines end in a lone CR (classic Mac line endings): save the file with LF or "
            "CRLF line endings",
            path=str(path),
            line=1,
        )


def _decoded_lines(
    fh: BinaryIO, path: Path, counter: list[int], first_line: int = 1, encoding: str = UTF8
) -> Iterator[str]:
    """The file's UTF-8 lines, split on ``\\n`` only, each with its terminator.

    Decoded a block of whole lines at a time (C speed per line, not a Python
    call per line); an encoding error is still named by line and column, and a
    line longer than :data:`MAX_LINE_BYTES` is refused before it is held whole.
    """
    blocks = _decoded_blocks(fh, path, counter, first_line, encoding)
    return itertools.chain.from_iterable(blocks)


def _decoded_blocks(
    fh: BinaryIO, path: Path, counter: list[int], first_line: int = 1, encoding: str = UTF8
) -> Iterator[io.StringIO]:
    lines_before = first_line - 1  # lines before the ones handed out: numbers errors
    pending = b""  # the unfinished last line of the previous block
    first = first_line == 1  # a byte order mark can only open the file
    while True:
        block = fh.read(MAX_LINE_BYTES)
        counter[0] += len(block)
        if block:
            data = pending + block if pending else block
            newline = data.find(b"\n")
            # Lines inside the block are at most one block long; only the one that
            # carries the previous block's unfinished line can be longer.
            if (newline if newline >= 0 else len(data)) + 1 > MAX_LINE_BYTES + (newline < 0):
                raise InputError(
                    f"line longer than {MAX_LINE_BYTES} bytes; not a record batch",
                    path=str(path),
                    line=lines_before + 1,
                )
            cut = data.rfind(b"\n") + 1
            if not cut:
                pending = data
                continue
            head, pending = data[:cut], data[cut:]
        elif pending:
            head, pending = pending, b""
        else:
            return
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _encoding_error(fh, path, head, exc, lines_before, encoding) from None
        if first:
            first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        lines_before += head.count(b"\n")
        yield io.StringIO(text, newline="\n")


def _encoding_error(
    fh: BinaryIO,
    path: Path,
    head: bytes,
    exc: UnicodeDecodeError,
    lines_before: int,
    encoding: str = UTF8,
) -> InputError:
    """Name the first line that is not in ``encoding``, and how many more there are."""
    line_start = head.rfind(b"\n", 0, exc.start) + 1
    first_bad = lines_before + head.count(b"\n", 0, exc.start) + 1
    bad = [first_bad]
    # Keep scanning (cheaply) so the message can say how widespread it is.
    rest = head[head.find(b"\n", exc.start) + 1 :] if b"\n" in head[exc.start :] else b""
    number = first_bad
    for extra in [*rest.splitlines(keepends=True), *iter(lambda: fh.readline(1 << 20), b"")]:
        number += 1
        try:
            extra.decode(encoding)
        except UnicodeDecodeError:
            bad.append(number)
    more = f" (also {len(bad) - 1} more lines: {', '.join(map(str, bad[1:6]))}" + (
        ", ...)" if len(bad) > 6 else ")"
    )
    advice = (
        "; save the file as UTF-8, or name its encoding (--encoding cp1252 for a CSV "
        "saved by Excel on Windows)"
        if encoding == UTF8
        else f"; is {encoding} the file's encoding?"
    )
    named = "UTF-8" if encoding == UTF8 else encoding
    return InputError(
        f"not valid {named} (byte 0x{head[exc.start]:02x} at column {exc.start - line_start + 1})"
        + (more if len(bad) > 1 else "")
        + advice,
        path=str(path),
        line=bad[0],
        field="encoding",
    )


def sniff_delimiter(header_line: str) -> str:
    """``,`` unless the header line holds more ``;`` or tabs (outside quotes)."""
    outside, quoted = [], False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(ch)
    text = "".join(outside)
    counts = {d: text.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _clean_header(names: Sequence[object], path: Path, line: int) -> list[str]:
    columns = [str(n if n is not None else "").strip().lower() for n in names]
    while columns and not columns[-1]:
        columns.pop()  # trailing empty cells (spreadsheets, trailing delimiters)
    if not columns or not any(columns):
        raise InputError("empty header row: no column names", path=str(path), line=line)
    for index, name in enumerate(columns, 1):
        if not name:
            raise InputError(
                f"column {index} has no name", path=str(path), line=line, field="header"
            )
        if columns.index(name) != index - 1:
            raise InputError(
                f"column '{name}' appears twice", path=str(path), line=line, field=name
            )
    return columns


def _allow_fields_of_a_line() -> None:
    """Let the csv module take a field as long as a line may be (the lines are
    bounded before csv reads them). The limit is process-wide, so it is only ever
    raised: a caller's own larger limit stays."""
    if csv.field_size_limit() < MAX_LINE_BYTES:
        csv.field_size_limit(MAX_LINE_BYTES)


def _open_csv(path: Path, ignore_unknown: bool, encoding: str = UTF8) -> Batch:
    fh = open(path, "rb")
    head = fh.read(4096)
    fh.seek(0)
    _check_text_encoding(path, head)
    counter = [0]
    lines = _decoded_lines(fh, path, counter, encoding=encoding)
    first = next(lines, None)
    while first is not None and not first.strip():
        first = next(lines, None)
    if first is None:
        fh.close()
        raise InputError("empty file: no header row", path=str(path), line=1)
    delimiter = sniff_delimiter(first)
    _allow_fields_of_a_line()

    def chained() -> Iterator[str]:
        yield first
        yield from lines

    reader = csv.reader(chained(), delimiter=delimiter, strict=True)
    try:
        columns = _clean_header(next(reader), path, 1)
    except csv.Error as exc:
        fh.close()
        raise InputError(f"unreadable header: {exc}", path=str(path), line=1) from None
    # The rows can be read in byte ranges when the header is exactly line 1.
    data_start = None
    if reader.line_num == 1:
        fh_head = open(path, "rb")
        try:
            data_start = len(fh_head.readline(MAX_LINE_BYTES + 1))
        finally:
            fh_head.close()
    rejects = is_rejects_header(columns)
    records = _csv_records(reader, len(columns), path, 0)
    return Batch(
        path,
        "csv",
        columns,
        _restored(records) if rejects else records,
        path.stat().st_size,
        lambda: counter[0],
        fh.close,
        delimiter=delimiter,
        data_start=data_start,
        encoding=encoding,
        rejects=rejects,
    )


def is_rejects_header(columns: Sequence[str]) -> bool:
    """Whether a batch header is a rejects file's (it starts ``line_number,msg``)."""
    return tuple(columns[: len(REJECT_COLUMNS)]) == REJECT_COLUMNS


def _restored(records: Iterator[RowTriple]) -> Iterator[RowTriple]:
    """A rejects file's rows with the cells as the clerk's batch had them: the
    apostrophe that kept a spreadsheet from running ``=...`` is taken off again."""

    for line, values, problem in records:
        yield line, values and [restore_csv_cell(v) for v in values], problem


def _csv_records(reader, width: int, path: Path, line_offset: int) -> Iterator[RowTriple]:
    """Rows of a csv reader as (line, values, problem); blank lines skipped."""
    ended = reader.line_num  # the last line of the previous record
    try:
        for values in reader:
            ended = reader.line_num
            if len(values) != width:
                if not values or not any(v.strip() for v in values):
                    continue  # blank line
                if len(values) > width and not any(v.strip() for v in values[width:]):
                    values = values[:width]  # trailing delimiters
                else:  # the fields go along: a rejects file shows the row as it was
                    yield (
                        reader.line_num + line_offset,
                        values,
                        f"row: has {len(values)} fields, the header has {width}",
                    )
                    continue
            yield reader.line_num + line_offset, values, None
    except csv.Error as exc:
        raise InputError(  # named by the line the broken record starts on
            f"malformed CSV ({exc}); is a quote left open?",
            path=str(path),
            line=ended + 1 + line_offset,
        ) from None


class _Range(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file, as a readable stream."""

    def __init__(self, fh: BinaryIO, start: int, end: int):
        fh.seek(start)
        self._fh, self._left = fh, end - start

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._fh.read(size)
        self._left -= len(data)
        return data


def csv_range_rows(
    path: Path,
    start: int,
    end: int,
    *,
    first_line: int,
    delimiter: str,
    width: int,
    counter: list[int] | None = None,
    encoding: str = UTF8,
) -> Iterator[RowTriple]:
    """The data rows in bytes ``start`` to ``end`` of a CSV batch, numbered from
    ``first_line`` (the file's line at ``start``), exactly as the whole-file reader
    gives them. ``start`` and ``end`` must fall at record boundaries
    (:func:`split_points`)."""
    _allow_fields_of_a_line()
    with open(path, "rb") as fh:
        lines = _decoded_lines(_Range(fh, start, end), path, counter or [0], first_line, encoding)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        yield from _csv_records(reader, width, path, first_line - 1)


def split_points(path: Path, start: int, end: int, parts: int) -> list[tuple[int, int]] | None:
    """Byte offsets at record boundaries cutting ``start``-``end`` into ``parts``
    ranges; None when there is no clean cut (one quoted field spanning the rest
    of the file, or a file too small).

    A line end is a record boundary when an even number of quote characters
    comes before it (every quoted field, ``""`` escapes included, has an even
    number of them). The file is streamed once: memory stays flat.
    """
    points = [start]
    with open(path, "rb") as fh:
        counted = [0, 0]  # quote characters in bytes [0, counted[1])

        def quotes_before(offset: int) -> int:
            fh.seek(counted[1])
            while counted[1] < offset:
                block = fh.read(min(1 << 22, offset - counted[1]))
                if not block:
                    break
                counted[0] += block.count(b'"')
                counted[1] += len(block)
            return counted[0]

        def next_newline(offset: int) -> int:
            fh.seek(offset)
            while block := fh.read(1 << 20):
                found = block.find(b"\n")
                if found >= 0:
                    return offset + found
                offset += len(block)
            return -1

        for k in range(1, parts):
            cut = next_newline(max(start + (end - start) * k // parts, points[-1]))
            while cut != -1 and quotes_before(cut) % 2:
                cut = next_newline(cut + 1)
            if cut == -1 or cut + 1 >= end or cut + 1 <= points[-1]:
                return None
            points.append(cut + 1)
    points.append(end)
    return list(zip(points, points[1:], strict=False))


def line_at(path: Path, offset: int) -> int:
    """The file line number at byte ``offset`` (the start of a line)."""
    count = 1
    with open(path, "rb") as fh:
        left = offset
        while left > 0:
            block = fh.read(min(left, 1 << 22))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
    return count


def _scalar(value: object) -> str | None:
    """A JSON or spreadsheet cell as the text a CSV would hold; None if not a scalar."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):  # JSON's 1e999 (or NaN): no value a cell can hold
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return None


def _open_jsonl(
    path: Path, ignore_unknown: bool, known_columns: Sequence[str], encoding: str = UTF8
) -> Batch:
    fh = open(path, "rb")
    head = fh.read(4096)
    fh.seek(0)
    _check_text_encoding(path, head)
    if not head.strip():
        fh.close()
        raise InputError("empty file: no records", path=str(path), line=1)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        fh.close()
        raise InputError(
            "a JSON array, not JSON Lines: write one JSON object per line",
            path=str(path),
            line=1,
        )
    counter = [0]
    columns = list(known_columns)
    position = {name: i for i, name in enumerate(columns)}

    def rows() -> Iterator[RowTriple]:
        for number, text in enumerate(_decoded_lines(fh, path, counter, encoding=encoding), 1):
            if not text.strip():
                continue
            try:
                obj = parse_json(text, unique_keys=True)
            except DuplicateKey as exc:  # as a CSV header naming a column twice is refused
                yield number, None, f"{exc.key.strip().lower()}: given twice in one record"
                continue
            except ValueError as exc:
                where = f" at column {exc.colno}" if hasattr(exc, "colno") else ""
                yield number, None, f"row: not valid JSON ({getattr(exc, 'msg', exc)}{where})"
                continue
            if not isinstance(obj, dict):
                yield number, None, "row: not a JSON object"
                continue
            values = [""] * len(columns)
            problem = None
            seen: set[str] = set()
            for key, raw in obj.items():
                name = str(key).strip().lower()
                if name in seen:
                    problem = f"{name}: given twice in one record (as {key!r} too)"
                    break
                seen.add(name)
                index = position.get(name)
                if index is None and name in REJECT_COLUMNS:
                    continue  # a rejects file's own annotations
                if index is None:
                    if not ignore_unknown:
                        problem = f"{name}: unknown column (use --ignore-unknown to skip it)"
                        break
                    continue
                text_value = _scalar(raw)
                if text_value is None:
                    problem = f"{name}: must be a string or number, not {type(raw).__name__}"
                    if isinstance(raw, float):
                        problem = f"{name}: {raw} is not a finite number"
                    break
                values[index] = text_value
            if problem:
                yield number, None, problem
            else:
                yield number, values, None

    size = path.stat().st_size
    return Batch(
        path, "jsonl", columns, rows(), size, lambda: counter[0], fh.close, encoding=encoding
    )


def _sheet_rows(rows: Iterator[tuple], path: Path) -> Iterator[tuple]:
    """A sheet's rows, read lazily: damage met on the way (XML cut short, a broken
    zip member) is a one-line error naming the file and the row, not a traceback."""
    number = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except (SyntaxError, ValueError, KeyError, EOFError, OSError, zipfile.BadZipFile,
                zlib.error) as exc:  # fmt: skip
            # SyntaxError covers xml.etree's ParseError (truncated or malformed sheet XML)
            raise InputError(
                f"the workbook's first sheet is damaged after row {number} ({exc})",
                path=str(path),
                line=number + 1,
            ) from None
        number += 1
        yield row


def _open_xlsx(path: Path, ignore_unknown: bool) -> Batch:

    from openpyxl import load_workbook  # lazy: ~0.5 s, and only XLSX batches need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError, zlib.error) as exc:
        # SyntaxError: xml.etree's ParseError (damaged XML, or an entity bomb that
        # expat's amplification limit stopped)
        raise InputError(f"not a readable XLSX workbook ({exc})", path=str(path)) from None
    sheet = workbook.worksheets[0]
    cells = _sheet_rows(sheet.iter_rows(values_only=True), path)
    header = None
    header_line = 0
    for header_line, candidate in enumerate(cells, 1):  # noqa: B007
        if candidate and any(c not in (None, "") for c in candidate):
            header = candidate
            break
    if header is None:
        workbook.close()
        raise InputError("empty workbook: no header row in the first sheet", path=str(path), line=1)
    columns = _clean_header(header, path, header_line)
    width = len(columns)
    done = [0]

    def rows() -> Iterator[RowTriple]:
        for number, raw in enumerate(cells, header_line + 1):
            done[0] = number
            values = [_scalar(v) for v in raw]
            if not any(values):
                continue
            if len(values) > width:
                if any(v for v in values[width:]):
                    shown = ["" if v is None else v for v in values]
                    yield number, shown, f"row: has values beyond the header's {width} columns"
                    continue
                values = values[:width]
            elif len(values) < width:
                values += [""] * (width - len(values))
            bad = next((i for i, v in enumerate(values) if v is None), None)
            if bad is not None:
                shown = ["" if v is None else v for v in values]
                yield number, shown, f"{columns[bad]}: cell holds an unsupported value"
                continue
            yield number, values, None

    size = path.stat().st_size
    total_rows = sheet.max_row or 1
    return Batch(
        path,
        "xlsx",
        columns,
        rows(),
        size,
        lambda: int(size * min(1.0, done[0] / total_rows)),
        workbook.close,
    )


def open_batch(
    path: str | Path,
    *,
    known_columns: Sequence[str],
    ignore_unknown: bool = False,
    encoding: str = UTF8,
) -> Batch:
    """Open a batch file for streaming; raises InputError if it cannot be read at all.

    ``encoding`` is the text encoding of a CSV or JSON Lines batch (see
    :func:`text_encoding`); XLSX carries its own."""
    path = regular_file(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=str(path)) from None
    if not head:
        raise InputError("empty file: no header row", path=str(path), line=1)
    fmt = detect_format(path, head)
    if fmt == "xlsx":
        return _open_xlsx(path, ignore_unknown)
    if fmt == "jsonl":
        return _open_jsonl(path, ignore_unknown, known_columns, encoding)
    return _open_csv(path, ignore_unknown, encoding)


@contextmanager
def original_rows(
    path: str | Path,
    *,
    known_columns: Sequence[str],
    encoding: str = UTF8,
    fixes: dict[int, list[str]] | None = None,
) -> Iterator[tuple[list[str], Iterator[tuple[int, list[str]]]]]:
    """A batch's header and its rows as the file holds them, numbered as the import
    numbers them: what a rejects file copies. CSV and XLSX rows are the cells as
    read (a rejects file's own annotations left off); a JSON Lines object is its
    values in ``known_columns`` order (a line that is no JSON object: no values).
    A row replaced by ``fixes`` (``import --fixes``) is shown as it was fixed."""
    path = Path(path)
    with open(path, "rb") as fh:
        fmt = detect_format(path, fh.read(8))
    if fmt == "jsonl":
        with open(path, "rb") as fh:
            yield list(known_columns), _jsonl_values(fh, path, known_columns, encoding)
        return
    with open_batch(
        path, known_columns=known_columns, ignore_unknown=True, encoding=encoding
    ) as batch:
        skip = len(REJECT_COLUMNS) if batch.rejects else 0
        fixed = fixes or {}
        rows = (
            (line, fixed[line][skip:] if line in fixed else (values or [])[skip:])
            for line, values, _ in batch.rows
        )
        yield batch.columns[skip:], rows


def _jsonl_values(fh, path, known_columns, encoding) -> Iterator[tuple[int, list[str]]]:
    for number, text in enumerate(_decoded_lines(fh, path, [0], encoding=encoding), 1):
        if not text.strip():
            continue
        try:
            obj = parse_json(text)
        except ValueError:
            obj = None
        lowered = (
            {str(k).strip().lower(): v for k, v in obj.items()} if isinstance(obj, dict) else {}
        )
        yield number, ["" if lowered.get(c) is None else str(lowered[c]) for c in known_columns]


def load_fixes(
    path: str | Path, columns: Sequence[str], *, encoding: str = UTF8
) -> dict[int, list[str]]:
    """A fixed rejects file (``import BATCH --fixes REJECTS``): batch line -> the
    row's corrected values in the batch's ``columns`` order."""
    path = Path(path)
    fixes: dict[int, list[str]] = {}
    with open_batch(path, known_columns=columns, ignore_unknown=True, encoding=encoding) as fixed:
        if not fixed.rejects:
            raise InputError(
                "not a rejects file: its header must start with line_number,msg "
                "(as import --errors writes it)",
                path=str(path),
                line=1,
                field="header",
            )
        position = {name: i for i, name in enumerate(fixed.columns)}
        missing = [c for c in columns if c not in position]
        if missing:
            raise InputError(
                f"the batch's column '{missing[0]}' is missing", path=str(path), line=1
            )
        for line, values, problem in fixed.rows:
            if problem is not None or values is None:
                raise InputError(problem or "unreadable row", path=str(path), line=line)
            number = values[0].strip()
            if not number.isdigit():
                raise InputError(
                    f"'{number[:40]}' is not a batch line number",
                    path=str(path),
                    line=line,
                    field="line_number",
                )
            fixes[int(number)] = [values[position[c]] for c in columns]
    return fixes


def patched_rows(rows: Iterator[RowTriple], fixes: dict[int, list[str]], path: Path):
    """A batch's rows with the rows at the fixed lines replaced by their fixes; a
    fix for a line the batch has no row at is an error (nothing is imported)."""
    unused = set(fixes)
    for line, values, problem in rows:
        fixed = fixes.get(line)
        if fixed is None:
            yield line, values, problem
        else:
            unused.discard(line)
            yield line, fixed, None
    if unused:
        first = min(unused)
        raise InputError(
            f"--fixes names line {first}, where the batch has no row", path=str(path), line=first
        )
