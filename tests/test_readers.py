"""Readers: geometry, names and units from every supported format, built by code."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
import trimesh

from firetrace.detect.readers import load_design, load_mesh, read_design
from firetrace.errors import InputError

BOX = trimesh.creation.box((10, 20, 30))


def _export(mesh, file_type: str) -> bytes:
    data = mesh.export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


def _design(data: bytes, fmt: str | None = None, name: str | None = None):
    return load_design(io.BytesIO(data), fmt, name)


@pytest.mark.parametrize("file_type", ["stl", "stl_ascii", "obj", "ply", "off", "glb", "3mf"])
def test_every_mesh_format_round_trips_a_closed_box(file_type):
    mesh = load_mesh(io.BytesIO(_export(BOX, file_type)))
    assert isinstance(mesh, trimesh.Trimesh)
    assert len(mesh.faces) == 12
    assert mesh.is_watertight
    assert mesh.volume == pytest.approx(6000.0, rel=1e-4)


def test_binary_stl_vertices_are_merged_and_header_kept():
    data = bytearray(_export(BOX, "stl"))
    data[:80] = b"exported by TestCAD part lower-reciever".ljust(80, b"\0")
    design = _design(bytes(data))
    assert len(design.vertices) == 8
    assert design.metadata["encoding"] == "binary"
    assert "exported by TestCAD part lower-reciever" in design.names


def test_ascii_stl_solid_name_is_evidence():
    text = _export(BOX, "stl_ascii").decode().replace("solid", "solid gl0ck_frme", 1)
    design = _design(text.encode())
    assert design.metadata["encoding"] == "ascii"
    assert "gl0ck_frme" in design.names[0]


def test_obj_object_and_group_names():
    text = "o Bracket_Left\n" + _export(BOX, "obj").decode() + "\ng Spare group\n"
    design = _design(text.encode())
    assert {"Bracket_Left", "Spare group"} <= set(design.names)


def test_glb_node_names():
    scene = trimesh.Scene()
    scene.add_geometry(BOX, geom_name="handle_part", node_name="handle_node")
    design = _design(_export(scene, "glb"))
    assert "handle_node" in design.names or "handle_part" in design.names
    assert len(design.faces) == 12


def _three_mf(unit: str = "inch", name: str = "Widget", transform: str | None = None) -> bytes:
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in BOX.vertices / 10)
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in BOX.faces)
    item = f'<item objectid="1"{f" transform={chr(34)}{transform}{chr(34)}" if transform else ""}/>'
    model = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<model unit="{unit}" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
        '<metadata name="Title">Shelf bracket</metadata>'
        f'<resources><object id="1" name="{name}" type="model"><mesh>'
        f"<vertices>{vertices}</vertices><triangles>{triangles}</triangles>"
        f"</mesh></object></resources><build>{item}</build></model>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("3D/3dmodel.model", model)
    return buffer.getvalue()


def test_3mf_units_names_metadata_and_build_transform():
    design = _design(_three_mf(transform="1 0 0 0 1 0 0 0 1 100 0 0"))
    assert design.format == "3mf"
    assert design.units == "inch"
    assert "Widget" in design.names and "Shelf bracket" in design.names
    assert design.metadata["Title"] == "Shelf bracket"
    assert design.vertices[:, 0].min() == pytest.approx(99.5)


def test_amf_units_and_names():
    vertices = "".join(
        f"<vertex><coordinates><x>{x}</x><y>{y}</y><z>{z}</z></coordinates></vertex>"
        for x, y, z in BOX.vertices
    )
    triangles = "".join(
        f"<triangle><v1>{a}</v1><v2>{b}</v2><v3>{c}</v3></triangle>" for a, b, c in BOX.faces
    )
    amf = (
        '<?xml version="1.0"?><amf unit="millimeter"><object id="0">'
        '<metadata type="name">Drawer knob</metadata>'
        f"<mesh><vertices>{vertices}</vertices><volume>{triangles}</volume></mesh></object></amf>"
    )
    design = _design(amf.encode())
    assert design.format == "amf" and design.units == "mm"
    assert "Drawer knob" in design.names
    assert len(design.faces) == 12


def test_step_header_and_product_names():
    step = (
        "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('Shelf assembly'),'2;1');\n"
        "FILE_NAME('shelf.step','2024-01-01',('me'),(''),'','','');\nENDSEC;\nDATA;\n"
        "#1=PRODUCT('Shelf_Left','Shelf Left','',(#2));\n"
        "#5=(LENGTH_UNIT()NAMED_UNIT(*)SI_UNIT(.MILLI.,.METRE.));\nENDSEC;\nEND-ISO-10303-21;\n"
    )
    design = _design(step.encode())
    assert design.format == "step" and design.units == "mm"
    assert design.metadata["file_name"] == "shelf.step"
    assert {"Shelf assembly", "Shelf_Left", "Shelf Left"} <= set(design.names)
    assert not design.has_mesh
    with pytest.raises(InputError, match="no triangle mesh"):
        load_mesh(io.BytesIO(step.encode()))


def test_iges_start_and_global_strings():
    start = "Bracket exported from TestCAD".ljust(72) + "S      1"
    fields = "1H,,1H;,7HBRACKET,11Hbracket.igs,6HTest01,3H1.0,32,38,6,308,15,7HBRACKET,1.,2,2HMM;"
    glob = "\n".join(
        fields[i : i + 72].ljust(72) + f"G{i // 72 + 1:7d}" for i in range(0, len(fields), 72)
    )
    design = _design(f"{start}\n{glob}\n".encode())
    assert design.format == "iges"
    assert "bracket.igs" in design.names
    assert design.units == "mm"


@pytest.mark.parametrize(
    "line, expected",
    [
        ("; printing object lower-reciever.stl id:0 copy 0", "lower-reciever.stl"),
        ('M486 A"gl0ck frme"', "gl0ck frme"),
        ("EXCLUDE_OBJECT_DEFINE NAME=Shelf_Bracket CENTER=10,10", "Shelf_Bracket"),
        (";MESH:Cable_Clip.stl", "Cable_Clip.stl"),
    ],
)
def test_gcode_object_names_from_each_slicer(line, expected):
    body = ["; generated by TestSlicer 1.0", "G21", "G90", line]
    for layer in range(3):
        body.append(";LAYER_CHANGE")
        body.append(f"G1 Z{0.2 * (layer + 1):.1f} F600")
        body += [
            f"G1 X{x} Y{y} E{0.1 * i:.2f}"
            for i, (x, y) in enumerate([(10, 10), (50, 10), (50, 40)])
        ]
    design = _design("\n".join(body).encode())
    assert design.format == "gcode"
    assert expected in design.names
    assert design.toolpath["layers"] == 3
    assert design.toolpath["extents_mm"] == [40.0, 30.0, 0.6]
    assert design.metadata["slicer"].startswith("TestSlicer")


def _bgcode_block(block_type: int, payload: bytes) -> bytes:
    return struct.pack("<HHI", block_type, 0, len(payload)) + struct.pack("<H", 0) + payload


def test_bgcode_metadata_and_plain_gcode_block():
    data = b"GCDE" + struct.pack("<IH", 1, 0)
    data += _bgcode_block(0, b"Producer=PrusaSlicer 2.6.0\n")
    data += _bgcode_block(4, b"objects_info=drawer_handle\n")
    data += _bgcode_block(1, b'M486 A"drawer_handle"\nG1 Z0.2\nG1 X0 Y0 E0.1\nG1 X20 Y5 E0.2\n')
    design = _design(data)
    assert design.format == "bgcode"
    assert design.metadata["file_metadata.Producer"] == "PrusaSlicer 2.6.0"
    assert "drawer_handle" in design.names
    assert design.toolpath["extents_mm"][:2] == [20.0, 5.0]


def test_unsupported_format_name_is_an_input_error():
    with pytest.raises(InputError, match="unsupported format"):
        read_design(io.BytesIO(b"x"), "dwg")


def test_multiple_bodies_are_concatenated():
    two = trimesh.util.concatenate([BOX, BOX.copy().apply_translation([50, 0, 0])])
    mesh = load_mesh(io.BytesIO(_export(two, "stl")))
    assert len(mesh.faces) == 24
    assert np.ptp(mesh.vertices[:, 0]) == pytest.approx(60.0)


def test_meshes_over_the_geometry_limit_keep_their_names_and_record_the_limit(monkeypatch):
    from firetrace.detect import readers

    monkeypatch.setattr(readers.LIMITS, "max_geometry_triangles", 10)
    monkeypatch.setattr(readers.LIMITS, "max_triangles", 10)
    data = bytearray(_export(BOX, "stl"))
    data[:80] = b"Shelf bracket v2".ljust(80, b"\0")
    for payload in (bytes(data), _export(BOX, "stl_ascii"), _export(BOX, "obj")):
        design = _design(payload)
        assert not design.has_mesh
        assert design.metadata["triangles"] == 12
        assert "geometry not analysed" in design.warnings[0]
        assert [item["limit"] for item in design.limits] == ["triangles"]
    assert "Shelf bracket v2" in _design(bytes(data)).names


def test_large_binary_stl_is_decimated_while_read_not_skipped(monkeypatch):
    from firetrace.detect.readers import stl

    tube = trimesh.creation.annulus(r_min=4.5, r_max=12.0, height=150.0, sections=64)
    fine = tube.subdivide().subdivide()
    monkeypatch.setattr(stl, "DECIMATE_ABOVE", 1000)
    monkeypatch.setattr(stl, "DECIMATE_CHUNK", 777)  # chunk edges inside the data
    monkeypatch.setattr(stl, "DECIMATE_TARGET_VERTICES", 3000)
    design = _design(_export(fine, "stl"))
    info = design.metadata["decimated"]
    assert info["from_triangles"] == len(fine.faces)
    assert 0 < info["to_triangles"] < len(fine.faces) / 2
    mesh = design.to_trimesh()
    assert np.ptp(mesh.vertices, axis=0) == pytest.approx(np.ptp(fine.vertices, axis=0), abs=1.5)
    assert "decimated" in design.warnings[0]
    assert not design.limits


def test_ascii_stl_parsed_in_small_chunks_gives_the_same_mesh(monkeypatch):
    from firetrace.detect.readers import stl

    text = _export(trimesh.creation.icosphere(subdivisions=2), "stl_ascii")
    whole = _design(text)
    monkeypatch.setattr(stl, "ASCII_CHUNK", 97)
    chunked = _design(text)
    assert np.array_equal(whole.vertices, chunked.vertices)
    assert np.array_equal(whole.faces, chunked.faces)
    assert len(chunked.faces) == 320


def test_gltf_buffer_beside_the_file_is_read_but_no_other_path(tmp_path):
    from firetrace.detect.engine import inspect_file

    files = BOX.export(file_type="gltf")  # model.gltf and its gltf_buffer_N.bin files
    for file_name, content in files.items():
        (tmp_path / file_name).write_bytes(content)
    record = inspect_file(tmp_path / "model.gltf")
    assert record["verdict"] == "clear" and record["features"]["triangles"] == 12

    escaping = files["model.gltf"].replace(b'"uri":"', b'"uri":"../')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "model.gltf").write_bytes(escaping)
    record = inspect_file(tmp_path / "sub" / "model.gltf")
    assert record["verdict"] == "error" and "external buffer" in record["error"]


def test_3mf_model_part_over_the_xml_limit_is_named_but_not_parsed(monkeypatch):
    from firetrace.detect.readers import xml_formats

    monkeypatch.setattr(xml_formats, "MAX_MODEL_XML_BYTES", 100)
    design = _design(_three_mf())
    assert not design.has_mesh
    assert "over the 100 limit" in design.warnings[0]
    assert design.limits[0]["limit"] == "xml_bytes"
