"""Schema migration 12 (issue 14): a component's kind as a code, and its
look-alike fold derived in SQL.

``component_rows.kind`` holds a small code (a row of ``component_kinds``, the
most common kind first: code 1 is stored in no bytes) where it held the name
(7.3 bytes a component in the benchmark's 1M). The fold of a serial
(``serial_fold``, the normalised serial with look-alike characters folded:
``BA1004`` -> ``8A1004``) is a generated column that folds the norm in SQL by
the look-alike table of the rules as they were at this migration
(:data:`FOLD_PAIRS`); ``serial_fold_stored`` holds the fold only where that
table does not give it (the rules changed since), so a serial with a
look-alike character no longer stores its fold (4.6 bytes a component).

The ``components`` view shows the kind's name and ``serial_fold_stored`` as
before (the fold where it differs from the norm, else NULL), so every reader
and every seal sees the same rows; its ``INSTEAD OF`` triggers encode a
written kind and fold. Neither the kind code nor the code table can change
unseen: a component's kind is sealed as the view shows it, so an edited code or
``component_kinds`` row shows as an altered component. (The serial keys are
derived data and are not sealed, as before.)

The migration rebuilds ``component_rows`` (the view, its triggers and the
table's indexes and serial-index triggers are made again; ids are kept).
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.schema_v9 import _statements
from firetrace.registry.schema_v10 import (
    _ROW_COLUMNS,
    COMPONENT_INDEXES,
    components_view,
    view_triggers,
)
from firetrace.registry.serial_index import restore_index_triggers

# The look-alike fold of rules/serials.toml when this migration was written
# (each character, the group representative it folds to). A later change of
# the rules stores the folds this table does not give (serial_fold_stored).
FOLD_PAIRS = (
    ("O", "0"),
    ("Q", "0"),
    ("D", "0"),
    ("I", "1"),
    ("L", "1"),
    ("T", "1"),
    ("Z", "2"),
    ("S", "5"),
    ("G", "6"),
    ("B", "8"),
    ("V", "U"),
)


def replaced_sql(expr: str, pairs) -> str:
    """SQL: ``expr`` with each character of ``pairs`` (character, replacement)
    replaced, in order (one ``replace`` each)."""
    for read, written in pairs:
        expr = f"replace({expr}, '{read}', '{written}')"
    return expr


def fold_sql(expr: str) -> str:
    """SQL: ``expr`` folded by :data:`FOLD_PAIRS`."""
    return replaced_sql(expr, FOLD_PAIRS)


def stored_fold_sql(fold: str, norm: str) -> str:
    """SQL: what ``component_rows.serial_fold_stored`` holds for a serial of
    fold ``fold`` and norm ``norm``: NULL where :func:`fold_sql` gives it."""
    return f"nullif({fold}, {fold_sql(norm)})"


_FOLD_TABLE = str.maketrans(dict(FOLD_PAIRS))


def stored_keys(serial: str, keys: tuple[str, str, str]) -> tuple[str | None, ...]:
    """The parts of a serial's keys (norm, fold, skeleton) ``component_rows``
    stores: None where its generated columns derive them."""
    norm, fold, skel = keys
    return (
        None if norm == serial else norm,
        None if fold == norm.translate(_FOLD_TABLE) else fold,
        None if skel == fold.lstrip("0") else skel,
    )


def stored_keys_sql(serial: str, norm: str, fold: str, skel: str) -> str:
    """:func:`stored_keys` as SQL over column expressions (set-based writers)."""
    fold_stored = stored_fold_sql(fold, norm)
    return f"nullif({norm}, {serial}), {fold_stored}, nullif({skel}, ltrim({fold}, '0'))"


KINDS = (
    "CREATE TABLE component_kinds (\n    code INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE             -- frame, receiver, barrel, slide, ...\n);\n"
)

COMPONENT_ROWS = f"""
CREATE TABLE component_rows_v12 (
    id INTEGER PRIMARY KEY,
    maker_id INTEGER NOT NULL REFERENCES parties(id),
    kind INTEGER NOT NULL REFERENCES component_kinds(code),
    control INTEGER NOT NULL DEFAULT 0,   -- 1: carries the firearm's identity
    serial TEXT NOT NULL,                 -- as marked
    serial_norm_stored TEXT,              -- NULL: the serial as marked is its own norm
    serial_fold_stored TEXT,              -- NULL: the norm folded by the SQL table
    serial_skel_stored TEXT,              -- NULL: no letter between digits
    description_id INTEGER NOT NULL REFERENCES descriptions(id),
    batch_id INTEGER REFERENCES batches(id),
    serial_norm TEXT GENERATED ALWAYS AS (coalesce(serial_norm_stored, serial)) VIRTUAL,
    serial_fold TEXT GENERATED ALWAYS AS
        (coalesce(serial_fold_stored, {fold_sql("serial_norm")})) VIRTUAL,
    serial_skel TEXT GENERATED ALWAYS AS
        (coalesce(serial_skel_stored, ltrim(serial_fold, '0'))) VIRTUAL
);
"""


def kind_code_sql(name: str) -> str:
    """SQL: the code of component kind ``name`` (a row of ``component_kinds``)."""
    return f"(SELECT code FROM component_kinds WHERE name = {name})"


def add_kinds_sql(source: str) -> str:
    """SQL: add to ``component_kinds`` each kind of ``source`` (a SELECT of
    names) that it lacks."""
    return f"INSERT OR IGNORE INTO component_kinds (name) {source}"


def _shown(column: str) -> str:
    """The view's expression of a column of ``component_rows c``."""
    if column == "kind":
        return "k.name"
    if column == "serial_fold_stored":  # as stored before: the fold where it is not the norm
        return "(CASE WHEN c.serial_fold IS NOT c.serial_norm THEN c.serial_fold END)"
    return f"c.{column}"


COMPONENTS_VIEW = components_view(
    _shown,
    lambda f: f"d.{f}",
    "component_rows c LEFT JOIN component_kinds k ON k.code = c.kind "
    "LEFT JOIN descriptions d ON d.id = c.description_id",
)

_NEW_NORM = "coalesce(NEW.serial_norm_stored, NEW.serial)"
VIEW_TRIGGERS = view_triggers(
    {
        "kind": kind_code_sql("NEW.kind"),
        "serial_fold_stored": stored_fold_sql(
            f"coalesce(NEW.serial_fold_stored, {_NEW_NORM})", _NEW_NORM
        ),
    },
    before=f"    {add_kinds_sql('VALUES (NEW.kind)')};\n",
)


def migrate_v12(conn: sqlite3.Connection) -> None:
    """Apply migration 12 inside the caller's transaction (foreign keys off)."""
    conn.execute("DROP VIEW components")  # its triggers go with it
    for statement in _statements(KINDS + COMPONENT_ROWS):
        conn.execute(statement)
    # The most common kind first: code 1, stored in no bytes.
    conn.execute(
        "INSERT INTO component_kinds (name) SELECT kind FROM component_rows "
        "GROUP BY kind ORDER BY count(*) DESC, kind"
    )
    values = {
        "kind": "k.code",
        "serial_fold_stored": stored_fold_sql("c.serial_fold", "c.serial_norm"),
    }
    columns = ("id", *_ROW_COLUMNS, "description_id", "batch_id")
    conn.execute(
        f"INSERT INTO component_rows_v12 ({', '.join(columns)}) "
        f"SELECT {', '.join(values.get(x, f'c.{x}') for x in columns)} FROM component_rows c "
        "JOIN component_kinds k ON k.name = c.kind ORDER BY c.id"
    )
    conn.execute("DROP TABLE component_rows")  # its indexes and triggers go with it
    conn.execute("ALTER TABLE component_rows_v12 RENAME TO component_rows")
    for statement in _statements(COMPONENT_INDEXES + COMPONENTS_VIEW + VIEW_TRIGGERS):
        conn.execute(statement)
    restore_index_triggers(conn)  # on component_rows
