"""The shape signature: a copy is recognised through rotation, translation,
uniform scale (with the right scale factor), mirroring, subdivision, decimation
and 0.1% noise; different shapes do not match."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from _refs_shapes import SHAPES, bracket

from firetrace.refs.library import ReferenceIndex, fingerprint, match_settings
from firetrace.refs.signature import SIGNATURE_LENGTH, compute_signature, signature_distance


def _index(meshes: dict[str, trimesh.Trimesh]) -> ReferenceIndex:
    rows = []
    for n, (label, mesh) in enumerate(meshes.items()):
        found = fingerprint(mesh)
        rows.append(
            {
                "id": n + 1,
                "label": label,
                "geometry_hash": found.geometry_hash,
                "vector": found.signature.vector,
                "size": found.signature.size,
            }
        )
    return ReferenceIndex(rows)


@pytest.fixture(scope="module")
def reference() -> trimesh.Trimesh:
    return bracket()


@pytest.fixture(scope="module")
def index(reference) -> ReferenceIndex:
    return _index({"bracket": reference})


def _pose(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pose = trimesh.transformations.random_rotation_matrix(rand=rng.random(3))
    pose[:3, 3] = rng.normal(scale=50.0, size=3)
    return pose


def _variants(mesh: trimesh.Trimesh):
    rng = np.random.default_rng(7)
    yield "rotate+translate", mesh.copy().apply_transform(_pose(1)), 1.0
    for factor in (0.25, 4.0):
        yield f"scale {factor}", mesh.copy().apply_transform(_pose(2)).apply_scale(factor), factor
    yield "mirror", mesh.copy().apply_transform(np.diag([-1.0, 1.0, 1.0, 1.0])), 1.0
    mirrored = mesh.copy().apply_transform(_pose(3) @ np.diag([1.0, 1.0, -1.0, 1.0]))
    yield "mirror+pose+scale", mirrored.apply_scale(2.5), 2.5
    yield "subdivide", mesh.subdivide().subdivide(), 1.0
    noisy = mesh.subdivide().subdivide()
    sigma = 0.001 * mesh.scale / np.sqrt(3.0)
    noisy.vertices = noisy.vertices + rng.normal(scale=sigma, size=noisy.vertices.shape)
    yield "noise 0.1%", noisy, 1.0


@pytest.mark.parametrize("case", range(7))
def test_near_copy_matches_with_the_right_scale(reference, index, case):
    name, variant, factor = list(_variants(reference))[case]
    matches = index.match(fingerprint(variant))
    assert [m["label"] for m in matches] == ["bracket"], name
    match = matches[0]
    assert match["match"] == "near", name
    assert match["similarity"] >= match_settings().threshold, name
    assert match["scale"] == pytest.approx(factor, rel=0.02), name


def test_decimated_copy_matches():
    pytest.importorskip("fast_simplification")
    # A curved part: the decimator cannot halve the bracket's flat faces.
    dense = SHAPES["ring"]().subdivide()
    half = dense.simplify_quadric_decimation(face_count=len(dense.faces) // 2)
    assert len(half.faces) <= 0.51 * len(dense.faces)
    library = _index({"ring": dense, "tube": SHAPES["tube"]()})
    matches = library.match(fingerprint(half))
    assert [m["label"] for m in matches] == ["ring"]
    assert matches[0]["scale"] == pytest.approx(1.0, rel=0.02)


def test_identical_triangles_match_exactly(reference, index):
    matches = index.match(fingerprint(reference))
    assert matches[0]["match"] == "exact" and matches[0]["similarity"] == 1.0


def test_different_shapes_do_not_match():
    meshes = {name: make() for name, make in SHAPES.items()}
    library = _index(meshes)
    threshold = match_settings().threshold
    for name, mesh in meshes.items():
        found = fingerprint(mesh)
        assert [m["label"] for m in library.match(found)] == [name]
        sims = dict(zip(library.labels, library.similarities(found.signature.vector), strict=True))
        for other, sim in sims.items():
            # well under the threshold, not just under it
            assert other == name or sim < threshold - 0.1, f"{name} vs {other}: {sim:.3f}"


def test_signature_ignores_triangle_order(reference):
    shuffled = reference.copy()
    shuffled.faces = shuffled.faces[np.random.default_rng(3).permutation(len(shuffled.faces))]
    a = compute_signature(reference.triangles).vector
    b = compute_signature(shuffled.triangles).vector
    assert signature_distance(a, b) < 0.002


def test_signature_is_deterministic_and_sized():
    mesh = bracket()
    a, b = compute_signature(mesh.triangles), compute_signature(mesh.triangles)
    assert a.vector.shape == (SIGNATURE_LENGTH,)
    assert np.array_equal(a.vector, b.vector)
    assert signature_distance(a.vector, b.vector) == 0.0
    assert ((a.vector >= 0) & (a.vector <= 1)).all()


def test_signature_refuses_meshes_without_surface():
    flat = np.zeros((4, 3, 3))
    with pytest.raises(ValueError, match="surface area"):
        compute_signature(flat)
    with pytest.raises(ValueError, match="no triangles"):
        compute_signature(np.zeros((0, 3, 3)))
