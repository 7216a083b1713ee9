"""A firearm's current status, derived from its events and never stored.

The status is the one the latest status-bearing event (by date, then by id for
events on the same day) of the firearm's control component puts it in, leaving
out events that a correction superseded and events of withdrawn batches; the
event-to-status mapping is ``[status]`` in ``rules/registry.toml``. Because it
is computed from the append-only event log, it cannot disagree with it.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.batches import live_event_sql
from firetrace.registry.vocabulary import load_vocabulary

DEFAULT_STATUS = "in_circulation"


def component_status(conn: sqlite3.Connection, component_id: int) -> str:
    """Status from the latest status-bearing event of one component (an index seek)."""
    return status_since(conn, component_id)[0]


def status_since(conn: sqlite3.Connection, component_id: int) -> tuple[str, str | None]:
    """(status, date of the event that set it; None for no status-bearing event)."""
    mapping = load_vocabulary().status_of_event
    events = sorted(mapping)
    # An event superseded by a correction (a later event whose ``corrects`` names
    # it) no longer counts; the correction does. Nor does one of a withdrawn batch.
    row = conn.execute(
        "SELECT event, event_date FROM events e WHERE component_id = ? "
        f"AND event IN ({', '.join('?' * len(events))}) "
        "AND NOT EXISTS (SELECT 1 FROM events x WHERE x.corrects = e.id) "
        f"AND {live_event_sql('e')} "
        "ORDER BY event_date DESC, id DESC LIMIT 1",
        (component_id, *events),
    ).fetchone()
    return (mapping[row[0]], row[1]) if row else (DEFAULT_STATUS, None)


def statuses() -> list[str]:
    """Every status a firearm can be in (the values of ``[status]``)."""
    return sorted(set(load_vocabulary().status_of_event.values()) | {DEFAULT_STATUS})


def events_setting(status: str) -> list[str]:
    """The event kinds that put a firearm in ``status``."""
    return sorted(e for e, s in load_vocabulary().status_of_event.items() if s == status)
