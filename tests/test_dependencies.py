"""Disk images work with the plain install (pytsk3 and libewf-python are main
dependencies), and a package that is still missing stops the command with exit 2
and the exact install command, never a traceback or a silent exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.test_disk_images import fat_image
from tests.test_scan_fixtures import block_stl, tube_stl

ROOT = Path(__file__).resolve().parent.parent


def test_disk_image_readers_are_main_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("=")[0] for d in project["dependencies"]}
    assert {"pytsk3", "libewf-python"} <= names
    assert project["optional-dependencies"]["forensics"] == []  # the old extra still installs


@pytest.fixture
def without(monkeypatch):
    """Make ``import NAME`` fail as it does when the package is not installed."""

    def hide(name: str) -> None:
        monkeypatch.setitem(sys.modules, name, None)

    return hide


def test_scanning_an_image_without_pytsk3_says_how_to_install_it(tmp_path, run_cli, without):
    image = fat_image(tmp_path / "card.img", tube_stl(), block_stl())
    without("pytsk3")
    result = run_cli("scan", image, "-j", "1", "--jsonl", tmp_path / "out.jsonl")
    assert result.exit_code == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "reading disk images needs the Python package pytsk3" in message
    assert f"{sys.executable} -m pip install 'pytsk3>=20231007'" in message
    assert "Traceback" not in result.stderr and "ModuleNotFoundError" not in result.stderr


@pytest.mark.slow  # waits on timeouts, locks or many subprocesses
def test_worker_processes_stop_the_scan_the_same_way(tmp_path):
    """With a pool, the worker that meets the image raises; the scan stops, exit 2."""
    image = fat_image(tmp_path / "card.img", tube_stl(), block_stl())
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "pytsk3.py").write_text("raise ImportError('not installed (test)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hidden), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-m", "firetrace", "scan", str(image), "-j", "2"],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pip install 'pytsk3>=20231007'" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


def test_inspecting_an_e01_member_without_pyewf_says_how_to_install_it(tmp_path, run_cli, without):
    image = tmp_path / "disk.E01"
    image.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + b"\0" * 4096)  # an E01 signature
    without("pyewf")
    result = run_cli("inspect", f"{image}!/parts/live.stl")
    assert result.exit_code == 2
    assert "pip install 'libewf-python>=20231119'" in " ".join(result.stderr.split())
