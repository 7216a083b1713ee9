"""Commands of the report area: ``firetrace report SCAN.jsonl -o REPORT.html``.

A thin shell over :func:`firetrace.report.build_report`: parse the options,
build the page (progress on stderr), then say where it is (or print one JSON
document with ``--json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firetrace.cli.common import (
    Commands,
    ForceOpt,
    JsonOpt,
    MinVerdictOpt,
    Settings,
    limit_option,
    path_option,
)
from firetrace.cli.output import console, err_console, print_json, shown
from firetrace.verdicts import DEFAULT_MIN_VERDICT

commands = Commands()


@commands.command("report", db=False)  # reads a scan's JSONL, not the registry
def report(
    scan: Annotated[Path, typer.Argument(help="Scan results (JSON Lines from `firetrace scan`).")],
    output: path_option(
        "-o",
        "--output",
        help="HTML file to write (default: <scan stem>.report.html beside the scan).",
    ) = None,
    min_verdict: MinVerdictOpt = DEFAULT_MIN_VERDICT.value,
    limit: limit_option("flagged files (best first)", minimum=0) = None,
    manifest: path_option(
        "--manifest", help="Scan manifest (default: <scan stem>.manifest.json beside the scan)."
    ) = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Write a self-contained HTML examiner's report of a scan's flagged files."""
    # lazy: the report (geometry drawing, numpy) loads for report, not for --help
    from firetrace.report import build_report

    def progress(done: int, total: int, path: str) -> None:
        if path:
            err_console.print(f"[dim]drawing {done + 1}/{total}[/] {shown(path)}")

    summary = build_report(
        scan,
        output,
        manifest=manifest,
        min_verdict=min_verdict,
        limit=limit,
        **settings.who,
        progress=None if as_json else progress,
        force=force,
    )
    if as_json:
        print_json(summary.as_dict())
        return
    if summary.manifest_problem:
        err_console.print(f"[yellow]note:[/] {shown(summary.manifest_problem)}")
    console.print(
        f"Wrote [bold]{summary.output}[/]: {summary.cards} card(s) of {summary.flagged} flagged "
        f"file(s) from {summary.records} record(s)"
        + (f"; {summary.not_drawn} could not be drawn" if summary.not_drawn else ""),
        soft_wrap=True,
    )
