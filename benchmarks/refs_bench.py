"""Reference-library speed: matching one file against 10,000 references, and the
cost of fingerprinting a large mesh.

A temporary registry is filled with ``--references`` signatures (real
signatures of procedural shapes, each jittered slightly so that no two are
equal) through the same insert path as ``refs import``. Printed:

- load time of the matcher (read rows, build the index, once per process);
- index time per query (one matrix-vector product + hash lookup), mean and p95;
- full matching time per file (exact hash + signature + index) for a mesh of
  about 20,000 triangles and for one of about 1,000,000 triangles;
- the ratio against the baseline the issue names, a loop over the references
  computing each distance in Python (measured on the same queries, same run).

Target: matching one file against 10,000 references in <= 50 ms.
Run: ``python benchmarks/refs_bench.py [--references 10000]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _shapes():
    import trimesh

    yield trimesh.creation.annulus(r_min=3.0, r_max=8.0, height=60.0, sections=64)
    yield trimesh.creation.torus(major_radius=20.0, minor_radius=4.0)
    yield trimesh.creation.box((10.0, 20.0, 30.0))
    yield trimesh.creation.capsule(height=30.0, radius=5.0)
    yield trimesh.creation.cone(radius=10.0, height=25.0)
    yield trimesh.creation.icosphere(subdivisions=3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()

    import trimesh

    from firetrace.refs.library import (
        Fingerprint,
        fingerprint,
        insert_references,
        load_matcher,
        write_transaction,
    )
    from firetrace.refs.signature import TOTAL_WEIGHT, Signature

    rng = np.random.default_rng(10)
    bases = [fingerprint(mesh) for mesh in _shapes()]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "registry.db"
        t0 = time.perf_counter()
        with write_transaction(db, "refs import", {"bench": True}, "bench", None) as (conn, ids):
            for n in range(args.references):
                base = bases[n % len(bases)].signature
                jitter = rng.normal(scale=0.01, size=base.vector.shape) * base.vector
                vector = np.clip(base.vector + jitter, 0.0, 1.0).astype(np.float32)
                found = Fingerprint(
                    f"{n:064x}", Signature(vector=vector, size=base.size, faces=base.faces)
                )
                ids += insert_references(
                    conn, f"design {n}", [(found, None)], origin="bench", operator="bench"
                )
        fill = time.perf_counter() - t0

        t0 = time.perf_counter()
        matcher = load_matcher(db)
        load = time.perf_counter() - t0
        assert matcher is not None and len(matcher) == args.references
        t0 = time.perf_counter()
        again = load_matcher(db)
        cached = time.perf_counter() - t0
        assert again is matcher

        index = matcher.index
        queries = [bases[i % len(bases)] for i in range(args.queries)]
        index_times = []
        for query in queries:
            t0 = time.perf_counter()
            index.match(query)
            index_times.append(time.perf_counter() - t0)

        # Baseline: a Python loop over the references, one distance at a time.
        loop_times = []
        for query in queries[:5]:
            t0 = time.perf_counter()
            q = query.signature.vector.astype(np.float64)
            best = []
            for row in range(len(index)):
                d = float(np.sqrt(((index.matrix[row] - q) ** 2).sum() / TOTAL_WEIGHT))
                best.append(d)
            loop_times.append(time.perf_counter() - t0)

        file_times = {}
        medium = trimesh.creation.annulus(r_min=3.0, r_max=8.0, height=60.0, sections=64)
        while len(medium.faces) < 20_000:
            medium = medium.subdivide()
        large = trimesh.creation.icosphere(subdivisions=6)  # 81,920 faces
        while len(large.faces) < 1_000_000:
            large = large.subdivide()
        for name, mesh in (("medium", medium), ("large", large)):
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                matcher(mesh)
                runs.append(time.perf_counter() - t0)
            file_times[name] = (len(mesh.faces), min(runs))

    index_ms = 1000 * np.array(index_times)
    loop_ms = 1000 * np.mean(loop_times)
    print(f"references: {args.references} (filled in {fill:.1f} s)")
    print(
        f"matcher load (rows -> index, once per process): {1000 * load:.1f} ms; "
        f"cached call {1000 * cached:.2f} ms"
    )
    print(
        f"index match per query: mean {index_ms.mean():.2f} ms, p95 "
        f"{np.percentile(index_ms, 95):.2f} ms (target <= 50 ms)"
    )
    print(
        f"baseline, Python loop over references: {loop_ms:.1f} ms per query; "
        f"ratio loop/index {loop_ms / index_ms.mean():.0f}x"
    )
    for faces, seconds in file_times.values():
        print(
            f"full match of one mesh ({faces} triangles: hash + signature + index): "
            f"{1000 * seconds:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
