"""Row seals: the registry's content is tamper-evident, not only its audit log.

The append-only triggers stop mistakes, not an attacker with the file: drop
them, change ``reported_stolen`` to ``sold``, recreate them. So every audited
write also *seals* the rows it added, changed or deleted: a fingerprint of each
row (SHA-256 of its values, first 96 bits; seals written before schema 8 kept
128, of which verification compares the same first 96), stored in the
``seals`` table, and the digest of those seal rows goes into the write's audit
entry (``attests.seal``), which the hash chain covers (HMAC under
``FIRETRACE_AUDIT_KEY`` when one is set). :func:`verify_seals` replays the
seals in chain order to the fingerprint each row should have now and compares
it with every row, naming the first altered, missing and added row of each table.

What is sealed: every table with an INTEGER PRIMARY KEY except the audit log
and the seals themselves and bookkeeping (``meta``); so events, components,
firearms, assemblies, batches, parties and tables added later (withdrawals) are
covered without being listed. Derived columns (the serial index keys, which
``rebuild_serial_index`` recomputes from the serial) are left out.

Which rows a write changed: rows above the table's sealed frontier (new), plus
rows recorded by TEMP triggers that this module installs on the writing
connection (updated or deleted; inserts only where a deleted id could be reused).
A change made outside an audited write (a raw ``UPDATE``) is therefore never
sealed, and shows as tampering.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from firetrace.dbschema import has_table

SEALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS seals (
    id INTEGER PRIMARY KEY,
    audit_id INTEGER NOT NULL,        -- the audit entry whose attests.seal covers it
    tbl TEXT NOT NULL,
    columns TEXT NOT NULL,            -- the columns fingerprinted, comma-separated
    max_id INTEGER NOT NULL,          -- highest row id in this seal (the sealed frontier)
    tombstones INTEGER NOT NULL,      -- rows sealed as deleted
    ids BLOB NOT NULL,                -- zlib of the row ids (int64, ascending)
    fps BLOB NOT NULL                 -- 12 bytes a row (16 before schema 8), ids order; 0: deleted
);
CREATE INDEX IF NOT EXISTS seals_frontier ON seals(tbl, max_id);
CREATE INDEX IF NOT EXISTS seals_audit ON seals(audit_id);
CREATE TRIGGER IF NOT EXISTS seals_no_update BEFORE UPDATE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END;
CREATE TRIGGER IF NOT EXISTS seals_no_delete BEFORE DELETE ON seals
BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END;
"""

UNSEALED_TABLES = frozenset({"meta", "audit", "seals"})
# Tables whose rows are sealed as a view shows them (schema 9: events; schema 10:
# components, their description decoded; schema 13: parties, their key derived):
# view -> table. The seals name the view, fingerprint the values it shows and key rows by its ``id``
# (the table's row id); the table itself is not sealed apart. So a row stored in
# another form keeps the fingerprint of the row it was, and a decoding table the
# view reads (``event_kinds``, ``descriptions``, ``component_kinds`` of schema 12)
# is covered by the seals of the rows it decodes.
SEALED_VIEWS = {"events": "event_rows", "components": "component_rows", "parties": "party_rows"}
_DECODING_TABLES = frozenset({"event_kinds", "descriptions", "component_kinds"})
# Recomputed from other columns by unaudited maintenance (rebuild_serial_index).
_SERIAL_KEYS = ("serial_norm", "serial_fold", "serial_skel")
# The components view (schema 10) also shows the row's description_id, which
# its decoded description columns are sealed in place of.
DERIVED_COLUMNS = {
    "components": frozenset(
        {*_SERIAL_KEYS, *(f"{k}_stored" for k in _SERIAL_KEYS), "description_id"}
    )
}
# 96 bits: altering a row so that it keeps its fingerprint (a second preimage)
# costs ~2**96 SHA-256 evaluations; 64 bits (2**64) is within reach of a
# well-funded attacker (docs/threat-model.md). Seals of schema < 8 hold 16 bytes
# a row; their first 12 are this fingerprint, which is what verification compares.
FINGERPRINT_BYTES = 12
DELETED = bytes(FINGERPRINT_BYTES)
CHUNK_ROWS = 100_000  # rows per seal row: blobs of about 1.2 MB


def fingerprint(table: str, values: tuple) -> bytes:
    """The fingerprint of one row: SHA-256 (first 96 bits) of the table name and
    ``repr`` of its values (deterministic for SQLite's int, float, text, blob, NULL)."""
    data = f"{table}\x00{values!r}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).digest()[:FINGERPRINT_BYTES]


def has_seals(conn: sqlite3.Connection) -> bool:
    """Whether this registry's schema has the seals table (migration 6)."""
    return has_table(conn, "seals")


def sealed_tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Each sealed table and the columns its fingerprints cover (schema order)."""
    tables = {}
    names = conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    stored_as_views = {*SEALED_VIEWS.values(), *_DECODING_TABLES}
    for (name,) in names:
        if name in UNSEALED_TABLES or name in stored_as_views:
            continue
        info = conn.execute(f'PRAGMA main.table_info("{name}")').fetchall()
        keys = [row for row in info if row[5]]
        if len(keys) != 1 or keys[0][2].upper() != "INTEGER":
            continue  # no stable row id (WITHOUT ROWID, text keys): not sealed
        tables[name] = _sealed_columns(name, info)
    for view in sorted(SEALED_VIEWS):
        found = conn.execute(
            "SELECT 1 FROM main.sqlite_master WHERE type = 'view' AND name = ?", (view,)
        ).fetchone()
        if found:
            info = conn.execute(f'PRAGMA main.table_info("{view}")').fetchall()
            tables[view] = _sealed_columns(view, info)
    return dict(sorted(tables.items()))


def _sealed_columns(name: str, info: list) -> list[str]:
    """The columns of table or view *name* (its ``table_info`` rows) that its
    fingerprints cover: all but those derived from others."""
    derived = DERIVED_COLUMNS.get(name, frozenset())
    return [row[1] for row in info if row[1] not in derived]


def _row_id(table: str) -> str:
    """The column that keys the rows of a sealed table (or view)."""
    return "id" if table in SEALED_VIEWS else "rowid"


def _select(table: str, columns: list[str]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f'SELECT {_row_id(table)}, {quoted} FROM "{table}"'


# --- tracking the rows a write changes --------------------------------------------


def track_changes(conn: sqlite3.Connection) -> None:
    """Install the TEMP triggers that record updated and deleted rows on this
    connection, and note each table's sealed frontier. Called when a write
    transaction starts (``audit.begin_write``); cheap when already installed."""
    if not has_seals(conn):
        return
    # No unique key: a statement's own OR-clause would override a trigger's OR IGNORE.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS seal_touched (tbl TEXT NOT NULL, rid INTEGER)")
    conn.execute("CREATE INDEX IF NOT EXISTS temp.seal_touched_rows ON seal_touched(tbl, rid)")
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS seal_frontier (tbl TEXT PRIMARY KEY, max_id INTEGER)"
    )
    conn.execute("DELETE FROM temp.seal_frontier")
    conn.execute(
        "INSERT INTO temp.seal_frontier SELECT tbl, max(max_id) FROM main.seals GROUP BY tbl"
    )
    reused = {
        row[0] for row in conn.execute("SELECT DISTINCT tbl FROM main.seals WHERE tombstones > 0")
    }
    for table in sealed_tables(conn):
        _install_triggers(conn, table, watch_inserts=table in reused)


def _install_triggers(conn: sqlite3.Connection, table: str, *, watch_inserts: bool) -> None:
    # Trigger bodies cannot name a schema; TEMP objects are found first.
    touch = f"INSERT INTO seal_touched VALUES ('{table}', {{}}.rowid);"
    stored = SEALED_VIEWS.get(table, table)  # a view's rows change in its table
    conn.execute(
        f'CREATE TEMP TRIGGER IF NOT EXISTS "seal_upd_{table}" AFTER UPDATE ON main."{stored}" '
        f"BEGIN {touch.format('OLD')} {touch.format('NEW')} END"
    )
    conn.execute(
        f'CREATE TEMP TRIGGER IF NOT EXISTS "seal_del_{table}" AFTER DELETE ON main."{stored}" '
        f"BEGIN {touch.format('OLD')} END"
    )
    if watch_inserts:  # a deleted row's id can be given to a new row: seal it as a change
        conn.execute(
            f'CREATE TEMP TRIGGER IF NOT EXISTS "seal_ins_{table}" AFTER INSERT ON main."{stored}" '
            f"WHEN NEW.rowid <= coalesce((SELECT max_id FROM seal_frontier "
            f"WHERE tbl = '{table}'), 0) BEGIN {touch.format('NEW')} END"
        )


# --- sealing ----------------------------------------------------------------------


def _encode_ids(ids: array) -> bytes:
    deltas = array("q", ids)
    for k in range(len(deltas) - 1, 0, -1):
        deltas[k] -= deltas[k - 1]
    return zlib.compress(deltas.tobytes(), 6)


def _decode_ids(blob: bytes):
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    return np.cumsum(np.frombuffer(zlib.decompress(blob), dtype="<i8"))


def _frontier(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute("SELECT max(max_id) FROM main.seals WHERE tbl = ?", (table,)).fetchone()
    return row[0] or 0


def _changed_rows(
    conn: sqlite3.Connection, table: str, columns: list[str]
) -> Iterator[tuple[array, bytes]]:
    """Chunks of (row ids, fingerprints) of every row this transaction changed or
    deleted in ``table`` (in id order), then of every row it added."""
    frontier = _frontier(conn, table)
    touched = [
        rid
        for (rid,) in conn.execute(
            "SELECT DISTINCT rid FROM temp.seal_touched WHERE tbl = ? AND rid <= ? ORDER BY rid",
            (table, frontier),
        )
    ] if _has_touched(conn) else []  # fmt: skip
    select, key = _select(table, columns), _row_id(table)
    for start in range(0, len(touched), 500):
        part = touched[start : start + 500]
        marks = ",".join("?" * len(part))
        present = {
            row[0]: fingerprint(table, row[1:])
            for row in conn.execute(f"{select} WHERE {key} IN ({marks})", part)
        }
        yield array("q", part), b"".join(present.get(rid, DELETED) for rid in part)
    cursor = conn.execute(f"{select} WHERE {key} > ? ORDER BY {key}", (frontier,))
    while rows := cursor.fetchmany(CHUNK_ROWS):
        yield array("q", [row[0] for row in rows]), _fingerprints(table, rows)


def _fingerprints(table: str, rows: list[tuple]) -> bytes:
    """:func:`fingerprint` of each ``(rowid, *values)`` row, concatenated (the
    bulk path of an import: one loop, no call per row)."""
    sha256, prefix, size = hashlib.sha256, f"{table}\x00", FINGERPRINT_BYTES
    return b"".join(
        [
            sha256((prefix + repr(row[1:])).encode("utf-8", "surrogatepass")).digest()[:size]
            for row in rows
        ]
    )


def _has_touched(conn: sqlite3.Connection) -> bool:
    return has_table(conn, "seal_touched", schema="temp")


def seal_changes(conn: sqlite3.Connection, audit_id: int) -> dict | None:
    """Seal every row this write transaction changed, under audit entry
    ``audit_id`` (about to be appended); return ``{"digest", "rows"}`` for the
    entry's ``attests``, or None when nothing sealed changed."""
    if not has_seals(conn):
        return None
    digest = hashlib.sha256()
    total = 0
    for table, columns in sealed_tables(conn).items():
        for ids, fps in _changed_rows(conn, table, columns):
            tombstones = _count_deleted(fps)
            row = (audit_id, table, ",".join(columns), max(ids), tombstones)
            blob_ids, blob_fps = _encode_ids(ids), bytes(fps)
            conn.execute(
                "INSERT INTO main.seals (audit_id, tbl, columns, max_id, tombstones, ids, fps) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*row, blob_ids, blob_fps),
            )
            _add_to_digest(digest, table, row[2], blob_ids, blob_fps)
            total += len(ids)
    if _has_touched(conn):
        conn.execute("DELETE FROM temp.seal_touched")
    return {"digest": digest.hexdigest(), "rows": total} if total else None


def _count_deleted(fps: bytes) -> int:
    if DELETED not in fps:
        return 0
    step = FINGERPRINT_BYTES
    return sum(1 for k in range(0, len(fps), step) if fps[k : k + step] == DELETED)


def _add_to_digest(digest, table: str, columns: str, ids: bytes, fps: bytes) -> None:
    for part in (table.encode(), columns.encode(), ids, fps):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)


# --- verification -----------------------------------------------------------------


@dataclass
class SealProblem:
    """One finding: which audit entry sealed the row (for ordering), and a sentence."""

    entry_id: int
    kind: str  # altered | missing | added | seal_altered | seal_unattested | unsealed
    message: str


@dataclass
class _Expected:
    ids: object  # numpy int64, ascending
    fps: object  # numpy (n, FINGERPRINT_BYTES) uint8
    entry: object  # numpy int64: the audit entry that sealed each row last
    variant: object  # numpy int64: index into columns
    columns: list[str]


def _seal_rows(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT id, audit_id, tbl, columns, ids, fps FROM main.seals ORDER BY audit_id, id"
    ).fetchall()


def check_seal_rows(
    conn: sqlite3.Connection, attested: dict[int, dict], commands: dict[int, str]
) -> tuple[list[SealProblem], list[tuple]]:
    """Seal rows against the digests their audit entries attest.

    ``attested`` maps audit entry id -> its ``attests.seal``. Returns problems
    and the seal rows that can be trusted (those of entries whose digest matches).
    """
    problems: list[SealProblem] = []
    by_entry: dict[int, list[tuple]] = {}
    for row in _seal_rows(conn):
        by_entry.setdefault(row[1], []).append(row)
    trusted = []
    for entry_id, rows in by_entry.items():
        claim = attested.get(entry_id)
        if claim is None:
            problems.append(
                SealProblem(
                    entry_id,
                    "seal_unattested",
                    f"seal rows {rows[0][0]}..{rows[-1][0]} name audit entry {entry_id}, which "
                    "attests no seal: they were added to the seals table by hand",
                )
            )
            continue
        digest = hashlib.sha256()
        for row in rows:
            _add_to_digest(digest, row[2], row[3], row[4], row[5])
        if digest.hexdigest() != claim.get("digest"):
            problems.append(
                SealProblem(
                    entry_id,
                    "seal_altered",
                    f"the row seals of audit entry {entry_id} ({commands.get(entry_id, '?')}) "
                    "do not match the digest the entry attests: the seals table was altered",
                )
            )
            continue
        trusted.extend(rows)
    for entry_id in sorted(set(attested) - set(by_entry)):
        problems.append(
            SealProblem(
                entry_id,
                "seal_altered",
                f"the row seals of audit entry {entry_id} ({commands.get(entry_id, '?')}) are "
                "missing from the seals table",
            )
        )
    return problems, trusted


def _expected(rows: list[tuple]) -> dict[str, _Expected]:
    """The fingerprint each row should have now, per table: the last seal wins."""
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    parts: dict[str, list] = {}
    for _, audit_id, table, columns, ids, fps in rows:
        parts.setdefault(table, []).append((audit_id, columns, _decode_ids(ids), fps))
    expected = {}
    for table, chunks in parts.items():
        variants = list(dict.fromkeys(c for _, c, _, _ in chunks))
        ids = np.concatenate([c[2] for c in chunks])
        fps = np.concatenate([_compared_bytes(c[3], len(c[2])) for c in chunks])
        entry = np.concatenate([np.full(len(c[2]), c[0], dtype=np.int64) for c in chunks])
        variant = np.concatenate(
            [np.full(len(c[2]), variants.index(c[1]), dtype=np.int64) for c in chunks]
        )
        order = np.lexsort((np.arange(len(ids)), ids))
        ids, fps, entry, variant = ids[order], fps[order], entry[order], variant[order]
        last = np.ones(len(ids), dtype=bool)
        last[:-1] = ids[1:] != ids[:-1]
        expected[table] = _Expected(
            ids[last], fps[last], entry[last], variant[last], [v.split(",") for v in variants]
        )
    return expected


def _compared_bytes(fps: bytes, rows: int):
    """The first :data:`FINGERPRINT_BYTES` of each row's fingerprint in ``fps``
    (16 bytes a row in seals written before schema 8, 12 since), as a
    ``(rows, FINGERPRINT_BYTES)`` uint8 array."""
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    if not rows:
        return np.zeros((0, FINGERPRINT_BYTES), dtype=np.uint8)
    return np.frombuffer(fps, dtype=np.uint8).reshape(rows, -1)[:, :FINGERPRINT_BYTES]


def _actual(conn: sqlite3.Connection, table: str, columns: list[str], exp: _Expected | None):
    """Row ids and fingerprints as the table holds them now."""
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    ids = array("q")
    fps = bytearray()
    plans = _variant_plans(columns, exp)
    cursor = conn.execute(f"{_select(table, columns)} ORDER BY {_row_id(table)}")
    if not plans:  # every row sealed with today's columns: the bulk path
        while rows := cursor.fetchmany(CHUNK_ROWS):
            ids.extend(row[0] for row in rows)
            fps += _fingerprints(table, rows)
        return (
            np.frombuffer(ids.tobytes(), dtype="<i8"),
            _compared_bytes(bytes(fps), len(ids)),
        )
    variant_of = dict(zip(exp.ids.tolist(), exp.variant.tolist(), strict=True))
    for row in cursor:
        ids.append(row[0])
        plan = plans.get(variant_of.get(row[0])) if plans else None
        if plan is None:
            fps += fingerprint(table, row[1:])
        else:
            picks, extras = plan
            values = tuple(row[1 + k] for k in picks)
            if any(row[1 + k] is not None for k in extras):
                values = (*values, "<a column the seal did not cover is set>")
            fps += fingerprint(table, values)
    return (
        np.frombuffer(ids.tobytes(), dtype="<i8"),
        _compared_bytes(bytes(fps), len(ids)),
    )


def _variant_plans(columns: list[str], exp: _Expected | None) -> dict[int, tuple]:
    """For rows sealed with another column list than today's (a migration added
    a column since): which of today's columns to fingerprint, and which must be NULL."""
    if exp is None:
        return {}
    plans = {}
    for k, sealed in enumerate(exp.columns):
        if sealed == columns:
            continue
        picks = [columns.index(c) if c in columns else None for c in sealed]
        if None in picks:
            picks = [p for p in picks if p is not None]  # a sealed column was dropped
        extras = [j for j, c in enumerate(columns) if c not in sealed]
        plans[k] = (picks, extras)
    return plans


def verify_seals(
    conn: sqlite3.Connection, attested: dict[int, dict], commands: dict[int, str]
) -> list[SealProblem]:
    """Every row of every sealed table against its seal; nothing is written.

    ``attested`` maps audit entry id -> the ``attests.seal`` it carries, from
    entries that passed the chain check; ``commands`` names each entry's command.
    """
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    if not has_seals(conn):
        return []
    problems, trusted = check_seal_rows(conn, attested, commands)
    expected = _expected(trusted)
    tables = sealed_tables(conn)
    if not attested and not any(expected.values()):
        unsealed = [t for t in tables if conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()]
        return problems + _legacy(unsealed)
    for table, columns in tables.items():
        exp = expected.get(table)
        ids, fps = _actual(conn, table, columns, exp)
        if exp is None:
            exp = _Expected(
                np.zeros(0, np.int64),
                np.zeros((0, FINGERPRINT_BYTES), np.uint8),
                np.zeros(0, np.int64),
                None,
                [],
            )
        problems += _compare(table, ids, fps, exp, commands)
    for table in sorted(set(expected) - set(tables)):
        problems.append(
            SealProblem(
                int(expected[table].entry[0]), "missing", f"table {table} is gone (it was sealed)"
            )
        )
    return problems


def _legacy(tables: list[str]) -> list[SealProblem]:
    if not tables:
        return []
    return [
        SealProblem(
            0,
            "unsealed",
            f"the rows of {', '.join(tables)} are not sealed yet (written before this version "
            "of firetrace sealed rows); the next audited write seals them",
        )
    ]


def _compare(table, ids, fps, exp: _Expected, commands) -> list[SealProblem]:
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    deleted = (exp.fps == 0).all(axis=1)
    live_ids = exp.ids[~deleted]
    in_expected = np.isin(ids, live_ids, assume_unique=True)
    problems = []
    added = ids[~in_expected]
    if len(added):
        problems.append(_row_problem(table, "added", added, None, exp, commands))
    missing = live_ids[~np.isin(live_ids, ids, assume_unique=True)]
    if len(missing):
        problems.append(_row_problem(table, "missing", missing, None, exp, commands))
    both = ids[in_expected]
    actual_fps = fps[in_expected]
    where = np.searchsorted(exp.ids, both)
    altered = both[(actual_fps != exp.fps[where]).any(axis=1)]
    if len(altered):
        problems.append(_row_problem(table, "altered", altered, where, exp, commands))
    return problems


def _row_problem(table, kind, rows, where, exp: _Expected, commands) -> SealProblem:
    import numpy as np  # lazy: only verification needs numpy, not writes or start-up

    first = int(rows[0])
    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
    if kind == "added":
        return SealProblem(
            int(exp.entry.max()) + 1 if len(exp.entry) else 0,
            kind,
            f"{table} row {first}{more} was added outside any audited write (no seal covers it)",
        )
    position = int(np.searchsorted(exp.ids, first))
    entry = int(exp.entry[position])
    sealed_by = f"audit entry {entry} ({commands.get(entry, '?')})"
    if kind == "missing":
        return SealProblem(
            entry, kind, f"{table} row {first}{more}, sealed by {sealed_by}, was deleted"
        )
    return SealProblem(
        entry, kind, f"{table} row {first}{more} was altered after {sealed_by} sealed it"
    )


def attests_of(text: str | None) -> dict:
    """An audit entry's ``attests`` document (empty when it has none)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": True}
    return value if isinstance(value, dict) else {"unreadable": True}
