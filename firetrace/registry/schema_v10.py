"""Schema migration 10 (issue 14): a component's description stored by reference.

A million components hold a few thousand distinct descriptions (type, model,
calibre, countries and years of manufacture and import): each was stored in
every component's row, about 35 bytes a component. They are now rows of
``descriptions``, and a component's row in ``component_rows`` points to one
(``description_id``). ``descriptions`` is append-only (triggers refuse
``UPDATE`` and ``DELETE``): a component whose description changes (a later
record fills a field it lacked) points to another row, so no row a seal covers
changes under it.

``components`` is a view that shows ``component_rows`` with the description
columns decoded, in the columns, order and values the table had, so every
reader reads it as before, and so do the row seals
(:data:`firetrace.rowseals.SEALED_VIEWS`): a component's fingerprint is that
of the row the view shows, so every seal written before still verifies, and an
edited ``descriptions`` row or ``description_id`` shows as an altered
component. The view's ``INSTEAD OF`` triggers pass an ``INSERT``, ``UPDATE`` or
``DELETE`` on to ``component_rows`` (finding or adding the description row);
the importer writes ``component_rows`` directly (:func:`description_ids_sql`).

``components`` is renamed to ``component_rows`` first, so every foreign key
that named it (firearms, assemblies, events, serial changes) and its serial
index triggers name the stored table; its indexes keep their names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from firetrace.registry.schema_v9 import _statements
from firetrace.registry.serial_index import SERIAL_COLUMNS, restore_index_triggers
from firetrace.registry.vocabulary import DESCRIPTION_FIELDS

# The description columns, as the components table held them (its order).
_FIELDS = tuple(DESCRIPTION_FIELDS)
_TYPES = {"year_of_manufacture": "INTEGER", "import_year": "INTEGER"}
_STORED = SERIAL_COLUMNS.split(", ")[1:]  # serial_norm_stored, ... (derived keys)

DESCRIPTIONS = (
    "CREATE TABLE descriptions (\n    id INTEGER PRIMARY KEY,\n"
    + "".join(f"    {f} {_TYPES.get(f, 'TEXT')},\n" for f in _FIELDS).rstrip(",\n")
    + "\n);\n"
    f"CREATE INDEX descriptions_fields ON descriptions({', '.join(_FIELDS)});\n"
    "CREATE TRIGGER descriptions_no_update BEFORE UPDATE ON descriptions\n"
    "BEGIN SELECT RAISE(ABORT, 'descriptions are append-only: point to another'); END;\n"
    "CREATE TRIGGER descriptions_no_delete BEFORE DELETE ON descriptions\n"
    "BEGIN SELECT RAISE(ABORT, 'descriptions are append-only: point to another'); END;\n"
)

COMPONENT_ROWS = """
CREATE TABLE component_rows_v10 (
    id INTEGER PRIMARY KEY,
    maker_id INTEGER NOT NULL REFERENCES parties(id),
    kind TEXT NOT NULL,                   -- frame, receiver, barrel, slide, ...
    control INTEGER NOT NULL DEFAULT 0,   -- 1: carries the firearm's identity
    serial TEXT NOT NULL,                 -- as marked
    serial_norm_stored TEXT,              -- NULL: the serial as marked is its own norm
    serial_fold_stored TEXT,              -- NULL: no look-alike to fold
    serial_skel_stored TEXT,              -- NULL: no letter between digits
    description_id INTEGER NOT NULL REFERENCES descriptions(id),
    batch_id INTEGER REFERENCES batches(id),
    serial_norm TEXT GENERATED ALWAYS AS (coalesce(serial_norm_stored, serial)) VIRTUAL,
    serial_fold TEXT GENERATED ALWAYS AS (coalesce(serial_fold_stored, serial_norm)) VIRTUAL,
    serial_skel TEXT GENERATED ALWAYS AS
        (coalesce(serial_skel_stored, ltrim(serial_fold, '0'))) VIRTUAL
);
"""

COMPONENT_INDEXES = """
CREATE INDEX components_serial_fold ON component_rows(serial_fold);
CREATE INDEX components_skel ON component_rows(serial_skel_stored, maker_id)
    WHERE serial_skel_stored IS NOT NULL;
"""


def _decoded(field: str, row: str = "c") -> str:
    return f"(SELECT d.{field} FROM descriptions d WHERE d.id = {row}.description_id)"


_HEAD = ("id", "maker_id", "kind", "control", "serial", *_STORED)
_TAIL = ("batch_id", "serial_norm", "serial_fold", "serial_skel", "description_id")


def components_view(shown: Callable[[str], str], decoded: Callable[[str], str], source: str) -> str:
    """SQL: the ``components`` view over ``source`` (``component_rows c`` and what
    it joins), each of its columns as ``shown`` gives it and each description
    field as ``decoded`` does; the columns in the order the table had."""
    columns = [
        *(f"{shown(x)} AS {x}" for x in _HEAD),
        *(f"{decoded(f)} AS {f}" for f in _FIELDS),
        *(f"{shown(x)} AS {x}" for x in _TAIL),
    ]
    return f"CREATE VIEW components AS SELECT {', '.join(columns)} FROM {source};\n"


COMPONENTS_VIEW = components_view(lambda x: f"c.{x}", _decoded, "component_rows c")


def _same(values: list[str], alias: str = "d") -> str:
    """SQL: description row ``alias`` holds ``values`` (NULL matching NULL; the
    columns' affinity applies to the values, as a stored column's would)."""
    return " AND ".join(f"{alias}.{f} IS {v}" for f, v in zip(_FIELDS, values, strict=True))


def description_select_sql(values: list[str]) -> str:
    """SQL: the SELECT of the id of the description row holding ``values`` (one
    SQL expression per field of :data:`DESCRIPTION_FIELDS`), as a statement."""
    return f"SELECT d.id FROM descriptions d WHERE {_same(values)} ORDER BY d.id LIMIT 1"


def description_id_sql(values: list[str]) -> str:
    """SQL: the id of the description row holding ``values``, which
    :func:`add_descriptions_sql` has made sure of, as an expression."""
    return f"({description_select_sql(values)})"


def add_descriptions_sql(values: list[str], source: str) -> str:
    """SQL: add to ``descriptions`` each distinct ``values`` (expressions over
    the rows of ``source``, a FROM clause with its WHERE) that it lacks."""
    names = ", ".join(_FIELDS)
    picked = ", ".join(f"{v} AS {f}" for f, v in zip(_FIELDS, values, strict=True))
    return (
        f"INSERT INTO descriptions ({names}) SELECT {names} FROM (SELECT DISTINCT {picked} "
        f"FROM {source}) n WHERE NOT EXISTS (SELECT 1 FROM descriptions d WHERE "
        f"{_same([f'n.{f}' for f in _FIELDS])})"
    )


def description_id(conn: sqlite3.Connection, values) -> int:
    """The id of the description row holding ``values`` (one per field of
    :data:`DESCRIPTION_FIELDS`), added when there is none."""
    marks = ["?"] * len(_FIELDS)
    found = conn.execute(description_select_sql(marks), tuple(values)).fetchone()
    if found:
        return found[0]
    names = ", ".join(_FIELDS)
    return conn.execute(
        f"INSERT INTO descriptions ({names}) VALUES ({', '.join(marks)})", tuple(values)
    ).lastrowid


_NEW = [f"NEW.{f}" for f in _FIELDS]
_ROW_COLUMNS = ("maker_id", "kind", "control", "serial", *_STORED)


def view_triggers(values: dict[str, str] | None = None, before: str = "") -> str:
    """SQL: the ``INSTEAD OF`` triggers of the ``components`` view: a write passes
    on to ``component_rows`` with each column as ``values`` gives it (else as
    written), after ``before`` and after adding the written description."""
    written = {x: (values or {}).get(x, f"NEW.{x}") for x in _ROW_COLUMNS}
    inserted = {**written, "control": "coalesce(NEW.control, 0)"}
    prelude = f"    {add_descriptions_sql(_NEW, '(SELECT 1)')};\n" + before
    return (
        "CREATE TRIGGER components_view_insert INSTEAD OF INSERT ON components\nBEGIN\n"
        + prelude
        + f"    INSERT INTO component_rows (id, {', '.join(_ROW_COLUMNS)}, description_id, "
        + f"batch_id) VALUES (NEW.id, {', '.join(inserted[x] for x in _ROW_COLUMNS)}, "
        + f"{description_id_sql(_NEW)}, NEW.batch_id);\nEND;\n"
        "CREATE TRIGGER components_view_update INSTEAD OF UPDATE ON components\nBEGIN\n"
        + prelude
        + "    UPDATE component_rows SET id = NEW.id, "
        + ", ".join(f"{x} = {written[x]}" for x in _ROW_COLUMNS)
        + f", description_id = {description_id_sql(_NEW)}, batch_id = NEW.batch_id "
        "WHERE id = OLD.id;\nEND;\n"
        "CREATE TRIGGER components_view_delete INSTEAD OF DELETE ON components\n"
        "BEGIN DELETE FROM component_rows WHERE id = OLD.id; END;\n"
    )


VIEW_TRIGGERS = view_triggers()


def migrate_v10(conn: sqlite3.Connection) -> None:
    """Apply migration 10 inside the caller's transaction (foreign keys off)."""
    # Foreign keys, triggers and indexes that name components now name component_rows.
    conn.execute("ALTER TABLE components RENAME TO component_rows")
    for statement in _statements(DESCRIPTIONS + COMPONENT_ROWS):
        conn.execute(statement)
    fields = [f"c.{f}" for f in _FIELDS]
    # The most common description first: the smallest ids, the fewest bytes.
    names = ", ".join(_FIELDS)
    conn.execute(
        f"INSERT INTO descriptions ({names}) SELECT {', '.join(fields)} FROM component_rows c "
        f"GROUP BY {', '.join(fields)} ORDER BY count(*) DESC, {', '.join(fields)}"
    )
    columns = ", ".join(("id", *_ROW_COLUMNS))
    conn.execute(
        f"INSERT INTO component_rows_v10 ({columns}, description_id, batch_id) "
        f"SELECT {', '.join(f'c.{x}' for x in ('id', *_ROW_COLUMNS))}, "
        f"{description_id_sql(fields)}, c.batch_id FROM component_rows c ORDER BY c.id"
    )
    conn.execute("DROP TABLE component_rows")  # its indexes and triggers go with it
    conn.execute("ALTER TABLE component_rows_v10 RENAME TO component_rows")
    for statement in _statements(COMPONENT_INDEXES + COMPONENTS_VIEW + VIEW_TRIGGERS):
        conn.execute(statement)
    restore_index_triggers(conn)  # on component_rows
