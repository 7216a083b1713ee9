"""Commands of the registry area: ``import`` a record batch, ``trace`` a serial,
and ``demo``. Each parses options, calls one library function in
:mod:`firetrace.registry` and renders the result with rich (or ``--json``).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from firetrace.atomicfile import atomic_write_text
from firetrace.cli.common import (
    Commands,
    ForceOpt,
    JsonOpt,
    MakerOpt,
    Settings,
    limit_option,
    option_group,
    path_option,
)
from firetrace.cli.output import (
    console,
    err_console,
    print_json,
    printed_instead_of_rows,
    shown,
    table_of,
)
from firetrace.outputs import guard_output, guard_outputs
from firetrace.registry.batches import list_batches, withdraw_batch
from firetrace.registry.browse import list_records, show
from firetrace.registry.db import connect
from firetrace.registry.description import describe
from firetrace.registry.template import template_text
from firetrace.registry.trace import match_notes, trace
from firetrace.registry.tracing import load_request
from firetrace.registry.tracing import tracing_response as tracing_response_of
from firetrace.sanitize import csv_row

commands = Commands()

# What is known of the firearm sought (trace and list narrow by it): the parameters
# of registry.description.describe.
DESCRIPTION_OPTIONS = {
    "model": Annotated[
        str | None, typer.Option("--model", help="Model as marked (case and spaces ignored).")
    ],
    "calibre": Annotated[
        str | None, typer.Option("--calibre", help="Calibre (aliases ok: 9mm Luger = 9x19mm).")
    ],
    "firearm_type": Annotated[
        str | None, typer.Option("--type", help="Firearm type: pistol, rifle, revolver, ...")
    ],
    "country": Annotated[
        str | None,
        typer.Option("--country", help="Country of manufacture or import (ISO 3166 code)."),
    ],
    "year": Annotated[
        str | None,
        typer.Option("--year", help="Year of manufacture, or a range: 2019, 2018-2020."),
    ],
}

# Show a progress bar only for batches big enough to take a noticeable time.
PROGRESS_MIN_BYTES = 2_000_000

# A firearm's description in a trace, as printed: label -> field.
# How the console styles a match's notes (registry.trace.match_notes).
_NOTE_STYLE = {"duplicate": "bold red", "serial": "yellow"}
_FIREARM_DETAILS = {
    "type": "type", "model": "model", "calibre": "calibre", "made in": "country_of_manufacture",
    "year": "year_of_manufacture", "import": "import_country",
}  # fmt: skip

STATUS_STYLE = {
    "in_circulation": "green",
    "reported_lost": "bold yellow",
    "reported_stolen": "bold red",
    "seized": "bold magenta",
    "exported": "cyan",
    "deactivated": "dim",
    "destroyed": "dim",
}


def _progress_callback(path: Path, enabled: bool):
    """A rich progress bar on stderr, or None for small files."""
    if not enabled or not path.is_file() or path.stat().st_size < PROGRESS_MIN_BYTES:
        return None, None, None
    # lazy: progress bars only for large batches on a terminal
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task(f"importing {path.name}", total=path.stat().st_size)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    def step(what: str) -> None:  # after the rows are read, say what the import does
        progress.update(task, description=f"importing {path.name}: {what}")

    return progress, update, step


def render_import(result) -> None:
    """Human summary of an import result."""
    name = shown(result.source)
    if result.status == "already_imported":
        console.print(f"{name}: already imported as batch {result.batch_id}; nothing changed")
        return
    if result.status == "rejected":
        for error in result.errors:
            console.print(shown(str(error)), soft_wrap=True)
        more = result.error_count - len(result.errors)
        if more > 0:
            console.print(f"... and {more} more bad rows (use --errors FILE for all of them)")
        err_console.print(
            f"[bold red]{name}: batch rejected[/]: {result.error_count} problem(s) in "
            f"{result.rows} rows; nothing was imported"
        )
    else:
        counts = result.counts
        verb = "valid, would add" if result.status == "valid" else "imported as batch"
        head = f"{name}: {verb}" + (f" {result.batch_id}:" if result.status == "imported" else "")
        console.print(
            f"{head} {result.rows} rows, {counts.get('components', 0)} new components, "
            f"{counts.get('firearms', 0)} firearms, {counts.get('events', 0)} events, "
            f"{counts.get('assemblies', 0)} assemblies"
            + (
                f" ({counts['duplicate_events']} events already recorded)"
                if counts.get("duplicate_events")
                else ""
            )
            + f" in {result.seconds:.1f} s"
        )
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {shown(warning)}")


def _table(title: str, headers: tuple[str, ...], rows: list[list]):
    """A rich table whose column widths are worked out from the cells' text.

    Cells are ``Text`` (no markup to parse). A default trace prints up to 20
    matches with a timeline each, and rich measuring every cell of every table
    was most of the command's run time; a column given a width is not measured.
    The widths are the ones rich would choose: each column's longest text, and
    when the table is wider than the terminal, rich's own narrowing of the
    widest columns. Should rich's internals change, rich measures as before.
    """

    padding = 2  # one space each side of a cell
    room = console.width - (len(headers) + 1)  # the rest is borders
    widths = [
        min(room, padding + max([cell_len(header), *(row[k].cell_len for row in rows)]))
        for k, header in enumerate(headers)
    ]
    fits = sum(widths) <= room  # no cell needs wrapping: skip rich's line breaking
    try:
        # lazy: a private helper of rich that may move; the except below falls back
        from rich._ratio import ratio_reduce

        if not fits:
            widths = Table._collapse_widths(widths, [True] * len(widths), room)
            if sum(widths) > room:
                widths = ratio_reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        fixed = [w - padding for w in widths] if min(widths) > padding else None
    except (ImportError, AttributeError, TypeError):
        fixed = None
    table = Table(title=title, title_justify="left")
    for k, header in enumerate(headers):
        table.add_column(header, width=fixed[k] if fixed else None, no_wrap=fits)
    for row in rows:
        table.add_row(*row)
    return table


def _span(part: dict[str, Any], open_label: str) -> list:
    """The installed and removed cells of an installation; an open one says so in green."""
    removed = Text(part["removed"]) if part["removed"] else Text.assemble((open_label, "green"))
    return [Text(part["installed"] or ""), removed]


# Matches a trace prints in full when none is exact or normalised; the rest are
# one line each (``--details`` prints every match in full).
DETAILED_MATCHES = 3


def detailed_count(matches: list[dict[str, Any]], details: bool) -> int:
    """How many of the (ranked) matches get a full block: every exact and
    normalised hit, else the first :data:`DETAILED_MATCHES`; all with ``details``."""
    if details:
        return len(matches)
    direct = sum(1 for m in matches if m["match"] in ("exact", "normalized"))
    return direct or min(DETAILED_MATCHES, len(matches))


def render_trace(document: dict[str, Any], *, details: bool = False) -> None:
    """Rich rendering of a trace: a block per best match (firearm, components over
    time, timeline), then one line per other candidate."""

    matches = document["matches"]
    given = document.get("description")
    if given:
        fields = ", ".join(f"{k} {shown(v)}" for k, v in given.items() if k != "mode")
        how = "ranked by" if given.get("mode") == "hint" else "narrowed by"
        console.print(f"{how}: {fields}")
    if not matches:
        console.print(f"no registry record matches {shown(document['query'])!r}")
        return
    in_full = detailed_count(matches, details)
    for number, match in enumerate(matches[:in_full], 1):
        status = match["status"]
        style = STATUS_STYLE.get(status, "")
        console.rule(
            f"[bold]{number}. {shown(match['serial'])}[/] {shown(match['manufacturer'])} "
            f"{match['component']}  [{style}]{status.replace('_', ' ').upper()}[/]"
        )
        console.print(f"match: {match['match']} ({match['score']:.2f}) - {shown(match['why'])}")
        for kind, note in match_notes(match):
            style = _NOTE_STYLE.get(kind)
            console.print(f"[{style}]{shown(note)}[/]" if style else shown(note))
        firearm = match.get("firearm")
        if firearm:
            control = firearm["control_component"]
            details = ", ".join(
                f"{label} {shown(str(firearm[key]))}"
                for label, key in _FIREARM_DETAILS.items()
                if firearm.get(key)
            )
            console.print(
                f"firearm: {control['component']} {shown(control['serial'])} "
                f"({shown(control['manufacturer'])}) - {details}"
            )
            if firearm["components"]:
                rows = [
                    [Text(part["component"]), Text(part["serial"]), *_span(part, "installed")]
                    for part in firearm["components"]
                ]
                console.print(
                    _table(
                        "components installed over time",
                        ("component", "serial", "installed", "removed"),
                        rows,
                    )
                )
        else:
            console.print("firearm: not known (the component is not linked to a firearm)")
        if match.get("installations"):
            rows = [
                [
                    Text(f"{spot['firearm_component']} {spot['firearm_serial']}"),
                    *_span(spot, "still installed"),
                ]
                for spot in match["installations"]
            ]
            console.print(
                _table(
                    f"installations of {shown(match['serial'])}",
                    ("in firearm", "installed", "removed"),
                    rows,
                )
            )
        rows = []
        for event in match["events"]:
            label = Text.assemble((event["event"], STATUS_STYLE.get(event["event"], "")))
            if event.get("corrected_by"):
                label = Text.assemble(
                    (event["event"], "strike dim"), f" (corrected by {event['corrected_by']})"
                )
            elif event.get("corrects"):
                label.append(f" (corrects {event['corrects']})")
            rows.append(
                [
                    Text(event["event_date"]),
                    label,
                    Text(f"{event['component']} {event['serial']}"),
                    Text(event["party"] or ""),
                    Text(event["reference"] or ""),
                ]
            )
        console.print(
            _table("event timeline", ("date", "event", "component", "party", "reference"), rows)
        )
        _render_withdrawn_events(match.get("withdrawn_events", ()))
    if in_full < len(matches):
        console.rule("other candidates (--details prints each in full)", style="dim")
        for number, m in enumerate(matches[in_full:], in_full + 1):
            status = m["status"]
            console.print(
                f"{number:>3}. [bold]{shown(m['serial'])}[/] {shown(m['manufacturer'])} "
                f"{m['component']}  [{STATUS_STYLE.get(status, '')}]"
                f"{status.replace('_', ' ')}[/]  {m['match']} {m['score']:.2f}: "
                f"{shown(m['why'])}"
            )
    withdrawn = document.get("withdrawn") or []
    if withdrawn:
        console.rule("records only withdrawn batches speak of (not matches)", style="dim")
        for m in withdrawn:
            batches = sorted({e["batch_id"] for e in m.get("withdrawn_events", ())})
            console.print(
                f"  [dim]{shown(m['serial'])} {shown(m['manufacturer'])} {m['component']} "
                f"#{m['component_id']}: withdrawn with batch "
                f"{', '.join(map(str, batches))}[/]"
            )
    more = document.get("more") or {}
    if more.get("matches"):
        at_least = "" if more.get("complete", True) else "at least "
        tied = more.get("tied_with_last", 0)
        console.print(
            f"{at_least}{more['matches']} more candidates not shown"
            + (f", {tied} of them fitting exactly as well as match {len(matches)}" if tied else "")
            + ": narrow with --manufacturer, --component, --model, --calibre, --year, "
            "or raise --limit",
            style="yellow",
        )


def _render_withdrawn_events(events) -> None:
    """The events of withdrawn batches, apart from the timeline (they do not count)."""
    if not events:
        return
    console.print(f"[dim]{len(events)} event(s) of withdrawn batches, not counted:[/]")
    for event in events:
        console.print(
            f"  [dim strike]{event['event_date']} {event['event']}[/] [dim]"
            f"{shown(event['component'])} {shown(event['serial'])} (batch {event['batch_id']})[/]"
        )


@commands.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Batch file: CSV, JSON Lines or XLSX.")],
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Marking profile from rules/marking/: iti, eu, us (default: "
            "$FIRETRACE_PROFILE, else the config file, else iti).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; change nothing.")
    ] = False,
    errors: path_option(
        "--errors",
        help="Write every bad row, with its line number and what is wrong, to this "
        "CSV (a rejects file: fix it, then import it or give it to --fixes).",
    ) = None,
    fixes: path_option(
        "--fixes",
        help="A fixed rejects file: its rows replace the batch's rows at their "
        "line_number, and the batch is imported whole.",
    ) = None,
    ignore_unknown: Annotated[
        bool, typer.Option("--ignore-unknown", help="Skip columns firetrace does not know.")
    ] = False,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="Text encoding of a CSV or JSON Lines batch, e.g. cp1252 for a CSV saved "
            "by Excel on Windows.",
        ),
    ] = "utf-8",
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Validate a record batch and import it, all or nothing.

    One row is one event about one component. Columns (case-insensitive; the
    four marked * are required): manufacturer*, serial*, component, control,
    firearm, type, model, calibre, country_of_manufacture, year_of_manufacture,
    import_country, import_year, event*, event_date*, party, party_licence,
    party_country, reference, notes, component_id (which of several items sharing
    a serial the row concerns).

    `firetrace template batch.csv` writes an empty batch with one example row per
    event kind; docs/registry.md explains every column and its values.
    """
    # lazy: the importer (validation tables, numpy for the duplicate check) is not on trace's path
    from firetrace.registry.importer import import_file

    progress, update, step = _progress_callback(file, err_console.is_terminal)
    try:
        if progress:
            progress.start()
        result = import_file(
            settings.db,
            file,
            profile=profile,
            dry_run=dry_run,
            errors_path=errors,
            fixes_path=fixes,
            ignore_unknown=ignore_unknown,
            encoding=encoding,
            force=force,
            **settings.who,
            progress=update,
            step=step,
        )
    finally:
        if progress:
            progress.stop()
    if as_json:
        print_json(result.to_dict())
    else:
        render_import(result)
    if not result.ok:
        raise typer.Exit(1)


@commands.command("trace")
@option_group("described", DESCRIPTION_OPTIONS, after="component")
def trace_command(
    serial: Annotated[
        str,
        typer.Argument(
            help="Serial as read off the item; ? = one unreadable character, * = a run."
        ),
    ],
    manufacturer: MakerOpt = None,
    component: Annotated[
        str | None, typer.Option("--component", "-c", help="Only this component kind.")
    ] = None,
    hint: Annotated[
        bool,
        typer.Option(
            "--hint",
            help="Let --model/--calibre/--type/--country/--year only rank candidates "
            "(default: they also leave out records that contradict them).",
        ),
    ] = False,
    limit: limit_option("matches") = 20,
    exact: Annotated[
        bool,
        typer.Option("--exact", help="Only exact and normalised matches (no look-alike or fuzzy)."),
    ] = False,
    report: path_option(
        "--report",
        help="Also write the trace record: one self-contained, printable HTML page "
        "(who, why, when, registry state, audit entry, tool and rules versions).",
    ) = None,
    tracing_response: path_option(
        "--tracing-response",
        help="Also write the tracing request and response (ITI / ISACS 05.31) as JSON.",
    ) = None,
    request: path_option(
        "--request",
        help="The tracing request to answer (JSON or TOML: requesting authority, "
        "reference, circumstances, weapon as found, ...), for --tracing-response.",
    ) = None,
    force: ForceOpt = False,
    details: Annotated[
        bool,
        typer.Option(
            "--details",
            help="Print every match in full (default: the exact and normalised ones, "
            f"else the best {DETAILED_MATCHES}; the others one line each).",
        ),
    ] = False,
    as_json: JsonOpt = False,
    *,
    described: dict[str, str | None],  # --model --calibre --type --country --year
    settings: Settings,
) -> None:
    """Trace a serial: matching components, their firearm, history and status.

    SERIAL is the serial as read off the item. Case, spaces and dashes do not
    matter, and look-alike characters (O/0, B/8, I/1), transposed, dropped and
    extra characters are tried too. Write ? for one character that cannot be
    read and * for a run of any length (also none), and quote the serial in
    the shell: firetrace trace 'AB12?4', firetrace trace 'BK00*34'.

    What you know of the firearm narrows the search: --model, --calibre, --type,
    --country and --year leave out records that contradict them (a record that
    does not say is kept) and rank the records that confirm them first among
    equally good matches; with --hint they only rank.

    Exit 0 when something matched, 1 when nothing did.
    """
    outputs = {"--report": report, "--tracing-response": tracing_response}
    guard_outputs(outputs, registry=settings.db, inputs=[request] if request else [], force=force)
    asked = load_request(request) if request is not None else None
    description = describe(**described, soft=hint)
    with closing(connect(settings.db, create=False)) as conn:
        document = trace(
            conn,
            serial,
            manufacturer=manufacturer,
            component=component,
            description=description,
            limit=limit,
            exact=exact,
            **settings.who,
        )
    if report is not None:
        # lazy: the report package loads the picture drawing; only --report needs it
        from firetrace.report.trace_record import write_trace_record

        write_trace_record(document, report)
    if tracing_response is not None:
        answer = tracing_response_of(document, asked, manufacturer)
        atomic_write_text(tracing_response, json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
    if as_json:
        print_json(document)
    else:
        render_trace(document, details=details)
        for path in (report, tracing_response):
            if path is not None:
                err_console.print(f"wrote {shown(str(path))}")
    if not document["matches"]:
        raise typer.Exit(1)


@commands.command("batches")
def batches_command(as_json: JsonOpt = False, *, settings: Settings) -> None:
    """List the imported batches: id, file, rows, what each added, who imported it,
    when, its SHA-256, and whether it was withdrawn."""
    with closing(connect(settings.db, create=False)) as conn:
        batches = list_batches(conn)
    document = {"batches": batches, "count": len(batches)}
    if printed_instead_of_rows(as_json, document, batches, "no batches imported yet"):
        return
    columns = ("id", "file", "rows", "added", "operator", "imported (UTC)", "sha256", "state")
    table = table_of(f"{len(batches)} batch(es)", columns, fold=True, title_justify="left")
    for b in batches:
        counts = b["counts"]
        added = f"{counts.get('components', 0):,} components, {counts.get('events', 0):,} events"
        state = "imported"
        if b["withdrawn"]:
            w = b["withdrawn"]
            state = f"[bold red]withdrawn[/] {w['withdrawn_at'][:10]} by {shown(w['operator'])}: "
            state += shown(w["reason"])
        table.add_row(
            str(b["id"]), shown(b["source"]), f"{b['rows']:,}", added, shown(b["operator"] or ""),
            b["imported_at"][:19].replace("T", " "), console.clip(b["sha256"], 12, "…"), state,
        )  # fmt: skip
    console.print(table)


@commands.command("withdraw")
def withdraw_command(
    batch: Annotated[int, typer.Argument(help="Id of the batch to withdraw (see batches).")],
    reason: Annotated[
        str, typer.Option("--reason", help="What was wrong with it, and on what authority.")
    ],
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Withdraw a batch keyed from the wrong file: its events stop counting for
    status, history and dupes. Nothing is deleted; the withdrawal is recorded and
    audited. Withdrawing twice, or an unknown batch, is a usage error."""
    with closing(connect(settings.db, create=False)) as conn:
        done = withdraw_batch(conn, batch, reason=reason, **settings.who)
    if as_json:
        print_json(done.to_json())
        return
    records = "record" if done.components == 1 else "records"
    console.print(
        f"batch {done.batch_id} ({shown(done.source)}) withdrawn: {done.events:,} events no "
        f"longer count; {done.components:,} {records} only it spoke of now trace as withdrawn "
        "(no match, no duplicate)"
    )


@commands.command("show")
def show_command(
    record: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A component id (12, component:12) or a firearm id (firearm:5)."
        ),
    ],
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Show one firearm or component in full: its firearm, components over time,
    timeline and status (ids as trace --json, dupes and import print them)."""
    with closing(connect(settings.db, create=False)) as conn:
        document = show(conn, record, **settings.who)
    if as_json:
        print_json(document)
        return
    render_trace({"query": document["record"], "matches": [document["match"]]}, details=True)


_LIST_COLUMNS = (
    "component_id", "firearm_id", "serial", "manufacturer", "component", "type", "model",
    "calibre", "year_of_manufacture", "country_of_manufacture", "import_country", "status",
    "status_since", "batch_id",
)  # fmt: skip


@commands.command("list")
@option_group("described", DESCRIPTION_OPTIONS, after="component")
def list_command(
    status: Annotated[
        str | None, typer.Option("--status", help="Only firearms in this status.")
    ] = None,
    manufacturer: MakerOpt = None,
    component: Annotated[
        str | None,
        typer.Option("--component", "-c", help="List components of this kind, not firearms."),
    ] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", help="Only records this batch first stored.")
    ] = None,
    limit: limit_option("records") = 1000,
    csv_path: path_option("--csv", help="Also write the records to this CSV file.") = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    *,
    described: dict[str, str | None],  # --model --calibre --type --country --year
    settings: Settings,
) -> None:
    """List firearms (or components) by status and description, e.g.
    firetrace list --status reported_stolen -m Glock. Records only withdrawn
    batches speak of are left out. Audited: the listing names every record shown."""
    guard_output("--csv", csv_path, registry=settings.db, force=force)
    description = describe(**described)
    with closing(connect(settings.db, create=False)) as conn:
        document = list_records(
            conn, status=status, manufacturer=manufacturer, component=component,
            description=description, batch=batch, limit=limit, **settings.who,
        )  # fmt: skip
    if csv_path is not None:
        _write_list_csv(csv_path, document["records"])
    records = document["records"]
    if printed_instead_of_rows(as_json, document, records, "no record matches those filters"):
        return
    columns = ("id", "serial", "maker", "component", "model", "year", "status", "since")
    table = table_of(f"{len(records):,} record(s)", columns, fold=True, title_justify="left")
    for r in records:
        style = STATUS_STYLE.get(r["status"], "")
        table.add_row(
            str(r["component_id"]), shown(r["serial"]), shown(r["manufacturer"]), r["component"],
            shown(r["model"] or ""), str(r["year_of_manufacture"] or ""),
            f"[{style}]{r['status'].replace('_', ' ')}[/]", r["status_since"] or "",
        )  # fmt: skip
    console.print(table)
    if document["more"]:
        console.print(f"more records match: raise --limit (now {limit})", style="yellow")


def _write_list_csv(path: Path, records: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_LIST_COLUMNS)
    for r in records:
        writer.writerow(csv_row(tuple(r[c] for c in _LIST_COLUMNS)))
    atomic_write_text(path, out.getvalue())


@commands.command("demo")
def demo_command(
    keep: Annotated[
        bool,
        typer.Option(
            "--keep", help="Keep the temporary registry (default: removed after the demo)."
        ),
    ] = False,
    *,
    settings: Settings,
) -> None:
    """Build a registry from the sample batch and trace a stolen modular firearm,
    then suggest three commands to try next."""
    # lazy: the demo imports a batch (importer, numpy): not on trace's path
    from firetrace.registry.demo import run_demo

    # settings.db_option, not $FIRETRACE_DB: the demo never touches a real registry
    result = run_demo(settings.db_option, keep=keep, **settings.who)
    where = "temporary registry, removed" if result.removed else "registry at"
    location = "" if result.removed else f" {shown(str(result.db_path))}"
    console.print(f"[bold]firetrace demo[/] - {where}{location}")
    render_import(result.imported)
    console.print(f"\n[bold]$ firetrace trace {shown(result.traced['query'])}[/]")
    render_trace(result.traced)
    render_next(result.next_commands, kept_with="" if not result.removed else "--keep")


def render_next(commands_to_try: list[tuple[str, str]], kept_with: str = "") -> None:
    """The commands a new user could run next, one line each with why."""
    console.print("\n[bold]Try next:[/]")
    for command, why in commands_to_try:
        console.print(f"  {shown(command)}    [dim]# {shown(why)}[/]")
    if kept_with:
        console.print(f"[dim](run the demo with {kept_with} to keep its registry)[/]")


@commands.command("template", db=False)  # writes a blank batch, never the registry
def template_command(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Batch file to write (.csv or .jsonl); default: print it on stdout.",
            show_default=False,
        ),
    ] = None,
    header_only: Annotated[
        bool, typer.Option("--header-only", help="Only the header row, no example rows.")
    ] = False,
    force: ForceOpt = False,
) -> None:
    """Write an empty record batch to fill in: the header row and one example row
    per event kind (the life of one invented pistol, valid under every profile)."""

    fmt = "jsonl" if file is not None and file.suffix.lower() in (".jsonl", ".ndjson") else "csv"
    text = template_text(fmt, examples=not header_only)
    if file is None or str(file) == "-":
        sys.stdout.write(text)
        return
    guard_output("FILE", file, force=force)
    atomic_write_text(file, text)
    rows = 0 if header_only else text.count("\n") - (fmt == "csv")
    err_console.print(
        f"wrote {file}: header and {rows} example row(s); replace them with real records, "
        f"then: firetrace import {shown(str(file))} --dry-run"
    )
