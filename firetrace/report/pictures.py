"""Pictures for one flagged file: fetch its bytes again, check them, draw them.

A card's pictures are drawn from the evidence itself, not from the scan
record: the file is read again through its full ``!/`` path (with
``firetrace.forensics.evidence.read_evidence`` when the scan area provides it,
else directly for a plain path), its SHA-256 is compared with the record's,
and its geometry is read with the inspection engine's readers. Meshes get the
three shaded views of :mod:`.views`, G-code the toolpath pictures of
:mod:`.gcode`. Whatever goes wrong becomes a sentence on the card, never an
exception: a report is still wanted when some evidence is no longer at hand.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firetrace.detect.readers import load_design
from firetrace.errors import FiretraceError
from firetrace.forensics.evidence import read_evidence

LAYER_SEPARATOR = "!/"
# Millimetres per unit, for the unit words records use (3MF's names, short forms;
# "inch (inferred from size)" is read by its first word).
MM_PER_UNIT = {
    "mm": 1.0, "millimeter": 1.0, "millimetre": 1.0,
    "inch": 25.4, "inches": 25.4, "in": 25.4,
    "cm": 10.0, "centimeter": 10.0, "centimetre": 10.0,
    "m": 1000.0, "meter": 1000.0, "metre": 1000.0,
    "foot": 304.8, "feet": 304.8, "ft": 304.8,
    "um": 0.001, "micron": 0.001, "micrometer": 0.001, "micrometre": 0.001,
}  # fmt: skip
TOOLPATH_FORMATS = ("gcode", "bgcode")


@dataclass
class Pictures:
    """What a card shows in the place of the part."""

    views: list[Any] = field(default_factory=list)  # RenderedView
    facts: list[tuple[str, str]] = field(default_factory=list)  # label, value
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # why there are no pictures
    content_check: str | None = None  # the SHA-256 comparison, in words


def mm_per_unit(units: Any) -> float:
    """Scale from a record's ``units`` to millimetres (unknown or missing: mm)."""
    if isinstance(units, dict):  # the engine's {"unit": ..., "scale_to_mm": ...}
        scale = units.get("scale_to_mm")
        if isinstance(scale, int | float) and not isinstance(scale, bool) and scale > 0:
            return float(scale)
        units = units.get("unit")
    if not isinstance(units, str) or not units.strip():
        return 1.0
    word = units.strip().lower().split()[0].strip("()[],;:")
    return MM_PER_UNIT.get(word, 1.0)


@dataclass
class EvidenceLocations:
    """Where the evidence a scan named by relative paths can be found now.

    A scan run as ``firetrace scan cases/42`` records relative paths; the
    manifest keeps each root's absolute path, and the JSONL's folder is a last
    resort, so the report can be built from another working folder.
    """

    roots: list[tuple[str, str]] = field(default_factory=list)  # (as recorded, absolute)
    base_dir: Path | None = None
    # Where re-reads may go (None: anywhere, for library callers who decide).
    evidence: list[str] | None = None

    @classmethod
    def from_manifest(
        cls, manifest: dict[str, Any] | None, base_dir: Path | None
    ) -> EvidenceLocations:
        """Where the scanned evidence is, from the scan manifest's roots (relative to
        ``base_dir``), and the roots re-reads are confined to."""
        roots, evidence = [], []
        for root in (manifest or {}).get("roots") or []:
            if isinstance(root, dict) and isinstance(root.get("path"), str):
                absolute = root.get("absolute")
                if isinstance(absolute, str) and absolute != root["path"]:
                    roots.append((root["path"].rstrip("/"), absolute.rstrip("/")))
                evidence.append(absolute if isinstance(absolute, str) else root["path"])
        if not evidence and base_dir is not None:  # no manifest: the results' own folder
            evidence = [str(base_dir)]
        return cls(roots=roots, base_dir=base_dir, evidence=evidence)

    def locate(self, path: str) -> str:
        """The readable path of a record's ``path``: its top layer found among the scan's roots."""
        top, sep, rest = path.partition(LAYER_SEPARATOR)
        if Path(top).is_absolute() or Path(top).exists():
            return path
        for recorded, absolute in self.roots:
            if top == recorded or top.startswith(recorded + "/"):
                candidate = absolute + top[len(recorded) :]
                if Path(candidate).exists():
                    return candidate + sep + rest
        if self.base_dir is not None and (self.base_dir / top).exists():
            return str(self.base_dir / top) + sep + rest
        return path


def read_subject(
    path: str, locations: EvidenceLocations | None = None, inode: int | None = None
) -> bytes:
    """The bytes of a scanned file, given its record path (``!/`` layers allowed).

    ``inode`` picks between same-named files in a disk image (live and deleted).
    """
    locations = locations or EvidenceLocations()
    located = locations.locate(path)
    # Only the evidence the manifest names (else the results' folder) is read back.
    return read_evidence(located, inode=inode, within=locations.evidence)


def _read_mesh(data: bytes, fmt: str, name: str):
    """Vertices and faces through the inspection engine's readers."""
    design = load_design(io.BytesIO(data), None if fmt == "unknown" else fmt, name)
    if not design.has_mesh:
        toolpath = design.toolpath or {}
        if toolpath.get("extents_mm"):
            size = " \u00d7 ".join(f"{v:g}" for v in toolpath["extents_mm"])
            raise FiretraceError(
                f"{design.format} holds a toolpath, not a mesh: extruding moves span {size} mm "
                f"over {toolpath.get('layers', '?')} layers; no preview for this format"
            )
        raise FiretraceError(f"{design.format} files carry no triangle mesh to draw")
    return design.vertices, design.faces


def pictures_for(record: dict[str, Any], locations: EvidenceLocations | None = None) -> Pictures:
    """Fetch, check and draw one flagged file. Never raises for bad evidence."""
    path = record["path"]
    fmt = str(record.get("format") or "unknown").lower()
    name = path.rsplit("/", 1)[-1]
    pictures = Pictures()
    try:
        inode = record.get("inode")
        data = read_subject(path, locations, inode if isinstance(inode, int) else None)
    except (OSError, FiretraceError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        pictures.problem = f"The file could no longer be read ({reason}); no pictures."
        return pictures

    expected = record.get("sha256")
    actual = hashlib.sha256(data).hexdigest()
    if not expected:
        pictures.content_check = "The scan recorded no SHA-256 to compare with."
    elif actual == expected:
        pictures.content_check = "The file read for these pictures matches the scan's SHA-256."
    else:
        pictures.content_check = (
            f"Warning: the file read now has SHA-256 {actual}, not the scan's; "
            "the pictures may not show the scanned content."
        )

    try:
        if fmt in TOOLPATH_FORMATS:
            # lazy: drawing needs numpy; the report's text and --json do not
            from firetrace.report.gcode import gcode_pictures

            shown = gcode_pictures(data, fmt)
            drawing = shown.rendering
            drawing.views = shown.views
            drawing.notes = shown.notes
            pictures.facts += shown.facts
        else:
            # lazy: drawing needs numpy; the report's text and --json do not
            from firetrace.report.views import render_views

            vertices, faces = _read_mesh(data, fmt, name)
            scale = mm_per_unit(record.get("units"))
            drawing = render_views(vertices, faces, mm_per_unit=scale)
            size = drawing.extents_mm
            pictures.facts += [
                ("Extents in the views", " \u00d7 ".join(f"{v:.1f}" for v in size) + " mm"),
                ("Triangles", f"{drawing.triangles:,}"),
                ("Views along", drawing.pose),
            ]
            if scale != 1.0:
                pictures.notes.append(f"Drawn at {scale:g} mm per unit of the file.")
    except MemoryError:
        pictures.problem = "The file is too large to draw in the memory available; no pictures."
        return pictures
    except (FiretraceError, ValueError, IndexError) as exc:
        pictures.problem = f"The file could not be drawn ({exc}); no pictures."
        return pictures
    except Exception as exc:  # a parser library failing on hostile input
        reason = f"{type(exc).__name__}: {exc}"
        pictures.problem = f"The file could not be drawn ({reason}); no pictures."
        return pictures
    pictures.views = drawing.views
    pictures.facts.append(("Scale bar", f"{drawing.scale_bar_mm:g} mm"))
    pictures.notes += drawing.notes
    return pictures
