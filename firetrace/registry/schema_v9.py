"""Schema migration 9 (issue 14): the events table stored compactly, read as before.

Events were two fifths of the file. They are now stored in ``event_rows``:

* the event kind as a small code (``kind``, a row of ``event_kinds``) instead
  of its name;
* the date as a day number (days since 1970-01-01) instead of ten characters
  (a date that would not come back exactly as written, which validation never
  lets in, is kept as written);
* the content key (``row_key``, which makes a re-import a no-op) once, in the
  ``WITHOUT ROWID`` table ``event_keys`` (key -> event id), 12 bytes of it,
  instead of in the row and again in its unique index. Rows written before
  this migration keep their key in the row too (``event_rows.row_key``): their
  row seals cover it.

``events`` is a view that decodes ``event_rows`` to the columns, names and
values the table had, so every reader reads it as before, and so do the row
seals (:data:`firetrace.rowseals.SEALED_VIEWS`): the fingerprint of an event is
that of the row the view shows, the same as before the migration, so every
seal written before still verifies and an altered code table, day or kind
shows as an altered event. Writes go to ``event_rows`` and ``event_keys``
(:func:`insert_event`, and the importer's set-based insert); the view's
``INSTEAD OF`` triggers pass an ``INSERT``, ``UPDATE`` or ``DELETE`` of
``events`` on to ``event_rows``, where the append-only triggers
(``events_no_update``, ``events_no_delete``) refuse the last two.

The content key of an event written from here on is not sealed (``event_keys``
has no row id; like the serial index it is derived, a digest of the row): an
altered key can only make a later import take a row as new or as already
recorded, which that import's counts show.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.schema_sql import EVENT_COLUMNS
from firetrace.registry.status import DEFAULT_STATUS
from firetrace.registry.vocabulary import load_vocabulary

# Bytes of the content key kept in event_keys: 96 bits, so two different rows
# share a key with probability ~n**2 / 2**97 (about 1e-15 at 16M events).
KEY_BYTES = 12

# The stored day from a date as written, and back: the SQL both directions use.
# A value whose day number would not give it back unchanged (anything but a
# plain, valid YYYY-MM-DD) is stored as written; a number is stored as its text
# (what the TEXT column did).
_DAY_NUMBER = "CAST(julianday({x}) - 2440587.5 AS INTEGER)"
_DAY_OF = (
    "CASE WHEN typeof({x}) IN ('integer', 'real') THEN CAST({x} AS TEXT) "
    f"WHEN date({_DAY_NUMBER} * 86400, 'unixepoch') IS {{x}} THEN {_DAY_NUMBER} ELSE {{x}} END"
)
_DATE_OF = "CASE typeof({d}) WHEN 'integer' THEN date({d} * 86400, 'unixepoch') ELSE {d} END"


def day_sql(expr: str) -> str:
    """SQL: the stored ``day`` of the date ``expr`` (see :data:`_DAY_OF`)."""
    return "(" + _DAY_OF.format(x=expr) + ")"


def date_sql(expr: str) -> str:
    """SQL: the date as written of the stored ``day`` ``expr``."""
    return "(" + _DATE_OF.format(d=expr) + ")"


def kind_sql(expr: str) -> str:
    """SQL: the code of the event kind ``expr`` (a name in ``event_kinds``)."""
    return f"(SELECT code FROM event_kinds WHERE name = {expr})"


def key_sql(expr: str) -> str:
    """SQL: the part of content key ``expr`` that ``event_keys`` holds."""
    return f"substr({expr}, 1, {KEY_BYTES})"


# The events table's columns, stored: the kind as a code, the date as a day.
_STORED_COLUMNS = (
    EVENT_COLUMNS.replace(
        "    event TEXT NOT NULL,\n", "    kind INTEGER NOT NULL REFERENCES event_kinds(code),\n"
    )
    .replace(
        "    event_date TEXT NOT NULL,\n",
        "    day NOT NULL,                         -- days since 1970-01-01 (else as written)\n",
    )
    .replace("REFERENCES events(id)", "REFERENCES event_rows(id)")
)

EVENT_ROWS = (
    """
CREATE TABLE event_kinds (
    code INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE             -- the event kind (rules/registry.toml)
);
CREATE TABLE event_rows (
"""
    + _STORED_COLUMNS
    + """    row_key BLOB                          -- set before schema 9 only (sealed)
);
CREATE TABLE event_keys (
    row_key BLOB PRIMARY KEY,             -- first 12 bytes of the content key
    event_id INTEGER NOT NULL
) WITHOUT ROWID;
"""
)

EVENTS_VIEW = (
    "CREATE VIEW events AS SELECT e.id AS id, e.component_id AS component_id, "
    "e.firearm_id AS firearm_id, (SELECT k.name FROM event_kinds k WHERE k.code = e.kind) "
    f"AS event, {date_sql('e.day')} AS event_date, e.party_id AS party_id, "
    "e.party_licence AS party_licence, e.party_country AS party_country, "
    "e.reference AS reference, e.notes AS notes, e.corrects AS corrects, "
    "e.batch_id AS batch_id, e.line AS line, e.row_key AS row_key FROM event_rows e;\n"
)

# Columns of event_rows a write names, and the value each takes from a row of
# the view's columns ``{p}.event`` etc. (``NEW`` in the triggers).
_WRITTEN = (
    ("component_id", "{p}.component_id"),
    ("firearm_id", "{p}.firearm_id"),
    ("kind", kind_sql("{p}.event")),
    ("day", day_sql("{p}.event_date")),
    ("party_id", "{p}.party_id"),
    ("party_licence", "{p}.party_licence"),
    ("party_country", "{p}.party_country"),
    ("reference", "{p}.reference"),
    ("notes", "{p}.notes"),
    ("corrects", "{p}.corrects"),
    ("batch_id", "{p}.batch_id"),
    ("line", "{p}.line"),
)
_NAMES = ", ".join(c for c, _ in _WRITTEN)


def _values(prefix: str) -> str:
    return ", ".join(v.format(p=prefix) for _, v in _WRITTEN)


EVENT_TRIGGERS_V9 = (
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON event_rows
BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correcting event instead'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON event_rows
BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correcting event instead'); END;
CREATE TRIGGER events_view_insert INSTEAD OF INSERT ON events
BEGIN
    INSERT OR IGNORE INTO event_kinds (name) VALUES (NEW.event);
"""
    + f"    INSERT INTO event_rows (id, {_NAMES}) VALUES (NEW.id, {_values('NEW')});\n"
    + f"    INSERT INTO event_keys VALUES ({key_sql('NEW.row_key')}, last_insert_rowid());\n"
    + """END;
CREATE TRIGGER events_view_update INSTEAD OF UPDATE ON events
BEGIN
    INSERT OR IGNORE INTO event_kinds (name) VALUES (NEW.event);
"""
    + "    UPDATE event_rows SET "
    + ", ".join(f"{c} = {v.format(p='NEW')}" for c, v in _WRITTEN)
    + ", id = NEW.id, row_key = NEW.row_key WHERE id = OLD.id;\n"
    + """END;
CREATE TRIGGER events_view_delete INSTEAD OF DELETE ON events
BEGIN DELETE FROM event_rows WHERE id = OLD.id; END;
"""
)

EVENT_INDEXES_V9 = """
CREATE INDEX events_component ON event_rows(component_id);
CREATE INDEX events_corrects ON event_rows(corrects) WHERE corrects IS NOT NULL;
"""


def out_of_circulation_kinds() -> list[str]:
    """The event kinds that take a firearm out of circulation (sorted)."""
    return sorted(
        event
        for event, status in load_vocabulary().status_of_event.items()
        if status != DEFAULT_STATUS
    )


def status_condition(conn: sqlite3.Connection) -> str:
    """The WHERE condition of the partial index ``events_status`` (event kinds
    that take a firearm out of circulation, as codes): a query that repeats it
    exactly can use the index."""
    marks = ",".join("?" * len(kinds := out_of_circulation_kinds()))
    codes = [
        r[0]
        for r in conn.execute(
            f"SELECT code FROM event_kinds WHERE name IN ({marks}) ORDER BY code", kinds
        )
    ]
    return f"kind IN ({', '.join(str(c) for c in codes)})"


def kind_codes(conn: sqlite3.Connection, names) -> list[int]:
    """The codes of the event kinds ``names`` that the registry knows."""
    names = sorted(set(names))
    marks = ",".join("?" * len(names))
    return [
        r[0] for r in conn.execute(f"SELECT code FROM event_kinds WHERE name IN ({marks})", names)
    ]


def insert_event(conn: sqlite3.Connection, **values) -> int:
    """Append one event (``values`` by the view's column names, ``row_key`` the
    full content key); return its id. Raises ``sqlite3.IntegrityError`` when an
    event with that content key is recorded already."""
    conn.execute("INSERT OR IGNORE INTO event_kinds (name) VALUES (?)", (values["event"],))
    params = {name: values.get(name) for name in _VIEW_COLUMNS}
    event_id = conn.execute(
        f"INSERT INTO event_rows ({_NAMES}) VALUES ({_values(':')})".replace(":.", ":"), params
    ).lastrowid
    conn.execute(
        f"INSERT INTO event_keys VALUES ({key_sql('?')}, ?)", (values["row_key"], event_id)
    )
    return event_id


_VIEW_COLUMNS = (
    "component_id",
    "firearm_id",
    "event",
    "event_date",
    "party_id",
    "party_licence",
    "party_country",
    "reference",
    "notes",
    "corrects",
    "batch_id",
    "line",
)


def migrate_v9(conn: sqlite3.Connection) -> None:
    """Apply migration 9 inside the caller's transaction (foreign keys off)."""
    for statement in _statements(EVENT_ROWS):
        conn.execute(statement)
    vocabulary = load_vocabulary()
    # Codes in this order: the kinds that bring an item into the record (most
    # rows, and code 1 is stored in no bytes), then the vocabulary, then any
    # older kind the file holds.
    first = sorted(vocabulary.identifies)
    rest = sorted(vocabulary.events - set(first))
    held = [r[0] for r in conn.execute("SELECT DISTINCT event FROM events ORDER BY event")]
    for name in dict.fromkeys([*first, *rest, *held]):
        conn.execute("INSERT INTO event_kinds (name) VALUES (?)", (name,))
    conn.execute(
        f"INSERT INTO event_rows (id, {_NAMES}, row_key) SELECT e.id, e.component_id, "
        f"e.firearm_id, k.code, {day_sql('e.event_date')}, e.party_id, e.party_licence, "
        "e.party_country, e.reference, e.notes, e.corrects, e.batch_id, e.line, e.row_key "
        "FROM events e JOIN event_kinds k ON k.name = e.event ORDER BY e.id"
    )
    conn.execute(
        f"INSERT INTO event_keys SELECT {key_sql('row_key')}, id FROM events "
        f"ORDER BY {key_sql('row_key')}"
    )
    conn.execute("DROP TABLE events")  # its indexes and triggers go with it
    conn.execute(EVENTS_VIEW)
    for statement in _statements(EVENT_INDEXES_V9):
        conn.execute(statement)
    conn.execute(
        f"CREATE INDEX events_status ON event_rows(component_id) WHERE {status_condition(conn)}"
    )
    for statement in _statements(EVENT_TRIGGERS_V9):
        conn.execute(statement)


def _statements(script: str) -> list[str]:
    """The statements of ``script``, one by one (``executescript`` would commit
    the migration's transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending[:80]!r}")
    return statements
