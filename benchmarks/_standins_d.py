"""Held-out stand-in family D: "hobbyist CAD export" meshes of overlapping, un-unioned shells.

Why a fourth family: the detection rules were tuned on family A
(``samples/generate.py``: axis-aligned boxes and cylinders cut by manifold3d booleans),
and families B (``benchmarks/_standins_b.py``: manifold3d outlines extruded, revolved,
lofted and hulled) and C (``benchmarks/_standins_c.py``: signed-distance solids meshed
by marching cubes) were each held out once and are now spent. Family D gives a
held-out figure again. It was written from a coarse description of the features a lab
looks for, without opening the detection rules (``rules/``) or the detection code
(``firetrace/detect/``, its tests and docs/detection.md), and no detector was run on
any of its meshes while it was written. Score it with the rules frozen beforehand and
never tune a rule or threshold on its results: a change made after looking at them
spends it.

Construction (different from A, B and C): no mesh booleans, no signed-distance field,
no manifold3d and no ``trimesh.creation`` solids. Every shell is written vertex by
vertex in numpy, the way many real STL files come out of hobbyist CAD exports:

* a part is several *overlapping, never-unioned shells* in one mesh: walls of a hollow
  box are separate slabs that interpenetrate at their corners, a collar is a ring
  pushed over a tube, a loop's bar is sunk into the body it hangs from, a well is four
  slabs hanging from a member. Each shell is closed on its own; their union is the
  part. Overlaps are 0.2-6 mm deep, placed so that faces of different shells do not
  coincide;
* low-segment polygons: bores, pin holes and cylinders have 6-16 sides (a stated
  diameter is the flat-to-flat one, so no opening is narrower than it says);
* lathe profiles with steps, chamfers and countersunk bore ends (a closed (x, r)
  polyline revolved with 6-16 segments);
* plates with through-holes made directly as an extruded 2-D triangulation: the plate
  is cut into cells, one hole to a cell, each cell's ring between its outline and its
  hole triangulated by angle, then extruded, some holes countersunk;
* sweeps of a convex section (or a section with a hole, for sleeves and pipes) along
  a polyline or a closed polygon, with mitred joints;
* mixed tessellation: some shells are subdivided 1-2 times (fine), others are left
  coarse; occasionally one minor shell has its normals flipped, or a stray triangle
  on one of its edges (a non-manifold edge), as careless exports do;
* sub-features at 0-35 degrees to the body axes, placed asymmetrically.

Nothing here is, or resembles in detail, a real or functional design. Positives share
only coarse features with printable firearm parts (a straight calibre-sized bore
through a long body, a finger-sized loop, a well or through-cavity, rows of 2-4 small
parallel pin holes across the width, a long channel with a bore on its axis, long
thin-walled boxes and sleeves); look-alikes are ordinary objects built the same way
that share one of those features (pipes, handles, hinges, brackets, rails, boxes).

Kinds (``python benchmarks/_standins_d.py`` prints each with its measured extents):
7 positives, ``collared_barrel`` (80-500 mm), ``slab_frame`` (120-270 mm),
``slab_receiver`` (180-330 mm with its bore stub), ``railed_channel`` (150-320 mm),
``swept_sleeve`` (120-305 mm), ``magazine_box`` (90-230 mm), ``tube_loop_frame``
(150-285 mm); 13 look-alikes, ``flashlight_body``, ``knob_with_bore``, ``drawer_rail``,
``butt_hinge``, ``shelf_bracket``, ``cable_guide``, ``pencil_cup``, ``door_pull``,
``napkin_ring``, ``storage_box``, ``chisel_handle``, ``picture_frame``, ``pipe_elbow``
(25-450 mm). Each kind states the range of its longest extent and of its triangle
count (50-30,000: coarse exports next to subdivided ones); the tests hold it to them.

API (as families B and C): ``POSITIVES`` and ``LOOKALIKES`` map kind names to builders
``rng -> trimesh.Trimesh`` (construction frame, long axis x, millimetres); :func:`build`
adds a random rigid pose; :func:`sample` yields ``(group, kind, mesh)``, one random
stream per kind and index. Meshes are *not* watertight as a whole (their shells
interpenetrate), and a few have one flipped or non-manifold minor shell.

Usage: ``python benchmarks/_standins_d.py [--count N] [--seed S] [--out DIR]`` prints a
table of the kinds with measured extents and triangle counts; ``--out`` also writes
posed STL files.
"""

from __future__ import annotations

import argparse
import itertools
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import trimesh

Builder = Callable[[np.random.Generator], trimesh.Trimesh]
MARGIN = 0.6  # mm of plate kept between a hole and its cell's edge
FLIP_CHANCE = 0.15  # one minor shell exported with its normals flipped
STRAY_CHANCE = 0.15  # one minor shell with a stray triangle on an edge (non-manifold)


# --- random draws ----------------------------------------------------------------------


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer from *low* to *high* inclusive."""
    return int(rng.integers(low, high + 1))


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


# --- frames ----------------------------------------------------------------------------


def _turn(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """A 3x3 rotation (degrees): roll about x, then pitch about y, then yaw about z."""
    r, p, y = np.radians([roll, pitch, yaw])
    about_x = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])
    about_y = np.array([[np.cos(p), 0, np.sin(p)], [0, 1, 0], [-np.sin(p), 0, np.cos(p)]])
    about_z = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
    return about_z @ about_y @ about_x


PLATE_TO_XZ = _turn(roll=90)  # a plate built in xy (thickness along z) laid flat in xz
PLATE_TO_YZ = _turn(yaw=90) @ _turn(roll=90)  # ... stood up in yz (thickness along x)


def _moved(mesh: trimesh.Trimesh, turn: np.ndarray | None = None, at=(0.0, 0.0, 0.0)):
    """*mesh* turned about its origin by *turn*, then moved by *at* (in place)."""
    matrix = np.eye(4)
    if turn is not None:
        matrix[:3, :3] = turn
    matrix[:3, 3] = at
    mesh.apply_transform(matrix)
    return mesh


def _shell(vertices, faces) -> trimesh.Trimesh:
    """One closed shell, its winding made consistent and facing outward."""
    faces = np.asarray(faces, dtype=np.int64)
    keep = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    )
    mesh = trimesh.Trimesh(np.asarray(vertices, dtype=float), faces[keep], process=True)
    mesh.fix_normals()
    return mesh


# --- 2-D loops (counterclockwise, about their own centre) ------------------------------


def _ngon(flat_diameter: float, sides: int, phase: float = 0.0) -> np.ndarray:
    """A regular polygon whose flat-to-flat width is *flat_diameter*."""
    radius = flat_diameter / 2 / np.cos(np.pi / sides)
    angles = phase + 2 * np.pi * np.arange(sides) / sides
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def _rect(width: float, height: float, chamfer: float = 0.0) -> np.ndarray:
    """A width x height rectangle, its corners cut by *chamfer* (8 points) or not (4)."""
    w, h, c = width / 2, height / 2, min(chamfer, 0.45 * min(width, height))
    if c <= 0:
        return np.array([[w, -h], [w, h], [-w, h], [-w, -h]])
    return np.array(
        [
            [w, -h + c],
            [w, h - c],
            [w - c, h],
            [-w + c, h],
            [-w, h - c],
            [-w, -h + c],
            [-w + c, -h],
            [w - c, -h],
        ]  # fmt: skip
    )


def _stadium(width: float, height: float, sides_per_end: int) -> np.ndarray:
    """A slot: width along x, rounded ends of diameter *height* (polygonal)."""
    r, reach = height / 2, max(width / 2 - height / 2, 0.0)
    right = np.linspace(-np.pi / 2, np.pi / 2, sides_per_end + 1)
    left = right + np.pi
    return np.vstack(
        [
            np.column_stack([reach + r * np.cos(right), r * np.sin(right)]),
            np.column_stack([-reach + r * np.cos(left), r * np.sin(left)]),
        ]
    )


# --- shells ----------------------------------------------------------------------------


def _slab(size, centre=(0.0, 0.0, 0.0), turn: np.ndarray | None = None) -> trimesh.Trimesh:
    """A box of *size* (x, y, z) about *centre*, turned about that centre."""
    half = np.asarray(size, dtype=float) / 2
    corners = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)]) * half
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [f for a, b, c, d in quads for f in ((a, b, c), (a, c, d))]
    return _moved(_shell(corners, faces), turn, centre)


def _lathe(profile, sides: int, phase: float = 0.0) -> trimesh.Trimesh:
    """A solid of revolution about x: *profile* is a closed loop of (x, r) points, r >= 0,
    revolved in *sides* segments; points on the axis become single vertices."""
    profile = np.asarray(profile, dtype=float)
    angles = phase + 2 * np.pi * np.arange(sides) / sides
    index = np.empty((len(profile), sides), dtype=np.int64)
    vertices = []
    for i, (x, r) in enumerate(profile):
        if r <= 1e-9:
            index[i] = len(vertices)
            vertices.append([x, 0.0, 0.0])
        else:
            index[i] = len(vertices) + np.arange(sides)
            vertices.extend(
                np.column_stack([np.full(sides, x), r * np.cos(angles), r * np.sin(angles)])
            )
    nxt = np.roll(np.arange(sides), -1)
    a, b = index, np.roll(index, -1, axis=0)
    faces = np.vstack(
        [
            np.stack([a, b, b[:, nxt]], axis=-1).reshape(-1, 3),
            np.stack([a, b[:, nxt], a[:, nxt]], axis=-1).reshape(-1, 3),
        ]
    )
    return _shell(np.array(vertices), faces)


def _tube_profile(length, bore, outer, steps=(), chamfer=0.0, sink=(0.0, 0.0)):
    """(x, r) loop of a tube along x from 0 to *length*: bore radius *bore*, outer radius
    *outer*, *steps* of (x_from, x_to, radius) raising the outside, outer ends chamfered
    by *chamfer*, bore ends countersunk by *sink* (start, end) mm."""
    c = chamfer
    outside = [(0.0, outer - c), (c, outer)] if c else [(0.0, outer)]
    for start, end, radius in sorted(steps):
        outside += [(start, outer), (start, radius), (end, radius), (end, outer)]
    outside += [(length - c, outer), (length, outer - c)] if c else [(length, outer)]
    s0, s1 = sink
    inside = [(length, bore + s1), (length - s1, bore)] if s1 else [(length, bore)]
    inside += [(s0, bore), (0.0, bore + s0)] if s0 else [(0.0, bore)]
    return outside + inside


def _sweep(section, path, closed: bool = False, hole=None) -> trimesh.Trimesh:
    """A convex 2-D *section* (u across the path in its plane, w along z) swept along a
    polyline *path* in the xy plane, mitred at its joints; *hole* (a loop with as many
    points as *section*, angle for angle) makes it a sleeve. Open paths get flat caps."""
    path = np.asarray(path, dtype=float)
    if path.shape[1] == 2:
        path = np.column_stack([path, np.zeros(len(path))])
    count = len(path)
    segments = np.diff(np.vstack([path, path[:1]]) if closed else path, axis=0)
    segments /= np.linalg.norm(segments, axis=1, keepdims=True)
    incoming = np.roll(segments, 1, axis=0) if closed else np.vstack([segments[:1], segments])
    outgoing = segments if closed else np.vstack([segments, segments[-1:]])
    tangent = incoming + outgoing
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0], np.zeros(count)])
    mitre = 1.0 / np.einsum("ij,ij->i", tangent, outgoing)
    up = np.array([0.0, 0.0, 1.0])

    def rings(loop):
        loop = np.asarray(loop, dtype=float)
        across = loop[None, :, 0:1] * (mitre[:, None, None] * normal[:, None, :])
        return path[:, None, :] + across + loop[None, :, 1:2] * up

    k = len(section)
    loops = [rings(section)] + ([rings(hole)] if hole is not None else [])
    vertices = np.vstack([r.reshape(-1, 3) for r in loops])
    faces = []
    steps = count if closed else count - 1
    for offset in range(len(loops)):
        base = offset * count * k
        for i in range(steps):
            here, there = base + i * k, base + ((i + 1) % count) * k
            for j in range(k):
                n = (j + 1) % k
                faces += [(here + j, here + n, there + n), (here + j, there + n, there + j)]
    if not closed:
        extra = []
        for ring_index in (0, count - 1):
            outer = np.arange(k) + ring_index * k
            if hole is None:
                centre = len(vertices) + len(extra)
                extra.append(loops[0][ring_index].mean(axis=0))
                faces += [(centre, outer[j], outer[(j + 1) % k]) for j in range(k)]
            else:
                inner = outer + count * k
                for j in range(k):
                    n = (j + 1) % k
                    faces += [(outer[j], outer[n], inner[n]), (outer[j], inner[n], inner[j])]
        if extra:
            vertices = np.vstack([vertices, extra])
    return _shell(vertices, faces)


def _ring_path(width: float, height: float, segments: int, phase: float = 0.0) -> np.ndarray:
    """A closed polygon through an ellipse of *width* x *height* about the origin."""
    angles = phase + 2 * np.pi * np.arange(segments) / segments
    return np.column_stack([width / 2 * np.cos(angles), height / 2 * np.sin(angles)])


class Hole(NamedTuple):
    """A through-hole of a plate: centre, convex loop about it, countersink (depth mm,
    widening factor at the face, on both faces or only the top)."""

    x: float
    y: float
    loop: np.ndarray
    sink: tuple[float, float, bool] = (0.0, 1.0, False)


def _cell_pieces(x0: float, x1: float, height: float, hole: np.ndarray | None) -> list:
    """The cell [x0, x1] x [0, height] less a convex counterclockwise *hole*, as convex
    pieces (point lists, counterclockwise): a slab left and one right of the hole, a
    trapezoid over each edge of its upper chain and under each of its lower chain.
    The cell's sides carry a midpoint, shared with the next cell."""
    if hole is None:
        return [
            [(x0, 0.0), (x1, 0.0), (x1, height / 2), (x1, height), (x0, height), (x0, height / 2)]
        ]
    pts = [tuple(float(v) for v in p) for p in hole]
    xs = np.array([p[0] for p in pts])
    on_left = sorted((p for p in pts if p[0] - xs.min() < 1e-7), key=lambda p: p[1])
    on_right = sorted((p for p in pts if xs.max() - p[0] < 1e-7), key=lambda p: p[1])
    left, right = on_left[0][0], on_right[0][0]
    start = pts.index(on_right[-1])  # counterclockwise from the highest rightmost: the top
    order = pts[start:] + pts[:start]
    upper = order[: order.index(on_left[-1]) + 1]
    lower = order[order.index(on_left[0]) :] + order[:1]
    lower = lower[: lower.index(on_right[0]) + 1]
    pieces = [
        [(x0, 0.0), (left, 0.0), *on_left, (left, height), (x0, height), (x0, height / 2)],
        [(right, 0.0), (x1, 0.0), (x1, height / 2), (x1, height), (right, height), *on_right[::-1]],
    ]
    for a, b in zip(upper[:-1], upper[1:], strict=True):  # a is right of b
        pieces.append([b, a, (a[0], height), (b[0], height)])
    for a, b in zip(lower[:-1], lower[1:], strict=True):  # a is left of b
        pieces.append([(a[0], 0.0), (b[0], 0.0), b, a])
    return pieces


def _polygon_area(loop: np.ndarray) -> float:
    x, y = loop[:, 0], loop[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _plate(length: float, height: float, thickness: float, holes=()) -> trimesh.Trimesh:
    """A plate x in [0, length], y in [0, height], z in [0, thickness] with through-holes
    along z, made as one extruded triangulation (no boolean): one hole to a cell."""
    holes = sorted(holes, key=lambda h: h.x)
    spans = [
        (h.x + h.loop[:, 0].min() * h.sink[1], h.x + h.loop[:, 0].max() * h.sink[1]) for h in holes
    ]
    cuts = [0.0]
    for (_, right), (left, _) in zip(spans[:-1], spans[1:], strict=True):
        if left - right < 2 * MARGIN:
            raise ValueError(f"holes too close along the plate ({left - right:.2f} mm)")
        cuts.append((left + right) / 2)
    cuts.append(length)
    for hole, (left, right) in zip(holes, spans, strict=True):
        low = hole.y + hole.loop[:, 1].min() * hole.sink[1]
        high = hole.y + hole.loop[:, 1].max() * hole.sink[1]
        if left < MARGIN or right > length - MARGIN or low < MARGIN or high > height - MARGIN:
            raise ValueError("a hole reaches the edge of its plate")
    points: dict[tuple[float, float], int] = {}
    hole_of: list[int] = []

    def point(xy, which: int) -> int:
        key = (round(float(xy[0]), 6), round(float(xy[1]), 6))
        if key not in points:
            points[key] = len(points)
            hole_of.append(which)
        return points[key]

    triangles = []
    for cell in range(len(cuts) - 1):
        hole = holes[cell] if holes else None
        inner = hole.loop + (hole.x, hole.y) if hole else None
        hole_points = {tuple(float(v) for v in p) for p in inner} if hole else set()
        for number, piece in enumerate(_cell_pieces(cuts[cell], cuts[cell + 1], height, inner)):
            ids = [point(p, cell if p in hole_points else -1) for p in piece]
            if number >= 2:  # a trapezoid
                triangles += [(ids[0], ids[1], ids[2]), (ids[0], ids[2], ids[3])]
            else:
                centre = point(np.mean(piece, axis=0), -1)
                triangles += [(centre, ids[j], ids[(j + 1) % len(ids)]) for j in range(len(ids))]
    flat = np.array(list(points), dtype=float)
    triangles = np.array(triangles, dtype=np.int64)
    a, b, c = flat[triangles[:, 0]], flat[triangles[:, 1]], flat[triangles[:, 2]]
    area = 0.5 * (
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )
    triangles[area < 0] = triangles[area < 0][:, ::-1]  # every triangle counterclockwise
    # ... and together they cover the plate less its holes exactly once
    solid = length * height - sum(_polygon_area(h.loop) for h in holes)
    if np.abs(area).min() < 1e-6 or abs(np.abs(area).sum() - solid) > 1e-6 * length * height:
        raise ValueError("the plate's triangulation does not cover it")
    return _extruded(flat, triangles, np.array(hole_of), holes, thickness)


def _extruded(flat, triangles, hole_of, holes, thickness) -> trimesh.Trimesh:
    """The 2-D triangulation made solid: a bottom, a top and walls on its boundary
    edges, each hole's wall in layers (a countersink widens its ring at the face)."""
    vertices, ids = [], []
    for index, which in enumerate(hole_of):
        depth, widen, both = holes[which].sink if which >= 0 else (0.0, 1.0, False)
        if depth <= 0:
            stack = [(0.0, 1.0), (thickness, 1.0)]
        elif both:
            stack = [(0.0, widen), (depth, 1.0), (thickness - depth, 1.0), (thickness, widen)]
        else:
            stack = [(0.0, 1.0), (thickness - depth, 1.0), (thickness, widen)]
        centre = np.array([holes[which].x, holes[which].y]) if which >= 0 else flat[index]
        row = []
        for z, scale in stack:
            xy = centre + (flat[index] - centre) * scale
            row.append(len(vertices))
            vertices.append([xy[0], xy[1], z])
        ids.append(row)
    bottom = np.array([row[0] for row in ids])
    top = np.array([row[-1] for row in ids])
    faces = [tuple(bottom[t][::-1]) for t in triangles] + [tuple(top[t]) for t in triangles]
    edges = np.vstack([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    _, inverse, counts = np.unique(
        np.sort(edges, axis=1), axis=0, return_inverse=True, return_counts=True
    )
    for a, b in edges[counts[inverse.ravel()] == 1]:
        for level in range(len(ids[a]) - 1):
            a0, a1, b0, b1 = ids[a][level], ids[a][level + 1], ids[b][level], ids[b][level + 1]
            faces += [(a0, b0, b1), (a0, b1, a1)]
    return _shell(vertices, faces)


def _plate_at(length, height, thick, holes=(), turn=None, at=(0.0, 0.0, 0.0)):
    """A :func:`_plate` centred on its thickness (z), then turned and moved."""
    plate = _moved(_plate(length, height, thick, holes), None, (0.0, 0.0, -thick / 2))
    return _moved(plate, turn, at)


def _pin_row(rng, count, diameter, spacing, centre, degrees, sink_depth=0.0) -> list[Hole]:
    """*count* holes of flat width *diameter* on a line through *centre* inclined
    *degrees* in the plate; countersunk by *sink_depth* mm when it is not 0."""
    angle, sides = np.radians(degrees), _int(rng, 6, 12)
    sink = (
        (sink_depth, 1.0 + _u(rng, 0.3, 0.6), rng.random() < 0.5)
        if sink_depth
        else (0.0, 1.0, False)
    )
    offsets = (np.arange(count) - (count - 1) / 2) * spacing
    return [
        Hole(
            centre[0] + o * np.cos(angle),
            centre[1] + o * np.sin(angle),
            _ngon(diameter, sides, _u(rng, 0, 1)),
            sink,
        )
        for o in offsets
    ]


def _row_in_band(rng, count, diameter, spacing, span, band, max_degrees=35.0, sink_depth=0.0):
    """A pin row inclined up to *max_degrees*, kept inside the x *span* and the y *band*
    of a plate (fewer holes, or a flatter line, where it would not fit)."""
    reach_out = diameter / 2 / np.cos(np.pi / 6) * (1.6 if sink_depth else 1.0)  # any hole's reach
    low, high = band[0] + reach_out + 0.8, band[1] - reach_out - 0.8
    degrees = _u(rng, 0, max_degrees) * _sign(rng)
    while True:
        gap = max(spacing, (2 * reach_out + 1.5) / np.cos(np.radians(degrees)))
        reach = (count - 1) * gap
        across = reach * np.cos(np.radians(degrees)) + 2 * reach_out + 2 * MARGIN
        rise = reach * abs(np.sin(np.radians(degrees)))
        if rise <= max(high - low, 0.0) and across <= span[1] - span[0]:
            break
        if abs(degrees) > 1:
            degrees *= 0.7
        elif count > 1:
            count, degrees = count - 1, 0.0
        else:
            break
    x = (
        _u(rng, span[0] + across / 2, span[1] - across / 2)
        if across < span[1] - span[0]
        else sum(span) / 2
    )
    y = (low + high) / 2 + _u(rng, -0.5, 0.5) * max(high - low - rise, 0.0)
    return _pin_row(rng, count, diameter, gap, (x, y), degrees, sink_depth)


def _pin_draw(rng) -> tuple[int, float, float]:
    """A pin row's count (2-4), hole width (2.5-5 mm) and spacing."""
    count, pin = _int(rng, 2, 4), _u(rng, 2.5, 5)
    return count, pin, pin + _u(rng, 3.5, 9)


# --- the export itself -----------------------------------------------------------------


def _finer(mesh: trimesh.Trimesh, times: int) -> trimesh.Trimesh:
    for _ in range(times):
        mesh = mesh.subdivide()
    return mesh


def _exported(rng: np.random.Generator, main: list, minor: list) -> trimesh.Trimesh:
    """The shells as one un-unioned mesh, as a careless export writes them: *main*
    shells kept clean (some subdivided); one *minor* shell maybe flipped, or given a
    stray triangle on one of its edges."""
    main = [_finer(m, _int(rng, 1, 2)) if rng.random() < 0.3 else m for m in main]
    minor = [_finer(m, 1) if rng.random() < 0.25 else m for m in minor]
    if minor and rng.random() < FLIP_CHANCE:
        pick = int(rng.integers(len(minor)))
        minor[pick] = minor[pick].copy()
        minor[pick].invert()
    if minor and rng.random() < STRAY_CHANCE:
        pick = int(rng.integers(len(minor)))
        shell = minor[pick]
        face = int(rng.integers(len(shell.faces)))
        a, b = shell.faces[face][:2]
        tip = (shell.vertices[a] + shell.vertices[b]) / 2 + _u(rng, 1, 3) * shell.face_normals[face]
        vertices = np.vstack([shell.vertices, tip])
        faces = np.vstack([shell.faces, [[b, a, len(shell.vertices)]]])
        minor[pick] = trimesh.Trimesh(vertices, faces, process=False)
    shells = main + minor
    vertices, faces, base = [], [], 0
    for i in rng.permutation(len(shells)):
        vertices.append(np.asarray(shells[i].vertices))
        faces.append(np.asarray(shells[i].faces) + base)
        base += len(shells[i].vertices)
    return trimesh.Trimesh(np.vstack(vertices), np.vstack(faces), process=False)


# --- shared members --------------------------------------------------------------------


class Tube(NamedTuple):
    """A bored tube along x and the radii other shells need to sit on it."""

    mesh: trimesh.Trimesh
    bore_corner: float  # the bore's circumradius: no other shell may come nearer the axis
    outer_flat: float  # the outside's flats
    outer_corner: float  # the outside's corners


def _bored_tube(rng, length, bore, wall, sides=None, sinks=True, steps=0) -> Tube:
    """A low-segment tube along x from 0 to *length* with a bore of flat width *bore*."""
    sides = sides or _int(rng, 8, 16)
    inner = bore / 2 / np.cos(np.pi / sides)  # the bore's flats are at bore / 2 ...
    outer = (bore / 2 + wall) / np.cos(np.pi / sides)  # ... and the outside's at bore / 2 + wall
    chamfer = _u(rng, 0.3, wall / 3) if rng.random() < 0.7 else 0.0
    room = max(outer - chamfer - inner, 0.0) * 0.5
    sink = tuple(
        _u(rng, 0.2, 1.0) * room if sinks and rng.random() < 0.6 else 0.0 for _ in range(2)
    )
    raised = []
    if steps:
        start = _u(rng, 0.05, 0.4) * length
        raised.append((start, start + _u(rng, 0.1, 0.4) * length, outer + _u(rng, 1.0, 4.0)))
    mesh = _lathe(
        _tube_profile(length, inner, outer, raised, chamfer, sink), sides, _u(rng, 0, np.pi)
    )
    return Tube(mesh, inner, bore / 2 + wall, outer)


def _collar(rng, tube: Tube, x, width, grow) -> trimesh.Trimesh:
    """A polygonal ring pushed over *tube* from *x*: it cuts into the tube's wall, never
    into its bore."""
    sides = _int(rng, 8, 16)
    wanted = tube.outer_flat - _u(rng, 0.3, 1.5)
    if wanted * np.cos(np.pi / sides) < tube.bore_corner + 0.4:
        sides = 16  # finer, so that its flats stay clear of the bore
    low = (tube.bore_corner + 0.4) / np.cos(np.pi / sides)
    opening = float(np.clip(wanted, low, tube.outer_corner - 0.2))
    profile = [
        (x, opening),
        (x + width, opening),
        (x + width, tube.outer_corner + grow),
        (x, tube.outer_corner + grow),
    ]
    return _lathe(profile, sides, _u(rng, 0, np.pi))


def _hanging_well(opening_x, opening_z, wall, depth, lean, top_x, top_y=0.0) -> list:
    """Four slabs around an opening_x x opening_z opening hanging from y = *top_y* into
    -y, leaning *lean* degrees (bottom toward +x); their tops rise 2.5 mm and more above
    *top_y*, into whatever they hang from."""
    reach = opening_x / 2 + wall
    inset = 2.5 + reach * np.sin(np.radians(lean))
    turn, tall = _turn(yaw=lean), depth + inset
    middle = inset - tall / 2
    slabs = []
    for side in (-1, 1):  # the walls across the width, then fore and aft
        slabs.append(
            (
                (opening_x + 2 * wall - 0.4, tall, wall),
                (0.0, middle + 0.3 * side, side * (opening_z + wall) / 2),
            )
        )
        slabs.append(
            (
                (wall, tall - 0.5, opening_z + wall),
                (side * (opening_x + wall) / 2, middle - 0.25, 0.0),
            )
        )
    return [
        _slab(size, turn @ np.array(centre) + (top_x, top_y, 0.0), turn) for size, centre in slabs
    ]


def _well_rise(opening_x, wall, lean) -> float:
    """How far above its hanging line a :func:`_hanging_well`'s highest corner rises."""
    return 2.5 + 2 * (opening_x / 2 + wall) * np.sin(np.radians(lean))


def _finger_loop(rng, opening_w, opening_h, bar, thick, centre_x, top_y) -> trimesh.Trimesh:
    """A closed loop swept around a finger-sized opening, its plane tilted up to 10
    degrees, its highest point at *top_y*."""
    path = _ring_path(opening_w + bar, opening_h + bar, _int(rng, 10, 16), _u(rng, 0, 0.5))
    if rng.random() < 0.6:
        section = _rect(bar, thick, _u(rng, 0, bar / 3))
    else:
        section = _ngon(bar, 8) * (1.0, thick / bar)
    loop = _moved(_sweep(section, path, closed=True), _turn(roll=_u(rng, -10, 10)))
    return _moved(loop, None, (centre_x, top_y - loop.bounds[1][1], 0.0))


# --- positives -------------------------------------------------------------------------


def collared_barrel(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long low-segment tube with a calibre bore (stepped, chamfered, countersunk),
    one or two collars pushed over it and a lug sunk into it, yawed up to 35 degrees."""
    length, bore, wall = _u(rng, 80, 500), _u(rng, 5, 20), _u(rng, 3.5, 9)
    tube = _bored_tube(rng, length, bore, wall, steps=_int(rng, 0, 1))
    minor = []
    for _ in range(_int(rng, 1, 2)):
        width = _u(rng, 8, 25)
        minor.append(
            _collar(rng, tube, _u(rng, 0.05, 0.9) * (length - width), width, _u(rng, 3, 8))
        )
    lug = (_u(rng, 15, min(40, length / 3)), _u(rng, 6, 15), _u(rng, 8, 16))
    centre = (_u(rng, 0.05, 0.3) * length + lug[0] / 2, tube.outer_flat - 1.0 + lug[1] / 2, 0.0)
    minor.append(_slab(lug, centre, _turn(pitch=_u(rng, 0, 35) * _sign(rng))))
    return _exported(rng, [tube.mesh], minor)


def slab_frame(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long drilled member (pin row through its width), a well of four slabs hanging
    from it at a lean of 0-30 degrees, a finger loop sunk into its underside, often a
    bored tube laid along its top."""
    length, height, thick = _u(rng, 120, 220), _u(rng, 24, 40), _u(rng, 18, 30)
    bar = _u(rng, 3.5, 6)
    count, pin, spacing = _pin_draw(rng)
    sink = _u(rng, 0.5, 1.5) if rng.random() < 0.3 else 0.0
    row = _row_in_band(
        rng,
        count,
        pin,
        spacing,
        (0.04 * length, 0.4 * length),
        (bar + 2.0, height - 1.5),
        sink_depth=sink,
    )
    member = _plate_at(length, height, thick, row)
    well_x, wall = _u(rng, 25, 50), _u(rng, 2, 4)
    well_z = _u(rng, 12, max(thick - wall - 1, 12.5))
    lean = _u(rng, 0, 30)
    while _well_rise(well_x, wall, lean) > height - 1.5:
        lean *= 0.8
    top_x = length - _u(rng, 8, 25) - well_x / 2 - wall
    well = _hanging_well(well_x, well_z, wall, _u(rng, 70, 110), lean, top_x)
    opening_w, opening_h = _u(rng, 20, 30), _u(rng, 18, 28)
    loop_x = top_x - well_x / 2 - wall - _u(rng, 3, 10) - (opening_w / 2 + bar)
    loop = _finger_loop(rng, opening_w, opening_h, bar, _u(rng, 6, 11), loop_x, bar + 1.0)
    main, minor = [member] + well[:2], well[2:] + [loop]
    if rng.random() < 0.6:
        bore, tube_wall = _u(rng, 5, 14), _u(rng, 3.5, 6)
        tube_len = _u(rng, 0.6, 1.0) * length
        tube = _bored_tube(rng, tube_len, bore, tube_wall)
        at = (_u(rng, 0, length - tube_len), height + tube.outer_flat - 1.5, 0.0)
        main.append(_moved(tube.mesh, None, at))
    return _exported(rng, main, minor)


def slab_receiver(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long hollow box of four wall plates (1.2-3 mm) overlapping at the corners: a
    pin row across one or both sides, a well opening in the floor with a sleeve hanging
    from it at a lean of 0-25 degrees, an end plate whose bore a short tube carries on."""
    length, inner_w, inner_h, t = (
        _u(rng, 150, 240),
        _u(rng, 20, 36),
        _u(rng, 24, 45),
        _u(rng, 1.2, 3),
    )
    top = _slab(
        (length - 1.3, t, inner_w + t), (length / 2 + _u(rng, -0.5, 0.5), inner_h + 1.5 * t, 0.0)
    )
    side_h = inner_h + 1.6 * t  # each side runs from y = 0.2 t, inside the floor and the top
    count, pin, spacing = _pin_draw(rng)
    span = (0.05 * length, 0.4 * length) if rng.random() < 0.5 else (0.6 * length, 0.95 * length)
    row = _row_in_band(rng, count, pin, spacing, span, (0.8 * t, inner_h + 0.8 * t), 25.0)
    pin_side = _sign(rng)
    sides = [
        _plate_at(
            length,
            side_h,
            t,
            row if side == pin_side or rng.random() < 0.5 else [],
            None,
            (0.0, 0.2 * t, side * (inner_w + t) / 2),
        )  # fmt: skip
        for side in (-1, 1)
    ]
    sleeve_wall = _u(rng, 1.2, 3)
    well_x, well_z = (
        _u(rng, 25, min(60, length / 3)),
        _u(rng, 10, max(inner_w - 2 * sleeve_wall, 10.5)),
    )
    floor_x, floor_len = _u(rng, 0.3, 1.0), length - _u(rng, 1.5, 3.0)
    well_at = _u(rng, 0.35, 0.65) * floor_len
    floor_w = inner_w + t
    hole = Hole(well_at, floor_w / 2, _rect(well_x, well_z, _u(rng, 0, 3)))
    floor = _plate_at(floor_len, floor_w, t, [hole], None, (0.0, -floor_w / 2, 0.0))
    floor = _moved(floor, PLATE_TO_XZ, (floor_x, t / 2, 0.0))
    sleeve = _hanging_well(
        well_x, well_z, sleeve_wall, _u(rng, 40, 90), _u(rng, 0, 25), floor_x + well_at, t / 2
    )
    bore = _u(rng, 5, min(20.0, min(inner_w, inner_h) - 4))
    plate_t = _u(rng, 3, 8)
    plate_w, plate_h = inner_w + 2 * t + 0.6, inner_h + 2 * t
    hole = Hole(plate_w / 2, plate_h / 2, _ngon(bore, _int(rng, 6, 16), _u(rng, 0, 1)))
    end_plate = _plate_at(plate_w, plate_h, plate_t, [hole], None, (-plate_w / 2, 0.0, plate_t / 2))
    end_plate = _moved(end_plate, _turn(pitch=-90), (0.5, -0.3, 0.0))  # x from 0.5 - plate_t to 0.5
    stub_len = _u(rng, 30, 80)
    stub = _bored_tube(rng, stub_len + 1.0, bore, _u(rng, 3, 6), sinks=False)
    stub_at = (0.5 - plate_t - stub_len, plate_h / 2 - 0.3, 0.0)
    main = [top, *sides, floor, end_plate]
    return _exported(rng, main, sleeve + [_moved(stub.mesh, None, stub_at)])


def railed_channel(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long U channel of three overlapping plates with a bored tube on its axis sunk
    into its floor, rails along the tops of its sides and pin holes across its width."""
    length = _u(rng, 150, 320)
    bore, tube_wall, tf, ts = _u(rng, 5, 20), _u(rng, 3, 5), _u(rng, 2, 4), _u(rng, 2, 4)
    tube = _bored_tube(rng, _u(rng, 0.7, 1.0) * length, bore, tube_wall)
    width = 2 * tube.outer_corner + 2 * ts + _u(rng, 2, 14)
    count, pin, spacing = _pin_draw(rng)
    above = tf - 0.5 + tube.outer_flat + tube.outer_corner  # the tube's top
    side_h = above + _u(rng, pin + 3.5, 14)
    floor = _slab((length - 1.1, tf, width), (length / 2 + _u(rng, -0.4, 0.4), tf / 2, 0.0))
    row = _row_in_band(
        rng, count, pin, spacing, (0.1 * length, 0.9 * length), (above - 0.5, side_h), 30.0
    )
    main, minor = [floor], []
    for side in (-1, 1):
        holes = row if side == 1 or rng.random() < 0.6 else []
        z = side * (width / 2 - ts / 2 + 0.4)
        main.append(_plate_at(length, side_h, ts, holes, None, (0.0, 0.5, z)))
        rail_h, rail_w = _u(rng, 3, 6), _u(rng, 4, 8)
        rail_len = _u(rng, 0.5, 0.95) * length
        centre = (
            _u(rng, rail_len / 2, length - rail_len / 2),
            side_h - 0.5 + rail_h / 2,
            z + side * (rail_w - ts) / 2 + side * 0.3,
        )
        minor.append(_slab((rail_len, rail_h, rail_w), centre))
    at = (_u(rng, 0, length - tube.mesh.extents[0]), tf - 0.5 + tube.outer_flat, 0.0)
    main.append(_moved(tube.mesh, None, at))
    return _exported(rng, main, minor)


def swept_sleeve(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long thin-walled sleeve (walls 1-3 mm, chamfered outside) swept along a
    polyline kinked by up to 10 degrees, with a bored tube pressed into its front."""
    length, wide, tall, t = _u(rng, 120, 300), _u(rng, 20, 35), _u(rng, 25, 45), _u(rng, 1, 3)
    chamfer = _u(rng, 0.5, 4) if rng.random() < 0.7 else 0.0
    outer = _rect(tall, wide, chamfer)
    inner = _rect(tall - 2 * t, wide - 2 * t, max(chamfer - 0.6 * t, 0.2) if chamfer else 0.0)
    first = _u(rng, 0.35, 0.6) * length
    path, heading, left = [np.zeros(2), np.array([first, 0.0])], 0.0, length - first
    kinks = _int(rng, 1, 2)
    for _ in range(kinks):
        heading += np.radians(_u(rng, 0, 10) * _sign(rng))
        path.append(path[-1] + left / kinks * np.array([np.cos(heading), np.sin(heading)]))
    sleeve = _sweep(outer, np.array(path), hole=inner)
    inner_min = min(wide, tall) - 2 * t
    radius = inner_min / 2 + _u(rng, 0.3, 0.8) * t
    sides = _int(rng, 8, 16)
    flat = radius * np.cos(np.pi / sides)  # its corners reach *radius*, into the walls
    bore = _u(rng, 5, min(20.0, 2 * (flat - 2.0)))
    tube_len = _u(rng, 35, min(100.0, first - 5))
    tube = _bored_tube(rng, tube_len, bore, flat - bore / 2, sides)
    tube_mesh = _moved(tube.mesh, None, (_u(rng, 1, first - tube_len - 2), 0.0, 0.0))
    return _exported(rng, [sleeve], [tube_mesh])


def magazine_box(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long thin-walled box (walls 1-2.5 mm) of five slabs, closed at one end, open at
    the other, leaning up to 20 degrees (sheared), on an overlapping base plate."""
    length, inner_z, inner_y, t = (
        _u(rng, 90, 220),
        _u(rng, 10, 28),
        _u(rng, 28, 60),
        _u(rng, 1, 2.5),
    )
    slabs = []
    for side in (-1, 1):
        size = (length - 0.3, inner_y + 2 * t - 0.6, t)
        slabs.append(_slab(size, (length / 2 + 0.15, 0.15 * side, side * (inner_z + t) / 2)))
        size = (length - 1.1, t, inner_z + t)
        slabs.append(_slab(size, (length / 2 + 0.05, side * (inner_y + t) / 2, 0.0)))
    slabs.append(_slab((t, inner_y + t, inner_z + t), (t / 2, 0.0, 0.0)))
    base_t = _u(rng, 3, 6)
    base = _slab(
        (base_t, inner_y + 2 * t + _u(rng, 4, 10), inner_z + 2 * t + _u(rng, 4, 10)),
        (0.8 - base_t / 2, _u(rng, -2, 2), 0.0),
    )
    lean = np.tan(np.radians(_u(rng, 0, 20)))
    shear = np.eye(4)
    shear[1, 0] = lean  # y grows along x: the box leans
    for shell in slabs + [base]:
        shell.apply_transform(shear)
    return _exported(rng, slabs[:2], slabs[2:] + [base])


def tube_loop_frame(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long bored tube with a web block under it, a drilled grip plate with a
    through-cavity leaning 0-30 degrees from the web, and a finger loop sunk into the
    tube in front of it."""
    length, bore, wall = _u(rng, 150, 260), _u(rng, 5, 16), _u(rng, 3.5, 7)
    tube = _bored_tube(rng, length, bore, wall, steps=_int(rng, 0, 1))
    under = -tube.outer_flat + 1.2  # 1.2 mm into the tube's wall, clear of its bore
    grip_len, grip_h, grip_t = _u(rng, 70, 110), _u(rng, 28, 45), _u(rng, 18, 30)
    lean = _u(rng, 0, 30)
    web_h = grip_h * np.sin(np.radians(lean)) + _u(rng, 4, 8)
    web_len = grip_h / np.cos(np.radians(lean)) + _u(rng, 6, 14)
    bar = _u(rng, 3.5, 6)
    opening_w, opening_h = _u(rng, 20, 30), _u(rng, 18, 28)
    gap = _u(rng, 2, 8)
    grip_x = max(_u(rng, 0.55, 0.8) * length, web_len / 2 + gap + opening_w + 2 * bar + 4)
    web = _slab((web_len, web_h, grip_t + 1.0), (grip_x, under - web_h / 2, 0.0))
    count, pin, spacing = _pin_draw(rng)
    count = min(count, 3)
    clear = (web_h + pin / 2) / np.cos(np.radians(lean)) + 2  # the pins stay below the web
    row = _row_in_band(rng, count, pin, spacing, (clear, clear + 45), (0.0, grip_h), 35.0)
    start = max(h.x for h in row) + pin / 2 + 2.5
    cavity_len, cavity_h = _u(rng, 30, 60), _u(rng, 12, grip_h - 8)
    grip_len = max(grip_len, start + cavity_len + _u(rng, 6, 20))
    slot = (
        _stadium(cavity_len, cavity_h, _int(rng, 3, 6))
        if cavity_len > cavity_h + 1
        else _rect(cavity_len, cavity_h, 2)
    )
    grip = _plate_at(
        grip_len, grip_h, grip_t, row + [Hole(start + cavity_len / 2, grip_h / 2, slot)]
    )
    grip = _moved(grip, None, (0.0, -grip_h / 2, 0.0))
    turn = _turn(yaw=lean - 90)  # the grip's length points down, its foot toward +x
    grip = _moved(grip, turn, (grip_x, under - 1.0 - grip_h / 2 * np.sin(np.radians(lean)), 0.0))
    loop_x = grip_x - web_len / 2 - gap - (opening_w / 2 + bar)
    loop = _finger_loop(rng, opening_w, opening_h, bar, _u(rng, 6, 11), loop_x, under)
    return _exported(rng, [tube.mesh, grip], [web, loop])


# --- look-alikes -----------------------------------------------------------------------


def flashlight_body(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin-walled polygonal tube with a bore of 22-38 mm (above calibre), a wider
    head ring pushed over its front and a cap closing its tail."""
    length, bore, wall = _u(rng, 100, 200), _u(rng, 22, 38), _u(rng, 1.5, 3)
    tube = _bored_tube(rng, length, bore, wall, _int(rng, 12, 16), sinks=False)
    head_len = _u(rng, 25, 45)
    head = _collar(rng, tube, length - head_len + _u(rng, 1, 5), head_len, _u(rng, 5, 12))
    cap_r, sleeve, floor = tube.outer_corner + _u(rng, 1, 3), _u(rng, 5, 12), _u(rng, 2, 4)
    opening = tube.outer_flat - 0.5
    x0 = -_u(rng, 3, 8)
    profile = [
        (x0, 0.0),
        (x0, cap_r),
        (sleeve, cap_r),
        (sleeve, opening),
        (x0 + floor, opening),
        (x0 + floor, 0.0),
    ]
    cap = _lathe(profile, _int(rng, 10, 16), _u(rng, 0, 1))
    return _exported(rng, [tube.mesh], [head, cap])


def knob_with_bore(rng: np.random.Generator) -> trimesh.Trimesh:
    """A turned knob with a blind bore of 5-8 mm and a polygonal grip ring over it."""
    radius, height, bore = _u(rng, 12.5, 27.5), _u(rng, 14, 30), _u(rng, 5, 8)
    depth, c = _u(rng, 8, height - 4), _u(rng, 0.5, 2.5)
    sides = _int(rng, 10, 16)
    rb = bore / 2 / np.cos(np.pi / sides)
    profile = [(0.0, rb), (0.0, radius - c), (c, radius), (height - c, radius)]
    profile += [(height, radius - c), (height, 0.0), (depth, 0.0), (depth, rb)]
    knob = _lathe(profile, sides, _u(rng, 0, 1))
    start, width = _u(rng, 0.2, 0.4) * height, _u(rng, 0.3, 0.5) * height
    grip_sides = _int(rng, 6, 10)
    ring = [(start, radius - _u(rng, 0.5, 1.5)), (start + width, radius - 1.0),
            (start + width, radius + _u(rng, 1.5, 4)), (start, radius + 2.0)]  # fmt: skip
    return _exported(rng, [knob], [_lathe(ring, grip_sides, _u(rng, 0, 1))])


def drawer_rail(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long U rail of three plates, its floor drilled with 5-9 countersunk screw holes
    along its length (no bore)."""
    length, width, side_h, t = _u(rng, 200, 450), _u(rng, 12, 30), _u(rng, 8, 20), _u(rng, 1.5, 2.5)
    pitch = _u(rng, 28, 55)
    count = int(min(9, max(5, length // pitch - 1)))
    pitch = min(pitch, (length - 20) / count)
    hole = _u(rng, 3.5, 5)
    sides = _int(rng, 6, 12)
    first = (length - (count - 1) * pitch) / 2
    sink = (min(0.8, 0.4 * t), 1.5, False)
    floor_w = width + t
    holes = [Hole(first + i * pitch, floor_w / 2, _ngon(hole, sides), sink) for i in range(count)]
    floor = _plate_at(length, floor_w, t, holes, None, (0.0, -floor_w / 2, 0.0))
    floor = _moved(floor, PLATE_TO_XZ, (0.0, t / 2, 0.0))
    walls = [
        _slab(
            (length - 0.8, side_h, t),
            (length / 2 + 0.1 * side, side_h / 2 + 0.3, side * (width + t) / 2),
        )
        for side in (-1, 1)
    ]
    minor = []
    if rng.random() < 0.5:
        lip = _u(rng, 2, 4)
        for side in (-1, 1):
            minor.append(
                _slab(
                    (length - 1.6, t, lip + t / 2),
                    (length / 2, side_h + 0.3 - t / 2 - 0.2, side * (width / 2 - lip / 2 + t / 4)),
                )
            )
    return _exported(rng, [floor] + walls, minor)


def butt_hinge(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two drilled leaves (2-3 countersunk screw holes each) on a row of knuckles with a
    2-3.2 mm pin bore, opened 20-180 degrees."""
    length, leaf_w, leaf_t = _u(rng, 40, 110), _u(rng, 15, 35), _u(rng, 1.5, 3)
    pin = _u(rng, 2.0, 3.2)
    knuckles = _int(rng, 3, 5)
    knuckle_wall = _u(rng, 2, 3.5)
    tubes = []
    for k in range(knuckles):
        piece = length / knuckles
        tube = _bored_tube(rng, piece - 0.4, pin, knuckle_wall, _int(rng, 8, 12), sinks=False)
        tubes.append(_moved(tube.mesh, None, (k * piece + 0.2, 0.0, 0.0)))
    start = (tube.bore_corner + tube.outer_flat) / 2  # the leaves start inside the knuckles
    count = _int(rng, 2, 3)
    hole = _u(rng, 3.5, 5.5)
    sink = (min(0.8, 0.4 * leaf_t), 1.5, False)
    leaves = []
    for opened in (0.0, _u(rng, 20, 180)):
        holes = [
            Hole(
                length * (i + 1) / (count + 1),
                leaf_w * _u(rng, 0.45, 0.6),
                _ngon(hole, _int(rng, 6, 12)),
                sink,
            )
            for i in range(count)
        ]
        leaf = _plate_at(length, leaf_w, leaf_t, holes, None, (0.0, start, 0.0))
        leaves.append(_moved(leaf, _turn(roll=opened)))
    return _exported(rng, leaves, tubes)


def shelf_bracket(rng: np.random.Generator) -> trimesh.Trimesh:
    """An L bracket of two drilled plates (two screw holes each) overlapping at the
    corner, with a diagonal brace sunk into both."""
    arm, leg, width, t = _u(rng, 60, 150), _u(rng, 50, 130), _u(rng, 18, 35), _u(rng, 3, 6)
    leg = min(leg, arm)
    hole = _u(rng, 4, 6)

    def holes(span):
        return [
            Hole(t + 5 + (span - t - 10) * f, width / 2, _ngon(hole, _int(rng, 6, 12)))
            for f in (0.25, 0.8)
        ]

    flat = _moved(
        _plate_at(arm, width, t, holes(arm), None, (0.0, -width / 2, 0.0)),
        PLATE_TO_XZ,
        (0.0, t / 2, 0.0),
    )
    upright_turn = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # x->y, y->z, z->x
    upright = _plate_at(leg, width, t, holes(leg), None, (0.0, -width / 2, t / 2))
    upright = _moved(upright, upright_turn, (-0.3, 0.4, 0.0))
    reach = min(arm, leg) * _u(rng, 0.35, 0.6)
    brace_len = reach * np.sqrt(2)
    brace = _slab(
        (brace_len, _u(rng, 4, 7), _u(rng, 3, width - 4)),
        (reach / 2 + t / 2, reach / 2 + t / 2, 0.0),
        _turn(yaw=-45),
    )
    return _exported(rng, [flat, upright], [brace])


def cable_guide(rng: np.random.Generator) -> trimesh.Trimesh:
    """A strip with two screw holes carrying 3-6 small clip rings (openings 6-14 mm,
    below finger size) along its length."""
    length, width, t = _u(rng, 80, 200), _u(rng, 10, 18), _u(rng, 2, 4)
    screw = _u(rng, 3.5, 4.5)
    ends = _u(rng, 6, 10)
    holes = [Hole(x, width / 2, _ngon(screw, _int(rng, 6, 10))) for x in (ends, length - ends)]
    strip = _moved(
        _plate_at(length, width, t, holes, None, (0.0, -width / 2, 0.0)),
        PLATE_TO_XZ,
        (0.0, t / 2, 0.0),
    )
    clips = _int(rng, 3, 6)
    opening, ring_wall, ring_w = _u(rng, 3, 7), _u(rng, 1.5, 2.5), _u(rng, 4, 8)
    span = length - 2 * ends - 2 * screw - ring_w
    rings = []
    for k in range(clips):
        x = ends + screw + span * (k + 0.5) / clips
        sides = _int(rng, 8, 14)
        outer = opening + ring_wall
        ring = _lathe(
            [(0.0, opening), (ring_w, opening), (ring_w, outer), (0.0, outer)], sides, _u(rng, 0, 1)
        )
        rings.append(_moved(ring, None, (x, t + outer * np.cos(np.pi / sides) - 0.8, 0.0)))
    return _exported(rng, [strip], rings)


def pencil_cup(rng: np.random.Generator) -> trimesh.Trimesh:
    """A hexagonal to decagonal thin-walled cup (walls 2-3 mm) on a base ring: hollow,
    but short and wide."""
    radius, height, wall, floor = _u(rng, 28, 45), _u(rng, 80, 120), _u(rng, 2, 3), _u(rng, 2, 4)
    sides = _int(rng, 6, 10)
    cup = _lathe(
        [
            (0.0, 0.0),
            (0.0, radius),
            (height, radius),
            (height, radius - wall),
            (floor, radius - wall),
            (floor, 0.0),
        ],
        sides,
        _u(rng, 0, 1),
    )
    inner, outer, below = (
        radius * np.cos(np.pi / sides) - 0.7,
        radius + _u(rng, 2, 5),
        -_u(rng, 1, 3),
    )
    ring = [(below, inner), (floor - 0.3, inner), (floor - 0.3, outer), (below, outer)]
    base = _lathe(ring, _int(rng, 12, 16), _u(rng, 0, 1))
    return _exported(rng, [cup], [base])


def door_pull(rng: np.random.Generator) -> trimesh.Trimesh:
    """A D handle: an octagonal bar swept along a trapezoid over a hand-sized opening,
    its ends sunk into two bosses with blind screw holes."""
    span, bar = _u(rng, 90, 160), _u(rng, 9, 14)
    boss_h, boss_r = _u(rng, 8, 14), bar / 2 + _u(rng, 2, 5)
    rise = boss_h + bar / 2 + _u(rng, 25, 35)
    slant = _u(rng, 5, 15)
    path = [(0.0, boss_h - 2.0), (slant, rise), (span - slant, rise), (span, boss_h - 2.0)]
    handle = _sweep(_ngon(bar, 8), path)
    bosses = []
    for x in (0.0, span):
        screw = _u(rng, 3, 4.5) / 2
        profile = [
            (0.0, screw),
            (0.0, boss_r),
            (boss_h, boss_r),
            (boss_h, 0.0),
            (boss_h - 3, 0.0),
            (boss_h - 3, screw),
        ]
        boss = _lathe(profile, _int(rng, 8, 14), _u(rng, 0, 1))
        bosses.append(_moved(boss, _turn(yaw=90), (x, 0.0, 0.0)))
    return _exported(rng, [handle], bosses)


def napkin_ring(rng: np.random.Generator) -> trimesh.Trimesh:
    """A short polygonal ring with a 35-55 mm opening (above finger size) and a band
    pushed over it."""
    opening, width, wall = _u(rng, 35, 55), _u(rng, 18, 40), _u(rng, 3, 6)
    ring = _bored_tube(rng, width, opening, wall, _int(rng, 6, 16), sinks=False)
    band_w = _u(rng, 4, 8)
    band = _collar(rng, ring, _u(rng, 0.2, 0.6) * (width - band_w), band_w, _u(rng, 1.5, 3))
    return _exported(rng, [ring.mesh], [band])


def storage_box(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin-walled box (walls 1.5-3 mm) of five overlapping slabs, not long, sometimes
    closed by a lid sunk into its walls."""
    along, up, across, t = _u(rng, 80, 160), _u(rng, 40, 90), _u(rng, 60, 120), _u(rng, 1.5, 3)
    across = min(across, along)
    floor = _slab((along - 0.4, t, across - 0.4), (0.0, t / 2, 0.0))
    walls = []
    for side in (-1, 1):
        walls.append(_slab((along, up - 0.3, t), (0.0, up / 2 + 0.15, side * (across - t) / 2)))
        walls.append(
            _slab((t, up - 0.8, across - t), (side * ((along - t) / 2 - 0.3), up / 2, 0.0))
        )
    minor = (
        [_slab((along + 2, t, across + 2), (0.0, up + t / 2 - 0.5, 0.0))]
        if rng.random() < 0.5
        else []
    )
    return _exported(rng, [floor] + walls[:2], walls[2:] + minor)


def chisel_handle(rng: np.random.Generator) -> trimesh.Trimesh:
    """A tapered polygonal handle with a blind bore of 4-10 mm in its front, and a
    ferrule ring over the front."""
    length, radius, bore = _u(rng, 90, 150), _u(rng, 12, 20), _u(rng, 4, 10)
    sides = _int(rng, 8, 16)
    depth, c = _u(rng, 20, 60), _u(rng, 1, 3)
    rb = bore / 2 / np.cos(np.pi / sides)
    front, belly, back = radius * _u(rng, 0.75, 0.9), radius, radius * _u(rng, 0.8, 0.95)
    profile = [(0.0, rb), (0.0, front - c), (c, front), (length * _u(rng, 0.5, 0.7), belly)]
    profile += [(length - c, back), (length, back - c), (length, 0.0), (depth, 0.0), (depth, rb)]
    handle = _lathe(profile, sides, _u(rng, 0, 1))
    ferrule_len = _u(rng, 8, 15)
    flat = front * np.cos(np.pi / sides)
    ferrule = _lathe(
        [
            (-0.5, flat - 0.6),
            (ferrule_len, flat - 0.6),
            (ferrule_len, front + _u(rng, 1, 3)),
            (-0.5, front + 1.0),
        ],
        _int(rng, 12, 16),
        _u(rng, 0, 1),
    )
    return _exported(rng, [handle], [ferrule])


def picture_frame(rng: np.random.Generator) -> trimesh.Trimesh:
    """Four bars overlapping at the corners around a large opening, and a stand leaning
    from the back."""
    wide, high, bar, thick = _u(rng, 100, 240), _u(rng, 80, 190), _u(rng, 12, 25), _u(rng, 8, 15)
    high = min(high, wide)
    bars = []
    for side in (-1, 1):
        bars.append(_slab((wide, bar, thick), (0.0, side * (high - bar) / 2, 0.0)))
        bars.append(
            _slab((bar - 0.6, high - bar, thick - 0.4), (side * ((wide - bar) / 2 - 0.3), 0.0, 0.0))
        )
    stand_len = _u(rng, 0.5, 0.8) * high
    stand = _slab(
        (_u(rng, 12, 20), stand_len, _u(rng, 2, 4)), (0.0, 0.0, 0.0), _turn(roll=_u(rng, 20, 35))
    )
    top = stand.bounds[1]  # its top edge is its nearest to the frame's back
    stand = _moved(
        stand,
        None,
        (_u(rng, -0.2, 0.2) * wide, high / 2 - bar / 2 - top[1], -thick / 2 + 1.0 - top[2]),
    )
    return _exported(rng, bars[:2], bars[2:] + [stand])


def pipe_elbow(rng: np.random.Generator) -> trimesh.Trimesh:
    """A pipe (bore 24-60 mm, walls 2-4 mm) swept round a 30-90 degree bend in 2-4 mitred
    steps, with socket collars over both ends."""
    bore, wall, sides = _u(rng, 24, 60), _u(rng, 2, 4), _int(rng, 10, 16)
    phase = _u(rng, 0, 1)
    outer, inner = _ngon(bore + 2 * wall, sides, phase), _ngon(bore, sides, phase)
    bend, steps = np.radians(_u(rng, 30, 90)), _int(rng, 2, 4)
    path = [np.zeros(2), np.array([_u(rng, 30, 90), 0.0])]
    step_len = (bore / 2 + wall + _u(rng, 5, 30)) * bend / steps
    for k in range(1, steps + 1):
        heading = bend * k / steps
        path.append(
            path[-1]
            + step_len
            * np.array([np.cos(heading - bend / steps / 2), np.sin(heading - bend / steps / 2)])
        )
    path.append(path[-1] + _u(rng, 30, 90) * np.array([np.cos(bend), np.sin(bend)]))
    pipe = _sweep(outer, np.array(path), hole=inner)
    corner = (bore / 2 + wall) / np.cos(np.pi / sides)
    tube = Tube(pipe, bore / 2 / np.cos(np.pi / sides), (bore / 2 + wall), corner)
    collars = []
    for end, heading in ((path[0], 0.0), (path[-1], bend)):
        width = _u(rng, 10, 20)
        ring = _collar(rng, tube, 0.0, width, _u(rng, 2, 5))
        direction = np.array([np.cos(heading), np.sin(heading), 0.0])
        at = (
            np.append(end, 0.0) + (2.0 - width) * direction
            if heading
            else np.append(end, 0.0) - 2.0 * direction
        )
        collars.append(_moved(ring, _turn(yaw=np.degrees(heading)), at))
    return _exported(rng, [pipe], collars)


# --- the family ------------------------------------------------------------------------


class Kind(NamedTuple):
    """A kind of family D, what it shares with printable firearm parts (or does not),
    and the ranges it is held to: longest extent (mm) and triangle count. A NamedTuple
    rather than a dataclass: the module is loaded from its path with importlib."""

    name: str
    group: str  # positive | lookalike
    make: Builder
    features: str
    longest: tuple[float, float]
    triangles: tuple[int, int]


def _group(group: str, *entries) -> tuple[Kind, ...]:
    """Kinds of *group* from (builder, features, longest, triangles), named after their
    builders."""
    return tuple(Kind(make.__name__, group, make, *rest) for make, *rest in entries)


KINDS: tuple[Kind, ...] = _group(
    "positive",
    (
        collared_barrel,
        "calibre bore 5-20 mm through an 80-500 mm tube; collars, a yawed lug",
        (80, 500),
        (150, 8_000),
    ),
    (
        slab_frame,
        "pin row 2-4 x 2.5-5 mm; well leaning 0-30 deg; finger loop 20-30 mm; often a bore",
        (120, 270),
        (300, 15_000),
    ),
    (
        slab_receiver,
        "long box, walls 1.2-3 mm; pin row across; floor well + leaning sleeve; bore",
        (180, 330),
        (400, 15_000),
    ),
    (
        railed_channel,
        "long channel with a calibre bore on its axis; rails; pin holes across",
        (150, 320),
        (300, 20_000),
    ),
    (
        swept_sleeve,
        "long sleeve, walls 1-3 mm, kinked 0-10 deg; calibre bore pressed in",
        (120, 305),
        (100, 5_000),
    ),
    (
        magazine_box,
        "long box, walls 1-2.5 mm, one end closed, leaning 0-20 deg",
        (90, 230),
        (60, 1_000),
    ),
    (
        tube_loop_frame,
        "calibre bore through a long tube; finger loop; grip plate (cavity, pins) leaning 0-30 deg",
        (150, 285),
        (400, 16_000),
    ),
) + _group(
    "lookalike",
    (
        flashlight_body,
        "long tube, bore 22-38 mm (above calibre), thin wall; closed tail",
        (100, 215),
        (200, 5_000),
    ),
    (knob_with_bore, "blind bore 5-8 mm in a short knob", (25, 65), (100, 5_000)),
    (
        drawer_rail,
        "long channel, 5-9 screw holes along its floor; no bore",
        (200, 450),
        (300, 30_000),
    ),
    (
        butt_hinge,
        "2-3 screw holes per leaf; pin bore 2-3.2 mm (below calibre)",
        (40, 112),
        (500, 20_000),
    ),
    (shelf_bracket, "two screw holes per arm, an L of plates", (60, 152), (250, 10_000)),
    (cable_guide, "3-6 rings with openings 6-14 mm on a strip", (80, 200), (300, 8_000)),
    (pencil_cup, "thin-walled cup, short and wide", (80, 125), (100, 2_500)),
    (door_pull, "hand opening 25-35 mm x 60-150 mm under a bar", (100, 190), (150, 2_500)),
    (napkin_ring, "ring opening 35-55 mm (above finger size), short", (45, 80), (100, 5_000)),
    (storage_box, "thin-walled box, not long; open or closed", (80, 162), (50, 800)),
    (chisel_handle, "blind bore 4-10 mm in a tapered handle", (90, 152), (150, 5_000)),
    (picture_frame, "large through-opening in a flat frame", (100, 242), (50, 800)),
    (
        pipe_elbow,
        "bent pipe, bore 24-60 mm (above calibre), walls 2-4 mm",
        (90, 230),
        (300, 10_000),
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}
POSITIVES: dict[str, Builder] = {}
LOOKALIKES: dict[str, Builder] = {}
for _kind in KINDS:
    (POSITIVES if _kind.group == "positive" else LOOKALIKES)[_kind.name] = _kind.make


def build(kind: str, rng: np.random.Generator) -> trimesh.Trimesh:
    """One mesh of *kind* in a random rigid pose: turned at random, moved up to 150 mm."""
    part = BY_NAME[kind].make(rng)
    pose = trimesh.transformations.random_rotation_matrix(rng.random(3))
    pose[:3, 3] = rng.uniform(-150, 150, 3)
    return part.apply_transform(pose)


def kind_rng(kind: str, index: int, seed: int) -> np.random.Generator:
    """The random stream of mesh *index* of *kind*: independent of every other kind,
    and of the other families' streams (the tag "D:")."""
    tag = zlib.crc32(f"D:{kind}".encode())
    return np.random.default_rng([seed, tag, index])


def iter_sample(count_per_kind: int, seed: int = 0) -> Iterator[tuple[str, str, trimesh.Trimesh]]:
    """(group, kind, posed mesh) for *count_per_kind* meshes of every kind, one at a
    time, positives first; each kind and index has its own stream, so the same *seed*
    gives the same meshes."""
    for kind, index in itertools.product(KINDS, range(count_per_kind)):
        yield kind.group, kind.name, build(kind.name, kind_rng(kind.name, index, seed))


def sample(count_per_kind: int, seed: int = 0) -> list[tuple[str, str, trimesh.Trimesh]]:
    """:func:`iter_sample` as a list."""
    return list(iter_sample(count_per_kind, seed))


# --- command line ----------------------------------------------------------------------


def _row(kind: Kind, count: int, seed: int) -> str:
    """A table row: extents (mm, longest first), triangles and shells, each from its
    lowest to its highest over *count* meshes, and the CPU time a mesh took."""
    started = time.process_time()
    meshes = [kind.make(kind_rng(kind.name, index, seed)) for index in range(count)]
    per_mesh = 1000 * (time.process_time() - started) / count
    spans = np.array([np.sort(m.extents)[::-1] for m in meshes])
    faces = [len(m.faces) for m in meshes]
    shells = [len(m.split(only_watertight=False)) for m in meshes]
    extents = " x ".join(
        f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(spans.min(0), spans.max(0), strict=True)
    )
    return (
        f"| {kind.name} | {kind.group} | {kind.features} | {extents} | {min(faces)}-{max(faces)}"
        f" | {min(shells)}-{max(shells)} | {per_mesh:.0f} |"
    )


COLUMNS = ("kind", "group", "coarse features", "extents (mm, longest to shortest)", "triangles")
COLUMNS += ("shells", "CPU ms per mesh")


def main(argv: list[str] | None = None) -> None:
    """Print the table of kinds (measured extents, triangles, shells, CPU time); with
    --out, also write every mesh of the sample as a posed STL file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5, help="meshes per kind (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write posed STL files here")
    args = parser.parse_args(argv)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + " --- |" * len(COLUMNS))
    for kind in KINDS:
        print(_row(kind, args.count, args.seed), flush=True)
    if not args.out:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for _group, name, mesh in iter_sample(args.count, args.seed):
        mesh.export(args.out / f"{name}_{written % args.count:03d}.stl")
        written += 1
    print(f"wrote {written} posed STL files to {args.out}")


if __name__ == "__main__":
    main()
