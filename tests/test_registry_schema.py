"""The registry schema: versioned, WAL, append-only events, identity per maker,
party aliases folded, and no stored status that could disagree with events."""

from __future__ import annotations

import sqlite3

import pytest

from firetrace.registry.db import connect, latest_version, schema_version
from firetrace.registry.parties import normalize_party_name


def test_new_registry_is_at_latest_version_in_wal_mode(db_path):
    conn = connect(db_path)
    assert schema_version(conn) == latest_version()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"parties", "components", "firearms", "assemblies", "events", "batches"} <= tables


def test_exact_serial_lookup_is_an_index_seek(db_path):
    conn = connect(db_path)
    plan = " ".join(
        str(r)
        for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM components WHERE serial_fold = ? "
            "AND serial_norm = ?",
            ("X1", "X1"),
        )
    )
    assert "USING" in plan and "INDEX" in plan and "SCAN" not in plan


def test_firearm_status_is_not_a_stored_column(db_path):
    conn = connect(db_path)
    for table in ("firearms", "components"):
        columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        assert "status" not in columns


@pytest.mark.parametrize(
    "spelling",
    ["GLOCK GmbH", "Glock", "glock", "Glock Ges.m.b.H.", "  GLOCK  gmbh "],
)
def test_glock_spellings_are_one_party(spelling):
    assert normalize_party_name(spelling) == normalize_party_name("Glock")


def test_different_makers_stay_different():
    assert normalize_party_name("Heckler und Koch GmbH") == normalize_party_name("H&K")
    assert normalize_party_name("Sturm, Ruger & Co., Inc.") == normalize_party_name("Ruger")
    assert normalize_party_name("Glock") != normalize_party_name("Walther")
    assert normalize_party_name("AG") == "AG"  # a legal word alone is kept


def test_events_are_append_only(tmp_path, run_cli, db_path):
    from test_registry_support import batch_row, write_csv

    assert run_cli("import", write_csv(tmp_path / "b.csv", [batch_row()])).exit_code == 0
    conn = connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET event = 'destroyed'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")


def test_serial_identity_is_per_maker_and_kind(tmp_path, run_cli, db_path):
    from test_registry_support import batch_row, count, write_csv

    rows = [
        batch_row(manufacturer="Glock", serial="AB1234"),
        batch_row(
            manufacturer="GLOCK GmbH", serial="ab-1234", event="sold", event_date="2021-01-01"
        ),
        batch_row(manufacturer="Walther", serial="AB1234", country_of_manufacture="DE"),
        batch_row(manufacturer="Glock", serial="AB1234", component="barrel"),
    ]
    assert run_cli("import", write_csv(tmp_path / "b.csv", rows)).exit_code == 0
    assert count(db_path, "components") == 3  # Glock frame, Walther frame, Glock barrel
    assert count(db_path, "parties") == 2
    assert count(db_path, "firearms") == 2  # barrels are not control components
