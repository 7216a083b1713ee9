"""A `firetrace import` killed with SIGKILL in the middle of a big batch leaves
the registry exactly as it was before (one SQLite transaction)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_registry_support import registry_snapshot

from firetrace.paths import samples_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("kill_after", [0.8, 2.5])
def test_sigkill_mid_import_leaves_registry_as_before(tmp_path, run_cli, db_path, kill_after):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _registry_gen import write_batch
    finally:
        sys.path.remove(str(BENCHMARKS))
    big = tmp_path / "big.csv"
    write_batch(big, 60_000, seed=7)
    assert run_cli("import", samples_dir() / "batch.csv").exit_code == 0
    before = registry_snapshot(db_path)

    proc = subprocess.Popen(
        [sys.executable, "-m", "firetrace", "import", str(big), "--db", str(db_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    time.sleep(kill_after)
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert still_running, "import finished before it could be killed: make the batch bigger"

    assert registry_snapshot(db_path) == before
    import sqlite3

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    # The registry is still usable and still knows its earlier batch.
    again = run_cli("import", samples_dir() / "batch.csv")
    assert again.exit_code == 0 and "already imported" in again.stdout
