"""The serial index: what lets trace and dupes avoid scanning the registry.

Since schema migration 5 a component stores its serial as marked and only the
keys that cannot be derived from it (``serial_norm_stored``,
``serial_fold_stored``, ``serial_skel_stored``, NULL when derivable); the keys
themselves are VIRTUAL generated columns (``serial_norm``, ``serial_fold``,
``serial_skel``) that cost no space and carry the indexes:

* ``components_serial_fold`` on ``serial_fold``: exact and normalised trace
  and the importer's identity lookups (the fold is a function of the norm: a
  seek on the fold, then the norm compared, ``lookup.norm_seek``; schema 8
  dropped the index on ``serial_norm``, 18 bytes a component), look-alike trace,
  wildcard prefixes, and every fuzzy candidate (trace expands the query into the
  serials one edit away and seeks each, :mod:`firetrace.registry.lookup`);
* ``components_skel`` on ``serial_skel_stored``, partial: only serials with
  letters between digits have a skeleton that differs from their fold;
* ``serial_suffixes``: the folded serial reversed, so a wildcard pattern with a
  literal ending (``*3456``) is a range scan like one with a literal beginning.

Migration 2 also kept a deletion neighbourhood (``serial_deletions``, nine rows
per component: half the file); migration 5 dropped it for the query-side
expansion, which costs a trace about a millisecond more.

Triggers keep ``serial_suffixes`` current for every insert, serial change and
delete on ``components``, whoever writes them. :func:`rebuild_serial_index`
recomputes the stored keys and the table from scratch, for registries written
before the rules changed. Large imports drop the triggers inside their
transaction and add the new components' rows in key order instead
(:func:`index_new_components`).
"""

from __future__ import annotations

import sqlite3

from firetrace.audit import write_lock
from firetrace.dbschema import has_table
from firetrace.serials.normalize import serial_keys

MAX_SERIAL_LENGTH = 64

_REVERSED = " || ".join(f"substr({{col}}, -{k}, 1)" for k in range(1, MAX_SERIAL_LENGTH + 1))


def reversed_sql(column: str) -> str:
    """An SQL expression reversing ``column`` (up to MAX_SERIAL_LENGTH characters)."""
    return _REVERSED.format(col=column)


def _deletions_select(src: str, id_col: str) -> str:
    return (
        f"SELECT substr({src}, 1, n - 1) || substr({src}, n + 1), {id_col} "
        f"FROM serial_positions WHERE n <= length({src})"
    )


# The trigger statements that keep a component's suffix row current.
_SUFFIX_INSERT = f"""\
    INSERT OR IGNORE INTO serial_suffixes(reversed, component_id)
        VALUES ({reversed_sql("NEW.serial_fold")}, NEW.id);
"""
_SUFFIX_DELETE = f"""\
    DELETE FROM serial_suffixes WHERE component_id = OLD.id
        AND reversed = {reversed_sql("OLD.serial_fold")};
"""

# Migration 2 as it was applied (older registries replay it on their way to 5,
# which drops the deletion table and the two blocking indexes it made).
SERIAL_INDEX_V2 = f"""
CREATE TABLE serial_positions (n INTEGER PRIMARY KEY);
WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < {MAX_SERIAL_LENGTH})
INSERT INTO serial_positions(n) SELECT n FROM p;

CREATE TABLE serial_deletions (
    variant TEXT NOT NULL,               -- serial_fold with one character deleted
    component_id INTEGER NOT NULL,
    PRIMARY KEY (variant, component_id)
) WITHOUT ROWID;
CREATE TABLE serial_suffixes (
    reversed TEXT NOT NULL,              -- serial_fold reversed: suffix wildcards
    component_id INTEGER NOT NULL,
    PRIMARY KEY (reversed, component_id)
) WITHOUT ROWID;
CREATE INDEX components_skel_control ON components(serial_skel, control, maker_id);
CREATE INDEX components_fold0_control ON components(ltrim(serial_fold, '0'), control);

INSERT OR IGNORE INTO serial_deletions(variant, component_id)
    {
    _deletions_select("c.serial_fold", "c.id").replace(
        "FROM serial_positions", "FROM components c, serial_positions"
    )
};
INSERT OR IGNORE INTO serial_suffixes(reversed, component_id)
    SELECT {reversed_sql("serial_fold")}, id FROM components;

CREATE TRIGGER components_serial_index_insert AFTER INSERT ON components
BEGIN
    INSERT OR IGNORE INTO serial_deletions(variant, component_id)
        {_deletions_select("NEW.serial_fold", "NEW.id")};
{_SUFFIX_INSERT}END;
CREATE TRIGGER components_serial_index_update AFTER UPDATE OF serial_fold ON components
BEGIN
    DELETE FROM serial_deletions WHERE component_id = OLD.id
        AND variant IN ({_deletions_select("OLD.serial_fold", "OLD.id").replace(", OLD.id", "")});
{_SUFFIX_DELETE}    INSERT OR IGNORE INTO serial_deletions(variant, component_id)
        {_deletions_select("NEW.serial_fold", "NEW.id")};
{_SUFFIX_INSERT}END;
CREATE TRIGGER components_serial_index_delete AFTER DELETE ON components
BEGIN
    DELETE FROM serial_deletions WHERE component_id = OLD.id
        AND variant IN ({_deletions_select("OLD.serial_fold", "OLD.id").replace(", OLD.id", "")});
{_SUFFIX_DELETE}END;
"""


# Migration 5: the trigger set once serial_deletions is gone. The serial keys
# are generated columns, so a change of any stored part of them is a change.
_SERIAL_PARTS = "serial, serial_norm_stored, serial_fold_stored"


def suffix_triggers(table: str = "components") -> str:
    """The trigger set on *table*: ``components`` until schema 10, then the
    ``component_rows`` it stores (``components`` is a view of it)."""
    return f"""
CREATE TRIGGER components_serial_index_insert AFTER INSERT ON {table}
BEGIN
{_SUFFIX_INSERT}END;
CREATE TRIGGER components_serial_index_update AFTER UPDATE OF {_SERIAL_PARTS} ON {table}
BEGIN
{_SUFFIX_DELETE}{_SUFFIX_INSERT}END;
CREATE TRIGGER components_serial_index_delete AFTER DELETE ON {table}
BEGIN
{_SUFFIX_DELETE}END;
"""


SUFFIX_TRIGGERS = suffix_triggers()
SERIAL_INDEXES_V5 = """
CREATE INDEX components_serial_norm ON components(serial_norm, maker_id, kind);
CREATE INDEX components_serial_fold ON components(serial_fold);
CREATE INDEX components_skel ON components(serial_skel_stored, maker_id)
    WHERE serial_skel_stored IS NOT NULL;
"""


def stored_serial_keys(serial: str, keys: tuple[str, str, str]) -> tuple[str | None, ...]:
    """The parts of a serial's keys (norm, fold, skeleton) a component stores:
    each is None when the generated column derives it (the norm from the serial
    as marked, the fold from the norm, the skeleton from the fold without its
    leading zeros). Every writer of ``components`` goes through this."""
    norm, fold, skel = keys
    return (
        None if norm == serial else norm,
        None if fold == norm else fold,
        None if skel == fold.lstrip("0") else skel,
    )


# The columns a writer of ``components`` gives for a serial (see serial_columns).
SERIAL_COLUMNS = "serial, serial_norm_stored, serial_fold_stored, serial_skel_stored"


def serial_columns(serial: str) -> tuple[str, str | None, str | None, str | None]:
    """The values of :data:`SERIAL_COLUMNS` for a serial as marked."""

    serial = serial.strip()
    return (serial, *stored_serial_keys(serial, serial_keys(serial)))


def stored_keys_sql(serial: str, norm: str, fold: str, skel: str) -> str:
    """:func:`stored_serial_keys` as SQL over column expressions (set-based writers)."""
    return f"nullif({norm}, {serial}), nullif({fold}, {norm}), nullif({skel}, ltrim({fold}, '0'))"


def rebuild_serial_index(conn: sqlite3.Connection) -> int:
    """Recompute every component's serial keys and the suffix table; return the count.

    Runs in one transaction. Use after editing ``rules/serials.toml`` (the stored
    keys follow the rules) or after bulk-loading with the triggers dropped.
    """

    with write_lock(conn):
        rows = conn.execute(
            "SELECT id, serial, serial_norm_stored, serial_fold_stored, serial_skel_stored "
            "FROM components"
        )
        changed = []
        for cid, serial, *stored in rows.fetchall():
            wanted = stored_serial_keys(serial, serial_keys(serial))
            if wanted != tuple(stored):
                changed.append((*wanted, cid))
        drop_index_triggers(conn)
        conn.executemany(
            "UPDATE components SET serial_norm_stored = ?, serial_fold_stored = ?, "
            "serial_skel_stored = ? WHERE id = ?",
            changed,
        )
        conn.execute("DELETE FROM serial_suffixes")
        index_new_components(conn, 0)
        restore_index_triggers(conn)
        (count,) = conn.execute("SELECT count(*) FROM components").fetchone()
    return count


def index_new_components(conn: sqlite3.Connection, after_id: int) -> None:
    """Add the suffix rows of every component with ``id > after_id``, in key order.

    The bulk counterpart of the insert trigger, for a caller that dropped the
    triggers inside its own transaction (the importer, for large batches). Rows
    go in sorted by key, so the B-tree inserts are sequential page appends
    instead of a random seek per component.
    """
    # Same value as reversed_sql() (the trigger's 64-term expression), at a
    # fraction of its cost per row.
    conn.create_function(
        "firetrace_reversed", 1, lambda s: s[::-1][:MAX_SERIAL_LENGTH], deterministic=True
    )
    conn.execute(
        "INSERT OR IGNORE INTO serial_suffixes(reversed, component_id) SELECT * FROM ("
        "SELECT firetrace_reversed(serial_fold) AS r, id FROM components WHERE id > ?) "
        "ORDER BY 1, 2",
        (after_id,),
    )


def drop_index_triggers(conn: sqlite3.Connection) -> None:
    """For bulk loads: drop the maintenance triggers (see :func:`restore_index_triggers`)."""
    for name in ("insert", "update", "delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS components_serial_index_{name}")


def restore_index_triggers(conn: sqlite3.Connection) -> None:
    """Re-create the maintenance triggers dropped by :func:`drop_index_triggers`
    (replacing them if they are there)."""
    drop_index_triggers(conn)
    table = "component_rows" if has_table(conn, "component_rows") else "components"
    for statement in suffix_triggers(table).split("\nEND;"):
        if statement.strip():
            conn.execute(statement + "\nEND;")
