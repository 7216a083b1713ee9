"""Directions taken from a part's own geometry: the frame it is measured in, and the
extra directions along which holes are searched.

**Frame.** Printed mechanical parts are mostly flat faces, so the area-weighted
face normals gather in a few clusters. The strongest cluster is the first axis; in
the plane across it, the part's outline (the convex hull of its vertices projected
there) gives the other two as the sides of its smallest-area rectangle. A part with
no flat faces to speak of (a tube, a scan) takes its first axis from the normals'
scatter instead: the direction they all lie across, which is a tube's own axis. The
axes are then ordered longest extent first (0 = length, 1 = width, 2 = thickness).
Nothing here depends on how the file was posed.

**Search directions.** Holes, bores and cavities run along the edges that bound
them: a tessellated cylinder's side edges are parallel to its axis, a rectangular
well's corner edges to its depth. Every edge is weighed by its length times the
angle its two faces turn through there (so that a cylinder counts 2 pi times its
length, whatever its tessellation, as does a square well), and the weights gather
by direction. Clusters away from the frame's axes are features at an angle to the
part (an inclined grip's magazine well, a pin row across an inclined member); each
becomes an extra search direction.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from firetrace.detect.arrays import column_extents


class MeshEdges:
    """The edges of a face array, sorted once and shared by the topology figures and
    the search for directions: half-edge keys in sorted order, where each distinct
    edge starts among them, and how many faces share it."""

    def __init__(self, faces: np.ndarray, n_vertices: int):
        starts = faces.ravel()
        ends = faces[:, [1, 2, 0]].ravel()
        self.low = np.minimum(starts, ends)
        self.high = np.maximum(starts, ends)
        keys = self.low.astype(np.int64) * np.int64(n_vertices) + self.high
        self.order = np.argsort(keys, kind="stable")
        ordered = keys[self.order]
        self.first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        self.counts = np.diff(np.append(self.first, len(keys)))
        self.unique_keys = ordered[self.first]
        self.n_vertices = n_vertices

    def manifold_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each edge shared by exactly two faces: (face a, face b, half-edge index)."""
        pairs = self.first[self.counts == 2]
        return self.order[pairs] // 3, self.order[pairs + 1] // 3, self.order[pairs]


FRAME_SAMPLE = 200_000  # faces whose normals choose the frame (every k-th of a larger mesh)


def signed(direction: np.ndarray) -> np.ndarray:
    """*direction* turned so that its largest component is positive: an eigenvector's
    sign is the solver's choice and differs between numpy builds, and a reported
    direction should not."""
    return -direction if direction[int(np.argmax(np.abs(direction)))] < 0 else direction


def _principal(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The sign-free weighted mean direction of unit vectors (top eigenvector of their
    weighted scatter), signed by `signed`."""
    scatter = np.einsum("i,ij,ik->jk", weights, vectors, vectors)
    _, vecs = np.linalg.eigh(scatter)
    return signed(vecs[:, -1])


def _seed(vectors: np.ndarray, weights: np.ndarray, bins: int = 24) -> np.ndarray:
    """The centre of the heaviest cell of a coarse histogram over the hemisphere."""
    folded = np.where(vectors[:, 2:3] < 0, -vectors, vectors)
    polar = np.arccos(np.clip(folded[:, 2], -1.0, 1.0))
    azimuth = np.arctan2(folded[:, 1], folded[:, 0])
    i = np.minimum((polar / (math.pi / 2) * bins).astype(int), bins - 1)
    j = np.minimum(((azimuth + math.pi) / (2 * math.pi) * 2 * bins).astype(int), 2 * bins - 1)
    counts = np.bincount(i * 2 * bins + j, weights=weights, minlength=2 * bins * bins)
    best = int(np.argmax(counts))
    inside = (i * 2 * bins + j) == best
    return _principal(vectors[inside], weights[inside])


def clusters(
    vectors: np.ndarray,
    weights: np.ndarray,
    *,
    most: int,
    angle_deg: float,
    min_weight: float,
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """Up to *most* direction clusters (sign-free) of unit *vectors*, heaviest first,
    each as (direction, total weight within *angle_deg*, indices of its members),
    none lighter than *min_weight*. Greedy: seed from a histogram, refine, remove,
    repeat."""
    out: list[tuple[np.ndarray, float, np.ndarray]] = []
    if not len(vectors):
        return out
    cos_limit = math.cos(math.radians(angle_deg))
    remaining = np.ones(len(vectors), dtype=bool)
    for _ in range(most):
        if not remaining.any():
            break
        vecs, wts = vectors[remaining], weights[remaining]
        direction = _seed(vecs, wts)
        for _ in range(3):
            near = np.abs(vecs @ direction) >= cos_limit
            if not near.any():
                break
            direction = _principal(vecs[near], wts[near])
        near = np.abs(vecs @ direction) >= cos_limit
        weight = float(wts[near].sum())
        if weight < min_weight:
            break
        index = np.flatnonzero(remaining)
        out.append((direction / np.linalg.norm(direction), weight, index[near]))
        remaining[index[near]] = False
    return out


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals and areas of the triangles (zero-area ones dropped)."""
    corners = vertices[faces]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    doubled = np.sqrt(np.einsum("ij,ij->i", cross, cross))
    keep = doubled > 0
    return cross[keep] / doubled[keep, None], doubled[keep] / 2.0


def min_area_rectangle(points: np.ndarray) -> np.ndarray:
    """Unit direction of one side of the smallest-area rectangle around 2-D points."""
    try:
        hull = points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        centred = points - points.mean(axis=0)
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        return axes[0]
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.linalg.norm(edges, axis=1)
    edges = edges[lengths > 0] / lengths[lengths > 0, None]
    normals = np.column_stack([-edges[:, 1], edges[:, 0]])
    along = hull @ edges.T
    across = hull @ normals.T
    areas = np.ptp(along, axis=0) * np.ptp(across, axis=0)
    return edges[int(np.argmin(areas))]


def part_frame(
    vertices: np.ndarray, faces: np.ndarray, settings: dict, normals=None, areas=None
) -> np.ndarray:
    """Rows: the part's three axes (unit vectors), longest extent first, right-handed
    (*normals* and *areas* of the faces, when the caller has them)."""
    if normals is None or areas is None:
        normals, areas = face_normals(vertices, faces)
        kept = np.arange(len(areas))
    else:
        kept = np.flatnonzero(areas > 0)
    if len(kept) > FRAME_SAMPLE:  # an even subsample of the faces votes alike
        kept = kept[:: len(kept) // FRAME_SAMPLE + 1]
    # only the subsample is converted (a million faces' normals in float64 cost 0.1 s)
    normals, areas = normals[kept].astype(np.float64), areas[kept].astype(np.float64)
    total = float(areas.sum()) or 1.0
    found = clusters(
        normals,
        areas,
        most=1,
        angle_deg=float(settings["normal_cluster_deg"]),
        min_weight=float(settings["flat_share"]) * total,
    )
    if found:
        first = found[0][0]
    else:  # no flat side: the direction the normals lie across (a tube's axis)
        scatter = np.einsum("i,ij,ik->jk", areas, normals, normals)
        first = signed(np.linalg.eigh(scatter)[1][:, 0])
    helper = np.eye(3)[int(np.argmin(np.abs(first)))]
    u = np.cross(first, helper)
    u /= np.linalg.norm(u)
    v = np.cross(first, u)
    sample = vertices[:: max(1, len(vertices) // int(settings["hull_sample"]))]
    planar = np.column_stack([sample @ u, sample @ v])
    side = min_area_rectangle(planar)
    second = side[0] * u + side[1] * v
    second /= np.linalg.norm(second)
    third = np.cross(first, second)
    axes = np.array([first, second, third])
    projected = vertices @ axes.T
    order = np.argsort(-column_extents(projected), kind="stable")
    axes = axes[order]
    if np.linalg.det(axes) < 0:  # keep a right-handed frame (mirror images measure alike)
        axes[2] = -axes[2]
    return axes


def search_directions(
    vertices: np.ndarray,
    faces: np.ndarray,
    frame: np.ndarray,
    settings: dict,
    edges=None,
    normals=None,
) -> list[dict]:
    """Extra hole-search directions: clusters of edge turning (length x dihedral angle)
    at least ``axis_gap_deg`` away from every frame axis, heaviest first."""
    most = int(settings["max_directions"])
    if most <= 0 or len(faces) < 8:
        return []
    if edges is None:
        edges = MeshEdges(faces, len(vertices))
    edges, starts, turning = _edge_turning(
        vertices, faces, edges, normals, math.radians(float(settings["min_dihedral_deg"]))
    )
    if not len(turning):
        return []
    vectors, lengths = edges, np.linalg.norm(edges, axis=1)
    keep = lengths > 0
    vectors, lengths, starts, turning = vectors[keep], lengths[keep], starts[keep], turning[keep]
    vectors = vectors / lengths[:, None]
    weights = lengths * turning
    gap = math.cos(math.radians(float(settings["axis_gap_deg"])))
    off_axis = (np.abs(vectors @ frame.T) < gap).all(axis=1)
    vectors, weights, lengths = vectors[off_axis], weights[off_axis], lengths[off_axis]
    starts = starts[off_axis]
    found = clusters(
        vectors,
        weights,
        most=most,
        angle_deg=float(settings["edge_cluster_deg"]),
        min_weight=float(settings["min_turning_mm"]),
    )
    out = []
    for direction, _, members in found:
        if (np.abs(frame @ direction) >= gap).any():
            continue  # the refined cluster drifted onto a frame axis
        members = members[_on_long_lines(direction, starts, vectors, lengths, members, settings)]
        weight = float(weights[members].sum())
        if weight < float(settings["min_turning_mm"]):
            continue
        ends = starts[members] + vectors[members] * lengths[members, None]
        points = np.concatenate([starts[members], ends])
        out.append({"direction": direction, "turning_mm": weight, "points": points})
    return out


def _on_long_lines(direction, starts, vectors, lengths, members, settings) -> np.ndarray:
    """Mask of the members that lie on a long straight line along *direction*.

    A hole's side edges (or a well's corner edges) are long lines, even when a
    subdivided mesh cuts them into short collinear pieces; the rims of many equally
    tessellated holes also hold short edges in a few shared directions, but each
    on a line of its own. Edges are put on lines by where their midpoints fall in
    the plane across *direction*."""
    helper = np.eye(3)[int(np.argmin(np.abs(direction)))]
    u = np.cross(direction, helper)
    u /= np.linalg.norm(u)
    v = np.cross(direction, u)
    middle = starts[members] + vectors[members] * (lengths[members, None] / 2)
    cell = float(settings["line_cell_mm"])
    keys = np.round(np.column_stack([middle @ u, middle @ v]) / cell).astype(np.int64)
    (
        _,
        line,
    ) = np.unique(keys, axis=0, return_inverse=True)[:2]
    line = line.ravel()
    total = np.bincount(line, weights=lengths[members])
    return total[line] >= float(settings["min_line_mm"])


def _edge_turning(vertices: np.ndarray, faces: np.ndarray, edges, normals=None, least=0.0):
    """Each interior edge shared by exactly two faces whose normals turn by more than
    *least* radians there: its vector, its start and that angle (*normals*: unit,
    one per face, when the caller has them)."""
    face_a, face_b, half = edges.manifold_pairs()
    if normals is None:
        corners = vertices[faces]
        cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        norm = np.sqrt(np.einsum("ij,ij->i", cross, cross))
        normals = cross / np.maximum(norm, 1e-30)[:, None]
    cosine = np.einsum("ij,ij->i", normals[face_a], normals[face_b])
    bent = cosine < math.cos(least)  # flat edges (most of a fine mesh) go first
    cosine, half = np.clip(cosine[bent], -1.0, 1.0), half[bent]
    start = vertices[edges.low[half]]
    return vertices[edges.high[half]] - start, start, np.arccos(cosine)
