"""The reference library: known designs stored as signatures in the registry
database, and the matcher that ``inspect`` and ``scan`` call for every mesh.

A reference is one mesh under a label (a design may have several parts, so a
label may hold several references). Each row keeps the canonical geometry hash
(:mod:`firetrace.refs.canonical`), the shape signature
(:mod:`firetrace.refs.signature`) and the size used to report a scale factor,
never the geometry. Writes (add, remove, import) append an audit entry in the
same transaction as the change. :func:`load_matcher` opens the database
read-only, builds a :class:`ReferenceIndex` once per process and database
state, and hands back a callable that matches one mesh against all references
with one matrix-vector product.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from firetrace import paths
from firetrace.audit import audited_write, check_policy
from firetrace.dbschema import has_table
from firetrace.detect.engine import default_rules
from firetrace.detect.readers import read_design, stream_size
from firetrace.detect.sniff import sniff_format
from firetrace.detect.units import resolve_units
from firetrace.errors import FiretraceError, InputError
from firetrace.inputs import regular_file
from firetrace.refs.canonical import geometry_hash
from firetrace.refs.signature import (
    SIGNATURE_LENGTH,
    SIGNATURE_VERSION,
    TOTAL_WEIGHT,
    Signature,
    compute_signature,
    similarity_from_distance,
)
from firetrace.registry.db import connect, is_registry
from firetrace.sanitize import field_problem

if TYPE_CHECKING:  # pragma: no cover
    import trimesh


@dataclass(frozen=True)
class MatchSettings:
    """How a signature distance is read (``rules/refs.toml``, section ``match``)."""

    distance_scale: float
    threshold: float
    max_results: int


@lru_cache(maxsize=4)
def load_settings(path: Path | None = None) -> dict[str, Any]:
    """The parsed ``rules/refs.toml`` (or ``path``)."""

    path = path or paths.rules_dir() / "refs.toml"
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FiretraceError(f"{path}: cannot read reference settings: {exc}") from exc


def match_settings() -> MatchSettings:
    """The matching settings from ``rules/refs.toml`` ``[match]``."""
    section = load_settings()["match"]
    return MatchSettings(
        distance_scale=float(section["distance_scale"]),
        threshold=float(section["threshold"]),
        max_results=int(section["max_results"]),
    )


# --- reading a file as the inspector reads it ---------------------------------------


def mesh_from_file(path: str | Path) -> trimesh.Trimesh:
    """The mesh of a design file exactly as ``inspect`` hands it to the matcher:
    sniffed, read by the detect readers, scaled to millimetres, not processed.
    Raises :class:`InputError` naming the file when it holds no readable mesh."""
    import trimesh  # lazy: ~2 s; listing, matching and bundles never build a mesh

    path = regular_file(path)
    try:
        with open(path, "rb") as fh:
            size = stream_size(fh)
            # the whole path, as inspect gives it: a glTF's buffers are found beside it
            fmt = sniff_format(fh, size, str(path))
            if fmt is None:
                raise InputError("not a recognised design file", path=str(path))
            design = read_design(fh, fmt, str(path), size)
    except InputError as exc:
        if exc.path is None:
            raise InputError(str(exc), path=str(path)) from exc
        raise
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from exc
    if not design.has_mesh:
        raise InputError(f"{design.format} file holds no triangle mesh", path=str(path))
    vertices = design.vertices
    units = resolve_units(
        design.units, float(np.ptp(vertices, axis=0).max()), default_rules().section("units")
    )
    scaled = vertices * units["scale_to_mm"]
    return trimesh.Trimesh(vertices=scaled, faces=design.faces, process=False)


def _triangles(mesh: Any) -> np.ndarray:
    triangles = getattr(mesh, "triangles", mesh)
    return np.asarray(triangles, dtype=np.float64).reshape(-1, 3, 3)


@dataclass(frozen=True)
class Fingerprint:
    """What the library keeps of one mesh: its exact hash and its signature."""

    geometry_hash: str
    signature: Signature


def fingerprint(mesh: Any) -> Fingerprint:
    """Exact hash and shape signature of a mesh (a Trimesh or (n, 3, 3) triangles)."""
    triangles = _triangles(mesh)
    try:
        signature = compute_signature(triangles)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return Fingerprint(geometry_hash(triangles), signature)


# --- the index ---------------------------------------------------------------------------


class ReferenceIndex:
    """All references in memory: a (n, d) float32 matrix of signature vectors,
    their squared norms, and a dict from exact hash to rows. Matching one mesh
    costs one matrix-vector product plus a dict lookup."""

    def __init__(self, rows: Sequence[dict[str, Any]], settings: MatchSettings | None = None):
        self.settings = settings or match_settings()
        self.labels = [row["label"] for row in rows]
        self.ids = [row["id"] for row in rows]
        self.sizes = np.array([row["size"] for row in rows], dtype=np.float64)
        self.matrix = np.zeros((len(rows), SIGNATURE_LENGTH), dtype=np.float32)
        for i, row in enumerate(rows):
            self.matrix[i] = row["vector"]
        self.norms = (self.matrix.astype(np.float64) ** 2).sum(axis=1)
        self.by_hash: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            self.by_hash.setdefault(row["geometry_hash"], []).append(i)

    def __len__(self) -> int:
        return len(self.labels)

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Similarity in [0, 1] of ``vector`` to every reference."""
        query = np.asarray(vector, dtype=np.float32)
        squared = self.norms + float((query.astype(np.float64) ** 2).sum())
        squared -= 2.0 * (self.matrix @ query).astype(np.float64)
        distance = np.sqrt(np.clip(squared, 0.0, None) / TOTAL_WEIGHT)
        return similarity_from_distance(distance, self.settings.distance_scale)

    def match(self, found: Fingerprint, threshold: float | None = None) -> list[dict[str, Any]]:
        """Best match per label, exact matches first, then by similarity."""
        if not len(self):
            return []
        threshold = self.settings.threshold if threshold is None else threshold
        sims = self.similarities(found.signature.vector)
        best: dict[str, dict[str, Any]] = {}
        for row in self.by_hash.get(found.geometry_hash, []):
            best.setdefault(self.labels[row], self._result(row, "exact", 1.0, found))
        candidates = np.flatnonzero(sims >= threshold)
        for row in candidates[np.argsort(-sims[candidates], kind="stable")]:
            if len(best) >= self.settings.max_results:
                break  # ranked best first: the rest cannot make the list
            label = self.labels[row]
            if label not in best:
                best[label] = self._result(int(row), "near", float(sims[row]), found)
        ranked = sorted(best.values(), key=lambda r: (r["match"] != "exact", -r["similarity"]))
        return ranked[: self.settings.max_results]

    def _result(self, row: int, kind: str, similarity: float, found: Fingerprint) -> dict:
        scale = found.signature.size / self.sizes[row] if self.sizes[row] > 0 else 1.0
        if kind == "exact":
            scale = 1.0
        similarity = round(similarity, 4)
        detail = (
            f"same triangles as reference '{self.labels[row]}'"
            if kind == "exact"
            else f"near copy of reference '{self.labels[row]}' "
            f"(similarity {similarity:.3f}, scale {scale:.3g}x)"
        )
        return {
            "label": self.labels[row],
            "match": kind,
            "similarity": similarity,
            "scale": round(float(scale), 4),
            "reference_id": self.ids[row],
            "detail": detail,
        }


class ReferenceMatcher:
    """The callable handed to the inspector: ``matcher(mesh) -> list[dict]``."""

    def __init__(self, index: ReferenceIndex):
        self.index = index

    def __call__(self, mesh: Any) -> list[dict[str, Any]]:
        try:
            found = fingerprint(mesh)
        except InputError:
            return []  # no surface to compare: nothing can match
        return self.index.match(found)

    def __len__(self) -> int:
        return len(self.index)


# --- the database ------------------------------------------------------------------------

_COLUMNS = "id, label, geometry_hash, signature, signature_version, size, faces, source, origin"


def _decode_rows(raw: Iterable[tuple]) -> list[dict[str, Any]]:
    rows = []
    for rid, label, ghash, blob, version, size, faces, source, origin in raw:
        if version != SIGNATURE_VERSION:
            raise FiretraceError(
                f"reference {rid} ('{label}') has signature version {version}; this firetrace "
                f"reads version {SIGNATURE_VERSION}: remove it and add the file again"
            )
        vector = np.frombuffer(blob, dtype="<f4")
        if len(vector) != SIGNATURE_LENGTH:
            raise FiretraceError(f"reference {rid} ('{label}') has a damaged signature")
        rows.append(
            {
                "id": rid,
                "label": label,
                "geometry_hash": ghash,
                "vector": vector,
                "size": size,
                "faces": faces,
                "source": source,
                "origin": origin,
            }
        )
    return rows


def _open_read_only(db_path: Path) -> sqlite3.Connection | None:
    """A read-only connection, or None when there is no file (never creates one)."""
    if not db_path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        known = is_registry(conn)
    except sqlite3.Error as exc:
        raise FiretraceError(f"{db_path}: cannot open registry: {exc}") from exc
    if known is False:
        conn.close()
        raise InputError(
            "is an SQLite database of another program, not a firetrace registry",
            path=str(db_path),
        )
    return conn


_MATCHER_CACHE: dict[Path, tuple[tuple, ReferenceMatcher]] = {}


def load_matcher(db_path: str | Path) -> ReferenceMatcher | None:
    """A matcher over the references in ``db_path``; None when the file does not
    exist or holds no references. Loaded once per process and database state
    (a later ``refs add`` or ``remove`` is seen on the next call)."""
    path = Path(db_path)
    conn = _open_read_only(path)
    if conn is None:
        return None
    try:
        if not has_table(conn, "refs"):
            return None
        state = conn.execute(
            "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0), "
            "(SELECT value FROM meta WHERE key = 'refs_generation') FROM refs"
        ).fetchone()
        if state[0] == 0:
            return None
        key = path.resolve()
        cached = _MATCHER_CACHE.get(key)
        if cached is not None and cached[0] == tuple(state):
            return cached[1]
        rows = _decode_rows(conn.execute(f"SELECT {_COLUMNS} FROM refs ORDER BY id"))
    except sqlite3.Error as exc:
        raise FiretraceError(f"{path}: cannot read references: {exc}") from exc
    finally:
        conn.close()
    matcher = ReferenceMatcher(ReferenceIndex(rows))
    _MATCHER_CACHE[key] = (tuple(state), matcher)
    return matcher


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_label(label: str) -> str:
    label = (label or "").strip()
    limit = int(load_settings()["bundle"]["max_label_chars"])
    if not label:
        raise InputError("empty label", field="--label")
    if len(label) > limit:
        raise InputError(f"a label is one line of at most {limit} characters", field="--label")
    problem = field_problem(label, multiline=False)  # as a batch field, on one line
    if problem:
        raise InputError(problem, field="--label")
    return label


def insert_references(
    conn: sqlite3.Connection,
    label: str,
    items: Iterable[tuple[Fingerprint, str | None]],
    *,
    origin: str,
    operator: str,
) -> list[int]:
    """Insert (fingerprint, source name) pairs under ``label`` inside the caller's
    transaction; returns the new ids (a reference already under this label with
    the same geometry hash is skipped)."""
    ids = []
    for found, source in items:
        sig = found.signature
        cursor = conn.execute(
            "INSERT OR IGNORE INTO refs (label, geometry_hash, signature, signature_version, "
            "size, faces, source, origin, added_at, added_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                label,
                found.geometry_hash,
                np.asarray(sig.vector, dtype="<f4").tobytes(),
                sig.version,
                float(sig.size),
                int(sig.faces),
                source,
                origin,
                _now(),
                operator,
            ),
        )
        if cursor.rowcount:
            ids.append(cursor.lastrowid)
    return ids


def write_transaction(db_path: str | Path, command: str, args: Any, operator: str, purpose):
    """Context manager: open (creating or migrating) the registry and make one
    :func:`~firetrace.audit.audited_write`; yields the connection and a list to
    collect changed reference ids, which the audit entry names."""

    @contextmanager
    def run():
        check_policy(command, purpose)  # before the registry is created
        conn = connect(db_path)
        try:
            with audited_write(
                conn, command, operator=operator, purpose=purpose, args=args
            ) as write:
                changed: list[int] = []
                yield conn, changed
                if changed:
                    # Lets load_matcher see any change, even one that leaves the
                    # count and ids as they were (remove the last row, add another).
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('refs_generation', '1') "
                        "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                    )
                write.record_ids = [f"ref:{i}" for i in changed]
        finally:
            conn.close()

    return run()


def add_references(
    db_path: str | Path,
    paths: Sequence[str | Path],
    label: str,
    *,
    operator: str,
    purpose: str | None = None,
    progress: Callable[[Path], None] | None = None,
) -> list[dict[str, Any]]:
    """Read every file, fingerprint it and store it under ``label``; all files or
    none (any unreadable file stops the command before anything is written)."""
    label = _check_label(label)
    prepared = []
    for path in map(Path, paths):
        if progress:
            progress(path)
        mesh = mesh_from_file(path)
        try:
            found = fingerprint(mesh)
        except InputError as exc:
            raise InputError(str(exc), path=str(path)) from exc
        prepared.append((path, found))
    added = []
    args = {"label": label, "files": [str(p) for p, _ in prepared]}
    with write_transaction(db_path, "refs add", args, operator, purpose) as (conn, changed):
        for path, found in prepared:
            new = insert_references(
                conn, label, [(found, path.name)], origin="file", operator=operator
            )
            changed.extend(new)
            added.append(
                {
                    "file": str(path),
                    "label": label,
                    "geometry_hash": found.geometry_hash,
                    "faces": found.signature.faces,
                    "size": round(found.signature.size, 6),
                    "id": new[0] if new else None,
                    "status": "added" if new else "already present",
                }
            )
    return added


def list_references(db_path: str | Path) -> list[dict[str, Any]]:
    """Every reference (no signature vectors), by label then id. A missing
    registry is an error (a mistyped --db must not read as an empty library)."""
    conn = _open_read_only(Path(db_path))
    if conn is None:
        raise InputError(
            "no registry here (import a batch or add references first)", path=str(db_path)
        )
    try:
        if not has_table(conn, "refs"):
            return []
        cursor = conn.execute(
            "SELECT id, label, geometry_hash, faces, size, source, origin, added_at, added_by "
            "FROM refs ORDER BY label, id"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
    finally:
        conn.close()


def remove_references(
    db_path: str | Path, label: str, *, operator: str, purpose: str | None = None
) -> int:
    """Delete every reference under ``label``; returns how many. Unknown label: error."""
    if not Path(db_path).is_file():
        raise FiretraceError(f"no reference labelled '{label}' ({db_path} does not exist)")
    args = {"label": label}
    with write_transaction(db_path, "refs remove", args, operator, purpose) as (conn, changed):
        ids = [r[0] for r in conn.execute("SELECT id FROM refs WHERE label = ?", (label,))]
        if not ids:
            raise FiretraceError(f"no reference labelled '{label}'")
        conn.execute("DELETE FROM refs WHERE label = ?", (label,))
        changed.extend(ids)
    return len(ids)


def match_file(db_path: str | Path, path: str | Path, threshold: float | None = None) -> dict:
    """Match one design file against the library: {file, geometry_hash, matches}."""
    mesh = mesh_from_file(path)
    found = fingerprint(mesh)
    matcher = load_matcher(db_path)
    matches = matcher.index.match(found, threshold) if matcher is not None else []
    return {
        "file": str(path),
        "geometry_hash": found.geometry_hash,
        "faces": found.signature.faces,
        "references": len(matcher) if matcher is not None else 0,
        "reference_matches": matches,
    }
