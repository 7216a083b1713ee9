"""G-code and Prusa binary G-code (``.bgcode``) readers: the toolpath is parsed by
:mod:`firetrace.gcode` (the one parser the report uses too), and each printed
object's layers are rebuilt into a watertight mesh in millimetres, so that a
sliced file is judged by the geometry it prints with the same rules as a mesh.

Object names, source file names and the slicer's header (slicer, version,
printer profile, filament) are evidence in words; they go into ``names`` and
``metadata`` like any other file's names.
"""

from __future__ import annotations

from typing import BinaryIO

from firetrace.detect.readers import LIMITS, Design, register
from firetrace.errors import InputError

# above this the toolpath is not rebuilt (names and metadata still are): parsing
# needs about ten bytes of memory per byte of text
MAX_GEOMETRY_BYTES = 120_000_000
_EVIDENCE_KEYS = (
    "slicer",
    "slicer_version",
    "printer_model",
    "printer_profile",
    "print_profile",
    "filament",
    "filament_type",
    "filament_vendor",
    "source_file",
    "firmware_flavor",
)


def _summary(toolpath) -> dict:
    """The toolpath figures the record shows (counts, extents, layers, width)."""
    part = toolpath.part
    extents = toolpath.extents_mm(part) or toolpath.extents_mm()
    return {
        "extruding_moves": int(toolpath.extruding.sum()),
        "part_moves": int(part.sum()),
        "layers": int(len(toolpath.layer_heights(part))) or toolpath.markers.layer_marks,
        "extents_mm": [round(v, 2) for v in extents] if extents else None,
        "layer_height_mm": toolpath.metadata.get("layer_height_mm"),
        "line_width_mm": toolpath.metadata.get("line_width_mm"),
        "objects": len(toolpath.objects),
        "markers": toolpath.markers.dialects,
        **{k: v for k, v in toolpath.moves.stats.items() if v},
    }


def design_from_gcode(data: bytes, fmt: str = "gcode", design: Design | None = None) -> Design:
    """A :class:`Design` from G-code text: names, slicer metadata, toolpath figures
    and the rebuilt bodies (the largest one as the design's mesh)."""
    from firetrace.detect.features import DEFAULTS
    from firetrace.gcode import read_toolpath
    from firetrace.gcode.rebuild import rebuild_bodies

    design = design or Design(format=fmt)
    if len(data) > MAX_GEOMETRY_BYTES:
        raise InputError(
            f"{fmt}: {len(data):,} bytes of G-code exceeds the {MAX_GEOMETRY_BYTES:,} "
            "byte limit for rebuilding its geometry"
        )
    toolpath = read_toolpath(data)
    if not toolpath.extruding.any() and not toolpath.objects:
        raise InputError(f"{fmt} without any extruding move or object name")
    meta = toolpath.metadata
    for key in _EVIDENCE_KEYS:
        if meta.get(key):
            design.metadata[key] = meta[key]
    for key in ("objects", "source_files"):
        if meta.get(key):
            design.metadata[key] = list(meta[key])
    for name in [*toolpath.objects, *meta.get("source_files", [])]:
        if name not in design.names:
            design.names.append(name)
    design.toolpath = _summary(toolpath)
    design.units = "mm"  # the parser converts G20 inches to millimetres
    bodies = rebuild_bodies(toolpath, DEFAULTS) if toolpath.part.any() else []
    design.toolpath["bodies"] = [
        {"name": b.name, "triangles": len(b.faces), "pitch_mm": b.pitch_mm, "layer_mm": b.layer_mm}
        for b in bodies
    ]
    design.rebuilt_bodies = bodies
    if bodies:
        largest = max(bodies, key=lambda b: b.volume_cells)
        design.vertices, design.faces = largest.vertices, largest.faces
        if len(bodies) > 1:
            design.warnings.append(
                f"{len(bodies)} printed objects; the largest ('{largest.name}') is judged "
                "as the file's mesh until per-body judging lands"
            )
    elif toolpath.extruding.any():
        design.warnings.append("no part geometry to rebuild (only skirt, support or purge moves)")
    return design


def _read_text(fh: BinaryIO, size: int) -> bytes:
    if size > LIMITS.max_text_bytes:
        raise InputError(f"G-code of {size:,} bytes exceeds the {LIMITS.max_text_bytes:,} limit")
    fh.seek(0)
    data = fh.read()
    if b"\x00" in data[:65536]:
        raise InputError("G-code with binary content (not text)")
    return data


@register("gcode")
def read_gcode(fh: BinaryIO, size: int, name: str | None) -> Design:
    return design_from_gcode(_read_text(fh, size), "gcode")


def _bgcode_metadata(decoded) -> dict:
    """The bgcode metadata tables, flattened (``printer_metadata.printer_model``)."""
    flat = {}
    for table, values in decoded.metadata.items():
        for key, value in list(values.items())[:300]:
            if value:
                flat[f"{table}.{key}"] = value[:200]
    return flat


@register("bgcode")
def read_bgcode(fh: BinaryIO, size: int, name: str | None) -> Design:
    from firetrace.gcode.bgcode import decode_bgcode

    if size > LIMITS.max_text_bytes:
        raise InputError(f"bgcode of {size:,} bytes exceeds the {LIMITS.max_text_bytes:,} limit")
    fh.seek(0)
    decoded = decode_bgcode(fh.read())
    design = Design(format="bgcode", metadata={"bgcode_version": decoded.version})
    design.metadata.update(_bgcode_metadata(decoded))
    design.metadata["thumbnails"] = [f"{t.format} {t.width}x{t.height}" for t in decoded.thumbnails]
    design.metadata["bgcode_compression"] = decoded.compressions
    design.metadata["bgcode_encoding"] = decoded.encodings
    if not decoded.gcode:
        raise InputError("bgcode without any G-code block")
    design = design_from_gcode(decoded.gcode, "bgcode", design)
    slicer = decoded.metadata.get("file_metadata", {}).get("Producer")
    if slicer and "slicer" not in design.metadata:
        design.metadata["slicer"] = slicer[:80]
    for key in ("printer_metadata.printer_model", "slicer_metadata.printer_settings_id"):
        if key in design.metadata:
            design.metadata.setdefault("printer_model", design.metadata[key])
    objects = design.metadata.get("print_metadata.objects_info")
    if objects and objects not in design.names:
        design.names.append(objects)
    return design
