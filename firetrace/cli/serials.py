"""Commands of the serials area: ``dupes`` finds duplicate and near-duplicate
serials across the registry. The command parses options, calls
:func:`firetrace.registry.dupes.find_duplicates` (which checks the purpose policy
and records the read in the audit log) and renders the groups (rich table,
``--json``, ``--csv``).
"""

from __future__ import annotations

import csv
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from firetrace.atomicfile import atomic_output
from firetrace.cli.common import Commands, ForceOpt, JsonOpt, MakerOpt, Settings, limit_option
from firetrace.cli.output import console, err_console, print_json, shown
from firetrace.outputs import guard_output
from firetrace.registry.db import connect
from firetrace.registry.vocabulary import DUPLICATE_KINDS as KINDS
from firetrace.sanitize import csv_row

commands = Commands()


def _urgent(status: str | None) -> bool:
    """A member out of lawful hands (reported stolen or lost, seized): shown in red."""
    return status in ("reported_stolen", "reported_lost", "seized")


def _write_csv(path: Path, report) -> None:

    with atomic_output(path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["group", "kind", "score", "id", "serial", "manufacturer", "component", "model",
             "year_of_manufacture", "status", "reason", "detail"]
        )  # fmt: skip
        for number, group in enumerate(report.groups, 1):
            for m in group.members:
                writer.writerow(
                    csv_row((number, group.kind, group.score, m.id, m.serial, m.manufacturer,
                             m.component, m.model, m.year, m.status, group.reason,
                             group.detail))
                )  # fmt: skip


def _render(report, limit: int) -> None:

    stats = report.stats
    expected = sum(stats.get("expected_numbering", {}).values())
    hidden = "" if stats.get("expected_numbering_listed") else (
        f" ({expected:,} pairs of expected numbering not listed: --all lists them)"
        if expected else ""
    )  # fmt: skip
    if not report.groups:
        console.print(
            f"No duplicate serials among {stats['records_compared']:,} {stats['scope']}{hidden}."
        )
        return
    table = Table(
        title=f"{len(report.groups):,} duplicate group(s), most suspicious first", show_lines=True
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("score", justify="right")
    table.add_column("kind", style="bold")
    table.add_column("records")
    table.add_column("why")
    for number, group in enumerate(report.groups[:limit], 1):
        records = "\n".join(
            f"{shown(m.serial)}  [dim]{shown(m.manufacturer)} {m.component} #{m.id}"
            + (f" {m.year}" if m.year else "")
            + (f" {shown(m.model)}" if m.model else "")
            + "[/]"
            + (f" [bold red]{m.status.replace('_', ' ')}[/]" if _urgent(m.status) else "")
            for m in group.members
        )
        style = "bold red" if group.score >= 0.8 else "yellow" if group.score >= 0.5 else "dim"
        table.add_row(
            str(number),
            f"[{style}]{group.score:.2f}[/]",
            group.kind,
            records,
            f"{shown(group.reason)}\n[dim]{shown(group.detail)}[/]",
        )
    console.print(table)
    if len(report.groups) > limit:
        console.print(
            f"... {len(report.groups) - limit:,} more group(s): raise --limit, "
            "or use --json or --csv FILE"
        )
    counts = ", ".join(f"{k} {n:,}" for k, n in stats["groups"].items() if n)
    console.print(
        f"{stats['records_compared']:,} {stats['scope']} compared in {stats['elapsed_s']} s: "
        f"{counts}{hidden}"
    )


@commands.command("dupes")
def dupes(
    kinds: Annotated[
        str | None,
        typer.Option(
            "--kinds",
            help="Comma-separated kinds to look for (default: all but edit; 'all' adds edit): "
            + ", ".join(KINDS),
            show_default=False,
        ),
    ] = None,
    max_distance: Annotated[
        int | None,
        typer.Option(
            "--max-distance",
            min=1,
            max=3,
            help="Enable the edit kind: serials of one maker within this many edits "
            "(noisy on sequential serials).",
            show_default=False,
        ),
    ] = None,
    manufacturer: MakerOpt = None,
    all_components: Annotated[
        bool,
        typer.Option(
            "--all-components",
            help="Compare every component, not only control components (frames, receivers); "
            "slides and barrels often carry their frame's serial.",
        ),
    ] = False,
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write one row per group member to this CSV file."),
    ] = None,
    include_expected: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also list pairs of expected numbering (transposition and edit pairs whose "
            "serials both sit in the maker's production runs, same model and year), "
            "counted but not listed by default.",
        ),
    ] = False,
    limit: limit_option("groups in the table", minimum=0) = 200,
    show: Annotated[
        int | None, typer.Option("--show", min=0, hidden=True, help="Old name of --limit.")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Find duplicate and near-duplicate serials across the registry, most suspicious
    first (exit 1 if any).

    Each group has a suspicion score (0-1) and a reason. Pairs that are a maker's
    consecutive numbering are counted, not listed, unless --all.
    """
    # lazy: duplicate finding needs numpy; --help does not
    from firetrace.registry.dupes import find_duplicates, parse_kinds

    guard_output("--csv", csv_path, registry=settings.db, force=force)
    kind_list = parse_kinds(kinds, max_distance)
    # create=False: a read-only command creates no registry
    with closing(connect(settings.db, create=False)) as conn:
        with err_console.status("looking for duplicate serials", spinner="dots") as status:
            report = find_duplicates(
                conn,
                kinds=kind_list,
                max_distance=max_distance or 1,
                manufacturer=manufacturer,
                all_components=all_components,
                include_expected=include_expected,
                progress=lambda msg: status.update(msg),
                **settings.who,
            )
    if csv_path is not None:
        _write_csv(csv_path, report)
    if as_json:
        print_json(report.as_dict())
    else:
        _render(report, limit if show is None else show)
    if report.groups:
        raise typer.Exit(1)
