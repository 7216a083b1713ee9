"""Piped or redirected, human output prints every value whole: no ellipsis, no
value wrapped onto a second line, whatever width the environment claims."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from firetrace.cli.output import PIPED_WIDTH, OutputConsole
from firetrace.paths import samples_dir
from tests.test_scan_fixtures import tube_stl

ELLIPSIS = "…"


def piped(*args: str | Path, columns: int = 40) -> subprocess.CompletedProcess:
    """Run firetrace with stdout and stderr on pipes and a narrow COLUMNS, which
    rich would otherwise obey."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "firetrace", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def line_with(text: str, needle: str) -> str:
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, f"{needle!r} not printed whole:\n{text}"
    return lines[0]


@pytest.fixture
def sample_registry(tmp_path) -> Path:
    db = tmp_path / "piped.db"
    assert piped("import", samples_dir() / "batch.csv", "--db", db).returncode == 0
    return db


def test_trace_prints_references_and_parties_whole(sample_registry):
    proc = piped("trace", "58B200917", "--db", sample_registry)
    assert proc.returncode == 0, proc.stderr
    assert ELLIPSIS not in proc.stdout
    # one timeline row holds the whole row: date, event, component, party, reference
    row = line_with(proc.stdout, "POL-LG-2023-118834")
    for cell in ("2023-11-20", "reported_stolen", "fire_control_unit 58B200917", "Lüneburg"):
        assert cell in row
    assert max(len(line) for line in proc.stdout.splitlines()) > 40


def test_audit_log_prints_hashes_whole(sample_registry):
    proc = piped("audit", "log", "--db", sample_registry)
    assert proc.returncode == 0, proc.stderr
    assert ELLIPSIS not in proc.stdout
    assert re.search(r"\b[0-9a-f]{64}\b", proc.stdout), proc.stdout


@pytest.mark.slow
def test_scan_prints_long_evidence_paths_whole(tmp_path):
    folder = tmp_path / ("evidence_" + "very_long_folder_name_" * 4) / "parts_archive_2026"
    folder.mkdir(parents=True)
    (folder / "a_tube_with_a_rather_long_descriptive_name.stl").write_bytes(tube_stl())
    proc = piped("scan", tmp_path / "evidence_very_long_folder_name_very_long_folder_name_"
                 "very_long_folder_name_very_long_folder_name_", "-j", "1")  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the tube is flagged
    assert ELLIPSIS not in proc.stdout
    row = line_with(proc.stdout, "a_tube_with_a_rather_long_descriptive_name.stl")
    assert "parts_archive_2026/a_tube_with_a_rather_long_descriptive_name.stl" in row
    assert "review" in row or "high" in row


@pytest.mark.slow
def test_inspect_prints_path_and_sha256_whole(tmp_path):
    part = tmp_path / ("x" * 70) / "tube_with_a_long_name_for_the_panel.stl"
    part.parent.mkdir()
    part.write_bytes(tube_stl())
    proc = piped("inspect", part)
    assert proc.returncode == 1, proc.stderr
    assert ELLIPSIS not in proc.stdout
    assert re.search(r"\b[0-9a-f]{64}\b", proc.stdout)
    assert str(part) in proc.stdout


def test_the_stdout_console_is_wide_only_when_not_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    assert OutputConsole(file=io.StringIO()).width == PIPED_WIDTH
    assert OutputConsole(file=io.StringIO(), force_terminal=True).width == 50
    assert OutputConsole(file=io.StringIO(), width=33).width == 33


def test_a_rule_stays_readable_when_piped():
    out = io.StringIO()
    OutputConsole(file=out).rule("title")
    assert 80 <= len(out.getvalue().rstrip("\n")) < 100
