"""Mutation score of the modules whose correctness matters most (issue 17.8).

Runs mutmut (``pip install mutmut``) over one module at a time, with only the
tests that cover that module, in a scratch copy of the working tree (the tree
itself is never touched), and prints killed / total per module and overall.
Not part of CI: a full run takes hours of CPU on a 2-core machine. Run it
niced, one module at a time::

    nice -n 15 python tools/mutation_score.py registry/status.py
    nice -n 15 python tools/mutation_score.py --all      # every module below

A surviving mutant is either a missing test (write it: tests/test_mutation_gaps.py
holds the ones found so far) or equivalent to the original (list it, with why,
in docs/testing.md#mutation-testing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# module (under firetrace/) -> the tests that cover it
MODULES = {
    "registry/validate.py": ["test_validate.py", "test_import.py", "test_import_bad.py",
                             "test_mutation_gaps.py", "test_vocabulary.py",
                             "test_registry_support.py"],
    "registry/status.py": ["test_trace.py", "test_audit_corrections.py", "test_mutation_gaps.py"],
    "registry/trace.py": ["test_trace.py", "test_wildcard_trace.py", "test_trace_fast_paths.py",
                          "test_mutation_gaps.py", "test_trace_details.py"],
    "registry/lookup.py": ["test_fuzzy_trace.py", "test_wildcard_trace.py",
                           "test_trace_fast_paths.py", "test_mutation_gaps.py",
                           "test_trace_details.py"],
    "registry/dupes.py": ["test_dupes_details.py", "test_dupes.py", "test_dupes_ranking.py",
                          "test_dupes_property.py", "test_import_bulk.py", "test_identity.py",
                          "test_mutation_gaps.py"],
    "forensics/archives.py": ["test_archives.py", "test_archive_guards.py"],
    "forensics/hashset.py": ["test_hashset.py", "test_mutation_gaps.py"],
    "refs/library.py": ["test_refs_library.py", "test_mutation_gaps.py"],
    "report/html.py": ["test_report_html.py", "test_report_build.py", "test_report_escaping.py",
                       "test_mutation_gaps.py"],
    "detect/features.py": ["test_features_units.py", "test_detect_hole_window.py",
                           "test_mutation_gaps.py"],
    "detect/readers/stl.py": ["test_stl_reader.py", "test_readers.py", "test_fuzz_readers.py",
                              "test_mutation_gaps.py"],
    "detect/readers/header.py": ["test_reader_formats.py", "test_readers.py",
                                 "test_detect_sniff.py", "test_fuzz_readers.py"],
    "detect/readers/gcode.py": ["test_reader_formats.py", "test_readers.py",
                                "test_gcode_bgcode.py", "test_fuzz_readers.py"],
    "detect/readers/trimesh_formats.py": ["test_reader_formats.py", "test_readers.py",
                                          "test_detect_sniff.py", "test_fuzz_readers.py"],
    "detect/readers/xml_formats.py": ["test_reader_formats.py", "test_readers.py",
                                      "test_detect_limits.py", "test_detect_bad_input.py",
                                      "test_fuzz_readers.py"],
    "detect/readers/__init__.py": ["test_reader_formats.py", "test_readers.py",
                                   "test_stl_reader.py", "test_detect_sniff.py"],
}  # fmt: skip
COPIED = ("firetrace", "rules", "samples", "tests", "benchmarks", "pyproject.toml")


def _scratch_copy(module: str, tests: list[str]) -> Path:
    """A copy of the tree with a [tool.mutmut] section for this module."""
    root = Path(tempfile.mkdtemp(prefix="firetrace-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, root / name)
    selection = ", ".join(json.dumps(f"tests/{t}") for t in tests)
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["firetrace"]\n'
        f'only_mutate = ["firetrace/{module}"]\n'
        f"pytest_add_cli_args_test_selection = [{selection}]\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-m", "not slow", "-q"]\n'
        'also_copy = ["rules", "samples", "benchmarks"]\n'
    )
    with open(root / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(config)
    return root


def _results(root: Path) -> dict[str, int]:
    """Mutants by status, from ``mutmut results --all true``."""
    out = subprocess.run(
        ["mutmut", "results", "--all", "true"], cwd=root, capture_output=True, text=True
    ).stdout
    counts: dict[str, int] = {}
    for line in out.splitlines():
        if ":" in line:
            status = line.rsplit(":", 1)[1].strip()
            counts[status] = counts.get(status, 0) + 1
    return counts


_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", " FROM ", " WHERE ", "ORDER BY", " AND ")
# A fragment of a statement built from several literals: an SQL keyword written in
# capitals as a word of its own, or a list of alias.column references.
_SQL_KEYWORD = re.compile(
    r"\b(SELECT|FROM|WHERE|AND|OR|JOIN|ON|IN|IS|NULL|LIMIT|ORDER BY|GROUP BY|DESC|COLLATE)\b"
)
_SQL_COLUMNS = re.compile(r"^\s*\w+\.\w+(\s*,\s*\w+\.\w+)*\s*,?\s*$")


def _is_sql(text: str) -> bool:
    return (
        any(word in text.upper() for word in _SQL_WORDS)
        or bool(_SQL_KEYWORD.search(text))
        or bool(_SQL_COLUMNS.match(text))
    )


def _diff(root: Path, mutant: str) -> tuple[list[str], list[str], str]:
    """The removed and added lines of mutmut's diff, and the unchanged line above them."""
    shown = subprocess.run(["mutmut", "show", mutant], cwd=root, capture_output=True, text=True)
    lines = shown.stdout.splitlines()
    removed = [x[1:] for x in lines if x.startswith("-") and not x.startswith("---")]
    added = [x[1:] for x in lines if x.startswith("+") and not x.startswith("+++")]
    first = next((i for i, x in enumerate(lines) if x.startswith(("-", "+"))
                  and not x.startswith(("---", "+++"))), 0)  # fmt: skip
    above = lines[first - 1][1:] if first and lines[first - 1].startswith(" ") else ""
    return removed, added, above


# Survivors shown equivalent by reading them: tools/mutation_equivalents.toml
EQUIVALENTS = Path(__file__).resolve().parent / "mutation_equivalents.toml"


def known_equivalent(
    path: Path = EQUIVALENTS,
) -> dict[str, list[tuple[str, str, str, str, str]]]:
    """Module -> (function, removed line, added line, why, line above) regular
    expressions; the line above (optional, ``above`` in the file) tells apart
    mutants of identical lines, such as two ``continue`` of one function."""
    with open(path, "rb") as fh:
        entries = tomllib.load(fh)["equivalent"]
    table: dict[str, list[tuple[str, str, str, str]]] = {}
    for e in entries:
        table.setdefault(e["module"], []).append(
            (e["function"], e["removed"], e["added"], e["why"], e.get("above", ""))
        )
    return table


KNOWN_EQUIVALENT = known_equivalent()


def is_equivalent(
    removed: list[str], added: list[str], above: str = "", module: str = "", mutant: str = ""
) -> str | None:
    """Why a surviving mutant cannot change behaviour, or None.

    Two kinds are recognised: the letter case of an SQL text without quoted
    values changed (SQLite reads keywords and names in any case), and the
    survivors of ``module`` listed in :data:`KNOWN_EQUIVALENT`."""
    function = mutant.rsplit("__mutmut_", 1)[0]
    if removed:
        for where, before, after, why, context in KNOWN_EQUIVALENT.get(module, []):
            if (
                re.search(where, function)
                and re.search(context, above.strip())
                and all(re.search(before, line.strip()) for line in removed)
                # a mutant that only deletes (an argument dropped) matches an entry whose
                # ``added`` pattern matches the empty text
                and (added or re.search(after, "") is not None)
                and all(re.search(after, line.strip()) for line in added)
            ):
                return why
    if len(removed) != len(added) or not removed:
        return None
    for before, after in zip(removed, added, strict=True):
        # only the string literals that changed count: "raise ... from None" is no SQL
        changed = [
            (a, b)
            for a, b in zip(_LITERAL.findall(before), _LITERAL.findall(after), strict=False)
            if a != b
        ]
        if before.lower() != after.lower() or not changed:
            return None
        for text, _ in changed:
            if "'" in text or not _is_sql(text):
                return None
    return "SQL keywords and names are case-insensitive"


def tally(root: Path, module: str) -> dict[str, object]:
    """The score of the mutmut run kept in ``root``: counts, survivors, equivalents."""
    counts = _results(root)
    listing = subprocess.run(["mutmut", "results"], cwd=root, capture_output=True, text=True)
    survivors = [
        line.split(":")[0].strip()
        for line in listing.stdout.splitlines()
        if line.strip().endswith(": survived")
    ]
    equivalent = {}
    for mutant in list(survivors):
        why = is_equivalent(*_diff(root, mutant), module=module, mutant=mutant)
        if why:
            equivalent[mutant] = why
            survivors.remove(mutant)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    # "no tests": no selected test runs that function (reported apart, counted as not killed)
    total = sum(counts.values()) - counts.get("skipped", 0) - len(equivalent)
    return {
        "module": module,
        "killed": killed,
        "total": total,
        "counts": counts,
        "survivors": survivors,
        "equivalent": equivalent,
    }


def score(module: str, keep: bool = False) -> dict[str, object]:
    """Run mutmut over ``module`` with its tests; the counts and the survivors."""
    root = _scratch_copy(module, MODULES[module])
    # The mutated copy must shadow any installed firetrace; the folder exists before
    # Python starts, or the import system caches it as missing.
    (root / "mutants").mkdir()
    env = {**os.environ, "PYTHONPATH": str(root / "mutants")}
    started = time.process_time()
    wall = time.perf_counter()
    with open(root / "mutmut-run.log", "w") as log:
        run = subprocess.run(
            ["mutmut", "run", "--max-children", "1"], cwd=root, env=env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    summary = tally(root, module)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return {
        **summary,
        "wall_s": round(time.perf_counter() - wall, 1),
        "mutmut_exit": run.returncode,
        "log_tail": (root / "mutmut-run.log").read_text()[-800:] if not summary["killed"] else "",
        "scratch": str(root) if keep else None,
        "cpu_s_parent": round(time.process_time() - started, 1),
    }


def main() -> None:
    """Score the modules named (or ``--all``) and print one line each, then the total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"any of: {', '.join(MODULES)}")
    parser.add_argument("--all", action="store_true", help="every module in the list")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--rescore", metavar="SCRATCH",
        help="score a kept scratch copy again (after its survivors were run again), no new run",
    )  # fmt: skip
    args = parser.parse_args()
    chosen = list(MODULES) if args.all else args.modules
    unknown = [m for m in chosen if m not in MODULES]
    if not chosen or unknown:
        parser.error(f"choose modules from: {', '.join(MODULES)}")
    if args.rescore and len(chosen) != 1:
        parser.error("--rescore reads one module's scratch copy: name that module")
    results = []
    for module in chosen:
        if args.rescore:
            result = {**tally(Path(args.rescore), module), "wall_s": 0.0, "log_tail": ""}
        else:
            result = score(module, keep=args.keep)
        results.append(result)
        share = result["killed"] / result["total"] if result["total"] else 0.0
        print(
            f"{module}: {result['killed']}/{result['total']} killed ({share:.0%}), "
            f"{len(result['equivalent'])} equivalent left out, {result['wall_s']} s wall; "
            f"{result['counts']}",
            flush=True,
        )
        for survivor in result["survivors"]:
            print(f"  survived: {survivor}")
        for mutant, why in result["equivalent"].items():
            print(f"  equivalent: {mutant} ({why})")
        if result["log_tail"]:
            print(result["log_tail"], file=sys.stderr)
    killed = sum(r["killed"] for r in results)
    total = sum(r["total"] for r in results)
    if total:
        print(f"total: {killed}/{total} killed ({killed / total:.1%})")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
