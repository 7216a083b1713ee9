"""The canonical geometry hash: one SHA-256 for one set of triangles, whatever
file format, header, triangle order or vertex order carried them.

Tolerance, stated once: every coordinate is rounded to IEEE float32 (the
precision of binary STL, a relative step of about 1.2e-7), coordinates smaller
than one float32 step at the mesh's largest coordinate (|x| < max|x| * 2^-23,
float noise around zero such as 5.3e-15) are set to 0, and -0.0 is folded to
0.0; two files hash equal when their triangles agree after that. Text
formats written with 9 or more significant digits (or shortest round-trip
output) therefore keep the hash of the binary file they came from; a converter
that rounds coordinates to fewer digits really moved the vertices, and such a
copy is recognised by the shape signature (:mod:`firetrace.refs.signature`)
instead, as a near copy with similarity close to 1.

Canonical form: the triangles are taken as they are (``mesh.triangles``), so
the result does not depend on whether a loader merged vertices. Each corner's
three float32 bit patterns are mixed into a 64-bit corner key; within a
triangle the corners are put in key order, which makes the hash independent of
cyclic rotation and also of winding (a flipped normal is a repair, not another
design). The three ordered keys are mixed into a 64-bit triangle digest.
Degenerate triangles (a repeated corner) and repeated triangles are dropped,
since some loaders drop them and others do not. The SHA-256 covers the sorted
triangle digests: a multiset hash that costs a few vectorised passes and one
integer sort, well under a second for a million triangles (sorting the
coordinate rows themselves took tens of seconds).
"""

from __future__ import annotations

import hashlib

import numpy as np

HASH_VERSION = b"firetrace-geometry-hash-v1\n"

# splitmix64 constants: a well-studied 64-bit mixer, applied elementwise.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    h = h ^ (h >> np.uint64(30))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(27))
    h = h * _MIX2
    return h ^ (h >> np.uint64(31))


def _chain(keys: np.ndarray) -> np.ndarray:
    """Order-sensitive digest of the last axis of a uint64 array."""
    digest = _mix(keys[..., 0] + _GOLDEN)
    for column in range(1, keys.shape[-1]):
        digest = _mix((digest + _GOLDEN) ^ keys[..., column])
    return digest


def triangle_digests(triangles: np.ndarray) -> np.ndarray:
    """Sorted, de-duplicated 64-bit digests of the non-degenerate triangles of
    ``triangles`` ((n, 3, 3) floats), each independent of its corner order."""
    tri = np.asarray(triangles).reshape(-1, 3, 3)
    # +0.0 turns -0.0 into 0.0 so both zeros have one bit pattern.
    coords = tri.astype(np.float32) + np.float32(0.0)
    finite = np.isfinite(coords).all(axis=(1, 2))
    if not finite.all():
        coords = coords[finite]
    # Coordinates below the float32 step at the mesh's largest coordinate are
    # float noise around zero (CAD exporters write 5.3e-15 for 0); fixed-decimal
    # text formats and vertex merging change them, so they count as zero.
    if len(coords):
        floor = np.abs(coords).max() * np.float32(2.0**-23)
        coords[np.abs(coords) < floor] = np.float32(0.0)
    bits = coords.view(np.uint32)  # (n, 3, 3)
    # x and y share one 64-bit word, z is mixed in after: two mixing passes.
    xy = (bits[..., 0].astype(np.uint64) << np.uint64(32)) | bits[..., 1]
    corner_keys = _mix(_mix(xy + _GOLDEN) ^ bits[..., 2])  # (n, 3)
    corner_keys.sort(axis=1)
    keep = (corner_keys[:, 0] != corner_keys[:, 1]) & (corner_keys[:, 1] != corner_keys[:, 2])
    digests = np.sort(_chain(corner_keys[keep]))
    # np.unique is far slower than sort + compare on large uint64 arrays.
    return digests[np.concatenate(([True], digests[1:] != digests[:-1]))]


def geometry_hash(triangles: np.ndarray) -> str:
    """Hex SHA-256 of the canonical form of ``triangles`` ((n, 3, 3) floats)."""
    digests = triangle_digests(triangles)
    digest = hashlib.sha256(HASH_VERSION)
    digest.update(len(digests).to_bytes(8, "little"))
    digest.update(np.ascontiguousarray(digests, dtype="<u8").tobytes())
    return digest.hexdigest()
