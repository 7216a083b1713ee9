"""The procedural sample generator: closed meshes, stand-ins flagged, look-alikes clear."""

from __future__ import annotations

import importlib.util
import io

import numpy as np
import pytest

from firetrace.detect.engine import inspect_stream
from firetrace.paths import samples_dir


def _generator():
    spec = importlib.util.spec_from_file_location("samples_generate", samples_dir() / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


def _inspect(mesh, fmt="stl", index=0):
    data, extension = GENERATOR.export_bytes(mesh, fmt)
    return inspect_stream(io.BytesIO(data), name=f"part_{index}.{extension}", size=len(data))


@pytest.mark.parametrize("kind", sorted(GENERATOR.STANDINS))
def test_standins_are_closed_and_flagged_in_a_random_pose(kind):
    rng = np.random.default_rng(11)
    mesh = GENERATOR.STANDINS[kind](rng)
    assert mesh.is_watertight and mesh.volume > 0
    record = _inspect(GENERATOR.pose(mesh, rng), fmt="ply")
    assert record["verdict"] in ("review", "high"), record["findings"]
    assert record["features"]["watertight"]


@pytest.mark.parametrize("kind", sorted(GENERATOR.LOOKALIKES))
def test_benign_lookalikes_are_clear(kind):
    rng = np.random.default_rng(12)
    mesh = GENERATOR.LOOKALIKES[kind](rng)
    assert mesh.is_watertight
    record = _inspect(GENERATOR.pose(mesh, rng), fmt="obj")
    assert record["verdict"] == "clear", record["findings"]


def test_generate_writes_files_without_firearm_words(tmp_path):
    paths = GENERATOR.generate(tmp_path, count=1, seed=3, formats=("stl", "3mf"))
    assert len(paths) == len(GENERATOR.STANDINS) + len(GENERATOR.LOOKALIKES)
    assert {p.suffix for p in paths} == {".stl", ".3mf"}
    assert sum(p.stat().st_size for p in paths) < 5_000_000
    from firetrace.detect.engine import default_rules
    from firetrace.detect.keywords import keyword_hits

    found = keyword_hits([p.name for p in paths], default_rules().terms)
    assert not found["strong"] and not found.get("weak")
