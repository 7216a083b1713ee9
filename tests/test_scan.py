"""Scanning folders: nested containers with full ``!/`` paths, content sniffing
over names, special files, symlinks, permission errors, odd names, resume,
parallel workers, hash sets, filters, outputs and exit codes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile

import pytest
from test_scan_fixtures import FixedVerdict, block_stl, scan_folder, seven_zip, tube_stl, zip_bytes

from firetrace.forensics.evidence import read_evidence
from firetrace.forensics.session import ScanOptions, run_scan
from firetrace.forensics.writers import manifest_path


def test_zip_holding_7z_holding_stl_found_with_full_path(tmp_path):
    evidence = tmp_path / "evidence"
    (evidence / "docs").mkdir(parents=True)
    stl = tube_stl()
    inner = seven_zip({"cad/receiver.stl": stl, "notes.txt": b"shopping list"})
    (evidence / "docs" / "parts.zip").write_bytes(zip_bytes({"deep/nested.7z": inner}))
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [
        f"{evidence}/docs/parts.zip!/deep/nested.7z!/cad/receiver.stl"
    ]
    record = records[0]
    assert record["sha256"] == hashlib.sha256(stl).hexdigest()
    assert record["md5"] == hashlib.md5(stl).hexdigest()
    assert record["sha1"] == hashlib.sha1(stl).hexdigest()
    assert record["size"] == len(stl) and record["format"] == "stl"
    assert record["deleted"] is False and record["inode"] is None
    counts = summary.manifest["counts"]
    assert counts["archives"] == 2 and counts["candidates"] == 1 and counts["other"] == 1


def test_max_depth_stops_opening_and_reports_it(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    inner = seven_zip({"a.stl": tube_stl()})
    (evidence / "p.zip").write_bytes(zip_bytes({"n.7z": inner}))
    summary, records = scan_folder(evidence, tmp_path, max_depth=1)
    assert records == []
    skipped = summary.manifest["skipped"]
    assert [e["path"] for e in skipped] == [f"{evidence}/p.zip!/n.7z"]
    assert "nesting deeper than 1" in skipped[0]["reason"]


def test_renamed_stl_is_found_by_content(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "holiday.jpg").write_bytes(tube_stl())
    (evidence / "real.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(4000))
    (evidence / "letter.txt").write_text("Dear Sir, ...\n" * 100)
    _, records = scan_folder(evidence, tmp_path)
    assert [(r["path"], r["format"]) for r in records] == [(f"{evidence}/holiday.jpg", "stl")]


def test_permission_denied_is_reported_not_fatal(tmp_path, monkeypatch):
    # Tests run as root, who can read a chmod-000 file, so the denial is simulated:
    # os.open raises PermissionError for one evidence file, as it would for a user.
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "locked.stl").write_bytes(tube_stl())
    (evidence / "open.stl").write_bytes(block_stl())
    real_open = os.open

    def denying_open(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("locked.stl"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denying_open)
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/open.stl"]
    errors = summary.manifest["errors"]
    assert [e["path"] for e in errors] == [f"{evidence}/locked.stl"]
    assert "permission denied" in errors[0]["reason"]


def test_unlistable_folder_is_reported(tmp_path, monkeypatch):
    evidence = tmp_path / "e"
    (evidence / "private").mkdir(parents=True)
    (evidence / "a.stl").write_bytes(block_stl())
    real_scandir = os.scandir

    def denying_scandir(path):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", denying_scandir)
    summary, records = scan_folder(evidence, tmp_path)
    assert len(records) == 1
    assert summary.manifest["errors"][0]["path"] == f"{evidence}/private"


def test_non_utf8_file_name_is_scanned_and_reported(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    raw_name = os.fsencode(str(evidence)) + b"/caf\xe9-part.stl"  # Latin-1, not UTF-8
    with open(raw_name, "wb") as fh:
        fh.write(tube_stl())
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/caf\\xe9-part.stl"]
    warnings = summary.manifest["warnings"]
    assert warnings and "not valid UTF-8" in warnings[0]["reason"]
    # the JSONL is valid UTF-8 JSON throughout
    out = tmp_path / "out" / "scan.jsonl"
    out.read_bytes().decode("utf-8")
    # and the report can still re-read the file from the record's path
    assert read_evidence(records[0]["path"]) == tube_stl()


def test_symlinks_out_of_root_not_followed_and_loops_safe(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.stl").write_bytes(tube_stl())
    evidence = tmp_path / "e"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "sub" / "inside.stl").write_bytes(block_stl())
    (evidence / "escape").symlink_to(outside)
    (evidence / "escape_file.stl").symlink_to(outside / "secret.stl")
    (evidence / "sub" / "loop").symlink_to(evidence)
    (evidence / "sub" / "self").symlink_to(evidence / "sub" / "self")
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/sub/inside.stl"]
    assert summary.manifest["counts"]["symlinks"] == 4
    skipped = {e["path"] for e in summary.manifest["skipped"]}
    assert {f"{evidence}/escape", f"{evidence}/escape_file.stl"} <= skipped


def test_fifo_is_counted_and_never_opened(tmp_path, monkeypatch):
    evidence = tmp_path / "e"
    evidence.mkdir()
    os.mkfifo(evidence / "pipe")
    (evidence / "a.stl").write_bytes(block_stl())
    opened = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        opened.append(os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    summary, records = scan_folder(evidence, tmp_path)
    assert len(records) == 1
    assert not [p for p in opened if p.endswith("pipe")]
    assert summary.manifest["counts"]["special"] == 1
    assert "FIFO" in summary.manifest["skipped"][0]["reason"]


def test_resume_skips_finished_files(tmp_path, monkeypatch):
    evidence = tmp_path / "e"
    evidence.mkdir()
    for i in range(4):
        (evidence / f"part{i}.stl").write_bytes(tube_stl(length=40 + i))
    (evidence / "notes.txt").write_text("nothing here")
    (evidence / "a_evil.zip").write_bytes(zip_bytes({"../x.txt": b"x"}))
    out = tmp_path / "scan.jsonl"

    class Interrupting(FixedVerdict):
        calls = 0

        def analyse(self, fh, **kw):
            Interrupting.calls += 1
            if Interrupting.calls == 3:
                raise KeyboardInterrupt
            return super().analyse(fh, **kw)

    with pytest.raises(KeyboardInterrupt):
        run_scan(ScanOptions([str(evidence)], jsonl=out, workers=1), analyser=Interrupting())
    assert len(out.read_text().splitlines()) == 2
    assert json.loads(manifest_path(out).read_text())["interrupted"] is True

    seen = []

    class Recording(FixedVerdict):
        def analyse(self, fh, *, name, **kw):
            seen.append(name)
            return super().analyse(fh, name=name, **kw)

    summary = run_scan(ScanOptions([str(evidence)], resume=out, workers=1), analyser=Recording())
    assert seen == ["part2.stl", "part3.stl"]  # part0, part1 (and nothing else) were done
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["path"].rsplit("/", 1)[1] for r in records) == [
        f"part{i}.stl" for i in range(4)
    ]
    manifest = summary.manifest
    # a_evil.zip, notes.txt, part0 and part1 were finished (the journal knows every unit)
    assert manifest["resumed"]["units_already_done"] == 4
    assert manifest["resumed"]["records_carried"] == 2
    assert manifest["counts"]["by_format"] == {"stl": 4}
    # what the first run refused is still in the final manifest, once
    assert [e["path"] for e in manifest["refused"]] == [f"{evidence}/a_evil.zip!/../x.txt"]
    assert manifest["counts"]["files"] == 6  # each top-level file once over both runs


def test_resume_drops_a_torn_last_line(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(tube_stl())
    (evidence / "b.stl").write_bytes(block_stl())
    out = tmp_path / "scan.jsonl"
    run_scan(ScanOptions([str(evidence)], jsonl=out, workers=1), analyser=FixedVerdict())
    lines = out.read_text().splitlines()
    out.write_text(lines[0] + "\n" + lines[1][:40])  # killed while writing b.stl
    (tmp_path / "scan.progress.jsonl").write_text(
        (tmp_path / "scan.progress.jsonl").read_text().splitlines()[0] + "\n"
    )
    run_scan(ScanOptions([str(evidence)], resume=out, workers=1), analyser=FixedVerdict())
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    assert paths == [f"{evidence}/a.stl", f"{evidence}/b.stl"]


def test_parallel_workers_give_the_same_records(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    for i in range(6):
        (evidence / f"p{i}.stl").write_bytes(tube_stl(length=30 + i))
    (evidence / "bundle.zip").write_bytes(zip_bytes({"x/y.stl": block_stl()}))
    _, serial = scan_folder(evidence, tmp_path, workers=1)
    _, parallel = scan_folder(evidence, tmp_path, workers=2)

    def key(records):
        return sorted((r["path"], r["sha256"]) for r in records)

    assert len(serial) == 7 and key(serial) == key(parallel)


@pytest.mark.slow
@pytest.mark.parametrize("analyser, preloaded", [("ReportsPreload", True), ("NoPreload", False)])
def test_workers_start_with_the_modules_the_analyser_preloads(tmp_path, analyser, preloaded):
    # a fresh process: the fork server (and so its preload) starts with the first pool
    import subprocess
    import sys
    from pathlib import Path

    evidence = tmp_path / "e"
    evidence.mkdir()
    for i in range(3):
        (evidence / f"p{i}.stl").write_bytes(tube_stl(length=30 + i))
    tests = Path(__file__).parent
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import test_scan_fixtures as f\n"
        "from pathlib import Path\n"
        f"analyser = f.{analyser}()\n"
        "_, records = f.scan_folder(Path(sys.argv[2]), Path(sys.argv[3]), analyser, workers=2)\n"
        "print(sorted({r['metadata']['preloaded'] for r in records}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tests), str(evidence), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [f"[{preloaded}]"]


def test_hashset_marks_known_files(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    known, other = tube_stl(), block_stl()
    (evidence / "known.stl").write_bytes(known)
    (evidence / "other.stl").write_bytes(other)
    plain = tmp_path / "known.txt"
    plain.write_text(f"# agency list\n{hashlib.sha256(known).hexdigest()}  FGC test item\n")
    summary, records = scan_folder(evidence, tmp_path, hashset=plain)
    marks = {r["path"].rsplit("/", 1)[1]: r["hashset"] for r in records}
    assert marks == {"known.stl": "FGC test item", "other.stl": None}
    assert summary.manifest["counts"]["hashset_matches"] == {"FGC test item": 1}

    nsrl = tmp_path / "nsrl.csv"
    nsrl.write_text(
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"\n'
        f'"{hashlib.sha1(other).hexdigest().upper()}","{hashlib.md5(other).hexdigest().upper()}",'
        f'"00000000","block.stl",{len(other)},1,"358",""\n'
    )
    _, records = scan_folder(evidence, tmp_path, hashset=nsrl)
    marks = {r["path"].rsplit("/", 1)[1]: r["hashset"] for r in records}
    assert marks == {"known.stl": None, "other.stl": "block.stl"}


def test_bad_hashset_line_is_a_clear_error(tmp_path, run_cli):
    evidence = tmp_path / "e"
    evidence.mkdir()
    bad = tmp_path / "bad.txt"
    bad.write_text("0123abcd not-a-sha256\n")
    result = run_cli("scan", evidence, "--hashset", bad, "--workers", "1")
    assert result.exit_code == 2
    assert "bad.txt: line 1" in result.stderr and "Traceback" not in result.stderr


def test_min_verdict_sets_what_is_flagged_and_every_record_is_written(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(tube_stl())
    summary, records = scan_folder(evidence, tmp_path, analyser=FixedVerdict("review", 0.4))
    assert len(records) == 1 and summary.exit_code == 1 and len(summary.flagged) == 1
    summary, records = scan_folder(
        evidence, tmp_path, analyser=FixedVerdict("review", 0.4), min_verdict="HIGH"
    )
    assert len(records) == 1  # still written: the results hold every candidate
    assert summary.flagged == [] and summary.exit_code == 0
    assert summary.manifest["counts"]["by_verdict"] == {"review": 1}
    summary, records = scan_folder(evidence, tmp_path, analyser=FixedVerdict("clear", 0.0))
    assert len(records) == 1 and summary.exit_code == 0


def test_csv_output_is_spreadsheet_safe(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "=HYPERLINK(x).stl").write_bytes(tube_stl())
    out = tmp_path / "r.csv"
    scan_folder(evidence, tmp_path, csv=out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["format"] == "stl"
    assert rows[0]["path"] == f"{evidence}/=HYPERLINK(x).stl"  # mid-path: no prefix needed
    assert rows[0]["verdict"] == "review" and rows[0]["deleted"] == "false"


def test_manifest_records_the_run(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(tube_stl())
    (evidence / "bad.zip").write_bytes(b"PK\x03\x04 truncated")
    summary, _ = scan_folder(evidence, tmp_path, operator="examiner 7", purpose="case 2026/114")
    manifest = json.loads(manifest_path(tmp_path / "out" / "scan.jsonl").read_text())
    assert manifest == json.loads(json.dumps(summary.manifest, default=str))
    assert manifest["operator"] == "examiner 7" and manifest["purpose"] == "case 2026/114"
    assert manifest["roots"] == [
        {"path": str(evidence), "absolute": str(evidence), "type": "folder"}
    ]
    assert manifest["started"] <= manifest["ended"]
    assert manifest["counts"]["by_format"] == {"stl": 1}
    assert [e["path"] for e in manifest["errors"]] == [f"{evidence}/bad.zip"]


def test_cli_scan_json_and_exit_code(tmp_path, run_cli):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "holiday.jpg").write_bytes(tube_stl())
    (evidence / "b.zip").write_bytes(zip_bytes({"inner/block.stl": block_stl()}))
    out = tmp_path / "o.jsonl"
    result = run_cli("scan", evidence, "--json", "--jsonl", out, "--workers", "1")
    document = json.loads(result.stdout)
    paths = sorted(r["path"] for r in document["records"])
    assert paths == [f"{evidence}/b.zip!/inner/block.stl", f"{evidence}/holiday.jpg"]
    flagged = [r for r in document["records"] if r["verdict"] in ("review", "high")]
    assert result.exit_code == (1 if flagged else 0)
    assert document["manifest"]["rules_digest"]
    assert (tmp_path / "o.manifest.json").is_file()
    assert len(out.read_text().splitlines()) == 2


def test_cli_missing_path_is_usage_error(tmp_path, run_cli):
    result = run_cli("scan", tmp_path / "nope", "--workers", "1")
    assert result.exit_code == 2
    assert "nope" in result.stderr and "Traceback" not in result.stderr


def test_cli_renders_flagged_table(tmp_path, run_cli, monkeypatch):
    from firetrace.forensics import analysis

    monkeypatch.setattr(analysis, "EngineAnalyser", lambda *a, **k: FixedVerdict("high", 0.9))
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "lower.stl").write_bytes(tube_stl())
    result = run_cli("scan", evidence, "--workers", "1")
    assert result.exit_code == 1
    assert "Flagged design files" in result.stdout and "lower.stl" in result.stdout
    assert "0.90" in result.stdout
    assert "1 design files" in result.stderr


def test_modified_times_of_files_and_members(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(zipfile.ZipInfo("a.stl", date_time=(2024, 3, 1, 14, 30, 2)), tube_stl())
    (evidence / "s.zip").write_bytes(buf.getvalue())
    (evidence / "b.stl").write_bytes(block_stl())
    os.utime(evidence / "b.stl", (1_700_000_000, 1_700_000_000))
    _, records = scan_folder(evidence, tmp_path)
    modified = {r["path"].rsplit("/", 1)[1]: r["modified"] for r in records}
    # zip keeps local time with no zone, so no offset is invented
    assert modified == {"a.stl": "2024-03-01T14:30:02", "b.stl": "2023-11-14T22:13:20Z"}


def test_scan_matches_the_reference_library(tmp_path, run_cli, db_path):
    reference = tmp_path / "ref" / "known.stl"
    reference.parent.mkdir()
    reference.write_bytes(tube_stl())
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "copy.bin").write_bytes(tube_stl())
    (evidence / "other.stl").write_bytes(block_stl())

    result = run_cli("scan", evidence, "--json", "--workers", "1")
    assert all(r["reference_matches"] == [] for r in json.loads(result.stdout)["records"])
    assert not db_path.exists(), "a scan must not create a registry"

    assert run_cli("refs", "add", reference, "--label", "known tube").exit_code == 0
    result = run_cli("scan", evidence, "--json", "--workers", "1")
    matches = {
        r["path"].rsplit("/", 1)[1]: [m["label"] for m in r["reference_matches"]]
        for r in json.loads(result.stdout)["records"]
    }
    assert matches["copy.bin"] == ["known tube"]
    assert "known tube" not in matches["other.stl"]


def test_bad_rules_folder_fails_before_scanning(tmp_path, run_cli):
    rules = tmp_path / "rules" / "forensics"
    rules.mkdir(parents=True)
    (rules / "scan.toml").write_text("[walk\nmax_depth = 2\n")
    evidence = tmp_path / "e"
    evidence.mkdir()
    result = run_cli("scan", evidence, "--rules", tmp_path / "rules", "--workers", "1")
    assert result.exit_code == 2
    assert "scan.toml" in result.stderr and "Traceback" not in result.stderr


def test_identical_copies_are_analysed_once_but_all_reported(tmp_path):
    evidence = tmp_path / "e"
    (evidence / "a").mkdir(parents=True)
    (evidence / "b").mkdir()
    stl = tube_stl()
    (evidence / "a" / "part.stl").write_bytes(stl)
    (evidence / "b" / "part.stl").write_bytes(stl)
    (evidence / "b" / "renamed.stl").write_bytes(stl)  # other name: analysed on its own
    (evidence / "backup.zip").write_bytes(zip_bytes({"a/part.stl": stl}))
    calls = []

    class Counting(FixedVerdict):
        def analyse(self, fh, *, name, **kw):
            calls.append(name)
            return super().analyse(fh, name=name, **kw)

    _, records = scan_folder(evidence, tmp_path, analyser=Counting())
    assert sorted(calls) == ["part.stl", "renamed.stl"]
    assert len(records) == 4
    assert {r["sha256"] for r in records} == {hashlib.sha256(stl).hexdigest()}
    records[0]["findings"].append({"rule": "x"})  # records do not share mutable parts
    assert all(r["findings"] == [] for r in records[1:])


def test_manifest_hashes_the_outputs(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(tube_stl())
    summary, _ = scan_folder(evidence, tmp_path, csv=tmp_path / "r.csv")
    hashes = summary.manifest["outputs"]["sha256"]
    jsonl = tmp_path / "out" / "scan.jsonl"
    assert hashes["jsonl"] == hashlib.sha256(jsonl.read_bytes()).hexdigest()
    assert hashes["csv"] == hashlib.sha256((tmp_path / "r.csv").read_bytes()).hexdigest()


def test_overlapping_roots_scan_each_file_once(tmp_path):
    evidence = tmp_path / "e"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "sub" / "a.stl").write_bytes(tube_stl())
    (evidence / "b.stl").write_bytes(block_stl())
    summary = run_scan(
        ScanOptions([str(evidence), str(evidence / "sub"), str(evidence / "b.stl")], workers=1),
        analyser=FixedVerdict(),
    )
    assert summary.manifest["counts"]["candidates"] == 2
    # the sub folder and the file given again
    assert len(summary.manifest["warnings"]) == 2


class DiesOnPoison(FixedVerdict):
    """Kills its worker process outright on one file, as a native crash would."""

    def analyse(self, fh, *, name, **kw):
        if name == "poison.stl":
            os._exit(70)
        return super().analyse(fh, name=name, **kw)


@pytest.mark.slow
def test_a_dying_worker_is_reported_and_the_scan_goes_on(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "poison.stl").write_bytes(tube_stl())
    for i in range(5):
        (evidence / f"z{i}.stl").write_bytes(tube_stl(length=30 + i))
    summary, records = scan_folder(evidence, tmp_path, analyser=DiesOnPoison(), workers=2)
    errors = {e["path"]: e["reason"] for e in summary.manifest["errors"]}
    # the files in flight with it are rerun one by one, so only the culprit is blamed
    assert list(errors) == [f"{evidence}/poison.stl"]
    assert "worker process died" in errors[f"{evidence}/poison.stl"]
    assert sorted(r["path"] for r in records) == [f"{evidence}/z{i}.stl" for i in range(5)]


def test_outputs_inside_the_evidence_are_refused(tmp_path, run_cli):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(tube_stl())
    before = sorted(p.name for p in evidence.iterdir())
    for option in ("--jsonl", "--csv", "--case"):
        result = run_cli("scan", evidence, option, evidence / "out.x", "--workers", "1")
        assert result.exit_code == 2
        assert "output inside the evidence" in result.stderr
    assert sorted(p.name for p in evidence.iterdir()) == before


def test_hostile_names_are_shown_as_text_not_markup(tmp_path, run_cli, monkeypatch):
    from firetrace.forensics import analysis

    monkeypatch.setattr(analysis, "EngineAnalyser", lambda *a, **k: FixedVerdict("high", 0.9))
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "[bold]x.stl").write_bytes(tube_stl())
    (evidence / "[red]b.zip").write_bytes(zip_bytes({"../[/]up.stl": tube_stl()}))
    result = run_cli("scan", evidence, "--workers", "1")
    assert result.exit_code == 1, result.stderr
    flat = result.stdout.replace("\n", "").replace("│", "").replace(" ", "")
    assert "[bold]x.stl" in flat
    # the refused member, named literally (as markup "[/]" would even crash rich)
    assert "[red]b.zip!/../[/]up.stl" in result.stderr


def test_error_naming_a_markup_like_path_is_one_line(tmp_path, run_cli):
    result = run_cli("scan", f"{tmp_path}/[/]nope", "--workers", "1")
    assert result.exit_code == 2
    assert f"{tmp_path}/[/]nope: evidence path not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_output_folders_are_created_and_a_bad_one_is_a_clean_error(tmp_path, run_cli):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "a.stl").write_bytes(block_stl())
    out = tmp_path / "results" / "case-17" / "scan.jsonl"
    result = run_cli("scan", evidence, "--jsonl", out, "--case", tmp_path / "x" / "c.jsonld",
                     "--workers", "1")  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    assert out.exists() and out.with_name("scan.manifest.json").exists()
    assert (tmp_path / "x" / "c.jsonld").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("scan", evidence, "--jsonl", blocker / "scan.jsonl", "--workers", "1")
    assert result.exit_code == 2
    assert "cannot create the output folder" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # waits on timeouts, locks or many subprocesses
@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_whose_analysis_never_ends_is_stopped_and_reported(tmp_path, workers):
    from test_scan_fixtures import SlowOn

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "slow.stl").write_bytes(block_stl())
    (evidence / "quick.stl").write_bytes(tube_stl())
    rules = tmp_path / "rules"
    (rules / "forensics").mkdir(parents=True)
    (rules / "forensics" / "scan.toml").write_text("[analysis]\nanalysis_seconds = 0.5\n")
    summary, records = scan_folder(
        evidence, tmp_path, analyser=SlowOn("review", 0.4), rules_dir=rules, workers=workers
    )
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in records}
    slow = by_name["slow.stl"]
    assert slow["verdict"] == "error"
    assert slow["error"].startswith("analysis stopped after 0.5 s (analysis_seconds")
    assert slow["sha256"] == hashlib.sha256(block_stl()).hexdigest()  # hashes still recorded
    assert by_name["quick.stl"]["verdict"] == "review"
    assert summary.manifest["options"]["limits"]["analysis_seconds"] == 0.5
