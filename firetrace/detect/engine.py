"""The per-file inspection record: sniff, read, infer units, measure features,
match keywords, evaluate rules, score, and (through the ``matcher`` hook) compare
against the reference library.

:func:`inspect_stream` never raises for bad input: anything a file does wrong
becomes ``verdict: "error"`` with a one-line ``error``. Claimed sizes are checked
by the readers before allocation (see :data:`firetrace.detect.readers.LIMITS`).
:func:`inspect_file` adds the CONTRACT's ``path``, ``sha256``, ``md5`` and
``size`` for a file on disk.
"""

from __future__ import annotations

import copy
import hashlib
import io
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from firetrace.detect.keywords import keyword_hits
from firetrace.detect.readers import read_design
from firetrace.detect.rules import RuleSet, evaluate, load_rules, score, verdict_for
from firetrace.detect.sniff import describe_content, extension_format, sniff_format
from firetrace.detect.units import resolve_units
from firetrace.errors import FiretraceError

Matcher = Callable[[Any], list[dict]]
SINGLE_READ_BYTES = 64 * 1024 * 1024


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The bundled rule set, loaded once per process."""
    return load_rules()


def _base_record(fmt: str | None) -> dict[str, Any]:
    return {
        "format": fmt,
        "verdict": "clear",
        "score": 0.0,
        "findings": [],
        "reference_matches": [],
        "error": None,
    }


def _error(record: dict, message: str) -> dict:
    # One line, whatever the parser said: records go into JSONL, CSV and tables.
    record.update(verdict="error", score=0.0, findings=[], error=" ".join(message.split()))
    return record


def evidence_texts(name: str | None, design, exclude: set[str] | None = None) -> list[str]:
    """The words that count as evidence for the whole file: the file name, its
    folder, the names the file holds and its metadata values. Names in *exclude*
    (the bodies' own names) are left to the bodies they name."""
    texts: list[str] = []
    if name:
        inner = name.rsplit("!/", 1)[-1].replace("\\", "/")
        parts = [p for p in inner.split("/") if p]
        if parts and extension_format(parts[-1]):
            # the extension is not a word of the name ("p1.stl" must not read "pistl")
            parts[-1] = parts[-1].rsplit(".", 1)[0]
        texts += parts[-2:]
    texts += [n for n in design.names if isinstance(n, str) and n not in (exclude or ())]
    for key, value in design.metadata.items():
        if isinstance(value, str) and key not in ("encoding", "slicer"):
            texts.append(value)
        elif isinstance(value, list):
            texts += [v for v in value if isinstance(v, str)]
    seen, unique = set(), []
    for text in texts:
        if text and text not in seen:
            seen.add(text)
            unique.append(text)
    return unique[:300]


def inspect_stream(
    fh: BinaryIO,
    *,
    name: str,
    size: int,
    fmt: str | None = None,
    rules: RuleSet | None = None,
    matcher: Matcher | None = None,
) -> dict[str, Any]:
    """Analyse one design file from a seekable binary stream (see module doc)."""
    started = time.perf_counter()
    claimed = extension_format(name)
    try:
        if fmt is None:
            fmt = sniff_format(fh, size, name)
    except Exception as exc:  # a broken stream is still a record, never a crash
        return _error(_base_record(None), f"cannot read: {exc}")
    record = _base_record(fmt)
    if size == 0:
        return _error(record, "empty file")
    if fmt is None:
        try:
            fh.seek(0)
            head = fh.read(64)
        except Exception:
            head = b""
        looks = describe_content(head)
        return _error(record, f"not a recognised design file (content looks like {looks})")
    options = dict(name=name, size=size, fmt=fmt, claimed=claimed, rules=rules, matcher=matcher)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numeric warnings on odd meshes are not news
            return _inspect(fh, record, started=started, **options)
    except FiretraceError as exc:
        return _error(record, str(exc))
    except MemoryError:
        return _error(record, "too large to analyse in memory")
    except Exception as exc:  # last resort: a record, not a traceback, for any file
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return _error(record, f"analysis failed ({type(exc).__name__}: {first})")


def _inspect(fh, record, *, name, size, fmt, claimed, rules, matcher, started) -> dict:
    rule_set = rules or default_rules()
    design = read_design(fh, fmt, name, size)
    notes = list(design.warnings)
    if claimed and claimed != fmt:
        notes.append(f"extension says {claimed} but the content is {fmt}")
    body_names = {b.name for b in design.bodies if b.name}
    file_hits = keyword_hits(evidence_texts(name, design, body_names), rule_set.terms)
    features: dict[str, Any] = {}
    findings: list[dict] = []
    if design.has_mesh:
        judged = _judge_bodies(design, rule_set, file_hits, matcher, record, notes)
        top = judged["top"]
        if top is not None:
            features, findings = top["features"], list(top["findings"])
            record["reference_matches"] = top["reference_matches"]
        record["bodies"] = judged["records"]
    else:
        features = _toolpath_features(design, record)
        findings = evaluate(rule_set, features, file_hits)
    findings += _limit_findings(design, rule_set)
    record["findings"] = findings
    record["score"] = score(findings)
    record["verdict"] = verdict_for(rule_set, record["score"])
    if record["reference_matches"]:
        record["verdict"] = "high"
    record["features"] = features
    record["names"] = design.names[:50]
    record["metadata"] = {k: v for k, v in design.metadata.items()}
    hits = _merge_hits(file_hits, *[b.get("_hits", {}) for b in record.get("bodies", [])])
    for body in record.get("bodies", []):
        body.pop("_hits", None)
    record["keywords"] = {t: h for t, h in hits.items() if h and t != "benign_context"}
    record["warnings"] = notes
    record["rules_digest"] = rule_set.digest
    record["elapsed_s"] = round(time.perf_counter() - started, 3)
    return record


def _toolpath_features(design, record: dict) -> dict[str, Any]:
    """Features of a file without a mesh: a toolpath's printed extents, or nothing."""
    features: dict[str, Any] = {}
    if design.toolpath is not None:
        features = {"toolpath": design.toolpath}
        extents = design.toolpath.get("extents_mm")
        if extents:
            ordered = sorted(extents, reverse=True)
            features.update(
                extents_mm=ordered,
                length_mm=ordered[0],
                width_mm=ordered[1],
                thickness_mm=ordered[2],
            )
        record["units"] = {"unit": design.units or "mm", "scale_to_mm": 1.0, "source": "declared"}
    elif design.units:
        record["units"] = {"unit": design.units, "source": "declared"}
    return features


def _limit_findings(design, rule_set: RuleSet) -> list[dict]:
    """One finding per limit that stopped analysis, each weighing enough on its own
    for ``review``: a file that was not fully analysed never reads as clear."""
    findings, seen = [], set()
    for item in design.limits:
        if item["limit"] in seen:
            continue
        seen.add(item["limit"])
        findings.append(
            {"rule": f"limit.{item['limit']}", "weight": rule_set.review, "detail": item["detail"]}
        )
    return findings


def _merge_hits(*hit_sets: dict[str, list[dict]]) -> dict[str, list[dict]]:
    merged: dict[str, list[dict]] = {}
    for hits in hit_sets:
        for tier, found in hits.items():
            merged.setdefault(tier, []).extend(found)
    return merged


def _judge_bodies(design, rule_set: RuleSet, file_hits, matcher, record, notes) -> dict:
    """Split the design into parts (see :mod:`firetrace.detect.bodies`), judge each
    part on its own, and return the per-body records and the highest one."""
    # refs and scan import this module for rules and records (refs list, sniffing);
    # lazy: numpy and the measuring modules load only when a mesh is judged
    import numpy as np

    from firetrace.detect.arrays import column_extents  # lazy: it imports numpy

    # lazy: bodies needs numpy and scipy, loaded when a mesh is judged
    from firetrace.detect.bodies import DEFAULTS as BODY_DEFAULTS
    from firetrace.detect.bodies import parts_of

    vertices = design.vertices
    raw_extent = float(column_extents(vertices).max())
    units = resolve_units(design.units, raw_extent, rule_set.section("units"))
    record["units"] = units
    settings = dict(BODY_DEFAULTS)
    settings.update(rule_set.section("bodies"))
    parts = parts_of(design.bodies, units["scale_to_mm"], settings)
    candidates = [p for p in parts if p.set_aside is None]
    if not candidates:  # nothing but small parts: judge them, rather than nothing
        for part in parts:
            part.set_aside = None
        candidates = list(parts)
    candidates.sort(key=lambda p: -float(np.prod(np.maximum(p.extents, 1e-3))))
    limit = int(settings["max_judged"])
    for part in candidates[limit:]:
        part.set_aside = f"not analysed: more than {limit} parts in the file (largest judged)"
    if len(candidates) > limit:
        design.limit(
            "bodies",
            f"{len(candidates)} parts in the file; only the {limit} largest were judged",
        )
    measure_settings = _measure_settings(rule_set, settings, len(candidates))
    measured = _SameShapes(len(candidates))

    def judge(part):
        return _judge_part(part, rule_set, measure_settings, file_hits, matcher, measured)

    workers = int(settings["threads"]) if len(candidates) >= 4 else 1
    if workers > 1:  # numpy gives up the interpreter lock in the heavy steps
        with ThreadPoolExecutor(workers) as pool:
            judged = list(pool.map(judge, parts))
    else:
        judged = [judge(part) for part in parts]
    records, best, best_key = [], None, None
    for part, body in zip(parts, judged, strict=True):
        records.append(body)
        if part.set_aside is None:
            key = (body["score"], float(np.prod(np.maximum(part.extents, 1e-3))))
            if best_key is None or key > best_key:
                best, best_key = body, key
    top = None
    if best is not None:
        top = {
            "features": best.pop("_features"),
            "findings": best["findings"],
            "reference_matches": best.get("reference_matches", []),
        }
        notes += best["warnings"]  # the other bodies' warnings stay in their own records
        if len(parts) > 1:
            notes.insert(0, f"{len(parts)} bodies; the file is judged by body {best['index']}")
    for body in records:
        body.pop("_features", None)
    return {"records": records, "top": top}


def _measure_settings(rule_set: RuleSet, settings: dict, parts: int) -> dict:
    """The measurement settings for each of *parts* parts: a crowded plate shares one
    voxel budget (``plate_voxels``), each part keeping at least ``min_part_voxels``,
    so that the work per file stays bounded."""
    from firetrace.detect.features import DEFAULTS  # lazy: numpy, when a mesh is judged

    measure = dict(DEFAULTS)
    measure.update(rule_set.section("measure"))
    if parts > 1:
        share = float(settings["plate_voxels"]) / parts
        measure["max_voxels"] = min(
            float(measure["max_voxels"]), max(float(settings["min_part_voxels"]), share)
        )
    return measure


class _SameShapes:
    """Features of the parts measured so far, by shape: a plate of copies of one
    object (a slicer's copies, an STL of repeated parts) is measured once. Two
    parts have the same shape when they have the same faces and their vertices,
    relative to their lowest corner, agree to 1 nm; the features do not depend on
    where a part stands. With one part to judge there is nothing to share, and
    nothing is hashed or kept."""

    def __init__(self, parts: int) -> None:
        self._alone = parts <= 1
        self._lock = threading.Lock()
        self._locks: dict[bytes, threading.Lock] = {}
        self._seen: dict[bytes, list[tuple[Any, dict]]] = {}

    def measure(self, part, compute: Callable[[], dict]) -> dict:
        if self._alone:
            return compute()
        import numpy as np  # lazy: only when a mesh is judged

        digest = hashlib.blake2b(np.ascontiguousarray(part.faces).tobytes(), digest_size=16)
        digest.update(str(part.vertices.shape).encode())
        key = digest.digest()
        relative = part.vertices - part.vertices.min(axis=0)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # a copy measured in another thread waits for it
            for other, features in self._seen.get(key, []):
                if np.allclose(relative, other, rtol=0.0, atol=1e-6):
                    return copy.deepcopy(features)
            features = compute()
            self._seen.setdefault(key, []).append((relative, copy.deepcopy(features)))
        return features


def _judge_part(
    part, rule_set: RuleSet, measure_settings, file_hits, matcher, measured: _SameShapes
) -> dict:
    from firetrace.detect.features import measure  # lazy: numpy, when a mesh is judged

    extents = sorted((float(e) for e in part.extents), reverse=True)
    body: dict[str, Any] = {
        "index": part.index,
        "name": part.name,
        "verdict": "clear",
        "score": 0.0,
        "findings": [],
        "extents_mm": [round(e, 2) for e in extents],
        "triangles": int(len(part.faces)),
        "shells": part.shells,
        "set_aside": part.set_aside,
        "warnings": [],
    }
    notes = body["warnings"]
    part_hits = keyword_hits([part.name], rule_set.terms) if part.name else {}
    body["_hits"] = part_hits
    hits = _merge_hits(file_hits, part_hits)
    if part.set_aside is not None:
        body["findings"] = evaluate(rule_set, {}, hits)
    else:
        features = measured.measure(
            part, lambda: measure(part.vertices, part.faces, measure_settings, part.shells)
        )
        body["_features"] = features
        if features.get("stray_triangles"):
            notes.append(
                f"body {part.index}: {features['stray_triangles']} stray triangle(s) (two or "
                "more open edges, hanging off the surface) left out of the measurement"
            )
        if not features["watertight"]:
            notes.append(
                f"body {part.index}: mesh is not watertight ({features['boundary_edges']} open "
                f"edges, {features['nonmanifold_edges']} non-manifold edges): volume and holes "
                "are approximate"
            )
        body["findings"] = evaluate(rule_set, features, hits)
        if matcher is not None:
            body["reference_matches"] = _reference_matches(part, matcher, body["findings"], notes)
    body["score"] = score(body["findings"])
    body["verdict"] = verdict_for(rule_set, body["score"])
    if body.get("reference_matches"):
        body["verdict"] = "high"
    return body


def _reference_matches(part, matcher: Matcher, findings: list[dict], notes: list[str]) -> list:
    import trimesh  # lazy: only the reference library's matcher needs a Trimesh

    mesh = trimesh.Trimesh(vertices=part.vertices, faces=part.faces, process=False)
    try:
        matches = list(matcher(mesh) or [])
    except Exception as exc:  # the reference library failing is not this file's fault
        notes.append(f"reference matching failed ({type(exc).__name__}: {exc})")
        return []
    for match in matches:
        findings.insert(
            0,
            {
                "rule": "reference.match",
                "weight": 1.0,
                "detail": f"{match.get('match', 'near')} match with reference "
                f"'{match.get('label', '?')}' "
                f"(similarity {float(match.get('similarity', 0)):.2f})",
                "value": match.get("similarity"),
            },
        )
    return matches


class _Hashing(threading.Thread):
    """(sha256, md5) of a buffer on another thread (hashlib lets go of the GIL over
    large buffers); a fresh thread per file, so nothing is left behind across a fork."""

    def __init__(self, data: bytes):
        super().__init__(name="inspect-hash", daemon=True)
        self.data, self.digests = data, None
        self.start()

    def run(self) -> None:
        self.digests = (hashlib.sha256(self.data).hexdigest(), hashlib.md5(self.data).hexdigest())

    def result(self) -> tuple[str, str]:
        self.join()
        if self.digests is None:  # the thread failed: hash here, raising what it raised
            self.run()
        return self.digests


def hash_file(path: Path, chunk: int = 1 << 20) -> tuple[str, str, int]:
    """(sha256, md5, size) of a file, read once in chunks."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            sha.update(block)
            md5.update(block)
            size += len(block)
    return sha.hexdigest(), md5.hexdigest(), size


def inspect_file(
    path: str | Path, *, rules: RuleSet | None = None, matcher: Matcher | None = None
) -> dict[str, Any]:
    """The full CONTRACT record for one file on disk (read-only).

    Files up to :data:`SINGLE_READ_BYTES` are read once, hashed and analysed from
    memory; larger ones are hashed in chunks and analysed from the open file."""
    path = Path(path)
    digests = None
    try:
        size = path.stat().st_size
        if size <= SINGLE_READ_BYTES:
            with open(path, "rb") as fh:
                data = fh.read()
            size = len(data)
            digests = _Hashing(data)  # on the other core while the file is analysed
            source = io.BytesIO(data)
        else:
            sha256, md5, size = hash_file(path)
            source = open(path, "rb")  # noqa: SIM115  (closed below)
    except OSError as exc:
        record = {"path": str(path), "sha256": None, "md5": None, "size": None}
        record.update(_error(_base_record(None), f"cannot read file: {exc.strerror or exc}"))
        return record
    with source:
        analysis = inspect_stream(source, name=str(path), size=size, rules=rules, matcher=matcher)
    if digests is not None:
        sha256, md5 = digests.result()
    record = {"path": str(path), "sha256": sha256, "md5": md5, "size": size}
    record.update(analysis)
    return record
