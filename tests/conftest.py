"""Shared fixtures: an isolated registry per test and an in-process CLI runner."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# Bytecode caches (__pycache__, gitignored) are written even where the environment
# sets PYTHONDONTWRITEBYTECODE, as this machine does: without them each xdist worker
# compiles and assertion-rewrites every test module on every run, and every firetrace
# subprocess a test starts compiles the package again, about 10 s of the fast suite's
# minute (docs/testing.md). FIRETRACE_TEST_NO_BYTECODE=1 keeps the environment's choice.
if not os.environ.get("FIRETRACE_TEST_NO_BYTECODE"):
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Each test gets its own registry file and a fixed operator."""
    monkeypatch.setenv("FIRETRACE_DB", str(tmp_path / "registry.db"))
    monkeypatch.setenv("FIRETRACE_OPERATOR", "tester")
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY", raising=False)
    # the runner's own config file (~/.config/firetrace) must not change any test
    monkeypatch.setenv("FIRETRACE_CONFIG", str(tmp_path / "no-config.toml"))
    for name in ("FIRETRACE_PROFILE", "FIRETRACE_REFS_DB", "FIRETRACE_POLICY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "registry.db"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys):
    """Run ``firetrace ARGS`` in-process; returns exit code, stdout and stderr."""
    from firetrace.cli import main

    def run(*args: str | Path) -> CliResult:
        argv = [str(a) for a in args]
        if len(argv) == 1 and " " in argv[0]:
            argv = shlex.split(argv[0])
        capsys.readouterr()
        code = 0
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def serial_rules(tmp_path, monkeypatch):
    """Trace under an edited ``serials.toml``: its [normalize], [lookalikes] and
    [embedded_letters] as bundled (the stored keys stay valid) or ``head``, then
    ``tail``."""
    from firetrace.serials import normalize

    bundled = (normalize.rules_dir() / "serials.toml").read_text(encoding="utf-8")
    keys = bundled[: bundled.index("\n[fuzzy]")]
    folder = tmp_path / "rules"
    folder.mkdir()

    def clear():
        for cached in (normalize.load_serial_rules, normalize._tables, normalize._fold_choices):
            cached.cache_clear()

    def use(tail: str, head: str | None = None) -> None:
        text = (keys if head is None else head) + "\n" + tail
        (folder / "serials.toml").write_text(text, encoding="utf-8")
        monkeypatch.setattr(normalize, "rules_dir", lambda: folder)
        clear()

    yield use
    monkeypatch.undo()
    clear()
