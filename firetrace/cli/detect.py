"""Commands of the detect area: ``firetrace inspect FILE`` explains one design file
in depth (verdict, findings with measured values, features). The work is done by
:func:`firetrace.detect.engine.inspect_file`; this module only parses options and
renders. Exit codes: 0 clear, 1 flagged (review or high), 2 unreadable input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from firetrace.cli.common import Commands, JsonOpt, Settings, console, print_json
from firetrace.inputs import regular_file
from firetrace.verdicts import FLAGGED, Verdict

commands = Commands()

RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", help="Folder of extra or overriding rules/detect/*.toml files."),
]

_VERDICT_STYLE = {
    Verdict.HIGH: "bold red",
    Verdict.REVIEW: "bold yellow",
    Verdict.CLEAR: "bold green",
    Verdict.ERROR: "red",
}


def _matcher_for(db: Path):
    """The reference library's matcher for this registry, if that feature is installed."""
    try:
        from firetrace.refs.library import load_matcher
    except ImportError:
        return None
    if not db.exists():
        return None
    return load_matcher(db)


def _render(record: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    verdict = record["verdict"]
    style = _VERDICT_STYLE.get(verdict, "bold")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    table.add_row("verdict", f"[{style}]{verdict.upper()}[/]  score {record['score']:.2f}")
    table.add_row("format", str(record.get("format")))
    table.add_row("size", f"{record.get('size')} bytes")
    table.add_row("sha256", str(record.get("sha256")))
    if record.get("error"):
        table.add_row("error", Text(record["error"], style="red"))
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
        table.add_row("names", Text(", ".join(names)))
    for warning in record.get("warnings") or []:
        table.add_row("warning", Text(warning, style="yellow"))
    title = escape(str(record.get("path")))
    console.print(Panel(table, title=title, border_style=style.split()[-1], expand=False))
    if record.get("findings"):
        findings = Table(title="Findings", show_lines=False)
        findings.add_column("rule")
        findings.add_column("weight", justify="right")
        findings.add_column("detail")
        for finding in record["findings"]:
            findings.add_row(
                Text(finding["rule"]), f"{finding['weight']:.2f}", Text(finding["detail"])
            )
        console.print(findings)
    holes = features.get("holes") or []
    if holes:
        shown = Table(title=f"Holes ({len(holes)}, largest first)")
        for column in ("along", "shape", "diameter mm", "w x h mm", "length mm", "L/D", "through"):
            shown.add_column(column)
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


@commands.command("inspect")
def inspect_command(
    file: Annotated[Path, typer.Argument(help="Design file to inspect (read-only).")],
    as_json: JsonOpt = False,
    rules: RulesOpt = None,
    *,
    settings: Settings,
) -> None:
    """Explain how much one design file looks like a printable firearm part, and why."""
    from firetrace.detect.engine import inspect_file
    from firetrace.detect.rules import load_rules

    # A FIFO or device would block or never end: refused before anything opens it.
    regular_file(file, folder="is a folder (use 'firetrace scan' for folders)")
    rule_set = load_rules(rules) if rules else None
    matcher = _matcher_for(settings.db)
    record = inspect_file(file, rules=rule_set, matcher=matcher)
    if as_json:
        print_json(record)
    else:
        _render(record)
    if record["verdict"] == Verdict.ERROR:
        raise typer.Exit(2)
    if record["verdict"] in FLAGGED:
        raise typer.Exit(1)
