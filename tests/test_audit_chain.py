"""The audit chain is tamper-evident: an attacker with write access to the database
file (who drops the append-only triggers first) cannot alter, remove or reorder an
entry without `audit verify` failing and naming it, and with FIRETRACE_AUDIT_KEY set
cannot rebuild a valid chain without the key."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firetrace import audit
from firetrace.registry.db import connect

KEY = "correct horse battery staple"


def fill(conn, n: int, *, start: int = 0) -> list[str]:
    """Append ``n`` entries of varied content; return their hashes."""
    return [
        audit.append_entry(
            conn,
            operator=("alice", "bob", "carol")[i % 3],
            purpose=f"CASE-{i // 2}" if i % 4 else None,
            command=("import", "trace", "dupes")[i % 3],
            args={"serial": f"AB{i:04d}", "n": i},
            record_ids=[i, i + 100],
        )
        for i in range(start, start + n)
    ]


def attacker(db_path) -> sqlite3.Connection:
    """A raw connection by someone with file access: the triggers go first."""
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    return conn


def rebuild_chain(conn: sqlite3.Connection, key: bytes | None) -> None:
    """Recompute every hash in id order, as an attacker covering their tracks would."""
    prev = audit.GENESIS
    rows = conn.execute(
        "SELECT id, ts, operator, purpose, command, args_digest, record_ids, attests "
        "FROM audit ORDER BY id"
    ).fetchall()
    for row in rows:
        fields = dict(zip(audit.HASHED_FIELDS, row[1:7], strict=True)) | {"attests": row[7]}
        digest = audit.entry_hash(fields, prev, key)
        conn.execute(
            "UPDATE audit SET prev_hash = ?, hash = ?, keyed = ? WHERE id = ?",
            (prev, digest, 1 if key else 0, row[0]),
        )
        prev = digest


@pytest.fixture
def registry(db_path):
    conn = connect(db_path)
    yield conn
    conn.close()


def test_intact_chain_verifies(registry, run_cli):
    hashes = fill(registry, 12)
    result = audit.verify(registry)
    assert result.ok and result.entries == 12 and result.head.hash == hashes[-1]
    cli = run_cli("audit", "verify")
    assert cli.exit_code == 0, cli.stdout + cli.stderr
    assert "12 entries" in cli.stdout


def test_empty_log_verifies(registry):
    result = audit.verify(registry)
    assert result.ok and result.entries == 0 and result.head.hash == audit.GENESIS


@pytest.mark.parametrize(
    "column, value",
    [
        ("operator", "mallory"),
        ("purpose", "CASE-FAKE"),
        ("command", "backup"),
        ("ts", "2020-01-01T00:00:00.000000+00:00"),
        ("record_ids", "[]"),
        ("args_digest", "0" * 64),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
@pytest.mark.parametrize("victim", [1, 6, 10])
def test_altering_any_field_of_any_entry_is_named(
    registry, db_path, run_cli, column, value, victim
):
    fill(registry, 10)
    attacker(db_path).execute(f"UPDATE audit SET {column} = ? WHERE id = ?", (value, victim))
    result = audit.verify(registry)
    assert not result.ok
    assert result.first_problem.entry_id == victim
    cli = run_cli("audit", "verify")
    assert cli.exit_code == 1
    assert f"first bad entry {victim}" in cli.stdout


@pytest.mark.parametrize("victim", [1, 2, 5, 9])
def test_deleting_an_entry_is_named(registry, db_path, run_cli, victim):
    fill(registry, 10)
    attacker(db_path).execute("DELETE FROM audit WHERE id = ?", (victim,))
    result = audit.verify(registry)
    assert not result.ok
    assert result.first_problem.entry_id == victim
    assert result.first_problem.kind == "removed"
    cli = run_cli("audit", "verify", "--json")
    assert cli.exit_code == 1
    assert json.loads(cli.stdout)["first_bad_entry"] == victim


def test_deleting_and_renumbering_is_caught(registry, db_path):
    fill(registry, 8)
    evil = attacker(db_path)
    evil.execute("DELETE FROM audit WHERE id = 4")
    evil.execute("UPDATE audit SET id = id - 1 WHERE id > 4")
    result = audit.verify(registry)
    assert not result.ok
    # Entry 4 is now the old entry 5: its chain link names the gap at entry 3/4.
    assert result.first_problem.entry_id in (3, 4)


def test_truncating_the_newest_entries_fails_against_a_recorded_head(registry, db_path, run_cli):
    fill(registry, 6)
    recorded = audit.head(registry).hash
    cli = run_cli("audit", "head")
    assert cli.exit_code == 0 and cli.stdout.strip() == recorded
    attacker(db_path).execute("DELETE FROM audit WHERE id > 4")
    assert audit.verify(registry).ok  # a shorter chain is self-consistent...
    result = audit.verify(registry, expected_head=recorded)
    assert not result.ok and result.first_problem.kind == "truncated"
    assert result.first_problem.entry_id == 5
    cli = run_cli("audit", "verify", "--head", recorded)
    assert cli.exit_code == 1 and "truncated" not in cli.stderr
    assert "removed" in cli.stdout


def test_a_recorded_head_still_verifies_as_the_log_grows(registry, run_cli):
    fill(registry, 3)
    recorded = audit.head(registry).hash
    fill(registry, 3, start=3)
    result = audit.verify(registry, expected_head=recorded[:16])
    assert result.ok and result.expected_head_id == 3
    assert run_cli("audit", "verify", "--head", recorded).exit_code == 0


@pytest.mark.parametrize("first, second", [(1, 2), (3, 7), (9, 10)])
def test_swapping_two_entries_is_named(registry, db_path, first, second):
    fill(registry, 10)
    evil = attacker(db_path)
    evil.execute("UPDATE audit SET id = -1 WHERE id = ?", (first,))
    evil.execute("UPDATE audit SET id = ? WHERE id = ?", (first, second))
    evil.execute("UPDATE audit SET id = ? WHERE id = -1", (second,))
    result = audit.verify(registry)
    assert not result.ok
    assert result.first_problem.entry_id == first
    assert result.first_problem.kind == "reordered"


def test_swapping_contents_with_rebuilt_hashes_is_caught_with_a_key(registry, db_path, monkeypatch):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 6)
    evil = attacker(db_path)
    evil.execute("UPDATE audit SET operator = 'mallory' WHERE id = 3")
    rebuild_chain(evil, key=None)
    result = audit.verify(registry)
    assert not result.ok
    assert result.first_problem.entry_id == 1
    assert result.first_problem.kind == "unkeyed"


def test_a_chain_rebuilt_with_another_key_fails(registry, db_path, monkeypatch, run_cli):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 5)
    evil = attacker(db_path)
    evil.execute("UPDATE audit SET purpose = 'nothing to see' WHERE id = 4")
    rebuild_chain(evil, key=b"a guess")
    result = audit.verify(registry)
    assert not result.ok
    assert result.first_problem.entry_id == 1 and result.first_problem.kind == "altered"
    cli = run_cli("audit", "verify")
    assert cli.exit_code == 1 and "first bad entry 1" in cli.stdout


def test_without_the_key_a_rebuilt_chain_passes_but_with_it_fails(registry, db_path, monkeypatch):
    """The reason for the key: without it the rebuilt chain is indistinguishable."""
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 4)
    evil = attacker(db_path)
    evil.execute("UPDATE audit SET operator = 'mallory' WHERE id = 2")
    rebuild_chain(evil, key=None)
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY")
    assert audit.verify(registry).ok
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    assert not audit.verify(registry).ok


def test_keyed_entries_are_not_reported_valid_without_the_key(registry, monkeypatch, run_cli):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 3)
    assert audit.verify(registry).ok
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY")
    result = audit.verify(registry)
    assert not result.ok and result.first_problem.kind == "unverifiable"
    cli = run_cli("audit", "verify")
    assert cli.exit_code == 1 and "FIRETRACE_AUDIT_KEY" in cli.stdout


def test_flipping_the_keyed_flag_is_caught(registry, db_path, monkeypatch):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 3)
    attacker(db_path).execute("UPDATE audit SET keyed = 0 WHERE id = 2")
    result = audit.verify(registry)
    assert not result.ok and result.first_problem.entry_id == 2


def test_unkeyed_entry_appended_after_keyed_ones_is_named(registry, db_path, monkeypatch):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 3)
    # Forge a correctly chained but unkeyed fourth entry, bypassing append_entry.
    last = audit.head(registry).hash
    fields = {
        "ts": "2030-01-01T00:00:00.000000+00:00",
        "operator": "mallory",
        "purpose": None,
        "command": "trace",
        "args_digest": audit.args_digest({}),
        "record_ids": "[]",
    }
    attacker(db_path).execute(
        "INSERT INTO audit (ts, operator, purpose, command, args_digest, record_ids, prev_hash, "
        "hash, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        (*fields.values(), last, audit.entry_hash(fields, last, None)),
    )
    result = audit.verify(registry)
    assert not result.ok
    assert result.first_problem.entry_id == 4 and result.first_problem.kind == "unkeyed"


def test_an_old_unkeyed_log_is_adopted_by_sealing(registry, monkeypatch, run_cli):
    fill(registry, 4)
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    before = audit.verify(registry)
    assert not before.ok and before.first_problem.kind == "unkeyed"
    assert run_cli("audit", "seal", "--operator", "admin").exit_code == 0
    fill(registry, 2, start=4)
    after = audit.verify(registry)
    assert after.ok, after.problems
    assert after.keyed_entries == 3


def test_append_refuses_to_write_unkeyed_after_keyed(registry, monkeypatch):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 1)
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY")
    with pytest.raises(audit.FiretraceError, match="FIRETRACE_AUDIT_KEY"):
        fill(registry, 1)
    assert audit.head(registry).entries == 1


def test_entry_lands_only_with_its_transaction(registry):
    fill(registry, 2)
    registry.execute("BEGIN IMMEDIATE")
    audit.append_entry(registry, operator="x", purpose=None, command="import", args={})
    registry.execute("ROLLBACK")
    assert audit.head(registry).entries == 2
    assert audit.verify(registry).ok


def test_audit_table_is_append_only_through_sqlite(registry):
    fill(registry, 2)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        registry.execute("UPDATE audit SET operator = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        registry.execute("DELETE FROM audit WHERE id = 1")


TAMPERS = st.sampled_from(["alter", "delete", "swap", "move_to_end"])


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(n=st.integers(2, 15), data=st.data(), how=TAMPERS, keyed=st.booleans())
def test_any_single_tamper_is_named(tmp_path_factory, monkeypatch, n, data, how, keyed):
    if keyed:
        monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    else:
        monkeypatch.delenv("FIRETRACE_AUDIT_KEY", raising=False)
    db_path = tmp_path_factory.mktemp("chain") / "r.db"
    conn = connect(db_path)
    fill(conn, n)
    recorded_head = audit.head(conn).hash  # as printed into the case file
    victim = data.draw(st.integers(1, n - 1 if how in ("swap", "move_to_end") else n))
    evil = attacker(db_path)
    if how == "alter":
        evil.execute("UPDATE audit SET operator = operator || '!' WHERE id = ?", (victim,))
    elif how == "delete":
        evil.execute("DELETE FROM audit WHERE id = ?", (victim,))
    elif how == "swap":
        other = data.draw(st.integers(victim + 1, n))
        evil.execute("UPDATE audit SET id = -1 WHERE id = ?", (victim,))
        evil.execute("UPDATE audit SET id = ? WHERE id = ?", (victim, other))
        evil.execute("UPDATE audit SET id = ? WHERE id = -1", (other,))
    else:
        evil.execute("UPDATE audit SET id = ? WHERE id = ?", (n + 1, victim))
    result = audit.verify(conn, expected_head=recorded_head)
    assert not result.ok
    assert result.first_problem.entry_id == victim
    conn.close()
    evil.close()


def test_key_from_a_file_is_the_same_key(registry, tmp_path, monkeypatch, run_cli):
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY_FILE", str(key_file))
    fill(registry, 3)
    assert audit.verify(registry).keyed_entries == 3
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY_FILE")
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    assert audit.verify(registry).ok
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY")
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
    result = run_cli("audit", "verify")
    assert result.exit_code == 2 and "missing.key" in result.stderr


def test_the_wrong_key_is_told_apart(registry, monkeypatch):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", KEY)
    fill(registry, 4)
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "not the key")
    result = audit.verify(registry)
    assert not result.ok and result.first_problem.entry_id == 1
    assert any("most likely not the key" in p.message for p in result.problems)
