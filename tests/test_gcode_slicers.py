"""Real slicers: stand-ins sliced by Debian's PrusaSlicer and CuraEngine at test
time are judged like the meshes they came from, in each slicer's dialect. Skips
with the reason when a slicer (or Cura's printer definitions) is absent."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import trimesh

from firetrace.detect.engine import inspect_stream

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slicers = _load(ROOT / "benchmarks" / "_slicers.py", "firetrace_slicers")
generator = _load(ROOT / "samples" / "generate.py", "firetrace_samples")
STATUS = slicers.available_slicers()
pytestmark = pytest.mark.slow


def _slice(name: str, mesh: trimesh.Trimesh, tmp_path: Path, *extra: str) -> dict:
    if STATUS[name]:
        pytest.skip(STATUS[name])
    stl = tmp_path / "part.stl"
    stl.write_bytes(slicers.place_on_bed(mesh).export(file_type="stl"))
    out = tmp_path / "part.gcode"
    slicers.SLICE[name](stl, out, *extra)
    data = out.read_bytes()
    return inspect_stream(io.BytesIO(data), name=out.name, size=len(data))


def _mesh_verdict(mesh: trimesh.Trimesh) -> str:
    data = mesh.export(file_type="stl")
    return inspect_stream(io.BytesIO(data), name="part.stl", size=len(data))["verdict"]


@pytest.mark.parametrize("slicer", ["prusa", "cura"])
@pytest.mark.parametrize("kind", ["tube", "gripblock"])
def test_a_sliced_stand_in_gets_its_mesh_verdict(slicer, kind, tmp_path):
    mesh = generator.STANDINS[kind](np.random.default_rng(11))
    record = _slice(slicer, mesh, tmp_path)
    assert record["verdict"] == _mesh_verdict(mesh) != "clear"
    dialects = record["features"].get("toolpath", {}).get("markers") or record["metadata"]
    assert record["metadata"]["slicer"] in ("PrusaSlicer", "Cura_SteamEngine"), dialects


@pytest.mark.parametrize("slicer", ["prusa", "cura"])
def test_a_posed_grip_block_keeps_its_pin_row(slicer, tmp_path):
    # tilted, its faces and pin holes cross the layers at an angle: rebuilt as
    # stairs, they turned the part's frame and the pins measured as "other"
    rng = np.random.default_rng(11)
    mesh = generator.pose(generator.STANDINS["gripblock"](rng), rng)
    record = _slice(slicer, mesh, tmp_path)
    assert record["verdict"] == _mesh_verdict(slicers.place_on_bed(mesh)) == "high"
    assert "pins.parallel_row" in [f["rule"] for f in record["findings"]]


@pytest.mark.parametrize("slicer", ["prusa", "cura"])
def test_a_sliced_look_alike_stays_clear(slicer, tmp_path):
    mesh = generator.LOOKALIKES["bracket"](np.random.default_rng(5))
    record = _slice(slicer, mesh, tmp_path)
    assert record["verdict"] == _mesh_verdict(mesh) == "clear"


def test_prusa_support_and_skirt_do_not_change_the_part(tmp_path):
    mesh = generator.STANDINS["tube"](np.random.default_rng(2))
    record = _slice(
        "prusa", mesh, tmp_path, "--support-material", "--skirts", "2", "--brim-width", "5"
    )
    assert record["verdict"] == _mesh_verdict(mesh)
    extents = sorted(mesh.extents, reverse=True)
    assert record["features"]["extents_mm"] == pytest.approx(extents, abs=1.5)
