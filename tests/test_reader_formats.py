"""Readers of each format, field by field: the exact names, metadata, units and
refusals of small made-up files (complete, truncated, empty and hostile), read
through :func:`read_design` so that each reader is judged on its own (issue 17.8:
the mutation score of the readers)."""

from __future__ import annotations

import io

import pytest

from firetrace.detect.readers import read_design
from firetrace.detect.readers.header import SCAN_BYTES
from firetrace.detect.sniff import sniff_bytes
from firetrace.errors import InputError


def _read(data: bytes, fmt: str, name: str | None = None):
    return read_design(io.BytesIO(data), fmt, name)


# --- STEP ------------------------------------------------------------------------


def _step(data: str = "", header: str = "HEADER;") -> bytes:
    return f"ISO-10303-21;\n{header}\n{data}\nENDSEC;\nEND-ISO-10303-21;\n".encode("latin-1")


def test_step_names_and_metadata_in_order_with_quotes_unescaped():
    design = _read(
        _step(
            "FILE_DESCRIPTION ( ( ' Shelf ''A'' ' ),'2;1');\n"
            "file_name ( 'shelf.step','2024',(''),(''),'','','');\n"
            "#1=PRODUCT ( 'Left' , 'Left part' , '' ,(#2));\n"
            "#2=product('Right','Left','Left part',(#2));\n"
            "#3=XPRODUCT('Hidden','Hidden','Hidden');\n"
        ),
        "step",
    )
    assert design.format == "step"
    assert design.metadata == {
        "file_name": "shelf.step",
        "file_description": "Shelf 'A'",
        "products": ["Left", "Left part", "Right"],
    }
    assert design.names == ["shelf.step", "Shelf 'A'", "Left", "Left part", "Right"]
    assert design.units is None
    assert design.bodies == [] and design.warnings == [] and design.limits == []


def test_step_without_file_name_or_description_and_blank_ones_left_out():
    design = _read(_step("FILE_NAME('  ','');\n"), "step")
    assert design.metadata == {"file_name": "", "products": []}
    assert design.names == []
    assert _read(_step(), "step").metadata == {"products": []}


def test_step_keeps_the_first_hundred_products():
    rows = "".join(f"#{i}=PRODUCT('p{i}','','');\n" for i in range(150))
    design = _read(_step(rows), "step")
    assert design.metadata["products"] == [f"p{i}" for i in range(100)]
    assert design.names == [f"p{i}" for i in range(100)]


@pytest.mark.parametrize(
    "unit, expected",
    [
        ("SI_UNIT(.MILLI.,.METRE.)", "mm"),
        ("si_unit( .milli. , .metre. )", "mm"),
        ("SI_UNIT(.CENTI.,.METRE.)", "cm"),
        ("SI_UNIT($,.METRE.)", "m"),
        ("SI_UNIT(.KILO.,.METRE.)", None),
        ("SI_UNIT(.MILLI.,.SECOND.)", None),
        ("CONVERSION_BASED_UNIT('INCH',#9)", "inch"),
        ("conversion_based_unit ( 'INCH',#9)", "inch"),
        ("CONVERSION_BASED_UNIT('FOOT',#9)", None),
        ("SI_UNIT(.MILLI.,.METRE.); CONVERSION_BASED_UNIT('INCH',#9)", "inch"),
        ("CONVERSION_BASED_UNIT('INCH',#9); SI_UNIT(.MILLI.,.METRE.)", "inch"),
        ("SI_UNIT(.CENTI.,.METRE.); SI_UNIT(.MILLI.,.METRE.)", "cm"),
    ],
)
def test_step_length_unit(unit, expected):
    assert _read(_step(f"#5={unit};"), "step").units == expected


def test_step_header_keyword_found_in_any_case_within_the_first_64_kib():
    assert _read(_step(header="header;"), "step").format == "step"
    late = _step(header=" " * 65_515 + "HEADER;")
    assert late.index(b"HEADER;") + 7 == 65_536
    assert _read(late, "step").format == "step"
    too_late = _step(header=" " * 65_516 + "HEADER;")
    with pytest.raises(InputError, match=r"^STEP without a HEADER section \(truncated\?\)$"):
        _read(too_late, "step")


def test_step_signature_within_the_first_kib_only():
    with pytest.raises(InputError, match="^STEP without the ISO-10303-21 signature$"):
        _read(b"HEADER;\nFILE_NAME('x');\n", "step")
    near = b" " * 1012 + _step()
    assert near.index(b"ISO-10303-21") + 12 == 1024
    assert _read(near, "step").format == "step"
    with pytest.raises(InputError, match="signature"):
        _read(b" " * 1013 + _step(), "step")


def test_step_truncated_after_the_signature_is_refused():
    with pytest.raises(InputError, match="HEADER section"):
        _read(b"ISO-10303-21;\nHEA", "step")
    with pytest.raises(InputError, match="^empty file$"):
        _read(b"", "step")


def test_step_is_read_up_to_its_scan_limit_only(monkeypatch):
    from firetrace.detect.readers import header

    monkeypatch.setattr(header, "SCAN_BYTES", 70_000)
    _step_scan_limit(70_000)


@pytest.mark.slow
def test_step_is_read_up_to_sixteen_million_bytes():
    assert SCAN_BYTES == 16_000_000
    _step_scan_limit(SCAN_BYTES)


def _step_scan_limit(limit: int):
    product = b"#1=PRODUCT('Tail','',''"  # the last byte the pattern needs
    head = _step()
    fill = limit - len(head) - len(product)
    inside = head + b" " * fill + product + b");\n"
    assert _read(inside, "step").metadata["products"] == ["Tail"]
    outside = head + b" " * (fill + 1) + product + b");\n"
    assert _read(outside, "step").metadata["products"] == []


def test_step_text_is_read_as_latin_1():
    design = _read(_step("FILE_NAME('caf\xe9\xff.stp');"), "step")
    assert design.names == ["caf\xe9\xff.stp"]


def test_step_signature_sniffed_after_white_space_only():
    assert sniff_bytes(b"  \nISO-10303-21;\nHEADER;\n", 30) == "step"
    assert sniff_bytes(b"x ISO-10303-21;\nHEADER;\n", 30) != "step"


# --- IGES ------------------------------------------------------------------------


def _iges(start: list[str], glob: str, extra: str = "") -> bytes:
    lines = [text.ljust(72) + f"S{i + 1:7d}" for i, text in enumerate(start)]
    lines += [glob[i : i + 72].ljust(72) + f"G{i // 72 + 1:7d}" for i in range(0, len(glob), 72)]
    return ("\n".join(lines) + "\n" + extra).encode("latin-1")


GLOBAL = "1H,,1H;,7HBRACKET,11Hbracket.igs,6HTest01,3H1.0,32,38,6,308,15,7HBRACKET,1.,{unit},2HMM;"


def test_iges_start_text_global_strings_and_names_in_order():
    design = _read(_iges(["  Bracket from", "TestCAD  "], GLOBAL.format(unit=2)), "iges")
    assert design.format == "iges"
    assert design.metadata == {
        "start": "Bracket from TestCAD",
        "global_strings": ["BRACKET", "bracket.igs", "Test01", "1.0", "BRACKET", "MM"],
    }
    assert design.names == [
        "Bracket from TestCAD", "BRACKET", "bracket.igs", "Test01", "1.0", "BRACKET", "MM",
    ]  # fmt: skip
    assert design.units == "mm"


@pytest.mark.parametrize(
    "flag, expected",
    [("1", "inch"), ("2", "mm"), ("6", "m"), ("10", "cm"), ("4", "foot"), ("3", None),
     (" 2 ", "mm"), ("2.", None), ("", None)],
)  # fmt: skip
def test_iges_unit_flag_is_the_fourteenth_global_field(flag, expected):
    assert _read(_iges(["x"], GLOBAL.format(unit=flag)), "iges").units == expected


def test_iges_with_fewer_than_fourteen_global_fields_has_no_unit():
    fields = "1H,,1H;,7HBRACKET,11Hbracket.igs,6HTest01,3H1.0,32,38,6,308,15,7HBRACKET,1.;"
    design = _read(_iges(["x"], fields), "iges")
    assert design.units is None
    # fourteen fields, the last one the flag
    assert _read(_iges(["x"], fields[:-1] + ",2;"), "iges").units is None
    assert _read(_iges(["x"], fields[:-1] + ",2,;"), "iges").units == "mm"


def test_iges_hollerith_strings_may_hold_commas_and_semicolons():
    glob = "1H,,1H;,9HA,B;C D E,2H;;,3H1,2,20,2;"
    design = _read(_iges(["x"], glob), "iges")
    assert design.metadata["global_strings"] == ["A,B;C D E", ";;", "1,2"]
    # the number before H counts only at the start of a field
    glob = "1H,,1H;,4HAB2H,3HXYZ;"
    assert _read(_iges(["x"], glob), "iges").metadata["global_strings"] == ["AB2H", "XYZ"]
    glob = "1H,,1H;, 4HABCD,x5HEFGHI,7HJKLMNOP;"
    assert _read(_iges(["x"], glob), "iges").metadata["global_strings"] == ["ABCD", "JKLMNOP"]


def test_iges_global_strings_and_names_are_capped():
    glob = "1H,,1H;," + ",".join(f"2HS{i % 10}" for i in range(30)) + ";"
    design = _read(_iges([], glob), "iges")
    assert design.metadata["global_strings"] == [f"S{i % 10}" for i in range(20)]
    assert design.names == [f"S{i}" for i in range(6)]
    assert "start" not in design.metadata


def test_iges_start_text_is_cut_for_metadata_and_names():
    start = ["A" * 72] * 10
    design = _read(_iges(start, ""), "iges")
    joined = " ".join(["A" * 72] * 10)
    assert design.metadata["start"] == joined[:500]
    assert design.names == [joined[:200]]
    assert design.metadata["global_strings"] == []
    assert design.units is None


def test_iges_lines_shorter_than_73_columns_or_of_other_sections_are_ignored():
    data = _iges(["Part"], "", extra="short S\n" + "D".ljust(72) + "D      1\n")
    data += ("B" * 71 + "S").encode()
    design = _read(data, "iges")
    assert design.metadata["start"] == "Part"
    with pytest.raises(InputError, match="^IGES without start or global section$"):
        _read(b"hello\n" + ("x" * 72 + "D      1\n").encode(), "iges")


def test_iges_is_read_up_to_four_million_bytes():
    head = _iges(["Part"], "")
    tail = ("Late".ljust(72) + "S").encode()  # the section letter is the last byte read
    inside = head + b"\n" * (4_000_000 - len(head) - len(tail)) + tail
    assert _read(inside, "iges").metadata["start"] == "Part Late"
    outside = head + b"\n" * (4_000_001 - len(head) - len(tail)) + tail
    assert _read(outside, "iges").metadata["start"] == "Part"


def _iges_head(data: bytes) -> bool:
    from firetrace.detect.readers.header import _looks_like_iges
    from firetrace.detect.sniff import make_head

    return _looks_like_iges(make_head(data, len(data)))


@pytest.mark.parametrize(
    "data, expected",
    [
        (("Part".ljust(72) + "S1      \n").encode(), True),
        (("Part".ljust(72) + "S0000001x\n").encode(), True),
        (("Part".ljust(72) + "S000001X\n").encode(), False),
        (("Part".ljust(72) + "S      1\r\n").encode(), True),
        (("\rPart".ljust(73) + "S      1\n").encode(), False),
        # the first line only: here a second line has an S where a joined text would
        (b"x" * 10 + b"\n" + b" " * 61 + b"S0000001\nend\n", False),
    ],
)
def test_iges_signature_reads_the_first_line_only(data, expected):
    assert _iges_head(data) is expected


def test_iges_global_strings_across_lines_and_a_global_line_without_sequence_number():
    glob = "1H,,1H;," + "A" * 60 + ",20H" + "0123456789" * 2 + ",2;"
    lines = [glob[:72] + "G      1", glob[72:].ljust(72) + "G"]
    design = _read(("Part".ljust(72) + "S      1\n" + "\n".join(lines) + "\n").encode(), "iges")
    assert design.metadata["global_strings"] == ["0123456789" * 2]


def test_iges_unit_flag_as_the_last_of_exactly_fourteen_fields():
    fields = "1H,,1H;,7HBRACKET,11Hbracket.igs,6HTest01,3H1.0,32,38,6,308,15,7HBRACKET,1.,2"
    assert _read(_iges(["x"], fields), "iges").units == "mm"


def test_iges_sniffed_by_the_section_letter_in_column_73():
    line = "Part".ljust(72) + "S      1"
    assert sniff_bytes(f"{line}\n".encode(), 81) == "iges"
    assert sniff_bytes(f"{line}\r\nmore\n".encode(), 87) == "iges"
    assert sniff_bytes(("Part".ljust(72) + "S0000001\n").encode(), 81) == "iges"
    assert sniff_bytes(("Part".ljust(72) + "G      1\n").encode(), 81) != "iges"
    assert sniff_bytes(("Part".ljust(72) + "S      x\n").encode(), 81) != "iges"
    assert sniff_bytes(("Part".ljust(71) + "S      1\n").encode(), 80) != "iges"
    assert sniff_bytes(("Part".ljust(72) + "S\n").encode(), 74) != "iges"


# --- G-code and binary G-code ----------------------------------------------------

SQUARE = b"""; generated by PrusaSlicer 2.6.0
; printing object shelf.stl id:0 copy 0
G21
G90
;LAYER_CHANGE
G1 Z0.2 F600
G1 X10 Y10 E0.1
G1 X50 Y10 E0.2
G1 X50 Y40 E0.3
G1 X10 Y40 E0.4
G1 X10 Y10 E0.5
;LAYER_CHANGE
G1 Z0.4
G1 X10 Y10 E0.6
G1 X50 Y10 E0.7
G1 X50 Y40 E0.8
G1 X10 Y40 E0.9
G1 X10 Y10 E1.0
; stop printing object shelf.stl id:0 copy 0
; layer_height = 0.2
; filament_type = PLA
; printer_model = MK4
"""


def _gcode_head(data: bytes):
    from firetrace.detect.readers.gcode import looks_like_gcode
    from firetrace.detect.sniff import make_head

    return looks_like_gcode(make_head(data, len(data)))


@pytest.mark.parametrize(
    "text, expected",
    [
        (b"G28\nG1 X1\nM104 S200\n", True),
        (b"G28\nG1 X1\n", False),
        (b"g28\ng1 x1\nm104 s200\n", True),
        (b"  G1 X1\n  G1;\nG1\n", True),
        (b"G1234 X1\nG1 X1\nG1 X2\n", False),
        (b"G28\n; generated by TestSlicer\n", True),
        (b"G28\n; Generated With Cura\n", True),
        (b"G28\n;FLAVOR:Marlin\n", True),
        (b"G28\nplain text\n", False),
        (b"; generated by TestSlicer\n", True),
        (b";LAYER:0\n", True),
        (b"; just a comment\n", False),
        (b"generated by TestSlicer\n", False),
        (b"<svg>G1 X1\nG1 X2\nG1 X3\n; generated by TestSlicer</svg>", False),
        (b"  \n<path d='G1'/>\nG1 X2\nG1 X3\nG1 X4\n", False),
    ],
)
def test_gcode_signature(text, expected):
    assert _gcode_head(text) is expected


def test_gcode_names_metadata_figures_and_one_body_per_object():
    design = _read(SQUARE, "gcode")
    assert design.format == "gcode" and design.units == "mm"
    assert design.metadata == {
        "slicer": "PrusaSlicer",
        "slicer_version": "2.6.0",
        "printer_model": "MK4",
        "filament_type": "PLA",
        "objects": ["shelf.stl"],
        "source_files": ["shelf.stl"],
    }
    assert design.names == ["shelf.stl"]
    [body] = design.bodies
    assert (body.name, body.kind) == ("shelf.stl", "object")
    bodies = design.toolpath.pop("bodies")
    assert bodies == [
        {"name": "shelf.stl", "triangles": len(body.faces), "pitch_mm": 0.3, "layer_mm": 0.2}
    ]
    assert len(body.faces) > 100
    assert design.toolpath == {
        "extruding_moves": 9,
        "part_moves": 9,
        "layers": 2,
        "extents_mm": [50.0, 40.0, 0.4],
        "layer_height_mm": 0.2,
        "line_width_mm": 0.45,
        "objects": 1,
        "markers": ["printing_object"],
        "lines": 22,
    }
    assert design.warnings == [] and design.limits == []


def test_gcode_extents_are_the_part_s_when_it_has_moves():
    skirt = b";TYPE:Skirt\nG1 X-30 Y-30 E5\nG1 X-31 Y-30 E5.1\n;TYPE:External perimeter\n"
    design = _read(SQUARE.replace(b";LAYER_CHANGE\nG1 Z0.2", skirt + b";LAYER_CHANGE\nG1 Z0.2"),
                   "gcode")  # fmt: skip
    assert design.toolpath["part_moves"] == 8
    assert design.toolpath["extruding_moves"] == 10
    assert design.toolpath["extents_mm"] == [40.0, 30.0, 0.4]  # the skirt's -31 left out


def test_gcode_with_objects_but_no_extrusion_keeps_its_names_without_a_warning():
    design = _read(b'M486 S0 A"knob"\nG0 X1 Y1\nG0 X5 Y5\n', "gcode")
    assert design.names == ["knob"] and design.metadata == {"objects": ["knob"]}
    assert design.bodies == [] and design.warnings == []
    assert design.toolpath == {
        "extruding_moves": 0, "part_moves": 0, "layers": 0, "extents_mm": None,
        "layer_height_mm": 0.2, "line_width_mm": 0.45, "objects": 1, "markers": ["m486"],
        "lines": 3, "bodies": [],
    }  # fmt: skip


def test_gcode_of_skirt_moves_only_warns_that_nothing_was_rebuilt():
    design = _read(b";TYPE:Skirt\nG1 Z0.2\nG1 X0 Y0\nG1 X10 Y0 E1\nG1 X10 Y10 E2\n", "gcode")
    assert design.bodies == [] and design.names == [] and design.metadata == {}
    assert design.warnings == ["no part geometry to rebuild (only skirt, support or purge moves)"]
    assert design.toolpath["extruding_moves"] == 2 and design.toolpath["part_moves"] == 0
    assert design.toolpath["extents_mm"] == [10.0, 10.0, 0.2]
    assert design.toolpath["layers"] == 0 and design.toolpath["bodies"] == []


def test_gcode_layers_counted_from_markers_when_no_part_layer_is_known():
    text = b";TYPE:Skirt\n;LAYER_CHANGE\nG1 Z0.2\nG1 X10 Y0 E1\n;LAYER_CHANGE\nG1 X0 Y5 E2\n"
    design = _read(text, "gcode")
    assert design.toolpath["part_moves"] == 0
    assert design.toolpath["layers"] == 2


def test_gcode_without_extrusion_or_object_is_refused():
    with pytest.raises(InputError, match="^gcode without any extruding move or object name$"):
        _read(b"G21\nG0 X1 Y1\nG0 X5 Y5\n", "gcode")
    with pytest.raises(InputError, match="^empty file$"):
        _read(b"", "gcode")


def test_gcode_over_the_text_limit_is_refused_before_it_is_read():
    from firetrace.detect.readers import LIMITS

    limit = LIMITS.max_text_bytes
    with pytest.raises(
        InputError, match=f"^G-code of {limit + 1:,} bytes exceeds the {limit:,} limit$"
    ):
        read_design(io.BytesIO(SQUARE), "gcode", None, limit + 1)
    assert read_design(io.BytesIO(SQUARE), "gcode", None, limit).names == ["shelf.stl"]
    with pytest.raises(InputError, match=f"^bgcode of {limit + 1:,} bytes exceeds the {limit:,}"):
        read_design(io.BytesIO(b"GCDE"), "bgcode", None, limit + 1)


def test_gcode_with_a_nul_byte_in_its_first_64_kib_is_binary():
    with pytest.raises(InputError, match=r"^G-code with binary content \(not text\)$"):
        _read(SQUARE + b"\x00", "gcode")
    padded = SQUARE + b";" * (65_536 - len(SQUARE) - 1) + b"\x00"
    with pytest.raises(InputError, match="binary content"):
        _read(padded, "gcode")
    late = SQUARE + b";" * (65_536 - len(SQUARE)) + b"\x00\n"
    assert _read(late, "gcode").names == ["shelf.stl"]


def test_gcode_over_the_geometry_limit_keeps_its_format_without_parsing():
    from firetrace.detect.readers.gcode import MAX_GEOMETRY_BYTES, design_from_gcode

    data = SQUARE + b";" * (MAX_GEOMETRY_BYTES + 1 - len(SQUARE))
    design = design_from_gcode(data, "bgcode")
    assert design.format == "bgcode" and design.names == [] and design.toolpath is None
    detail = (
        f"bgcode: {MAX_GEOMETRY_BYTES + 1:,} bytes of G-code exceeds the "
        f"{MAX_GEOMETRY_BYTES:,} byte limit for rebuilding its geometry; not analysed"
    )
    assert design.limits == [{"limit": "gcode_bytes", "detail": detail}]
    assert design.warnings == [detail]
    assert design_from_gcode(SQUARE).format == "gcode"


def test_gcode_geometry_limit_boundary(monkeypatch):
    from firetrace.detect.readers import gcode

    monkeypatch.setattr(gcode, "MAX_GEOMETRY_BYTES", len(SQUARE))
    assert gcode.design_from_gcode(SQUARE).limits == []
    monkeypatch.setattr(gcode, "MAX_GEOMETRY_BYTES", len(SQUARE) - 1)
    assert [x["limit"] for x in gcode.design_from_gcode(SQUARE).limits] == ["gcode_bytes"]


BGCODE_MOVES = b"G1 Z0.2\nG1 X0 Y0\nG1 X10 Y0 E1 ; wall\nG1 X10 Y10 E2\n"


def _bgcode(gcode: bytes = BGCODE_MOVES, **tables) -> bytes:
    from firetrace.gcode.bgcode import encode_bgcode

    return encode_bgcode(gcode, **tables)


def test_bgcode_metadata_tables_thumbnails_and_names():
    from firetrace.gcode.bgcode import Thumbnail

    data = _bgcode(
        file_meta={"Producer": "PrusaSlicer 2.7.0"},
        printer={"printer_model": "MK4", "empty": ""},
        print_meta={"objects_info": "hinge"},
        thumbnails=[Thumbnail("png", 16, 8, b"x"), Thumbnail("qoi", 4, 2, b"y")],
    )
    design = _read(data, "bgcode")
    assert design.format == "bgcode" and design.units == "mm"
    assert design.metadata == {
        "bgcode_version": 1,
        "file_metadata.Producer": "PrusaSlicer 2.7.0",
        "printer_metadata.printer_model": "MK4",
        "print_metadata.objects_info": "hinge",
        "thumbnails": ["png 16x8", "qoi 4x2"],
        "bgcode_compression": ["deflate", "none"],
        "bgcode_encoding": ["plain"],
        "slicer": "PrusaSlicer 2.7.0",
        "printer_model": "MK4",
    }
    assert design.names == ["hinge"]
    assert design.toolpath["extruding_moves"] == 2


def test_bgcode_slicer_and_printer_from_the_g_code_header_win():
    gcode = b"; generated by SuperSlicer 2.5\n; printer_model = XL\n" + BGCODE_MOVES
    design = _read(
        _bgcode(gcode, file_meta={"Producer": "P" * 100},
                slicer={"printer_settings_id": "Original MK3"}),
        "bgcode",
    )  # fmt: skip
    assert design.metadata["slicer"] == "SuperSlicer"
    assert design.metadata["printer_model"] == "XL"
    assert design.metadata["slicer_metadata.printer_settings_id"] == "Original MK3"
    design = _read(
        _bgcode(file_meta={"Producer": "P" * 100}, slicer={"printer_settings_id": "MK3"}),
        "bgcode",
    )
    assert design.metadata["slicer"] == "P" * 80
    assert design.metadata["printer_model"] == "MK3"
    design = _read(
        _bgcode(printer={"printer_model": "MK4"}, slicer={"printer_settings_id": "MK3"}),
        "bgcode",
    )
    assert design.metadata["printer_model"] == "MK4"
    assert "slicer" not in design.metadata


def test_bgcode_object_names_not_repeated():
    gcode = b'M486 S0 A"hinge"\n' + BGCODE_MOVES
    design = _read(_bgcode(gcode, print_meta={"objects_info": "hinge"}), "bgcode")
    assert design.names == ["hinge"]


def test_bgcode_metadata_values_and_keys_are_capped():
    printer = {f"k{i:03d}": "v" * 250 for i in range(310)}
    design = _read(_bgcode(printer=printer), "bgcode")
    keys = [k for k in design.metadata if k.startswith("printer_metadata.")]
    assert keys == [f"printer_metadata.k{i:03d}" for i in range(300)]
    assert {design.metadata[k] for k in keys} == {"v" * 200}


def test_bgcode_without_g_code_is_refused():
    with pytest.raises(InputError, match="^bgcode without any G-code block$"):
        _read(_bgcode(b"", file_meta={"Producer": "x"}), "bgcode")
    with pytest.raises(InputError, match="^bgcode without any extruding move or object name$"):
        _read(_bgcode(b"G0 X1\n"), "bgcode")


def test_bgcode_signature_is_its_magic():
    assert sniff_bytes(_bgcode(), 200) == "bgcode"
    assert sniff_bytes(b"GCDX" + _bgcode()[4:], 200) != "bgcode"


# --- OBJ, PLY, OFF, GLB and glTF -------------------------------------------------


def _mesh_head(data: bytes, function: str, module: str = "trimesh_formats") -> bool:
    import importlib

    from firetrace.detect.sniff import make_head

    readers = importlib.import_module(f"firetrace.detect.readers.{module}")
    return getattr(readers, function)(make_head(data, len(data)))


TWO_OBJECTS = b"""# made by hand
o Left
v 0 0 0
v 1 0 0
v 0 1 0
v 0 0 1
f 1 2 3
f 1 2 4
g  Grp \t
v 5 5 5
v 6 5 5
v 5 6 5
f 5 6 7
"""


@pytest.mark.parametrize("fmt", ["obj", "ply", "off", "glb", "gltf"])
def test_mesh_formats_over_the_read_limit_are_refused_before_reading(fmt):
    from firetrace.detect.readers import LIMITS

    limit = LIMITS.max_text_bytes
    with pytest.raises(
        InputError, match=f"^{fmt} file of {limit + 1:,} bytes exceeds the read limit$"
    ):
        read_design(io.BytesIO(b"x"), fmt, None, limit + 1)
    with pytest.raises(InputError) as refused:
        read_design(io.BytesIO(b"x"), fmt, None, limit)
    assert "read limit" not in str(refused.value)


def test_obj_bodies_per_object_and_group_and_names_sorted():
    design = _read(TWO_OBJECTS, "obj")
    assert design.format == "obj" and design.names == ["Grp", "Left"]
    bodies = sorted(
        (b.name, b.kind, len(b.faces), b.vertices.min(0).tolist()) for b in design.bodies
    )
    assert bodies == [
        ("Left", "group", 2, [0.0, 0.0, 0.0]),
        ("Left_Grp", "group", 1, [5.0, 5.0, 5.0]),
    ]
    assert design.limits == [] and design.metadata == {}


OBJ_WITH_MATERIALS = b"""mtllib parts.mtl
o Left
v 0 0 0
v 1 0 0
v 0 1 0
v 0 0 1
usemtl red
f 1 2 3
usemtl blue
f 1 2 4
o Right
v 5 5 5
v 6 5 5
v 5 6 5
usemtl red
f 5 6 7
"""


def test_obj_materials_neither_read_nor_splitting_an_object(tmp_path):
    # the material library sits beside the file; the reader is given the stream only, and
    # faces of one object in two materials stay one body
    (tmp_path / "parts.mtl").write_text("newmtl red\nKd 1 0 0\nnewmtl blue\nKd 0 0 1\n")
    path = tmp_path / "parts.obj"
    path.write_bytes(OBJ_WITH_MATERIALS)
    with open(path, "rb") as fh:
        design = read_design(fh, "obj", str(path))
    assert design.names == ["Left", "Right"]
    assert sorted((b.name, b.kind, len(b.faces), len(b.vertices)) for b in design.bodies) == [
        ("Left", "group", 2, 4), ("Right", "group", 1, 3)
    ]  # fmt: skip


def test_obj_names_deduplicated_blank_dropped_undecodable_replaced_and_capped():
    names = b"".join(f"o n{i:03d}\n".encode() for i in range(250))
    data = names + b"o n001\ng   \n  o \xff\xfeX\n" + TWO_OBJECTS
    design = _read(data, "obj")
    assert design.names[:3] == ["Grp", "Left", "n000"]
    assert len(design.names) == 200 and design.names[-1] == "n197"
    data = b"o \xffX\no  \t\n" + TWO_OBJECTS
    assert _read(data, "obj").names == ["Grp", "Left", "\ufffdX"]


def test_obj_without_faces_is_refused():
    with pytest.raises(InputError, match="^OBJ file holds no faces$"):
        _read(b"o A\nv 0 0 0\nv 1 0 0\nv 0 1 0\n# f 1 2 3\nfx 1 2 3\n", "obj")


def test_obj_over_the_geometry_limit_keeps_its_names(monkeypatch):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 2)
    design = _read(TWO_OBJECTS, "obj")
    assert design.names == ["Grp", "Left"] and design.bodies == []
    assert design.metadata == {"triangles": 3}
    assert [x["limit"] for x in design.limits] == ["triangles"]
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 3)
    assert len(_read(TWO_OBJECTS, "obj").faces) == 3


@pytest.mark.parametrize(
    "text, expected",
    [
        (b"v 0 0 0\nv 1 0 0\nf 1 2 1\n", True),
        (b"v -1 0 0\nvn 0 0 1\nusemtl a\n", True),
        (b"v .5 0 0\ns 1\nmtllib a\n", True),
        (b"v +1 0 0\ng a\no b\n", True),
        (b"v 0 0 0\nv 1 0 0\n", False),
        (b"vt 0 0\nvt 1 0\nf 1 2 3\n", False),
        (b"v x 0 0\nvn 1 0 0\nf 1 2 3\n", False),
        (b"<obj>\nv 0 0 0\nv 1 0 0\nf 1 2 1\n", False),
    ],
)
def test_obj_signature(text, expected):
    assert _mesh_head(text, "_looks_like_obj") is expected


def _ply(comments: bytes = b"", faces: bool = True) -> bytes:
    import trimesh

    data = trimesh.creation.box((1, 2, 3)).export(file_type="ply", encoding="ascii")
    data = data.replace(b"comment https://github.com/mikedh/trimesh\n", b"")
    if not faces:
        data = data.replace(b"element face 12", b"element face 0")
    return data.replace(b"end_header", comments + b"end_header")


def test_ply_comments_are_names_and_the_body_is_a_solid():
    design = _read(_ply(b"comment made by  Tester \nobj_info  hello\ncomment \n"), "ply")
    assert design.format == "ply" and design.names == ["made by  Tester", "hello"]
    [body] = design.bodies
    assert (body.name, body.kind, len(body.faces)) == (None, "solid", 12)
    assert body.vertices.min(0).tolist() == [-0.5, -1.0, -1.5]


def test_ply_refusals():
    with pytest.raises(InputError, match=r"^PLY without 'end_header' \(truncated header\)$"):
        _read(_ply().replace(b"end_header", b"end_headr"), "ply")
    with pytest.raises(InputError, match="^PLY file holds no faces$"):
        _read(_ply(faces=False), "ply")
    with pytest.raises(InputError, match="^PLY file holds no faces$"):
        _read(_ply().replace(b"element face", b"element edge"), "ply")
    with pytest.raises(InputError, match="^PLY file holds no faces$"):
        _read(_ply().split(b"element face")[0] + b"end_header\nelement face 12\n", "ply")
    huge = _ply().replace(b"element face 12", b"element face 20000001")
    with pytest.raises(InputError, match="^PLY header claims 20,000,001 faces; refusing$"):
        _read(huge, "ply")


def test_ply_at_the_face_limits(monkeypatch):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_triangles", 12)
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 11)
    design = _read(_ply(b"comment kept\n"), "ply")
    assert design.bodies == [] and design.names == ["kept"]
    assert design.metadata == {"triangles": 12}
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 12)
    assert len(_read(_ply(), "ply").faces) == 12
    monkeypatch.setattr(LIMITS, "max_triangles", 11)
    with pytest.raises(InputError, match="claims 12 faces"):
        _read(_ply(), "ply")


@pytest.mark.parametrize(
    "text, expected",
    [(b"ply\nformat ascii 1.0\n", True), (b"ply\r\nformat", True), (b"  ply\n", True),
     (b"ply format\n", False), (b"plyx\n", False), (b"ply", False)],
)  # fmt: skip
def test_ply_signature(text, expected):
    assert _mesh_head(text, "_looks_like_ply") is expected


def _off(header: bytes = b"OFF") -> bytes:
    import trimesh

    data = trimesh.creation.box((1, 2, 3)).export(file_type="off").encode()
    return header + data[3:]


def test_off_body_and_face_claims(monkeypatch):
    from firetrace.detect.readers import LIMITS

    design = _read(_off(), "off")
    assert design.format == "off" and design.names == []
    [body] = design.bodies
    assert (body.name, body.kind, len(body.faces)) == (None, "solid", 12)
    monkeypatch.setattr(LIMITS, "max_triangles", 11)
    with pytest.raises(InputError, match="^OFF header claims 12 faces; refusing$"):
        _read(_off(), "off")
    with pytest.raises(InputError, match="^OFF header claims 12 faces"):
        _read(_off(b"OFF # a comment 99 99 99\n# another\n"), "off")
    monkeypatch.setattr(LIMITS, "max_triangles", 12)
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 11)
    skipped = _read(_off(), "off")
    assert (
        skipped.format == "off" and skipped.bodies == [] and skipped.metadata == {"triangles": 12}
    )
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 12)
    assert len(_read(_off(), "off").faces) == 12


@pytest.mark.parametrize(
    "first, expected",
    [(b"OFF", True), (b"COFF", True), (b"NOFF", True), (b"CNOFF", True), (b"  OFF  ", True),
     (b"OFF 8 12 0", True), (b"OFF8", False), (b"OFFX", False), (b"off", False), (b"OFF x", False)],
)  # fmt: skip
def test_off_signature(first, expected):
    assert _mesh_head(first + b"\n8 12 0\n", "_looks_like_off") is expected


def _scene():
    import trimesh

    box = trimesh.creation.box((1, 2, 3))
    scene = trimesh.Scene()
    move = trimesh.transformations.translation_matrix([10, 0, 0])
    scene.add_geometry(box, node_name="Lid", geom_name="lid_mesh", transform=move)
    scene.add_geometry(box.copy(), node_name="base", geom_name="base")
    return scene


def _gltf_inline() -> dict:
    import base64
    import json

    files = _scene().export(file_type="gltf")
    document = json.loads(files["model.gltf"])
    for buffer in document["buffers"]:
        payload = base64.b64encode(files[buffer["uri"]]).decode()
        buffer["uri"] = "data:application/octet-stream;base64," + payload
    return document


def _bodies(design):
    return sorted((b.name, b.kind, len(b.faces), b.vertices.min(0).tolist()) for b in design.bodies)


GLTF_BODIES = [("Lid", "node", 12, [9.5, -1.0, -1.5]), ("base", "node", 12, [-0.5, -1.0, -1.5])]


def test_glb_one_body_per_node_moved_and_named():
    design = _read(_scene().export(file_type="glb"), "glb")
    assert design.format == "glb"
    assert design.names == ["Lid", "base", "https://github.com/mikedh/trimesh", "lid_mesh"]
    assert _bodies(design) == GLTF_BODIES


def test_gltf_one_body_per_node_moved_and_named():
    import json

    design = _read(json.dumps(_gltf_inline()).encode(), "gltf")
    assert design.format == "gltf"
    assert design.names == ["Lid", "base", "https://github.com/mikedh/trimesh", "lid_mesh"]
    assert _bodies(design) == GLTF_BODIES


def test_gltf_names_from_nodes_meshes_scenes_and_asset_only():
    from firetrace.detect.readers.trimesh_formats import _gltf_names

    document = {
        "nodes": [{"name": "b"}, {"name": 3}, "x", {"name": " "}],
        "meshes": [{"name": "a"}, {"name": "b"}],
        "scenes": [{"name": "s"}],
        "materials": [{"name": "m"}],
        "asset": {"generator": "g", "copyright": "c", "version": "2.0"},
    }
    assert _gltf_names(document) == ["a", "b", "c", "g", "s"]
    assert _gltf_names({"nodes": None, "asset": "text"}) == []
    many = {"nodes": [{"name": f"n{i:03d}"} for i in range(250)]}
    assert _gltf_names(many) == [f"n{i:03d}" for i in range(200)]


def test_gltf_external_buffers_refused_and_images_dropped():
    import json

    document = _gltf_inline()
    document["buffers"][1]["uri"] = "../" + "x" * 100
    with pytest.raises(
        InputError, match=r"^gltf refers to an external buffer '\.\./x{77}' \(not read\)$"
    ):
        _read(json.dumps(document).encode(), "gltf")
    document = _gltf_inline()
    document["images"] = [{"uri": "texture.png"}, {"uri": "data:image/png;base64,"}, "x"]
    from firetrace.detect.readers.trimesh_formats import _check_buffers

    _check_buffers(document, "gltf")
    assert document["images"] == [{}, {"uri": "data:image/png;base64,"}, "x"]
    document["images"] = [{"uri": "texture.png"}]
    assert _bodies(_read(json.dumps(document).encode(), "gltf")) == GLTF_BODIES


@pytest.mark.parametrize(
    "name, uri",
    [(None, "b.bin"), ("", "b.bin"), ("a.zip!/m.gltf", "b.bin"), ("m.gltf", "d/b.bin"),
     ("m.gltf", "d\\b.bin"), ("m.gltf", ""), ("m.gltf", "."), ("m.gltf", ".."),
     ("m.gltf", "missing.bin")],
)  # fmt: skip
def test_gltf_buffer_beside_the_file_only_by_a_plain_name(tmp_path, name, uri):
    from firetrace.detect.readers.trimesh_formats import _sibling

    (tmp_path / "b.bin").write_bytes(b"x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.bin").write_bytes(b"x")
    assert _sibling(str(tmp_path / "m.gltf"), "b.bin") == tmp_path / "b.bin"
    assert _sibling(name and str(tmp_path / name), uri) is None


def test_gltf_buffer_beside_the_file_not_a_link_or_too_large(tmp_path, monkeypatch):
    from firetrace.detect.readers import LIMITS
    from firetrace.detect.readers.trimesh_formats import _sibling

    (tmp_path / "b.bin").write_bytes(b"xyz")
    (tmp_path / "link.bin").symlink_to(tmp_path / "b.bin")
    name = str(tmp_path / "m.gltf")
    assert _sibling(name, "link.bin") is None
    monkeypatch.setattr(LIMITS, "max_text_bytes", 3)
    assert _sibling(name, "b.bin") == tmp_path / "b.bin"
    monkeypatch.setattr(LIMITS, "max_text_bytes", 2)
    assert _sibling(name, "b.bin") is None


def test_glb_refusals():
    import struct

    glb = _scene().export(file_type="glb")
    with pytest.raises(InputError, match="^truncated GLB header$"):
        _read(glb[:19], "glb")
    with pytest.raises(
        InputError, match=f"^truncated: GLB header claims {len(glb):,} bytes, file has 100$"
    ):
        _read(glb[:100], "glb")
    wrong_type = glb[:16] + b"BIN\x00" + glb[20:]
    with pytest.raises(InputError, match="^GLB without a valid JSON chunk$"):
        _read(wrong_type, "glb")
    (length,) = struct.unpack_from("<I", glb, 12)
    over = glb[:12] + struct.pack("<I", len(glb) - 19) + glb[16:]
    with pytest.raises(InputError, match="^GLB without a valid JSON chunk$"):
        _read(over, "glb")
    assert length < len(glb) - 20
    short = glb[:8] + struct.pack("<I", len(glb) - 1) + glb[12:]
    assert _read(short, "glb").format == "glb"


def test_glb_external_buffer_after_the_first_is_refused():
    import json
    import struct

    glb = _scene().export(file_type="glb")
    (length,) = struct.unpack_from("<I", glb, 12)
    document = json.loads(glb[20 : 20 + length])
    document["buffers"].append({"uri": "other.bin", "byteLength": 4})
    chunk = json.dumps(document).encode().ljust(length + 64)
    data = glb[:8] + struct.pack("<I", len(glb) + 64) + struct.pack("<I", len(chunk))
    data += glb[16:20] + chunk + glb[20 + length :]
    with pytest.raises(
        InputError, match="^glb refers to an external buffer 'other.bin' \\(not read\\)$"
    ):
        _read(data, "glb")


def test_gltf_refusals():
    with pytest.raises(InputError, match=r"^glTF is not valid JSON \("):
        _read(b'{"asset": ', "gltf")
    with pytest.raises(InputError, match=r"^glTF is not valid JSON \("):
        _read(b'{"asset": "\xff"}', "gltf")
    with pytest.raises(InputError, match="^glTF document is not a JSON object$"):
        _read(b'["asset"]', "gltf")
    with pytest.raises(InputError, match="^gltf file holds no triangles$"):
        _read(b'{"asset": {"version": "2.0"}}', "gltf")


@pytest.mark.parametrize(
    "text, function, expected",
    [(b'{"asset": {}}', "_looks_like_gltf", True), (b'  {"ASSET": 1}', "_looks_like_gltf", True),
     (b'["asset"]', "_looks_like_gltf", False), (b'{"assets": 1}', "_looks_like_gltf", False)],
)  # fmt: skip
def test_gltf_signature(text, function, expected):
    assert _mesh_head(text, function) is expected


def test_glb_signature_needs_twelve_bytes():
    assert sniff_bytes(b"glTF" + b"\x00" * 8, 12) == "glb"
    assert sniff_bytes(b"glTF" + b"\x00" * 7, 11) != "glb"


# --- 3MF and AMF -----------------------------------------------------------------

NS_3MF = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
TET_VERTICES = (
    '<vertices><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/>'
    '<vertex x="0" y="1" z="0"/><vertex x="0" y="0" z="1"/></vertices>'
)
TET_TRIANGLES = (
    '<triangles><triangle v1="0" v2="2" v3="1"/><triangle v1="0" v2="1" v3="3"/>'
    '<triangle v1="0" v2="3" v3="2"/><triangle v1="1" v2="2" v3="3"/></triangles>'
)


def _object(number: int, name: str | None = None, body: str | None = None) -> str:
    named = f' name="{name}"' if name else ""
    mesh = f"<mesh>{TET_VERTICES}{TET_TRIANGLES}</mesh>" if body is None else body
    return f'<object id="{number}"{named} type="model">{mesh}</object>'


def _model(resources: str, build: str, unit: str = 'unit="millimeter"', meta: str = "") -> str:
    return (
        f'<?xml version="1.0"?><model {unit} xmlns="{NS_3MF}">{meta}'
        f"<resources>{resources}</resources><build>{build}</build></model>"
    )


def _zip(files: dict[str, str | bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return buffer.getvalue()


def _3mf(model: str, **extra) -> bytes:
    return _zip({"3D/3dmodel.model": model, **extra})


def _items(design):
    return [(b.name, b.kind, len(b.faces), b.vertices.min(0).tolist()) for b in design.bodies]


def test_3mf_items_moved_named_and_metadata_kept():
    meta = (
        '<metadata name="Title"> Box </metadata><metadata name="Other">x</metadata>'
        '<metadata name="Empty"> </metadata><metadata>anonymous</metadata>'
        '<metadata name="Designer">' + "d" * 600 + "</metadata>"
    )
    build = '<item objectid="1" transform="1 0 0 0 1 0 0 0 1 10 0 0"/><item objectid="2"/>'
    config = (
        '<config><object><metadata key="name" value="plate part"/><x key="id" value="7"/>'
        "</object></config>"
    )
    design = _read(
        _3mf(_model(_object(1, "Lid") + _object(2), build, meta=meta),
             **{"Metadata/model_settings.config": config}),
        "3mf",
    )  # fmt: skip
    assert design.format == "3mf" and design.units == "mm"
    assert design.metadata == {"Title": "Box", "Other": "x", "": "anonymous", "Designer": "d" * 500}
    assert design.names == ["Box", "Lid", "d" * 200, "plate part"]
    assert _items(design) == [
        ("Lid", "item", 4, [10.0, 0.0, 0.0]),
        ("object 2", "item", 4, [0.0, 0.0, 0.0]),
    ]


@pytest.mark.parametrize(
    "unit, expected",
    [('unit="inch"', "inch"), ('unit="micron"', "micron"), ('unit="centimeter"', "cm"),
     ('unit="meter"', "m"), ('unit="foot"', "foot"), ("", "mm"), ('unit="parsec"', "parsec")],
)  # fmt: skip
def test_3mf_units(unit, expected):
    design = _read(_3mf(_model(_object(1), '<item objectid="1"/>', unit=unit)), "3mf")
    assert design.units == expected


def test_3mf_without_a_build_places_every_object_and_components_are_followed():
    design = _read(_3mf(_model(_object(1, "A") + _object(2, "B"), "")), "3mf")
    assert sorted(_items(design)) == [("A", "item", 4, [0.0] * 3), ("B", "item", 4, [0.0] * 3)]
    parent = (
        '<object id="3" name="Pair"><components><component objectid="1"/>'
        '<component objectid="2" transform="1 0 0 0 1 0 0 0 1 0 0 5"/>'
        '<component objectid="9"/></components></object>'
    )
    design = _read(_3mf(_model(_object(1) + _object(2) + parent, '<item objectid="3"/>')), "3mf")
    [body] = design.bodies
    assert (body.name, len(body.faces), len(body.vertices)) == ("Pair", 8, 8)
    assert body.vertices.max(0).tolist() == [1.0, 1.0, 6.0]
    assert body.faces.max() == 7


def test_3mf_components_nested_more_than_eight_deep_are_refused():
    chain = "".join(
        f'<object id="{i}"><components><component objectid="{i - 1}"/></components></object>'
        for i in range(2, 12)
    )
    model = _model(_object(1) + chain, '<item objectid="9"/>')
    assert len(_read(_3mf(model), "3mf").faces) == 4
    with pytest.raises(InputError, match="^3MF components nested more than 8 deep$"):
        _read(_3mf(_model(_object(1) + chain, '<item objectid="10"/>')), "3mf")


def test_3mf_triangle_budget_is_shared_by_the_build_items(monkeypatch):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 6)
    build = '<item objectid="1"/><item objectid="2"/><item objectid="1"/>'
    design = _read(_3mf(_model(_object(1, "A") + _object(2, "B"), build)), "3mf")
    assert [b.name for b in design.bodies] == ["A"]
    assert design.limits == [
        {"limit": "triangles", "detail": "3MF build item 2 places 4 triangles, over the 6 left "
         "for this file; not analysed"},
        {"limit": "triangles", "detail": "3MF build item 3 places 4 triangles, over the 6 left "
         "for this file; not analysed"},
    ]  # fmt: skip
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 8)
    design = _read(_3mf(_model(_object(1, "A") + _object(2, "B"), build)), "3mf")
    assert [b.name for b in design.bodies] == ["A", "B"] and len(design.limits) == 1


def test_3mf_refusals():
    with pytest.raises(InputError, match="^3MF without a 3D model part$"):
        _read(_zip({"[Content_Types].xml": "<Types/>"}), "3mf")
    with pytest.raises(InputError, match=r"^3MF: corrupt zip container \("):
        _read(b"PK\x03\x04 not a zip", "3mf")
    with pytest.raises(InputError, match="^3MF holds no triangles$"):
        _read(_3mf(_model(_object(1, body="<mesh>" + TET_VERTICES + "</mesh>"), "")), "3mf")
    with pytest.raises(InputError, match="^3MF: transform with 11 numbers \\(expected 12\\)$"):
        _read(
            _3mf(_model(_object(1), '<item objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0"/>')),
            "3mf",
        )
    missing = TET_TRIANGLES.replace('v3="3"/></triangles>', "/></triangles>")
    with pytest.raises(InputError, match="^3MF object 1: vertex or triangle missing an attribute$"):
        _read(_3mf(_model(_object(1, body=f"<mesh>{TET_VERTICES}{missing}</mesh>"), "")), "3mf")
    beyond = TET_TRIANGLES.replace('v3="3"/></triangles>', 'v3="4"/></triangles>')
    with pytest.raises(InputError, match="^3MF object 1: triangle refers to a missing vertex$"):
        _read(_3mf(_model(_object(1, body=f"<mesh>{TET_VERTICES}{beyond}</mesh>"), "")), "3mf")
    bad = TET_VERTICES.replace('x="1"', 'x="one"')
    with pytest.raises(InputError, match="^3MF: non-numeric coordinate \\("):
        _read(_3mf(_model(_object(1, body=f"<mesh>{bad}{TET_TRIANGLES}</mesh>"), "")), "3mf")
    doctype = '<?xml version="1.0"?><!DOCTYPE model>' + _model(_object(1), "")[21:]
    with pytest.raises(
        InputError, match="^3MF 3D/3dmodel.model: XML document type/entity declarations"
    ):
        _read(_3mf(doctype), "3mf")
    with pytest.raises(InputError, match="^3MF 3D/3dmodel.model: malformed XML \\("):
        _read(_3mf(_model(_object(1), "")[:-9]), "3mf")


def test_3mf_signature_by_member_names():
    from firetrace.detect.readers.xml_formats import _is_3mf

    assert _is_3mf(["3d/3dmodel.model"]) and _is_3mf(["[content_types].xml", "x/a.model"])
    assert not _is_3mf(["x/a.model"]) and not _is_3mf(["[content_types].xml", "3d/a.xml"])
    assert not _is_3mf(["3d/a.models"])


def _amf(objects: str, unit: str = 'unit="millimeter"', meta: str = "") -> bytes:
    return f'<?xml version="1.0"?><amf {unit}>{meta}{objects}</amf>'.encode()


def _amf_object(number: int, meta: str = "", corners: str = "") -> str:
    vertices = "".join(
        f"<vertex><coordinates><x>{x}</x><y>{y}</y><z>{z}</z></coordinates></vertex>"
        for x, y, z in ((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1))
    )
    triangles = corners or "".join(
        f"<triangle><v1>{a}</v1><v2>{b}</v2><v3>{c}</v3></triangle>"
        for a, b, c in ((0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3))
    )
    return (
        f'<object id="{number}">{meta}<mesh><vertices>{vertices}</vertices>'
        f"<volume>{triangles}</volume></mesh></object>"
    )


def test_amf_objects_names_metadata_and_units():
    meta = (
        '<metadata type="Title"> Knobs </metadata><metadata type="cad">X</metadata>'
        "<metadata> plain </metadata><metadata type='empty'> </metadata>"
    )
    objects = _amf_object(
        1, '<metadata type="name">Knob</metadata><metadata type="author">me</metadata>'
    ) + _amf_object(2)
    design = _read(_amf(objects, unit='unit="Inch"', meta=meta), "amf")
    assert design.format == "amf" and design.units == "inch"
    assert design.metadata == {"Title": "Knobs", "cad": "X", "metadata": "plain"}
    assert design.names == ["Knob", "Knobs", "me"]
    assert [(b.name, b.kind, len(b.faces)) for b in design.bodies] == [
        ("Knob", "object", 4), ("object 2", "object", 4)
    ]  # fmt: skip
    assert _read(_amf(_amf_object(1), unit=""), "amf").units == "mm"
    assert _read(_amf(_amf_object(1), unit='unit="furlong"'), "amf").units == "furlong"


def test_amf_zipped_reads_its_first_member():
    data = _zip({"a.amf": _amf(_amf_object(1)), "b.amf": b"not read"})
    assert len(_read(data, "amf").faces) == 4
    with pytest.raises(InputError, match="^AMF zip is empty$"):
        _read(_zip({}), "amf")


def test_amf_refusals():
    from firetrace.detect.readers import LIMITS

    with pytest.raises(InputError, match="^AMF holds no triangles$"):
        _read(_amf(_amf_object(1, corners=" ")), "amf")
    with pytest.raises(InputError, match="^AMF: triangle missing a corner$"):
        _read(_amf(_amf_object(1, corners="<triangle><v1>0</v1><v2>1</v2></triangle>")), "amf")
    with pytest.raises(InputError, match="^AMF: triangle refers to a missing vertex$"):
        _read(
            _amf(_amf_object(1, corners="<triangle><v1>0</v1><v2>1</v2><v3>4</v3></triangle>")),
            "amf",
        )
    with pytest.raises(InputError, match="^AMF: vertex missing a coordinate$"):
        _read(_amf(_amf_object(1).replace("<z>1</z>", "")), "amf")
    limit = LIMITS.max_text_bytes
    with pytest.raises(InputError, match=f"^AMF of {limit + 1:,} bytes exceeds the limit$"):
        read_design(io.BytesIO(_amf(_amf_object(1))), "amf", None, limit + 1)


# --- 3MF and AMF: the XML stripper, the parser and the zip members ---------------

_X61 = b"x" * 61


@pytest.mark.parametrize(
    "data, expected",
    [
        # nothing to cut: the same bytes; padding between tags of spaces, tabs or line ends
        (b"<a><b/></a>", b"<a><b/></a>"),
        (b"<a>" + b" " * 256 + b"<b/></a>", b"<a><b/></a>"),
        (b"<a>" + b" " * 255 + b"<b/></a>", b"<a>" + b" " * 255 + b"<b/></a>"),
        (b"<a>" + b"\n\t" * 150 + b"<b/></a>", b"<a><b/></a>"),
        # processing instructions are looked for after the first 64 bytes only...
        (b"<?pi x?><a/>", b"<?pi x?><a/>"),
        (b"<a>" + b"x" * 60 + b"<?p?></a>", b"<a>" + b"x" * 60 + b"<?p?></a>"),
        (b"<a>" + _X61 + b"<?p?></a>", b"<a>" + _X61 + b"</a>"),
        # ... and once something is cut, every one but the XML declaration goes
        (b"<?pi?><a><!--c--></a>", b"<a></a>"),
        (b'<?xml version="1.0"?><a><?p x?><!--c--></a>', b'<?xml version="1.0"?><a></a>'),
        (b"<!--" + b"c" * 56 + b'--><?xml version="1.0"?><a/>', b'<?xml version="1.0"?><a/>'),
        (b"<!--" + b"c" * 57 + b'--><?xml version="1.0"?><a/>', b"<a/>"),
        (b"<a><!--c--><??><?>x?><b/></a>", b"<a><b/></a>"),
        (b"<a><!--c--></a><?p", b"<a></a>"),
        # comments: at the start, several, empty, opened by "<!-->", unclosed
        (b"<!--c--><a/>", b"<a/>"),
        (b"<a><!--1--><b/><!--2--><c/><!--3--></a>", b"<a><b/><c/></a>"),
        (b"<a><!--1--><!--2--></a>", b"<a></a>"),
        (b"<a><!----><b/></a>", b"<a><b/></a>"),
        (b"<a><!-->x--><b/></a>", b"<a><b/></a>"),
        (b"<a>--><!--c--><b/></a>", b"<a>--><b/></a>"),
        (b"<a>?><?p?><!--c--></a>", b"<a>?></a>"),
        (b"<a/><!-- open", b"<a/>"),
        # a token inside another: "<?" in a comment, "<!--" in a processing instruction
        (b"<a><!-- <?p?> --><b/></a>", b"<a><b/></a>"),
        (b"<a><?p <!-- ?><b/><!--c--></a>", b"<a><b/></a>"),
        # CDATA is text: kept whole with what looks like a comment or an instruction
        (b"<a><![CDATA[<!-- no -->]]><!--c--></a>", b"<a><![CDATA[<!-- no -->]]></a>"),
        (b"<a><!--c--><![CDATA[<?p?>]]></a>", b"<a><![CDATA[<?p?>]]></a>"),
        (b"<a><!--c--><![CDATA[x<?]]></a>", b"<a><![CDATA[x<?]]></a>"),
        (b"<a><![CDATA[x]]><!--c--><![CDATA[y]]></a>", b"<a><![CDATA[x]]><![CDATA[y]]></a>"),
        (b"<a><!--c--><![CDATA[x <!-- y", b"<a><![CDATA[x <!-- y"),
        # padding that meets once a comment is cut is cut too
        (b"<a>" + b" " * 128 + b"<!--c-->" + b" " * 128 + b"<b/></a>", b"<a><b/></a>"),
        (b"<a>" + b" " * 127 + b"<!--c-->" + b" " * 128 + b"<b/></a>",
         b"<a>" + b" " * 255 + b"<b/></a>"),
    ],
    ids=lambda value: repr(value[:20])[2:-1],
)  # fmt: skip
def test_xml_comments_instructions_and_padding_are_stripped_cdata_kept(data, expected):
    from firetrace.detect.readers.xml_formats import without_comments

    assert without_comments(data) == expected


def test_xml_declarations_anywhere_are_refused_and_the_parse_error_is_cut():
    from firetrace.detect.readers.xml_formats import parse_xml_safely

    late = b"<a>" + b"x" * 70_000 + b'<!ENTITY x "y"></a>'
    with pytest.raises(
        InputError, match=r"^M: XML document type/entity declarations are not allowed \(refused\)$"
    ):
        parse_xml_safely(late, "M")
    with pytest.raises(InputError) as refused:
        parse_xml_safely(b"<" + b"a" * 200 + b"></b>", "M")
    reason = str(refused.value)
    assert reason == "M: malformed XML (Opening and ending tag mismatch: " + "a" * 127 + ")"


def test_3mf_text_node_over_ten_million_characters_is_read():
    # libxml2 refuses text nodes over 10,000,000 characters unless huge_tree is on (made of
    # random bytes, the part is not refused for its compression ratio)
    import base64
    import random

    description = base64.b64encode(random.Random(0).randbytes(7_500_001)).decode()
    assert len(description) > 10_000_000
    meta = f'<metadata name="Description">{description}</metadata>'
    design = _read(_3mf(_model(_object(1), '<item objectid="1"/>', meta=meta)), "3mf")
    assert design.metadata == {"Description": description[:500]}
    assert design.names == [description[:200]]


def test_3mf_metadata_names_keys_and_empty_values():
    keys = ["Title", "designer", "DESCRIPTION", "Application", "copyright", "Rating"]
    meta = "".join(f'<metadata name="{k}">{k} text</metadata>' for k in keys)
    meta += '<metadata name="Blank"/><metadata name="Spaces">  </metadata>'
    design = _read(_3mf(_model(_object(1), '<item objectid="1"/>', meta=meta)), "3mf")
    assert design.metadata == {k: f"{k} text" for k in keys}
    assert design.names == sorted(f"{k} text" for k in keys[:5])


def test_3mf_names_are_cut_at_200_characters_and_200_names():
    long = "N" * 250
    config = (
        "<config>"
        + "".join(f'<o key="name" value="part {i:03d}"/>' for i in range(205))
        + f'<o key="name" value="{long}"/></config>'
    )
    design = _read(
        _3mf(_model(_object(1, long), '<item objectid="1"/>'),
             **{"Metadata/model_settings.config": config}),
        "3mf",
    )  # fmt: skip
    assert [b.name for b in design.bodies] == ["N" * 200]
    assert design.names == ["N" * 200] + [f"part {i:03d}" for i in range(199)]


def test_3mf_slicer_names_from_metadata_config_and_xml_members_only():
    def config(value: str) -> str:
        return f'<config><plate><metadata key="name" value="{value}"/></plate></config>'

    members = {
        "Metadata/Slic3r_PE_model.config": config("from config"),
        "metadata/parts.XML": config("from xml"),
        "Metadata/notes.txt": config("from txt"),
        "Other/settings.config": config("from other"),
        "Metadata/broken.config": "<config><unclosed></config>",
        "Metadata/doctype.xml": '<!DOCTYPE x><config><o key="name" value="from doctype"/></config>',
    }
    design = _read(_3mf(_model(_object(1), '<item objectid="1"/>'), **members), "3mf")
    assert design.names == ["from config", "from xml"]


def test_3mf_in_another_or_no_namespace_is_read_in_its_own():
    other = _model(_object(1, "Other"), '<item objectid="1"/>').replace(NS_3MF, "urn:other")
    design = _read(_3mf(other), "3mf")
    assert [b.name for b in design.bodies] == ["Other"] and design.units == "mm"
    bare = _model(_object(1, "Bare"), "").replace(f' xmlns="{NS_3MF}"', "")
    with pytest.raises(InputError, match="^3MF holds no triangles$"):
        _read(_3mf(bare), "3mf")


def test_3mf_build_items_after_one_without_a_mesh_are_read():
    build = '<item objectid="9"/><item objectid="2"/><item objectid="1"/>'
    empty = '<object id="2"><mesh><vertices/><triangles/></mesh></object>'
    design = _read(_3mf(_model(_object(1, "A") + empty, build)), "3mf")
    assert [(b.name, len(b.faces)) for b in design.bodies] == [("A", 4)]


def test_3mf_without_a_build_follows_components_with_transforms():
    parent = (
        '<object id="3" name="Pair"><components><component objectid="1"/>'
        '<component objectid="2" transform="1 0 0 0 1 0 0 0 1 0 0 5"/></components></object>'
    )
    design = _read(_3mf(_model(_object(1) + _object(2) + parent, "")), "3mf")
    assert sorted((b.name, len(b.faces), b.vertices.max(0).tolist()) for b in design.bodies) == [
        ("Pair", 8, [1.0, 1.0, 6.0]), ("object 1", 4, [1.0] * 3), ("object 2", 4, [1.0] * 3)
    ]  # fmt: skip


def _chain(top: int) -> str:
    """Objects 2..top, each holding the one below as its only component."""
    return "".join(
        f'<object id="{i}"><components><component objectid="{i - 1}"/></components></object>'
        for i in range(2, top + 1)
    )


def test_3mf_claimed_triangles_follow_components_eight_deep(monkeypatch):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 3)
    design = _read(_3mf(_model(_object(1) + _chain(9), '<item objectid="9"/>')), "3mf")
    assert design.bodies == [] and design.limits == [
        {"limit": "triangles", "detail": "3MF build item 1 places 4 triangles, over the 3 left "
         "for this file; not analysed"}
    ]  # fmt: skip
    # nine deep: the triangles below the eighth level are not claimed, and the nesting refused
    with pytest.raises(InputError, match="^3MF components nested more than 8 deep$"):
        _read(_3mf(_model(_object(1) + _chain(10), '<item objectid="10"/>')), "3mf")


def test_3mf_claimed_triangles_add_up_the_components(monkeypatch):
    from firetrace.detect.readers import LIMITS

    parent = (
        '<object id="3" name="Pair"><components><component objectid="1"/>'
        '<component objectid="2"/><component objectid="9"/></components></object>'
    )
    model = _model(_object(1) + _object(2) + parent, '<item objectid="3"/>')
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 7)
    design = _read(_3mf(model), "3mf")
    assert [d["detail"][:36] for d in design.limits] == ["3MF build item 1 places 8 triangles,"]
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 8)
    assert [len(b.faces) for b in _read(_3mf(model), "3mf").bodies] == [8]


def test_3mf_model_part_at_and_over_the_xml_limit(monkeypatch):
    from firetrace.detect.readers import xml_formats

    small = _model(_object(1, "Small"), '<item objectid="1"/>')
    large = _model(_object(1, "Large" + "e" * 100), '<item objectid="1"/>')
    monkeypatch.setattr(xml_formats, "MAX_MODEL_XML_BYTES", len(small))
    data = _zip({"3D/a.model": large, "3D/b.model": small})
    design = _read(data, "3mf")
    assert [b.name for b in design.bodies] == ["Small"]
    assert design.limits == [{"limit": "xml_bytes", "detail": (
        f"3MF part 3D/a.model holds {len(large):,} bytes of XML without comments, over the "
        f"{len(small):,} limit; its geometry was not analysed")}]  # fmt: skip


def test_3mf_coordinates_must_be_numbers_on_every_axis():
    for axis in "xyz":
        bad = TET_VERTICES.replace(f'{axis}="1"', f'{axis}="{"o" * 100}"')
        with pytest.raises(InputError) as refused:
            _read(_3mf(_model(_object(1, body=f"<mesh>{bad}{TET_TRIANGLES}</mesh>"), "")), "3mf")
        reason = "could not convert string to float: '" + "o" * 100 + "'"
        assert str(refused.value) == f"3MF: non-numeric coordinate ({reason[:80]})"
    bad = TET_VERTICES.replace('y="1"', 'y="one"')
    with pytest.raises(InputError) as refused:
        _read(_3mf(_model(_object(1, body=f"<mesh>{bad}{TET_TRIANGLES}</mesh>"), "")), "3mf")
    assert str(refused.value) == "3MF: non-numeric coordinate (could not convert string to " \
        "float: 'one')"  # fmt: skip


def test_3mf_member_with_a_bad_checksum_is_a_corrupt_container():
    data = bytearray(_3mf(_model(_object(1), '<item objectid="1"/>')))
    crc = data[14:18]  # the local header's CRC-32; the central directory holds it again
    at = data.rindex(bytes(crc))
    data[at] ^= 0xFF
    with pytest.raises(InputError) as refused:
        _read(bytes(data), "3mf")
    assert str(refused.value) == (
        "3MF: corrupt zip container (Bad CRC-32 for file '3D/3dmodel.model')"
    )


def test_zip_member_at_and_over_its_size_limit(monkeypatch):
    from firetrace.detect.readers import LIMITS

    model = _model(_object(1, "At"), '<item objectid="1"/>')
    monkeypatch.setattr(LIMITS, "max_zip_member_bytes", len(model))
    assert [b.name for b in _read(_3mf(model), "3mf").bodies] == ["At"]
    monkeypatch.setattr(LIMITS, "max_zip_member_bytes", len(model) - 1)
    with pytest.raises(InputError) as refused:
        _read(_3mf(model), "3mf")
    assert str(refused.value) == f"zip member '3D/3dmodel.model' inflates to {len(model):,} bytes"


def _with_member(name: str, data: bytes, stored: bool = False) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("3D/3dmodel.model", _model(_object(1, "M"), '<item objectid="1"/>'))
        archive.writestr(name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_zip_member_ratio_refused_only_over_ten_million_bytes(monkeypatch):
    import zipfile

    from firetrace.detect.readers import LIMITS

    # stored, ratio 1: read (and, being no XML, dropped) whatever its size
    stored = _with_member("Metadata/big.xml", b"\0" * 10_000_001, stored=True)
    assert [b.name for b in _read(stored, "3mf").bodies] == ["M"]
    at = _with_member("Metadata/big.xml", b"\0" * 10_000_000)
    assert [b.name for b in _read(at, "3mf").bodies] == ["M"]
    over = _with_member("Metadata/big.xml", b"\0" * 10_000_001)
    with pytest.raises(InputError) as refused:
        _read(over, "3mf")
    assert str(refused.value) == "zip member 'Metadata/big.xml' has a bomb-like compression ratio"
    info = zipfile.ZipFile(io.BytesIO(over)).getinfo("Metadata/big.xml")
    monkeypatch.setattr(LIMITS, "max_zip_ratio", info.file_size / info.compress_size)
    assert [b.name for b in _read(over, "3mf").bodies] == ["M"]


def test_amf_names_from_every_metadata_type_and_objects_without_id():
    meta = (
        '<metadata type="Name">File name</metadata><metadata type="description">Desc</metadata>'
        '<metadata type="AUTHOR">Me</metadata><metadata>' + "m" * 600 + "</metadata>"
        '<metadata type="Title">' + "T" * 250 + "</metadata>"
    )
    objects = (
        '<object><metadata type="title">Titled</metadata><metadata type="name"> </metadata>'
        '<metadata type="name"/>' + _amf_object(9)[13:]
        + '<object id="7"><metadata type="Description">'
        + "D" * 250 + "</metadata>" + _amf_object(7)[13:]
        + "<object>" + _amf_object(0)[13:]
    )  # fmt: skip
    design = _read(_amf(objects, meta=meta), "amf")
    assert design.metadata == {"Name": "File name", "description": "Desc", "AUTHOR": "Me",
                               "metadata": "m" * 500, "Title": "T" * 250}  # fmt: skip
    assert design.names == ["D" * 200, "Desc", "File name", "Me", "T" * 200, "Titled"]
    assert [b.name for b in design.bodies] == ["Titled", "D" * 200, "object 2"]


def test_amf_geometry_outside_a_mesh_element_is_not_read():
    moved = _amf_object(1).replace("<mesh>", "<part>").replace("</mesh>", "</part>")
    with pytest.raises(InputError, match="^AMF holds no triangles$"):
        _read(_amf(moved), "amf")


def test_amf_refusals_name_the_format():
    with pytest.raises(InputError, match=r"^AMF: corrupt zip container \("):
        _read(b"PK\x03\x04 not a zip", "amf")
    with pytest.raises(InputError, match=r"^AMF: malformed XML \(.*line 1"):
        _read(_amf(_amf_object(1))[:-3], "amf")
    with pytest.raises(InputError) as refused:
        _read(_amf(_amf_object(1).replace("<y>1</y>", "<y>a</y>")), "amf")
    assert str(refused.value) == "AMF: non-numeric coordinate (could not convert string to " \
        "float: 'a')"  # fmt: skip


def test_amf_at_the_text_and_triangle_limits(monkeypatch):
    from firetrace.detect.readers import LIMITS

    data = _amf(_amf_object(1))
    monkeypatch.setattr(LIMITS, "max_text_bytes", len(data))
    assert len(read_design(io.BytesIO(data), "amf", None, len(data)).faces) == 4
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 4)
    assert len(_read(data, "amf").faces) == 4
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 3)
    with pytest.raises(InputError, match="^AMF mesh of 4 triangles; refusing$"):
        _read(data, "amf")


def test_amf_signature_is_an_amf_tag_in_a_text_opening_with_a_tag():
    heads = {b"<amf unit='mm'>": True, b"  <?xml?><amf>": True, b"<AMF\n>": True,
             b"<model unit='mm'>": False, b"<amfx>": False, b"x <amf>": False}  # fmt: skip
    assert {h: _mesh_head(h, "_looks_like_amf", "xml_formats") for h in heads} == heads


# --- the readers' package: read_design, Design and the geometry checks -----------


def _boom(monkeypatch, error: BaseException | None = None, design=None):
    """A reader registered for the test only, raising *error* or giving *design*."""
    from firetrace.detect import readers

    seen = []

    def read(fh, size, name):
        seen.append((fh.tell(), size, name))
        if error is not None:
            raise error
        return design

    readers._load_all()
    monkeypatch.setitem(readers._READERS, "boom", readers.ReaderSpec(
        "boom", read, ("boom",), None, None, 100, False, "test"))  # fmt: skip
    return seen


@pytest.mark.parametrize(
    "error, message",
    [
        (MemoryError(), "boom: too large to load in memory"),
        (RecursionError(), "boom: structure nested too deeply"),
        (ValueError("first line\nsecond"), "boom: cannot parse (first line)"),
        (ValueError("x" * 300), f"boom: cannot parse ({'x' * 200})"),
        (KeyError(), "boom: cannot parse (KeyError)"),
        (InputError("its own reason"), "its own reason"),
    ],
)
def test_read_design_turns_reader_failures_into_one_line(monkeypatch, error, message):
    _boom(monkeypatch, error)
    with pytest.raises(InputError) as refused:
        read_design(io.BytesIO(b"data"), "boom")
    assert str(refused.value) == message
    assert isinstance(refused.value.__cause__, type(error)) or type(error) is InputError


def test_read_design_gives_the_reader_the_stream_at_its_start_with_size_and_name(monkeypatch):
    from firetrace.detect.readers import Design

    seen = _boom(monkeypatch, design=Design(format="boom"))
    stream = io.BytesIO(b"12345")
    stream.seek(3)
    assert read_design(stream, "boom", "a.boom").format == "boom"
    assert read_design(io.BytesIO(b"12345"), "boom", None, 99).format == "boom"
    assert seen == [(0, 5, "a.boom"), (0, 99, None)]
    with pytest.raises(InputError, match="^empty file$"):
        read_design(io.BytesIO(b"12345"), "boom", None, 0)
    with pytest.raises(InputError, match="^unsupported format 'nope'$"):
        read_design(io.BytesIO(b"1"), "nope")


def test_stream_size_keeps_the_position():
    from firetrace.detect.readers import stream_size

    stream = io.BytesIO(b"123456")
    stream.seek(2)
    assert stream_size(stream) == 6 and stream.tell() == 2


def _body_design(vertices, faces, fmt="boom"):
    import numpy as np

    from firetrace.detect.readers import Design

    design = Design(format=fmt)
    design.add_body(np.asarray(vertices, dtype=float), np.asarray(faces), name="b", kind="k")
    return design


TRIANGLE = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]


@pytest.mark.parametrize(
    "vertices, faces, message",
    [
        ([], [[0, 1, 2]], "boom: faces but no vertices"),
        (TRIANGLE, [[0, 1, 3]], "boom: face refers to a vertex that does not exist"),
        (TRIANGLE, [[-1, 1, 2]], "boom: face refers to a vertex that does not exist"),
        ([[0, 0, 0], [1, 0, float("nan")], [0, float("inf"), 0]], [[0, 1, 2]],
         "boom: 2 vertices have NaN or infinite coordinates"),
        ([[0, 0, 0], [1, 0, 0], [0, -1.1e9, 0]], [[0, 1, 2]], "boom: coordinates beyond 1e9 units"),
        ([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]],
         "boom: degenerate mesh (all 1 triangles have zero area)"),
        (TRIANGLE, [[0, 0, 1], [1, 2, 2], [2, 1, 2]],
         "boom: degenerate mesh (all 3 triangles have zero area)"),
    ],
)  # fmt: skip
def test_geometry_refused_with_its_reason(monkeypatch, vertices, faces, message):
    _boom(monkeypatch, design=_body_design(vertices, faces))
    with pytest.raises(InputError) as refused:
        read_design(io.BytesIO(b"x"), "boom")
    assert str(refused.value) == message


def test_geometry_at_its_bounds_is_kept():
    from firetrace.detect.readers import check_geometry

    design = _body_design([[0, 0, 0], [1e9, 0, 0], [0, -1e9, 0]], [[0, 1, 2]])
    check_geometry(design)
    assert len(design.faces) == 1 and design.warnings == []


def test_repeated_corner_triangles_are_dropped_with_a_warning():
    from firetrace.detect.readers import check_geometry

    design = _body_design(TRIANGLE, [[0, 1, 2], [0, 0, 1], [1, 2, 1], [2, 1, 2], [0, 1, 2]])
    check_geometry(design)
    assert design.faces.tolist() == [[0, 1, 2], [0, 1, 2]]
    assert design.warnings == ["3 of 5 triangles are degenerate (repeated corner); ignored"]


def test_bodies_left_without_triangles_are_dropped_and_the_rest_joined():
    import numpy as np

    from firetrace.detect.readers import check_geometry

    design = _body_design(TRIANGLE, [[0, 0, 1]])
    design.add_body(np.asarray(TRIANGLE, dtype=float) + 5, [[0, 1, 2]], name="second")
    design.add_body(np.zeros((0, 3)), np.zeros((0, 3)), name="empty")
    check_geometry(design)
    assert [b.name for b in design.bodies] == ["second"]
    assert design.warnings == ["1 of 2 triangles are degenerate (repeated corner); ignored"]


def test_a_tiny_area_counts_against_the_mesh_scale():
    from firetrace.detect.readers import check_geometry

    flat = _body_design([[0, 0, 0], [1000, 0, 0], [2000, 1e-10, 0]], [[0, 1, 2]])
    with pytest.raises(InputError, match="degenerate mesh"):
        check_geometry(flat)
    check_geometry(_body_design([[0, 0, 0], [1, 0, 0], [2, 1e-5, 0]], [[0, 1, 2]]))
    check_geometry(_body_design([[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0]],
                                [[0, 1, 2], [0, 3, 4]]))  # fmt: skip


def test_area_found_in_a_later_block():
    import numpy as np

    from firetrace.detect.readers import Body, _has_area

    count = 4096 + 16384 + 10
    vertices = np.asarray([[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0]], dtype=float)
    faces = np.tile([0, 1, 2], (count, 1))
    assert not _has_area(Body(vertices, faces))
    for at in (4095, 4096, 4096 + 16383, 4096 + 16384, count - 1):
        faces[at] = [0, 1, 3]
        assert _has_area(Body(vertices, faces)), at
        faces[at] = [0, 1, 2]


def test_design_joins_bodies_with_offsets_and_caps_their_number(monkeypatch):
    import numpy as np

    from firetrace.detect.readers import LIMITS, Design

    design = Design(format="x")
    assert design.vertices is None and design.faces is None and not design.has_mesh
    with pytest.raises(InputError, match="^x file holds no triangle mesh$"):
        design.to_trimesh()
    design.add_body(np.zeros((2, 3)), np.zeros((0, 3)))
    assert not design.has_mesh and design.vertices is None
    design.add_body(TRIANGLE, [[0, 1, 2]], name="a")
    assert design.bodies[-1].vertices.dtype == np.float64
    assert design.bodies[-1].faces.dtype == np.int64
    assert (design.bodies[-1].name, design.bodies[-1].kind) == ("a", "mesh")
    design.add_body(np.asarray(TRIANGLE) + 1, [[2, 1, 0]])
    # a body without triangles is left out of the joined mesh
    assert design.faces.tolist() == [[0, 1, 2], [5, 4, 3]]
    assert design.vertices.tolist() == [*TRIANGLE, *(np.asarray(TRIANGLE) + 1).tolist()]
    mesh = design.to_trimesh()
    assert len(mesh.vertices) == 6 and len(mesh.faces) == 2
    monkeypatch.setattr(LIMITS, "max_bodies", 4)
    for _ in range(4):
        design.add_body(TRIANGLE, [[0, 1, 2]])
    assert len(design.bodies) == 4
    detail = "more than 4 bodies; the rest skipped"
    assert design.limits == [{"limit": "max_bodies", "detail": detail}]
    assert design.warnings == [detail]


def test_faces_are_kept_as_int64_whatever_integers_they_come_in():
    import numpy as np

    from firetrace.detect.readers import Design

    design = Design(format="x")
    design.add_body(np.asarray(TRIANGLE, dtype=np.float32), np.asarray([[0, 1, 2]], np.int32))
    assert design.bodies[0].faces.dtype == np.int64
    assert design.bodies[0].vertices.dtype == np.float64


def test_three_bodies_joined_with_their_offsets_and_repeated_vertices_kept():
    import numpy as np

    from firetrace.detect.readers import Design

    design = Design(format="x")
    for shift in (0, 0, 2):  # the first two bodies share every vertex position
        design.add_body(np.asarray(TRIANGLE) + shift, [[0, 1, 2]])
    assert design.faces.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    mesh = design.to_trimesh()  # not processed: trimesh would merge the repeated vertices
    assert (len(mesh.vertices), mesh.faces.tolist()) == (9, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])


@pytest.mark.parametrize(
    "vertices, message",
    [
        # zero area away from the origin: the edges are taken from the first corner
        ([[1, 0, 0], [2, 1, 0], [3, 2, 0]],
         "boom: degenerate mesh (all 1 triangles have zero area)"),
        # a cross product exactly at the round-off bound is no area
        ([[0, 0, 0], [1, 0, 0], [0, 1e-12, 0]],
         "boom: degenerate mesh (all 1 triangles have zero area)"),
        ([[0, 0, 0], [1, 0, 0], [0, 1_000_000_000.5, 0]], "boom: coordinates beyond 1e9 units"),
    ],
)  # fmt: skip
def test_geometry_refused_at_the_area_and_coordinate_bounds(monkeypatch, vertices, message):
    _boom(monkeypatch, design=_body_design(vertices, [[0, 1, 2]]))
    with pytest.raises(InputError) as refused:
        read_design(io.BytesIO(b"x"), "boom")
    assert str(refused.value) == message


def test_load_design_and_load_mesh_pass_the_format_and_name_on(monkeypatch):
    from firetrace.detect.readers import load_design, load_mesh

    seen = _boom(monkeypatch, design=_body_design(TRIANGLE, [[0, 1, 2]]))
    mesh = load_mesh(io.BytesIO(b"xyz"), "boom", "a.boom")
    assert len(mesh.faces) == 1
    assert load_design(io.BytesIO(b"wxyz"), "boom", "b.boom").format == "boom"
    assert seen == [(0, 3, "a.boom"), (0, 4, "b.boom")]


def test_load_design_sniffs_with_the_name_and_refuses_what_nothing_claims():
    from firetrace.detect.readers import load_design

    junk = b"no design here at all"
    with pytest.raises(InputError) as refused:
        load_design(io.BytesIO(junk), None, "part.stl")  # the extension claims it: STL's reason
    assert str(refused.value) == "truncated: 21 bytes is shorter than a binary STL header (84)"
    with pytest.raises(InputError) as refused:
        load_design(io.BytesIO(junk))
    assert str(refused.value) == "not a recognised design file"


def test_a_design_without_mesh_names_its_first_limit():
    from firetrace.detect.readers import Design, geometry_skipped

    design = geometry_skipped(Design(format="x"), 3_000_000)
    geometry_skipped(design, 5, limit=4)
    assert design.metadata == {"triangles": 5}
    first = (
        "geometry not analysed: 3,000,000 triangles exceeds the 2,000,000 limit "
        "of this format's reader (names and metadata only)"
    )
    assert design.limits[0] == {"limit": "triangles", "detail": first}
    assert design.limits[1]["detail"].startswith(
        "geometry not analysed: 5 triangles exceeds the 4 limit"
    )
    with pytest.raises(InputError) as refused:
        design.to_trimesh()
    assert str(refused.value) == f"x: {first}"


def test_head_first_line_and_reader_registry():
    from firetrace.detect.readers import Head, reader_specs, supported_formats

    assert Head(b"", 0, b"  solid x \r\nfacet", True, b"").first_line == b"solid x"
    specs = reader_specs()
    assert [s.order for s in specs] == sorted(s.order for s in specs)
    assert supported_formats() == sorted(
        ["3mf", "amf", "bgcode", "gcode", "glb", "gltf", "iges", "obj", "off", "ply", "step", "stl"]
    )
    step = next(s for s in specs if s.format == "step")
    assert (step.extensions, step.order, step.text) == (("step", "stp"), 40, True)
    assert step.summary == "STEP header: file name, description, product names and the length unit."
    three = next(s for s in specs if s.format == "3mf")
    assert (three.extensions, three.order, three.text, three.signature) == (
        ("3mf",),
        100,
        False,
        None,
    )
    assert three.summary.startswith("3MF: one body per build item")


def test_register_keeps_the_defaults_and_the_first_line_of_the_docstring(monkeypatch):
    from firetrace.detect import readers

    readers._load_all()
    monkeypatch.setattr(readers, "_READERS", dict(readers._READERS))

    def read(fh, size, name):
        """First line of the summary.

        More text, and
        a last line."""

    def bare(fh, size, name):
        return None

    def signature(head):
        return False

    def zipped(names):
        return False

    assert readers.register("t1")(read) is read
    assert readers.register(
        "t2", extensions=("a", "b"), signature=signature, zip_signature=zipped, order=7, text=True
    )(bare) is bare  # fmt: skip
    assert readers._READERS["t1"] == readers.ReaderSpec(
        "t1", read, ("t1",), None, None, 100, False, "First line of the summary."
    )
    assert readers._READERS["t2"] == readers.ReaderSpec(
        "t2", bare, ("a", "b"), signature, zipped, 7, True, ""
    )


def test_gcode_source_files_from_the_header_are_names_after_the_objects():
    text = SQUARE.replace(
        b"; layer_height = 0.2", b"; layer_height = 0.2\n; input_filename = handle.3mf"
    )
    design = _read(text.replace(b"X50 Y40", b"X50.123 Y40"), "gcode")
    assert design.names == ["shelf.stl", "handle.3mf"]
    assert design.metadata["source_files"] == ["shelf.stl", "handle.3mf"]
    assert design.metadata["source_file"] == "handle.3mf"
    assert design.toolpath["extents_mm"] == [50.12, 40.0, 0.4]


def test_bgcode_at_the_text_limit_is_read():
    from firetrace.detect.readers import LIMITS

    data = _bgcode()
    design = read_design(io.BytesIO(data), "bgcode", None, LIMITS.max_text_bytes)
    assert design.format == "bgcode" and design.toolpath["extruding_moves"] == 2


def test_scene_nodes_without_triangles_are_skipped_and_the_rest_kept():
    import numpy as np
    import trimesh

    from firetrace.detect.readers import Design
    from firetrace.detect.readers.trimesh_formats import _add_bodies

    scene = trimesh.Scene()
    scene.add_geometry(trimesh.PointCloud(np.eye(3)), node_name="points", geom_name="points")
    empty = trimesh.Trimesh(vertices=np.eye(3), faces=np.zeros((0, 3), dtype=int))
    scene.add_geometry(empty, node_name="empty", geom_name="empty")
    scene.add_geometry(trimesh.creation.box((1, 2, 3)), node_name="N" * 250, geom_name="box")
    design = _add_bodies(Design(format="glb"), scene, "node")
    assert [(b.name, b.kind, len(b.faces)) for b in design.bodies] == [("N" * 200, "node", 12)]


def test_trimesh_logging_is_quieted_for_trimesh_only():
    import logging

    root = logging.getLogger().level
    _read(_ply(), "ply")
    assert logging.getLogger("trimesh").level == logging.CRITICAL
    assert logging.getLogger().level == root


def test_trimesh_merges_repeated_vertices():
    off = b"OFF\n5 4 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 4 2\n3 1 2 4\n"
    assert len(_read(off, "off").bodies[0].vertices) == 4


def test_ply_header_ends_at_the_first_end_header(monkeypatch):
    from firetrace.detect.readers import LIMITS

    # trimesh refuses such a file: its geometry is skipped, its names still read
    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 11)
    data = _ply(b"comment see end_header\n")
    assert _read(data, "ply").names == ["see"]
    with pytest.raises(InputError, match="^PLY file holds no faces$"):
        _read(b"end_header\n", "ply")


def test_ply_comments_that_are_not_utf_8_are_replaced(monkeypatch):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_geometry_triangles", 11)  # trimesh refuses the file
    assert _read(_ply(b"comment caf\xe9\n"), "ply").names == ["caf\ufffd"]


@pytest.mark.parametrize(
    "data, claims",
    [(b"OFF 8 12 0", True), (b"OFF 8 12", False), (b"OFF x 12 0", False), (b"OFF 8 12 x", True)],
)
def test_off_claim_read_from_the_second_and_third_of_four_tokens(monkeypatch, data, claims):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_triangles", 11)
    with pytest.raises(InputError) as refused:
        _read(data, "off")
    assert ("OFF header claims 12 faces" in str(refused.value)) is claims


def test_off_claim_read_from_the_first_4096_bytes(monkeypatch):
    from firetrace.detect.readers import LIMITS

    monkeypatch.setattr(LIMITS, "max_triangles", 11)
    head = b"OFF" + b" " * (4096 - 3 - 6) + b"\n8 12 "
    assert len(head) == 4096
    with pytest.raises(InputError) as refused:
        _read(head + b"0", "off")
    assert "claims" not in str(refused.value)
    with pytest.raises(InputError, match="claims 12 faces"):
        _read(head[1:] + b"0 ", "off")


def test_gltf_buffer_not_beside_the_file_even_when_such_a_path_exists(tmp_path):
    from firetrace.detect.readers.trimesh_formats import _check_buffers, _sibling

    (tmp_path / "d\\b.bin").write_bytes(b"x")
    (tmp_path / "a.zip!").mkdir()
    (tmp_path / "a.zip!" / "b.bin").write_bytes(b"x")
    assert _sibling(str(tmp_path / "m.gltf"), "d\\b.bin") is None
    assert _sibling(str(tmp_path / "a.zip!" / "m.gltf"), "b.bin") is None
    document = {"buffers": ["x", 3, {"uri": ""}], "images": [{"name": "no uri"}]}
    _check_buffers(document, "gltf")
    assert document == {"buffers": ["x", 3, {"uri": ""}], "images": [{"name": "no uri"}]}


def test_glb_header_fields_read_unsigned_and_the_json_chunk_to_the_end():
    import struct

    glb = _scene().export(file_type="glb")
    twenty = glb[:8] + struct.pack("<I", 20) + glb[12:20]
    with pytest.raises(InputError, match="^GLB without a valid JSON chunk$"):
        _read(twenty, "glb")
    huge = glb[:8] + struct.pack("<I", 0xFFFFFFF0) + glb[12:]
    with pytest.raises(
        InputError,
        match=f"^truncated: GLB header claims 4,294,967,280 bytes, file has {len(glb):,}$",
    ):
        _read(huge, "glb")
    for chunk in (0xFFFFFFF0, len(glb) - 19):
        wrong = glb[:12] + struct.pack("<I", chunk) + glb[16:]
        with pytest.raises(InputError, match="^GLB without a valid JSON chunk$"):
            _read(wrong, "glb")
    to_the_end = glb[:12] + struct.pack("<I", len(glb) - 20) + glb[16:]
    with pytest.raises(InputError, match="^glb: cannot parse"):
        _read(to_the_end, "glb")
