"""Signature bundles: the file agencies exchange to share a reference library
without sharing design files. A bundle is one JSON document holding labels,
exact geometry hashes, signature vectors and sizes (a scale reference), never
vertices or triangles; neither the hash nor the distributions in the signature
can be turned back into a shape.

Format (``format`` = ``firetrace-refs-bundle``, ``version`` = 1)::

    {"format": "firetrace-refs-bundle", "version": 1, "signature_version": 1,
     "created": "2026-11-27T23:00:00+00:00", "count": 1,
     "references": [{"label": "...", "geometry_hash": "<64 hex>",
                     "signature": [<floats>], "size": 12.5, "faces": 1000}]}

Import checks everything before writing anything: size and count limits from
``rules/refs.toml``, valid JSON, the format name, a version this firetrace
reads, and each entry's fields; the first problem is reported as one line
naming the file and the field (``references[3].signature``). Import is
all-or-nothing and skips references already present under the same label.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from firetrace.atomicfile import atomic_write_text
from firetrace.errors import FiretraceError, InputError
from firetrace.inputs import parse_json, regular_file
from firetrace.outputs import guard_output
from firetrace.refs.library import (
    _COLUMNS,
    Fingerprint,
    _decode_rows,
    insert_references,
    load_settings,
    write_transaction,
)
from firetrace.refs.signature import SIGNATURE_LENGTH, SIGNATURE_VERSION, Signature
from firetrace.sanitize import field_problem

BUNDLE_FORMAT = "firetrace-refs-bundle"
BUNDLE_VERSION = 1
MAX_FACES = 10**12  # triangles of one reference: far beyond any mesh, inside SQLite's range
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def build_bundle(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The bundle document for decoded reference rows (see library._decode_rows)."""
    references = [
        {
            "label": row["label"],
            "geometry_hash": row["geometry_hash"],
            "signature": [round(float(x), 7) for x in row["vector"]],
            "size": float(row["size"]),
            "faces": int(row["faces"]),
        }
        for row in rows
    ]
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "signature_version": SIGNATURE_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "count": len(references),
        "references": references,
    }


def export_bundle(
    db_path: str | Path,
    bundle_path: str | Path,
    *,
    labels: list[str] | None = None,
    operator: str,
    purpose: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write the references (all, or those under ``labels``) to ``bundle_path``.
    Returns {bundle, count, labels, sha256}. Sharing is recorded in the audit log.
    An existing ``bundle_path`` is replaced only with ``force``."""

    guard_output("BUNDLE", bundle_path, registry=db_path, force=force)
    if not Path(db_path).is_file():
        raise FiretraceError(f"{db_path}: no registry here, so no references to export")
    args = {"bundle": str(bundle_path), "labels": labels}
    with write_transaction(db_path, "refs export", args, operator, purpose) as (conn, changed):
        query = f"SELECT {_COLUMNS} FROM refs"
        params: list[str] = []
        if labels:
            query += f" WHERE label IN ({','.join('?' * len(labels))})"
            params = list(labels)
        rows = _decode_rows(conn.execute(query + " ORDER BY label, id", params))
        if labels:
            missing = sorted(set(labels) - {row["label"] for row in rows})
            if missing:
                raise FiretraceError(f"no reference labelled '{missing[0]}'")
        if not rows:
            raise FiretraceError("the reference library is empty: nothing to export")
        changed.extend(row["id"] for row in rows)
        text = json.dumps(build_bundle(rows), indent=1, ensure_ascii=False) + "\n"
        atomic_write_text(bundle_path, text)
    return {
        "bundle": str(bundle_path),
        "count": len(rows),
        "labels": sorted({row["label"] for row in rows}),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def _number(value: Any, where: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError("must be a finite number", path=path, field=where)
    return float(value)


def parse_bundle(
    bundle_path: str | Path, *, max_bytes: int | None = None, max_references: int | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Read and check a bundle; returns (decoded rows, sha256 of the file).
    Raises InputError naming the file (and field) for anything wrong. The limits
    default to ``rules/refs.toml``."""
    path = str(bundle_path)
    limits = load_settings()["bundle"]
    max_bytes = int(limits["max_bytes"]) if max_bytes is None else max_bytes
    max_refs = int(limits["max_references"]) if max_references is None else max_references
    max_label = int(limits["max_label_chars"])
    regular_file(bundle_path, missing="bundle not found")
    try:
        size = Path(bundle_path).stat().st_size
        if size > max_bytes:
            raise InputError(
                f"bundle is {size} bytes, more than the {max_bytes} allowed "
                "(bundle.max_bytes in rules/refs.toml)",
                path=path,
            )
        raw = Path(bundle_path).read_bytes()
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from exc
    try:
        document = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text, so not a bundle", path=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON ({exc.msg})", path=path, line=exc.lineno) from exc
    except ValueError as exc:  # nested too deeply for any bundle
        raise InputError(f"malformed JSON ({exc})", path=path) from exc
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise InputError(
            f"not a firetrace reference bundle (format is not '{BUNDLE_FORMAT}')",
            path=path,
            field="format",
        )
    version = document.get("version")
    if version != BUNDLE_VERSION:
        raise InputError(
            f"bundle version {version!r} is not supported (this firetrace reads version "
            f"{BUNDLE_VERSION})",
            path=path,
            field="version",
        )
    if document.get("signature_version") != SIGNATURE_VERSION:
        raise InputError(
            f"signature version {document.get('signature_version')!r} is not supported "
            f"(this firetrace computes version {SIGNATURE_VERSION})",
            path=path,
            field="signature_version",
        )
    references = document.get("references")
    if not isinstance(references, list):
        raise InputError("must be a list", path=path, field="references")
    if len(references) > max_refs:
        raise InputError(
            f"{len(references)} references, more than the {max_refs} allowed",
            path=path,
            field="references",
        )
    if document.get("count") not in (None, len(references)):
        raise InputError(
            f"says {document.get('count')} references but holds {len(references)}",
            path=path,
            field="count",
        )
    rows = []
    for n, entry in enumerate(references):
        where = f"references[{n}]"
        if not isinstance(entry, dict):
            raise InputError("must be an object", path=path, field=where)
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > max_label:
            raise InputError(
                f"must be one line of 1 to {max_label} characters",
                path=path,
                field=f"{where}.label",
            )
        problem = field_problem(label, multiline=False)
        if problem:
            raise InputError(problem, path=path, field=f"{where}.label")
        ghash = entry.get("geometry_hash")
        if not isinstance(ghash, str) or not _HEX64.match(ghash):
            raise InputError(
                "must be 64 lowercase hex digits", path=path, field=f"{where}.geometry_hash"
            )
        signature = entry.get("signature")
        if not isinstance(signature, list) or len(signature) != SIGNATURE_LENGTH:
            raise InputError(
                f"must be a list of {SIGNATURE_LENGTH} numbers",
                path=path,
                field=f"{where}.signature",
            )
        vector = np.array(
            [_number(x, f"{where}.signature", path) for x in signature], dtype=np.float32
        )
        if (vector < 0).any() or (vector > 1.0).any():
            raise InputError("values must lie in [0, 1]", path=path, field=f"{where}.signature")
        size = _number(entry.get("size"), f"{where}.size", path)
        if size <= 0:
            raise InputError("must be positive", path=path, field=f"{where}.size")
        faces = entry.get("faces", 0)
        if isinstance(faces, bool) or not isinstance(faces, int) or not 0 <= faces <= MAX_FACES:
            raise InputError(
                f"must be a whole number from 0 to {MAX_FACES:,}", path=path, field=f"{where}.faces"
            )
        rows.append(
            {
                "label": label.strip(),
                "geometry_hash": ghash,
                "vector": vector,
                "size": size,
                "faces": faces,
            }
        )
    return rows, hashlib.sha256(raw).hexdigest()


def import_bundle(
    db_path: str | Path, bundle_path: str | Path, *, operator: str, purpose: str | None = None
) -> dict[str, Any]:
    """Check and import a bundle; returns {bundle, sha256, added, skipped, labels}."""
    rows, digest = parse_bundle(bundle_path)
    args = {"bundle": str(bundle_path), "sha256": digest}
    added = 0
    with write_transaction(db_path, "refs import", args, operator, purpose) as (conn, changed):
        for row in rows:
            found = Fingerprint(
                row["geometry_hash"],
                Signature(vector=row["vector"], size=row["size"], faces=row["faces"]),
            )
            new = insert_references(
                conn, row["label"], [(found, None)], origin=f"bundle:{digest}", operator=operator
            )
            changed.extend(new)
            added += len(new)
    return {
        "bundle": str(bundle_path),
        "sha256": digest,
        "added": added,
        "skipped": len(rows) - added,
        "labels": sorted({row["label"] for row in rows}),
    }
