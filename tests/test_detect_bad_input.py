"""Bad input: every hostile or broken file gives an error record with a reason,
never an exception, and memory stays bounded (measured with tracemalloc, which
sees numpy's allocations)."""

from __future__ import annotations

import io
import re
import struct
import tracemalloc
import zipfile

import numpy as np
import trimesh

from firetrace.detect.engine import inspect_file, inspect_stream

BOX = trimesh.creation.box((10, 20, 30))
MB = 1024 * 1024


def _export(mesh, file_type: str) -> bytes:
    data = mesh.export(file_type=file_type)
    return data.encode() if isinstance(data, str) else data


def inspect_bytes(data: bytes, name: str, fmt: str | None = None) -> tuple[dict, float]:
    """The record, and the peak traced allocation in MB while producing it."""
    tracemalloc.start()
    try:
        record = inspect_stream(io.BytesIO(data), name=name, size=len(data), fmt=fmt)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return record, peak / MB


def assert_error(record: dict, *words: str) -> None:
    assert record["verdict"] == "error", record
    assert record["error"] and "\n" not in record["error"]
    for word in words:
        assert word.lower() in record["error"].lower(), record["error"]
    assert record["findings"] == [] and record["score"] == 0.0


def test_empty_file():
    record, _ = inspect_bytes(b"", "empty.stl")
    assert_error(record, "empty")


def test_truncated_binary_stl():
    data = _export(BOX, "stl")[:-70]
    record, _ = inspect_bytes(data, "cut.stl")
    assert record["format"] == "stl"
    assert_error(record, "truncated")


def test_binary_stl_claiming_four_billion_triangles_is_refused_before_allocation():
    data = b"\0" * 80 + struct.pack("<I", 0xFFFFFFFF) + _export(BOX, "stl")[84:]
    record, peak = inspect_bytes(data, "huge.stl", fmt="stl")
    assert_error(record, "4,294,967,295")
    assert peak < 20


def test_nan_and_infinite_coordinates():
    text = _export(BOX, "stl_ascii").decode()
    with_nan = re.sub(r"vertex\s+\S+", "vertex nan", text, count=1)
    record, _ = inspect_bytes(with_nan.encode(), "nan.stl")
    assert_error(record, "nan or infinite")

    raw = bytearray(_export(BOX, "stl"))
    struct.pack_into("<f", raw, 84 + 12, float("inf"))  # first corner's x
    record, _ = inspect_bytes(bytes(raw), "inf.stl")
    assert_error(record, "nan or infinite")


def test_degenerate_mesh():
    flat = np.zeros((4, 3, 3), dtype=np.float32)
    flat[:, 1, 0] = 1.0  # every triangle is a line segment
    data = b"\0" * 80 + struct.pack("<I", 4)
    for tri in flat:
        data += struct.pack("<12fH", 0, 0, 0, *tri.ravel(), 0)
    record, _ = inspect_bytes(data, "flat.stl")
    assert_error(record, "degenerate")

    collinear = b"\0" * 80 + struct.pack("<I", 2)
    for x in (0.0, 5.0):
        collinear += struct.pack("<12fH", 0, 0, 0, x, 0, 0, x + 1, 0, 0, x + 2, 0, 0, 0)
    record, _ = inspect_bytes(collinear, "line.stl")
    assert_error(record, "degenerate")


def test_non_manifold_mesh_is_analysed_with_a_warning():
    # three boxes' faces sharing one edge: edges used by more than two triangles
    box = BOX.copy()
    fin = trimesh.Trimesh(
        vertices=[box.vertices[0], box.vertices[1], [-30.0, -30.0, -30.0]], faces=[[0, 1, 2]]
    )
    mesh = trimesh.util.concatenate([box, fin])
    record, _ = inspect_bytes(_export(mesh, "stl"), "fin.stl")
    assert record["verdict"] in ("clear", "review", "high")
    assert record["features"]["nonmanifold_edges"] >= 1
    assert not record["features"]["watertight"]
    assert any("non-manifold" in w for w in record["warnings"])


def _three_mf(model_xml: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("3D/3dmodel.model", model_xml)
    return buffer.getvalue()


MODEL = (
    '<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">'
    '<resources><object id="1" name="{name}"><mesh><vertices>'
    '<vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/>'
    '<vertex x="0" y="0" z="1"/></vertices><triangles><triangle v1="0" v2="2" v3="1"/>'
    '<triangle v1="0" v2="1" v3="3"/><triangle v1="0" v2="3" v3="2"/>'
    '<triangle v1="1" v2="2" v3="3"/></triangles></mesh></object></resources>'
    '<build><item objectid="1"/></build></model>'
)


def test_3mf_entity_bomb_is_refused():
    entities = '<!ENTITY lol "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    xml = f'<?xml version="1.0"?><!DOCTYPE model [{entities}]>' + MODEL.format(name="&lol9;")
    record, peak = inspect_bytes(_three_mf(xml), "bomb.3mf")
    assert_error(record, "entity")
    assert peak < 50


def test_3mf_external_entity_is_refused_and_not_read():
    xml = (
        '<?xml version="1.0"?><!DOCTYPE model [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + MODEL.format(name="&xxe;")
    )
    record, _ = inspect_bytes(_three_mf(xml), "xxe.3mf")
    assert_error(record, "entity")
    assert "root:" not in str(record)


def test_valid_3mf_parses():
    record, _ = inspect_bytes(_three_mf(MODEL.format(name="tetra")), "ok.3mf")
    assert record["verdict"] == "clear" and record["error"] is None
    assert record["features"]["triangles"] == 4


def test_corrupt_zip_container():
    good = _three_mf(MODEL.format(name="tetra"))
    record, _ = inspect_bytes(good[: len(good) // 2], "half.3mf")
    assert_error(record, "zip")

    damaged = bytearray(good)
    start = damaged.index(b"3D/3dmodel.model") + len("3D/3dmodel.model")
    for i in range(start + 5, start + 60):
        damaged[i] ^= 0x5A
    record, _ = inspect_bytes(bytes(damaged), "damaged.3mf")
    assert record["verdict"] == "error" and record["error"]


def test_file_renamed_to_the_wrong_extension():
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
    record, _ = inspect_bytes(jpeg, "receiver.stl")
    assert_error(record, "not a recognised design file", "jpeg")

    record, _ = inspect_bytes(_export(BOX, "obj"), "box.stl")
    assert record["format"] == "obj" and record["verdict"] == "clear"
    assert any("extension says stl" in w for w in record["warnings"])


def test_missing_file_is_an_error_record(tmp_path):
    record = inspect_file(tmp_path / "gone.stl")
    assert record["verdict"] == "error" and "cannot read" in record["error"]


def test_gltf_pointing_outside_is_not_followed():
    document = (
        '{"asset": {"version": "2.0"}, "buffers": [{"uri": "../../../etc/passwd", '
        '"byteLength": 10}], "meshes": []}'
    )
    record, _ = inspect_bytes(document.encode(), "scene.gltf")
    assert_error(record, "external buffer")


def test_step_without_header_section():
    record, _ = inspect_bytes(b"ISO-10303-21;\nDATA;\n#1=FOO();\n", "x.step")
    assert_error(record, "header")


def test_parser_messages_spanning_lines_become_one_line():
    # Found by the reader fuzz test: lxml's message for a broken XML declaration
    # spans two lines, which would break JSONL/CSV rows and tables.
    amf = b'<\x00xml version="1.0"?><amf unit="millimeter"><object id="0"></object></amf>'
    record, _ = inspect_bytes(amf, "k.amf")
    assert record["verdict"] == "error"
    assert record["error"] and "\n" not in record["error"]
