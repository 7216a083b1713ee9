"""Tracing a serial: which registry components it may be, the firearm each is
(or was last) part of, that firearm's components over time, its full event
timeline and its derived status.

Candidate search belongs to :func:`firetrace.registry.lookup.find_candidates`
(exact, normalised, confusable, wildcard and fuzzy). This module turns
candidates into the CONTRACT's trace JSON, all of them together with a handful
of set-based queries (a default trace returns up to 20 neighbouring serials),
and records the read in the audit log, since a trace reads personal data
(owners).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache
from typing import Any

from firetrace.audit import check_policy, record_read
from firetrace.errors import UsageError
from firetrace.registry import lookup
from firetrace.registry.batches import withdrawn_batches
from firetrace.registry.filters import component_kind, maker_name
from firetrace.registry.record import add_audit_entry, trace_header
from firetrace.registry.status import component_status
from firetrace.registry.validate import load_profile, profile_names
from firetrace.registry.vocabulary import DESCRIPTION_FIELDS, EVENT_FIELDS
from firetrace.sanitize import field_problem
from firetrace.serials.normalize import normalize_serial

# Candidates described per round of set-based queries: each round binds up to
# about four ids per candidate, and SQLite allows 32,766 parameters a statement.
DESCRIBE_CHUNK = 500

# The description from its row (schema 10): one look-up, not one a column;
# the kind's name from its code (schema 12).
_COMPONENT_SQL = (
    "SELECT c.id, k.name, c.control, c.serial, p.name, "
    + ", ".join(f"d.{name}" for name in DESCRIPTION_FIELDS)
    + " FROM component_rows c JOIN parties p ON p.id = c.maker_id "
    "JOIN component_kinds k ON k.code = c.kind "
    "JOIN descriptions d ON d.id = c.description_id WHERE c.id = ?"
)
_COMPONENT_FIELDS = ("id", "component", "control", "serial", "manufacturer", *DESCRIPTION_FIELDS)


def firearm_of(conn: sqlite3.Connection, component_id: int, control: bool) -> int | None:
    """The firearm a component identifies, or the one it is (else was last) installed in."""
    if control:
        row = conn.execute(
            "SELECT id FROM firearms WHERE control_component_id = ?", (component_id,)
        ).fetchone()
        return row[0] if row else None
    row = conn.execute(
        "SELECT firearm_id FROM assemblies WHERE component_id = ? "
        "ORDER BY removed IS NULL DESC, coalesce(removed, installed) DESC, id DESC LIMIT 1",
        (component_id,),
    ).fetchone()
    if row:
        return row[0]
    row = conn.execute(
        "SELECT firearm_id FROM events WHERE component_id = ? AND firearm_id IS NOT NULL "
        "ORDER BY event_date DESC, id DESC LIMIT 1",
        (component_id,),
    ).fetchone()
    return row[0] if row else None


def describe_match(conn: sqlite3.Connection, candidate) -> dict[str, Any]:
    """One trace match in CONTRACT shape (plus extra fields)."""
    return describe_matches(conn, [candidate])[0]


# --- set-based description: every candidate of a trace in a handful of queries ---


def _marks(values) -> str:
    return ",".join("?" * len(values))


def _components(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    sql = _COMPONENT_SQL.replace("WHERE c.id = ?", f"WHERE c.id IN ({_marks(ids)})")
    out = {}
    for row in conn.execute(sql, ids):
        comp = dict(zip(_COMPONENT_FIELDS, row, strict=True))
        comp["control"] = bool(comp["control"])
        out[comp["id"]] = comp
    return out


def _firearms_of(conn: sqlite3.Connection, comps: list[dict[str, Any]]) -> dict[int, int | None]:
    """:func:`firearm_of` for many components: one query for the control
    components, one for the installed parts (the same order, by window)."""
    found: dict[int, int | None] = {}
    controls = [c["id"] for c in comps if c["control"]]
    parts = [c["id"] for c in comps if not c["control"]]
    if controls:
        found.update(
            (cid, fid)
            for fid, cid in conn.execute(
                "SELECT id, control_component_id FROM firearms "
                f"WHERE control_component_id IN ({_marks(controls)})",
                controls,
            )
        )
    if parts:
        found.update(
            conn.execute(
                "SELECT component_id, firearm_id FROM (SELECT component_id, firearm_id, "
                "row_number() OVER (PARTITION BY component_id ORDER BY removed IS NULL DESC, "
                "coalesce(removed, installed) DESC, id DESC) AS rank FROM assemblies "
                f"WHERE component_id IN ({_marks(parts)})) WHERE rank = 1",
                parts,
            )
        )
        for cid in parts:  # never assembled: the firearm its latest event names (rare)
            if cid not in found:
                found[cid] = firearm_of(conn, cid, False)
    return {c["id"]: found.get(c["id"]) for c in comps}


def shared_serials(conn: sqlite3.Connection, ids: list[int]) -> dict[int, list[int]]:
    """For each component of ``ids`` that shares its maker, kind and serial with
    other components (a duplicated serial: two items), the ids of the others."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT c.id, o.id FROM components c JOIN components o ON o.serial_fold = c.serial_fold "
        "AND o.serial_norm = c.serial_norm AND o.maker_id = c.maker_id AND o.kind = c.kind "
        "AND o.id <> c.id "
        f"WHERE c.id IN ({_marks(ids)})",
        ids,
    )
    out: dict[int, list[int]] = {}
    for cid, other in rows:
        out.setdefault(cid, []).append(other)
    return out


def _serial_history(conn: sqlite3.Connection, ids: list[int]) -> dict[int, list[dict]]:
    """Corrected serials of these components, oldest first (``serial_changes``)."""
    out: dict[int, list[dict]] = {}
    if not ids:
        return out
    for cid, old, new, when, reason, operator in conn.execute(
        "SELECT component_id, old_serial, new_serial, changed_at, reason, operator "
        f"FROM serial_changes WHERE component_id IN ({_marks(ids)}) ORDER BY id",
        ids,
    ):
        out.setdefault(cid, []).append(
            {"serial": old, "corrected_to": new, "corrected_at": when, "reason": reason,
             "by": operator}
        )  # fmt: skip
    return out


def _installations_by(
    conn: sqlite3.Connection, column: str, values: list[int], withdrawn: set[int] = frozenset()
) -> dict[int, list[dict[str, Any]]]:
    """The assemblies of many firearms or components, grouped by ``column``;
    those a withdrawn batch made are left out, and a removal it recorded is undone."""
    grouped: dict[int, list[dict[str, Any]]] = {v: [] for v in values}
    if not values:
        return grouped
    rows = conn.execute(
        f"SELECT {column}, a.firearm_id, a.installed, a.removed, c.kind, c.serial, p.name, "
        "cc.serial, cc.kind, a.component_id, a.batch_id, a.removed_batch_id "
        "FROM assemblies a JOIN components c ON c.id = a.component_id "
        "JOIN parties p ON p.id = c.maker_id "
        "JOIN firearms f ON f.id = a.firearm_id "
        "JOIN components cc ON cc.id = f.control_component_id "
        f"WHERE {column} IN ({_marks(values)}) ORDER BY a.installed, a.id",
        values,
    )
    for (
        key,
        firearm_id,
        installed,
        removed,
        kind,
        serial,
        maker,
        control_serial,
        control_kind,
        component_id,
        made_by,
        removed_by,
    ) in rows:
        if made_by in withdrawn:
            continue
        if removed_by in withdrawn:
            removed = None
        grouped[key].append(
            {
                "component_id": component_id,
                "component": kind,
                "serial": serial,
                "manufacturer": maker,
                "installed": installed,
                "removed": removed,
                "firearm_id": firearm_id,
                "firearm_serial": control_serial,
                "firearm_component": control_kind,
            }
        )
    return grouped


_EVENT_KEYS = (
    "id",
    *EVENT_FIELDS,
    "component",
    "serial",
    "batch_id",
    "line",
    "corrects",
    "corrected_by",
)


def _events_rows(conn: sqlite3.Connection, component_ids: set[int]) -> list[tuple]:
    """Every event of these components, in timeline order, each row led by its
    component and firearm ids (for sharing out among the matches). A firearm's
    events are those of its control component and of the parts installed in it
    that name it."""
    sql = (
        "SELECT e.component_id, e.firearm_id, e.id, e.event, e.event_date, p.name, "
        "e.party_licence, e.party_country, e.reference, e.notes, c.kind, c.serial, e.batch_id, "
        "e.line, e.corrects, (SELECT max(x.id) FROM events x WHERE x.corrects = e.id) "
        "FROM events e JOIN components c ON c.id = e.component_id "
        "LEFT JOIN parties p ON p.id = e.party_id "
        f"WHERE e.component_id IN ({_marks(component_ids)})"
    )
    params: list[Any] = sorted(component_ids)
    return conn.execute(sql + " ORDER BY e.event_date, e.id", params).fetchall()


def match_notes(match: dict[str, Any]) -> list[tuple[str, str]]:
    """The notes a person reads under a match, as (kind, sentence): ``duplicate``
    (its serial is recorded for another physical item too), ``description`` (how it
    agrees with the description given), ``serial`` (each correction of its serial).
    The console and the trace record both print them."""
    notes = []
    if match.get("duplicate_serial"):
        notes.append(("duplicate", match["duplicate_serial"]["note"]))
    if match.get("description"):
        said = ", ".join(f"{name} {verdict}" for name, verdict in match["description"].items())
        notes.append(("description", f"description: {said}"))
    for change in match.get("serial_history", ()):
        notes.append((
            "serial",
            f"serial corrected: recorded as {change['serial']} until "
            f"{change['corrected_at'][:10]} ({change['reason']})",
        ))  # fmt: skip
    return notes


def describe_matches(conn: sqlite3.Connection, candidates: list) -> list[dict[str, Any]]:
    """:func:`describe_match` for every candidate, with set-based queries: one
    each for the components, their firearms, the firearms' controls, the
    installations and the events of them all, instead of several per candidate."""
    if not candidates:
        return []
    if len(candidates) > DESCRIBE_CHUNK:  # keep each IN list well under SQLite's limit
        return [
            match
            for start in range(0, len(candidates), DESCRIBE_CHUNK)
            for match in describe_matches(conn, candidates[start : start + DESCRIBE_CHUNK])
        ]
    comps = _components(conn, sorted({c.component_id for c in candidates}))
    firearm_ids = _firearms_of(conn, list(comps.values()))
    wanted = sorted({f for f in firearm_ids.values() if f is not None})
    withdrawn = withdrawn_batches(conn)
    by_part = _installations_by(
        conn,
        "a.component_id",
        sorted(cid for cid, c in comps.items() if not c["control"]),
        withdrawn,
    )
    # A part's earlier firearms: their events while the part was in them are its
    # custody chain then (who held the gun the barrel was in).
    earlier = sorted(
        {spot["firearm_id"] for spots in by_part.values() for spot in spots} - set(wanted)
    )
    control_of: dict[int, int] = {}
    if wanted or earlier:
        ids = wanted + earlier
        control_of = dict(
            conn.execute(
                f"SELECT id, control_component_id FROM firearms WHERE id IN ({_marks(ids)})",
                ids,
            )
        )
        missing = sorted({control_of[f] for f in wanted} - comps.keys())
        if missing:
            comps.update(_components(conn, missing))
    by_firearm = _installations_by(conn, "a.firearm_id", wanted, withdrawn)
    event_components = set(comps) | {control_of[f] for f in earlier}
    event_components |= {spot["component_id"] for spots in by_firearm.values() for spot in spots}
    events = _events_rows(conn, event_components)
    sharing = shared_serials(conn, sorted({c.component_id for c in candidates}))
    renamed = _serial_history(conn, sorted(comps))

    matches = []
    for candidate in candidates:
        comp = comps[candidate.component_id]
        firearm_id = firearm_ids[comp["id"]]
        match: dict[str, Any] = {
            "serial": comp["serial"],
            "manufacturer": comp["manufacturer"],
            "component": comp["component"],
            "match": candidate.match,
            "score": candidate.score,
            "why": candidate.why,
            "component_id": comp["id"],
            "control": comp["control"],
        }
        if comp["id"] in renamed:
            match["serial_history"] = renamed[comp["id"]]
        others = sharing.get(comp["id"])
        if others:
            match["duplicate_serial"] = {
                "note": f"duplicate serial: {len(others) + 1} {comp['manufacturer']} "
                f"{comp['component']}s are recorded with this serial (components "
                f"{', '.join(map(str, sorted([comp['id'], *others])))})",
                "shared_with": sorted(others),
            }
        own = {comp["id"]}
        firearm = None
        if firearm_id is not None:
            control_id = control_of[firearm_id]
            control = comps[control_id]
            own.add(control_id)
            components = [dict(spot) for spot in by_firearm[firearm_id]]
            firearm = {
                "id": firearm_id,
                "type": control["type"],
                "model": control["model"],
                "calibre": control["calibre"],
                "country_of_manufacture": control["country_of_manufacture"],
                "year_of_manufacture": control["year_of_manufacture"],
                "import_country": control["import_country"],
                "import_year": control["import_year"],
                "manufacturer": control["manufacturer"],
                "control_component": {
                    "component": control["component"],
                    "serial": control["serial"],
                    "manufacturer": control["manufacturer"],
                },
                "components": components,
            }
            match["status"] = component_status(conn, control_id)
            match["installed_now"] = comp["control"] or any(
                c["serial"] == comp["serial"]
                and c["component"] == comp["component"]
                and c["removed"] is None
                for c in components
            )
        else:
            match["status"] = component_status(conn, comp["id"])
        match["firearm"] = firearm
        if not comp["control"]:
            match["installations"] = [dict(spot) for spot in by_part[comp["id"]]]
        windows = [  # the control component's events while this part was installed
            (control_of[spot["firearm_id"]], spot["installed"], spot["removed"])
            for spot in match.get("installations", ())
            if spot["firearm_id"] != firearm_id
        ]
        timeline = [
            dict(zip(_EVENT_KEYS, row[2:], strict=True))
            for row in events
            if row[0] in own
            or (firearm_id is not None and row[1] == firearm_id)
            or any(
                row[0] == control and (installed or "") <= row[4] <= (removed or "9999")
                for control, installed, removed in windows
            )
        ]
        match["events"] = [e for e in timeline if e["batch_id"] not in withdrawn]
        match["withdrawn_events"] = [e for e in timeline if e["batch_id"] in withdrawn]
        own_events = [row for row in events if row[0] == comp["id"]]
        if own_events and all(row[12] in withdrawn for row in own_events):
            match["withdrawn_record"] = True  # only withdrawn batches speak of it
        matches.append(match)
    return matches


def exact_candidates(conn: sqlite3.Connection, query: str, narrow: lookup.Narrowing) -> list:
    """Only exact and normalised matches, all of them: one index seek on ``serial_norm``
    (``narrow``: :func:`firetrace.registry.lookup.narrowing`).

    For a clean reading (``trace --exact``); the full search with look-alike,
    wildcard and fuzzy candidates is :func:`firetrace.registry.lookup.find_candidates`.
    """
    found = []
    rows = lookup._fetch(conn, *lookup.norm_seek([normalize_serial(query)]), narrow, cap=10**9)
    for row in rows:
        if row.serial == query.strip():
            found.append(lookup._candidate(row, "exact", 1.0, "serial as marked"))
        else:
            why = "equal after case, space and dash folding"
            found.append(lookup._candidate(row, "normalized", 0.99, why))
    norm = normalize_serial(query)
    seen = {c.component_id for c in found}
    for former in lookup.former_serial_candidates(conn, query, norm, [norm], narrow):
        if former.component_id not in seen:
            found.append(former)
    lookup.judge_description(found, narrow.description)
    found.sort(key=lookup.rank_key)
    return found


# A query may read this many characters more than the longest serial the marking
# rules allow (a misread character, a stray mark), and hold this many '*' runs.
QUERY_SLACK = 4
MAX_STAR_RUNS = 3


@lru_cache(maxsize=1)
def longest_serial() -> int:
    """The longest serial any marking profile in the rules folder allows."""
    return max(load_profile(name).serial_max for name in profile_names())


def _check_length(query: str, norm: str) -> None:
    """Bound the search before it starts: the fuzzy expansion grows with the
    square of the query's length, and '*' runs multiply the pattern's work."""
    longest = longest_serial()
    readable = len(norm.replace("*", ""))
    if readable > longest + QUERY_SLACK or len(query) > 4 * (longest + QUERY_SLACK):
        raise UsageError(
            f"SERIAL is {max(readable, len(query))} characters long; no serial the marking "
            f"rules allow is longer than {longest}: give the serial as read off the item"
        )
    if len(re.findall(r"\*+", norm)) > MAX_STAR_RUNS:
        raise UsageError(
            f"SERIAL has more than {MAX_STAR_RUNS} '*' runs: keep the characters you can "
            "read and use ? for each one you cannot"
        )


def check_query(query: str, component: str | None) -> str | None:
    """Refuse a query no search could answer, or whose search could not be bounded:
    a serial with no readable character, one longer than any serial can be, too many
    '*' runs, or an unknown component kind. Returns the component kind as the
    registry spells it (trimmed, lower case)."""

    problem = field_problem(query, multiline=False)
    if problem:  # undecodable bytes from the command line, controls, bidi overrides
        raise UsageError(f"SERIAL {problem}")
    _check_length(query, normalize_serial(query))
    if not normalize_serial(query).strip("?*"):
        raise UsageError(
            f"SERIAL {query!r} has no readable character: give at least one "
            "(? stands for one unreadable character, * for a run)"
        )
    if component is None:
        return None

    return component_kind(component)


def trace(
    conn: sqlite3.Connection,
    query: str,
    *,
    manufacturer: str | None = None,
    component: str | None = None,
    description=None,
    limit: int = 20,
    exact: bool = False,
    operator: str = "unknown",
    purpose: str | None = None,
    audit: bool = True,
) -> dict[str, Any]:
    """Trace ``query``; returns ``{"query": ..., "matches": [...]}`` per CONTRACT.

    ``description`` (:func:`firetrace.registry.description.describe`: model,
    calibre, type, country, year) leaves out records that contradict it and ranks
    those confirming it first. ``exact`` limits the search to exact and
    normalised matches. ``more`` says
    how many candidates the limit left out and how many of those fit exactly as
    well as the last match shown (``complete`` False: at least that many). Each trace is
    recorded in the audit log (its own small write transaction) unless ``audit``
    is False (used by the benchmark to measure the log's cost).
    """

    # Fullwidth and compatibility forms are the characters they stand for:
    # 'ＢＫＬＭ１０１' finds BKLM101 (the entry and the JSON keep what was typed).
    searched = unicodedata.normalize("NFKC", query)
    component = check_query(searched, component)
    if manufacturer is not None:
        maker_name(conn, manufacturer)  # a typo is a usage error, not "no record"
    check_policy("trace", purpose)

    if exact:
        narrow = lookup.narrowing(conn, manufacturer, component, description)
        found = exact_candidates(conn, searched, narrow) if narrow else []
        result = lookup.limited(found, limit)
    else:
        result = lookup.search(
            conn,
            searched,
            manufacturer=manufacturer,
            component=component,
            description=description,
            limit=limit,
        )
    header = trace_header(conn, operator=operator, purpose=purpose)
    matches = describe_matches(conn, result.candidates)
    for match, candidate in zip(matches, result.candidates, strict=True):
        if candidate.description is not None:
            match["description"] = candidate.description
    if audit:
        args = {
            "query": query,
            "manufacturer": manufacturer,
            "component": component,
            "limit": limit,
            "exact": exact,
        }
        if description is not None:
            args["description"] = description.as_dict()
        ids = [m["component_id"] for m in matches]
        entry = record_read(
            conn, "trace", operator=operator, purpose=purpose, args=args, record_ids=ids
        )
        add_audit_entry(conn, header, entry)
    more = {"matches": result.more, "tied_with_last": result.more_tied}
    document = {"query": query, "exact": exact, "record": header}
    if description is not None:
        document["description"] = description.as_dict()
    return document | {
        "matches": [m for m in matches if not m.get("withdrawn_record")],
        # Records only withdrawn batches speak of: shown apart, never as matches.
        "withdrawn": [m for m in matches if m.get("withdrawn_record")],
        "more": more | {"complete": result.complete},
    }
