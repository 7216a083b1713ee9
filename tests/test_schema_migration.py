"""Registries written by firetrace before schema 8 (``tests/fixtures/registry_v7``),
before schema 9 (``tests/fixtures/registry_v8``), before schema 10
(``tests/fixtures/registry_v9``) and before schema 11
(``tests/fixtures/registry_v10``), each built by
``tests/fixtures/old_registry.py`` with that version, migrate with nothing lost:
every read command answers as it did, and the audit log, the row seals and
tamper detection keep working across the upgrade."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import zlib
from pathlib import Path

import pytest

from firetrace import rowseals
from firetrace.registry.db import connect, latest_version

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
import old_registry  # noqa: E402
from test_registry_support import check_after_tampering  # noqa: E402

# Each fixture: its schema version and the bytes of fingerprint its seals hold.
OLD = {
    "registry_v7": (7, 16),
    "registry_v8": (8, 12),
    "registry_v9": (9, 12),
    "registry_v10": (10, 12),
}


def _seal_widths(db: Path) -> set[int]:
    """Bytes of fingerprint a row in the registry's seal rows."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT ids, fps FROM seals").fetchall()
    conn.close()
    return {len(fps) // (len(zlib.decompress(ids)) // 8) for ids, fps in rows}


@pytest.fixture(params=sorted(OLD))
def fixture(request) -> str:
    return request.param


@pytest.fixture
def old_db(tmp_path, fixture) -> Path:
    db = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / fixture / "registry.db", db)
    return db


def test_the_fixture_is_an_old_registry(old_db, fixture):
    conn = sqlite3.connect(old_db)
    (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert int(version) == OLD[fixture][0] < latest_version()
    assert _seal_widths(old_db) == {OLD[fixture][1]}  # sealed by the old version


def test_every_answer_is_the_same_after_the_migration(old_db, fixture):
    expected = json.loads((FIXTURES / fixture / "outputs.json").read_text())["answers"]
    conn = connect(old_db)  # migrates
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(latest_version()),
    )
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()
    answers = old_registry.answers(old_db)
    assert sorted(answers) == sorted(expected)
    for command, answer in expected.items():
        assert answers[command] == answer, command


def test_every_spelling_of_a_party_survives(old_db):
    from firetrace.registry.parties import spellings

    conn = sqlite3.connect(old_db)
    before = {
        pid: {name, *(n for (n,) in conn.execute(
            "SELECT name FROM party_names WHERE party_id = ?", (pid,)))}
        for pid, name in conn.execute("SELECT id, name FROM parties")
    }  # fmt: skip
    conn.close()
    conn = connect(old_db)
    after = {pid: set(spellings(conn, pid)) for pid in before}
    assert after == before
    assert sum(len(v) for v in before.values()) > len(before)  # some party has two


def test_every_party_key_survives_and_only_the_underived_are_stored(old_db):
    from firetrace.registry.schema_v13 import key_sql

    conn = sqlite3.connect(old_db)
    before = conn.execute("SELECT id, norm_name, name, licence, country FROM parties").fetchall()
    (underived,) = conn.execute(
        f"SELECT count(*) FROM parties WHERE norm_name IS NOT {key_sql('name')}"
    ).fetchone()
    conn.close()
    conn = connect(old_db)
    assert conn.execute("SELECT * FROM parties ORDER BY id").fetchall() == sorted(before)
    (stored,) = conn.execute("SELECT count(norm_name_stored) FROM party_rows").fetchone()
    assert 0 < stored == underived < len(before)


def test_seals_verify_after_the_migration_and_tampering_still_shows(old_db, fixture, run_cli):
    assert run_cli("--db", old_db, "check").exit_code == 0
    # A write after the upgrade seals with 12-byte fingerprints; both widths verify.
    assert run_cli("--db", old_db, "withdraw", "2", "--reason", "test").exit_code == 0
    assert _seal_widths(old_db) == {rowseals.FINGERPRINT_BYTES, OLD[fixture][1]}
    assert run_cli("--db", old_db, "check").exit_code == 0
    # An event sealed by the old version, altered by hand (through the view).
    evil = sqlite3.connect(old_db)
    evil.execute("DROP TRIGGER events_no_update")
    evil.execute("UPDATE events SET event = 'sold' WHERE event = 'reported_stolen'")
    evil.commit()
    evil.close()
    result = run_cli("--db", old_db, "check")
    assert result.exit_code == 1
    assert "altered" in result.stdout + result.stderr


def _check_after(old_db, script: str, run_cli) -> str:
    """Migrate, edit the file by hand with ``script``, run ``check``: it fails;
    its output."""
    connect(old_db).close()  # migrates
    return check_after_tampering(run_cli, old_db, script)


@pytest.mark.parametrize(
    "tamper",
    [
        # A day number moved by one: the event's date as the view shows it changes.
        "UPDATE event_rows SET day = day + 1 WHERE id = (SELECT min(id) FROM event_rows)",
        # Two kinds' names swapped in the code table: every event of either changes.
        "UPDATE event_kinds SET name = 'x' WHERE name = 'sold'; "
        "UPDATE event_kinds SET name = 'sold' WHERE name = 'reported_stolen'; "
        "UPDATE event_kinds SET name = 'reported_stolen' WHERE name = 'x'",
    ],
)
def test_the_stored_form_of_events_is_covered_by_their_seals(old_db, tamper, run_cli):
    # Events stored as codes and day numbers, sealed as the view shows them.
    said = _check_after(old_db, "DROP TRIGGER events_no_update; " + tamper, run_cli)
    assert "events row" in said and "altered" in said


# Registries of schema 9 on stored events compactly already.
@pytest.mark.parametrize("fixture", [name for name in sorted(OLD) if OLD[name][0] < 9])
def test_events_after_the_migration_are_stored_compactly(old_db, fixture):
    conn = sqlite3.connect(old_db)
    events = conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    conn.close()
    conn = connect(old_db)
    assert conn.execute("SELECT * FROM events ORDER BY id").fetchall() == events
    assert conn.execute(
        "SELECT count(*) FROM event_rows WHERE typeof(day) <> 'integer'"
    ).fetchone() == (0,)
    # Every content key is in event_keys, each naming its event.
    keyed = dict(conn.execute("SELECT event_id, row_key FROM event_keys"))
    assert {e[0]: e[-1][:12] for e in events} == keyed


_COMPONENT_COLUMNS = (
    "id, maker_id, kind, control, serial, serial_norm_stored, serial_fold_stored, "
    "serial_skel_stored, type, model, calibre, country_of_manufacture, year_of_manufacture, "
    "import_country, import_year, batch_id, serial_norm, serial_fold, serial_skel"
)


def test_components_after_the_migration_point_to_their_description(old_db):
    conn = sqlite3.connect(old_db)
    before = conn.execute(f"SELECT {_COMPONENT_COLUMNS} FROM components ORDER BY id").fetchall()
    conn.close()
    conn = connect(old_db)
    # The view shows every component as the table held it, to the type of each value.
    after = conn.execute(f"SELECT {_COMPONENT_COLUMNS} FROM components ORDER BY id").fetchall()
    assert after == before
    assert [[type(v) for v in row] for row in after] == [[type(v) for v in r] for r in before]
    columns = {r[1] for r in conn.execute("PRAGMA table_info(component_rows)")}
    assert "model" not in columns and "description_id" in columns
    # The kind as a code (schema 12), no fold the SQL table gives stored.
    assert conn.execute("SELECT DISTINCT typeof(kind) FROM component_rows").fetchall() == [
        ("integer",)
    ]
    folded = [r for r in before if r[6] is not None]  # serial_fold_stored, as before
    assert folded and conn.execute(
        "SELECT count(*) FROM component_rows WHERE serial_fold_stored IS NOT NULL"
    ).fetchone() == (0,)
    # One row per distinct description, each of them used.
    (descriptions,) = conn.execute("SELECT count(*) FROM descriptions").fetchone()
    distinct = {row[8:15] for row in before}
    assert descriptions == len(distinct) < len(before)
    unused = conn.execute(
        "SELECT count(*) FROM descriptions WHERE id NOT IN (SELECT description_id FROM components)"
    ).fetchone()
    assert unused == (0,)


@pytest.mark.parametrize(
    "tamper",
    [
        # A shared description edited: every component that points to it changes.
        "DROP TRIGGER descriptions_no_update; UPDATE descriptions SET model = 'X' "
        "WHERE id = (SELECT description_id FROM component_rows ORDER BY id LIMIT 1)",
        # A component pointed to another description.
        "UPDATE component_rows SET description_id = (SELECT max(id) FROM descriptions) "
        "WHERE id = (SELECT min(id) FROM component_rows WHERE description_id <> "
        "(SELECT max(id) FROM descriptions))",
    ],
)
def test_the_stored_form_of_components_is_covered_by_their_seals(old_db, tamper, run_cli):
    # Descriptions stored by reference, sealed as the components view shows them.
    said = _check_after(old_db, tamper, run_cli)
    assert "components row" in said and "altered" in said


def test_rows_recorded_before_the_migration_are_still_known(old_db, tmp_path, run_cli):
    # Their keys stay in event_keys: the sample batch again, in another file,
    # adds nothing; a new batch's events keep a check in their rows instead.
    connect(old_db).close()
    lines = (old_registry.ROOT / "samples" / "batch.csv").read_text().splitlines()
    again = tmp_path / "again.csv"
    again.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    result = run_cli("--db", old_db, "import", again, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    counts = json.loads(result.stdout)["counts"]
    assert counts["events"] == 0 and counts["duplicate_events"] == len(lines) - 1
    # The withdrawn batch again with a new serial: its recovery row is known.
    new = tmp_path / "new.csv"
    new.write_text(old_registry.THIRD.replace("WK77001", "WK77002"))
    result = run_cli("--db", old_db, "import", new, "--json")
    assert json.loads(result.stdout)["counts"]["events"] == 1
    conn = sqlite3.connect(old_db)
    (checked,) = conn.execute(
        "SELECT count(*) FROM event_rows WHERE length(row_key) = 4"
    ).fetchone()
    conn.close()
    assert checked == 1
    assert run_cli("--db", old_db, "check").exit_code == 0
