"""The command reference in docs/cli.md is generated from --help, so it cannot drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
REGENERATE = [
    sys.executable,
    "-m",
    "typer",
    "firetrace.cli.full",
    "utils",
    "docs",
    "--name",
    "firetrace",
    "--title",
    "firetrace command reference (generated from --help)",
]


def test_cli_reference_matches_help(tmp_path):
    out = tmp_path / "cli.md"
    proc = subprocess.run(
        [*REGENERATE, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=DOCS.parent.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == DOCS.read_text(), (
        "docs/cli.md is stale: regenerate it with "
        + " ".join(REGENERATE[1:])
        + " --output docs/cli.md"
    )
