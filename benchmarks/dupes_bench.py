"""Duplicate detection at scale: wall time, CPU and peak memory of
``find_duplicates`` (default kinds) at 100,000 and 1,000,000 serials (``--sizes``
adds 10,000,000), with duplicates of every kind planted, each planted record
made in another year than the record it duplicates; whether every planted group
is found; and how many groups the default report lists against how many were
planted (target: at most 5 times), with the pairs of expected numbering it
counted instead of listing. Also the ratio against a rapidfuzz
``process.cdist`` all-pairs brute force measured in the same run on a sample it
can finish, extrapolated quadratically to the full size.

Two generators (``--generator``): ``serials`` (``_serials_registry``: 40+
makers with one to three marking formats, dealer shipments of consecutive
serials scattered over the serial space, four dense makers; year by serial
number, model by band) and ``batches`` (``_registry_gen`` manufacture rows
imported through ``firetrace import``: dense sequential serials per maker in
production runs of one model, dates rising with the serial). ``--db PATH``
reuses a registry (e.g. registry_bench's) and plants into it.

Each dupes run happens in a child process so that its peak resident memory
(``ru_maxrss``) is its own, not the generator's.

    python benchmarks/dupes_bench.py [--sizes 100000,1000000] [--generator serials]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

TARGET_RATIO = 5.0
OTHER_KIND = {
    "frame": "receiver",
    "receiver": "frame",
    "lower_receiver": "frame",
    "fire_control_unit": "frame",
}
PLANTED_KINDS = ("exact", "cross_manufacturer", "normalized", "confusable", "embedded_letter",
                 "transposition", "model_as_serial")  # fmt: skip


def _insert(conn, maker_id, kind, serial, ftype, model, year) -> int:
    from firetrace.registry.serial_index import SERIAL_COLUMNS, serial_columns

    conn.execute(
        f"INSERT INTO components (maker_id, kind, control, {SERIAL_COLUMNS}, type, model, "
        "year_of_manufacture) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
        (maker_id, kind, *serial_columns(serial), ftype, model, year),
    )
    # components is a view (schema 10 on): an insert through it leaves lastrowid
    # unset, so the new row's id is read back (the largest: ids only grow).
    (new_id,) = conn.execute("SELECT max(id) FROM component_rows").fetchone()
    return new_id


def _other_year(rng: random.Random, year: int | None, avoid: set = frozenset()) -> int:
    """Another year than the duplicated record's (the issue's pairs differ in year),
    and than ``avoid``: the years of the serials numbered next to the new one (a
    keying error that lands in a gap of a run of its own model and year cannot be
    told from a record of that run)."""
    year = year or 2010
    candidates = (min(2024, max(1950, year + d)) for d in (-4, -3, -2, 2, 3, 4))
    choices = [y for y in candidates if y not in avoid]
    return rng.choice(choices or [year + 5])


def _neighbour_years(conn, maker: int, serial: str) -> set:
    from firetrace.registry.numbering import neighbour_folds
    from firetrace.serials.normalize import serial_keys

    near = neighbour_folds(serial_keys(serial)[1])
    if not near:
        return set()
    return {
        r[0]
        for r in conn.execute(
            f"SELECT year_of_manufacture FROM components WHERE serial_fold IN "
            f"({','.join('?' * len(near))}) AND maker_id = ?",
            (*near, maker),
        )
    }


def _partners():
    from firetrace.serials.normalize import load_serial_rules

    rules = load_serial_rules()
    partner = {}
    for group in rules.groups:
        for ch in group:
            partner.setdefault(ch, [g for g in group if g != ch and g.translate(rules.fold_table)
                                    == ch.translate(rules.fold_table)])  # fmt: skip
    return partner


def _planted_serial(conn, rng, kind, maker, serial, partner) -> str | None:
    """The serial a duplicate of ``kind`` carries, or None if ``serial`` cannot have one."""
    from firetrace.serials.normalize import fold_leading_zeros, serial_keys

    if kind in ("exact", "cross_manufacturer"):
        return serial
    if kind == "normalized":
        return "0" + serial if rng.random() < 0.5 else serial[:2].lower() + "-" + serial[2:].lower()
    if kind == "confusable":
        spots = [i for i, ch in enumerate(serial) if partner.get(ch)]
        if not spots:
            return None
        i = rng.choice(spots)
        return serial[:i] + rng.choice(partner[serial[i]]) + serial[i + 1 :]
    if kind == "embedded_letter":
        spots = [i for i in range(1, len(serial)) if serial[i - 1 : i + 1].isdigit()]
        return serial[: (i := rng.choice(spots))] + "K" + serial[i:] if spots else None
    if kind == "transposition":
        keys = serial_keys(serial)
        spots = [i for i in range(len(keys[1]) - 1) if keys[1][i] != keys[1][i + 1]]
        if not spots or keys[0] != serial:
            return None
        i = rng.choice(spots)
        swapped = serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :]
        other = serial_keys(swapped)
        taken = conn.execute(
            "SELECT 1 FROM components WHERE maker_id = ? AND serial_fold = ?", (maker, other[1])
        ).fetchone()
        if other[2] == keys[2] or fold_leading_zeros(other[1]) == fold_leading_zeros(keys[1]):
            return None
        return None if taken else swapped
    raise ValueError(kind)


def plant(db: Path, per_kind: int, seed: int = 5) -> list[tuple[str, set[int]]]:
    """Add ``per_kind`` duplicates of every kind, each made in another year than
    the record it duplicates; return (kind, ids that must group)."""
    from firetrace.registry.db import connect

    partner = _partners()
    rng = random.Random(seed)
    conn = connect(db)
    n, makers = conn.execute(
        "SELECT max(id), (SELECT max(id) FROM parties) FROM components"
    ).fetchone()
    planted: list[tuple[str, set[int]]] = []
    conn.execute("BEGIN")
    for kind in PLANTED_KINDS:
        made = 0
        while made < per_kind:
            row = conn.execute(
                "SELECT id, maker_id, kind, serial, type, model, year_of_manufacture "
                "FROM components WHERE id = ? AND control = 1",
                (rng.randint(1, n),),
            ).fetchone()
            if row is None:
                continue
            cid, maker, ckind, serial, ftype, model, year = row
            if kind == "model_as_serial":
                when = _other_year(rng, year)
                code = f"MX{made}{rng.randrange(100)}"
                new = [_insert(conn, maker, k, code, "pistol", None, when)
                       for k in ("frame", "receiver", "lower_receiver")]  # fmt: skip
                planted.append((kind, set(new)))
                made += 1
                continue
            duplicate = _planted_serial(conn, rng, kind, maker, serial, partner)
            if duplicate is None:
                continue
            owner, target_kind = maker, ckind
            if kind == "cross_manufacturer":
                # Any other party, uniformly (a list of them all cost 2.4M steps a
                # plant on a 10M registry whose buyers are parties too).
                owner = rng.randint(1, makers - 1)
                owner += owner >= maker
            elif kind == "exact" and rng.random() < 0.3:
                target_kind = OTHER_KIND.get(ckind, "frame")  # one serial on two kinds
            when = _other_year(rng, year, _neighbour_years(conn, owner, duplicate))
            new = _insert(conn, owner, target_kind, duplicate, ftype, model, when)
            planted.append((kind, {cid, new}))
            made += 1
    conn.execute("COMMIT")
    conn.close()
    return planted


def child(db: str, out: str) -> None:
    """Run dupes once and report time, CPU and this process's peak memory."""
    from firetrace.registry.db import connect
    from firetrace.registry.dupes import find_duplicates

    conn = connect(db)
    t, cpu = time.perf_counter(), time.process_time()
    report = find_duplicates(conn, audit=False)  # the search alone
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    groups = [(g.kind, [m.id for m in g.members], g.score) for g in report.groups]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(
        json.dumps(
            {
                "elapsed": elapsed,
                "cpu": cpu,
                "peak_mb": peak_mb,
                "stats": report.stats,
                "groups": groups,
            }
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


def build(generator: str, size: int, out: Path) -> tuple[Path, int]:
    """A registry of about ``size`` control components from ``generator``."""
    db = out / f"dupes_{generator}_{size}.db"
    if generator == "serials":
        from _serials_registry import build_registry

        return db, build_registry(db, size, index=False)["components"]
    from _registry_gen import write_batch

    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    batch = out / f"dupes_batch_{size}.csv"
    # Manufacture rows only; a modular firearm's parts are rows too (~1.3 rows each).
    write_batch(batch, int(size * 1.3), seed=3, lifecycle=False)
    conn = connect(db)
    result = import_batch(conn, batch, operator="bench", purpose="bench", audit=False)
    assert result.status == "imported", result.errors[:3]
    (count,) = conn.execute("SELECT count(*) FROM components WHERE control = 1").fetchone()
    conn.close()
    batch.unlink()
    return db, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--generator", choices=("serials", "batches"), default="serials")
    parser.add_argument("--db", type=Path, help="plant into this registry and measure it")
    parser.add_argument("--planted", type=int, default=0, help="per kind (default size/2000)")
    parser.add_argument("--sample", type=int, default=10_000, help="brute-force sample")
    parser.add_argument("--out", type=Path, default=None, help="folder for the registries")
    parser.add_argument("--child", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="firetrace-dupes-"))
    out.mkdir(parents=True, exist_ok=True)
    source = args.db or args.generator
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print(f"brute force: rapidfuzz process.cdist (Levenshtein, 2 workers) on {args.sample:,} "
          f"serials; registry: {source}", flush=True)  # fmt: skip
    status = 0
    baseline = None
    runs = [(args.db, None)] if args.db else [(None, int(s)) for s in args.sizes.split(",")]
    for given, size in runs:
        t = time.perf_counter()
        if given:
            from firetrace.registry.db import connect

            db = given
            conn = connect(db)
            (size,) = conn.execute("SELECT count(*) FROM components WHERE control = 1").fetchone()
            conn.close()
        else:
            db, size = build(args.generator, size, out)
        built = time.perf_counter() - t
        per_kind = args.planted or max(50, size // 2000)
        planted = plant(db, per_kind)
        if baseline is None:
            baseline = brute_force_seconds(db, args.sample)
            print(f"  {args.sample:,} x {args.sample:,} pairs in {baseline:.2f} s", flush=True)
        report_path = out / f"dupes_{size}.json"
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", str(db), str(report_path)],
                       check=True)  # fmt: skip
        wall = time.perf_counter() - t
        result = json.loads(report_path.read_text())
        status |= _summarise(result, planted, per_kind, size, built, wall, baseline, args.sample)
    print(
        "targets: dupes <= 20 s and <= 1 GB at 1,000,000, <= 3 min and <= 2 GB at 10,000,000; "
        f"every planted group found; listed groups <= {TARGET_RATIO:.0f}x planted"
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return status


def _summarise(result, planted, per_kind, size, built, wall, baseline, sample) -> int:
    # Index groups by (kind, member id) so checking each plant is a lookup.
    groups_of: dict[tuple[str, int], list[int]] = {}
    group_sets = []
    for number, (kind, ids, _score) in enumerate(result["groups"]):
        group_sets.append(set(ids))
        for x in ids:
            groups_of.setdefault((kind, x), []).append(number)
    missed = [
        (kind, ids) for kind, ids in planted
        if not any(ids <= group_sets[g] for g in groups_of.get((kind, min(ids)), []))
    ]  # fmt: skip
    listed = len(result["groups"])
    ratio = listed / len(planted)
    stats = result["stats"]
    counts = ", ".join(f"{k} {v:,}" for k, v in stats["groups"].items())
    expected = ", ".join(f"{k} {v:,}" for k, v in stats["expected_numbering"].items())
    extrapolated = baseline * (size / sample) ** 2
    print(
        f"{size:>10,} control components (built in {built:.0f} s): dupes {result['elapsed']:.2f} s "
        f"wall, {result['cpu']:.2f} s CPU (process wall {wall:.2f} s), peak memory "
        f"{result['peak_mb']:.0f} MB",
        flush=True,
    )
    print(
        f"           planted {len(planted):,} ({per_kind} per kind, each another year), found "
        f"{len(planted) - len(missed):,}, missed {len(missed)}; listed {listed:,} groups = "
        f"{ratio:.2f}x planted (target <= {TARGET_RATIO:.0f}x)"
    )
    print(f"           listed: {counts}")
    print(f"           expected numbering counted, not listed: {expected} pairs")
    print(
        f"           brute force extrapolated quadratically from the sample: "
        f"{extrapolated:,.0f} s -> ratio {extrapolated / result['elapsed']:,.0f}x",
        flush=True,
    )
    for kind, ids in missed[:5]:
        print(f"           missed {kind}: {sorted(ids)}")
    return 1 if missed or ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    raise SystemExit(main())
