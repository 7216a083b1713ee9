"""`firetrace demo`: builds a registry from the sample batch and traces the stolen
modular firearm."""

from __future__ import annotations

import sqlite3


def test_demo_in_a_given_registry(tmp_path, run_cli):
    db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", db)
    assert result.exit_code == 0, result.stderr
    for text in ("imported as batch 1", "BRL58A7781", "REPORTED STOLEN", "58A123456", "58B200917"):
        assert text in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 41


def test_demo_defaults_to_a_temporary_registry(tmp_path, monkeypatch, run_cli, db_path):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_cli("demo")
    assert result.exit_code == 0
    assert "firetrace-demo-" in result.stdout
    assert not db_path.exists()  # the user's registry ($FIRETRACE_DB) is left alone


def test_demo_records_the_given_operator_and_purpose(tmp_path, run_cli):
    db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", db, "--operator", "clerk7", "--purpose", "CASE-42")
    assert result.exit_code == 0, result.stderr
    rows = sqlite3.connect(db).execute("SELECT command, operator, purpose FROM audit").fetchall()
    assert rows and all(op == "clerk7" and purpose == "CASE-42" for _, op, purpose in rows)
