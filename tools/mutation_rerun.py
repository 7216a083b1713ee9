"""Run surviving mutants of a kept mutation_score.py scratch copy again, one by one.

``mutmut run NAME...`` with many names (90 to 200 here) left standing most of the
survivors that the same command kills when given a few names (issue 17.8, seen on
``refs/library.py``); the cause is not known. This script does what mutmut's
workers do for each name: set ``MUTANT_UNDER_TEST`` and run ``pytest -x`` in the
copy's ``mutants/`` folder over the tests mutmut's stats associate with the
mutated function, the tests the stats do not know yet (added after the run)
first, then those of the test files named, then the others. A mutant whose tests run
past ``--timeout`` counts as killed, as mutmut counts its timeouts. The verdicts go
into the copy's meta file as they come, so
``python tools/mutation_score.py --rescore SCRATCH MODULE`` counts them::

    nice -n 10 python tools/mutation_rerun.py SCRATCH registry/lookup.py NAMES_FILE \\
        tests/test_fuzzy_trace.py tests/test_wildcard_trace.py --jobs 2 --timeout 180

With ``--fork`` each mutant runs in a forked child of one process that imported pytest
and the tests once, as mutmut's workers do (about 10 s a mutant at load 20 instead of
30-60 s), for code not run at import. Copy the changed test files into
``SCRATCH/mutants/tests/`` first. Only run it
while no ``mutmut run`` works in the same copy (both write the meta file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _unseen(root: Path, test_files: list[str], known: set[str]) -> list[str]:
    """Test functions of ``test_files`` the stats do not name (added since the run)."""
    found = []
    for name in test_files:
        for line in (root / "mutants" / name).read_text(encoding="utf-8").splitlines():
            m = re.match(r"def (test_\w+)\(", line)
            if m and not any(k.split("[")[0] == f"{name}::{m.group(1)}" for k in known):
                found.append(f"{name}::{m.group(1)}")
    return found


def _forked(root: Path, names: list[str], selection, args):
    """(name, exit code) of each mutant, each run in a forked child of this process."""
    import signal
    import time

    import pytest

    os.chdir(root / "mutants")
    sys.path.insert(0, str(root / "mutants"))
    os.environ["MUTANT_UNDER_TEST"] = ""
    pytest.main(["-q", "--collect-only", "-p", "no:cacheprovider", *args.tests])  # warm up
    for name in names:
        # by function: a parametrized id holding brackets or escapes is not found again by
        # a second pytest.main in one process
        tests = list(dict.fromkeys(t.split("[")[0] for t in selection(name)))
        started, pid = time.monotonic(), os.fork()
        if pid == 0:
            os.environ["MUTANT_UNDER_TEST"] = name
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            os._exit(int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                                      "-m", "not slow", *tests])))  # fmt: skip
        code = None
        while code is None and time.monotonic() - started < args.timeout:
            done, status = os.waitpid(pid, os.WNOHANG)
            code = os.waitstatus_to_exitcode(status) if done else None
            time.sleep(0.2)
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = 36
        yield name, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scratch", type=Path)
    parser.add_argument("module", help="under firetrace/, as in mutation_score.py")
    parser.add_argument("names", type=Path, help="a file of mutant names, one a line")
    parser.add_argument("tests", nargs="*", help="test files whose new tests to add")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument(
        "--timeout", type=float, default=600.0,
        help="seconds per mutant; a mutant that makes the tests hang counts as killed, as "
        "mutmut counts its timeouts",
    )  # fmt: skip
    parser.add_argument(
        "--only-named", action="store_true",
        help="run only the tests of the test files named: a quick first pass (with a short "
        "--timeout for mutants that hang); run its survivors again without it",
    )  # fmt: skip
    parser.add_argument(
        "--fork", action="store_true",
        help="run each mutant in a forked child of this process, which has imported pytest "
        "and the tests once (as mutmut's workers do): seconds a mutant instead of a fresh "
        "interpreter's start; not for code that runs at import (use fresh processes there). "
        "Tests are named by function, not by parametrized id",
    )  # fmt: skip
    args = parser.parse_args()
    root = args.scratch.resolve()
    stats = json.loads((root / "mutants" / "mutmut-stats.json").read_text())
    by_function = stats["tests_by_mangled_function_name"]
    unseen = _unseen(root, args.tests, set(stats["duration_by_test"]))
    names = [n.strip() for n in args.names.read_text().splitlines() if n.strip()]

    def selection(name: str) -> list[str]:
        # the tests of the files named run first: those are the quick, exact ones
        known = by_function.get(name.rsplit("__mutmut_", 1)[0], [])
        tests = unseen + sorted(known, key=lambda t: (t.split("::")[0] not in args.tests, t))
        if args.only_named:
            tests = [t for t in tests if t.split("::")[0] in args.tests]
        return tests

    def run(name: str) -> tuple[str, int]:
        tests = selection(name)
        env = {**os.environ, "MUTANT_UNDER_TEST": name, "PYTHONPATH": str(root / "mutants")}
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                   "-p", "no:randomly", "-m", "not slow", *tests]  # fmt: skip
        try:
            done = subprocess.run(
                command, cwd=root / "mutants", env=env, capture_output=True, timeout=args.timeout
            )
        except subprocess.TimeoutExpired:
            return name, 36  # mutmut's code for a timeout, which it counts as killed
        return name, done.returncode

    meta_path = root / "mutants" / "firetrace" / f"{args.module}.meta"
    meta = json.loads(meta_path.read_text())
    verdicts = {}
    results = _forked(root, names, selection, args) if args.fork else None
    with ThreadPoolExecutor(args.jobs) as pool:
        # each verdict is written as it comes, so a run stopped part-way keeps its results
        for name, code in results or pool.map(run, names):
            verdicts[name] = code
            survived = code in (0, 5)  # passed, or (5) no test collected
            verdict = "survived" if survived else "timeout" if code == 36 else "killed"
            print(name, verdict, flush=True)
            meta["exit_code_by_key"][name] = 0 if survived else 36 if code == 36 else 1
            meta_path.write_text(json.dumps(meta))
    killed = sum(1 for code in verdicts.values() if code not in (0, 5))
    print(f"{killed} of {len(verdicts)} killed")


if __name__ == "__main__":
    main()
