"""Commands of the refs area: ``firetrace refs add|list|remove|export|import|match``
manage the known-design reference library in the registry database. The work is
done by :mod:`firetrace.refs.library` and :mod:`firetrace.refs.bundle`; this
module parses options and renders. Every change is recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from firetrace.cli.common import Commands, ForceOpt, JsonOpt, Settings
from firetrace.cli.output import (
    console,
    err_console,
    print_json,
    print_result,
    printed_instead_of_rows,
    shown,
    table_of,
)

commands = Commands()
refs_group = commands.group(
    "refs",
    help="Known-design reference library: add, list, remove, share (bundles), match.",
    refs=True,
)


@refs_group.command("add")
def add_command(
    files: Annotated[list[Path], typer.Argument(help="Design files (any format inspect reads).")],
    label: Annotated[str, typer.Option("--label", help="Name of the known design.")],
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Add design files to the library under LABEL (all files or none)."""
    # lazy: the reference library (geometry, numpy) loads for refs commands, not for --help
    from firetrace.refs.library import add_references

    added = add_references(
        settings.refs_db,
        files,
        label,
        **settings.who,
        progress=lambda p: err_console.print(f"reading {shown(p)}"),
    )
    if as_json:
        print_json({"added": added})
        return
    for item in added:
        console.print(
            f"{item['status']}: {shown(item['file'])} as '{shown(item['label'])}' "
            f"({item['faces']} triangles, hash {console.clip(item['geometry_hash'], 12)})"
        )


@refs_group.command("list")
def list_command(as_json: JsonOpt = False, *, settings: Settings) -> None:
    """List the references, grouped by label."""
    # lazy: the reference library (geometry, numpy) loads for refs commands, not for --help
    from firetrace.refs.library import list_references

    rows = list_references(settings.refs_db)
    if printed_instead_of_rows(as_json, {"references": rows}, rows, "no references"):
        return
    columns = ("id", "label", "file", "triangles", "geometry hash", "origin", "added")
    table = table_of(f"References ({len(rows)})", columns)
    for row in rows:
        origin = row["origin"]
        table.add_row(
            str(row["id"]),
            shown(row["label"]),
            shown(row["source"] or "-"),
            str(row["faces"]),
            console.clip(row["geometry_hash"], 16),
            shown(console.clip(origin, 19, "…")),
            row["added_at"],
        )
    console.print(table)


@refs_group.command("remove")
def remove_command(
    label: Annotated[str, typer.Argument(help="Label to remove (all its references).")],
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Remove every reference under LABEL."""
    # lazy: the reference library (geometry, numpy) loads for refs commands, not for --help
    from firetrace.refs.library import remove_references

    removed = remove_references(settings.refs_db, label, **settings.who)
    summary = f"removed {removed} reference(s) labelled '{shown(label)}'"
    print_result(as_json, {"label": label, "removed": removed}, summary)


@refs_group.command("export")
def export_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle file to write (JSON).")],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Export only this label (repeatable).")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Write the library's signatures and labels (never geometry) to BUNDLE."""
    # lazy: the reference library (geometry, numpy) loads for refs commands, not for --help
    from firetrace.refs.bundle import export_bundle

    result = export_bundle(
        settings.refs_db, bundle, labels=label or None, **settings.who, force=force
    )
    summary = (
        f"wrote {result['count']} reference(s), {len(result['labels'])} label(s) to "
        f"{shown(result['bundle'])} (sha256 {console.clip(result['sha256'], 16)})"
    )
    print_result(as_json, result, summary)


@refs_group.command("import")
def import_command(
    bundle: Annotated[Path, typer.Argument(help="Bundle file to read.")],
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Import a signature bundle (checked first; all or nothing)."""
    # lazy: the reference library (geometry, numpy) loads for refs commands, not for --help
    from firetrace.refs.bundle import import_bundle

    result = import_bundle(settings.refs_db, bundle, **settings.who)
    summary = (
        f"imported {result['added']} reference(s) from {shown(result['bundle'])} "
        f"({result['skipped']} already present)"
    )
    print_result(as_json, result, summary)


@refs_group.command("match")
def match_command(
    file: Annotated[Path, typer.Argument(help="Design file to compare with the library.")],
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="Similarity for a near match."),
    ] = None,
    as_json: JsonOpt = False,
    *,
    settings: Settings,
) -> None:
    """Match one file against the library. Exit 1 when it matches a reference."""
    # lazy: the reference library (geometry, numpy) loads for refs commands, not for --help
    from firetrace.refs.library import match_file

    result = match_file(settings.refs_db, file, threshold)
    matches = result["reference_matches"]
    if as_json:
        print_json(result)
    elif not matches:
        console.print(f"{shown(file)}: no match among {result['references']} reference(s)")
    else:
        table = table_of(
            f"{shown(file)}: reference matches", ("label", "match", "similarity", "scale")
        )
        for match in matches:
            table.add_row(
                shown(match["label"]),
                match["match"],
                f"{match['similarity']:.3f}",
                f"{match['scale']:.3g}x",
            )
        console.print(table)
    if matches:
        raise typer.Exit(1)
