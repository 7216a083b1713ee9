"""The man page is generated from --help (docs/firetrace.1; a test fails when it
drifts) and renders cleanly with groff."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from firetrace.cli.manpage import render
from tests.test_docs import command_paths

PAGE = Path(__file__).resolve().parent.parent / "docs" / "firetrace.1"


def test_the_shipped_page_matches_help():
    assert render() == PAGE.read_text(), (
        "docs/firetrace.1 is stale: regenerate it with "
        "python -m firetrace.cli.manpage > docs/firetrace.1"
    )


def test_every_command_and_the_exit_codes_are_in_it():
    text = PAGE.read_text()
    for command in command_paths():
        assert f".SS firetrace {command}" in text or f'.SS "firetrace {command} ' in text, command
    assert ".SH EXIT STATUS" in text and "FIRETRACE_CONFIG" in text


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_groff_renders_it_without_warnings():
    proc = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(PAGE)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_the_generator_runs_as_a_module(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "firetrace.cli.manpage"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout == PAGE.read_text()
