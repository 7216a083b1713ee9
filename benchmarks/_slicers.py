"""G-code evaluation with real slicers: stand-ins and benign parts sliced by
Debian's PrusaSlicer (``prusa-slicer --export-gcode``) and CuraEngine (with the
printer definitions of Debian's ``cura`` package), each G-code file judged and
compared with the verdict of the mesh it was sliced from.

    python benchmarks/_slicers.py [--per-kind N] [--corpus DIR] [--corpus-limit N]
                                  [--slicers prusa,cura] [--seed S] [--verbose]
    python benchmarks/_slicers.py --big      # ~25 MB PrusaSlicer files: time and memory

Prints, per slicer and per split (family A stand-ins of samples/generate.py, on
which the rules were tuned; family B of benchmarks/_standins_b.py, held out, when
present; benign corpus parts): agreement of the G-code verdict with the mesh
verdict, recall(review) on stand-ins, FPR(high) and FPR(review) on benign parts,
and the time to judge each file. ``benchmarks/detect_eval.py --gcode`` runs it.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firetrace.detect.engine import inspect_stream  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "benign" / "voron-0" / "STLs"
CURA_CACHE = Path(os.environ.get("FIRETRACE_CURA_DEFS", Path.home() / ".cache/firetrace/cura"))
BED_MM = 400  # large enough for every stand-in; both slicers are told so
CURA_PRINTER = "creality_ender3.def.json"


def cura_definitions() -> Path | None:
    """The folder holding Cura's printer definitions (fdmprinter and the Ender-3),
    extracted once from Debian's ``cura`` package (``apt-get download`` and
    ``dpkg -x``, no install) into :data:`CURA_CACHE`; None when that fails."""
    found = list(CURA_CACHE.glob("**/definitions/fdmprinter.def.json"))
    if found:
        return found[0].parent
    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        return None
    CURA_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        got = subprocess.run(["apt-get", "download", "cura"], cwd=scratch, capture_output=True)
        debs = list(Path(scratch).glob("cura_*.deb"))
        if got.returncode or not debs:
            return None
        subprocess.run(["dpkg", "-x", str(debs[0]), str(CURA_CACHE)], check=True)
    found = list(CURA_CACHE.glob("**/definitions/fdmprinter.def.json"))
    return found[0].parent if found else None


def available_slicers() -> dict[str, str]:
    """Slicer name -> why it cannot run ("" when it can)."""
    status = {}
    status["prusa"] = "" if shutil.which("prusa-slicer") else "prusa-slicer not installed"
    if not shutil.which("CuraEngine"):
        status["cura"] = "CuraEngine not installed"
    else:
        status["cura"] = "" if cura_definitions() else "Cura printer definitions unavailable"
    return status


def place_on_bed(mesh):
    """A copy standing on the bed (z >= 0) in the middle of it: CuraEngine slices
    only what is above the plate and does not move the model itself."""
    placed = mesh.copy()
    low, high = placed.bounds
    placed.apply_translation(
        [BED_MM / 2 - (low[0] + high[0]) / 2, BED_MM / 2 - (low[1] + high[1]) / 2, -low[2]]
    )
    return placed


def slice_prusa(stl: Path, out: Path, *extra: str) -> None:
    """PrusaSlicer CLI; a posed part that touches the bed at a point or an edge has
    nothing in its first layer, which PrusaSlicer refuses: such a part is sliced
    again with supports (which the G-code reader must then leave out)."""
    bed = f"0x0,{BED_MM}x0,{BED_MM}x{BED_MM},0x{BED_MM}"
    command = [
        "prusa-slicer",
        "--export-gcode",
        "--bed-shape",
        bed,
        "--max-print-height",
        str(BED_MM),
        "--gcode-label-objects",
        *extra,
        "-o",
        str(out),
        str(stl),
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=900)
    except subprocess.CalledProcessError as exc:
        if b"no extrusions in the first layer" not in exc.stderr + exc.stdout:
            raise
        SUPPORTED.append(stl.name)
        subprocess.run(
            command[:2] + ["--support-material"] + command[2:],
            check=True,
            capture_output=True,
            timeout=900,
        )


SUPPORTED: list[str] = []  # files PrusaSlicer sliced only with supports


def slice_cura(stl: Path, out: Path, *extra: str) -> None:
    definitions = cura_definitions()
    search = f"{definitions}:{definitions.parent / 'extruders'}"
    env = dict(os.environ, CURA_ENGINE_SEARCH_PATH=search)
    size = [f"machine_{k}={BED_MM}" for k in ("width", "depth", "height")]
    settings = [a for s in size + list(extra) for a in ("-s", s)]
    subprocess.run(
        [
            "CuraEngine",
            "slice",
            "-j",
            str(definitions / CURA_PRINTER),
            *settings,
            "-l",
            str(stl),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=900,
        env=env,
    )


SLICE = {"prusa": slice_prusa, "cura": slice_cura}


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verdict(data: bytes, name: str) -> tuple[dict, float]:
    started = time.process_time()
    record = inspect_stream(io.BytesIO(data), name=name, size=len(data))
    return record, time.process_time() - started


class Tally:
    """Verdict pairs and timings of one split and slicer."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []  # (mesh verdict, gcode verdict)
        self.seconds: list[float] = []
        self.sizes: list[int] = []
        self.failed = 0

    def line(self, positive: bool) -> str:
        n = len(self.pairs)
        if not n:
            return f"no files (slicing failed {self.failed})"
        agree = sum(m == g for m, g in self.pairs)
        flagged = sum(g in ("review", "high") for _, g in self.pairs)
        high = sum(g == "high" for _, g in self.pairs)
        errors = sum(g == "error" for _, g in self.pairs)
        mesh_flagged = sum(m in ("review", "high") for m, _ in self.pairs)
        seconds = sorted(self.seconds)
        median = seconds[len(seconds) // 2]
        text = f"agreement {agree}/{n} = {100 * agree / n:.1f} %"
        if positive:
            text += (
                f", recall(review) {flagged}/{n} = {100 * flagged / n:.1f} % "
                f"(mesh {mesh_flagged}/{n})"
            )
        else:
            text += (
                f", FPR(high) {high}/{n} = {100 * high / n:.2f} %, FPR(review) {flagged}/{n}"
                f" = {100 * flagged / n:.2f} % (mesh {mesh_flagged}/{n})"
            )
        mb = sum(self.sizes) / 1e6
        text += (
            f"; judge CPU median {median:.2f} s, max {seconds[-1]:.2f} s per file, "
            f"{mb / max(sum(self.seconds), 1e-9):.1f} MB/s; errors {errors}, "
            f"slicing failed {self.failed}"
        )
        return text


def _rules(record: dict) -> str:
    return ",".join(f["rule"] for f in record["findings"]) or record["error"] or "-"


def _slice_cached(slicer: str, stl: Path, out: Path, cache: Path | None) -> bool:
    """Slice *stl* into *out* (False when the slicer fails); with a *cache*, a file
    sliced before (or a failure recorded before) is reused."""
    kept = cache / out.name if cache else None
    if kept is not None and kept.exists():
        shutil.copyfile(kept, out)
        return True
    if kept is not None and kept.with_suffix(".failed").exists():
        return False
    try:
        SLICE[slicer](stl, out)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        if kept is not None:
            kept.with_suffix(".failed").touch()
        return False
    if kept is not None:
        shutil.copyfile(out, kept)
    return True


def evaluate(items, slicers: list[str], verbose: bool, cache: Path | None = None, tag: str = ""):
    """Slice every (label, mesh) with each slicer; compare G-code and mesh verdicts.
    With *cache*, sliced files are kept there under *tag* and reused."""
    tallies = {s: Tally() for s in slicers}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for index, (label, mesh) in enumerate(items):
            placed = place_on_bed(mesh)
            stl = folder / f"part_{index:04d}.stl"
            stl.write_bytes(placed.export(file_type="stl"))
            mesh_record, _ = _verdict(stl.read_bytes(), stl.name)
            for slicer in slicers:
                out = folder / f"{tag}{index:04d}_{slicer}.gcode"
                if not _slice_cached(slicer, stl, out, cache):
                    tallies[slicer].failed += 1
                    continue
                data = out.read_bytes()
                record, seconds = _verdict(data, out.name)
                tallies[slicer].pairs.append((mesh_record["verdict"], record["verdict"]))
                tallies[slicer].seconds.append(seconds)
                tallies[slicer].sizes.append(len(data))
                if verbose:
                    same = "  " if record["verdict"] == mesh_record["verdict"] else "!="
                    print(
                        f"    {same} {slicer} {label}: mesh {mesh_record['verdict']} "
                        f"({_rules(mesh_record)}) gcode {record['verdict']} ({_rules(record)}) "
                        f"{len(data) / 1e6:.1f} MB judged in {seconds:.2f} s",
                        flush=True,
                    )
                out.unlink()
    return tallies


def generated(module, per_kind: int, seed: int, positive: bool):
    import numpy as np

    rng = np.random.default_rng(seed)
    kinds = module.STANDINS if positive else module.LOOKALIKES
    for kind, build in kinds.items():
        for n in range(per_kind):
            yield f"{kind}#{n}", module.pose(build(rng), rng)


def corpus_parts(folder: Path, limit: int):
    import trimesh

    paths = sorted(folder.rglob("*.stl"))[:limit]
    for path in paths:
        try:
            mesh = trimesh.load(path, force="mesh")
        except Exception:  # a corpus file trimesh cannot read is the mesh readers' business
            continue
        yield path.name, mesh


BIG_FILES = {
    # one long block, 175 % of the stand-in's size, at 0.05 mm layers: ~24 MB
    "one object": ("--scale", "175%", "--layer-height", "0.05", "--min-layer-height", "0.05"),
    # four copies of the block at 0.07 mm layers: ~26 MB, four objects
    "4 copies": ("--duplicate", "4", "--layer-height", "0.07"),
}


def big_file_benchmark() -> None:
    """PrusaSlicer files of about 25 MB (see :data:`BIG_FILES`), each judged in a
    fresh process: CPU time, wall time and peak memory, beside the same run's
    floor (one regular-expression pass that counts the G1 lines of the text)."""
    generator = _load(ROOT / "samples" / "generate.py", "firetrace_samples")
    import numpy as np

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        mesh = generator.channel_block(np.random.default_rng(3))
        stl = folder / "big.stl"
        stl.write_bytes(place_on_bed(mesh).export(file_type="stl"))
        for title, options in BIG_FILES.items():
            out = folder / "big.gcode"
            common = ("--first-layer-height", "0.2", "--fill-density", "35%", "--perimeters", "3")
            slice_prusa(stl, out, *common, *options)
            _time_big_file(title, out)


def _time_big_file(title: str, out: Path) -> None:
    size = out.stat().st_size
    code = (
        "import io, resource, sys, time\n"
        "t = time.process_time(); w = time.perf_counter()\n"
        "from firetrace.detect.engine import inspect_stream\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "r = inspect_stream(io.BytesIO(data), name='big.gcode', size=len(data))\n"
        "print(time.process_time() - t, time.perf_counter() - w,"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, r['verdict'],"
        " len(r['bodies']), flush=True)\n"
    )
    floor = (
        "import re, sys, time\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "t = time.process_time()\n"
        "n = len(re.findall(rb'^G1 [^\\n]*', data, re.M))\n"
        "print(time.process_time() - t, n)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=env, check=True
    )
    cpu, wall, rss, verdict, bodies = run.stdout.split()
    base = subprocess.run(
        [sys.executable, "-c", floor, str(out)], capture_output=True, text=True, check=True
    ).stdout.split()
    moves = int(base[1])
    print(
        f"big PrusaSlicer file, {title}: {size / 1e6:.1f} MB, {moves:,} G1 lines, "
        f"verdict {verdict}, {bodies} bodies; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  judged in {float(cpu):.2f} s CPU ({float(wall):.2f} s wall), imports included, "
        f"peak {float(rss):.0f} MB (targets <= 3 s, <= 1 GB)"
    )
    print(
        f"  floor: one regex pass counting G1 lines {float(base[0]):.2f} s CPU; ratio "
        f"judge / floor {float(cpu) / max(float(base[0]), 1e-9):.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=4)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--corpus-limit", type=int, default=40)
    parser.add_argument("--slicers", default="prusa,cura")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--big", action="store_true", help="only the 25 MB timing benchmarks")
    parser.add_argument("--verbose", action="store_true", help="one line per sliced file")
    parser.add_argument(
        "--cache", type=Path, default=None, help="keep sliced files here and reuse them"
    )
    parser.add_argument("--splits", default="a,b,corpus", help="which splits to run (a, b, corpus)")
    args = parser.parse_args(argv)
    status = available_slicers()
    if args.big:
        if status["prusa"]:
            print(f"big file: skipped ({status['prusa']})")
        else:
            big_file_benchmark()
        return
    slicers = []
    for name in args.slicers.split(","):
        if status.get(name, "unknown slicer"):
            print(f"{name}: skipped ({status.get(name, 'unknown slicer')})")
        else:
            slicers.append(name)
    if not slicers:
        return
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(
        f"G-code evaluation: slicers {', '.join(slicers)}, {args.per_kind} per kind, "
        f"random poses, seed {seed}; CPU {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    wanted = set(args.splits.split(","))
    splits = []  # (title, positive, items, cache tag)
    if "a" in wanted:
        family_a = _load(ROOT / "samples" / "generate.py", "firetrace_samples")
        positives = list(generated(family_a, args.per_kind, seed, True))
        lookalikes = list(generated(family_a, args.per_kind, seed + 1, False))
        splits.append(("family A stand-ins (tuned on)", True, positives, "a_pos_"))
        splits.append(("family A look-alikes", False, lookalikes, "a_look_"))
    family_b_path = ROOT / "benchmarks" / "_standins_b.py"
    if "b" in wanted and family_b_path.exists():
        family_b = _load(family_b_path, "firetrace_standins_b")
        drawn = family_b.sample(max(1, args.per_kind // 2), seed + 2)
        named = [(group, f"{kind}#{i}", mesh) for i, (group, kind, mesh) in enumerate(drawn)]
        positives = [(label, mesh) for group, label, mesh in named if group == "positive"]
        lookalikes = [(label, mesh) for group, label, mesh in named if group != "positive"]
        splits.append(("family B stand-ins (held out)", True, positives, "b_pos_"))
        splits.append(("family B look-alikes (held out)", False, lookalikes, "b_look_"))
    elif "b" in wanted:
        print("family B: benchmarks/_standins_b.py not present, skipped")
    if "corpus" in wanted and args.corpus.is_dir():
        parts = list(corpus_parts(args.corpus, args.corpus_limit))
        splits.append((f"benign corpus ({args.corpus.name})", False, parts, "corpus_"))
    elif "corpus" in wanted:
        print(f"benign corpus: {args.corpus} not found, skipped")
    cache = None
    if args.cache:
        cache = args.cache / f"seed{seed}_per{args.per_kind}"
        cache.mkdir(parents=True, exist_ok=True)
    for title, positive, items, tag in splits:
        started = time.perf_counter()
        tallies = evaluate(items, slicers, args.verbose, cache, tag)
        print(f"{title}: {len(items)} meshes, {time.perf_counter() - started:.0f} s", flush=True)
        for slicer, tally in tallies.items():
            print(f"  {slicer:6} {tally.line(positive)}", flush=True)
    if SUPPORTED:
        print(
            f"PrusaSlicer sliced {len(SUPPORTED)} posed parts only with supports "
            "(nothing in the first layer otherwise)"
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"peak memory of the evaluation process: {usage.ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
