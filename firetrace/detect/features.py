"""Geometric features of a triangle mesh, each a number an examiner can check.

The mesh is first put in its own frame (the minimum-volume oriented bounding box,
axes sorted longest first: 0 = length, 1 = width, 2 = thickness), so every figure
is independent of how the file was posed. Measured:

- topology: triangles, bodies, boundary and non-manifold edges, watertightness,
  Euler characteristic and genus (through-holes), volume, area;
- shape: extents, mean wall thickness (2 x volume / area, exact for plates),
  solid fraction of the bounding box;
- holes: the mesh is voxelised in that frame by scan-line parity (a vectorised
  slicer: every triangle-plane crossing becomes a segment, every segment-row
  crossing toggles the inside/outside parity); then, for each axis, empty voxels
  enclosed within their slice are grouped into straight holes running along the
  axis. Each hole has a diameter (equivalent circle), in-plane width and height,
  length along the axis, L/D, a shape (``round``, ``rect``, ``other``) and whether
  it is open at both ends (``through``).

Parameters (voxel budget, shape thresholds) come from the ``[measure]`` section
of the rules. No Python loop runs over triangles or voxels (a few run over grid
planes, each step a whole-plane numpy operation). For speed, hole finding only
labels the box around voxels that have solid on both sides within their slice,
and tracks sections only in the box around the enclosed ones; a part with no
such voxels along an axis costs little there (that search runs on the grid
bit-packed along its last axis, 8 voxels a byte). The figures are the same as
labelling the whole grid.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from firetrace.detect.arrays import column_bounds, column_extents, row_max, row_min
from firetrace.detect.directions import (
    MeshEdges,
    min_area_rectangle,
    part_frame,
    search_directions,
    signed,
)
from firetrace.errors import InputError

DEFAULTS = {
    "min_resolution_mm": 0.3,
    "max_cells_per_axis": 400,
    "max_voxels": 3_000_000,
    "pair_chunk": 1_000_000,
    "round_fill": [0.6, 0.9],
    "round_max_aspect": 1.35,
    "rect_min_fill": 0.9,
    "rect_small_bonus": 0.5,
    "slot_min_fill": 0.84,
    "min_hole_diameter_mm": 1.2,
    "max_holes": 120,
    "hull_sample": 20000,
    "link_overlap": 0.7,
    # the frame and the extra search directions (see firetrace.detect.directions)
    "normal_cluster_deg": 8.0,
    "flat_share": 0.12,
    "max_directions": 4,
    "min_dihedral_deg": 3.0,
    "edge_cluster_deg": 6.0,
    "axis_gap_deg": 2.5,
    "min_turning_mm": 40.0,
    "axis_tolerance_deg": 25.0,
    "extra_max_voxels": 2_000_000,
    "region_margin_mm": 8.0,
    "line_cell_mm": 0.5,
    "min_line_mm": 6.0,
    # openings seen through the part along a frame axis, whose own axis is found from
    # the material around them (a loop or ring turned off the frame)
    "opening_mm": [8.0, 45.0],
    "opening_min_tilt_deg": 2.5,
    "parallel_deg": 8.0,
    "max_opening_directions": 3,
}

AXIS_NAMES = ("length", "width", "thickness")


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product without np.cross's temporaries."""
    out = np.empty_like(a)
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def topology(
    faces: np.ndarray, n_vertices: int, edges: MeshEdges | None = None, bodies: int | None = None
) -> dict[str, Any]:
    """Edge counts, bodies, Euler characteristic and genus of a face array (*bodies*,
    the connected shells, when the caller already counted them)."""
    edges = edges or MeshEdges(faces, n_vertices)
    counts = edges.counts
    unique_edges = len(counts)
    used = np.flatnonzero(np.bincount(faces.ravel(), minlength=n_vertices))
    chi = int(len(used) - unique_edges + len(faces))
    if bodies is None:
        keys = edges.unique_keys
        graph = coo_matrix(
            (np.ones(len(keys), dtype=np.int8), (keys // n_vertices, keys % n_vertices)),
            shape=(n_vertices, n_vertices),
        )
        _, labels = connected_components(graph, directed=False)
        bodies = int(len(np.unique(labels[used])))
    boundary = int((counts == 1).sum())
    nonmanifold = int((counts > 2).sum())
    watertight = boundary == 0 and nonmanifold == 0
    genus = (2 * bodies - chi) // 2 if watertight and (2 * bodies - chi) % 2 == 0 else None
    return {
        "open_edge_fraction": round((boundary + nonmanifold) / max(unique_edges, 1), 5),
        "bodies": bodies,
        "boundary_edges": boundary,
        "nonmanifold_edges": nonmanifold,
        "watertight": watertight,
        "euler_characteristic": chi,
        "genus": genus,
    }


def principal_frame(
    vertices: np.ndarray, faces: np.ndarray, params: dict, normals=None, areas=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices in the part's own frame (:func:`firetrace.detect.directions.part_frame`),
    axes longest first, the box's minimum corner at 0.

    Returns (aligned vertices, extents, axes as rows in the file's coordinates)."""
    try:
        axes = part_frame(vertices, faces, params, normals, areas)
    except (np.linalg.LinAlgError, ValueError):  # flat or degenerate: principal axes
        centred = vertices - vertices.mean(axis=0)
        sample = int(params["hull_sample"])
        _, _, axes = np.linalg.svd(centred[:: max(1, len(centred) // sample)], full_matrices=False)
        order = np.argsort(-np.ptp(centred @ axes.T, axis=0), kind="stable")
        axes = axes[order]
        if np.linalg.det(axes) < 0:
            axes[2] = -axes[2]
    # einsum, not matmul: a 3-column product gains nothing from BLAS threads,
    # which only contend on a busy machine
    aligned = np.einsum("ij,kj->ik", vertices, axes)
    aligned = aligned - column_bounds(aligned)[0]
    return aligned, column_extents(aligned), axes


def _edge_crossing(triangles, tri_index, edge, above, plane) -> np.ndarray:
    """Where edge *edge* (from vertex *edge* to the next) of each triangle
    ``triangles[tri_index]`` crosses its *plane* (z), as (x, y); *above* says which
    of each triangle's vertices lie on or above the plane.

    The point is computed from the edge's lower end: the triangle across the edge
    runs it the other way, and must get the same point to the last bit, or a row
    centre lying on it is counted by both triangles or by neither."""
    start, end = edge, _NEXT_VERTEX[edge]
    start_above = above[np.arange(len(edge)), edge]
    a = triangles[tri_index, np.where(start_above, end, start)]
    b = triangles[tri_index, np.where(start_above, start, end)]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (plane - a[:, 2]) / (b[:, 2] - a[:, 2])
    return a[:, :2] + t[:, None] * (b[:, :2] - a[:, :2])


_NEXT_VERTEX = np.array([1, 2, 0])


def voxelize(triangles: np.ndarray, shape: tuple[int, int, int], chunk: int) -> np.ndarray:
    """Solid occupancy of a closed surface on a grid whose voxel centres sit at
    integer + 0.5 (triangles already in grid units). Rows whose crossings do not
    pair up (holes in the surface) are left empty rather than smeared."""
    n0, n1, n2 = shape
    z = triangles[:, :, 2]
    k_lo = np.maximum(np.floor(row_min(z) - 0.5).astype(np.int64) + 1, 0)
    k_hi = np.minimum(np.floor(row_max(z) - 0.5).astype(np.int64), n2 - 1)
    per_triangle = np.maximum(k_hi - k_lo + 1, 0)
    total = int(per_triangle.sum())
    # crossings are counted per cell with the scan-line (x) axis outermost, so the
    # running parity below is a sum of whole planes rather than of short rows, and
    # the planes already in the grid's own order (no transpose at the end)
    cells = n2 * n1 * (n0 + 1)
    # uint16 counts added in place: a quarter of the bytes of bincount's int64
    # array, and no copy to narrow them (a cell is never crossed 65,536 times)
    counts = np.zeros(cells, dtype=np.uint16)
    starts = np.cumsum(per_triangle) - per_triangle
    edge_a, edge_b = np.array([0, 1, 2]), np.array([1, 2, 0])
    for begin in range(0, total, chunk):
        pair = np.arange(begin, min(begin + chunk, total))
        tri_index = np.searchsorted(starts, pair, side="right") - 1
        plane_index = k_lo[tri_index] + (pair - starts[tri_index])
        plane = plane_index + 0.5
        above = triangles[tri_index, :, 2] >= plane[:, None]
        crossing = above[:, edge_a] != above[:, edge_b]
        # with exactly two crossed edges: the first and the last crossed one; only
        # those two edges of the triangles kept are cut (edge e runs from vertex e)
        keep = np.flatnonzero(crossing.sum(axis=1) == 2)
        crossing = crossing[keep]
        first_edge = np.argmax(crossing, axis=1)
        last_edge = 2 - np.argmax(crossing[:, ::-1], axis=1)
        tri_index, plane, layer = tri_index[keep], plane[keep], plane_index[keep]
        above = above[keep]
        p, q = (
            _edge_crossing(triangles, tri_index, e, above, plane) for e in (first_edge, last_edge)
        )
        y_lo = np.minimum(p[:, 1], q[:, 1])
        y_hi = np.maximum(p[:, 1], q[:, 1])
        j_lo = np.maximum(np.floor(y_lo - 0.5).astype(np.int64) + 1, 0)
        j_hi = np.minimum(np.floor(y_hi - 0.5).astype(np.int64), n1 - 1)
        per_segment = np.maximum(j_hi - j_lo + 1, 0)
        if not per_segment.any():
            continue
        segment = np.repeat(np.arange(len(p)), per_segment)
        seg_starts = np.cumsum(per_segment) - per_segment
        row = j_lo[segment] + (np.arange(len(segment)) - seg_starts[segment])
        yc = row + 0.5
        ps, qs = p[segment], q[segment]
        x = ps[:, 0] + (yc - ps[:, 1]) * (qs[:, 0] - ps[:, 0]) / (qs[:, 1] - ps[:, 1])
        column = np.clip(np.floor(x - 0.5).astype(np.int64) + 1, 0, n0)
        flat = (column * n1 + row) * n2 + layer[segment]
        np.add.at(counts, flat, 1)
    counts = counts.reshape(n0 + 1, n1, n2)
    # only the parity matters, which a wrapping uint8 sum keeps
    parity = counts.astype(np.uint8)
    for x in range(1, n0 + 1):
        np.add(parity[x], parity[x - 1], out=parity[x])
    parity &= 1
    consistent = parity[n0] == 0
    solid = parity[:n0].view(bool)
    if not consistent.all():
        # a row whose crossings do not pair up passes through a gap in the surface;
        # filling it between its first and last crossing never invents a hole
        crossed = counts[:n0] > 0
        after_first = np.logical_or.accumulate(crossed, axis=0)
        before_last = np.logical_or.accumulate(counts[::-1] > 0, axis=0)[::-1][1:]
        hull = after_first & before_last
        solid = np.where(consistent[None, :, :], solid, hull)
    return solid


def _track_sections(labels, enclosed, axis, count, params):
    """Chain enclosed cross-sections of consecutive slices into straight holes.

    Two sections link when they overlap by most of the larger one, so a bore
    opening into a wide channel stays a separate hole from the channel."""
    section = labels * enclosed  # a product, not np.where: no branch per voxel
    # counting only the enclosed voxels gives the same areas (label 0 aside, unused)
    area = np.bincount(labels[enclosed], minlength=count + 1)
    along = np.moveaxis(section, axis, 0)
    inside = np.moveaxis(enclosed, axis, 0)
    both = inside[:-1] & inside[1:]
    first, second = along[:-1][both], along[1:][both]
    if len(first):
        key = first.astype(np.int64) * (count + 1) + second
        # neighbouring voxels mostly repeat the same pair: sort runs, not voxels
        run_starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        run_lengths = np.diff(np.append(run_starts, len(key)))
        pair_keys, which = np.unique(key[run_starts], return_inverse=True)
        overlap = np.bincount(which, weights=run_lengths)
        a, b = pair_keys // (count + 1), pair_keys % (count + 1)
        linked = overlap >= params["link_overlap"] * np.maximum(area[a], area[b])
        a, b = a[linked], b[linked]
    else:
        a = b = np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(count + 1, count + 1))
    _, tube_of = connected_components(graph, directed=False)
    present = area > 0
    present[0] = False
    relabel = np.zeros(tube_of.max() + 1, dtype=np.int32)
    used = np.unique(tube_of[present])
    relabel[used] = np.arange(1, len(used) + 1)
    tube_label = np.where(present, relabel[tube_of], 0).astype(np.int32)
    # voxels per tube from the section areas: no pass over the grid
    sizes = np.bincount(tube_label, weights=area, minlength=len(used) + 1)
    sizes[0] = 0
    return np.take(tube_label, section), len(used), sizes


def _window_of(projections: list[np.ndarray]) -> tuple[slice, ...] | None:
    """The slices from the first to the last set entry of each projection (None when
    one of them has none set)."""
    window = []
    for present in projections:
        present = np.flatnonzero(present)
        if not len(present):
            return None
        window.append(slice(int(present[0]), int(present[-1]) + 1))
    return tuple(window)


def _bounding_window(mask: np.ndarray) -> tuple[slice, ...] | None:
    """The smallest box holding every set voxel of *mask* (None when none is set)."""
    # two passes over the grid (an OR of whole planes, then of whole rows), the rest
    # on their small projections
    plane = mask.any(axis=0)
    rows = mask.reshape(mask.shape[0], -1).any(axis=1)
    projections = [rows] + [
        plane.any(axis=tuple(d for d in range(plane.ndim) if d != axis))
        for axis in range(plane.ndim)
    ]
    return _window_of(projections)


def _packed_window(mask: np.ndarray, n: int) -> tuple[slice, ...] | None:
    """The smallest box holding every set bit of *mask*, a grid bit-packed along its
    last axis (of *n* voxels) with np.packbits (None when no bit is set)."""
    plane = np.bitwise_or.reduce(mask, axis=0)  # an OR of whole planes, bits kept
    projections = [
        mask.reshape(mask.shape[0], -1).any(axis=1),
        plane.any(axis=1),
        np.unpackbits(np.bitwise_or.reduce(plane, axis=0), count=n).view(bool),
    ]
    return _window_of(projections)


def _between_solids(solid: np.ndarray, axis: int) -> np.ndarray:
    """Voxels lying between the first and last solid voxel of their grid line along
    *axis* (none on a line without solid voxels). Along the first two axes *solid*
    may also be bit-packed along the last axis (a bitwise OR of planes is the same)."""
    n = solid.shape[axis]
    if axis < solid.ndim - 1:
        # running OR of whole planes, forwards and backwards: contiguous and cheap
        planes = np.moveaxis(solid, axis, 0)
        after_first = np.empty(planes.shape, dtype=solid.dtype)
        before_last = np.empty(planes.shape, dtype=solid.dtype)
        after_first[0], before_last[-1] = planes[0], planes[-1]
        for i in range(1, n):
            np.bitwise_or(after_first[i - 1], planes[i], out=after_first[i])
            np.bitwise_or(before_last[n - i], planes[n - 1 - i], out=before_last[n - 1 - i])
        after_first &= before_last
        return np.moveaxis(after_first, 0, axis)
    # along the contiguous axis, the first and last solid index of each line
    index_type = np.int16 if n < 30000 else np.int32
    first = np.argmax(solid, axis=axis).astype(index_type)
    first[~solid.any(axis=axis)] = n  # no solid: no voxel can lie after the first one
    last = (n - 1 - np.argmax(np.flip(solid, axis=axis), axis=axis)).astype(index_type)
    shape = [1] * solid.ndim
    shape[axis] = n
    position = np.arange(n, dtype=index_type).reshape(shape)
    return (position >= np.expand_dims(first, axis)) & (position <= np.expand_dims(last, axis))


# per byte value: index of its first and of its last set bit (big-endian bit order,
# as np.packbits writes; 0 for the empty byte, which is never looked up)
_FIRST_BIT = np.array([8 - v.bit_length() if v else 0 for v in range(256)], dtype=np.int16)
_LAST_BIT = np.array(
    [7 - (v & -v).bit_length() + 1 if v else 0 for v in range(256)], dtype=np.int16
)


def _between_packed_last(packed: np.ndarray) -> np.ndarray:
    """_between_solids along the last axis, from and to a grid bit-packed along it:
    the first and last set bit of each line come from its first and last non-zero
    byte, and each output byte is a mask of the bits within that span."""
    n_bytes = packed.shape[-1]
    nonzero = packed != 0
    first_byte = np.argmax(nonzero, axis=-1)
    last_byte = n_bytes - 1 - np.argmax(nonzero[..., ::-1], axis=-1)
    first_value = np.take_along_axis(packed, first_byte[..., None], axis=-1)[..., 0]
    last_value = np.take_along_axis(packed, last_byte[..., None], axis=-1)[..., 0]
    index_type = np.int16 if n_bytes < 4000 else np.int32
    first = (8 * first_byte + _FIRST_BIT[first_value]).astype(index_type)
    last = (8 * last_byte + _LAST_BIT[last_value]).astype(index_type)
    first[first_value == 0] = 8 * n_bytes  # a line without solid: an empty span
    byte_start = 8 * np.arange(n_bytes, dtype=index_type)
    skip = np.clip(first[..., None] - byte_start, 0, 8)  # leading bits before the span
    keep = np.clip(last[..., None] - byte_start + 1, 0, 8)  # bits up to the span's end
    return ((255 >> skip) & (255 ^ (255 >> keep))).astype(np.uint8)


def _classify(fill: float, narrow: float, wide: float, params: dict) -> str:
    aspect = wide / max(narrow, 1e-9)
    # a digitised circle fills more of its box the fewer cells it spans, and may fill
    # nearly all of it across four or five cells: both bounds move up for small sections
    bonus = params["rect_small_bonus"] / max(narrow, 1.0)
    rect_fill = min(0.98, params["rect_min_fill"] + bonus)
    if fill >= rect_fill:
        return "rect"
    round_high = min(0.97, params["round_fill"][1] + bonus)
    if params["round_fill"][0] <= fill < round_high and aspect <= params["round_max_aspect"]:
        return "round"
    # an elongated section with rounded ends or corners (an obround well, a filleted
    # channel): fuller than an ellipse (pi/4), not quite a rectangle
    if aspect > params["round_max_aspect"] and fill >= params["slot_min_fill"]:
        return "slot"
    return "other"


def _slice_boxes(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slice of a hole's mask (slices first): its area and the sides of its box."""
    area = planes.sum(axis=(1, 2))
    spans = []
    for along in (2, 1):
        present = planes.any(axis=along)
        first = np.argmax(present, axis=1)
        last = present.shape[1] - 1 - np.argmax(present[:, ::-1], axis=1)
        spans.append(np.where(present.any(axis=1), last - first + 1, 0))
    return area, spans[0], spans[1]


def _section_shape(planes: np.ndarray, params: dict) -> dict:
    """Shape of a hole's cross-section from its mask (slices first), judged slice by
    slice and summed up by the median slice, so that a hole whose outline wavers
    from layer to layer (a rebuilt print, a drift across the grid) reads as its
    sections do, not as the union of them. A section that is neither round nor
    rectangular in the grid's box is judged again in its smallest-area rotated
    rectangle, so that a rectangle at an angle in its slice still reads as ``rect``
    (or ``slot``; small sections are too coarse for that)."""
    area, rows, cols = _slice_boxes(planes)
    kept = area > 0
    area, rows, cols = area[kept], rows[kept], cols[kept]
    fill = float(np.median(area / (rows * cols)))
    narrow = float(np.median(np.minimum(rows, cols)))
    wide = float(np.median(np.maximum(rows, cols)))
    shape = _classify(fill, narrow, wide, params)
    if shape == "other" and narrow >= 8:
        middle = planes[kept][int(np.argsort(area)[len(area) // 2])]
        points = np.argwhere(middle).astype(np.float64)
        side = min_area_rectangle(points)
        across = np.array([-side[1], side[0]])
        spans = sorted([float(np.ptp(points @ side)) + 1.0, float(np.ptp(points @ across)) + 1.0])
        rotated = float(middle.sum()) / (spans[0] * spans[1])
        turned = _classify(rotated, spans[0], spans[1], params)
        if turned in ("rect", "slot"):
            shape, fill, narrow, wide = turned, rotated, spans[0], spans[1]
    return {"shape": shape, "fill": fill, "narrow": narrow, "wide": wide}


def find_holes(
    solid: np.ndarray,
    resolution: float,
    params: dict,
    axes: tuple[int, ...] = (0, 1, 2),
    pad: int = 0,
) -> list[dict]:
    """Straight holes along the grid axes *axes*: empty voxels enclosed in their slice.
    Centres are given in millimetres from the grid's origin less *pad* cells."""
    holes: list[dict] = []
    min_vox = max(1.0, params["min_hole_diameter_mm"] / resolution)
    # the candidate search runs on grids bit-packed along the last axis: 8x fewer
    # bytes for every running OR, AND and projection (packing pads with zero bits,
    # so the padding is never a candidate)
    packed = np.packbits(solid, axis=2)
    between = [
        _between_solids(packed, 0),
        _between_solids(packed, 1),
        _between_packed_last(packed),
    ]
    not_solid = ~packed
    buffer = np.empty(packed.shape, dtype=np.uint8)
    for axis in axes:
        in_plane = [d for d in range(3) if d != axis]
        # an empty voxel enclosed in its slice has solid on both sides along each
        # in-plane axis; only the box around such candidates (grown by one voxel in
        # the plane, so a region leaving it still touches its edge) is labelled
        candidates = np.bitwise_and(between[in_plane[0]], between[in_plane[1]], out=buffer)
        candidates &= not_solid
        region = _packed_window(candidates, solid.shape[2])
        if region is None:
            continue
        region = tuple(
            slice(max(s.start - 1, 0), min(s.stop + 1, solid.shape[d])) if d != axis else s
            for d, s in enumerate(region)
        )
        structure = np.zeros((3, 3, 3), dtype=bool)
        index = [slice(None)] * 3
        index[axis] = 1
        structure[tuple(index)] = ndimage.generate_binary_structure(2, 1)
        labels, count = ndimage.label(~solid[region], structure=structure)
        if count == 0:
            continue
        border = np.zeros(count + 1, dtype=bool)
        border[0] = True
        for other in in_plane:
            for end in (0, -1):
                face = [slice(None)] * 3
                face[other] = end
                border[labels[tuple(face)]] = True
        if border[1:].all():
            continue  # every empty region reaches its slice's edge: nothing enclosed
        # label 0 (solid) is marked as border above; a uint8 table is the cheapest lookup
        enclosed = np.take((~border).view(np.uint8), labels).view(bool)
        window = _bounding_window(enclosed)
        if window is None:
            continue
        # everything below runs on the box around the enclosed voxels only, which
        # is usually a small part of the grid (a bore in a tube, pin holes in a block)
        components, n_components, sizes = _track_sections(
            labels[window], enclosed[window], axis, count, params
        )
        del labels, enclosed
        if n_components == 0:
            continue
        offset = [w.start + r.start for w, r in zip(window, region, strict=True)]
        for label, local_box in enumerate(ndimage.find_objects(components), start=1):
            if local_box is None:
                continue
            box = tuple(
                slice(s.start + o, s.stop + o) for s, o in zip(local_box, offset, strict=True)
            )
            spans = [s.stop - s.start for s in box]
            slices = spans[axis]
            plane = [spans[d] for d in range(3) if d != axis]
            if slices < 2 or min(plane) < min_vox:
                continue
            voxels = int(sizes[label])
            mean_area = voxels / slices
            mask = components[local_box] == label
            footprint = mask.any(axis=axis)
            section = _section_shape(np.moveaxis(mask, axis, 0), params)
            # how much of the footprint each slice covers: 1 for a hole running along the
            # grid axis, less for one cut across it (each slice sees it shifted)
            coherence = mean_area / max(int(footprint.sum()), 1)
            shape, fill = section["shape"], section["fill"]
            open_ends = 0
            for end_index in (box[axis].start - 1, box[axis].stop):
                if end_index < 0 or end_index >= solid.shape[axis]:
                    open_ends += 1
                    continue
                cap = list(box)
                cap[axis] = end_index
                cap_solid = solid[tuple(cap)]
                if cap_solid[footprint].mean() < 0.5:
                    open_ends += 1
            diameter = 2.0 * math.sqrt(mean_area / math.pi) * resolution
            length = slices * resolution
            centre = [((s.start + s.stop) / 2 - pad) * resolution for s in box]
            holes.append(
                {
                    "axis": axis,
                    "along": AXIS_NAMES[axis],
                    "shape": shape,
                    "diameter_mm": round(diameter, 2),
                    "width_mm": round(section["narrow"] * resolution, 2),
                    "height_mm": round(section["wide"] * resolution, 2),
                    "length_mm": round(length, 2),
                    "length_over_diameter": round(length / diameter, 2) if diameter else None,
                    "fill": round(fill, 3),
                    "coherence": round(coherence, 3),
                    "open_ends": open_ends,
                    "through": open_ends == 2,
                    "volume_mm3": round(voxels * resolution**3, 1),
                    "centre_mm": [round(c, 1) for c in centre],
                }
            )
    holes.sort(key=lambda h: -h["volume_mm3"])
    return holes[: params["max_holes"]]


def _grid_resolution(extents, params: dict, max_voxels: float) -> float:
    longest = max(float(extents[0]), 1e-9)
    box_volume = max(float(np.prod(np.maximum(extents, 1e-9))), 1e-12)
    return max(
        float(params["min_resolution_mm"]),
        longest / float(params["max_cells_per_axis"]),
        (box_volume / float(max_voxels)) ** (1.0 / 3.0),
    )


def _solid_grid(aligned: np.ndarray, faces: np.ndarray, resolution: float, params: dict, pad: int):
    """Voxelise vertices given in a frame whose box starts at 0."""
    extents = column_extents(aligned)
    shape = tuple(int(math.ceil(e / resolution)) + 2 * pad for e in extents)
    # the same arithmetic on each vertex, then gathered into corners (not on 3 per face)
    grid = aligned.astype(np.float32) / np.float32(resolution) + np.float32(pad)
    grid_tris = grid[faces]
    return voxelize(grid_tris, shape, int(params["pair_chunk"]))


def _across(direction: np.ndarray) -> np.ndarray:
    """A frame (rows) whose first axis is *direction* (given in the part's frame) and
    whose second is the part axis most across it, made square to it: a well inclined in
    the length-width plane keeps its walls on the grid."""
    d = direction / np.linalg.norm(direction)
    basis = np.eye(3)
    choice = int(np.argmin(np.abs(basis @ d)))
    u = basis[choice] - (basis[choice] @ d) * d
    u /= np.linalg.norm(u)
    return np.array([d, u, np.cross(d, u)])


def _angle_to_axes(direction: np.ndarray) -> tuple[int, float]:
    cosines = np.abs(direction / np.linalg.norm(direction))
    axis = int(np.argmax(cosines))
    return axis, math.degrees(math.acos(min(1.0, float(cosines[axis]))))


def enclosed_void_fraction(solid: np.ndarray, box_cells: float) -> float:
    """The share of the part's box taken by empty space sealed off from the outside
    (the inside of a closed shell; 0 for a sleeve, a tray or a box open anywhere).
    The grid's padded border is empty, so the outside is the empty region around its
    first cell; only hollow parts are measured (solid fraction up to 0.5)."""
    empty = ~solid
    labels, count = ndimage.label(empty)
    if count <= 1:
        return 0.0
    sealed = int(np.count_nonzero(empty & (labels != labels[0, 0, 0])))
    return round(min(sealed / max(box_cells, 1.0), 1.0), 3)


def end_fill(solid: np.ndarray) -> float | None:
    """The share of its bounding rectangle that the part's outline seen along its
    length fills (holes in the outline filled): about 1 for a box, pi/4 = 0.785 for a
    round tube or rod, in between for a bent tube or a box with wide rounded edges."""
    shadow = ndimage.binary_fill_holes(solid.any(axis=0))
    rows, columns = np.flatnonzero(shadow.any(axis=1)), np.flatnonzero(shadow.any(axis=0))
    if not len(rows):
        return None
    box = (rows[-1] - rows[0] + 1) * (columns[-1] - columns[0] + 1)
    return round(float(shadow.sum()) / float(box), 3)


def opening_directions(
    solid: np.ndarray,
    resolution: float,
    pad: int,
    aligned: np.ndarray,
    faces: np.ndarray,
    weights: np.ndarray,
    params: dict,
) -> list[dict]:
    """Search directions for openings turned off the frame (a loop whose plane leans
    on the member it hangs from): seen along a frame axis, the part's shadow has a
    hole; the material around that hole is a ring whose own axis is its direction
    of least spread (its faces weighed by *weights*, in proportion to their areas).
    Only directions at least ``opening_min_tilt_deg`` off every frame axis are
    returned, widest openings first."""
    low_mm, high_mm = (float(v) for v in params["opening_mm"])
    gap = math.cos(math.radians(float(params["opening_min_tilt_deg"])))
    centroids = None  # of the faces, once an opening needs them
    found: list[tuple[float, dict]] = []
    for axis in (2, 1):  # through the thickness, then through the width
        shadow = solid.any(axis=axis)
        openings = ndimage.binary_fill_holes(shadow) & ~shadow
        labels, count = ndimage.label(openings)
        if not count:
            continue
        in_plane = [d for d in range(3) if d != axis]
        for label, box in enumerate(ndimage.find_objects(labels), start=1):
            pixels = np.argwhere(labels[box] == label)
            diameter = 2.0 * math.sqrt(len(pixels) / math.pi) * resolution
            if not low_mm <= diameter <= high_mm:
                continue
            centre = (pixels.mean(axis=0) + [b.start for b in box] + 0.5 - pad) * resolution
            if centroids is None:
                centroids = aligned[faces].mean(axis=1)
            # the ring: material from just inside the opening's rim to a rim's width out
            off = np.hypot(
                centroids[:, in_plane[0]] - centre[0], centroids[:, in_plane[1]] - centre[1]
            )
            near = (off >= 0.35 * diameter) & (off <= 0.5 * diameter + max(0.3 * diameter, 5.0))
            if near.sum() < 12:
                continue
            points, w = centroids[near], weights[near].astype(np.float64)
            middle = np.average(points, axis=0, weights=w)
            spread = np.einsum("i,ij,ik->jk", w, points - middle, points - middle)
            direction = signed(np.linalg.eigh(spread)[1][:, 0])
            if (np.abs(direction) >= gap).any():
                continue  # on a frame axis: the principal search sees it
            found.append(
                (
                    diameter,
                    {"direction": direction, "turning_mm": 0.0, "points": points},
                )
            )
    found.sort(key=lambda item: -item[0])
    return [item for _, item in found[: int(params["max_opening_directions"])]]


def _region_across(points: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """The box a direction's hole search covers across the direction (its axes 1 and
    2; *points* in the direction's frame): the points' box grown by
    ``region_margin_mm`` or half its span, whichever is more."""
    low, high = column_bounds(points)
    margin = np.maximum(float(params["region_margin_mm"]), 0.5 * (high - low))
    return low - margin, high + margin


def _searched(opening: dict, directions: list[dict], params: dict) -> bool:
    """Whether a direction searched already covers *opening*: one within about 8
    degrees of it (cosine 0.99) whose region across holds every point of the
    opening's ring. A near-parallel direction elsewhere on the part does not: its
    search sees only the region its own edges span."""
    for item in directions:
        if abs(float(opening["direction"] @ item["direction"])) < 0.99:
            continue
        frame = _across(item["direction"])
        low, high = _region_across(np.einsum("ij,kj->ik", item["points"], frame), params)
        ring = np.einsum("ij,kj->ik", opening["points"], frame)
        ring_low, ring_high = column_bounds(ring)
        if (ring_low[1:] >= low[1:]).all() and (ring_high[1:] <= high[1:]).all():
            return True
    return False


def holes_along_directions(
    aligned: np.ndarray, faces: np.ndarray, directions: list[dict], params: dict
) -> list[dict]:
    """Holes along each extra direction (given in the part's frame), each voxelised in
    a frame of its own over the region its edges span (grown across the direction,
    so the walls around a hole are inside it; along the direction the whole part);
    centres and directions are reported in the part's frame."""
    found: list[dict] = []
    pad = 2
    for number, item in enumerate(directions):
        frame = _across(item["direction"])
        local = np.einsum("ij,kj->ik", aligned, frame)
        points = np.einsum("ij,kj->ik", item["points"], frame)
        low, high = column_bounds(local)
        local_extents = high - low
        points_low, points_high = _region_across(points, params)
        low[1:] = np.maximum(low[1:], points_low[1:])
        high[1:] = np.minimum(high[1:], points_high[1:])
        budget = min(float(params["extra_max_voxels"]), float(params["max_voxels"]))
        resolution = _grid_resolution(high - low, params, budget)
        shape = tuple(int(math.ceil(e / resolution)) + 2 * pad for e in high - low)
        grid_tris = ((local - low).astype(np.float32) / np.float32(resolution) + pad)[faces]
        solid = voxelize(grid_tris, shape, int(params["pair_chunk"]))
        axis, angle = _angle_to_axes(frame[0])
        for hole in find_holes(solid, resolution, params, axes=(0,), pad=pad):
            centre = (np.asarray(hole["centre_mm"]) + low) @ frame
            hole.update(
                centre_mm=[round(float(c), 1) for c in centre],
                direction=[round(float(c), 4) for c in frame[0]],
                angle_deg=round(angle, 1),
                direction_id=3 + number,
                voxel_mm=round(resolution, 3),
                section_mm2=float(np.prod(local_extents[1:])),
            )
            hole["axis"] = axis if angle <= params["axis_tolerance_deg"] else None
            hole["along"] = AXIS_NAMES[axis] if hole["axis"] is not None else "inclined"
            found.append(hole)
    return found


def _same_hole(a: dict, b: dict, resolution: float) -> bool:
    """Whether two holes found along different directions are one hole."""
    gap = math.dist(a["centre_mm"], b["centre_mm"])
    size = max(a["diameter_mm"], b["diameter_mm"])
    return gap <= 0.5 * size + 2 * resolution and (
        abs(a["diameter_mm"] - b["diameter_mm"]) <= 0.35 * size
    )


def merge_holes(principal: list[dict], extra: list[dict], resolution: float) -> list[dict]:
    """Principal-axis holes plus the extra-direction ones. Where passes along two
    directions found one hole, the reading along the hole's own direction is kept: the
    one whose slices cover most of its footprint (a hole cut across the grid is seen
    shifted from slice to slice, and reads wide, irregular or broken up)."""
    holes = list(principal)
    for hole in sorted(extra, key=lambda h: -h["coherence"]):
        twins = [i for i, other in enumerate(holes) if _same_hole(hole, other, resolution)]
        if twins and max(holes[i]["coherence"] for i in twins) >= hole["coherence"] - 0.05:
            continue
        for i in sorted(twins, reverse=True):
            holes.pop(i)
        holes.append(hole)
    holes.sort(key=lambda h: -h["volume_mm3"])
    return holes


def _group_parallel(holes: list[dict], within_deg: float) -> None:
    """Number the holes' directions so that holes within *within_deg* of each other
    share a ``parallel_group`` (a row of pins found partly along a frame axis and
    partly along a search direction a few degrees away is still one row)."""
    limit = math.cos(math.radians(within_deg))
    groups: list[np.ndarray] = []
    for hole in holes:
        direction = np.asarray(hole["direction"], dtype=float)
        direction /= max(float(np.linalg.norm(direction)), 1e-12)
        for number, first in enumerate(groups):
            if abs(float(direction @ first)) >= limit:
                hole["parallel_group"] = number
                break
        else:
            hole["parallel_group"] = len(groups)
            groups.append(direction)


STRAY_PASSES = 4  # a flap of up to four triangles hanging off one edge
STRAY_SHARE = 0.01  # more than this share of the faces is an open surface, not strays


def _without_stray_triangles(vertices: np.ndarray, faces: np.ndarray, edges: MeshEdges):
    """The mesh without stray triangles (vertices, faces, their edges) and how many
    were dropped.

    A stray triangle hangs off the surface with two or three of its edges open (an
    export's fin or flap): it encloses nothing, but it makes a closed part read as
    leaky (its open edges, the non-manifold edge it hangs from) and adds a crossing to
    every voxel row through it. Peeled a few passes deep, and only while they are
    under 1 % of the faces: an open surface keeps its open edges and stays leaky.
    Each pass also drops the vertices only strays used, so that a flap's tip
    stretches neither the frame nor the box, and the last pass's edges are the ones
    returned."""
    if not (edges.counts == 1).any():
        return vertices, faces, edges, 0
    kept_vertices, kept, kept_edges = vertices, faces, edges
    for _ in range(STRAY_PASSES):
        open_half = np.empty(len(kept_edges.order), dtype=bool)
        open_half[kept_edges.order] = np.repeat(kept_edges.counts == 1, kept_edges.counts)
        stray = open_half.reshape(-1, 3).sum(axis=1) >= 2
        if not stray.any():
            break
        if len(faces) - len(kept) + np.count_nonzero(stray) > STRAY_SHARE * len(faces):
            return vertices, faces, edges, 0
        used, renumbered = np.unique(kept[~stray], return_inverse=True)
        kept_vertices, kept = kept_vertices[used], renumbered.reshape(-1, 3)
        kept_edges = MeshEdges(kept, len(kept_vertices))
    return kept_vertices, kept, kept_edges, int(len(faces) - len(kept))


def measure(
    vertices: np.ndarray,
    faces: np.ndarray,
    settings: dict | None = None,
    shells: int | None = None,
) -> dict[str, Any]:
    """All geometric features of one mesh (coordinates in millimetres; *shells*, its
    connected shells, when the caller already counted them)."""
    params = dict(DEFAULTS)
    params.update(settings or {})
    features: dict[str, Any] = {"triangles": int(len(faces)), "vertices": int(len(vertices))}
    edges = MeshEdges(faces, len(vertices))
    vertices, faces, edges, features["stray_triangles"] = _without_stray_triangles(
        vertices, faces, edges
    )
    features.update(topology(faces, len(vertices), edges, shells))
    # one cross product per face serves the frame, the areas, the volume and the
    # directions (a rotation turns it with the vertices); float32 halves the memory
    # traffic, sums are accumulated in float64
    tris = vertices.astype(np.float32)[faces]
    cross = _cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    del tris
    doubled_areas = np.sqrt(np.einsum("ij,ij->i", cross, cross))
    normals = cross / np.maximum(doubled_areas, np.float32(1e-30))[:, None]
    aligned, extents, axes = principal_frame(vertices, faces, params, normals, doubled_areas / 2)
    normals = np.einsum("ij,kj->ik", normals, axes.astype(np.float32))
    area = float(doubled_areas.sum(dtype=np.float64) / 2.0)
    scale = max(float(extents.max()), 1e-30)
    zero_area = doubled_areas <= 1e-12 * scale * scale
    if zero_area.all():
        raise InputError(f"degenerate mesh (all {len(faces)} triangles have zero area)")
    features["degenerate_triangles"] = int(zero_area.sum())
    corner = aligned.astype(np.float32)[faces[:, 0]]
    signed_volume = float(
        np.einsum("ij,ij->i", corner, normals * doubled_areas[:, None]).sum(dtype=np.float64) / 6.0
    )
    del corner, cross
    extents = [float(e) for e in extents]
    features["extents_mm"] = [round(e, 2) for e in extents]
    features["length_mm"], features["width_mm"], features["thickness_mm"] = (
        round(e, 2) for e in extents
    )
    features["aspect"] = round(extents[0] / extents[1], 2) if extents[1] > 0 else None
    features["area_mm2"] = round(area, 1)

    box_volume = max(extents[0] * max(extents[1], 1e-9) * max(extents[2], 1e-9), 1e-12)
    resolution = _grid_resolution(extents, params, params["max_voxels"])
    pad = 2
    solid = _solid_grid(aligned, faces, resolution, params, pad)
    voxel_volume = float(solid.sum()) * resolution**3
    volume = abs(signed_volume) if features["watertight"] else voxel_volume
    features["volume_mm3"] = round(volume, 1)
    features["voxel_mm"] = round(resolution, 3)
    features["voxel_volume_mm3"] = round(voxel_volume, 1)
    features["solid_fraction"] = round(min(volume / box_volume, 1.0), 3)
    mean_wall = 2.0 * volume / area if area > 0 else None
    features["mean_wall_mm"] = round(mean_wall, 2) if mean_wall is not None else None
    # walls thin against the part's smallest side: a hollow shell, open or closed
    features["wall_to_size"] = (
        round(mean_wall / extents[2], 3) if mean_wall is not None and extents[2] > 0 else None
    )
    features["end_fill"] = end_fill(solid)
    features["enclosed_void_fraction"] = (
        enclosed_void_fraction(solid, box_volume / resolution**3)
        if features["solid_fraction"] <= 0.5
        else None
    )
    holes = find_holes(solid, resolution, params, pad=pad) if solid.any() else []
    openings = opening_directions(solid, resolution, pad, aligned, faces, doubled_areas, params)
    del solid
    for hole in holes:
        hole.update(direction_id=hole["axis"], angle_deg=0.0)
        hole["direction"] = [float(c) for c in np.eye(3)[hole["axis"]]]
        in_plane = [extents[d] for d in range(3) if d != hole["axis"]]
        hole["section_mm2"] = in_plane[0] * in_plane[1]
    directions = search_directions(aligned, faces, np.eye(3), params, edges, normals)
    directions += [item for item in openings if not _searched(item, directions, params)]
    features["search_directions"] = [
        {
            "direction": [round(float(c), 3) for c in item["direction"]],
            "angle_deg": round(_angle_to_axes(item["direction"])[1], 1),
            "turning_mm": round(item["turning_mm"], 1),
        }
        for item in directions
    ]
    if directions:
        extra = holes_along_directions(aligned, faces, directions, params)
        holes = merge_holes(holes, extra, resolution)
    _group_parallel(holes, float(params["parallel_deg"]))
    largest, largest_axis = 0.0, None
    by_axis = [0.0, 0.0, 0.0]  # the largest void section seen along each axis
    through_by_axis = [False, False, False]  # ... and whether it runs right through
    for hole in holes:
        section = max(hole.pop("section_mm2"), 1e-9)
        fraction = min(math.pi * (hole["diameter_mm"] / 2) ** 2 / section, 1.0)
        if fraction > largest:
            largest, largest_axis = fraction, hole["axis"]
        if hole["axis"] is not None and fraction > by_axis[hole["axis"]]:
            by_axis[hole["axis"]] = fraction
            through_by_axis[hole["axis"]] = bool(hole["through"])
    features["holes"] = holes[: params["max_holes"]]
    features["largest_cavity_fraction"] = round(largest, 3)
    features["largest_cavity_axis"] = largest_axis
    features["cavity_fraction_by_axis"] = [round(f, 3) for f in by_axis]
    # a void enclosed seen along the length or the width: a hollow box or tube, not a
    # tray or duct open on its broad side
    features["side_cavity_fraction"] = round(max(by_axis[0], by_axis[1]), 3)
    # the largest void along the length is open at both ends: a sleeve, not a box
    features["length_through"] = through_by_axis[0]
    return features
