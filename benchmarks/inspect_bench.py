"""Inspection speed and memory on a large binary STL.

    python benchmarks/inspect_bench.py [--triangles N] [--repeat R]

Builds a closed tube-with-bore mesh of about N triangles (default one million,
by subdividing a coarse tube), writes it as binary STL to a temporary folder,
then inspects it in a fresh Python process (so the peak resident memory
reported is that of the inspection alone, imports included) and prints the wall
time, triangles per second and peak RSS against the targets (<= 2 s, <= 1 GB).
The time of a process that only imports the engine is printed as the baseline.
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
started, cpu_started = time.perf_counter(), time.process_time()
record = inspect_file(sys.argv[2])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
result = {"seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_mb(),
          "verdict": record["verdict"], "rules": [f["rule"] for f in record["findings"]],
          "load": os.getloadavg()[0]}
print(json.dumps(result))
"""


def build_stl(path: Path, triangles: int) -> int:
    """A closed tube with a 9 mm bore, subdivided five times (x1024 triangles)."""
    import trimesh

    per_section = len(trimesh.creation.annulus(r_min=1, r_max=2, height=1, sections=8).faces) / 8
    sections = max(3, round(triangles / (per_section * 4**5)))
    mesh = trimesh.creation.annulus(r_min=4.5, r_max=12.0, height=180.0, sections=sections)
    for _ in range(5):
        mesh = mesh.subdivide()
    mesh.export(path, file_type="stl")
    return int(len(mesh.faces))


def run_child(target: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), target],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triangles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.stl"
        count = build_stl(path, args.triangles)
        size_mb = path.stat().st_size / 1e6
        print(f"binary STL (closed tube, 9 mm bore): {count:,} triangles, {size_mb:.1f} MB")
        baseline = run_child("-")
        print(f"baseline (imports only): peak RSS {baseline['peak_rss_mb']:.0f} MB")
        runs = [run_child(str(path)) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    best_cpu = min(r["cpu_seconds"] for r in runs)
    peak = max(r["peak_rss_mb"] for r in runs)
    for i, run in enumerate(runs, 1):
        print(
            f"run {i}: {run['seconds']:.2f} s wall, {run['cpu_seconds']:.2f} s CPU, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB, load average {run['load']:.1f}, "
            f"verdict {run['verdict']} {run['rules']}"
        )
    print(
        f"inspect: best {best['seconds']:.2f} s wall (target <= 2 s), {best_cpu:.2f} s CPU, "
        f"{count / best['seconds']:,.0f} triangles/s wall, "
        f"{count / best_cpu:,.0f} triangles/s CPU, "
        f"peak RSS {peak:.0f} MB (target <= 1024 MB; "
        f"{peak - baseline['peak_rss_mb']:.0f} MB above the import baseline)"
    )


if __name__ == "__main__":
    main()
