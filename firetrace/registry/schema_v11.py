"""Schema migration 11 (issue 14): imported events checked by their component,
and the components view decoded by one join.

**Content checks.** Importing a row twice adds it once: each event row's
content key (:func:`firetrace.registry.validate.event_row_key`) was kept in
``event_keys`` (12 bytes of it and the event's id, about 23 bytes an event with
the index's overhead, 37 bytes a component). Every field of that key but the
ones an event stores as its place in the record (the component's maker, kind
and serial, the event's kind and day) is now folded into a 4-byte check kept in
the imported event's own row (``event_rows.row_key``, sealed with it): a staged
row is already recorded when a component of its maker, kind and serial (or
former serial, ``serial_changes``) holds an event of its kind and day with its
check (:func:`known_events_sql`). A different row of the same component, kind
and day could pass for a recorded one only by sharing its 32-bit check (about
one pair in four thousand million). Events written before this migration keep
their keys in ``event_keys``, and so do the events written through the
``events`` view (corrections, whose key makes a correction given twice one
correction): both are still looked up there.

**The components view** (:data:`COMPONENTS_VIEW`) shows the description
columns of a component's ``descriptions`` row by one ``LEFT JOIN`` instead of
one correlated look-up per column (seven a row): the same columns, order and
values (``NULL`` where a row points to no description, as the look-ups gave),
so every seal written before verifies. The migration re-creates the view and
its ``INSTEAD OF`` triggers (:data:`firetrace.registry.schema_v10.VIEW_TRIGGERS`,
unchanged); no stored row changes.
"""

from __future__ import annotations

from firetrace.registry import schema_v9
from firetrace.registry.schema_v10 import VIEW_TRIGGERS, components_view
from firetrace.registry.schema_v12 import kind_code_sql

# Bytes of the content key an imported event keeps in its row.
CHECK_BYTES = 4

COMPONENTS_VIEW = components_view(
    lambda x: f"c.{x}",
    lambda f: f"d.{f}",
    "component_rows c LEFT JOIN descriptions d ON d.id = c.description_id",
)

SCHEMA_V11 = "DROP VIEW components;\n" + COMPONENTS_VIEW + VIEW_TRIGGERS


def check_sql(expr: str) -> str:
    """SQL: the part of content key ``expr`` an imported event keeps in its row."""
    return f"substr({expr}, 1, {CHECK_BYTES})"


def known_events_sql(columns: str) -> str:
    """SQL: ``columns`` (over staged row ``s`` and component ``c``) of each staged
    row already recorded by its check: an event of its component (by the serial
    it carries or carried), its kind, its day and its check."""
    same_row = (
        "CROSS JOIN event_rows e ON e.component_id = c.id "
        f"AND e.kind = {schema_v9.kind_sql('s.event')} "
        f"AND e.day IS {schema_v9.day_sql('s.event_date')} "
        f"AND e.row_key = {check_sql('s.row_key')}"
    )
    maker = "(SELECT p.id FROM parties p WHERE p.norm_name = s.maker_norm)"
    kind = kind_code_sql("s.kind")  # schema 12: the kind as a code
    by_serial = (
        f"SELECT {columns} FROM staging s CROSS JOIN component_rows c "
        "ON c.serial_fold = s.serial_fold AND c.serial_norm = s.serial_norm "
        f"AND c.kind = {kind} AND c.maker_id = {maker} {same_row}"
    )
    by_former = (
        f"SELECT {columns} FROM staging s CROSS JOIN serial_changes x ON x.old_norm = "
        "s.serial_norm CROSS JOIN component_rows c ON c.id = x.component_id "
        f"AND c.kind = {kind} AND c.maker_id = {maker} {same_row}"
    )
    return f"{by_serial} UNION {by_former}"
