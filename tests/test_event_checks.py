"""Schema 11 (issue 14.6): an imported event keeps a 4-byte check of its content
key in its own row instead of a key in ``event_keys``; a row imported again is
still recorded once (by its component, kind, day and check), a different row
of the same component and day is not taken for it, the check is sealed, and
the components view decodes each description by one join."""

from __future__ import annotations

import json
import sqlite3

from test_registry_support import batch_row, check_after_tampering, count, write_csv

from firetrace.registry.db import connect
from firetrace.registry.schema_v11 import CHECK_BYTES


def _import(run_cli, path) -> dict:
    result = run_cli("import", path, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _rows():
    return [
        batch_row(serial="AB1001"),
        batch_row(serial="AB1002"),
        batch_row(serial="AB1002", event="sold", event_date="2021-05-05", reference="INV-1"),
    ]


def test_imported_events_keep_their_check_in_their_row(tmp_path, run_cli, db_path):
    _import(run_cli, write_csv(tmp_path / "a.csv", _rows()))
    conn = sqlite3.connect(db_path)
    checks = [k for (k,) in conn.execute("SELECT row_key FROM event_rows ORDER BY id")]
    assert len(checks) == 3 and {len(k) for k in checks} == {CHECK_BYTES}
    assert conn.execute("SELECT count(*) FROM event_keys").fetchone() == (0,)


def test_the_same_rows_again_add_nothing(tmp_path, run_cli, db_path):
    _import(run_cli, write_csv(tmp_path / "a.csv", _rows()))
    # The same rows in another order and another file, and one new row.
    again = [*reversed(_rows()), batch_row(serial="AB1003")]
    doc = _import(run_cli, write_csv(tmp_path / "b.csv", again))
    assert doc["counts"]["duplicate_events"] == 3 and doc["counts"]["events"] == 1
    assert count(db_path, "events") == 4


def test_another_row_of_the_same_component_and_day_is_recorded(tmp_path, run_cli, db_path):
    _import(run_cli, write_csv(tmp_path / "a.csv", _rows()))
    other = batch_row(serial="AB1002", event="sold", event_date="2021-05-05", reference="INV-2")
    doc = _import(run_cli, write_csv(tmp_path / "b.csv", [other]))
    assert doc["counts"]["events"] == 1 and doc["counts"]["duplicate_events"] == 0
    conn = sqlite3.connect(db_path)
    refs = conn.execute("SELECT reference FROM events WHERE event = 'sold' ORDER BY id").fetchall()
    assert refs == [("INV-1",), ("INV-2",)]


def test_a_row_of_a_corrected_serial_is_still_known(tmp_path, run_cli, db_path):
    _import(run_cli, write_csv(tmp_path / "a.csv", _rows()))
    conn = sqlite3.connect(db_path)
    (sold,) = conn.execute("SELECT id FROM events WHERE event = 'sold'").fetchone()
    conn.close()
    fixed = run_cli("correct", str(sold), "--set", "serial=AB1009", "--reason", "misread")
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    doc = _import(run_cli, write_csv(tmp_path / "b.csv", list(reversed(_rows()))))
    assert doc["counts"]["duplicate_events"] == 3 and doc["counts"]["events"] == 0
    assert count(db_path, "components") == 2


def test_an_edited_check_shows_as_an_altered_event(tmp_path, run_cli, db_path):
    _import(run_cli, write_csv(tmp_path / "a.csv", _rows()))
    said = check_after_tampering(
        run_cli,
        db_path,
        "DROP TRIGGER events_no_update; "
        "UPDATE event_rows SET row_key = x'00000000' WHERE id = (SELECT max(id) FROM event_rows)",
    )
    assert "events row" in said and "altered" in said


def test_the_components_view_reads_each_description_by_one_join(tmp_path, run_cli, db_path):
    _import(run_cli, write_csv(tmp_path / "a.csv", _rows()))
    conn = connect(db_path)
    (view,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'components'").fetchone()
    assert view.count("descriptions") == 1 and "LEFT JOIN descriptions d" in view
    plan = " ".join(
        r[-1]
        for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT model, year_of_manufacture FROM components "
            "WHERE serial_fold = 'AB1002'"
        )
    )
    assert "components_serial_fold" in plan and "INTEGER PRIMARY KEY" in plan
    assert "CORRELATED" not in plan
    # A row pointing to no description shows no description, as before.
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("UPDATE component_rows SET description_id = 999 WHERE id = 1")
    row = conn.execute("SELECT serial, model, type FROM components WHERE id = 1").fetchone()
    assert row == ("AB1001", None, None)
