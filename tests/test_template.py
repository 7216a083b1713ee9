"""`firetrace template`: an empty batch with its header and one example row per event
kind, valid under every marking profile; and the reference text in --help."""

from __future__ import annotations

import csv
import json

import pytest

from firetrace.registry.validate import profile_names
from firetrace.registry.vocabulary import RECORD_FIELDS, load_vocabulary


def test_one_example_row_per_event_kind(tmp_path, run_cli):
    out = tmp_path / "batch.csv"
    result = run_cli("template", out)
    assert result.exit_code == 0, result.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert tuple(reader.fieldnames) == RECORD_FIELDS
    events = [row["event"] for row in rows]
    assert sorted(events) == sorted(load_vocabulary().events)  # each kind exactly once


@pytest.mark.parametrize("profile", profile_names())
def test_the_examples_import_under_every_profile(tmp_path, run_cli, profile):
    out = tmp_path / "batch.csv"
    run_cli("template", out)
    result = run_cli("import", out, "--profile", profile, "--dry-run", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["status"] == "valid"


def test_json_lines_template_imports_and_traces(tmp_path, run_cli):
    out = tmp_path / "batch.jsonl"
    assert run_cli("template", out).exit_code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == len(load_vocabulary().events)
    assert set(json.loads(lines[0])) == set(RECORD_FIELDS)
    assert run_cli("import", out).exit_code == 0
    traced = run_cli("trace", "EXA000101", "--json")
    assert json.loads(traced.stdout)["matches"][0]["status"] == "destroyed"


def test_header_only_and_stdout(tmp_path, run_cli):
    result = run_cli("template", "--header-only")
    assert result.exit_code == 0
    assert result.stdout == ",".join(RECORD_FIELDS) + "\n"
    assert run_cli("template").stdout.count("\n") == 1 + len(load_vocabulary().events)


def test_an_existing_file_is_kept_without_force(tmp_path, run_cli):
    out = tmp_path / "batch.csv"
    out.write_text("my own rows\n")
    result = run_cli("template", out)
    assert result.exit_code == 2 and "--force" in result.stderr
    assert out.read_text() == "my own rows\n"
    assert run_cli("template", out, "--force").exit_code == 0
    assert out.read_text().startswith("manufacturer,serial,")


def test_import_help_lists_every_column_and_points_to_template(run_cli):
    text = " ".join(run_cli("import", "--help").stdout.split())
    for column in RECORD_FIELDS:
        assert column in text, column
    for required in ("manufacturer*", "serial*", "event*", "event_date*"):
        assert required in text
    assert "firetrace template" in text


def test_trace_help_explains_the_wildcards(run_cli):
    text = " ".join(run_cli("trace", "--help").stdout.split())
    assert "? for one character that cannot be read" in text
    assert "* for a run of any length" in text
