"""``firetrace inspect PATH...``: the files a scan points at, explained one by one.

A path is an OS file or a scan record's ``!/`` path into archives and disk images
(``seized.E01!/Users/x/parts.zip!/lower.stl``). It is opened through the same
readers and guards as the scan (:func:`firetrace.forensics.evidence.open_evidence`)
and analysed the same way (:func:`firetrace.forensics.scan.record_for`), so the
record holds every field of the scan's record (SHA-1 included) and the same
values, plus what the inspection engine says in depth (names, warnings, rules
digest).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from firetrace.errors import InputError
from firetrace.forensics.analysis import EngineAnalyser
from firetrace.forensics.archives import container_kind
from firetrace.forensics.entries import LAYER_SEPARATOR
from firetrace.forensics.evidence import open_evidence
from firetrace.forensics.limits import ScanLimits, load_limits
from firetrace.forensics.scan import record_for
from firetrace.inputs import regular_file

FOLDER_HINT = "is a folder (use 'firetrace scan' for folders)"


def inspect_paths(
    paths: list[str],
    *,
    rules_dir: str | Path | None = None,
    db: str | Path | None = None,
    limits: ScanLimits | None = None,
) -> Iterator[dict]:
    """One record per path, in order. A bad rules folder is raised before any file
    is read; a path that cannot be opened at all raises :class:`InputError` when it
    is the only one, and is an ``error`` record among several."""

    analyser = EngineAnalyser(rules_dir, db)
    analyser.rules_digest()  # loads (and checks) the rules now, not inside a record
    limits = limits or load_limits(rules_dir)
    for path in paths:
        try:
            yield inspect_path(path, analyser, limits)
        except InputError as exc:
            if len(paths) == 1:
                raise
            yield unreadable_record(path, str(exc))


def inspect_path(path: str, analyser, limits: ScanLimits) -> dict:
    """The record of the file ``path`` names, as the scan would write it."""

    if LAYER_SEPARATOR not in path or os.path.lexists(path):
        regular_file(path, folder=FOLDER_HINT)  # FIFOs and devices refused unopened
    with open_evidence(path, limits=limits) as (entry, fh):
        head = fh.read(limits.sniff_bytes)
        fh.seek(0)
        record = {**record_for(entry, fh, analyser, limits, in_depth=True), "path": path}
    if record["format"] is None:
        record["error"] = _not_a_design_file(record.get("error"), head, record["size"], path)
    return record


def _not_a_design_file(error: str | None, head: bytes, size: int, path: str) -> str:

    kind = container_kind(head, size)
    if kind is None:
        return error or "not a recognised design file"
    return (
        f"a {kind} container, not a design file: inspect one of its files "
        f"({path}{LAYER_SEPARATOR}NAME, as scan names them) or scan it"
    )


def unreadable_record(path: str, reason: str) -> dict:
    """The record of a path that could not be opened at all."""
    return {
        "path": path,
        "sha256": None,
        "md5": None,
        "sha1": None,
        "size": None,
        "format": None,
        "verdict": "error",
        "score": 0.0,
        "findings": [],
        "reference_matches": [],
        "error": reason,
    }
