"""Held-out stand-in family B (benchmarks/_standins_b.py): geometry validity only.

These tests never run the detector on family B: the family is scored once, by
benchmarks/detect_eval.py, with the rules frozen beforehand (docs/detection.md).
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import trimesh

MODULE_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "_standins_b.py"


def _family():
    spec = importlib.util.spec_from_file_location("standins_b", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAMILY = _family()
KIND_NAMES = [kind.name for kind in FAMILY.KINDS]
SEEDS = (0, 1)


def _as_read_from_stl(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh as a reader sees it: binary STL, vertices merged by position."""
    return trimesh.load(io.BytesIO(mesh.export(file_type="stl")), file_type="stl")


@pytest.mark.parametrize("name", KIND_NAMES)
def test_each_kind_builds_closed_plausible_meshes(name):
    kind = FAMILY.BY_NAME[name]
    for seed in SEEDS:
        mesh = _as_read_from_stl(kind.make(FAMILY.kind_rng(name, seed, 0)))
        assert mesh.is_watertight and mesh.is_winding_consistent, (name, seed)
        assert mesh.volume > 0, (name, seed)
        assert mesh.nondegenerate_faces().all(), (name, seed)
        assert len(mesh.split(only_watertight=False)) == kind.shells, (name, seed)
        shortest, _, longest = np.sort(mesh.extents)
        assert 3 <= shortest and 15 <= longest <= 450, (name, seed, mesh.extents)
        assert len(mesh.faces) < 20_000, (name, seed)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_seed_gives_the_same_mesh(name):
    first = FAMILY.build(name, FAMILY.kind_rng(name, 4, 9))
    again = FAMILY.build(name, FAMILY.kind_rng(name, 4, 9))
    other = FAMILY.build(name, FAMILY.kind_rng(name, 5, 9))
    assert np.array_equal(first.faces, again.faces)
    assert np.array_equal(first.vertices, again.vertices)
    assert not np.allclose(first.bounds, other.bounds)


def test_build_poses_a_part_without_changing_it():
    rng_a, rng_b = FAMILY.kind_rng("dogleg_bar", 0, 1), FAMILY.kind_rng("dogleg_bar", 0, 1)
    plain = FAMILY.POSITIVES["dogleg_bar"](rng_a)
    posed = FAMILY.build("dogleg_bar", rng_b)
    assert posed.volume == pytest.approx(plain.volume, rel=1e-9)
    assert np.sort(posed.principal_inertia_components) == pytest.approx(
        np.sort(plain.principal_inertia_components), rel=1e-6
    )
    assert not np.allclose(posed.bounds, plain.bounds)


def test_the_family_has_both_groups_and_no_name_in_both():
    assert len(FAMILY.POSITIVES) >= 6 and len(FAMILY.LOOKALIKES) >= 6
    assert not set(FAMILY.POSITIVES) & set(FAMILY.LOOKALIKES)
    assert set(FAMILY.POSITIVES) | set(FAMILY.LOOKALIKES) == set(KIND_NAMES)


def test_sample_yields_every_kind_in_its_group_from_its_own_stream():
    """Each kind's meshes come from its own random stream, so adding or removing a
    kind never changes the others' meshes, and a seed repeats the sample."""
    drawn = FAMILY.sample(1, seed=3)
    assert [(group, kind) for group, kind, _ in drawn] == [
        (kind.group, kind.name) for kind in FAMILY.KINDS
    ]
    assert {group for group, _, _ in drawn} == {"positive", "lookalike"}
    for _, name, mesh in drawn:
        alone = FAMILY.build(name, FAMILY.kind_rng(name, 0, 3))
        assert np.array_equal(mesh.vertices, alone.vertices), name
    other_seed = FAMILY.build(drawn[0][1], FAMILY.kind_rng(drawn[0][1], 0, 4))
    assert not np.allclose(drawn[0][2].bounds, other_seed.bounds)
