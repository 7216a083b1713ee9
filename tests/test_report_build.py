"""Building the examiner's report: structure, hashes, pictures, hostile names, options, errors."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

PIL = pytest.importorskip("PIL.Image", reason="Pillow (test extra) decodes the PNGs")
trimesh = pytest.importorskip("trimesh")

from firetrace.report import ReportSummary, build_report  # noqa: E402

HOSTILE_NAME = "<script>alert(1)</script><img src=x onerror=alert(2)>.stl"


class Page(HTMLParser):
    """The parts of the page the tests look at."""

    def __init__(self, source: str):
        super().__init__()
        self.cards: list[dict] = []
        self.scripts = 0
        self.images: list[dict] = []
        self.table_rows = 0
        self._in_tbody_of_flagged = False
        self._table_stack: list[str | None] = []
        self._text: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "article" and "card" in (attrs.get("class") or ""):
            self.cards.append({"id": attrs.get("id"), "images": [], "text": []})
        if tag == "img":
            self.images.append(attrs)
            if self.cards:
                self.cards[-1]["images"].append(attrs)
        if tag == "table":
            self._table_stack.append(attrs.get("id"))
        if tag == "tr" and self._table_stack and self._table_stack[-1] == "flagged-table":
            self.table_rows += 1

    def handle_endtag(self, tag):
        if tag == "table" and self._table_stack:
            self._table_stack.pop()

    def handle_data(self, data):
        if self.cards:
            self.cards[-1]["text"].append(data)


def decode_data_uri(src: str) -> np.ndarray:
    assert src.startswith("data:image/png;base64,")
    image = PIL.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    image.load()
    return np.asarray(image.convert("RGB"))


def digests(data: bytes) -> dict:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
        "size": len(data),
    }


def stand_in_parts() -> dict[str, trimesh.Trimesh]:
    """Crude procedural stand-ins: a tube with a bore, a block with a through-cavity."""
    tube = trimesh.creation.annulus(r_min=4.6, r_max=11, height=90, sections=48)
    block = trimesh.creation.box((50, 20, 30)).difference(trimesh.creation.box((20, 30, 12)))
    return {"tube.stl": tube, "cavity_block.stl": block}


def record(path: Path | str, data: bytes | None, **fields) -> dict:
    base = {
        "path": str(path),
        "format": "stl",
        "verdict": "high",
        "score": 0.9,
        "findings": [
            {"rule": "bore.calibre_range", "weight": 0.4, "detail": "straight bore 9.2 mm x 90 mm"}
        ],
        "reference_matches": [],
        "deleted": False,
        "inode": None,
        "features": {"bores": [{"diameter_mm": 9.2, "length_mm": 90.0}], "watertight": True},
        "units": "mm",
        "metadata": {"header": "solid tube"},
        "error": None,
    }
    if data is not None:
        base.update(digests(data))
    base.update(fields)
    return base


def write_scan(folder: Path) -> Path:
    """A scan JSONL and manifest over STL stand-ins written at test time."""
    evidence = folder / "evidence"
    evidence.mkdir()
    records = []
    for (name, mesh), score in zip(stand_in_parts().items(), (0.95, 0.7), strict=True):
        path = evidence / name
        mesh.export(path)
        records.append(record(path, path.read_bytes(), score=score))
    records[1]["verdict"] = "review"
    records[1]["reference_matches"] = [
        {"label": "lab bundle <2026>", "match": "near", "similarity": 0.93}
    ]
    hostile = evidence / HOSTILE_NAME.replace("/", "_")
    stand_in_parts()["tube.stl"].export(hostile)
    records.append(
        record(
            str(hostile),
            hostile.read_bytes(),
            deleted=True,
            inode=4711,
            score=0.8,
            metadata={"header": "solid \u202elts.gpj </td></table><script>alert(3)</script>"},
            findings=[{"rule": "<b>rule</b>", "weight": 0.3, "detail": "<i>x</i> & y"}],
        )
    )
    records.append(record(evidence / "gone.stl", b"no longer here", verdict="review", score=0.6))
    records.append(record(evidence / "mug.stl", b"benign", verdict="clear", score=0.05))
    records.append(
        record(evidence / "broken.stl", None, verdict="error", score=0.0, error="truncated STL")
    )
    jsonl = folder / "scan.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    manifest = {
        "tool_version": "0.1.0",
        "rules_digest": "sha256:1234abcd",
        "operator": "Examiner <A>",
        "purpose": "CASE-2026-0042",
        "started": "2026-11-27T20:00:00Z",
        "ended": "2026-11-27T20:05:00Z",
        "roots": [{"path": str(evidence), "type": "folder"}],
        "counts": {
            "by_verdict": {"high": 2, "review": 2, "clear": 1, "error": 1},
            "by_format": {"stl": 6},
        },
        "errors": [{"kind": "refused", "path": "a.zip!/../evil.stl", "reason": "hostile name"}],
    }
    (folder / "scan.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return jsonl


@pytest.fixture
def scan(tmp_path) -> Path:
    return write_scan(tmp_path)


@dataclass
class Built:
    jsonl: Path
    html: Path
    summary: ReportSummary
    source: str


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """The report of :func:`write_scan`, built once for the tests that only read it."""
    folder = tmp_path_factory.mktemp("built")
    jsonl = write_scan(folder)
    out = folder / "report.html"
    summary = build_report(jsonl, out)
    return Built(jsonl, out, summary, out.read_text(encoding="utf-8"))


def test_report_structure_one_card_per_flagged_file(built):
    summary, source = built.summary, built.source
    assert (summary.flagged, summary.cards, summary.drawn, summary.not_drawn) == (4, 4, 3, 1)
    page = Page(source)
    assert [c["id"] for c in page.cards] == ["file-1", "file-2", "file-3", "file-4"]
    assert page.table_rows == 1 + 4  # header row plus one row per flagged file
    records = [json.loads(line) for line in built.jsonl.read_text().splitlines()]
    flagged = sorted(
        (r for r in records if r["verdict"] in ("high", "review")),
        key=lambda r: (r["verdict"] != "high", -r["score"]),
    )
    for card, rec in zip(page.cards, flagged, strict=True):
        card_text = "".join(card["text"])
        for algo in ("sha256", "sha1", "md5"):
            assert rec[algo] in card_text
        assert rec["path"] in card_text.replace("\\u202e", "\u202e")  # full path, verbatim
        assert ("yes (recovered" in card_text) == rec["deleted"]
        if rec["path"].endswith("gone.stl"):
            assert card["images"] == []
            assert "could no longer be read" in card_text
            continue
        assert len(card["images"]) == 3
        for attrs in card["images"]:
            pixels = decode_data_uri(attrs["src"])
            assert pixels.shape == (int(attrs["height"]), int(attrs["width"]), 3) == (320, 400, 3)
            painted = (pixels != 255).any(axis=-1).mean()
            assert 0.02 < painted < 0.95, "a picture must show something and not be flooded"
        assert "matches the scan's SHA-256" in card_text
    assert "bore.calibre_range" in source and "straight bore 9.2 mm x 90 mm" in source
    assert "lab bundle &lt;2026&gt;" in source and "0.93" in source


def test_case_summary_comes_from_the_manifest(built):
    summary = built.source.split('id="summary"', 1)[1].split('id="flagged"', 1)[0]
    expected = [
        "Examiner &lt;A&gt;",
        "CASE-2026-0042",
        "2026-11-27T20:00:00Z",
        "2026-11-27T20:05:00Z",
        "sha256:1234abcd",
        "hostile name",
        "By verdict (manifest)",
        "truncated STL",
        hashlib.sha256(built.jsonl.read_bytes()).hexdigest(),
    ]
    for item in expected:
        assert item in summary, item


def test_hostile_names_are_escaped_and_cannot_run(built):
    source = built.source
    page = Page(source)
    assert page.scripts == 1  # only the page's own sorting/filtering script
    assert "<script>alert" not in source and "<img src=x" not in source
    assert "&lt;script&gt;alert(1)&lt;_script&gt;&lt;img src=x" in source
    assert "\u202e" not in source and "\\u202e" in source  # direction override shown, not obeyed
    assert "<b>rule</b>" not in source and "&lt;b&gt;rule&lt;/b&gt;" in source
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', source).group(1)
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert "http://" not in source.replace("http-equiv", "") and "https://" not in source


def test_min_verdict_and_limit(scan, tmp_path):
    from firetrace.report.scanfile import flagged, load_scan

    records = load_scan(scan).records
    chosen, total = flagged(records, "high")
    assert (len(chosen), total) == (2, 2) and {r.verdict for r in chosen} == {"high"}
    chosen, total = flagged(records, "clear")
    assert (len(chosen), total) == (5, 5) and chosen[-1].verdict == "clear"
    chosen, total = flagged(records, "review", limit=2)
    assert [r.score for r in chosen] == [0.95, 0.8] and total == 4
    out = tmp_path / "r.html"
    summary = build_report(scan, out, limit=1)
    assert (summary.flagged, summary.cards) == (4, 1)
    assert "Only the first 1 are shown" in out.read_text(encoding="utf-8")


def test_missing_manifest_is_said_and_counts_come_from_records(scan, tmp_path):
    (tmp_path / "scan.manifest.json").unlink()
    out = tmp_path / "r.html"
    summary = build_report(scan, out, limit=0)  # the summary is what this is about
    assert summary.manifest is None and "no manifest" in summary.manifest_problem
    source = out.read_text(encoding="utf-8")
    assert "no manifest at" in source and "By verdict (scan records)" in source


def test_changed_evidence_is_flagged_on_its_card(scan, tmp_path):
    target = tmp_path / "evidence" / "tube.stl"
    mesh = trimesh.load(target)
    mesh.apply_scale(1.01)
    mesh.export(target)
    out = tmp_path / "r.html"
    build_report(scan, out, limit=1)  # the tube is the first card
    assert "Warning: the file read now has SHA-256" in out.read_text(encoding="utf-8")


def test_gcode_card_shows_extents_and_layer_preview(tmp_path):
    from test_render_views import gcode_square_tower

    data = gcode_square_tower(10)
    path = tmp_path / "print.gcode"
    path.write_bytes(data)
    jsonl = tmp_path / "scan.jsonl"
    jsonl.write_text(json.dumps(record(path, data, format="gcode")) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    assert build_report(jsonl, out).drawn == 1
    page = Page(out.read_text(encoding="utf-8"))
    text = "".join(page.cards[0]["text"])
    assert "30.0 \u00d7 20.0 mm" in text and "Layer 6 of 10" in text
    # the layer preview, the front view and the object rebuilt from the layers
    assert len(page.cards[0]["images"]) == 3
    assert any("Rebuilt from the layers" in a["alt"] for a in page.cards[0]["images"])
    for attrs in page.cards[0]["images"]:
        assert (decode_data_uri(attrs["src"]) != 255).any()


def test_unreadable_geometry_gets_a_card_that_says_so(tmp_path):
    path = tmp_path / "junk.stl"
    path.write_bytes(b"solid x\nthis is not an STL at all\n")
    jsonl = tmp_path / "scan.jsonl"
    jsonl.write_text(json.dumps(record(path, path.read_bytes())) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    summary = build_report(jsonl, out)
    assert (summary.cards, summary.drawn) == (1, 0)
    assert "could not be drawn" in out.read_text(encoding="utf-8")


def test_cli_writes_report_and_json_summary(scan, tmp_path, run_cli):
    out = tmp_path / "cli.html"
    result = run_cli("report", scan, "-o", out, "--json", "--min-verdict", "high", "--limit", "1")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["flagged"], document["cards"]) == (2, 1)
    assert document["output"] == str(out) and out.is_file()
    result = run_cli(
        "--operator", "Examiner B", "report", scan, "--min-verdict", "high", "--limit", "1",
        "--purpose", "REQ-7 <urgent>",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "1 card(s) of 2 flagged" in result.stdout
    byline = (tmp_path / "scan.report.html").read_text(encoding="utf-8").split("</header>")[0]
    assert "by Examiner B for REQ-7 &lt;urgent&gt;" in byline


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"path": "a.stl", "verdict": "high"}\nnot json\n', "line 2: not valid JSON"),
        ('{"verdict": "high"}\n', "line 1: path: missing"),
        ('{"path": "a.stl", "verdict": "maybe"}\n', "line 1: verdict:"),
        ('{"path": "a.stl", "verdict": "high", "score": "x"}\n', "line 1: score:"),
        ('{"path": "a.stl", "verdict": "high", "findings": {}}\n', "line 1: findings:"),
        ("[1, 2]\n", "line 1: not a JSON object"),
    ],
)
def test_bad_scan_lines_are_named(tmp_path, run_cli, content, message):
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(content, encoding="utf-8")
    result = run_cli("report", jsonl, "-o", tmp_path / "r.html")
    assert result.exit_code == 2
    assert str(jsonl) in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.html").exists()


def test_unreadable_inputs_exit_2(tmp_path, run_cli, scan):
    assert run_cli("report", tmp_path / "nope.jsonl").exit_code == 2
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"path": "caf\xe9.stl", "verdict": "high"}\n')
    result = run_cli("report", latin)
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    result = run_cli("report", scan, "--manifest", tmp_path / "absent.json")
    assert result.exit_code == 2 and "manifest not found" in result.stderr
    assert run_cli("report", scan, "--min-verdict", "bogus").exit_code == 2
    result = run_cli("report", scan, "-o", scan)
    assert result.exit_code == 2 and "is an input of this command" in result.stderr


@pytest.mark.slow
def test_report_from_a_scan_of_the_samples(tmp_path, run_cli):
    """End to end: generate the samples, scan them, report on the scan."""
    from firetrace.cli import app

    commands = {c.name for c in app.registered_commands}
    generator = Path(__file__).resolve().parent.parent / "samples" / "generate.py"
    if "scan" not in commands or not generator.is_file():
        pytest.skip("needs `firetrace scan` and samples/generate.py (issues 4 and 5)")
    import subprocess
    import sys

    samples = tmp_path / "samples"
    proc = subprocess.run(
        [sys.executable, str(generator), str(samples), "--count", "1", "--formats", "stl,3mf,obj"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.skip(f"samples/generate.py did not run here: {proc.stderr.strip()[-300:]}")
    jsonl = tmp_path / "scan.jsonl"
    result = run_cli("scan", samples, "--jsonl", jsonl, "--workers", "1")
    assert result.exit_code in (0, 1), result.stderr
    out = tmp_path / "samples.html"
    result = run_cli("report", jsonl, "-o", out, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    flagged = [r for r in records if r["verdict"] in ("high", "review")]
    assert summary["cards"] == len(flagged) > 0
    page = Page(out.read_text(encoding="utf-8"))
    assert len(page.cards) == len(flagged)
    for card in page.cards:
        card_text = "".join(card["text"])
        assert re.search(r"SHA-256[0-9a-f]{64}SHA-1", card_text), "every card shows the SHA-256"
        for attrs in card["images"]:
            assert (decode_data_uri(attrs["src"]) != 255).any(axis=-1).mean() > 0.01
    drawn = [c for c in page.cards if c["images"]]
    assert len(drawn) >= len(flagged) - sum(r["format"] in ("step", "iges") for r in flagged)


def test_report_draws_a_file_found_inside_nested_archives(tmp_path, run_cli):
    """A flagged STL inside a zip is read again through its ``!/`` path and drawn."""
    import zipfile

    from firetrace.cli import app

    if "scan" not in {c.name for c in app.registered_commands}:
        pytest.skip("needs `firetrace scan` (issue 5)")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    stl = io.BytesIO()
    stand_in_parts()["tube.stl"].export(stl, file_type="stl")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("parts/barrel_blank.stl", stl.getvalue())
    with zipfile.ZipFile(evidence / "backup.zip", "w") as archive:
        archive.writestr("old/inner.zip", inner.getvalue())
    jsonl = tmp_path / "scan.jsonl"
    result = run_cli("scan", evidence, "--jsonl", jsonl, "--workers", "1")
    assert result.exit_code in (0, 1), result.stderr
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    nested = [r for r in records if r["path"].endswith("!/parts/barrel_blank.stl")]
    assert len(nested) == 1
    out = tmp_path / "r.html"
    summary = build_report(jsonl, out, min_verdict="clear")
    assert summary.drawn == summary.cards >= 1
    page = Page(out.read_text(encoding="utf-8"))
    card = next(c for c in page.cards if nested[0]["path"] in "".join(c["text"]))
    assert len(card["images"]) == 3
    assert "matches the scan's SHA-256" in "".join(card["text"])


def test_deleted_file_in_a_disk_image_is_drawn_and_marked(tmp_path, run_cli):
    """A deleted STL still recoverable from a FAT image gets a card with pictures."""
    import shutil
    import subprocess

    from firetrace.cli import app

    if "scan" not in {c.name for c in app.registered_commands}:
        pytest.skip("needs `firetrace scan` (issue 5)")
    missing = [t for t in ("mkfs.fat", "mcopy", "mdel") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (dosfstools, mtools; installed by .ci/run)")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    stl = tmp_path / "cavity_block.stl"
    stand_in_parts()["cavity_block.stl"].export(stl)
    image = evidence / "sdcard.img"
    for command in (
        ["mkfs.fat", "-C", image, "2048"],
        ["mcopy", "-i", image, stl, "::/cavity_block.stl"],
        ["mdel", "-i", image, "::/cavity_block.stl"],
    ):
        subprocess.run([str(a) for a in command], check=True, capture_output=True, timeout=60)
    jsonl = tmp_path / "scan.jsonl"
    result = run_cli("scan", evidence, "--jsonl", jsonl, "--workers", "1")
    assert result.exit_code in (0, 1), result.stderr
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["deleted"] for r in records] == [True]
    out = tmp_path / "r.html"
    assert build_report(jsonl, out, min_verdict="clear").drawn == 1
    source = out.read_text(encoding="utf-8")
    card = Page(source).cards[0]
    card_text = "".join(card["text"])
    assert "yes (recovered" in card_text and f"{image}!/" in card_text
    assert len(card["images"]) == 3
    assert "matches the scan's SHA-256" in card_text
    assert hashlib.sha256(image.read_bytes()).hexdigest() in source  # the image, in the summary


@pytest.mark.parametrize("fmt", ["stl", "obj", "ply", "off", "3mf", "glb"])
def test_every_mesh_format_is_drawn(tmp_path, fmt):
    from firetrace.report.pictures import pictures_for

    path = tmp_path / f"part.{fmt}"
    stand_in_parts()["tube.stl"].export(path)
    data = path.read_bytes()
    pictures = pictures_for({"path": str(path), "format": fmt, **digests(data)})
    assert pictures.problem is None and len(pictures.views) == 3
    assert ("Extents in the views", "22.0 \u00d7 22.0 \u00d7 90.0 mm") in pictures.facts


def test_relative_scan_paths_are_found_from_another_folder(tmp_path, run_cli, monkeypatch):
    """A scan of a relative path, reported on from elsewhere, still finds its evidence."""
    from firetrace.cli import app

    if "scan" not in {c.name for c in app.registered_commands}:
        pytest.skip("needs `firetrace scan` (issue 5)")
    (tmp_path / "case" / "evidence").mkdir(parents=True)
    stand_in_parts()["tube.stl"].export(tmp_path / "case" / "evidence" / "tube.stl")
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    jsonl = tmp_path / "out" / "scan.jsonl"
    monkeypatch.chdir(tmp_path / "case")
    result = run_cli("scan", "evidence", "--jsonl", jsonl, "--workers", "1")
    assert result.exit_code in (0, 1), result.stderr
    assert json.loads(jsonl.read_text().splitlines()[0])["path"] == "evidence/tube.stl"
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert build_report(jsonl, tmp_path / "r.html", min_verdict="clear").drawn == 1


def test_formats_without_a_mesh_say_why_there_are_no_pictures(tmp_path):
    """Binary G-code is drawn like G-code (toolpath and rebuilt object); STEP has no mesh."""
    import struct

    from test_render_views import gcode_square_tower

    from firetrace.report.pictures import pictures_for

    gcode = gcode_square_tower(6)
    block = struct.pack("<HHI", 1, 0, len(gcode)) + b"\0\0" + gcode
    bgcode = tmp_path / "print.bgcode"
    bgcode.write_bytes(b"GCDE" + struct.pack("<IH", 1, 0) + block)
    pictures = pictures_for({"path": str(bgcode), "format": "bgcode"})
    assert pictures.problem is None and len(pictures.views) == 3
    assert ("Extents of extruding moves", "30.0 \u00d7 20.0 mm") in pictures.facts

    step = tmp_path / "part.step"
    step.write_text(
        "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('x'),'2;1');\n"
        "FILE_NAME('part.step','2020',('a'),('b'),'c','d','e');\n"
        "FILE_SCHEMA(('AUTOMOTIVE_DESIGN'));\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"
    )
    pictures = pictures_for({"path": str(step), "format": "step"})
    assert pictures.views == [] and "no triangle mesh" in pictures.problem
