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

import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firetrace import audit
from firetrace.errors import FiretraceError, UsageError
from firetrace.outputs import guard_output

APPEND_ONLY_TRIGGERS = (
    "events_no_update",
    "events_no_delete",
    "audit_no_update",
    "audit_no_delete",
    "withdrawals_no_update",
    "withdrawals_no_delete",
    "serial_changes_no_update",
    "serial_changes_no_delete",
)


def _integrity_errors(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    pragma = "quick_check" if quick else "integrity_check"
    rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}")]
    return [] if rows == ["ok"] else rows


def _foreign_key_errors(conn: sqlite3.Connection) -> list[str]:
    return [
        f"{table} row {rowid}: no {parent} row for its foreign key #{fk}"
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    the source path and the copy's audit head. Writes nothing to the source.
    """

    dest = Path(dest)
    source = conn.execute("PRAGMA database_list").fetchone()[2]
    # Never the registry, its -wal/-shm/-journal (replacing one loses committed
    # data), a device or a folder; an existing file only with force.
    guard_output("DEST", dest, registry=source or None, force=force)
    if not dest.parent.is_dir():
        raise UsageError(f"{dest.parent}: no such folder")

    _remove_stale_partials(dest)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
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
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise FiretraceError(f"{dest}: backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return {"source": str(source), "head": copy_head}


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
        sha256=_sha256(dest),
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


@dataclass
class CheckResult:
    integrity: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)
    missing_triggers: list[str] = field(default_factory=list)
    unaudited_batches: list[int] = field(default_factory=list)
    audit: audit.VerifyResult | None = None

    @property
    def ok(self) -> bool:
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
            lines += [
                f"audit: {p.message}" for p in sorted(self.audit.problems, key=lambda p: p.entry_id)
            ]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "integrity": self.integrity or ["ok"],
            "foreign_keys": self.foreign_keys,
            "missing_triggers": self.missing_triggers,
            "unaudited_batches": self.unaudited_batches,
            "audit": self.audit.to_json() if self.audit else None,
            "problems": self.problems(),
        }


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
        result.audit = audit.verify(conn, expected_head=expected_head)
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
