"""Held-out stand-in family E: "subdivision-surface / sculpt-tool export" meshes.

Why a fifth family: the detection rules were tuned on family A
(``samples/generate.py``: axis-aligned boxes and cylinders cut by manifold3d booleans),
and families B (``benchmarks/_standins_b.py``: manifold3d outlines extruded, revolved,
lofted and hulled), C (``benchmarks/_standins_c.py``: signed-distance solids meshed by
marching cubes) and D (``benchmarks/_standins_d.py``: hand-written numpy shells,
overlapping and never unioned) were each held out once and are now spent. Family E
gives a held-out figure again. It was written from a coarse description of the
features a lab looks for, without opening the detection rules (``rules/``), the
detection code (``firetrace/detect/``, its tests and docs/detection.md) or the code of
families B-D, and no detector was run on any of its meshes while it was written.
Score it once with the rules frozen beforehand and never tune a rule or threshold on
its results: a change made after looking at them spends it.

Construction (different from A-D): every part is a coarse *control cage*, a closed,
manifold, low-poly quad mesh of the right genus written vertex by vertex in numpy, then
smoothed by 1-3 rounds of Loop subdivision (``trimesh.remesh.subdivide_loop``), as
subdivision-surface modellers and sculpt tools export them:

* block cages: a non-uniform 3-D lattice whose filled cells make the part (a box with a
  through-tunnel for a bore, a block with a through-slot or a pocket, a body with a
  loop hanging from it, rows of pin tunnels across the width); the cage is the
  boundary of the filled cells, so tunnels give it the genus of the part. A bore's or
  pin hole's square tunnel has guide lines at its centre and 0.414 of its half-side,
  and its wall is pulled onto the circle it holds (16 evenly turned points), so it
  smooths to a round hole of that diameter rather than a rounded square. Some cages
  have *crease loops*: extra lattice lines 0.3-3 mm in from every edge (doubled edge
  loops), so the smoothed body keeps tighter edges; cages without them come out
  rounder and softer;
* lathe cages: a closed (x, r) profile revolved with 8-16 segments (tubes, barrels,
  spacers, bands, a torus for a ring), or an open profile from axis to axis (solid
  handles and knobs), its corners optionally doubled the same way;
* sub-features are sheared in the cage before smoothing (a loop raked 0-35 degrees, a
  well block leaning 0-20 degrees) and placed asymmetrically;
* smoothing rounds every edge, bulges faces slightly and makes holes narrow or flare
  at their mouths; every opening is measured after smoothing (sections across a bore,
  in this module's own geometry code), and a builder records its openings in
  ``mesh.metadata["openings"]`` (construction frame) so the tests can check they are
  open;
* export noise: some meshes carry a vertex jitter of 0.01-0.05 mm, some are smoothed
  only once (coarse, decimated-looking). Most parts are one watertight shell; a few
  have a second, separately modelled shell (a pin in a pin hole, a ferrule on a
  handle, a mount on a towel ring) placed touching or slightly overlapping.

Nothing here is, or resembles in detail, a real or functional design. Positives share
only coarse features with printable firearm parts (a straight calibre-sized bore of
5-20 mm through a long body, a finger-sized loop, a well or through-cavity, rows of
2-4 small parallel pin holes across the width, a long channel with a bore on its axis,
long thin-walled sleeves); look-alikes are ordinary objects built the same way that
share one of those features (pipes, rings, handles, hinges, brackets, rails, trays).

Kinds (``python benchmarks/_standins_e.py`` prints each with its measured extents):
7 positives, ``sculpted_barrel`` (150-430 mm), ``tunnel_receiver`` (180-330 mm),
``raked_loop_frame`` (130-270 mm), ``raked_well_block`` (80-230 mm), ``pinned_bar``
(100-260 mm), ``bored_channel`` (150-360 mm), ``window_sleeve`` (120-310 mm);
12 look-alikes, ``drain_pipe`` (100-440), ``towel_ring`` (110-210), ``bridge_handle``
(90-230), ``knuckle_hinge`` (40-130), ``angle_bracket`` (40-160), ``curtain_track``
(150-450), ``file_handle`` (80-150), ``shaft_spacer`` (25-90), ``mushroom_knob``
(25-60), ``storage_tray`` (100-310), ``soap_dish`` (90-150), ``napkin_band`` (36-62)
(mm). Each kind states the range of its longest extent and of its triangle count
(200-60,000); the tests hold it to them.

API (as families B-D): ``POSITIVES`` and ``LOOKALIKES`` map kind names to builders
``rng -> trimesh.Trimesh`` (construction frame, long axis x, millimetres); :func:`build`
adds a random rigid pose; :func:`sample` yields ``(group, kind, mesh)``, one random
stream per kind and index (:func:`kind_rng`).

Usage: ``python benchmarks/_standins_e.py [--count N] [--seed S] [--out DIR]`` prints a
table of the kinds with measured extents and triangle counts; ``--out`` also writes
posed STL files.
"""

from __future__ import annotations

import argparse
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import trimesh

Builder = Callable[[np.random.Generator], trimesh.Trimesh]
MAX_TRIANGLES = 60_000


# --- cages -------------------------------------------------------------------------------


def _lattice(breaks, crease: float, guides=()) -> np.ndarray:
    """Sorted lattice lines through *breaks*; with *crease* > 0 also a line that far in
    from both ends of every interval (at most 30 % of it): doubled edge loops; then the
    *guides* (lines of their own, not creased)."""
    lines = np.unique(np.round(np.asarray(breaks, dtype=float), 6))
    extra = []
    if crease > 0:
        for low, high in zip(lines[:-1], lines[1:], strict=True):
            c = min(crease, 0.3 * (high - low))
            if c > 0.05:
                extra += [low + c, high - c]
    guides = np.asarray(guides, dtype=float)
    return np.unique(np.round(np.concatenate([lines, extra, guides]), 6))


def _block_cage(boxes, crease: float) -> trimesh.Trimesh:
    """The cage of a part made of lattice cells: *boxes* is a list of (sign, low, high)
    applied in order (+1 fills the cells whose centre is inside, -1 empties them)."""
    axes = [
        _lattice(
            [v for sign, low, high in boxes if sign for v in (low[a], high[a])],
            crease,
            [v for sign, low, high in boxes if not sign for v in (low[a], high[a])],
        )
        for a in range(3)
    ]
    centres = np.stack(np.meshgrid(*[(g[1:] + g[:-1]) / 2 for g in axes], indexing="ij"), axis=-1)
    fill = np.zeros(centres.shape[:3], dtype=bool)
    for sign, low, high in boxes:
        if sign == 0:
            continue  # a guide: lattice lines only
        inside = np.all((centres > np.asarray(low)) & (centres < np.asarray(high)), axis=-1)
        fill = fill | inside if sign > 0 else fill & ~inside
    return _cells_surface(fill, axes)


def _cells_surface(fill: np.ndarray, axes) -> trimesh.Trimesh:
    """The boundary of the filled cells as triangulated quads, outward."""
    shape = tuple(len(g) for g in axes)
    node = np.arange(np.prod(shape)).reshape(shape)
    padded = np.pad(fill, 1)
    quads = []
    for axis in range(3):
        index = [slice(1, -1)] * 3
        index[axis] = slice(None, -1)
        low = padded[tuple(index)]
        index[axis] = slice(1, None)
        high = padded[tuple(index)]
        for solid_low, sign in ((low & ~high, 1), (high & ~low, -1)):
            i, j, k = np.nonzero(solid_low)
            # corners in the order that faces +axis: (u, v) -> (u+1, v) -> (u+1, v+1) -> (u, v+1)
            u_axis, v_axis = (axis + 1) % 3, (axis + 2) % 3
            base = np.stack([i, j, k], axis=1)
            corners = []
            for du, dv in ((0, 0), (1, 0), (1, 1), (0, 1)):
                c = base.copy()
                c[:, u_axis] += du
                c[:, v_axis] += dv
                corners.append(node[c[:, 0], c[:, 1], c[:, 2]])
            quad = np.stack(corners, axis=1)
            quads.append(quad if sign > 0 else quad[:, ::-1])
    quads = np.concatenate(quads)
    faces = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    used, inverse = np.unique(faces, return_inverse=True)
    return trimesh.Trimesh(grid[used], inverse.reshape(-1, 3), process=False)


def _round_tunnel(cage: trimesh.Trimesh, axis: int, centre, half: float) -> trimesh.Trimesh:
    """Pull the wall of a square tunnel along *axis* (half-side *half* about *centre*
    across it) onto the circle it holds: the corners and crease points move in onto
    radius *half*, so the smoothed tunnel is a round bore, not a rounded square."""
    across = [i for i in range(3) if i != axis]
    v = cage.vertices.copy()
    d = v[:, across] - np.asarray(centre, dtype=float)
    wall = np.all(np.abs(d) <= half + 1e-6, axis=1)
    r = np.linalg.norm(d[wall], axis=1)
    moved = d[wall] * (half / np.maximum(r, 1e-9))[:, None]
    v[np.ix_(wall, across)] = np.asarray(centre, dtype=float) + moved
    return trimesh.Trimesh(v, cage.faces, process=False)


def _crease_profile(points, crease: float, closed: bool = True) -> np.ndarray:
    """A profile with every corner's edge loop doubled: a point *crease* in from the
    corner along each edge (at most 30 % of the edge)."""
    points = np.asarray(points, dtype=float)
    if crease <= 0:
        return points
    count = len(points)
    out = []
    for i in range(count if closed else count - 1):
        a, b = points[i], points[(i + 1) % count]
        length = np.linalg.norm(b - a)
        c = min(crease, 0.3 * length)
        out.append(a)
        if c > 0.05:
            step = (b - a) / length
            out += [a + step * c, b - step * c]
    if not closed:
        out.append(points[-1])
    return np.array(out)


def _lathe_cage(profile, segments: int, closed: bool, phase: float = 0.0) -> trimesh.Trimesh:
    """A profile of (x, r) points revolved about x. *closed*: a loop (a tube, a torus);
    otherwise it runs from the axis to the axis (r = 0 at both ends) and is solid."""
    profile = np.asarray(profile, dtype=float)
    count = len(profile)
    on_axis = profile[:, 1] <= 1e-9
    angles = phase + 2 * np.pi * np.arange(segments) / segments
    vertices, base = [], []
    for x, r in profile:
        base.append(len(vertices))
        if r <= 1e-9:
            vertices.append((x, 0.0, 0.0))
        else:
            vertices += [(x, r * np.cos(t), r * np.sin(t)) for t in angles]

    def at(i, j):
        return base[i] + (0 if on_axis[i] else j % segments)

    faces = []
    for i in range(count if closed else count - 1):
        i2 = (i + 1) % count
        for j in range(segments):
            quad = [at(i, j), at(i2, j), at(i2, j + 1), at(i, j + 1)]
            unique = list(dict.fromkeys(quad))
            if len(unique) == 4:
                faces += [quad[:3], [quad[0], quad[2], quad[3]]]
            elif len(unique) == 3:
                faces.append(unique)
    mesh = trimesh.Trimesh(np.array(vertices), np.array(faces), process=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def _smooth(cage: trimesh.Trimesh, rng, rounds: int | None = None, budget=30_000):
    """Loop-subdivide the cage: as many rounds (1-3) as keep it within *budget*
    triangles, one fewer now and then (a coarse export); jitter some exports."""
    if rounds is None:
        rounds = 1
        while rounds < 3 and len(cage.faces) * 4 ** (rounds + 1) <= budget:
            rounds += 1
        if rounds > 1 and rng.random() < 0.25:
            rounds -= 1
    vertices, faces = trimesh.remesh.subdivide_loop(cage.vertices, cage.faces, rounds)
    if rng.random() < 0.4:
        vertices = vertices + rng.normal(0.0, rng.uniform(0.01, 0.05), vertices.shape)
    return trimesh.Trimesh(vertices, faces, process=False)


def _shear(mesh: trimesh.Trimesh, tan: float, below: float | None = None, about=0.0):
    """x += (about - z) * tan for the vertices under z = *below* (all when None, then
    about the height *about*)."""
    v = mesh.vertices.copy()
    if below is None:
        v[:, 0] += (v[:, 2] - about) * tan
    else:
        low = v[:, 2] < below
        v[low, 0] += (below - v[low, 2]) * tan
    return trimesh.Trimesh(v, mesh.faces, process=False)


def _box(low, high, sign=1):
    return (sign, tuple(float(v) for v in low), tuple(float(v) for v in high))


def _cut(low, high):
    return _box(low, high, -1)


def _tunnel(axis: int, centre, half: float, start: float, end: float) -> list:
    """A square tunnel along *axis* from *start* to *end* (half-side *half* about
    *centre* across it), with guide lines at its centre and 0.414 of its half-side
    off it, so that :func:`_round_tunnel` finds 16 evenly turned points on its wall."""
    across = [i for i in range(3) if i != axis]
    low, high, mid_low, mid_high, zero = ([start] * 3 for _ in range(5))
    high[axis] = mid_high[axis] = end
    for i, c in zip(across, centre, strict=True):
        low[i], high[i] = c - half, c + half
        mid_low[i], mid_high[i] = c - half * np.tan(np.pi / 8), c + half * np.tan(np.pi / 8)
        zero[i] = c
    return [_cut(low, high), _box(mid_low, mid_high, 0), _box(zero, zero, 0)]


# --- openings ----------------------------------------------------------------------------


def _opening(feature, start, end, u, half_u, v, half_v) -> dict:
    """A line from *start* to *end* through an opening whose clear half-sizes across
    it are *half_u* along *u* and *half_v* along *v* (construction frame)."""
    return {
        "feature": feature,
        "start": np.asarray(start, dtype=float),
        "end": np.asarray(end, dtype=float),
        "u": np.asarray(u, dtype=float),
        "half_u": float(half_u),
        "v": np.asarray(v, dtype=float),
        "half_v": float(half_v),
    }


def clear_radius(mesh: trimesh.Trimesh, start, end, stations: int = 7) -> float:
    """The narrowest clear radius about the line *start*-*end*: the least distance from
    the line to the mesh in sections across it, at stations over its middle 90 %."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    axis = (end - start) / np.linalg.norm(end - start)
    best = np.inf
    for t in np.linspace(0.05, 0.95, stations):
        centre = start + (end - start) * t
        lines = trimesh.intersections.mesh_plane(mesh, axis, centre)
        if len(lines) == 0:
            continue
        a, b = lines[:, 0] - centre, lines[:, 1] - centre
        ab = b - a
        s = np.clip(-np.einsum("ij,ij->i", a, ab) / np.maximum((ab**2).sum(1), 1e-12), 0, 1)
        best = min(best, np.linalg.norm(a + ab * s[:, None], axis=1).min())
    return float(best)


def clear_reach(mesh: trimesh.Trimesh, centre, normal, direction) -> float:
    """How far from *centre* the section of *mesh* across *normal* is clear along
    *direction* and against it: the nearer of the two first crossings."""
    centre, direction = np.asarray(centre, dtype=float), np.asarray(direction, dtype=float)
    direction = direction / np.linalg.norm(direction)
    side = np.cross(np.asarray(normal, dtype=float), direction)
    lines = trimesh.intersections.mesh_plane(mesh, normal, centre)
    if len(lines) == 0:
        return float("inf")
    a, b = lines[:, 0] - centre, lines[:, 1] - centre
    wa, wb = a @ side, b @ side
    crossing = (wa * wb <= 0) & (wa != wb)
    s = wa[crossing] / (wa[crossing] - wb[crossing])
    t = (a[crossing] + (b[crossing] - a[crossing]) * s[:, None]) @ direction
    ahead, behind = t[t > 0], -t[t < 0]
    return float(min(ahead.min(initial=np.inf), behind.min(initial=np.inf)))


def _slot(mesh, feature, start, end, u, v, at: float = 0.5) -> dict:
    """A rectangular opening, its clear half-sizes measured in the section a fraction
    *at* along it."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    normal = (end - start) / np.linalg.norm(end - start)
    centre = start + (end - start) * at
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    u, v = u - normal * (u @ normal), v - normal * (v @ normal)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    return _opening(
        feature,
        start,
        end,
        u,
        clear_reach(mesh, centre, normal, u),
        v,
        clear_reach(mesh, centre, normal, v),
    )


def _bore(mesh, feature, start, end, u=(0, 1, 0), v=(0, 0, 1)) -> dict:
    radius = clear_radius(mesh, start, end)
    return _opening(feature, start, end, u, radius, v, radius)


def _done(mesh: trimesh.Trimesh, openings=()) -> trimesh.Trimesh:
    mesh.metadata["openings"] = list(openings)
    return mesh


def _join(*meshes) -> trimesh.Trimesh:
    return trimesh.util.concatenate(list(meshes))


# --- positives ---------------------------------------------------------------------------


def sculpted_barrel(rng) -> trimesh.Trimesh:
    """A long tube with a calibre-sized bore, thicker at one end, with a collar."""
    length = rng.uniform(150, 420)
    bore = rng.uniform(5.5, 18.5) / 0.96  # the cage's ring narrows a little when smoothed
    ri = bore / 2
    wall = rng.uniform(3.5, 9)
    ro = ri + wall
    rb = ro + rng.uniform(2, 8)
    lb = length * rng.uniform(0.15, 0.35)
    taper = rng.uniform(5, 25)
    cx = rng.uniform(lb + taper + 10, length - 20)
    cw = rng.uniform(6, 15)
    profile = [
        (0, ri),
        (length, ri),
        (length, ro),
        (cx + cw, ro),
        (cx + cw / 2, ro + rng.uniform(1.5, 4)),
        (cx, ro),
        (lb + taper, ro),
        (lb, rb),
        (0, rb),
    ][::-1]
    crease = rng.choice([0.0, rng.uniform(0.4, 2.0)])
    cage = _lathe_cage(_crease_profile(profile, crease), int(rng.integers(10, 17)), True)
    mesh = _smooth(cage, rng)
    return _done(mesh, [_bore(mesh, "bore", (-5, 0, 0), (length + 5, 0, 0))])


def tunnel_receiver(rng) -> trimesh.Trimesh:
    """A long box with a through-bore near its top, a pocket (well) open underneath,
    two pin tunnels across behind the well and a raised block at the rear."""
    length, width, height = rng.uniform(180, 310), rng.uniform(28, 42), rng.uniform(42, 65)
    d = rng.uniform(7, 16)
    by = width / 2 + rng.uniform(-2, 2) - d / 2
    bz = height - d - rng.uniform(5, 9)
    wx = length * rng.uniform(0.3, 0.5)
    wl, ww = rng.uniform(50, 85), rng.uniform(15, min(24, width - 9))
    wy = (width - ww) / 2 + rng.uniform(-1, 1)
    top = bz - rng.uniform(4, 7)
    pin = rng.uniform(2.5, 5)
    px = wx + wl + rng.uniform(12, 25)
    gap = rng.uniform(8, 16)
    if px + gap + pin > length - 8:  # no room behind the well: in front of it
        px = wx - 12 - gap - pin
    pz = rng.uniform(6, max(7, top - pin - 4))
    tang = rng.uniform(20, 50)
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _box((0, width * 0.2, height), (tang, width * 0.8, height + rng.uniform(4, 10))),
        *_tunnel(0, (by + d / 2, bz + d / 2), d / 2, -1, length + 1),
        _cut((wx, wy, -1), (wx + wl, wy + ww, top)),
    ]
    for k in range(2):
        boxes += _tunnel(1, (px + k * gap + pin / 2, pz + pin / 2), pin / 2, -1, width + 1)
    cage = _block_cage(boxes, rng.uniform(0.5, 2.5))
    c = (by + d / 2, bz + d / 2)
    cage = _round_tunnel(cage, 0, c, d / 2)
    for k in range(2):
        cage = _round_tunnel(cage, 1, (px + k * gap + pin / 2, pz + pin / 2), pin / 2)
    mesh = _smooth(cage, rng)
    openings = [
        _bore(mesh, "bore", (-5, c[0], c[1]), (length + 5, c[0], c[1])),
        _slot(
            mesh,
            "pocket",
            (wx + wl / 2, wy + ww / 2, top - 2),
            (wx + wl / 2, wy + ww / 2, -5),
            (1, 0, 0),
            (0, 1, 0),
            at=0.3,
        ),
    ]
    openings += _pin_bores(mesh, [px + k * gap + pin / 2 for k in range(2)], pz + pin / 2, width)
    return _done(mesh, openings)


def _pin_bores(mesh, xs, z, width) -> list:
    """The openings of pin tunnels across the width (along y) at *xs*, height *z*."""
    return [_bore(mesh, "pin", (x, -5, z), (x, width + 5, z), (1, 0, 0), (0, 0, 1)) for x in xs]


def raked_loop_frame(rng) -> trimesh.Trimesh:
    """A body with a finger-sized loop hanging under it, raked 0-35 degrees, and a row
    of 2-3 pin tunnels across the body above it."""
    length, width, height = rng.uniform(130, 260), rng.uniform(22, 34), rng.uniform(28, 45)
    ow, oh, bar = rng.uniform(21, 34), rng.uniform(16, 29), rng.uniform(5, 9)
    lx = length * rng.uniform(0.35, 0.6)
    ly0 = width * rng.uniform(0.05, 0.2)
    ly1 = width - width * rng.uniform(0.05, 0.2)
    pins = int(rng.integers(2, 4))
    pin = rng.uniform(2.5, 5)
    gap = rng.uniform(7, 14)
    px = lx + ow + 2 * bar + rng.uniform(8, 25)
    if px + pins * gap > length - 8:
        px = max(6.0, lx - 10 - pins * gap)
    pz = height * rng.uniform(0.35, 0.6)
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _box((lx, ly0, -oh - bar), (lx + ow + 2 * bar, ly1, 0)),
        _cut((lx + bar, -1, -oh), (lx + bar + ow, width + 1, 0)),
    ]
    for k in range(pins):
        x = px + k * gap
        boxes += _tunnel(1, (x + pin / 2, pz + pin / 2), pin / 2, -1, width + 1)
    cage = _block_cage(boxes, rng.uniform(0.5, 2.0))
    for k in range(pins):
        cage = _round_tunnel(cage, 1, (px + k * gap + pin / 2, pz + pin / 2), pin / 2)
    tan = np.tan(np.radians(rng.uniform(0, 35)))
    cage = _shear(cage, tan, below=0.0)
    mesh = _smooth(cage, rng)
    cz = -oh / 2
    cx = lx + bar + ow / 2 + (0 - cz) * tan
    openings = [_slot(mesh, "loop", (cx, -5, cz), (cx, width + 5, cz), (1, 0, 0), (0, 0, 1))]
    openings += _pin_bores(mesh, [px + k * gap + pin / 2 for k in range(pins)], pz + pin / 2, width)
    return _done(mesh, openings)


def raked_well_block(rng) -> trimesh.Trimesh:
    """A block with a rectangular through-slot (a well), a thicker rim around its
    lower mouth, leaning 0-20 degrees."""
    sl, sw = rng.uniform(50, 90), rng.uniform(15, 30)
    wall = rng.uniform(4, 10)
    front = max(rng.uniform(0, 40), 88 - sl - 2 * wall)  # at least 88 mm long
    length = sl + 2 * wall + front
    width = sw + 2 * wall + rng.uniform(0, 6)
    height = rng.uniform(25, 70)
    sx, sy = wall + front, (width - sw) / 2 + rng.uniform(-1.5, 1.5)
    rim = rng.uniform(2, 5)
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _box((sx - wall - rim, -rim, -rng.uniform(3, 8)), (length + rim, width + rim, 6)),
        _cut((sx, sy, -10), (sx + sl, sy + sw, height + 1)),
    ]
    cage = _block_cage(boxes, rng.choice([0.0, rng.uniform(0.6, 3.0)]))
    tan = np.tan(np.radians(rng.uniform(0, 20)))
    cage = _shear(cage, tan, about=height / 2)
    mesh = _smooth(cage, rng)
    cx, cy = sx + sl / 2, sy + sw / 2
    start = (cx + (-15 - height / 2) * tan, cy, -15)
    end = (cx + (height + 5 - height / 2) * tan, cy, height + 5)
    return _done(
        mesh,
        [_slot(mesh, "well", start, end, (1, 0, 0), (0, 1, 0))],
    )


def pinned_bar(rng) -> trimesh.Trimesh:
    """A bar with two rows of 2-4 parallel pin tunnels across its width, a step on
    top; in some, a separately modelled pin sits in one hole (a second shell)."""
    length, width, height = rng.uniform(100, 250), rng.uniform(14, 30), rng.uniform(25, 45)
    step_x = length * rng.uniform(0.5, 0.8)
    step = rng.uniform(4, 12)
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _box((step_x, 0, height), (length, width, height + step)),
    ]
    holes = []
    for x0, z in [
        (length * rng.uniform(0.05, 0.15), height * rng.uniform(0.3, 0.5)),
        (length * rng.uniform(0.52, 0.62), height * rng.uniform(0.55, 0.75)),
    ]:
        count, pin = int(rng.integers(2, 5)), rng.uniform(2.2, 5)
        gap = min(rng.uniform(6, 14), 0.3 * length / count)
        for k in range(count):
            holes.append((x0 + k * gap, z, pin))
    for x, z, pin in holes:
        boxes += _tunnel(1, (x + pin / 2, z + pin / 2), pin / 2, -1, width + 1)
    cage = _block_cage(boxes, rng.uniform(0.3, 1.5))
    for x, z, p in holes:
        cage = _round_tunnel(cage, 1, (x + p / 2, z + p / 2), p / 2)
    mesh = _smooth(cage, rng)
    openings = [
        _bore(
            mesh,
            "pin",
            (x + p / 2, -5, z + p / 2),
            (x + p / 2, width + 5, z + p / 2),
            (1, 0, 0),
            (0, 0, 1),
        )
        for x, z, p in holes
    ]
    if rng.random() < 0.4:  # a pin pushed into the last hole, 2 mm proud each side
        x, z, p = holes[-1]
        r = p / 2 * 1.03
        pin_cage = _lathe_cage(
            [
                (0, 0),
                (0, r * 0.8),
                (0.5, r),
                (width + 3.5, r),
                (width + 4, r * 0.8),
                (width + 4, 0),
            ],
            8,
            False,
        )
        pin_mesh = _smooth(pin_cage, rng, rounds=1)
        turn = trimesh.transformations.rotation_matrix(np.pi / 2, (0, 0, 1))
        pin_mesh.apply_transform(turn)  # x -> y
        pin_mesh.apply_translation((x + p / 2, -2, z + p / 2))
        mesh = _join(mesh, pin_mesh)
        openings = openings[:-1]
    return _done(mesh, openings)


def bored_channel(rng) -> trimesh.Trimesh:
    """A long U channel whose thick floor carries a bore on the channel's axis."""
    length = rng.uniform(150, 350)
    d = rng.uniform(6, 14)
    floor = d + 2 * rng.uniform(3, 6)
    inner, side, walls = rng.uniform(12, 30), rng.uniform(3, 6), rng.uniform(10, 25)
    width = inner + 2 * side
    boxes = [
        _box((0, 0, 0), (length, width, floor + walls)),
        _cut((-1, side, floor), (length + 1, side + inner, floor + walls + 1)),
        *_tunnel(0, (width / 2, floor / 2), d / 2, -1, length + 1),
    ]
    if rng.random() < 0.6:  # a lug under one end
        lx = rng.uniform(10, length * 0.3)
        boxes.append(
            _box(
                (lx, width * 0.25, -rng.uniform(6, 15)), (lx + rng.uniform(10, 25), width * 0.75, 0)
            )
        )
    cage = _block_cage(boxes, rng.uniform(0.5, 2.0))
    c = (width / 2, floor / 2)
    cage = _round_tunnel(cage, 0, c, d / 2)
    mesh = _smooth(cage, rng)
    return _done(mesh, [_bore(mesh, "bore", (-5, c[0], c[1]), (length + 5, c[0], c[1]))])


def window_sleeve(rng) -> trimesh.Trimesh:
    """A long thin-walled rectangular sleeve, open along its length, with a window in
    one side wall."""
    length, width, height = rng.uniform(120, 300), rng.uniform(20, 40), rng.uniform(25, 50)
    wall = rng.uniform(1.6, 3)
    wx, wl = length * rng.uniform(0.2, 0.5), rng.uniform(20, 50)
    wz, wh = height * rng.uniform(0.3, 0.45), rng.uniform(8, min(15, height * 0.4))
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _cut((-1, wall, wall), (length + 1, width - wall, height - wall)),
        _cut((wx, -1, wz), (wx + wl, wall + 0.5, wz + wh)),
    ]
    cage = _block_cage(boxes, rng.uniform(0.3, 1.2))
    mesh = _smooth(cage, rng)
    return _done(
        mesh,
        [
            _slot(
                mesh,
                "sleeve",
                (-5, width / 2, height / 2),
                (length + 5, width / 2, height / 2),
                (0, 1, 0),
                (0, 0, 1),
            ),
            _slot(
                mesh,
                "window",
                (wx + wl / 2, -5, wz + wh / 2),
                (wx + wl / 2, width / 2, wz + wh / 2),
                (1, 0, 0),
                (0, 0, 1),
                at=(wall / 2 + 5) / (width / 2 + 5),
            ),
        ],
    )


# --- look-alikes -------------------------------------------------------------------------


def drain_pipe(rng) -> trimesh.Trimesh:
    """A plain pipe with a socket (bell) at one end."""
    length = rng.uniform(100, 400)
    ri = rng.uniform(10, 40) / 2
    ro = ri + rng.uniform(2, 5)
    sl = rng.uniform(20, 40)
    rs = ro + rng.uniform(3, 8)
    profile = [
        (0, ri),
        (0, ro),
        (length - sl - 8, ro),
        (length - sl, rs),
        (length, rs),
        (length, rs - 2.5),
        (length - sl + 3, rs - 2.5),
        (length - sl - 4, ri),
    ]
    cage = _lathe_cage(
        _crease_profile(profile, rng.choice([0.0, 1.0])), int(rng.integers(10, 17)), True
    )
    mesh = _smooth(cage, rng)
    return _done(mesh, [_bore(mesh, "bore", (-5, 0, 0), (length + 5, 0, 0))])


def towel_ring(rng) -> trimesh.Trimesh:
    """A round ring of round section with a separate wall mount touching its top."""
    rm = rng.uniform(50, 85)
    rs = rng.uniform(4, 8)
    n = 8
    section = [(rs * np.cos(t), rm + rs * np.sin(t)) for t in 2 * np.pi * np.arange(n) / n]
    ring = _smooth(_lathe_cage(section, int(rng.integers(12, 21)), True), rng, rounds=2)
    ring.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (0, 1, 0)))
    # axis now along -z... ring in the x-y plane; turn it upright into x-z
    ring.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (1, 0, 0)))
    mw = rng.uniform(15, 30)
    mount = _block_cage([_box((-mw / 2, -mw / 2, 0), (mw / 2, mw / 2, rng.uniform(12, 25)))], 2.0)
    mount = _smooth(mount, rng, rounds=2)
    mount.apply_translation((0, 0, rm + rs * 0.6))
    return _done(_join(ring, mount))


def bridge_handle(rng) -> trimesh.Trimesh:
    """A drawer pull: a grip bar on two posts, the gap under it a wide loop."""
    span, grip = rng.uniform(70, 170), rng.uniform(8, 14)
    post = rng.uniform(8, 14)
    gap = rng.uniform(20, 35)
    depth = rng.uniform(10, 16)
    length = span + 2 * post
    boxes = [
        _box((0, 0, gap), (length, depth, gap + grip)),
        _box((0, 0, 0), (post, depth, gap)),
        _box((length - post, 0, 0), (length, depth, gap)),
    ]
    mesh = _smooth(_block_cage(boxes, rng.choice([0.0, rng.uniform(0.5, 2.0)])), rng)
    return _done(
        mesh,
        [
            _slot(
                mesh,
                "loop",
                (length / 2, -5, gap / 2),
                (length / 2, depth + 5, gap / 2),
                (1, 0, 0),
                (0, 0, 1),
            )
        ],
    )


def knuckle_hinge(rng) -> trimesh.Trimesh:
    """A hinge leaf: a plate with screw holes and split knuckles carrying a pin bore."""
    length, width, thick = rng.uniform(40, 120), rng.uniform(25, 50), rng.uniform(2.5, 4)
    knuckle, pin = rng.uniform(7, 10), rng.uniform(3, 5)
    boxes = [
        _box((0, 0, 0), (length, width, thick)),
        _box((0, width, 0), (length, width + knuckle, knuckle)),
    ]
    segments = int(rng.integers(2, 4)) * 2 + 1
    seg = length / segments
    for k in range(1, segments, 2):
        boxes.append(
            _cut((k * seg, width + 0.5, -1), ((k + 1) * seg, width + knuckle + 1, knuckle + 1))
        )
    kc = (width + knuckle / 2, knuckle / 2)
    boxes += _tunnel(0, kc, pin / 2, -1, length + 1)
    holes = int(rng.integers(2, 4))
    hole = rng.uniform(4, 6)
    centres = [(length * (k + 0.5) / holes, width * 0.4 + hole / 2) for k in range(holes)]
    for centre in centres:
        boxes += _tunnel(2, centre, hole / 2, -1, thick + 1)
    cage = _round_tunnel(_block_cage(boxes, rng.uniform(0.3, 0.8)), 0, kc, pin / 2)
    for centre in centres:
        cage = _round_tunnel(cage, 2, centre, hole / 2)
    mesh = _smooth(cage, rng)
    return _done(mesh)


def angle_bracket(rng) -> trimesh.Trimesh:
    """An L bracket with two screw holes in each leg."""
    a, b = rng.uniform(40, 150), rng.uniform(40, 120)
    width, thick = rng.uniform(20, 40), rng.uniform(3, 6)
    hole = rng.uniform(4, 6)
    boxes = [_box((0, 0, 0), (a, width, thick)), _box((0, 0, 0), (thick, width, b))]
    holes = []
    for f in (0.45, 0.8):
        holes += [(2, (a * f, width / 2)), (0, (width / 2, b * f))]
    for axis, centre in holes:
        boxes += _tunnel(axis, centre, hole / 2, -1, thick + 1)
    cage = _block_cage(boxes, rng.uniform(0.4, 1.5))
    for axis, centre in holes:
        cage = _round_tunnel(cage, axis, centre, hole / 2)
    mesh = _smooth(cage, rng)
    return _done(mesh)


def curtain_track(rng) -> trimesh.Trimesh:
    """A long C channel with two lips leaving a slot along its underside."""
    length = rng.uniform(150, 440)
    width, height, wall = rng.uniform(15, 28), rng.uniform(12, 24), rng.uniform(1.8, 3)
    slot = rng.uniform(4, width - 2 * wall - 4)
    sy = (width - slot) / 2
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _cut((-1, wall, wall), (length + 1, width - wall, height - wall)),
        _cut((-1, sy, -1), (length + 1, sy + slot, wall + 0.5)),
    ]
    mesh = _smooth(_block_cage(boxes, rng.uniform(0.3, 0.8)), rng)
    return _done(mesh)


def file_handle(rng) -> trimesh.Trimesh:
    """A bulbous solid tool handle with a separate ferrule ring pushed over its nose."""
    length = rng.uniform(85, 140)
    r = rng.uniform(12, 20)
    rn = r * rng.uniform(0.45, 0.6)
    profile = [
        (0, 0),
        (0, rn),
        (length * 0.15, rn),
        (length * 0.35, r * 0.85),
        (length * 0.7, r),
        (length * 0.95, r * 0.8),
        (length, 0),
    ]
    handle = _smooth(_lathe_cage(profile, int(rng.integers(8, 13)), False), rng)
    fl = length * 0.12
    ferrule = _lathe_cage(
        _crease_profile(
            [(1, rn * 0.97), (1 + fl, rn * 0.97), (1 + fl, rn + 1.5), (1, rn + 1.5)][::-1], 0.3
        ),
        int(rng.integers(10, 15)),
        True,
    )
    return _done(_join(handle, _smooth(ferrule, rng, rounds=1)))


def shaft_spacer(rng) -> trimesh.Trimesh:
    """A short tube spacer with chamfered ends."""
    length = rng.uniform(25, 80)
    ri = rng.uniform(6, 25) / 2
    ro = ri + rng.uniform(3, 10)
    c = rng.uniform(0.5, 1.5)
    profile = [
        (0, ri + c),
        (0, ro - c),
        (c, ro),
        (length - c, ro),
        (length, ro - c),
        (length, ri + c),
        (length - c, ri),
        (c, ri),
    ]
    mesh = _smooth(_lathe_cage(profile, int(rng.integers(10, 17)), True), rng)
    return _done(mesh, [_bore(mesh, "bore", (-5, 0, 0), (length + 5, 0, 0))])


def mushroom_knob(rng) -> trimesh.Trimesh:
    """A cabinet knob: a domed cap on a stem, a blind screw hole in the stem's foot."""
    cap_r, stem_r = rng.uniform(12, 28), rng.uniform(6, 10)
    stem, cap = rng.uniform(12, 22), rng.uniform(8, 14)
    hole = rng.uniform(2, 3)
    profile = [
        (8, 0),
        (0, hole),
        (0, stem_r),
        (stem, stem_r * 0.85),
        (stem + 2, cap_r),
        (stem + cap * 0.6, cap_r * 0.95),
        (stem + cap, cap_r * 0.5),
        (stem + cap + 1, 0),
    ]
    mesh = _smooth(_lathe_cage(profile, int(rng.integers(8, 15)), False), rng)
    return _done(mesh)


def storage_tray(rng) -> trimesh.Trimesh:
    """An open thin-walled box with one divider."""
    length, width, height = rng.uniform(100, 300), rng.uniform(60, 200), rng.uniform(25, 80)
    wall = rng.uniform(2, 4)
    dx = length * rng.uniform(0.3, 0.7)
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _cut((wall, wall, wall), (length - wall, width - wall, height + 1)),
        _box((dx, 0, 0), (dx + wall, width, height * rng.uniform(0.5, 0.9))),
    ]
    mesh = _smooth(_block_cage(boxes, rng.uniform(0.4, 1.0)), rng)
    return _done(mesh)


def soap_dish(rng) -> trimesh.Trimesh:
    """A block with a pocket on top and a row of drain slots through its floor."""
    length, width, height = rng.uniform(90, 140), rng.uniform(60, 90), rng.uniform(15, 25)
    wall, floor = rng.uniform(5, 9), rng.uniform(4, 7)
    boxes = [
        _box((0, 0, 0), (length, width, height)),
        _cut((wall, wall, floor), (length - wall, width - wall, height + 1)),
    ]
    slots, sw, sl = (
        int(rng.integers(3, 7)),
        rng.uniform(2, 5),
        rng.uniform(20, width - 2 * wall - 10),
    )
    pitch = (length - 2 * wall) / (slots + 1)
    for k in range(slots):
        x = wall + pitch * (k + 1)
        boxes.append(
            _cut((x - sw / 2, (width - sl) / 2, -1), (x + sw / 2, (width + sl) / 2, floor + 1))
        )
    mesh = _smooth(_block_cage(boxes, rng.uniform(0.4, 1.5)), rng)
    return _done(mesh)


def napkin_band(rng) -> trimesh.Trimesh:
    """A short wide band with a slight waist."""
    length = rng.uniform(30, 50)
    ri = rng.uniform(35, 50) / 2
    wall = rng.uniform(2, 4)
    profile = [
        (0, ri),
        (length, ri),
        (length, ri + wall),
        (length / 2, ri + wall * 0.7),
        (0, ri + wall),
    ][::-1]
    mesh = _smooth(_lathe_cage(_crease_profile(profile, 0.6), int(rng.integers(12, 21)), True), rng)
    return _done(mesh, [_bore(mesh, "bore", (-5, 0, 0), (length + 5, 0, 0))])


# --- kinds -------------------------------------------------------------------------------


class Kind(NamedTuple):
    """A kind of family E, what it shares with printable firearm parts (or does not),
    and the ranges it is held to: longest extent (mm) and triangle count."""

    name: str
    group: str
    make: Builder
    features: str
    longest: tuple[float, float]
    triangles: tuple[int, int]


KINDS: tuple[Kind, ...] = (
    Kind(
        "sculpted_barrel",
        "positive",
        sculpted_barrel,
        "bore 5-20 mm through a long tube",
        (150, 430),
        (1000, 40000),
    ),
    Kind(
        "tunnel_receiver",
        "positive",
        tunnel_receiver,
        "through-bore, well pocket, pin row",
        (180, 330),
        (2000, 60000),
    ),
    Kind(
        "raked_loop_frame",
        "positive",
        raked_loop_frame,
        "finger loop (raked), pin row",
        (130, 270),
        (1000, 60000),
    ),
    Kind(
        "raked_well_block",
        "positive",
        raked_well_block,
        "through-slot well (leaning)",
        (80, 230),
        (500, 60000),
    ),
    Kind(
        "pinned_bar",
        "positive",
        pinned_bar,
        "two rows of 2-4 pin holes across",
        (100, 260),
        (1000, 60000),
    ),
    Kind(
        "bored_channel",
        "positive",
        bored_channel,
        "long channel, bore on its axis",
        (150, 360),
        (1000, 60000),
    ),
    Kind(
        "window_sleeve",
        "positive",
        window_sleeve,
        "long thin-walled sleeve, side window",
        (120, 310),
        (1000, 60000),
    ),
    Kind("drain_pipe", "lookalike", drain_pipe, "bore (pipe)", (100, 440), (1000, 40000)),
    Kind(
        "towel_ring",
        "lookalike",
        towel_ring,
        "loop (large ring) with a mount",
        (110, 210),
        (1000, 40000),
    ),
    Kind(
        "bridge_handle", "lookalike", bridge_handle, "loop (wide handle)", (90, 230), (500, 60000)
    ),
    Kind(
        "knuckle_hinge",
        "lookalike",
        knuckle_hinge,
        "pin bore along an edge",
        (40, 130),
        (1000, 60000),
    ),
    Kind(
        "angle_bracket", "lookalike", angle_bracket, "screw holes in an L", (40, 160), (500, 60000)
    ),
    Kind(
        "curtain_track",
        "lookalike",
        curtain_track,
        "long thin-walled channel",
        (150, 450),
        (500, 60000),
    ),
    Kind(
        "file_handle",
        "lookalike",
        file_handle,
        "solid handle with a ferrule",
        (80, 150),
        (200, 40000),
    ),
    Kind("shaft_spacer", "lookalike", shaft_spacer, "short bore", (25, 90), (500, 40000)),
    Kind(
        "mushroom_knob", "lookalike", mushroom_knob, "nothing (solid knob)", (25, 60), (200, 40000)
    ),
    Kind("storage_tray", "lookalike", storage_tray, "thin-walled box", (100, 310), (500, 60000)),
    Kind("soap_dish", "lookalike", soap_dish, "pocket, row of slots", (90, 150), (500, 60000)),
    Kind("napkin_band", "lookalike", napkin_band, "wide short loop", (36, 62), (500, 40000)),
)
BY_NAME = {kind.name: kind for kind in KINDS}
POSITIVES: dict[str, Builder] = {k.name: k.make for k in KINDS if k.group == "positive"}
LOOKALIKES: dict[str, Builder] = {k.name: k.make for k in KINDS if k.group == "lookalike"}


def kind_rng(kind: str, index: int, seed: int) -> np.random.Generator:
    """The random stream of mesh *index* of *kind*: independent of every other kind,
    and of the other families' streams (the tag "E:")."""
    return np.random.default_rng([seed, zlib.crc32(f"E:{kind}".encode()), index])


def build(kind: str, rng: np.random.Generator) -> trimesh.Trimesh:
    """One mesh of *kind* in a random rigid pose: turned at random, moved up to 150 mm."""
    mesh = BY_NAME[kind].make(rng)
    pose = trimesh.transformations.random_rotation_matrix(rng.random(3))
    pose[:3, 3] = rng.uniform(-150, 150, 3)
    mesh.apply_transform(pose)
    return mesh


def iter_sample(count_per_kind: int, seed: int = 0) -> Iterator[tuple[str, str, trimesh.Trimesh]]:
    """``(group, kind, mesh)`` for *count_per_kind* meshes of every kind, in the order of
    KINDS (positives first), each from its own stream."""
    for kind in KINDS:
        for index in range(count_per_kind):
            yield kind.group, kind.name, build(kind.name, kind_rng(kind.name, index, seed))


def sample(count_per_kind: int, seed: int = 0) -> list[tuple[str, str, trimesh.Trimesh]]:
    """:func:`iter_sample` as a list."""
    return list(iter_sample(count_per_kind, seed))


def main(argv: list[str] | None = None) -> None:
    """Print the table of kinds (measured extents, triangles, shells, CPU time); with
    --out, also write every mesh of the sample as a posed STL file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    print("| kind | group | longest mm | shortest mm | triangles | shells | watertight | ms |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        longest, shortest, tris, shells, tight, ms = [], [], [], [], 0, []
        for index in range(args.count):
            start = time.process_time()
            rng = kind_rng(kind.name, index, args.seed)
            plain = kind.make(rng)
            ms.append((time.process_time() - start) * 1000)
            ext = np.sort(plain.extents)
            longest.append(ext[2])
            shortest.append(ext[0])
            tris.append(len(plain.faces))
            parts = plain.split(only_watertight=False)
            shells.append(len(parts))
            tight += all(p.is_watertight for p in parts)
            if args.out:
                posed = build(kind.name, kind_rng(kind.name, index, args.seed))
                posed.export(args.out / f"e_{kind.group}_{kind.name}_{index:03d}.stl")
        print(
            f"| {kind.name} | {kind.group} | {min(longest):.0f}-{max(longest):.0f} "
            f"| {min(shortest):.0f}-{max(shortest):.0f} | {min(tris)}-{max(tris)} "
            f"| {min(shells)}-{max(shells)} | {tight}/{args.count} | {np.mean(ms):.0f} |"
        )


if __name__ == "__main__":
    main()
