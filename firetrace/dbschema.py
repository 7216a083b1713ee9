"""Questions about a SQLite file's own schema, asked one way everywhere: the
registry's migrations, the row seals, the reference library; and the audit log's
columns, which the registry and the read log share."""

from __future__ import annotations

import sqlite3

# The audit log's columns up to its hash: the registry's log (schema 1) and the
# read log (firetrace.readlog) are written with the same text.
AUDIT_COLUMNS = """\
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    operator TEXT NOT NULL,
    purpose TEXT,
    command TEXT NOT NULL,
    args_digest TEXT NOT NULL,
    record_ids TEXT NOT NULL,             -- JSON list
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
"""


def has_table(conn: sqlite3.Connection, name: str, *, schema: str = "main") -> bool:
    """Whether the database ``schema`` (``main``, ``temp`` or an attached name)
    of ``conn`` has a table called ``name``."""
    if not schema.isidentifier():
        raise ValueError(f"not a schema name: {schema!r}")
    found = conn.execute(
        f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None
