"""CASE/UCO export: the JSON-LD a scan writes with ``--case`` validates against
the CASE ontology with ``case_validate`` (case-utils) and describes every
reported file with its hashes, the deleted flag and the verdict."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
from test_scan_fixtures import block_stl, tube_stl, zip_bytes

from firetrace.forensics.case import case_document


def _nodes(document: dict, kind: str) -> list[dict]:
    return [n for n in document["@graph"] if n["@type"] == kind]


@pytest.mark.slow
def test_case_export_validates(tmp_path, run_cli):
    if shutil.which("case_validate") is None:
        pytest.skip("case_validate (pip install case-utils) is not installed")
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "holiday.jpg").write_bytes(tube_stl())
    (evidence / "b.zip").write_bytes(zip_bytes({"inner/block.stl": block_stl()}))
    out = tmp_path / "scan.jsonld"
    result = run_cli(
        "scan",
        evidence,
        "--case",
        out,
        "--workers",
        "1",
        "--operator",
        "examiner 7",
        "--purpose",
        "case 2026/114",
    )
    assert result.exit_code in (0, 1), result.stderr
    proc = subprocess.run(["case_validate", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Conforms: True" in proc.stdout

    document = json.loads(out.read_text())
    files = {
        facet["uco-observable:filePath"]: node
        for node in _nodes(document, "uco-observable:File")
        for facet in node["uco-core:hasFacet"]
        if facet["@type"] == "uco-observable:FileFacet"
    }
    stl_path = f"{evidence}/holiday.jpg"
    assert {stl_path, f"{evidence}/b.zip!/inner/block.stl", str(evidence)} <= set(files)
    content = next(
        f for f in files[stl_path]["uco-core:hasFacet"] if f["@type"].endswith("ContentDataFacet")
    )
    hashes = {
        h["uco-types:hashMethod"]: h["uco-types:hashValue"]["@value"]
        for h in content["uco-observable:hash"]
    }
    assert hashes["SHA256"] == hashlib.sha256(tube_stl()).hexdigest()
    assert set(hashes) == {"MD5", "SHA1", "SHA256"}
    action = _nodes(document, "case-investigation:InvestigativeAction")[0]
    assert len(action["uco-action:result"]) == 2
    assert action["uco-core:description"] == "case 2026/114"
    annotations = _nodes(document, "uco-core:Annotation")
    assert len(annotations) == 2
    assert all(a["uco-core:statement"].startswith("firetrace verdict") for a in annotations)


def test_case_document_marks_deleted_and_is_deterministic():
    record = {
        "path": "img.dd!/gone.stl",
        "sha256": "ab" * 32,
        "md5": "cd" * 16,
        "sha1": "ef" * 20,
        "size": 684,
        "format": "stl",
        "verdict": "review",
        "score": 0.5,
        "findings": [{"rule": "bore.calibre_range", "weight": 0.4, "detail": "bore 9 mm"}],
        "reference_matches": [],
        "error": None,
        "deleted": True,
        "inode": 4,
        "hashset": None,
    }
    manifest = {
        "started": "2026-11-27T23:00:00Z",
        "ended": "2026-11-27T23:01:00Z",
        "operator": "x",
        "roots": [{"path": "img.dd", "type": "disk_image", "sha256": "00" * 32}],
    }
    first = case_document([record], manifest)
    assert first == case_document([record], manifest)
    annotation = _nodes(first, "uco-core:Annotation")[0]
    assert "deleted" in annotation["uco-core:tag"]
    assert "bore.calibre_range (0.4): bore 9 mm" in annotation["uco-core:statement"]
    assert "deleted file, inode 4" in annotation["uco-core:statement"]
