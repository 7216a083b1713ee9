"""Reductions over the columns of (n, 3) arrays, one column at a time.

numpy reduces an (n, 3) array along its first axis (``a.min(axis=0)``,
``np.ptp(a, axis=0)``) through a slow strided loop: for half a million vertices
that takes about 13 ms per reduction, against well under 1 ms per column reduced
on its own. The results are the same numbers (a NaN still carries through).
"""

from __future__ import annotations

import numpy as np


def column_bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of each column, in the array's own dtype."""
    columns = range(points.shape[1])
    low = np.array([points[:, i].min() for i in columns], dtype=points.dtype)
    high = np.array([points[:, i].max() for i in columns], dtype=points.dtype)
    return low, high


def column_extents(points: np.ndarray) -> np.ndarray:
    """``np.ptp(points, axis=0)``, column by column."""
    low, high = column_bounds(points)
    return high - low


def row_min(values: np.ndarray) -> np.ndarray:
    """``values.min(axis=1)`` of an (n, 3) array, as two elementwise minima."""
    return np.minimum(np.minimum(values[:, 0], values[:, 1]), values[:, 2])


def row_max(values: np.ndarray) -> np.ndarray:
    """``values.max(axis=1)`` of an (n, 3) array, as two elementwise maxima."""
    return np.maximum(np.maximum(values[:, 0], values[:, 1]), values[:, 2])
