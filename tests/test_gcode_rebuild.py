"""Printed objects rebuilt from their layers and judged by the mesh rules: each
marker dialect, a file without markers, several objects on one plate, and a
stand-in hidden among benign objects."""

from __future__ import annotations

import io

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


@pytest.mark.slow
@pytest.mark.parametrize("style", ["prusa", "m486", "klipper", "cura"])
def test_a_plate_is_judged_object_by_object(style):
    objects = [
        ("bracket_a", "block", (40, 40)),
        ("spool_tube", "tube", (110, 40)),
        ("bracket_b", "block", (40, 110)),
    ]
    bodies = bodies_of(plate_gcode(objects, style=style))
    assert [b.name for b in bodies] == ["bracket_a", "spool_tube", "bracket_b"]
    verdicts = {b.name: judge(b)[1] for b in bodies}
    assert verdicts == {"bracket_a": "clear", "spool_tube": "review", "bracket_b": "clear"}


@pytest.mark.slow
def test_a_stand_in_hidden_among_benign_objects_is_found():
    benign = [(f"clip_{i}", "block", (30 + 40 * (i % 4), 30 + 30 * (i // 4))) for i in range(7)]
    plate = benign[:3] + [("clip_7", "tube", (90, 150))] + benign[3:]
    bodies = bodies_of(plate_gcode(plate, style="prusa"))
    flagged = [b.name for b in bodies if judge(b)[1] != "clear"]
    assert flagged == ["clip_7"]


def test_inspect_judges_a_sliced_tube_like_its_mesh():
    data = tube_gcode("prusa")
    record = inspect_stream(io.BytesIO(data), name="part.gcode", size=len(data))
    assert record["verdict"] == "review"
    assert "bore.calibre_range" in [f["rule"] for f in record["findings"]]
    assert record["metadata"]["slicer"] == "PrusaSlicer"


def test_object_names_are_evidence_like_file_names():
    text = plate_gcode([("glock_frame.stl", "block", (100, 100))], style="prusa")
    record = inspect_stream(io.BytesIO(text), name="plate.gcode", size=len(text))
    assert record["keywords"].get("strong"), record["keywords"]
    assert "glock_frame.stl" in record["names"]
    assert record["metadata"]["source_files"] == ["glock_frame.stl"]
