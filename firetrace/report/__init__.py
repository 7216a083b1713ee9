"""The examiner's report: a scan's results as one self-contained HTML page.

:func:`build_report` is the one entry point (``firetrace report`` is a thin
shell over it): it reads the scan JSONL and its manifest (:mod:`.scanfile`),
picks the flagged records, draws each flagged file from the evidence
(:mod:`.pictures`, which uses :mod:`.views` for meshes and :mod:`.gcode` for
toolpaths) and writes the page (:mod:`.html`). Nothing here needs a display or
a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from firetrace import __version__
from firetrace.atomicfile import atomic_write_text
from firetrace.errors import UsageError
from firetrace.forensics.entries import LAYER_SEPARATOR
from firetrace.outputs import guard_output, refuse_outputs_in_evidence
from firetrace.report.html import Card, PageContext, render_page
from firetrace.report.pictures import EvidenceLocations, pictures_for
from firetrace.report.scanfile import flagged, load_scan


@dataclass
class ReportSummary:
    """What ``firetrace report`` tells the user (and prints with ``--json``)."""

    output: str
    records: int
    flagged: int
    cards: int
    drawn: int
    not_drawn: int
    manifest: str | None
    manifest_problem: str | None

    def as_dict(self) -> dict:
        """The summary as the JSON document ``report --json`` prints."""
        return dict(self.__dict__)


def default_output_path(jsonl: str | Path) -> Path:
    """``scan.jsonl`` -> ``scan.report.html`` beside it."""
    jsonl = Path(jsonl)
    return jsonl.with_name(jsonl.stem + ".report.html")


def build_report(
    jsonl: str | Path,
    output: str | Path | None = None,
    *,
    manifest: str | Path | None = None,
    min_verdict: str = "review",
    limit: int | None = None,
    operator: str | None = None,
    purpose: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    force: bool = False,
) -> ReportSummary:
    """Write the examiner's report for a scan and say what went into it.

    ``operator`` and ``purpose`` (who prepares the report, and for which case
    or request) are printed under the title. ``progress(done, total, path)``
    is called before each flagged file is drawn. An existing ``output`` is
    replaced only with ``force``.
    """

    jsonl = Path(jsonl)
    output = Path(output) if output is not None else default_output_path(jsonl)
    if limit is not None and limit < 0:
        raise UsageError("--limit must be zero or more")
    # Before anything is read or drawn: not the scan, its manifest, the registry.
    guard_output("--output", output, inputs=[jsonl, manifest], force=force)
    scan = load_scan(jsonl, manifest)
    chosen, total = flagged(scan.records, min_verdict, limit)
    locations = EvidenceLocations.from_manifest(scan.manifest, jsonl.resolve().parent)
    # Nor into the evidence it re-reads: the manifest's roots, and every file drawn.
    evidence = list(locations.evidence or []) if scan.manifest else []
    evidence += [locations.locate(r.path).split(LAYER_SEPARATOR)[0] for r in chosen]
    refuse_outputs_in_evidence([output], evidence)

    cards = []
    for number, record in enumerate(chosen, 1):
        if progress is not None:
            progress(number - 1, len(chosen), record.path)
        pictures = pictures_for(record.data, locations)
        cards.append(
            Card(
                number=number,
                record=record.data,
                views=pictures.views,
                facts=pictures.facts,
                notes=pictures.notes,
                problem=pictures.problem,
                content_check=pictures.content_check,
            )
        )
    if progress is not None:
        progress(len(chosen), len(chosen), "")

    context = PageContext(
        title=f"Examiner's report: {jsonl.name}",
        tool_version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        jsonl_name=str(jsonl),
        jsonl_sha256=scan.jsonl_sha256,
        manifest=scan.manifest,
        manifest_note=scan.manifest_problem,
        records=[r.data for r in scan.records],
        min_verdict=min_verdict,
        total_flagged=total,
        limit=limit,
        prepared_by=operator,
        purpose=purpose,
    )
    page = render_page(context, cards)
    atomic_write_text(output, page)
    drawn = sum(1 for c in cards if c.views)
    return ReportSummary(
        output=str(output),
        records=len(scan.records),
        flagged=total,
        cards=len(cards),
        drawn=drawn,
        not_drawn=len(cards) - drawn,
        manifest=str(scan.manifest_path) if scan.manifest is not None else None,
        manifest_problem=scan.manifest_problem,
    )


__all__ = ["ReportSummary", "build_report", "default_output_path"]
