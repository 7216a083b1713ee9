"""The built-in demonstration: build a registry from the sample batch and trace
the stolen modular firearm in it.

What is imported and traced is set in ``samples/demo.toml``. The registry goes to
a temporary folder that is removed afterwards (or kept on request) unless a path
is given; either way the demo ends with three commands to try next.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firetrace.paths import samples_dir
from firetrace.registry.db import connect
from firetrace.registry.importer import ImportResult, import_file
from firetrace.registry.trace import trace


@dataclass
class DemoResult:
    db_path: Path
    imported: ImportResult
    traced: dict[str, Any]
    removed: bool = False  # the temporary registry is gone (no --db, no --keep)
    next_commands: list[tuple[str, str]] = field(default_factory=list)  # (command, why)


def run_demo(
    db_path: str | Path | None = None,
    *,
    keep: bool = False,
    operator: str = "demo",
    purpose: str | None = None,
) -> DemoResult:
    """Import the sample batch into ``db_path`` and trace the demo serial.

    Without ``db_path`` the registry goes to a fresh temporary folder, removed
    before returning unless ``keep``; a given ``db_path`` is always kept.
    """
    with open(samples_dir() / "demo.toml", "rb") as fh:
        plan = tomllib.load(fh)
    purpose = purpose or plan.get("purpose")
    if db_path is not None:
        result = _import_and_trace(Path(db_path), plan, operator, purpose)
    else:
        folder = Path(tempfile.mkdtemp(prefix="firetrace-demo-"))
        try:
            result = _import_and_trace(folder / "registry.db", plan, operator, purpose)
        finally:
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
        result.removed = not keep
    result.next_commands = next_commands(plan, None if result.removed else result.db_path)
    return result


def _import_and_trace(db_path: Path, plan: dict, operator: str, purpose: str | None):

    imported = import_file(
        db_path, samples_dir() / plan["batch"], operator=operator, purpose=purpose
    )
    conn = connect(db_path)
    try:
        traced = trace(conn, plan["trace"], operator=operator, purpose=purpose)
    finally:
        conn.close()
    return DemoResult(db_path, imported, traced)


def next_commands(plan: dict, kept_db: Path | None) -> list[tuple[str, str]]:
    """Three commands to try after the demo: on the kept registry, or (when it was
    removed) on a registry of the user's own built from the same sample batch."""
    wildcard = shlex.quote(plan.get("next_wildcard", "BRL58A7?81"))
    if kept_db is not None:
        db = shlex.quote(str(kept_db))
        return [
            (f"firetrace trace {wildcard} --db {db}", "? stands for one unreadable character"),
            (f"firetrace dupes --db {db}", "duplicate and look-alike serials in the registry"),
            (f"firetrace audit log --db {db}", "every import and trace, with operator and purpose"),
        ]
    batch = shlex.quote(str(samples_dir() / plan["batch"]))
    return [
        (f"firetrace import {batch} --db demo.db", "the sample batch into a registry of your own"),
        (f"firetrace trace {wildcard} --db demo.db", "? stands for one unreadable character"),
        ("firetrace template batch.csv", "an empty batch to fill in, one example row per event"),
    ]
