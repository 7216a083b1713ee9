"""`audit log` filters (operator, purpose, command, dates, record), `audit head`,
and the purpose policy that refuses an unaccountable read."""

from __future__ import annotations

import json

import pytest

from firetrace import audit
from firetrace.errors import InputError, UsageError
from firetrace.registry.db import connect

ENTRIES = [
    # ts, operator, purpose, command, record ids
    ("2026-01-10T09:00:00.000000+00:00", "alice", "CASE-2026-0001", "import", [1, 2, 3]),
    ("2026-01-31T23:59:59.000000+00:00", "bob", "CASE-2026-0001", "trace", [2]),
    ("2026-02-01T00:00:00.000000+00:00", "alice", "CASE-2026-0002", "trace", [7]),
    ("2026-02-15T12:30:00.000000+00:00", "carol", None, "dupes", []),
    ("2026-03-01T08:00:00.000000+00:00", "alice", "REQ-77", "backup", []),
]


@pytest.fixture
def conn(db_path):
    conn = connect(db_path)
    for ts, operator, purpose, command, ids in ENTRIES:
        audit.append_entry(
            conn,
            operator=operator,
            purpose=purpose,
            command=command,
            args={"ts": ts},
            record_ids=ids,
            ts=ts,
        )
    yield conn
    conn.close()


def ids(entries):
    return [e["id"] for e in entries]


def test_filters(conn):
    assert ids(audit.query_log(conn, operator="alice")) == [5, 3, 1]
    assert ids(audit.query_log(conn, operator="alice", newest_first=False)) == [1, 3, 5]
    assert ids(audit.query_log(conn, purpose="CASE-2026-*")) == [3, 2, 1]
    assert ids(audit.query_log(conn, command="trace")) == [3, 2]
    assert ids(audit.query_log(conn, command="trace", operator="bob")) == [2]
    assert ids(audit.query_log(conn, record_id=2)) == [2, 1]
    assert ids(audit.query_log(conn, limit=2)) == [5, 4]


def test_date_range_is_inclusive_of_whole_days(conn):
    assert ids(audit.query_log(conn, since="2026-01-31", until="2026-01-31")) == [2]
    assert ids(audit.query_log(conn, since="2026-02-01", until="2026-02-28")) == [4, 3]
    assert ids(audit.query_log(conn, until="2026-01-31T12:00:00")) == [1]
    # A zoned bound is compared in UTC: 01:00 in Paris on 1 Feb is 00:00 UTC.
    assert ids(audit.query_log(conn, since="2026-02-01T01:00:00+01:00", until="2026-02-01")) == [3]


def test_bad_date_is_an_input_error_naming_the_option(conn):
    with pytest.raises(InputError, match="--since"):
        audit.query_log(conn, since="31/01/2026")


def test_log_cli_json_and_filters(conn, run_cli):
    result = run_cli("audit", "log", "--operator", "alice", "--since", "2026-02-01", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["count"] == 2
    assert [e["command"] for e in document["entries"]] == ["backup", "trace"]
    assert document["entries"][1]["record_ids"] == [7]
    table = run_cli("audit", "log", "--command", "dupes")
    assert table.exit_code == 0 and "carol" in table.stdout and "alice" not in table.stdout
    bad = run_cli("audit", "log", "--until", "yesterday")
    assert bad.exit_code == 2 and "--until" in bad.stderr and "Traceback" not in bad.stderr


def test_head_cli(conn, run_cli):
    result = run_cli("audit", "head", "--json")
    document = json.loads(result.stdout)
    assert document["id"] == 5 and document["entries"] == 5
    assert document["hash"] == audit.verify(conn).head.hash


def test_commands_on_a_missing_registry_are_a_clear_error(tmp_path, run_cli):
    for args in (["audit", "verify"], ["audit", "log"], ["check"], ["dupes"], ["trace", "X1"]):
        result = run_cli(*args, "--db", tmp_path / "nowhere.db")
        assert result.exit_code == 2
        assert "nowhere.db" in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "nowhere.db").exists(), args


def write_policy(tmp_path, text: str):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_policy_requiring_purpose_refuses_without_one(tmp_path, monkeypatch):
    path = write_policy(tmp_path, '[purpose]\nrequired_for = ["trace", "dupes"]\n')
    monkeypatch.setenv("FIRETRACE_POLICY", str(path))
    with pytest.raises(UsageError, match="requires --purpose for 'trace'"):
        audit.check_policy("trace", None)
    with pytest.raises(UsageError, match="requires --purpose"):
        audit.check_policy("dupes", "   ")
    audit.check_policy("trace", "CASE-1")
    audit.check_policy("import", None)  # not listed


def test_policy_pattern_for_the_purpose(tmp_path):
    path = write_policy(
        tmp_path,
        '[purpose]\nrequired_for = ["trace"]\npattern = "CASE-[0-9]{4}-[0-9]+"\n'
        'pattern_hint = "a case number such as CASE-2026-0042"\n',
    )
    audit.check_policy("trace", "CASE-2026-0042", policy_path=path)
    with pytest.raises(UsageError, match="a case number such as CASE-2026-0042"):
        audit.check_policy("trace", "because", policy_path=path)


def test_bundled_policy_is_valid_and_unreadable_policy_is_named(tmp_path):
    assert "required_for" in audit.load_policy()["purpose"]
    broken = write_policy(tmp_path, "[purpose\n")
    with pytest.raises(InputError, match="policy.toml"):
        audit.check_policy("trace", None, policy_path=broken)
