"""Every command that reads an input file refuses a FIFO by its type (opening one
would block forever) and names a missing file or a folder in one line."""

from __future__ import annotations

import os

import pytest

COMMANDS = {
    "inspect": lambda f, d: ["inspect", f],
    "refs add": lambda f, d: ["refs", "add", f, "--label", "x", "--db", d],
    "refs match": lambda f, d: ["refs", "match", f, "--db", d],
    "refs import": lambda f, d: ["refs", "import", f, "--db", d],
    "report": lambda f, d: ["report", f, "-o", f"{f}.html"],
    "scan --hashset": lambda f, d: ["scan", os.path.dirname(f), "--hashset", f, "--workers", "1"],
    "import": lambda f, d: ["import", f, "--db", d],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_fifo_is_refused_without_being_opened(command, tmp_path, run_cli):
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    result = run_cli(*COMMANDS[command](str(fifo), str(tmp_path / "r.db")))
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_missing_file_and_folder_are_one_line_errors(command, tmp_path, run_cli):
    for target, words in ((tmp_path / "missing.bin", "not found"), (tmp_path, "folder")):
        result = run_cli(*COMMANDS[command](str(target), str(tmp_path / "r.db")))
        assert result.exit_code == 2, (target, result.stdout + result.stderr)
        assert "Traceback" not in result.stderr
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("firetrace: ")]
        assert len(errors) == 1 and str(target) in errors[0], result.stderr
        assert words in errors[0] or "no such" in errors[0], errors[0]
