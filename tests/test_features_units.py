"""Each function of firetrace.detect.features on small hand-made grids and meshes
(trimesh primitives of a few hundred faces at most), with exact values: counts,
dimensions, flags, shapes. Fast enough (well under a second in all) to be the
mutation-testing selection of the module (issue 17.8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from firetrace.detect import features as F
from firetrace.detect.directions import MeshEdges, clusters, signed
from firetrace.errors import InputError

P = dict(F.DEFAULTS)


def _cut(base, *tools):
    return trimesh.boolean.difference([base, *tools], engine="manifold")


def _cylinder(radius, height, axis="z", sections=16):
    mesh = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
    if axis == "x":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    return mesh


BOX = trimesh.creation.box((10, 6, 4))
# a 14 x 9 x 7 block bored through its length by a 16-sided prism of radius 2.5
TUBE = _cut(trimesh.creation.box((14, 9, 7)), _cylinder(2.5, 20, "x"))
BORE_AREA = 0.5 * 16 * 2.5**2 * math.sin(2 * math.pi / 16)
# a 30 x 20 x 12 block with the same bore through its thickness, turned 30 degrees
_tilted = _cylinder(2.5, 40)
_tilted.apply_transform(trimesh.transformations.rotation_matrix(np.radians(30), [1, 0, 0]))
INCLINED = _cut(trimesh.creation.box((30, 20, 12)), _tilted)
# a flat bar with a ring hanging off its end, the ring's plane turned 20 degrees
_ring = trimesh.creation.torus(
    major_radius=7, minor_radius=1.5, major_sections=32, minor_sections=8
)
_ring.apply_transform(trimesh.transformations.rotation_matrix(np.radians(20), [1, 0, 0]))
_ring.apply_translation((26, 0, 0))
RING = trimesh.boolean.union([trimesh.creation.box((40, 10, 4)), _ring], engine="manifold")


def _grid_cube(low, high):
    """Triangles of an axis-aligned cube from *low* to *high* (grid units)."""
    cube = trimesh.creation.box((high - low,) * 3)
    return cube.vertices + (high + low) / 2, cube.faces


# ---------------------------------------------------------------- topology


def test_cross_is_the_row_wise_cross_product():
    rng = np.random.default_rng(1)
    a, b = rng.integers(-9, 9, (20, 3)).astype(float), rng.integers(-9, 9, (20, 3)).astype(float)
    assert np.array_equal(F._cross(a, b), np.cross(a, b))


def _closed(chi, genus, bodies=1):
    return {
        "open_edge_fraction": 0.0,
        "bodies": bodies,
        "boundary_edges": 0,
        "nonmanifold_edges": 0,
        "watertight": True,
        "euler_characteristic": chi,
        "genus": genus,
    }


def test_topology_of_closed_meshes():
    assert F.topology(BOX.faces, len(BOX.vertices)) == _closed(2, 0)
    assert F.topology(TUBE.faces, len(TUBE.vertices)) == _closed(0, 1)
    other = BOX.copy()
    other.apply_translation((20, 0, 0))
    two = trimesh.util.concatenate([BOX, other])
    assert F.topology(two.faces, len(two.vertices)) == _closed(4, 0, bodies=2)
    # a vertex no face uses counts neither in chi nor as a body
    assert F.topology(BOX.faces, len(BOX.vertices) + 1) == _closed(2, 0)
    # edges and bodies counted by the caller
    edges = MeshEdges(TUBE.faces, len(TUBE.vertices))
    assert F.topology(TUBE.faces, len(TUBE.vertices), edges) == _closed(0, 1)
    assert F.topology(BOX.faces, len(BOX.vertices), bodies=2) == _closed(2, 1, bodies=2)
    assert F.topology(BOX.faces, len(BOX.vertices), bodies=3) == _closed(2, 2, bodies=3)
    # the genus is a whole number, written as one in the records
    assert type(F.topology(TUBE.faces, len(TUBE.vertices))["genus"]) is int


def _leaky(edges, boundary, nonmanifold, chi):
    return {
        "open_edge_fraction": round((boundary + nonmanifold) / edges, 5),
        "bodies": 1,
        "boundary_edges": boundary,
        "nonmanifold_edges": nonmanifold,
        "watertight": False,
        "euler_characteristic": chi,
        "genus": None,
    }


def test_topology_of_open_and_non_manifold_meshes():
    # one triangle missing: its three edges are open
    assert F.topology(BOX.faces[1:], len(BOX.vertices)) == _leaky(18, 3, 0, 8 - 18 + 11)
    # a fin on one of the box's edges: that edge has three faces, the fin two open edges
    a, b = BOX.faces[0][:2]
    faces = np.vstack([BOX.faces, [[a, b, 8]]])
    assert F.topology(faces, 9) == _leaky(20, 2, 1, 9 - 20 + 13)
    # a triangle collapsed to one vertex: its one edge, three times over, is all there is
    assert F.topology(np.array([[0, 0, 0]]), 1) == {**_leaky(1, 0, 1, 1), "open_edge_fraction": 1.0}


# ---------------------------------------------------------------- frame and grid


def test_principal_frame_puts_a_turned_box_in_its_own_frame():
    turn = trimesh.transformations.rotation_matrix(0.7, [1, 2, 3])[:3, :3]
    vertices = BOX.vertices @ turn.T + [5.0, -3.0, 11.0]
    aligned, extents, axes = F.principal_frame(vertices, BOX.faces, P)
    assert extents == pytest.approx([10, 6, 4], abs=1e-9)
    assert aligned.min(axis=0) == pytest.approx([0, 0, 0], abs=1e-12)
    assert axes @ axes.T == pytest.approx(np.eye(3), abs=1e-9)
    assert np.linalg.det(axes) == pytest.approx(1.0)
    assert aligned == pytest.approx(vertices @ axes.T - (vertices @ axes.T).min(axis=0))


def test_grid_resolution_takes_the_coarsest_of_its_three_bounds():
    extents = np.array([10.0, 6.0, 4.0])
    assert F._grid_resolution(extents, P, P["max_voxels"]) == 0.3
    fine = {**P, "min_resolution_mm": 0.01}
    assert F._grid_resolution(extents, fine, 3_000_000) == pytest.approx((240 / 3e6) ** (1 / 3))
    assert F._grid_resolution(extents, fine, 240) == pytest.approx(1.0)
    assert F._grid_resolution(extents, {**fine, "max_cells_per_axis": 5}, 3e6) == 2.0
    # flat or empty boxes: each side counts as at least 1e-9
    endless = {**fine, "max_cells_per_axis": 1e9, "min_resolution_mm": 0.0}
    assert F._grid_resolution([1000.0, 1000.0, 0.0], endless, 1e-3) == pytest.approx(1.0)
    assert F._grid_resolution([10.0, 0.0, 0.0], endless, 1.0) == pytest.approx(1e-4)
    assert F._grid_resolution([0.0, 0.0, 0.0], {**fine, "min_resolution_mm": 0}, 1e30) == (
        pytest.approx(1e-9 / 400)
    )


def test_solid_grid_of_a_box():
    aligned, _, _ = F.principal_frame(BOX.vertices, BOX.faces, P)
    solid = F._solid_grid(aligned, BOX.faces, 1.0, {**P, "pair_chunk": 50}, 2)
    assert solid.shape == (14, 10, 8)
    assert solid.sum() == 240 and solid[2:12, 2:8, 2:6].all()
    assert F._solid_grid(aligned, BOX.faces, 2.0, P, 1).shape == (7, 5, 4)


def test_voxelize_fills_cubes_on_their_voxel_centres():
    vertices, faces = _grid_cube(1.0, 5.0)
    for chunk in (1, 7, 10_000):
        solid = F.voxelize(vertices[faces], (6, 6, 6), chunk)
        assert solid.dtype == bool and solid.sum() == 64 and solid[1:5, 1:5, 1:5].all()
    # a cube whose faces sit on voxel centres keeps the centres of its upper faces
    vertices, faces = _grid_cube(1.5, 4.5)
    solid = F.voxelize(vertices[faces], (7, 7, 7), 100)
    assert solid.sum() == 27 and solid[2:5, 2:5, 2:5].all()
    vertices, faces = _grid_cube(1.6, 4.4)
    solid = F.voxelize(vertices[faces], (6, 6, 6), 100)
    assert solid.sum() == 8 and solid[2:4, 2:4, 2:4].all()
    # cut off by the grid's sides
    vertices, faces = _grid_cube(-2.0, 9.0)
    assert F.voxelize(vertices[faces], (4, 5, 6), 100).all()
    # wholly above the grid, or wholly below it: nothing
    vertices, faces = _grid_cube(7.0, 9.0)
    assert not F.voxelize(vertices[faces], (10, 10, 6), 100).any()
    assert not F.voxelize(vertices[faces] - 10.0, (10, 10, 6), 100).any()
    # between two voxel planes (or rows): nothing
    vertices, faces = _grid_cube(1.6, 1.9)
    assert not F.voxelize(vertices[faces], (4, 4, 4), 100).any()
    flat = np.array([[[0.0, 1.6, 1.0], [4.0, 1.6, 3.0], [4.0, 1.9, 1.0]]])
    assert not F.voxelize(flat, (4, 4, 4), 100).any()


def test_voxelize_rows_whose_crossings_do_not_pair_up():
    vertices, faces = _grid_cube(1.0, 5.0)
    far = np.isclose(vertices[faces][:, :, 0], 5.0).all(axis=1)
    # the far wall missing: no row closes, none is filled
    assert not F.voxelize(vertices[faces[~far]], (6, 6, 6), 100).any()
    # half of it missing: the rows through the other half are whole, the others empty
    half = faces[~far | (np.cumsum(far) == 1)]
    solid = F.voxelize(vertices[half], (6, 6, 6), 100)
    per_row = solid.sum(axis=0)
    assert solid.sum() == 40 and set(per_row[1:5, 1:5].ravel()) == {0, 4}
    # a fin inside the cube crossing some rows once more: those are filled wall to wall
    fin = np.array([[[3.2, 0.0, 0.0], [3.2, 9.0, 0.0], [3.2, 0.0, 9.0]]])
    for chunk in (1, 100):  # the counts summed over chunks
        solid = F.voxelize(np.concatenate([vertices[faces], fin]), (6, 6, 6), chunk)
        assert solid.sum() == 64 and solid[1:5, 1:5, 1:5].all()


def test_voxelize_two_parts_past_either_end_of_the_scan_line():
    # one box from before the first voxel centre along x, one past the last: each
    # row crosses a surface in the grid's first and last count cells, with a gap
    # between the boxes, so the parity must run from the first cell to the last
    def box(low, high):
        mesh = trimesh.creation.box(np.subtract(high, low))
        return mesh.vertices[mesh.faces] + np.add(high, low) / 2

    triangles = np.concatenate([box((-2.0, 1, 1), (1.0, 5, 5)), box((4.0, 1, 1), (9.0, 5, 5))])
    for chunk in (1, 100):
        solid = F.voxelize(triangles, (6, 6, 6), chunk)
        assert solid.sum() == 48 and solid[:, 1:5, 1:5].all(axis=(1, 2)).tolist() == [
            True, False, False, False, True, True,
        ]  # fmt: skip
    # a fin between the boxes crossing the rows with y + z < 6.5 once more: only those
    # are filled from their first crossing to their last, the others keep the gap
    fin = np.array([[[3.2, 0.0, 0.0], [3.2, 6.5, 0.0], [3.2, 0.0, 6.5]]])
    solid = F.voxelize(np.concatenate([triangles, fin]), (6, 6, 6), 100)
    row, layer = np.mgrid[1:5, 1:5] + 0.5
    per_row = solid[:, 1:5, 1:5].sum(axis=0)
    assert (per_row == np.where(row + layer < 6.5, 6, 3)).all()


def test_voxelize_counts_a_shared_edge_crossing_once():
    # the edge from (5.5, 1.2, 0.8) to (3.1, 3.8, 4.2) crosses the plane z = 2.5 at
    # y = 2.5 (a row centre) when computed from its lower end, and one ulp below when
    # computed from its upper end: its two triangles run it in opposite directions
    vertices = np.array([[5.5, 1.2, 0.8], [3.1, 3.8, 4.2], [0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    faces = np.array([[2, 1, 0], [1, 3, 0], [3, 2, 0], [2, 3, 1]])
    tetrahedron = vertices[faces]
    cube_vertices, cube_faces = _grid_cube(1.5, 3.5)
    cube = cube_vertices[cube_faces] + [8.0, 0.0, 0.0]
    solid = F.voxelize(np.concatenate([tetrahedron, cube]), (12, 6, 6), 100)
    # the row through the crossing has an even count: nothing is filled between the bodies
    assert not solid[5:9, 2, 2].any()
    apart = F.voxelize(tetrahedron, (12, 6, 6), 100) | F.voxelize(cube, (12, 6, 6), 100)
    assert (solid == apart).all() and solid.sum() == 10 + 8


# ---------------------------------------------------------------- windows and spans


def test_window_of_projections():
    assert F._window_of([np.array([0, 1, 1, 0]), np.array([1, 0, 0, 0, 1])]) == (
        slice(1, 3),
        slice(0, 5),
    )
    assert F._window_of([np.array([0, 1]), np.array([0, 0])]) is None
    mask = np.zeros((5, 6, 7), dtype=bool)
    assert F._bounding_window(mask) is None
    mask[1, 2, 3] = mask[3, 4, 6] = True
    assert F._bounding_window(mask) == (slice(1, 4), slice(2, 5), slice(3, 7))
    packed = np.packbits(mask, axis=2)
    assert F._packed_window(packed, 7) == (slice(1, 4), slice(2, 5), slice(3, 7))
    wide = np.zeros((2, 3, 20), dtype=bool)
    wide[1, 0, 9] = wide[0, 2, 17] = True
    assert F._packed_window(np.packbits(wide, axis=2), 20) == (
        slice(0, 2),
        slice(0, 3),
        slice(9, 18),
    )
    assert F._packed_window(np.packbits(wide & False, axis=2), 20) is None


def _between(solid, axis):
    after_first = np.cumsum(solid, axis=axis) > 0
    before_last = np.flip(np.cumsum(np.flip(solid, axis=axis), axis=axis) > 0, axis=axis)
    return after_first & before_last


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_between_solids_packed_and_not(axis):
    rng = np.random.default_rng(axis + 10)
    solid = rng.random((9, 7, 21)) < 0.1
    solid[:, 0, :] = False
    solid[0, :, :] = False
    expected = _between(solid, axis)
    assert np.array_equal(F._between_solids(solid, axis), expected)
    packed = np.packbits(solid, axis=2)
    if axis < 2:
        assert np.array_equal(F._between_solids(packed, axis), np.packbits(expected, axis=2))
    else:
        assert np.array_equal(F._between_packed_last(packed), np.packbits(expected, axis=2))


def test_between_solids_on_long_lines():
    # lines longer than an int16 index holds
    line = np.zeros((1, 2, 40000), dtype=bool)
    line[0, 0, [3, 39990]] = True
    between = F._between_solids(line, 2)
    assert between[0, 0].sum() == 39988 and not between[0, 1].any()
    packed = F._between_packed_last(np.packbits(line, axis=2))
    assert np.array_equal(np.unpackbits(packed, axis=2, count=40000), between)
    column = np.zeros((40000, 1, 1), dtype=bool)
    column[[5, 39000]] = True
    assert F._between_solids(column, 0).sum() == 38996


def test_first_and_last_bit_tables():
    for value in range(1, 256):
        bits = np.flatnonzero(np.unpackbits(np.uint8(value)))
        assert (F._FIRST_BIT[value], F._LAST_BIT[value]) == (bits[0], bits[-1])


# ---------------------------------------------------------------- section shapes


@pytest.mark.parametrize(
    ("fill", "narrow", "wide", "shape"),
    [
        (0.9501, 10, 10, "rect"),  # 0.9 + 0.5 / 10
        (0.9499, 10, 10, "round"),
        (0.9499, 10, 13.5, "round"),  # aspect 1.35 still round
        (0.9499, 10, 13.6, "slot"),
        (0.84, 10, 13.6, "slot"),
        (0.8399, 10, 13.6, "other"),
        (0.6, 10, 10, "round"),
        (0.5999, 10, 10, "other"),
        (0.98, 1, 1, "rect"),  # the bound is at most 0.98
        (0.9799, 1, 1, "other"),
        (0.9699, 1, 1, "round"),
        (0.9699, 0.5, 0.5, "round"),  # narrow counts as at least 1 for the bonus
        (0.97, 0.5, 0.5, "other"),  # ... and the round bound is at most 0.97
        (0.9, 0, 5, "slot"),  # no width: an endless aspect
        (0.913, 40, 40, "rect"),  # 0.9 + 0.5 / 40
        (0.912, 40, 40, "round"),
        (0.91, 80, 200, "rect"),
    ],
)
def test_classify_at_its_bounds(fill, narrow, wide, shape):
    assert F._classify(fill, narrow, wide, P) == shape


def test_slice_boxes():
    planes = np.zeros((3, 12, 12), dtype=bool)
    planes[0, 0:10, 0:3] = planes[0, 7:10, 0:10] = True  # an L: 10 rows, 10 columns
    planes[2, 2:6, 4:12] = True  # 4 rows, 8 columns
    area, rows, columns = F._slice_boxes(planes)
    assert area.tolist() == [51, 0, 32]
    assert rows.tolist() == [10, 0, 4] and columns.tolist() == [10, 0, 8]


def test_section_shape_round_rect_slot_and_other():
    y, x = np.mgrid[0:12, 0:12]
    disc = (y - 5.5) ** 2 + (x - 5.5) ** 2 <= 5.5**2
    assert F._section_shape(np.stack([disc] * 3), P) == {
        "shape": "round",
        "fill": 88 / 100,
        "narrow": 10.0,
        "wide": 10.0,
    }
    rect = np.zeros((20, 20), dtype=bool)
    rect[4:14, 6:10] = True
    # empty slices are left out of the medians
    stack = np.stack([rect, rect & False, rect])
    assert F._section_shape(stack, P) == {"shape": "rect", "fill": 1.0, "narrow": 4, "wide": 10}
    ell = np.zeros((12, 12), dtype=bool)
    ell[0:10, 0:3] = ell[7:10, 0:10] = True
    assert F._section_shape(np.stack([ell, ell, ell & False]), P) == {
        "shape": "other",
        "fill": 0.51,
        "narrow": 10.0,
        "wide": 10.0,
    }


def test_section_shape_judges_a_turned_section_in_its_own_rectangle():
    y, x = np.mgrid[0:40, 0:40]
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    u, v = (x - 19.5) * c + (y - 19.5) * s, -(x - 19.5) * s + (y - 19.5) * c
    bar = (abs(u) <= 12) & (abs(v) <= 5)
    section = F._section_shape(np.stack([bar] * 3), P)
    assert section["shape"] == "slot"
    assert section["narrow"] == pytest.approx(10.93, abs=0.01)
    assert section["wide"] == pytest.approx(24.96, abs=0.01)
    assert section["fill"] == pytest.approx(bar.sum() / (section["narrow"] * section["wide"]))
    # in the grid's box the same bar is neither: with the turn not tried it stays other
    assert F._section_shape(np.stack([bar[::4, ::4]] * 3), P)["shape"] == "other"
    # the middle slice by area is the one turned
    small, big = bar & (abs(u) <= 6), bar
    section = F._section_shape(np.stack([small, big, big]), P)
    assert section["wide"] == pytest.approx(24.96, abs=0.01)


# ---------------------------------------------------------------- holes on grids


def _block_with_holes():
    solid = np.ones((40, 24, 20), dtype=bool)
    solid[:, 4:10, 4:10] = False  # through-hole along axis 0
    y, x = np.mgrid[0:24, 0:40]
    solid[:, :, 8:20][((x - 28.5) ** 2 + (y - 15.5) ** 2 <= 16).T] = False  # blind, axis 2
    solid[2:6, :, 14:18] = False  # slot through the width (axis 1)
    return solid


def _hole(
    axis, shape, diameter, width, height, length, lod, fill, ends, volume, centre, cohere=1.0
):
    return {
        "axis": axis,
        "along": F.AXIS_NAMES[axis],
        "shape": shape,
        "diameter_mm": diameter,
        "width_mm": width,
        "height_mm": height,
        "length_mm": length,
        "length_over_diameter": lod,
        "fill": fill,
        "coherence": cohere,
        "open_ends": ends,
        "through": ends == 2,
        "volume_mm3": volume,
        "centre_mm": centre,
    }


BLOCK_HOLES = [
    _hole(0, "rect", 3.39, 3.0, 3.0, 20.0, 5.91, 1.0, 2, 180.0, [10.0, 3.5, 3.5]),
    _hole(2, "round", 4.07, 4.0, 4.0, 6.0, 1.47, 0.812, 1, 78.0, [14.5, 8.0, 7.0]),
    _hole(1, "rect", 2.26, 2.0, 2.0, 12.0, 5.32, 1.0, 2, 48.0, [2.0, 6.0, 8.0]),
]


def test_find_holes_in_a_block():
    assert F.find_holes(_block_with_holes(), 0.5, P) == BLOCK_HOLES
    # 6 x 6 voxels of 0.5 mm make a 3.39 mm hole; the blind one is 12 slices deep
    assert BLOCK_HOLES[0]["diameter_mm"] == round(2 * math.sqrt(36 / math.pi) * 0.5, 2)
    assert F.find_holes(_block_with_holes(), 0.5, P, axes=(2, 1)) == BLOCK_HOLES[1:]
    assert F.find_holes(_block_with_holes(), 0.5, {**P, "max_holes": 2}) == BLOCK_HOLES[:2]
    moved = F.find_holes(_block_with_holes(), 0.5, P, pad=2)
    assert [h["centre_mm"] for h in moved] == [[9.0, 2.5, 2.5], [13.5, 7.0, 6.0], [1.0, 5.0, 7.0]]
    # a hole narrower than min_hole_diameter_mm is left out (2.0 mm: the slot's 4 voxels)
    assert (
        F.find_holes(_block_with_holes(), 0.5, {**P, "min_hole_diameter_mm": 2.01})
        == (BLOCK_HOLES[:2])
    )
    assert F.find_holes(_block_with_holes(), 0.5, {**P, "min_hole_diameter_mm": 2.0}) == (
        BLOCK_HOLES
    )
    assert F.find_holes(_block_with_holes(), 2.0, {**P, "min_hole_diameter_mm": 0.1})[0][
        "diameter_mm"
    ] == round(2 * math.sqrt(36 / math.pi) * 2.0, 2)


def test_find_holes_sizes_to_two_places():
    # 0.123 mm voxels: 6, 8 and 4 voxels across, 40, 12 and 24 slices long
    holes = F.find_holes(_block_with_holes(), 0.123, {**P, "min_hole_diameter_mm": 0.1})
    assert [(h["width_mm"], h["height_mm"], h["length_mm"]) for h in holes] == [
        (0.74, 0.74, 4.92),
        (0.98, 0.98, 1.48),
        (0.49, 0.49, 2.95),
    ]


def test_find_holes_on_empty_solid_and_open_grids():
    assert F.find_holes(np.zeros((6, 6, 6), dtype=bool), 1.0, P) == []
    assert F.find_holes(np.ones((6, 6, 6), dtype=bool), 1.0, P) == []
    # a notch open at the side is enclosed in no slice
    notch = np.ones((12, 12, 12), dtype=bool)
    notch[:, 4:8, 0:8] = False
    assert F.find_holes(notch, 1.0, P) == []
    # a hole one slice long is no hole
    plate = np.ones((12, 12, 1), dtype=bool)
    plate[4:8, 4:8, 0] = False
    assert F.find_holes(plate, 1.0, P) == []
    plate = np.ones((12, 12, 2), dtype=bool)
    plate[4:8, 4:8, :] = False
    (hole,) = F.find_holes(plate, 1.0, P)
    assert (hole["axis"], hole["length_mm"], hole["through"], hole["volume_mm3"]) == (
        2,
        2.0,
        True,
        32.0,
    )


def test_find_holes_keeps_a_bore_apart_from_the_wider_channel_it_opens_into():
    solid = np.ones((20, 12, 12), dtype=bool)
    solid[0:10, 4:8, 4:8] = False
    solid[10:20, 2:10, 2:10] = False
    channel = _hole(0, "rect", 4.51, 4.0, 4.0, 5.0, 1.11, 1.0, 1, 80.0, [7.5, 3.0, 3.0])
    bore = _hole(0, "rect", 2.26, 2.0, 2.0, 5.0, 2.22, 1.0, 2, 20.0, [2.5, 3.0, 3.0])
    assert F.find_holes(solid, 0.5, P) == [channel, bore]
    # the bore's 16 voxels overlap the channel's 64 by a quarter: linked below that
    linked = _hole(0, "rect", 3.57, 3.0, 3.0, 10.0, 2.8, 1.0, 2, 100.0, [5.0, 3.0, 3.0], 0.625)
    assert F.find_holes(solid, 0.5, {**P, "link_overlap": 0.25}) == [linked]
    assert F.find_holes(solid, 0.5, {**P, "link_overlap": 0.26}) == [channel, bore]


def test_find_holes_end_caps_judged_by_half_of_the_footprint():
    solid = np.ones((10, 10, 10), dtype=bool)
    solid[2:8, 3:7, 3:7] = False  # sealed at both ends
    solid[1, 3:7, 3:5] = False  # half of one cap gone: still closed
    (hole,) = F.find_holes(solid, 1.0, P, axes=(0,))
    assert (hole["open_ends"], hole["length_mm"]) == (0, 6.0)
    solid[1, 3, 5] = False  # more than half gone (9 of 16, too few to link): open
    (hole,) = F.find_holes(solid, 1.0, P, axes=(0,))
    assert (hole["open_ends"], hole["through"]) == (1, False)
    solid[8:10, 3:7, 3:7] = False  # open to the grid's end on the other side
    (hole,) = F.find_holes(solid, 1.0, P, axes=(0,))
    assert (hole["open_ends"], hole["through"], hole["length_mm"]) == (2, True, 8.0)


def test_track_sections_numbers_tubes_and_sizes():
    labels = np.zeros((4, 3, 3), dtype=np.int32)
    labels[:, 1, 1] = [1, 2, 3, 4]  # one voxel per slice, linked into one tube
    labels[0:2, 0, 0] = [5, 6]  # a second tube, two slices long
    enclosed = labels > 0
    tubes, count, sizes = F._track_sections(labels, enclosed, 0, 6, P)
    assert count == 2 and sizes.tolist() == [0, 4, 2]
    assert tubes[:, 1, 1].tolist() == [1, 1, 1, 1] and tubes[0:2, 0, 0].tolist() == [2, 2]
    assert tubes.sum() == 8
    # not enclosed: left out
    tubes, count, sizes = F._track_sections(labels, enclosed & (labels != 6), 0, 6, P)
    assert count == 2 and sizes.tolist() == [0, 4, 1]
    tubes, count, sizes = F._track_sections(labels * 0, enclosed & False, 0, 6, P)
    assert count == 0 and sizes.tolist() == [0] and not tubes.any()


# ---------------------------------------------------------------- grids' other figures


def test_enclosed_void_fraction():
    shell = np.zeros((10, 10, 10), dtype=bool)
    shell[2:8, 2:8, 2:8] = True
    shell[3:7, 3:7, 3:7] = False
    assert F.enclosed_void_fraction(shell, 216) == round(64 / 216, 3)
    assert F.enclosed_void_fraction(shell, 0.5) == 1.0
    speck = np.zeros((7, 7, 7), dtype=bool)
    speck[2:5, 2:5, 2:5] = True
    speck[3, 3, 3] = False  # one sealed voxel
    assert F.enclosed_void_fraction(speck, 1.5) == round(1 / 1.5, 3)
    assert F.enclosed_void_fraction(speck, 0.5) == 1.0
    assert F.enclosed_void_fraction(shell, 32) == 1.0
    second = shell.copy()
    second[4, 4, 4] = True  # two sealed voids now: 63 voxels
    assert F.enclosed_void_fraction(second, 216) == round(63 / 216, 3)
    shell[2, 4, 4] = False  # a window in the wall
    assert F.enclosed_void_fraction(shell, 216) == 0.0
    assert F.enclosed_void_fraction(np.ones((3, 3, 3), dtype=bool), 27) == 0.0


def test_end_fill():
    solid = np.zeros((4, 9, 9), dtype=bool)
    assert F.end_fill(solid) is None
    solid[1, 2:7, 1:4] = True
    assert F.end_fill(solid) == 1.0
    solid[2, 2:4, 1:8] = True  # an L seen along axis 0: 23 of 5 x 7
    assert F.end_fill(solid) == round(23 / 35, 3)
    ring = np.zeros((3, 7, 7), dtype=bool)
    ring[:, 1:6, 1:6] = True
    ring[:, 2:5, 2:5] = False  # the hole in the outline is filled
    ring[:, 1, 1] = False
    assert F.end_fill(ring) == round(24 / 25, 3)


def test_across_and_angle_to_axes():
    a = math.sqrt(0.5)
    assert F._across(np.array([0.0, 2.0, 2.0])) == pytest.approx(
        np.array([[0, a, a], [1, 0, 0], [0, a, -a]])
    )
    frame = F._across(np.array([1.0, 0.2, 0.0]))
    assert frame[1] == pytest.approx([0, 0, 1]) and frame @ frame.T == pytest.approx(np.eye(3))
    frame = F._across(np.array([3.0, 1.0, 2.0]))
    assert frame[1] @ [0, 1, 0] == pytest.approx(math.sqrt(1 - 1 / 14))
    assert frame @ frame.T == pytest.approx(np.eye(3))
    assert F._angle_to_axes(np.array([0.0, 0.0, -2.0])) == (2, 0.0)
    assert F._angle_to_axes(np.array([1.0, 2.0, 2.0])) == (
        1,
        pytest.approx(math.degrees(math.acos(2 / 3))),
    )
    assert F._angle_to_axes(np.array([1.0, 1.0, 0.0])) == (0, pytest.approx(45.0))


# ---------------------------------------------------------------- other directions


def _frame_and_grid(mesh):
    aligned, extents, _ = F.principal_frame(mesh.vertices, mesh.faces, P)
    resolution = F._grid_resolution(extents, P, P["max_voxels"])
    solid = F._solid_grid(aligned, mesh.faces, resolution, P, 2)
    triangles = aligned[mesh.faces]
    weights = np.linalg.norm(
        F._cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1
    )
    return aligned, resolution, solid, weights


def test_opening_directions_of_a_turned_ring():
    aligned, resolution, solid, weights = _frame_and_grid(RING)
    assert resolution == 0.3

    def found(**changes):
        return F.opening_directions(solid, 0.3, 2, aligned, RING.faces, weights, {**P, **changes})

    (ring,) = found()
    assert np.abs(ring["direction"]) == pytest.approx([0, 0.3398, 0.9405], abs=1e-4)
    assert ring["turning_mm"] == 0.0 and len(ring["points"]) == 512
    # the ring's opening seen through the thickness is 10.5 to 11 mm across
    assert len(found(opening_mm=[10.5, 11.0])) == 1
    assert found(opening_mm=[11.0, 45]) == []
    assert found(opening_mm=[1, 2]) == []
    assert found(opening_min_tilt_deg=25) == []
    assert len(found(opening_min_tilt_deg=19)) == 1
    assert found(max_opening_directions=0) == []
    # a smaller opening, seen through the width, comes after the ring
    wide = found(opening_mm=[1, 12.5], max_opening_directions=5)
    assert [len(w["points"]) for w in wide][0] == 512
    assert (
        F.opening_directions(
            np.ones((5, 5, 5), dtype=bool), 0.3, 2, aligned, RING.faces, weights, P
        )
        == []
    )


def test_holes_along_a_direction_of_their_own():
    aligned, _, _, _ = _frame_and_grid(RING)
    aligned_weights = _frame_and_grid(RING)
    (ring,) = F.opening_directions(
        aligned_weights[2], 0.3, 2, aligned, RING.faces, aligned_weights[3], P
    )
    (hole,) = F.holes_along_directions(aligned, RING.faces, [ring], P)
    assert {k: v for k, v in hole.items() if k != "section_mm2"} == {
        **_hole(2, "round", 11.81, 11.7, 11.7, 3.0, 0.25, 0.789, 2, 328.5, [46.3, 7.9, 3.8], 0.799),
        "direction": [round(float(c), 4) for c in ring["direction"]],
        "angle_deg": 19.9,
        "direction_id": 3,
        "voxel_mm": 0.3,
    }
    assert hole["section_mm2"] == pytest.approx(926.494, abs=1e-3)
    (hole,) = F.holes_along_directions(aligned, RING.faces, [ring], {**P, "axis_tolerance_deg": 19})
    assert (hole["axis"], hole["along"]) == (None, "inclined")
    # at exactly the tolerance the hole still runs along the axis
    angle = F._angle_to_axes(F._across(ring["direction"])[0])[1]
    (hole,) = F.holes_along_directions(
        aligned, RING.faces, [ring], {**P, "axis_tolerance_deg": angle}
    )
    assert (hole["axis"], hole["along"]) == (2, "thickness")
    (hole,) = F.holes_along_directions(aligned, RING.faces, [ring, ring], P)[1:]
    assert hole["direction_id"] == 4


def test_holes_along_a_direction_searched_in_the_region_its_edges_span():
    """The region across the direction: the edges' box grown by the larger of
    ``region_margin_mm`` and half its span on each axis, within the part; its size sets
    the cell when the voxel budget (the smaller of the two) does."""
    aligned, _, _ = F.principal_frame(TUBE.vertices, TUBE.faces, P)
    aligned = aligned + [0.0, -5.0, 3.0]  # the part from (0, -5, 3) to (14, 4, 10)
    # edges 3 mm across on axis 1 (grown by 1.5 mm), 4 mm on axis 2 (by 2 mm, cut by
    # the part): the region is 14 x 6 x 7 mm
    item = {
        "direction": np.array([1.0, 0.0, 0.0]),
        "points": np.array([[0, -2, 4.5], [14, 1, 8.5]]),
    }
    fine = {**P, "min_resolution_mm": 0.01, "max_cells_per_axis": 1e9, "region_margin_mm": 1.2}
    (hole,) = F.holes_along_directions(
        aligned, TUBE.faces, [item], {**fine, "extra_max_voxels": 7000}
    )
    assert hole["voxel_mm"] == round((588 / 7000) ** (1 / 3), 3)
    assert (hole["section_mm2"], hole["centre_mm"], hole["through"]) == (
        63.0,
        [7.0, -0.7, 6.5],
        True,
    )
    (hole,) = F.holes_along_directions(
        aligned, TUBE.faces, [item], {**fine, "extra_max_voxels": 7000, "max_voxels": 3500}
    )
    assert hole["voxel_mm"] == round((588 / 3500) ** (1 / 3), 3)
    (hole,) = F.holes_along_directions(
        aligned, TUBE.faces, [item], {**fine, "extra_max_voxels": 3500, "max_voxels": 7000}
    )
    assert hole["voxel_mm"] == round((588 / 3500) ** (1 / 3), 3)


def test_holes_along_a_direction_are_only_those_running_along_it():
    aligned, _, _ = F.principal_frame(TUBE.vertices, TUBE.faces, P)
    across = {"direction": np.array([0.0, 0.0, 1.0]), "points": aligned}
    assert F.holes_along_directions(aligned, TUBE.faces, [across], P) == []
    along = {"direction": np.array([1.0, 0.0, 0.0]), "points": aligned}
    (bore,) = F.holes_along_directions(aligned, TUBE.faces, [along], P)
    assert (bore["axis"], bore["diameter_mm"], bore["direction"]) == (0, 4.93, [1.0, 0.0, 0.0])


def _h(centre, diameter, coherence=1.0, volume=1.0, direction=(0.0, 0.0, 1.0)):
    return {
        "centre_mm": list(centre),
        "diameter_mm": diameter,
        "coherence": coherence,
        "volume_mm3": volume,
        "direction": list(direction),
    }


def test_same_hole():
    a = _h((0, 0, 0), 10.0)
    assert F._same_hole(a, _h((0, 0, 5.2), 10.0), 0.1)  # 5 + 2 x 0.1
    assert not F._same_hole(a, _h((0, 0, 5.21), 10.0), 0.1)
    assert F._same_hole(a, _h((3, 4, 0), 6.5), 0.0)  # 3.5 apart, 0.35 x 10
    assert not F._same_hole(a, _h((3, 4, 0), 6.49), 0.0)
    assert F._same_hole(_h((3, 4, 0), 6.5), a, 0.0)


def test_merge_holes_keeps_the_reading_along_a_holes_own_direction():
    first = _h((0, 0, 0), 10.0, 0.6, volume=5.0)
    other = _h((50, 0, 0), 4.0, 0.9, volume=9.0)
    better = _h((1, 0, 0), 10.0, 0.66, volume=3.0)
    close = _h((1, 0, 0), 10.0, 0.65, volume=3.0)
    assert F.merge_holes([first, other], [better], 0.5) == [other, better]
    assert F.merge_holes([first, other], [close], 0.5) == [other, first]
    # a reading left out does not end the merge
    far = _h((30, 0, 0), 3.0, 0.1, 7.0)
    assert F.merge_holes([first], [close, far], 0.5) == [far, first]
    assert F.merge_holes([first], [_h((30, 0, 0), 3.0, 0.1, 7.0)], 0.5)[0]["volume_mm3"] == 7.0
    # two readings of one hole: the more coherent one decides
    twin = _h((0.5, 0, 0), 10.0, 0.7, volume=4.0)
    assert F.merge_holes([first], [twin, better], 0.5) == [twin]
    # every twin goes
    second = _h((2, 0, 0), 10.0, 0.5, volume=6.0)
    assert F.merge_holes([first, second, other], [better], 0.5) == [other, better]


def test_group_parallel_directions():
    holes = [
        _h((0, 0, 0), 1, direction=(0.0, 0.0, 2.0)),
        _h((0, 0, 0), 1, direction=(0.0, 0.0, -1.0)),
        _h((0, 0, 0), 1, direction=(0.0, math.sin(math.radians(7.9)), math.cos(math.radians(7.9)))),
        _h((0, 0, 0), 1, direction=(0.0, math.sin(math.radians(8.1)), math.cos(math.radians(8.1)))),
        _h((0, 0, 0), 1, direction=(1.0, 0.0, 0.0)),
        _h((0, 0, 0), 1, direction=(0.0, math.sin(math.radians(8.1)), math.cos(math.radians(8.1)))),
        _h((0, 0, 0), 1, direction=(0.0, 0.0, 0.0)),
    ]
    F._group_parallel(holes, 8.0)
    assert [h["parallel_group"] for h in holes] == [0, 0, 0, 1, 2, 1, 3]
    # with no tolerance at all, holes of exactly one direction still share a group
    holes = [_h((0, 0, 0), 1, direction=(1.0, 0.0, 0.0)) for _ in range(2)]
    F._group_parallel(holes, 0.0)
    assert [h["parallel_group"] for h in holes] == [0, 0]


# ---------------------------------------------------------------- stray triangles


def _with_flap(mesh, length):
    """*mesh* with a strip of *length* triangles hanging off its first edge."""
    vertices, faces = mesh.vertices, mesh.faces
    a, b = faces[0][:2]
    extra = np.array([[0.0, 0.0, 30.0 + i] for i in range(length)])
    strip, previous = [], (a, b)
    for i in range(length):
        new = len(vertices) + i
        strip.append([previous[0], previous[1], new])
        previous = (previous[1], new)
    return np.vstack([vertices, extra]), np.vstack([faces, strip])


@pytest.mark.parametrize("length", [1, 2, 4])
def test_stray_triangles_peeled(length):
    vertices, faces = _with_flap(RING, length)
    kept_vertices, kept, edges, dropped = F._without_stray_triangles(
        vertices, faces, MeshEdges(faces, len(vertices))
    )
    assert dropped == length and len(kept) == len(RING.faces)
    assert len(kept_vertices) == len(RING.vertices)
    assert np.array_equal(np.sort(kept_vertices, axis=0), np.sort(RING.vertices, axis=0))
    assert (edges.counts == 2).all() and len(edges.counts) == 3 * len(RING.faces) // 2


def test_stray_triangles_peeled_four_passes_deep_only():
    vertices, faces = _with_flap(RING, 5)
    _, kept, _, dropped = F._without_stray_triangles(
        vertices, faces, MeshEdges(faces, len(vertices))
    )
    assert dropped == 4 and len(kept) == len(RING.faces) + 1


def test_stray_triangles_of_a_closed_or_open_mesh_are_left():
    edges = MeshEdges(RING.faces, len(RING.vertices))
    result = F._without_stray_triangles(RING.vertices, RING.faces, edges)
    assert result[0] is RING.vertices and result[1] is RING.faces and result[3] == 0
    # more than 1 % of the faces would go: an open surface, kept whole
    vertices, faces = _with_flap(BOX, 1)
    result = F._without_stray_triangles(vertices, faces, MeshEdges(faces, len(vertices)))
    assert result[1] is faces and result[3] == 0
    many = len(RING.faces) // 100
    vertices, faces = _with_flap(RING, 1)
    for _ in range(many):
        vertices, faces = _with_flap(trimesh.Trimesh(vertices, faces, process=False), 1)
    result = F._without_stray_triangles(vertices, faces, MeshEdges(faces, len(vertices)))
    assert result[1] is faces and result[3] == 0


def test_stray_triangles_at_one_percent_and_on_a_doubled_surface():
    # exactly 1 % of the faces (2 flaps on a torus of 198 faces) is still peeled
    torus = trimesh.creation.torus(
        major_radius=5, minor_radius=1, major_sections=11, minor_sections=9
    )
    vertices, faces = _with_flap(torus, 1)
    vertices, faces = _with_flap(trimesh.Trimesh(vertices, faces, process=False), 1)
    assert len(faces) == 200
    _, kept, _, dropped = F._without_stray_triangles(
        vertices, faces, MeshEdges(faces, len(vertices))
    )
    assert dropped == 2 and len(kept) == 198
    # every face written twice (each edge has four faces, none two) and a flap
    doubled = trimesh.Trimesh(TUBE.vertices, np.vstack([TUBE.faces, TUBE.faces]), process=False)
    vertices, faces = _with_flap(doubled, 1)
    _, kept, _, dropped = F._without_stray_triangles(
        vertices, faces, MeshEdges(faces, len(vertices))
    )
    assert dropped == 1 and len(kept) == 2 * len(TUBE.faces)


# ---------------------------------------------------------------- measure


def _sizes(length, width, thickness):
    return {
        "extents_mm": [length, width, thickness],
        "length_mm": length,
        "width_mm": width,
        "thickness_mm": thickness,
        "aspect": round(length / width, 2),
    }


def _box_features():
    return {
        "triangles": 12,
        "vertices": 8,
        "stray_triangles": 0,
        **_closed(2, 0),
        "degenerate_triangles": 0,
        **_sizes(10.0, 6.0, 4.0),
        "area_mm2": 248.0,
        "volume_mm3": 240.0,
        "voxel_mm": 0.3,
        "solid_fraction": 1.0,
        "mean_wall_mm": round(480 / 248, 2),
        "wall_to_size": round(480 / 248 / 4, 3),
        "end_fill": 1.0,
        "enclosed_void_fraction": None,
        "search_directions": [],
        "holes": [],
        "largest_cavity_fraction": 0.0,
        "largest_cavity_axis": None,
        "cavity_fraction_by_axis": [0.0, 0.0, 0.0],
        "side_cavity_fraction": 0.0,
        "length_through": False,
    }


def test_measure_a_box():
    features = F.measure(BOX.vertices, BOX.faces)
    # 0.3 mm cells: 33 x 20 x 13 of them inside the box
    assert features.pop("voxel_volume_mm3") == round(33 * 20 * 13 * 0.027, 1)
    assert features == _box_features()
    coarse = F.measure(BOX.vertices, BOX.faces, {"min_resolution_mm": 1.0}, shells=3)
    assert coarse["voxel_mm"] == 1.0 and coarse["voxel_volume_mm3"] == 240.0
    assert coarse["bodies"] == 3 and coarse["genus"] == 2


def test_measure_rounds_sizes_to_two_places_and_the_cell_to_three():
    box = trimesh.creation.box((10.123, 6.456, 4.789))
    features = F.measure(box.vertices, box.faces, {"max_voxels": 5000})
    assert features["extents_mm"] == [10.12, 6.46, 4.79]
    assert (features["length_mm"], features["width_mm"], features["thickness_mm"]) == (
        10.12,
        6.46,
        4.79,
    )
    assert features["aspect"] == round(10.123 / 6.456, 2)
    assert features["voxel_mm"] == round((10.123 * 6.456 * 4.789 / 5000) ** (1 / 3), 3)


@pytest.mark.parametrize(("sides", "aspect"), [((7, 0.5, 0.4), 14.0), ((0.9, 0.5, 0.4), 1.8)])
def test_measure_a_part_thinner_than_a_millimetre_fills_its_box(sides, aspect):
    box = trimesh.creation.box(sides)
    features = F.measure(box.vertices, box.faces)
    assert (features["solid_fraction"], features["aspect"]) == (1.0, aspect)


@pytest.mark.parametrize(("across", "aspect"), [(3.0, 2.33), (0.5, 14.0)])
def test_measure_a_flat_sheet(across, aspect):
    sheet = np.array([[0, 0, 0], [7, 0, 0], [7, across, 0], [0, across, 0.0]])
    features = F.measure(sheet, np.array([[0, 1, 2], [0, 2, 3]]))
    assert features["extents_mm"] == [7.0, across, 0.0] and features["aspect"] == aspect
    assert (features["volume_mm3"], features["solid_fraction"]) == (0.0, 0.0)
    assert (features["mean_wall_mm"], features["wall_to_size"]) == (0.0, None)


def test_measure_tiny_parts():
    # 0.52 mm2 of surface: walls 2 x 0.024 / 0.52 thick, 0.2 mm across
    box = trimesh.creation.box((0.4, 0.3, 0.2))
    features = F.measure(box.vertices, box.faces)
    assert (features["mean_wall_mm"], features["wall_to_size"]) == (
        round(0.048 / 0.52, 2),
        round(0.048 / 0.52 / 0.2, 3),
    )
    # an open cube of 0.46 mm has 8 cells of 0.3 mm (0.216 mm3) in a 0.097 mm3 box
    cube = trimesh.creation.box((0.46, 0.46, 0.46))
    features = F.measure(cube.vertices, cube.faces[1:])
    assert (features["voxel_volume_mm3"], features["solid_fraction"]) == (0.2, 1.0)


def test_zero_area_is_judged_against_the_parts_size():
    # a sliver of doubled area 1e-9 mm2: zero beside a 100 mm part (1e-12 x 100^2) ...
    big = trimesh.creation.box((100, 60, 40))
    sliver = [[0, 0, 0], [1, 0, 0], [0.5, 1e-9, 0]]
    features = F.measure(np.vstack([big.vertices, sliver]), np.vstack([big.faces, [[8, 9, 10]]]))
    assert features["degenerate_triangles"] == 1
    # ... and one of 9e-13 mm2 is not zero beside a 0.9 mm part (1e-12 x 0.9^2)
    small = trimesh.creation.box((0.9, 0.5, 0.4))
    sliver = [[0, 0, 0], [1e-3, 0, 0], [0, 0.9e-9, 0]]
    features = F.measure(
        np.vstack([small.vertices, sliver]), np.vstack([small.faces, [[8, 9, 10]]])
    )
    assert features["degenerate_triangles"] == 0


def test_measure_a_bored_block():
    features = F.measure(TUBE.vertices, TUBE.faces)
    volume = 14 * 9 * 7 - 14 * BORE_AREA
    area = (
        2 * (14 * 9 + 14 * 7 + 9 * 7) - 2 * BORE_AREA + 14 * 16 * 2 * 2.5 * math.sin(math.pi / 16)
    )
    bore = {
        **_hole(0, "round", 4.93, 4.8, 5.1, 14.1, 2.86, 0.779, 2, 269.0, [7.0, 4.5, 3.4]),
        "direction_id": 0,
        "angle_deg": 0.0,
        "direction": [1.0, 0.0, 0.0],
        "parallel_group": 0,
    }
    cavity = round(math.pi * (4.93 / 2) ** 2 / (9 * 7), 3)
    assert features == {
        "triangles": 80,
        "vertices": 40,
        "stray_triangles": 0,
        **_closed(0, 1),
        "degenerate_triangles": 0,
        **_sizes(14.0, 9.0, 7.0),
        "area_mm2": round(area, 1),
        "volume_mm3": round(volume, 1),
        "voxel_mm": 0.3,
        "voxel_volume_mm3": 606.6,
        "solid_fraction": round(volume / (14 * 9 * 7), 3),
        "mean_wall_mm": round(2 * volume / area, 2),
        "wall_to_size": round(2 * volume / area / 7, 3),
        "end_fill": 1.0,
        "enclosed_void_fraction": None,
        "search_directions": [],
        "holes": [bore],
        "largest_cavity_fraction": cavity,
        "largest_cavity_axis": 0,
        "cavity_fraction_by_axis": [cavity, 0.0, 0.0],
        "side_cavity_fraction": cavity,
        "length_through": True,
    }
    cut = F.measure(TUBE.vertices, TUBE.faces, {"max_holes": 0})
    assert cut["holes"] == [] and cut["largest_cavity_fraction"] == 0.0


def test_measure_a_bored_block_under_a_square_millimetre_across():
    small = TUBE.copy()
    small.apply_scale(0.1)
    features = F.measure(
        small.vertices, small.faces, {"min_resolution_mm": 0.03, "min_hole_diameter_mm": 0.12}
    )
    ((axis, diameter),) = [(h["axis"], h["diameter_mm"]) for h in features["holes"]]
    # its section is 0.63 mm2: the cavity is measured against that, not against 1
    cavity = round(math.pi * (diameter / 2) ** 2 / (0.9 * 0.7), 3)
    assert (axis, diameter, cavity) == (0, 0.49, 0.299)
    assert features["largest_cavity_fraction"] == features["side_cavity_fraction"] == cavity


def test_measure_a_bore_across_the_width():
    part = _cut(
        trimesh.creation.box((20, 12, 8)),
        trimesh.creation.cylinder(
            radius=2.5,
            height=30,
            sections=16,
            transform=trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]),
        ),
    )
    features = F.measure(part.vertices, part.faces)
    ((axis, diameter),) = [(h["axis"], h["diameter_mm"]) for h in features["holes"]]
    cavity = math.pi * (diameter / 2) ** 2 / (20 * 8)
    assert (axis, diameter, round(cavity, 4)) == (1, 4.95, 0.1203)
    assert features["cavity_fraction_by_axis"] == [0.0, round(cavity, 3), 0.0]
    # a void seen along the width counts as a side cavity, to three places
    assert features["side_cavity_fraction"] == round(cavity, 3) == 0.12


def test_measure_two_equal_bores_along_the_length_one_blind():
    # the same bore twice (the same reading to two places): the larger, listed first,
    # tells whether the length's cavity runs through
    through = _cylinder(2.0, 40, "x")
    through.apply_translation((0, -4.5, 0))
    blind = _cylinder(2.0, 21, "x")
    blind.apply_translation((4.5, 4.5, 0))
    part = _cut(trimesh.creation.box((30, 15, 7.2)), through, blind)
    features = F.measure(part.vertices, part.faces)
    assert [(h["axis"], h["diameter_mm"], h["through"]) for h in features["holes"]] == [
        (0, 4.01, True),
        (0, 4.01, False),
    ]
    assert features["length_through"] is True


def test_measure_an_inclined_bore():
    features = F.measure(INCLINED.vertices, INCLINED.faces)
    assert features["search_directions"] == [
        {"direction": [0.0, -0.5, 0.866], "angle_deg": 30.0, "turning_mm": 87.1}
    ]
    (hole,) = features["holes"]
    assert hole == {
        **_hole(2, "round", 4.88, 4.8, 4.8, 10.8, 2.21, 0.812, 2, 202.2, [15.0, 10.0, 6.0]),
        "axis": None,
        "along": "inclined",
        "direction": [0.0, -0.5, 0.866],
        "angle_deg": 30.0,
        "direction_id": 3,
        "voxel_mm": 0.3,
        "parallel_group": 0,
    }
    # an inclined hole counts towards the largest cavity (against the part's section
    # across the hole's own direction), on no axis
    assert features["largest_cavity_fraction"] == 0.027
    assert features["largest_cavity_axis"] is None
    assert features["cavity_fraction_by_axis"] == [0.0, 0.0, 0.0]
    plain = F.measure(INCLINED.vertices, INCLINED.faces, {"max_directions": 0})
    assert plain["search_directions"] == []
    assert plain["holes"] and "inclined" not in {h["along"] for h in plain["holes"]}


def test_measure_a_turned_ring_on_a_bar():
    features = F.measure(RING.vertices, RING.faces)
    assert features["search_directions"] == [
        {"direction": [0.0, -0.34, 0.94], "angle_deg": 19.9, "turning_mm": 0.0}
    ]
    (hole,) = features["holes"]
    assert (hole["axis"], hole["direction_id"], hole["diameter_mm"], hole["through"]) == (
        2,
        3,
        11.81,
        True,
    )
    assert features["largest_cavity_axis"] == 2
    assert features["cavity_fraction_by_axis"][2] == features["largest_cavity_fraction"] > 0
    assert features["length_through"] is False
    assert features["enclosed_void_fraction"] == 0.0 and features["end_fill"] == 0.511


def _inclined_with_ring(degrees):
    """INCLINED with a ring hanging off its end, the ring's plane turned *degrees*."""
    ring = trimesh.creation.torus(
        major_radius=7, minor_radius=1.5, major_sections=32, minor_sections=8
    )
    ring.apply_transform(trimesh.transformations.rotation_matrix(np.radians(degrees), [1, 0, 0]))
    ring.apply_translation((21, 0, 0))
    return trimesh.boolean.union([INCLINED, ring], engine="manifold")


def test_measure_adds_openings_to_the_edge_directions():
    part = _inclined_with_ring(-20)
    features = F.measure(part.vertices, part.faces)
    # the bore's edges give the first direction, the ring's opening the second
    assert features["search_directions"] == [
        {"direction": [-0.0, -0.499, 0.866], "angle_deg": 30.0, "turning_mm": 87.1},
        {"direction": [-0.0, 0.756, 0.654], "angle_deg": 40.8, "turning_mm": 0.0},
    ]


def test_measure_adds_an_opening_along_an_edge_direction_found_elsewhere():
    # the ring turned as the bore is: its opening's axis is within a degree of the
    # bore's edge direction, but the bore's search covers only the region its edges
    # span, so the ring is searched on its own and its hole is found (it was lost
    # while an opening near an edge direction was never added)
    part = _inclined_with_ring(30)
    features = F.measure(part.vertices, part.faces)
    assert features["search_directions"] == [
        {"direction": [-0.0, 0.499, 0.867], "angle_deg": 29.9, "turning_mm": 87.1},
        {"direction": [0.0, 0.492, 0.871], "angle_deg": 29.5, "turning_mm": 0.0},
    ]
    found = [(h["diameter_mm"], h["direction_id"], h["along"]) for h in features["holes"]]
    assert found == [(11.65, 4, "inclined"), (4.88, 3, "inclined")]


def test_an_opening_is_searched_already_only_near_parallel_and_inside_the_region():
    # a square of edge points around the z axis, 6 mm wide, at both ends of a bore
    ring = np.array([[x, y, z] for x in (-3.0, 3.0) for y in (-3.0, 3.0) for z in (0.0, 9.0)])
    bore = {"direction": np.array([0.0, 0.0, 1.0]), "points": ring}
    # its region across z: x and y from -3 to 3, grown by region_margin_mm or half the span
    margin = max(P["region_margin_mm"], 3.0)

    def opening(direction, shift):
        direction = np.asarray(direction, float)
        return {"direction": direction / np.linalg.norm(direction), "points": ring + shift}

    assert F._searched(opening([0, 0.1, 1], [0, 0, 0]), [bore], P)  # 5.7 degrees, inside
    assert not F._searched(opening([0, 0.15, 1], [0, 0, 0]), [bore], P)  # 8.5 degrees
    assert not F._searched(opening([0, 0, 1], [0, 0, 0]), [], P)
    inside, outside = [margin - 0.01, 0, 0], [0, margin + 0.01, 0]
    assert F._searched(opening([0, 0, 1], inside), [bore], P)
    assert not F._searched(opening([0, 0, 1], outside), [bore], P)
    assert not F._searched(opening([0, 0, -1], [0, -margin - 0.01, 0]), [bore], P)
    # any near-parallel direction that covers it will do, not only the first
    elsewhere = {**bore, "points": bore["points"] + [0, 50, 0]}
    assert F._searched(opening([0, 0, 1], inside), [elsewhere, bore], P)


def test_measure_a_sealed_hollow_box():
    inner = trimesh.creation.box((10, 8, 6))
    inner.invert()
    hollow = trimesh.util.concatenate([trimesh.creation.box((12, 10, 8)), inner])
    features = F.measure(hollow.vertices, hollow.faces, {"min_resolution_mm": 0.5})
    assert features["bodies"] == 2 and features["genus"] == 0 and features["watertight"]
    assert features["volume_mm3"] == 480.0 and features["solid_fraction"] == 0.5
    assert features["enclosed_void_fraction"] == 0.5
    assert features["mean_wall_mm"] == round(960 / (2 * (120 + 96 + 80) + 2 * (80 + 60 + 48)), 2)


def test_measure_an_open_box_takes_the_voxel_volume():
    features = F.measure(BOX.vertices, BOX.faces[1:], {"min_resolution_mm": 1.0})
    assert not features["watertight"] and features["genus"] is None
    assert features["volume_mm3"] == features["voxel_volume_mm3"]
    assert features["boundary_edges"] == 3


def test_measure_counts_and_refuses_degenerate_triangles():
    faces = np.vstack([BOX.faces, [[0, 1, 1]]])
    features = F.measure(BOX.vertices, faces)
    assert features["degenerate_triangles"] == 1 and features["triangles"] == 13
    with pytest.raises(InputError) as caught:
        F.measure(np.zeros((3, 3)), np.array([[0, 1, 2], [2, 1, 0]]))
    assert str(caught.value) == "degenerate mesh (all 2 triangles have zero area)"


def test_measure_leaves_a_stray_flap_out():
    vertices, faces = _with_flap(RING, 2)
    features = F.measure(vertices, faces)
    plain = F.measure(RING.vertices, RING.faces)
    assert features["stray_triangles"] == 2
    assert (features["triangles"], features["vertices"]) == (len(faces), len(vertices))
    skip = {"stray_triangles", "triangles", "vertices"}
    assert {k: v for k, v in features.items() if k not in skip} == {
        k: v for k, v in plain.items() if k not in skip
    }


def test_a_direction_s_sign_is_fixed_by_its_largest_component():
    # an eigenvector's sign is the solver's choice (numpy builds differ); a reported
    # direction turns so that its largest component is positive
    assert signed(np.array([0.0, -0.5, -0.866])).tolist() == [-0.0, 0.5, 0.866]
    assert signed(np.array([0.3, -0.2, 0.1])).tolist() == [0.3, -0.2, 0.1]
    assert signed(np.array([-0.6, 0.6, 0.0])).tolist() == [0.6, -0.6, -0.0]
    # the same edges with every vector reversed give the same cluster direction
    rng = np.random.default_rng(4)
    vectors = np.array([0.0, 0.5, 0.866]) + rng.normal(0, 0.02, (40, 3))
    vectors /= np.linalg.norm(vectors, axis=1)[:, None]
    weights = np.ones(40)
    kwargs = {"most": 1, "angle_deg": 10.0, "min_weight": 1.0}
    ((ahead, _, _),) = clusters(vectors, weights, **kwargs)
    ((behind, _, _),) = clusters(-vectors, weights, **kwargs)
    assert ahead[2] > 0 and ahead.tolist() == pytest.approx(behind.tolist())
