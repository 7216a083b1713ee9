"""Worst-case trace queries (issue 15, item 4): every search path is bounded.

    python benchmarks/trace_worst.py [--components 10000000] [--out DIR]

Fills a registry with ``--components`` components (manufacture rows from
``benchmarks/_registry_gen.py``, imported in batches of a million; reused from
``--out`` when it is already that big), then times queries built to be as
expensive as the search allows: long serials at the length limit, leading and
trailing ``*`` runs, runs of ``?``, the most common characters, a maker and a
component that filter most candidates out, and queries the length limit refuses.
Prints, per query, CPU and wall time of the library trace (the audit entry
included) and whether the answer is complete; then the worst wall time and its
ratio to an exact trace measured in the same run. Target: the worst query
answers within 2 s on a 10M registry.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

QUERIES = [
    # (serial, manufacturer, component)
    ("A1B2C3D4E5F6G7H8I9J0K1L2", None, None),  # at the length limit (20 + 4), fuzzy
    ("9" * 24, None, None),
    ("0" * 22, None, None),
    ("*1", None, None),  # suffix anchor of one character: the capped scan
    ("1*", None, None),  # prefix range over a tenth of the serials
    ("*0*", None, None),
    ("*1*2*3", None, None),
    ("?" * 19 + "1", None, None),
    ("1" + "?" * 19, None, None),
    ("1?2?3?4?5?6?7?8?9?0?", None, None),
    ("0*", "Glock", "barrel"),  # a range, nearly all of it filtered out
    ("*9", "Beretta", "cylinder"),
    ("BK0001234X", None, None),  # one edit from many sequential serials
    ("B?0*", None, "other"),
    ("A" * 1000, None, None),  # refused by the length limit
    ("*1*2*3*4*", None, None),  # refused: too many '*' runs
]


def _fill(db: Path, components: int, out: Path) -> int:
    from _registry_gen import write_batch

    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    conn = connect(db)
    have = conn.execute("SELECT count(*) FROM components").fetchone()[0]
    step = 1_000_000
    while have < components:
        rows = min(step, components - have)
        batch = out / f"fill-{have}.csv"
        write_batch(batch, rows, seed=have + 7, serial_offset=have, lifecycle=False)
        result = import_batch(conn, batch, operator="bench", purpose="TRACE-WORST")
        batch.unlink()
        assert result.status == "imported", result.status
        have = conn.execute("SELECT count(*) FROM components").fetchone()[0]
        print(f"registry: {have:,} components", file=sys.stderr, flush=True)
    conn.close()
    return have


def _time(conn, serial, manufacturer, component) -> dict:
    from firetrace.errors import FiretraceError
    from firetrace.registry.trace import trace

    cpu, wall = time.process_time(), time.perf_counter()
    try:
        document = trace(
            conn, serial, manufacturer=manufacturer, component=component, operator="bench",
            purpose="TRACE-WORST",
        )  # fmt: skip
        outcome = {"matches": len(document["matches"]), "complete": document["more"]["complete"]}
    except FiretraceError as exc:
        outcome = {"refused": str(exc)[:80]}
    return {
        "query": serial[:30],
        "manufacturer": manufacturer,
        "component": component,
        "cpu_s": round(time.process_time() - cpu, 3),
        "wall_s": round(time.perf_counter() - wall, 3),
        **outcome,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from firetrace.registry.db import connect

    out = args.out or Path(tempfile.mkdtemp(prefix="trace-worst-"))
    out.mkdir(parents=True, exist_ok=True)
    db = out / "registry.db"
    have = _fill(db, args.components, out)
    conn = connect(db, create=False)
    exact = conn.execute("SELECT serial FROM components ORDER BY id DESC LIMIT 1").fetchone()[0]
    _time(conn, exact, None, None)  # warm the cache the way a running system has it
    baseline = _time(conn, exact, None, None)
    rows = [_time(conn, *query) for query in QUERIES]
    worst = max((r for r in rows if "refused" not in r), key=lambda r: r["wall_s"])
    print(json.dumps({"components": have, "exact": baseline, "queries": rows}, indent=2))
    print(
        f"worst: {worst['query']!r} {worst['wall_s']:.2f} s wall ({worst['cpu_s']:.2f} s CPU) on "
        f"{have:,} components; exact trace {baseline['wall_s']:.3f} s in the same run "
        f"(ratio {worst['wall_s'] / max(baseline['wall_s'], 1e-6):.0f}); target <= 2 s: "
        f"{'met' if worst['wall_s'] <= 2 else 'NOT met'}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
