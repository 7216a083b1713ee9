"""Benchmark of ``firetrace scan`` against ``sha256sum`` over the same tree.

Builds a tree of ordinary files under /tmp (photos, videos, documents, zip and
tar.gz archives; incompressible media like real seized devices) with a few
hundred design files among them (binary and ASCII STL, OBJ; some renamed, some
inside archives), then measures in the same run:

* baseline: ``sha256sum`` of every file (``find -print0 | xargs -0 sha256sum``);
* scan machinery: walk + content sniffing + archive opening + MD5/SHA-1/SHA-256
  of every design file, with analysis switched off (``SniffOnlyAnalyser``);
* full scan: the same with the inspection engine analysing every design file
  (``firetrace scan --jsonl``), unless ``--skip-full``.

Prints files/s, MB/s, the ratio baseline_time / scan_time (>= 1.0 means faster
than hashing everything), checks that every planted design file was hashed, and
reports peak RSS of the half tree against the whole tree (memory must stay flat).
The tree is deleted afterwards.

    python benchmarks/scan_bench.py [--gb 3] [--designs 300] [--workers N] [--skip-full]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = (
    "the of and to in is for on that by with this as are from at be it an or was "
    "meeting invoice report quarterly delivery schedule budget contract payment total "
    "please regards attached summary order customer account review project team"
).split()


def _text(rng: random.Random, size: int) -> bytes:
    words = rng.choices(WORDS, k=size // 5 + 1)
    return " ".join(words).encode()[:size]


def _gcode_design(rng: random.Random, index: int) -> tuple[str, bytes]:
    """A procedural toolpath (samples/toolpaths.py): a tube or a plate of blocks."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "firetrace_toolpaths", Path(__file__).resolve().parents[1] / "samples" / "toolpaths.py"
    )
    toolpaths = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toolpaths)
    dialect = toolpaths.DIALECTS[index % len(toolpaths.DIALECTS)]
    if index % 2:
        return "gcode", toolpaths.tube_gcode(dialect, height=rng.uniform(20, 80))
    plate = [(f"part_{n}", "block", (40 + 40 * n, 60)) for n in range(rng.randint(1, 3))]
    return "gcode", toolpaths.plate_gcode(plate, dialect=dialect, height=rng.uniform(5, 25))


def _design(rng: random.Random, index: int) -> tuple[str, bytes]:
    """A crude procedural stand-in: a tube or a block, binary/ASCII STL or OBJ, and
    every seventh a sliced toolpath (G-code)."""
    import trimesh

    if index % 7 == 6:
        return _gcode_design(rng, index)

    if index % 2:
        mesh = trimesh.creation.annulus(
            r_min=rng.uniform(2, 8),
            r_max=rng.uniform(9, 15),
            height=rng.uniform(20, 150),
            sections=rng.choice((32, 64, 128, 256)),
        )
    else:
        mesh = trimesh.creation.box(extents=[rng.uniform(5, 80) for _ in range(3)])
        mesh = mesh.subdivide().subdivide() if index % 3 == 0 else mesh
    kind = index % 5
    if kind == 3:
        return "obj", mesh.export(file_type="obj").encode()
    if kind == 4:
        return "stl", mesh.export(file_type="stl_ascii").encode()
    return "stl", mesh.export(file_type="stl")


def _write_ordinary(rng: random.Random, folder: Path, i: int) -> int:
    """One ordinary file (photo, video, document, zip or tar.gz); returns bytes written."""
    roll = rng.random()
    if roll < 0.40:  # photo: incompressible, JPEG header
        path = folder / f"IMG_{i:05d}.jpg"
        path.write_bytes(
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(rng.randint(30_000, 2_500_000))
        )
    elif roll < 0.41:  # video
        path = folder / f"VID_{i:05d}.mp4"
        with open(path, "wb") as fh:
            fh.write(b"\x00\x00\x00\x18ftypmp42")
            for _ in range(rng.randint(3, 12)):
                fh.write(os.urandom(8 << 20))
    elif roll < 0.85:  # document, text or binary
        path = folder / f"doc_{i:05d}.pdf"
        size = rng.randint(5_000, 400_000)
        body = _text(rng, size) if rng.random() < 0.5 else os.urandom(size)
        path.write_bytes(b"%PDF-1.7\n" + body)
    elif roll < 0.95:  # zip of documents and photos
        path = folder / f"archive_{i}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for k in range(rng.randint(3, 12)):
                if rng.random() < 0.5:
                    zf.writestr(f"d/{k}.txt", _text(rng, rng.randint(2_000, 200_000)))
                else:
                    photo = b"\xff\xd8\xff" + os.urandom(rng.randint(100_000, 2_000_000))
                    zf.writestr(f"p/{k}.jpg", photo)
    else:  # tar.gz backup
        path = folder / f"backup_{i}.tar.gz"
        with tarfile.open(path, "w:gz", compresslevel=1) as tf:
            for k in range(rng.randint(2, 8)):
                payload = os.urandom(rng.randint(50_000, 1_500_000))
                info = tarfile.TarInfo(f"backup/f{k}.dat")
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
    return path.stat().st_size


def build_tree(root: Path, total_bytes: int, designs: int, seed: int) -> dict:
    """Write the tree; returns the SHA-256 of every planted design file and counts."""
    rng = random.Random(seed)
    folders = [
        root / f"user{u}" / sub
        for u in range(4)
        for sub in ("Pictures", "Documents", "Videos", "Downloads", "Desktop/old", "AppData/c")
    ]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    written = files = 0
    while written < total_bytes:
        files += 1
        written += _write_ordinary(rng, rng.choice(folders), files)
    planted: set[str] = set()
    for n in range(designs):
        files += 1
        folder = rng.choice(folders)
        ext, data = _design(rng, n)
        planted.add(hashlib.sha256(data).hexdigest())
        where = rng.random()
        if where < 0.15:  # inside a zip with documents
            path = folder / f"parts_{files}.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(f"cad/part_{files}.{ext}", data)
                for k in range(3):
                    zf.writestr(f"docs/note{k}.txt", _text(rng, rng.randint(2_000, 50_000)))
        elif where < 0.25:  # renamed to look like a photo
            path = folder / f"IMG_{files:05d}.jpg"
            path.write_bytes(data)
        else:
            path = folder / f"model_{files}.{ext}"
            path.write_bytes(data)
        written += path.stat().st_size
    return {"planted": planted, "files": files, "bytes": written}


def tree_size(roots: list[Path]) -> tuple[int, int]:
    files = size = 0
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                files += 1
                size += os.lstat(os.path.join(folder, name)).st_size
    return files, size


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _load() -> str:
    return "load " + "/".join(f"{v:.1f}" for v in os.getloadavg())


def time_sha256sum(roots: list[Path], parallel: int = 1) -> tuple[float, float]:
    """(wall, CPU) seconds of sha256sum over every file under *roots*."""
    start, cpu_start = time.perf_counter(), _children_cpu()
    find = subprocess.Popen(
        ["find", *map(str, roots), "-type", "f", "-print0"], stdout=subprocess.PIPE
    )
    fan_out = ["-P", str(parallel), "-n", "32"] if parallel > 1 else []
    subprocess.run(
        ["xargs", "-0", *fan_out, "sha256sum"],
        stdin=find.stdout,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    find.wait()
    return time.perf_counter() - start, _children_cpu() - cpu_start


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds process *pid* has used so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found.extend(children)
        frontier.extend(children)
    return found


def child_scan(out: Path, roots: list[str], workers: int, analysis: bool) -> None:
    """Runs in a subprocess so that its peak memory can be measured on its own.

    Peak RSS is each process's VmHWM: this process (walk, writers) and the largest
    worker, sampled while the scan runs (workers are not our direct children). The
    workers' CPU seconds are sampled the same way (the last value seen of each; a
    worker's last quarter second may be missed), so that the analysis' own cost
    is told apart from the wall time a loaded machine adds.
    """
    import threading

    sys.path.insert(0, str(ROOT))
    from firetrace.forensics.analysis import EngineAnalyser, SniffOnlyAnalyser
    from firetrace.forensics.session import ScanOptions, run_scan

    peak_worker = 0
    worker_cpu: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_worker
        while not stop.wait(0.25):
            for pid in _descendants(os.getpid()):
                peak_worker = max(peak_worker, _hwm_kb(pid))
                used = _cpu_seconds(pid)
                if used is not None:
                    worker_cpu[pid] = used

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    analyser = EngineAnalyser() if analysis else SniffOnlyAnalyser()
    start, cpu_start = time.perf_counter(), time.process_time()
    summary = run_scan(ScanOptions(roots, jsonl=out, workers=workers), analyser=analyser)
    elapsed, main_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    stop.set()
    sampler.join()
    result = {
        "elapsed": elapsed,
        "counts": summary.manifest["counts"],
        "rss_main_kb": _hwm_kb(os.getpid()),
        "rss_worker_kb": peak_worker,
        "main_cpu": main_cpu,
        "worker_cpu": sum(worker_cpu.values()),
    }
    print(json.dumps(result))


def run_child(out: Path, roots: list[Path], workers: int, analysis: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(out), "--workers", str(workers)]
    if analysis:
        cmd.append("--analysis")
    proc = subprocess.run([*cmd, *map(str, roots)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=3.0, help="tree size in GB (default 3)")
    parser.add_argument("--designs", type=int, default=300, help="design files planted")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--skip-full", action="store_true", help="skip the full-analysis run")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--analysis", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("roots", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_scan(args.child, args.roots, args.workers, args.analysis)
        return

    base = Path(tempfile.mkdtemp(prefix="firetrace-scan-bench-", dir="/tmp"))
    try:
        half = int(args.gb * 1e9 / 2)
        t0 = time.perf_counter()
        a = build_tree(base / "tree" / "A", half, args.designs // 2, args.seed)
        b = build_tree(base / "tree" / "B", half, args.designs - args.designs // 2, args.seed + 1)
        planted = a["planted"] | b["planted"]
        print(f"built tree in {time.perf_counter() - t0:.0f} s under {base}")
        roots_half, roots_all = [base / "tree" / "A"], [base / "tree" / "A", base / "tree" / "B"]
        files, size = tree_size(roots_all)
        mb = size / 1e6
        print(
            f"tree: {files} files, {mb:.0f} MB, {len(planted)} distinct design files planted "
            f"({args.designs} placed, some inside zip archives), workers={args.workers}"
        )

        baseline, baseline_cpu = time_sha256sum(roots_all)
        print(
            f"baseline sha256sum: {baseline:.2f} s, {files / baseline:.0f} files/s, "
            f"{mb / baseline:.0f} MB/s, CPU {baseline_cpu:.1f} s ({_load()})"
        )
        fan, fan_cpu = time_sha256sum(roots_all, parallel=args.workers)
        print(
            f"baseline sha256sum x{args.workers} (xargs -P): {fan:.2f} s, "
            f"{files / fan:.0f} files/s, {mb / fan:.0f} MB/s, CPU {fan_cpu:.1f} s ({_load()})"
        )

        small = run_child(base / "half.jsonl", roots_half, args.workers, analysis=False)
        fast = run_child(base / "all.jsonl", roots_all, args.workers, analysis=False)
        hashed = {json.loads(line)["sha256"] for line in open(base / "all.jsonl")}
        t = fast["elapsed"]
        print(
            f"scan (sniff + hash design files, no analysis): {t:.2f} s, {files / t:.0f} files/s, "
            f"{mb / t:.0f} MB/s, ratio vs sha256sum {baseline / t:.2f} "
            f"(vs sha256sum x{args.workers}: {fan / t:.2f})"
        )
        print(
            f"  design files hashed: {len(hashed & planted)}/{len(planted)} planted "
            f"(records {fast['counts'].get('candidates', 0)}, archives opened "
            f"{fast['counts'].get('archives', 0)})"
        )
        print(
            f"  peak RSS half tree: main {small['rss_main_kb'] / 1024:.0f} MB, "
            f"worker {small['rss_worker_kb'] / 1024:.0f} MB; whole tree: main "
            f"{fast['rss_main_kb'] / 1024:.0f} MB, worker {fast['rss_worker_kb'] / 1024:.0f} MB"
        )

        if not args.skip_full:
            full = run_child(base / "full.jsonl", roots_all, args.workers, analysis=True)
            t = full["elapsed"]
            verdicts = full["counts"].get("by_verdict", {})
            print(
                f"scan (full inspection of every design file): {t:.2f} s, {files / t:.0f} files/s, "
                f"{mb / t:.0f} MB/s, ratio vs sha256sum {baseline / t:.2f} "
                f"(vs x{args.workers}: {fan / t:.2f}), "
                f"verdicts {verdicts}"
            )
            candidates = max(full["counts"].get("candidates", 1), 1)
            worker_cpu = full["worker_cpu"]
            print(
                f"  CPU: workers {worker_cpu:.1f} s ({worker_cpu / candidates:.3f} s "
                f"per design file), main {full['main_cpu']:.1f} s; wall x workers "
                f"{t * args.workers / candidates:.3f} s per design file ({_load()})"
            )
            print(
                f"  peak RSS: main {full['rss_main_kb'] / 1024:.0f} MB, "
                f"worker {full['rss_worker_kb'] / 1024:.0f} MB"
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
