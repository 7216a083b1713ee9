"""Commands of the detect area: ``firetrace inspect FILE...`` explains design files
in depth (verdict, findings with measured values, features). The files are read
and analysed by :mod:`firetrace.forensics.inspect` (the scan's readers, guards and
record); this module only parses options and renders. Exit codes: 0 clear, 1
flagged (review or high), 2 unreadable input.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from firetrace.cli.common import Commands, JsonOpt, Settings, path_option
from firetrace.cli.output import console, print_json, table_of
from firetrace.sanitize import terminal_text
from firetrace.verdicts import FLAGGED, Verdict

commands = Commands()

RulesOpt = path_option("--rules", help="Folder of extra or overriding rules/detect/*.toml files.")

_VERDICT_STYLE = {
    Verdict.HIGH: "bold red",
    Verdict.REVIEW: "bold yellow",
    Verdict.CLEAR: "bold green",
    Verdict.ERROR: "red",
}


def _render(record: dict[str, Any]) -> None:

    verdict = record["verdict"]
    style = _VERDICT_STYLE.get(verdict, "bold")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    table.add_row("path", Text(terminal_text(record.get("path"))))  # evidence: never markup
    table.add_row("verdict", f"[{style}]{verdict.upper()}[/]  score {record['score']:.2f}")
    table.add_row("format", record.get("format") or "[dim]not a design file[/]")
    if record.get("size") is not None:
        table.add_row("size", f"{record['size']:,} bytes")
    for digest in ("sha256", "sha1", "md5"):
        if record.get(digest):
            table.add_row(digest, record[digest])
    if record.get("deleted"):
        table.add_row(
            "deleted", f"yes (recovered from the disk image, inode {record.get('inode')})"
        )
    if record.get("modified"):
        table.add_row("modified", record["modified"])
    if record.get("error"):
        table.add_row("error", Text(terminal_text(record["error"]), style="red"))
    units = record.get("units")
    if units:
        how = units.get("source", "")
        if units.get("reason"):
            how += f": {units['reason']}"
        table.add_row("units", Text(f"{units.get('unit')} ({how})"))
    features = record.get("features") or {}
    if "extents_mm" in features:
        ext = " x ".join(f"{v:.1f}" for v in features["extents_mm"])
        frame = "printed toolpath" if "toolpath" in features else "principal axes"
        table.add_row("extents", f"{ext} mm ({frame})")
    for key, label in (
        ("triangles", "triangles"),
        ("watertight", "watertight"),
        ("bodies", "bodies"),
        ("genus", "genus (through-holes)"),
        ("volume_mm3", "volume mm³"),
        ("mean_wall_mm", "mean wall mm"),
        ("voxel_mm", "voxel size mm"),
    ):
        if features.get(key) is not None:
            table.add_row(label, str(features[key]))
    toolpath = features.get("toolpath")
    if toolpath:
        table.add_row("layers", str(toolpath.get("layers")))
        table.add_row("extruding moves", str(toolpath.get("extruding_moves")))
    # names, paths and details come from the seized file: never read them as markup
    if record.get("names"):
        names = record["names"] if console.piped else record["names"][:8]
        table.add_row("names", Text(terminal_text(", ".join(names))))
    for warning in record.get("warnings") or []:
        table.add_row("warning", Text(terminal_text(warning), style="yellow"))
    title = escape(terminal_text(record.get("path")))
    console.print(Panel(table, title=title, border_style=style.split()[-1], expand=False))
    if record.get("findings"):
        findings = Table(title="Findings", show_lines=False)
        findings.add_column("rule")
        findings.add_column("weight", justify="right")
        findings.add_column("detail")
        for finding in record["findings"]:
            findings.add_row(
                Text(finding["rule"]),
                f"{finding['weight']:.2f}",
                Text(terminal_text(finding["detail"])),
            )
        console.print(findings)
    _render_bodies(record.get("bodies") or [])
    holes = features.get("holes") or []
    if holes:
        columns = ("along", "shape", "diameter mm", "w x h mm", "length mm", "L/D", "through")
        shown = table_of(f"Holes of the judged body ({len(holes)}, largest first)", columns)
        for hole in holes[:12]:
            shown.add_row(
                hole["along"],
                hole["shape"],
                f"{hole['diameter_mm']:.1f}",
                f"{hole['width_mm']:.1f} x {hole['height_mm']:.1f}",
                f"{hole['length_mm']:.1f}",
                f"{hole['length_over_diameter']:.1f}" if hole["length_over_diameter"] else "-",
                "yes" if hole["through"] else "no",
            )
        console.print(shown)


def _render_bodies(bodies: list[dict]) -> None:
    """A table of the file's bodies when it has more than one: every flagged one, and
    the others up to a screenful (all of them when piped)."""
    if len(bodies) < 2:
        return
    ranked = sorted(bodies, key=lambda b: -b["score"])
    shown = ranked if console.piped else ranked[: max(12, sum(b["score"] > 0 for b in ranked))]
    columns = ("#", "name", "verdict", "score", "extents mm", "findings or why set aside")
    table = table_of(f"Bodies ({len(bodies)}, most suspicious first)", columns)
    for body in shown:
        style = _VERDICT_STYLE.get(body["verdict"], "")
        why = body.get("set_aside") or ", ".join(f["rule"] for f in body["findings"])
        table.add_row(
            str(body["index"]),
            Text(str(body.get("name") or "")),  # from the file: never markup
            Text(str(body["verdict"]), style=style),
            f"{body['score']:.2f}",
            " x ".join(f"{v:.1f}" for v in body["extents_mm"]),
            Text(why),
        )
    console.print(table)
    if len(shown) < len(bodies):
        console.print(
            f"[dim]{len(bodies) - len(shown)} more bodies, all clear (--json lists them)[/]"
        )


@commands.command("inspect", refs=True)
def inspect_command(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Design files, or scan paths into archives and disk images "
            "(archive.zip!/member.stl); read-only.",
            show_default=False,
        ),
    ],
    as_json: JsonOpt = False,
    rules: RulesOpt = None,
    *,
    settings: Settings,
) -> None:
    """Explain how much each design file looks like a printable firearm part, and why.

    A FILE may be a path that scan printed: seized.E01!/Users/x/parts.zip!/lower.stl
    is read through the same archive and disk-image readers, with the same guards,
    and gets the same record as in the scan (MD5, SHA-1, SHA-256 included), plus
    the names and warnings found in it. With --json one file prints its record,
    several print {"records": [...]}.

    Exit 0 when every file is clear, 1 when any is flagged (review or high), 2
    when any could not be read.
    """
    # lazy: detection (readers, rules, the reference library) loads for inspect, not for --help
    from firetrace.forensics.inspect import inspect_paths

    records = []
    for record in inspect_paths(files, rules_dir=rules, db=settings.refs_db):
        records.append(record)
        if not as_json:
            _render(record)
    if as_json:
        print_json(records[0] if len(records) == 1 else {"records": records})
    raise typer.Exit(max(_exit_code(r) for r in records))


def _exit_code(record: dict[str, Any]) -> int:
    if record["verdict"] == Verdict.ERROR:
        return 2
    return 1 if record["verdict"] in FLAGGED else 0
