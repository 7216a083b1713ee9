"""The shape signature: a fixed-length vector that stays put when a design is
re-posed, rescaled, mirrored, remeshed or slightly perturbed, and the distance
and similarity between two such vectors.

The surface is sampled uniformly by area (a fixed seed, so the same file gives
the same vector), centred on its centroid and scaled to unit RMS radius; the
RMS radius itself is kept as the signature's ``size`` so that a match can
report the scale factor between two copies. From the normalised samples come
distributions that ignore rotation, translation, uniform scale and mirroring:
D1 (distance to the centroid), D2 (distance between two points), D3 (square
root of the area of three points) and A3 (angle at the middle of three
points), each stored as its cumulative distribution so that a small shift of
the distribution gives a small distance; plus the normalised eigenvalues of
the sample covariance (how elongated or flat the part is). Subdivision does
not move the surface, decimation and 0.1% noise move it little, so their
distributions barely change.

The vector layout is versioned (:data:`SIGNATURE_VERSION`); stored signatures
and bundles of another version are refused rather than compared. The
threshold and the distance-to-similarity scale are calibrated on the benign
corpus and live in ``rules/refs.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIGNATURE_VERSION = 1

# Sampling: enough points that two samplings of one surface agree closely.
SURFACE_SAMPLES = 16_384
PAIR_SAMPLES = 600_000  # random pairs for D2
TRIPLE_SAMPLES = 200_000  # random triples for D3 and A3
SEED = 20_240_611

# (name, bins, upper bound of the normalised value, weight in the distance)
DISTRIBUTIONS: tuple[tuple[str, int, float, float], ...] = (
    ("d1", 32, 3.0, 1.0),
    ("d2", 48, 4.0, 2.0),
    ("d3", 32, 2.0, 1.0),
    ("a3", 24, float(np.pi), 1.0),
)
MOMENT_WEIGHT = 1.0  # normalised covariance eigenvalues (3 values)


def _layout() -> list[tuple[str, int, float]]:
    """(block name, length, weight) in vector order."""
    blocks = [(name, bins, weight) for name, bins, _, weight in DISTRIBUTIONS]
    return [*blocks, ("moments", 3, MOMENT_WEIGHT)]


def _block_scales() -> np.ndarray:
    """Per-element factor so that a squared Euclidean distance between vectors is
    the weighted mean of each block's mean squared difference."""
    parts = [np.full(length, np.sqrt(weight / length)) for _, length, weight in _layout()]
    return np.concatenate(parts)


BLOCK_SCALES = _block_scales()
SIGNATURE_LENGTH = len(BLOCK_SCALES)
TOTAL_WEIGHT = float(sum(weight for _, _, weight in _layout()))


@dataclass(frozen=True)
class Signature:
    """A shape signature: ``vector`` (scaled, ready for Euclidean distance),
    ``size`` (RMS radius of the surface in the file's units) and ``faces``."""

    vector: np.ndarray
    size: float
    faces: int
    version: int = SIGNATURE_VERSION


def sample_surface(triangles: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points uniformly distributed by area over ``triangles`` (n, 3, 3)."""
    a = triangles[:, 0]
    ab = triangles[:, 1] - a
    ac = triangles[:, 2] - a
    # The cross product written out: np.cross is several times slower here.
    cx = ab[:, 1] * ac[:, 2] - ab[:, 2] * ac[:, 1]
    cy = ab[:, 2] * ac[:, 0] - ab[:, 0] * ac[:, 2]
    cz = ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]
    areas = np.sqrt(cx * cx + cy * cy + cz * cz)
    total = areas.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("the mesh has no surface area")
    cumulative = np.cumsum(areas)
    # Stratified picks: one uniform draw in each of ``count`` equal slices of the
    # total area, so every large triangle gets its fair share of points; this
    # cuts the sampling noise between two copies of one surface.
    strata = (np.arange(count) + rng.random(count)) / count
    picks = np.searchsorted(cumulative, strata * cumulative[-1], side="right")
    picks = np.minimum(picks, len(areas) - 1)
    u, v = rng.random((2, count))
    outside = u + v > 1.0
    u[outside], v[outside] = 1.0 - u[outside], 1.0 - v[outside]
    return a[picks] + ab[picks] * u[:, None] + ac[picks] * v[:, None]


def _cdf(values: np.ndarray, bins: int, upper: float) -> np.ndarray:
    clipped = np.clip(values, 0.0, upper * (1 - 1e-9))
    hist = np.bincount((clipped / upper * bins).astype(np.int64), minlength=bins)[:bins]
    return np.cumsum(hist) / max(len(values), 1)


def compute_signature(triangles: np.ndarray) -> Signature:
    """The signature of a mesh given as its triangles ((n, 3, 3) floats)."""
    tri = np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 3)
    finite = np.isfinite(tri).all(axis=(1, 2))
    if not finite.all():
        tri = tri[finite]
    if len(tri) == 0:
        raise ValueError("the mesh has no triangles")
    rng = np.random.default_rng(SEED)
    points = sample_surface(tri, SURFACE_SAMPLES, rng)
    points = points - points.mean(axis=0)
    size = float(np.sqrt((points**2).sum(axis=1).mean()))
    if not np.isfinite(size) or size <= 0:
        raise ValueError("the mesh has no extent")
    points /= size

    # Coordinates as float32 columns: half the memory traffic of the gathers
    # below, and far more precision than a histogram bin needs.
    x, y, z = points.T.astype(np.float32)
    radial = np.sqrt(x * x + y * y + z * z)
    first, second = rng.integers(0, len(points), size=(2, PAIR_SAMPLES))
    first, second = first[first != second], second[first != second]
    dx, dy, dz = x[first] - x[second], y[first] - y[second], z[first] - z[second]
    pair_distances = np.sqrt(dx * dx + dy * dy + dz * dz)
    i, j, k = rng.integers(0, len(points), size=(3, TRIPLE_SAMPLES))
    valid = (i != j) & (j != k) & (i != k)
    i, j, k = i[valid], j[valid], k[valid]
    ax, ay, az = x[i] - x[j], y[i] - y[j], z[i] - z[j]  # from the middle point j
    cx, cy, cz = x[k] - x[j], y[k] - y[j], z[k] - z[j]
    nx, ny, nz = ay * cz - az * cy, az * cx - ax * cz, ax * cy - ay * cx
    cross = np.sqrt(nx * nx + ny * ny + nz * nz)
    dot = ax * cx + ay * cy + az * cz
    triangle_area_root = np.sqrt(0.5 * cross)
    angles = np.arctan2(cross, dot)

    values = {"d1": radial, "d2": pair_distances, "d3": triangle_area_root, "a3": angles}
    blocks = [_cdf(values[name], bins, upper) for name, bins, upper, _ in DISTRIBUTIONS]

    # Covariance eigenvalues sum to 1 after RMS normalisation; sorted so the
    # order of the axes in the file does not matter.
    covariance = points.T @ points / len(points)
    # (Extents along the principal axes were tried and dropped: when two
    # eigenvalues are close the axes swing and the extents are mostly noise.)
    moments = np.clip(np.sort(np.linalg.eigvalsh(covariance))[::-1], 0.0, None)
    blocks.append(moments)

    vector = np.concatenate(blocks) * BLOCK_SCALES
    return Signature(vector=vector.astype(np.float32), size=size, faces=len(tri))


def signature_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Weighted RMS difference between two signature vectors (0 = identical)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(np.sqrt((diff**2).sum() / TOTAL_WEIGHT))


def similarity_from_distance(distance: np.ndarray | float, scale: float) -> np.ndarray | float:
    """Map a signature distance to a similarity in [0, 1]: 1 at distance 0,
    falling smoothly; ``scale`` (from ``rules/refs.toml``) sets how fast."""
    return np.exp(-((np.asarray(distance) / scale) ** 2))
