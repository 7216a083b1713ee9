"""One G-code text read once: moves, what each move prints and for which object,
the layers, the line width, and the header's evidence. Both the detector and
the report read G-code through :func:`read_toolpath`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from firetrace.gcode.markers import (
    FEATURE_CODE,
    PART_FEATURES,
    Markers,
    header_metadata,
    numeric,
    scan_markers,
    source_files,
)
from firetrace.gcode.parse import MOTION_LETTERS, Moves, parse_moves
from firetrace.gcode.words import split_words

DEFAULT_WIDTH_MM = 0.45
DEFAULT_LAYER_MM = 0.2
_PART_CODES = np.array([FEATURE_CODE[name] for name in PART_FEATURES], dtype=np.int8)


@dataclass
class Toolpath:
    """A parsed G-code file."""

    moves: Moves
    feature: np.ndarray  # per move: code in markers.FEATURES
    object: np.ndarray  # per move: index into objects, -1 outside every object
    objects: list[str]
    markers: Markers
    metadata: dict = field(default_factory=dict)

    @property
    def extruding(self) -> np.ndarray:
        return self.moves.extruding

    @cached_property
    def part(self) -> np.ndarray:
        """Extruding moves that print a part: not support, skirt, brim, prime
        tower or start-up purge lines, and inside an object when the file names
        objects."""
        keep = self.extruding & np.isin(self.feature, _PART_CODES)
        if self.markers.has_objects:
            keep &= self.object >= 0
        return keep

    @cached_property
    def part_layers(self) -> np.ndarray:
        """Distinct Z of the part's moves (:meth:`layer_heights` of :attr:`part`)."""
        return self.layer_heights(self.part)

    def extruding_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every extruding move, in file order."""
        pick = self.extruding
        return self.moves.start[pick], self.moves.end[pick]

    def layer_heights(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Distinct Z (mm, rounded to 1 um) of the extruding moves selected."""
        pick = self.extruding if mask is None else mask
        if not pick.any():
            return np.zeros(0)
        return distinct_levels(self.moves.end[pick, 2])

    def extents_mm(self, mask: np.ndarray | None = None) -> list[float] | None:
        """Size of what the selected extruding moves print (X, Y, Z up from the bed)."""
        pick = self.extruding if mask is None else mask
        if not pick.any():
            return None
        low, high = bounds_of(self.moves.start[pick], self.moves.end[pick])
        return [float(high[0] - low[0]), float(high[1] - low[1]), float(high[2])]


def distinct_levels(z: np.ndarray) -> np.ndarray:
    """The distinct values of *z* rounded to 1 um, sorted. Z changes only between
    layers, so only the values where it changes are sorted."""
    rounded = np.round(z, 3)
    change = np.flatnonzero(rounded[1:] != rounded[:-1]) + 1
    return np.unique(rounded[np.concatenate(([0], change))]) if len(z) else rounded


def points_along(a: np.ndarray, b: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(points, owner): *steps[i]* evenly spaced points from a[i] to b[i], both ends
    included, for every segment at once, and the segment each point is on."""
    owner = np.repeat(np.arange(len(a)), steps)
    first = np.cumsum(steps) - steps
    t = (np.arange(len(owner)) - first[owner]) / np.maximum(steps[owner] - 1, 1)
    # column by column: gathering a column is several times faster than gathering
    # rows of two or three, and (b - a)[owner] is the same number as b[owner] - a[owner]
    span = b - a
    points = np.empty((len(owner), a.shape[1]), dtype=np.result_type(a, b, t))
    for column in range(a.shape[1]):
        points[:, column] = a[:, column][owner] + span[:, column][owner] * t
    return points, owner


def bounds_of(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) corners of the segments from *start* to *end* ((n, 3) each)."""
    # column by column: numpy reduces an (n, 3) array over axis 0 about 20x slower
    low = [min(float(start[:, i].min()), float(end[:, i].min())) for i in range(3)]
    high = [max(float(start[:, i].max()), float(end[:, i].max())) for i in range(3)]
    return np.array(low), np.array(high)


def _layer_height(meta: dict, heights: np.ndarray) -> float:
    declared = numeric(meta, "layer_height")
    if declared and 0.01 <= declared <= 2.0:
        return declared
    steps = np.diff(heights)
    steps = steps[(steps > 0.005) & (steps < 2.0)]
    return float(np.median(steps)) if len(steps) else DEFAULT_LAYER_MM


def _line_width(meta: dict, moves: Moves, pick: np.ndarray, layer: float) -> float:
    """The outer line width: the header's, else from the volume pushed per mm of path."""
    declared = numeric(meta, "outer_wall_width")
    if declared and 0.1 <= declared <= 3.0:
        return declared
    if not pick.any():
        return DEFAULT_WIDTH_MM
    length = np.hypot(*(moves.end[pick, :2] - moves.start[pick, :2]).T)
    ratio = float(np.median(moves.extrusion[pick] / np.maximum(length, 1e-9)))
    for diameter in [numeric(meta, "filament_diameter") or 1.75, 2.85]:
        width = ratio * np.pi * (diameter / 2) ** 2 / max(layer, 1e-3)
        if 0.15 <= width <= 2.5:
            return float(width)
    return DEFAULT_WIDTH_MM


def read_toolpath(data: bytes) -> Toolpath:
    """Parse a whole G-code text (bytes) into a :class:`Toolpath`."""
    words = split_words(data, MOTION_LETTERS)
    moves = parse_moves(data, words)
    markers = scan_markers(data, words.newlines)
    feature, obj = markers.at(moves.line)
    meta = header_metadata(data)
    toolpath = Toolpath(moves, feature, obj, markers.objects, markers, meta)
    part = toolpath.part
    heights = toolpath.part_layers
    layer = _layer_height(meta, heights)
    outer = part & (feature == FEATURE_CODE["outer_wall"])
    meta["layer_height_mm"] = round(layer, 4)
    meta["line_width_mm"] = round(
        _line_width(meta, moves, outer if outer.any() else part, layer), 4
    )
    if markers.objects:
        meta["objects"] = list(markers.objects)
    files = source_files(markers.objects, meta)
    if files:
        meta["source_files"] = files
    meta["dialects"] = markers.dialects
    return toolpath
