"""Registry integrity: online backups and the whole-file health check.

:func:`backup` copies a live registry with SQLite's online backup API (readers
and writers may keep working), into a temporary file beside the destination that
is renamed into place only after ``PRAGMA integrity_check`` passes on the copy,
so a destination is never half-written. The copy is a single self-contained file
(rollback journal, not WAL) and the backup itself is recorded in the audit log.
:func:`check` runs ``PRAGMA integrity_check``, ``PRAGMA foreign_key_check``, the
audit chain verification, confirms the append-only triggers are still there
(an attacker with file access would drop them first) and that every imported
batch has its import entry in the audit log (which catches a truncated log).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firetrace import audit, readlog, rowseals
from firetrace.errors import FiretraceError, UsageError
from firetrace.inputs import file_sha256
from firetrace.outputs import guard_outputs
from firetrace.paths import read_log_path

APPEND_ONLY_TRIGGERS = (
    "events_no_update",
    "events_no_delete",
    "audit_no_update",
    "audit_no_delete",
    "withdrawals_no_update",
    "withdrawals_no_delete",
    "serial_changes_no_update",
    "serial_changes_no_delete",
    "seals_no_update",
    "seals_no_delete",
    "descriptions_no_update",
    "descriptions_no_delete",
)


def _integrity_errors(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    pragma = "quick_check" if quick else "integrity_check"
    rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}")]
    return [] if rows == ["ok"] else rows


def _foreign_key_errors(conn: sqlite3.Connection) -> list[str]:
    # A table stored behind a view (event_rows behind events) is named as the view.
    shown = {stored: view for view, stored in rowseals.SEALED_VIEWS.items()}
    return [
        f"{shown.get(table, table)} row {rowid}: no {shown.get(parent, parent)} row "
        f"for its foreign key #{fk}"
        for table, rowid, parent, fk in conn.execute("PRAGMA foreign_key_check")
    ]


def _missing_triggers(conn: sqlite3.Connection) -> list[str]:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return [name for name in APPEND_ONLY_TRIGGERS if name not in present]


def _unaudited_batches(conn: sqlite3.Connection) -> list[int]:
    """Imported batches with no import entry in the audit log.

    The importer records ``batch:N`` among an import entry's record ids in the same
    transaction as the batch, so a batch without one means the newest audit entries
    were removed (a truncated log) or the batch was written around the importer.
    """
    return [
        row[0]
        for row in conn.execute(
            "SELECT b.id FROM batches b WHERE NOT EXISTS ("
            " SELECT 1 FROM audit a, json_each(a.record_ids) j"
            " WHERE a.command = 'import' AND j.value = 'batch:' || b.id)"
            " ORDER BY b.id"
        )
    ]


@dataclass
class BackupResult:
    source: str
    dest: str
    bytes: int
    sha256: str
    audit_head: str
    audit_entries: int
    integrity: str = "ok"

    def to_json(self) -> dict[str, Any]:
        """The result as the JSON document ``backup --json`` prints."""
        return dict(self.__dict__)


def _remove_stale_partials(dest: Path) -> None:
    """Remove unfinished copies left by a killed backup to the same file name."""
    for leftover in dest.parent.glob(f".{dest.name}.partial-*"):
        # .NAME.partial-PID, and its -journal/-wal companions
        pid = leftover.name.split(".partial-", 1)[1].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except OSError:
            pass  # alive but someone else's: leave it


def copy_registry(conn: sqlite3.Connection, dest: str | Path, *, force: bool = False) -> dict:
    """Copy the registry open on ``conn`` to ``dest`` and integrity-check the copy.

    Refuses an existing ``dest`` unless ``force``. Raises :class:`FiretraceError`
    (and leaves ``dest`` untouched) when the copy fails its integrity check. Returns
    the source path and the copy's audit head. Writes nothing to the source. The
    read log goes beside the copy (``DEST-reads``), up to the copy's snapshot.
    """

    dest = Path(dest)
    source = conn.execute("PRAGMA database_list").fetchone()[2]
    # Never the registry, its -wal/-shm/-journal (replacing one loses committed
    # data), a device or a folder; an existing file only with force.
    dest_reads = read_log_path(dest)
    outputs = {"DEST": dest, "the read log's copy": dest_reads}
    guard_outputs(outputs, registry=source or None, force=force)
    if not dest.parent.is_dir():
        raise UsageError(f"{dest.parent}: no such folder")

    _remove_stale_partials(dest)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    partial_reads = dest.with_name(f".{dest.name}.partial-{os.getpid()}-reads")
    try:
        copy = sqlite3.connect(str(partial), isolation_level=None)
        try:
            # One step: under WAL it reads one consistent snapshot while writers
            # carry on, where a stepwise copy would restart after each write.
            conn.backup(copy, pages=-1)
            # One self-contained file: no -wal/-shm companions to forget.
            copy.execute("PRAGMA journal_mode = DELETE")
            problems = _integrity_errors(copy) + _foreign_key_errors(copy)
            copy_head = audit.head(copy)
        finally:
            copy.close()
        if problems:
            raise FiretraceError(
                f"{dest}: the copy failed its integrity check ({problems[0]}); nothing was written"
            )
        _copy_read_log(conn, partial_reads, copy_head.id)
        if partial_reads.exists():
            os.replace(partial_reads, dest_reads)
        else:
            dest_reads.unlink(missing_ok=True)  # an older backup's, not this copy's
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise FiretraceError(f"{dest}: backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
        partial_reads.unlink(missing_ok=True)
    return {"source": str(source), "head": copy_head}


def _copy_read_log(conn: sqlite3.Connection, partial: Path, main_head_id: int) -> None:
    """Copy the registry's read log to ``partial``, keeping the reads made up to
    the registry copy's snapshot (those anchored at or before ``main_head_id``),
    so that the two copies vouch for each other like the originals."""
    reads = _open_reads(conn)
    if reads is None:
        return
    try:
        copy = sqlite3.connect(str(partial), isolation_level=None)
        try:
            reads.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")
            copy.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            copy.execute(
                "DELETE FROM audit WHERE id >= (SELECT min(id) FROM audit WHERE "
                "coalesce(json_extract(attests, '$.main.id'), 0) > ?)",
                (main_head_id,),
            )
            copy.executescript(readlog.READ_LOG_SCHEMA)  # the trigger again
        finally:
            copy.close()
    finally:
        reads.close()


def backup(
    conn: sqlite3.Connection,
    dest: str | Path,
    *,
    operator: str,
    purpose: str | None,
    force: bool = False,
) -> BackupResult:
    """:func:`copy_registry`, then an audit entry (who, why, which file, its digest)."""
    dest = Path(dest)
    audit.ensure_can_append(conn)  # no unrecorded copy
    copied = copy_registry(conn, dest, force=force)
    result = BackupResult(
        source=copied["source"],
        dest=str(dest),
        bytes=dest.stat().st_size,
        sha256=file_sha256(dest),
        audit_head=copied["head"].hash,
        audit_entries=copied["head"].entries,
    )
    # Recorded after the copy (it waits for any writer), so the copy holds the log
    # up to just before its own backup entry.
    audit.append_entry(
        conn,
        operator=operator,
        purpose=purpose,
        command="backup",
        args={"dest": str(dest.resolve()), "sha256": result.sha256, "head": result.audit_head},
    )
    return result


def split_head(expected_head: str | None) -> tuple[str | None, str | None]:
    """``--head`` as printed by ``audit head``: the registry log's head hash, then
    (after ``:``) the read log's, when there was one."""
    if expected_head is None:
        return None, None
    main, _, reads = expected_head.strip().partition(":")
    return main, reads or None


def head_token(conn: sqlite3.Connection) -> str:
    """What ``audit head`` prints: the registry log's head hash, and the read log's
    after a ``:`` when it has entries; ``audit verify --head`` checks both."""
    main = audit.head(conn).hash
    reads = _open_reads(conn)
    if reads is None:
        return main
    try:
        current = audit.head(reads)
    finally:
        reads.close()
    return f"{main}:{current.hash}" if current.entries else main


def _open_reads(conn: sqlite3.Connection):
    path = readlog.read_log_for(conn)
    return readlog.open_read_log(path, create=False) if path else None


def verify_history(
    conn: sqlite3.Connection, *, expected_head: str | None = None
) -> audit.VerifyResult:
    """The whole recorded history: the registry's audit chain, the read log's chain,
    their anchors to each other, and every sealed row against its seal.

    ``expected_head`` is a token printed earlier by ``audit head``: each log must
    still reach its part of it (detects removed newest entries). Nothing is written.
    """
    main_head, reads_head = split_head(expected_head)
    result = audit.verify(conn, expected_head=main_head)
    reads = _open_reads(conn)
    try:
        if reads is not None:
            read_result = audit.verify(reads, expected_head=reads_head)
            result.read_entries, result.read_head = read_result.entries, read_result.head
            result.problems += [
                audit.Problem(p.entry_id, p.kind, f"read log: {p.message}", log="reads")
                for p in read_result.problems
            ]
        elif reads_head:
            result.problems.append(
                audit.Problem(
                    1, "truncated", "the read log is gone, but the expected head names one", "reads"
                )
            )
        result.problems += readlog.cross_check(conn, reads)
    finally:
        if reads is not None:
            reads.close()
    attested, commands = _seal_claims(conn, result)
    for found in rowseals.verify_seals(conn, attested, commands):
        if found.kind == "unsealed":
            result.notes.append(found.message)
        else:
            result.problems.append(audit.Problem(found.entry_id, found.kind, found.message, "rows"))
    result.rows_checked = True
    return result


def _seal_claims(conn: sqlite3.Connection, result: audit.VerifyResult):
    """Seal digests attested by registry entries that passed the chain check, and
    every entry's command (for messages)."""
    untrusted = {p.entry_id for p in result.problems if p.log == "main" and p.kind == "altered"}
    attested, commands = {}, {}
    names = {row[1] for row in conn.execute("PRAGMA table_info(audit)")}
    column = "attests" if "attests" in names else "NULL"
    for entry_id, command, text in conn.execute(f"SELECT id, command, {column} FROM audit"):
        commands[entry_id] = command
        seal = rowseals.attests_of(text).get("seal")
        if seal and entry_id not in untrusted:
            attested[entry_id] = seal
    return attested, commands


@dataclass
class CheckResult:
    integrity: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)
    missing_triggers: list[str] = field(default_factory=list)
    unaudited_batches: list[int] = field(default_factory=list)
    audit: audit.VerifyResult | None = None

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not (
            self.integrity
            or self.foreign_keys
            or self.missing_triggers
            or self.unaudited_batches
            or (self.audit is not None and not self.audit.ok)
        )

    def problems(self) -> list[str]:
        """Every finding as one line, most fundamental first."""
        lines = [f"integrity: {p}" for p in self.integrity]
        lines += [f"foreign key: {p}" for p in self.foreign_keys]
        lines += [
            f"append-only trigger {name} is missing (history can be rewritten)"
            for name in self.missing_triggers
        ]
        lines += [
            f"batch {n} has no import entry in the audit log (truncated log?)"
            for n in self.unaudited_batches
        ]
        if self.audit is not None:
            lines += [f"audit: {p.message}" for p in self.audit.ordered_problems()]
        return lines

    def to_json(self) -> dict[str, Any]:
        """The result as the JSON document ``check --json`` prints."""
        return {
            "ok": self.ok,
            "integrity": self.integrity or ["ok"],
            "foreign_keys": self.foreign_keys,
            "missing_triggers": self.missing_triggers,
            "unaudited_batches": self.unaudited_batches,
            "audit": self.audit.to_json() if self.audit else None,
            "problems": self.problems(),
        }


def damaged_beyond_opening(exc: Exception) -> CheckResult | None:
    """A registry that fails to open because it is damaged (truncated, pages
    overwritten) is a finding of the check (exit 1), not an unreadable input;
    None for any other failure (not a database at all, no such file)."""
    cause = exc.__cause__ or exc
    if isinstance(cause, sqlite3.DatabaseError) and "malformed" in str(cause):
        return CheckResult(integrity=[f"the registry cannot be opened: {cause}"])
    return None


def check(
    conn: sqlite3.Connection, *, quick: bool = False, expected_head: str | None = None
) -> CheckResult:
    """Run every integrity check on the open registry; nothing is written.

    All checks read one snapshot (a read transaction), so an import committing
    meanwhile cannot make a batch and its audit entry look out of step.
    """
    own_snapshot = not conn.in_transaction
    try:
        if own_snapshot:
            conn.execute("BEGIN")
        result = CheckResult(
            integrity=_integrity_errors(conn, quick=quick),
            foreign_keys=_foreign_key_errors(conn),
            missing_triggers=_missing_triggers(conn),
            unaudited_batches=_unaudited_batches(conn),
        )
        result.audit = verify_history(conn, expected_head=expected_head)
    except sqlite3.DatabaseError as exc:
        # A damaged file can fail the pragmas themselves; that is a finding too.
        return CheckResult(integrity=[f"database error: {exc}"])
    finally:
        if own_snapshot and conn.in_transaction:
            try:
                conn.execute("ROLLBACK")  # read-only: nothing to keep
            except sqlite3.Error:
                pass
    return result
