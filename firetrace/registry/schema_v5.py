"""Schema migration 5 (issue 14): duplicated serials are kept, batches can be
withdrawn, serials corrected, and the file is half the size.

* ``components`` is rebuilt without ``UNIQUE (maker_id, kind, serial_norm)``:
  two physical items sharing a serial are two components (the importer decides
  when two records are one item, :mod:`firetrace.registry.identity`). Its
  serial keys become VIRTUAL generated columns over the parts that cannot be
  derived (``serial_*_stored``, NULL when derivable), which store nothing
  for the common serial; see :mod:`firetrace.registry.serial_index`.
* ``events`` is rebuilt so that its content key is a plain ``UNIQUE INDEX``
  (which a bulk load can drop and rebuild by one sort) instead of an inline
  constraint; its indexes become ``events_component`` on the component alone
  (a component has a handful of events: sorting them is free) and a partial
  ``events_status`` on the events that take a firearm out of circulation (for
  ``firetrace list``). ``events_firearm`` goes: a firearm's timeline is read
  through its components.
* ``serial_deletions`` and the two dupes blocking indexes go (half the file).
* New append-only tables: ``withdrawals`` (a batch taken back, with reason and
  who) and ``serial_changes`` (a corrected serial, so both stay traceable);
  ``serial_characters`` (characters of stored serials beyond digits and Latin
  letters, which trace's fuzzy expansion must try); ``batches`` gains the id
  range of its events, ``assemblies`` the batch that closed it.

Every row keeps its id; nothing is lost. The rebuild needs foreign keys off
(:func:`firetrace.registry.db.migrate` does that for callable migrations) and
checks them before committing.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.schema_sql import (
    COMPONENT_COLUMNS,
    DESCRIPTION_COLUMNS,
    EVENT_TRIGGERS,
    events_table,
)
from firetrace.registry.serial_index import SERIAL_INDEXES_V5, SUFFIX_TRIGGERS, stored_keys_sql
from firetrace.registry.status import DEFAULT_STATUS
from firetrace.registry.vocabulary import load_vocabulary

_DESCRIPTION = (
    "type, model, calibre, country_of_manufacture, year_of_manufacture, import_country, import_year"
)
_EVENT_COLUMNS = (
    "id, component_id, firearm_id, event, event_date, party_id, party_licence, party_country, "
    "reference, notes, corrects, batch_id, line, row_key"
)

COMPONENTS_V5 = (
    """
CREATE TABLE components_v5 (
"""
    + COMPONENT_COLUMNS
    + """    serial_norm_stored TEXT,              -- NULL: the serial as marked is its own norm
    serial_fold_stored TEXT,              -- NULL: no look-alike to fold
    serial_skel_stored TEXT,              -- NULL: no letter between digits
"""
    + DESCRIPTION_COLUMNS
    + """    serial_norm TEXT GENERATED ALWAYS AS (coalesce(serial_norm_stored, serial)) VIRTUAL,
    serial_fold TEXT GENERATED ALWAYS AS (coalesce(serial_fold_stored, serial_norm)) VIRTUAL,
    serial_skel TEXT GENERATED ALWAYS AS
        (coalesce(serial_skel_stored, ltrim(serial_fold, '0'))) VIRTUAL
);
"""
)

EVENTS_V5 = "\n" + events_table("events_v5", unique_key=False)

EVENT_INDEXES_V5 = (
    """
CREATE UNIQUE INDEX events_row_key ON events(row_key);
CREATE INDEX events_component ON events(component_id);
CREATE INDEX events_corrects ON events(corrects) WHERE corrects IS NOT NULL;
"""
    + EVENT_TRIGGERS
)

NEW_TABLES_V5 = """
CREATE TABLE withdrawals (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL UNIQUE REFERENCES batches(id),
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    purpose TEXT,
    withdrawn_at TEXT NOT NULL
);
CREATE TRIGGER withdrawals_no_update BEFORE UPDATE ON withdrawals
BEGIN SELECT RAISE(ABORT, 'withdrawals are append-only'); END;
CREATE TRIGGER withdrawals_no_delete BEFORE DELETE ON withdrawals
BEGIN SELECT RAISE(ABORT, 'withdrawals are append-only'); END;

CREATE TABLE serial_changes (
    id INTEGER PRIMARY KEY,
    component_id INTEGER NOT NULL REFERENCES components(id),
    old_serial TEXT NOT NULL,
    old_norm TEXT NOT NULL,
    old_fold TEXT NOT NULL,
    new_serial TEXT NOT NULL,
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    purpose TEXT,
    changed_at TEXT NOT NULL
);
CREATE INDEX serial_changes_norm ON serial_changes(old_norm);
CREATE INDEX serial_changes_fold ON serial_changes(old_fold);
CREATE INDEX serial_changes_component ON serial_changes(component_id);
CREATE TRIGGER serial_changes_no_update BEFORE UPDATE ON serial_changes
BEGIN SELECT RAISE(ABORT, 'serial changes are append-only'); END;
CREATE TRIGGER serial_changes_no_delete BEFORE DELETE ON serial_changes
BEGIN SELECT RAISE(ABORT, 'serial changes are append-only'); END;

CREATE TABLE serial_characters (ch TEXT PRIMARY KEY) WITHOUT ROWID;

ALTER TABLE batches ADD COLUMN first_event_id INTEGER;
ALTER TABLE batches ADD COLUMN last_event_id INTEGER;
ALTER TABLE assemblies ADD COLUMN removed_batch_id INTEGER REFERENCES batches(id);
DROP INDEX IF EXISTS assemblies_firearm;  -- UNIQUE (firearm_id, ...) leads with it
"""


def status_index_sql() -> str:
    """The partial index of the events that take a firearm out of circulation."""

    events = sorted(
        event
        for event, status in load_vocabulary().status_of_event.items()
        if status != DEFAULT_STATUS
    )
    listed = ", ".join(f"'{event}'" for event in events)
    return f"CREATE INDEX events_status ON events(component_id) WHERE event IN ({listed});"


def migrate_v5(conn: sqlite3.Connection) -> None:
    """Apply migration 5 inside the caller's transaction (foreign keys off)."""
    conn.execute("DROP TABLE IF EXISTS serial_deletions")
    conn.execute("DROP TABLE IF EXISTS serial_positions")
    _run(conn, COMPONENTS_V5)
    stored = stored_keys_sql("serial", "serial_norm", "serial_fold", "serial_skel")
    conn.execute(
        "INSERT INTO components_v5 (id, maker_id, kind, control, serial, serial_norm_stored, "
        f"serial_fold_stored, serial_skel_stored, {_DESCRIPTION}, batch_id) "
        f"SELECT id, maker_id, kind, control, serial, {stored}, {_DESCRIPTION}, batch_id "
        "FROM components ORDER BY id"
    )
    conn.execute("DROP TABLE components")
    conn.execute("ALTER TABLE components_v5 RENAME TO components")
    _run(conn, SERIAL_INDEXES_V5 + SUFFIX_TRIGGERS)
    (last_event,) = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()
    _run(conn, EVENTS_V5)
    conn.execute(
        f"INSERT INTO events_v5 ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM events ORDER BY id"
    )
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE events_v5 RENAME TO events")
    _run(conn, EVENT_INDEXES_V5 + status_index_sql() + NEW_TABLES_V5)
    # Events up to here were keyed before identity attributes joined the key of
    # a manufacture row (firetrace.registry.validate.event_row_key).
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('legacy_row_keys_through', ?)",
        (str(last_event),),
    )
    _record_unusual_characters(conn)


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` (executescript would commit first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement[:60]}")


def _record_unusual_characters(conn: sqlite3.Connection) -> None:
    found: set[str] = set()
    for (fold,) in conn.execute(
        "SELECT DISTINCT serial_fold FROM components WHERE serial_fold GLOB '*[^0-9A-Z]*'"
    ):
        found.update(ch for ch in fold if not ("0" <= ch <= "9" or "A" <= ch <= "Z"))
    conn.executemany(
        "INSERT OR IGNORE INTO serial_characters(ch) VALUES (?)", [(ch,) for ch in sorted(found)]
    )
