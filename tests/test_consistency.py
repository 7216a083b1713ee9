"""One spelling for one idea across commands: --min-verdict (same default, any
case) in scan and report, -m/--manufacturer wherever a registry command filters by
maker, --limit/-n for "how many to show" (dupes' old --show still works)."""

from __future__ import annotations

import json

import typer.main

from firetrace.cli import app
from firetrace.paths import samples_dir
from firetrace.verdicts import DEFAULT_MIN_VERDICT
from tests.test_scan_fixtures import FixedVerdict, scan_folder, tube_stl


def option(command_path: str, flag: str):
    command = typer.main.get_command(app)
    for word in command_path.split():
        command = command.commands[word]
    return next(p for p in command.params if flag in getattr(p, "opts", []))


def test_min_verdict_has_one_default_and_one_type():
    scan, report = option("scan", "--min-verdict"), option("report", "--min-verdict")
    assert scan.default == report.default == DEFAULT_MIN_VERDICT == "review"
    assert scan.type == report.type and scan.help == report.help


def test_min_verdict_any_case_in_scan_and_report(tmp_path, run_cli):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(tube_stl())
    summary, records = scan_folder(
        evidence, tmp_path, analyser=FixedVerdict("review", 0.4), min_verdict="Review"
    )
    assert summary.exit_code == 1 and len(records) == 1
    jsonl = tmp_path / "out" / "scan.jsonl"
    result = run_cli("report", jsonl, "--min-verdict", "HIGH", "-o", tmp_path / "r.html", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["cards"] == 0  # the review file is below HIGH


def test_manufacturer_is_m_on_every_registry_command_that_filters_by_maker():
    from tests.test_docs import command_paths

    found = []
    for path in command_paths():
        try:
            maker = option(path, "--manufacturer")
        except (StopIteration, KeyError):
            continue
        found.append(path)
        assert "-m" in maker.opts, path
    assert {"trace", "dupes"} <= set(found)


def test_limit_is_the_one_name_for_how_many(run_cli):
    for command in ("trace", "dupes", "report", "audit log"):
        assert {"--limit", "-n"} <= set(option(command, "--limit").opts), command
    assert option("dupes", "--show").hidden  # the old name, kept working, not advertised


def test_dupes_limit_and_old_show_mean_the_same(tmp_path, run_cli):
    batch = tmp_path / "dupes.csv"
    rows = [
        f"Glock,{serial},frame,pistol,AT,2020,manufactured,2020-01-0{day}"
        for day, serial in enumerate(["AB1001", "ABI001", "XY2002", "XY2O02"], 1)
    ]
    header = "manufacturer,serial,component,type,country_of_manufacture,year_of_manufacture,"
    batch.write_text(header + "event,event_date\n" + "\n".join(rows) + "\n")
    assert run_cli("import", batch).exit_code == 0
    by_limit = run_cli("dupes", "--limit", "1")
    by_show = run_cli("dupes", "--show", "1")
    assert by_limit.exit_code == by_show.exit_code == 1
    table = by_limit.stdout.split("compared in")[0]  # the timing after it differs
    assert table == by_show.stdout.split("compared in")[0]
    assert "1 more group(s)" in table


def test_a_dry_run_of_a_batch_already_imported_says_so(run_cli):
    batch = samples_dir() / "batch.csv"
    assert run_cli("import", batch).exit_code == 0
    again = run_cli("import", batch, "--dry-run", "--profile", "eu")
    assert again.exit_code == 0 and "already imported as batch 1" in again.stdout
    assert "Traceback" not in again.stderr
