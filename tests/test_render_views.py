"""Offscreen rendering: the rasteriser, the three views, decimation, PNG, scale bar, G-code."""

from __future__ import annotations

import io

import numpy as np
import pytest

PIL = pytest.importorskip("PIL.Image", reason="Pillow (test extra) decodes the PNGs")
trimesh = pytest.importorskip("trimesh")

from firetrace.report.annotate import format_length, nice_length  # noqa: E402
from firetrace.report.gcode import parse_toolpath, render_toolpath  # noqa: E402
from firetrace.report.png import encode_png  # noqa: E402
from firetrace.report.raster import cluster_vertices, rasterise  # noqa: E402
from firetrace.report.views import BACKGROUND, render_views  # noqa: E402


def decode(png: bytes) -> np.ndarray:
    image = PIL.open(io.BytesIO(png))
    image.load()
    assert image.mode == "RGB"
    return np.asarray(image)


def block_with_hole():
    """A 60 x 30 x 20 mm block with a vertical 16 mm hole through it."""
    block = trimesh.creation.box((60, 30, 20))
    return block.difference(trimesh.creation.cylinder(radius=8, height=40, sections=48))


def test_png_round_trips_exactly():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    assert np.array_equal(decode(encode_png(image)), image)


def test_rasterised_triangle_covers_its_area():
    xy = np.array([[10.0, 10.0], [90.0, 10.0], [10.0, 70.0]])
    faces, _ = rasterise(xy, np.zeros(3), np.array([[0, 1, 2]]), 100, 80)
    assert abs((faces == 0).sum() - 0.5 * 80 * 60) < 80  # area within one edge of pixels
    assert faces[15, 15] == 0 and faces[65, 85] == -1


def test_shared_edge_leaves_no_crack():
    xy = np.array([[5.3, 4.7], [60.1, 4.7], [60.1, 40.2], [5.3, 40.2]])
    faces, _ = rasterise(xy, np.zeros(4), np.array([[0, 1, 2], [0, 2, 3]]), 64, 48)
    inside = faces[6:39, 7:59]
    assert (inside >= 0).all()


def test_z_buffer_keeps_the_nearer_triangle():
    xy = np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0]] * 2)
    depth = np.array([5.0, 5.0, 5.0, 1.0, 1.0, 1.0])
    faces, _ = rasterise(xy, depth, np.array([[0, 1, 2], [3, 4, 5]]), 60, 60)
    assert faces[10, 10] == 1
    faces, _ = rasterise(xy, depth[::-1].copy(), np.array([[0, 1, 2], [3, 4, 5]]), 60, 60)
    assert faces[10, 10] == 0


def test_three_views_are_decodable_non_blank_and_show_the_hole():
    part = block_with_hole()
    drawing = render_views(part.vertices, part.faces)
    assert [v.name for v in drawing.views] == ["front", "side", "top"]
    images = {v.name: decode(v.png) for v in drawing.views}
    for image in images.values():
        assert image.shape == (320, 400, 3)
        surface = (image != BACKGROUND).any(axis=-1)
        assert 0.1 < surface.mean() < 0.9  # a part, not an empty or flooded picture
    centre = (320 - 26) // 2, 200
    assert (images["top"][centre] == BACKGROUND).all()  # looking down the hole
    assert not (images["front"][centre] == BACKGROUND).all()  # the hole is hidden from the front
    assert drawing.extents_mm == pytest.approx((60, 30, 20), abs=1e-6)
    assert drawing.pose == "the file's own axes"
    assert not drawing.decimated


def test_scale_bar_is_drawn_and_matches_the_scale():
    part = trimesh.creation.box((100, 10, 10))
    drawing = render_views(part.vertices, part.faces)
    image = decode(drawing.views[0].png)
    # 376 px for 100 mm: the bar is the largest 1-2-5 length within a third of the width.
    assert drawing.scale_bar_mm == 20
    bar_row = image[320 - 11]
    dark = np.flatnonzero((bar_row < 80).all(axis=-1))
    px_per_mm = (400 - 24) / 100
    run_end = dark[np.flatnonzero(np.diff(dark) > 1)[0]]  # the bar, before the gap and label
    assert abs((run_end - 10) - 20 * px_per_mm) <= 2


def test_inch_files_are_drawn_in_millimetres():
    part = trimesh.creation.box((4, 1, 1))  # inches
    drawing = render_views(part.vertices, part.faces, mm_per_unit=25.4)
    assert drawing.extents_mm == pytest.approx((101.6, 25.4, 25.4))
    assert drawing.scale_bar_mm == 20


@pytest.mark.slow
def test_large_meshes_are_decimated_for_the_picture_only():
    part = block_with_hole()
    dense = part.subdivide().subdivide().subdivide()
    full = render_views(dense.vertices, dense.faces, max_triangles=10**9)
    small = render_views(dense.vertices, dense.faces, max_triangles=len(dense.faces) // 8)
    assert small.decimated and not full.decimated
    assert small.triangles == len(dense.faces) and small.drawn_triangles <= len(dense.faces) // 8
    assert any("decimated" in note for note in small.notes)
    for a, b in zip(full.views, small.views, strict=True):
        covered_a = (decode(a.png) != BACKGROUND).any(axis=-1).sum()
        covered_b = (decode(b.png) != BACKGROUND).any(axis=-1).sum()
        assert abs(covered_a - covered_b) < 0.03 * covered_a


def test_skewed_pose_is_viewed_along_principal_axes():
    part = block_with_hole()
    turn = trimesh.transformations.rotation_matrix(0.6, [1, 1, 0.3])
    part.apply_transform(turn)
    drawing = render_views(part.vertices, part.faces)
    assert drawing.pose.startswith("the part's own axes")
    assert sorted(drawing.extents_mm) == pytest.approx([20, 30, 60], abs=0.5)


def test_cluster_vertices_merges_unindexed_triangles():
    box = trimesh.creation.box((10, 10, 10))
    soup = box.vertices[box.faces].reshape(-1, 3)  # every triangle with its own corners
    faces = np.arange(len(soup)).reshape(-1, 3)
    merged, kept = cluster_vertices(soup, faces, 0.01)
    assert len(merged) == 8 and len(kept) == 12


def test_bad_geometry_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="no triangles"):
        render_views(np.zeros((0, 3)), np.zeros((0, 3), dtype=int))
    nan = np.array([[np.nan, 0, 0], [1, 0, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match="finite"):
        render_views(nan, np.array([[0, 1, 2]]))


@pytest.mark.parametrize(
    "limit, expected", [(37.0, 20.0), (100.0, 100.0), (0.7, 0.5), (4.99, 2.0), (0.0, 0.0)]
)
def test_nice_length(limit, expected):
    assert nice_length(limit) == pytest.approx(expected)


def test_format_length():
    assert format_length(10.0) == "10 mm"
    assert format_length(0.5) == "0.5 mm"


def gcode_square_tower(layers: int = 12, relative: bool = False) -> bytes:
    """A 30 x 20 mm hollow square tower, sliced the way slicers write it."""
    lines = ["; generated by firetrace tests", "G21", "G90", "M83" if relative else "M82", "G92 E0"]
    e = 0.0
    for layer in range(layers):
        lines.append(f"G1 Z{0.2 + 0.2 * layer:.2f} F600")
        lines.append("G0 X10 Y10 F6000")
        for x, y in ((40, 10), (40, 30), (10, 30), (10, 10)):
            step = 1.25
            e += step
            lines.append(f"G1 X{x} Y{y} E{step if relative else e:.5f} ; perimeter")
        lines.append("G0 X25 Y20")  # travel: no extrusion
        if not relative:
            lines.append("G92 E0")
            e = 0.0
    return "\n".join(lines).encode()


@pytest.mark.parametrize("relative", [False, True])
def test_toolpath_extents_and_layers(relative):
    toolpath = parse_toolpath(gcode_square_tower(12, relative=relative))
    assert len(toolpath.layers) == 12
    assert len(toolpath.starts) == 12 * 4
    assert toolpath.extents_mm == pytest.approx((30, 20, 2.2))


def test_toolpath_pictures_show_a_layer_and_the_height():
    drawing = render_toolpath(parse_toolpath(gcode_square_tower(12)))
    assert drawing.layer_count == 12 and drawing.preview_layer == 7
    for view in drawing.views:
        image = decode(view.png)
        assert image.shape == (320, 400, 3)
        assert (image[: 320 - 26] != BACKGROUND).any(axis=-1).sum() > 500
    assert "Layer 7 of 12" in drawing.views[0].caption


def test_toolpath_without_extrusion_is_refused():
    with pytest.raises(ValueError, match="no extruding moves"):
        render_toolpath(parse_toolpath(b"G28\nG0 X10 Y10\nG0 X20 Y20\n"))


@pytest.mark.parametrize(
    "units, factor",
    [
        ("mm", 1.0),
        ("inch", 25.4),
        ("inch (inferred from size)", 25.4),
        ("millimeter", 1.0),
        ("centimeter", 10.0),
        ({"unit": "inch", "scale_to_mm": 25.4, "source": "inferred"}, 25.4),
        ({"unit": "cm"}, 10.0),
        (None, 1.0),
        ("furlong", 1.0),
    ],
)
def test_units_of_a_record_convert_to_millimetres(units, factor):
    from firetrace.report.pictures import mm_per_unit

    assert mm_per_unit(units) == factor


def test_hidden_bore_is_drawn_dashed():
    """A bore seen side-on is hidden; its walls show as dashed lines, as in a drawing."""
    plain = trimesh.creation.box((80, 30, 30))
    bore = trimesh.creation.cylinder(radius=5, height=120, sections=48)
    bore.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    bored = plain.difference(bore)
    front_plain = decode(render_views(plain.vertices, plain.faces).views[0].png).astype(int)
    drawing = render_views(bored.vertices, bored.faces)
    front = decode(drawing.views[0].png).astype(int)
    px_per_mm = (400 - 24) / 80
    centre_row = (320 - 26) / 2
    marked = np.abs(front - front_plain).sum(axis=-1) > 60
    for z in (5, -5):  # the bore's top and bottom walls
        row = int(round(centre_row - z * px_per_mm))
        band = marked[row - 2 : row + 3, 30:370].any(axis=0)
        assert 0.3 < band.mean() < 0.8, "a dashed line along the bore"
    marked[int(centre_row - 5 * px_per_mm) - 3 : int(centre_row + 5 * px_per_mm) + 4] = False
    assert marked[:, 30:370].sum() < 40  # nothing else changed away from the bore's walls
