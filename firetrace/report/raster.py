"""A small numpy triangle rasteriser with a z-buffer, for offscreen pictures.

:func:`rasterise` scan-converts triangles already projected to pixel
coordinates and returns, per pixel, the nearest face and its depth. Triangles
are cut into one span per pixel row (where the row's pixel centres satisfy
the three edge inequalities), so only covered pixels are ever generated, in
dense numpy blocks; the z-test is a single ``np.minimum.at`` over keys that
pack the quantised depth above the face index.
:func:`cluster_vertices` decimates a large mesh for the picture only (vertex
clustering on a grid about one pixel wide), which keeps the silhouette and the
features an examiner looks at while bounding the work per picture.
"""

from __future__ import annotations

import numpy as np

_BACKGROUND_KEY = np.iinfo(np.int64).max
_DEPTH_LEVELS = (1 << 31) - 1
# Pixels handled per numpy block: large enough to amortise the per-call
# overhead, small enough to stay within a few tens of MB.
_BLOCK_CANDIDATES = 1 << 20
# Barycentric tolerance so pixel centres exactly on a shared edge are never lost.
_EDGE_EPSILON = 1e-7


def rasterise(
    xy: np.ndarray,
    depth: np.ndarray,
    faces: np.ndarray,
    width: int,
    height: int,
    *,
    behind: np.ndarray | None = None,
    gap: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest face per pixel for projected triangles.

    ``xy`` holds vertex positions in pixels (x right, y down, pixel centres at
    ``i + 0.5``), ``depth`` the distance from the viewer (smaller is nearer).
    Returns ``(face_index, depth01)``, both ``(height, width)``: the face index
    is -1 on the background and the depth is normalised to [0, 1] (1 on the
    background). With ``behind`` (a depth01 picture from an earlier call) only
    surfaces more than ``gap`` behind it count: the next layer of a depth peel,
    which is how hidden edges are found.
    """
    faces = np.asarray(faces, dtype=np.int64)
    face_ids = np.full(height * width, -1, dtype=np.int64)
    depth01 = np.ones(height * width, dtype=np.float64)
    if len(faces) == 0:
        return face_ids.reshape(height, width), depth01.reshape(height, width)

    zmin, zmax = float(depth.min()), float(depth.max())
    zspan = zmax - zmin if zmax > zmin else 1.0
    tx = xy[faces, 0].astype(np.float64)
    ty = xy[faces, 1].astype(np.float64)
    tz = (depth[faces].astype(np.float64) - zmin) / zspan

    x0, x1, x2 = tx[:, 0], tx[:, 1], tx[:, 2]
    y0, y1, y2 = ty[:, 0], ty[:, 1], ty[:, 2]
    area2 = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    ix0 = np.maximum(np.ceil(tx.min(axis=1) - 0.5), 0).astype(np.int64)
    ix1 = np.minimum(np.floor(tx.max(axis=1) - 0.5), width - 1).astype(np.int64)
    iy0 = np.maximum(np.ceil(ty.min(axis=1) - 0.5), 0).astype(np.int64)
    iy1 = np.minimum(np.floor(ty.max(axis=1) - 0.5), height - 1).astype(np.int64)
    # Edge-on triangles and those covering no pixel centre draw nothing.
    live = np.flatnonzero((np.abs(area2) > 1e-12) & (ix1 >= ix0) & (iy1 >= iy0))
    if len(live) == 0:
        return face_ids.reshape(height, width), depth01.reshape(height, width)

    inv = 1.0 / area2[live]
    x0, x1, x2, y0, y1, y2 = (a[live] for a in (x0, x1, x2, y0, y1, y2))
    # Barycentric coordinates and depth are affine in (px, py): l = a*px + b*py + c.
    a0, b0 = -(y2 - y1) * inv, (x2 - x1) * inv
    c0 = ((y2 - y1) * x1 - (x2 - x1) * y1) * inv
    a1, b1 = -(y0 - y2) * inv, (x0 - x2) * inv
    c1 = ((y0 - y2) * x2 - (x0 - x2) * y2) * inv
    edges = ((a0, b0, c0), (a1, b1, c1), (-a0 - a1, -b0 - b1, 1.0 - c0 - c1))
    z0, z1, z2 = tz[live, 0], tz[live, 1], tz[live, 2]
    da = (z0 - z2) * a0 + (z1 - z2) * a1
    db = (z0 - z2) * b0 + (z1 - z2) * b1
    dc = (z0 - z2) * c0 + (z1 - z2) * c1 + z2
    ix0, ix1, iy0, iy1 = ix0[live], ix1[live], iy0[live], iy1[live]

    # One span per (triangle, pixel row): where the row's pixel centres satisfy
    # all three edge inequalities l(px) = a*px + rest >= 0. Only covered pixels
    # are ever generated, however large or thin the triangle.
    rows_per = iy1 - iy0 + 1
    tri = np.repeat(np.arange(len(live)), rows_per)
    first_row = np.cumsum(rows_per) - rows_per
    cy = (iy0[tri] + (np.arange(len(tri)) - first_row[tri])).astype(np.float64) + 0.5
    lo = np.full(len(tri), -np.inf)
    hi = np.full(len(tri), np.inf)
    empty = np.zeros(len(tri), dtype=bool)
    for a, b, c in edges:
        slope = a[tri]
        rest = b[tri] * cy + c[tri] + _EDGE_EPSILON
        flat = slope == 0
        bound = -rest / np.where(flat, 1.0, slope)
        np.maximum(lo, np.where(slope > 0, bound, -np.inf), out=lo)
        np.minimum(hi, np.where(slope < 0, bound, np.inf), out=hi)
        empty |= flat & (rest < 0)
    with np.errstate(invalid="ignore"):
        start = np.maximum(np.ceil(lo - 0.5), ix0[tri])
        stop = np.minimum(np.floor(hi - 0.5), ix1[tri])
    count = np.where(empty | ~(stop >= start), 0, stop - start + 1).astype(np.int64)
    start = np.where(count > 0, start, 0).astype(np.int64)

    keys = np.full(height * width, _BACKGROUND_KEY, dtype=np.int64)
    ends = np.cumsum(count)
    cuts = np.searchsorted(ends, np.arange(_BLOCK_CANDIDATES, ends[-1], _BLOCK_CANDIDATES))
    for rows in np.split(np.arange(len(tri)), np.unique(cuts)):
        n = count[rows]
        total = int(n.sum())
        if total == 0:
            continue
        row = np.repeat(rows, n)
        offset = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        px = start[row] + offset
        t = tri[row]
        py_centre = cy[row]
        z = da[t] * (px + 0.5) + db[t] * py_centre + dc[t]
        pixel = (py_centre - 0.5).astype(np.int64) * width + px
        if behind is not None:
            deeper = z > behind.reshape(-1)[pixel] + gap
            z, pixel, t = z[deeper], pixel[deeper], t[deeper]
        zq = (np.clip(z, 0.0, 1.0) * _DEPTH_LEVELS).astype(np.int64)
        np.minimum.at(keys, pixel, (zq << 32) | live[t])

    drawn = keys != _BACKGROUND_KEY
    face_ids[drawn] = keys[drawn] & 0xFFFFFFFF
    depth01[drawn] = (keys[drawn] >> 32) / _DEPTH_LEVELS
    return face_ids.reshape(height, width), depth01.reshape(height, width)


def cluster_vertices(
    vertices: np.ndarray, faces: np.ndarray, cell: float
) -> tuple[np.ndarray, np.ndarray]:
    """Decimate by merging all vertices in each grid cell of size ``cell``.

    Faces that collapse to a line or point are dropped, and faces that end up
    on the same three clusters are kept once. Also merges the duplicated
    vertices of unindexed (STL-style) meshes.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    cells = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    span = cells.max(axis=0) + 1
    cell_key = cells[:, 0] + span[0] * (cells[:, 1] + span[1] * cells[:, 2])
    _, cluster = np.unique(cell_key, return_inverse=True)
    cluster = cluster.ravel()
    count = np.bincount(cluster)
    merged = np.stack(
        [np.bincount(cluster, weights=vertices[:, i]) / count for i in range(3)], axis=1
    )
    f = cluster[faces]
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]
    # Clusters can line up three merged vertices; such slivers have no area and
    # a meaningless normal, which would draw as stray crease dots.
    tri = merged[f]
    area2 = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    f = f[area2 > 1e-6 * cell * cell]
    if len(f) == 0:
        return merged, f
    s = np.sort(f, axis=1)
    n = len(merged)
    if n < 2_000_000:  # n**3 fits in int64: one scalar key per face sorts fastest
        _, first = np.unique((s[:, 0] * n + s[:, 1]) * n + s[:, 2], return_index=True)
    else:
        _, first = np.unique(s, axis=0, return_index=True)
    return merged, f[np.sort(first)]
