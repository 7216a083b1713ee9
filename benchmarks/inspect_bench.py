"""Inspection speed and memory: large binary STL files and a 50-body build plate.

    python benchmarks/inspect_bench.py [--triangles N[,N...]] [--plate BODIES] [--repeat R]

For each N (default 1,000,000 and 10,000,000) a closed tube-with-bore mesh of
about N triangles (a coarse tube subdivided) is written as binary STL to a
temporary folder and inspected in a fresh Python process, so that the peak
resident memory is that of the inspection alone, imports included. Targets:
1M triangles <= 2 s and <= 1 GB; 10M <= 10 s and <= 2 GB (above 2M triangles the
reader decimates while it reads). The plate (default 50 bodies) is real printer
parts from ``../shared/corpus`` (repeated as needed; generated blocks without
it) laid out as separate shells in one STL, target <= 5 s.

Same-run baselines, printed beside each figure: a process that only imports the
engine (memory), and numpy-stl (the field's STL library) merely loading the same
file in the same kind of process (time: ``ratio`` = inspect / load).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from firetrace.detect.engine import inspect_file, default_rules
import numpy, trimesh, scipy.ndimage, rapidfuzz  # imports are not part of the timing
default_rules()


def peak_mb():
    # VmHWM is this process's own high-water mark (ru_maxrss can carry the parent's)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if sys.argv[2] == "-":
    print(json.dumps({"seconds": 0.0, "peak_rss_mb": peak_mb()}))
    sys.exit(0)
if len(sys.argv) > 3 and sys.argv[3] == "load":  # the baseline: numpy-stl reads the file
    from stl import mesh as stl_mesh

    started, cpu_started = time.perf_counter(), time.process_time()
    loaded = stl_mesh.Mesh.from_file(sys.argv[2])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_mb()}))
    sys.exit(0)
started, cpu_started = time.perf_counter(), time.process_time()
record = inspect_file(sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
result = {"seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_mb(),
          "verdict": record["verdict"], "rules": [f["rule"] for f in record["findings"]],
          "bodies": len(record.get("bodies", [])), "error": record["error"],
          "load": os.getloadavg()[0]}
print(json.dumps(result))
"""


def build_stl(path: Path, triangles: int, uniform: bool = False) -> int:
    """A closed tube with a 9 mm bore, 180 mm long: a coarse tube subdivided five times
    (x1024 triangles, long slivers: the figures of earlier runs), or with *uniform* an
    even grid over its two cylinders (small, near-square cells, like a scan)."""
    import numpy as np
    import trimesh

    if not uniform:
        per_section = len(trimesh.creation.annulus(r_min=1, r_max=2, height=1, sections=8).faces)
        sections = max(3, round(triangles / (per_section / 8 * 4**5)))
        mesh = trimesh.creation.annulus(r_min=4.5, r_max=12.0, height=180.0, sections=sections)
        for _ in range(5):
            mesh = mesh.subdivide()
        mesh.export(path, file_type="stl")
        return int(len(mesh.faces))
    around = int(np.sqrt(triangles / 4 * 2 * np.pi * 12 / 180))  # cells about square
    along = max(2, int(triangles / 4 / around))
    theta = np.linspace(0, 2 * np.pi, around, endpoint=False)
    height = np.linspace(0, 180.0, along + 1)
    rings = []
    for radius in (12.0, 4.5):
        x, z = np.cos(theta) * radius, height
        ring = np.stack(
            [np.tile(x, len(z)), np.tile(np.sin(theta) * radius, len(z)), np.repeat(z, around)],
            axis=1,
        )
        rings.append(ring)
    vertices = np.concatenate(rings)
    i = np.arange(around)
    j = np.arange(along)[:, None]
    a = (j * around + i).ravel()
    b = (j * around + (i + 1) % around).ravel()
    c, d = a + around, b + around
    inner = len(rings[0])
    outer_faces = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
    inner_faces = outer_faces[:, ::-1] + inner  # facing the bore
    top, bottom = along * around, 0
    caps = [
        np.stack([bottom + i, inner + bottom + i, bottom + (i + 1) % around], 1),
        np.stack(
            [bottom + (i + 1) % around, inner + bottom + i, inner + bottom + (i + 1) % around], 1
        ),
        np.stack([top + i, top + (i + 1) % around, inner + top + i], 1),
        np.stack([top + (i + 1) % around, inner + top + (i + 1) % around, inner + top + i], 1),
    ]
    faces = np.concatenate([outer_faces, inner_faces, *caps])
    corners = vertices[faces].astype(np.float32)
    record = np.zeros(len(faces), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    record["v"] = corners
    with open(path, "wb") as out:
        out.write(b"uniform tube".ljust(80, b" "))
        out.write(np.uint32(len(faces)).tobytes())
        out.write(record.tobytes())
    return int(len(faces))


def build_plate(path: Path, bodies: int) -> int:
    """*bodies* parts on one plate, as separate shells of one binary STL."""
    import numpy as np
    import trimesh

    folder = ROOT.parent / "shared" / "corpus" / "benign" / "voron-0" / "STLs"
    sources = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".stl")
    meshes = [trimesh.load(p, force="mesh") for p in sources[: min(len(sources), bodies)]]
    if not meshes:  # no corpus: blocks with a hole each
        block = trimesh.boolean.difference(
            [trimesh.creation.box((40, 25, 12)), trimesh.creation.cylinder(4, 30)],
            engine="manifold",
        )
        meshes = [block]
    placed, x, y, row = [], 0.0, 0.0, 0.0
    for i in range(bodies):
        mesh = meshes[i % len(meshes)].copy()
        mesh.apply_translation(-mesh.bounds[0])
        if x > 0 and x + mesh.extents[0] > 600:
            x, y, row = 0.0, y + row + 6, 0.0
        mesh.apply_translation([x, y, 0])
        placed.append(mesh)
        x, row = x + mesh.extents[0] + 6, max(row, mesh.extents[1])
    plate = trimesh.util.concatenate(placed)
    plate.export(path, file_type="stl")
    del np
    return int(len(plate.faces))


def run_child(target: str, *extra: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), target, *extra],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(label: str, path: Path, triangles: int, repeat: int, target_s: float, target_mb: int):
    load = min((run_child(str(path), "load") for _ in range(repeat)), key=lambda r: r["seconds"])
    runs = [run_child(str(path)) for _ in range(repeat)]
    for i, run in enumerate(runs, 1):
        print(
            f"  run {i}: {run['seconds']:.2f} s wall, {run['cpu_seconds']:.2f} s CPU, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB, load average {run['load']:.1f}, "
            f"{run['bodies']} bodies, verdict {run['verdict']} {run['rules']} {run['error'] or ''}"
        )
    best = min(runs, key=lambda r: r["seconds"])
    best_cpu = min(r["cpu_seconds"] for r in runs)
    peak = max(r["peak_rss_mb"] for r in runs)
    print(
        f"{label}: best {best['seconds']:.2f} s wall (target <= {target_s:g} s), "
        f"{best_cpu:.2f} s CPU, {triangles / best_cpu:,.0f} triangles per CPU-second, "
        f"peak RSS {peak:.0f} MB (target <= {target_mb} MB); numpy-stl load alone "
        f"{load['seconds']:.2f} s, {load['peak_rss_mb']:.0f} MB: ratio "
        f"{best['seconds'] / max(load['seconds'], 1e-9):.1f}x its time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triangles", default="1000000,10000000")
    parser.add_argument("--plate", type=int, default=50, help="bodies on the plate (0: none)")
    parser.add_argument(
        "--uniform", action="store_true", help="even grids instead of subdivided slivers"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(n) for n in args.triangles.split(",") if n.strip()]
    with tempfile.TemporaryDirectory() as folder:
        baseline = run_child("-")
        print(f"baseline (imports only): peak RSS {baseline['peak_rss_mb']:.0f} MB")
        for wanted in sizes:
            path = Path(folder) / f"tube_{wanted}.stl"
            count = build_stl(path, wanted, args.uniform)
            size_mb = path.stat().st_size / 1e6
            kind = "evenly gridded" if args.uniform else "subdivided"
            print(
                f"binary STL (closed tube, 9 mm bore, {kind}): {count:,} triangles, "
                f"{size_mb:.1f} MB"
            )
            target = (2.0, 1024) if count <= 2_000_000 else (10.0, 2048)
            measure(f"inspect {count:,} triangles", path, count, args.repeat, *target)
            path.unlink()
        if args.plate:
            path = Path(folder) / "plate.stl"
            count = build_plate(path, args.plate)
            print(f"plate: {args.plate} bodies as separate shells, {count:,} triangles")
            measure(f"inspect a {args.plate}-body plate", path, count, args.repeat, 5.0, 1024)


if __name__ == "__main__":
    main()
