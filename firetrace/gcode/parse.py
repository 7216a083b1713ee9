"""Moves of a G-code text: the modal state machine, vectorised.

Positions are the nozzle's physical positions in millimetres. Each modal setting
(units G20/G21, positioning G90/G91, extrusion mode M82/M83 and G90/G91 for E as
Marlin does, firmware retraction G10/G11) is a forward fill over lines of the
events that set it. An axis's logical position is the last absolute value (a
word in absolute mode, G92, G28) plus the relative words since; G92 moves the
origin, so the physical position adds the running sum of its offsets (reset by
G28). Arcs (G2/G3, centre by I/J or radius by R, with Z and E spread along them)
become chords of at most :data:`ARC_STEP_MM` and :data:`ARC_STEP_RAD`. A motion
line with no G word repeats the last motion command (modal G1).

A move extrudes when it travels in X/Y and its E grows: retractions,
unretractions and E-only primes are not extrusions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from firetrace.gcode.words import Words, split_words

ARC_STEP_MM = 0.5
ARC_STEP_RAD = np.deg2rad(6.0)
MAX_ARC_SEGMENTS = 2000
INCH = 25.4
MOTION_LETTERS = "GMTXYZEIJR"  # the only words the state machine reads


@dataclass
class Moves:
    """Straight moves in file order (arcs already split into chords)."""

    start: np.ndarray  # (n, 3) mm
    end: np.ndarray  # (n, 3) mm
    extrusion: np.ndarray  # (n,) filament length in mm (negative: retraction)
    line: np.ndarray  # (n,) 0-based source line of the command
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.line)

    @cached_property
    def extruding(self) -> np.ndarray:
        """Moves that lay down material: they travel in X/Y and push filament."""
        end, start = self.end, self.start  # column by column: see toolpath.bounds_of
        moved = (end[:, 0] != start[:, 0]) | (end[:, 1] != start[:, 1])
        return (self.extrusion > 1e-9) & moved

    def subset(self, mask: np.ndarray) -> Moves:
        return Moves(
            self.start[mask], self.end[mask], self.extrusion[mask], self.line[mask], self.stats
        )


def forward_fill(values: np.ndarray, start: float) -> np.ndarray:
    """Replace NaN by the last value seen before it (*start* before any)."""
    index = np.where(np.isnan(values), np.int32(0), np.arange(len(values), dtype=np.int32))
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    filled[np.isnan(filled)] = start
    return filled


def _events(pairs: list[tuple[np.ndarray, float]], n: int) -> np.ndarray:
    """NaN everywhere except on the listed lines, which get their pair's value
    (later pairs win)."""
    out = np.full(n, np.nan)
    for lines, value in pairs:
        out[lines] = value
    return out


def _mode(pairs: list[tuple[np.ndarray, float]], n: int) -> np.ndarray | np.bool_:
    """A modal on/off setting per line from the lines that switch it (value 1 on,
    0 off; off before the first); a scalar False when nothing ever switches it on."""
    if not any(len(lines) for lines, value in pairs if value):
        return np.False_
    return forward_fill(_events(pairs, n), 0.0) > 0


def _motion_codes(words: Words, n: int) -> np.ndarray:
    """Per line: the G0-G3 motion command it gives (the last one on the line), NaN
    where it gives none."""
    lines, values = words.of("G")
    pick = (values >= 0) & (values <= 3) & (values == np.floor(values))
    out = np.full(n, np.nan)
    out[lines[pick]] = values[pick]
    return out


def _mask(lines: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[lines] = True
    return out


def _logical_axis(value, is_set, set_value, is_add) -> np.ndarray:
    """Logical position per line: the last absolute value plus the relative moves since."""
    n = len(value)
    last = np.where(is_set, np.arange(n, dtype=np.int32), np.int32(-1))
    np.maximum.accumulate(last, out=last)
    last += 1
    base = np.concatenate(([0.0], np.where(is_set, set_value, 0.0)))
    position = base[last]
    if is_add.any():  # relative moves (G91, M83): add those since the last absolute value
        cum = np.concatenate(([0.0], np.cumsum(np.where(is_add, value, 0.0))))
        position += cum[1:] - cum[last]
    return position


def _segmented_cumsum(values: np.ndarray, reset: np.ndarray) -> np.ndarray:
    """Running sum of *values* that restarts (excluding the line) where *reset* holds."""
    if not values.any():
        return values
    cum = np.cumsum(values)
    last = np.where(reset, np.arange(len(values)), -1)
    np.maximum.accumulate(last, out=last)
    before = np.concatenate(([0.0], cum))
    return cum - before[last + 1]


@dataclass
class _State:
    motion: np.ndarray  # per line: the move's G code (0-3), NaN when not a move
    physical: np.ndarray  # (lines, 3)
    logical_e: np.ndarray
    arc_i: np.ndarray | None  # per line (None without arcs)
    arc_j: np.ndarray | None
    arc_r: np.ndarray | None
    stats: dict


def _physical_axis(value, moved, homed, g92, reset, relative) -> np.ndarray:
    """Physical position per line of one axis (X, Y or Z): see the module docstring."""
    present = ~np.isnan(value)
    g92 = g92 & (present | reset)
    if not g92.any() and not relative.any():
        # the common case: absolute moves and homes, no origin shifts
        return forward_fill(np.where(homed, 0.0, np.where(moved, value, np.nan)), 0.0)
    g92_value = np.where(present, value, 0.0)
    is_set = (moved & ~relative) | g92 | homed
    set_value = np.where(homed, 0.0, np.where(g92, g92_value, value))
    logical = _logical_axis(value, is_set, set_value, moved & relative)
    before = np.concatenate(([0.0], logical[:-1]))
    shift = np.where(g92, before - g92_value, 0.0)
    return logical + _segmented_cumsum(shift, homed)


def _modal_state(words: Words) -> _State:
    n = words.line_count
    g = {code: words.lines_with("G", code) for code in (2, 3, 10, 11, 20, 21, 28, 90, 91, 92)}
    m82, m83 = words.lines_with("M", 82), words.lines_with("M", 83)
    # inches (G20) are rare: without them the scale is the number 1
    scale = forward_fill(_events([(g[21], 1.0), (g[20], INCH)], n), 1.0) if len(g[20]) else 1.0
    relative = _mode([(g[90], 0.0), (g[91], 1.0)], n)
    relative_e = _mode([(g[90], 0.0), (g[91], 1.0), (m82, 0.0), (m83, 1.0)], n)

    def scaled(axis: str) -> np.ndarray:
        return words.column(axis) if len(g[20]) == 0 else words.column(axis) * scale

    columns = {axis: scaled(axis) for axis in "XYZE"}
    axis_word = np.zeros(n, dtype=bool)
    for axis in "XYZE":
        axis_word |= ~np.isnan(columns[axis])
    explicit = _motion_codes(words, n)
    # a line of axis words alone repeats the last motion command (modal G1)
    bare = axis_word & ~words.has_letter("G") & ~words.has_letter("M") & ~words.has_letter("T")
    if bare.any():
        modal = forward_fill(explicit, 1.0)
        motion = np.where(~np.isnan(explicit), explicit, np.where(bare, modal, np.nan))
    else:
        motion = explicit
    is_motion = ~np.isnan(motion)
    g92 = _mask(g[92], n)
    reset_all = g92 & ~axis_word
    homing = _mask(g[28], n)
    # G28 homes the axes it names (G28 X, with or without a number), or all of them
    named = {axis: words.has_letter(axis) for axis in "XYZ"} if len(g[28]) else {}
    home_all = homing & ~(named["X"] | named["Y"] | named["Z"]) if named else homing
    physical = np.empty((n, 3))
    for index, axis in enumerate("XYZ"):
        value = columns[axis]
        present = ~np.isnan(value)
        homed = homing & (named[axis] | home_all) if named else homing
        physical[:, index] = _physical_axis(
            value, is_motion & present, homed, g92, reset_all, relative
        )
    e = columns["E"]
    e_present = ~np.isnan(e)
    g92_e = g92 & (e_present | reset_all)
    is_set = (is_motion & e_present & ~relative_e) | g92_e
    set_value = np.where(g92_e, np.where(e_present, e, 0.0), e)
    logical_e = _logical_axis(e, is_set, set_value, is_motion & e_present & relative_e)
    arcs = len(g[2]) + len(g[3])
    stats = {
        "lines": n,
        "arcs": arcs,
        "inch_lines": int(np.sum(scale != 1.0)) if len(g[20]) else 0,
        "firmware_retractions": len(g[10]),
        "firmware_unretractions": len(g[11]),
        "g92_resets": len(g[92]),
    }
    arc_words = [scaled(axis) if arcs else None for axis in "IJR"]
    return _State(motion, physical, logical_e, *arc_words, stats=stats)


def _arc_geometry(start, end, i, j, r, clockwise):
    """Centre, start angle, signed sweep and radius of each arc (XY plane)."""
    chord = end[:, :2] - start[:, :2]
    use_r = np.isnan(i) & np.isnan(j) & ~np.isnan(r)
    centre = start[:, :2] + np.stack([np.nan_to_num(i), np.nan_to_num(j)], axis=1)
    if use_r.any():
        length = np.hypot(chord[:, 0], chord[:, 1])
        half = length / 2
        rr = np.abs(np.nan_to_num(r))
        height = np.sqrt(np.clip(rr**2 - half**2, 0.0, None))
        normal = np.stack([-chord[:, 1], chord[:, 0]], axis=1) / np.maximum(length, 1e-12)[:, None]
        # the centre sits left of the chord for a short counter-clockwise arc;
        # a clockwise arc or a negative R (the long way round) puts it right
        side = np.where(clockwise, -1.0, 1.0) * np.where(np.nan_to_num(r) < 0, -1.0, 1.0)
        by_radius = start[:, :2] + chord / 2 + normal * (height * side)[:, None]
        centre = np.where(use_r[:, None], by_radius, centre)
    a0 = np.arctan2(start[:, 1] - centre[:, 1], start[:, 0] - centre[:, 0])
    a1 = np.arctan2(end[:, 1] - centre[:, 1], end[:, 0] - centre[:, 0])
    ccw_sweep = np.mod(a1 - a0, 2 * np.pi)
    full = np.all(np.abs(chord) < 1e-9, axis=1) & ~use_r
    ccw_sweep = np.where(full | (ccw_sweep < 1e-12), 2 * np.pi, ccw_sweep)
    cw_sweep = np.mod(a0 - a1, 2 * np.pi)
    cw_sweep = np.where(full | (cw_sweep < 1e-12), 2 * np.pi, cw_sweep)
    sweep = np.where(clockwise, -cw_sweep, ccw_sweep)
    radius = np.hypot(start[:, 0] - centre[:, 0], start[:, 1] - centre[:, 1])
    return centre, a0, sweep, radius


def _expand(state: _State) -> Moves:
    """Straight moves, one per motion line and several per arc."""
    motion_lines = np.flatnonzero(~np.isnan(state.motion))
    end = state.physical[motion_lines]
    before = np.maximum(motion_lines - 1, 0)  # a move starts where the line before left off
    start = np.where((motion_lines > 0)[:, None], state.physical[before], 0.0)
    e_before = np.where(motion_lines > 0, state.logical_e[before], 0.0)
    extrusion = state.logical_e[motion_lines] - e_before
    code = state.motion[motion_lines]
    arc = (code == 2) | (code == 3)
    if not arc.any():  # the common case: one straight move per motion line
        return Moves(start, end, extrusion, motion_lines, state.stats)
    return _with_arcs(state, motion_lines, start, end, extrusion, code, arc)


def _with_arcs(state: _State, motion_lines, start, end, extrusion, code, arc) -> Moves:
    """The moves with every arc split into chords (see the module docstring)."""
    counts = np.ones(len(motion_lines), dtype=np.int64)
    centre, a0, sweep, radius = _arc_geometry(
        start[arc],
        end[arc],
        state.arc_i[motion_lines[arc]],
        state.arc_j[motion_lines[arc]],
        state.arc_r[motion_lines[arc]],
        code[arc] == 2,
    )
    pieces = np.maximum(
        np.ceil(np.abs(sweep) * radius / ARC_STEP_MM), np.ceil(np.abs(sweep) / ARC_STEP_RAD)
    )
    counts[arc] = np.clip(np.nan_to_num(pieces, nan=1.0), 1, MAX_ARC_SEGMENTS).astype(np.int64)
    owner = np.repeat(np.arange(len(motion_lines)), counts)
    first = np.cumsum(counts) - counts
    step = np.arange(len(owner)) - first[owner] + 1
    t = step / counts[owner]
    points = start[owner] + (end[owner] - start[owner]) * t[:, None]
    arc_index = np.cumsum(arc) - 1
    on_arc = arc[owner]
    which = arc_index[owner[on_arc]]
    angle = a0[which] + sweep[which] * t[on_arc]
    points[on_arc, 0] = centre[which, 0] + radius[which] * np.cos(angle)
    points[on_arc, 1] = centre[which, 1] + radius[which] * np.sin(angle)
    last = step == counts[owner]  # land exactly on the commanded end point
    points[last] = end[owner[last]]
    starts = np.concatenate((start[:1], points[:-1])) if len(points) else points
    # the first piece of every command starts where the previous command ended
    starts[first] = start
    return Moves(
        start=starts,
        end=points,
        extrusion=(extrusion / counts)[owner],
        line=motion_lines[owner],
        stats=state.stats,
    )


def parse_moves(data: bytes, words: Words | None = None) -> Moves:
    """Every move of a G-code text, in millimetres (see the module docstring)."""
    words = words if words is not None else split_words(data, MOTION_LETTERS)
    return _expand(_modal_state(words))
