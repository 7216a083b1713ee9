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
    stored = {
        "party_rows",
        "component_rows",
        "descriptions",
        "firearms",
        "assemblies",
        "event_rows",
    }
    assert stored | {"batches"} <= tables
    views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    # event_rows as it reads (schema 9), component_rows with its description (schema 10),
    # party_rows with its key (schema 13)
    assert views == {"events", "components", "parties"}


def test_events_read_back_as_written_and_are_stored_compactly(db_path):
    from firetrace.registry.schema_v9 import KEY_BYTES, insert_event

    conn = connect(db_path)
    conn.execute("INSERT INTO parties (norm_name, name) VALUES ('ACME', 'Acme')")
    conn.execute(
        "INSERT INTO components (maker_id, kind, control, serial, serial_norm_stored, "
        "serial_fold_stored, serial_skel_stored) VALUES (1, 'frame', 1, 'A1', NULL, NULL, NULL)"
    )
    dates = ["2019-03-01", "1901-12-31", "2019-02-30", "2019-03", "20190301", "0001-01-01"]
    for n, day in enumerate(dates):
        insert_event(conn, component_id=1, event="sold", event_date=day, row_key=bytes([n]) * 16)
    # The view gives back every date exactly as written; a plain date is a day number.
    assert [r[0] for r in conn.execute("SELECT event_date FROM events ORDER BY id")] == dates
    stored = conn.execute("SELECT typeof(day), kind FROM event_rows ORDER BY id").fetchall()
    assert [t for t, _ in stored] == ["integer", "integer", "text", "text", "text", "integer"]
    (code,) = conn.execute("SELECT code FROM event_kinds WHERE name = 'sold'").fetchone()
    assert {k for _, k in stored} == {code}
    assert conn.execute("SELECT DISTINCT event FROM events").fetchall() == [("sold",)]
    # The content key is held once, cut to KEY_BYTES; the same key again is refused.
    assert (
        conn.execute("SELECT count(*) FROM event_rows WHERE row_key IS NOT NULL").fetchone()[0] == 0
    )
    assert {len(k) for (k,) in conn.execute("SELECT row_key FROM event_keys")} == {KEY_BYTES}
    with pytest.raises(sqlite3.IntegrityError):
        insert_event(
            conn, component_id=1, event="sold", event_date="2020-01-01", row_key=b"\0" * 16
        )
    # A new kind gets a code; the view's own INSERT stores the same way.
    conn.execute(
        "INSERT INTO events (component_id, event, event_date, row_key) "
        "VALUES (1, 'seized', '2024-02-29', x'ff')"
    )
    assert conn.execute(
        "SELECT event, event_date FROM events WHERE id = (SELECT max(id) FROM events)"
    ).fetchone() == ("seized", "2024-02-29")


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


def test_components_are_stored_with_their_description_by_reference(db_path):
    conn = connect(db_path)
    conn.execute("INSERT INTO parties (norm_name, name) VALUES ('ACME', 'Acme')")
    insert = (
        "INSERT INTO components (maker_id, kind, control, serial, model, year_of_manufacture) "
        "VALUES (1, 'frame', 1, ?, ?, ?)"
    )
    # A year given as text is stored as the INTEGER column stored it: one description.
    conn.executemany(insert, [("A1", "M1", 2019), ("A2", "M1", "2019"), ("A3", None, None)])
    rows = conn.execute(
        "SELECT serial, model, year_of_manufacture, control, type FROM components ORDER BY id"
    ).fetchall()
    assert rows == [
        ("A1", "M1", 2019, 1, None),
        ("A2", "M1", 2019, 1, None),
        ("A3", None, None, 1, None),
    ]
    assert conn.execute("SELECT count(*) FROM descriptions").fetchone() == (2,)
    # An update through the view points the component to a description (new or found).
    conn.execute("UPDATE components SET model = 'M2', serial = 'A9' WHERE serial = 'A3'")
    conn.execute("UPDATE components SET year_of_manufacture = 2019 WHERE serial = 'A9'")
    assert conn.execute(
        "SELECT serial, model, year_of_manufacture FROM components WHERE id = 3"
    ).fetchone() == ("A9", "M2", 2019)
    assert conn.execute("SELECT count(*) FROM descriptions").fetchone() == (4,)
    # The serial index follows the stored row.
    assert conn.execute(
        "SELECT component_id FROM serial_suffixes WHERE reversed = '9A'"
    ).fetchall() == [(3,)]
    conn.execute("DELETE FROM components WHERE id = 3")
    assert conn.execute("SELECT count(*) FROM component_rows").fetchone() == (2,)
    # A description row is never changed under the components pointing to it.
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE descriptions SET model = 'M3'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM descriptions")
