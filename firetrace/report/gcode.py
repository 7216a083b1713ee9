"""Pictures of a G-code toolpath for the report: extents and a layer preview.

A sliced file has no mesh, but its extruding moves draw the part layer by
layer. :func:`parse_toolpath` takes the extruding segments from the one G-code
parser (:mod:`firetrace.gcode`, which the detector reads through as well);
:func:`render_toolpath` draws a top
view of one layer over the faint footprint of all layers, and a front view of
every extruding move, both at one millimetre scale with a scale bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firetrace.gcode.toolpath import points_along
from firetrace.report.annotate import draw_scale_bar
from firetrace.report.png import encode_png
from firetrace.report.views import BACKGROUND, OUTLINE, RenderedView

# Samples drawn per picture at most; a denser toolpath is thinned (and says so).
MAX_SAMPLES = 3_000_000
FOOTPRINT = np.array([205, 212, 222], dtype=np.uint8)


@dataclass
class Toolpath:
    """Extruding segments (start and end points, mm) and their layer heights."""

    starts: np.ndarray  # (n, 3)
    ends: np.ndarray  # (n, 3)
    layers: np.ndarray  # sorted distinct Z of extruding moves

    @property
    def extents_mm(self) -> tuple[float, float, float]:
        points = np.vstack([self.starts, self.ends])
        size = np.ptp(points, axis=0) if len(points) else np.zeros(3)
        return (float(size[0]), float(size[1]), float(size[2]))


@dataclass
class ToolpathRendering:
    views: list[RenderedView]
    extruding_moves: int
    layer_count: int
    preview_layer: int
    preview_z: float
    extents_mm: tuple[float, float, float]
    scale_bar_mm: float
    notes: list[str] = field(default_factory=list)


def toolpath_of(parsed) -> Toolpath:
    """The extruding segments of a :class:`firetrace.gcode.Toolpath`."""
    starts, ends = parsed.extruding_segments()
    return Toolpath(starts=starts, ends=ends, layers=parsed.layer_heights())


def parse_toolpath(text: bytes) -> Toolpath:
    """Extruding moves of a G-code text, read by the one G-code parser
    (:func:`firetrace.gcode.read_toolpath`) that the detector uses too."""
    from firetrace.gcode import read_toolpath

    return toolpath_of(read_toolpath(text))


def _draw_segments(image: np.ndarray, a: np.ndarray, b: np.ndarray, colour: np.ndarray) -> bool:
    """Draw 2D pixel-space segments; returns True when they had to be thinned."""
    height, width = image.shape[:2]
    if len(a) == 0:
        return False
    steps = np.ceil(np.abs(b - a).max(axis=1)).astype(np.int64) + 1
    thinned = False
    if steps.sum() > MAX_SAMPLES:
        stride = int(np.ceil(steps.sum() / MAX_SAMPLES))
        a, b, steps = a[::stride], b[::stride], steps[::stride]
        thinned = True
    p, _ = points_along(a, b, steps)
    col = np.floor(p[:, 0]).astype(np.int64)
    row = np.floor(p[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    image[row[inside], col[inside]] = colour
    return thinned


def render_toolpath(
    toolpath: Toolpath, *, width: int = 400, height: int = 320
) -> ToolpathRendering:
    """A layer preview (top) and a front view of all extruding moves, as PNGs."""
    if len(toolpath.starts) == 0:
        raise ValueError("the G-code has no extruding moves to draw")
    points = np.vstack([toolpath.starts, toolpath.ends])
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    extent = high - low
    margin, bar_room = 12, 26
    fits = [
        min((width - 2 * margin) / max(w, 1e-9), (height - 2 * margin - bar_room) / max(h, 1e-9))
        for w, h in ((extent[0], extent[1]), (extent[0], extent[2]))
    ]
    px_per_mm = float(min(fits))
    mid = np.array([width / 2, (height - bar_room) / 2])

    def to_px(p: np.ndarray, up_axis: int) -> np.ndarray:
        return np.stack(
            [
                mid[0] + (p[:, 0] - centre[0]) * px_per_mm,
                mid[1] - (p[:, up_axis] - centre[up_axis]) * px_per_mm,
            ],
            axis=1,
        )

    notes: list[str] = []
    layer_index = len(toolpath.layers) // 2
    layer_z = float(toolpath.layers[layer_index])
    on_layer = np.isclose(np.round(toolpath.ends[:, 2], 3), layer_z)

    top = np.empty((height, width, 3), np.uint8)
    top[:] = BACKGROUND
    thinned = _draw_segments(top, to_px(toolpath.starts, 1), to_px(toolpath.ends, 1), FOOTPRINT)
    thinned |= _draw_segments(
        top, to_px(toolpath.starts[on_layer], 1), to_px(toolpath.ends[on_layer], 1), OUTLINE
    )
    bar_mm = draw_scale_bar(top, px_per_mm)

    front = np.empty((height, width, 3), np.uint8)
    front[:] = BACKGROUND
    thinned |= _draw_segments(
        front, to_px(toolpath.starts, 2), to_px(toolpath.ends, 2), np.array([70, 96, 130], np.uint8)
    )
    draw_scale_bar(front, px_per_mm)
    if thinned:
        notes.append("The toolpath was thinned for the picture (too many moves to draw them all).")
    views = [
        RenderedView(
            "layer",
            f"Layer {layer_index + 1} of {len(toolpath.layers)} at Z {layer_z:g} mm (top view; "
            "all layers faint)",
            encode_png(top),
            width,
            height,
        ),
        RenderedView(
            "front", "Front (X right, Z up): every extruding move", encode_png(front), width, height
        ),
    ]
    return ToolpathRendering(
        views=views,
        extruding_moves=len(toolpath.starts),
        layer_count=len(toolpath.layers),
        preview_layer=layer_index + 1,
        preview_z=layer_z,
        extents_mm=toolpath.extents_mm,
        scale_bar_mm=bar_mm,
        notes=notes,
    )


@dataclass
class GcodePictures:
    """Everything the card of a G-code or bgcode file shows."""

    rendering: ToolpathRendering
    views: list[RenderedView]
    facts: list[tuple[str, str]]
    notes: list[str]


def _thumbnail_view(thumbnail) -> RenderedView | None:
    """The slicer's own preview embedded in a bgcode file (PNG only: the page
    embeds PNG images; JPG and QOI thumbnails are named, not shown)."""
    if thumbnail.format != "png" or not thumbnail.data.startswith(b"\x89PNG"):
        return None
    return RenderedView(
        "thumbnail",
        f"The slicer's embedded thumbnail ({thumbnail.width} x {thumbnail.height} px)",
        thumbnail.data,
        min(thumbnail.width, 400),
        min(thumbnail.height, 320),
    )


def gcode_pictures(data: bytes, fmt: str) -> GcodePictures:
    """Toolpath pictures, the rebuilt objects' shaded views and (bgcode) the
    embedded thumbnail, for one file's bytes."""
    from firetrace.detect.features import DEFAULTS
    from firetrace.gcode import read_toolpath
    from firetrace.gcode.rebuild import rebuild_bodies
    from firetrace.report.views import render_views

    thumbnails = []
    if fmt == "bgcode":
        from firetrace.gcode.bgcode import decode_bgcode

        decoded = decode_bgcode(data)
        data, thumbnails = decoded.gcode, decoded.thumbnails
    parsed = read_toolpath(data)
    rendering = render_toolpath(toolpath_of(parsed))
    views = list(rendering.views)
    notes = list(rendering.notes)
    size = rendering.extents_mm
    facts = [
        ("Extents of extruding moves", f"{size[0]:.1f} \u00d7 {size[1]:.1f} mm"),
        ("Height of extruding moves", f"{size[2]:.2f} mm"),
        ("Layers", f"{rendering.layer_count:,}"),
        ("Extruding moves", f"{rendering.extruding_moves:,}"),
    ]
    if parsed.objects:
        facts.append(("Printed objects", ", ".join(parsed.objects[:12])))
    for thumbnail in thumbnails:
        view = _thumbnail_view(thumbnail)
        if view is not None:
            views.append(view)
        else:
            notes.append(
                f"Embedded {thumbnail.format} thumbnail {thumbnail.width}x"
                f"{thumbnail.height} (not shown: only PNG is embedded in the page)."
            )
    for body in rebuild_bodies(parsed, DEFAULTS)[:3]:
        shaded = render_views(body.vertices, body.faces)
        for view in shaded.views[:1]:
            view.caption = f"Rebuilt from the layers: {body.name} ({view.caption})"
            views.append(view)
    return GcodePictures(rendering, views, facts, notes)
