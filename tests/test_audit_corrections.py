"""Corrections are new events that reference the corrected one: the original stays,
the trace shows both, the correction is audited, and bad corrections are clear errors."""

from __future__ import annotations

import json
import sqlite3

import pytest

from firetrace import audit
from firetrace.registry.corrections import corrections_of
from firetrace.registry.db import connect
from firetrace.registry.importer import import_batch
from firetrace.registry.trace import trace

BATCH = """\
manufacturer,serial,component,type,model,calibre,country_of_manufacture,year_of_manufacture,event,event_date,party,reference,notes
Acme Arms,AC100200,frame,pistol,M1,9x19mm,AT,2019,manufactured,2019-05-02,Acme Arms,WO-1,
Acme Arms,AC100200,frame,pistol,M1,9x19mm,AT,2019,sold,2020-01-10,Dealer One,INV-7,
Acme Arms,AC100200,frame,pistol,M1,9x19mm,AT,2019,reported_stolen,2023-03-01,Owner Two,POL-42,theft
"""


@pytest.fixture
def conn(db_path, tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text(BATCH, encoding="utf-8")
    conn = connect(db_path)
    assert import_batch(conn, batch, operator="clerk", purpose="LOAD-1").status == "imported"
    yield conn
    conn.close()


def stolen_event_id(conn) -> int:
    events = trace(conn, "AC100200", operator="t", audit=False)["matches"][0]["events"]
    return next(e["id"] for e in events if e["event"] == "reported_stolen")


def test_correction_is_a_new_event_and_trace_shows_both(conn, run_cli):
    original = stolen_event_id(conn)
    result = run_cli(
        "correct",
        str(original),
        "--set",
        "event_date=2023-02-27",
        "--set",
        "reference=POL-42/A",
        "--reason",
        "date misread from police report, see letter REQ-9",
        "--operator",
        "supervisor",
        "--purpose",
        "REQ-9",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    correction = json.loads(result.stdout)
    assert correction["corrects"] == original
    assert correction["changes"] == {"event_date": "2023-02-27", "reference": "POL-42/A"}
    assert corrections_of(conn, original) == [correction["event_id"]]

    events = trace(conn, "AC100200", operator="t", audit=False)["matches"][0]["events"]
    by_id = {e["id"]: e for e in events}
    assert by_id[original]["event_date"] == "2023-03-01"  # the original is untouched
    fixed = by_id[correction["event_id"]]
    assert fixed["event"] == "reported_stolen" and fixed["event_date"] == "2023-02-27"
    assert fixed["reference"] == "POL-42/A" and fixed["party"] == "Owner Two"
    assert fixed["notes"].startswith(f"corrects event {original}: date misread")
    assert fixed["notes"].endswith("theft")  # the original's notes are carried over
    row = conn.execute("SELECT corrects FROM events WHERE id = ?", (fixed["id"],)).fetchone()
    assert row[0] == original

    entry = audit.query_log(conn, command="correct")[0]
    assert entry["operator"] == "supervisor" and entry["purpose"] == "REQ-9"
    assert f"event:{original}" in entry["record_ids"]
    assert audit.verify(conn).ok
    assert run_cli("check").exit_code == 0


def test_the_same_correction_twice_is_refused(conn, run_cli):
    original = stolen_event_id(conn)
    args = ("correct", str(original), "--set", "event=reported_lost", "--reason", "owner call")
    assert run_cli(*args).exit_code == 0
    again = run_cli(*args)
    assert again.exit_code == 2 and "already corrected" in again.stderr


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("event=teleported", "event: 'teleported' is not an event"),
        ("event_date=2023-13-01", "event_date: '2023-13-01' is not an ISO date"),
        ("event_date=2999-01-01", "in the future"),
        ("serial=XYZ", "serial: 'XYZ' is letters only"),
        ("party_country=QQ", "not an ISO 3166"),
        ("nonsense", "expected FIELD=VALUE"),
        ("reference=POL-42", "already has those values"),
    ],
)
def test_bad_corrections_are_clear_errors_and_change_nothing(conn, run_cli, assignment, message):
    original = stolen_event_id(conn)
    before = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    entries = audit.head(conn).entries
    result = run_cli("correct", str(original), "--set", assignment, "--reason", "test")
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
    assert audit.head(conn).entries == entries


def test_unknown_event_and_missing_reason(conn, run_cli):
    missing = run_cli("correct", "999", "--set", "notes=x", "--reason", "r")
    assert missing.exit_code == 2 and "no event 999" in missing.stderr
    blank = run_cli("correct", str(stolen_event_id(conn)), "--set", "notes=x", "--reason", " ")
    assert blank.exit_code == 2 and "--reason" in blank.stderr


def test_history_cannot_be_rewritten_in_place(conn):
    with pytest.raises(sqlite3.DatabaseError, match="record a correcting event"):
        conn.execute("UPDATE events SET event_date = '2023-02-27' WHERE id = 3")
