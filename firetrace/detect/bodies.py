"""From a file's bodies to the parts that are judged one by one.

A reader yields the bodies a file names (3MF build items, OBJ groups, glTF nodes,
AMF objects, STL solids). A body may hold several separate shells (a build plate
exported as one STL), and separate bodies may be one part (a hollow part's outer
and inner skins, a part modelled as two touching solids). So every body is split
into its connected shells, and shells that touch, interpenetrate or contain one
another are joined again: two shells join when their solids, voxelised together
on a fine grid over the box where they meet, overlap or lie within one voxel of
each other. Each group is a **part**.

Parts too small or too thin to be a firearm component (supports, brims, labels,
purge towers' skins) are set aside under the thresholds of the ``[bodies]``
section of the rules, and listed with the reason. Work per part is bounded by the
feature measurement's own voxel budget; the number of parts judged is bounded by
``max_judged`` (the largest first), and a file with more is marked as having hit
a limit, so its verdict is at least ``review``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from firetrace.detect.arrays import column_bounds, column_extents
from firetrace.detect.features import voxelize

DEFAULTS: dict[str, Any] = {
    "min_longest_mm": 10.0,  # shorter parts are set aside (labels, pins, supports' tips)
    "min_thickness_mm": 0.8,  # thinner parts are set aside (brims, skirts, flat labels)
    "max_shells": 5000,  # a body with more shells is judged whole (a triangle soup)
    "max_judged": 100,  # parts judged per file, largest first; the rest hit a limit
    "touch_cells": 128,  # the contact grid's cells along the longest side of the meeting box
    "touch_min_mm": 0.25,  # ... and its finest cell: shells this close count as touching
    "threads": 2,  # parts judged at once (from 4 parts up)
    "plate_voxels": 40_000_000,  # voxels shared by the parts of one file ...
    "min_part_voxels": 800_000,  # ... each part keeping at least this many
}


@dataclass
class Shell:
    """One connected piece of one reader body, in millimetres."""

    body: int  # index of the reader body it came from
    vertices: np.ndarray
    faces: np.ndarray
    low: np.ndarray
    high: np.ndarray
    pieces: int = 1  # connected pieces (more than one only for a body judged whole)


@dataclass
class Part:
    """A group of shells judged as one physical part."""

    index: int
    name: str | None
    vertices: np.ndarray
    faces: np.ndarray
    shells: int
    bodies: list[int] = field(default_factory=list)  # reader bodies it draws on
    set_aside: str | None = None  # why it is not judged (below a threshold)
    extents: np.ndarray = field(default=None)  # of its box in the file's axes

    def __post_init__(self) -> None:
        if self.extents is None:
            self.extents = column_extents(self.vertices)


def shells_of(vertices: np.ndarray, faces: np.ndarray, body: int, max_shells: int) -> list[Shell]:
    """The connected shells of one body (faces sharing vertices), largest first."""
    n = len(vertices)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]]])
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), (n, n))
    count, labels = connected_components(graph, directed=False)
    face_label = labels[faces[:, 0]]
    sizes = np.bincount(face_label, minlength=count)  # labels run 0 .. count - 1
    used = np.flatnonzero(sizes)
    sizes = sizes[used]
    # fewer than four triangles cannot close a surface: a body made mostly of such
    # scraps is a triangle soup (vertices never shared), judged whole
    scraps = int(sizes[sizes < 4].sum())
    if len(used) == 1 or len(used) > max_shells or scraps > len(faces) / 2:
        whole = _shell(vertices, faces, body)
        whole.pieces = len(used)
        return [whole]
    order = np.argsort(face_label, kind="stable")
    bounds = np.searchsorted(face_label[order], used)
    shells = []
    for start, stop in zip(bounds, list(bounds[1:]) + [len(order)], strict=True):
        own = faces[order[start:stop]]
        keep, local = np.unique(own, return_inverse=True)
        shells.append(_shell(vertices[keep], local.reshape(-1, 3), body))
    shells.sort(key=lambda s: -len(s.faces))
    return shells


def _shell(vertices: np.ndarray, faces: np.ndarray, body: int) -> Shell:
    return Shell(body, vertices, faces, *column_bounds(vertices))


class _Union:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def touching(a: Shell, b: Shell, settings: dict) -> bool:
    """Whether two shells' solids overlap or come within one contact cell of each other
    (interpenetrating, touching, or one inside the other)."""

    low = np.maximum(a.low, b.low)
    high = np.minimum(a.high, b.high)
    tolerance = float(settings["touch_min_mm"])
    if np.any(high - low < -tolerance):
        return False
    size = np.maximum(high - low, 0.0)
    cell = max(tolerance, float(size.max()) / float(settings["touch_cells"]))
    pad = 2
    origin = low - pad * cell
    shape = tuple(int(math.ceil(s / cell)) + 2 * pad for s in size)
    grids = [_solid_near(shell, origin, cell, shape) for shell in (a, b)]
    if not grids[0].any() or not grids[1].any():
        return False
    grown = ndimage.binary_dilation(grids[0], iterations=1)
    return bool((grown & grids[1]).any())


def _solid_near(shell: Shell, origin: np.ndarray, cell: float, shape: tuple) -> np.ndarray:
    """The shell's solid on a small grid. Triangles outside the grid's y and z range
    cross none of its rows and are left out; those beyond its x range still close
    the parity of the rows they cross, so they stay."""
    tris = (shell.vertices[shell.faces] - origin) / cell
    lo, hi = tris.min(axis=1), tris.max(axis=1)
    near = (hi[:, 1] >= 0) & (lo[:, 1] <= shape[1]) & (hi[:, 2] >= 0) & (lo[:, 2] <= shape[2])
    if not near.any():
        return np.zeros(shape, dtype=bool)
    return voxelize(tris[near].astype(np.float32), shape, 1_000_000)


def group_shells(shells: list[Shell], settings: dict) -> list[list[int]]:
    """Indices of the shells of each part: shells joined when :func:`touching`."""
    n = len(shells)
    union = _Union(n)
    if n > 1:
        low = np.array([s.low for s in shells])
        high = np.array([s.high for s in shells])
        tolerance = float(settings["touch_min_mm"])
        overlap = (low[:, None, :] <= high[None, :, :] + tolerance) & (
            low[None, :, :] <= high[:, None, :] + tolerance
        )
        pairs = np.argwhere(np.triu(overlap.all(axis=2), k=1))
        for i, j in pairs:
            if union.find(i) != union.find(j) and touching(shells[i], shells[j], settings):
                union.join(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(union.find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: min(g))


def parts_of(bodies: list, scale: float, settings: dict | None = None) -> list[Part]:
    """The parts of a design's bodies (coordinates times *scale* to millimetres)."""
    params = dict(DEFAULTS)
    params.update(settings or {})
    shells: list[Shell] = []
    for number, body in enumerate(bodies):
        vertices = body.vertices * scale
        shells += shells_of(vertices, body.faces, number, int(params["max_shells"]))
    groups = group_shells(shells, params)
    split = {
        b: sum(1 for g in groups if any(shells[i].body == b for i in g)) for b in range(len(bodies))
    }
    parts, seen_pieces = [], dict.fromkeys(range(len(bodies)), 0)
    for group in groups:
        members = [shells[i] for i in group]
        offsets = np.cumsum([0] + [len(s.vertices) for s in members[:-1]])
        vertices = np.concatenate([s.vertices for s in members])
        faces = np.concatenate([s.faces + o for s, o in zip(members, offsets, strict=True)])
        sources = sorted({s.body for s in members})
        name = _part_name(bodies, sources, split, seen_pieces)
        part = Part(len(parts), name, vertices, faces, sum(s.pieces for s in members), sources)
        part.set_aside = _too_small(part, params)
        parts.append(part)
    return parts


def _part_name(bodies, sources: list[int], split: dict, seen: dict) -> str | None:
    names = [bodies[b].name for b in sources if bodies[b].name]
    if len(sources) > 1:
        shown = " + ".join(names[:3]) + (f" + {len(names) - 3} more" if len(names) > 3 else "")
        return shown or None
    source = sources[0]
    if split[source] == 1:
        return names[0] if names else None
    seen[source] += 1
    base = names[0] if names else (f"body {source + 1}" if len(bodies) > 1 else "")
    return f"{base} shell {seen[source]}".strip()


def _too_small(part: Part, params: dict) -> str | None:
    extents = sorted(part.extents, reverse=True)
    if extents[0] < params["min_longest_mm"]:
        return f"longest side {extents[0]:.1f} mm is under {params['min_longest_mm']:g} mm"
    if extents[2] < params["min_thickness_mm"]:
        return f"thickness {extents[2]:.2f} mm is under {params['min_thickness_mm']:g} mm"
    return None
