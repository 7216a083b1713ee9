"""`firetrace import`: the sample batch, formats (CSV with sniffed delimiters,
JSON Lines, XLSX), profiles, dry runs, re-imports and overlapping batches."""

from __future__ import annotations

import json

import pytest
from test_registry_support import batch_row, count, registry_snapshot, write_csv

from firetrace.paths import samples_dir
from firetrace.registry.parties import spellings

SAMPLE = samples_dir() / "batch.csv"


def test_sample_batch_imports(run_cli, db_path):
    result = run_cli("import", SAMPLE, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "imported" and doc["rows"] == 41
    assert doc["counts"]["events"] == 41
    assert doc["counts"]["components"] == count(db_path, "components") == 17
    # Alias spellings of one maker are one party: GLOCK GmbH / Glock / Glock Ges.m.b.H.
    import sqlite3

    conn = sqlite3.connect(db_path)
    glock = conn.execute(
        "SELECT count(DISTINCT c.maker_id) FROM components c WHERE c.serial LIKE 'BKLM%'"
    ).fetchone()[0]
    assert glock == 1
    (glock_id,) = conn.execute("SELECT id FROM parties WHERE norm_name = 'GLOCK'").fetchone()
    names = spellings(conn, glock_id)
    assert len(names) >= 3 and len(set(names)) == len(names)
    # Calibre aliases are folded: '9mm Luger', '9 mm Luger', '9x19' -> one designation.
    calibres = {
        r[0] for r in conn.execute("SELECT calibre FROM components WHERE serial LIKE 'BKLM%'")
    }
    assert calibres == {"9x19mm"}


def test_reimport_is_a_no_op(run_cli, db_path):
    assert run_cli("import", SAMPLE).exit_code == 0
    before = registry_snapshot(db_path)
    again = run_cli("import", SAMPLE)
    assert again.exit_code == 0
    assert "already imported as batch 1" in again.stdout
    assert registry_snapshot(db_path) == before


def test_overlapping_batch_adds_only_new_events(tmp_path, run_cli, db_path):
    first = [batch_row(serial="AB1001"), batch_row(serial="AB1002")]
    assert run_cli("import", write_csv(tmp_path / "a.csv", first)).exit_code == 0
    second = [*first, batch_row(serial="AB1002", event="sold", event_date="2021-05-05")]
    result = run_cli("import", write_csv(tmp_path / "b.csv", second), "--json")
    doc = json.loads(result.stdout)
    assert doc["status"] == "imported"
    assert doc["counts"]["events"] == 1 and doc["counts"]["duplicate_events"] == 2
    assert count(db_path, "events") == 3
    assert count(db_path, "batches") == 2


def test_dry_run_validates_and_changes_nothing(run_cli, db_path):
    from firetrace.registry.db import connect

    connect(db_path).close()
    before = registry_snapshot(db_path)
    result = run_cli("import", SAMPLE, "--dry-run", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["status"] == "valid" and doc["counts"]["components"] == 17
    assert registry_snapshot(db_path) == before


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_sniffed(tmp_path, run_cli, db_path, delimiter):
    rows = [batch_row(serial="AB1001", notes="a, b; c"), batch_row(serial="AB1002")]
    path = write_csv(tmp_path / "b.csv", rows, delimiter=delimiter)
    result = run_cli("import", path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert count(db_path, "components") == 2


def test_utf8_bom_and_header_case_are_accepted(tmp_path, run_cli, db_path):
    text = "\ufeffManufacturer,SERIAL,Event,Event_Date,Country_of_Manufacture\n"
    text += "Glock,AB1001,manufactured,2020-01-01,AT\n"
    path = tmp_path / "b.csv"
    path.write_text(text, encoding="utf-8")
    assert run_cli("import", path).exit_code == 0
    assert count(db_path, "components") == 1


def test_jsonl_batch(tmp_path, run_cli, db_path):
    path = tmp_path / "b.jsonl"
    rows = [
        {
            "manufacturer": "Glock",
            "serial": "AB1001",
            "event": "manufactured",
            "event_date": "2020-01-01",
            "country_of_manufacture": "AT",
            "year_of_manufacture": 2020,
        },
        {
            "Manufacturer": "GLOCK GmbH",
            "serial": "AB1001",
            "event": "sold",
            "event_date": "2020-02-01",
            "party": "Dealer One",
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = run_cli("import", path, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["format"] == "jsonl"
    assert count(db_path, "components") == 1 and count(db_path, "events") == 2


def test_xlsx_batch_first_sheet(tmp_path, run_cli, db_path):
    from datetime import date

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "manufacturer",
            "serial",
            "event",
            "event_date",
            "country_of_manufacture",
            "year_of_manufacture",
        ]
    )
    sheet.append(["Glock", "AB1001", "manufactured", date(2020, 1, 1), "AT", 2020])
    sheet.append(["Glock", 123456, "manufactured", "2020-01-02", "AT", 2020])
    other = workbook.create_sheet("ignored")
    other.append(["not", "a", "batch"])
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    result = run_cli("import", path, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["format"] == "xlsx"
    import sqlite3

    serials = {r[0] for r in sqlite3.connect(db_path).execute("SELECT serial FROM components")}
    assert serials == {"AB1001", "123456"}


def test_ignore_unknown_skips_extra_columns(tmp_path, run_cli, db_path):
    columns = ["manufacturer", "serial", "event", "event_date", "country_of_manufacture", "colour"]
    rows = [{**batch_row(), "colour": "black"}]
    path = write_csv(tmp_path / "b.csv", rows, columns=columns)
    assert run_cli("import", path).exit_code == 2
    assert run_cli("import", path, "--ignore-unknown").exit_code == 0
    assert count(db_path, "components") == 1


def test_profiles_differ(tmp_path, run_cli, db_path):
    no_year = write_csv(tmp_path / "a.csv", [batch_row(year_of_manufacture="")])
    assert run_cli("import", no_year, "--profile", "iti", "--dry-run").exit_code == 0
    eu = run_cli("import", no_year, "--profile", "eu", "--dry-run")
    assert eu.exit_code == 1 and "year_of_manufacture" in eu.stdout
    no_model = write_csv(tmp_path / "b.csv", [batch_row(model="")])
    us = run_cli("import", no_model, "--profile", "us", "--dry-run")
    assert us.exit_code == 1 and "line 2: model" in us.stdout
    cyrillic = write_csv(tmp_path / "c.csv", [batch_row(serial="ЖА1234")])
    assert run_cli("import", cyrillic, "--profile", "eu", "--dry-run").exit_code == 0
    assert run_cli("import", cyrillic, "--profile", "iti", "--dry-run").exit_code == 1
    assert run_cli("import", no_year, "--profile", "nope").exit_code == 2


def test_import_is_audited(run_cli, db_path):
    assert run_cli("import", SAMPLE, "--operator", "clerk7", "--purpose", "BATCH-42").exit_code == 0
    import sqlite3

    rows = (
        sqlite3.connect(db_path).execute("SELECT operator, purpose, command FROM audit").fetchall()
    )
    assert rows == [("clerk7", "BATCH-42", "import")]


def test_firearm_key_links_parts_and_barrel_moves(tmp_path, run_cli, db_path):
    rows = [
        batch_row(
            manufacturer="Acme Arms",
            serial="FCU100",
            component="fire_control_unit",
            firearm="A",
            event_date="2020-01-01",
        ),
        batch_row(
            manufacturer="Acme Arms",
            serial="BR100",
            component="barrel",
            firearm="A",
            event_date="2020-01-01",
        ),
        batch_row(
            manufacturer="Acme Arms",
            serial="FCU200",
            component="fire_control_unit",
            firearm="B",
            event_date="2020-01-02",
        ),
        batch_row(
            manufacturer="Acme Arms",
            serial="BR100",
            component="barrel",
            firearm="B",
            event="assembled",
            event_date="2022-06-01",
        ),
    ]
    assert run_cli("import", write_csv(tmp_path / "b.csv", rows)).exit_code == 0
    import sqlite3

    spans = (
        sqlite3.connect(db_path)
        .execute(
            "SELECT cc.serial, a.installed, a.removed FROM assemblies a "
            "JOIN firearms f ON f.id = a.firearm_id "
            "JOIN components cc ON cc.id = f.control_component_id "
            "ORDER BY a.installed"
        )
        .fetchall()
    )
    # Installing the barrel in B closes its assembly in A on the same day.
    assert spans == [("FCU100", "2020-01-01", "2022-06-01"), ("FCU200", "2022-06-01", None)]


def test_us_profile_serial_unique_per_licensee(tmp_path, run_cli, db_path):
    rows = [
        batch_row(manufacturer="Ruger", serial="US1001", country_of_manufacture="US"),
        batch_row(
            manufacturer="Ruger", serial="US1001", component="receiver", country_of_manufacture="US"
        ),
        # A part marked with its frame's serial is not a second firearm.
        batch_row(
            manufacturer="Ruger", serial="US1001", component="barrel", country_of_manufacture="US"
        ),
    ]
    path = write_csv(tmp_path / "us.csv", rows)
    assert run_cli("import", path, "--profile", "iti", "--dry-run").exit_code == 0
    result = run_cli("import", path, "--profile", "us")
    assert result.exit_code == 1
    assert "line 2: serial:" in result.stdout and "line 3: serial:" in result.stdout
    assert "line 4:" not in result.stdout


def test_progress_reports_reach_the_end(tmp_path, db_path):
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    rows = [batch_row(serial=f"AB{n}") for n in range(1000, 1600)]
    path = write_csv(tmp_path / "p.csv", rows)
    seen: list[tuple[int, int]] = []
    result = import_batch(
        connect(db_path), path, progress=lambda done, total: seen.append((done, total))
    )
    assert result.status == "imported" and result.rows == 600
    assert seen and seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_eu_profile_requires_marking_on_essential_components(tmp_path, run_cli):
    rows = [
        batch_row(serial="EU1001", firearm="K1"),
        batch_row(serial="EUB1001", component="barrel", firearm="K1", year_of_manufacture=""),
    ]
    path = write_csv(tmp_path / "eu.csv", rows)
    assert run_cli("import", path, "--profile", "iti", "--dry-run").exit_code == 0
    result = run_cli("import", path, "--profile", "eu", "--dry-run")
    assert result.exit_code == 1
    assert "line 3: year_of_manufacture: required on a manufactured row" in result.stdout


def test_import_says_what_it_is_doing_step_by_step(tmp_path, db_path):
    from firetrace.registry.importer import import_file

    steps: list[str] = []
    result = import_file(db_path, SAMPLE, operator="clerk", step=steps.append)
    assert result.status == "imported"
    assert steps == [
        "reading and validating",
        "checking firearm keys",
        "matching rows to components",
        "writing parties",
        "writing components",
        "writing firearms and events",
        "writing assemblies",
        "checking for duplicate serials",
        "committing",
    ]
    # A large batch also indexes its serials in bulk; a rejected one stops after reading.
    big = write_csv(tmp_path / "big.csv", [batch_row(serial=f"ZX{n:06d}") for n in range(5_000)])
    steps.clear()
    assert import_file(db_path, big, step=steps.append).status == "imported"
    assert "indexing serials" in steps and steps[-1] == "committing"
    bad = write_csv(tmp_path / "bad.csv", [batch_row(event_date="not a date")])
    steps.clear()
    assert import_file(db_path, bad, step=steps.append).status == "rejected"
    assert steps == ["reading and validating"]
