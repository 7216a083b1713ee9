"""Imported batches: listing them, and withdrawing one keyed from the wrong file.

A withdrawal never deletes. It appends a ``withdrawals`` row (which batch, why,
who, when; append-only like events) inside one audited write, and from then on
the batch's events no longer count: not for a firearm's status
(:mod:`.status`), not for its history (trace shows them apart, under
``withdrawn_events`` and, for records nothing else speaks of, ``withdrawn``),
not for ``dupes`` and not as candidates for a later batch's rows
(:mod:`.identity`). Withdrawing a batch twice, or one that does not exist, is a
usage error.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from firetrace.audit import audited_write
from firetrace.errors import UsageError
from firetrace.sanitize import field_problem


@dataclass
class Withdrawal:
    """A recorded withdrawal (``firetrace withdraw``)."""

    batch_id: int
    source: str
    reason: str
    operator: str
    purpose: str | None
    withdrawn_at: str
    events: int  # events that no longer count
    components: int  # components only this batch spoke of (now withdrawn records)

    def to_json(self) -> dict[str, Any]:
        """The withdrawal as ``withdraw --json`` prints it."""
        return asdict(self)


def withdrawn_batches(conn: sqlite3.Connection) -> set[int]:
    """Ids of the withdrawn batches (a small table: read whole)."""
    return {r[0] for r in conn.execute("SELECT batch_id FROM withdrawals")}


def live_event_sql(alias: str = "e") -> str:
    """A condition true for an event that still counts (its batch not withdrawn)."""
    return (
        f"({alias}.batch_id IS NULL OR {alias}.batch_id NOT IN (SELECT batch_id FROM withdrawals))"
    )


def withdrawn_records(
    conn: sqlite3.Connection, batch_ids: Iterable[int] | None = None
) -> list[int]:
    """Sorted ids of the components whose every event is withdrawn: records only
    withdrawn batches speak of. Only the components the events of ``batch_ids``
    (default: every withdrawn batch) touch are looked at."""
    if batch_ids is None:
        batch_ids = sorted(withdrawn_batches(conn))
    touched: set[int] = set()
    for batch in batch_ids:
        where, params = batch_event_ids(conn, batch)
        rows = conn.execute(f"SELECT DISTINCT component_id FROM events WHERE {where}", params)
        touched.update(r[0] for r in rows)
    return [
        cid
        for cid in sorted(touched)
        if not conn.execute(
            f"SELECT 1 FROM events e WHERE e.component_id = ? AND {live_event_sql()} LIMIT 1",
            (cid,),
        ).fetchone()
    ]


def list_batches(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every imported batch, oldest first: id, file, SHA-256, rows, what it added,
    who imported it, when and why, and its withdrawal if any."""
    rows = conn.execute(
        "SELECT b.id, b.source, b.sha256, b.profile, b.operator, b.purpose, b.imported_at, "
        "b.rows, b.counts, w.reason, w.operator, w.purpose, w.withdrawn_at "
        "FROM batches b LEFT JOIN withdrawals w ON w.batch_id = b.id ORDER BY b.id"
    )
    out = []
    for bid, source, sha, profile, operator, purpose, at, count, counts, *withdrawn in rows:
        reason, by, why, when = withdrawn
        out.append(
            {
                "id": bid,
                "source": source,
                "sha256": sha,
                "profile": profile,
                "rows": count,
                "counts": json.loads(counts) if counts else {},
                "operator": operator,
                "purpose": purpose,
                "imported_at": at,
                "withdrawn": None
                if when is None
                else {"reason": reason, "operator": by, "purpose": why, "withdrawn_at": when},
            }
        )
    return out


def batch_event_ids(conn: sqlite3.Connection, batch_id: int) -> tuple[str, list]:
    """A WHERE fragment selecting the events of ``batch_id`` (by its id range when
    the batch recorded one: a seek instead of a scan)."""
    row = conn.execute(
        "SELECT first_event_id, last_event_id FROM batches WHERE id = ?", (batch_id,)
    ).fetchone()
    if row and row[0] is not None:
        return "id BETWEEN ? AND ? AND batch_id = ?", [row[0], row[1], batch_id]
    return "batch_id = ?", [batch_id]


def withdraw_batch(
    conn: sqlite3.Connection,
    batch_id: int,
    *,
    reason: str,
    operator: str,
    purpose: str | None,
) -> Withdrawal:
    """Withdraw batch ``batch_id``: one appended, audited record; nothing deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("withdraw needs --reason: say what was wrong with the batch")
    problem = field_problem(reason)  # validated as a batch's notes are
    if problem:
        raise UsageError(f"--reason: {problem}")
    with audited_write(
        conn,
        "withdraw",
        operator=operator,
        purpose=purpose,
        args={"batch": batch_id, "reason": reason},
        record_ids=[f"batch:{batch_id}"],
    ) as write:
        batch = conn.execute("SELECT source FROM batches WHERE id = ?", (batch_id,)).fetchone()
        if batch is None:
            raise UsageError(
                f"BATCH: no batch {batch_id} in the registry (firetrace batches lists them)"
            )
        done = conn.execute(
            "SELECT withdrawn_at, operator FROM withdrawals WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if done:
            raise UsageError(
                f"BATCH: batch {batch_id} was already withdrawn on {done[0]} by {done[1]}"
            )
        now = datetime.now(UTC).isoformat(timespec="seconds")
        conn.execute(
            "INSERT INTO withdrawals (batch_id, reason, operator, purpose, withdrawn_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (batch_id, reason, operator, purpose, now),
        )
        where, params = batch_event_ids(conn, batch_id)
        (events,) = conn.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchone()
        components = len(withdrawn_records(conn, [batch_id]))
        write.args["events"] = events
    return Withdrawal(batch_id, batch[0], reason, operator, purpose, now, events, components)
