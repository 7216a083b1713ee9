"""Schema 12 (issue 14.6): a component's kind stored as a code and its look-alike
fold derived in SQL; the components view shows both as before, the seals cover
the kind as shown, and both writing paths store the same keys."""

from __future__ import annotations

import sqlite3

import pytest
from test_registry_support import assert_named_altered, batch_row, write_csv

from firetrace.registry.db import connect
from firetrace.registry.schema_v12 import fold_sql, stored_keys, stored_keys_sql
from firetrace.serials.normalize import serial_keys


def _rows():
    return [
        batch_row(serial="BA1004", component="barrel"),  # B folds to 8
        batch_row(serial="AB1005", component="barrel"),
        batch_row(serial="AC1006", component="frame"),
        batch_row(serial="AC1007", component="frame"),
        batch_row(serial="AC1008", component="frame"),
    ]


@pytest.fixture
def imported(tmp_path, run_cli, db_path):
    result = run_cli("import", write_csv(tmp_path / "a.csv", _rows()))
    assert result.exit_code == 0, result.stdout + result.stderr
    return db_path


def test_kinds_are_codes_the_most_common_first(imported):
    conn = sqlite3.connect(imported)
    kinds = dict(conn.execute("SELECT code, name FROM component_kinds"))
    assert kinds == {1: "frame", 2: "barrel"}
    stored = conn.execute("SELECT serial, kind FROM component_rows ORDER BY serial").fetchall()
    shown = conn.execute("SELECT serial, kind FROM components ORDER BY serial").fetchall()
    assert [k for _, k in stored] == [2, 1, 1, 1, 2]  # AB1005 barrel, AC frames, BA1004 barrel
    assert shown == [(s, kinds[k]) for s, k in stored]


def test_a_fold_the_sql_table_gives_is_not_stored(imported, run_cli):
    conn = sqlite3.connect(imported)
    rows = conn.execute(
        "SELECT c.serial, r.serial_fold_stored, c.serial_fold_stored, c.serial_fold "
        "FROM components c JOIN component_rows r ON r.id = c.id ORDER BY c.serial"
    ).fetchall()
    assert rows[-1] == ("BA1004", None, "8A1004", "8A1004")  # shown as stored before
    assert {r[1] for r in rows} == {None}
    # A look-alike trace still seeks the fold.
    result = run_cli("trace", "8A1004", "--json")
    assert result.exit_code == 0 and '"BA1004"' in result.stdout


def test_both_writing_paths_store_the_same_keys():
    conn = sqlite3.connect(":memory:")
    sql = stored_keys_sql(":serial", ":norm", ":fold", ":skel")
    for serial in ["BA1004", "AB-10O5", "ZZ9", "q1", "1234", "UVW"]:
        norm, fold, skel = serial_keys(serial)
        named = {"serial": serial, "norm": norm, "fold": fold, "skel": skel}
        assert conn.execute(f"SELECT {sql}", named).fetchone() == stored_keys(
            serial, (norm, fold, skel)
        ), serial
        # Today's rules fold as the SQL table does: no fold is stored.
        assert conn.execute(f"SELECT {fold_sql('?')}", (norm,)).fetchone() == (fold,), serial
    # A fold the table does not give (the rules changed) is stored, by both.
    assert stored_keys("X1", ("X1", "Y1", "Y1"))[1] == "Y1"
    named = {"serial": "X1", "norm": "X1", "fold": "Y1", "skel": "Y1"}
    assert conn.execute(f"SELECT {sql}", named).fetchone()[1] == "Y1"


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE component_kinds SET name = 'slide' WHERE name = 'barrel'",
        "UPDATE component_rows SET kind = 1 WHERE kind = 2",
    ],
)
def test_an_edited_kind_shows_as_an_altered_component(imported, run_cli, tamper):
    assert_named_altered(run_cli, imported, tamper, "components")


def test_writes_through_the_view_encode_the_kind_and_fold(imported):
    conn = connect(imported)
    conn.execute(
        "INSERT INTO components (maker_id, kind, control, serial, serial_norm_stored, "
        "serial_fold_stored, serial_skel_stored) VALUES (1, 'slide', 0, 'SB77', NULL, '5877', NULL)"
    )
    row = conn.execute(
        "SELECT r.kind, r.serial_fold_stored, c.kind, c.serial_fold_stored, c.serial_fold "
        "FROM components c JOIN component_rows r ON r.id = c.id WHERE c.serial = 'SB77'"
    ).fetchone()
    (code,) = conn.execute("SELECT code FROM component_kinds WHERE name = 'slide'").fetchone()
    assert row == (code, None, "slide", "5877", "5877")
