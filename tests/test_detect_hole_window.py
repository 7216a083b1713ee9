"""Hole finding searches only the box around candidate voxels: these tests check
that the windowed search finds the same holes as the definition, wherever the
holes sit in the grid (at its edge, deep inside, or in a part padded with air)."""

from __future__ import annotations

import numpy as np
import pytest

from firetrace.detect.features import DEFAULTS, _between_solids, find_holes

RESOLUTION = 0.5


def block_with_holes() -> np.ndarray:
    """A 40 x 24 x 20 voxel block: a square through-hole along axis 0, a blind
    round hole along axis 2 and a slot along axis 1 open at the block's side."""
    solid = np.ones((40, 24, 20), dtype=bool)
    solid[:, 4:10, 4:10] = False  # through-hole, 6 x 6 voxels, along axis 0
    y, x = np.mgrid[0:24, 0:40]
    disc = (x - 28.5) ** 2 + (y - 15.5) ** 2 <= 4.0**2
    solid[:, :, 8:20][disc.T] = False  # blind round hole from the top face, 12 deep
    solid[2:6, :, 14:18] = False  # slot running the whole width (axis 1)
    return solid


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_between_solids_matches_its_definition(axis):
    rng = np.random.default_rng(axis)
    solid = rng.random((17, 13, 11)) < 0.15
    solid[:, 0, :] = False  # some lines without any solid voxel
    after_first = np.cumsum(solid, axis=axis) > 0
    before_last = np.flip(np.cumsum(np.flip(solid, axis=axis), axis=axis) > 0, axis=axis)
    assert np.array_equal(_between_solids(solid, axis), after_first & before_last)


def test_block_holes_measured():
    holes = find_holes(block_with_holes(), RESOLUTION, dict(DEFAULTS))
    through = [h for h in holes if h["axis"] == 0 and h["shape"] == "rect"]
    assert len(through) == 1
    assert through[0]["through"] is True
    assert through[0]["width_mm"] == through[0]["height_mm"] == 6 * RESOLUTION
    assert through[0]["length_mm"] == 40 * RESOLUTION
    assert through[0]["volume_mm3"] == pytest.approx(40 * 36 * RESOLUTION**3, abs=0.1)
    blind = [h for h in holes if h["axis"] == 2 and h["shape"] == "round"]
    assert len(blind) == 1
    assert blind[0]["open_ends"] == 1
    assert blind[0]["length_mm"] == 12 * RESOLUTION
    assert 7.0 * RESOLUTION <= blind[0]["diameter_mm"] <= 9.0 * RESOLUTION


@pytest.mark.parametrize("pad", [(0, 0, 0), (1, 5, 0), (7, 3, 9)])
def test_holes_do_not_depend_on_where_the_part_sits(pad):
    solid = block_with_holes()
    reference = find_holes(solid, RESOLUTION, dict(DEFAULTS))
    padded = np.pad(solid, [(p, 2) for p in pad], constant_values=False)
    moved = find_holes(padded, RESOLUTION, dict(DEFAULTS))
    assert len(moved) == len(reference) > 0
    for before, after in zip(reference, moved, strict=True):
        centre = zip(before["centre_mm"], pad, strict=True)
        shift = [round(c + p * RESOLUTION, 1) for c, p in centre]
        assert after["centre_mm"] == shift
        assert {k: v for k, v in after.items() if k != "centre_mm"} == {
            k: v for k, v in before.items() if k != "centre_mm"
        }
