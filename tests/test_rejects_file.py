"""`import --errors FILE` writes a rejects file in the manner of csvkit's csvclean:
line_number, msg, then the bad row's own values under the batch's header. Fixed,
it imports on its own, or patches the batch with `--fixes` (imported whole)."""

from __future__ import annotations

import csv
import json

import pytest

HEADER = "manufacturer,serial,component,firearm,type,country_of_manufacture,event,event_date,notes"
BATCH = [
    "Glock,AB1001,frame,F1,pistol,AT,manufactured,2020-01-01,=HYPERLINK(x)",  # 2: fine
    "Glock,BR1001,barrel,F1,pistol,AT,manufactured,2020-01-01,",  # 3: fine, needs F1's frame
    "Glock,AB1002,frmae,,pistl,GER,stolen,2020-13-01,-5 rounds",  # 4: four problems
    'Glock,AB1003,frame,,pistol,AT,manufactured,2020-01-01,"two\nlines"',  # 5-6: fine
    "Glock,AB1004,frame",  # 7: too few fields
]


def write_batch(path, rows=BATCH):
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def read_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def fix(rejects, changes: dict[str, dict[str, str]], out):
    """Edit a rejects file as a clerk would in a spreadsheet (cells kept as text)."""
    with open(rejects, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    for row in rows[1:]:
        row += [""] * (len(header) - len(row))
        for column, value in changes.get(row[0], {}).items():
            row[header.index(column)] = value
    with open(out, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return out


def test_the_rejects_file_holds_each_bad_row_with_its_reasons(tmp_path, run_cli, db_path):
    rejects = tmp_path / "rejects.csv"
    result = run_cli("import", write_batch(tmp_path / "b.csv"), "--errors", rejects)
    assert result.exit_code == 1
    rows = read_rows(rejects)
    with open(rejects, newline="", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == ["line_number", "msg", *HEADER.split(",")]
    assert [r["line_number"] for r in rows] == ["4", "7"]
    bad = rows[0]
    assert (bad["serial"], bad["component"], bad["type"]) == ("AB1002", "frmae", "pistl")
    assert bad["notes"] == "'-5 rounds"  # a spreadsheet would run it: neutralised
    reasons = ["component: 'frmae'", "did you mean 'frame'?", "type: 'pistl'"]
    reasons += ["'GER' is not an ISO 3166", "event: 'stolen'", "event_date: '2020-13-01'"]
    for reason in reasons:
        assert reason in bad["msg"], reason
    assert rows[1]["msg"] == "row: has 3 fields, the header has 9"
    assert rows[1]["serial"] == "AB1004" and rows[1]["notes"] == ""


def test_fixes_patch_the_batch_which_imports_whole(tmp_path, run_cli):
    batch = write_batch(tmp_path / "b.csv")
    rejects = tmp_path / "rejects.csv"
    run_cli("import", batch, "--errors", rejects)
    fixed = fix(
        rejects,
        {
            "4": {
                "component": "frame",
                "type": "pistol",
                "country_of_manufacture": "DE",
                "event": "manufactured",
                "event_date": "2020-12-01",
            },  # fmt: skip
            "7": {
                "type": "pistol",
                "country_of_manufacture": "AT",
                "event": "manufactured",
                "event_date": "2020-01-02",
            },  # fmt: skip
        },
        tmp_path / "fixed.csv",
    )
    result = run_cli("import", batch, "--fixes", fixed, "--json")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["status"] == "imported" and document["rows"] == 5
    assert document["counts"]["assemblies"] == 1  # F1's barrel found its frame
    traced = json.loads(run_cli("trace", "AB1002", "--exact", "--json").stdout)
    event = traced["matches"][0]["events"][0]
    assert event["notes"] == "-5 rounds"  # the neutralising apostrophe taken off again
    first = json.loads(run_cli("trace", "AB1001", "--exact", "--json").stdout)
    assert first["matches"][0]["events"][0]["notes"] == "=HYPERLINK(x)"


def test_a_fixed_rejects_file_imports_on_its_own(tmp_path, run_cli):
    rejects = tmp_path / "rejects.csv"
    run_cli("import", write_batch(tmp_path / "b.csv", BATCH[2:3]), "--errors", rejects)
    fixed = fix(
        rejects,
        {
            "2": {
                "component": "frame",
                "type": "pistol",
                "country_of_manufacture": "DE",
                "event": "reported_stolen",
                "event_date": "2020-12-01",
            }
        },  # fmt: skip
        tmp_path / "fixed.csv",
    )
    result = run_cli("import", fixed, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["rows"] == 1


def test_fixes_still_wrong_are_rejected_again_showing_the_fix(tmp_path, run_cli):
    batch = write_batch(tmp_path / "b.csv")
    rejects = tmp_path / "rejects.csv"
    run_cli("import", batch, "--errors", rejects)
    fixed = fix(rejects, {"4": {"component": "fram"}}, tmp_path / "fixed.csv")
    again = tmp_path / "rejects2.csv"
    result = run_cli("import", batch, "--fixes", fixed, "--errors", again)
    assert result.exit_code == 1
    rows = read_rows(again)
    assert rows[0]["line_number"] == "4" and rows[0]["component"] == "fram"


@pytest.mark.parametrize(
    "content, message",
    [
        (HEADER + "\nGlock,X1,frame,,,AT,manufactured,2020-01-01,\n", "not a rejects file"),
        (
            "line_number,msg," + HEADER + "\n99,x,Glock,X1,frame,,,AT,manufactured,2020-01-01,\n",
            "--fixes names line 99, where the batch has no row",
        ),  # fmt: skip
        ("line_number,msg,manufacturer\n4,x,Glock\n", "column 'serial' is missing"),
        (
            "line_number,msg," + HEADER + "\nfour,x,Glock,X1,frame,,,AT,manufactured,2020-01-01,\n",
            "is not a batch line number",
        ),  # fmt: skip
    ],
)
def test_bad_fixes_files_are_one_line_errors(tmp_path, run_cli, db_path, content, message):
    fixes = tmp_path / "fixes.csv"
    fixes.write_text(content)
    result = run_cli("import", write_batch(tmp_path / "b.csv"), "--fixes", fixes)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_rejects_file_may_not_be_the_fixes_being_read(tmp_path, run_cli):
    batch = write_batch(tmp_path / "b.csv")
    rejects = tmp_path / "rejects.csv"
    run_cli("import", batch, "--errors", rejects)
    before = rejects.read_bytes()
    result = run_cli("import", batch, "--fixes", rejects, "--errors", rejects, "--force")
    assert result.exit_code == 2 and rejects.read_bytes() == before


def test_xlsx_and_jsonl_batches_get_csv_rejects(tmp_path, run_cli):
    batch = tmp_path / "b.jsonl"
    batch.write_text(
        json.dumps(
            {
                "manufacturer": "Glock",
                "serial": "J1",
                "event": "stolen",
                "event_date": "2020-01-01",
                "country_of_manufacture": "AT",
            }
        )  # fmt: skip
        + "\nnot json\n"
    )
    rejects = tmp_path / "rejects.csv"
    assert run_cli("import", batch, "--errors", rejects).exit_code == 1
    rows = read_rows(rejects)
    assert [r["line_number"] for r in rows] == ["1", "2"]
    assert rows[0]["serial"] == "J1" and "reported_stolen" in rows[0]["msg"]
    assert "not valid JSON" in rows[1]["msg"]
