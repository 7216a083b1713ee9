"""Pieces of SQL that more than one schema text shares: the base schema
(:data:`firetrace.registry.db.SCHEMA_V1`) and the tables migration 5 rebuilds
(:mod:`firetrace.registry.schema_v5`).

Each piece is the exact text the first schema wrote, so a schema built from
them is the same to the byte as before they were shared."""

# A component's identity: who made it, what it is, the serial as marked.
COMPONENT_COLUMNS = """\
    id INTEGER PRIMARY KEY,
    maker_id INTEGER NOT NULL REFERENCES parties(id),
    kind TEXT NOT NULL,                   -- frame, receiver, barrel, slide, ...
    control INTEGER NOT NULL DEFAULT 0,   -- 1: carries the firearm's identity
    serial TEXT NOT NULL,                 -- as marked
"""

# A component's description and the batch that recorded it (components table).
DESCRIPTION_COLUMNS = """\
    type TEXT,
    model TEXT,
    calibre TEXT,
    country_of_manufacture TEXT,
    year_of_manufacture INTEGER,
    import_country TEXT,
    import_year INTEGER,
    batch_id INTEGER REFERENCES batches(id),
"""

# The events table's columns before its content key (``row_key``).
EVENT_COLUMNS = """\
    id INTEGER PRIMARY KEY,
    component_id INTEGER NOT NULL REFERENCES components(id),
    firearm_id INTEGER REFERENCES firearms(id),
    event TEXT NOT NULL,
    event_date TEXT NOT NULL,
    party_id INTEGER REFERENCES parties(id),
    party_licence TEXT,
    party_country TEXT,
    reference TEXT,
    notes TEXT,
    corrects INTEGER REFERENCES events(id),
    batch_id INTEGER REFERENCES batches(id),
    line INTEGER,
"""


def events_table(name: str, *, unique_key: bool) -> str:
    """The events table as ``CREATE TABLE name``: its content key unique inline
    (the base schema) or by a separate unique index (migration 5)."""
    key = "row_key BLOB NOT NULL" + (" UNIQUE" if unique_key else "")
    return (
        f"CREATE TABLE {name} (\n{EVENT_COLUMNS}"
        f"    {key:<38}-- digest of the row's content: re-import is a no-op\n);\n"
    )


EVENT_TRIGGERS = """\
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correcting event instead'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: record a correcting event instead'); END;
"""
