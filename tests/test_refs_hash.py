"""The canonical geometry hash: same triangles give the same hash whatever the
file format, triangle order, corner order or winding; anything else differs."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from _refs_shapes import bracket, soup, tube

from firetrace.refs.canonical import geometry_hash, triangle_digests
from firetrace.refs.library import mesh_from_file


@pytest.fixture(scope="module")
def shape() -> trimesh.Trimesh:
    mesh = bracket()
    # Off-grid coordinates, so float formatting really is exercised.
    mesh.apply_transform(trimesh.transformations.rotation_matrix(0.3, (1, 2, 3)))
    mesh.apply_translation((0.123456789, -7.3, 1e-3))
    return mesh


def _write(mesh: trimesh.Trimesh, path, kind: str):
    if kind == "stl-binary":
        mesh.export(path, file_type="stl")
    elif kind == "stl-ascii":
        path.write_text(trimesh.exchange.stl.export_stl_ascii(mesh))
    elif kind == "obj":
        path.write_text(trimesh.exchange.obj.export_obj(mesh, digits=17))
    elif kind == "ply":
        path.write_bytes(trimesh.exchange.ply.export_ply(mesh, encoding="binary"))
    elif kind == "ply-ascii":
        # Written by hand with shortest round-trip floats: trimesh's ascii PLY
        # writer keeps 8 decimals only, a lossy rewrite (see the near tests).
        lines = [
            "ply",
            "format ascii 1.0",
            "comment a different header",
            f"element vertex {len(mesh.vertices)}",
            *[f"property double {axis}" for axis in "xyz"],
            f"element face {len(mesh.faces)}",
            "property list uchar int vertex_indices",
            "end_header",
            *[" ".join(repr(float(c)) for c in v) for v in mesh.vertices],
            *["3 " + " ".join(str(int(i)) for i in f) for f in mesh.faces],
        ]
        path.write_text("\n".join(lines) + "\n")
    elif kind == "3mf":
        path.write_bytes(trimesh.exchange.threemf.export_3MF(mesh))
    elif kind == "off":
        path.write_text(trimesh.exchange.off.export_off(mesh, digits=17))


FORMATS = {
    "stl-binary": "a.stl",
    "stl-ascii": "b.stl",
    "obj": "c.obj",
    "ply": "d.ply",
    "ply-ascii": "e.ply",
    "3mf": "f.3mf",
    "off": "g.off",
}


def test_hash_is_the_same_across_file_formats(shape, tmp_path):
    # Start from float32 coordinates, as a binary STL holds them.
    start = tmp_path / "start.stl"
    shape.export(start, file_type="stl")
    original = mesh_from_file(start)
    expected = geometry_hash(original.triangles)
    merged = original.copy()
    merged.merge_vertices()
    for kind, name in FORMATS.items():
        path = tmp_path / name
        _write(merged if kind != "stl-ascii" else original, path, kind)
        assert geometry_hash(mesh_from_file(path).triangles) == expected, kind


def test_hash_ignores_triangle_order_corner_order_and_winding(shape):
    tri = shape.triangles
    expected = geometry_hash(tri)
    rng = np.random.default_rng(1)
    assert geometry_hash(tri[rng.permutation(len(tri))]) == expected
    shift = rng.integers(0, 3, len(tri))
    rolled = np.stack([tri[np.arange(len(tri)), (shift + k) % 3] for k in range(3)], axis=1)
    assert geometry_hash(rolled) == expected
    assert geometry_hash(tri[:, ::-1]) == expected


def test_hash_ignores_vertex_merging_degenerate_and_repeated_triangles(shape):
    expected = geometry_hash(shape.triangles)
    assert geometry_hash(soup(shape.triangles).triangles) == expected
    tri = shape.triangles
    degenerate = np.stack([tri[0, 0], tri[0, 0], tri[0, 1]])[None]
    padded = np.concatenate([tri, tri[:5], degenerate])
    assert geometry_hash(padded) == expected


def test_hash_ignores_float_formatting_and_negative_zero():
    tri = np.array([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    same = np.array([[[-0.0, 0.0, -0.0], [1.0000000000001, 0, 0], [0, 0.99999999999999, 0]]])
    assert geometry_hash(tri) == geometry_hash(same)


def test_hash_differs_for_different_meshes(shape):
    assert geometry_hash(shape.triangles) != geometry_hash(tube().triangles)
    moved = shape.triangles.copy()
    moved[0, 0, 0] += 1e-3
    assert geometry_hash(moved) != geometry_hash(shape.triangles)
    shifted = shape.triangles + np.array([1.0, 0.0, 0.0])
    assert geometry_hash(shifted) != geometry_hash(shape.triangles)
    assert geometry_hash(shape.triangles[:-1]) != geometry_hash(shape.triangles)


def test_digests_count_distinct_triangles(shape):
    tri = shape.triangles
    assert len(triangle_digests(tri)) == len(tri)
    doubled = np.concatenate([tri, tri[:, [2, 0, 1]]])
    assert len(triangle_digests(doubled)) == len(tri)


def test_tolerance_is_float32_rounding(shape):
    tri = shape.triangles.astype(np.float32).astype(np.float64)
    expected = geometry_hash(tri)
    # below float32 resolution: same hash
    assert geometry_hash(tri * (1 + 1e-12)) == expected
    # one float32 step on one coordinate: a different hash
    moved = tri.astype(np.float32)
    moved[3, 1, 2] = np.nextafter(moved[3, 1, 2], np.float32(np.inf))
    assert geometry_hash(moved) != expected


def test_float_noise_around_zero_counts_as_zero(shape):
    tri = shape.triangles.copy()
    tri[0, 0, 2] = 0.0
    noisy = tri.copy()
    noisy[0, 0, 2] = 5.3290705e-15  # what a CAD exporter writes for 0
    assert geometry_hash(noisy) == geometry_hash(tri)
    noisy[0, 0, 2] = 1e-3  # a real coordinate is kept
    assert geometry_hash(noisy) != geometry_hash(tri)
