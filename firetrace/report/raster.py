"""A small numpy triangle rasteriser with a z-buffer, for offscreen pictures.

:func:`rasterise` scan-converts triangles already projected to pixel
coordinates and returns, per pixel, the nearest face and its depth. Triangles
are grouped by the size of their pixel bounding box (powers of two) so every
group is processed as one dense numpy block; the z-test is a single
``np.minimum.at`` over keys that pack the quantised depth above the face index.
:func:`cluster_vertices` decimates a large mesh for the picture only (vertex
clustering on a grid about one pixel wide), which keeps the silhouette and the
features an examiner looks at while bounding the work per picture.
"""

from __future__ import annotations

import numpy as np

_BACKGROUND_KEY = np.iinfo(np.int64).max
_DEPTH_LEVELS = (1 << 31) - 1
# Candidate pixels handled per numpy block: large enough to amortise the
# per-call overhead, small enough to stay within a few tens of MB.
_BLOCK_CANDIDATES = 1 << 20
# Barycentric tolerance so pixel centres exactly on a shared edge are never lost.
_EDGE_EPSILON = 1e-7


def rasterise(
    xy: np.ndarray, depth: np.ndarray, faces: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest face per pixel for projected triangles.

    ``xy`` holds vertex positions in pixels (x right, y down, pixel centres at
    ``i + 0.5``), ``depth`` the distance from the viewer (smaller is nearer).
    Returns ``(face_index, depth01)``, both ``(height, width)``: the face index
    is -1 on the background and the depth is normalised to [0, 1] (1 on the
    background).
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
    z0, z1, z2 = tz[live, 0], tz[live, 1], tz[live, 2]
    da = (z0 - z2) * a0 + (z1 - z2) * a1
    db = (z0 - z2) * b0 + (z1 - z2) * b1
    dc = (z0 - z2) * c0 + (z1 - z2) * c1 + z2
    planes = np.stack([a0, b0, c0, a1, b1, c1, da, db, dc], axis=1)

    ix0, ix1, iy0, iy1 = ix0[live], ix1[live], iy0[live], iy1[live]
    wbits = np.ceil(np.log2(ix1 - ix0 + 1)).astype(np.int64)
    hbits = np.ceil(np.log2(iy1 - iy0 + 1)).astype(np.int64)
    group_key = wbits * 64 + hbits
    order = np.argsort(group_key, kind="stable")
    bounds = np.flatnonzero(np.diff(group_key[order])) + 1
    keys = np.full(height * width, _BACKGROUND_KEY, dtype=np.int64)

    for members in np.split(order, bounds):
        kw = 1 << int(wbits[members[0]])
        kh = 1 << int(hbits[members[0]])
        off_x = np.tile(np.arange(kw), kh)
        off_y = np.repeat(np.arange(kh), kw)
        per_block = max(1, _BLOCK_CANDIDATES // (kw * kh))
        for start in range(0, len(members), per_block):
            tri = members[start : start + per_block]
            px = ix0[tri, None] + off_x
            py = iy0[tri, None] + off_y
            cx, cy = px + 0.5, py + 0.5
            p = planes[tri]
            l0 = p[:, 0, None] * cx + p[:, 1, None] * cy + p[:, 2, None]
            l1 = p[:, 3, None] * cx + p[:, 4, None] * cy + p[:, 5, None]
            covered = (
                (px <= ix1[tri, None])
                & (py <= iy1[tri, None])
                & (l0 >= -_EDGE_EPSILON)
                & (l1 >= -_EDGE_EPSILON)
                & (l0 + l1 <= 1.0 + _EDGE_EPSILON)
            )
            if not covered.any():
                continue
            z = p[:, 6, None] * cx + p[:, 7, None] * cy + p[:, 8, None]
            zq = (np.clip(z[covered], 0.0, 1.0) * _DEPTH_LEVELS).astype(np.int64)
            face = np.broadcast_to(live[tri, None], px.shape)[covered]
            pixel = (py * width + px)[covered]
            np.minimum.at(keys, pixel, (zq << 32) | face)

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
