"""Corrections to the append-only event history.

An event is never updated or deleted (triggers refuse it). A correction is a new
event on the same component and firearm whose ``corrects`` column names the event
it corrects: its fields are the original's with the corrected ones replaced, and
its notes say which event it corrects and why. Both stay in the history, so a
trace shows what was recorded first and what it was corrected to. The correction
and its audit entry are written in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from firetrace import audit
from firetrace.errors import InputError, UsageError
from firetrace.registry.parties import normalize_party_name
from firetrace.registry.validate import country_codes, load_vocabulary
from firetrace.registry.vocabulary import EVENT_FIELDS
from firetrace.sanitize import field_problem

CORRECTABLE = EVENT_FIELDS  # a correction is a new event: only event fields change


@dataclass
class Correction:
    event_id: int  # the new, correcting event
    corrects: int  # the event it corrects
    component_id: int
    changes: dict[str, str | None]
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The correction as the JSON document ``correct --json`` prints."""
        return dict(self.__dict__)


def _validate(changes: dict[str, str | None]) -> dict[str, str | None]:

    vocabulary = load_vocabulary()
    clean: dict[str, str | None] = {}
    for name, value in changes.items():
        if name not in CORRECTABLE:
            raise InputError(
                f"cannot be corrected (correctable: {', '.join(CORRECTABLE)})", field=name
            )
        value = value.strip() if value is not None else None
        value = value or None
        problem = field_problem(value) if value is not None else None
        if problem:
            raise InputError(problem, field=name)
        limit = vocabulary.max_length_notes if name == "notes" else vocabulary.max_length
        if value is not None and len(value) > limit:
            raise InputError(f"longer than {limit} characters", field=name)
        if name in ("event", "event_date") and value is None:
            raise InputError("cannot be empty", field=name)
        if name == "event" and value not in vocabulary.events:
            raise InputError(
                f"'{value}' is not an event ({', '.join(sorted(vocabulary.events))})", field=name
            )
        if name == "event_date":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise InputError(f"'{value}' is not an ISO date", field=name) from None
            if day > date.today() or day.year < vocabulary.earliest_year:
                raise InputError(f"{value} is in the future or implausibly old", field=name)
            value = day.isoformat()
        if name == "party_country" and value is not None:
            value = value.upper()
            if value not in country_codes():
                raise InputError(f"'{value}' is not an ISO 3166 country code", field=name)
        clean[name] = value
    return clean


def _party_id(conn: sqlite3.Connection, name: str | None) -> int | None:
    if name is None:
        return None

    norm = normalize_party_name(name)
    conn.execute("INSERT OR IGNORE INTO parties (norm_name, name) VALUES (?, ?)", (norm, name))
    party_id = conn.execute("SELECT id FROM parties WHERE norm_name = ?", (norm,)).fetchone()[0]
    conn.execute(
        "INSERT OR IGNORE INTO party_names (name, party_id) VALUES (?, ?)", (name, party_id)
    )
    return party_id


def correct_event(
    conn: sqlite3.Connection,
    event_id: int,
    changes: dict[str, str | None],
    *,
    reason: str,
    operator: str,
    purpose: str | None,
) -> Correction:
    """Record a correction of event ``event_id``; return the correcting event."""

    if not (reason and reason.strip()):
        raise UsageError("a correction needs --reason: say what was wrong and on what authority")
    if field_problem(reason):
        raise UsageError(f"--reason: {field_problem(reason)}")
    if not 0 < event_id < 2**63:  # SQLite's integer range: larger ids cannot exist
        raise InputError(f"no event {event_id}", field="EVENT_ID")
    if not changes:
        raise UsageError("nothing to correct: give at least one --set FIELD=VALUE")
    changes = _validate(changes)
    reason = reason.strip()

    with audit.audited_write(
        conn, "correct", operator=operator, purpose=purpose, args={"event": event_id}
    ) as write:
        row = conn.execute(
            "SELECT e.component_id, e.firearm_id, e.event, e.event_date, p.name, "
            "e.party_licence, e.party_country, e.reference, e.notes "
            "FROM events e LEFT JOIN parties p ON p.id = e.party_id WHERE e.id = ?",
            (event_id,),
        ).fetchone()
        if row is None:
            raise InputError(f"no event {event_id} in the registry", field="EVENT_ID")
        component_id, firearm_id = row[0], row[1]
        original = dict(zip(CORRECTABLE, row[2:], strict=True))
        changed = {k: v for k, v in changes.items() if original[k] != v}
        if not changed:
            raise UsageError(f"event {event_id} already has those values: nothing to correct")
        fields = {**original, **changed}
        note = f"corrects event {event_id}: {reason}"
        notes = f"{note}; {fields['notes']}" if fields["notes"] else note
        # Same correction of the same event twice is one correction (re-run safe).
        row_key = hashlib.sha256(
            json.dumps(["correction", event_id, changed, reason], sort_keys=True).encode()
        ).digest()
        try:
            new_id = conn.execute(
                "INSERT INTO events (component_id, firearm_id, event, event_date, party_id, "
                "party_licence, party_country, reference, notes, corrects, row_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    component_id,
                    firearm_id,
                    fields["event"],
                    fields["event_date"],
                    _party_id(conn, fields["party"]),
                    fields["party_licence"],
                    fields["party_country"],
                    fields["reference"],
                    notes,
                    event_id,
                    row_key,
                ),
            ).lastrowid
        except sqlite3.IntegrityError:
            raise UsageError(
                f"event {event_id} was already corrected this way with this reason"
            ) from None
        write.args.update(changes=changed, reason=reason)
        write.record_ids += [f"event:{event_id}", f"event:{new_id}", f"component:{component_id}"]
    return Correction(new_id, event_id, component_id, changed, reason)


def corrections_of(conn: sqlite3.Connection, event_id: int) -> list[int]:
    """Ids of the events that correct ``event_id``, oldest first."""
    return [
        r[0]
        for r in conn.execute("SELECT id FROM events WHERE corrects = ? ORDER BY id", (event_id,))
    ]
