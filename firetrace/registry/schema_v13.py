"""Schema migration 13 (issue 14): a party's key derived in SQL from its name.

A party's key (``parties.norm_name``, :func:`firetrace.registry.parties.normalize_party_name`)
is, for nearly every party, its first spelling upper-cased with a few
punctuation characters made spaces (``Owner 7 (pseudonymised)`` ->
``OWNER 7 PSEUDONYMISED``): all but 33 of the 242,892 parties of the
benchmark's 1M registry. ``party_rows.norm_name`` is a generated column that
computes that in SQL (:func:`key_sql`, fixed as of this migration, as the fold
table of schema 12 is); ``norm_name_stored`` holds the key only where that
computation does not give it (legal forms, aliases, accents, the rules as they
are now or later). The key's unique index is on the generated column, so a
look-up by key seeks as before.

``parties`` is a view that shows ``party_rows`` in the columns, order and values
the table had, so every reader and every seal sees the same rows
(:data:`firetrace.rowseals.SEALED_VIEWS`); its ``INSTEAD OF`` triggers store a
written key only where it differs from the derived one (an ``INSERT OR IGNORE``
into the view still ignores a key already there).

The migration renames ``parties`` to ``party_rows`` (so every foreign key that
named it names the stored table) and rebuilds it with ids kept.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.schema_v9 import _statements
from firetrace.registry.schema_v12 import replaced_sql

# The characters the SQL key makes spaces (as _fold's punctuation does), as of
# this migration. A key this does not give is stored.
_SPACED = "().,-"


def key_sql(name: str) -> str:
    """SQL: the party key derived from name ``name`` (upper-cased ASCII, the
    characters of :data:`_SPACED` made spaces, a double space made one, trimmed)."""
    spaced = replaced_sql(f"upper({name})", ((ch, " ") for ch in _SPACED))
    return f"trim({replaced_sql(spaced, (('  ', ' '), ('  ', ' ')))})"


def stored_key_sql(key: str, name: str) -> str:
    """SQL: what ``party_rows.norm_name_stored`` holds for a party of key ``key``
    and name ``name``: NULL where :func:`key_sql` gives it."""
    return f"nullif({key}, {key_sql(name)})"


_COLUMNS = ("id", "norm_name", "name", "licence", "country")

PARTY_ROWS = f"""
CREATE TABLE party_rows_v13 (
    id INTEGER PRIMARY KEY,
    norm_name_stored TEXT,                -- NULL: the key key_sql derives from the name
    name TEXT NOT NULL,                   -- first name seen, as written
    licence TEXT,
    country TEXT,
    norm_name TEXT GENERATED ALWAYS AS
        (coalesce(norm_name_stored, {key_sql("name")})) VIRTUAL
);
"""

_INDEX = "CREATE UNIQUE INDEX party_rows_norm_name ON party_rows(norm_name);\n"

PARTIES_VIEW = (
    "CREATE VIEW parties AS SELECT "
    + ", ".join(f"p.{c} AS {c}" for c in _COLUMNS)
    + " FROM party_rows p;\n"
)

_WRITTEN = "NEW.id, {}, NEW.name, NEW.licence, NEW.country".format(
    stored_key_sql("NEW.norm_name", "NEW.name")
)
_NOT_NULL = (
    "    SELECT RAISE(ABORT, 'NOT NULL constraint failed: parties.norm_name') "
    "WHERE NEW.norm_name IS NULL;\n"
)
VIEW_TRIGGERS = (
    "CREATE TRIGGER parties_view_insert INSTEAD OF INSERT ON parties\nBEGIN\n"
    + _NOT_NULL
    + "    INSERT INTO party_rows (id, norm_name_stored, name, licence, country) "
    + f"VALUES ({_WRITTEN});\nEND;\n"
    "CREATE TRIGGER parties_view_update INSTEAD OF UPDATE ON parties\nBEGIN\n"
    + _NOT_NULL
    + "    UPDATE party_rows SET (id, norm_name_stored, name, licence, country) = "
    + f"({_WRITTEN}) WHERE id = OLD.id;\nEND;\n"
    "CREATE TRIGGER parties_view_delete INSTEAD OF DELETE ON parties\n"
    "BEGIN DELETE FROM party_rows WHERE id = OLD.id; END;\n"
)


def migrate_v13(conn: sqlite3.Connection) -> None:
    """Apply migration 13 inside the caller's transaction (foreign keys off)."""
    # Foreign keys that name parties now name party_rows (no view or trigger names it).
    conn.execute("ALTER TABLE parties RENAME TO party_rows")
    for statement in _statements(PARTY_ROWS):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO party_rows_v13 (id, norm_name_stored, name, licence, country) "
        f"SELECT id, {stored_key_sql('norm_name', 'name')}, name, licence, country "
        "FROM party_rows ORDER BY id"
    )
    conn.execute("DROP TABLE party_rows")
    conn.execute("ALTER TABLE party_rows_v13 RENAME TO party_rows")
    for statement in _statements(_INDEX + PARTIES_VIEW + VIEW_TRIGGERS):
        conn.execute(statement)
