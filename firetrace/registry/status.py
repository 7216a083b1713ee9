"""A firearm's current status, derived from its events and never stored.

The status is the one the latest status-bearing event (by date, then by id for
events on the same day) of the firearm's control component puts it in, leaving
out events that a correction superseded; the
event-to-status mapping is ``[status]`` in ``rules/registry.toml``. Because it
is computed from the append-only event log, it cannot disagree with it.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.vocabulary import load_vocabulary

DEFAULT_STATUS = "in_circulation"


def component_status(conn: sqlite3.Connection, component_id: int) -> str:
    """Status from the latest status-bearing event of one component (an index seek)."""
    mapping = load_vocabulary().status_of_event
    events = sorted(mapping)
    # An event superseded by a correction (a later event whose ``corrects`` names
    # it) no longer counts; the correction does.
    row = conn.execute(
        "SELECT event FROM events e WHERE component_id = ? "
        f"AND event IN ({', '.join('?' * len(events))}) "
        "AND NOT EXISTS (SELECT 1 FROM events x WHERE x.corrects = e.id) "
        "ORDER BY event_date DESC, id DESC LIMIT 1",
        (component_id, *events),
    ).fetchone()
    return mapping[row[0]] if row else DEFAULT_STATUS
