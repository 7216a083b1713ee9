"""Shared pieces of the command line: global options, consoles, JSON output.

Global options (``--db``, ``--operator``, ``--purpose``) work both before and
after the command: the app callback stores what it was given in ``ctx.obj`` and
every command that touches the registry also accepts them; :func:`settings`
merges the two (the command's own value wins), then environment, then defaults.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Registry file (default: $FIRETRACE_DB, else user data dir).",
        show_default=False,
    ),
]
OperatorOpt = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Who runs this (default: $FIRETRACE_OPERATOR, else OS user).",
        show_default=False,
    ),
]
PurposeOpt = Annotated[
    str | None,
    typer.Option(
        "--purpose",
        help="Case or request reference, recorded in the audit log.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@dataclass
class Settings:
    db: Path
    operator: str
    purpose: str | None


def settings(
    ctx: typer.Context | None,
    db: Path | None = None,
    operator: str | None = None,
    purpose: str | None = None,
) -> Settings:
    """Merge command-level options over the app-level ones, then env and defaults."""
    from firetrace.paths import default_db_path, default_operator

    top = (ctx.find_root().obj if ctx is not None else None) or {}
    return Settings(
        db=Path(db or top.get("db") or default_db_path()),
        operator=operator or top.get("operator") or default_operator(),
        purpose=purpose or top.get("purpose"),
    )


def print_json(document: Any) -> None:
    """Write one JSON document on stdout (and nothing else)."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()
