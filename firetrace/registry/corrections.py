"""Corrections to the append-only event history.

An event is never updated or deleted (triggers refuse it). A correction is a new
event on the same component and firearm whose ``corrects`` column names the event
it corrects: its fields are the original's with the corrected ones replaced, and
its notes say which event it corrects and why. Both stay in the history, so a
trace shows what was recorded first and what it was corrected to. The correction
and its audit entry are written in one transaction.

A wrong serial (``correct EVENT_ID --set serial=NEW``) is corrected on the
event's component: its history moves to the new serial with it, and an
append-only ``serial_changes`` row keeps the old one, so a trace finds the
component from either serial and says when and why it changed
(:func:`correct_serial`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from firetrace import audit
from firetrace.errors import InputError, UsageError
from firetrace.registry.parties import normalize_party_name
from firetrace.registry.schema_v9 import insert_event
from firetrace.registry.serial_index import SERIAL_COLUMNS, serial_columns
from firetrace.registry.validate import check_serial, country_codes, load_profile, load_vocabulary
from firetrace.registry.vocabulary import EVENT_FIELDS
from firetrace.sanitize import field_problem

CORRECTABLE = EVENT_FIELDS  # a correction is a new event: only event fields change


@dataclass
class SerialCorrection:
    """A corrected serial: the component now carries ``new_serial``."""

    component_id: int
    old_serial: str
    new_serial: str
    reason: str
    changed_at: str
    shares_serial_with: list[int]  # components of that maker and kind with the new serial

    def to_json(self) -> dict[str, Any]:
        """The correction as the JSON document ``correct --json`` prints."""
        return dict(self.__dict__)

    def summary(self) -> str:
        """One line for the terminal."""
        line = (
            f"component {self.component_id}: serial {self.old_serial} corrected to "
            f"{self.new_serial}; its history moves with it, and a trace of either finds it"
        )
        if self.shares_serial_with:
            others = ", ".join(map(str, self.shares_serial_with))
            line += f" (now shares its serial with component {others}: dupes lists them)"
        return line


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

    def summary(self) -> str:
        """One line for the terminal."""
        changed = ", ".join(f"{k}={v!r}" for k, v in self.changes.items())
        return f"event {self.event_id} corrects event {self.corrects}: {changed}"


def _validate(changes: dict[str, str | None]) -> dict[str, str | None]:

    vocabulary = load_vocabulary()
    clean: dict[str, str | None] = {}
    for name, value in changes.items():
        if name not in CORRECTABLE:
            raise InputError(
                f"cannot be corrected (correctable: {', '.join(CORRECTABLE)}, serial)", field=name
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
    party_id, first = conn.execute(
        "SELECT id, name FROM parties WHERE norm_name = ?", (norm,)
    ).fetchone()
    if name != first:  # party_names: the spellings besides the first (schema 8)
        conn.execute(
            "INSERT OR IGNORE INTO party_names (name, party_id) VALUES (?, ?)", (name, party_id)
        )
    return party_id


def _checked_reason(reason: str | None, event_id: int) -> str:
    """The correction's reason, stripped, once it and the event id are usable."""
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("a correction needs --reason: say what was wrong and on what authority")
    if field_problem(reason):
        raise UsageError(f"--reason: {field_problem(reason)}")
    if not 0 < event_id < 2**63:  # SQLite's integer range: larger ids cannot exist
        raise InputError(f"no event {event_id}", field="EVENT_ID")
    return reason


# What a correction reads of the event it corrects.
_EVENT_SQL = (
    "SELECT e.component_id, e.firearm_id, e.event, e.event_date, p.name, "
    "e.party_licence, e.party_country, e.reference, e.notes "
    "FROM events e LEFT JOIN parties p ON p.id = e.party_id WHERE e.id = ?"
)
_COMPONENT_SQL = (
    "SELECT c.id, c.serial, c.serial_norm, c.serial_fold, c.maker_id, c.kind "
    "FROM events e JOIN components c ON c.id = e.component_id WHERE e.id = ?"
)


@contextmanager
def _correcting(
    conn: sqlite3.Connection, event_id: int, sql: str, operator: str, purpose: str | None
) -> Iterator[tuple[audit.AuditedWrite, tuple]]:
    """The audited write of a correction of event ``event_id``, and the row
    ``sql`` selects for that event; an input error if there is no such event."""
    with audit.audited_write(
        conn, "correct", operator=operator, purpose=purpose, args={"event": event_id}
    ) as write:
        row = conn.execute(sql, (event_id,)).fetchone()
        if row is None:
            raise InputError(f"no event {event_id} in the registry", field="EVENT_ID")
        yield write, row


def correct_event(
    conn: sqlite3.Connection,
    event_id: int,
    changes: dict[str, str | None],
    *,
    reason: str,
    operator: str,
    purpose: str | None,
) -> Correction:
    """Record a correction of event ``event_id``; return the correcting event (or,
    for ``serial``, the corrected serial of its component: :func:`correct_serial`)."""
    if "serial" in changes:
        if len(changes) > 1:
            raise UsageError("correct the serial on its own: one --set serial=NEW per correction")
        return correct_serial(
            conn, event_id, changes["serial"] or "", reason=reason, operator=operator,
            purpose=purpose,
        )  # fmt: skip
    reason = _checked_reason(reason, event_id)
    if not changes:
        raise UsageError("nothing to correct: give at least one --set FIELD=VALUE")
    changes = _validate(changes)

    with _correcting(conn, event_id, _EVENT_SQL, operator, purpose) as (write, row):
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
            new_id = insert_event(
                conn,
                component_id=component_id,
                firearm_id=firearm_id,
                event=fields["event"],
                event_date=fields["event_date"],
                party_id=_party_id(conn, fields["party"]),
                party_licence=fields["party_licence"],
                party_country=fields["party_country"],
                reference=fields["reference"],
                notes=notes,
                corrects=event_id,
                row_key=row_key,
            )
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


def correct_serial(
    conn: sqlite3.Connection,
    event_id: int,
    new_serial: str,
    *,
    reason: str,
    operator: str,
    purpose: str | None,
    profile: str = "iti",
) -> SerialCorrection:
    """Correct the serial of event ``event_id``'s component to ``new_serial``
    (checked against marking ``profile``): the component keeps its id and
    history; ``serial_changes`` keeps the old serial, so both stay traceable."""
    reason = _checked_reason(reason, event_id)
    new_serial = new_serial.strip()
    problem = field_problem(new_serial) if new_serial else "cannot be empty"
    keys = check_serial(new_serial, load_profile(profile)) if not problem else problem
    if isinstance(keys, str):
        raise InputError(keys, field="serial")
    with _correcting(conn, event_id, _COMPONENT_SQL, operator, purpose) as (write, row):
        component_id, old_serial, old_norm, old_fold, maker_id, kind = row
        if keys[0] == old_norm and new_serial == old_serial:
            raise UsageError(f"component {component_id} already has serial {new_serial}")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        conn.execute(
            "INSERT INTO serial_changes (component_id, old_serial, old_norm, old_fold, "
            "new_serial, reason, operator, purpose, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (component_id, old_serial, old_norm, old_fold, new_serial, reason, operator,
             purpose, now),
        )  # fmt: skip
        assignments = ", ".join(f"{c.strip()} = ?" for c in SERIAL_COLUMNS.split(","))
        conn.execute(
            f"UPDATE components SET {assignments} WHERE id = ?",
            (*serial_columns(new_serial), component_id),
        )
        unusual = {ch for ch in keys[1] if not (ch.isascii() and ch.isalnum())}
        conn.executemany(
            "INSERT OR IGNORE INTO serial_characters(ch) VALUES (?)", [(c,) for c in unusual]
        )
        sharing = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM components WHERE serial_fold = ? AND serial_norm = ? "
                "AND maker_id = ? AND kind = ? AND id <> ? ORDER BY id",
                (keys[1], keys[0], maker_id, kind, component_id),
            )
        ]
        write.args.update(changes={"serial": new_serial}, old_serial=old_serial, reason=reason)
        write.record_ids += [f"event:{event_id}", f"component:{component_id}"]
    return SerialCorrection(component_id, old_serial, new_serial, reason, now, sharing)
