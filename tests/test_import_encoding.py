"""`import --encoding`: a CSV saved by Excel on Windows (cp1252) imports with its
accents intact; without the option the error says which option reads it."""

from __future__ import annotations

import json

import pytest

HEADER = "manufacturer,serial,event,event_date,country_of_manufacture,party,notes\r\n"


def cp1252_batch(path, rows: int = 2):
    lines = [HEADER] + [
        f"Glock,ZX{1000 + i},manufactured,2020-01-01,AT,Müller Waffen,Preis 12 € café\r\n"
        for i in range(rows)
    ]
    path.write_bytes("".join(lines).encode("cp1252"))
    return path


def party_of(run_cli, serial: str) -> dict:
    document = json.loads(run_cli("trace", serial, "--exact", "--json").stdout)
    return document["matches"][0]["events"][0]


def test_cp1252_imports_with_accents_intact(tmp_path, run_cli):
    batch = cp1252_batch(tmp_path / "excel.csv")
    result = run_cli("import", batch, "--encoding", "cp1252")
    assert result.exit_code == 0, result.stderr
    event = party_of(run_cli, "ZX1000")
    assert event["party"] == "Müller Waffen"


def test_without_the_option_the_error_names_it(tmp_path, run_cli, db_path):
    batch = cp1252_batch(tmp_path / "excel.csv")
    result = run_cli("import", batch)
    assert result.exit_code == 2
    assert "line 2: encoding: not valid UTF-8" in result.stderr
    assert "--encoding cp1252" in " ".join(result.stderr.split())
    assert not db_path.exists() or run_cli("trace", "ZX1000").exit_code == 1


def test_json_lines_in_latin_1(tmp_path, run_cli):
    batch = tmp_path / "b.jsonl"
    record = {
        "manufacturer": "Glock",
        "serial": "ZX2000",
        "event": "manufactured",
        "event_date": "2020-01-01",
        "country_of_manufacture": "AT",
        "party": "Société Générale d'Armes",
    }
    batch.write_bytes((json.dumps(record, ensure_ascii=False) + "\n").encode("latin-1"))
    assert run_cli("import", batch, "--encoding", "latin-1").exit_code == 0
    assert party_of(run_cli, "ZX2000")["party"] == "Société Générale d'Armes"


@pytest.mark.parametrize("name", ["utf-16", "utf-32"])
def test_encodings_that_are_not_ascii_compatible_are_refused(tmp_path, run_cli, name):
    batch = cp1252_batch(tmp_path / "excel.csv")
    result = run_cli("import", batch, "--encoding", name)
    assert result.exit_code == 2 and "not ASCII-compatible" in result.stderr


def test_parallel_read_decodes_the_same(tmp_path, run_cli, monkeypatch):
    batch = cp1252_batch(tmp_path / "excel.csv", rows=400)
    monkeypatch.setenv("FIRETRACE_IMPORT_WORKERS", "2")
    result = run_cli("import", batch, "--encoding", "cp1252", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 400
    assert party_of(run_cli, "ZX1399")["party"] == "Müller Waffen"
