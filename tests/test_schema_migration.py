"""A registry written by firetrace before schema 8 (``tests/fixtures/registry_v7``,
built by ``tests/fixtures/old_registry.py`` with that version) migrates with
nothing lost: every read command answers as it did, and the audit log, the row
seals and tamper detection keep working across the upgrade."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import zlib
from pathlib import Path

import pytest

from firetrace import rowseals
from firetrace.registry.db import connect, latest_version

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "registry_v7"
sys.path.insert(0, str(FIXTURE.parent))
import old_registry  # noqa: E402


def _seal_widths(db: Path) -> set[int]:
    """Bytes of fingerprint a row in the registry's seal rows."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT ids, fps FROM seals").fetchall()
    conn.close()
    return {len(fps) // (len(zlib.decompress(ids)) // 8) for ids, fps in rows}


@pytest.fixture
def old_db(tmp_path) -> Path:
    db = tmp_path / "old.db"
    shutil.copyfile(FIXTURE / "registry.db", db)
    return db


def test_the_fixture_is_an_old_registry(old_db):
    conn = sqlite3.connect(old_db)
    (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert int(version) == 7 < latest_version()
    assert _seal_widths(old_db) == {16}  # sealed by the old version


def test_every_answer_is_the_same_after_the_migration(old_db):
    expected = json.loads((FIXTURE / "outputs.json").read_text())["answers"]
    conn = connect(old_db)  # migrates
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(latest_version()),
    )
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    answers = old_registry.answers(old_db)
    assert sorted(answers) == sorted(expected)
    for command, answer in expected.items():
        assert answers[command] == answer, command


def test_every_spelling_of_a_party_survives(old_db):
    from firetrace.registry.parties import spellings

    conn = sqlite3.connect(old_db)
    before = {
        pid: {name, *(n for (n,) in conn.execute(
            "SELECT name FROM party_names WHERE party_id = ?", (pid,)))}
        for pid, name in conn.execute("SELECT id, name FROM parties")
    }  # fmt: skip
    conn.close()
    conn = connect(old_db)
    after = {pid: set(spellings(conn, pid)) for pid in before}
    assert after == before
    assert sum(len(v) for v in before.values()) > len(before)  # some party has two


def test_seals_verify_after_the_migration_and_tampering_still_shows(old_db, run_cli):
    assert run_cli("--db", old_db, "check").exit_code == 0
    # A write after the upgrade seals with 12-byte fingerprints; both widths verify.
    assert run_cli("--db", old_db, "withdraw", "2", "--reason", "test").exit_code == 0
    assert _seal_widths(old_db) == {rowseals.FINGERPRINT_BYTES, 16}
    assert run_cli("--db", old_db, "check").exit_code == 0
    # An event sealed by the old version (16-byte seal), altered by hand.
    evil = sqlite3.connect(old_db)
    evil.execute("DROP TRIGGER events_no_update")
    evil.execute("UPDATE events SET event = 'sold' WHERE event = 'reported_stolen'")
    evil.commit()
    evil.close()
    result = run_cli("--db", old_db, "check")
    assert result.exit_code == 1
    assert "altered" in result.stdout + result.stderr
