"""Printed objects rebuilt from their layers and judged by the mesh rules: each
marker dialect, a file without markers, several objects on one plate, and a
stand-in hidden among benign objects."""

from __future__ import annotations

import io

import numpy as np
import pytest
from _gcode_shapes import DIALECTS, plate_gcode, tube_gcode

from firetrace.detect.engine import default_rules, inspect_stream
from firetrace.detect.features import DEFAULTS, measure
from firetrace.detect.rules import evaluate, score, verdict_for
from firetrace.gcode import read_toolpath
from firetrace.gcode.rebuild import rebuild_bodies


def bodies_of(text: bytes):
    """The rebuilt bodies, at the pixel size the detector uses."""
    return rebuild_bodies(read_toolpath(text), DEFAULTS)


def judge(body) -> tuple[dict, str]:
    rules = default_rules()
    features = measure(body.vertices, body.faces, rules.section("measure"))
    findings = evaluate(rules, features, {})
    return features, verdict_for(rules, score(findings))


@pytest.fixture(scope="module")
def tube_bodies():
    return {dialect: bodies_of(tube_gcode(dialect)) for dialect in DIALECTS}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_tube_is_rebuilt_with_its_bore_in_every_dialect(tube_bodies, dialect):
    (body,) = tube_bodies[dialect]
    features, verdict = judge(body)
    assert features["watertight"]
    assert features["extents_mm"] == pytest.approx([60, 20, 20], abs=0.6)
    bore = features["holes"][0]
    assert bore["shape"] == "round" and bore["through"] and bore["axis"] == 0
    assert bore["diameter_mm"] == pytest.approx(9.0, abs=0.5)
    assert verdict == "review"  # the same as the mesh of this tube (bore.calibre_range)


def test_the_skirt_never_counts_as_the_part(tube_bodies):
    for dialect in DIALECTS:
        (body,) = tube_bodies[dialect]
        size = body.vertices.max(axis=0) - body.vertices.min(axis=0)
        assert size[0] == pytest.approx(20.0, abs=0.6), dialect  # the skirt ring is 32 mm


def test_a_plain_block_is_solid_and_clear():
    text = plate_gcode([("box", "block", (100, 100))], style="prusa")
    (body,) = bodies_of(text)
    features, verdict = judge(body)
    assert features["watertight"] and features["holes"] == []
    assert features["volume_mm3"] == pytest.approx(30 * 20 * 30, rel=0.06)
    assert verdict == "clear"


def inspect_bytes(data: bytes, name: str = "plate.gcode") -> dict:
    return inspect_stream(io.BytesIO(data), name=name, size=len(data))


def body_verdicts(record: dict) -> dict[str, str]:
    return {body["name"]: body["verdict"] for body in record["bodies"]}


@pytest.mark.slow
@pytest.mark.parametrize("style", ["prusa", "m486", "klipper", "cura"])
def test_a_plate_is_judged_object_by_object(style):
    objects = [
        ("bracket_a", "block", (40, 40)),
        ("spool_tube", "tube", (110, 40)),
        ("bracket_b", "block", (40, 110)),
    ]
    record = inspect_bytes(plate_gcode(objects, style=style))
    assert [b["name"] for b in record["bodies"]] == ["bracket_a", "spool_tube", "bracket_b"]
    assert body_verdicts(record) == {
        "bracket_a": "clear",
        "spool_tube": "review",
        "bracket_b": "clear",
    }
    assert all(b["shells"] == 1 and b["set_aside"] is None for b in record["bodies"])
    tube = record["bodies"][1]
    assert tube["extents_mm"] == pytest.approx([60, 20, 20], abs=0.6)
    # the file takes its highest body's verdict and findings
    assert record["verdict"] == "review"
    assert [f["rule"] for f in record["findings"]] == [f["rule"] for f in tube["findings"]]
    assert record["warnings"][0] == "3 bodies; the file is judged by body 1"


@pytest.mark.slow
def test_a_stand_in_hidden_among_benign_objects_is_the_flagged_body():
    benign = [(f"clip_{i}", "block", (30 + 40 * (i % 4), 30 + 30 * (i // 4))) for i in range(7)]
    plate = benign[:3] + [("clip_7", "tube", (90, 150))] + benign[3:]
    record = inspect_bytes(plate_gcode(plate, style="prusa"))
    verdicts = body_verdicts(record)
    assert len(verdicts) == 8
    assert {name for name, verdict in verdicts.items() if verdict != "clear"} == {"clip_7"}
    hidden = next(b for b in record["bodies"] if b["name"] == "clip_7")
    assert "bore.calibre_range" in [f["rule"] for f in hidden["findings"]]
    assert record["verdict"] == hidden["verdict"] == "review"


def test_a_plate_without_object_markers_is_judged_piece_by_piece():
    plate = [("a", "block", (40, 40)), ("b", "tube", (110, 40)), ("c", "block", (40, 110))]
    text = plate_gcode(plate, style="none")
    assert read_toolpath(text).objects == []
    record = inspect_bytes(text)
    assert len(record["bodies"]) == 3
    flagged = [b for b in record["bodies"] if b["verdict"] != "clear"]
    assert len(flagged) == 1
    assert flagged[0]["extents_mm"] == pytest.approx([60, 20, 20], abs=0.6)
    assert record["verdict"] == "review"


def test_inspect_judges_a_sliced_tube_like_its_mesh():
    record = inspect_bytes(tube_gcode("prusa"), name="part.gcode")
    assert record["verdict"] == "review"
    assert "bore.calibre_range" in [f["rule"] for f in record["findings"]]
    assert record["metadata"]["slicer"] == "PrusaSlicer"


def test_object_names_are_evidence_like_file_names():
    record = inspect_bytes(plate_gcode([("glock_frame.stl", "block", (100, 100))], style="prusa"))
    assert record["keywords"].get("strong"), record["keywords"]
    assert "glock_frame.stl" in record["names"]
    assert record["metadata"]["source_files"] == ["glock_frame.stl"]


def test_copies_on_a_plate_are_rebuilt_once_and_moved_into_place():
    plate = [("tube_a", "tube", (60, 60)), ("tube_b", "tube", (140.25, 60.5))]
    plate += [("block", "block", (60, 140)), ("tube_c", "tube", (140, 140))]
    bodies = bodies_of(plate_gcode(plate, style="prusa"))
    assert [b.name for b in bodies] == ["tube_a", "tube_b", "block", "tube_c"]
    a, b, block, c = bodies
    for copy, (dx, dy) in ((b, (80.25, 0.5)), (c, (80, 80))):
        assert np.array_equal(copy.faces, a.faces)
        assert copy.vertices - a.vertices == pytest.approx(
            np.tile([dx, dy, 0], (len(a.vertices), 1)), abs=1e-3
        )
    assert len(block.faces) != len(a.faces)


def test_copies_are_measured_once_and_each_keeps_its_own_record(monkeypatch):
    import firetrace.detect.features as features_module

    calls = []
    real = features_module.measure

    def counted(vertices, faces, *args, **kwargs):
        calls.append(len(faces))
        return real(vertices, faces, *args, **kwargs)

    monkeypatch.setattr(features_module, "measure", counted)
    plate = [(f"tube_{i}", "tube", (50 + 50 * i, 60)) for i in range(3)]
    plate.append(("block", "block", (100, 140)))
    record = inspect_bytes(plate_gcode(plate, style="prusa"))
    assert len(calls) == 2  # one tube and the block
    assert body_verdicts(record) == {
        "tube_0": "review",
        "tube_1": "review",
        "tube_2": "review",
        "block": "clear",
    }
    tubes = [b for b in record["bodies"] if b["name"].startswith("tube")]
    assert all(b["findings"] == tubes[0]["findings"] for b in tubes)


def test_the_layer_distance_field_is_the_clipped_distance_transform():
    """The per-layer signed distance (shifted minima within the clipped reach) gives
    what two Euclidean distance transforms per layer give, on random layers with
    holes, islands, one-pixel lines and the padding a rebuilt grid has."""
    from scipy import ndimage

    from firetrace.gcode.rebuild import FIELD_REACH, _layer_distances

    rng = np.random.default_rng(7)
    solid = np.zeros((6, 40, 57), dtype=bool)
    solid[:, 5:-5, 5:-5] = ndimage.binary_opening(rng.random((6, 30, 47)) < 0.6)
    solid[2, 10:30, 20] = True  # a one-pixel wall
    solid[3, 8:33, 8:50] = True  # a block with a hole
    solid[3, 15:20, 15:30] = False
    solid[4] = False  # an empty layer: outside everywhere
    field = _layer_distances(solid)
    for index, layer in enumerate(solid):
        if not layer.any():
            assert np.all(field[index] == np.float32(0.5 - FIELD_REACH))
            continue
        signed = ndimage.distance_transform_edt(layer) - ndimage.distance_transform_edt(~layer)
        expected = np.clip(signed, -FIELD_REACH - 0.5, FIELD_REACH + 0.5).astype(np.float32)
        expected = expected - np.sign(expected) * np.float32(0.5) + np.float32(0.5)
        assert np.array_equal(field[index], expected), index


def test_marching_only_the_crossed_cubes_gives_the_whole_surface():
    """The mask of the cubes the surface passes through changes nothing: the same
    vertices and faces, in the same order, as marching every cube of the field (on
    a real rebuilt field: a tube's bore, its walls, the layers' slopes)."""
    from skimage.measure import marching_cubes

    from firetrace.gcode import rebuild

    fields = []
    surface = rebuild._surface

    def keep(volume, grid):
        fields.append((volume, grid))
        return surface(volume, grid)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rebuild, "_surface", keep)
        bodies_of(tube_gcode(DIALECTS[0]))
    ((volume, grid),) = fields
    padded = np.pad(volume.astype(np.float32), 1)
    mask = rebuild._crossed_cubes(padded, 0.5)
    assert 0 < mask.mean() < 0.5  # most cubes are skipped
    whole = marching_cubes(padded, level=0.5, allow_degenerate=False)
    masked = marching_cubes(padded, level=0.5, allow_degenerate=False, mask=mask)
    for a, b in zip(whole, masked, strict=True):
        assert np.array_equal(a, b)


def test_the_measurement_resolution_of_small_and_large_parts():
    import trimesh

    from firetrace.gcode.rebuild import measurement_resolution

    budget = {"min_resolution_mm": 0.3, "max_cells_per_axis": 400, "max_voxels": 3_000_000}
    assert measurement_resolution(np.zeros((4, 3)), None) == 0.0
    # a 40 x 30 x 20 mm block: every bound gives the finest voxel, no box is needed
    block = np.array([[x, y, z] for x in (0, 40) for y in (0, 30) for z in (0, 20)], float)
    assert measurement_resolution(block, budget) == 0.3
    # a 200 mm bar along the bed's diagonal, 10 x 10 mm across: its oriented box is
    # 200 mm long (0.5 mm per cell of 400), more than the axis-aligned box's 141 mm
    bar = trimesh.creation.box((200, 10, 10))
    bar.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 4, [0, 0, 1]))
    assert measurement_resolution(bar.vertices, budget) == pytest.approx(0.5, abs=1e-6)
    # a 150 mm cube: the voxel budget sets it, (150^3 / 3M)^(1/3)
    cube = block * [150 / 40, 150 / 30, 150 / 20]
    assert measurement_resolution(cube, budget) == pytest.approx(150 / 3_000_000 ** (1 / 3))
