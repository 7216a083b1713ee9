"""Hostile inputs and faults, one test (or more) per item of issue 15.

Each test failed before its fix. Items that need long fixtures or many
processes have their own files (named in the item's comment).
"""

from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

import pytest

from firetrace.paths import samples_dir

SAMPLE = samples_dir() / "batch.csv"


@pytest.fixture
def registry(db_path, run_cli) -> Path:
    """A registry holding the sample batch."""
    result = run_cli("import", SAMPLE)
    assert result.exit_code == 0, result.stderr
    return db_path


def _fingerprint(path: Path) -> tuple[bytes, ...]:
    """Every byte of the registry and its companions, to prove nothing changed."""
    return tuple(
        Path(f"{path}{s}").read_bytes() if Path(f"{path}{s}").exists() else b""
        for s in ("", "-wal", "-journal")
    )


def _counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*) FROM batches").fetchone()[0],
            conn.execute("SELECT count(*) FROM audit").fetchone()[0],
        )
    finally:
        conn.close()


# --- 1. outputs never overwrite the registry or an input ------------------------


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_01_no_output_option_writes_over_the_registry(registry, run_cli, tmp_path, suffix):
    target = Path(f"{registry}{suffix}")
    before = _counts(registry)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    attempts = [
        ("dupes", "--csv", target, "--force"),
        ("refs", "export", target, "--force"),
        ("scan", evidence, "--jsonl", target, "--force"),
        ("scan", evidence, "--csv", target, "--force"),
        ("scan", evidence, "--case", target, "--force"),
        ("import", SAMPLE, "--errors", target, "--force"),
        ("import", SAMPLE, "--dry-run", "--errors", target, "--force"),
        ("backup", target, "--force"),
    ]
    for args in attempts:
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "part of the registry" in result.stderr, (args, result.stderr)
    assert _counts(registry) == before
    result = run_cli("check")
    assert result.exit_code == 0, result.stdout


def test_01_an_output_that_is_an_input_is_refused(run_cli, tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_bytes(SAMPLE.read_bytes())
    for args in (
        ("import", batch, "--errors", batch, "--force"),
        ("import", batch, "--dry-run", "--errors", tmp_path / "." / "batch.csv", "--force"),
    ):
        result = run_cli(*args)
        assert result.exit_code == 2 and "is an input of this command" in result.stderr
    assert batch.read_bytes() == SAMPLE.read_bytes()


def test_01_special_files_and_one_path_twice_are_refused(run_cli, tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = run_cli("dupes", "--csv", fifo, "--force")
    assert result.exit_code == 2 and "special file" in result.stderr
    out = tmp_path / "out.jsonl"
    result = run_cli("scan", evidence, "--jsonl", out, "--csv", out)
    assert result.exit_code == 2 and "also given as --jsonl" in result.stderr
    assert not out.exists()


# --- 2. backup onto the -wal or a device ----------------------------------------


def test_02_backup_refuses_the_wal_and_devices_even_with_force(registry, run_cli, tmp_path):
    writer = sqlite3.connect(registry, isolation_level=None)  # keeps the -wal in use
    writer.execute("PRAGMA journal_mode = WAL")
    before = _counts(registry)
    for dest in (f"{registry}-wal", f"{registry}-shm", "/dev/null"):
        result = run_cli("backup", dest, "--force")
        assert result.exit_code == 2, (dest, result.stderr)
    writer.close()
    assert _counts(registry) == before
    assert Path("/dev/null").is_char_device()
    assert run_cli("check").exit_code == 0


# --- 11. CSV formula injection --------------------------------------------------


def test_11_every_csv_writer_neutralises_formulas(run_cli, tmp_path):
    hostile = [
        {"manufacturer": '=HYPERLINK("http://x","y")', "serial": "-77123"},
        {"manufacturer": "@SUM(1)", "serial": "-77123"},
    ]
    batch = tmp_path / "hostile.csv"
    with open(batch, "w", newline="") as fh:
        fields = ["manufacturer", "serial", "event", "event_date", "country_of_manufacture"]
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        for row in hostile:
            writer.writerow(
                row
                | {"event": "manufactured", "event_date": "2020-01-01"}
                | {"country_of_manufacture": "AT"}
            )
    assert run_cli("import", batch).exit_code == 0
    out = tmp_path / "dupes.csv"
    assert run_cli("dupes", "--csv", out).exit_code == 1
    rows = list(csv.DictReader(open(out, newline="")))
    assert rows and all(r["serial"] == "'-77123" for r in rows)
    assert {r["manufacturer"][:2] for r in rows} <= {"'=", "'@"}

    bad = tmp_path / "bad.csv"
    bad.write_text("manufacturer,serial,event,event_date\n=cmd|x,1,manufactured,not-a-date\n")
    errors = tmp_path / "errors.csv"
    assert run_cli("import", bad, "--errors", errors).exit_code == 1
    cells = [c for row in csv.reader(open(errors, newline="")) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
