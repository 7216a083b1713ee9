"""Commands of the forensics area: ``scan PATH...`` walks folders, archives and
disk images for design files. It parses options, calls
:func:`firetrace.forensics.session.run_scan` and renders a progress bar (stderr)
and a table of flagged files by score; exit 1 when anything is flagged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from firetrace.cli.common import Commands, ForceOpt, JsonOpt, MinVerdictOpt, Settings, path_option
from firetrace.cli.output import console, err_console, print_json
from firetrace.errors import FiretraceError
from firetrace.forensics.folders import measure_roots
from firetrace.forensics.writers import manifest_path
from firetrace.sanitize import terminal_text
from firetrace.verdicts import DEFAULT_MIN_VERDICT

commands = Commands()


@commands.command("scan", refs=True)
def scan(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Evidence: folders, files, archives, disk images (raw, E01)."),
    ],
    jsonl: path_option(
        "--jsonl", help="Write records as JSON Lines; the run manifest goes beside it."
    ) = None,
    csv_out: path_option("--csv", help="Write records as CSV.") = None,
    case_out: path_option("--case", help="Write a CASE/UCO JSON-LD document.") = None,
    min_verdict: MinVerdictOpt = DEFAULT_MIN_VERDICT.value,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-j", help="Worker processes (default: all cores).", min=1),
    ] = None,
    max_depth: Annotated[
        int | None,
        typer.Option(
            "--max-depth", help="Open containers nested this deep (default from rules).", min=0
        ),
    ] = None,
    hashset: path_option(
        "--hashset", help="Known files: SHA-256 per line (optional label) or NSRL CSV."
    ) = None,
    resume: path_option(
        "--resume", help="Continue the interrupted scan that wrote this JSONL."
    ) = None,
    rules: path_option("--rules", help="Extra rules folder (adds to or overrides).") = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Find design files in seized media and rank them; exit 1 when any is flagged."""

    # lazy: the scan (worker pools, detection) loads for scan, not for --help
    from firetrace.forensics.session import ScanOptions, run_scan

    options = ScanOptions(
        roots=[str(p) for p in paths],
        jsonl=jsonl,
        csv=csv_out,
        case=case_out,
        min_verdict=min_verdict,
        workers=workers,
        max_depth=max_depth,
        hashset=hashset,
        resume=resume,
        rules_dir=rules,
        db_path=settings.db,
        refs_db=settings.refs_db,
        **settings.who,
        keep_records=as_json,
        force=force,
    )
    try:
        summary = _run_with_progress(options, run_scan)
    except FiretraceError as exc:
        # Messages name evidence paths, which may look like rich markup ("[/]"):
        # printed here as plain text rather than by the app's markup-aware handler.
        message = Text.assemble(("firetrace:", "bold red"), f" {terminal_text(exc)}")
        err_console.print(message, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        print_json({"records": summary.records, "manifest": summary.manifest})
    else:
        _render(summary)
    raise typer.Exit(summary.exit_code)


def _run_with_progress(options, run_scan):
    if not err_console.is_terminal:
        return run_scan(options)
    # lazy: progress bars only on a terminal
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    files_total, bytes_total = measure_roots(options.roots)
    columns = (
        TextColumn("scan {task.fields[files]}/{task.fields[files_total]} files"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("scan", total=bytes_total or 1, files=0, files_total=files_total)

        def progress(files: int, size: int) -> None:
            bar.update(task, completed=size, files=files)

        return run_scan(options, progress=progress)


def _render(summary) -> None:

    manifest = summary.manifest
    counts = manifest["counts"]
    if summary.flagged:
        table = Table(title="Flagged design files", title_justify="left")
        for column, justify in (
            ("score", "right"),
            ("verdict", "left"),
            ("format", "left"),
            ("path", "left"),
            ("why", "left"),
        ):
            table.add_column(column, justify=justify, overflow="fold")
        for record in summary.flagged:
            findings = record.get("findings") or []
            why = findings[0].get("detail") or findings[0].get("rule") if findings else ""
            notes = []
            if record.get("deleted"):
                notes.append(f"deleted, inode {record.get('inode')}")
            if record.get("hashset"):
                notes.append(f"known: {record['hashset']}")
            for match in record.get("reference_matches") or []:
                notes.append(f"ref {match.get('label')} ({match.get('match')})")
            # Names and details come from the evidence: shown as text, never as markup.
            table.add_row(
                f"{float(record.get('score') or 0):.2f}",
                Text(str(record.get("verdict"))),
                Text(terminal_text(record.get("format"))),
                Text(terminal_text(record["path"])),
                Text(terminal_text("; ".join([str(why), *notes]).strip("; "))),
            )
        console.print(table)
    by_verdict = counts.get("by_verdict", {})
    err_console.print(
        f"scanned {counts.get('files', 0)} files, {counts.get('candidates', 0)} design files "
        f"({', '.join(f'{v} {k}' for k, v in by_verdict.items()) or 'none'}); "
        f"{counts.get('archives', 0)} archives, {counts.get('disk_images', 0)} disk images; "
        f"{len(manifest['errors'])} errors, {len(manifest['refused'])} refused, "
        f"{len(manifest['skipped'])} skipped",
        soft_wrap=True,
    )
    for event in manifest["errors"][:10] + manifest["refused"][:10]:
        err_console.print(
            f"  {event['kind']}: {terminal_text(event['path'])}: {terminal_text(event['reason'])}",
            soft_wrap=True,
            markup=False,
        )
    if manifest["outputs"].get("jsonl"):
        err_console.print(
            f"manifest: {manifest_path(manifest['outputs']['jsonl'])}",
            markup=False,
        )
