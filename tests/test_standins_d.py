"""Held-out stand-in family D (benchmarks/_standins_d.py): geometry only.

These tests never run a detector on family D and import nothing from firetrace: the
family is held out, to be scored with the rules frozen beforehand. They check what the
family's docstring claims: every kind builds, deterministically, within its stated
extents and triangle counts; its shells are closed (bar the occasional stray triangle
or flipped shell a careless export leaves), more than one, and interpenetrating into
one part; the building blocks (plates with holes, lathe profiles, sweeps) are exact.
"""

from __future__ import annotations

import io
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

FAMILY, MODULE_PATH = load_family("d")
KIND_NAMES = [kind.name for kind in FAMILY.KINDS]
SEEDS = (0, 1, 2)


def _as_read_from_stl(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The mesh as a reader sees it: binary STL, vertices merged by position."""
    return trimesh.load(io.BytesIO(mesh.export(file_type="stl")), file_type="stl")


def _shells(mesh: trimesh.Trimesh) -> list[trimesh.Trimesh]:
    """Connected shells, without the stray single triangles some exports carry."""
    return [part for part in mesh.split(only_watertight=False) if len(part.faces) >= 4]


def _winding(points: np.ndarray, mesh: trimesh.Trimesh) -> np.ndarray:
    """Generalised winding number of *points* about *mesh* (1 inside a closed shell,
    -1 inside a flipped one, 0 outside)."""
    tri = mesh.vertices[mesh.faces]
    out = np.empty(len(points))
    for k, p in enumerate(points):
        a, b, c = tri[:, 0] - p, tri[:, 1] - p, tri[:, 2] - p
        la, lb, lc = (np.linalg.norm(v, axis=1) for v in (a, b, c))
        det = np.einsum("ij,ij->i", a, np.cross(b, c))
        dots = (
            la * lb * lc
            + np.einsum("ij,ij->i", a, b) * lc
            + np.einsum("ij,ij->i", b, c) * la
            + np.einsum("ij,ij->i", c, a) * lb
        )
        out[k] = np.sum(2 * np.arctan2(det, dots)) / (4 * np.pi)
    return out


def _crosses(segments: np.ndarray, mesh: trimesh.Trimesh) -> bool:
    return segments_cross(segments, mesh, strict=True, chunk=1000)


def _inside_box(points: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    return np.all((points >= bounds[0] - 1e-6) & (points <= bounds[1] + 1e-6), axis=-1)


def _reaches_into(a: trimesh.Trimesh, b: trimesh.Trimesh, rng) -> bool:
    """Whether shell *a* reaches into shell *b*: a vertex of *a* inside *b*, or an edge
    of *a* piercing a face of *b* (only the parts of each within the other's box)."""
    near = a.vertices[_inside_box(a.vertices, b.bounds)]
    some = near[rng.choice(len(near), min(len(near), 150), replace=False)]
    if len(some) and (np.abs(_winding(some, b)) > 0.5).any():
        return True
    segments = a.vertices[a.edges_unique]
    box = np.array([segments.min(axis=1), segments.max(axis=1)])
    segments = segments[np.all((box[1] >= b.bounds[0]) & (box[0] <= b.bounds[1]), axis=1)]
    if len(segments) > 800:
        segments = segments[rng.choice(len(segments), 800, replace=False)]
    tri = b.triangles
    faces = np.flatnonzero(
        np.all((tri.max(axis=1) >= a.bounds[0]) & (tri.min(axis=1) <= a.bounds[1]), axis=1)
    )
    return len(faces) > 0 and _crosses(segments, b.submesh([faces], append=True))


def _one_part(shells: list[trimesh.Trimesh]) -> bool:
    """Whether the shells, joined wherever one reaches into another, make one part."""
    rng = np.random.default_rng(0)
    reached, todo = {0}, [0]
    while todo:
        here = todo.pop()
        for other in range(len(shells)):
            if other not in reached and (
                _reaches_into(shells[here], shells[other], rng)
                or _reaches_into(shells[other], shells[here], rng)
            ):
                reached.add(other)
                todo.append(other)
    return len(reached) == len(shells)


# --- every kind --------------------------------------------------------------------------


@pytest.mark.parametrize("name", KIND_NAMES)
def test_each_kind_stays_in_its_stated_extents_and_triangles(name):
    kind = FAMILY.BY_NAME[name]
    for seed in SEEDS:
        mesh = kind.make(FAMILY.kind_rng(name, seed, 0))
        shortest, _, longest = np.sort(mesh.extents)
        assert kind.longest[0] <= longest <= kind.longest[1], (name, seed, mesh.extents)
        assert shortest >= 5, (name, seed, mesh.extents)
        assert kind.triangles[0] <= len(mesh.faces) <= kind.triangles[1], (name, seed)
        assert mesh.nondegenerate_faces().all(), (name, seed)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_each_kind_is_closed_shells_that_interpenetrate_into_one_part(name):
    for seed in SEEDS[:2]:
        mesh = _as_read_from_stl(FAMILY.BY_NAME[name].make(FAMILY.kind_rng(name, seed, 0)))
        shells = _shells(mesh)
        assert len(shells) >= 2, (name, seed)  # never unioned
        closed = [shell.is_watertight and shell.is_winding_consistent for shell in shells]
        assert sum(closed) >= len(shells) - 1, (name, seed, closed)  # one may be broken
        assert _one_part(shells), (name, seed)


@pytest.mark.parametrize("name", KIND_NAMES)
def test_a_seed_gives_the_same_mesh(name):
    meshes = [FAMILY.build(name, FAMILY.kind_rng(name, index, 9)) for index in (4, 4, 5)]
    first, again, other = ((m.vertices.tobytes(), m.faces.tobytes()) for m in meshes)
    assert first == again
    assert first[0] != other[0]


def test_careless_exports_occur_but_stay_minor():
    """Over many meshes some have a flipped shell and some a stray triangle on an edge
    (a non-manifold edge), never more than one of each."""
    flipped = strays = 0
    for index in range(40):
        mesh = FAMILY.LOOKALIKES["storage_box"](FAMILY.kind_rng("storage_box", index, 3))
        mesh = _as_read_from_stl(mesh)
        parts = mesh.split(only_watertight=False)
        negative = sum(1 for p in parts if p.is_watertight and p.volume < 0)
        stray = sum(1 for p in parts if len(p.faces) < 4)
        assert negative <= 1 and stray <= 1, index
        flipped += negative
        strays += stray
    assert flipped >= 1 and strays >= 1, (flipped, strays)


@pytest.mark.parametrize("name", ["collared_barrel", "tube_loop_frame"])
def test_the_bore_runs_clear_along_the_tube(name):
    """These kinds keep their bored tube on the construction x axis: a line along it
    meets no face, while lines just outside the tube do."""
    for seed in SEEDS:
        mesh = FAMILY.POSITIVES[name](FAMILY.kind_rng(name, seed, 0))
        low, high = mesh.bounds[0][0] - 1, mesh.bounds[1][0] + 1
        axis = np.array([[[low, 0.0, 0.0], [high, 0.0, 0.0]]])
        assert not _crosses(axis, mesh), (name, seed)
        wall = np.array([[[low, 0.0, 2.4], [high, 0.0, 2.4]]])  # inside a 5 mm bore still
        assert not _crosses(wall, mesh), (name, seed)
        far = mesh.extents[1] / 2 + 30  # a line through the side of everything
        across = np.array([[[mesh.centroid[0], -far, 0.0], [mesh.centroid[0], far, 0.0]]])
        assert _crosses(across, mesh), (name, seed)


def test_the_one_part_check_tells_apart_shells_that_meet_and_shells_that_do_not():
    """The check the kinds pass above can fail: slabs crossing without a vertex inside
    each other meet; slabs a hair apart do not."""
    bar = FAMILY._slab((40.0, 4.0, 4.0))
    cross = FAMILY._slab((4.0, 40.0, 3.0))  # a plus sign: every vertex outside the other
    apart = FAMILY._slab((4.0, 4.0, 4.0), (22.1, 0.0, 0.0))
    assert _one_part([bar, cross])
    assert not _one_part([bar, apart])
    assert not _one_part([bar, cross, apart])


# --- building blocks ---------------------------------------------------------------------


def test_a_plate_has_open_holes_and_the_volume_of_its_outline_less_them():
    hole = FAMILY._ngon(6.0, 8)
    slot = FAMILY._stadium(30.0, 12.0, 4)
    box = FAMILY._rect(10.0, 14.0, 2.0)
    holes = [
        FAMILY.Hole(12.0, 10.0, hole),
        FAMILY.Hole(40.0, 14.0, slot),
        FAMILY.Hole(70.0, 12.0, box),
    ]
    plate = FAMILY._plate(90.0, 25.0, 4.0, holes)
    assert plate.is_watertight and plate.is_winding_consistent and plate.volume > 0
    area = 90 * 25 - sum(FAMILY._polygon_area(h.loop) for h in holes)
    assert plate.volume == pytest.approx(area * 4.0, rel=1e-6)  # points kept to 1e-6 mm
    for h in holes:  # straight through each hole's centre, and not through the plate beside it
        assert not _crosses(np.array([[[h.x, h.y, -1.0], [h.x, h.y, 5.0]]]), plate)
    assert _crosses(np.array([[[26.0, 3.0, -1.0], [26.0, 3.0, 5.0]]]), plate)
    assert len(plate.split(only_watertight=False)) == 1


def test_a_countersink_removes_the_cone_of_material_it_should():
    plain = FAMILY._plate(20.0, 20.0, 5.0, [FAMILY.Hole(10.0, 10.0, FAMILY._ngon(4.0, 12))])
    sunk = FAMILY._plate(
        20.0, 20.0, 5.0, [FAMILY.Hole(10.0, 10.0, FAMILY._ngon(4.0, 12), (1.0, 2.0, False))]
    )
    assert sunk.is_watertight and sunk.volume > 0
    ring = FAMILY._polygon_area(FAMILY._ngon(4.0, 12))
    # a frustum of similar polygons from scale 1 to 2 over 1 mm, less the plain hole's prism
    frustum = 1.0 / 3 * (ring + 4 * ring + np.sqrt(ring * 4 * ring))
    assert plain.volume - sunk.volume == pytest.approx(frustum - ring, rel=1e-6)


def test_holes_too_close_or_at_the_edge_are_refused():
    hole = FAMILY._ngon(6.0, 8)
    with pytest.raises(ValueError, match="too close"):
        FAMILY._plate(
            50.0, 20.0, 3.0, [FAMILY.Hole(10.0, 10.0, hole), FAMILY.Hole(16.0, 10.0, hole)]
        )
    with pytest.raises(ValueError, match="edge"):
        FAMILY._plate(50.0, 20.0, 3.0, [FAMILY.Hole(10.0, 2.0, hole)])


def test_a_lathe_tube_has_a_polygonal_annulus_volume():
    tube = FAMILY._lathe(FAMILY._tube_profile(100.0, 5.0, 9.0), 8)
    assert tube.is_watertight and tube.volume > 0
    polygon = 8 / 2 * np.sin(2 * np.pi / 8)  # area of a unit-circumradius octagon
    assert tube.volume == pytest.approx(100 * polygon * (81 - 25), rel=1e-9)
    closed = FAMILY._lathe([(0.0, 0.0), (0.0, 5.0), (10.0, 5.0), (10.0, 0.0)], 6)  # on the axis
    assert closed.is_watertight and closed.volume == pytest.approx(
        10 * 6 / 2 * np.sin(2 * np.pi / 6) * 25, rel=1e-9
    )


def test_a_mitred_sweep_has_the_section_area_times_its_centre_line():
    section = FAMILY._rect(4.0, 6.0)
    ring = FAMILY._sweep(section, FAMILY._ring_path(40.0, 30.0, 12), closed=True)
    path = FAMILY._ring_path(40.0, 30.0, 12)
    perimeter = np.linalg.norm(np.diff(np.vstack([path, path[:1]]), axis=0), axis=1).sum()
    assert ring.is_watertight and ring.volume == pytest.approx(24 * perimeter, rel=1e-9)
    sleeve = FAMILY._sweep(
        FAMILY._rect(10, 12, 1), [(0, 0), (50, 0), (90, 10)], hole=FAMILY._rect(8, 10, 0.4)
    )
    assert sleeve.is_watertight and sleeve.volume > 0
    assert len(sleeve.split(only_watertight=False)) == 1


# --- the family as a whole ---------------------------------------------------------------


def test_the_family_has_more_lookalike_kinds_than_positive_kinds():
    assert 6 <= len(FAMILY.POSITIVES) <= 10 and 8 <= len(FAMILY.LOOKALIKES) <= 14
    assert len(FAMILY.LOOKALIKES) >= len(FAMILY.POSITIVES)
    assert not set(FAMILY.POSITIVES) & set(FAMILY.LOOKALIKES)
    assert set(FAMILY.POSITIVES) | set(FAMILY.LOOKALIKES) == set(KIND_NAMES)


def test_no_kind_name_is_shared_with_families_b_and_c():
    for other in ("_standins_b.py", "_standins_c.py"):
        module, _ = load_family(other[len("_standins_") : -len(".py")])
        assert not set(KIND_NAMES) & {kind.name for kind in module.KINDS}, other


def test_build_poses_a_part_without_changing_it():
    plain = FAMILY.POSITIVES["slab_frame"](FAMILY.kind_rng("slab_frame", 0, 1))
    posed = FAMILY.build("slab_frame", FAMILY.kind_rng("slab_frame", 0, 1))
    assert len(posed.faces) == len(plain.faces)
    assert np.sort(posed.extents).sum() != pytest.approx(np.sort(plain.extents).sum())  # turned
    gaps = lambda m: np.sort(np.linalg.norm(m.vertices[::37] - m.vertices[0], axis=1))  # noqa: E731
    assert gaps(posed) == pytest.approx(gaps(plain), abs=1e-6)  # rigid


def test_sample_gives_each_kind_its_own_stream_positives_first(monkeypatch):
    """Adding or removing a kind never changes the other kinds' meshes."""
    check_own_streams(FAMILY, ("knob_with_bore", "collared_barrel", "napkin_ring"), monkeypatch)


def test_the_command_prints_every_kind_and_writes_posed_files(tmp_path, capsys):
    check_command(FAMILY, KIND_NAMES, tmp_path, capsys)


def test_the_family_imports_no_detector_nor_anything_of_firetrace():
    stdlib = {"__future__", "argparse", "itertools", "time", "zlib", "collections", "pathlib"}
    check_imports(MODULE_PATH, Path(__file__), stdlib | {"typing"})
