"""Helpers shared by the registry tests (batch writers, registry snapshots), plus
tests of the helpers' own assumptions. Batches are made by code at test time."""

from __future__ import annotations

import csv
import hashlib
import sqlite3
from pathlib import Path

from firetrace.registry.validate import COLUMNS


def batch_row(**values: object) -> dict[str, str]:
    """A valid ITI row (a Glock frame made in 2020) with ``values`` overriding fields."""
    base = {
        "manufacturer": "Glock",
        "serial": "AB1234",
        "component": "frame",
        "type": "pistol",
        "model": "G17",
        "calibre": "9mm Luger",
        "country_of_manufacture": "AT",
        "year_of_manufacture": "2020",
        "event": "manufactured",
        "event_date": "2020-03-01",
    }
    base.update({k: "" if v is None else str(v) for k, v in values.items()})
    return base


def write_csv(
    path: Path, rows: list[dict[str, str]], *, delimiter: str = ",", columns=None
) -> Path:
    columns = list(columns or COLUMNS)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def registry_snapshot(db_path: Path) -> str:
    """A digest of every row of every table: equal snapshots mean nothing changed."""
    conn = sqlite3.connect(db_path)
    try:
        digest = hashlib.sha256()
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for table in tables:
            digest.update(table.encode())
            for row in sorted(repr(r) for r in conn.execute(f"SELECT * FROM {table}")):
                digest.update(row.encode())
        return digest.hexdigest()
    finally:
        conn.close()


def check_after_tampering(run_cli, db_path: Path, script: str) -> str:
    """``check`` passes, the file is edited by hand with ``script``, then
    ``check`` fails: its output."""
    assert run_cli("--db", db_path, "check").exit_code == 0
    evil = sqlite3.connect(db_path)
    evil.executescript(script)
    evil.commit()
    evil.close()
    result = run_cli("--db", db_path, "check")
    assert result.exit_code == 1
    return result.stdout + result.stderr


def assert_named_altered(run_cli, db_path: Path, script: str, table: str) -> None:
    """``check`` after ``script`` names a row of ``table`` (a sealed name) as altered."""
    said = check_after_tampering(run_cli, db_path, script)
    assert f"{table} row" in said and "altered" in said, said


def count(db_path: Path, table: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_snapshot_sees_a_change(tmp_path, run_cli, db_path):
    batch = write_csv(tmp_path / "one.csv", [batch_row()])
    assert run_cli("import", batch).exit_code == 0
    before = registry_snapshot(db_path)
    batch2 = write_csv(tmp_path / "two.csv", [batch_row(serial="AB1235")])
    assert run_cli("import", batch2).exit_code == 0
    assert registry_snapshot(db_path) != before


def test_fast_and_full_validation_paths_agree_on_every_sample_row():
    # The fast path hands rejected rows to the full check, and the staging tuple
    # (row key included) must be the same whichever path produced it, or a
    # re-import could duplicate events.
    from firetrace.paths import samples_dir
    from firetrace.registry.readers import open_batch
    from firetrace.registry.validate import COLUMNS, RowValidator, load_profile

    for profile in ("iti", "eu", "us"):
        with open_batch(samples_dir() / "batch.csv", known_columns=COLUMNS) as batch:
            validator = RowValidator(batch.columns, load_profile(profile))
            rows = [(line, values) for line, values, *_ in batch.rows]
        assert len(rows) == 41
        for line, values in rows:
            fast = validator.validate(line, values)
            assert isinstance(fast, tuple), (profile, line, fast)
            assert fast == validator._full_check(line, values), (profile, line)
