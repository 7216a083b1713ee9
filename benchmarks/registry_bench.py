"""Registry benchmark: batch import throughput against a plain sqlite3 baseline,
peak memory as the batch grows, and trace latency (in-process and end to end).

    python benchmarks/registry_bench.py [--rows 1000000] [--small 250000] [--out DIR]
    nice -n 10 python benchmarks/registry_bench.py --scale 10000000 --skip-extras

Prints:
* import rows/s of `import_batch` (validation, staging, set-based inserts, serial
  hook, audit; a batch this size is read and validated by one worker process per
  core, whose CPU time and memory are counted in) next to a baseline measured in
  the same run: the same rows written
  with plain ``sqlite3`` ``executemany`` in one transaction into the same schema
  (no validation, no normalisation: serials stored as written). The baseline does
  exactly this: one INSERT per new maker; ``executemany`` of one ``INSERT OR
  IGNORE`` per row into ``components`` with the serial-index triggers dropped,
  then the index rows in key order (``index_new_components``, the same bulk
  statements the importer uses for a large batch) and the triggers restored;
  ``executemany`` of one ``INSERT`` per row into ``events`` (component id by a
  subquery); one COMMIT;
* the machine's floor for any import of the batch: the same CSV rows, as read,
  written with ``executemany`` into ONE table with no index and no key, in one
  transaction (no validation, no identity, no serial index): no importer into
  the registry's schema can be faster than this on the machine;
* peak RSS of the import at ``--small`` rows and at ``--rows`` rows (a flat
  figure means the import streams);
* exact-trace latency p50/p95 in-process on the resulting registry, and the wall
  time of ``firetrace trace SERIAL`` as a subprocess;
* the audit log's cost: import rows/s and trace p95 with and without audit;
* the file's size per million components, and what each part costs (the
  components table, the serial key indexes, the suffix table, events and their
  indexes, firearms, assemblies, parties, the row seals, the audit log);
* with ``--scale N`` (issue 14: N = 10,000,000): the same generator's batch of
  N rows imported into a fresh registry, its rate against the ``--rows`` import
  of the same run (target >= 0.8x: cost per row does not grow with the registry),
  the registry topped up to ``--trace-components`` (default N) components, a
  further 10,000-row batch (target <= 2 s), the size per million components
  (target <= 300 MB), and the trace figures on it (exact p95 <= 2 ms, full
  p95 <= 20 ms in-process, end to end <= 0.3 s);
* ``firetrace dupes --json`` (default kinds) on each registry, as a clerk runs
  it: wall, CPU and peak RSS of that one process (``os.wait4``), and how many
  groups it listed (targets: <= 20 s and <= 1 GB at 1M components, <= 3 min and
  <= 2 GB at 10M). ``dupes_bench.py --db`` plants duplicates of every kind into
  the same registries and checks that each is found.
Targets (issue 2): import >= 100,000 rows/s and >= 1/3 of the baseline; exact
trace p95 <= 2 ms; `firetrace trace` <= 0.3 s on a 1M-component registry.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]


def _fresh_db(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def worker_import(
    db: Path, batch: Path, audit: bool, fresh: bool = True, hook: bool = True
) -> dict:
    """Run one import in this process; report time and peak RSS."""
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    if not hook:  # measure the import's own memory, without the serial area's hook
        import firetrace.registry.batch_warnings

        firetrace.registry.batch_warnings.after_batch_import = lambda conn, batch_id, **kw: []
    conn = connect(_fresh_db(db) if fresh else db)

    def children_cpu() -> float:  # the validation workers' CPU time
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    started, cpu_started = time.perf_counter(), time.process_time() + children_cpu()
    result = import_batch(conn, batch, operator="bench", purpose="bench", audit=audit)
    seconds = time.perf_counter() - started
    cpu = time.process_time() + children_cpu() - cpu_started
    assert result.status == "imported", [str(e) for e in result.errors[:5]]
    return {
        "rows": result.rows,
        "seconds": seconds,
        "cpu": cpu,
        # The largest of this process and the validation workers it started.
        "peak_rss_mb": max(
            resource.getrusage(who).ru_maxrss
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        / 1024,
        "components": result.counts["components"],
        "warnings": len(result.warnings),
    }


def worker_baseline(db: Path, batch: Path) -> dict:
    """The same rows with plain sqlite3 executemany in one transaction, same schema
    (serial index filled by the same bulk statements as a large import)."""
    from firetrace.registry import serial_index
    from firetrace.registry.db import connect

    conn = connect(_fresh_db(db))
    started, cpu_started = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    makers: dict[str, int] = {}

    def rows():
        """Data rows as lists (the header skipped), read afresh for each pass."""
        with open(batch, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            yield from reader

    with open(batch, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    col = {name: i for i, name in enumerate(header)}
    m, s, k = col["manufacturer"], col["serial"], col["component"]
    ev, day, ref = col["event"], col["event_date"], col["reference"]
    for fields in rows():
        if fields[m] not in makers:
            conn.execute(
                "INSERT INTO parties (norm_name, name) VALUES (?, ?)", (fields[m], fields[m])
            )  # a view (schema 13): no lastrowid
            makers[fields[m]] = conn.execute(
                "SELECT id FROM parties WHERE norm_name = ?", (fields[m],)
            ).fetchone()[0]
    # Components: identity = (maker, kind, serial as written), deduplicated in a
    # dict; one executemany of the distinct ones, serials stored as written.
    serial_index.drop_index_triggers(conn)
    component_ids: dict[tuple, int] = {}
    for f in rows():
        component_ids.setdefault((makers[f[m]], f[k] or "frame", f[s]), len(component_ids) + 1)
    conn.executemany(
        "INSERT INTO components (id, maker_id, kind, control, serial) VALUES (?, ?, ?, 1, ?)",
        ((cid, *key) for key, cid in component_ids.items()),
    )
    serial_index.index_new_components(conn, 0)
    serial_index.restore_index_triggers(conn)
    conn.executemany(
        "INSERT INTO events (component_id, event, event_date, reference, line, row_key) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            (
                component_ids[(makers[f[m]], f[k] or "frame", f[s])],
                f[ev],
                f[day],
                f[ref],
                n,
                n.to_bytes(8, "big"),
            )
            for n, f in enumerate(rows(), 2)
        ),
    )
    conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rows_done = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return {"rows": rows_done, "seconds": seconds, "cpu": cpu}


def worker_floor(db: Path, batch: Path) -> dict:
    """CSV rows straight into one unindexed table: the fastest any import could write."""
    import sqlite3

    conn = sqlite3.connect(_fresh_db(db), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    started, cpu_started = time.perf_counter(), time.process_time()
    with open(batch, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        conn.execute(f"CREATE TABLE rows ({', '.join(header)})")
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * len(header))})", reader)
        conn.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rows_done = conn.execute("SELECT count(*) FROM rows").fetchone()[0]
    return {"rows": rows_done, "seconds": seconds, "cpu": cpu}


def _run_worker(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode:
        raise SystemExit(f"worker {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def trace_latency(
    db: Path, samples: int, audit: bool, exact: bool
) -> tuple[float, float, float, list[str]]:
    """Wall p50 and p95 and CPU p95 (ms) of in-process traces of random serials.

    CPU time is printed too because on a shared machine the wall p95 mostly
    measures time spent waiting for a core.
    """
    from firetrace.registry.db import connect
    from firetrace.registry.trace import trace

    conn = connect(db)
    total = conn.execute("SELECT max(id) FROM components").fetchone()[0]
    rng = random.Random(1)
    serials = [
        conn.execute(
            "SELECT serial FROM components WHERE id = ?", (rng.randint(1, total),)
        ).fetchone()[0]
        for _ in range(samples)
    ]
    timings, cpu_timings = [], []
    for serial in serials:
        started, cpu_started = time.perf_counter(), time.process_time()
        doc = trace(conn, serial, operator="bench", purpose="bench", audit=audit, exact=exact)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu_started) * 1000)
        assert doc["matches"], serial
    conn.close()
    return (
        statistics.median(timings),
        _percentile(timings, 0.95),
        _percentile(cpu_timings, 0.95),
        serials,
    )


def cli_trace_wall(
    db: Path, serials: list[str], exact: bool, runs: int = 7, as_json: bool = True
) -> tuple[float, float, float]:
    """Median and worst wall time, and median CPU time, of `firetrace trace` runs
    (``--json``, or the human tables at the default 80 columns)."""
    walls, cpus = [], []
    env = dict(os.environ, FIRETRACE_OPERATOR="bench")
    for serial in serials[:runs]:
        command = [sys.executable, "-m", "firetrace", "trace", serial, "--db", str(db)]
        command += ["--json"] if as_json else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(
            command + (["--exact"] if exact else []), capture_output=True, cwd=ROOT, env=env
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        assert proc.returncode == 0, proc.stderr
    return statistics.median(walls), max(walls), statistics.median(cpus)


def cli_dupes(db: Path) -> dict:
    """`firetrace dupes --json` on ``db`` as one child process: its wall, CPU and
    peak RSS (from ``os.wait4``, so no other child's memory counts) and the
    groups it listed."""
    env = dict(os.environ, FIRETRACE_OPERATOR="bench")
    command = [sys.executable, "-m", "firetrace", "dupes", "--db", str(db), "--json"]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if proc.returncode not in (0, 1):  # 1: duplicates found
            raise SystemExit(f"dupes failed:\n{stderr}")
        out.seek(0)
        report = json.load(out)
    return {
        "seconds": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "groups": len(report["groups"]),
        "expected": sum(report["stats"].get("expected_numbering", {}).values()),
    }


def dupes_part(db: Path, components: int) -> None:
    run = cli_dupes(db)
    print(
        f"`firetrace dupes --json` on {components:,} components: {run['seconds']:.1f} s wall, "
        f"{run['cpu']:.1f} s CPU, peak RSS {run['peak_rss_mb']:,.0f} MB; {run['groups']:,} "
        f"groups listed, {run['expected']:,} pairs of expected numbering counted (targets "
        "<= 20 s and <= 1 GB at 1M, <= 3 min and <= 2 GB at 10M)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=250_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--trace-components",
        type=int,
        default=1_000_000,
        help="top the registry up to this many components (manufacture rows) before tracing",
    )
    parser.add_argument(
        "--trace-only",
        action="store_true",
        help="reuse the registry a previous run left in --out; measure the traces only",
    )
    parser.add_argument(
        "--scale", type=int, default=0, help="also import a batch of this many rows (10M)"
    )
    parser.add_argument(
        "--skip-extras",
        action="store_true",
        help="skip the baseline, floor and the without-hook/without-audit imports",
    )
    parser.add_argument(
        "--dupes-only",
        type=Path,
        metavar="DB",
        help="measure `firetrace dupes` on this registry only, then stop",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, db, batch, *rest = args.worker
        if kind == "import":
            audit, fresh, hook = "noaudit" not in rest, "keep" not in rest, "nohook" not in rest
            print(json.dumps(worker_import(Path(db), Path(batch), audit, fresh, hook)))
        elif kind == "floor":
            print(json.dumps(worker_floor(Path(db), Path(batch))))
        else:
            print(json.dumps(worker_baseline(Path(db), Path(batch))))
        return

    if args.dupes_only:
        import sqlite3

        with sqlite3.connect(args.dupes_only) as conn:
            (count,) = conn.execute("SELECT count(*) FROM components").fetchone()
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
        dupes_part(args.dupes_only, count)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="firetrace-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    rate = None
    if not args.trace_only:
        rate = run_imports(args, out)
    trace_part(args, out, out / "registry.db", args.trace_components)
    if args.scale:
        scale_part(args, out, rate)
    print(f"load average {os.getloadavg()[0]:.1f} at the end (files in {out})")


def run_imports(args: argparse.Namespace, out: Path) -> dict:
    """The imports at ``--rows``; returns the full import's worker report."""
    from _registry_gen import write_batch

    big, small = out / f"batch_{args.rows}.csv", out / f"batch_{args.small}.csv"
    started = time.perf_counter()
    write_batch(big, args.rows, seed=1)
    write_batch(small, args.small, seed=1)
    print(
        f"generated batches of {args.rows:,} and {args.small:,} rows in "
        f"{time.perf_counter() - started:.1f} s ({big.stat().st_size / 1e6:.0f} MB)"
    )
    if args.skip_extras:
        small_run = _run_worker("import", str(out / "small.db"), str(small))
        full = _run_worker("import", str(out / "registry.db"), str(big))
        _print_import(full, args.rows)
        _print_memory(small_run, full)
        return full

    base = _run_worker("baseline", str(out / "baseline.db"), str(big))
    base_rate, base_cpu_rate = base["rows"] / base["seconds"], base["rows"] / base["cpu"]
    print(
        "baseline sqlite3 executemany (one transaction, same schema, serial index by the "
        f"same bulk statements as the import): {base['rows']:,} rows in {base['seconds']:.1f} s "
        f"= {base_rate:,.0f} rows/s wall, {base_cpu_rate:,.0f} rows per CPU-second"
    )

    floor = _run_worker("floor", str(out / "floor.db"), str(big))
    floor_rate = floor["rows"] / floor["seconds"]
    print(
        "floor: the CSV rows executemany'd into one unindexed table (no validation, no "
        f"registry schema): {floor['rows']:,} rows in {floor['seconds']:.1f} s = "
        f"{floor_rate:,.0f} rows/s wall; the baseline is {base_rate / floor_rate:.2f}x of it"
    )

    small_run = _run_worker("import", str(out / "small.db"), str(small))
    full = _run_worker("import", str(out / "registry.db"), str(big))
    rate, cpu_rate = full["rows"] / full["seconds"], full["rows"] / full["cpu"]
    print(
        f"firetrace import: {full['rows']:,} rows in {full['seconds']:.1f} s = {rate:,.0f} rows/s "
        f"wall ({rate / base_rate:.2f}x baseline, {rate / floor_rate:.2f}x floor), "
        f"{cpu_rate:,.0f} rows per CPU-second "
        f"({cpu_rate / base_cpu_rate:.2f}x baseline); targets >= 100,000 rows/s and >= 0.33x"
    )
    _print_memory(small_run, full)
    bare_small = _run_worker("import", str(out / "bare_small.db"), str(small), "nohook")
    bare = _run_worker("import", str(out / "bare.db"), str(big), "nohook")
    print(
        f"import peak RSS without the serial hook: {bare_small['peak_rss_mb']:.0f} MB at "
        f"{bare_small['rows']:,} rows, {bare['peak_rss_mb']:.0f} MB at {bare['rows']:,} rows "
        f"(ratio {bare['peak_rss_mb'] / bare_small['peak_rss_mb']:.2f}); "
        f"{bare['rows'] / bare['seconds']:,.0f} rows/s wall, "
        f"{bare['rows'] / bare['cpu']:,.0f} rows per CPU-second"
    )
    noaudit = _run_worker("import", str(out / "noaudit.db"), str(big), "noaudit")
    rate_noaudit = noaudit["rows"] / noaudit["seconds"]
    cpu_rate_noaudit = noaudit["rows"] / noaudit["cpu"]

    print(
        f"audit cost on import: {rate:,.0f} rows/s with audit vs {rate_noaudit:,.0f} without "
        f"(wall ratio {rate / rate_noaudit:.2f}, CPU ratio {cpu_rate / cpu_rate_noaudit:.2f})"
    )
    return full


def _print_import(run: dict, rows: int, label: str = "firetrace import") -> None:
    print(
        f"{label}: {run['rows']:,} rows in {run['seconds']:.1f} s = "
        f"{run['rows'] / run['seconds']:,.0f} rows/s wall, "
        f"{run['rows'] / run['cpu']:,.0f} rows per CPU-second"
    )


def _print_memory(small_run: dict, full: dict) -> None:
    print(
        f"import peak RSS: {small_run['peak_rss_mb']:.0f} MB at {small_run['rows']:,} rows, "
        f"{full['peak_rss_mb']:.0f} MB at {full['rows']:,} rows "
        f"(ratio {full['peak_rss_mb'] / small_run['peak_rss_mb']:.2f} for "
        f"{full['rows'] / small_run['rows']:.0f}x the rows)"
    )


# What each part of the file is, by the names dbstat reports.
PARTS = (
    ("components table", ("components", "component_rows", "descriptions", "descriptions_fields",
                          "component_kinds", "sqlite_autoindex_component_kinds_1")),
    ("serial key indexes", ("components_serial_norm", "components_serial_fold", "components_skel")),
    ("serial suffixes", ("serial_suffixes",)),
    ("events table", ("events", "event_rows", "event_kinds", "sqlite_autoindex_event_kinds_1")),
    # The content key: an index of events before schema 9, the table event_keys since.
    ("event indexes", ("events_row_key", "event_keys", "events_component", "events_status",
                       "events_corrects")),
    ("firearms", ("firearms", "sqlite_autoindex_firearms_1")),
    ("assemblies", ("assemblies", "sqlite_autoindex_assemblies_1", "assemblies_component")),
    ("parties", ("parties", "party_names", "sqlite_autoindex_parties_1",
                 "sqlite_autoindex_party_names_1", "party_rows", "party_rows_norm_name")),
    ("row seals", ("seals", "seals_frontier", "seals_audit")),
)  # fmt: skip


def size_report(db: Path) -> None:
    """The file per million components, and what each part costs (bytes a component)."""
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (components,) = conn.execute("SELECT count(*) FROM components").fetchone()
    (events,) = conn.execute("SELECT count(*) FROM events").fetchone()
    sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    conn.close()
    total = db.stat().st_size
    print(
        f"file: {total / 1e6:,.0f} MB for {components:,} components and {events:,} events = "
        f"{total / components * 1e6 / 1e6:,.0f} MB per million components (target <= 300)"
    )
    counted = 0
    parts = []
    for label, names in PARTS:
        size = sum(sizes.pop(n, 0) for n in names)
        counted += size
        parts.append(f"{label} {size / components:.1f}")
    parts.append(f"other {(total - counted) / components:.1f}")
    print("  bytes per component: " + ", ".join(parts))


def scale_part(args: argparse.Namespace, out: Path, rate: dict | None) -> None:
    """The --scale batch into a fresh registry, topped up, then a clerk's batch,
    the size and the traces at that scale."""
    from _registry_gen import write_batch

    big = out / f"batch_{args.scale}.csv"
    started = time.perf_counter()
    write_batch(big, args.scale, seed=1)
    print(
        f"generated a batch of {args.scale:,} rows in {time.perf_counter() - started:.0f} s "
        f"({big.stat().st_size / 1e6:,.0f} MB)"
    )
    db = out / "scale.db"
    run = _run_worker("import", str(db), str(big))
    big.unlink()
    _print_import(run, args.scale, "firetrace import at scale")
    if rate:
        wall = (run["rows"] / run["seconds"]) / (rate["rows"] / rate["seconds"])
        cpu = (run["rows"] / run["cpu"]) / (rate["rows"] / rate["cpu"])
        print(
            f"rate at {run['rows']:,} rows against {rate['rows']:,} rows, same run: "
            f"{wall:.2f}x wall, {cpu:.2f}x per CPU-second (target >= 0.8x); peak RSS "
            f"{run['peak_rss_mb']:.0f} MB"
        )
    target = args.trace_components if args.trace_components > 1_000_000 else args.scale
    trace_part(args, out, db, target, top_up_seed=4)
    clerk = out / "clerk_10000.csv"
    write_batch(clerk, 10_000, seed=9, serial_offset=9_000_000)
    small = _run_worker("import", str(db), str(clerk), "keep")
    print(
        f"a further 10,000-row batch into {target:,} components: {small['seconds']:.2f} s wall, "
        f"{small['cpu']:.2f} s CPU (target <= 2 s)"
    )


def trace_part(
    args: argparse.Namespace, out: Path, db: Path, wanted: int, top_up_seed: int = 2
) -> None:
    """Top ``db`` up to ``wanted`` components, then its size and the traces."""
    from _registry_gen import write_batch

    from firetrace.registry.db import connect

    def component_count() -> int:
        conn = connect(db)
        try:
            return conn.execute("SELECT count(*) FROM components").fetchone()[0]
        finally:
            conn.close()

    components = component_count()
    if components < wanted:
        top_up = out / "top_up.csv"
        write_batch(
            top_up, wanted - components, seed=top_up_seed, serial_offset=5_000_000,
            lifecycle=False,
        )  # fmt: skip
        extra = _run_worker("import", str(db), str(top_up), "keep")
        top_up.unlink()
        components = component_count()
        print(
            f"topped the registry up with {extra['rows']:,} manufacture rows in "
            f"{extra['seconds']:.1f} s ({extra['rows'] / extra['cpu']:,.0f} rows per "
            f"CPU-second into the registry): {components:,} components"
        )
    size_report(db)
    p50, p95, cpu95, serials = trace_latency(db, 500, audit=True, exact=True)
    p50_na, p95_na, cpu95_na, _ = trace_latency(db, 500, audit=False, exact=True)
    print(
        f"exact trace (--exact) in-process on {components:,} components: p50 {p50:.2f} ms, "
        f"p95 {p95:.2f} ms wall, p95 {cpu95:.2f} ms CPU (target p95 <= 2 ms)"
    )
    f50, f95, fcpu95, _ = trace_latency(db, 200, audit=True, exact=False)
    print(
        "full trace (look-alike and fuzzy candidates too, up to 20 matches), same serials: "
        f"p50 {f50:.2f} ms, p95 {f95:.2f} ms wall, p95 {fcpu95:.2f} ms CPU (target p95 <= 20 ms)"
    )
    for exact, as_json in ((True, True), (False, True), (False, False)):
        wall, worst, cpu = cli_trace_wall(db, serials, exact=exact, as_json=as_json)
        options = (" --exact" if exact else "") + (" --json" if as_json else " (tables)")
        print(
            f"`firetrace trace{options}` end to end: median {wall:.3f} s "
            f"wall (worst {worst:.3f} s), median {cpu:.3f} s CPU (target <= 0.3 s)"
        )
    print(
        f"audit cost on trace: exact trace p95 {p95:.2f} ms with audit vs {p95_na:.2f} ms without "
        f"(wall ratio {p95 / p95_na:.2f}; CPU {cpu95:.2f} vs {cpu95_na:.2f} ms, "
        f"ratio {cpu95 / cpu95_na:.2f})"
    )
    dupes_part(db, components)


if __name__ == "__main__":
    main()
