"""Fields of the trace JSON no other test looked at (issue 17.8, found by the
mutation run of registry/trace.py): the firearm of a part never assembled, the
control flag, installations a withdrawn batch made or ended, a duplicated
serial's note, a corrected serial's history, and the notes printed under a match.
Everything goes through the command line and the public library calls, so a
change of the registry's tables does not break these tests."""

from __future__ import annotations

import json

import pytest
from test_registry_support import batch_row, write_csv

from firetrace.registry.db import connect
from firetrace.registry.trace import firearm_of, match_notes

ACME = {"manufacturer": "Acme Arms"}


def _trace(run_cli, serial: str, *args: str) -> dict:
    result = run_cli("trace", serial, "--json", "--purpose", "CASE-17", *args)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def _import(run_cli, path, rows) -> None:
    result = run_cli("import", write_csv(path, rows))
    assert result.exit_code == 0, result.stdout + result.stderr


def _control(serial: str, key: str, **values) -> dict:
    return batch_row(serial=serial, component="fire_control_unit", firearm=key, **ACME, **values)


def test_a_part_never_assembled_belongs_to_the_firearm_its_latest_event_names(
    tmp_path, run_cli, db_path
):
    _import(run_cli, tmp_path / "made.csv", [
        _control("FCU1", "A"), _control("FCU2", "B"),
        batch_row(serial="SL1", component="slide", **ACME),
    ])  # fmt: skip
    _import(run_cli, tmp_path / "sold.csv", [
        _control("FCU1", "A", event="sold", event_date="2021-01-01", party="Shop"),
        batch_row(serial="SL1", component="slide", firearm="A", event="sold",
                  event_date="2021-01-01", party="Shop", **ACME),
        _control("FCU2", "B", event="sold", event_date="2022-01-01", party="Shop"),
        batch_row(serial="SL1", component="slide", firearm="B", event="sold",
                  event_date="2022-01-01", party="Shop", **ACME),
    ])  # fmt: skip
    (slide,) = _trace(run_cli, "SL1", "--exact")["matches"]
    (fcu2,) = _trace(run_cli, "FCU2", "--exact")["matches"]
    (fcu1,) = _trace(run_cli, "FCU1", "--exact")["matches"]
    assert slide["installations"] == [] and slide["control"] is False
    assert fcu2["control"] is True and "installations" not in fcu2
    assert slide["firearm"]["control_component"]["serial"] == "FCU2"  # the later sale
    assert slide["firearm"]["id"] == fcu2["firearm"]["id"] != fcu1["firearm"]["id"]
    assert slide["installed_now"] is False
    shown = {k: slide["firearm"][k] for k in ("type", "model", "year_of_manufacture",
                                              "import_year", "manufacturer")}  # fmt: skip
    assert shown == {"type": "pistol", "model": "G17", "year_of_manufacture": 2020,
                     "import_year": None, "manufacturer": "Acme Arms"}  # fmt: skip
    conn = connect(db_path)
    try:
        assert firearm_of(conn, slide["component_id"], False) == fcu2["firearm"]["id"]
        assert firearm_of(conn, fcu1["component_id"], True) == fcu1["firearm"]["id"]
        assert firearm_of(conn, slide["component_id"], True) is None  # no firearm's control
    finally:
        conn.close()


def test_a_part_assembled_belongs_to_the_firearm_it_is_in(tmp_path, run_cli, db_path):
    _import(run_cli, tmp_path / "made.csv", [
        _control("FCU1", "A"), batch_row(serial="BR1", component="barrel", firearm="A", **ACME),
        batch_row(serial="SL7", component="slide", **ACME),
        batch_row(serial="SL7", component="slide", event="reported_stolen",
                  event_date="2023-01-01", party="Police", **ACME),
    ])  # fmt: skip
    (loose,) = _trace(run_cli, "SL7", "--exact")["matches"]
    assert loose["firearm"] is None and loose["status"] == "reported_stolen"
    (barrel,) = _trace(run_cli, "BR1", "--exact")["matches"]
    conn = connect(db_path)
    try:
        assert firearm_of(conn, barrel["component_id"], False) == barrel["firearm"]["id"]
    finally:
        conn.close()


def test_withdrawn_batches_neither_install_nor_remove_parts(tmp_path, run_cli):
    _import(run_cli, tmp_path / "made.csv", [
        _control("FCU1", "A"), _control("FCU2", "B"),
        batch_row(serial="BR1", component="barrel", firearm="A", **ACME),
    ])  # fmt: skip
    # batch 2, to be withdrawn: BR1 taken out of A, BR2 put into B
    _import(run_cli, tmp_path / "wrong.csv", [
        _control("FCU1", "A", event="sold", event_date="2021-01-01", party="Shop"),
        batch_row(serial="BR1", component="barrel", firearm="A", event="disassembled",
                  event_date="2021-01-01", **ACME),
        _control("FCU2", "B", event="sold", event_date="2021-01-01", party="Shop"),
        batch_row(serial="BR2", component="barrel", firearm="B", event="assembled",
                  event_date="2021-01-01", **ACME),
    ])  # fmt: skip
    # batch 3: SL2 put into B later
    _import(run_cli, tmp_path / "right.csv", [
        _control("FCU2", "B", event="sold", event_date="2022-01-01", party="Shop 2"),
        batch_row(serial="SL2", component="slide", firearm="B", event="assembled",
                  event_date="2022-01-01", **ACME),
    ])  # fmt: skip
    (barrel,) = _trace(run_cli, "BR1", "--exact")["matches"]
    assert barrel["installations"][0]["removed"] == "2021-01-01"
    assert barrel["installed_now"] is False
    batch = json.loads(run_cli("batches", "--json").stdout)["batches"]
    wrong = next(b["id"] for b in batch if b["source"] == "wrong.csv")
    result = run_cli("withdraw", str(wrong), "--reason", "keyed from the wrong file",
                     "--purpose", "C")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (barrel,) = _trace(run_cli, "BR1", "--exact")["matches"]
    (spot,) = barrel["installations"]
    assert spot["removed"] is None and barrel["installed_now"] is True
    assert (spot["serial"], spot["component"]) == ("BR1", "barrel")
    assert spot["manufacturer"] == "Acme Arms"
    assert (spot["firearm_serial"], spot["firearm_component"]) == ("FCU1", "fire_control_unit")
    (fcu2,) = _trace(run_cli, "FCU2", "--exact")["matches"]
    parts = [(c["serial"], c["installed"], c["removed"]) for c in fcu2["firearm"]["components"]]
    assert parts == [("SL2", "2022-01-01", None)]  # BR2's assembly was the withdrawn batch's


def _beretta(**values):
    base = {"manufacturer": "Beretta", "serial": "L12345Z", "model": "92FS",
            "calibre": "9x19mm", "country_of_manufacture": "IT",
            "year_of_manufacture": "2019", "event_date": "2019-05-02"}  # fmt: skip
    return batch_row(**(base | values))


def test_a_duplicated_serial_names_every_item_sharing_it(tmp_path, run_cli):
    _import(run_cli, tmp_path / "b.csv", [
        _beretta(), _beretta(year_of_manufacture="2020", event_date="2020-02-03"),
        _beretta(year_of_manufacture="2021", event_date="2021-02-03"),
        _beretta(serial="L777"),
    ])  # fmt: skip
    direct = [m for m in _trace(run_cli, "L12345Z")["matches"] if m["match"] == "exact"]
    ids = sorted(m["component_id"] for m in direct)
    assert len(ids) == 3
    for match in direct:
        others = [i for i in ids if i != match["component_id"]]
        note = (
            "duplicate serial: 3 Beretta frames are recorded with this serial "
            f"(components {', '.join(map(str, ids))})"
        )
        assert match["duplicate_serial"] == {"note": note, "shared_with": others}
        assert ("duplicate", note) in match_notes(match)
    (single,) = _trace(run_cli, "L777", "--exact")["matches"]
    assert "duplicate_serial" not in single and match_notes(single) == []


def test_a_corrected_serial_keeps_its_history_and_the_note_says_so(tmp_path, run_cli):
    _import(run_cli, tmp_path / "b.csv", [batch_row(serial="AB1003"), batch_row(serial="AB9")])
    (match,) = _trace(run_cli, "AB1003", "--exact")["matches"]
    result = run_cli("correct", str(match["events"][0]["id"]), "--set", "serial=AB1030",
                     "--reason", "marking read again", "--operator", "examiner-7",
                     "--purpose", "C", "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (match,) = _trace(run_cli, "AB1030", "--exact")["matches"]
    (change,) = match["serial_history"]
    when = change["corrected_at"]
    rest = {k: v for k, v in change.items() if k != "corrected_at"}
    assert rest == {"serial": "AB1003", "corrected_to": "AB1030",
                    "reason": "marking read again", "by": "examiner-7"}  # fmt: skip
    assert match_notes(match) == [
        ("serial", f"serial corrected: recorded as AB1003 until {when[:10]} (marking read again)")
    ]
    (other,) = _trace(run_cli, "AB9", "--exact")["matches"]
    assert "serial_history" not in other
    # the serial it was recorded under still finds it, once, in an exact trace
    (former,) = _trace(run_cli, "AB1003", "--exact")["matches"]
    assert former["component_id"] == match["component_id"] and former["serial"] == "AB1030"
    assert "recorded as AB1003 until" in former["why"]


def test_the_description_note_lists_each_verdict(tmp_path, run_cli):
    _import(run_cli, tmp_path / "b.csv", [_beretta()])
    (match,) = _trace(run_cli, "L12345Z", "--exact", "--model", "92FS", "--calibre", "9mm")[
        "matches"
    ]
    assert match["description"] == {"model": "matches", "calibre": "matches"}
    assert match_notes(match) == [("description", "description: model matches, calibre matches")]


def test_an_exact_trace_says_how_each_match_was_found_and_keeps_them_all(tmp_path, run_cli):
    rows = [batch_row(serial="Z-100", manufacturer=f"Maker {n}") for n in range(91)]
    _import(run_cli, tmp_path / "b.csv", [batch_row(serial="Z100"), *rows])
    doc = _trace(run_cli, "Z100", "--exact", "--limit", "200")
    found = [(m["match"], m["score"], m["why"]) for m in doc["matches"]]
    assert found[0] == ("exact", 1.0, "serial as marked")
    assert found[1:] == [("normalized", 0.99, "equal after case, space and dash folding")] * 91


def test_the_trace_document_and_its_audit_entry_say_what_was_asked(tmp_path, run_cli, db_path):
    from firetrace.audit import args_digest, query_log
    from firetrace.registry.description import describe
    from firetrace.registry.trace import trace

    _import(run_cli, tmp_path / "b.csv", [batch_row(serial="AB1234"), batch_row(serial="AB1235")])
    conn = connect(db_path)
    try:
        wanted = describe(model="G17")
        doc = trace(conn, "ab-1234", manufacturer="Glock", component=" Frame ", limit=1,
                    exact=True, operator="op-3", purpose="CASE-4", description=wanted)  # fmt: skip
        (entry,) = query_log(conn, command="trace")
        loose = trace(conn, "AB123?", limit=1, operator="op-3", purpose="CASE-4", audit=False)
    finally:
        conn.close()
    assert (doc["query"], doc["exact"]) == ("ab-1234", True)
    assert doc["description"] == {"model": "G17", "mode": "filter"}
    assert [m["serial"] for m in doc["matches"]] == ["AB1234"] and doc["withdrawn"] == []
    assert doc["more"] == {"matches": 0, "tied_with_last": 0, "complete": True}
    assert (entry["operator"], entry["purpose"]) == ("op-3", "CASE-4")
    assert (doc["record"]["operator"], doc["record"]["purpose"]) == ("op-3", "CASE-4")
    assert doc["record"]["registry"]["audit_entry"]["hash"] == entry["hash"]
    assert entry["record_ids"] == [doc["matches"][0]["component_id"]]
    asked = {"query": "ab-1234", "manufacturer": "Glock", "component": "frame", "limit": 1,
             "exact": True, "description": {"model": "G17", "mode": "filter"}}  # fmt: skip
    assert entry["args_digest"] == args_digest(asked)
    # the full search: one of two shown, the other counted, as good a fit as the last
    assert loose["exact"] is False and "description" not in loose
    assert len(loose["matches"]) == 1
    assert loose["more"] == {"matches": 1, "tied_with_last": 1, "complete": True}


def _library_trace(db_path, query, **options):
    from firetrace.registry.trace import trace

    conn = connect(db_path)
    try:
        return trace(conn, query, **options)
    finally:
        conn.close()


def test_library_trace_defaults_and_filters(tmp_path, run_cli, db_path, monkeypatch):
    from firetrace.audit import query_log
    from firetrace.errors import UsageError
    from firetrace.registry.description import describe

    rows = [batch_row(serial=f"CD{n:04d}") for n in range(25)]
    rows += [batch_row(serial="CD0001", manufacturer="Acme Arms"),
             batch_row(serial="CD0001", component="slide", control="no"),
             batch_row(serial="CE0002", model="G19"), batch_row(serial="CE0003")]  # fmt: skip
    _import(run_cli, tmp_path / "b.csv", rows)
    assert len(_library_trace(db_path, "CD00*", audit=False)["matches"]) == 20  # the default limit
    misread = _library_trace(db_path, "CDOO01", audit=False)  # O for 0: the full search
    assert misread["exact"] is False and misread["matches"]
    exact = _library_trace(db_path, "CD0001", exact=True, manufacturer="Glock", component="frame")
    assert [(m["manufacturer"], m["component"]) for m in exact["matches"]] == [("Glock", "frame")]
    # a maker the rules know but the registry does not: nothing, not an error
    assert _library_trace(db_path, "CD0001", exact=True, manufacturer="Beretta")["matches"] == []
    g17 = _library_trace(db_path, "CE000?", description=describe(model="G17"), audit=False)
    assert [m["serial"] for m in g17["matches"]] == ["CE0003"]  # CE0002's model contradicts
    conn = connect(db_path)
    try:
        operators = {e["operator"] for e in query_log(conn, command="trace")}
    finally:
        conn.close()
    assert operators == {"unknown"}
    policy = tmp_path / "policy.toml"
    policy.write_text('[purpose]\nrequired_for = ["trace"]\n')
    monkeypatch.setenv("FIRETRACE_POLICY", str(policy))
    for audit in (True, False):  # asked before the search, audited or not
        with pytest.raises(UsageError, match="requires --purpose for 'trace'"):
            _library_trace(db_path, "CD0001", audit=audit)
    assert _library_trace(db_path, "CD0001", purpose="CASE-1", exact=True)["matches"]


def test_the_query_is_bounded_at_its_limits_exactly(tmp_path, run_cli):
    from firetrace.registry.trace import MAX_STAR_RUNS, QUERY_SLACK, longest_serial

    _import(run_cli, tmp_path / "b.csv", [batch_row(serial="X1")])
    longest = longest_serial() + QUERY_SLACK

    def refusal(query):
        result = run_cli("trace", query, "--json", "--purpose", "C")
        return result.stderr.strip() if result.exit_code == 2 else None

    assert refusal("7" * longest) is None
    assert refusal("7" * (longest + 1)) == (
        f"firetrace: SERIAL is {longest + 1} characters long; no serial the marking rules "
        f"allow is longer than {longest - QUERY_SLACK}: give the serial as read off the item"
    )
    spaced = "7" + " " * (4 * longest - 1)  # few readable characters, a long text
    assert refusal(spaced) is None
    assert refusal(spaced + " ").startswith(f"firetrace: SERIAL is {4 * longest + 1} characters")
    assert refusal("*".join("7" * (MAX_STAR_RUNS + 1))) is None
    assert refusal("*".join("7" * (MAX_STAR_RUNS + 2))) == (
        f"firetrace: SERIAL has more than {MAX_STAR_RUNS} '*' runs: keep the characters you "
        "can read and use ? for each one you cannot"
    )
    assert refusal("X?") is None  # X is readable
    assert refusal("?*") == (
        "firetrace: SERIAL '?*' has no readable character: give at least one "
        "(? stands for one unreadable character, * for a run)"
    )
    assert refusal("AB\n12").startswith("firetrace: SERIAL ")


def test_a_record_only_a_withdrawn_batch_speaks_of_is_shown_apart(tmp_path, run_cli):
    _import(run_cli, tmp_path / "made.csv", [batch_row(serial="WD100")])
    _import(run_cli, tmp_path / "wrong.csv", [
        batch_row(serial="WD100", event="reported_stolen", event_date="2023-05-01",
                  party="Police"),
        batch_row(serial="WD101", event_date="2021-01-01", year_of_manufacture="2018"),
    ])  # fmt: skip
    batch = json.loads(run_cli("batches", "--json").stdout)["batches"]
    wrong = next(b["id"] for b in batch if b["source"] == "wrong.csv")
    assert (
        run_cli("withdraw", str(wrong), "--reason", "wrong file", "--purpose", "C").exit_code == 0
    )
    (kept,) = _trace(run_cli, "WD100", "--exact")["matches"]
    assert [e["event"] for e in kept["events"]] == ["manufactured"]
    assert [e["event"] for e in kept["withdrawn_events"]] == ["reported_stolen"]
    assert "withdrawn_record" not in kept and kept["status"] == "in_circulation"
    ghost = _trace(run_cli, "WD101", "--exact")
    assert ghost["matches"] == []
    (apart,) = ghost["withdrawn"]
    assert apart["serial"] == "WD101" and apart["withdrawn_record"] is True
    assert [e["event"] for e in apart["withdrawn_events"]] == ["manufactured"]
    assert apart["events"] == []
