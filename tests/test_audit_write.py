"""The one audited-write helper: a change and its audit entry land together or
not at all, a discarded write leaves nothing, the purpose policy is checked
first, and a busy registry is one clear message whichever command meets it."""

from __future__ import annotations

import sqlite3

import pytest

from firetrace import audit
from firetrace.errors import FiretraceError, UsageError
from firetrace.registry.db import connect


@pytest.fixture
def conn(db_path):
    conn = connect(db_path)
    yield conn
    conn.close()


def _metas(conn) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'test%'"))


def _write(conn, **options):
    return audit.audited_write(conn, "test", operator="ann", purpose="CASE-1", **options)


def test_the_change_and_its_entry_land_together(conn):
    with _write(conn, args={"a": 1}) as write:
        conn.execute("INSERT INTO meta (key, value) VALUES ('test', 'x')")
        write.record_ids.append("meta:test")
    assert _metas(conn) == {"test": "x"}
    (entry,) = audit.query_log(conn)
    assert (entry["operator"], entry["purpose"], entry["command"]) == ("ann", "CASE-1", "test")
    assert entry["record_ids"] == ["meta:test"]
    assert entry["args_digest"] == audit.args_digest({"a": 1})
    assert not conn.in_transaction
    assert audit.verify(conn).ok


def test_an_error_in_the_body_leaves_neither_change_nor_entry(conn):
    with pytest.raises(ValueError), _write(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('test', 'x')")
        raise ValueError("half way")
    assert _metas(conn) == {}
    assert audit.query_log(conn) == []
    assert not conn.in_transaction


def test_a_discarded_write_changes_nothing_and_records_nothing(conn):
    with _write(conn) as write:
        conn.execute("INSERT INTO meta (key, value) VALUES ('test', 'x')")
        write.discard()
    assert _metas(conn) == {} and audit.query_log(conn) == []
    assert not conn.in_transaction


def test_record_false_makes_the_change_without_an_entry(conn):
    with _write(conn, record=False):
        conn.execute("INSERT INTO meta (key, value) VALUES ('test', 'x')")
    assert _metas(conn) == {"test": "x"} and audit.query_log(conn) == []


def test_the_policy_is_checked_before_the_lock_is_taken(conn, tmp_path, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('[purpose]\nrequired_for = ["test"]\n')
    monkeypatch.setenv("FIRETRACE_POLICY", str(policy))
    with pytest.raises(UsageError, match="requires --purpose for 'test'"):
        with audit.audited_write(conn, "test", operator="ann", purpose=None):
            pytest.fail("the body ran")
    assert not conn.in_transaction


def test_record_read_is_one_entry_and_no_other_change(conn):
    audit.record_read(conn, "trace", operator="ann", purpose="p", args={}, record_ids=[3, 1])
    (entry,) = audit.query_log(conn)
    assert entry["command"] == "trace" and entry["record_ids"] == [3, 1]


def test_a_busy_registry_is_the_one_message(conn, db_path, monkeypatch):
    import firetrace.registry.db as registry_db

    monkeypatch.setattr(registry_db, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiting = connect(db_path)
    waiting.execute("PRAGMA busy_timeout = 100")
    try:
        with pytest.raises(FiretraceError, match="^the registry is busy .*try again$"):
            with audit.audited_write(waiting, "test", operator="ann", purpose=None):
                pytest.fail("the body ran without the lock")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        waiting.close()
    assert audit.query_log(conn) == []
