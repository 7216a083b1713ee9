"""Builders shared by the scan tests: crude procedural stand-ins (a tube, a block)
and evidence trees made at test time, plus a small analyser that uses the real
content sniffer but a fixed verdict, so walking, containers and outputs can be
tested apart from the inspection engine's scoring."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from firetrace.forensics.limits import load_limits


def tube_stl(length: float = 80.0, bore: float = 9.0) -> bytes:
    """A plain tube (a bore) as binary STL: the coarse stand-in for a positive."""
    import trimesh

    mesh = trimesh.creation.annulus(r_min=bore / 2, r_max=bore / 2 + 4, height=length)
    return mesh.export(file_type="stl")


def block_stl(x: float = 30.0, y: float = 20.0, z: float = 10.0) -> bytes:
    import trimesh

    return trimesh.creation.box(extents=(x, y, z)).export(file_type="stl")


def seven_zip(members: dict[str, bytes]) -> bytes:
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


class FixedVerdict:
    """Real sniffing, fixed verdict: flags every design file it is given."""

    def __init__(self, verdict: str = "review", score: float = 0.5):
        self.verdict, self.score = verdict, score

    def sniff(self, fh, size, name):
        from firetrace.detect.sniff import sniff_format

        return sniff_format(fh, size, name)

    def analyse(self, fh, *, name, size, fmt):
        data = fh.read()
        assert len(data) == size  # the scan hands the whole member, positioned at 0
        return {"format": fmt, "verdict": self.verdict, "score": self.score, "findings": []}


class ReportsPreload(FixedVerdict):
    """Says, in each record's metadata, whether the module it asks a parallel scan to
    preload (``wave``, which nothing else imports) was loaded before its analysis."""

    preload = ("wave",)

    def analyse(self, fh, *, name, size, fmt):
        import sys

        record = super().analyse(fh, name=name, size=size, fmt=fmt)
        return {**record, "metadata": {"preloaded": "wave" in sys.modules}}


class NoPreload(ReportsPreload):
    preload = ()


@pytest.fixture
def limits():
    return load_limits()


def scan_folder(root: Path, tmp_path: Path, analyser=None, **options):
    """Run the library scan on ``root`` with a JSONL output; return (summary, records)."""
    import json

    from firetrace.forensics.session import ScanOptions, run_scan

    out = tmp_path / "out" / "scan.jsonl"
    out.parent.mkdir(exist_ok=True)
    options.setdefault("workers", 1)
    options.setdefault("force", True)  # helpers scan into the same output again
    summary = run_scan(
        ScanOptions([str(root)], jsonl=out, **options), analyser=analyser or FixedVerdict()
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return summary, records


class SlowOn(FixedVerdict):
    """Flags design files, but spins in a pure-Python loop on files named ``slow*``
    (as a pathological mesh might) for 30 s, then calls them clear: a scan
    without a working time limit fails the test instead of hanging it."""

    def analyse(self, fh, *, name, size, fmt):
        if name.startswith("slow"):
            import time

            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                pass
            return {"format": fmt, "verdict": "clear", "score": 0.0, "findings": []}
        return super().analyse(fh, name=name, size=size, fmt=fmt)
