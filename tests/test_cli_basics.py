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


def _leaf_commands():
    import typer.main

    from firetrace.cli import app

    def walk(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), command

    return list(walk(typer.main.get_command(app), []))


def test_global_options_are_accepted_after_every_registry_command():
    # CONTRACT: --db, --operator and --purpose work before and after the command.
    # `report` reads a scan's JSONL and `template` writes a blank batch: neither
    # touches the registry, so --db does not apply there.
    for name, command in _leaf_commands():
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        no_registry = name in ("report", "template")
        wanted = {"--operator", "--purpose"} | (set() if no_registry else {"--db"})
        assert wanted <= options, f"{name} lacks {sorted(wanted - options)}"


def test_global_options_before_and_after_mean_the_same(run_cli, tmp_path):
    from firetrace.registry.db import connect

    connect(tmp_path / "a.db").close()  # refs list never creates a registry
    before = run_cli("--db", tmp_path / "a.db", "--operator", "alice", "refs", "list", "--json")
    after = run_cli("refs", "list", "--json", "--db", tmp_path / "a.db", "--operator", "alice")
    assert before.exit_code == after.exit_code == 0
    assert before.stdout == after.stdout


def test_command_areas_map_every_command_to_the_module_that_registers_it():
    import typer.main

    from firetrace.cli import AREAS, COMMAND_AREAS, build_app

    for area in AREAS:
        commands = set(typer.main.get_command(build_app((area,))).commands)
        assert commands == {c for c, a in COMMAND_AREAS.items() if a == area}, area


def test_help_lists_every_command(run_cli):
    from firetrace.cli import COMMAND_AREAS

    result = run_cli("--help")
    assert result.exit_code == 0
    for command in COMMAND_AREAS:
        assert command in result.stdout


def test_command_is_found_after_global_options():
    from firetrace.cli import command_name

    assert command_name(["--db", "x.db", "--operator", "trace", "trace", "S"]) == "trace"
    assert command_name(["--version"]) is None
    assert command_name(["scan", "--db", "y"]) == "scan"


def test_a_global_option_after_the_command_wins_over_one_before(run_cli, tmp_path):
    # Both are accepted; the one nearer the command's own options takes effect.
    run_cli("--db", tmp_path / "before.db", "demo", "--db", tmp_path / "after.db")
    assert (tmp_path / "after.db").exists()
    assert not (tmp_path / "before.db").exists()


def test_every_command_binds_json_to_one_parameter_name():
    for name, command in _leaf_commands():
        for param in command.params:
            if "--json" in getattr(param, "opts", []):
                assert param.name == "as_json", f"{name}: --json is bound to {param.name}"
