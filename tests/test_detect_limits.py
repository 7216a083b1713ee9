"""No way out through size or padding: every limit that stops analysis makes the
verdict ``review`` with a finding naming the limit; comments, padding and unused
resources do not count toward geometry limits; very large STL files are decimated
and judged. Names with look-alike spellings and trade terms are caught."""

from __future__ import annotations

import io
import zipfile

import pytest
import trimesh

from firetrace.detect.engine import default_rules, inspect_stream
from firetrace.detect.keywords import keyword_hits

NS = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"


def _tube() -> trimesh.Trimesh:
    outer = trimesh.creation.cylinder(radius=11, height=150, sections=48)
    bore = trimesh.creation.cylinder(radius=4.5, height=160, sections=48)
    return trimesh.boolean.difference([outer, bore], engine="manifold")


def _object(number: int, mesh: trimesh.Trimesh) -> str:
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in mesh.vertices)
    tris = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in mesh.faces)
    return (
        f'<object id="{number}" name="part{number}"><mesh><vertices>{vertices}</vertices>'
        f"<triangles>{tris}</triangles></mesh></object>"
    )


def _three_mf(resources: str, items: str, padding: str = "") -> bytes:
    model = (
        f'<?xml version="1.0"?>{padding}<model unit="millimeter" xmlns="{NS}">'
        f"<resources>{resources}</resources>{padding}<build>{items}</build></model>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("3D/3dmodel.model", model)
    return buffer.getvalue()


def _inspect(data: bytes, name: str) -> dict:
    return inspect_stream(io.BytesIO(data), name=name, size=len(data))


def test_comments_and_padding_do_not_count_toward_the_xml_limit(monkeypatch):
    from firetrace.detect.readers import xml_formats

    tube = _tube()
    bare = _three_mf(_object(1, tube), '<item objectid="1"/>')
    assert _inspect(bare, "p.3mf")["verdict"] != "clear"
    monkeypatch.setattr(xml_formats, "MAX_MODEL_XML_BYTES", 400_000)
    padding = "<!--" + "x" * 2_000_000 + "-->" + " " * 1_000_000 + "<?pi junk?>"
    record = _inspect(_three_mf(_object(1, tube), '<item objectid="1"/>', padding), "p.3mf")
    assert record["verdict"] != "clear" and "bore.calibre_range" in {
        f["rule"] for f in record["findings"]
    }
    assert not any(f["rule"].startswith("limit.") for f in record["findings"])


def test_a_comment_in_cdata_is_text_not_a_comment():
    from firetrace.detect.readers.xml_formats import without_comments

    text = b"<a><![CDATA[ <!-- kept --> ]]><!-- gone --><b/></a>"
    assert without_comments(text) == b"<a><![CDATA[ <!-- kept --> ]]><b/></a>"


def test_xml_over_the_limit_is_review_naming_the_limit(monkeypatch):
    from firetrace.detect.readers import xml_formats

    monkeypatch.setattr(xml_formats, "MAX_MODEL_XML_BYTES", 1000)
    record = _inspect(_three_mf(_object(1, _tube()), '<item objectid="1"/>'), "p.3mf")
    assert record["verdict"] == "review"
    assert [f["rule"] for f in record["findings"]] == ["limit.xml_bytes"]
    assert "not analysed" in record["findings"][0]["detail"]


def test_unused_resources_do_not_count_toward_the_triangle_limit(monkeypatch):
    from firetrace.detect import readers

    big = trimesh.creation.icosphere(subdivisions=4)  # 5,120 triangles, never placed
    resources = _object(1, _tube()) + _object(2, big)
    monkeypatch.setattr(readers.LIMITS, "max_geometry_triangles", 2000)
    record = _inspect(_three_mf(resources, '<item objectid="1"/>'), "p.3mf")
    assert not any(f["rule"].startswith("limit.") for f in record["findings"])
    placed_both = _three_mf(resources, '<item objectid="1"/><item objectid="2"/>')
    record = _inspect(placed_both, "p.3mf")
    assert "limit.triangles" in {f["rule"] for f in record["findings"]}
    assert record["verdict"] != "clear"


@pytest.mark.parametrize("file_type", ["stl", "stl_ascii", "obj"])
def test_meshes_over_a_reader_limit_are_review_never_clear(monkeypatch, file_type):
    from firetrace.detect import readers

    monkeypatch.setattr(readers.LIMITS, "max_geometry_triangles", 100)
    monkeypatch.setattr(readers.LIMITS, "max_triangles", 100)
    data = trimesh.creation.icosphere(subdivisions=2).export(file_type=file_type)
    record = _inspect(data.encode() if isinstance(data, str) else data, "ball.bin")
    assert record["verdict"] == "review", record["error"]
    assert [f["rule"] for f in record["findings"]] == ["limit.triangles"]


def test_a_large_binary_stl_is_decimated_and_judged(monkeypatch):
    from firetrace.detect.readers import stl

    monkeypatch.setattr(stl, "DECIMATE_ABOVE", 5000)
    monkeypatch.setattr(stl, "DECIMATE_TARGET_VERTICES", 20_000)
    fine = _tube().subdivide().subdivide()
    record = _inspect(fine.export(file_type="stl"), "part.stl")
    assert record["metadata"]["decimated"]["from_triangles"] == len(fine.faces)
    assert "bore.calibre_range" in {f["rule"] for f in record["findings"]}


@pytest.mark.parametrize(
    "name, term",
    [
        ("g1ock19_frme.stl", "glock"),
        ("GL0CK-17.3mf", "glock"),
        ("ar-15_80_lower.stl", "80 lower"),
        ("AR15 80% lower jig.stl", "lower jig"),
        ("unfinished_frame_pf940v2.stl", "pf940"),
        ("reciever_blank.3mf", "receiver blank"),
        ("5h0tgun_stock.stl", "shotgun"),
    ],
)
def test_look_alike_spellings_and_trade_terms_are_caught(name, term):
    found = {h["term"] for h in keyword_hits([name], default_rules().terms)["strong"]}
    assert term in found


@pytest.mark.parametrize(
    "name", ["padlock_key.stl", "lock_nut_M8.stl", "G19_slide_bearing_mount.stl", "80mm_fan.stl"]
)
def test_ordinary_words_near_terms_are_not_caught(name):
    hits = keyword_hits([name], default_rules().terms)
    assert not hits["strong"]


def test_trailing_model_numbers_and_ambiguous_digits_are_read_every_way():
    from firetrace.detect.keywords import readings

    table = {"1": ["l", "i"], "0": "o"}
    assert readings("g1ock19", table)[:2] == ["g1ock19", "g1ock"]
    assert {"glock", "giock"} <= set(readings("g1ock19", table))
    assert readings("9mm", table) == ["9mm"]  # digits alone are a number, not a word
    assert {"ar15", "ar"} <= set(readings("ar15", table))


@pytest.mark.parametrize("name", ["p1.stl", "case 7/p1.stl", "scan.zip!/p1.STL", "pi.obj"])
def test_the_extension_is_not_read_as_a_word_of_the_name(name):
    # "p1" + "stl" joined read "pistl", one letter from "pistol"
    record = _inspect(_tube().export(file_type="stl"), name)
    assert not [f for f in record["findings"] if f["rule"].startswith("keyword.")]


def test_a_name_without_a_design_extension_keeps_its_last_word():
    record = _inspect(_tube().export(file_type="stl"), "parts/lower.receiver")
    assert "keyword.firearm_term" in {f["rule"] for f in record["findings"]}
