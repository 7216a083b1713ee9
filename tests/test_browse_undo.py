"""Browse and undo (issue 14.5): batches, show, list, withdraw (append-only,
audited; the batch's events stop counting for status, history and dupes; trace
shows them apart) and a corrected serial that moves the history and stays
traceable from both serials."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from test_registry_support import batch_row, count, write_csv


@pytest.fixture
def registry(tmp_path, run_cli, db_path):
    """Batch 1: three Glock frames made; batch 2 (the mistaken one): AB1001 reported
    stolen and a new frame ZZ9 nobody else records, also a transposition of AB1002."""
    made = [batch_row(serial=f"AB100{n}") for n in (1, 2, 3)]
    assert run_cli("import", write_csv(tmp_path / "made.csv", made)).exit_code == 0
    wrong = [
        batch_row(
            serial="AB1001",
            event="reported_stolen",
            event_date="2023-05-01",
            party="Polizei Hamburg",
            reference="POL-1",
        ),  # fmt: skip
        batch_row(serial="AB1020", event_date="2021-01-01", year_of_manufacture="2018"),
    ]
    assert run_cli("import", write_csv(tmp_path / "wrong.csv", wrong)).exit_code == 0
    return db_path


def cli_json(run_cli, *args):
    result = run_cli(*args, "--json", "--purpose", "CASE-9")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_batches_lists_what_each_added(registry, run_cli):
    doc = cli_json(run_cli, "batches")
    assert [b["id"] for b in doc["batches"]] == [1, 2]
    first = doc["batches"][0]
    assert first["source"] == "made.csv" and first["rows"] == 3 and len(first["sha256"]) == 64
    assert first["counts"]["components"] == 3 and first["operator"] == "tester"
    assert first["withdrawn"] is None
    human = run_cli("batches")
    assert "made.csv" in human.stdout and "wrong.csv" in human.stdout


def test_withdraw_stops_the_batch_counting_and_is_audited(registry, run_cli, db_path):
    before = cli_json(run_cli, "trace", "AB1001")["matches"][0]
    assert before["status"] == "reported_stolen"
    assert cli_json(run_cli, "dupes")["stats"]["groups"]["transposition"] == 1
    events = count(db_path, "events")
    result = run_cli("withdraw", "2", "--reason", "keyed from the wrong file", "--purpose", "C")
    assert result.exit_code == 0 and "batch 2 (wrong.csv) withdrawn: 2 events" in result.stdout
    assert count(db_path, "events") == events  # nothing deleted
    after = cli_json(run_cli, "trace", "AB1001")
    match = after["matches"][0]
    assert match["status"] == "in_circulation"
    assert [e["event"] for e in match["events"]] == ["manufactured"]
    assert [e["event"] for e in match["withdrawn_events"]] == ["reported_stolen"]
    # The frame only the withdrawn batch recorded is no match, and shown apart.
    ghost = cli_json(run_cli, "trace", "AB1020")
    assert [m["serial"] for m in ghost["withdrawn"]] == ["AB1020"]
    assert "AB1020" not in [m["serial"] for m in ghost["matches"]]
    dupes = cli_json(run_cli, "dupes")
    assert dupes["stats"]["groups"].get("transposition", 0) == 0
    assert dupes["stats"]["withdrawn_left_out"] == 1
    listed = cli_json(run_cli, "batches")["batches"][1]["withdrawn"]
    assert listed["reason"] == "keyed from the wrong file" and listed["operator"] == "tester"
    conn = sqlite3.connect(db_path)
    (command, records) = conn.execute(
        "SELECT command, record_ids FROM audit WHERE command = 'withdraw'"
    ).fetchone()
    assert json.loads(records) == ["batch:2"]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM withdrawals")
    human = run_cli("trace", "AB1001", "--purpose", "C")
    assert "event(s) of withdrawn batches, not counted" in human.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["withdraw", "7", "--reason", "x"], "no batch 7"),
        (["withdraw", "1", "--reason", " "], "needs --reason"),
    ],
)
def test_withdrawing_an_unknown_batch_or_without_reason_is_a_usage_error(
    registry, run_cli, args, message
):
    result = run_cli(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_withdrawing_twice_is_a_usage_error(registry, run_cli, db_path):
    assert run_cli("withdraw", "2", "--reason", "wrong file").exit_code == 0
    audit = count(db_path, "audit")
    again = run_cli("withdraw", "2", "--reason", "wrong file")
    assert again.exit_code == 2 and "already withdrawn" in again.stderr
    assert count(db_path, "audit") == audit and count(db_path, "withdrawals") == 1


def test_show_a_component_or_a_firearm(registry, run_cli):
    doc = cli_json(run_cli, "show", "component:1")
    assert doc["record"] == "component:1" and doc["match"]["serial"] == "AB1001"
    firearm = cli_json(run_cli, "show", f"firearm:{doc['match']['firearm']['id']}")
    assert firearm["match"]["component_id"] == 1
    assert cli_json(run_cli, "show", "2")["match"]["serial"] == "AB1002"
    for bad, message in (("x12", "is not a record id"), ("99", "no component 99"),
                         ("firearm:99", "no firearm 99")):  # fmt: skip
        result = run_cli("show", bad)
        assert result.exit_code == 2 and message in result.stderr
    assert "AB1001" in run_cli("show", "1", "--purpose", "C").stdout


def test_list_by_status_json_and_csv(registry, run_cli, tmp_path):
    stolen = cli_json(run_cli, "list", "--status", "reported_stolen")
    assert [r["serial"] for r in stolen["records"]] == ["AB1001"]
    assert stolen["records"][0]["status_since"] == "2023-05-01"
    everything = cli_json(run_cli, "list")
    assert [r["serial"] for r in everything["records"]] == ["AB1001", "AB1002", "AB1003", "AB1020"]
    circulating = cli_json(run_cli, "list", "--status", "in_circulation", "--year", "2020")
    assert [r["serial"] for r in circulating["records"]] == ["AB1002", "AB1003"]
    out = tmp_path / "stolen.csv"
    assert run_cli("list", "--status", "stolen", "--csv", out).exit_code == 2  # did you mean
    assert run_cli("list", "--status", "reported_stolen", "--csv", out).exit_code == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["serial"], r["status"]) for r in rows] == [("AB1001", "reported_stolen")]
    assert cli_json(run_cli, "list", "--limit", "2")["more"] is True


def test_a_corrected_serial_moves_the_history_and_both_serials_trace(registry, run_cli, db_path):
    component = cli_json(run_cli, "trace", "AB1003")["matches"][0]
    event_id = component["events"][0]["id"]
    result = run_cli("correct", str(event_id), "--set", "serial=AB1030", "--reason",
                     "marking read again at inspection", "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert (done["old_serial"], done["new_serial"]) == ("AB1003", "AB1030")
    new = cli_json(run_cli, "trace", "AB1030")["matches"][0]
    assert new["component_id"] == component["component_id"] and new["match"] == "exact"
    assert new["serial_history"][0]["serial"] == "AB1003"
    assert [e["id"] for e in new["events"]] == [event_id]  # the history moved with it
    old = cli_json(run_cli, "trace", "AB1003", "--exact")["matches"]
    assert [m["component_id"] for m in old] == [component["component_id"]]
    assert "recorded as AB1003 until" in old[0]["why"]
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE serial_changes SET old_serial = 'X'")
    # A serial that profile rules refuse, and two fields at once, are errors.
    bad = run_cli("correct", str(event_id), "--set", "serial=!!", "--reason", "r")
    assert bad.exit_code == 2 and "serial:" in bad.stderr
    both = run_cli("correct", str(event_id), "--set", "serial=AB9", "--set", "notes=x",
                   "--reason", "r")  # fmt: skip
    assert both.exit_code == 2 and "on its own" in both.stderr
