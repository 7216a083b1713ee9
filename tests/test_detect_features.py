"""Geometric features: measured numbers match the known geometry of simple
solids, in any pose, and units are declared or inferred."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh

from firetrace.detect.engine import inspect_stream
from firetrace.detect.features import measure, topology, voxelize


def _cut(base, *tools):
    return trimesh.boolean.difference([base, *tools], engine="manifold")


def _cylinder(radius, height, axis="z", centre=(0, 0, 0)):
    mesh = trimesh.creation.cylinder(radius=radius, height=height, sections=64)
    if axis == "x":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    mesh.apply_translation(centre)
    return mesh


def _record(mesh, name="part.stl", file_type="stl"):
    data = mesh.export(file_type=file_type)
    data = data.encode() if isinstance(data, str) else data
    return inspect_stream(io.BytesIO(data), name=name, size=len(data))


# a coarser voxel budget than the default keeps these tests quick; 0.5 mm cells
# still resolve 4 mm pin holes
FAST = {"max_voxels": 800_000, "min_resolution_mm": 0.5}

TUBE = _cut(_cylinder(12, 150, axis="x"), _cylinder(4.5, 160, axis="x"))


def test_topology_of_a_tube_and_a_box():
    box = trimesh.creation.box((1, 2, 3))
    assert topology(box.faces, len(box.vertices))["genus"] == 0
    tube = topology(TUBE.faces, len(TUBE.vertices))
    assert tube["watertight"] and tube["bodies"] == 1 and tube["genus"] == 1


def test_voxelised_volume_matches_the_mesh_volume():
    features = measure(TUBE.vertices, TUBE.faces)
    assert features["voxel_volume_mm3"] == pytest.approx(TUBE.volume, rel=0.03)
    assert features["volume_mm3"] == pytest.approx(TUBE.volume, rel=1e-6)


def test_voxelize_fills_a_cube_exactly():
    cube = trimesh.creation.box((4, 4, 4))
    grid = (cube.vertices + 2.0) + 1.0  # 1-cell margin, cells are 1 unit
    solid = voxelize(grid[cube.faces], (6, 6, 6), chunk=7)
    assert solid.sum() == 64
    assert solid[1:5, 1:5, 1:5].all()


def test_bore_of_a_tube_measured_in_any_pose():
    rng = np.random.default_rng(7)
    for _ in range(3):
        posed = TUBE.copy()
        posed.apply_transform(trimesh.transformations.random_rotation_matrix(rng.random(3)))
        posed.apply_translation(rng.uniform(-100, 100, 3))
        features = measure(posed.vertices, posed.faces, FAST)
        assert features["extents_mm"][0] == pytest.approx(150, abs=0.5)
        assert features["extents_mm"][1] == pytest.approx(24, abs=0.5)
        bores = [h for h in features["holes"] if h["shape"] == "round" and h["axis"] == 0]
        assert len(bores) == 1
        assert bores[0]["diameter_mm"] == pytest.approx(9.0, abs=0.5)
        assert bores[0]["length_mm"] == pytest.approx(150, abs=1.5)
        assert bores[0]["through"]


def test_block_holes_loop_cavity_and_pin_row():
    block = trimesh.creation.box((170, 110, 28))
    loop = _cylinder(12.5, 40, centre=(-10, -20, 0))
    cavity = trimesh.creation.box((60, 130, 20))
    cavity.apply_translation((48, 0, 0))
    pins = [_cylinder(2.0, 40, centre=(-50 + 16 * i, 28, 0)) for i in range(3)]
    mesh = _cut(block, loop, cavity, *pins)
    features = measure(mesh.vertices, mesh.faces, FAST)
    assert features["genus"] == 5
    holes = features["holes"]
    loops = [h for h in holes if h["diameter_mm"] > 20 and h["shape"] == "round"]
    assert loops and loops[0]["width_mm"] == pytest.approx(25, abs=1.0) and loops[0]["through"]
    rects = [h for h in holes if h["shape"] == "rect"]
    assert rects and sorted([rects[0]["width_mm"], rects[0]["height_mm"]]) == pytest.approx(
        [20, 60], abs=1.0
    )
    pin_holes = [h for h in holes if h["shape"] == "round" and h["diameter_mm"] < 6]
    assert len(pin_holes) == 3 and len({h["axis"] for h in pin_holes}) == 1
    assert all(h["diameter_mm"] == pytest.approx(4.0, abs=0.5) for h in pin_holes)

    record = _record(mesh)
    rules = {f["rule"] for f in record["findings"]}
    assert {"loop.finger", "cavity.rect_through", "pins.parallel_row"} <= rules
    assert record["verdict"] == "high"


def test_bore_entering_a_wider_channel_stays_a_separate_hole():
    block = trimesh.creation.box((200, 34, 30))
    channel = trimesh.creation.box((160, 20, 18))
    channel.apply_translation((-21, 0, 0))
    bore = _cylinder(4.5, 60, axis="x", centre=(80, 0, 0))
    mesh = _cut(block, channel, bore)
    holes = measure(mesh.vertices, mesh.faces, FAST)["holes"]
    along_length = [h for h in holes if h["axis"] == 0]
    shapes = sorted((h["shape"], round(h["width_mm"])) for h in along_length)
    assert ("rect", 18) in shapes and ("round", 9) in shapes


def test_thin_walled_box_wall_thickness():
    outer = trimesh.creation.box((220, 50, 34))
    inner = trimesh.creation.box((216, 50, 30))
    inner.apply_translation((0, 3, 0))
    mesh = _cut(outer, inner)
    features = measure(mesh.vertices, mesh.faces, FAST)
    assert features["mean_wall_mm"] == pytest.approx(2.0, abs=0.3)
    assert features["solid_fraction"] < 0.25
    record = _record(mesh)
    assert "shape.thin_walled_long_box" in {f["rule"] for f in record["findings"]}


def _shape_rules(mesh):
    return {f["rule"] for f in _record(mesh)["findings"] if f["rule"].startswith("shape.")}


def test_a_thin_walled_sleeve_open_at_both_ends_is_flagged_when_short_and_wide():
    """150 x 90 x 40 mm, 2 mm walls: too short against its width for a long box, but a
    sleeve open at both ends; the same box closed at its ends is a container."""
    outer = trimesh.creation.box((150, 90, 40))
    sleeve = _cut(outer, trimesh.creation.box((160, 86, 36)))
    features = measure(sleeve.vertices, sleeve.faces, FAST)
    assert features["length_through"] is True and features["end_fill"] > 0.95
    assert features["enclosed_void_fraction"] == 0.0
    assert _shape_rules(sleeve) == {"shape.thin_walled_sleeve"}
    closed = _cut(outer, trimesh.creation.box((146, 86, 36)))
    sealed = measure(closed.vertices, closed.faces, FAST)
    assert sealed["length_through"] is False and sealed["enclosed_void_fraction"] > 0.7
    assert _shape_rules(closed) == set()


def test_a_thin_walled_round_pipe_is_not_a_box():
    """A pipe's outline seen along its length fills pi/4 of its bounding square."""
    pipe = _cut(_cylinder(20, 200, axis="x"), _cylinder(18, 210, axis="x"))
    features = measure(pipe.vertices, pipe.faces, FAST)
    assert features["end_fill"] == pytest.approx(np.pi / 4, abs=0.04)
    assert features["wall_to_size"] < 0.15 and features["side_cavity_fraction"] > 0.4
    assert _shape_rules(pipe) == set()
    box = _cut(trimesh.creation.box((200, 40, 40)), trimesh.creation.box((210, 36, 36)))
    assert _shape_rules(box) == {"shape.thin_walled_long_box"}


def test_units_inferred_for_unitless_files_and_declared_in_3mf():
    small = TUBE.copy()
    small.apply_scale(1 / 25.4)  # the same tube drawn in inches
    record = _record(small)
    assert record["units"]["unit"] == "inch" and record["units"]["source"] == "inferred"
    assert record["features"]["length_mm"] == pytest.approx(150, abs=0.5)
    assert "bore.calibre_range" in {f["rule"] for f in record["findings"]}

    record = _record(TUBE, name="tube.3mf", file_type="3mf")
    assert record["units"] == {"unit": "mm", "scale_to_mm": 1.0, "source": "declared"}


def test_open_mesh_is_measured_but_hole_rules_do_not_fire():
    open_tube = TUBE.copy()
    open_tube.update_faces(np.arange(len(open_tube.faces)) % 9 != 0)
    record = _record(open_tube)
    assert record["verdict"] == "clear"
    assert record["features"]["open_edge_fraction"] > 0.002
    assert any("not watertight" in w for w in record["warnings"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_reductions_give_numpys_numbers(dtype):
    from firetrace.detect.arrays import column_bounds, column_extents, row_max, row_min

    values = np.random.default_rng(5).normal(size=(1000, 3)).astype(dtype) * 100
    low, high = column_bounds(values)
    assert low.dtype == dtype and np.array_equal(low, values.min(axis=0))
    assert np.array_equal(high, values.max(axis=0))
    assert np.array_equal(column_extents(values), np.ptp(values, axis=0))
    assert np.array_equal(row_min(values), values.min(axis=1))
    assert np.array_equal(row_max(values), values.max(axis=1))
    values[7, 1] = np.nan  # a NaN carries through, as with numpy's reductions
    assert np.isnan(column_bounds(values)[0][1]) and np.isnan(row_max(values)[7])


def _with_flap(mesh, triangles: int):
    """*mesh* with a flap of *triangles* hanging off one of its edges (an export's fin)."""
    a, b = mesh.faces[0][:2]
    va, vb = mesh.vertices[a], mesh.vertices[b]
    outward = mesh.face_normals[0] * 3.0
    vertices, faces, previous = list(mesh.vertices), list(mesh.faces), (a, b)
    for step in range(triangles):
        vertices.append((va + vb) / 2 + outward * (step + 1))
        tip = len(vertices) - 1
        faces.append([previous[0], previous[1], tip])
        previous = (previous[1], tip)
    return trimesh.Trimesh(np.array(vertices), np.array(faces), process=False)


@pytest.mark.parametrize("triangles", [1, 2])
def test_a_stray_flap_on_a_closed_part_is_left_out_of_the_measurement(triangles):
    clean = measure(TUBE.vertices, TUBE.faces, FAST)
    finned = _with_flap(TUBE, triangles)
    assert not topology(finned.faces, len(finned.vertices))["watertight"]
    features = measure(finned.vertices, finned.faces, FAST)
    assert features["stray_triangles"] == triangles
    assert features["watertight"] and features["open_edge_fraction"] == 0.0
    assert features["volume_mm3"] == pytest.approx(clean["volume_mm3"], rel=1e-6)
    assert features["holes"] == clean["holes"]
    record, reference = _record(finned), _record(TUBE)
    assert (record["verdict"], record["findings"]) == (reference["verdict"], reference["findings"])
    assert any("1 stray triangle" in w or f"{triangles} stray" in w for w in record["warnings"])
    assert not any("not watertight" in w for w in record["warnings"])


def test_an_open_surface_is_not_peeled_into_a_closed_one():
    sheet = trimesh.creation.box((40, 40, 2)).subdivide().subdivide()
    top = sheet.face_normals[:, 2] > 0.5
    sheet.update_faces(~top)  # a tray with its lid gone: open along a whole rim
    features = measure(sheet.vertices, sheet.faces, FAST)
    assert not features["watertight"] and features["boundary_edges"] > 0
