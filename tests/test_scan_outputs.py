"""`scan` never overwrites earlier results silently: the JSONL, CSV, CASE file and
the manifest a report cites are refused when they exist, unless --force; --resume
is still the way to continue a scan (issue 16, item 4; the guard is outputs.py)."""

from __future__ import annotations

import json

import pytest

from tests.test_scan_fixtures import tube_stl


@pytest.fixture
def evidence(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "tube.stl").write_bytes(tube_stl())
    return folder


def scan(run_cli, evidence, *options):
    return run_cli("scan", evidence, "-j", "1", *options)


def test_existing_results_and_manifest_are_kept_without_force(tmp_path, evidence, run_cli):
    out = tmp_path / "case.jsonl"
    manifest = tmp_path / "case.manifest.json"
    assert scan(run_cli, evidence, "--jsonl", out).exit_code == 1
    before = out.read_bytes(), manifest.read_bytes()
    again = scan(run_cli, evidence, "--jsonl", out)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert (out.read_bytes(), manifest.read_bytes()) == before


def test_a_manifest_left_alone_is_refused_too(tmp_path, evidence, run_cli):
    out = tmp_path / "case.jsonl"
    scan(run_cli, evidence, "--jsonl", out)
    manifest = tmp_path / "case.manifest.json"
    cited = manifest.read_bytes()
    out.unlink()  # the results moved away; the manifest a report cites stays
    again = scan(run_cli, evidence, "--jsonl", out)
    assert again.exit_code == 2 and "manifest" in again.stderr
    assert manifest.read_bytes() == cited and not out.exists()


@pytest.mark.parametrize("option", ["--csv", "--case"])
def test_csv_and_case_outputs(tmp_path, evidence, run_cli, option):
    target = tmp_path / "results.out"
    target.write_text("an earlier result\n")
    assert scan(run_cli, evidence, option, target).exit_code == 2
    assert target.read_text() == "an earlier result\n"
    assert scan(run_cli, evidence, option, target, "--force").exit_code == 1
    assert target.read_text() != "an earlier result\n"


def test_force_replaces_and_resume_continues(tmp_path, evidence, run_cli):
    out = tmp_path / "case.jsonl"
    scan(run_cli, evidence, "--jsonl", out)
    (evidence / "second.stl").write_bytes(tube_stl(60))
    resumed = scan(run_cli, evidence, "--resume", out)
    assert resumed.exit_code == 1, resumed.stderr
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    assert sorted(p.rsplit("/", 1)[-1] for p in paths) == ["second.stl", "tube.stl"]
    forced = scan(run_cli, evidence, "--jsonl", out, "--force")
    assert forced.exit_code == 1
    assert len(out.read_text().splitlines()) == 2
