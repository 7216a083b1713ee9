"""`firetrace backup DEST`: an online copy that passes its integrity check, never
overwrites without --force, holds only committed data while a writer is mid-way,
and is itself recorded in the audit log."""

from __future__ import annotations

import json
import sqlite3

import pytest

from firetrace import audit
from firetrace.integrity import backup, check, copy_registry
from firetrace.registry.db import connect


@pytest.fixture
def conn(db_path):
    conn = connect(db_path)
    for i in range(5):
        audit.append_entry(
            conn, operator="clerk", purpose="CASE-9", command="trace", args={"i": i}, record_ids=[i]
        )
    yield conn
    conn.close()


def test_backup_is_a_checked_self_contained_copy(conn, tmp_path, run_cli):
    head_before = audit.head(conn)
    dest = tmp_path / "copy.db"
    result = run_cli("backup", dest, "--purpose", "quarterly", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["audit_head"] == head_before.hash and document["integrity"] == "ok"

    assert not (tmp_path / "copy.db-wal").exists()
    copy = connect(dest, create=False)
    assert check(copy).ok
    assert audit.head(copy).hash == head_before.hash
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # reopened as a registry
    copy.close()

    # The backup is audited in the source, with who, why and which file.
    entry = audit.query_log(conn, command="backup")[0]
    assert entry["operator"] == "tester" and entry["purpose"] == "quarterly"
    assert entry["args_digest"] == audit.args_digest(
        {"dest": str(dest.resolve()), "sha256": document["sha256"], "head": head_before.hash}
    )
    assert audit.verify(conn).ok
    assert not list(tmp_path.glob(".copy.db.partial*"))


def test_refuses_to_overwrite_without_force(conn, tmp_path, run_cli):
    dest = tmp_path / "precious.db"
    dest.write_bytes(b"keep me")
    result = run_cli("backup", dest)
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert dest.read_bytes() == b"keep me"
    result = run_cli("backup", dest, "--force")
    assert result.exit_code == 0, result.stderr
    assert dest.read_bytes()[:16] == b"SQLite format 3\x00"


def test_bad_destinations_are_clear_errors(conn, tmp_path, db_path, run_cli):
    for dest, message in (
        (tmp_path, "is a folder"),
        (tmp_path / "no" / "such" / "x.db", "no such folder"),
        (db_path, "part of the registry"),
    ):
        result = run_cli("backup", dest)
        assert result.exit_code == 2 and message in result.stderr, result.stderr
    with pytest.raises(Exception, match="part of the registry"):
        backup(conn, db_path, operator="x", purpose=None, force=True)


def test_backup_during_an_open_write_holds_only_committed_data(conn, db_path, tmp_path):
    writer = sqlite3.connect(db_path, isolation_level=None, timeout=5)
    writer.execute("BEGIN IMMEDIATE")
    audit.append_entry(writer, operator="w", purpose=None, command="import", args={})
    # The writer holds the write lock; the backup reads a committed snapshot meanwhile.
    reader = connect(db_path)
    snapshot = copy_registry(reader, tmp_path / "mid.db")
    assert snapshot["head"].entries == 5
    writer.execute("COMMIT")
    writer.close()
    reader.close()
    copy = sqlite3.connect(tmp_path / "mid.db")
    assert copy.execute("SELECT count(*) FROM audit").fetchone()[0] == 5
    copy.close()


def test_keyed_log_without_the_key_refuses_before_copying(db_path, tmp_path, monkeypatch, run_cli):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "k")
    conn = connect(db_path)
    audit.append_entry(conn, operator="a", purpose=None, command="import", args={})
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY")
    result = run_cli("backup", tmp_path / "unrecorded.db")
    assert result.exit_code == 2 and "FIRETRACE_AUDIT_KEY" in result.stderr
    assert not (tmp_path / "unrecorded.db").exists()
    conn.close()
