"""The built-in demonstration: build a registry from the sample batch and trace
the stolen modular firearm in it.

What is imported and traced is set in ``samples/demo.toml``; the registry goes
to a temporary folder unless a path is given.
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firetrace.paths import samples_dir
from firetrace.registry.importer import ImportResult, import_file


@dataclass
class DemoResult:
    db_path: Path
    imported: ImportResult
    traced: dict[str, Any]


def run_demo(
    db_path: str | Path | None = None, *, operator: str = "demo", purpose: str | None = None
) -> DemoResult:
    """Import the sample batch into ``db_path`` (default: a fresh temporary folder)
    and trace the demo serial."""
    from firetrace.registry.db import connect
    from firetrace.registry.trace import trace

    with open(samples_dir() / "demo.toml", "rb") as fh:
        plan = tomllib.load(fh)
    if db_path is None:
        db_path = Path(tempfile.mkdtemp(prefix="firetrace-demo-")) / "registry.db"
    db_path = Path(db_path)
    purpose = purpose or plan.get("purpose")
    imported = import_file(
        db_path, samples_dir() / plan["batch"], operator=operator, purpose=purpose
    )
    conn = connect(db_path)
    try:
        traced = trace(conn, plan["trace"], operator=operator, purpose=purpose)
    finally:
        conn.close()
    return DemoResult(db_path, imported, traced)
