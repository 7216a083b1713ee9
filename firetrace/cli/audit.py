"""Commands of the audit and integrity area: ``audit log|verify|head|seal``,
``backup DEST``, ``check`` and ``correct EVENT_ID``. Each parses options, calls one library function
(:mod:`firetrace.audit`, :mod:`firetrace.integrity`) and renders the result;
``--json`` prints one JSON document on stdout.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from firetrace import audit
from firetrace.cli.common import Commands, JsonOpt, Settings
from firetrace.cli.output import console, err_console, print_json, shown
from firetrace.errors import FiretraceError, UsageError
from firetrace.registry.db import connect
from firetrace.registry.vocabulary import EVENT_FIELDS

commands = Commands()
audit_group = commands.group(
    "audit", help="The tamper-evident audit log: list, verify, print the head."
)

HeadOpt = Annotated[
    str | None,
    typer.Option(
        "--head",
        help="A head hash printed earlier by 'audit head': the log must still reach it "
        "(detects removed newest entries).",
        show_default=False,
    ),
]


def _connect(settings: Settings):
    """The registry, which these commands never create."""
    return connect(settings.db, create=False)


def _render_problems(problems: list[str], what: str) -> None:
    err_console.print(f"[bold red]{what}:[/] {len(problems)} problem(s)", highlight=False)
    for line in problems:
        console.print(f"  {shown(line)}", highlight=False, soft_wrap=True)


@audit_group.command("log", who=False)  # --operator/--purpose filter the log
def log_cmd(
    operator_filter: Annotated[
        str | None,
        typer.Option("--operator", "--by", help="Only entries by this operator (glob ok)."),
    ] = None,
    purpose_filter: Annotated[
        str | None,
        typer.Option("--purpose", "--for", help="Only entries with this purpose (glob ok)."),
    ] = None,
    command: Annotated[
        str | None, typer.Option("--command", "-c", help="Only this command (glob ok).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this ISO date or date-time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Up to this ISO date (inclusive) or time.")
    ] = None,
    record: Annotated[
        str | None, typer.Option("--record", help="Only entries that touched this record id.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most N entries.")] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Oldest first.")] = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """List audit entries, newest first, filtered by operator, purpose, command, date.

    Here --operator and --purpose filter the log (listing it is not itself audited).
    """
    conn = _connect(settings)
    entries = audit.query_log(
        conn,
        operator=operator_filter,
        purpose=purpose_filter,
        command=command,
        since=since,
        until=until,
        record_id=record,
        limit=limit,
        newest_first=not reverse,
    )
    if as_json:
        print_json({"entries": entries, "count": len(entries)})
        return

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "time (UTC)", "operator", "purpose", "command", "records", "hash"):
        table.add_column(
            column,
            overflow="fold",
            no_wrap=column in ("id", "time (UTC)", "command", "hash"),
            min_width=len(column),
        )
    whole = console.piped  # piped or redirected: every id, the full time and hash
    for e in entries:
        ids = e["record_ids"] if whole else e["record_ids"][:5]
        more = len(e["record_ids"]) - len(ids)
        records = ", ".join(map(str, ids)) + (f" (+{more})" if more else "")
        # Operators, purposes and record ids were typed by people: shown escaped.
        table.add_row(
            ("r" if e.get("log") == "reads" else "") + str(e["id"]),
            e["ts"] if whole else e["ts"][:16].replace("T", " "),
            shown(e["operator"]),
            shown(e["purpose"] or ""),
            shown(e["command"]),
            shown(records),
            console.clip(e["hash"], 10) + ("*" if e["keyed"] else ""),
        )
    console.print(table)
    err_console.print(f"{len(entries)} entries (* keyed HMAC; r: in the read log)")


@audit_group.command("verify")
def verify_cmd(
    expected_head: HeadOpt = None,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Check the hash chain; exit 1 naming the first altered, removed or reordered entry."""
    # lazy: integrity is for backup and check only, not the audit commands or --help
    from firetrace.integrity import verify_history

    conn = _connect(settings)
    result = verify_history(conn, expected_head=expected_head)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        kind = "keyed (HMAC)" if result.keyed_entries else "unkeyed (SHA-256)"
        reads = f", {result.read_entries} read entries" if result.read_entries else ""
        console.print(
            f"audit log intact: {result.entries} entries{reads}, {kind}, head entry "
            f"{result.head.id} {result.head.hash}; every sealed row matches its seal",
            highlight=False,
        )
        for note in result.notes:
            err_console.print(f"note: {note}", highlight=False)
    else:
        first = result.first_problem
        console.print(
            f"[bold red]audit log NOT intact:[/] first bad {_where(first)}: {shown(first.message)}",
            highlight=False,
            soft_wrap=True,
        )
        rest = result.ordered_problems()[1:]
        for problem in rest[:20]:
            console.print(f"  {_where(problem)}: {shown(problem.message)}", highlight=False)
        if len(rest) > 20:
            console.print(f"  ... and {len(rest) - 20} more (--json lists them)", highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def _where(problem) -> str:
    """Which log (or the rows) a verification problem is in, for its line."""
    if problem.log == "reads":
        return f"read entry {problem.entry_id}"
    if problem.log == "rows":
        return "row"
    return f"entry {problem.entry_id}"


@audit_group.command("head")
def head_cmd(
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Print the current head hash (record it in the case file; 'verify --head' checks it)."""
    # lazy: integrity is for backup and check only, not the audit commands or --help
    from firetrace.integrity import head_token

    conn = _connect(settings)
    current = audit.head(conn)
    token = head_token(conn)
    if as_json:
        print_json(asdict(current) | {"token": token})
        return
    typer.echo(token)
    err_console.print(
        f"head: entry {current.id} of {current.entries}"
        + (f", {current.ts}" if current.ts else "")
        + (", keyed (HMAC)" if current.keyed else ""),
        highlight=False,
    )


@audit_group.command("seal")
def seal_cmd(*, settings: Settings) -> None:
    """Adopt an older unkeyed log under FIRETRACE_AUDIT_KEY with one keyed entry."""
    conn = _connect(settings)
    digest = audit.seal(conn, **settings.who)
    console.print(f"sealed: new keyed head {digest}", highlight=False)


@commands.command("backup")
def backup_cmd(
    dest: Annotated[Path, typer.Argument(help="Backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Copy the registry with SQLite's online backup API, then integrity-check the copy."""
    # lazy: integrity is for backup and check only, not the audit commands or --help
    from firetrace.integrity import backup

    conn = _connect(settings)
    result = backup(conn, dest, **settings.who, force=force)
    if as_json:
        print_json(result.to_json())
        return
    console.print(
        f"backup written: {result.dest} ({result.bytes:,} bytes, integrity ok)\n"
        f"  sha256 {result.sha256}\n  audit head {result.audit_head} "
        f"({result.audit_entries} entries)",
        highlight=False,
    )


@commands.command("check")
def check_cmd(
    quick: Annotated[
        bool, typer.Option("--quick", help="PRAGMA quick_check instead of integrity_check.")
    ] = False,
    expected_head: HeadOpt = None,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Integrity check, foreign-key check, append-only triggers and audit verify; exit 1
    on any problem."""
    # lazy: integrity is for backup and check only, not the audit commands or --help
    from firetrace.integrity import check, damaged_beyond_opening

    try:
        conn = _connect(settings)
    except FiretraceError as exc:
        result = damaged_beyond_opening(exc)
        if result is None:
            raise
    else:
        result = check(conn, quick=quick, expected_head=expected_head)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        reads = f", {result.audit.read_entries} read entries" if result.audit.read_entries else ""
        console.print(
            f"registry ok: integrity, foreign keys, append-only triggers, audit log "
            f"({result.audit.entries} entries{reads}), every sealed row matches its seal",
            highlight=False,
        )
        for note in result.audit.notes:
            err_console.print(f"note: {shown(note)}", highlight=False)
    else:
        _render_problems(result.problems(), "registry check failed")
    if not result.ok:
        raise typer.Exit(1)


@commands.command("correct")
def correct_cmd(
    event_id: Annotated[int, typer.Argument(help="Id of the event to correct (see trace --json).")],
    assignments: Annotated[
        list[str],
        typer.Option(
            "--set",
            help=f"FIELD=VALUE to correct ({', '.join(EVENT_FIELDS)}); repeat for several. "
            "serial=NEW corrects the serial of the event's component (on its own): its history "
            "moves to the new serial, and a trace of either serial finds it.",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why, and on what authority.")],
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Correct an event: a new event that references it (history is never rewritten)."""
    # lazy: corrections validate events (country tables): correct only
    from firetrace.registry.corrections import correct_event

    changes: dict[str, str | None] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set '{item}': expected FIELD=VALUE")
        changes[name.strip()] = value
    conn = _connect(settings)
    result = correct_event(
        conn,
        event_id,
        changes,
        reason=reason,
        **settings.who,
    )
    if as_json:
        print_json(result.to_json())
        return
    console.print(shown(result.summary()), highlight=False)
