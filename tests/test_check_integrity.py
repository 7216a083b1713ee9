"""`firetrace check` and append-only history: events and audit entries cannot be
updated or deleted through SQLite; a damaged file, a broken foreign key, a dropped
trigger or a tampered audit log each make `check` exit 1 and say what is wrong."""

from __future__ import annotations

import json
import sqlite3

import pytest

from firetrace import audit
from firetrace.integrity import check
from firetrace.registry.db import connect


def add_event(conn, serial: str = "AB1234", event: str = "manufactured") -> int:
    """One maker, one component, one event, straight into the schema."""
    conn.execute("INSERT OR IGNORE INTO parties (norm_name, name) VALUES ('ACME', 'Acme')")
    maker = conn.execute("SELECT id FROM parties WHERE norm_name = 'ACME'").fetchone()[0]
    from firetrace.registry.serial_index import SERIAL_COLUMNS, serial_columns

    row = conn.execute("SELECT id FROM components WHERE serial_norm = ?", (serial,)).fetchone()
    component = row[0] if row else None
    if component is None:  # a view: no lastrowid (it was the party's, by chance 1)
        conn.execute(
            f"INSERT INTO components (maker_id, kind, control, {SERIAL_COLUMNS}) "
            "VALUES (?, 'frame', 1, ?, ?, ?, ?)",
            (maker, *serial_columns(serial)),
        )
        (component,) = conn.execute(
            "SELECT id FROM components WHERE serial_norm = ?", (serial,)
        ).fetchone()
    cur = conn.execute(
        "INSERT INTO events (component_id, event, event_date, row_key) VALUES (?, ?, ?, ?)",
        (component, event, "2020-01-02", f"{serial}:{event}".encode()),
    )
    return cur.lastrowid


@pytest.fixture
def conn(db_path):
    conn = connect(db_path)
    add_event(conn)
    audit.append_entry(conn, operator="clerk", purpose="CASE-1", command="import", args={})
    yield conn
    conn.close()


def test_update_or_delete_on_events_raises(conn):
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET event_date = '2021-01-01'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    # Also from an unrelated connection that did not run any migration code.
    other = sqlite3.connect(conn.execute("PRAGMA database_list").fetchone()[2])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        other.execute("DELETE FROM events WHERE id = 1")
    other.close()
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_clean_registry_passes(conn, run_cli):
    assert check(conn).ok
    result = run_cli("check")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "registry ok" in result.stdout
    document = json.loads(run_cli("check", "--json").stdout)
    assert document["ok"] is True and document["integrity"] == ["ok"]


def test_dropped_trigger_is_reported(conn, db_path, run_cli):
    sqlite3.connect(db_path).execute("DROP TRIGGER events_no_delete")
    result = run_cli("check")
    assert result.exit_code == 1
    assert "events_no_delete is missing" in result.stdout


def test_broken_foreign_key_is_reported(conn, db_path, run_cli):
    evil = sqlite3.connect(db_path)  # foreign keys are off by default here
    evil.execute(
        "INSERT INTO events (component_id, event, event_date, row_key) "
        "VALUES (999, 'sold', '2021-01-01', x'00')"
    )
    evil.commit()
    result = run_cli("check", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert any("events row" in p and "components" in p for p in document["foreign_keys"])


def test_tampered_audit_log_fails_check(conn, db_path, run_cli):
    evil = sqlite3.connect(db_path, isolation_level=None)
    evil.execute("DROP TRIGGER audit_no_update")
    evil.execute("UPDATE audit SET purpose = 'none' WHERE id = 1")
    result = run_cli("check")
    assert result.exit_code == 1
    assert "audit: entry 1" in result.stdout
    assert "audit_no_update is missing" in result.stdout


def test_truncated_log_fails_check_against_recorded_head(conn, db_path, run_cli):
    recorded = audit.head(conn).hash
    audit.append_entry(conn, operator="clerk", purpose="CASE-1", command="trace", args={})
    assert run_cli("check", "--head", recorded).exit_code == 0
    evil = sqlite3.connect(db_path, isolation_level=None)
    evil.execute("DROP TRIGGER audit_no_delete")
    evil.execute("DELETE FROM audit")
    assert run_cli("check", "--head", recorded).exit_code == 1


def test_damaged_pages_are_reported(db_path, run_cli):
    conn = connect(db_path)
    for i in range(400):
        add_event(conn, serial=f"SN{i:05d}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    # Overwrite a page of the serial_fold index (not the schema page) with junk.
    root = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'components_serial_fold'"
    ).fetchone()[0]
    conn.close()
    with open(db_path, "r+b") as fh:
        fh.seek((root - 1) * page_size + 8)
        fh.write(b"\xa5" * (page_size - 16))
    result = run_cli("check")
    assert result.exit_code == 1
    assert "integrity" in result.stdout or "integrity" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_without_its_import_entry_is_reported(conn, run_cli):
    conn.execute(
        "INSERT INTO batches (source, sha256, imported_at, rows) "
        "VALUES ('b.csv', 'abc', '2026-01-01', 1)"
    )
    result = run_cli("check")
    assert result.exit_code == 1
    assert "batch 1 has no import entry" in result.stdout
    audit.append_entry(
        conn, operator="clerk", purpose=None, command="import", args={}, record_ids=["batch:1"]
    )
    assert run_cli("check").exit_code == 0
