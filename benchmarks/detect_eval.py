"""Detection quality: false-positive rates on the benign corpus and on generated
benign look-alikes, and recall on freshly generated stand-ins in random poses,
scales and formats.

    python benchmarks/detect_eval.py [--corpus DIR] [--per-kind N] [--seed S] [--verbose]

Prints FPR(high), FPR(review) (review or high) and recall(review) against the
targets FPR(high) <= 1 %, FPR(review) <= 5 %, recall(review) >= 90 %. The benign
corpus part is skipped, with a message, when the folder is absent. Files the
engine cannot parse are counted separately (they are neither flagged nor clear).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from firetrace.detect.engine import inspect_file, inspect_stream  # noqa: E402
from firetrace.detect.sniff import sniff_format  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "benign"
FORMATS = ("stl", "stl_ascii", "obj", "ply", "3mf")
INCH_EVERY = 7  # every 7th unitless file is written in inches instead of millimetres
ROUGH_EVERY = 3  # every 3rd file is subdivided and jittered (0.03 mm) before export


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "firetrace_samples", ROOT / "samples" / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rate(counter: Counter, *verdicts: str) -> tuple[int, int, float]:
    total = sum(v for k, v in counter.items() if k != "error")
    hits = sum(counter[v] for v in verdicts)
    return hits, total, (hits / total if total else 0.0)


def evaluate_corpus(corpus: Path, verbose: bool) -> Counter | None:
    if not corpus.is_dir():
        print(f"benign corpus: {corpus} not found, skipped")
        return None
    verdicts: Counter = Counter()
    skipped = 0
    started = time.perf_counter()
    for dirpath, _dirs, files in os.walk(corpus):
        for name in sorted(files):
            path = Path(dirpath) / name
            with open(path, "rb") as fh:
                fmt = sniff_format(fh, path.stat().st_size, str(path))
            if fmt is None:
                skipped += 1
                continue
            record = inspect_file(path)
            verdicts[record["verdict"]] += 1
            if verbose and record["verdict"] != "clear":
                rules = ", ".join(f["rule"] for f in record["findings"])
                print(
                    f"  {record['verdict']:6} {record['score']:.2f} {path.relative_to(corpus)} "
                    f"{record['error'] or rules}"
                )
    elapsed = time.perf_counter() - started
    high = rate(verdicts, "high")
    review = rate(verdicts, "review", "high")
    print(
        f"benign corpus: {sum(verdicts.values())} design files ({skipped} other files skipped), "
        f"{verdicts['error']} unreadable, {elapsed:.1f} s"
    )
    print(f"  FPR(high)   = {high[0]}/{high[1]} = {100 * high[2]:.2f} %  (target <= 1 %)")
    print(f"  FPR(review) = {review[0]}/{review[1]} = {100 * review[2]:.2f} %  (target <= 5 %)")
    return verdicts


def evaluate_generated(per_kind: int, seed: int, verbose: bool) -> None:
    import numpy as np

    generator = load_generator()
    rng = np.random.default_rng(seed)
    results = {"standin": Counter(), "lookalike": Counter()}
    per_kind_hits: dict[str, Counter] = {}
    started = time.perf_counter()
    index = inches = rough = 0
    for group, kinds in (("standin", generator.STANDINS), ("lookalike", generator.LOOKALIKES)):
        for kind, build in kinds.items():
            per_kind_hits[kind] = Counter()
            for n in range(per_kind):
                fmt = FORMATS[index % len(FORMATS)]
                index += 1
                mesh = generator.pose(build(rng), rng)
                if index % ROUGH_EVERY == 0:
                    mesh = generator.roughen(mesh, rng)
                    rough += 1
                if index % INCH_EVERY == 0 and fmt != "3mf":  # 3MF declares its unit
                    mesh.apply_scale(1 / 25.4)  # drawn in inches: the engine must infer the unit
                    inches += 1
                data, extension = generator.export_bytes(mesh, fmt)
                name = f"part_{index:04d}.{extension}"
                record = inspect_stream(io.BytesIO(data), name=name, size=len(data))
                results[group][record["verdict"]] += 1
                per_kind_hits[kind][record["verdict"]] += 1
                if verbose and (
                    (group == "standin" and record["verdict"] not in ("review", "high"))
                    or (group == "lookalike" and record["verdict"] != "clear")
                ):
                    rules = ", ".join(f["rule"] for f in record["findings"])
                    print(
                        f"  {group} {kind} #{n} {fmt}: {record['verdict']} {record['score']:.2f} "
                        f"{record['error'] or rules}"
                    )
    elapsed = time.perf_counter() - started
    recall = rate(results["standin"], "review", "high")
    recall_high = rate(results["standin"], "high")
    total = sum(results["standin"].values()) + sum(results["lookalike"].values())
    print(
        f"generated: {total} files ({per_kind} per kind, formats {', '.join(FORMATS)}, "
        f"random poses, scale 0.9-1.1, {inches} written in inches, {rough} subdivided and "
        f"jittered, seed {seed}), {elapsed:.1f} s"
    )
    print(f"  recall(review) = {recall[0]}/{recall[1]} = {100 * recall[2]:.1f} %  (target >= 90 %)")
    print(f"  recall(high)   = {recall_high[0]}/{recall_high[1]} = {100 * recall_high[2]:.1f} %")
    fp_high = rate(results["lookalike"], "high")
    fp_review = rate(results["lookalike"], "review", "high")
    print(
        f"  look-alikes FPR(high) = {fp_high[0]}/{fp_high[1]} = {100 * fp_high[2]:.1f} %, "
        f"FPR(review) = {fp_review[0]}/{fp_review[1]} = {100 * fp_review[2]:.1f} %"
    )
    for kind, counter in per_kind_hits.items():
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
        print(f"    {kind:13} {shown}")
    errors = results["standin"]["error"] + results["lookalike"]["error"]
    if errors:
        print(f"  unreadable generated files: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--per-kind", type=int, default=25)
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh random seed")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--gcode", action="store_true", help="also the G-code evaluation with real slicers"
    )
    args = parser.parse_args()
    evaluate_corpus(args.corpus, args.verbose)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    evaluate_generated(args.per_kind, seed, args.verbose)
    if args.gcode:
        # G-code groups live in their own module (benchmarks/_slicers.py, issue 13)
        from _slicers import main as evaluate_gcode

        evaluate_gcode(["--seed", str(seed)] + (["--verbose"] if args.verbose else []))


if __name__ == "__main__":
    main()
