"""Candidate search for ``firetrace trace``: which registry components could a
serial read off a recovered firearm belong to.

:func:`find_candidates` is the single entry point the trace uses. It returns
candidates ranked best first; every candidate carries its match kind, a score in
[0, 1] and a one-line ``why``. Exact and normalised hits always rank first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from firetrace.serials.normalize import normalize_serial

MATCH_RANK = {"exact": 0, "normalized": 1, "confusable": 2, "wildcard": 3, "fuzzy": 4}


@dataclass
class Candidate:
    component_id: int
    serial: str
    manufacturer: str
    component: str
    match: str  # exact | normalized | confusable | wildcard | fuzzy
    score: float
    why: str


def _filters(manufacturer_norm: str | None, component: str | None) -> tuple[str, list]:
    sql, params = "", []
    if manufacturer_norm:
        sql += " AND p.norm_name = ?"
        params.append(manufacturer_norm)
    if component:
        sql += " AND c.kind = ?"
        params.append(component)
    return sql, params


def find_candidates(
    conn: sqlite3.Connection,
    query: str,
    *,
    manufacturer: str | None = None,
    component: str | None = None,
    limit: int = 20,
) -> list[Candidate]:
    """Exact and normalised matches of ``query`` (index seeks on ``serial_norm``)."""
    manufacturer_norm = None
    if manufacturer:
        from firetrace.registry.parties import normalize_party_name

        manufacturer_norm = normalize_party_name(manufacturer)
    extra, params = _filters(manufacturer_norm, component)
    rows = conn.execute(
        "SELECT c.id, c.serial, p.name, c.kind FROM components c "
        "JOIN parties p ON p.id = c.maker_id WHERE c.serial_norm = ?" + extra,
        [normalize_serial(query), *params],
    ).fetchall()
    out = []
    for cid, serial, maker, kind in rows:
        if serial == query.strip():
            out.append(Candidate(cid, serial, maker, kind, "exact", 1.0, "serial as marked"))
        else:
            out.append(
                Candidate(
                    cid,
                    serial,
                    maker,
                    kind,
                    "normalized",
                    0.99,
                    "equal after case, space and dash folding",
                )
            )
    out.sort(key=lambda c: (MATCH_RANK[c.match], -c.score, c.manufacturer, c.serial))
    return out[:limit]
