"""A `firetrace import` killed with SIGKILL in the middle of a big batch leaves
the registry exactly as it was before (one SQLite transaction)."""

from __future__ import annotations

import os
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


def _wait_for_wal(db_path: Path, proc: subprocess.Popen, min_bytes: int) -> None:
    """Until the import has written ``min_bytes`` of its transaction to the WAL
    (kill points tied to progress, not to wall time, so speed cannot flake them)."""
    wal = Path(str(db_path) + "-wal")
    start = wal.stat().st_size if wal.exists() else 0
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size >= start + min_bytes:
            return
        time.sleep(0.005)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_at_wal_bytes", "workers"),
    [(64 * 1024, "1"), (4 * 1024 * 1024, "1"), (64 * 1024, "2")],
)
def test_sigkill_mid_import_leaves_registry_as_before(
    tmp_path, run_cli, db_path, kill_at_wal_bytes, workers
):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _registry_gen import write_batch
    finally:
        sys.path.remove(str(BENCHMARKS))
    big = tmp_path / "big.csv"
    write_batch(big, 60_000, seed=7)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    assert run_cli("import", samples_dir() / "batch.csv").exit_code == 0
    before = registry_snapshot(db_path)

    assert not Path(str(db_path) + "-wal").exists()  # every earlier connection closed
    proc = subprocess.Popen(
        [sys.executable, "-m", "firetrace", "import", str(big), "--db", str(db_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
        # "2": the batch is read by two worker processes (the large-batch path).
        env={**os.environ, "FIRETRACE_IMPORT_WORKERS": workers, "TMPDIR": str(scratch)},
    )
    _wait_for_wal(db_path, proc, kill_at_wal_bytes)
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert still_running, "import finished before it could be killed: make the batch bigger"

    assert registry_snapshot(db_path) == before
    # The workers' scratch databases do not outlive the import.
    assert not [p for p in scratch.rglob("*") if p.is_file()]
    import sqlite3

    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    # The registry is still usable and still knows its earlier batch.
    again = run_cli("import", samples_dir() / "batch.csv")
    assert again.exit_code == 0 and "already imported" in again.stdout
