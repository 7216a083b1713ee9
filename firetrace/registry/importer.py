"""Batch import: stream a record batch, validate every row, and store it all or
nothing.

Rows are read one at a time (:mod:`.readers`), checked (:mod:`.validate`) and
written in chunks into a TEMP staging table, all inside ONE write transaction.
Set-based ``INSERT ... SELECT`` statements then create parties, components
(identity = maker, kind, normalised serial), one firearm per control component,
events (``INSERT OR IGNORE`` on a content digest, so overlapping batches do not
duplicate them) and assemblies. Any invalid row rolls the whole transaction
back; a process killed mid-import leaves the registry as it was, because
SQLite never commits half a transaction. Memory stays flat as the batch grows:
nothing per row is kept in Python beyond the current chunk, and the page cache
is a fixed size. Large batches are bulk loads: the serial index triggers are
dropped and the new components' index rows added in key order afterwards, and a
batch at least as large as a table it writes rebuilds that table's secondary
indexes by one sort each instead of a random B-tree insert per row. That DDL is
inside the same transaction, so a failure or a kill undoes it too.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from firetrace import paths
from firetrace.atomicfile import AtomicFile
from firetrace.audit import audited_write, busy_error, is_busy
from firetrace.errors import FiretraceError, InputError, UsageError
from firetrace.inputs import file_sha256, regular_file
from firetrace.outputs import guard_output
from firetrace.registry import (
    batch_warnings,
    identity,
    schema_v9,
    schema_v10,
    schema_v11,
    schema_v12,
    serial_index,
)
from firetrace.registry.db import connect
from firetrace.registry.identity import KEEP_COLUMNS, component_of_row_sql
from firetrace.registry.readers import (
    REJECT_COLUMNS,
    csv_range_rows,
    line_at,
    load_fixes,
    open_batch,
    original_rows,
    patched_rows,
    split_points,
    text_encoding,
)
from firetrace.registry.validate import (
    COLUMNS,
    STAGING_COLUMNS,
    RowValidator,
    load_profile,
    load_vocabulary,
)
from firetrace.registry.vocabulary import DESCRIPTION_FIELDS
from firetrace.sanitize import csv_row
from firetrace.workers import clear_leftovers, exit_with_parent, scratch_folder

CHUNK_ROWS = 20_000
IMPORT_CACHE_KIB = -32_768  # negative: KiB, so 32 MiB of page cache during an import
# Bad rows kept in memory for display; all of them go to the --errors file.
MAX_ERRORS_KEPT = 1_000
MAX_WARNINGS_KEPT = 1_000
# From this many rows the serial index is maintained in bulk, not by trigger.
BULK_INDEX_ROWS = 5_000
# CSV batches from this size are read and validated by worker processes, one
# byte range each, while nothing else runs (below it, process start-up costs
# more than it saves). FIRETRACE_IMPORT_WORKERS=1 turns this off.
PARALLEL_MIN_BYTES = 32 << 20

ProgressCallback = Callable[[int, int], None]
StepCallback = Callable[[str], None]  # told what the import does now, for a progress line


def _quiet(what: str) -> None:
    pass


@dataclass
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


@dataclass
class ImportResult:
    source: str
    sha256: str
    status: str  # imported | already_imported | rejected | valid (dry run)
    rows: int = 0
    batch_id: int | None = None
    profile: str = ""
    format: str = ""
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    # New components that share their serial with another item (exact duplicates).
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """False only when the batch was rejected for invalid rows."""
        return self.status != "rejected"

    def to_dict(self) -> dict[str, Any]:
        """The result as the JSON document ``import --json`` prints."""
        out = asdict(self)
        out["errors"] = [str(e) for e in self.errors]
        out["errors_truncated"] = self.error_count > len(self.errors)
        return out


class _ErrorSink:
    """Collects bad rows: the first few in memory for the report, and with
    ``--errors FILE`` every problem in a private scratch database, from which the
    rejects file is written when the import ends (:meth:`close`)."""

    def __init__(self, errors_path: Path | None, original=None):
        self.kept: list[RowError] = []
        self.count = 0
        self._original = original  # () -> original_rows(...) context, for the rejects file
        self._pending: list[tuple[int, str]] = []
        self._store = self._out = None
        if errors_path:
            try:  # an unwritable place is said now, not after the whole batch is read
                self._out = AtomicFile(errors_path, newline="")
            except InputError as exc:
                raise UsageError(f"--errors: {exc}") from None
            self._store = sqlite3.connect("")  # private scratch database, on disk
            self._store.execute("CREATE TABLE problems (seq INTEGER PRIMARY KEY, line, msg)")

    def add(self, line: int, field_name: str, reason: str) -> None:
        self.count += 1
        if len(self.kept) < MAX_ERRORS_KEPT:
            self.kept.append(RowError(line, field_name, reason))
        if self._store is not None:
            self._pending.append((line, f"{field_name}: {reason}"))
            if len(self._pending) >= CHUNK_ROWS:
                self._flush()

    def _flush(self) -> None:
        self._store.executemany("INSERT INTO problems (line, msg) VALUES (?, ?)", self._pending)
        self._pending.clear()

    def close(self, *, complete: bool = True) -> None:
        """Write the rejects file (``complete``), or nothing when the import failed."""
        if self._store is None:
            return
        try:
            if complete:
                self._flush()
                write_rejects(self._out, self._store, self._original)
            else:
                self._out.abort()
        finally:
            self._store.close()


def write_rejects(out, store: sqlite3.Connection, original) -> None:
    """The rejects file, in the manner of csvkit's csvclean: one row per bad batch
    row, ``line_number`` and ``msg`` (every problem of the row) first, then the
    row's own values under the batch's header, so a clerk can fix the values and
    import the file as it is (:data:`REJECT_COLUMNS` are skipped on import).
    Cells a spreadsheet would run as a formula are neutralised. ``out`` is the
    :class:`~firetrace.atomicfile.AtomicFile` put in place when it is complete."""
    problems = store.execute(
        "SELECT line, group_concat(msg, '; ') FROM "
        "(SELECT line, msg FROM problems ORDER BY line, seq) GROUP BY line ORDER BY line"
    )
    try:
        writer = csv.writer(out.fh)
        with original() as (columns, rows):
            writer.writerow(csv_row([*REJECT_COLUMNS, *columns]))  # (a header is a cell too)
            for line, msg, values in _joined(problems, rows):
                short = [""] * (len(columns) - len(values))  # a cell to fill in, per column
                writer.writerow(csv_row((line, msg, *values, *short)))
    except BaseException:
        out.abort()
        raise
    out.commit()


def _joined(problems, rows):
    """(line, msg, values) for each problem line, values from the batch's rows (both
    in line order); a line the rows do not hold gets no values."""
    row_line, values = -1, []
    for line, msg in problems:
        while row_line < line:
            row_line, values = next(rows, (float("inf"), []))
        yield line, msg, values if row_line == line else []


def guard_errors_output(
    registry: str | Path | None,
    batch: str | Path,
    errors_path: str | Path | None,
    force: bool,
    fixes: str | Path | None = None,
) -> None:
    """Refuse an ``--errors`` file that is the registry, the batch, special, or
    exists (without ``force``), before anything is read or written."""

    guard_output("--errors", errors_path, registry=registry, inputs=[batch, fixes], force=force)


# line is the rowid: staging is kept in batch order, so events get ids in line order.
_STAGING_TYPES = {"line": "INTEGER PRIMARY KEY", "control": "INTEGER", "year": "INTEGER"}
_STAGING_TYPES |= {"import_year": "INTEGER", "row_key": "BLOB", "legacy_key": "BLOB"}
_STAGING_TYPES |= {"component_ref": "INTEGER"}
_STAGING_DDL = (
    "CREATE TEMP TABLE staging ("
    + ", ".join(f"{c} {_STAGING_TYPES.get(c, 'TEXT')}" for c in STAGING_COLUMNS)
    + ")"
)
_STAGING_INSERT = (
    f"INSERT INTO staging ({', '.join(STAGING_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(STAGING_COLUMNS))})"
)


def _stage_rows(
    conn: sqlite3.Connection,
    batch,
    validator: RowValidator,
    sink: _ErrorSink,
    progress: ProgressCallback | None,
) -> int:
    """Validate and stage every row; return the number of rows read."""
    chunk: list[tuple] = []
    rows = 0
    validate = validator.validate
    execute_many = conn.executemany
    for line, values, problem in batch.rows:
        rows += 1
        if problem is not None:
            name, _, reason = problem.partition(": ")
            sink.add(line, name, reason)
            continue
        staged = validate(line, values)
        if type(staged) is tuple:
            if not sink.count:  # once a row is bad, only validation matters
                chunk.append(staged)
                if len(chunk) >= CHUNK_ROWS:
                    execute_many(_STAGING_INSERT, chunk)
                    chunk.clear()
                    if progress:
                        progress(batch.bytes_read(), batch.size)
        else:
            for name, reason in staged:
                sink.add(line, name, reason)
    if chunk and not sink.count:
        execute_many(_STAGING_INSERT, chunk)
    if progress:
        progress(batch.size, batch.size)
    return rows


def _import_workers(batch) -> int:
    """How many processes validate ``batch`` (0: this one, row by row).

    ``FIRETRACE_IMPORT_WORKERS`` sets the number for any CSV batch (1: none);
    unset, a CSV batch of :data:`PARALLEL_MIN_BYTES` or more gets one per core.
    """
    if batch.format != "csv" or batch.data_start is None or batch.rejects or batch.patched:
        return 0  # (a rejects file's cells are restored by the one-process reader)
    setting = os.environ.get("FIRETRACE_IMPORT_WORKERS", "").strip()
    if setting:
        try:
            wanted = int(setting)
        except ValueError:
            raise UsageError(
                f"FIRETRACE_IMPORT_WORKERS: '{setting}' is not a number of processes"
            ) from None
    elif batch.size < PARALLEL_MIN_BYTES:
        return 0
    else:
        try:
            wanted = len(os.sched_getaffinity(0))
        except AttributeError:
            wanted = os.cpu_count() or 1
    wanted = min(wanted, 8)
    return wanted if wanted >= 2 else 0


def _validate_range(task: dict, bytes_done, results) -> None:
    """Worker process: validate one byte range of a CSV batch into a scratch SQLite
    file (a ``staging`` table like the importer's, and an ``errors`` table).

    Sends ``{"rows", "missing", "calibres", "failure"}`` back on ``results``; a
    failure (an unreadable file) makes the importer read the batch itself, so the
    error it reports is the one a single process reports. Stops if the importer
    process goes away.
    """
    exit_with_parent(task["importer"])  # killed importer: this worker ends within a second
    parent = os.getppid()
    out: dict[str, Any] = {"rows": 0, "failure": None}
    try:
        validator = RowValidator(
            task["columns"],
            load_profile(task["profile"]),
            ignore_unknown=task["ignore_unknown"],
            path=task["path"],
            today=date.fromisoformat(task["today"]),
            legacy_keys=task["legacy_keys"],
        )
        conn = sqlite3.connect(task["scratch"], isolation_level=None)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(_STAGING_DDL.replace("TEMP TABLE", "TABLE"))
        # seq keeps a row's problems in the order the validator named them.
        conn.execute("CREATE TABLE errors (line INTEGER, seq INTEGER, field TEXT, reason TEXT)")
        conn.execute("BEGIN")
        counter = [0]
        chunk: list[tuple] = []
        errors: list[tuple] = []
        rows = csv_range_rows(
            Path(task["path"]),
            task["start"],
            task["end"],
            first_line=task["first_line"],
            delimiter=task["delimiter"],
            width=len(task["columns"]),
            counter=counter,
            encoding=task["encoding"],
        )
        validate = validator.validate
        insert_errors = "INSERT INTO errors VALUES (?, ?, ?, ?)"
        for line, values, problem in rows:
            out["rows"] += 1
            if problem is not None:
                name, _, reason = problem.partition(": ")
                errors.append((line, len(errors), name, reason))
                continue
            staged = validate(line, values)
            if type(staged) is tuple:
                chunk.append(staged)
            else:
                errors.extend((line, len(errors) + k, *bad) for k, bad in enumerate(staged))
            if len(chunk) >= CHUNK_ROWS or len(errors) >= CHUNK_ROWS:
                conn.executemany(_STAGING_INSERT, chunk)
                conn.executemany(insert_errors, errors)
                chunk.clear()
                errors.clear()
                bytes_done.value = counter[0]
                if os.getppid() != parent:  # the importer is gone: nobody wants these
                    conn.close()
                    os.unlink(task["scratch"])
                    return
        conn.executemany(_STAGING_INSERT, chunk)
        conn.executemany(insert_errors, errors)
        conn.execute("COMMIT")
        conn.close()
        bytes_done.value = counter[0]
        out["missing"] = validator.warnings.missing_encouraged
        out["calibres"] = validator.warnings.unknown_calibres
        out["characters"] = sorted(validator.characters)
    except BaseException as exc:  # reported to the importer, which reads the batch itself
        out["failure"] = f"{type(exc).__name__}: {exc}"
    try:
        results.send(out)
        results.close()
    except OSError:  # the importer is gone
        pass


def _stage_rows_parallel(
    conn: sqlite3.Connection,
    batch,
    validator: RowValidator,
    sink: _ErrorSink,
    progress: ProgressCallback | None,
    workers: int,
    profile: str,
    ignore_unknown: bool,
    scratch: str,
) -> int | None:
    """:func:`_stage_rows` with the validation spread over ``workers`` processes,
    one byte range of the file each, writing scratch databases in ``scratch``;
    None if the file cannot be cut cleanly or a worker fails (the caller then
    stages the batch itself). The scratch databases stay attached as
    ``firetrace_part<k>`` until the transaction ends (:func:`_detach_parts`)."""
    import multiprocessing  # lazy: only batches of PARALLEL_MIN_BYTES or more use workers

    ranges = split_points(batch.path, batch.data_start, batch.size, workers)
    if ranges is None:
        return None
    ctx = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    )
    procs, pipes, done = [], [], []
    try:
        for k, (start, end) in enumerate(ranges):
            task = {
                "path": str(batch.path),
                "start": start,
                "end": end,
                "first_line": line_at(batch.path, start),
                "delimiter": batch.delimiter,
                "encoding": batch.encoding,
                "columns": list(batch.columns),
                "profile": profile,
                "ignore_unknown": ignore_unknown,
                "today": validator.today.isoformat(),
                "legacy_keys": validator.legacy_keys,
                "scratch": os.path.join(scratch, f"part{k}.db"),
                "importer": os.getpid(),
            }
            receive, send = ctx.Pipe(duplex=False)
            value = ctx.Value("q", 0, lock=False)
            proc = ctx.Process(target=_validate_range, args=(task, value, send), daemon=True)
            proc.start()
            send.close()
            procs.append((proc, task["scratch"]))
            pipes.append(receive)
            done.append(value)
        results: list[dict | None] = [None] * len(pipes)
        while any(r is None for r in results):
            for k, pipe in enumerate(pipes):
                if results[k] is None and pipe.poll(0.05):
                    try:
                        results[k] = pipe.recv()
                    except EOFError:  # the worker died without a word
                        results[k] = {"failure": "worker process ended unexpectedly"}
            if progress:
                progress(batch.data_start + sum(v.value for v in done), batch.size)
        if any(r["failure"] for r in results):
            return None
        rows = 0
        for k, ((proc, path), result) in enumerate(zip(procs, results, strict=True)):
            proc.join()
            rows += result["rows"]
            for name, count in result["missing"].items():
                missing = validator.warnings.missing_encouraged
                missing[name] = missing.get(name, 0) + count
            validator.characters.update(result["characters"])
            for name, count in result["calibres"].items():
                calibres = validator.warnings.unknown_calibres
                if name in calibres or len(calibres) < 1000:
                    calibres[name] = calibres.get(name, 0) + count
            conn.execute(f"ATTACH DATABASE ? AS {_PART}{k}", (path,))
        # Every bad row, in line order, as a single process lists them.
        union = " UNION ALL ".join(f"SELECT * FROM {_PART}{k}.errors" for k in range(len(procs)))
        for line, _, name, reason in conn.execute(f"SELECT * FROM ({union}) ORDER BY line, seq"):
            sink.add(line, name, reason)
        if not sink.count:
            for k in range(len(procs)):
                conn.execute(f"INSERT INTO staging SELECT * FROM {_PART}{k}.staging ORDER BY line")
        for _, path in procs:  # copied: unlinked now, so a kill from here leaves nothing
            try:
                os.unlink(path)
            except OSError:  # (not while open on some systems: removed after the transaction)
                pass
        if progress:
            progress(batch.size, batch.size)
        return rows
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for pipe in pipes:
            pipe.close()


_PART = "firetrace_part"


def _detach_parts(conn: sqlite3.Connection) -> None:
    """Detach the workers' scratch databases (possible once the transaction ended)."""
    for _, name, _ in conn.execute("PRAGMA database_list").fetchall():
        if name.startswith(_PART):
            conn.execute(f"DETACH DATABASE {name}")


def _batch_level_checks(conn: sqlite3.Connection, profile, sink: _ErrorSink) -> None:
    """Checks that need the whole batch: firearm keys resolve to one control component."""
    has_keys = conn.execute(
        "SELECT 1 FROM staging WHERE firearm_key IS NOT NULL LIMIT 1"
    ).fetchone()
    if has_keys:
        conn.execute("CREATE INDEX temp.staging_key ON staging(firearm_key, control)")
        for line, key in conn.execute(
            "SELECT s.line, s.firearm_key FROM staging s WHERE s.firearm_key IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM staging c WHERE c.firearm_key = s.firearm_key "
            "AND c.control = 1) ORDER BY s.line"
        ):
            sink.add(line, "firearm", f"key '{key}' has no control component row in this batch")
        for line, key in conn.execute(
            "SELECT s.line, s.firearm_key FROM staging s JOIN ("
            "  SELECT firearm_key FROM staging WHERE control = 1 AND firearm_key IS NOT NULL"
            "  GROUP BY firearm_key"
            "  HAVING count(DISTINCT maker_norm || '|' || kind || '|' || serial_norm) > 1"
            ") k ON k.firearm_key = s.firearm_key WHERE s.control = 1 ORDER BY s.line"
        ):
            sink.add(line, "firearm", f"key '{key}' groups more than one control component")
    if profile.serial_unique_per_maker:
        for line, serial, maker in conn.execute(
            "SELECT s.line, s.serial, s.maker_name FROM staging s WHERE s.control = 1 AND ("
            "  EXISTS (SELECT 1 FROM staging o WHERE o.maker_norm = s.maker_norm "
            "  AND o.serial_norm = s.serial_norm AND o.kind <> s.kind AND o.control = 1)"
            "  OR EXISTS (SELECT 1 FROM components c JOIN parties p ON p.id = c.maker_id "
            "  WHERE p.norm_name = s.maker_norm AND c.serial_fold = s.serial_fold "
            "  AND c.serial_norm = s.serial_norm "
            "  AND c.kind <> s.kind AND c.control = 1)) ORDER BY s.line"
        ):
            sink.add(
                line,
                "serial",
                f"'{serial}' is used by {maker} on another control component "
                f"(profile '{profile.name}': one serial per licensee)",
            )


_ATTRIBUTES = DESCRIPTION_FIELDS
_STAGED_ATTRIBUTE = {
    "type": "type",
    "model": "model",
    "calibre": "calibre",
    "country_of_manufacture": "country",
    "year_of_manufacture": "year",
    "import_country": "import_country",
    "import_year": "import_year",
}


def _resolve_identities(conn: sqlite3.Connection, sink: _ErrorSink, step: StepCallback):
    """Decide which component each staged row concerns (:mod:`.identity`): rows
    already recorded are set aside, every key SQL can decide is marked, the rest
    are resolved in Python. Ambiguous rows go to ``sink`` (the batch is then
    rejected); returns the :class:`~.identity.Resolution`."""

    identifies = load_vocabulary().identifies
    step("matching rows to components")
    identity.mark_known_rows(conn)
    hard = identity.classify(conn, identifies)
    resolution = identity.resolve_complex(conn, identifies) if hard else identity.Resolution()
    for line, name, reason in resolution.errors:
        sink.add(line, name, reason)
    return resolution


def _store(
    conn: sqlite3.Connection,
    batch_id: int,
    rows: int,
    resolution,
    step: StepCallback = _quiet,
) -> dict[str, int]:
    """Set-based inserts from staging into the registry tables; return what was added."""

    def scalar(sql: str, *params) -> int:
        return conn.execute(sql, params).fetchone()[0] or 0

    before = {
        "parties": scalar("SELECT max(id) FROM parties"),
        "components": scalar("SELECT max(id) FROM components"),
        "firearms": scalar("SELECT max(id) FROM firearms"),
        "events": scalar("SELECT max(id) FROM event_rows"),
    }
    # Bare columns beside min(line) come from that row: a party is named as it was
    # first written in the batch.
    step("writing parties")
    conn.execute(
        "INSERT OR IGNORE INTO parties (norm_name, name) "
        "SELECT maker_norm, maker_name FROM ("
        "  SELECT maker_norm, maker_name, min(line) FROM staging GROUP BY maker_norm)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO parties (norm_name, name, licence, country) "
        "SELECT party_norm, party_name, party_licence, party_country FROM ("
        "  SELECT party_norm, party_name, party_licence, party_country, min(line) "
        "  FROM staging WHERE party_norm IS NOT NULL GROUP BY party_norm)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO party_names (name, party_id) "
        "SELECT n.name, p.id FROM (SELECT DISTINCT maker_name AS name, maker_norm AS norm "
        "FROM staging UNION SELECT DISTINCT party_name, party_norm FROM staging "
        "WHERE party_norm IS NOT NULL) n JOIN parties p ON p.norm_name = n.norm "
        "WHERE n.name <> p.name"
    )
    # A maker id per staged row makes the component joins below index seeks.
    conn.execute("CREATE TEMP TABLE maker_ids (norm TEXT PRIMARY KEY, id INTEGER) WITHOUT ROWID")
    conn.execute(
        "INSERT INTO maker_ids SELECT p.norm_name, p.id FROM parties p "
        "WHERE p.norm_name IN (SELECT DISTINCT maker_norm FROM staging)"
    )
    # Large batches: the serial index is filled in key order after the insert
    # instead of by the per-row trigger (DDL is transactional: a failure or a
    # kill puts the triggers back with everything else).
    bulk_index = rows >= BULK_INDEX_ROWS
    if bulk_index:
        serial_index.drop_index_triggers(conn)
    # A batch as large as the table it lands in: secondary indexes are rebuilt by
    # one sort each afterwards instead of taking a random B-tree insert per row.
    component_indexes = _drop_indexes(conn, "component_rows", rows, before["components"])
    step("writing components")
    _insert_new_components(conn, batch_id, resolution)
    _fill_known_components(conn, resolution)
    if bulk_index:
        step("indexing serials")
        serial_index.index_new_components(conn, before["components"])
        serial_index.restore_index_triggers(conn)
    _restore_indexes(conn, component_indexes)
    event_indexes = _drop_indexes(conn, "event_rows", rows, before["events"])
    step("writing firearms and events")
    conn.execute(
        "INSERT OR IGNORE INTO firearms (control_component_id, batch_id) "
        "SELECT c.id, ? FROM components c WHERE c.id > ? AND c.control = 1",
        (batch_id, before["components"]),
    )
    # A record can make an existing part the control component of its firearm.
    conn.execute(
        "INSERT OR IGNORE INTO firearms (control_component_id, batch_id) "
        "SELECT c.id, ? FROM batch_keys k JOIN components c ON c.id = k.existing "
        "WHERE k.existing IS NOT NULL AND c.control = 1",
        (batch_id,),
    )
    component_of_row = component_of_row_sql()
    conn.execute(
        "CREATE TEMP TABLE firearm_keys (firearm_key TEXT PRIMARY KEY, firearm_id INTEGER) "
        "WITHOUT ROWID"
    )
    conn.execute(
        "INSERT OR IGNORE INTO firearm_keys SELECT s.firearm_key, f.id FROM staging s "
        "JOIN maker_ids m ON m.norm = s.maker_norm "
        f"JOIN firearms f ON f.control_component_id = {component_of_row} "
        # Key order: the temporary B-tree fills by appends, not a random insert per row.
        "WHERE s.control = 1 AND s.firearm_key IS NOT NULL ORDER BY s.firearm_key, s.line"
    )
    conn.execute(
        "INSERT OR IGNORE INTO firearm_keys SELECT k.firearm_key, f.id FROM known_rows k "
        "JOIN firearms f ON f.control_component_id = k.component_id "
        "WHERE k.control = 1 AND k.firearm_key IS NOT NULL ORDER BY k.line"
    )
    _insert_events(conn, batch_id, event_indexes)
    conn.execute(
        "UPDATE batches SET first_event_id = (SELECT min(id) FROM event_rows WHERE id > ?), "
        "last_event_id = (SELECT max(id) FROM event_rows WHERE id > ?) WHERE id = ?",
        (before["events"], before["events"], batch_id),
    )
    step("writing assemblies")
    assemblies = _update_assemblies(conn, batch_id, before["events"])
    return {
        "parties": scalar("SELECT count(*) FROM parties WHERE id > ?", before["parties"]),
        "components": scalar("SELECT count(*) FROM components WHERE id > ?", before["components"]),
        "firearms": scalar("SELECT count(*) FROM firearms WHERE id > ?", before["firearms"]),
        "events": scalar("SELECT count(*) FROM event_rows WHERE id > ?", before["events"]),
        "assemblies": assemblies,
        "_components_before": before["components"],  # for the duplicate check; not shown
    }


def _insert_events(conn: sqlite3.Connection, batch_id: int, dropped: list[str]) -> None:
    """One event per staged row, in line order, with its content check in its
    row (:mod:`.schema_v11`). A row given twice in the batch (the same content
    key) is found by one sort of the keys: then only each key's first row is
    inserted (rare; the common path stays one sort). With a bulk load's indexes
    dropped, they are rebuilt afterwards."""
    conn.execute(
        "INSERT OR IGNORE INTO event_kinds (name) SELECT DISTINCT event FROM staging ORDER BY event"
    )
    component_of_row = component_of_row_sql()
    sql = (
        "INSERT INTO event_rows (component_id, firearm_id, kind, day, party_id, "
        "party_licence, party_country, reference, notes, batch_id, line, row_key) "
        "SELECT c.id, CASE WHEN c.control = 1 THEN f.id ELSE k.firearm_id END, ek.code, "
        f"{schema_v9.day_sql('s.event_date')}, pp.id, s.party_licence, s.party_country, "
        f"s.reference, s.notes, ?, s.line, {schema_v11.check_sql('s.row_key')} "
        "FROM staging s JOIN maker_ids m ON m.norm = s.maker_norm "
        f"JOIN components c ON c.id = {component_of_row} "
        "JOIN event_kinds ek ON ek.name = s.event "
        "LEFT JOIN firearms f ON f.control_component_id = c.id "
        "LEFT JOIN firearm_keys k ON k.firearm_key = s.firearm_key "
        "LEFT JOIN parties pp ON pp.norm_name = s.party_norm "
        "{first_only}ORDER BY s.line"
    )
    conn.execute("DROP TABLE IF EXISTS temp.first_keys")
    conn.execute(
        "CREATE TEMP TABLE first_keys (row_key BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID"
    )
    first_only = ""
    try:
        conn.execute("INSERT INTO first_keys SELECT row_key, line FROM staging ORDER BY row_key")
    except sqlite3.IntegrityError:  # a row twice in the batch: same content key
        conn.execute("DELETE FROM first_keys")
        conn.execute(
            "INSERT OR IGNORE INTO first_keys SELECT row_key, line FROM staging ORDER BY line"
        )
        first_only = "WHERE s.line IN (SELECT line FROM temp.first_keys) "
    conn.execute(sql.format(first_only=first_only), (batch_id,))
    conn.execute("DROP TABLE temp.first_keys")
    _restore_indexes(conn, dropped)


_COMPONENT_INSERT = (
    "INSERT INTO component_rows (maker_id, kind, control, serial, serial_norm_stored, "
    "serial_fold_stored, serial_skel_stored, description_id, batch_id) "
)


def _insert_new_components(conn: sqlite3.Connection, batch_id: int, resolution) -> None:
    """One component per new simple key (set-based, in key order), then one per
    new item of the hard keys, whose rows are then pointed at their component.
    Each description a new component has is added to ``descriptions`` first
    when it is not there (schema 10: a component points to its description)."""

    staged = [f"k.{_STAGED_ATTRIBUTE[a]}" for a in _ATTRIBUTES]
    stored = schema_v12.stored_keys_sql(
        "f.serial", "f.serial_norm", "f.serial_fold", "f.serial_skel"
    )
    new_keys = "batch_keys k WHERE k.simple = 1 AND k.existing IS NULL"
    conn.execute(schema_v10.add_descriptions_sql(staged, new_keys))
    # A new kind gets the next code, the batch's most common first (code 1: no bytes).
    conn.execute(
        schema_v12.add_kinds_sql(
            "SELECT kind FROM staging GROUP BY kind ORDER BY count(*) DESC, kind"
        )
    )
    # The serial as marked comes from the key's first row.
    conn.execute(
        _COMPONENT_INSERT + f"SELECT m.id, {schema_v12.kind_code_sql('k.kind')}, k.control, "
        f"f.serial, {stored}, "
        f"{schema_v10.description_id_sql(staged)}, ? "
        "FROM batch_keys k JOIN maker_ids m ON m.norm = k.maker_norm "
        "JOIN staging f ON f.line = k.first_line "
        "WHERE k.simple = 1 AND k.existing IS NULL ORDER BY k.rowid",
        (batch_id,),
    )
    conn.execute("DROP TABLE IF EXISTS temp.row_component")
    conn.execute("CREATE TEMP TABLE row_component (line INTEGER PRIMARY KEY, component_id INTEGER)")
    if not resolution.assignments:
        return
    makers = dict(conn.execute("SELECT norm, id FROM maker_ids"))
    for item in resolution.new_items:
        first = item.rows[0]
        described = schema_v10.description_id(
            conn, [item.values.get(_STAGED_ATTRIBUTE[a]) for a in _ATTRIBUTES]
        )
        item.component_id = conn.execute(
            _COMPONENT_INSERT + f"VALUES (?, {schema_v12.kind_code_sql('?')}, ?, ?, ?, ?, ?, ?, ?)",
            (
                makers[first["maker_norm"]],
                first["kind"],
                max(r["control"] for r in item.rows),
                first["serial"],
                *schema_v12.stored_keys(
                    first["serial"],
                    (first["serial_norm"], first["serial_fold"], first["serial_skel"]),
                ),
                described,
                batch_id,
            ),
        ).lastrowid
    for duplicate in resolution.duplicates:
        duplicate.component_id = duplicate.item.component_id
    conn.executemany(
        "INSERT INTO row_component VALUES (?, ?)",
        [(line, item.component_id) for line, item in resolution.assignments],
    )


def _fill_known_components(conn: sqlite3.Connection, resolution) -> None:
    """Existing components take the description a record gives where they had
    none (a value they have is kept: a conflicting one made a new item)."""

    sets = ", ".join(
        f"{a} = coalesce(components.{a}, k.{_STAGED_ATTRIBUTE[a]})" for a in _ATTRIBUTES
    )
    missing = " OR ".join(
        f"(components.{a} IS NULL AND k.{_STAGED_ATTRIBUTE[a]} IS NOT NULL)" for a in _ATTRIBUTES
    )
    conn.execute(
        f"UPDATE components SET control = max(components.control, k.control), {sets} "
        "FROM batch_keys k WHERE k.simple = 1 AND components.id = k.existing "
        f"AND (k.control > components.control OR {missing})"
    )
    for item in resolution.changed:
        filled = {KEEP_COLUMNS[name]: value for name, value in item.filled.items()}
        assignments = ", ".join(f"{column} = coalesce({column}, ?)" for column in filled)
        conn.execute(
            f"UPDATE components SET {assignments} WHERE id = ?",
            (*filled.values(), item.component_id),
        )


def _drop_indexes(conn: sqlite3.Connection, table: str, rows: int, existing: int) -> list[str]:
    """Drop ``table``'s secondary indexes when the batch is at least as large as the
    table; return their SQL for :func:`_restore_indexes`.

    Only declared ``CREATE INDEX`` indexes: UNIQUE constraints (which the inserts'
    conflict handling needs) stay. Inside the import transaction, so a failure or
    a kill rolls the drop back with everything else.
    """
    if rows < BULK_INDEX_ROWS or rows < existing:
        return []
    found = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    for name, _ in found:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def _restore_indexes(conn: sqlite3.Connection, statements: list[str]) -> None:
    for sql in statements:
        conn.execute(sql)


def _update_assemblies(conn: sqlite3.Connection, batch_id: int, events_before: int) -> int:
    """Open and close assemblies from this batch's install/remove events.

    Walks the new events of non-control components in date order, one component
    at a time (memory stays flat). Installing a part that is still in another
    firearm closes that assembly on the same date.
    """
    vocab = load_vocabulary()
    moves = sorted(vocab.installs | vocab.removes)
    # NOT INDEXED: read the batch's events by their id range and sort them; the
    # planner would otherwise walk the whole events_component index in order
    # (2.4 s of a clerk's 10,000-row batch into 10M components, 0.02 s this way).
    cursor = conn.execute(
        "SELECT e.component_id, e.firearm_id, k.name, "
        f"{schema_v9.date_sql('e.day')} AS event_date FROM event_rows e NOT INDEXED "
        "JOIN event_kinds k ON k.code = e.kind JOIN components c ON c.id = e.component_id "
        f"WHERE e.id > ? AND c.control = 0 AND k.name IN ({', '.join('?' * len(moves))}) "
        "ORDER BY e.component_id, event_date, e.id",
        (events_before, *moves),
    )
    added = 0
    current_component = None
    open_row: list | None = None  # [assembly id or None, firearm id, installed]
    pending_inserts: list[tuple] = []
    pending_closes: list[tuple] = []

    def flush_open() -> None:
        if open_row is not None and open_row[0] is None:
            pending_inserts.append(
                (open_row[1], current_component, open_row[2], None, batch_id, None)
            )

    insert = (
        "INSERT OR IGNORE INTO assemblies (firearm_id, component_id, installed, removed, batch_id, "
        "removed_batch_id) VALUES (?, ?, ?, ?, ?, ?)"
    )

    def write_pending() -> None:
        nonlocal added
        conn.executemany(insert, pending_inserts)
        conn.executemany(
            "UPDATE assemblies SET removed = ?, removed_batch_id = ? WHERE id = ?", pending_closes
        )
        added += len(pending_inserts)
        pending_inserts.clear()
        pending_closes.clear()

    for component_id, firearm_id, event, event_date in cursor:
        if component_id != current_component:
            flush_open()
            if len(pending_inserts) + len(pending_closes) >= CHUNK_ROWS:
                write_pending()
            current_component = component_id
            existing = conn.execute(
                "SELECT id, firearm_id, installed FROM assemblies "
                "WHERE component_id = ? AND removed IS NULL ORDER BY installed DESC LIMIT 1",
                (component_id,),
            ).fetchone()
            open_row = list(existing) if existing else None
        if event in vocab.installs:
            if firearm_id is None or (open_row and open_row[1] == firearm_id):
                continue
            if open_row:
                _close(
                    open_row,
                    event_date,
                    current_component,
                    batch_id,
                    pending_inserts,
                    pending_closes,
                )
            open_row = [None, firearm_id, event_date]
        elif open_row and (firearm_id is None or open_row[1] == firearm_id):
            _close(
                open_row, event_date, current_component, batch_id, pending_inserts, pending_closes
            )
            open_row = None
    flush_open()
    write_pending()
    return added


def _close(open_row, removed, component_id, batch_id, inserts, closes) -> None:
    if open_row[0] is None:
        inserts.append((open_row[1], component_id, open_row[2], removed, batch_id, batch_id))
    else:
        closes.append((removed, batch_id, open_row[0]))


def import_batch(
    conn: sqlite3.Connection,
    path: str | Path,
    *,
    profile: str | None = None,
    dry_run: bool = False,
    errors_path: str | Path | None = None,
    fixes_path: str | Path | None = None,
    ignore_unknown: bool = False,
    encoding: str = "utf-8",
    operator: str = "unknown",
    purpose: str | None = None,
    audit: bool = True,
    progress: ProgressCallback | None = None,
    step: StepCallback | None = None,
    force: bool = False,
) -> ImportResult:
    """Validate and import one batch file into the registry behind ``conn``.

    ``conn`` is a registry connection from :func:`~firetrace.registry.db.connect`.
    Raises :class:`~firetrace.errors.InputError` for a file that cannot be read
    at all; returns a result with ``status == 'rejected'`` and every bad row when
    rows are invalid (nothing is written then). An existing ``errors_path`` is
    replaced only with ``force``. ``fixes_path`` is a rejects file (as
    ``errors_path`` writes it) whose corrected rows replace the batch's rows at
    their ``line_number``s.
    """
    started = time.perf_counter()
    path = Path(path)
    guard_errors_output(_registry_path(conn), path, errors_path, force, fixes_path)
    clear_leftovers(_registry_path(conn))  # scratch files of an import that was killed
    if profile is None:
        profile = paths.default_profile()
    marking = load_profile(profile)
    encoding = text_encoding(encoding)
    with open_batch(
        path, known_columns=COLUMNS, ignore_unknown=ignore_unknown, encoding=encoding
    ) as batch:
        validator = RowValidator(
            batch.columns,
            marking,
            ignore_unknown=ignore_unknown,
            path=str(path),
            legacy_keys=_has_legacy_keys(conn),
        )
        fixes = None
        if fixes_path is not None:
            fixes = load_fixes(regular_file(fixes_path), batch.columns, encoding=encoding)
            batch.rows = patched_rows(batch.rows, fixes, Path(fixes_path))
            batch.patched = True
        sha = file_sha256(path)
        result = ImportResult(
            source=str(path), sha256=sha, status="", profile=marking.name, format=batch.format
        )
        previous = conn.execute("SELECT id FROM batches WHERE sha256 = ?", (sha,)).fetchone()
        # A dry run says what the import would do: for a batch already in, nothing.
        if previous:
            result.status, result.batch_id = "already_imported", previous[0]
            result.seconds = time.perf_counter() - started
            return result
        sink = _ErrorSink(
            Path(errors_path) if errors_path else None,
            lambda: original_rows(path, known_columns=COLUMNS, encoding=encoding, fixes=fixes),
        )
        scratch = None  # the worker processes' scratch folder, for a parallel read
        # A bigger (but fixed) page cache for the bulk load: index pages of a
        # large registry stay cached; memory stays bounded whatever the batch size.
        cache_before = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")
        entry = {"source": str(path), "sha256": sha, "profile": marking.name}
        if fixes_path is not None:  # the audit names the corrections as well as the batch
            entry |= {"fixes": str(fixes_path), "fixes_sha256": file_sha256(Path(fixes_path))}
        completed = False
        try:
            with audited_write(
                conn, "import", operator=operator, purpose=purpose, args=entry, record=audit
            ) as write:
                _refuse_if_imported_meanwhile(conn, sha)
                for table in _TEMP_TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
                conn.execute(_STAGING_DDL)
                step = step or _quiet
                step("reading and validating")
                staged_rows = None
                workers = _import_workers(batch)
                if workers:
                    scratch = scratch_folder(_registry_path(conn))
                    staged_rows = _stage_rows_parallel(
                        conn,
                        batch,
                        validator,
                        sink,
                        progress,
                        workers,
                        profile,
                        ignore_unknown,
                        scratch,
                    )
                if staged_rows is None:
                    result.rows = _stage_rows(conn, batch, validator, sink, progress)
                else:
                    result.rows = staged_rows
                if not result.rows:
                    raise InputError("no rows after the header: nothing to import", path=str(path))
                if not sink.count:
                    step("checking firearm keys")
                    _batch_level_checks(conn, marking, sink)
                if not sink.count:
                    resolution = _resolve_identities(conn, sink, step)
                result.warnings = validator.warnings.messages()
                if sink.count:
                    result.status = "rejected"
                    write.discard()
                else:
                    now = datetime.now(UTC).isoformat(timespec="seconds")
                    batch_id = conn.execute(
                        "INSERT INTO batches (source, sha256, profile, operator, purpose, "
                        "imported_at, rows) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (path.name, sha, marking.name, operator, purpose, now, result.rows),
                    ).lastrowid
                    result.counts = _store(conn, batch_id, result.rows, resolution, step)
                    _record_characters(conn, validator.characters)
                    result.duplicates = [d.as_dict() for d in resolution.duplicates]
                    result.warnings += [d.message() for d in resolution.duplicates]
                    result.counts["duplicate_events"] = result.rows - result.counts["events"]
                    step("checking for duplicate serials")
                    serial_warnings = batch_warnings.after_batch_import(
                        conn,
                        batch_id,
                        after_id=result.counts.pop("_components_before"),
                        reported={d["component_id"] for d in result.duplicates},
                    )
                    if len(serial_warnings) > MAX_WARNINGS_KEPT:
                        extra = len(serial_warnings) - MAX_WARNINGS_KEPT
                        serial_warnings[MAX_WARNINGS_KEPT:] = [
                            f"... and {extra} more serial warnings (firetrace dupes lists them all)"
                        ]
                    result.warnings += serial_warnings
                    conn.execute(
                        "UPDATE batches SET counts = ? WHERE id = ?",
                        (json.dumps(result.counts), batch_id),
                    )
                    if dry_run:
                        result.status = "valid"
                        write.discard()
                    else:
                        write.record_ids.append(f"batch:{batch_id}")
                        step("committing")
                        result.status, result.batch_id = "imported", batch_id
            completed = True
        except _ImportedMeanwhile as already:
            result.status, result.batch_id = "already_imported", already.batch_id
        finally:
            sink.close(complete=completed)
            if scratch is not None:
                _detach_parts(conn)
                shutil.rmtree(scratch, ignore_errors=True)
            conn.execute(f"PRAGMA cache_size = {int(cache_before)}")
            for table in _TEMP_TABLES:
                try:
                    conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
                except sqlite3.Error:
                    pass
    result.errors = sorted(sink.kept, key=lambda e: e.line)
    result.error_count = sink.count
    result.seconds = time.perf_counter() - started
    return result


def _has_legacy_keys(conn: sqlite3.Connection) -> bool:
    """Whether the registry holds events keyed before migration 5 (then a manufacture
    row is also looked up by its old key, so re-importing an old batch adds nothing)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'legacy_row_keys_through'").fetchone()
    return bool(row and int(row[0]) > 0)


_TEMP_TABLES = (
    "staging",
    "maker_ids",
    "firearm_keys",
    "known_rows",
    "batch_keys",
    "key_matches",
    "hard_keys",
    "row_component",
)


def _record_characters(conn: sqlite3.Connection, characters: set[str]) -> None:
    """Remember serial characters beyond digits and Latin letters (trace tries them)."""
    conn.executemany(
        "INSERT OR IGNORE INTO serial_characters(ch) VALUES (?)",
        [(ch,) for ch in sorted(characters)],
    )


class _ImportedMeanwhile(Exception):
    """The same file was imported by another process while this one waited."""

    def __init__(self, batch_id: int):
        super().__init__(batch_id)
        self.batch_id = batch_id


def _refuse_if_imported_meanwhile(conn: sqlite3.Connection, sha: str) -> None:
    """Under the write lock, look again: two imports of one file started together
    both passed the first look; the second is 'already imported', not an error."""
    row = conn.execute("SELECT id FROM batches WHERE sha256 = ?", (sha,)).fetchone()
    if row:
        raise _ImportedMeanwhile(row[0])


def _registry_path(conn: sqlite3.Connection) -> str | None:
    """The file of the main database behind ``conn`` (None in memory)."""
    return conn.execute("PRAGMA database_list").fetchone()[2] or None


def import_file(db_path: str | Path, path: str | Path, **options: Any) -> ImportResult:
    """Open the registry at ``db_path`` and import ``path`` (see :func:`import_batch`)."""

    # Before the registry is opened (or created): a refused --errors changes nothing.
    guard_errors_output(
        db_path,
        path,
        options.get("errors_path"),
        options.get("force", False),
        options.get("fixes_path"),
    )
    load_profile(options.get("profile") or paths.default_profile())  # an unknown one: no registry
    conn = connect(db_path)
    try:
        return import_batch(conn, path, **options)
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise busy_error(exc) from exc
        raise FiretraceError(f"{db_path}: cannot write the registry: {exc}") from exc
    finally:
        conn.close()
