"""Held-out stand-in family E (benchmarks/_standins_e.py): geometry only.

These tests never run a detector on family E and import nothing from firetrace: the
family is held out, to be scored with the rules frozen beforehand. They check what the
family's docstring claims: every kind builds, deterministically, within its stated
extents and triangle counts; its shells are closed, of the genus its tunnels give it;
the positives' openings (bores, pin holes, loops, wells, sleeves) stay open after the
cage is smoothed, at the sizes the docstring states.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import trimesh
from _family_contract import (
    check_command,
    check_imports,
    check_own_streams,
    load_family,
    segments_cross,
)
from scipy.spatial import cKDTree

FAMILY, MODULE_PATH = load_family("e")
KIND_NAMES = [kind.name for kind in FAMILY.KINDS]
SEEDS = (0,)  # more seeds in the slow test


@functools.cache
def _made(name: str, index: int) -> trimesh.Trimesh:
    return FAMILY.BY_NAME[name].make(FAMILY.kind_rng(name, index, 0))


def _crosses(segments: np.ndarray, mesh: trimesh.Trimesh) -> bool:
    return segments_cross(segments, mesh, strict=False, chunk=64)


def _lines_through(opening: dict, fraction: float) -> np.ndarray:
    """The opening's line and four parallel to it, *fraction* of its clear half-sizes
    off it along u and v."""
    start, end = opening["start"], opening["end"]
    offsets = [np.zeros(3)]
    for axis, half in ((opening["u"], opening["half_u"]), (opening["v"], opening["half_v"])):
        offsets += [axis * half * fraction, -axis * half * fraction]
    return np.array([[start + o, end + o] for o in offsets])


def _genus(mesh: trimesh.Trimesh) -> int:
    return (2 - mesh.euler_number) // 2


# stated sizes (mm, full clear widths) of the positives' features
SIZES = {
    "bore": (5.0, 20.0),
    "pin": (2.0, 5.0),
    "loop": ((18.0, 40.0), (14.0, 31.0)),
    "well": ((45.0, 100.0), (13.0, 31.0)),
    "pocket": ((45.0, 90.0), (13.0, 31.0)),
}


# --- every kind --------------------------------------------------------------------------


@pytest.mark.parametrize("name", KIND_NAMES)
def test_each_kind_stays_in_its_stated_extents_and_triangles(name):
    kind = FAMILY.BY_NAME[name]
    for index in SEEDS:
        mesh = _made(name, index)
        shortest, _, longest = np.sort(mesh.extents)
        assert kind.longest[0] <= longest <= kind.longest[1], (name, index, mesh.extents)
        assert shortest >= 5, (name, index, mesh.extents)
        assert kind.triangles[0] <= len(mesh.faces) <= kind.triangles[1], (name, index)
        assert 200 <= len(mesh.faces) <= FAMILY.MAX_TRIANGLES
        assert np.isfinite(mesh.vertices).all()
        assert mesh.nondegenerate_faces().all(), (name, index)


@pytest.mark.slow
@pytest.mark.parametrize("name", KIND_NAMES)
def test_many_seeds_stay_in_range_closed_and_open(name):
    kind = FAMILY.BY_NAME[name]
    for index in range(2, 14):
        mesh = kind.make(FAMILY.kind_rng(name, index, 5))
        longest = mesh.extents.max()
        assert kind.longest[0] <= longest <= kind.longest[1], (name, index, mesh.extents)
        assert kind.triangles[0] <= len(mesh.faces) <= kind.triangles[1], (name, index)
        assert all(shell.is_watertight for shell in mesh.split(only_watertight=False))
        _check_openings(name, mesh, index)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_each_kind_is_closed_shells_of_its_genus(name):
    for index in SEEDS:
        mesh = _made(name, index)
        shells = [mesh] if mesh.body_count == 1 else mesh.split(only_watertight=False)
        assert 1 <= len(shells) <= 3, (name, index)
        for shell in shells:
            assert shell.is_watertight and shell.is_winding_consistent, (name, index)
            assert shell.volume > 0, (name, index)
        through = [o for o in mesh.metadata["openings"] if o["feature"] != "pocket"]
        if len(shells) == 1 and FAMILY.BY_NAME[name].group == "positive":
            # every through-opening is a tunnel of the cage; nothing else is
            assert _genus(mesh) == len(through), (name, index, _genus(mesh))


def test_some_parts_have_a_second_shell_touching_the_first():
    for name in ("towel_ring", "file_handle"):
        mesh = _made(name, 0)
        shells = sorted(mesh.split(only_watertight=False), key=lambda s: len(s.faces))
        assert len(shells) == 2
        small, large = shells
        gaps, _ = cKDTree(large.vertices).query(small.vertices)
        assert gaps.min() < 1.5, name  # touching or overlapping, not floating apart
    pinned = [_pinned(i).body_count for i in range(3)]
    assert 1 in pinned and 2 in pinned, pinned


def _pinned(index):
    return FAMILY.POSITIVES["pinned_bar"](FAMILY.kind_rng("pinned_bar", index, 0))


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_seed_gives_the_same_mesh(name):
    again = FAMILY.BY_NAME[name].make(FAMILY.kind_rng(name, 0, 0))
    first = _made(name, 0)
    assert first.vertices.tobytes() == again.vertices.tobytes()
    assert first.faces.tobytes() == again.faces.tobytes()


def test_other_indices_seeds_and_kinds_draw_other_streams():
    draws = {
        (kind, index, seed): FAMILY.kind_rng(kind, index, seed).random()
        for kind in KIND_NAMES
        for index in (0, 1)
        for seed in (0, 1)
    }
    assert len(set(draws.values())) == len(draws)
    one, other = (
        _made("shaft_spacer", 0),
        FAMILY.LOOKALIKES["shaft_spacer"](FAMILY.kind_rng("shaft_spacer", 1, 0)),
    )
    assert one.vertices.tobytes() != other.vertices.tobytes()


# --- the positives' features -------------------------------------------------------------


def _check_openings(name, mesh, index):
    openings = mesh.metadata["openings"]
    for opening in openings:
        feature = opening["feature"]
        lines = _lines_through(opening, 0.8)
        assert not _crosses(lines, mesh), (name, index, feature)
        size = SIZES.get(feature)
        if FAMILY.BY_NAME[name].group != "positive" or size is None:
            continue
        if feature in ("bore", "pin"):
            diameter = 2 * opening["half_u"]
            assert size[0] <= diameter <= size[1], (name, index, feature, diameter)
        else:
            width, height = 2 * opening["half_u"], 2 * opening["half_v"]
            assert size[0][0] <= width <= size[0][1], (name, index, feature, width)
            assert size[1][0] <= height <= size[1][1], (name, index, feature, height)


@pytest.mark.parametrize("name", sorted(FAMILY.POSITIVES))
def test_the_positives_openings_are_open_at_their_stated_sizes(name):
    for index in SEEDS:
        mesh = _made(name, index)
        assert mesh.metadata["openings"], name
        _check_openings(name, mesh, index)


def test_an_opening_check_can_fail():
    """A line just outside a bore's clear radius, or across the wall, meets the mesh."""
    mesh = _made("sculpted_barrel", 0)
    (bore,) = mesh.metadata["openings"]
    assert not _crosses(_lines_through(bore, 0.9), mesh)
    assert _crosses(_lines_through(bore, 1.15)[1:2], mesh)
    far = mesh.extents[1]
    assert _crosses(np.array([[[100.0, -far, 0.0], [100.0, far, 0.0]]]), mesh)


def test_every_positive_has_a_stated_feature_and_bores_run_the_length():
    for name in FAMILY.POSITIVES:
        mesh = _made(name, 0)
        features = {o["feature"] for o in mesh.metadata["openings"]}
        assert features & {"bore", "pin", "loop", "well", "sleeve"}, name
        for opening in mesh.metadata["openings"]:
            if opening["feature"] in ("bore", "sleeve"):
                run = np.linalg.norm(opening["end"] - opening["start"])
                assert run >= 0.9 * mesh.extents.max(), name  # through the whole body


def test_smoothing_rounds_the_cage_but_keeps_its_tunnel():
    boxes = [FAMILY._box((0, 0, 0), (100, 30, 30)), FAMILY._cut((-1, 10, 10), (101, 20, 20))]
    cage = FAMILY._block_cage(boxes, 1.0)
    assert cage.is_watertight and _genus(cage) == 1 and cage.volume == pytest.approx(80 * 1000)
    smooth = FAMILY._smooth(cage, np.random.default_rng(0), rounds=2)
    assert smooth.is_watertight and _genus(smooth) == 1
    assert len(smooth.faces) == 16 * len(cage.faces)
    assert smooth.volume < cage.volume  # the corners are rounded off
    assert 2 * FAMILY.clear_radius(smooth, (-5, 15, 15), (105, 15, 15)) == pytest.approx(
        10, abs=0.2
    )


def test_a_lathe_cage_is_a_tube_or_a_solid():
    tube = FAMILY._lathe_cage([(0, 5), (0, 9), (50, 9), (50, 5)], 12, True)
    assert tube.is_watertight and _genus(tube) == 1 and tube.volume > 0
    solid = FAMILY._lathe_cage([(0, 0), (0, 5), (20, 5), (20, 0)], 10, False)
    assert solid.is_watertight and _genus(solid) == 0 and solid.volume > 0


# --- the family as a whole ---------------------------------------------------------------


def test_the_family_has_more_lookalike_kinds_than_positive_kinds():
    assert 6 <= len(FAMILY.POSITIVES) <= 10 and 8 <= len(FAMILY.LOOKALIKES) <= 14
    assert len(FAMILY.LOOKALIKES) >= len(FAMILY.POSITIVES)
    assert not set(FAMILY.POSITIVES) & set(FAMILY.LOOKALIKES)
    assert set(FAMILY.POSITIVES) | set(FAMILY.LOOKALIKES) == set(KIND_NAMES)


def test_no_kind_name_is_shared_with_families_b_c_and_d():
    for other in ("_standins_b.py", "_standins_c.py", "_standins_d.py"):
        module, _ = load_family(other[len("_standins_") : -len(".py")])
        assert not set(KIND_NAMES) & {kind.name for kind in module.KINDS}, other


def test_build_poses_a_part_without_changing_it():
    plain = _made("raked_loop_frame", 0)
    posed = FAMILY.build("raked_loop_frame", FAMILY.kind_rng("raked_loop_frame", 0, 0))
    assert len(posed.faces) == len(plain.faces)
    assert np.sort(posed.extents).sum() != pytest.approx(np.sort(plain.extents).sum())  # turned
    gaps = lambda m: np.sort(np.linalg.norm(m.vertices[::37] - m.vertices[0], axis=1))  # noqa: E731
    assert gaps(posed) == pytest.approx(gaps(plain), abs=1e-6)  # rigid
    pose, _, cost = trimesh.registration.procrustes(
        plain.vertices, posed.vertices, reflection=False, scale=False
    )
    assert cost < 1e-9
    back = posed.copy()
    back.apply_transform(np.linalg.inv(pose))
    assert np.sort(back.extents) == pytest.approx(np.sort(plain.extents), abs=1e-6)


def test_sample_gives_each_kind_its_own_stream_positives_first(monkeypatch):
    """Adding or removing a kind never changes the other kinds' meshes."""
    check_own_streams(FAMILY, ("mushroom_knob", "sculpted_barrel", "shaft_spacer"), monkeypatch)


def test_the_command_prints_every_kind_and_writes_posed_files(tmp_path, capsys, monkeypatch):
    chosen = ("mushroom_knob", "bridge_handle")
    monkeypatch.setattr(FAMILY, "KINDS", tuple(FAMILY.BY_NAME[n] for n in chosen))
    check_command(FAMILY, chosen, tmp_path, capsys)


def test_the_family_imports_no_detector_nor_anything_of_firetrace():
    stdlib = {"__future__", "argparse", "collections", "pathlib", "time", "typing", "zlib"}
    check_imports(MODULE_PATH, Path(__file__), stdlib)
