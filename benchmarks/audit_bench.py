"""Audit trail and integrity costs: appending entries, verifying the chain, backup
and check, on a registry whose audit log holds N entries.

Prints: append throughput when every entry is its own transaction (as a trace
writes it) with and without the HMAC key; verify throughput (entries/s) unkeyed
and keyed; `firetrace backup` and `firetrace check` wall time on that file. The
audit's cost on import and trace themselves is measured in registry_bench.py.

    python benchmarks/audit_bench.py [--entries 200000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firetrace import audit  # noqa: E402
from firetrace.registry.db import connect  # noqa: E402


def fill(conn, n: int, chunk: int = 5000) -> None:
    """``n`` entries shaped like trace entries, ``chunk`` per transaction (fast build)."""
    for start in range(0, n, chunk):
        conn.execute("BEGIN IMMEDIATE")
        for i in range(start, min(n, start + chunk)):
            audit.append_entry(
                conn,
                operator=f"officer-{i % 40}",
                purpose=f"CASE-2026-{i % 900:04d}",
                command="trace",
                args={"query": f"AB{i:07d}", "manufacturer": None, "limit": 20},
                record_ids=[i, i + 1],
            )
        conn.execute("COMMIT")


def append_rate(conn, n: int) -> float:
    """Entries/s when each entry is its own BEGIN IMMEDIATE ... COMMIT (like a trace)."""
    started = time.perf_counter()
    for i in range(n):
        audit.append_entry(conn, operator="bench", purpose="P", command="trace", args={"i": i})
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--appends", type=int, default=2_000)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for keyed in (False, True):
            if keyed:
                os.environ["FIRETRACE_AUDIT_KEY"] = "benchmark key"
            else:
                os.environ.pop("FIRETRACE_AUDIT_KEY", None)
            db = Path(tmp) / f"audit-{'keyed' if keyed else 'plain'}.db"
            conn = connect(db)
            rate = append_rate(conn, options.appends)
            fill(conn, options.entries - options.appends)
            started = time.perf_counter()
            verdict = audit.verify(conn)
            elapsed = time.perf_counter() - started
            assert verdict.ok, verdict.problems
            results[keyed] = (rate, verdict.entries / elapsed, elapsed, db)
            conn.close()
            label = "HMAC-SHA-256" if keyed else "SHA-256     "
            print(
                f"audit {label}: append {rate:,.0f} entries/s (one transaction each); "
                f"verify {verdict.entries:,} entries in {elapsed:.2f} s "
                f"= {verdict.entries / elapsed:,.0f} entries/s"
            )
        print(
            f"keyed/unkeyed ratio: append {results[True][0] / results[False][0]:.2f}, "
            f"verify {results[True][1] / results[False][1]:.2f}"
        )

        db = results[True][3]
        env = {**os.environ, "FIRETRACE_DB": str(db)}
        size = db.stat().st_size / 1e6
        for name, args in (
            ("backup", ["backup", str(Path(tmp) / "copy.db")]),
            ("check", ["check"]),
        ):
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "firetrace", *args], env=env, capture_output=True
            )
            elapsed = time.perf_counter() - started
            assert proc.returncode == 0, proc.stderr.decode()
            print(
                f"firetrace {name}: {elapsed:.2f} s wall on a {size:.0f} MB registry "
                f"({options.entries:,} audit entries)"
            )


if __name__ == "__main__":
    main()
