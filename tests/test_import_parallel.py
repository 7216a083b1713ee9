"""Large CSV batches are read and validated by worker processes, one byte range
each. The registry, the bad-row list, the warnings and every error message must
be exactly what one process gives: the ranges are cut at record boundaries
(quoted fields may hold commas, quotes and line breaks) and numbered by file line.
"""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import sys
from pathlib import Path

import pytest

from firetrace.errors import InputError
from firetrace.registry import importer
from firetrace.registry.readers import csv_range_rows, open_batch, split_points

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
TABLES = (
    "parties",
    "party_names",
    "components",
    "firearms",
    "assemblies",
    "events",
    "serial_suffixes",
)


def _generated(path: Path, rows: int, seed: int) -> Path:
    """A realistic batch (makers, modular firearms, sales, thefts) whose notes
    hold commas, quotes, line breaks and non-ASCII text on some rows."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _registry_gen import write_batch
    finally:
        sys.path.remove(str(BENCHMARKS))
    plain = path.with_suffix(".plain.csv")
    write_batch(plain, rows, seed=seed)
    rng = random.Random(seed)
    notes = ['seized, "as found"', "two\nlines", "Büchsenmacher ü", 'a ""b"" c', ""]
    with (
        open(plain, newline="", encoding="utf-8") as src,
        open(path, "w", newline="", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(out, reader.fieldnames)
        writer.writeheader()
        for row in reader:
            row["notes"] = rng.choice(notes)
            writer.writerow(row)
    return path


def _contents(db: Path) -> dict[str, list]:
    conn = sqlite3.connect(db)
    try:
        return {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in TABLES}
    finally:
        conn.close()


def _import(db: Path, batch: Path, workers: int, monkeypatch, **options):
    monkeypatch.setenv("FIRETRACE_IMPORT_WORKERS", str(workers))
    return importer.import_file(db, batch, operator="clerk", **options)


@pytest.fixture
def parallel(monkeypatch):
    """Records the rows each parallel read staged (None where it gave up and the
    importer read the batch itself). FIRETRACE_IMPORT_WORKERS >= 2 sends any CSV
    batch to the workers, whatever its size."""
    staged: list[int | None] = []
    real = importer._stage_rows_parallel

    def spy(*args, **kwargs):
        staged.append(real(*args, **kwargs))
        return staged[-1]

    monkeypatch.setattr(importer, "_stage_rows_parallel", spy)
    return staged


@pytest.mark.slow
def test_parallel_import_writes_exactly_what_one_process_writes(tmp_path, monkeypatch, parallel):
    batch = _generated(tmp_path / "batch.csv", 6_000, seed=4)
    one = _import(tmp_path / "one.db", batch, 1, monkeypatch)
    three = _import(tmp_path / "three.db", batch, 3, monkeypatch)
    assert one.status == three.status == "imported"
    assert parallel == [6_000]  # the second import was read by three workers
    assert (one.rows, one.counts, one.warnings) == (three.rows, three.counts, three.warnings)
    assert _contents(tmp_path / "one.db") == _contents(tmp_path / "three.db")


@pytest.mark.slow
def test_bad_rows_in_every_range_are_listed_as_one_process_lists_them(
    tmp_path, monkeypatch, parallel
):
    good = _generated(tmp_path / "good.csv", 3_000, seed=5)
    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    # Spoil rows near the start, the middle and the end (a date, a country, a ragged row).
    for k, (old, new) in zip(
        (40, len(lines) // 2, len(lines) - 3),
        ((",20", ",2999"), (",DE,", ",XX,"), ("\n", ",extra,cells\n")),
        strict=True,
    ):
        while "\n" in lines[k][:-1] or old not in lines[k]:
            k += 1
        lines[k] = lines[k].replace(old, new, 1)
    # One row with two problems: they are listed in the validator's order.
    k = next(
        k
        for k in range(len(lines) // 3, len(lines))
        if ",DE," in lines[k] and ",pistol," in lines[k]
    )
    lines[k] = lines[k].replace(",DE,", ",XX,", 1).replace(",pistol,", ",catapult,", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    one = _import(tmp_path / "one.db", bad, 1, monkeypatch, errors_path=tmp_path / "e1.csv")
    two = _import(tmp_path / "two.db", bad, 2, monkeypatch, errors_path=tmp_path / "e2.csv")
    assert one.status == two.status == "rejected"
    assert parallel == [3_000]
    assert [str(e) for e in one.errors] == [str(e) for e in two.errors]
    assert len(one.errors) >= 4
    lines_named = [e.line for e in two.errors]
    assert any(lines_named.count(n) == 2 for n in lines_named)  # the two-problem row
    assert (tmp_path / "e1.csv").read_text() == (tmp_path / "e2.csv").read_text()
    assert _contents(tmp_path / "two.db") == _contents(tmp_path / "one.db")  # nothing written


@pytest.mark.slow
def test_an_unreadable_line_late_in_the_file_gives_the_same_error(tmp_path, monkeypatch, parallel):
    batch = _generated(tmp_path / "batch.csv", 12_000, seed=6)
    data = batch.read_bytes()
    assert len(data) > 1.2 * (1 << 20)  # past the first block the header read decodes
    cut = data.rfind(b"\n", 0, len(data) * 9 // 10) + 1
    spoiled = tmp_path / "latin1.csv"
    spoiled.write_bytes(data[:cut] + b"Walther,\xe9\xe9,frame" + data[cut:])
    messages = []
    for workers in (1, 2):
        with pytest.raises(InputError) as caught:
            _import(tmp_path / f"w{workers}.db", spoiled, workers, monkeypatch)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "not valid UTF-8" in messages[0]
    assert parallel == [None]  # a worker met the bad line: the importer read the batch itself


def test_workers_setting_must_be_a_number(tmp_path, monkeypatch, parallel):
    from firetrace.errors import UsageError

    batch = _generated(tmp_path / "batch.csv", 50, seed=1)
    with pytest.raises(UsageError, match="FIRETRACE_IMPORT_WORKERS"):
        _import(tmp_path / "x.db", batch, "many", monkeypatch)


@pytest.mark.parametrize("seed", range(8))
def test_byte_ranges_read_the_same_rows_as_the_whole_file(tmp_path, seed):
    rng = random.Random(seed)
    cells = ["x", '"a,b"', '"say ""hi"""', '"line\nbreak"', "ü", "", '"\n"']
    text = "a,b,c\n" + "".join(
        ",".join(rng.choice(cells) for _ in range(3)) + rng.choice(["\n", "\r\n"])
        for _ in range(rng.randrange(5, 80))
    )
    path = tmp_path / "b.csv"
    path.write_bytes(text.encode())
    with open_batch(path, known_columns=["a", "b", "c"]) as batch:
        whole = list(batch.rows)
        start, size = batch.data_start, batch.size
    assert start == len(b"a,b,c\n")
    for parts in (2, 3, 5):
        ranges = split_points(path, start, size, parts)
        if ranges is None:
            continue
        assert ranges[0][0] == start and ranges[-1][1] == size
        read = []
        for a, b in ranges:
            first_line = text.encode()[:a].count(b"\n") + 1
            read += csv_range_rows(path, a, b, first_line=first_line, delimiter=",", width=3)
        assert read == whole


def test_no_clean_cut_inside_one_quoted_field(tmp_path):
    path = tmp_path / "b.csv"
    body = '1,"' + "\n".join("x" * 10 for _ in range(50)) + '",2\n'
    path.write_text("a,b,c\n" + body)
    assert split_points(path, 6, path.stat().st_size, 2) is None


def test_csv_writer_output_round_trips(tmp_path):
    # The reader and csv.writer agree on what a record is, whatever a cell holds.
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["a", "b", "c"])
    rows = [["1", 'q"uote', "line\nbreak"], ["2", "comma,here", "\r"], ["3", "", "ü"]]
    writer.writerows(rows)
    path = tmp_path / "b.csv"
    path.write_text(buf.getvalue(), newline="")
    with open_batch(path, known_columns=["a", "b", "c"]) as batch:
        got = [values for _, values, _ in batch.rows]
    assert got == rows


def test_cuts_after_a_long_quoted_field_stay_in_order(tmp_path):
    # A quoted field spanning the first cut's target pushes that cut past the
    # second target; the second cut must still land on a later record boundary.
    long_field = '"' + "\n".join("y" * 20 for _ in range(40)) + '"'
    rows = ["1,2,3"] * 5 + [f"4,{long_field},6"] + ["7,8,9"] * 30
    path = tmp_path / "b.csv"
    path.write_text("a,b,c\n" + "\n".join(rows) + "\n")
    ranges = split_points(path, 6, path.stat().st_size, 4)
    assert ranges is not None
    with open_batch(path, known_columns=["a", "b", "c"]) as batch:
        whole = list(batch.rows)
    data = path.read_bytes()
    read = []
    for a, b in ranges:
        assert a < b and data[a - 1 : a] == b"\n"
        first_line = data[:a].count(b"\n") + 1
        read += csv_range_rows(path, a, b, first_line=first_line, delimiter=",", width=3)
    assert read == whole


@pytest.mark.slow
def test_semicolons_a_byte_order_mark_and_ignored_columns(tmp_path, monkeypatch, parallel):
    plain = _generated(tmp_path / "plain.csv", 2_000, seed=8)
    with open(plain, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow([*rows[0], "clerk_initials"])
    writer.writerows([*row, "AB; CD"] for row in rows[1:])
    batch = tmp_path / "semi.csv"
    batch.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    one = _import(tmp_path / "one.db", batch, 1, monkeypatch, ignore_unknown=True)
    two = _import(tmp_path / "two.db", batch, 2, monkeypatch, ignore_unknown=True)
    assert one.status == two.status == "imported" and parallel == [2_000]
    assert _contents(tmp_path / "one.db") == _contents(tmp_path / "two.db")
