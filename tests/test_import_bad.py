"""Bad batches change nothing: invalid rows are all named (`line N: field: reason`,
exit 1, also as CSV with --errors); unreadable files (missing, wrong encoding,
empty, bad header, truncated, hostile) are one-line errors with exit 2."""

from __future__ import annotations

import csv
import json

import pytest
from test_registry_support import batch_row, registry_snapshot, write_csv


@pytest.fixture
def seeded(tmp_path, run_cli, db_path):
    """A registry that already holds one batch, and its snapshot."""
    good = write_csv(tmp_path / "good.csv", [batch_row(serial="ZZ9001")])
    assert run_cli("import", good).exit_code == 0
    return registry_snapshot(db_path)


def test_bad_rows_are_all_named_and_nothing_changes(tmp_path, run_cli, db_path, seeded):
    rows = [
        batch_row(serial="OK1001"),  # line 2: fine
        batch_row(serial="OK1002", event_date="2999-01-01"),  # 3: future
        batch_row(serial="OK1003", event_date="2021-02-30"),  # 4: no such day
        batch_row(serial="OK1004", country_of_manufacture="XY"),  # 5: unknown country
        batch_row(serial="000-000"),  # 6: all zeros
        batch_row(serial="ABCDEF"),  # 7: letters only
        batch_row(serial="A" * 15 + "1" * 10),  # 8: too long
        batch_row(serial="OK1009", event="borrowed"),  # 9: unknown event
        batch_row(serial="OK1010", year_of_manufacture="20x1"),  # 10: bad year
        batch_row(serial="OK1011", event_date="2019-01-01", year_of_manufacture="2020"),  # 11
        batch_row(serial="OK1012", component="stock"),  # 12: unknown component
        batch_row(serial="OK1013"),  # 13: fine
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("Glock,OK1014,frame\n")  # 14: ragged
    errors_csv = tmp_path / "errors.csv"
    result = run_cli("import", path, "--errors", errors_csv)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    expected = {
        3: "event_date",
        4: "event_date",
        5: "country_of_manufacture",
        6: "serial",
        7: "serial",
        8: "serial",
        9: "event",
        10: "year_of_manufacture",
        11: "event_date",
        12: "component",
        14: "row",
    }
    for line, field in expected.items():
        assert f"line {line}: {field}: " in result.stdout, (line, result.stdout)
    assert "line 2:" not in result.stdout and "line 13:" not in result.stdout
    assert "nothing was imported" in result.stderr
    assert registry_snapshot(db_path) == seeded
    with open(errors_csv, newline="", encoding="utf-8") as fh:
        listed = list(csv.DictReader(fh))  # a rejects file: line_number, msg, the row
    assert {(int(r["line_number"]), r["msg"].split(": ")[0]) for r in listed} == set(
        expected.items()
    )
    assert {r["line_number"]: r["serial"] for r in listed}["7"] == "ABCDEF"


def test_json_output_lists_errors(tmp_path, run_cli, seeded):
    path = write_csv(tmp_path / "bad.csv", [batch_row(country_of_manufacture="QQ")])
    result = run_cli("import", path, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "rejected" and doc["error_count"] == 1
    assert doc["errors"][0].startswith("line 2: country_of_manufacture:")


def test_historic_country_codes_are_accepted(tmp_path, run_cli):
    rows = [
        batch_row(
            serial="SU1001",
            country_of_manufacture="SU",
            year_of_manufacture="1980",
            event_date="1980-05-05",
        ),
        batch_row(
            serial="YU1001",
            country_of_manufacture="YU",
            year_of_manufacture="1985",
            event_date="1985-05-05",
        ),
    ]
    assert run_cli("import", write_csv(tmp_path / "h.csv", rows)).exit_code == 0


def test_unknown_column_is_exit_2_naming_it(tmp_path, run_cli, db_path, seeded):
    columns = ["manufacturer", "serial", "event", "event_date", "colour"]
    path = write_csv(tmp_path / "b.csv", [{**batch_row(), "colour": "red"}], columns=columns)
    result = run_cli("import", path)
    assert result.exit_code == 2
    assert "line 1: colour: unknown column" in result.stderr
    assert registry_snapshot(db_path) == seeded


def test_missing_required_column_is_exit_2(tmp_path, run_cli):
    path = write_csv(tmp_path / "b.csv", [batch_row()], columns=["manufacturer", "serial", "event"])
    result = run_cli("import", path)
    assert result.exit_code == 2 and "event_date" in result.stderr


def test_latin1_bytes_are_exit_2_naming_the_line(tmp_path, run_cli, db_path, seeded):
    good = write_csv(tmp_path / "b.csv", [batch_row(serial=f"AB{n}") for n in range(1001, 1005)])
    data = good.read_bytes().replace(b"AB1003", "AB1003 Müller".encode("latin-1"))
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    result = run_cli("import", path)
    assert result.exit_code == 2
    assert "line 4: encoding: not valid UTF-8" in result.stderr
    assert "Traceback" not in result.stderr
    assert registry_snapshot(db_path) == seeded


def test_utf16_file_is_exit_2(tmp_path, run_cli, db_path, seeded):
    good = write_csv(tmp_path / "b.csv", [batch_row()])
    path = tmp_path / "utf16.csv"
    path.write_bytes(good.read_text(encoding="utf-8").encode("utf-16"))
    result = run_cli("import", path)
    assert result.exit_code == 2 and "UTF-16" in result.stderr
    assert registry_snapshot(db_path) == seeded


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b"manufacturer,serial,event,event_date,country_of_manufacture\n", "no rows"),
        (b"manufacturer,,event\nGlock,AB1,manufactured\n", "column 2 has no name"),
        (b"serial,serial,event,event_date\n", "appears twice"),
    ],
)
def test_empty_and_headerless_files_are_exit_2(tmp_path, run_cli, content, message):
    path = tmp_path / "b.csv"
    path.write_bytes(content)
    result = run_cli("import", path)
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr


def test_missing_file_is_exit_2(tmp_path, run_cli):
    result = run_cli("import", tmp_path / "nope.csv")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_truncated_files(tmp_path, run_cli, db_path, seeded):
    good = write_csv(
        tmp_path / "b.csv", [batch_row(serial=f"AB{n}", notes="x") for n in range(1001, 1004)]
    )
    data = good.read_bytes()
    cut_row = tmp_path / "cut.csv"
    cut_row.write_bytes(data[: data.rindex(b"AB1003") + 6])  # last row stops after the serial
    result = run_cli("import", cut_row)
    assert result.exit_code == 1 and "line 4: row: has 2 fields" in result.stdout
    open_quote = tmp_path / "quote.csv"
    open_quote.write_bytes(
        data + b'Glock,AB1009,frame,,,,,,AT,2020,,,manufactured,2020-01-01,,,,,"unclosed\n'
    )
    result = run_cli("import", open_quote)
    assert result.exit_code == 2 and "quote" in result.stderr
    broken_xlsx = tmp_path / "b.xlsx"
    broken_xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    result = run_cli("import", broken_xlsx)
    assert result.exit_code == 2 and "XLSX" in result.stderr
    assert registry_snapshot(db_path) == seeded


def test_oversized_values_and_lines_are_bounded(tmp_path, run_cli, db_path, seeded):
    big_field = write_csv(tmp_path / "a.csv", [batch_row(model="M" * 5000)])
    result = run_cli("import", big_field)
    assert result.exit_code == 1 and "line 2: model: 5000 characters" in result.stdout
    huge_line = tmp_path / "b.csv"
    huge_line.write_bytes(b"manufacturer,serial,event,event_date\nGlock,AB1," + b"x" * (2 << 20))
    result = run_cli("import", huge_line)
    assert result.exit_code == 2 and "line 2" in result.stderr and "longer than" in result.stderr
    assert registry_snapshot(db_path) == seeded


def test_malicious_content_is_neutralised(tmp_path, run_cli, db_path, seeded):
    rows = [
        batch_row(serial="=cmd|' /C calc'!A0"),
        batch_row(serial="AB1002", notes="\x1b[31mred\x1b[0m"),
        batch_row(serial="AB1003", model="[bold red]markup[/]", event="+SUM(A1)"),
    ]
    errors_csv = tmp_path / "errors.csv"
    result = run_cli("import", write_csv(tmp_path / "m.csv", rows), "--errors", errors_csv)
    assert result.exit_code == 1
    assert "line 2: serial:" in result.stdout
    assert "line 3: notes: contains a control character" in result.stdout
    assert "\x1b" not in result.stdout
    assert "line 4: event:" in result.stdout
    with open(errors_csv, newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert registry_snapshot(db_path) == seeded


def test_firearm_key_without_control_component(tmp_path, run_cli, db_path, seeded):
    rows = [batch_row(serial="BR1001", component="barrel", firearm="K9")]
    result = run_cli("import", write_csv(tmp_path / "k.csv", rows))
    assert result.exit_code == 1
    assert "line 2: firearm: key 'K9' has no control component row" in result.stdout
    assert registry_snapshot(db_path) == seeded


def test_bad_jsonl_lines_are_row_errors(tmp_path, run_cli, db_path, seeded):
    good = json.dumps(
        {
            "manufacturer": "Glock",
            "serial": "AB1001",
            "event": "manufactured",
            "event_date": "2020-01-01",
            "country_of_manufacture": "AT",
        }
    )
    path = tmp_path / "b.jsonl"
    path.write_text(good + '\n{"manufacturer": "Glock", "serial": \n[1, 2]\n', encoding="utf-8")
    result = run_cli("import", path)
    assert result.exit_code == 1
    assert "line 2: row: not valid JSON" in result.stdout
    assert "line 3: row: not a JSON object" in result.stdout
    assert registry_snapshot(db_path) == seeded


def test_json_array_and_unwritable_errors_file(tmp_path, run_cli):
    array = tmp_path / "b.json"
    array.write_text('[{"manufacturer": "Glock"}]\n', encoding="utf-8")
    result = run_cli("import", array)
    assert result.exit_code == 2 and "JSON array" in result.stderr
    good = write_csv(tmp_path / "g.csv", [batch_row()])
    result = run_cli("import", good, "--errors", tmp_path / "no" / "such" / "dir.csv")
    assert result.exit_code == 2 and "--errors" in result.stderr
    assert "Traceback" not in result.stderr
