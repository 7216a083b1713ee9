"""Crash safety: `firetrace import` processes killed with SIGKILL at random points
leave `firetrace check` clean, and every batch either wholly present or wholly absent
(with its audit entry exactly when it is present)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firetrace.registry.db import connect

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

HEADER = (
    "manufacturer,serial,component,type,model,calibre,country_of_manufacture,"
    "year_of_manufacture,event,event_date,party,reference\n"
)
MAKERS = ("Acme Arms", "Borealis Waffen GmbH", "Cobalt Defence Ltd")


def write_batch(path: Path, batch_no: int, rows: int) -> Path:
    """A valid batch whose serials all carry the batch number (B007N...)."""
    rng = random.Random(batch_no)
    lines = [HEADER]
    for i in range(rows):
        if i % 2 == 0:
            # Random tails: sequential serials would make every batch a duplicate-group
            # showcase for the serial hook, which is not what this test is about.
            serial = f"B{batch_no:03d}N" + "".join(rng.choices("0123456789", k=8))
        maker = MAKERS[batch_no % len(MAKERS)]
        if i % 2 == 0:
            event, when, party = "manufactured", f"20{10 + i % 10}-0{1 + i % 9}-1{i % 10}", maker
        else:
            event, when, party = "sold", "2023-06-30", f"Dealer {i % 37}"
        lines.append(
            f"{maker},{serial},frame,pistol,M{batch_no % 7},9x19mm,AT,2010,"
            f"{event},{when},{party},REF-{batch_no}-{i}\n"
        )
    path.write_text("".join(lines), encoding="utf-8")
    return path


def firetrace(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "firetrace", *map(str, args)]


def batch_state(conn, batch_no: int) -> tuple[int, int]:
    """(components, events) of one batch, found by its serial prefix."""
    prefix = f"B{batch_no:03d}N%"
    components = conn.execute(
        "SELECT count(*) FROM components WHERE serial LIKE ?", (prefix,)
    ).fetchone()[0]
    events = conn.execute(
        "SELECT count(*) FROM events e JOIN components c ON c.id = e.component_id "
        "WHERE c.serial LIKE ?",
        (prefix,),
    ).fetchone()[0]
    return components, events


@pytest.mark.slow
def test_fifty_imports_killed_at_random_points(tmp_path):
    rows, kills = 2000, 50
    db = tmp_path / "registry.db"
    env = {
        **os.environ,
        "FIRETRACE_DB": str(db),
        "FIRETRACE_OPERATOR": "crash-test",
        "FIRETRACE_AUDIT_KEY": "crash-test key",  # check then verifies a keyed chain
    }
    batches = [write_batch(tmp_path / f"b{n:03d}.csv", n, rows) for n in range(kills + 1)]

    # Calibrate: how long a whole import takes here (start-up plus the transaction).
    started = time.perf_counter()
    done = subprocess.run(firetrace("import", batches[kills]), env=env, capture_output=True)
    full = time.perf_counter() - started
    assert done.returncode == 0, done.stderr.decode()

    rng = random.Random(20261127)
    for n in range(kills):
        proc = subprocess.Popen(
            firetrace("import", batches[n]),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # From late in start-up to just past a whole import: most kills land mid-import.
        time.sleep(rng.uniform(0.3 * full, 1.05 * full))
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    check = subprocess.run(firetrace("check", "--json"), env=env, capture_output=True, text=True)
    report = json.loads(check.stdout)
    assert check.returncode == 0, report["problems"]
    assert report["audit"]["keyed_entries"] == report["audit"]["entries"] > 0

    conn = connect(db)
    present = 0
    for n in range(kills):
        components, events = batch_state(conn, n)
        recorded = conn.execute(
            "SELECT count(*) FROM batches WHERE source = ?", (batches[n].name,)
        ).fetchone()[0]
        audited = conn.execute(
            "SELECT count(*) FROM audit a, json_each(a.record_ids) j, batches b "
            "WHERE a.command = 'import' AND j.value = 'batch:' || b.id AND b.source = ?",
            (batches[n].name,),
        ).fetchone()[0]
        if recorded:
            present += 1
            assert (components, events, audited) == (rows // 2, rows, 1), f"batch {n}"
        else:
            assert (components, events, audited) == (0, 0, 0), f"batch {n} half-written"
    conn.close()
    print(f"\n{kills} kills: {present} batches completed before the kill, {kills - present} absent")

    # The registry is not wedged: a killed batch imports cleanly afterwards.
    absent = next((n for n in range(kills) if batch_state(connect(db), n) == (0, 0)), None)
    if absent is not None:
        again = subprocess.run(firetrace("import", batches[absent]), env=env, capture_output=True)
        assert again.returncode == 0, again.stderr.decode()
        assert batch_state(connect(db), absent) == (rows // 2, rows)
