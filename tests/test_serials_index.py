"""The serial index (migration 2): triggers keep the deletion neighbourhood and the
reversed keys current on insert, key change and delete; a rebuild recomputes
them. Also home of :func:`make_registry`, the direct-SQL registry the serial
tests share."""

from __future__ import annotations

from pathlib import Path

from firetrace.registry.db import connect
from firetrace.registry.serial_index import SERIAL_COLUMNS, serial_columns


def make_registry(path: Path, records, makers=("Acme", "Glock", "Beretta")):
    """A registry with ``records``: (maker, serial[, kind[, type[, model[, control]]]])."""
    conn = connect(path)
    conn.execute("BEGIN")
    ids = {}
    for name in makers:
        # parties is a view (schema 13): no lastrowid; the id by its key
        conn.execute("INSERT INTO parties (norm_name, name) VALUES (?, ?)", (name.upper(), name))
        (ids[name],) = conn.execute(
            "SELECT id FROM parties WHERE norm_name = ?", (name.upper(),)
        ).fetchone()
    rows = []
    for rec in records:
        defaults = ("frame", "pistol", None, 1)
        maker, serial, kind, ftype, model, control = (*rec, *defaults[len(rec) - 2 :])
        rows.append((ids[maker], kind, control, *serial_columns(serial), ftype, model))
    conn.executemany(
        f"INSERT INTO components (maker_id, kind, control, {SERIAL_COLUMNS}, type, model) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    return conn


def _suffixes(conn, cid) -> list[str]:
    return [
        r[0]
        for r in conn.execute("SELECT reversed FROM serial_suffixes WHERE component_id = ?", (cid,))
    ]


def _keys(conn, cid) -> tuple:
    return conn.execute(
        "SELECT serial_norm, serial_fold, serial_skel, serial_norm_stored, serial_fold_stored, "
        "serial_skel_stored FROM components WHERE id = ?",
        (cid,),
    ).fetchone()


def test_keys_are_derived_and_only_what_cannot_be_is_stored(db_path):
    conn = make_registry(
        db_path, [("Acme", "AB-1O3"), ("Acme", "AB1234"), ("Acme", "369J257"), ("Acme", "00123")]
    )
    # AB-1O3: norm AB1O3 (stored: differs from the serial), fold A8103 (stored).
    assert _keys(conn, 1) == ("AB1O3", "A8103", "A8103", "AB1O3", "A8103", None)
    # AB1234: its own norm; folds to A81234; no embedded letter.
    assert _keys(conn, 2) == ("AB1234", "A81234", "A81234", None, "A81234", None)
    # 369J257: the embedded J dropped in the skeleton, which alone is stored.
    assert _keys(conn, 3) == ("369J257", "369J257", "369257", None, None, "369257")
    # 00123: the skeleton folds leading zeros, as the generated column does.
    assert _keys(conn, 4) == ("00123", "00123", "123", None, None, None)
    assert _suffixes(conn, 1) == ["3018A"]


def test_serial_change_and_delete_keep_the_suffix_index_current(db_path):
    from firetrace.registry.serial_index import SERIAL_COLUMNS, serial_columns

    conn = make_registry(db_path, [("Acme", "XY12"), ("Acme", "ZZ99")])
    assignments = ", ".join(f"{c.strip()} = ?" for c in SERIAL_COLUMNS.split(","))
    conn.execute(f"UPDATE components SET {assignments} WHERE id = 1", serial_columns("QQ7"))
    assert _suffixes(conn, 1) == ["700"]  # QQ7 folds to 007
    conn.execute("DELETE FROM components WHERE id = 1")
    assert _suffixes(conn, 1) == []
    assert _suffixes(conn, 2) == ["9922"]  # ZZ99 folds to 2299


def test_rebuild_recomputes_stale_keys(db_path):
    from firetrace.registry.serial_index import rebuild_serial_index

    conn = make_registry(db_path, [("Acme", "12O45")])
    conn.execute("UPDATE components SET serial_fold_stored = 'stale', serial_skel_stored = 'x'")
    conn.execute("DELETE FROM serial_suffixes")
    assert rebuild_serial_index(conn) == 1
    fold, skel = conn.execute("SELECT serial_fold, serial_skel FROM components").fetchone()
    assert (fold, skel) == ("12045", "12045")
    assert _suffixes(conn, 1) == ["54021"]


def test_migration_five_drops_the_deletion_table_and_keys_are_indexed(db_path):
    conn = connect(db_path)
    (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert int(version) >= 5
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"serial_suffixes", "components_serial_fold", "components_skel"} <= names
    assert "serial_deletions" not in names
    # Since schema 8 a lookup by the norm seeks the fold (a function of the norm).
    for where in ("serial_fold IN ('A', 'B') AND serial_norm IN ('A', 'B')", "serial_fold = 'A'"):
        plan = " ".join(
            str(r)
            for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT id FROM components WHERE {where}")
        )
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
