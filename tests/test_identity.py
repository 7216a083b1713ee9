"""Identity that does not swallow duplicated serials (issue 14.1): two records
are one component only when nothing contradicts it; a second physical item
sharing a serial is kept, flagged on import, in the import JSON, in dupes and in
trace; a later row that fits several such items must say which; and a registry
written before migration 5 migrates with nothing lost."""

from __future__ import annotations

import json
import sqlite3

from test_registry_support import batch_row, count, write_csv

from firetrace.registry.db import connect


def beretta(**values):
    """A Beretta 92FS frame record (overridable)."""
    base = {
        "manufacturer": "Beretta",
        "serial": "L12345Z",
        "model": "92FS",
        "calibre": "9x19mm",
        "country_of_manufacture": "IT",
        "year_of_manufacture": "2019",
        "event_date": "2019-05-02",
    }
    return batch_row(**(base | values))


def components(db_path, serial="L12345Z"):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT id, year_of_manufacture, model FROM components WHERE serial_norm = ? "
            "ORDER BY id",
            (serial,),
        ).fetchall()
    finally:
        conn.close()


def events_of(db_path, component_id):
    conn = sqlite3.connect(db_path)
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT event FROM events WHERE component_id = ? ORDER BY id", (component_id,)
            )
        ]
    finally:
        conn.close()


def test_two_frames_made_in_different_years_are_two_components_flagged_everywhere(
    tmp_path, run_cli, db_path
):
    rows = [beretta(), beretta(year_of_manufacture="2020", event_date="2020-02-03")]
    result = run_cli("import", write_csv(tmp_path / "b.csv", rows), "--json")
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert components(db_path) == [(1, 2019, "92FS"), (2, 2020, "92FS")]
    assert events_of(db_path, 1) == ["manufactured"] and events_of(db_path, 2) == ["manufactured"]
    (duplicate,) = report["duplicates"]
    assert duplicate["line"] == 3 and duplicate["component_id"] == 2
    assert "year of manufacture 2020 vs 2019" in duplicate["reason"]
    assert any("kept as a second item sharing its serial" in w for w in report["warnings"])
    # The human import says it too.
    human = run_cli("import", write_csv(tmp_path / "c.csv", [beretta(serial="L999")]))
    assert human.exit_code == 0
    dupes = json.loads(run_cli("dupes", "--json", "--purpose", "audit").stdout)
    exact = [g for g in dupes["groups"] if g["kind"] == "exact"]
    assert [sorted(m["id"] for m in g["members"]) for g in exact] == [[1, 2]]
    traced = json.loads(run_cli("trace", "L12345Z", "--json", "--purpose", "C1").stdout)
    direct = [m for m in traced["matches"] if m["match"] == "exact"]
    assert sorted(m["component_id"] for m in direct) == [1, 2]
    for match in direct:
        assert match["duplicate_serial"]["note"].startswith("duplicate serial: 2 Beretta frames")
    human_trace = run_cli("trace", "L12345Z", "--purpose", "C1")
    assert human_trace.stdout.count("duplicate serial: 2 Beretta frames") == 2


def test_a_later_row_fitting_both_items_is_rejected_naming_them(tmp_path, run_cli, db_path):
    made = [beretta(), beretta(year_of_manufacture="2020", event_date="2020-02-03")]
    assert run_cli("import", write_csv(tmp_path / "made.csv", made)).exit_code == 0
    sale = beretta(
        event="sold", event_date="2021-01-01", year_of_manufacture="", model="", calibre=""
    )
    sale["country_of_manufacture"] = ""
    result = run_cli("import", write_csv(tmp_path / "sold.csv", [sale]))
    assert result.exit_code == 1
    assert "line 2: serial: L12345Z fits 2 Beretta frames sharing this serial" in result.stdout
    assert "component 1 (year of manufacture 2019" in result.stdout
    assert "component 2 (year of manufacture 2020" in result.stdout
    assert count(db_path, "events") == 2  # nothing was imported
    # Said by year: the 2020 frame.
    by_year = dict(sale, year_of_manufacture="2020")
    assert run_cli("import", write_csv(tmp_path / "y.csv", [by_year])).exit_code == 0
    assert events_of(db_path, 2) == ["manufactured", "sold"]
    # Said by component id: the 2019 frame.
    by_id = dict(sale, component_id="1", event_date="2021-06-01")
    assert run_cli("import", write_csv(tmp_path / "i.csv", [by_id])).exit_code == 0
    assert events_of(db_path, 1) == ["manufactured", "sold"]
    assert count(db_path, "components") == 2


def test_a_component_id_that_is_not_that_serial_is_an_error(tmp_path, run_cli, db_path):
    assert run_cli("import", write_csv(tmp_path / "a.csv", [beretta()])).exit_code == 0
    assert run_cli("import", write_csv(tmp_path / "o.csv", [beretta(serial="L777")])).exit_code == 0
    wrong = beretta(event="sold", event_date="2021-01-01", component_id="2")
    result = run_cli("import", write_csv(tmp_path / "w.csv", [wrong]))
    assert result.exit_code == 1
    assert "line 2: component_id: component 2 is not a Beretta frame with serial L12345Z" in (
        result.stdout
    )
    junk = beretta(event="sold", event_date="2021-01-01", component_id="two")
    result = run_cli("import", write_csv(tmp_path / "j.csv", [junk]))
    assert result.exit_code == 1
    assert "line 2: component_id: 'two' is not a component id" in result.stdout


def test_the_firearm_key_of_the_making_row_says_which_item(tmp_path, run_cli, db_path):
    rows = [
        beretta(firearm="A"),
        beretta(year_of_manufacture="2020", event_date="2020-02-03", firearm="B"),
        beretta(event="sold", event_date="2021-01-01", firearm="B", year_of_manufacture=""),
    ]
    assert run_cli("import", write_csv(tmp_path / "b.csv", rows)).exit_code == 0
    assert events_of(db_path, 2) == ["manufactured", "sold"]
    assert events_of(db_path, 1) == ["manufactured"]


def test_the_common_case_stays_simple(tmp_path, run_cli, db_path):
    # One item: a sale with no description, a spelling variant of the model and
    # serial, and an overlapping re-import all land on it.
    assert run_cli("import", write_csv(tmp_path / "a.csv", [beretta()])).exit_code == 0
    rows = [
        beretta(),  # the same record again: already recorded
        beretta(event="sold", event_date="2020-01-01", model="92 fs", serial="l-12345z"),
        beretta(event="transferred", event_date="2021-01-01", year_of_manufacture=""),
    ]
    result = run_cli("import", write_csv(tmp_path / "b.csv", rows), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["duplicates"] == [] and report["counts"]["duplicate_events"] == 1
    assert components(db_path) == [(1, 2019, "92FS")]
    assert events_of(db_path, 1) == ["manufactured", "sold", "transferred"]


def test_a_second_manufacture_record_alike_in_all_is_a_second_item(tmp_path, run_cli, db_path):
    rows = [beretta(), beretta(event_date="2019-07-01", reference="WO-2")]
    result = run_cli("import", write_csv(tmp_path / "b.csv", rows), "--json")
    report = json.loads(result.stdout)
    assert [d["reason"] for d in report["duplicates"]] == [
        "a second 'manufactured' record of the serial"
    ]
    assert len(components(db_path)) == 2


def test_a_conflicting_later_record_is_a_second_item_even_without_manufacture(
    tmp_path, run_cli, db_path
):
    assert run_cli("import", write_csv(tmp_path / "a.csv", [beretta()])).exit_code == 0
    imported = beretta(event="imported", event_date="2022-01-01", country_of_manufacture="US")
    imported |= {"import_country": "DE", "import_year": "2022"}
    result = run_cli("import", write_csv(tmp_path / "b.csv", [imported]), "--json")
    report = json.loads(result.stdout)
    assert "country of manufacture US vs IT" in report["duplicates"][0]["reason"]
    assert [c[0] for c in components(db_path)] == [1, 2]


def test_records_of_a_withdrawn_item_do_not_absorb_new_rows(tmp_path, run_cli, db_path):
    assert run_cli("import", write_csv(tmp_path / "a.csv", [beretta()])).exit_code == 0
    conn = connect(db_path)
    conn.execute(
        "INSERT INTO withdrawals (batch_id, reason, operator, withdrawn_at) "
        "VALUES (1, 'wrong file', 'clerk', '2024-01-01')"
    )
    conn.close()
    result = run_cli("import", write_csv(tmp_path / "b.csv", [beretta(reference="X")]), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["duplicates"] == []  # the withdrawn one is no candidate
    assert [c[0] for c in components(db_path)] == [1, 2]


def test_a_registry_from_before_migration_five_keeps_everything(tmp_path, run_cli, db_path):
    from firetrace.registry import db as registry_db

    # Build a version-4 registry with the migrations as they were, and fill it.
    conn = sqlite3.connect(db_path, isolation_level=None)
    for number, script in registry_db.MIGRATIONS:
        if number <= 4:
            conn.executescript(f"BEGIN; {script}; COMMIT;")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '4')")
    conn.execute("INSERT INTO parties (norm_name, name) VALUES ('BERETTA', 'Beretta')")
    conn.execute(
        "INSERT INTO batches (source, sha256, imported_at, rows) VALUES ('old', 'x', 't', 2)"
    )
    conn.execute(
        "INSERT INTO components (maker_id, kind, control, serial, serial_norm, serial_fold, "
        "serial_skel, model, year_of_manufacture, batch_id) "
        "VALUES (1, 'frame', 1, 'l-123o5', 'L123O5', '112305', '112305', '92FS', 2019, 1)"
    )
    conn.execute("INSERT INTO firearms (control_component_id, batch_id) VALUES (1, 1)")
    for day in ("2019-05-02", "2020-01-01"):
        conn.execute(
            "INSERT INTO events (component_id, firearm_id, event, event_date, batch_id, row_key) "
            "VALUES (1, 1, 'sold', ?, 1, ?)",
            (day, day.encode()),
        )
    conn.close()
    before = count(db_path, "events"), count(db_path, "components")
    conn = connect(db_path)  # migrates
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == (
        str(registry_db.latest_version())
    )
    row = conn.execute(
        "SELECT id, serial, serial_norm, serial_fold, serial_skel, model, year_of_manufacture "
        "FROM components"
    ).fetchone()
    assert row == (1, "l-123o5", "L123O5", "112305", "112305", "92FS", 2019)
    assert (count(db_path, "events"), count(db_path, "components")) == before
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")] == [1, 2]
    conn.close()
    traced = json.loads(run_cli("trace", "L123O5", "--json", "--purpose", "C").stdout)
    assert traced["matches"][0]["component_id"] == 1
    assert len(traced["matches"][0]["events"]) == 2
