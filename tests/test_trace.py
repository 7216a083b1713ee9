"""`firetrace trace`: a modular firearm whose barrel moved to another control
component is traced from either serial with the right history; reports change
the derived status; filters, JSON shape, audit and exit codes."""

from __future__ import annotations

import json
import sqlite3

import pytest
from test_registry_support import batch_row, write_csv

from firetrace.paths import samples_dir

SAMPLE = samples_dir() / "batch.csv"


@pytest.fixture
def sample_registry(run_cli, db_path):
    assert run_cli("import", SAMPLE).exit_code == 0
    return db_path


def trace_json(run_cli, *args):
    result = run_cli("trace", *args, "--json")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_barrel_traced_to_the_firearm_it_moved_into(run_cli, sample_registry):
    doc = trace_json(run_cli, "brl 58a-7781")
    (match,) = doc["matches"]
    assert match["component"] == "barrel" and match["serial"] == "BRL58A7781"
    assert match["match"] == "normalized"
    assert match["firearm"]["control_component"]["serial"] == "58B200917"
    assert match["status"] == "reported_stolen"
    spans = [(i["firearm_serial"], i["installed"], i["removed"]) for i in match["installations"]]
    assert spans == [
        ("58A123456", "2019-05-02", "2021-03-01"),
        ("58B200917", "2021-03-01", None),
    ]
    kinds = [(e["event_date"], e["event"]) for e in match["events"]]
    assert ("2021-03-01", "assembled") in kinds and ("2023-11-20", "reported_stolen") in kinds
    assert kinds == sorted(kinds, key=lambda k: k[0])


def test_each_control_component_shows_its_parts_over_time(run_cli, sample_registry):
    old = trace_json(run_cli, "58A123456")["matches"][0]
    assert old["match"] == "exact" and old["component"] == "fire_control_unit"
    assert old["status"] == "in_circulation"
    parts = {(c["serial"], c["installed"], c["removed"]) for c in old["firearm"]["components"]}
    # the barrels were swapped between the two fire control units on 2021-03-01
    assert ("BRL58A7781", "2019-05-02", "2021-03-01") in parts
    assert ("BRL58B0042", "2021-03-01", None) in parts
    new = trace_json(run_cli, "58B200917")["matches"][0]
    parts = {(c["serial"], c["installed"], c["removed"]) for c in new["firearm"]["components"]}
    assert parts == {
        ("BRL58B0042", "2019-05-10", "2021-03-01"),
        ("BRL58A7781", "2021-03-01", None),
    }
    assert new["status"] == "reported_stolen"
    assert new["firearm"]["model"] == "P320" and new["firearm"]["calibre"] == "9x19mm"
    assert new["firearm"]["country_of_manufacture"] == "DE"


def test_contract_json_shape(run_cli, sample_registry):
    doc = trace_json(run_cli, "L12345Z")
    assert doc["query"] == "L12345Z"
    for match in doc["matches"]:
        assert {
            "serial",
            "manufacturer",
            "component",
            "match",
            "score",
            "why",
            "status",
            "firearm",
            "events",
        } <= set(match)
        assert 0.0 <= match["score"] <= 1.0
        for event in match["events"]:
            assert {"event", "event_date", "party", "reference"} <= set(event)
    frame = next(m for m in doc["matches"] if m["component"] == "frame")
    assert frame["status"] == "seized"
    assert frame["firearm"]["import_country"] == "DE"


def test_status_follows_the_latest_event(tmp_path, run_cli, db_path):
    made = write_csv(tmp_path / "a.csv", [batch_row(serial="AB1001")])
    assert run_cli("import", made).exit_code == 0
    assert trace_json(run_cli, "AB1001")["matches"][0]["status"] == "in_circulation"
    stolen = write_csv(
        tmp_path / "b.csv",
        [
            batch_row(
                serial="AB1001",
                event="reported_stolen",
                event_date="2022-01-05",
                party="Polizei Wien",
                reference="P-1",
            )
        ],
    )
    assert run_cli("import", stolen).exit_code == 0
    assert trace_json(run_cli, "AB1001")["matches"][0]["status"] == "reported_stolen"
    found = write_csv(
        tmp_path / "c.csv",
        [
            batch_row(serial="AB1001", event="recovered", event_date="2022-03-01"),
            # An event recorded late but dated earlier does not override the recovery.
            batch_row(serial="AB1001", event="reported_lost", event_date="2021-01-01"),
        ],
    )
    assert run_cli("import", found).exit_code == 0
    assert trace_json(run_cli, "AB1001")["matches"][0]["status"] == "in_circulation"


def test_manufacturer_and_component_filters(run_cli, sample_registry):
    both = trace_json(run_cli, "L12345Z")["matches"]
    assert {m["component"] for m in both} == {"frame", "barrel"}
    barrel = trace_json(run_cli, "L12345Z", "--component", "barrel")["matches"]
    assert [m["component"] for m in barrel] == ["barrel"]
    alias = trace_json(run_cli, "L12345Z", "--manufacturer", "Pietro Beretta S.p.A.")["matches"]
    assert len(alias) == 2
    assert trace_json(run_cli, "L12345Z", "--manufacturer", "Glock")["matches"] == []
    assert len(trace_json(run_cli, "L12345Z", "--limit", "1")["matches"]) == 1
    assert run_cli("trace", "L12345Z", "--component", "stock").exit_code == 2


def test_no_match_is_exit_1_and_missing_registry_exit_2(tmp_path, run_cli, sample_registry):
    result = run_cli("trace", "NOPE999")
    assert result.exit_code == 1 and "no registry record matches" in result.stdout
    missing = run_cli("trace", "X1", "--db", tmp_path / "none.db")
    assert missing.exit_code == 2 and "no registry" in missing.stderr


def test_human_output_shows_history(run_cli, sample_registry):
    result = run_cli("trace", "BRL58A7781")
    assert result.exit_code == 0
    for text in ("REPORTED STOLEN", "58A123456", "58B200917", "event timeline"):
        assert text in result.stdout


def test_every_trace_is_audited(run_cli, sample_registry):
    run_cli("trace", "58B200917", "--operator", "officer1", "--purpose", "CASE-9")
    run_cli("--purpose", "CASE-10", "trace", "NOPE999")
    from firetrace.audit import query_log
    from firetrace.registry.db import connect

    # Reads are recorded in the read log beside the registry (never blocked by an import).
    entries = query_log(connect(sample_registry), command="trace", newest_first=False)
    rows = [(e["operator"], e["purpose"], e["record_ids"], e["log"]) for e in entries]
    assert rows[0][:2] == ("officer1", "CASE-9") and rows[0][2] and rows[0][3] == "reads"
    assert rows[1] == ("tester", "CASE-10", [], "reads")


def test_library_trace_without_audit_writes_nothing(sample_registry):
    from firetrace.registry.db import connect
    from firetrace.registry.trace import trace

    conn = connect(sample_registry)
    before = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    doc = trace(conn, "58B200917", audit=False)
    assert doc["matches"][0]["status"] == "reported_stolen"
    assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == before


def test_exact_mode_returns_only_exact_and_normalised(run_cli, sample_registry):
    exact = trace_json(run_cli, "bklm-101", "--exact")
    assert exact["exact"] is True
    assert [(m["serial"], m["match"]) for m in exact["matches"]] == [("BKLM101", "normalized")]
    assert run_cli("trace", "BKLM1O1", "--exact").exit_code == 1  # a misread needs the full search


def test_a_corrected_event_no_longer_drives_the_status(tmp_path, run_cli, db_path):
    rows = [
        batch_row(serial="AB1001"),
        batch_row(serial="AB1001", event="reported_stolen", event_date="2022-01-05"),
        batch_row(serial="AB1001", event="seized", event_date="2022-03-01"),
    ]
    assert run_cli("import", write_csv(tmp_path / "a.csv", rows)).exit_code == 0
    assert trace_json(run_cli, "AB1001")["matches"][0]["status"] == "seized"
    seized_id = (
        sqlite3.connect(db_path)
        .execute("SELECT id FROM events WHERE event = 'seized'")
        .fetchone()[0]
    )
    # The seizure was keyed a year late: corrected, the stolen report is the latest again.
    fixed = run_cli("correct", str(seized_id), "--set", "event_date=2021-03-01", "--reason", "typo")
    assert fixed.exit_code == 0, fixed.stderr
    match = trace_json(run_cli, "AB1001")["matches"][0]
    assert match["status"] == "reported_stolen"
    original = next(e for e in match["events"] if e["id"] == seized_id)
    correction = next(e for e in match["events"] if e["corrects"] == seized_id)
    assert original["corrected_by"] == correction["id"]


def test_a_moved_part_shows_its_earlier_firearms_custody_while_it_was_in_it(
    tmp_path, run_cli, db_path
):
    made = {"event": "manufactured", "event_date": "2019-01-01"}

    def row(**values):
        return batch_row(year_of_manufacture="2019", **values)

    rows = [
        row(serial="FA1", firearm="K1", **made),
        row(serial="B1", component="barrel", control="no", firearm="K1", **made),
        row(serial="FC2", firearm="K2", **made),
        row(serial="FA1", event="sold", event_date="2019-06-01", party="Dealer One"),
        row(
            serial="B1",
            component="barrel",
            control="no",
            firearm="K1",
            event="disassembled",
            event_date="2020-01-01",
        ),
        row(
            serial="B1",
            component="barrel",
            control="no",
            firearm="K2",
            event="assembled",
            event_date="2020-01-01",
        ),
        row(serial="FA1", event="transferred", event_date="2021-01-01", party="Owner Two"),
        row(serial="FC2", event="sold", event_date="2022-05-05", party="Dealer Three"),
    ]
    assert run_cli("import", write_csv(tmp_path / "b.csv", rows)).exit_code == 0
    (barrel,) = trace_json(run_cli, "B1", "--component", "barrel")["matches"]
    assert barrel["firearm"]["control_component"]["serial"] == "FC2"
    seen = {(e["serial"], e["event"], e["event_date"]) for e in barrel["events"]}
    # FA1's custody while B1 was in it, then all of FC2's (its firearm now) ...
    assert ("FA1", "sold", "2019-06-01") in seen
    assert ("FC2", "sold", "2022-05-05") in seen
    # ... but not what happened to FA1 after the barrel left it.
    assert ("FA1", "transferred", "2021-01-01") not in seen
    # The frame's own trace is unchanged: its whole history, nothing of FC2.
    (frame,) = trace_json(run_cli, "FA1", "--exact")["matches"]
    assert {e["serial"] for e in frame["events"]} == {"FA1", "B1"}
    assert ("transferred", "2021-01-01") in {(e["event"], e["event_date"]) for e in frame["events"]}


@pytest.mark.parametrize("serial", ["***", " - ", "", "??"])
def test_a_serial_with_nothing_readable_is_a_usage_error(run_cli, sample_registry, serial):
    result = run_cli("trace", serial)
    assert result.exit_code == 2 and "has no readable character" in result.stderr


def test_the_library_checks_its_query_as_the_command_does(db_path):
    from firetrace import audit
    from firetrace.errors import UsageError
    from firetrace.registry.db import connect
    from firetrace.registry.trace import trace

    conn = connect(db_path)
    with pytest.raises(UsageError, match="has no readable character"):
        trace(conn, "*?*")
    with pytest.raises(UsageError, match="--component: unknown component kind 'Stock'"):
        trace(conn, "AB1", component="Stock")
    assert audit.query_log(conn) == []  # a refused query reads nothing and records nothing
    assert trace(conn, "AB1", component=" Frame ")["matches"] == []


def test_a_maker_is_found_by_its_key_and_by_a_spelling_keyed_under_older_rules(
    run_cli, sample_registry, db_path
):
    from firetrace.registry.db import connect
    from firetrace.registry.lookup import _maker_ids

    conn = connect(db_path)
    asked: list[str] = []
    conn.set_trace_callback(asked.append)
    (beretta,) = _maker_ids(conn, "Beretta")
    conn.set_trace_callback(None)
    plans = [r[3] for sql in asked for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert plans and not any("SCAN" in p for p in plans)  # a seek, not a read of every party
    name = conn.execute("SELECT name FROM parties WHERE id = ?", (beretta,)).fetchone()[0]
    # A party keyed under older rules: its stored key is not today's key of its name.
    conn.execute("UPDATE parties SET norm_name = 'OLD RULES KEY' WHERE id = ?", (beretta,))
    assert _maker_ids(conn, name.upper()) == [beretta]
    assert _maker_ids(conn, "No Such Maker Anywhere") == []
    conn.close()
