"""Pictures of a G-code toolpath for the report: extents and a layer preview.

A sliced file has no mesh, but its extruding moves draw the part layer by
layer. :func:`parse_toolpath` turns the text into arrays of extruding segments
with regular expressions over the whole text (no per-line Python parsing of
coordinates) and forward-filled positions; :func:`render_toolpath` draws a top
view of one layer over the faint footprint of all layers, and a front view of
every extruding move, both at one millimetre scale with a scale bar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from firetrace.report.annotate import draw_scale_bar
from firetrace.report.png import encode_png
from firetrace.report.views import BACKGROUND, OUTLINE, RenderedView

_MOVE = re.compile(rb"^[ \t]*(G0?[01]|G92)(?![0-9])([^;\r\n]*)", re.M | re.I)
# One match per line: the axis word's number, or nothing when the line has none.
_AXES = {
    axis: re.compile(rb"^[^%s\n]*(?:%s\s*([-+]?\d*\.?\d+))?.*$" % (axis, axis), re.M | re.I)
    for axis in (b"X", b"Y", b"Z", b"E")
}
_RELATIVE_E = re.compile(rb"^[ \t]*M83\b", re.M | re.I)
_INCHES = re.compile(rb"^[ \t]*G20\b", re.M | re.I)
# Samples drawn per picture at most; a denser toolpath is thinned (and says so).
MAX_SAMPLES = 3_000_000
_NO_WORD = re.compile(rb"()").match(b"")
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


def _forward_fill(values: np.ndarray, start: float) -> np.ndarray:
    """Replace NaN by the last value seen before it (``start`` before any)."""
    index = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    head = np.isnan(filled)
    filled[head] = start
    return filled


def parse_toolpath(text: bytes) -> Toolpath:
    """Extruding moves of a G-code text (absolute XYZ; E absolute unless M83)."""
    commands = _MOVE.findall(text)
    n = len(commands)
    joined = b"\n".join(params for _, params in commands)
    columns = {}
    for axis, pattern in _AXES.items():
        words = pattern.findall(joined) if n else []
        if len(words) != n:  # cannot happen with one match per line; stay safe anyway
            words = [(pattern.search(params) or _NO_WORD).group(1) for _, params in commands]
        column = np.array(words or [b""], dtype=bytes)[:n]
        columns[axis] = np.where(column == b"", b"nan", column).astype(np.float64)
    is_reset = np.array([c.upper() == b"G92" for c, _ in commands], dtype=bool)
    scale = 25.4 if _INCHES.search(text) else 1.0
    x = _forward_fill(columns[b"X"], 0.0) * scale
    y = _forward_fill(columns[b"Y"], 0.0) * scale
    z = _forward_fill(np.where(is_reset, np.nan, columns[b"Z"]), 0.0) * scale
    e_raw = columns[b"E"]
    if _RELATIVE_E.search(text):
        extruding = (e_raw > 0) & ~is_reset
    else:
        e = _forward_fill(e_raw, 0.0)
        previous = np.concatenate([[0.0], e[:-1]])
        extruding = ~np.isnan(e_raw) & ~is_reset & (e > previous + 1e-9)
    if n:
        # G92 only redefines E; its X/Y/Z (rare) must not draw a segment.
        x[is_reset] = np.concatenate([[0.0], x[:-1]])[is_reset]
        y[is_reset] = np.concatenate([[0.0], y[:-1]])[is_reset]
    points = np.stack([x, y, z], axis=1)
    moving = np.zeros(n, dtype=bool)
    moving[1:] = np.any(points[1:, :2] != points[:-1, :2], axis=1)
    pick = np.flatnonzero(extruding & moving)
    pick = pick[pick > 0]
    starts, ends = points[pick - 1], points[pick]
    layers = np.unique(np.round(ends[:, 2], 3)) if len(pick) else np.zeros(0)
    return Toolpath(starts=starts, ends=ends, layers=layers)


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
    owner = np.repeat(np.arange(len(a)), steps)
    first = np.cumsum(steps) - steps
    t = (np.arange(len(owner)) - first[owner]) / np.maximum(steps[owner] - 1, 1)
    p = a[owner] + (b[owner] - a[owner]) * t[:, None]
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
