"""Every write and every read of personal data leaves an audit entry with the
operator and purpose given: import, trace, dupes, correct, backup, the reference
library's changes and the demo. A policy that requires a purpose refuses a trace
(and dupes) without one, and a refused read leaves no entry because nothing was read."""

from __future__ import annotations

import json

import pytest

from firetrace import audit
from firetrace.paths import samples_dir
from firetrace.registry.db import connect

# A 2 x 2 x 2 cube as ASCII STL: a benign shape for the reference library.
_CUBE_FACES = [
    ((0, 0, 0), (0, 2, 0), (2, 2, 0)),
    ((0, 0, 0), (2, 2, 0), (2, 0, 0)),
    ((0, 0, 2), (2, 0, 2), (2, 2, 2)),
    ((0, 0, 2), (2, 2, 2), (0, 2, 2)),
    ((0, 0, 0), (2, 0, 0), (2, 0, 2)),
    ((0, 0, 0), (2, 0, 2), (0, 0, 2)),
    ((0, 2, 0), (0, 2, 2), (2, 2, 2)),
    ((0, 2, 0), (2, 2, 2), (2, 2, 0)),
    ((0, 0, 0), (0, 0, 2), (0, 2, 2)),
    ((0, 0, 0), (0, 2, 2), (0, 2, 0)),
    ((2, 0, 0), (2, 2, 0), (2, 2, 2)),
    ((2, 0, 0), (2, 2, 2), (2, 0, 2)),
]


def write_cube(path):
    lines = ["solid cube"]
    for face in _CUBE_FACES:
        lines += ["facet normal 0 0 0", "outer loop"]
        lines += [f"vertex {x} {y} {z}" for x, y, z in face]
        lines += ["endloop", "endfacet"]
    path.write_text("\n".join([*lines, "endsolid cube", ""]), encoding="ascii")
    return path


def entries_for(db_path, command: str) -> list[dict]:
    conn = connect(db_path)
    try:
        return audit.query_log(conn, command=command)
    finally:
        conn.close()


def test_every_write_and_personal_data_read_is_audited(tmp_path, db_path, run_cli):
    sample = samples_dir() / "batch.csv"
    cube = write_cube(tmp_path / "cube.stl")
    who = ["--operator", "officer-7", "--purpose", "CASE-2026-0042"]
    steps = {
        "import": ["import", sample, *who],
        "trace": ["trace", "58A123456", *who],
        "dupes": ["dupes", *who],
        "refs add": ["refs", "add", cube, "--label", "cube", *who],
        "refs export": ["refs", "export", tmp_path / "bundle.json", *who],
        "refs remove": ["refs", "remove", "cube", *who],
        "refs import": ["refs", "import", tmp_path / "bundle.json", *who],
        "backup": ["backup", tmp_path / "copy.db", *who],
    }
    outcomes = {}
    for name, args in steps.items():
        result = run_cli(*args)
        outcomes[name] = result.exit_code
        assert result.exit_code in (0, 1), f"{name}: {result.stderr}"

    trace = json.loads(run_cli("trace", "58A123456", "--json", *who).stdout)
    event_id = trace["matches"][0]["events"][0]["id"]
    result = run_cli("correct", str(event_id), "--set", "notes=checked", "--reason", "r", *who)
    assert result.exit_code == 0, result.stderr
    steps["correct"] = []

    unaudited = []
    for name in steps:
        found = [
            e
            for e in entries_for(db_path, name)
            if e["operator"] == "officer-7" and e["purpose"] == "CASE-2026-0042"
        ]
        if not found:
            unaudited.append(name)
    assert unaudited == [], f"commands that wrote or read without an audit entry: {unaudited}"

    traced = entries_for(db_path, "trace")[0]
    assert traced["record_ids"] == [m["component_id"] for m in trace["matches"]]
    assert audit.verify(connect(db_path)).ok
    assert run_cli("check").exit_code == 0


def test_demo_is_audited(tmp_path, run_cli):
    demo_db = tmp_path / "demo.db"
    result = run_cli("demo", "--db", demo_db, "--operator", "trainer")
    assert result.exit_code == 0, result.stderr
    commands = {e["command"] for e in entries_for(demo_db, "*") if e["operator"] == "trainer"}
    assert {"import", "trace"} <= commands


@pytest.fixture
def strict_policy(tmp_path, monkeypatch):
    path = tmp_path / "policy.toml"
    path.write_text('[purpose]\nrequired_for = ["trace", "dupes"]\n', encoding="utf-8")
    monkeypatch.setenv("FIRETRACE_POLICY", str(path))


def test_policy_refuses_a_trace_without_purpose(db_path, run_cli, strict_policy):
    assert run_cli("import", samples_dir() / "batch.csv").exit_code == 0

    def entries() -> int:  # the registry's log and the read log
        return len(audit.query_log(connect(db_path)))

    before = entries()
    for args in (["trace", "58A123456"], ["dupes"]):
        refused = run_cli(*args)
        assert refused.exit_code == 2, refused.stdout
        assert f"requires --purpose for '{args[0]}'" in refused.stderr
        assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert entries() == before
    allowed = run_cli("trace", "58A123456", "--purpose", "CASE-1", "--json")
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["matches"]
    assert entries() == before + 1
