"""Schema 13 (issue 14): a party's key derived in SQL from its name, stored only
where that does not give it; the parties view shows the key as before, look-ups
by key seek its index, the seals cover the key as shown."""

from __future__ import annotations

import json
import sqlite3

import pytest
from test_registry_support import assert_named_altered, batch_row, write_csv

from firetrace.registry.db import connect
from firetrace.registry.parties import normalize_party_name
from firetrace.registry.schema_v13 import key_sql

# (name as written, whether the SQL key gives its key)
_NAMES = {
    "Glock": True,
    "Owner 7 (pseudonymised)": True,
    "Acme-Arms, Ltd.": False,  # a legal form dropped
    "Heckler & Koch GmbH": False,
    "Armurerie Rhône": False,  # an accent: SQL's upper() folds ASCII only
    "S&W": False,  # an alias
}


@pytest.fixture
def imported(tmp_path, run_cli, db_path):
    rows = [
        batch_row(manufacturer=name, serial=f"AB10{i}", party="Owner 9 (pseudonymised)")
        for i, name in enumerate(_NAMES)
    ]
    rows[0]["event"], rows[0]["event_date"] = "sold", "2021-01-02"
    result = run_cli("import", write_csv(tmp_path / "a.csv", rows))
    assert result.exit_code == 0, result.stdout + result.stderr
    return db_path


def test_the_key_is_stored_only_where_sql_does_not_derive_it(imported):
    conn = sqlite3.connect(imported)
    rows = conn.execute("SELECT name, norm_name_stored, norm_name FROM party_rows").fetchall()
    shown = dict(conn.execute("SELECT name, norm_name FROM parties"))
    assert {name for name, _, _ in rows} == {*_NAMES, "Owner 9 (pseudonymised)"}
    for name, stored, key in rows:
        assert key == shown[name] == normalize_party_name(name), name
        assert (stored is None) == _NAMES.get(name, True), name
        assert stored in (None, key)
    (derived,) = conn.execute(f"SELECT {key_sql('?')}", ("Owner 7 (pseudonymised)",)).fetchone()
    assert derived == "OWNER 7 PSEUDONYMISED"


def test_a_look_up_by_key_seeks_its_index(imported):
    conn = sqlite3.connect(imported)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM parties WHERE norm_name = ?", ("GLOCK",)
    ).fetchall()
    assert any("USING INDEX party_rows_norm_name (norm_name=?)" in r[-1] for r in plan), plan


def test_writes_through_the_view_store_the_key_only_where_needed(imported):
    conn = connect(imported)
    conn.execute("INSERT INTO parties (norm_name, name) VALUES ('NEW CO', 'New Co.')")
    conn.execute("INSERT INTO parties (norm_name, name) VALUES ('ODD KEY', 'Other')")
    # A key already there is ignored by OR IGNORE and refused without it.
    conn.execute("INSERT OR IGNORE INTO parties (norm_name, name) VALUES ('GLOCK', 'Glock2')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO parties (norm_name, name) VALUES ('GLOCK', 'Glock3')")
    with pytest.raises(sqlite3.IntegrityError, match="norm_name"):
        conn.execute("INSERT INTO parties (name) VALUES ('No Key')")
    conn.execute("UPDATE parties SET norm_name = 'OLD RULES KEY' WHERE name = 'Glock'")
    stored = dict(conn.execute("SELECT name, norm_name_stored FROM party_rows"))
    assert stored["New Co."] is None and stored["Other"] == "ODD KEY"
    assert stored["Glock"] == "OLD RULES KEY" and "Glock2" not in stored
    conn.execute("UPDATE parties SET norm_name = 'GLOCK' WHERE name = 'Glock'")
    assert conn.execute(
        "SELECT norm_name_stored, norm_name FROM party_rows WHERE name = 'Glock'"
    ).fetchone() == (None, "GLOCK")


def test_an_edited_name_is_named_by_check(imported, run_cli):
    # The key derived from the name changes with it.
    script = "UPDATE party_rows SET name = 'Glocke' WHERE name = 'Glock'"
    assert_named_altered(run_cli, imported, script, "parties")


def test_a_dropped_stored_key_is_named_by_check(imported, run_cli):
    # The view shows the key derived from the name instead.
    script = "UPDATE party_rows SET norm_name_stored = NULL WHERE name = 'S&W'"
    assert_named_altered(run_cli, imported, script, "parties")


@pytest.mark.parametrize(
    ("typed", "serial"),
    [("Heckler und Koch", "AB103"), ("Smith & Wesson", "AB105"), ("glock gmbh", "AB100")],
)
def test_trace_finds_a_maker_by_a_spelling_of_its_key(imported, run_cli, typed, serial):
    def matched(maker: str) -> list[str]:
        result = run_cli("--db", imported, "trace", serial, "--exact", "-m", maker, "--json")
        return [m["serial"] for m in json.loads(result.stdout)["matches"]]

    assert matched(typed) == [serial]
    assert matched("Beretta") == []
