"""The scan over the shared corpus of real, benign 3D files (read-only; skipped
when the corpus is absent): every design file is found by content with the
format its extension names, hashed, and nothing in the corpus is changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from test_scan_fixtures import scan_folder

from firetrace.forensics.analysis import SniffOnlyAnalyser

CORPUS = Path("/work/shared/corpus/benign")
DESIGN_EXTENSIONS = {
    "stl": "stl",
    "obj": "obj",
    "ply": "ply",
    "off": "off",
    "glb": "glb",
    "gltf": "gltf",
    "step": "step",
    "stp": "step",
    "3mf": "3mf",
}


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"benign corpus not present at {CORPUS}")
def test_every_design_file_in_the_corpus_is_found(tmp_path):
    expected = {
        str(p): DESIGN_EXTENSIONS[p.suffix.lower().lstrip(".")]
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix.lower().lstrip(".") in DESIGN_EXTENSIONS
    }
    before = {p: p.stat().st_mtime_ns for p in map(Path, expected)}
    summary, records = scan_folder(CORPUS, tmp_path, analyser=SniffOnlyAnalyser())
    found = {r["path"]: r["format"] for r in records}
    missed = sorted(set(expected) - set(found))
    assert not missed, f"{len(missed)} design files not found, e.g. {missed[:3]}"
    wrong = {p: (found[p], f) for p, f in expected.items() if found[p] != f}
    assert not wrong, f"formats differ: {list(wrong.items())[:3]}"
    sample = next(iter(sorted(expected)))
    record = next(r for r in records if r["path"] == sample)
    assert record["sha256"] == hashlib.sha256(Path(sample).read_bytes()).hexdigest()
    assert summary.manifest["errors"] == []
    assert before == {p: p.stat().st_mtime_ns for p in before}
