"""``firetrace dupes`` and the import warning: every kind of duplicate group with
its explanation, the rich/JSON/CSV outputs, exit codes, scope options, the audit
entry and the purpose policy; and end to end through ``import`` and ``trace``."""

from __future__ import annotations

import csv
import json

import pytest
from test_serials_index import make_registry

from firetrace.errors import UsageError
from firetrace.registry.dupes import find_duplicates

RECORDS = [
    ("Acme", "AB123"),
    ("Acme", "AB123", "receiver"),  # exact
    ("Acme", "ab-123", "lower_receiver"),  # normalized
    ("Acme", "0AB123", "fire_control_unit"),  # normalized (leading zero)
    ("Glock", "AB123"),  # cross_manufacturer
    ("Acme", "XS5001"),
    ("Acme", "X55OO1"),  # confusable: S/5, O/0
    ("Acme", "369J257"),
    ("Acme", "369257"),  # embedded_letter
    ("Acme", "KQ12345"),
    ("Acme", "KQ12354"),  # transposition
    ("Glock", "G17", "frame", "pistol", "G17"),  # model typed as serial
    ("Beretta", "M9"),
    ("Beretta", "M9", "receiver"),
    ("Beretta", "M9", "lower_receiver"),  # model_as_serial: three of one make and type
    ("Beretta", "PX77001"),
    ("Beretta", "PX77002"),  # only an edit apart: sequential, not a default kind
    ("Beretta", "PX77023"),  # two edits from both
    ("Glock", "BKR778", "slide", "pistol", None, 0),  # a slide carries its frame's serial
    ("Glock", "BKR778"),
]


@pytest.fixture
def conn(db_path):
    return make_registry(db_path, RECORDS)


def _by_kind(report):
    out = {}
    for g in report.groups:
        out.setdefault(g.kind, []).append(sorted(m.serial for m in g.members))
    return out


def test_every_default_kind_is_found_and_explained(conn):
    report = find_duplicates(conn)
    kinds = _by_kind(report)
    assert kinds["exact"] == [["AB123", "AB123"], ["M9", "M9", "M9"]]
    assert ["0AB123", "AB123", "AB123", "ab-123"] in kinds["normalized"]
    assert kinds["confusable"] == [["X55OO1", "XS5001"]]
    assert kinds["embedded_letter"] == [["369257", "369J257"]]
    assert kinds["transposition"] == [["KQ12345", "KQ12354"]]
    assert ["0AB123", "AB123", "AB123", "AB123", "ab-123"] in kinds["cross_manufacturer"]
    assert ["G17"] in kinds["model_as_serial"] and ["M9", "M9", "M9"] in kinds["model_as_serial"]
    assert "edit" not in kinds
    details = {g.kind: g.detail for g in report.groups}
    assert "S/5 at position 2" in details["confusable"]
    assert "characters 6-7 transposed" in details["transposition"]
    assert "letters between digits" in details["embedded_letter"]
    assert "Acme / Glock" in details["cross_manufacturer"]
    # The slide sharing its frame's serial is not a duplicate (control components only).
    assert not any("BKR778" in s for groups in kinds.values() for g in groups for s in g)


def test_all_components_includes_parts(conn):
    kinds = _by_kind(find_duplicates(conn, all_components=True))
    assert ["BKR778", "BKR778"] in kinds["exact"]


def test_edit_kind_and_max_distance(conn):
    # PX77001 / PX77002 are consecutive serials (expected numbering): counted, and
    # listed only on request.
    hidden = find_duplicates(conn, kinds=["edit"], max_distance=1)
    assert ["PX77001", "PX77002"] not in _by_kind(hidden).get("edit", [])
    assert hidden.stats["expected_numbering"]["edit"] >= 1
    one = _by_kind(find_duplicates(conn, kinds=["edit"], max_distance=1, include_expected=True))
    assert ["PX77001", "PX77002"] in one["edit"]
    assert ["KQ12345", "KQ12354"] not in one["edit"]  # a transposition, reported as such
    two = _by_kind(find_duplicates(conn, kinds=["edit"], max_distance=2, include_expected=True))
    assert ["PX77001", "PX77023"] not in one["edit"]
    assert ["PX77001", "PX77023"] in two["edit"] and ["PX77002", "PX77023"] in two["edit"]


def test_manufacturer_limits_scope(conn):
    report = find_duplicates(conn, manufacturer="BERETTA")
    assert {m.manufacturer for g in report.groups for m in g.members} == {"Beretta"}
    assert report.stats["records_compared"] == 6
    from firetrace.errors import UsageError

    with pytest.raises(UsageError, match="unknown maker 'Nobody'"):  # a typo, not "none"
        find_duplicates(conn, manufacturer="Nobody")


def test_cli_json_csv_exit_code_and_audit(conn, db_path, run_cli, tmp_path):
    out_csv = tmp_path / "groups.csv"
    result = run_cli("dupes", "--db", db_path, "--json", "--csv", out_csv, "--purpose", "case 7")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert set(doc) == {"groups", "stats"}
    first = doc["groups"][0]
    assert set(first) == {"kind", "score", "reason", "members", "detail"}
    assert {"id", "serial", "manufacturer", "component"} <= set(first["members"][0])
    scores = [g["score"] for g in doc["groups"]]
    assert scores == sorted(scores, reverse=True) and all(g["reason"] for g in doc["groups"])
    rows = list(csv.DictReader(out_csv.open()))
    assert {r["kind"] for r in rows} == {g["kind"] for g in doc["groups"]}
    assert len(rows) == sum(len(g["members"]) for g in doc["groups"])
    from firetrace.audit import query_log

    entry = query_log(conn, command="dupes")[0]  # reads go to the read log
    assert (entry["command"], entry["purpose"], entry["operator"]) == ("dupes", "case 7", "tester")
    assert len(entry["record_ids"]) == len({m["id"] for g in doc["groups"] for m in g["members"]})


def test_cli_table_and_options(conn, db_path, run_cli):
    result = run_cli("--db", db_path, "dupes", "--kinds", "transposition")
    assert result.exit_code == 1
    assert "KQ12354" in result.stdout and "transposed" in result.stdout
    clean = run_cli("dupes", "--db", db_path, "--kinds", "embedded-letter", "--manufacturer",
                    "Glock")  # fmt: skip
    assert clean.exit_code == 0
    assert "No duplicate serials" in clean.stdout
    bad = run_cli("dupes", "--db", db_path, "--kinds", "exact,bogus")
    assert bad.exit_code == 2 and "bogus" in bad.stderr
    edit = run_cli("dupes", "--db", db_path, "--max-distance", "1", "--json")
    assert "edit" in {g["kind"] for g in json.loads(edit.stdout)["groups"]}


def test_cli_refuses_without_purpose_when_policy_requires(conn, db_path, run_cli, monkeypatch):
    import firetrace.audit

    policy = db_path.parent / "policy.toml"
    policy.write_text('[purpose]\nrequired_for = ["dupes"]\n')
    original = firetrace.audit.check_policy
    monkeypatch.setattr(
        firetrace.audit, "check_policy", lambda c, p, policy_path=None: original(c, p, policy)
    )
    result = run_cli("dupes", "--db", db_path)
    assert result.exit_code == 2 and "--purpose" in result.stderr
    assert run_cli("dupes", "--db", db_path, "--purpose", "req 1").exit_code == 1


BATCH_HEADER = (
    "manufacturer,serial,component,event,event_date,country_of_manufacture,model,calibre,"
    "year_of_manufacture\n"
)


def _batch(path, rows):
    path.write_text(BATCH_HEADER + "".join(f"{m},{s},frame,manufactured,2021-03-01,AT,G17,9mm,"
                                           "2021\n" for m, s in rows))  # fmt: skip
    return path


def test_import_warns_when_a_serial_joins_a_group_then_trace_and_dupes(run_cli, tmp_path):
    db = tmp_path / "reg.db"
    first = _batch(tmp_path / "one.csv", [("Glock", "BKR778"), ("Glock", "AB12345")])
    assert run_cli("--db", db, "import", first).exit_code == 0
    second = _batch(tmp_path / "two.csv", [("GLOCK GmbH", "8KR778"), ("Glock", "AB12354"),
                                           ("Glock", "ZZ1")])  # fmt: skip
    result = run_cli("--db", db, "import", second)
    assert result.exit_code == 0
    warnings = [
        line for line in result.stderr.replace("\n", " ").split("warning:") if "joins" in line
    ]
    assert any("8KR778" in w and "confusable" in w and "BKR778" in w for w in warnings)
    assert any("AB12354" in w and "transposition" in w for w in warnings)
    assert not any("ZZ1" in w for w in warnings)

    traced = json.loads(run_cli("--db", db, "trace", "BKR77B", "--json").stdout)
    top = traced["matches"][0]
    assert top["serial"] == "BKR778" and top["match"] == "confusable"
    assert top["why"] == "8 read as B at position 6"
    wild = json.loads(run_cli("--db", db, "trace", "AB123?4", "--json").stdout)
    assert [m["serial"] for m in wild["matches"]] == ["AB12354"]

    dupes = run_cli("--db", db, "dupes", "--json")
    assert dupes.exit_code == 1
    assert {g["kind"] for g in json.loads(dupes.stdout)["groups"]} == {"confusable",
                                                                       "transposition"}  # fmt: skip


def test_a_python_caller_is_audited_like_the_command(conn, tmp_path, monkeypatch):
    from firetrace import audit

    report = find_duplicates(conn, kinds=["exact"], operator="ann", purpose="CASE-9")
    (entry,) = audit.query_log(conn)
    assert (entry["command"], entry["operator"], entry["purpose"]) == ("dupes", "ann", "CASE-9")
    assert entry["record_ids"] == sorted({m.id for g in report.groups for m in g.members})
    # the options are recorded as asked, the kinds by their names
    asked = {"kinds": ["exact"], "max_distance": None, "manufacturer": None,
             "all_components": False, "include_expected": False}  # fmt: skip
    assert entry["args_digest"] == audit.args_digest(asked)
    find_duplicates(conn, audit=False)
    assert len(audit.query_log(conn)) == 1
    policy = tmp_path / "policy.toml"
    policy.write_text('[purpose]\nrequired_for = ["dupes"]\n')
    monkeypatch.setenv("FIRETRACE_POLICY", str(policy))
    with pytest.raises(UsageError, match="requires --purpose"):
        find_duplicates(conn, operator="ann")
