"""The read-audit log: where reads of personal data (trace, dupes) are recorded.

SQLite lets one writer at a time hold a database. A batch import holds the
registry's write lock for as long as it takes to store the batch (tens of
seconds for a million rows); a trace that had to append its audit entry to the
registry waited for it and failed. So reads are recorded in a second SQLite
file beside the registry, ``registry.db-reads``, with the same ``audit`` table
and the same hash chain rules (HMAC under ``FIRETRACE_AUDIT_KEY`` when set).
Its lock is held only for the milliseconds of one entry, and reading the
registry never waits for a writer (WAL), so a trace answers and is recorded
while an import runs.

The two chains vouch for each other: every read entry attests the registry
log's head at the time of the read (``attests.main``), and every write entry
in the registry log attests the read log's head (``attests.reads``).
:func:`cross_check` finds a read log that was deleted, truncated or rewritten
behind an anchor, and a registry log cut back behind a read's anchor. Reads
after the newest write are anchored only by ``audit head`` taken outside
(``audit verify --head``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from firetrace import audit  # audit imports this module too: attributes only, at call time
from firetrace.dbschema import AUDIT_COLUMNS
from firetrace.errors import FiretraceError, InputError
from firetrace.inputs import refuse_special_companions
from firetrace.paths import read_log_path
from firetrace.rowseals import attests_of

READ_LOG_ID = 0x46545244  # PRAGMA application_id of a read log: "FTRD"
BUSY_TIMEOUT_MS = 10_000

READ_LOG_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS audit (
"""
    + AUDIT_COLUMNS
    + """    keyed INTEGER NOT NULL DEFAULT 0,
    attests TEXT
);
CREATE INDEX IF NOT EXISTS audit_hash ON audit(hash);
CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the read log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the read log is append-only'); END;
"""
)


def registry_file(conn: sqlite3.Connection) -> str | None:
    """The main database file behind ``conn`` (None in memory)."""
    return conn.execute("PRAGMA database_list").fetchone()[2] or None


def read_log_for(conn: sqlite3.Connection) -> Path | None:
    """The read log of the registry open on ``conn`` (None for an in-memory one)."""
    db = registry_file(conn)
    return read_log_path(db) if db else None


def is_read_log(conn: sqlite3.Connection) -> bool:
    """Whether ``conn`` is a read log (not a registry)."""
    return conn.execute("PRAGMA application_id").fetchone()[0] == READ_LOG_ID


def open_read_log(path: Path, *, create: bool) -> sqlite3.Connection | None:
    """The read log at ``path``, created (with the registry's permissions) when
    ``create``; None when it does not exist and ``create`` is false. A FIFO,
    device or folder in its place is refused before SQLite opens it (a FIFO would
    block the open for ever)."""
    if path.exists() and not path.is_file():
        raise InputError("is not a regular file, so it cannot be the read log", path=str(path))
    refuse_special_companions(path, "the read log")
    if not create:
        if not path.exists():
            return None
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        conn.isolation_level = None
        return conn
    new = not path.exists()
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if new or not conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            conn.executescript(f"PRAGMA application_id = {READ_LOG_ID};\n{READ_LOG_SCHEMA}")
            _same_mode_as_registry(path)
        elif not is_read_log(conn):
            conn.close()
            raise FiretraceError(f"{path}: is not a firetrace read log; refusing to write to it")
    except sqlite3.DatabaseError as exc:
        raise FiretraceError(f"{path}: cannot open the read log: {exc}") from None
    return conn


def _same_mode_as_registry(path: Path) -> None:
    # The read log holds who traced what: no more readable than the registry.
    registry = Path(str(path).removesuffix("-reads"))
    try:
        os.chmod(path, registry.stat().st_mode & 0o666)
    except OSError:
        pass


def append_read(
    conn: sqlite3.Connection,
    command: str,
    *,
    operator: str,
    purpose: str | None,
    args,
    record_ids,
) -> str:
    """Append a read entry for the registry open on ``conn``; return its hash.

    The registry itself is only read (its head, for the anchor): this never
    waits for a writer of the registry. A wrong ``FIRETRACE_AUDIT_KEY`` is
    refused before anything is written.
    """
    path = read_log_for(conn)
    if path is None:  # an in-memory registry has nowhere beside it
        with audit.audited_write(
            conn, command, operator=operator, purpose=purpose, args=args, record_ids=record_ids
        ):
            pass
        return audit.head(conn).hash
    main = audit.head(conn)
    audit.check_key(conn)  # a wrong key must not start a chain the right key rejects
    reads = _writer(path)
    with audit.write_lock(reads):
        return audit.append_in_transaction(
            reads,
            operator=operator,
            purpose=purpose,
            command=command,
            args=args,
            record_ids=record_ids,
            attests={"main": {"id": main.id, "hash": main.hash}},
        )


# Read logs this process writes to, kept open: opening one (connection, WAL,
# schema check) cost a trace more than the trace itself. Keyed by path, with the
# file's identity, so a read log removed or replaced meanwhile is opened afresh.
_WRITERS: dict[str, tuple[tuple[int, int], sqlite3.Connection]] = {}


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _writer(path: Path) -> sqlite3.Connection:
    """An open connection to the read log at ``path`` (created when missing)."""
    key = str(path)
    cached = _WRITERS.pop(key, None)
    if cached is not None:
        if cached[0] == _identity(path):
            _WRITERS[key] = cached
            return cached[1]
        cached[1].close()
    reads = open_read_log(path, create=True)
    _WRITERS[key] = (_identity(path), reads)
    return reads


def entry_id(conn: sqlite3.Connection, entry_hash: str) -> int | None:
    """The id of the read entry ``entry_hash`` in the read log of the registry on
    ``conn`` (a trace record names it), or None."""
    path = read_log_for(conn)
    if path is None or _identity(path) is None:
        return None
    row = _writer(path).execute("SELECT id FROM audit WHERE hash = ?", (entry_hash,)).fetchone()
    return row[0] if row else None


def anchor_for(conn: sqlite3.Connection) -> dict | None:
    """The read log's head, for a registry write entry to attest (None when the
    registry has no read log yet, or ``conn`` is itself a read log)."""
    if is_read_log(conn):
        return None
    path = read_log_for(conn)
    reads = open_read_log(path, create=False) if path else None
    if reads is None:
        return None
    try:
        row = reads.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.DatabaseError:
        row = None  # a damaged read log is reported by verification, not by a write
    finally:
        reads.close()
    return {"id": row[0], "hash": row[1]} if row else None


def cross_check(main: sqlite3.Connection, reads: sqlite3.Connection | None) -> list:
    """The anchors of each log against the other log; returns ``audit.Problem``s."""
    problems = []
    read_hashes = _hashes(reads) if reads is not None else {}
    main_hashes = _hashes(main)
    for entry_id, attests in _attests(main):
        anchor = attests_of(attests).get("reads")
        if not anchor:
            continue
        found = read_hashes.get(anchor.get("id"))
        if found != anchor.get("hash"):
            what = "is missing" if found is None else "is not the entry it attests"
            where = "the read log is gone" if reads is None else f"read entry {anchor.get('id')}"
            problems.append(
                audit.Problem(
                    entry_id,
                    "truncated",
                    f"entry {entry_id} attests read entry {anchor.get('id')}, but {where} "
                    f"{'' if reads is None else what}: the read log was deleted, cut back or "
                    "rewritten".replace("  ", " "),
                )
            )
    if reads is not None:
        for entry_id, attests in _attests(reads):
            anchor = attests_of(attests).get("main")
            if not anchor or not anchor.get("id"):
                continue
            if main_hashes.get(anchor.get("id")) != anchor.get("hash"):
                problems.append(
                    audit.Problem(
                        entry_id,
                        "truncated",
                        f"read entry {entry_id} attests registry entry {anchor.get('id')}, which "
                        "is missing or different: the registry's audit log was cut back or "
                        "rewritten",
                        log="reads",
                    )
                )
    return problems


def _hashes(conn: sqlite3.Connection) -> dict[int, str]:
    return dict(conn.execute("SELECT id, hash FROM audit"))


def _attests(conn: sqlite3.Connection):
    has = any(row[1] == "attests" for row in conn.execute("PRAGMA table_info(audit)"))
    if not has:
        return []
    return conn.execute("SELECT id, attests FROM audit WHERE attests IS NOT NULL ORDER BY id")
