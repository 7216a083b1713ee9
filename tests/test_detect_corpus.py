"""The benign corpus (../shared/corpus/benign, skipped when absent): printer parts
full of words like frame, lower and trigger, and real CAD with drilled bores, are
not flagged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from firetrace.detect.engine import default_rules, inspect_file
from firetrace.detect.keywords import keyword_hits

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "benign"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"benign corpus not at {CORPUS}")


def test_no_file_name_in_the_corpus_carries_firearm_words():
    names = [name for _, _, files in os.walk(CORPUS) for name in files]
    assert len(names) > 50
    found = keyword_hits(names, default_rules().terms)
    assert not found["strong"], found["strong"]
    assert not found.get("weak"), found.get("weak")


@pytest.mark.parametrize(
    "relative",
    [
        "voron-0/STLs/A_Drive_Frame_Lower_x1.stl",
        "voron-0/STLs/[a]_9mm_Spacer_x6.stl",
        "voron-0/STLs/Tophat/TH_Lower_Clip_x3.stl",
        "voron-0/STLs/Skirts/Rear_Skirt_x1.STL",
        "trimesh-models/featuretype.3MF",
        "gcode/Front_Top_Left_Clip_x1.gcode",
    ],
)
def test_benign_parts_are_clear(relative):
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"{relative} not in this copy of the corpus")
    record = inspect_file(path)
    assert record["verdict"] == "clear", record["findings"]
