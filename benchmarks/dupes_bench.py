"""Duplicate detection at scale: wall time and peak memory of ``find_duplicates``
(default kinds) at 100,000 and 1,000,000 serials (``--sizes`` adds 10,000,000),
with planted duplicates of every kind, and the ratio against a rapidfuzz
``process.cdist`` all-pairs brute force measured in the same run on a sample it
can finish, extrapolated quadratically to the full size.

Each dupes run happens in a child process so that its peak resident memory
(``ru_maxrss``) is its own, not the registry generator's.

    python benchmarks/dupes_bench.py [--sizes 100000,1000000] [--planted 500]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._serials_registry import build_registry  # noqa: E402

OTHER_KIND = {
    "frame": "receiver",
    "receiver": "frame",
    "lower_receiver": "frame",
    "fire_control_unit": "frame",
}


def _insert(conn, maker_id, kind, serial, ftype=None, model=None) -> int | None:
    from firetrace.registry.serial_index import SERIAL_COLUMNS, serial_columns

    cur = conn.execute(
        f"INSERT INTO components (maker_id, kind, control, {SERIAL_COLUMNS}, type, model) "
        "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)",
        (maker_id, kind, *serial_columns(serial), ftype, model),
    )
    return cur.lastrowid


def plant(db: Path, per_kind: int, seed: int = 5) -> list[tuple[str, set[int]]]:
    """Add ``per_kind`` duplicates of every kind; return (kind, ids that must group)."""
    from firetrace.registry.db import connect
    from firetrace.serials.normalize import (
        fold_leading_zeros,
        load_serial_rules,
        serial_keys,
    )

    rules = load_serial_rules()
    partner = {}
    for group in rules.groups:
        for ch in group:
            partner.setdefault(ch, [g for g in group if g != ch and g.translate(rules.fold_table)
                                    == ch.translate(rules.fold_table)])  # fmt: skip
    rng = random.Random(seed)
    conn = connect(db)
    n, makers = conn.execute(
        "SELECT max(id), (SELECT max(id) FROM parties) FROM components"
    ).fetchone()
    planted: list[tuple[str, set[int]]] = []
    conn.execute("BEGIN")
    kinds = ("exact", "cross_manufacturer", "normalized", "confusable", "embedded_letter",
             "transposition", "model_as_serial")  # fmt: skip
    for kind in kinds:
        made = 0
        while made < per_kind:
            cid = rng.randint(1, n)
            row = conn.execute(
                "SELECT maker_id, kind, serial, type, model FROM components WHERE id = ?", (cid,)
            ).fetchone()
            if row is None:
                continue
            maker, ckind, serial, ftype, model = row
            new = None
            if kind == "exact":
                new = [_insert(conn, maker, OTHER_KIND[ckind], serial, ftype)]
            elif kind == "cross_manufacturer":
                other = rng.choice([m for m in range(1, makers + 1) if m != maker])
                new = [_insert(conn, other, ckind, serial, ftype)]
            elif kind == "normalized":
                if rng.random() < 0.5:
                    new = [_insert(conn, maker, ckind, "0" + serial, ftype)]
                else:
                    spaced = serial[:2].lower() + "-" + serial[2:].lower()
                    new = [_insert(conn, maker, OTHER_KIND[ckind], spaced, ftype)]
            elif kind == "confusable":
                spots = [i for i, ch in enumerate(serial) if partner.get(ch)]
                if spots:
                    i = rng.choice(spots)
                    swapped = serial[:i] + rng.choice(partner[serial[i]]) + serial[i + 1 :]
                    new = [_insert(conn, maker, ckind, swapped, ftype)]
            elif kind == "embedded_letter":
                spots = [i for i in range(1, len(serial)) if serial[i - 1 : i + 1].isdigit()]
                if spots:
                    i = rng.choice(spots)
                    new = [_insert(conn, maker, ckind, serial[:i] + "K" + serial[i:], ftype)]
            elif kind == "transposition":
                keys = serial_keys(serial)
                spots = [i for i in range(len(keys[1]) - 1) if keys[1][i] != keys[1][i + 1]]
                norm = keys[0]
                if spots and norm == serial:
                    i = rng.choice(spots)
                    swapped = norm[:i] + norm[i + 1] + norm[i] + norm[i + 2 :]
                    swapped_keys = serial_keys(swapped)
                    if (
                        swapped_keys[2] != keys[2]
                        and fold_leading_zeros(swapped_keys[1]) != fold_leading_zeros(keys[1])
                        and not conn.execute(
                            "SELECT 1 FROM components WHERE maker_id = ? AND serial_fold = ?",
                            (maker, swapped_keys[1]),
                        ).fetchone()
                    ):
                        new = [_insert(conn, maker, ckind, swapped, ftype)]
            elif kind == "model_as_serial":
                code = f"MX{made}{rng.randrange(100)}"
                new = [_insert(conn, maker, k, code, "pistol") for k in
                       ("frame", "receiver", "lower_receiver")]  # fmt: skip
                cid = None
            if not new or any(x is None for x in new):
                continue
            planted.append((kind, {x for x in [cid, *new] if x is not None}))
            made += 1
    conn.execute("COMMIT")
    conn.close()
    return planted


def child(db: str, out: str) -> None:
    """Run dupes once and report time and this process's peak memory."""
    from firetrace.registry.db import connect
    from firetrace.registry.dupes import find_duplicates

    conn = connect(db)
    t = time.perf_counter()
    report = find_duplicates(conn, audit=False)  # the search alone, as before the library audited
    elapsed = time.perf_counter() - t
    groups = [(g.kind, [m.id for m in g.members]) for g in report.groups]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(
        json.dumps(
            {"elapsed": elapsed, "peak_mb": peak_mb, "stats": report.stats, "groups": groups}
        )  # fmt: skip
    )


def brute_force_seconds(db: Path, sample: int) -> float:
    """rapidfuzz process.cdist, all pairs, Levenshtein on the folded serials."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    from firetrace.registry.db import connect

    conn = connect(db)
    keys = [r[0] for r in conn.execute(f"SELECT serial_fold FROM components LIMIT {sample}")]
    conn.close()
    t = time.perf_counter()
    process.cdist(keys, keys, scorer=Levenshtein.distance, score_cutoff=2, workers=2,
                  dtype="uint8")  # fmt: skip
    return time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--planted", type=int, default=0, help="per kind (default size/2000)")
    parser.add_argument("--sample", type=int, default=10_000, help="brute-force sample")
    parser.add_argument("--child", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"brute force: rapidfuzz process.cdist (Levenshtein, 2 workers) on {args.sample:,} "
          "serials", flush=True)  # fmt: skip
    status = 0
    baseline = None
    for size in sizes:
        db = Path(f"/tmp/firetrace_dupes_bench_{size}.db")
        info = build_registry(db, size, index=False)
        per_kind = args.planted or max(50, size // 2000)
        planted = plant(db, per_kind)
        if baseline is None:
            baseline = brute_force_seconds(db, args.sample)
            print(f"  {args.sample:,} x {args.sample:,} pairs in {baseline:.2f} s", flush=True)
        out = Path(f"/tmp/firetrace_dupes_bench_{size}.json")
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", str(db), str(out)], check=True)
        wall = time.perf_counter() - t
        result = json.loads(out.read_text())
        # Index groups by (kind, member id) so checking each plant is a lookup.
        groups_of: dict[tuple[str, int], list[int]] = {}
        group_sets = []
        for number, (kind, ids) in enumerate(result["groups"]):
            group_sets.append(set(ids))
            for x in ids:
                groups_of.setdefault((kind, x), []).append(number)
        missed = [
            (kind, ids) for kind, ids in planted
            if not any(ids <= group_sets[g] for g in groups_of.get((kind, min(ids)), []))
        ]  # fmt: skip
        extrapolated = baseline * (info["components"] / args.sample) ** 2
        counts = ", ".join(f"{k} {v:,}" for k, v in result["stats"]["groups"].items())
        print(
            f"{info['components']:>10,} serials: dupes {result['elapsed']:.2f} s "
            f"(process wall {wall:.2f} s), peak memory {result['peak_mb']:.0f} MB; "
            f"planted {len(planted):,} ({per_kind} per kind), found "
            f"{len(planted) - len(missed):,}, missed {len(missed)}",
            flush=True,
        )
        print(f"           groups: {counts}")
        print(
            f"           brute force extrapolated quadratically from the sample: "
            f"{extrapolated:,.0f} s -> ratio {extrapolated / result['elapsed']:,.0f}x",
            flush=True,
        )
        for kind, ids in missed[:5]:
            print(f"           missed {kind}: {sorted(ids)}")
        if missed:
            status = 1
    print("targets: 1,000,000 serials <= 20 s wall and <= 2 GB peak, every planted duplicate found")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
