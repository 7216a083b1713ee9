"""Held-out stand-in family C: signed-distance solids meshed by marching cubes.

Why a third family: the detection rules were tuned on family A
(``samples/generate.py``: axis-aligned boxes and cylinders cut by manifold3d booleans),
and family B (``benchmarks/_standins_b.py``: manifold3d outlines extruded, revolved,
lofted and hulled) was held out once and is now used for development. Family C gives
a held-out figure again. It was written from a coarse description of the features a
lab looks for, without opening the detection rules or the detection code and without
running any detector on it. Score it with the rules frozen beforehand and never tune
a rule or threshold on its results: a change made after looking at them spends it.

Construction (different from A and B): no mesh booleans and no extrusions. Every part
is a signed-distance function (negative inside) composed in numpy from rounded boxes,
tapered cones, capsules, tori and stadium rings, joined by *smooth* unions and
subtractions (organic fillets of 1-10 mm where members meet), sometimes bent along an
arc by a domain warp, sometimes hollowed into a sheet of 1-3.5 mm, sometimes roughened
by a faint field of plane waves (0.03-0.12 mm). The field is sampled on a grid (a
coarse pass, then a fine one only in a band near the surface), meshed with
scikit-image's marching cubes at 0.4-1.3 mm, and decimated with fast-simplification
to 4,000-150,000 triangles, so that some meshes are coarse and faceted and others fine
and irregularly tessellated. Features sit near ends and edges, several to a part,
asymmetric, at angles up to 35 degrees.

Nothing here is, or resembles in detail, a real or functional design. Positives share
only coarse features with printable firearm parts (a straight calibre-sized bore
through a long body, a finger-sized loop, a well or through-cavity, rows of small
parallel pin holes, a long channel with a bore on its axis, long thin-walled boxes);
look-alikes are ordinary objects built the same way that share one of those features.

API (as family B): ``POSITIVES`` and ``LOOKALIKES`` map kind names to builders
``rng -> trimesh.Trimesh`` (construction frame, long axis x); :func:`build` adds a
random rigid pose; :func:`sample` yields ``(group, kind, mesh)``, one random stream per
kind and index. All meshes are watertight and in millimetres.

Usage: ``python benchmarks/_standins_c.py [--count N] [--seed S] [--out DIR]`` prints a
table of the kinds with measured extents; ``--out`` also writes posed STL files.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import fast_simplification
import numpy as np
import trimesh
from scipy import ndimage
from skimage import measure

Sdf = Callable[[np.ndarray], np.ndarray]  # (N, 3) float32 points -> (N,) signed distances
Builder = Callable[[np.random.Generator], trimesh.Trimesh]

COARSE_RATIO = 4  # the coarse pass samples every 4th fine grid point along each axis
CHUNK = 500_000  # points per evaluation: bounds the memory of one pass
FACES_RANGES = ((4_000, 12_000), (15_000, 50_000), (60_000, 150_000))  # coarse, medium, fine


# --- random draws ----------------------------------------------------------------------


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def _signed(rng: np.random.Generator, low: float, high: float) -> float:
    """A magnitude between *low* and *high* with a random sign."""
    return _u(rng, low, high) * (1 if rng.random() < 0.5 else -1)


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer from *low* to *high* inclusive."""
    return int(rng.integers(low, high + 1))


# --- frames ----------------------------------------------------------------------------


def _rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """A 3x3 rotation (degrees): roll about x, then pitch about y, then yaw about z.
    Its columns are the local axes seen from the parent frame."""
    turn = trimesh.transformations.euler_matrix(
        np.radians(roll), np.radians(pitch), np.radians(yaw), "sxyz"
    )
    return turn[:3, :3]


ALONG_Z = _rotation(pitch=-90)  # local x (a rod's axis) turned onto z
ALONG_Y = _rotation(yaw=90)  # local x turned onto y


def _placed(local: Sdf, origin=(0.0, 0.0, 0.0), rotation: np.ndarray | None = None) -> Sdf:
    """*local* (built about its own origin) moved to *origin* and turned by *rotation*."""
    shift = np.asarray(origin, dtype=np.float32)
    if rotation is None or np.allclose(rotation, np.eye(3)):
        return lambda p: local(p - shift)
    turn = rotation.astype(np.float32)
    return lambda p: local(_times(p - shift, turn))


def _times(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """points @ matrix for (N, 3) points: numpy's matmul is slow for a 3-wide inner
    dimension, three broadcast products are not."""
    return points[:, 0:1] * matrix[0] + points[:, 1:2] * matrix[1] + points[:, 2:3] * matrix[2]


# --- primitives (local frames) -----------------------------------------------------------


def _length(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", v, v))


def _exact_box(q: np.ndarray) -> np.ndarray:
    """Distance from per-axis excess *q* (|p| - half extents) to a box."""
    largest = np.maximum(np.maximum(q[:, 0], q[:, 1]), q[:, 2])
    return _length(np.maximum(q, 0.0)) + np.minimum(largest, 0.0)


def _box(half, radius: float = 0.0) -> Sdf:
    """A centred box of half extents *half* with edges rounded by *radius*."""
    radius = float(min(radius, 0.95 * min(half)))
    core = np.asarray(half, dtype=np.float32) - radius
    return lambda p: _exact_box(np.abs(p) - core) - radius


def _sphere(radius: float) -> Sdf:
    return lambda p: _length(p) - radius


def _capped(radial: np.ndarray, axial: np.ndarray) -> np.ndarray:
    """Distance to a solid of revolution capped by two planes, from the radial excess and
    the axial excess (exact for a cylinder)."""
    outside = np.hypot(np.maximum(radial, 0.0), np.maximum(axial, 0.0))
    return outside + np.minimum(np.maximum(radial, axial), 0.0)


def _rod(radius: float, half_length: float) -> Sdf:
    """A cylinder along local x (a bore or pin-hole cutter when subtracted)."""
    return lambda p: _capped(np.hypot(p[:, 1], p[:, 2]) - radius, np.abs(p[:, 0]) - half_length)


def _cone(start_radius: float, end_radius: float, half_length: float) -> Sdf:
    """A tapered cylinder along local x, *start_radius* at -half_length."""
    slope = (end_radius - start_radius) / (2 * half_length)
    cosine = 1 / np.sqrt(1 + slope * slope)

    def distance(p):
        along = np.clip(p[:, 0], -half_length, half_length)
        radius = start_radius + slope * (along + half_length)
        radial = (np.hypot(p[:, 1], p[:, 2]) - radius) * cosine
        return _capped(radial, np.abs(p[:, 0]) - half_length)

    return distance


def _capsule(a, b, start_radius: float, end_radius: float | None = None) -> Sdf:
    """A (tapered) capsule from point *a* to point *b*, in the parent frame."""
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    end_radius = start_radius if end_radius is None else end_radius
    span = b - a
    square = float(span @ span)

    def distance(p):
        t = np.clip(_times(p - a, span[:, None])[:, 0] / square, 0.0, 1.0)
        return _length(p - a - t[:, None] * span) - (start_radius + (end_radius - start_radius) * t)

    return distance


def _ring(opening: float, stretch: float, tube: float) -> Sdf:
    """A stadium-shaped ring in the local xy plane (axis z): *opening* clear across (y),
    *opening* x *stretch* clear along x, its section a circle of radius *tube*. The top
    of the ring's tube is at y = opening / 2 + 2 * tube."""
    centre_line = opening / 2 + tube
    straight = opening * (stretch - 1) / 2

    def distance(p):
        run = np.maximum(np.abs(p[:, 0]) - straight, 0.0)
        planar = np.hypot(run, p[:, 1]) - centre_line
        return np.hypot(planar, p[:, 2]) - tube

    return distance


def _elongated(local: Sdf, half_z: float) -> Sdf:
    """*local* stretched along z by ±*half_z* (a capsule becomes a flat bar)."""

    def distance(p):
        q = p.copy()
        q[:, 2] = p[:, 2] - np.clip(p[:, 2], -half_z, half_z)
        return local(q)

    return distance


# --- operations --------------------------------------------------------------------------


def _union(*solids: Sdf) -> Sdf:
    return lambda p: np.minimum.reduce([solid(p) for solid in solids])


def _smooth_union(k: float, *solids: Sdf) -> Sdf:
    """The union of *solids* with fillets of about *k* mm where they meet."""

    def distance(p):
        result = solids[0](p)
        for solid in solids[1:]:
            other = solid(p)
            h = np.clip(0.5 + 0.5 * (other - result) / k, 0.0, 1.0)
            result = other + (result - other) * h - k * h * (1 - h)
        return result

    return distance


def _cut(body: Sdf, *tools: Sdf, k: float = 0.0) -> Sdf:
    """*body* minus *tools*; with *k* > 0 the cut edges are rounded by about *k* mm."""
    tool = _union(*tools) if len(tools) > 1 else tools[0]
    if k <= 0:
        return lambda p: np.maximum(body(p), -tool(p))

    def distance(p):
        solid, hole = body(p), tool(p)
        h = np.clip(0.5 - 0.5 * (solid + hole) / k, 0.0, 1.0)
        return solid + (-hole - solid) * h + k * h * (1 - h)

    return distance


def _intersect(*solids: Sdf) -> Sdf:
    return lambda p: np.maximum.reduce([solid(p) for solid in solids])


def _sheet(solid: Sdf, thickness: float) -> Sdf:
    """A wall of *thickness* centred on *solid*'s surface (a closed hollow shell)."""
    return lambda p: np.abs(solid(p)) - thickness / 2


def _half_space(normal, offset: float) -> Sdf:
    """Everything with p . normal <= offset."""
    unit = np.asarray(normal, dtype=np.float32) / np.linalg.norm(normal)
    return lambda p: _times(p, unit[:, None])[:, 0] - offset


def _bent(local: Sdf, radius: float) -> Sdf:
    """*local*, lying along x, bent in the xy plane round a centre at (0, radius): its
    x axis becomes an arc of *radius* (> 0) through the origin, its ends rising."""

    def distance(p):
        rise = radius - p[:, 1]
        q = p.copy()
        q[:, 0] = radius * np.arctan2(p[:, 0], rise)
        q[:, 1] = radius - np.hypot(p[:, 0], rise)
        return local(q)

    return distance


def _wavy(solid: Sdf, rng: np.random.Generator, amplitude: float) -> Sdf:
    """*solid* with a faint surface ripple: six random plane waves of 6-30 mm."""
    directions = rng.normal(size=(6, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    waves = (directions * (2 * np.pi / rng.uniform(6, 30, (6, 1)))).astype(np.float32)
    phases = rng.uniform(0, 2 * np.pi, 6).astype(np.float32)
    return lambda p: solid(p) + amplitude * np.sin(_times(p, waves.T) + phases).mean(axis=1)


# --- meshing -----------------------------------------------------------------------------


class Part(NamedTuple):
    """A solid before meshing: its distance field, a box that holds it (construction
    frame, mm; generous is fine) and its finest feature (thinnest wall or smallest hole,
    mm), which bounds the grid spacing."""

    sdf: Sdf
    low: tuple[float, float, float]
    high: tuple[float, float, float]
    finest: float


def _evaluate(sdf: Sdf, points: np.ndarray) -> np.ndarray:
    out = np.empty(len(points), dtype=np.float32)
    for start in range(0, len(points), CHUNK):
        out[start : start + CHUNK] = sdf(points[start : start + CHUNK])
    return out


def _grid_points(origin: np.ndarray, step: float, counts) -> np.ndarray:
    axes = [origin[i] + step * np.arange(counts[i], dtype=np.float32) for i in range(3)]
    grid = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([axis.ravel() for axis in grid]).astype(np.float32)


def _sampled_field(part: Part, voxel: float) -> tuple[np.ndarray, np.ndarray]:
    """(distances on a grid of *voxel* spacing, the grid's origin). A coarse pass finds
    where the surface can be; only fine points within a band of it are evaluated, the
    rest are interpolated from the coarse pass (their sign is all marching cubes needs;
    the band is wider than the interpolation's worst error for a 1-Lipschitz field)."""
    step = voxel * COARSE_RATIO
    band = 2.2 * step
    margin = band + 1.5 * step  # the band around a solid that fills its box still fits
    low, high = np.asarray(part.low, dtype=float), np.asarray(part.high, dtype=float)
    for _ in range(4):  # a box drawn too tight grows where the solid meets it
        origin = low - margin
        counts = np.ceil((high + margin - origin) / step).astype(int) + 1
        coarse = _evaluate(part.sdf, _grid_points(origin, step, counts)).reshape(counts)
        near = np.argwhere(coarse < band)
        if len(near) == 0:
            raise ValueError("construction produced an empty solid")
        first, last = near.min(axis=0) - 1, near.max(axis=0) + 1
        short_low, short_high = first < 0, last >= counts
        if not (short_low.any() or short_high.any()):
            break
        growth = 0.25 * (high - low) + 10
        low, high = low - short_low * growth, high + short_high * growth
    else:
        raise ValueError("the solid reaches the edge of its bounds")
    coarse = coarse[first[0] : last[0] + 1, first[1] : last[1] + 1, first[2] : last[2] + 1]
    origin = origin + first * step
    fine_counts = (np.array(coarse.shape) - 1) * COARSE_RATIO + 1
    zoom = fine_counts / np.array(coarse.shape)
    fine = ndimage.zoom(coarse, zoom, order=1, grid_mode=False)
    where = np.nonzero(np.abs(fine) < band)
    points = (origin + np.column_stack(where) * voxel).astype(np.float32)
    fine[where] = _evaluate(part.sdf, points)
    # a value of (almost) zero at a grid point puts the vertices of every edge meeting
    # there on that point, and a reader merging them would open the mesh: keep each
    # sample at least a thousandth of a voxel from the surface
    nudge = 1e-3 * voxel
    close = np.abs(fine) < nudge
    fine[close] = np.where(fine[close] < 0, -nudge, nudge)
    return fine, origin


def _decimated(mesh: trimesh.Trimesh, faces: int) -> trimesh.Trimesh:
    """*mesh* simplified towards *faces* triangles, keeping it closed, consistently wound
    and in as many shells. Where a pass would break that (thin walls), gentler passes
    (lower aggressiveness, then less reduction) are tried; the mesh is never left with
    more than 1.3 times the most triangles a tessellation draws."""
    if len(mesh.faces) <= faces:
        return mesh
    reduction = 1 - faces / len(mesh.faces)
    ceiling = 1 - 1.3 * FACES_RANGES[-1][1] / len(mesh.faces)
    attempts = [(reduction, 7), (reduction, 3), (reduction * 0.8, 3), (reduction * 0.6, 2)]
    for attempt, aggressiveness in attempts:
        simple = _simplified(mesh, max(attempt, ceiling), aggressiveness)
        if _closed(simple) and simple.body_count == mesh.body_count:
            return simple
    raise ValueError("decimation could not keep the mesh closed")


def _simplified(mesh: trimesh.Trimesh, reduction: float, aggressiveness: int) -> trimesh.Trimesh:
    vertices, triangles = fast_simplification.simplify(
        mesh.vertices, mesh.faces, target_reduction=reduction, agg=aggressiveness
    )
    simple = _as_stored(vertices, triangles)
    simple.update_faces(simple.nondegenerate_faces())
    simple.remove_unreferenced_vertices()
    return simple


def _as_stored(vertices: np.ndarray, triangles: np.ndarray) -> trimesh.Trimesh:
    """A mesh whose vertices are rounded to float32 and merged, as an STL file stores
    and a reader merges them: two vertices that only float64 tells apart would
    otherwise pass the checks here and open the mesh once written."""
    return trimesh.Trimesh(vertices.astype(np.float32).astype(np.float64), triangles)


def _closed(mesh: trimesh.Trimesh) -> bool:
    return bool(mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0)


def _meshed(part: Part, rng: np.random.Generator) -> trimesh.Trimesh:
    """*part* as a closed triangle mesh, at a tessellation drawn from *rng*: grid spacing
    0.6-1.3 mm (down to 0.4 where the part's finest feature needs it), sometimes a faint
    ripple, then decimated to a coarse, medium or fine triangle count."""
    voxel = float(np.clip(min(_u(rng, 0.6, 1.3), part.finest / 2.5), 0.4, 1.3))
    sdf = part.sdf
    if rng.random() < 0.35:
        ripple = min(_u(rng, 0.03, 0.12), part.finest / 10)
        sdf = _wavy(sdf, rng, ripple)
    low, high = FACES_RANGES[_int(rng, 0, 2)]
    faces = _int(rng, low, high)
    field, origin = _sampled_field(part._replace(sdf=sdf), voxel)
    vertices, triangles, _, _ = measure.marching_cubes(
        field, 0.0, spacing=(voxel,) * 3, allow_degenerate=False
    )
    mesh = _as_stored(vertices + origin, triangles)
    if mesh.volume < 0:
        mesh.invert()
    if not _closed(mesh):
        raise ValueError("marching cubes left the surface open")
    return _decimated(_without_crumbs(mesh), faces)


def _without_crumbs(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """*mesh* without shells of under 0.5% of the largest one's volume: crumbs that
    marching cubes leaves where a cut grazes a surface. (A closed hollow body's inner
    shell encloses most of its volume and stays.)"""
    shells = mesh.split(only_watertight=False)
    if len(shells) == 1:
        return mesh
    largest = max(abs(shell.volume) for shell in shells)
    kept = [shell for shell in shells if abs(shell.volume) >= 0.005 * largest]
    return trimesh.util.concatenate(kept) if len(kept) < len(shells) else mesh


# --- positives ---------------------------------------------------------------------------


def smooth_tube(rng: np.random.Generator) -> trimesh.Trimesh:
    """A tapered tube with rings and a swelling blended on (often near an end) and a
    straight calibre-sized bore, slightly off its axis, through its whole length."""
    bore, length = _u(rng, 5, 20), _u(rng, 90, 340)
    end_radius = bore / 2 + _u(rng, 2.5, 8)
    start_radius = end_radius + _u(rng, 0, 9)
    half = length / 2
    blend = _u(rng, 1.5, 6)
    pieces = [_cone(start_radius, end_radius, half)]
    for _ in range(_int(rng, 0, 3)):
        near_end = rng.random() < 0.5
        station = _signed(rng, 0.75, 0.95) * half if near_end else _u(rng, -0.7, 0.7) * half
        local_radius = start_radius + (end_radius - start_radius) * (station + half) / length
        tube = _u(rng, 1.5, 5)
        ring = _ring(2 * (local_radius - tube + _u(rng, 0.5, 2)), 1.0, tube)
        pieces.append(_placed(ring, (station, 0, 0), _rotation(pitch=90)))
    if rng.random() < 0.5:
        end = _signed(rng, half - 30, half - 5)
        swell = end_radius * _u(rng, 1.1, 1.5)
        pieces.append(_placed(_sphere(swell), (end, 0, 0)))
    body = _smooth_union(blend, *pieces)
    wall_slack = end_radius - bore / 2 - 2.0
    shift = (_u(rng, -0.5, 0.5) * wall_slack, _u(rng, -0.5, 0.5) * wall_slack)
    cutter = _placed(_rod(bore / 2, half + 20), (0, *shift))
    reach = max(start_radius, end_radius * 1.5) + 10
    part = Part(
        _cut(body, cutter, k=_u(rng, 0, 1)),
        (-half - 5, -reach, -reach),
        (half + 5, reach, reach),
        min(end_radius - bore / 2, bore),
    )
    return _meshed(part, rng)


def arched_bar(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rounded bar bowed along a shallow arc, a knob blended on one end, and a straight
    calibre-sized bore on a chord through it, nearer one face than the other."""
    length, height, width = _u(rng, 100, 280), _u(rng, 26, 52), _u(rng, 18, 40)
    bore = _u(rng, 5, min(20, height - 12, width - 8))
    wall = 2.5
    sagitta = _u(rng, 0, max(0.0, height - 2 * wall - bore - 4))
    half = length / 2
    bar = _box((half, height / 2, width / 2), _u(rng, 2, min(height, width) / 3))
    if sagitta > 0.5:
        bar = _bent(bar, half * half / (2 * sagitta) + sagitta / 2)
    pieces = [bar]
    if rng.random() < 0.6:
        knob = _box((_u(rng, 8, 20), height / 2 + _u(rng, 2, 8), width / 2 + _u(rng, 0, 6)), 4)
        side = 1 if rng.random() < 0.5 else -1
        pieces.append(_placed(knob, (side * (half - 5), sagitta, 0)))
    body = _smooth_union(_u(rng, 3, 8), *pieces)
    lowest = sagitta - height / 2 + wall + bore / 2
    highest = height / 2 - wall - bore / 2
    bore_y = _u(rng, lowest, max(lowest, highest))
    cutter = _placed(_rod(bore / 2, half + 40), (0, bore_y, 0))
    reach = height + sagitta + 10
    part = Part(
        _cut(body, cutter),
        (-half - 30, -reach, -width),
        (half + 30, reach, width),
        min(bore, wall),
    )
    return _meshed(part, rng)


def _pin_holes(count, diameter, spacing, centre, row_degrees, lean_degrees, length) -> list[Sdf]:
    """Cutters for *count* parallel holes across z, their centres spaced along a line
    through *centre* inclined *row_degrees* to x in the xy plane, all leaning
    *lean_degrees* about x."""
    direction = np.array([np.cos(np.radians(row_degrees)), np.sin(np.radians(row_degrees)), 0])
    offsets = (np.arange(count) - (count - 1) / 2) * spacing
    turn = _rotation(roll=lean_degrees) @ ALONG_Z
    hole = _rod(diameter / 2, length / 2)
    return [_placed(hole, np.asarray(centre) + step * direction, turn) for step in offsets]


def _row_in_member(rng, room_x: tuple[float, float], member_height: float, thick: float):
    """A row of 3-6 pin holes of 2.5-6 mm across a member's thickness, placed between
    x = room_x, inclined up to 35 degrees but kept inside the member's height.
    Returns (cutters, hole diameter), or ([], inf) when there is no room."""
    count, diameter = _int(rng, 3, 6), _u(rng, 2.5, 6)
    spacing = _u(rng, diameter + 3, max(diameter + 3.5, 16))
    width = room_x[1] - room_x[0]
    while count > 3 and (count - 1) * spacing + diameter + 8 > width:
        count -= 1
    spacing = max(diameter + 2.5, min(spacing, (width - diameter - 8) / (count - 1)))
    span = (count - 1) * spacing
    rise_room = member_height - diameter - 6
    angle = _signed(rng, 0, 35)
    if span * abs(np.sin(np.radians(angle))) > rise_room:
        angle = float(np.sign(angle) * np.degrees(np.arcsin(np.clip(rise_room / span, 0, 1))))
    run = span * np.cos(np.radians(angle)) + diameter
    if width < run + 6:
        return [], float("inf")
    centre_x = _u(rng, room_x[0] + run / 2 + 3, room_x[1] - run / 2 - 3)
    lean = _signed(rng, 0, 10)
    holes = _pin_holes(count, diameter, spacing, (centre_x, 0, 0), angle, lean, thick * 2 + 20)
    return holes, diameter


def looped_body(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long rounded member with a finger loop blended under it at an asymmetric place,
    the loop's plane turned up to 35 degrees, and a pin-hole row at the other end."""
    length, tall, thick = _u(rng, 120, 240), _u(rng, 20, 40), _u(rng, 18, 32)
    half = length / 2
    member = _box((half, tall / 2, thick / 2), _u(rng, 2, min(tall, thick) / 3))
    opening, stretch, tube = _u(rng, 18, 35), _u(rng, 1.0, 1.6), _u(rng, 3, 6)
    loop_half = opening * stretch / 2 + 2 * tube
    side = 1 if rng.random() < 0.5 else -1
    loop_x = side * _u(rng, 0.05, max(0.06, (half - loop_half) / half)) * half
    ring = _placed(_ring(opening, stretch, tube), (0, -(opening / 2 + tube), 0))
    turn = _rotation(yaw=_signed(rng, 0, 12), pitch=_signed(rng, 0, 35))
    ring = _placed(ring, (loop_x, -tall / 2 + tube * _u(rng, 0.6, 1.2), 0), turn)
    body = _smooth_union(_u(rng, 2, 6), member, ring)
    if side > 0:
        room = (-half + 4, loop_x - loop_half - 4)
    else:
        room = (loop_x + loop_half + 4, half - 4)
    holes, pin = _row_in_member(rng, room, tall, thick)
    if holes:
        body = _cut(body, *holes)
    reach = opening * stretch + 4 * tube + 20
    part = Part(
        body,
        (-half - reach, -tall / 2 - 2 * reach, -reach - thick),
        (half + reach, tall / 2 + 5, reach + thick),
        min(pin, 2 * tube, tall / 2),
    )
    return _meshed(part, rng)


def leaning_well(rng: np.random.Generator) -> trimesh.Trimesh:
    """A member with a leg leaning 15-35 degrees near one end, blended with a wide
    fillet; a rounded well runs up the leg from its open foot (blind or through); often a
    loop ahead of the leg and a pin row in the member."""
    length, tall, thick = _u(rng, 140, 260), _u(rng, 22, 38), _u(rng, 26, 42)
    half = length / 2
    lean = _signed(rng, 15, 35)  # positive: the foot swings towards +x
    leg_length, leg_along = _u(rng, 70, 130), _u(rng, 38, 72)
    leg_thick = thick * _u(rng, 0.85, 1.0)
    side = 1 if rng.random() < 0.5 else -1
    leg_x = side * (half - leg_along / 2 - _u(rng, 5, 40))
    member = _box((half, tall / 2, thick / 2), _u(rng, 2, 8))
    leg_local = _placed(
        _box((leg_along / 2, leg_length / 2, leg_thick / 2), _u(rng, 3, 9)), (0, -leg_length / 2, 0)
    )
    leg_turn = _rotation(yaw=lean)
    leg = _intersect(
        _placed(leg_local, (leg_x, tall / 4, 0), leg_turn), _half_space((0, 1, 0), tall / 2 - 2)
    )
    pieces = [member, leg]
    across = _u(rng, 12, min(35, leg_thick - 7))
    along = _u(rng, 20, min(80, leg_along - 8))
    through = rng.random() < 0.3
    top = tall * 0.75 + 10 if through else -_u(rng, 0.05, 0.45) * leg_length
    bottom = -leg_length - 20
    well_local = _placed(
        _box((along / 2, (top - bottom) / 2, across / 2), _u(rng, 2, 6)), (0, (top + bottom) / 2, 0)
    )
    tools = [_placed(well_local, (leg_x, tall / 4, 0), leg_turn)]
    finest = min(leg_thick - across, leg_along - along) / 2
    occupied = leg_x - side * (leg_along / 2 + 10)  # the inner edge of what hangs below
    if np.sign(lean) == side and rng.random() < 0.6:  # a loop where the leg leans away
        opening, tube = _u(rng, 18, 30), _u(rng, 3, 5)
        loop_x = leg_x - side * (leg_along / 2 + opening / 2 + tube + _u(rng, 2, 8))
        occupied = loop_x - side * (opening / 2 + 2 * tube + 6)
        ring = _placed(_ring(opening, 1.0, tube), (loop_x, -tall / 2 - opening / 2 - tube * 0.4, 0))
        pieces.append(ring)
        finest = min(finest, 2 * tube)
    body = _smooth_union(_u(rng, 4, 10), *pieces)
    if rng.random() < 0.6:
        room = (-half + 4, occupied) if side > 0 else (occupied, half - 4)
        holes, pin = _row_in_member(rng, room, tall, thick)
        tools += holes
        finest = min(finest, pin)
    reach = leg_length + tall + 40
    part = Part(
        _cut(body, *tools, k=_u(rng, 0, 1.5)),
        (-half - reach, -reach, -thick),
        (half + reach, tall, thick),
        max(1.2, finest),
    )
    return _meshed(part, rng)


def cavity_lump(rng: np.random.Generator) -> trimesh.Trimesh:
    """A lumpy block made of 6-14 rounded boxes and spheres blended together, with a
    rounded through-cavity inclined up to 35 degrees near one end and a pin row near an
    edge at the other."""
    length, height, width = _u(rng, 150, 260), _u(rng, 50, 90), _u(rng, 32, 52)
    half = length / 2
    pieces = [_box((half * 0.92, height / 2 * 0.8, width / 2 * 0.85), _u(rng, 3, 10))]
    for _ in range(_int(rng, 4, 9)):
        centre = (_u(rng, -0.8, 0.8) * half, _u(rng, -0.12, 0.12) * height, 0)
        if rng.random() < 0.4:
            pieces.append(_placed(_sphere(min(_u(rng, 0.3, 0.5) * height, width / 2)), centre))
        else:
            size = (_u(rng, 12, 35), height / 2 * _u(rng, 0.7, 1.0), width / 2 * _u(rng, 0.85, 1.0))
            pieces.append(_placed(_box(size, _u(rng, 3, 10)), centre))
    body = _smooth_union(_u(rng, 3, 8), *pieces)
    across = _u(rng, 12, min(35, width * 0.85 - 9))
    along = _u(rng, 20, min(80, length * 0.45 - 20))
    # the cavity leans no further than the block's half-length leaves room for
    steepest = np.degrees(np.arctan((length * 0.45 - along) / (1.3 * height)))
    lean = _signed(rng, 0, min(35.0, steepest))
    run = 0.65 * height * np.tan(np.radians(abs(lean)))
    reach_x = along / 2 / np.cos(np.radians(lean)) + run
    side = 1 if rng.random() < 0.5 else -1
    cavity_x = side * (half * 0.92 - reach_x - _u(rng, 6, 20))
    cavity = _box((along / 2, height, across / 2), _u(rng, 1.5, 6))
    cavity = _placed(cavity, (cavity_x, 0, 0), _rotation(yaw=lean, roll=_signed(rng, 0, 8)))
    tools = [cavity]
    room = (
        (-half * 0.9, cavity_x - reach_x - 6) if side > 0 else (cavity_x + reach_x + 6, half * 0.9)
    )
    holes, pin = _row_in_member(rng, room, height * 0.25, width)
    edge_y = _signed(rng, 0.12, 0.18) * height
    tools += [_placed(hole, (0, edge_y, 0)) for hole in holes]
    part = Part(
        _cut(body, *tools, k=_u(rng, 0, 2)),
        (-half - 20, -height, -width),
        (half + 20, height, width),
        min(pin, 4.0),
    )
    return _meshed(part, rng)


def channel_rod(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long rounded (sometimes tapered) body with a long internal channel, off its axis,
    open at one end; a calibre-sized bore on the channel's axis through the closed end;
    sometimes ports from the side into the channel."""
    length = _u(rng, 150, 300)
    half = length / 2
    half_h, half_w = _u(rng, 13, 28), _u(rng, 13, 28)
    if rng.random() < 0.4:
        radius = max(half_h, half_w)
        half_h = half_w = radius
        body = _cone(radius, radius * _u(rng, 0.8, 1.0), half)
        inner = radius * 0.8
    else:
        body = _box((half, half_h, half_w), _u(rng, 3, min(half_h, half_w) * 0.9))
        inner = min(half_h, half_w)
    channel_length = length * _u(rng, 0.5, 0.85)
    wall = _u(rng, 2.5, 6)
    round_channel = rng.random() < 0.5
    # a square channel's corners reach further: keep them inside a nearly round body
    room = inner - wall - 1 if round_channel else (inner - wall) / 1.45
    channel_half = _u(rng, 4.5, max(4.6, room))
    slack = max(0.0, room - channel_half)
    offset = _u(rng, -1, 1) * slack
    if round_channel:
        channel = _rod(channel_half, channel_length / 2 + 5)
    else:
        channel = _box((channel_length / 2 + 5, channel_half, channel_half * _u(rng, 0.7, 1.0)), 2)
    open_end = 1 if rng.random() < 0.5 else -1
    channel_x = open_end * (half - channel_length / 2 + 5)
    tools = [_placed(channel, (channel_x, offset, 0))]
    bore = _u(rng, 5, min(20, 2 * channel_half))
    tools.append(_placed(_rod(bore / 2, half + 10), (-open_end * half / 2, offset, 0)))
    finest = min(wall, bore)
    for _ in range(_int(rng, 0, 3)):
        port = _u(rng, 3, 8)
        station = channel_x + _u(rng, -0.4, 0.4) * channel_length
        outward = (half_w + 10) / 2  # from the channel's axis out through the +z wall
        tools.append(_placed(_rod(port / 2, outward), (station, offset, outward), ALONG_Z))
        finest = min(finest, port)
    reach = max(half_h, half_w) + 10
    part = Part(
        _cut(body, *tools, k=_u(rng, 0, 1)),
        (-half - 10, -reach, -reach),
        (half + 10, reach, reach),
        finest,
    )
    return _meshed(part, rng)


def bent_sleeve(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long rounded box with walls of 1-3.5 mm, open at both ends, one end or the top,
    often bent 5-35 degrees along its length; sometimes a window in a side."""
    length, height, width = _u(rng, 120, 300), _u(rng, 40, 100), _u(rng, 20, 55)
    wall = _u(rng, 1.0, 3.5)
    half = length / 2
    corner = _u(rng, 1.5, min(12, width / 3))
    mid = _box((half - wall / 2, height / 2 - wall / 2, width / 2 - wall / 2), corner)
    shell = _sheet(mid, wall)
    style = ("sleeve", "capped", "trough")[_int(rng, 0, 2)]
    if style == "sleeve":
        shell = _intersect(shell, _box((half - wall - 0.3, height, width), 0))
    elif style == "capped":
        shell = _intersect(shell, _half_space((1, 0, 0), half - wall - 0.3))
    else:
        shell = _intersect(shell, _half_space((0, 1, 0), height / 2 - wall - 0.3))
    if rng.random() < 0.3:
        window = _box((_u(rng, 10, half / 2), _u(rng, 5, height / 4), width), _u(rng, 2, 5))
        shell = _cut(
            shell,
            _placed(window, (_u(rng, -0.5, 0.5) * half, _u(rng, -0.2, 0.2) * height, width / 2)),
        )
    bend = _u(rng, 5, 35) if rng.random() < 0.5 else 0.0
    sag = 0.0
    if bend:
        radius = length / np.radians(bend)
        shell = _bent(shell, radius)
        sag = radius * (1 - np.cos(np.radians(bend / 2)))
    part = Part(
        shell,
        (-half - 5, -height / 2 - 5, -width / 2 - 5),
        (half + 5, height / 2 + sag + 5, width / 2 + 5),
        wall,
    )
    return _meshed(part, rng)


def closed_shell(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long, closed, hollow body with walls of 1-3.5 mm: the skin of two or three
    blended rounded boxes (two nested shells); sometimes bowed."""
    length, height, width = _u(rng, 120, 300), _u(rng, 40, 95), _u(rng, 20, 50)
    wall = _u(rng, 1.0, 3.5)
    half = length / 2
    core = (half - wall, height / 2 - wall, width / 2 - wall)
    pieces = [_box(core, _u(rng, 3, min(15, width / 3)))]
    for _ in range(_int(rng, 1, 2)):
        size = (
            _u(rng, 15, half / 2),
            height / 2 * _u(rng, 0.6, 1.1),
            width / 2 * _u(rng, 0.6, 0.95),
        )
        centre = (_u(rng, -0.6, 0.6) * half, _u(rng, -0.2, 0.2) * height, 0)
        pieces.append(_placed(_box(size, _u(rng, 3, min(size[1:]) * 0.8)), centre))
    skin = _sheet(_smooth_union(_u(rng, 4, 12), *pieces), wall)
    sag = 0.0
    if rng.random() < 0.4:
        bend = _u(rng, 5, 25)
        radius = length / np.radians(bend)
        skin = _bent(skin, radius)
        sag = radius * (1 - np.cos(np.radians(bend / 2)))
    reach = height * 0.8 + 10
    part = Part(skin, (-half - 10, -reach, -width - 5), (half + 10, reach + sag, width + 5), wall)
    return _meshed(part, rng)


def strut_frame(rng: np.random.Generator) -> trimesh.Trimesh:
    """Many small flat bars blended into an open frame: a two-rail member braced by a
    zig-zag, a loop of 8-12 bars hanging from it and a solid pad with a pin-hole row
    at the other end."""
    length, gap, bar = _u(rng, 150, 250), _u(rng, 14, 26), _u(rng, 2.5, 4.5)
    thick = _u(rng, 16, 30)
    half = length / 2
    bars = [((-half, 0), (half, 0)), ((-half, -gap), (half, -gap))]
    pitch = _u(rng, 20, 35)
    stations = np.arange(-half, half - pitch / 2, pitch)
    for i, x in enumerate(stations):
        bars.append(((x, 0 if i % 2 else -gap), (x + pitch, -gap if i % 2 else 0)))
    side = 1 if rng.random() < 0.5 else -1  # the loop's end; the pad is at the other
    opening = _u(rng, 18, 35)
    sides = _int(rng, 8, 12)
    loop_radius = opening / 2 + bar
    loop_x = side * _u(rng, 0.1, 0.85) * (half - loop_radius)
    loop_centre = np.array((loop_x, -gap - loop_radius + bar))
    corners = [
        loop_centre + loop_radius * np.array((np.cos(a), np.sin(a)))
        for a in np.linspace(0, 2 * np.pi, sides + 1)
    ]
    bars += [(tuple(corners[i]), tuple(corners[i + 1])) for i in range(sides)]
    solids = [_elongated(_capsule((*a, 0), (*b, 0), bar), thick / 2 - bar) for a, b in bars]
    pad_x = -side * (half - _u(rng, 30, 45))
    pad = _u(rng, 25, 40)
    solids.append(_placed(_box((pad, gap / 2 + bar, thick / 2), 2), (pad_x, -gap / 2, 0)))
    body = _smooth_union(_u(rng, 1, 3), *solids)
    holes, pin = _row_in_member(rng, (pad_x - pad, pad_x + pad), gap, thick)
    if holes:
        body = _cut(body, *[_placed(hole, (0, -gap / 2, 0)) for hole in holes])
    reach = opening + 40
    part = Part(
        body, (-half - reach, -reach, -thick), (half + reach, gap + 10, thick), min(2 * bar, pin)
    )
    return _meshed(part, rng)


# --- benign look-alikes ------------------------------------------------------------------


def drawer_pull(rng: np.random.Generator) -> trimesh.Trimesh:
    """A round-section arch on two posts with blind screw holes; half of them stand on a
    back plate, which closes the finger gap (18-35 mm) into a loop."""
    span, gap, radius = _u(rng, 70, 180), _u(rng, 18, 35), _u(rng, 4, 8)
    inset = _u(rng, 5, 18)
    rise = gap + radius
    corners = [(-span / 2, 0), (-span / 2 + inset, rise), (span / 2 - inset, rise), (span / 2, 0)]
    arch = [_capsule((*a, 0), (*b, 0), radius) for a, b in zip(corners, corners[1:], strict=False)]
    posts = [_placed(_rod(radius + 1.5, 4), (x, 2, 0), ALONG_Y) for x in (-span / 2, span / 2)]
    pieces = arch + posts
    if rng.random() < 0.5:
        plate = _box((span / 2 + 12, 2, radius + _u(rng, 3, 10)), 2)
        pieces.append(_placed(plate, (0, -2, 0)))
    screw = _u(rng, 2.8, 4.2)
    holes = [_placed(_rod(screw / 2, 8), (x, 0, 0), ALONG_Y) for x in (-span / 2, span / 2)]
    body = _cut(_smooth_union(_u(rng, 1.5, 4), *pieces), *holes)
    reach = span / 2 + 20
    part = Part(body, (-reach, -10, -reach / 3), (reach, rise + radius + 5, reach / 3), screw)
    return _meshed(part, rng)


def key_fob(rng: np.random.Generator) -> trimesh.Trimesh:
    """A flat rounded tag with a finger-sized ring hole (18-30 mm) near one end."""
    length, width, thick = _u(rng, 45, 90), _u(rng, 28, 42), _u(rng, 3, 7)
    hole = _u(rng, 18, min(30, width - 6))
    body = _box((length / 2, width / 2, thick / 2), _u(rng, 1, thick / 2))
    tag = _placed(_rod(width / 2, thick / 2), (length / 2, 0, 0), ALONG_Z)
    shape = _smooth_union(_u(rng, 2, 6), body, tag)
    ring = _placed(_rod(hole / 2, thick * 2), (length / 2, 0, 0), ALONG_Z)
    part = Part(
        _cut(shape, ring, k=_u(rng, 0, 1)),
        (-length, -width, -thick),
        (length + width, width, thick),
        thick,
    )
    return _meshed(part, rng)


def barbed_fitting(rng: np.random.Generator) -> trimesh.Trimesh:
    """A short hose fitting: a 5-20 mm bore through 20-60 mm, 2-4 barbs on each spigot
    and a hexagonal collar in the middle."""
    bore, length = _u(rng, 5, 20), _u(rng, 20, 60)
    half = length / 2
    outer = bore / 2 + _u(rng, 1.5, 4)
    pieces = [_rod(outer, half)]
    for end in (-1, 1):
        for i in range(_int(rng, 2, 4)):
            station = end * (half - 3 - i * _u(rng, 4, 7))
            barb = (
                _cone(outer + _u(rng, 1, 2.5), outer, 2) if end > 0 else _cone(outer, outer + 2, 2)
            )
            pieces.append(_placed(barb, (station, 0, 0)))
    flats = outer + _u(rng, 3, 7)
    hexagon = _intersect(
        *[
            _placed(_box((_u(rng, 3, 6), flats, 99), 0), (0, 0, 0), _rotation(roll=a))
            for a in (0, 60, 120)
        ]
    )
    pieces.append(hexagon)
    body = _cut(_smooth_union(_u(rng, 0.5, 1.5), *pieces), _rod(bore / 2, half + 10))
    reach = flats * 1.2 + 5
    part = Part(
        body, (-half - 5, -reach, -reach), (half + 5, reach, reach), min(outer - bore / 2, 3)
    )
    return _meshed(part, rng)


def guide_rod(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long rounded rod with a thin (1.6-3.8 mm) guide hole through it, like a cable
    guide or a drinking straw."""
    length, radius = _u(rng, 120, 300), _u(rng, 4, 12)
    half = length / 2
    if rng.random() < 0.5:
        body = _cone(radius, radius * _u(rng, 0.6, 1.0), half)
    else:
        body = _box((half, radius, radius * _u(rng, 0.7, 1.0)), _u(rng, 1, radius * 0.7))
    hole = _u(rng, 1.6, min(3.8, radius))
    part = Part(
        _cut(body, _rod(hole / 2, half + 10)),
        (-half - 5, -radius - 5, -radius - 5),
        (half + 5, radius + 5, radius + 5),
        hole,
    )
    return _meshed(part, rng)


def wide_pipe(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long pipe with a wide (24-60 mm) bore and a 1.5-4 mm wall, beaded lips, often
    bent up to 35 degrees."""
    bore, length, wall = _u(rng, 24, 60), _u(rng, 100, 300), _u(rng, 1.5, 4)
    half = length / 2
    pipe = _cut(_rod(bore / 2 + wall, half), _rod(bore / 2, half + 5))
    lips = [
        _placed(
            _ring(bore - 0.5, 1.0, wall * 0.8), (end * (half - wall), 0, 0), _rotation(pitch=90)
        )
        for end in (-1, 1)
    ]
    body = _cut(_smooth_union(0.8, pipe, *lips), _rod(bore / 2, half + 5))
    sag = 0.0
    if rng.random() < 0.5:
        bend = _u(rng, 8, 35)
        radius = length / np.radians(bend)
        body = _bent(body, radius)
        sag = radius * (1 - np.cos(np.radians(bend / 2)))
    reach = bore / 2 + 2 * wall + 5
    part = Part(body, (-half - 5, -reach, -reach), (half + 5, reach + sag, reach), wall)
    return _meshed(part, rng)


def duct_bend(rng: np.random.Generator) -> trimesh.Trimesh:
    """A short, wide, thin-walled (1.5-3 mm) duct of rounded-rectangle section, open at
    both ends, bent 0-35 degrees, sometimes with a flange."""
    length, wide, deep, wall = _u(rng, 60, 180), _u(rng, 50, 140), _u(rng, 30, 80), _u(rng, 1.5, 3)
    half = length / 2
    corner = _u(rng, 4, deep / 3)
    section = _box((half, wide / 2 - wall / 2, deep / 2 - wall / 2), corner)
    duct = _intersect(_sheet(section, wall), _box((half - wall - 0.3, wide, deep), 0))
    if rng.random() < 0.4:
        plate = _box((wall, wide / 2 + 8, deep / 2 + 8), 3)
        opening = _box((wall * 3, wide / 2 - wall, deep / 2 - wall), max(0.5, corner - wall / 2))
        duct = _union(duct, _placed(_cut(plate, opening), (half - 2 * wall - 0.3, 0, 0)))
    sag = 0.0
    if rng.random() < 0.7:
        bend = _u(rng, 5, 35)
        radius = length / np.radians(bend)
        duct = _bent(duct, radius)
        sag = radius * (1 - np.cos(np.radians(bend / 2))) + half * np.sin(np.radians(bend / 2))
    part = Part(
        duct,
        (-half - 5, -wide / 2 - 15, -deep / 2 - 15),
        (half + 5, wide / 2 + 15 + sag, deep / 2 + 15),
        wall,
    )
    return _meshed(part, rng)


def project_box(rng: np.random.Generator) -> trimesh.Trimesh:
    """An electronics enclosure, walls 1.5-3 mm: open-topped or closed (two nested
    shells), with corner bosses drilled for screws and a cable hole in one side."""
    length, width, height, wall = (
        _u(rng, 60, 160),
        _u(rng, 40, 110),
        _u(rng, 25, 60),
        _u(rng, 1.5, 3),
    )
    half = np.array([length, height, width]) / 2
    skin = _sheet(_box(half - wall / 2, _u(rng, 2, 10)), wall)
    closed = rng.random() < 0.4
    if not closed:
        skin = _intersect(skin, _half_space((0, 1, 0), half[1] - wall - 0.3))
    boss_r, pilot = _u(rng, 3, 5), _u(rng, 2.5, 3.5)
    corners = [
        (sx * (half[0] - wall - boss_r), sz * (half[2] - wall - boss_r))
        for sx in (-1, 1)
        for sz in (-1, 1)
    ]
    bosses = [
        _placed(_rod(boss_r, half[1] * 0.6), (x, -half[1] * 0.3, z), ALONG_Y) for x, z in corners
    ]
    pilots = [_placed(_rod(pilot / 2, half[1] * 0.4), (x, 0, z), ALONG_Y) for x, z in corners]
    cable = _placed(
        _rod(_u(rng, 3, 6), wall * 3), (half[0] - wall / 2, _u(rng, -0.3, 0.2) * height, 0)
    )
    body = _cut(_smooth_union(1.0, skin, *bosses), *pilots, cable)
    part = Part(body, tuple(-half - 3), tuple(half + 3), min(wall, pilot))
    return _meshed(part, rng)


def toy_brick(rng: np.random.Generator) -> trimesh.Trimesh:
    """A toy building brick: a thin-walled (1.2-1.8 mm) box open underneath, 2 x 2 to
    2 x 10 studs on top, hollow tubes between the rows underneath."""
    pitch, studs = 8.0, _int(rng, 2, 10)
    length, width = studs * pitch - 0.2, 2 * pitch - 0.2
    height, wall = (9.6 if rng.random() < 0.7 else 3.2), _u(rng, 1.2, 1.8)
    outer = _box((length / 2, height / 2, width / 2), 0.3)
    inner = _placed(_box((length / 2 - wall, height / 2, width / 2 - wall), 0.2), (0, -wall, 0))
    tops = [
        _placed(
            _rod(2.4, 0.9),
            ((i - (studs - 1) / 2) * pitch, height / 2 + 0.8, sz * pitch / 2),
            ALONG_Y,
        )
        for i in range(studs)
        for sz in (-1, 1)
    ]
    tubes = (
        [
            _placed(
                _cut(_rod(3.25, height / 2 - 0.5), _rod(2.4, height)),
                ((i - studs / 2) * pitch, -0.5, 0),
                ALONG_Y,
            )
            for i in range(1, studs)
        ]
        if height > 5
        else []
    )
    body = _union(_cut(outer, inner), *tops, *tubes)
    part = Part(
        body,
        (-length / 2 - 2, -height / 2 - 2, -width / 2 - 2),
        (length / 2 + 2, height / 2 + 3, width / 2 + 2),
        wall,
    )
    return _meshed(part, rng)


def hinge_strap(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long flat strap with a row of 4-10 screw holes (3-6 mm) along it, often a
    knuckle with a pin bore across one end, sometimes a gentle bow."""
    length, width, thick = _u(rng, 100, 250), _u(rng, 15, 30), _u(rng, 3, 6)
    half = length / 2
    body = _box((half, thick / 2, width / 2), _u(rng, 1, thick / 2))
    tools, hole = [], _u(rng, 3, 6)
    count = _int(rng, 4, 10)
    pitch = (length - 30) / count
    tools = [
        _placed(_rod(hole / 2, thick * 2), (-half + 15 + pitch * (i + 0.5), 0, 0), ALONG_Y)
        for i in range(count)
    ]
    if rng.random() < 0.6:
        knuckle, pin = _u(rng, max(8, thick + 3), 14), _u(rng, 3, 6)
        body = _smooth_union(
            1.5,
            body,
            _placed(
                _rod(knuckle / 2, width / 2),
                (half, knuckle / 2 - thick / 2, 0),
                _rotation(yaw=90) @ ALONG_Y @ ALONG_Z,
            ),
        )
        tools.append(_placed(_rod(pin / 2, width), (half, knuckle / 2 - thick / 2, 0), ALONG_Z))
    body = _cut(body, *tools)
    if rng.random() < 0.3:
        body = _bent(body, length / np.radians(_u(rng, 5, 20)))
    part = Part(
        body, (-half - 10, -thick - 10, -width), (half + 20, thick + 30, width), min(thick, hole)
    )
    return _meshed(part, rng)


def cable_comb(rng: np.random.Generator) -> trimesh.Trimesh:
    """A cable comb: a rounded block with a row of 3-8 parallel holes of 3-6 mm through
    it and a slotted mounting ear at each end."""
    count, hole = _int(rng, 3, 8), _u(rng, 3, 6)
    pitch = _u(rng, hole + 2.5, hole + 9)
    length = count * pitch + 10
    depth, height = _u(rng, 10, 25), _u(rng, hole + 6, hole + 16)
    body = _box((length / 2, height / 2, depth / 2), _u(rng, 1, 4))
    ear = _box((8, 1.5, depth / 2), 1.5)
    ears = [_placed(ear, (side * (length / 2 + 6), -height / 2 + 1.5, 0)) for side in (-1, 1)]
    slots = [
        _placed(_box((3, 5, 1.8), 1.7), (side * (length / 2 + 8), -height / 2, 0))
        for side in (-1, 1)
    ]
    offsets = (np.arange(count) - (count - 1) / 2) * pitch
    holes = [_placed(_rod(hole / 2, depth), (x, 0, 0), ALONG_Z) for x in offsets]
    solid = _cut(_smooth_union(_u(rng, 1, 3), body, *ears), *holes, *slots)
    part = Part(
        solid, (-length / 2 - 20, -height, -depth), (length / 2 + 20, height, depth), min(hole, 3.0)
    )
    return _meshed(part, rng)


def lamp_arm(rng: np.random.Generator) -> trimesh.Trimesh:
    """A desk-lamp arm: 2-3 flat bars, 70-140 mm each, joined at 10-35 degrees by round
    hubs with pivot holes (4-7 mm) at every joint and end."""
    segments, thick, wide = _int(rng, 2, 3), _u(rng, 5, 10), _u(rng, 10, 18)
    heading, point = 0.0, np.zeros(2)
    joints = [point.copy()]
    for _ in range(segments):
        heading += _signed(rng, 10, 35)
        point = point + _u(rng, 70, 140) * np.array(
            [np.cos(np.radians(heading)), np.sin(np.radians(heading))]
        )
        joints.append(point.copy())
    joints = np.array(joints) - np.mean(joints, axis=0)
    bars = [
        _elongated(_capsule((*a, 0), (*b, 0), wide / 2), thick / 2 - 0.1)
        for a, b in zip(joints, joints[1:], strict=False)
    ]
    pivot = _u(rng, 4, 7)
    hubs = [
        _placed(_rod(wide / 2 + _u(rng, 1, 4), thick / 2 + 0.5), (*j, 0), ALONG_Z) for j in joints
    ]
    holes = [_placed(_rod(pivot / 2, thick * 2), (*j, 0), ALONG_Z) for j in joints]
    body = _cut(_smooth_union(_u(rng, 1, 4), *bars, *hubs), *holes)
    low = joints.min(axis=0) - wide - 10
    high = joints.max(axis=0) + wide + 10
    part = Part(body, (low[0], low[1], -thick - 5), (high[0], high[1], thick + 5), pivot)
    return _meshed(part, rng)


def bike_grip(rng: np.random.Generator) -> trimesh.Trimesh:
    """A ribbed handlebar grip: a soft-edged sleeve 90-140 mm long with a 21-26 mm bore,
    open at both ends or closed at one."""
    length, bore = _u(rng, 90, 140), _u(rng, 21, 26)
    half = length / 2
    outer = bore / 2 + _u(rng, 4, 8)
    pieces = [_rod(outer, half)]
    ribs = _int(rng, 4, 10)
    for i in range(ribs):
        station = -half + 10 + (length - 20) * (i + 0.5) / ribs
        pieces.append(
            _placed(_ring(2 * (outer - 1.5), 1.0, 2.0), (station, 0, 0), _rotation(pitch=90))
        )
    if rng.random() < 0.5:
        pieces.append(_placed(_rod(outer + 3, 3), (-half + 3, 0, 0)))
    closed = rng.random() < 0.5
    bore_cut = _rod(bore / 2, half + 10) if not closed else _placed(_rod(bore / 2, half), (4, 0, 0))
    body = _cut(_smooth_union(1.5, *pieces), bore_cut, k=1.0)
    reach = outer + 10
    part = Part(body, (-half - 5, -reach, -reach), (half + 5, reach, reach), outer - bore / 2)
    return _meshed(part, rng)


def organic_mug(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rounded mug, walls 2.5-5 mm, with a blended ring handle whose finger hole is
    18-35 mm across."""
    radius, height, wall = _u(rng, 32, 45), _u(rng, 75, 110), _u(rng, 2.5, 5)
    foot = radius * _u(rng, 0.85, 1.0)
    cup = _placed(_cone(foot, radius, height / 2), (0, 0, 0), ALONG_Y)
    floor = _u(rng, 4, 8)
    # the hollow tapers with the cup, so the side wall keeps its thickness
    taper = (radius - foot) * floor / height
    hollow = _cone(foot + taper - wall, radius + taper - wall, height / 2)
    hollow = _placed(hollow, (0, floor, 0), ALONG_Y)
    opening, stretch, tube = _u(rng, 18, 35), _u(rng, 1.2, 2.2), _u(rng, 4, 7)
    ring_x = radius + opening / 2 + tube - _u(rng, 1, 4)
    handle = _placed(
        _ring(opening, stretch, tube), (ring_x, _u(rng, -0.1, 0.15) * height, 0), _rotation(yaw=90)
    )
    body = _cut(_smooth_union(_u(rng, 2, 5), cup, handle), hollow, k=_u(rng, 0.5, 1.5))
    reach = radius + opening + 4 * tube + 10
    part = Part(
        body,
        (-radius - 5, -height / 2 - 5 - opening * stretch / 2, -radius - 5),
        (reach, height / 2 + opening * stretch + 5, radius + 5),
        wall,
    )
    return _meshed(part, rng)


def saw_handle(rng: np.random.Generator) -> trimesh.Trimesh:
    """A closed hand-saw style handle: a loop of bars round a hand opening of 25-35 x
    80-110 mm leaning 15-30 degrees, on a flat blade mount with two rivet holes."""
    opening, tall, lean = _u(rng, 25, 35), _u(rng, 80, 110), _signed(rng, 15, 30)
    bar, thick = _u(rng, 6, 11), _u(rng, 18, 26)
    hole = _placed(
        _box((opening / 2, tall / 2, thick), min(opening / 2 - 0.5, _u(rng, 6, 12))),
        (0, 0, 0),
        _rotation(yaw=lean),
    )
    outline = _placed(
        _box((opening / 2 + bar, tall / 2 + bar, thick / 2), _u(rng, 8, 14)),
        (0, 0, 0),
        _rotation(yaw=lean),
    )
    mount_length = _u(rng, 50, 90)
    mount = _placed(
        _box((mount_length / 2, _u(rng, 20, 35), thick / 2 * 0.6), 3),
        (opening / 2 + bar + mount_length / 2 - 5, tall / 4, 0),
    )
    rivet = _u(rng, 4, 6)
    rivets = [
        _placed(
            _rod(rivet / 2, thick), (opening / 2 + bar + f * mount_length, tall / 4, 0), ALONG_Z
        )
        for f in (0.45, 0.8)
    ]
    body = _cut(_smooth_union(_u(rng, 3, 8), outline, mount), hole, *rivets, k=_u(rng, 0, 2))
    reach = tall + mount_length
    part = Part(body, (-reach, -reach, -thick), (reach, reach, thick), min(bar, rivet))
    return _meshed(part, rng)


# --- the family ------------------------------------------------------------------------


class Kind(NamedTuple):
    """One kind of family C: its builder and what a table of the family says about it.
    (A NamedTuple, so the module also works when loaded from its path with importlib.)"""

    name: str
    group: str  # "positive" or "lookalike"
    make: Builder
    features: str  # the coarse features it shares with printable firearm parts, or not
    shells: int = 1  # connected shells: a closed hollow body has an inner one


def _group(group: str, *entries) -> tuple[Kind, ...]:
    """Kinds of *group* from (builder, features[, shells]), named after their builders."""
    return tuple(Kind(make.__name__, group, make, *rest) for make, *rest in entries)


KINDS: tuple[Kind, ...] = _group(
    "positive",
    (smooth_tube, "calibre bore 5-20 mm through a long tapered tube with blended rings"),
    (arched_bar, "calibre bore on a chord of a long bowed bar"),
    (looped_body, "finger loop 18-35 mm, plane turned 0-35 deg; pin row, inclined 0-35 deg"),
    (leaning_well, "well 12-35 x 20-80 mm up a leg leaning 15-35 deg; often a loop, a pin row"),
    (cavity_lump, "through-cavity 12-35 x 20-80 mm inclined 0-35 deg; pin row near an edge"),
    (channel_rod, "long channel off the axis, calibre bore on its axis; side ports"),
    (bent_sleeve, "long box, walls 1-3.5 mm, open (ends or top); bent 0-35 deg"),
    (closed_shell, "long closed hollow body, walls 1-3.5 mm", 2),
    (strut_frame, "open frame of many small bars: loop 18-35 mm; pin row in a pad"),
) + _group(
    "lookalike",
    (drawer_pull, "finger gap 18-35 mm under an arch (a loop when on a plate)"),
    (key_fob, "finger-sized ring hole in a flat tag"),
    (barbed_fitting, "calibre bore, but 20-60 mm long"),
    (guide_rod, "long rod, bore 1.6-3.8 mm (below calibre)"),
    (wide_pipe, "long pipe, bore 24-60 mm (above calibre), thin wall"),
    (duct_bend, "thin-walled open duct, short and wide"),
    (project_box, "thin-walled box, not long; open or closed", 2),
    (toy_brick, "thin-walled open box, small"),
    (hinge_strap, "row of 4-10 holes 3-6 mm along a flat strap; pin bore"),
    (cable_comb, "row of 3-8 parallel holes 3-6 mm through a block"),
    (lamp_arm, "bars at 10-35 deg with pivot holes 4-7 mm"),
    (bike_grip, "bore 21-26 mm through a 90-140 mm sleeve"),
    (organic_mug, "finger-sized handle loop, walls 2.5-5 mm"),
    (saw_handle, "hand opening 25-35 x 80-110 mm leaning 15-30 deg"),
)
BY_NAME = {kind.name: kind for kind in KINDS}
POSITIVES: dict[str, Builder] = {k.name: k.make for k in KINDS if k.group == "positive"}
LOOKALIKES: dict[str, Builder] = {k.name: k.make for k in KINDS if k.group == "lookalike"}


def build(kind: str, rng: np.random.Generator) -> trimesh.Trimesh:
    """One mesh of *kind* in a random rigid pose (rotation and translation)."""
    mesh = BY_NAME[kind].make(rng)
    mesh.apply_transform(trimesh.transformations.random_rotation_matrix(rng.random(3)))
    mesh.apply_translation(rng.uniform(-150, 150, 3))
    return mesh


def kind_rng(kind: str, index: int, seed: int) -> np.random.Generator:
    """The random stream of mesh *index* of *kind*: independent of every other kind
    (and of family B's streams, by a family tag)."""
    return np.random.default_rng([seed, zlib.crc32(b"C:" + kind.encode()), index])


def sample(count_per_kind: int, seed: int = 0) -> list[tuple[str, str, trimesh.Trimesh]]:
    """(group, kind, posed mesh) for *count_per_kind* meshes of every kind, positives
    first; the same *seed* gives the same meshes."""
    return list(iter_sample(count_per_kind, seed))


def iter_sample(count_per_kind: int, seed: int = 0) -> Iterator[tuple[str, str, trimesh.Trimesh]]:
    """:func:`sample`, one mesh at a time."""
    for kind in KINDS:
        for index in range(count_per_kind):
            yield kind.group, kind.name, build(kind.name, kind_rng(kind.name, index, seed))


# --- command line ----------------------------------------------------------------------


def _summary(kind: Kind, count: int, seed: int) -> dict:
    """Measured extents (mm, sorted), triangles and CPU time over *count* meshes."""
    extents, triangles, started = [], [], time.process_time()
    for index in range(count):
        mesh = kind.make(kind_rng(kind.name, index, seed))
        extents.append(np.sort(mesh.extents)[::-1])
        triangles.append(len(mesh.faces))
    extents = np.array(extents)
    return {
        "low": extents.min(axis=0),
        "high": extents.max(axis=0),
        "triangles": (min(triangles), max(triangles)),
        "ms": 1000 * (time.process_time() - started) / count,
    }


def main(argv: list[str] | None = None) -> None:
    """Print the table of kinds (measured extents, triangles, CPU time); with --out,
    also write every mesh of the sample as a posed STL file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5, help="meshes per kind (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write posed STL files here")
    args = parser.parse_args(argv)
    print(
        "| kind | group | coarse features | extents (mm, longest to shortest) | triangles"
        " | CPU ms per mesh |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for kind in KINDS:
        row = _summary(kind, args.count, args.seed)
        spans = " x ".join(
            f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(row["low"], row["high"], strict=True)
        )
        tris = "{}-{}".format(*row["triangles"])
        print(
            f"| {kind.name} | {kind.group} | {kind.features} | {spans} | {tris}"
            f" | {row['ms']:.0f} |",
            flush=True,
        )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            for index in range(args.count):
                mesh = build(kind.name, kind_rng(kind.name, index, args.seed))
                mesh.export(args.out / f"{kind.name}_{index:03d}.stl")
        print(f"wrote {len(KINDS) * args.count} STL files to {args.out}")


if __name__ == "__main__":
    main()
