"""Hash-chained audit log of every read of personal data and every write.

Each entry stores time, operator, purpose, command, a digest of its arguments,
the affected record ids, the previous entry's hash and its own hash. With
``FIRETRACE_AUDIT_KEY`` set the hash is an HMAC-SHA-256 under that key, so a
person who can edit the database file still cannot rebuild a valid chain.
This module owns the one audited-write helper (:func:`audited_write`: policy,
write lock, change, entry, commit), writing entries (:func:`append_entry`),
checking the chain (:func:`verify`, which names the first altered, removed or reordered entry),
the chain's head (:func:`head`, for a case file; ``verify(expected_head=...)``
then detects a truncated log), log queries (:func:`query_log`) and the purpose
policy (:func:`check_policy`).

Every change (and every read of personal data) goes through
:func:`audited_write`, so the entry and the change land together or not at all,
and a busy registry always gives the same message (:func:`busy_error`).

Reads of personal data go to the read log beside the registry
(:mod:`firetrace.readlog`, same chain rules), so they never wait for a batch
import. A write entry also ``attests`` the row seals of what it changed
(:mod:`firetrace.rowseals`) and the read log's head; ``attests`` is covered by
the entry's hash. A wrong ``FIRETRACE_AUDIT_KEY`` is refused before any write
(:func:`check_key`): an entry under the wrong key would break the chain for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from firetrace import (  # readlog imports this module: attributes only
    paths,
    readlog,
    rowseals,
    sanitize,
)
from firetrace.errors import FiretraceError, InputError, UsageError
from firetrace.inputs import read_toml

GENESIS = "0" * 64
HASHED_FIELDS = ("ts", "operator", "purpose", "command", "args_digest", "record_ids")
# Hashed too when present (entries written before it existed hash as they did).
OPTIONAL_HASHED_FIELDS = ("attests",)
_COLUMNS = (
    "id, ts, operator, purpose, command, args_digest, record_ids, prev_hash, hash, keyed, attests"
)
_MAX_PROBLEMS = 100
_UNSET: Any = object()


def _key() -> bytes | None:
    """The HMAC key: ``FIRETRACE_AUDIT_KEY``, else the file ``FIRETRACE_AUDIT_KEY_FILE``
    names (a file readable only by the service keeps the key out of process listings)."""
    key = os.environ.get("FIRETRACE_AUDIT_KEY")
    if key:
        return key.encode()
    key_file = os.environ.get("FIRETRACE_AUDIT_KEY_FILE")
    if not key_file:
        return None
    try:
        data = Path(key_file).read_bytes().strip()
    except OSError as exc:
        raise InputError(f"cannot read the audit key file: {exc.strerror}", path=key_file) from None
    if not data:
        raise InputError("the audit key file is empty", path=key_file)
    return data


def args_digest(args: Any) -> str:
    """SHA-256 of the canonical JSON of a command's arguments."""
    blob = json.dumps(args, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def entry_hash(fields: dict[str, Any], prev_hash: str, key: bytes | None) -> str:
    """The hash of one entry: its fields in canonical JSON chained to ``prev_hash``."""
    hashed = {k: fields[k] for k in HASHED_FIELDS}
    hashed |= {k: fields[k] for k in OPTIONAL_HASHED_FIELDS if fields.get(k) is not None}
    payload = (
        json.dumps(hashed, sort_keys=True, separators=(",", ":")).encode()
        + b"|"
        + prev_hash.encode()
    )
    if key:
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()


def busy_error(exc: sqlite3.OperationalError) -> FiretraceError:
    """The one message for a registry another writer holds past the busy timeout."""
    return FiretraceError(
        f"the registry is busy ({exc}): another writer held it past the busy timeout; try again"
    )


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite failed because another connection holds the lock."""
    return "locked" in str(exc) or "busy" in str(exc)


def begin_write(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``: take the write lock now (waiting up to the busy timeout).

    Failing to get it is an expected failure with a clear message, not a traceback.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise busy_error(exc) from exc
    try:
        rowseals.track_changes(conn)  # the rows this write changes get sealed with its entry
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextmanager
def write_lock(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: ``BEGIN IMMEDIATE`` (see :func:`begin_write`), the
    body, ``COMMIT``; ``ROLLBACK`` on any exception. A body that rolled back
    itself is left as it is."""
    begin_write(conn)
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if conn.in_transaction:
        conn.execute("COMMIT")


@dataclass
class AuditedWrite:
    """The open transaction of :func:`audited_write`: what its entry will record.

    The body adds what it learns (``record_ids``, ``args``) or calls
    :meth:`discard` to roll back and record nothing (a dry run, a rejected batch).
    """

    conn: sqlite3.Connection
    args: dict[str, Any]
    record_ids: list[Any]
    discarded: bool = False

    def discard(self) -> None:
        """Roll back at the end instead of recording and committing."""
        self.discarded = True


@contextmanager
def audited_write(
    conn: sqlite3.Connection,
    command: str,
    *,
    operator: str,
    purpose: str | None,
    args: dict[str, Any] | None = None,
    record_ids: Iterable[Any] = (),
    record: bool = True,
) -> Iterator[AuditedWrite]:
    """One audited change of the registry, all or nothing.

    Checks the purpose policy, takes the write lock (a busy registry is a clear
    error), runs the body, appends one audit entry (operator, purpose, command,
    ``args``, ``record_ids``) and commits, so the change and its entry land
    together; any exception, or :meth:`AuditedWrite.discard`, rolls back. With
    ``record`` false (benchmarks) the change is made without an entry.
    A read of personal data is an audited write whose body changes nothing.
    """
    check_policy(command, purpose)
    write = AuditedWrite(conn, dict(args or {}), list(record_ids))
    with write_lock(conn):
        yield write
        if write.discarded:
            conn.execute("ROLLBACK")
        elif record:
            append_in_transaction(
                conn,
                operator=operator,
                purpose=purpose,
                command=command,
                args=write.args,
                record_ids=write.record_ids,
            )


MAX_OPERATOR = 200
MAX_PURPOSE = 1000


def check_who(operator: str, purpose: str | None) -> None:
    """Refuse an operator or purpose that cannot go into the log as it is: too
    long, or holding control or bidi characters (they would reach the terminal
    of whoever reads the log). Validated like a batch field, but on one line."""
    for option, value, limit in (
        ("--operator", operator, MAX_OPERATOR),
        ("--purpose", purpose, MAX_PURPOSE),
    ):
        if value is None:
            continue
        problem = sanitize.field_problem(value, multiline=False)
        if problem is None and len(value) > limit:
            problem = f"{len(value)} characters (at most {limit})"
        if problem:
            raise UsageError(f"{option}: {problem}")


def _keyed_log_error() -> FiretraceError:
    # An unkeyed entry after keyed ones would read as a downgrade attack later.
    return FiretraceError(
        "this registry's audit log is keyed (HMAC): set FIRETRACE_AUDIT_KEY to write to it"
    )


def ensure_can_append(conn: sqlite3.Connection) -> None:
    """Fail early, before any work, when :func:`append_entry` would refuse."""
    check_key(conn)


def _fields(row: tuple) -> dict[str, Any]:
    """The hashed fields of an entry read with :data:`_COLUMNS`."""
    names = ("ts", "operator", "purpose", "command", "args_digest", "record_ids")
    return dict(zip(names, row[1:7], strict=True)) | {"attests": row[10]}


def _last_entry(conn: sqlite3.Connection) -> tuple | None:
    return conn.execute(f"SELECT {_columns(conn)} FROM audit ORDER BY id DESC LIMIT 1").fetchone()


def check_key(conn: sqlite3.Connection, last: tuple | None = _UNSET) -> None:
    """Refuse to write when the key does not fit the log: none given for a keyed
    log, or one that does not verify the newest keyed entry (a wrong key)."""
    if last is _UNSET:
        last = _last_entry(conn)
    if last is None or not last[9]:
        return
    key = _key()
    if not key:
        raise _keyed_log_error()
    if not hmac.compare_digest(entry_hash(_fields(last), last[7], key), last[8]):
        raise FiretraceError(
            f"FIRETRACE_AUDIT_KEY is not this audit log's key: it does not verify the newest "
            f"entry ({last[0]}, {last[4]}); nothing was written (an entry under a wrong key "
            "would break the chain for good)"
        )


def record_read(
    conn: sqlite3.Connection,
    command: str,
    *,
    operator: str,
    purpose: str | None,
    args: dict[str, Any],
    record_ids: Iterable[Any],
) -> str:
    """Audit a read of personal data (``trace``, ``dupes``): one entry naming the
    records the reader saw, in the read log beside the registry (it never waits
    for a batch import; see :mod:`firetrace.readlog`). Returns the entry's hash
    (a trace record names it)."""
    check_policy(command, purpose)
    return readlog.append_read(
        conn, command, operator=operator, purpose=purpose, args=args, record_ids=record_ids
    )


def append_entry(conn, **entry: Any) -> str:
    """Append one entry through ``conn`` (a sqlite3 connection); return its hash.

    ``entry`` is the keywords of :func:`append_in_transaction` (``operator``,
    ``purpose``, ``command``, ``args``, ``record_ids``, ``ts``). Inside a caller's
    transaction the caller must hold the write lock (``BEGIN IMMEDIATE``), so that
    no other writer can chain to the same predecessor. Outside a transaction the
    entry is written in its own ``BEGIN IMMEDIATE`` transaction. Code that changes
    the registry uses :func:`audited_write` instead.
    """
    if conn.in_transaction:
        return append_in_transaction(conn, **entry)
    with write_lock(conn):
        return append_in_transaction(conn, **entry)


def append_in_transaction(
    conn,
    *,
    operator: str,
    purpose: str | None,
    command: str,
    args: Any,
    record_ids: Iterable[Any] = (),
    ts: str | None = None,
    attests: dict[str, Any] | None = None,
) -> str:
    """Append one entry inside the caller's write transaction; return its hash.

    In the registry's log the entry also attests the seals of every row the
    transaction changed and the read log's head (``attests``, hashed with it).
    """
    check_who(operator, purpose)
    last = _last_entry(conn)
    check_key(conn, last)
    prev = last[8] if last else GENESIS
    entry_id = (last[0] if last else 0) + 1
    attests = dict(attests or {})
    sealed = rowseals.seal_changes(conn, entry_id)
    if sealed:
        attests["seal"] = sealed
    reads = readlog.anchor_for(conn)
    if reads:
        attests["reads"] = reads
    key = _key()
    fields = {
        "ts": ts or datetime.now(UTC).isoformat(timespec="microseconds"),
        "operator": operator,
        "purpose": purpose,
        "command": command,
        "args_digest": args_digest(args),
        "record_ids": json.dumps(list(record_ids), default=str, separators=(",", ":")),
        "attests": json.dumps(attests, sort_keys=True, separators=(",", ":")) if attests else None,
    }
    digest = entry_hash(fields, prev, key)
    conn.execute(
        "INSERT INTO audit (id, ts, operator, purpose, command, args_digest, record_ids, "
        "attests, prev_hash, hash, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, *fields.values(), prev, digest, 1 if key else 0),
    )
    return digest


def _columns(conn: sqlite3.Connection) -> str:
    """:data:`_COLUMNS`, with NULL for ``attests`` in a log from before it existed."""
    names = {row[1] for row in conn.execute("PRAGMA table_info(audit)")}
    return _COLUMNS if "attests" in names else _COLUMNS.replace("attests", "NULL AS attests")


# --- the head -------------------------------------------------------------------


@dataclass
class Head:
    """The newest entry: what a case file records to detect a truncated log later."""

    id: int
    hash: str
    ts: str | None
    keyed: bool
    entries: int


def head(conn: sqlite3.Connection) -> Head:
    """The current head of the chain (``GENESIS`` and id 0 for an empty log)."""
    row = conn.execute("SELECT id, hash, ts, keyed FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    count = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    if row is None:
        return Head(0, GENESIS, None, False, 0)
    return Head(row[0], row[1], row[2], bool(row[3]), count)


def seal(conn: sqlite3.Connection, *, operator: str, purpose: str | None) -> str:
    """Append a keyed entry that adopts an older unkeyed chain; needs the key."""
    if not _key():
        raise UsageError("set FIRETRACE_AUDIT_KEY to seal the audit log under a key")
    current = head(conn)
    digest = append_entry(
        conn,
        operator=operator,
        purpose=purpose,
        command="audit.seal",
        args={"head": current.hash, "entries": current.entries},
    )
    # The read log's unkeyed entries are adopted the same way (a keyed entry after them).
    readlog.append_read(
        conn, "audit.seal", operator=operator, purpose=purpose, args={}, record_ids=[]
    )
    return digest


# --- verification ---------------------------------------------------------------


@dataclass
class Problem:
    """One finding of :func:`verify`: which entry, what kind, and a sentence."""

    entry_id: int
    kind: str  # altered | removed | reordered | rewritten | unkeyed | unverifiable | truncated
    message: str
    log: str = "main"  # main (the registry's log) | reads (the read log) | rows (row seals)


@dataclass
class VerifyResult:
    entries: int
    keyed_entries: int
    key_set: bool
    head: Head
    problems: list[Problem] = field(default_factory=list)
    expected_head_id: int | None = None
    read_entries: int = 0  # in the read log (see integrity.verify_history)
    read_head: Head | None = None
    rows_checked: bool = False  # row seals were checked too
    notes: list[str] = field(default_factory=list)  # worth knowing, not a problem

    @property
    def ok(self) -> bool:
        """Whether the chain verified with no problem."""
        return not self.problems

    def ordered_problems(self) -> list[Problem]:
        """The registry log's problems, then the read log's, then the rows', each by entry."""
        order = {"main": 0, "reads": 1, "rows": 2}
        return sorted(self.problems, key=lambda p: (order.get(p.log, 3), p.entry_id))

    @property
    def first_problem(self) -> Problem | None:
        """The first problem: the registry log's lowest entry first, then the read log's."""
        return self.ordered_problems()[0] if self.problems else None

    def to_json(self) -> dict[str, Any]:
        """The result as the JSON document ``audit verify --json`` prints."""
        first = self.first_problem
        return {
            "ok": self.ok,
            "entries": self.entries,
            "keyed_entries": self.keyed_entries,
            "key_set": self.key_set,
            "head": asdict(self.head),
            "expected_head_id": self.expected_head_id,
            "first_bad_entry": first.entry_id if first else None,
            "first_bad_log": first.log if first else None,
            "read_entries": self.read_entries,
            "read_head": asdict(self.read_head) if self.read_head else None,
            "rows_checked": self.rows_checked,
            "notes": self.notes,
            "problems": [asdict(p) for p in self.ordered_problems()],
        }


def _rows(conn: sqlite3.Connection) -> Iterator[tuple]:
    yield from conn.execute(f"SELECT {_columns(conn)} FROM audit ORDER BY id")


def _id_with_hash(conn: sqlite3.Connection, digest: str) -> int | None:
    row = conn.execute("SELECT id FROM audit WHERE hash = ? LIMIT 1", (digest,)).fetchone()
    return row[0] if row else None


def verify(
    conn: sqlite3.Connection, *, key: bytes | None = _UNSET, expected_head: str | None = None
) -> VerifyResult:
    """Walk the chain; report every altered, removed, reordered or unverifiable entry.

    ``key`` defaults to ``FIRETRACE_AUDIT_KEY``. With a key, every keyed entry is
    checked under it, and unkeyed entries are accepted only as a prefix that a keyed
    entry later seals (a chain rebuilt without the key has none). Without a key,
    keyed entries cannot be checked and the result is not ok. ``expected_head`` (a
    hash printed earlier by :func:`head`, or a unique prefix of at least 12 hex
    digits) must still be in the chain: otherwise the log was truncated.
    """
    if key is _UNSET:
        key = _key()
    if expected_head is not None:
        expected_head = expected_head.strip().lower()
        if len(expected_head) < 12 or any(c not in "0123456789abcdef" for c in expected_head):
            raise InputError(
                "expected head must be a hash printed by 'firetrace audit head' "
                "(at least 12 hex digits)",
                field="--head",
            )

    problems: list[Problem] = []

    def report(entry_id: int, kind: str, message: str, *, summary: bool = False) -> None:
        # Per-entry findings are capped (a wrong key fails every entry); summaries never.
        if summary or len(problems) < _MAX_PROBLEMS:
            problems.append(Problem(entry_id, kind, message))

    prev_id, prev_hash = 0, GENESIS
    entries = keyed_entries = keyed_failures = 0
    first_keyed_id: int | None = None
    unverifiable = 0  # keyed entries that cannot be checked without the key
    head_found_at: int | None = 0 if expected_head and GENESIS.startswith(expected_head) else None
    last_row = None
    for row in _rows(conn):
        entry_id, ts, operator, purpose, command, digest_args, record_ids = row[:7]
        stored_prev, stored_hash, keyed = row[7], row[8], bool(row[9])
        entries += 1
        gap = entry_id != prev_id + 1
        if gap:
            missing = (
                f"entry {prev_id + 1} is"
                if entry_id == prev_id + 2
                else f"entries {prev_id + 1}..{entry_id - 1} are"
            )
            report(prev_id + 1, "removed", f"{missing} missing (deleted from the log)")

        fields = _fields(row)
        self_consistent = True
        if keyed:
            keyed_entries += 1
            if first_keyed_id is None:
                first_keyed_id = entry_id
            if key is None:
                unverifiable += 1
            elif not hmac.compare_digest(entry_hash(fields, stored_prev, key), stored_hash):
                self_consistent = False
                keyed_failures += 1
                report(
                    entry_id,
                    "altered",
                    f"entry {entry_id} ({command}, {ts}): its content does not match its "
                    "HMAC (altered, or FIRETRACE_AUDIT_KEY is not the key it was written with)",
                )
        else:
            if entry_hash(fields, stored_prev, None) != stored_hash:
                self_consistent = False
                report(
                    entry_id,
                    "altered",
                    f"entry {entry_id} ({command}, {ts}): its content does not match its hash "
                    "(altered)",
                )
            if key is not None and first_keyed_id is not None:
                report(
                    entry_id,
                    "unkeyed",
                    f"entry {entry_id} is not keyed although entry {first_keyed_id} before it "
                    "is: written or rebuilt without FIRETRACE_AUDIT_KEY",
                )

        # An entry that fails its own hash is already named; its link says nothing more.
        if stored_prev != prev_hash and not gap and self_consistent:
            target = _id_with_hash(conn, stored_prev)
            if target is not None and target != entry_id:
                report(
                    entry_id,
                    "reordered",
                    f"entry {entry_id} is out of order: it chains to entry {target}, "
                    f"not to entry {prev_id}",
                )
            elif prev_id == 0:
                report(
                    entry_id,
                    "removed",
                    f"entry {entry_id} is the first entry but chains to a predecessor that is "
                    "gone: earlier entries were removed",
                )
            else:
                report(
                    prev_id,
                    "rewritten",
                    f"entry {prev_id} was rewritten or replaced: entry {entry_id} chains to a "
                    "different predecessor",
                )
        if expected_head and head_found_at is None and stored_hash.startswith(expected_head):
            head_found_at = entry_id
        prev_id, prev_hash, last_row = entry_id, stored_hash, row

    current = (
        Head(last_row[0], last_row[8], last_row[1], bool(last_row[9]), entries)
        if last_row
        else Head(0, GENESIS, None, False, 0)
    )
    if key is not None and keyed_entries > 1 and keyed_failures == keyed_entries:
        report(
            first_keyed_id,
            "altered",
            f"every one of the {keyed_entries} keyed entries fails its HMAC: "
            "FIRETRACE_AUDIT_KEY is most likely not the key this log was written with",
            summary=True,
        )
    if unverifiable:
        report(
            first_keyed_id,
            "unverifiable",
            f"{unverifiable} entries from entry {first_keyed_id} on are keyed (HMAC) and "
            "cannot be verified: set FIRETRACE_AUDIT_KEY",
            summary=True,
        )
    if key is not None and entries and first_keyed_id is None:
        report(
            1 if current.id else 0,
            "unkeyed",
            f"none of the {entries} entries is keyed although FIRETRACE_AUDIT_KEY is set: the "
            "chain was rebuilt without the key, or written before it was set (if so, "
            "'firetrace audit seal' adopts it)",
            summary=True,
        )
    if expected_head and head_found_at is None:
        report(
            current.id + 1,
            "truncated",
            f"the expected head {expected_head[:16]}... is not in the log: entries after "
            f"entry {current.id} were removed or the log was rewritten",
            summary=True,
        )
    return VerifyResult(
        entries=entries,
        keyed_entries=keyed_entries,
        key_set=key is not None,
        head=current,
        problems=problems,
        expected_head_id=head_found_at,
    )


# --- queries --------------------------------------------------------------------


def _bound(text: str, *, upper: bool, name: str) -> str:
    """An ISO date or date-time as a UTC timestamp string comparable with ``ts``."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if upper:  # --until 2026-01-31 includes the whole day
                moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise InputError(
            f"'{text}' is not an ISO date or date-time (e.g. 2026-01-31)", field=name
        ) from None
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _match(column: str, value: str) -> tuple[str, list]:
    if any(c in value for c in "*?["):
        return f" AND {column} GLOB ?", [value]
    return f" AND {column} = ?", [value]


def query_log(
    conn: sqlite3.Connection,
    *,
    operator: str | None = None,
    purpose: str | None = None,
    command: str | None = None,
    since: str | None = None,
    until: str | None = None,
    record_id: str | int | None = None,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[dict[str, Any]]:
    """Audit entries matching every filter given, from the registry's log and the
    read log together, in time order; each says which ``log`` it is from.

    ``operator``, ``purpose`` and ``command`` match exactly, or as a glob when they
    contain ``*``, ``?`` or ``[``. ``since``/``until`` are ISO dates (inclusive) or
    date-times. ``record_id`` keeps entries whose affected ids include it.
    """
    filters = dict(operator=operator, purpose=purpose, command=command, since=since)
    filters |= dict(until=until, record_id=record_id, limit=limit, newest_first=newest_first)
    entries = _query_one(conn, "main", **filters)
    path = None if readlog.is_read_log(conn) else readlog.read_log_for(conn)
    reads = readlog.open_read_log(path, create=False) if path else None
    if reads is not None:
        try:
            entries += _query_one(reads, "reads", **filters)
        finally:
            reads.close()
        entries.sort(key=lambda e: (e["ts"], e["log"] == "main", e["id"]), reverse=newest_first)
    return entries[:limit] if limit is not None else entries


def _query_one(
    conn: sqlite3.Connection,
    log: str,
    *,
    operator,
    purpose,
    command,
    since,
    until,
    record_id,
    limit,
    newest_first,
) -> list[dict[str, Any]]:
    sql, params = f"SELECT {_columns(conn)} FROM audit WHERE 1=1", []
    for column, value in (("operator", operator), ("purpose", purpose), ("command", command)):
        if value is not None:
            clause, extra = _match(column, value)
            sql += clause
            params += extra
    if since:
        sql += " AND ts >= ?"
        params.append(_bound(since, upper=False, name="--since"))
    if until:
        sql += " AND ts < ?" if len(until.strip()) == 10 else " AND ts <= ?"
        params.append(_bound(until, upper=True, name="--until"))
    if record_id is not None:
        sql += (
            " AND EXISTS (SELECT 1 FROM json_each(audit.record_ids) WHERE CAST(value AS TEXT) = ?)"
        )
        params.append(str(record_id))
    sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    names = [c.strip() for c in _COLUMNS.split(",")]
    entries = []
    for row in conn.execute(sql, params):
        entry = dict(zip(names, row, strict=True))
        entry["keyed"] = bool(entry["keyed"])
        entry["record_ids"] = json.loads(entry["record_ids"])
        entry["attests"] = json.loads(entry["attests"]) if entry["attests"] else None
        entry["log"] = log
        entries.append(entry)
    return entries


# --- policy ---------------------------------------------------------------------


def default_policy_path() -> Path:
    """The policy file :func:`firetrace.paths.policy_path` names (``FIRETRACE_POLICY``,
    else the config file, else the bundled ``rules/policy.toml``)."""
    return paths.policy_path()


def load_policy(path: str | Path | None = None) -> dict[str, Any]:
    """The purpose policy as a dict; a missing or malformed file is an input error."""

    path = Path(path) if path else default_policy_path()
    try:
        return read_toml(path, "policy file")
    except OSError as exc:
        raise InputError(f"cannot read the policy file: {exc.strerror}", path=str(path)) from None


def check_policy(command: str, purpose: str | None, policy_path=None) -> None:
    """Refuse ``command`` without a purpose when the policy requires one.

    The policy is ``rules/policy.toml`` (or ``FIRETRACE_POLICY``). ``[purpose]
    required_for`` lists commands that need ``--purpose``; an optional ``pattern``
    (a regular expression) is the form every purpose must take, e.g. a case number.
    """

    path = Path(policy_path) if policy_path else default_policy_path()
    rules = load_policy(path).get("purpose", {})
    required = rules.get("required_for", [])
    given = bool(purpose and purpose.strip())
    if command in required and not given:
        raise UsageError(
            f"policy ({path.name}) requires --purpose for '{command}': give a case or "
            "request reference"
        )
    pattern = rules.get("pattern")
    if given and pattern and command in required and not re.fullmatch(pattern, purpose.strip()):
        hint = rules.get("pattern_hint") or f"the form {pattern}"
        raise UsageError(
            f"policy ({path.name}): --purpose '{purpose}' for '{command}' must be {hint}"
        )
