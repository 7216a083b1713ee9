"""The README's first command in a fresh virtual environment: the plain install
runs the demo and scans a FAT disk image made at test time (pytsk3 and
libewf-python come with `pip install .`, no extra needed). Slow: it installs every
dependency from the package index (about a minute and a half here)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_disk_images import fat_image
from tests.test_scan_fixtures import block_stl, tube_stl

ROOT = Path(__file__).resolve().parent.parent
# What a user's clone would not hold: version control, caches, build output.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", "__pycache__", ".benchmarks", ".pytest_cache", ".ruff_cache", "*.egg-info", "build"
)


def readme_first_command() -> str:
    """The first line of the README's first shell block, without its comment."""
    block = (ROOT / "README.md").read_text().split("```sh", 1)[1].split("```", 1)[0]
    first = next(line for line in block.splitlines() if line.strip())
    return re.sub(r"\s+#.*$", "", first).strip()


def run(command: list[str] | str, *, cwd: Path, env: dict, timeout: int = 900):
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        shell=isinstance(command, str),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_the_readme_install_runs_the_demo_and_scans_a_fat_image(tmp_path):
    command = readme_first_command()
    assert command == "pip install . && firetrace demo"
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=NOT_IN_A_CLONE)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FIRETRACE_"))}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv)}
    env["HOME"] = str(tmp_path / "home")  # the demo and scan leave the real home alone

    installed = run(command, cwd=clone, env=env)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert "REPORTED STOLEN" in installed.stdout and "Try next:" in installed.stdout

    image = fat_image(tmp_path / "card.img", tube_stl(), block_stl())
    out = tmp_path / "scan.jsonl"
    scanned = run(
        [str(venv / "bin" / "firetrace"), "scan", str(image), "--jsonl", str(out)],
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert "ModuleNotFoundError" not in scanned.stderr and "Traceback" not in scanned.stderr
    assert scanned.returncode == 1, scanned.stderr  # the tube is flagged
    records = [json.loads(line) for line in out.open()]
    live = next(r for r in records if r["path"] == f"{image}!/parts/live.stl")
    assert live["verdict"] in ("review", "high") and live["sha1"]
    # the deleted file is recovered through The Sleuth Kit (FAT blanks its first letter)
    assert [r["path"].endswith("one.stl") for r in records if r["deleted"]] == [True]
