"""Opening the registry database and keeping its schema current.

The schema is a list of numbered migrations applied in order inside one
transaction each; ``meta.schema_version`` records the last one applied, so an
older registry file is brought up to date when it is opened. Every connection
uses WAL (readers keep working while one writer writes), a busy timeout (a
second writer waits, then fails with a clear message) and foreign keys.

Numbering: 1 is the base schema. Later issues append their own migrations to
``MIGRATIONS`` (never edit an applied one; add a new number). A migration is a
SQL script, or a function for one that rebuilds tables: it runs with foreign
keys off (SQLite's table-rebuild procedure) and must leave none broken.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from firetrace.dbschema import AUDIT_COLUMNS
from firetrace.errors import FiretraceError, InputError
from firetrace.inputs import refuse_special_companions
from firetrace.registry.schema_sql import (
    COMPONENT_COLUMNS,
    DESCRIPTION_COLUMNS,
    EVENT_TRIGGERS,
    events_table,
)
from firetrace.registry.schema_v5 import migrate_v5
from firetrace.registry.schema_v8 import SCHEMA_V8
from firetrace.registry.schema_v9 import migrate_v9
from firetrace.registry.schema_v10 import migrate_v10
from firetrace.registry.schema_v11 import SCHEMA_V11
from firetrace.registry.schema_v12 import migrate_v12
from firetrace.registry.schema_v13 import migrate_v13
from firetrace.registry.serial_index import SERIAL_INDEX_V2
from firetrace.rowseals import SEALS_SCHEMA

BUSY_TIMEOUT_MS = 10_000

# Status-bearing event kinds, in CONTRACT vocabulary; the firearm's status is
# derived from the latest of these (see registry.status), never stored.
SCHEMA_V1 = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

CREATE TABLE parties (
    id INTEGER PRIMARY KEY,
    norm_name TEXT NOT NULL UNIQUE,      -- alias-folded key: 'GLOCK GmbH' and 'Glock' -> 'GLOCK'
    name TEXT NOT NULL,                  -- first name seen, as written
    licence TEXT,
    country TEXT
);
CREATE TABLE party_names (              -- every spelling seen, for display and audit
    name TEXT PRIMARY KEY,
    party_id INTEGER NOT NULL REFERENCES parties(id)
);

CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    profile TEXT,
    operator TEXT,
    purpose TEXT,
    imported_at TEXT NOT NULL,
    rows INTEGER NOT NULL,
    counts TEXT                           -- JSON: components/events/assemblies added
);

CREATE TABLE components (
"""
    + COMPONENT_COLUMNS
    + """    serial_norm TEXT NOT NULL,            -- case/space/dash folded
    serial_fold TEXT NOT NULL,            -- look-alike characters folded too
    serial_skel TEXT NOT NULL,            -- embedded letters dropped from serial_fold
"""
    + DESCRIPTION_COLUMNS
    + """    UNIQUE (maker_id, kind, serial_norm)
);
CREATE INDEX components_serial_norm ON components(serial_norm);
CREATE INDEX components_serial_fold ON components(serial_fold);

-- A firearm is identified by its control component (modular weapons).
CREATE TABLE firearms (
    id INTEGER PRIMARY KEY,
    control_component_id INTEGER NOT NULL UNIQUE REFERENCES components(id),
    batch_id INTEGER REFERENCES batches(id)
);

-- Which component was installed in which firearm, from when to when.
CREATE TABLE assemblies (
    id INTEGER PRIMARY KEY,
    firearm_id INTEGER NOT NULL REFERENCES firearms(id),
    component_id INTEGER NOT NULL REFERENCES components(id),
    installed TEXT,
    removed TEXT,
    batch_id INTEGER REFERENCES batches(id),
    UNIQUE (firearm_id, component_id, installed)
);
CREATE INDEX assemblies_component ON assemblies(component_id);
CREATE INDEX assemblies_firearm ON assemblies(firearm_id);

-- Append-only: corrections are new events that reference the corrected one.
"""
    + events_table("events", unique_key=True)
    + """CREATE INDEX events_component ON events(component_id, event_date);
CREATE INDEX events_firearm ON events(firearm_id, event_date);
CREATE INDEX events_corrects ON events(corrects) WHERE corrects IS NOT NULL;

"""
    + EVENT_TRIGGERS
    + """
-- Hash-chained audit log (firetrace.audit).
CREATE TABLE audit (
"""
    + AUDIT_COLUMNS
    + """    keyed INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
)

MIGRATIONS: list[tuple[int, str | Callable[[sqlite3.Connection], None]]] = [
    (1, SCHEMA_V1),
    (2, SERIAL_INDEX_V2),  # serial index for fuzzy/wildcard trace and dupes (issue 3)
    (
        3,  # audit log queries and `audit verify --head` lookups (issue 7)
        "CREATE INDEX IF NOT EXISTS audit_hash ON audit(hash);\n"
        "CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts);\n"
        "CREATE INDEX IF NOT EXISTS audit_operator ON audit(operator, ts);\n"
        "CREATE INDEX IF NOT EXISTS audit_command ON audit(command, ts);",
    ),
    (
        4,  # known-design reference library: signatures, never geometry (issue 6)
        "CREATE TABLE IF NOT EXISTS refs (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    label TEXT NOT NULL,\n"
        "    geometry_hash TEXT NOT NULL,          -- firetrace.refs.canonical\n"
        "    signature BLOB NOT NULL,              -- float32 little-endian vector\n"
        "    signature_version INTEGER NOT NULL,\n"
        "    size REAL NOT NULL,                   -- RMS radius, for the scale factor\n"
        "    faces INTEGER NOT NULL,\n"
        "    source TEXT,                          -- file name when added from a file\n"
        "    origin TEXT NOT NULL,                 -- 'file' or 'bundle:<sha256>'\n"
        "    added_at TEXT NOT NULL,\n"
        "    added_by TEXT,\n"
        "    UNIQUE (label, geometry_hash)\n"
        ");\n"
        "CREATE INDEX IF NOT EXISTS refs_geometry_hash ON refs(geometry_hash);",
    ),
    (5, migrate_v5),  # duplicated serials kept, withdrawals, serial changes (issue 14)
    (
        6,  # tamper-evident content: row seals and read-log anchors in the chain (issue 15)
        "ALTER TABLE audit ADD COLUMN attests TEXT;\n" + SEALS_SCHEMA,
    ),
    (
        7,  # the serial index on the normalised serial alone: maker and kind are filtered
        # after the seek (a serial has a handful of records), 10 bytes a component less
        "DROP INDEX IF EXISTS components_serial_norm;\n"
        "CREATE INDEX components_serial_norm ON components(serial_norm);",
    ),
    (8, SCHEMA_V8),  # a smaller file: 300 MB per million components is the aim (issue 14)
    (9, migrate_v9),  # events stored compactly (codes, day numbers, the key once), read as before
    (10, migrate_v10),  # a component's description by reference to a table of them
    (11, SCHEMA_V11),  # imported events checked in their own row; the view by one join
    (12, migrate_v12),  # a component's kind as a code, its fold derived in SQL
    (13, migrate_v13),  # a party's key derived in SQL from its name where it can be
]


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of the last migration applied to the file (0: a new file)."""
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if not has_meta:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the file's version; return the new version."""
    current = schema_version(conn)
    for number, step in sorted(MIGRATIONS, key=lambda m: m[0]):
        if number <= current:
            continue
        if callable(step):
            _apply_function(conn, number, step)
        else:
            _apply_script(conn, number, step)
        current = number
    return current


_SET_VERSION = "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', '{}')"


def _apply_script(conn: sqlite3.Connection, number: int, script: str) -> None:
    # executescript commits implicitly; wrap in an explicit transaction so a
    # failed migration leaves the file at its previous version.
    try:
        conn.executescript(
            "BEGIN IMMEDIATE;\n" + script + ";\n" + _SET_VERSION.format(number) + ";\nCOMMIT;"
        )
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _apply_function(
    conn: sqlite3.Connection, number: int, step: Callable[[sqlite3.Connection], None]
) -> None:
    """A table-rebuilding migration: foreign keys off (they cannot change inside
    a transaction), one transaction, every foreign key checked before commit."""
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            broken = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
            if broken:
                raise FiretraceError(
                    f"schema migration {number} would break foreign keys: {broken}; "
                    "the registry was left as it was"
                )
            conn.execute(_SET_VERSION.format(number))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def latest_version() -> int:
    """The number of the newest migration this version of firetrace knows."""
    return max(n for n, _ in MIGRATIONS)


REGISTRY_ID = 0x46545247  # PRAGMA application_id of a registry: "FTRG"


def is_registry(conn: sqlite3.Connection) -> bool | None:
    """True for a firetrace registry, None for an empty database (a new one),
    False for another program's database. Reads only the schema."""
    if conn.execute("PRAGMA application_id").fetchone()[0] == REGISTRY_ID:
        return True
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    return "meta" in tables and schema_version(conn) > 0


def _refuse_foreign(conn: sqlite3.Connection, path: Path, *, create: bool) -> bool:
    """Before anything is written: another program's SQLite file is left as it is,
    and a read-only command never turns an empty file into a registry. Returns
    whether the database is new (empty)."""
    kind = is_registry(conn)
    if kind or (kind is None and create):
        return kind is None
    conn.close()
    if kind is None:
        raise InputError("no registry here (an empty file; import a batch first)", path=str(path))
    raise InputError(
        "is an SQLite database of another program, not a firetrace registry; left unchanged",
        path=str(path),
    )


def connect(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and create or migrate) the registry at ``path``: the one way every
    command and library function reaches it.

    Autocommit mode (``isolation_level=None``): writes go through
    :func:`firetrace.audit.audited_write`, which takes the lock with ``BEGIN
    IMMEDIATE``. With ``create`` false (read-only commands) a missing or empty
    file is an error, never a new registry; another program's SQLite file is
    refused either way and left unchanged (no tables, no WAL switch).
    """
    path = Path(path)
    if not create and not path.exists():
        raise InputError("no registry here (import a batch first)", path=str(path))
    if path.exists() and not path.is_file():
        raise InputError("is not a regular file, so it cannot be a registry", path=str(path))
    refuse_special_companions(path, "the registry")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if _refuse_foreign(conn, path, create=create):
            conn.execute(f"PRAGMA application_id = {REGISTRY_ID}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if schema_version(conn) < latest_version():
            migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise FiretraceError(f"{path}: cannot open registry: {exc}") from exc
    return conn
