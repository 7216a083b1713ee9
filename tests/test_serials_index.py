"""The serial index (migration 2): triggers keep the deletion neighbourhood and the
reversed keys current on insert, key change and delete; a rebuild recomputes
them. Also home of :func:`make_registry`, the direct-SQL registry the serial
tests share."""

from __future__ import annotations

from pathlib import Path

from firetrace.registry.db import connect
from firetrace.serials.normalize import serial_keys


def make_registry(path: Path, records, makers=("Acme", "Glock", "Beretta")):
    """A registry with ``records``: (maker, serial[, kind[, type[, model[, control]]]])."""
    conn = connect(path)
    conn.execute("BEGIN")
    ids = {}
    for name in makers:
        ids[name] = conn.execute(
            "INSERT INTO parties (norm_name, name) VALUES (?, ?)", (name.upper(), name)
        ).lastrowid
    rows = []
    for rec in records:
        defaults = ("frame", "pistol", None, 1)
        maker, serial, kind, ftype, model, control = (*rec, *defaults[len(rec) - 2 :])
        rows.append((ids[maker], kind, control, serial, *serial_keys(serial), ftype, model))
    conn.executemany(
        "INSERT INTO components (maker_id, kind, control, serial, serial_norm, serial_fold, "
        "serial_skel, type, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    return conn


def _index(conn, cid):
    deletions = {
        r[0]
        for r in conn.execute("SELECT variant FROM serial_deletions WHERE component_id = ?", (cid,))
    }
    suffixes = [
        r[0]
        for r in conn.execute("SELECT reversed FROM serial_suffixes WHERE component_id = ?", (cid,))
    ]
    return deletions, suffixes


def test_insert_trigger_fills_deletion_neighbourhood_and_reversed_key(db_path):
    conn = make_registry(db_path, [("Acme", "AB-1O3")])
    deletions, suffixes = _index(conn, 1)
    # serial_fold of AB-1O3 is A8103 (B->8, O->0).
    assert deletions == {"8103", "A103", "A803", "A813", "A810"}
    assert suffixes == ["3018A"]


def test_key_change_and_delete_keep_index_current(db_path):
    conn = make_registry(db_path, [("Acme", "XY12"), ("Acme", "ZZ99")])
    conn.execute("UPDATE components SET serial_fold = 'QQ7' WHERE id = 1")
    assert _index(conn, 1) == ({"Q7", "QQ"}, ["7QQ"])
    conn.execute("DELETE FROM components WHERE id = 1")
    assert _index(conn, 1) == (set(), [])
    assert _index(conn, 2)[1] == ["9922"]  # ZZ99 folds to 2299


def test_rebuild_recomputes_stale_keys(db_path):
    from firetrace.registry.serial_index import rebuild_serial_index

    conn = make_registry(db_path, [("Acme", "12O45")])
    conn.execute("UPDATE components SET serial_fold = 'stale', serial_skel = 'stale' WHERE id = 1")
    assert rebuild_serial_index(conn) == 1
    fold, skel = conn.execute("SELECT serial_fold, serial_skel FROM components").fetchone()
    assert (fold, skel) == ("12045", "12045")
    assert _index(conn, 1)[1] == ["54021"]


def test_schema_version_two_is_applied(db_path):
    conn = connect(db_path)
    (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert int(version) >= 2
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"serial_deletions", "serial_suffixes", "components_skel_control"} <= names
