"""The user's config file (default registry, operator, profile, policy file,
reference library), overridden by environment variables, overridden by flags;
`firetrace where` says what is used and why; references in their own database."""

from __future__ import annotations

import json
import sqlite3

import pytest

from firetrace.paths import samples_dir
from tests.test_scan_fixtures import tube_stl


@pytest.fixture
def config(tmp_path, monkeypatch):
    """Write the config file the tests' $FIRETRACE_CONFIG names."""
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir()
    monkeypatch.setenv("FIRETRACE_CONFIG", str(path))

    def write(text: str):
        path.write_text(text)
        return path

    return write


def audit_rows(db) -> list[tuple]:
    return sqlite3.connect(db).execute("SELECT command, operator FROM audit").fetchall()


def test_the_config_file_sets_registry_operator_and_profile(tmp_path, config, monkeypatch, run_cli):
    monkeypatch.delenv("FIRETRACE_DB")
    monkeypatch.delenv("FIRETRACE_OPERATOR")
    config('db = "registries/national.db"\noperator = "clerk from config"\nprofile = "eu"\n')
    result = run_cli("import", samples_dir() / "batch.csv", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["profile"] == "eu"
    db = tmp_path / "config" / "registries" / "national.db"  # relative to the config file
    assert audit_rows(db) == [("import", "clerk from config")]


def test_environment_beats_the_file_and_flags_beat_both(tmp_path, config, monkeypatch, run_cli):
    config(f'db = "{tmp_path / "from-config.db"}"\noperator = "config"\nprofile = "us"\n')
    monkeypatch.setenv("FIRETRACE_DB", str(tmp_path / "from-env.db"))
    monkeypatch.setenv("FIRETRACE_OPERATOR", "env")
    monkeypatch.setenv("FIRETRACE_PROFILE", "eu")
    first = run_cli("import", samples_dir() / "batch.csv", "--json")
    assert json.loads(first.stdout)["profile"] == "eu"
    assert audit_rows(tmp_path / "from-env.db") == [("import", "env")]
    flagged = tmp_path / "from-flag.db"
    second = run_cli("import", samples_dir() / "batch.csv", "--json", "--profile", "iti",
                     "--db", flagged, "--operator", "flag")  # fmt: skip
    assert json.loads(second.stdout)["profile"] == "iti"
    assert audit_rows(flagged) == [("import", "flag")]
    assert not (tmp_path / "from-config.db").exists()


def test_the_policy_file_from_the_config(tmp_path, config, run_cli):
    policy = tmp_path / "policy.toml"
    policy.write_text('[purpose]\nrequired_for = ["trace"]\n')
    config(f'policy = "{policy}"\n')
    assert run_cli("import", samples_dir() / "batch.csv").exit_code == 0
    refused = run_cli("trace", "58B200917")
    assert refused.exit_code == 2 and "purpose" in refused.stderr
    assert run_cli("trace", "58B200917", "--purpose", "CASE-1").exit_code == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ('operater = "x"\n', "unknown setting 'operater'; did you mean 'operator'?"),
        ("db = 5\n", "db must be a non-empty string"),
        ("db = [\n", "config file cannot be read"),
    ],
)
def test_a_bad_config_file_is_a_usage_error_naming_it(config, run_cli, text, message):
    path = config(text)
    result = run_cli("where")
    assert result.exit_code == 2
    assert str(path) in result.stderr and message in " ".join(result.stderr.split())


def test_where_says_what_is_used_and_why(tmp_path, config, monkeypatch, run_cli):
    path = config(f'refs_db = "{tmp_path / "lab-refs.db"}"\n')
    monkeypatch.setenv("FIRETRACE_PROFILE", "us")
    places = json.loads(run_cli("where", "--json", "--db", tmp_path / "x.db").stdout)
    assert places["config"] == {"value": str(path), "from": "exists"}
    assert places["registry"] == {"value": str(tmp_path / "x.db"), "from": "--db"}
    assert places["operator"] == {"value": "tester", "from": "$FIRETRACE_OPERATOR"}
    assert places["profile"] == {"value": "us", "from": "$FIRETRACE_PROFILE"}
    assert places["refs_db"] == {"value": str(tmp_path / "lab-refs.db"), "from": str(path)}
    assert places["rules"]["value"].endswith("rules") and places["rules"]["from"] == "bundled"
    assert not (tmp_path / "x.db").exists()  # where creates nothing
    human = run_cli("where")
    assert "registry" in human.stdout and "reference library" in human.stdout


def test_references_can_live_in_their_own_database(tmp_path, run_cli, db_path):
    part = tmp_path / "tube.stl"
    part.write_bytes(tube_stl())
    refs = tmp_path / "lab-refs.db"
    added = run_cli("refs", "add", part, "--label", "Tube", "--refs-db", refs, "--json")
    assert added.exit_code == 0, added.stderr
    assert not db_path.exists()  # the clerk's registry is untouched
    listed = json.loads(run_cli("refs", "list", "--json", "--refs-db", refs).stdout)
    assert [r["label"] for r in listed["references"]] == ["Tube"]
    inspected = json.loads(run_cli("inspect", part, "--json", "--refs-db", refs).stdout)
    assert inspected["verdict"] == "high" and inspected["reference_matches"][0]["label"] == "Tube"
    plain = json.loads(run_cli("inspect", part, "--json").stdout)
    assert plain["reference_matches"] == []


def test_the_reference_database_from_the_environment_serves_scan(tmp_path, run_cli, monkeypatch):
    part = tmp_path / "evidence" / "tube.stl"
    part.parent.mkdir()
    part.write_bytes(tube_stl())
    refs = tmp_path / "lab-refs.db"
    assert run_cli("refs", "add", part, "--label", "Tube", "--refs-db", refs).exit_code == 0
    monkeypatch.setenv("FIRETRACE_REFS_DB", str(refs))
    out = tmp_path / "scan.jsonl"
    assert run_cli("scan", part.parent, "--jsonl", out, "-j", "1").exit_code == 1
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["reference_matches"][0]["label"] == "Tube"
