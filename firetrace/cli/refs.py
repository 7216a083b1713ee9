"""Commands of the refs area: ``firetrace refs add|list|remove|export|import|match``
manage the known-design reference library in the registry database. The work is
done by :mod:`firetrace.refs.library` and :mod:`firetrace.refs.bundle`; this
module parses options and renders. Every change is recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firetrace.cli.common import (
    DbOpt,
    JsonOpt,
    OperatorOpt,
    PurposeOpt,
    console,
    err_console,
    print_json,
    settings,
)

refs_app = typer.Typer(
    name="refs",
    help="Known-design reference library: add, list, remove, share (bundles), match.",
    no_args_is_help=True,
)


@refs_app.command("add")
def add_command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Design files (any format inspect reads).")],
    label: Annotated[str, typer.Option("--label", help="Name of the known design.")],
    json_output: JsonOpt = False,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
) -> None:
    """Add design files to the library under LABEL (all files or none)."""
    from firetrace.refs.library import add_references

    opts = settings(ctx, db, operator, purpose)
    added = add_references(
        opts.db,
        files,
        label,
        operator=opts.operator,
        purpose=opts.purpose,
        progress=lambda p: err_console.print(f"reading {p}", highlight=False),
    )
    if json_output:
        print_json({"added": added})
        return
    for item in added:
        console.print(
            f"{item['status']}: {item['file']} as '{item['label']}' "
            f"({item['faces']} triangles, hash {item['geometry_hash'][:12]})",
            highlight=False,
        )


@refs_app.command("list")
def list_command(
    ctx: typer.Context,
    json_output: JsonOpt = False,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
) -> None:
    """List the references, grouped by label."""
    from rich.table import Table

    from firetrace.refs.library import list_references

    opts = settings(ctx, db, operator, purpose)
    rows = list_references(opts.db)
    if json_output:
        print_json({"references": rows})
        return
    if not rows:
        console.print("no references")
        return
    table = Table(title=f"References ({len(rows)})")
    for column in ("id", "label", "file", "triangles", "geometry hash", "origin", "added"):
        table.add_column(column)
    for row in rows:
        origin = row["origin"]
        table.add_row(
            str(row["id"]),
            row["label"],
            row["source"] or "-",
            str(row["faces"]),
            row["geometry_hash"][:16],
            origin if len(origin) < 20 else origin[:19] + "…",
            row["added_at"],
        )
    console.print(table)


@refs_app.command("remove")
def remove_command(
    ctx: typer.Context,
    label: Annotated[str, typer.Argument(help="Label to remove (all its references).")],
    json_output: JsonOpt = False,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
) -> None:
    """Remove every reference under LABEL."""
    from firetrace.refs.library import remove_references

    opts = settings(ctx, db, operator, purpose)
    removed = remove_references(opts.db, label, operator=opts.operator, purpose=opts.purpose)
    if json_output:
        print_json({"label": label, "removed": removed})
    else:
        console.print(f"removed {removed} reference(s) labelled '{label}'", highlight=False)


@refs_app.command("export")
def export_command(
    ctx: typer.Context,
    bundle: Annotated[Path, typer.Argument(help="Bundle file to write (JSON).")],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Export only this label (repeatable).")
    ] = None,
    json_output: JsonOpt = False,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
) -> None:
    """Write the library's signatures and labels (never geometry) to BUNDLE."""
    from firetrace.refs.bundle import export_bundle

    opts = settings(ctx, db, operator, purpose)
    result = export_bundle(
        opts.db, bundle, labels=label or None, operator=opts.operator, purpose=opts.purpose
    )
    if json_output:
        print_json(result)
    else:
        console.print(
            f"wrote {result['count']} reference(s), {len(result['labels'])} label(s) to "
            f"{result['bundle']} (sha256 {result['sha256'][:16]})",
            highlight=False,
        )


@refs_app.command("import")
def import_command(
    ctx: typer.Context,
    bundle: Annotated[Path, typer.Argument(help="Bundle file to read.")],
    json_output: JsonOpt = False,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
) -> None:
    """Import a signature bundle (checked first; all or nothing)."""
    from firetrace.refs.bundle import import_bundle

    opts = settings(ctx, db, operator, purpose)
    result = import_bundle(opts.db, bundle, operator=opts.operator, purpose=opts.purpose)
    if json_output:
        print_json(result)
    else:
        console.print(
            f"imported {result['added']} reference(s) from {result['bundle']} "
            f"({result['skipped']} already present)",
            highlight=False,
        )


@refs_app.command("match")
def match_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Design file to compare with the library.")],
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="Similarity for a near match."),
    ] = None,
    json_output: JsonOpt = False,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
) -> None:
    """Match one file against the library. Exit 1 when it matches a reference."""
    from rich.table import Table

    from firetrace.refs.library import match_file

    opts = settings(ctx, db, operator, purpose)
    result = match_file(opts.db, file, threshold)
    matches = result["reference_matches"]
    if json_output:
        print_json(result)
    elif not matches:
        console.print(
            f"{file}: no match among {result['references']} reference(s)", highlight=False
        )
    else:
        table = Table(title=f"{file}: reference matches")
        for column in ("label", "match", "similarity", "scale"):
            table.add_column(column)
        for match in matches:
            table.add_row(
                match["label"],
                match["match"],
                f"{match['similarity']:.3f}",
                f"{match['scale']:.3g}x",
            )
        console.print(table)
    if matches:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    app.add_typer(refs_app, name="refs")
