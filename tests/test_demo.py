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


def _next_commands(stdout: str) -> list[list[str]]:
    """The commands the demo suggests, as argument lists (after 'Try next:')."""
    import shlex

    tail = stdout.split("Try next:", 1)[1]
    lines = [line.split("#", 1)[0].strip() for line in tail.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("firetrace ")]


def test_demo_removes_its_temporary_registry_and_suggests_three_commands(
    tmp_path, monkeypatch, run_cli, db_path
):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = run_cli("demo")
    assert result.exit_code == 0, result.stderr
    assert "REPORTED STOLEN" in result.stdout and "removed" in result.stdout
    assert not list(tmp_path.glob("firetrace-demo-*"))  # nothing left behind
    assert not db_path.exists()  # the user's registry ($FIRETRACE_DB) is left alone
    suggested = _next_commands(result.stdout)
    assert len(suggested) == 3
    for argv in suggested:  # each one works as printed, in order
        assert run_cli(*argv[1:]).exit_code == 0, argv
    assert (tmp_path / "batch.csv").is_file() and (tmp_path / "demo.db").is_file()


def test_demo_keep_leaves_the_registry_for_the_suggested_commands(tmp_path, monkeypatch, run_cli):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_cli("demo", "--keep")
    assert result.exit_code == 0, result.stderr
    (kept,) = tmp_path.glob("firetrace-demo-*/registry.db")
    assert str(kept) in result.stdout
    suggested = _next_commands(result.stdout)
    assert len(suggested) == 3 and all(str(kept) in argv for argv in suggested)
    trace = run_cli(*suggested[0][1:])
    assert trace.exit_code == 0 and "BRL58A7781" in trace.stdout  # the ? read back


def test_demo_records_the_given_operator_and_purpose(tmp_path, run_cli):
    db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", db, "--operator", "clerk7", "--purpose", "CASE-42")
    assert result.exit_code == 0, result.stderr
    rows = sqlite3.connect(db).execute("SELECT command, operator, purpose FROM audit").fetchall()
    assert rows and all(op == "clerk7" and purpose == "CASE-42" for _, op, purpose in rows)
