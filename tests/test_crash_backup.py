"""A `firetrace backup` killed with SIGKILL at a random point never leaves a
half-written destination: the file is either absent or a complete registry that
passes its integrity check, and the source registry stays clean."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from firetrace import audit
from firetrace.integrity import check
from firetrace.registry.db import connect

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.mark.slow
def test_killed_backups_leave_no_half_written_file(tmp_path, db_path):
    conn = connect(db_path)
    conn.execute("BEGIN IMMEDIATE")
    for i in range(8_000):  # a registry of some megabytes, so a copy takes a while
        audit.append_entry(
            conn, operator="o", purpose="p", command="trace", args={"i": i}, record_ids=[i]
        )
    conn.execute("COMMIT")
    conn.close()
    env = {**os.environ, "FIRETRACE_DB": str(db_path)}

    def backup(dest):
        return subprocess.Popen(
            [sys.executable, "-m", "firetrace", "backup", str(dest)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    started = time.perf_counter()
    assert backup(tmp_path / "calibrate.db").wait() == 0
    full = time.perf_counter() - started

    rng = random.Random(7)
    complete = 0
    dest = tmp_path / "copy.db"
    for _ in range(6):
        dest.unlink(missing_ok=True)
        proc = backup(dest)
        time.sleep(rng.uniform(0.3 * full, 1.05 * full))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if dest.exists():
            complete += 1
            copy = sqlite3.connect(dest)
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("SELECT count(*) FROM audit").fetchone()[0] >= 8_000
            copy.close()
    print(f"\n6 killed backups: {complete} completed, {6 - complete} left no file")
    # The next backup to the same name clears the unfinished copies of killed ones.
    dest.unlink(missing_ok=True)
    assert backup(dest).wait() == 0
    assert not list(tmp_path.glob(".copy.db.partial-*"))
    source = connect(db_path)
    assert check(source).ok
