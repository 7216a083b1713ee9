"""Checks every held-out stand-in family's tests share: what a source file
imports (the family imports nothing of firetrace) and the family's sampling
contract (a stream of its own per kind, positives first); and whether segments
pass through a mesh, which their geometry checks use."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import numpy as np
import trimesh


def imported_roots(path: Path) -> set[str]:
    """The top-level packages a source file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def check_own_streams(family, chosen: tuple[str, str, str], monkeypatch) -> None:
    """*chosen* is a look-alike, a positive and a look-alike of *family*: sampled
    alone they come in the order of KINDS, each kind's meshes the same as built on
    their own (adding or removing a kind never changes the other kinds' meshes),
    and the family lists its positives first."""
    first, positive, last = chosen
    monkeypatch.setattr(family, "KINDS", tuple(family.BY_NAME[n] for n in chosen))
    drawn = family.sample(2, seed=3)
    order = [(group, kind) for group, kind, _ in drawn]
    assert (
        order
        == [("lookalike", first)] * 2 + [("positive", positive)] * 2 + [("lookalike", last)] * 2
    )
    alone = family.build(last, family.kind_rng(last, 1, 3))
    assert np.array_equal(drawn[-1][2].vertices, alone.vertices)
    groups = [kind.group for kind in family.BY_NAME.values()]
    assert groups == sorted(groups, key=lambda g: g != "positive")


def segments_cross(
    segments: np.ndarray, mesh: trimesh.Trimesh, *, strict: bool, chunk: int = 1000
) -> bool:
    """Whether any segment ((m, 2, 3) end points) passes through a triangle of *mesh*
    (Moller-Trumbore): strictly inside both when *strict*, else end points and
    triangle edges included."""
    tri = mesh.vertices[mesh.faces]
    v0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    eps = 1e-9 if strict else 0.0
    for start in range(0, len(segments), chunk):
        part = segments[start : start + chunk]
        origin, direction = part[:, 0][:, None, :], (part[:, 1] - part[:, 0])[:, None, :]
        p = np.cross(direction, e2[None])
        det = np.einsum("mnk,nk->mn", p, e1)
        usable = np.abs(det) > 1e-12
        inverse = np.where(usable, 1.0 / np.where(usable, det, 1.0), 0.0)
        t = origin - v0[None]
        u = np.einsum("mnk,mnk->mn", t, p) * inverse
        q = np.cross(t, e1[None])
        v = np.einsum("mnk,mnk->mn", direction, q) * inverse
        s = np.einsum("nk,mnk->mn", e2, q) * inverse
        if strict:
            hit = (u > eps) & (v > eps) & (u + v < 1 - eps) & (s > eps) & (s < 1 - eps)
        else:
            hit = (u >= 0) & (v >= 0) & (u + v <= 1) & (s >= 0) & (s <= 1)
        if (usable & hit).any():
            return True
    return False


def check_command(family, names, tmp_path, capsys) -> None:
    """The family's command prints a row for every kind of *names* (the kinds it
    holds) and writes one posed STL file for each."""
    family.main(["--count", "1", "--seed", "2", "--out", str(tmp_path)])
    table = capsys.readouterr().out
    for name in names:
        assert f"| {name} |" in table
    files = sorted(tmp_path.glob("*.stl"))
    assert len(files) == len(names)
    mesh = trimesh.load(files[0], file_type="stl")
    assert len(mesh.faces) > 0


def check_imports(module_path: Path, test_path: Path, stdlib: set[str]) -> None:
    """Held out means never shaped by the detector: the family's module imports
    only *stdlib*, numpy and trimesh, and its tests nothing of firetrace."""
    assert imported_roots(module_path) <= stdlib | {"numpy", "trimesh"}
    assert "firetrace" not in imported_roots(test_path)


def load_family(letter: str):
    """(the module of stand-in family *letter*, its path), loaded from benchmarks/."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / f"_standins_{letter}.py"
    spec = importlib.util.spec_from_file_location(f"standins_{letter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path
