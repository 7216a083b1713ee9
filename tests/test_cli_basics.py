"""The command line's global behaviour: version, help, global options anywhere."""

from __future__ import annotations

import subprocess
import sys

from firetrace import __version__


def test_version(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_python_dash_m_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "firetrace", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"firetrace {__version__}"


def test_start_up_does_not_import_heavy_modules():
    code = (
        "import sys, firetrace.cli; "
        "print(','.join(m for m in ('numpy','trimesh','scipy','lxml') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_unknown_command_is_usage_error(run_cli):
    assert run_cli("no-such-command").exit_code == 2


def test_error_message_with_markup_characters_is_printed_verbatim(run_cli, tmp_path):
    missing = tmp_path / "x[/]y" / "batch.csv"
    result = run_cli("import", str(missing))
    assert result.exit_code == 2
    assert "x[/]y" in result.stderr
    assert "Traceback" not in result.stderr
