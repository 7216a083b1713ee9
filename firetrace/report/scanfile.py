"""Reading a scan's results for the report: the JSON Lines records and the manifest.

The records are the CONTRACT's scan record plus the scan's extra fields
(``sha1``, ``deleted``, ``inode``, ``features``, ``units``, ``metadata``); only
``path`` and ``verdict`` are required, everything else is optional and defaults
to "not recorded". A line that is not a JSON object, or lacks a required field,
stops the report with a one-line error naming the file, line and field. The
manifest (``<stem>.manifest.json`` beside the JSONL unless given) may be
missing: the report then says so and derives its counts from the records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firetrace.errors import InputError
from firetrace.inputs import SPECIAL, parse_json, regular_file, special_file
from firetrace.verdicts import BY_URGENCY, at_least, parse_min_verdict, rank


@dataclass
class ScanRecord:
    """One scan record, with the line it came from."""

    data: dict[str, Any]
    line: int

    @property
    def path(self) -> str:
        """The record's evidence path (``!/`` layers allowed)."""
        return self.data["path"]

    @property
    def verdict(self) -> str:
        """The record's verdict."""
        return self.data["verdict"]

    @property
    def score(self) -> float:
        """The record's score (0 when absent)."""
        return float(self.data.get("score") or 0.0)

    @property
    def fmt(self) -> str:
        """The record's format, ``unknown`` when absent."""
        return str(self.data.get("format") or "unknown")

    def get(self, key: str, default: Any = None) -> Any:
        """The record's ``key``, ``default`` when absent or null."""
        value = self.data.get(key)
        return default if value is None else value


@dataclass
class ScanInput:
    """Everything the report is built from."""

    jsonl_path: Path
    jsonl_sha256: str
    records: list[ScanRecord]
    manifest: dict[str, Any] | None
    manifest_path: Path
    manifest_problem: str | None = None
    notes: list[str] = field(default_factory=list)


def default_manifest_path(jsonl: Path) -> Path:
    """``OUT.jsonl`` -> ``OUT.manifest.json`` beside it (as ``firetrace scan`` writes it)."""
    return jsonl.with_name(jsonl.stem + ".manifest.json")


def _check_record(data: Any, where: str, line: int) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError("not a JSON object", path=where, line=line)
    path = data.get("path")
    if not isinstance(path, str) or not path:
        raise InputError("missing or not text", path=where, line=line, field="path")
    verdict = data.get("verdict")
    if verdict not in BY_URGENCY:
        raise InputError(
            f"{verdict!r} is not one of {', '.join(BY_URGENCY)}",
            path=where,
            line=line,
            field="verdict",
        )
    score = data.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise InputError(f"{score!r} is not a number", path=where, line=line, field="score")
    for key in ("findings", "reference_matches"):
        value = data.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, dict) for v in value)
        ):
            raise InputError("not a list of objects", path=where, line=line, field=key)
    for key in ("features", "metadata"):
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            raise InputError("not an object", path=where, line=line, field=key)
    return data


def read_records(jsonl: Path) -> tuple[list[ScanRecord], str]:
    """Records of a scan JSONL and the file's SHA-256 (quoted in the report)."""
    where = str(jsonl)
    regular_file(jsonl, missing="scan results not found")
    try:
        raw = jsonl.read_bytes()
    except FileNotFoundError:
        raise InputError("scan results not found", path=where) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a scan JSONL file", path=where) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=where) from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", path=where, line=line) from None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = parse_json(line)
        except ValueError as exc:  # malformed, or nested too deeply
            reason = getattr(exc, "msg", None) or str(exc)
            raise InputError(f"not valid JSON ({reason})", path=where, line=number) from None
        records.append(ScanRecord(_check_record(data, where, number), number))
    return records, digest


def read_manifest(path: Path, *, required: bool) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest, or ``(None, why)`` when it is missing or unreadable.

    With ``required`` (the user named the file) a problem is an error instead.
    """
    try:
        if special_file(path):  # a FIFO would block the read forever
            raise OSError(0, SPECIAL)
        document = parse_json(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        if required:
            raise InputError("manifest not found", path=str(path)) from None
        return None, f"no manifest at {path}"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "msg", None) or str(exc)
        if required:
            raise InputError(f"manifest unreadable ({reason})", path=str(path)) from None
        return None, f"the manifest {path} could not be read ({reason})"
    return document, None


def load_scan(jsonl: str | Path, manifest: str | Path | None = None) -> ScanInput:
    """Read a scan's JSONL and its manifest (default: beside the JSONL)."""
    jsonl = Path(jsonl)
    records, digest = read_records(jsonl)
    manifest_path = Path(manifest) if manifest is not None else default_manifest_path(jsonl)
    document, problem = read_manifest(manifest_path, required=manifest is not None)
    return ScanInput(
        jsonl_path=jsonl,
        jsonl_sha256=digest,
        records=records,
        manifest=document,
        manifest_path=manifest_path,
        manifest_problem=problem,
    )


def flagged(
    records: list[ScanRecord], min_verdict: str = "review", limit: int | None = None
) -> tuple[list[ScanRecord], int]:
    """Records at or above ``min_verdict``, highest score first, and how many there were.

    Ties keep the scan's order, so the same scan always gives the same report.
    """
    floor = parse_min_verdict(min_verdict)
    # "error" records are never flagged: the case summary lists them instead.
    chosen = [r for r in records if at_least(r.verdict, floor)]
    chosen.sort(key=lambda r: (-rank(r.verdict), -r.score))
    total = len(chosen)
    if limit is not None:
        chosen = chosen[: max(limit, 0)]
    return chosen, total
