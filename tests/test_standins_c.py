"""Held-out stand-in family C (benchmarks/_standins_c.py): geometry validity only.

These tests never run the detector on family C: the family is held out, to be
scored with the rules frozen beforehand (docs/detection.md). Building one mesh takes
0.1-3 s of CPU (a signed-distance field sampled and meshed by marching cubes), so
the fast run builds one mesh of each of the quickest kinds; the slow run builds every
kind over six seeds.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import trimesh

MODULE_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "_standins_c.py"


def _family():
    spec = importlib.util.spec_from_file_location("standins_c", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAMILY = _family()
KIND_NAMES = [kind.name for kind in FAMILY.KINDS]
MAX_TRIANGLES = 200_000
# about 0.1-0.5 s of CPU a mesh; the other kinds take up to 3 s and run in the slow suite
QUICK_KINDS = {"smooth_tube", "key_fob", "barbed_fitting", "cable_comb"}
EACH_KIND = [
    pytest.param(name, marks=() if name in QUICK_KINDS else pytest.mark.slow) for name in KIND_NAMES
]


def _as_read_from_stl(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh as a reader sees it: binary STL, vertices merged by position."""
    return trimesh.load(io.BytesIO(mesh.export(file_type="stl")), file_type="stl")


def _check_geometry(name: str, index: int) -> None:
    kind = FAMILY.BY_NAME[name]
    mesh = _as_read_from_stl(kind.make(FAMILY.kind_rng(name, index, 0)))
    where = (name, index)
    assert mesh.is_watertight and mesh.is_winding_consistent, where
    assert mesh.volume > 0, where
    assert mesh.nondegenerate_faces().all(), where
    shells = len(mesh.split(only_watertight=False))
    # a closed hollow kind has an inner shell; its open variants (project_box) have none
    assert shells == kind.shells or (kind.shells > 1 and shells >= 1), (where, shells)
    shortest, _, longest = np.sort(mesh.extents)
    assert 2.5 <= shortest and 15 <= longest <= 450, (where, mesh.extents)
    assert 1_000 <= len(mesh.faces) <= MAX_TRIANGLES, (where, len(mesh.faces))


@pytest.mark.parametrize("name", EACH_KIND)
def test_each_kind_builds_a_closed_plausible_mesh(name):
    _check_geometry(name, 0)


@pytest.mark.slow
@pytest.mark.parametrize("name", KIND_NAMES)
def test_each_kind_stays_closed_over_more_seeds(name):
    for index in range(1, 6):
        _check_geometry(name, index)


@pytest.mark.slow
def test_closed_hollow_kinds_have_an_inner_shell():
    mesh = FAMILY.POSITIVES["closed_shell"](FAMILY.kind_rng("closed_shell", 0, 0))
    outer, inner = sorted(mesh.split(only_watertight=False), key=lambda m: -abs(m.volume))
    assert outer.volume > 0 > inner.volume  # the inner skin faces into the void
    assert np.all(inner.bounds[0] > outer.bounds[0]) and np.all(inner.bounds[1] < outer.bounds[1])


@pytest.mark.parametrize("name", ["key_fob"])
def test_a_seed_gives_the_same_mesh(name):
    first = FAMILY.build(name, FAMILY.kind_rng(name, 4, 9))
    again = FAMILY.build(name, FAMILY.kind_rng(name, 4, 9))
    other = FAMILY.build(name, FAMILY.kind_rng(name, 5, 9))
    assert np.array_equal(first.faces, again.faces)
    assert np.array_equal(first.vertices, again.vertices)
    assert not np.allclose(first.bounds, other.bounds)


def test_build_poses_a_part_without_changing_it():
    plain = FAMILY.LOOKALIKES["key_fob"](FAMILY.kind_rng("key_fob", 0, 1))
    posed = FAMILY.build("key_fob", FAMILY.kind_rng("key_fob", 0, 1))
    assert posed.volume == pytest.approx(plain.volume, rel=1e-9)
    assert np.sort(posed.principal_inertia_components) == pytest.approx(
        np.sort(plain.principal_inertia_components), rel=1e-6
    )
    assert not np.allclose(posed.bounds, plain.bounds)


def test_the_family_has_both_groups_and_no_name_in_both():
    assert len(FAMILY.POSITIVES) >= 6 and len(FAMILY.LOOKALIKES) >= 6
    assert not set(FAMILY.POSITIVES) & set(FAMILY.LOOKALIKES)
    assert set(FAMILY.POSITIVES) | set(FAMILY.LOOKALIKES) == set(KIND_NAMES)


def test_no_kind_name_is_shared_with_family_b():
    spec = importlib.util.spec_from_file_location(
        "standins_b", MODULE_PATH.with_name("_standins_b.py")
    )
    family_b = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(family_b)
    assert not set(KIND_NAMES) & {kind.name for kind in family_b.KINDS}


def test_sample_yields_every_kind_in_its_group_from_its_own_stream(monkeypatch):
    """Each kind's meshes come from its own random stream, so adding or removing a kind
    never changes the others' meshes. (Two of the quicker kinds stand in for the whole family.)"""
    cheap = tuple(FAMILY.BY_NAME[name] for name in ("smooth_tube", "key_fob"))
    monkeypatch.setattr(FAMILY, "KINDS", cheap)
    drawn = FAMILY.sample(1, seed=3)
    assert [(group, kind) for group, kind, _ in drawn] == [
        ("positive", "smooth_tube"),
        ("lookalike", "key_fob"),
    ]
    alone = FAMILY.build("key_fob", FAMILY.kind_rng("key_fob", 0, 3))
    assert np.array_equal(drawn[1][2].vertices, alone.vertices)


def test_the_field_mesher_closes_a_sphere_at_the_right_size():
    """The meshing itself, on a solid whose answer is known: a 20 mm sphere."""
    part = FAMILY.Part(FAMILY._sphere(10.0), (-10, -10, -10), (10, 10, 10), 5.0)
    mesh = FAMILY._meshed(part, np.random.default_rng(0))
    assert mesh.is_watertight and mesh.volume > 0
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 1000, rel=0.03)
    assert mesh.extents == pytest.approx([20, 20, 20], abs=0.5)


def test_a_box_drawn_too_tight_grows_to_hold_the_solid():
    part = FAMILY.Part(FAMILY._sphere(14.0), (-10, -10, -10), (10, 10, 10), 5.0)
    mesh = FAMILY._meshed(part, np.random.default_rng(0))
    assert mesh.extents == pytest.approx([28, 28, 28], abs=0.6)


def test_a_solid_far_outside_its_stated_bounds_is_refused():
    part = FAMILY.Part(FAMILY._sphere(400.0), (-10, -10, -10), (10, 10, 10), 5.0)
    with pytest.raises(ValueError, match="edge of its bounds"):
        FAMILY._meshed(part, np.random.default_rng(0))
