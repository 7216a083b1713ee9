"""The canonical geometry hash: one SHA-256 for one set of triangles, whatever
file format, header, triangle order or vertex order carried them.

Tolerance, stated once: every coordinate is rounded to IEEE float32 (the
precision of binary STL, a relative step of about 6e-8) and -0.0 is folded to
0.0; two files hash equal when their triangles agree after that rounding. Text
formats written with 9 or more significant digits (or shortest round-trip
output) therefore keep the hash of the binary file they came from; a converter
that rounds coordinates to fewer digits really moved the vertices, and such a
copy is recognised by the shape signature (:mod:`firetrace.refs.signature`)
instead, as a near copy with similarity close to 1.

Canonical form: the triangles are taken as they are (``mesh.triangles``), so
the result does not depend on whether a loader merged vertices. Within a
triangle the three corners are sorted, which makes the hash independent of
cyclic rotation and also of winding: a flipped normal is a repair, not another
design. Degenerate triangles (a repeated corner) and repeated triangles are
dropped, since some loaders drop them and others do not. The triangles are then
sorted, and the hash covers the int32 bit patterns of the float32 coordinates.
"""

from __future__ import annotations

import hashlib

import numpy as np

HASH_VERSION = b"firetrace-geometry-hash-v1\n"


def canonical_triangles(triangles: np.ndarray) -> np.ndarray:
    """The canonical (m, 3, 3) int32 form of ``triangles`` (see the module docstring)."""
    tri = np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 3)
    # +0.0 turns -0.0 into 0.0 so both zeros have one bit pattern.
    coords = tri.astype(np.float32) + np.float32(0.0)
    finite = np.isfinite(coords).all(axis=(1, 2))
    coords = coords[finite]
    if len(coords) == 0:
        return np.zeros((0, 3, 3), dtype=np.int32)
    # Rank every distinct corner in lexicographic order of its bit pattern;
    # ranks make sorting within and across triangles plain integer sorts.
    bits = coords.view(np.int32).reshape(-1, 3)
    corners, rank = np.unique(bits, axis=0, return_inverse=True)
    rank = rank.reshape(-1, 3)
    rank.sort(axis=1)
    keep = (rank[:, 0] != rank[:, 1]) & (rank[:, 1] != rank[:, 2])
    rank = np.unique(rank[keep], axis=0)
    return corners[rank]


def geometry_hash(triangles: np.ndarray) -> str:
    """Hex SHA-256 of the canonical form of ``triangles`` ((n, 3, 3) floats)."""
    canon = canonical_triangles(triangles)
    digest = hashlib.sha256(HASH_VERSION)
    digest.update(len(canon).to_bytes(8, "little"))
    digest.update(np.ascontiguousarray(canon, dtype="<i4").tobytes())
    return digest.hexdigest()
