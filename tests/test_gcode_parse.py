"""The one G-code parser: every modal case, odd spellings, and the promise that
the detector and the report read the same moves from the same text."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from firetrace.gcode import read_toolpath
from firetrace.gcode.parse import parse_moves
from firetrace.gcode.words import split_words


def ends(text: str) -> np.ndarray:
    return parse_moves(text.encode()).end


def test_absolute_and_relative_positioning():
    moves = parse_moves(b"G90\nG1 X10 Y10\nG91\nG1 X5 Y-2\nG1 X5\nG90\nG1 X1 Y1\n")
    assert moves.end[:, :2].tolist() == [[10, 10], [15, 8], [20, 8], [1, 1]]


def test_absolute_and_relative_extrusion():
    absolute = parse_moves(b"M82\nG1 X1 E1\nG1 X2 E3\nG1 X3 E2.5\n").extrusion
    assert absolute.tolist() == pytest.approx([1, 2, -0.5])
    relative = parse_moves(b"M83\nG1 X1 E1\nG1 X2 E3\nG1 X3 E-0.5\n").extrusion
    assert relative.tolist() == pytest.approx([1, 3, -0.5])
    # G91 makes E relative too (as Marlin does) unless M82 says otherwise after it
    assert parse_moves(b"G91\nG1 X1 E1\nG1 X1 E1\n").extrusion.tolist() == [1, 1]
    assert parse_moves(b"G91\nM82\nG1 X1 E1\nG1 X1 E3\n").extrusion.tolist() == [1, 2]


def test_inches_and_millimetres_even_when_indented():
    moves = parse_moves(b"  G20 ; inches\nG1 X1 Y2 Z0.01\n\tG21\nG1 X30\n")
    assert moves.end[0].tolist() == pytest.approx([25.4, 50.8, 0.254])
    assert moves.end[1, 0] == pytest.approx(30.0)
    assert moves.stats["inch_lines"] == 2


def test_arcs_by_centre_offset_stay_on_the_circle():
    moves = parse_moves(b"G1 X10 Y0\nG3 X0 Y10 I-10 J0 E1\n")
    arc = moves.end[1:]
    radius = np.hypot(arc[:, 0], arc[:, 1])
    assert radius == pytest.approx(np.full(len(arc), 10.0), abs=1e-9)
    assert len(arc) >= 16  # a quarter circle of 15.7 mm in chords of at most 0.5 mm
    assert arc[-1].tolist() == pytest.approx([0, 10, 0])
    assert moves.extrusion[1:].sum() == pytest.approx(1.0)
    assert (arc[:, 0] >= -1e-9).all() and (arc[:, 1] >= -1e-9).all()  # counter-clockwise


def test_clockwise_arc_and_full_circle():
    cw = parse_moves(b"G1 X10 Y0\nG2 X0 Y-10 I-10 J0\n").end[1:]
    assert (cw[:, 1] <= 1e-9).all()  # went down, not round the top
    full = parse_moves(b"G1 X10 Y0\nG2 X10 Y0 I-10 J0\n").end[1:]
    assert np.ptp(full[:, 0]) == pytest.approx(20.0, abs=0.05)


@pytest.mark.parametrize("radius, far_side", [(10, False), (-10, True)])
def test_arcs_by_radius_take_the_short_or_the_long_way(radius, far_side):
    text = f"G1 X0 Y0\nG2 X10 Y10 R{radius}\n".encode()
    arc = parse_moves(text).end[1:]
    # R>0: the centre sits at (10, 0), the arc bulges up-left; R<0: centre (0, 10)
    centre = (0.0, 10.0) if far_side else (10.0, 0.0)
    assert np.hypot(arc[:, 0] - centre[0], arc[:, 1] - centre[1]) == pytest.approx(
        np.full(len(arc), 10.0), abs=1e-6
    )
    sweep = sum(
        math.dist(a, b) for a, b in zip(arc[:-1, :2], arc[1:, :2], strict=True)
    ) + math.dist((0, 0), arc[0, :2])
    assert sweep == pytest.approx((3 if far_side else 1) * math.pi * 10 / 2, rel=0.01)


def test_g28_homes_the_axes_it_names_or_all():
    moves = parse_moves(b"G1 X10 Y10 Z5\nG28 X\nG1 Y20\nG28\nG1 X3\n")
    assert moves.end.tolist() == [[10, 10, 5], [0, 20, 5], [3, 0, 0]]
    # homing also ends a G92 shift of the origin
    shifted = parse_moves(b"G1 X10\nG92 X0\nG1 X5\nG28 X\nG1 X5\n").end[:, 0]
    assert shifted.tolist() == [10, 15, 5]


def test_a_parenthesis_left_open_ends_at_the_line_end():
    moves = parse_moves(b"G1 X1 (never closed Y99\nG1 Y2 (closed) E1\n")
    assert moves.end[:, :2].tolist() == [[1, 0], [1, 2]]


def test_g92_moves_the_origin_and_resets_e():
    moves = parse_moves(b"G1 X100 E5\nG92 X0 E0\nG1 X10 E1\nG28\nG1 X3\n")
    assert moves.end[:, 0].tolist() == [100, 110, 3]
    assert moves.extrusion.tolist() == pytest.approx([5, 1, 0])


def test_firmware_retraction_is_not_extrusion():
    text = b"M83\nG1 X0 Y0\nG1 X10 E1\nG10\nG0 X50\nG11\nG1 X60 E1\n"
    moves = parse_moves(text)
    assert moves.extruding.tolist() == [False, True, False, True]
    assert moves.stats["firmware_retractions"] == 1 and moves.stats["firmware_unretractions"] == 1


def test_retract_and_prime_moves_are_not_extrusions():
    moves = parse_moves(b"M83\nG1 X5 Y5 E1\nG1 E-2 F2400\nG1 E2\nG1 Z0.6 E0.1\nG1 X9 E1\n")
    assert moves.extruding.tolist() == [True, False, False, False, True]


def test_lowercase_leading_zeros_line_numbers_checksums_and_comments():
    plain = parse_moves(b"G1 X10 Y20 E1\nG1 X15 Y20 E2\n")
    odd = parse_moves(
        b"N10 g01 x10 y20 e1*57 ; comment with G1 X99\nN11 G01 (a comment X99) X15 Y20 E2*12\n"
    )
    assert odd.end.tolist() == plain.end.tolist()
    assert odd.extrusion.tolist() == plain.extrusion.tolist()


def test_modal_motion_lines_and_words_without_spaces():
    moves = parse_moves(b"G1X1Y1E1\nX2 Y2 E2\nM104 S200\nM92 X80 Y80\n")
    assert moves.end[:, :2].tolist() == [[1, 1], [2, 2]]


def test_words_that_are_not_numbers_are_nan_and_never_move_anything():
    words = split_words(b'M486 A"gl0ck"\nEXCLUDE_OBJECT_START NAME=part_1\nG1 X1.2.3 Y-\n')
    values = dict(zip(words.letters.tobytes().decode(), words.values, strict=False))
    assert math.isnan(values["A"])
    moves = parse_moves(b'M486 A"X5"\nEXCLUDE_OBJECT_START NAME=X9\nG1 X1.2.3 Y4\n')
    assert moves.end.tolist() == [[0, 4, 0]]


def test_numbers_are_read_exactly():
    words = split_words(b"G1 X-12.345 Y.5 Z+7 E0.000012 F7800\n")
    assert words.values.tolist() == [1, -12.345, 0.5, 7, 0.000012, 7800]


def _random_numbers(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    plain = [f"{v:.{d}f}" for v in rng.normal(0, 400, count) for d in range(7)]
    return plain + ["-.5", "+3", "0", "-0", "12345678", "1234567.8", ".1234567", "1.", "007"]


def test_every_number_reads_as_python_reads_it():
    numbers = _random_numbers(300, 4)
    text = "".join(f"G1 X{n}\n" for n in numbers).encode()
    values = split_words(text).values.reshape(-1, 2)
    assert values[:, 1].tolist() == [float(n) for n in numbers]


@pytest.mark.parametrize(
    "word", ["1.2.3", "-", ".", "+-1", "1-2", '5"', "1e5", "12345678901234567", "--1"]
)
def test_words_that_are_not_plain_numbers_are_nan(word):
    values = dict(zip("GXY", split_words(f"G1 X{word} Y2\n".encode()).values, strict=False))
    assert math.isnan(values["X"]) and values["Y"] == 2 or word == "1e5"


def test_reading_in_blocks_changes_nothing(monkeypatch):
    from firetrace.gcode import words

    rng = np.random.default_rng(7)
    alphabet = list(b"GXYZE0123456789.-+ ;()\n*aNxe\t=")
    text = bytes(rng.choice(alphabet, size=5000)) + b"\nG1 X" + b"1" * 300 + b" ;" + b"c" * 300
    whole = split_words(text)
    monkeypatch.setattr(words, "BLOCK_BYTES", 37)
    blocks = split_words(text)
    for name in ("letters", "values", "lines"):
        assert np.array_equal(getattr(whole, name), getattr(blocks, name), equal_nan=True), name
    assert whole.line_count == blocks.line_count


def test_only_the_letters_asked_for_are_read():
    words = split_words(b"N10 G1 X1 Y2 F300 E0.5*71\n", "GXE")
    assert words.letters.tobytes() == b"GXE" and words.values.tolist() == [1, 1, 0.5]


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"\n\n\n",
        b";only comments\n",
        b"G1",
        b"G1 X",
        b"\xff\xfe\x00garbage\x00",
        b"G1 X1e400 Y" + b"9" * 400,
        b"(unclosed comment G1 X5\nG1 X1 E1\n",
        b"G2 X10 Y10 R1\n",
    ],
)
def test_odd_input_never_raises(text):
    toolpath = read_toolpath(text)
    assert np.isfinite(toolpath.moves.end).all()


def _agreement_text() -> bytes:
    """A file the old detector and the old report read differently: G01 and
    lowercase words, an indented G20, retract-only moves, an arc."""
    lines = ["; generated by TestSlicer 1.0", "  G20", "g90", "M83"]
    for layer in range(5):
        z = 0.01 * (layer + 1)
        lines += [f"G01 Z{z:.2f}", "G01 X0 Y0"]
        lines += ["G01 E0.1", "g01 x1 y0 e0.02", "G01 X1 Y1 E0.02", "G01 E-0.1"]
        lines += ["G01 E0.1", "G03 X0 Y0 I-0.5 J-0.5 E0.03", "G01 E-0.1"]
    return "\n".join(lines).encode()


def test_detect_and_report_read_the_same_moves():
    from firetrace.detect.readers import read_design
    from firetrace.report.gcode import parse_toolpath

    text = _agreement_text()
    design = read_design(io.BytesIO(text), "gcode", "x.gcode")
    drawn = parse_toolpath(text)
    shared = read_toolpath(text)
    starts, ends_ = shared.extruding_segments()
    assert len(drawn.starts) == design.toolpath["extruding_moves"] == len(starts) > 0
    assert np.array_equal(drawn.starts, starts) and np.array_equal(drawn.ends, ends_)
    assert design.toolpath["layers"] == len(drawn.layers) == 5
    expected = [round(v, 2) for v in drawn.extents_mm[:2]]
    assert design.toolpath["extents_mm"][:2] == expected
    assert expected[0] == pytest.approx(25.4 * (1 + (math.sqrt(2) - 1) / 2), abs=0.1)
    assert design.units == "mm"
