"""Large-batch import paths: the serial index filled in bulk (triggers dropped and
restored inside the import transaction) holds exactly the rows the triggers
would have written, and the duplicate warning stays bounded: transpositions among
a batch's own sequential serials are one line per maker, while a new serial that
is a transposition of an existing record is still named."""

from __future__ import annotations

import pytest

from firetrace.registry import dupes, importer
from firetrace.registry.db import connect
from firetrace.registry.importer import import_batch

HEADER = "manufacturer,serial,component,event,event_date,country_of_manufacture,model,calibre\n"


def _batch(path, rows):
    path.write_text(
        HEADER + "".join(f"{m},{s},frame,manufactured,2021-03-01,AT,G17,9mm\n" for m, s in rows)
    )
    return path


def _index_rows(conn):
    return set(conn.execute("SELECT reversed, component_id FROM serial_suffixes"))


def _triggers(conn):
    return {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'components'"
        )
    }


@pytest.mark.parametrize("bulk_from", [1, 10**9])
def test_bulk_and_trigger_index_hold_the_same_rows(db_path, tmp_path, monkeypatch, bulk_from):
    monkeypatch.setattr(importer, "BULK_INDEX_ROWS", bulk_from)
    conn = connect(db_path)
    triggers = _triggers(conn)
    assert len(triggers) == 3
    schema = set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
    first = _batch(tmp_path / "a.csv", [("Glock", f"BK{n:05d}") for n in range(300)])
    second = _batch(
        tmp_path / "b.csv",
        [("Glock", f"BK{n:05d}") for n in range(250, 600)] + [("Beretta", "PX-77 001")],
    )
    assert import_batch(conn, first).status == "imported"
    assert import_batch(conn, second).status == "imported"
    assert _triggers(conn) == triggers  # restored after the bulk path
    # Secondary indexes dropped for the bulk load are back, identical.
    assert set(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")) == schema
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    got = _index_rows(conn)
    # The reference: the same table recomputed from scratch by SQL over components.
    conn.execute("DELETE FROM serial_suffixes")
    from firetrace.registry.serial_index import (
        SERIAL_COLUMNS,
        index_new_components,
        serial_columns,
    )

    index_new_components(conn, 0)
    assert got == _index_rows(conn)
    assert any(r == "10077XP" for r, _ in got)
    # Triggers still maintain the index for small writes after a bulk import.
    assignments = ", ".join(f"{c.strip()} = ?" for c in SERIAL_COLUMNS.split(","))
    conn.execute(
        f"UPDATE components SET {assignments} WHERE serial = 'PX-77 001'", serial_columns("ZZ9")
    )
    assert any(r == "922" for r, _ in _index_rows(conn))


def test_failed_bulk_import_leaves_triggers_and_index_as_before(db_path, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BULK_INDEX_ROWS", 1)
    conn = connect(db_path)
    assert import_batch(conn, _batch(tmp_path / "a.csv", [("Glock", "BK00001")])).ok
    before = (_triggers(conn), _index_rows(conn), set(conn.execute("SELECT * FROM sqlite_master")))

    def boom(conn, batch_id, **options):
        raise RuntimeError("hook failed")

    monkeypatch.setattr("firetrace.registry.batch_warnings.after_batch_import", boom)
    with pytest.raises(RuntimeError):
        import_batch(conn, _batch(tmp_path / "b.csv", [("Glock", "BK00002")]))
    after = (_triggers(conn), _index_rows(conn), set(conn.execute("SELECT * FROM sqlite_master")))
    assert after == before


@pytest.mark.parametrize("bulk_check", [10**9, 1])  # seek per swap; registry-wide hash pass
def test_sequential_batch_gives_one_transposition_line_per_maker(
    db_path, tmp_path, monkeypatch, bulk_check
):
    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    conn = connect(db_path)
    assert import_batch(conn, _batch(tmp_path / "old.csv", [("Beretta", "QX55012")])).ok
    rows = [("Glock", f"BK{n:04d}") for n in range(1, 400)]
    rows += [("CZ", f"F{n:04d}") for n in range(1, 200)]
    rows += [("Beretta", "QX55021")]  # a transposition of an existing record
    result = import_batch(conn, _batch(tmp_path / "seq.csv", rows))
    assert result.status == "imported"
    lines = [w for w in result.warnings if "transposition" in w]
    glock = [w for w in lines if "this batch's Glock serials are expected numbering" in w]
    cz = [w for w in lines if "this batch's CZ serials are expected numbering" in w]
    assert len(glock) == 1 and len(cz) == 1
    # BK0012/BK0021, ...: each pair of serials 1-399 one adjacent swap apart.
    serials = {f"BK{n:04d}" for n in range(1, 400)}
    expected = sum(
        s[:i] + s[i + 1] + s[i] + s[i + 2 :] in serials
        for s in serials
        for i in range(len(s) - 1)
        if s[i] > s[i + 1]
    )
    assert expected > 100
    assert glock[0].startswith(f"{expected} transposition pairs")
    named = [w for w in lines if "QX55021" in w]
    assert len(named) == 1 and "1 existing record" in named[0] and "QX55012" in named[0]
    assert len(result.warnings) < 10


def test_hook_caps_listed_groups_and_counts_the_rest(db_path, tmp_path):
    from firetrace.registry.batch_warnings import after_batch_import

    conn = connect(db_path)
    old = [("Glock", f"AB{n}58") for n in range(10, 40)]
    assert import_batch(conn, _batch(tmp_path / "old.csv", old)).ok
    new = [("Glock", f"AB{n}85") for n in range(10, 40)]  # last two swapped: 30 pairs
    result = import_batch(conn, _batch(tmp_path / "new.csv", new))
    batch_id = result.batch_id
    # 30 with the old serials, and 3 among the new ones (AB1285 / AB2185, 13/31, 23/32):
    # none of them neighbours in a production run, so all are listed.
    assert sum("joins a transposition" in w for w in result.warnings) == 33
    capped = after_batch_import(conn, batch_id, limit=5)
    assert sum("joins a transposition" in w for w in capped) == 5
    assert capped[5] == "... and 28 more serial warnings (firetrace dupes lists them all)"


def test_a_row_given_twice_in_a_bulk_batch_is_one_event(db_path, tmp_path, monkeypatch):
    # A bulk load rebuilds the content-key index after the insert: a repeated row
    # must not break it (it is one event, as in a small batch).
    monkeypatch.setattr(importer, "BULK_INDEX_ROWS", 1)
    path = tmp_path / "twice.csv"
    sold = "Glock,BK00001,frame,sold,2022-01-01,AT,G17,9mm\n"
    _batch(path, [("Glock", "BK00001"), ("Glock", "BK00002")])
    path.write_text(path.read_text() + sold + sold)
    conn = connect(db_path)
    result = import_batch(conn, path)
    assert result.status == "imported", result.errors
    assert result.counts["events"] == 3 and result.counts["duplicate_events"] == 1
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM events WHERE event = 'sold'").fetchone() == (1,)
