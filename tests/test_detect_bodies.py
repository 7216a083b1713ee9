"""Bodies: every reader yields the file's bodies, shells are split and joined again
where they touch, small pieces are set aside, each part is judged on its own and
the file takes its highest body's verdict. All inputs are built by code."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import trimesh

from firetrace.detect.bodies import parts_of
from firetrace.detect.engine import inspect_stream
from firetrace.detect.readers import Body, load_design


def _box(size, at=(0, 0, 0)):
    return trimesh.creation.box(size, trimesh.transformations.translation_matrix(at))


def _cylinder(radius, height, at=(0, 0, 0), axis="z"):
    mesh = trimesh.creation.cylinder(radius=radius, height=height, sections=48)
    if axis == "x":
        mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    mesh.apply_translation(at)
    return mesh


def _cut(base, *tools):
    return trimesh.boolean.difference([base, *tools], engine="manifold")


def _tube(length=150.0, at=(0, 0, 0)):
    """A tube with a 9 mm bore: flagged on its own (calibre bore in a hand-held part)."""
    return _cut(_cylinder(11, length, at, "x"), _cylinder(4.5, length + 10, at, "x"))


def _export(mesh, file_type: str) -> bytes:
    data = mesh.export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


def _inspect(data: bytes, name: str) -> dict:
    return inspect_stream(io.BytesIO(data), name=name, size=len(data))


def _scene(meshes: dict) -> trimesh.Scene:
    scene = trimesh.Scene()
    for name, mesh in meshes.items():
        scene.add_geometry(mesh, geom_name=name, node_name=name)
    return scene


PLATE = {"bracket": _box((40, 20, 5), (-80, 0, 0)), "spacer": _box((30, 30, 8), (80, 60, 0))}


# --- each reader's bodies ------------------------------------------------------------


@pytest.mark.parametrize("file_type", ["3mf", "glb", "obj"])
def test_each_named_object_is_a_body(file_type):
    design = load_design(io.BytesIO(_export(_scene(PLATE), file_type)))
    assert sorted(b.name for b in design.bodies) == ["bracket", "spacer"]
    centres = sorted(tuple(np.round(b.vertices.mean(axis=0))) for b in design.bodies)
    assert centres == [(-80.0, 0.0, 0.0), (80.0, 60.0, 0.0)]


def test_3mf_build_items_are_bodies_with_their_transforms():
    box = _box((10, 20, 30))
    vertices = " ".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in box.vertices)
    triangles = " ".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in box.faces)
    model = (
        '<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        f'<resources><object id="1" name="clip"><mesh><vertices>{vertices}</vertices>'
        f"<triangles>{triangles}</triangles></mesh></object></resources><build>"
        '<item objectid="1" transform="1 0 0 0 1 0 0 0 1 100 0 0"/>'
        '<item objectid="1" transform="0 1 0 -1 0 0 0 0 1 0 50 0"/></build></model>'
    )
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("3D/3dmodel.model", model)
    design = load_design(io.BytesIO(buffer.getvalue()))
    assert [b.name for b in design.bodies] == ["clip", "clip"]
    first, second = design.bodies
    assert np.allclose(first.vertices.mean(axis=0), (100, 0, 0))
    assert np.allclose(second.vertices.mean(axis=0), (0, 50, 0))
    assert np.allclose(np.ptp(second.vertices, axis=0), (20, 10, 30))  # turned a quarter


def test_amf_objects_are_bodies():
    def obj(number, dx):
        box = _box((10, 10, 10), (dx, 0, 0))
        coords = "".join(
            f"<vertex><coordinates><x>{x}</x><y>{y}</y><z>{z}</z></coordinates></vertex>"
            for x, y, z in box.vertices
        )
        tris = "".join(
            f"<triangle><v1>{a}</v1><v2>{b}</v2><v3>{c}</v3></triangle>" for a, b, c in box.faces
        )
        return (
            f'<object id="{number}"><metadata type="name">part{number}</metadata><mesh>'
            f"<vertices>{coords}</vertices><volume>{tris}</volume></mesh></object>"
        )

    data = f'<?xml version="1.0"?><amf unit="millimeter">{obj(1, 0)}{obj(2, 50)}</amf>'.encode()
    design = load_design(io.BytesIO(data))
    assert [b.name for b in design.bodies] == ["part1", "part2"]


def test_ascii_stl_solids_are_bodies():
    text = b"".join(
        _export(_box((10, 10, 10), (dx, 0, 0)), "stl_ascii").replace(
            b"solid ", f"solid {n}_".encode(), 1
        )
        for n, dx in (("clip", 0), ("knob", 40))
    )
    design = load_design(io.BytesIO(text), "stl")
    assert len(design.bodies) == 2
    assert [b.name.split("_")[0] for b in design.bodies] == ["clip", "knob"]


def test_separate_shells_of_one_mesh_are_separate_parts():
    plate = trimesh.util.concatenate(list(PLATE.values()))
    record = _inspect(_export(plate, "stl"), "plate.stl")
    assert [b["name"] for b in record["bodies"]] == ["shell 1", "shell 2"]
    assert sorted(tuple(b["extents_mm"]) for b in record["bodies"]) == [
        (30.0, 30.0, 8.0),
        (40.0, 20.0, 5.0),
    ]


# --- shells joined, parts set aside -----------------------------------------------------


def _parts(*meshes):
    bodies = [Body(np.asarray(m.vertices), np.asarray(m.faces)) for m in meshes]
    return parts_of(bodies, 1.0)


def test_touching_interpenetrating_and_nested_shells_are_one_part():
    touching = (_box((20, 20, 20)), _box((20, 20, 20), (20, 0, 0)))  # share a face
    crossing = (_box((40, 10, 10)), _box((10, 40, 10)))  # a plus sign, not unioned
    outer = _box((60, 30, 20))
    inner = _box((56, 26, 16))
    inner.invert()  # the void of a hollow box: a second, inward-facing shell
    for pair in (touching, crossing, (outer, inner)):
        parts = _parts(trimesh.util.concatenate(list(pair)))
        assert len(parts) == 1 and parts[0].shells == 2


def test_parts_a_few_millimetres_apart_stay_apart():
    parts = _parts(trimesh.util.concatenate([_box((20, 20, 20)), _box((20, 20, 20), (24, 0, 0))]))
    assert len(parts) == 2 and all(p.shells == 1 for p in parts)


def test_small_and_flat_pieces_are_set_aside_with_the_reason():
    plate = trimesh.util.concatenate(
        [_tube(), _box((6, 6, 6), (0, 40, 0)), _box((40, 40, 0.4), (0, -60, 0))]
    )
    record = _inspect(_export(plate, "stl"), "plate.stl")
    reasons = sorted(b["set_aside"] or "" for b in record["bodies"])
    assert reasons[0] == ""
    assert "longest side 6.0 mm is under 10 mm" in reasons
    assert "thickness 0.40 mm is under 0.8 mm" in reasons
    assert record["verdict"] != "clear"


# --- judged body by body ----------------------------------------------------------------


def test_a_part_on_a_plate_is_found_and_the_file_takes_its_verdict():
    plate = {**PLATE, "object_3": _tube(at=(0, -80, 0))}
    for file_type in ("3mf", "stl"):
        record = _inspect(
            _export(
                _scene(plate)
                if file_type == "3mf"
                else trimesh.util.concatenate(list(plate.values())),
                file_type,
            ),
            f"plate.{file_type}",
        )
        flagged = [b for b in record["bodies"] if b["verdict"] != "clear"]
        assert len(flagged) == 1 and flagged[0]["extents_mm"][0] == pytest.approx(150, abs=1)
        assert record["verdict"] == flagged[0]["verdict"] and record["score"] == flagged[0]["score"]
        assert {f["rule"] for f in record["findings"]} == {
            f["rule"] for f in flagged[0]["findings"]
        }
        assert len(record["bodies"]) == 3
        for body in record["bodies"]:
            assert set(body) >= {"index", "name", "verdict", "score", "findings", "extents_mm"}
        json.dumps(record)  # records go to JSONL as they are


def test_neighbouring_bodies_features_do_not_combine():
    """A loop in one part and a pin row in another are not a grip frame."""
    loop_part = _cut(_box((120, 60, 20)), _cylinder(12, 30, (-20, 0, 0)))
    pins_part = _cut(
        _box((120, 40, 20), (0, 90, 0)),
        *[_cylinder(2, 30, (-30 + 15 * i, 90, 0)) for i in range(4)],
    )
    plate = trimesh.util.concatenate([loop_part, pins_part])
    record = _inspect(_export(plate, "stl"), "plate.stl")
    assert len(record["bodies"]) == 2
    fired = [{f["rule"] for f in b["findings"]} for b in record["bodies"]]
    assert all("layout.grip_frame" not in rules for rules in fired)
    assert record["verdict"] == "clear"


@pytest.mark.slow
def test_fifty_body_plate_lists_and_judges_every_body():
    meshes = []
    for i in range(50):
        part = _cut(
            _box((30, 20, 10), (40 * (i % 10), 30 * (i // 10), 0)),
            _cylinder(3, 20, (40 * (i % 10), 30 * (i // 10), 0)),
        )
        meshes.append(part)
    record = _inspect(_export(trimesh.util.concatenate(meshes), "stl"), "plate.stl")
    assert len(record["bodies"]) == 50
    assert all(b["set_aside"] is None for b in record["bodies"])
    assert [b["index"] for b in record["bodies"]] == list(range(50))
    assert record["verdict"] == "clear"


def test_a_file_with_more_parts_than_are_judged_is_review(tmp_path):
    from firetrace.detect.rules import load_rules

    (tmp_path / "plates.toml").write_text("[bodies]\nmax_judged = 3\n")
    meshes = [_box((20, 20, 20), (40 * i, 0, 0)) for i in range(5)]
    data = _export(trimesh.util.concatenate(meshes), "stl")
    record = inspect_stream(
        io.BytesIO(data), name="blocks.stl", size=len(data), rules=load_rules(tmp_path)
    )
    assert record["verdict"] == "review"
    assert [f["rule"] for f in record["findings"]] == ["limit.bodies"]
    skipped = [b for b in record["bodies"] if (b["set_aside"] or "").startswith("not analysed")]
    assert len(skipped) == 2


def test_scan_csv_and_report_name_the_flagged_body_of_a_plate(tmp_path, run_cli):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    plate = {**PLATE, "object_3": _tube(at=(0, -80, 0))}
    (evidence / "plate.3mf").write_bytes(_export(_scene(plate), "3mf"))
    out = tmp_path / "out"
    result = run_cli(
        "scan", evidence, "--jsonl", out / "scan.jsonl", "--csv", out / "scan.csv", "--json"
    )
    assert result.exit_code == 1, result.stderr
    rows = (out / "scan.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert "bodies" in header
    assert "3 bodies, flagged: body 2 object_3 review" in rows[1]
    result = run_cli("report", out / "scan.jsonl", "-o", out / "report.html")
    assert result.exit_code in (0, 1), result.stderr
    page = (out / "report.html").read_text()
    assert "Bodies (3, most suspicious first)" in page and "object_3" in page
    result = run_cli("inspect", evidence / "plate.3mf")
    assert "Bodies (3, most suspicious first)" in result.stdout
