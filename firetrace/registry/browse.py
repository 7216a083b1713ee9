"""Browsing the registry: one record in full (``firetrace show ID``) and records
by filter (``firetrace list --status reported_stolen``).

Both read personal data (owners are parties of events; a list of stolen
firearms is sensitive in itself), so both check the purpose policy and record
the read in the audit log with the records shown, like ``trace``.

``show`` takes a component id (``12``, ``component:12``, ``c12``: as ``trace
--json``, ``dupes`` and the import's duplicate warnings print it) or a firearm
id (``firearm:5``, ``f5``) and returns the record as a trace match: firearm,
components over time, timeline, status, withdrawn events apart.

``list`` finds firearms (control components; ``--component`` for a kind of
part) by status, maker, description and batch. A status other than
``in_circulation`` is found through the partial index of the events that take a
firearm out of circulation, so listing the stolen firearms of a registry of ten
million is a few thousand seeks, not a scan.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from firetrace.audit import check_policy, record_read
from firetrace.errors import UsageError
from firetrace.registry.batches import withdrawn_records
from firetrace.registry.description import Description
from firetrace.registry.filters import component_kind, maker_name
from firetrace.registry.lookup import Candidate, _maker_ids
from firetrace.registry.schema_v9 import kind_codes, status_condition
from firetrace.registry.status import DEFAULT_STATUS, events_setting, status_since, statuses
from firetrace.registry.trace import describe_matches
from firetrace.registry.vocabulary import DESCRIPTION_FIELDS
from firetrace.suggest import choose

_RECORD = re.compile(r"^\s*(?:(component|firearm|c|f)\s*:?\s*)?(\d{1,18})\s*$", re.IGNORECASE)
# A listing shows the description but the import year.
_DESCRIBED = tuple(field for field in DESCRIPTION_FIELDS if field != "import_year")
_LISTED = (
    "c.id, c.serial, p.name, c.kind, "
    + ", ".join(f"c.{field}" for field in _DESCRIBED)
    + ", c.batch_id, f.id"
)
_LISTED_FIELDS = ("component_id", "serial", "manufacturer", "component", *_DESCRIBED,
                  "batch_id", "firearm_id")  # fmt: skip


def parse_record_id(text: str) -> tuple[str, int]:
    """``12``, ``component:12``, ``c12`` -> ('component', 12); ``firearm:5``,
    ``f5`` -> ('firearm', 5); anything else is a usage error."""
    match = _RECORD.match(text)
    if not match:
        raise UsageError(
            f"ID: '{text}' is not a record id: give a component id (12, component:12) "
            "or a firearm id (firearm:5), as trace --json and dupes print them"
        )
    kind = (match.group(1) or "component").lower()
    return ("firearm" if kind in ("firearm", "f") else "component"), int(match.group(2))


def show(
    conn: sqlite3.Connection,
    record: str,
    *,
    operator: str = "unknown",
    purpose: str | None = None,
    audit: bool = True,
) -> dict[str, Any]:
    """One component or firearm in full: ``{"record": ..., "match": {...}}`` where
    the match has the shape of a trace match."""
    check_policy("show", purpose)
    kind, number = parse_record_id(record)
    if kind == "firearm":
        row = conn.execute(
            "SELECT control_component_id FROM firearms WHERE id = ?", (number,)
        ).fetchone()
        if row is None:
            raise UsageError(f"ID: no firearm {number} in the registry")
        component_id = row[0]
    else:
        component_id = number
    row = conn.execute(
        "SELECT c.serial, p.name, c.kind FROM components c JOIN parties p ON p.id = c.maker_id "
        "WHERE c.id = ?",
        (component_id,),
    ).fetchone()
    if row is None:
        raise UsageError(f"ID: no component {component_id} in the registry")
    candidate = Candidate(component_id, *row, "record", 1.0, f"{kind} {number}")
    (match,) = describe_matches(conn, [candidate])
    if audit:
        record_read(
            conn,
            "show",
            operator=operator,
            purpose=purpose,
            args={"record": f"{kind}:{number}"},
            record_ids=[component_id],
        )
    return {"record": f"{kind}:{number}", "match": match}


def list_records(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    manufacturer: str | None = None,
    component: str | None = None,
    description: Description | None = None,
    batch: int | None = None,
    limit: int = 1000,
    operator: str = "unknown",
    purpose: str | None = None,
    audit: bool = True,
) -> dict[str, Any]:
    """Firearms (or components of kind ``component``) by filter, oldest record
    first: ``{"filters": ..., "records": [...], "count": n, "more": bool}``."""
    check_policy("list", purpose)
    if status is not None:
        status = choose("status", status, statuses(), option="--status")
    where, params = ["c.control = 1"] if component is None else ["c.kind = ?"], []
    if component is not None:
        params.append(component_kind(component))
    if manufacturer:
        maker_name(conn, manufacturer)
        ids = _maker_ids(conn, manufacturer)
        where.append(f"c.maker_id IN ({','.join('?' * len(ids))})")
        params += ids
    if batch is not None:
        where.append("c.batch_id = ?")
        params.append(batch)
    if description is not None:
        description.prepare(conn)
        fragment, values = description.sql("c")
        if fragment:
            where.append(fragment)
            params += values
    dead = set(withdrawn_records(conn))
    records: list[dict[str, Any]] = []
    more = False
    for row in _candidate_rows(conn, status, " AND ".join(where), params):
        if row[0] in dead:
            continue
        current, since = status_since(conn, row[0])
        if status is not None and current != status:
            continue
        if len(records) == limit:
            more = True
            break
        records.append(dict(zip(_LISTED_FIELDS, row, strict=True)) | {
            "status": current, "status_since": since})  # fmt: skip
    filters = {
        "status": status,
        "manufacturer": manufacturer,
        "component": component,
        "batch": batch,
        **(description.as_dict() if description is not None else {}),
    }
    filters = {k: v for k, v in filters.items() if v is not None}
    if audit:
        record_read(
            conn,
            "list",
            operator=operator,
            purpose=purpose,
            args=filters | {"limit": limit},
            record_ids=[r["component_id"] for r in records],
        )
    return {"filters": filters, "records": records, "count": len(records), "more": more}


def _candidate_rows(conn: sqlite3.Connection, status: str | None, where: str, params: list):
    """The rows that may have ``status``, in id order: for a status out of
    circulation, only components with an event that sets it (partial index)."""
    sql = (
        f"SELECT {_LISTED} FROM components c JOIN parties p ON p.id = c.maker_id "
        "LEFT JOIN firearms f ON f.control_component_id = c.id WHERE "
    )
    if status is None or status == DEFAULT_STATUS:
        yield from conn.execute(sql + where + " ORDER BY c.id", params)
        return
    # The partial index is used when the query repeats its condition exactly.
    condition = status_condition(conn)
    codes = kind_codes(conn, events_setting(status))
    cursor = conn.execute(
        f"SELECT DISTINCT component_id FROM event_rows WHERE {condition} AND kind IN "
        f"({','.join('?' * len(codes))}) ORDER BY component_id",
        codes,
    )
    while ids := [r[0] for r in cursor.fetchmany(500)]:
        yield from conn.execute(
            sql + f"c.id IN ({','.join('?' * len(ids))}) AND {where} ORDER BY c.id",
            [*ids, *params],
        )
