"""Two writers and readers at once: concurrent imports both land (one waits on the
busy timeout), a reader keeps working while a write is in flight and never sees a
half-written batch (WAL), and a writer that waits too long fails with a clear message."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading

import pytest
from test_crash_import import batch_state, firetrace, write_batch

from firetrace import audit
from firetrace.integrity import check
from firetrace.registry.db import connect


@pytest.fixture
def env(db_path):
    return {**os.environ, "FIRETRACE_DB": str(db_path), "FIRETRACE_OPERATOR": "clerk"}


@pytest.mark.slow
def test_two_concurrent_imports_both_end_correctly(tmp_path, db_path, env):
    connect(db_path).close()  # create the schema first, as a deployed registry has it
    rows = 2000
    batches = [write_batch(tmp_path / f"c{n}.csv", n, rows) for n in (1, 2)]
    procs = [
        subprocess.Popen(
            firetrace("import", b), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for b in batches
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    conn = connect(db_path)
    assert batch_state(conn, 1) == batch_state(conn, 2) == (rows // 2, rows)
    assert [e["command"] for e in audit.query_log(conn)] == ["import", "import"]
    assert check(conn).ok


@pytest.mark.slow
def test_a_waiting_writer_proceeds_once_the_lock_is_released(tmp_path, db_path, env):
    holder = connect(db_path)
    holder.execute("BEGIN IMMEDIATE")
    audit.append_entry(holder, operator="other", purpose=None, command="import", args={})
    proc = subprocess.Popen(
        firetrace("import", write_batch(tmp_path / "w.csv", 3, 200)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # It cannot finish while we hold the write lock; it can only wait (or fail).
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=2)
    holder.execute("COMMIT")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert batch_state(holder, 3) == (100, 200)
    assert audit.verify(holder).ok  # both entries chained, no fork
    assert audit.head(holder).entries == 2


@pytest.mark.slow
def test_readers_keep_working_and_never_see_half_a_batch(tmp_path, db_path, env):
    rows = 4000
    connect(db_path).close()
    proc = subprocess.Popen(
        firetrace("import", write_batch(tmp_path / "r.csv", 4, rows)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    reader = connect(db_path)
    seen = set()
    reads = 0
    while proc.poll() is None:
        # Each read is one consistent snapshot: before the batch or after it.
        reader.execute("BEGIN")
        seen.add(batch_state(reader, 4))
        audit.verify(reader)
        reader.execute("COMMIT")
        reads += 1
    assert proc.returncode == 0, proc.stderr.read().decode()
    seen.add(batch_state(reader, 4))
    assert reads > 0
    assert seen <= {(0, 0), (rows // 2, rows)}, seen
    assert (rows // 2, rows) in seen


def test_a_reader_is_not_blocked_by_an_open_write_transaction(db_path, run_cli):
    conn = connect(db_path)
    audit.append_entry(conn, operator="a", purpose=None, command="trace", args={})
    writer = connect(db_path)
    writer.execute("BEGIN IMMEDIATE")
    audit.append_entry(writer, operator="b", purpose=None, command="import", args={})
    # While the write is open: the CLI reads the committed state at once.
    result = run_cli("audit", "log", "--json")
    assert result.exit_code == 0
    assert '"count": 1' in result.stdout
    assert run_cli("audit", "verify").exit_code == 0
    writer.execute("COMMIT")
    assert '"count": 2' in run_cli("audit", "log", "--json").stdout


@pytest.mark.slow  # waits on timeouts, locks or many subprocesses
def test_a_writer_that_waits_too_long_fails_with_a_clear_message(
    tmp_path, db_path, run_cli, monkeypatch
):
    import firetrace.registry.db as registry_db

    connect(db_path).close()
    monkeypatch.setattr(registry_db, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        batch = write_batch(tmp_path / "late.csv", 5, 20)
        result = run_cli("import", batch)
        assert result.exit_code == 2, result.stdout
        assert "the registry is busy" in result.stderr
        assert "Traceback" not in result.stderr
        result = run_cli("correct", "1", "--set", "notes=x", "--reason", "r")
        assert result.exit_code == 2 and "Traceback" not in result.stderr
        assert "the registry is busy" in result.stderr
        # Reads of personal data are recorded in the read log: they never wait.
        for command, code in ((("dupes",), 0), (("trace", "X1"), 1)):
            result = run_cli(*command)
            assert result.exit_code == code, (command, result.stderr)
            assert "busy" not in result.stderr, command
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert batch_state(connect(db_path), 5) == (0, 0)


def test_audit_entries_from_concurrent_threads_form_one_chain(db_path):
    connect(db_path).close()

    def writer(name: str) -> None:
        conn = connect(db_path)
        for i in range(25):
            audit.append_entry(conn, operator=name, purpose=None, command="trace", args={"i": i})
        conn.close()

    threads = [threading.Thread(target=writer, args=(f"op{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn = connect(db_path)
    result = audit.verify(conn)
    assert result.ok, result.problems
    assert result.entries == 100
