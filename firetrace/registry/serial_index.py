"""The serial index: tables that let trace and dupes avoid scanning the registry.

Schema migration 2 (registered in ``firetrace.registry.db.MIGRATIONS``) adds:

* ``serial_deletions``: every one-character deletion of each component's folded
  serial (a deletion neighbourhood). Two serials within one edit of each other
  (substitution, insertion, deletion, adjacent transposition) share an entry,
  so fuzzy trace is a handful of index seeks;
* ``serial_suffixes``: the folded serial reversed, so a wildcard pattern with a
  literal ending (``*3456``) is a range scan like one with a literal beginning;
* indexes on ``(serial_skel, control, maker_id)`` and ``(ltrim(serial_fold, '0'), control)``
  that serve the two dupes blocking passes as covering index scans.

Triggers keep the two tables current for every insert, key change and delete
on ``components``, whoever writes them (the importer, corrections, benchmarks'
bulk SQL). :func:`rebuild_serial_index` recomputes the stored keys and both
tables from scratch, for registries written before the rules changed. Large
imports drop the triggers inside their transaction and add the new components'
rows in key order instead (:func:`index_new_components`): same rows, sequential
B-tree inserts.
"""

from __future__ import annotations

import sqlite3

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
    INSERT OR IGNORE INTO serial_suffixes(reversed, component_id)
        VALUES ({reversed_sql("NEW.serial_fold")}, NEW.id);
END;
CREATE TRIGGER components_serial_index_update AFTER UPDATE OF serial_fold ON components
BEGIN
    DELETE FROM serial_deletions WHERE component_id = OLD.id
        AND variant IN ({_deletions_select("OLD.serial_fold", "OLD.id").replace(", OLD.id", "")});
    DELETE FROM serial_suffixes WHERE component_id = OLD.id
        AND reversed = {reversed_sql("OLD.serial_fold")};
    INSERT OR IGNORE INTO serial_deletions(variant, component_id)
        {_deletions_select("NEW.serial_fold", "NEW.id")};
    INSERT OR IGNORE INTO serial_suffixes(reversed, component_id)
        VALUES ({reversed_sql("NEW.serial_fold")}, NEW.id);
END;
CREATE TRIGGER components_serial_index_delete AFTER DELETE ON components
BEGIN
    DELETE FROM serial_deletions WHERE component_id = OLD.id
        AND variant IN ({_deletions_select("OLD.serial_fold", "OLD.id").replace(", OLD.id", "")});
    DELETE FROM serial_suffixes WHERE component_id = OLD.id
        AND reversed = {reversed_sql("OLD.serial_fold")};
END;
"""


def rebuild_serial_index(conn: sqlite3.Connection) -> int:
    """Recompute every component's serial keys and both index tables; return the count.

    Runs in one transaction. Use after editing ``rules/serials.toml`` (the stored
    keys follow the rules) or after bulk-loading with the triggers dropped.
    """
    from firetrace.audit import write_lock
    from firetrace.serials.normalize import serial_keys

    with write_lock(conn):
        rows = conn.execute(
            "SELECT id, serial, serial_norm, serial_fold, serial_skel FROM components"
        )
        changed = []
        for cid, serial, norm, fold, skel in rows.fetchall():
            keys = serial_keys(serial)
            if keys != (norm, fold, skel):
                changed.append((*keys, cid))
        # Key updates fire the update trigger; rebuild the tables wholesale afterwards
        # anyway, in sorted order, which is much faster than row-by-row maintenance.
        conn.executemany(
            "UPDATE components SET serial_norm = ?, serial_fold = ?, serial_skel = ? WHERE id = ?",
            changed,
        )
        conn.execute("DELETE FROM serial_deletions")
        conn.execute("DELETE FROM serial_suffixes")
        conn.execute(
            "INSERT OR IGNORE INTO serial_deletions(variant, component_id) SELECT * FROM ("
            + _deletions_select("c.serial_fold", "c.id").replace(
                "FROM serial_positions", "FROM components c, serial_positions"
            )
            + ") ORDER BY 1, 2"
        )
        conn.execute(
            "INSERT OR IGNORE INTO serial_suffixes(reversed, component_id) SELECT * FROM ("
            f"SELECT {reversed_sql('serial_fold')} AS r, id FROM components) ORDER BY 1, 2"
        )
        (count,) = conn.execute("SELECT count(*) FROM components").fetchone()
    return count


def index_new_components(conn: sqlite3.Connection, after_id: int) -> None:
    """Add the index rows of every component with ``id > after_id``, in key order.

    The bulk counterpart of the insert trigger, for a caller that dropped the
    triggers inside its own transaction (the importer, for large batches). Rows
    go in sorted by key, so the B-tree inserts are sequential page appends
    instead of ~10 random seeks per component; on a large registry this is the
    difference between a cache-sized working set and one page miss per row.
    """
    deletions = _deletions_select("c.serial_fold", "c.id").replace(
        "FROM serial_positions", "FROM components c, serial_positions"
    )
    conn.execute(
        "INSERT OR IGNORE INTO serial_deletions(variant, component_id) "
        f"SELECT * FROM ({deletions} AND c.id > ?) ORDER BY 1, 2",
        (after_id,),
    )
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
    """Re-create the maintenance triggers dropped by :func:`drop_index_triggers`."""
    script = SERIAL_INDEX_V2[SERIAL_INDEX_V2.index("CREATE TRIGGER") :]
    for statement in script.split("\nEND;"):
        if statement.strip():
            conn.execute(statement + "\nEND;")
