"""Questions about a SQLite file's own schema, asked one way everywhere: the
registry's migrations, the row seals, the reference library."""

from __future__ import annotations

import sqlite3


def has_table(conn: sqlite3.Connection, name: str, *, schema: str = "main") -> bool:
    """Whether the database ``schema`` (``main``, ``temp`` or an attached name)
    of ``conn`` has a table called ``name``."""
    if not schema.isidentifier():
        raise ValueError(f"not a schema name: {schema!r}")
    found = conn.execute(
        f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None
