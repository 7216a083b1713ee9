"""Which registry component each row of a batch concerns.

Two records are the same component only when nothing contradicts it. Records
share an identity key (maker, component kind, normalised serial); within a key
a record is a second physical item, kept as a separate component and flagged
as a duplicated serial, when

* it conflicts on a description field that cannot change for one item (year of
  manufacture, model, calibre, country of manufacture) with every item it could
  be, or
* it is a second ``manufactured`` or ``marked`` record (``[events] identifies``
  in ``rules/registry.toml``) of an item that already has one.

A later row (a sale, a transfer) that fits several items sharing its serial
must say which: by a description field, by the batch's ``firearm`` key of a row
that made the item, or by ``component_id``; else the batch is rejected with a
message naming the candidates. A row already recorded (same content key) is
the event it was and changes nothing.

Almost every key is decided in SQL, set-based: a key with at most one row that
identifies an item, no conflicting values and at most one matching component
(:func:`classify`). The rest, rare, are resolved here in Python, one key at a
time (:func:`resolve_complex`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from firetrace.registry.batches import live_event_sql
from firetrace.registry.schema_v9 import key_sql
from firetrace.registry.schema_v11 import known_events_sql
from firetrace.registry.validate import model_key
from firetrace.registry.vocabulary import DESCRIPTION_FIELDS

# The staged fields compared between two records of one key, and how the
# component table names them.
_COMPARED = (
    ("year", "year_of_manufacture", "year of manufacture"),
    ("model_key", "model", "model"),
    ("calibre", "calibre", "calibre"),
    ("country", "country_of_manufacture", "country of manufacture"),
)
_KEEP = ("type", "model", "calibre", "country", "year", "import_country", "import_year")
# staging name -> record field (the description fields, in the same order)
_KEEP_COLUMN = dict(zip(_KEEP, DESCRIPTION_FIELDS, strict=True))


def _in_list(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


def mark_known_rows(conn: sqlite3.Connection) -> int:
    """Move the staged rows already recorded as events into ``temp.known_rows``
    (line, component id, firearm key, control); return how many. They add no
    event, but a known control row still names its firearm for the batch's
    other rows."""
    conn.execute("DROP TABLE IF EXISTS temp.known_rows")
    conn.execute(
        "CREATE TEMP TABLE known_rows (line INTEGER PRIMARY KEY, component_id INTEGER, "
        "firearm_key TEXT, control INTEGER)"
    )
    if conn.execute("SELECT 1 FROM event_rows LIMIT 1").fetchone() is None:
        return 0
    # Imported since schema 11: by the check in the event's row.
    known = known_events_sql("s.line, c.id, s.firearm_key, s.control")
    conn.execute(f"INSERT OR IGNORE INTO known_rows {known}")
    # Before it, or written through the events view: by the key in event_keys.
    if conn.execute("SELECT 1 FROM event_keys LIMIT 1").fetchone() is not None:
        conn.execute(
            "INSERT OR IGNORE INTO known_rows SELECT s.line, e.component_id, s.firearm_key, "
            f"s.control FROM staging s CROSS JOIN event_keys k "
            f"ON k.row_key = {key_sql('s.row_key')} CROSS JOIN event_rows e ON e.id = k.event_id"
        )
    row = conn.execute("SELECT value FROM meta WHERE key = 'legacy_row_keys_through'").fetchone()
    if row and int(row[0]) > 0:
        conn.execute(
            "INSERT OR IGNORE INTO known_rows SELECT s.line, e.component_id, s.firearm_key, "
            "s.control FROM staging s CROSS JOIN event_keys k "
            f"ON k.row_key = {key_sql('s.legacy_key')} "
            "CROSS JOIN event_rows e ON e.id = k.event_id "
            "WHERE s.legacy_key IS NOT NULL AND e.id <= ?",
            (int(row[0]),),
        )
    (known,) = conn.execute("SELECT count(*) FROM known_rows").fetchone()
    if known:
        conn.execute("DELETE FROM staging WHERE line IN (SELECT line FROM known_rows)")
    return known


def classify(conn: sqlite3.Connection, identifies: frozenset[str]) -> int:
    """Summarise the staged rows per identity key into ``temp.batch_keys`` and
    mark the keys SQL can decide (``simple``); return how many are not."""
    conn.execute("DROP TABLE IF EXISTS temp.batch_keys")
    spans = ", ".join(f"min({c}) AS {c}_lo, max({c}) AS {c}_hi" for c, _, _ in _COMPARED)
    kept = ", ".join(f"max({c}) AS {c}" for c in _KEEP)
    conn.execute(
        "CREATE TEMP TABLE batch_keys AS SELECT maker_norm, kind, serial_norm, "
        "min(serial_fold) AS serial_fold, "
        "min(line) AS first_line, count(*) AS rows, "
        f"sum(event IN ({_in_list(identifies)})) AS identifying, "
        f"count(component_ref) AS refs, max(control) AS control, {spans}, {kept}, "
        "NULL AS existing, 0 AS matches, 1 AS simple "
        "FROM staging GROUP BY maker_norm, kind, serial_norm"
    )
    differs = " OR ".join(f"{c}_lo IS NOT {c}_hi" for c, _, _ in _COMPARED)
    conn.execute(f"UPDATE batch_keys SET simple = 0 WHERE refs > 0 OR identifying > 1 OR {differs}")
    if conn.execute("SELECT 1 FROM components LIMIT 1").fetchone() is not None:
        _match_existing(conn, identifies)
    (hard,) = conn.execute("SELECT count(*) FROM batch_keys WHERE simple = 0").fetchone()
    return hard


def _match_existing(conn: sqlite3.Connection, identifies: frozenset[str]) -> None:
    """Link each key to the components already holding it; a key with one live
    component that nothing in the batch contradicts stays simple."""

    conn.create_function(
        "firetrace_model_key",
        1,
        lambda m: None if m is None else model_key(m),
        deterministic=True,
    )
    conn.execute("DROP TABLE IF EXISTS temp.key_matches")
    conn.execute(
        "CREATE TEMP TABLE key_matches AS SELECT k.rowid AS key_id, c.id AS component_id "
        "FROM batch_keys k JOIN parties p ON p.norm_name = k.maker_norm "
        "CROSS JOIN components c ON c.serial_fold = k.serial_fold "
        "AND c.serial_norm = k.serial_norm AND c.maker_id = p.id "
        "AND c.kind = k.kind"
    )
    conn.execute("CREATE INDEX temp.key_matches_key ON key_matches(key_id)")
    conn.execute(
        "UPDATE batch_keys SET matches = (SELECT count(*) FROM key_matches m "
        "WHERE m.key_id = batch_keys.rowid), existing = (SELECT min(component_id) "
        "FROM key_matches m WHERE m.key_id = batch_keys.rowid) "
        "WHERE rowid IN (SELECT key_id FROM key_matches)"
    )
    conn.execute("UPDATE batch_keys SET simple = 0 WHERE matches > 1")
    stored = {"model_key": "firetrace_model_key(c.model)"}
    conflicts = " OR ".join(
        f"(k.{c}_lo IS NOT NULL AND {stored.get(c, 'c.' + column)} IS NOT NULL "
        f"AND {stored.get(c, 'c.' + column)} <> k.{c}_lo)"
        for c, column, _ in _COMPARED
    )
    withdrawn = conn.execute("SELECT 1 FROM withdrawals LIMIT 1").fetchone() is not None
    dead = (
        f" OR NOT EXISTS (SELECT 1 FROM events e WHERE e.component_id = c.id AND "
        f"{live_event_sql()})"
        if withdrawn
        else ""
    )
    conn.execute(
        "UPDATE batch_keys SET simple = 0 WHERE rowid IN (SELECT k.rowid FROM batch_keys k "
        "JOIN components c ON c.id = k.existing WHERE k.simple = 1 AND k.matches = 1 AND ("
        f"{conflicts} OR (k.identifying > 0 AND EXISTS (SELECT 1 FROM events e "
        f"WHERE e.component_id = c.id AND e.event IN ({_in_list(identifies)}) "
        f"AND {live_event_sql()})){dead}))"
    )


# --- the keys SQL cannot decide --------------------------------------------------


@dataclass
class Item:
    """One physical item a key's rows may concern: an existing component or one
    this batch makes (``component_id`` None until stored)."""

    component_id: int | None
    values: dict[str, Any]
    identified: bool  # has a manufactured/marked record
    first_line: int | None = None  # the row that made it, for a new item
    rows: list[dict] = field(default_factory=list)
    firearm_keys: set[str] = field(default_factory=set)
    filled: dict[str, Any] = field(default_factory=dict)  # for an existing one: new values

    def label(self) -> str:
        """How a message names this item: its component id or its batch line."""
        where = (
            f"component {self.component_id}"
            if self.component_id is not None
            else f"the item of line {self.first_line} of this batch"
        )
        values = self.values
        known = [f"{label} {values[c]}" for c, _, label in _COMPARED if values.get(c) is not None]
        return where + (f" ({', '.join(known)})" if known else "")


@dataclass
class Duplicate:
    """A new component that shares its identity key with another item."""

    line: int
    serial: str
    manufacturer: str
    component: str
    reason: str
    shares_with: list[str]
    item: Item
    component_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The duplicate as listed in ``import --json``."""
        return {
            "line": self.line,
            "serial": self.serial,
            "manufacturer": self.manufacturer,
            "component": self.component,
            "component_id": self.component_id or self.item.component_id,
            "reason": self.reason,
            "shares_serial_with": self.shares_with,
        }

    def message(self) -> str:
        """The one-line warning the import prints for this duplicate."""
        return (
            f"line {self.line}: {self.serial} ({self.manufacturer} {self.component}) kept as a "
            f"second item sharing its serial with {'; '.join(self.shares_with)}: {self.reason} "
            "(an exact duplicate serial; firetrace dupes lists it)"
        )


@dataclass
class Resolution:
    """What :func:`resolve_complex` decided for the keys SQL could not."""

    new_items: list[Item] = field(default_factory=list)
    changed: list[Item] = field(default_factory=list)  # existing items given new values
    assignments: list[tuple[int, Item]] = field(default_factory=list)  # (line, item)
    duplicates: list[Duplicate] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)


_ROW_FIELDS = (
    "line",
    "maker_norm",
    "maker_name",
    "kind",
    "serial_norm",
    "serial",
    "serial_fold",
    "serial_skel",
    "event",
    "firearm_key",
    "component_ref",
    "control",
    "row_key",
    "year",
    "model_key",
    "calibre",
    "country",
    "type",
    "model",
    "import_country",
    "import_year",
)


def resolve_complex(conn: sqlite3.Connection, identifies: frozenset[str]) -> Resolution:
    """Decide the rows of every key :func:`classify` left to Python."""
    resolution = Resolution()
    conn.execute("DROP TABLE IF EXISTS temp.hard_keys")
    conn.execute(
        "CREATE TEMP TABLE hard_keys (maker_norm TEXT, kind TEXT, serial_norm TEXT, "
        "existing INTEGER, serial_fold TEXT, PRIMARY KEY (maker_norm, kind, serial_norm)) "
        "WITHOUT ROWID"
    )
    conn.execute(
        "INSERT INTO hard_keys SELECT maker_norm, kind, serial_norm, matches, serial_fold "
        "FROM batch_keys WHERE simple = 0"
    )
    rows_by_key: dict[tuple, list[dict]] = {}
    for values in conn.execute(
        f"SELECT {', '.join('s.' + f for f in _ROW_FIELDS)} FROM staging s "
        "JOIN hard_keys h ON h.maker_norm = s.maker_norm AND h.kind = s.kind "
        "AND h.serial_norm = s.serial_norm ORDER BY s.line"
    ):
        row = dict(zip(_ROW_FIELDS, values, strict=True))
        rows_by_key.setdefault((row["maker_norm"], row["kind"], row["serial_norm"]), []).append(row)
    existing = _existing_items(conn, identifies)
    known_keys = _known_firearm_keys(conn)
    for key, rows in rows_by_key.items():
        _resolve_key(rows, existing.get(key, []), known_keys, identifies, resolution)
    conn.execute("DROP TABLE temp.hard_keys")
    return resolution


def _existing_items(conn: sqlite3.Connection, identifies: frozenset[str]) -> dict[tuple, list]:
    """The live components holding each hard key (withdrawn-only ones are not
    candidates: a withdrawn batch's items do not absorb new records)."""

    out: dict[tuple, list[Item]] = {}
    columns = ", ".join(f"c.{column}" for _, column, _ in _COMPARED)
    for values in conn.execute(
        "SELECT h.maker_norm, h.kind, h.serial_norm, c.id, "
        f"{columns}, EXISTS (SELECT 1 FROM events e WHERE e.component_id = c.id "
        f"AND e.event IN ({_in_list(identifies)}) AND {live_event_sql()}), "
        f"EXISTS (SELECT 1 FROM events e WHERE e.component_id = c.id AND {live_event_sql()}) "
        "FROM hard_keys h JOIN parties p ON p.norm_name = h.maker_norm "
        "CROSS JOIN components c ON c.serial_fold = h.serial_fold "
        "AND c.serial_norm = h.serial_norm AND c.maker_id = p.id "
        "AND c.kind = h.kind WHERE h.existing > 0 ORDER BY c.id"
    ):
        key, cid, compared, identified, live = values[:3], values[3], values[4:8], *values[8:]
        if not live:
            continue
        attrs = dict(zip((c for c, _, _ in _COMPARED), compared, strict=True))
        if attrs["model_key"] is not None:
            attrs["model_key"] = model_key(attrs["model_key"])
        out.setdefault(tuple(key), []).append(Item(cid, attrs, bool(identified)))
    return out


def _known_firearm_keys(conn: sqlite3.Connection) -> dict[str, int]:
    """Firearm keys of already-recorded control rows of this batch -> component."""
    return dict(
        conn.execute(
            "SELECT firearm_key, component_id FROM known_rows "
            "WHERE firearm_key IS NOT NULL AND control = 1"
        ).fetchall()
    )


def _conflicts(item: Item, row: dict) -> list[str]:
    return [
        f"{label} {row[c]} vs {item.values[c]}"
        for c, _, label in _COMPARED
        if row[c] is not None and item.values.get(c) is not None and row[c] != item.values[c]
    ]


def _resolve_key(
    rows: list[dict],
    items: list[Item],
    known_keys: dict[str, int],
    identifies: frozenset[str],
    out: Resolution,
) -> None:
    items = list(items)
    seen_keys: set[bytes] = set()
    for row in rows:
        if row["row_key"] in seen_keys:  # the same row twice in the batch: one event
            continue
        seen_keys.add(row["row_key"])
        item = _choose(row, items, known_keys, identifies, out)
        if item is None:
            continue
        if item.first_line is None and item.component_id is None:  # a new item
            item.first_line = row["line"]
        for name in (*(c for c, _, _ in _COMPARED), *_KEEP):
            if row.get(name) is not None and item.values.get(name) is None:
                item.values[name] = row[name]
                if item.component_id is not None and name in _KEEP:
                    item.filled[name] = row[name]
        if row["event"] in identifies:
            item.identified = True
        if row["firearm_key"]:
            item.firearm_keys.add(row["firearm_key"])
        item.rows.append(row)
        out.assignments.append((row["line"], item))
    for item in items:
        if item.component_id is not None and item.filled:
            out.changed.append(item)


def _choose(
    row: dict,
    items: list[Item],
    known_keys: dict[str, int],
    identifies: frozenset[str],
    out: Resolution,
) -> Item | None:
    """The item ``row`` concerns (a new one appended to ``items`` if none), or
    None after recording an error."""
    if row["component_ref"] is not None:
        chosen = next((i for i in items if i.component_id == row["component_ref"]), None)
        if chosen is None:
            out.errors.append(
                (
                    row["line"],
                    "component_id",
                    f"component {row['component_ref']} is not a {row['maker_name']} "
                    f"{row['kind']} with serial {row['serial']} in the registry",
                )
            )
        return chosen
    fitting = [i for i in items if not _conflicts(i, row)]
    key = row["firearm_key"]
    if key:
        known = known_keys.get(key)
        keyed = [
            i
            for i in fitting
            if key in i.firearm_keys or (known is not None and known == i.component_id)
        ]
        fitting = keyed or fitting
    if row["event"] in identifies:
        free = [i for i in fitting if not i.identified]
        if len(free) == 1:
            return free[0]
        if len(free) > 1:
            _ambiguous(row, free, out)
            return None
        return _new_item(row, items, fitting, out)
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        return _new_item(row, items, fitting, out)
    _ambiguous(row, fitting, out)
    return None


def _new_item(row: dict, items: list[Item], fitting: list[Item], out: Resolution) -> Item:
    item = Item(None, {}, False, first_line=row["line"])
    if items:
        if fitting:
            reason = f"a second '{row['event']}' record of the serial"
        else:
            reason = "; ".join(dict.fromkeys(c for other in items for c in _conflicts(other, row)))
        out.duplicates.append(
            Duplicate(
                row["line"],
                row["serial"],
                row["maker_name"],
                row["kind"],
                reason,
                [other.label() for other in items],
                item,
            )
        )
    items.append(item)
    out.new_items.append(item)
    return item


def _ambiguous(row: dict, candidates: list[Item], out: Resolution) -> None:
    listed = "; ".join(c.label() for c in candidates)
    out.errors.append(
        (
            row["line"],
            "serial",
            f"{row['serial']} fits {len(candidates)} {row['maker_name']} {row['kind']}s "
            f"sharing this serial ({listed}): say which with year_of_manufacture, model, "
            "calibre, country_of_manufacture, the firearm key of the row that made it, "
            "or component_id",
        )
    )


def component_of_row_sql(maker_id: str = "m.id") -> str:
    """SQL for the component a staged row ``s`` concerns once components are stored:
    the decided one for a hard key (``temp.row_component``), else the only
    component holding its key."""
    return (
        "coalesce((SELECT r.component_id FROM row_component r WHERE r.line = s.line), "
        "(SELECT c.id FROM components c WHERE c.serial_fold = s.serial_fold "
        "AND c.serial_norm = s.serial_norm "
        f"AND c.maker_id = {maker_id} AND c.kind = s.kind))"
    )


KEEP_COLUMNS = _KEEP_COLUMN
