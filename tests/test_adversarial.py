"""Hostile inputs and faults, one test (or more) per item of issue 15.

Each test failed before its fix. Items that need long fixtures or many
processes have their own files (named in the item's comment).
"""

from __future__ import annotations

import contextlib
import csv
import os
import sqlite3
from pathlib import Path

import pytest

from firetrace.paths import samples_dir

SAMPLE = samples_dir() / "batch.csv"


@pytest.fixture
def registry(db_path, run_cli) -> Path:
    """A registry holding the sample batch."""
    result = run_cli("import", SAMPLE)
    assert result.exit_code == 0, result.stderr
    return db_path


def _fingerprint(path: Path) -> tuple[bytes, ...]:
    """Every byte of the registry and its companions, to prove nothing changed."""
    return tuple(
        Path(f"{path}{s}").read_bytes() if Path(f"{path}{s}").exists() else b""
        for s in ("", "-wal", "-journal")
    )


def _counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*) FROM batches").fetchone()[0],
            conn.execute("SELECT count(*) FROM audit").fetchone()[0],
        )
    finally:
        conn.close()


# --- 1. outputs never overwrite the registry or an input ------------------------


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_01_no_output_option_writes_over_the_registry(registry, run_cli, tmp_path, suffix):
    target = Path(f"{registry}{suffix}")
    before = _counts(registry)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    attempts = [
        ("dupes", "--csv", target, "--force"),
        ("refs", "export", target, "--force"),
        ("scan", evidence, "--jsonl", target, "--force"),
        ("scan", evidence, "--csv", target, "--force"),
        ("scan", evidence, "--case", target, "--force"),
        ("import", SAMPLE, "--errors", target, "--force"),
        ("import", SAMPLE, "--dry-run", "--errors", target, "--force"),
        ("backup", target, "--force"),
    ]
    for args in attempts:
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "part of the registry" in result.stderr, (args, result.stderr)
    assert _counts(registry) == before
    result = run_cli("check")
    assert result.exit_code == 0, result.stdout


def test_01_databases_named_only_on_the_command_line_are_protected(registry, run_cli, tmp_path):
    """A registry given by a global --db (before the command), and a reference
    library given by --refs-db, are protected by commands that never open them."""
    other = tmp_path / "other.db"
    assert run_cli("import", SAMPLE, "--db", other).exit_code == 0
    refs = tmp_path / "refs.db"
    assert run_cli("refs", "list", "--refs-db", refs).exit_code in (0, 2)
    refs.write_bytes(registry.read_bytes())  # a reference library in use
    scan = tmp_path / "scan.jsonl"
    scan.write_text('{"path": "x.stl", "verdict": "clear"}\n')
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    before = other.read_bytes(), refs.read_bytes()
    for args in (
        ("--db", other, "template", other, "--force"),
        ("--db", other, "report", scan, "-o", other, "--force"),
        ("--db", other, "report", scan, "-o", f"{other}-wal", "--force"),
        ("scan", evidence, "--refs-db", refs, "--jsonl", refs, "--force"),
        ("refs", "export", refs, "--refs-db", refs, "--force"),
    ):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "part of the registry" in result.stderr, (args, result.stderr)
    assert (other.read_bytes(), refs.read_bytes()) == before
    assert run_cli("check", "--db", other).exit_code == 0


def test_01_an_output_that_is_an_input_is_refused(run_cli, tmp_path, monkeypatch):
    batch = tmp_path / "batch.csv"
    batch.write_bytes(SAMPLE.read_bytes())
    for args in (
        ("import", batch, "--errors", batch, "--force"),
        ("import", batch, "--dry-run", "--errors", tmp_path / "." / "batch.csv", "--force"),
    ):
        result = run_cli(*args)
        assert result.exit_code == 2 and "is an input of this command" in result.stderr
    assert batch.read_bytes() == SAMPLE.read_bytes()
    # The rules a scan reads from --rules DIR are its inputs.
    rules = tmp_path / "rules"
    (rules / "forensics").mkdir(parents=True)
    (rules / "forensics" / "scan.toml").write_text("[walk]\nmax_depth = 3\n")
    (tmp_path / "evidence").mkdir()
    for option in ("--jsonl", "--csv", "--case"):
        args = ("scan", tmp_path / "evidence", "--rules", rules)
        result = run_cli(*args, option, rules / "forensics" / "scan.toml", "--force")
        assert result.exit_code == 2 and "is an input of this command" in result.stderr
    assert (rules / "forensics" / "scan.toml").read_text() == "[walk]\nmax_depth = 3\n"
    # The config file and the purpose policy are inputs of every command.
    assert run_cli("import", SAMPLE).exit_code == 0
    config, policy = tmp_path / "config.toml", tmp_path / "policy.toml"
    config.write_text("# mine\n")
    policy.write_text("[purpose]\nrequired_for = []\n")
    monkeypatch.setenv("FIRETRACE_CONFIG", str(config))
    monkeypatch.setenv("FIRETRACE_POLICY", str(policy))
    for target in (config, policy):
        for args in (("dupes", "--csv", target, "--force"), ("template", target, "--force")):
            result = run_cli(*args)
            assert result.exit_code == 2, (args, result.stdout, result.stderr)
            assert "is an input of this command" in result.stderr
    assert config.read_text() == "# mine\n" and policy.read_text().startswith("[purpose]")


def test_01_special_files_and_one_path_twice_are_refused(run_cli, tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = run_cli("dupes", "--csv", fifo, "--force")
    assert result.exit_code == 2 and "special file" in result.stderr
    out = tmp_path / "out.jsonl"
    result = run_cli("scan", evidence, "--jsonl", out, "--csv", out)
    assert result.exit_code == 2 and "also given as --jsonl" in result.stderr
    assert not out.exists()


# --- 2. backup onto the -wal or a device ----------------------------------------


def test_02_backup_refuses_the_wal_and_devices_even_with_force(registry, run_cli, tmp_path):
    writer = sqlite3.connect(registry, isolation_level=None)  # keeps the -wal in use
    writer.execute("PRAGMA journal_mode = WAL")
    before = _counts(registry)
    for dest in (f"{registry}-wal", f"{registry}-shm", "/dev/null"):
        result = run_cli("backup", dest, "--force")
        assert result.exit_code == 2, (dest, result.stderr)
    writer.close()
    assert _counts(registry) == before
    assert Path("/dev/null").is_char_device()
    assert run_cli("check").exit_code == 0


# --- 11. CSV formula injection --------------------------------------------------


def test_11_every_csv_writer_neutralises_formulas(run_cli, tmp_path, monkeypatch):
    hostile = [
        {"manufacturer": '=HYPERLINK("http://x","y")', "serial": "-77123"},
        {"manufacturer": "@SUM(1)", "serial": "-77123"},
    ]
    batch = tmp_path / "hostile.csv"
    with open(batch, "w", newline="") as fh:
        fields = ["manufacturer", "serial", "event", "event_date", "country_of_manufacture"]
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        for row in hostile:
            writer.writerow(
                row
                | {"event": "manufactured", "event_date": "2020-01-01"}
                | {"country_of_manufacture": "AT"}
            )
    assert run_cli("import", batch).exit_code == 0
    out = tmp_path / "dupes.csv"
    assert run_cli("dupes", "--csv", out).exit_code == 1
    rows = list(csv.DictReader(open(out, newline="")))
    assert rows and all(r["serial"] == "'-77123" for r in rows)
    assert {r["manufacturer"][:2] for r in rows} <= {"'=", "'@"}

    bad = tmp_path / "bad.csv"
    bad.write_text(
        'manufacturer,serial,event,event_date,=HYPERLINK("x")\n'
        "=cmd|x,1,manufactured,not-a-date,@y\n"
    )
    errors = tmp_path / "errors.csv"
    assert run_cli("import", bad, "--errors", errors, "--ignore-unknown").exit_code == 1
    cells = [c for row in csv.reader(open(errors, newline="")) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)

    listed = tmp_path / "list.csv"
    assert run_cli("list", "--component", "frame", "--csv", listed).exit_code == 0
    rows = list(csv.DictReader(open(listed, newline="")))
    assert {r["manufacturer"][:2] for r in rows} == {"'=", "'@"}
    assert {r["serial"] for r in rows} == {"'-77123"}

    from test_scan_fixtures import tube_stl

    (tmp_path / "=1+1.stl").write_bytes(tube_stl())
    scanned = tmp_path / "scan.csv"
    monkeypatch.chdir(tmp_path)  # the root given relative: the record's path starts with '='
    assert run_cli("scan", "=1+1.stl", "--csv", scanned, "--workers", "1").exit_code in (0, 1)
    rows = list(csv.DictReader(open(scanned, newline="")))
    assert rows and rows[0]["path"] == "'=1+1.stl"


# --- 3. event history cannot be rewritten undetected ----------------------------


def _attacker(db: Path) -> sqlite3.Connection:
    """Someone with write access to the file: the append-only triggers go first."""
    conn = sqlite3.connect(db, isolation_level=None)
    for name in ("events_no_update", "events_no_delete", "seals_no_update", "seals_no_delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    return conn


def _restore_triggers(conn: sqlite3.Connection) -> None:
    conn.executescript(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON event_rows "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON event_rows "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "CREATE TRIGGER IF NOT EXISTS seals_no_update BEFORE UPDATE ON seals "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "CREATE TRIGGER IF NOT EXISTS seals_no_delete BEFORE DELETE ON seals "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
    )
    conn.close()


def _stolen_event(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id FROM events WHERE event = 'reported_stolen'").fetchone()[0]
    finally:
        conn.close()


TAMPERS = {
    "stolen_to_sold": (
        "UPDATE events SET event = 'sold' WHERE id = {stolen}",
        "events row {stolen}",
        "altered",
    ),
    "event_deleted": ("DELETE FROM events WHERE id = {stolen}", "events row {stolen}", "deleted"),
    "event_added": (
        "INSERT INTO events (component_id, event, event_date, row_key) "
        "SELECT component_id, 'recovered', '2024-01-01', x'00' FROM events WHERE id = {stolen}",
        "events row",
        "added outside any audited write",
    ),
    "component_serial": (
        "UPDATE components SET serial = 'X' || serial WHERE id = 1",
        "components row 1",
        "altered",
    ),
    "assembly_removed": (
        "UPDATE assemblies SET removed = '2020-01-01' WHERE id = 1",
        "assemblies row 1",
        "altered",
    ),
    "batch_operator": ("UPDATE batches SET operator = 'mallory'", "batches row 1", "altered"),
    "firearm_deleted": (
        "DELETE FROM firearms WHERE id = (SELECT max(id) FROM firearms)",
        "firearms row",
        "deleted",
    ),
    "party_renamed": (
        "UPDATE parties SET name = 'Someone Else' WHERE id = 1",
        "parties row 1",
        "altered",
    ),
    "seal_edited": (
        "UPDATE seals SET fps = zeroblob(length(fps)) WHERE id = 1",
        "row seals of audit entry",
        "seals table was altered",
    ),
    "seal_forged": (
        "INSERT INTO seals (audit_id, tbl, columns, max_id, tombstones, ids, fps) "
        "SELECT 999, tbl, columns, max_id, tombstones, ids, fps FROM seals WHERE id = 1",
        "name audit entry 999",
        "added to the seals table by hand",
    ),
}


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "keyed"])
@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_03_every_kind_of_tamper_is_caught_by_check_and_verify(
    tamper, keyed, db_path, run_cli, monkeypatch
):
    if keyed:
        monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "the right key")
    assert run_cli("import", SAMPLE).exit_code == 0
    assert run_cli("check").exit_code == 0
    sql, where, what = TAMPERS[tamper]
    stolen = _stolen_event(db_path)
    evil = _attacker(db_path)
    evil.execute(sql.format(stolen=stolen))
    _restore_triggers(evil)
    for command in (("check",), ("audit", "verify")):
        result = run_cli(*command)
        assert result.exit_code == 1, (command, result.stdout)
        assert where.format(stolen=stolen) in result.stdout, result.stdout
        assert what in result.stdout, result.stdout


def test_03_the_stolen_pistol_rewritten_as_sold_is_named(db_path, run_cli, monkeypatch):
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "the right key")
    assert run_cli("import", SAMPLE).exit_code == 0
    stolen = _stolen_event(db_path)
    evil = _attacker(db_path)
    evil.execute("UPDATE events SET event = 'sold' WHERE id = ?", (stolen,))
    _restore_triggers(evil)
    result = run_cli("check", "--json")
    document = __import__("json").loads(result.stdout)
    assert result.exit_code == 1 and not document["ok"]
    rows = [p for p in document["audit"]["problems"] if p["log"] == "rows"]
    assert rows[0]["kind"] == "altered"
    assert rows[0]["message"].startswith(f"events row {stolen} was altered after audit entry 1")


def test_03_a_rebuilt_seal_and_chain_needs_the_key(db_path, run_cli, monkeypatch):
    """An attacker who recomputes the row's seal, the entry's attests and the whole
    chain passes without a key (the threat model says so) and fails with it."""
    import hashlib
    import json

    from firetrace import audit, rowseals

    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "the right key")
    assert run_cli("import", SAMPLE).exit_code == 0
    stolen = _stolen_event(db_path)
    evil = _attacker(db_path)
    evil.execute("DROP TRIGGER audit_no_update")
    evil.execute("UPDATE events SET event = 'sold' WHERE id = ?", (stolen,))
    columns = rowseals.sealed_tables(evil)["events"]
    values = evil.execute(
        f"SELECT {', '.join(columns)} FROM events WHERE id = ?", (stolen,)
    ).fetchone()
    seal_id, ids, fps = evil.execute(
        "SELECT id, ids, fps FROM seals WHERE tbl = 'events'"
    ).fetchone()
    position = list(rowseals._decode_ids(ids)).index(stolen)
    fps = bytearray(fps)
    width = rowseals.FINGERPRINT_BYTES
    fps[position * width : (position + 1) * width] = rowseals.fingerprint("events", values)
    evil.execute("UPDATE seals SET fps = ? WHERE id = ?", (bytes(fps), seal_id))
    digest = hashlib.sha256()
    for row in evil.execute(
        "SELECT tbl, columns, ids, fps FROM seals WHERE audit_id = 1 ORDER BY id"
    ):
        rowseals._add_to_digest(digest, *row)
    attests = json.loads(evil.execute("SELECT attests FROM audit WHERE id = 1").fetchone()[0])
    attests["seal"]["digest"] = digest.hexdigest()
    text = json.dumps(attests, sort_keys=True, separators=(",", ":"))
    evil.execute("UPDATE audit SET attests = ? WHERE id = 1", (text,))
    prev = audit.GENESIS
    for row in evil.execute(f"SELECT {audit._COLUMNS} FROM audit ORDER BY id").fetchall():
        digest = audit.entry_hash(audit._fields(row), prev, None)
        evil.execute(
            "UPDATE audit SET prev_hash = ?, hash = ?, keyed = 0 WHERE id = ?",
            (prev, digest, row[0]),
        )
        prev = digest
    _restore_triggers(evil)
    monkeypatch.delenv("FIRETRACE_AUDIT_KEY")
    assert run_cli("check").exit_code == 0  # forged without the key: undetectable
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "the right key")
    result = run_cli("check")
    assert result.exit_code == 1 and "rebuilt without the key" in result.stdout


def test_03_legitimate_writes_of_every_kind_keep_the_registry_sealed(db_path, run_cli, tmp_path):
    from test_audit_coverage import write_cube

    cube = write_cube(tmp_path / "cube.stl")
    steps = [
        ("import", SAMPLE),
        ("correct", "1", "--set", "notes=checked", "--reason", "typo"),
        ("refs", "add", cube, "--label", "A"),
        ("refs", "remove", "A"),
        ("refs", "add", cube, "--label", "B"),  # the removed row's id is used again
        ("trace", "58B200917"),
        ("backup", tmp_path / "copy.db"),
    ]
    for step in steps:
        result = run_cli(*step)
        assert result.exit_code == 0, (step, result.stdout, result.stderr)
        check = run_cli("check")
        assert check.exit_code == 0, (step, check.stdout)
    assert "every sealed row matches" in run_cli("audit", "verify").stdout
    assert run_cli("check", "--db", tmp_path / "copy.db").exit_code == 0  # reads copied too
    assert (tmp_path / "copy.db-reads").is_file()


# --- 5. a wrong audit key cannot poison the log ---------------------------------


def test_05_a_wrong_key_is_refused_before_anything_is_written(db_path, run_cli, monkeypatch):
    from firetrace import audit
    from firetrace.registry.db import connect

    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "the right key")
    assert run_cli("import", SAMPLE).exit_code == 0
    assert run_cli("trace", "58B200917").exit_code == 0
    before = len(audit.query_log(connect(db_path)))
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "wrong")
    correct = ("correct", "1", "--set", "notes=x", "--reason", "r")
    for args in (("trace", "58B200917"), ("dupes",), correct, ("backup", db_path.with_name("b"))):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "FIRETRACE_AUDIT_KEY is not this audit log's key" in result.stderr
    monkeypatch.setenv("FIRETRACE_AUDIT_KEY", "the right key")
    assert len(audit.query_log(connect(db_path))) == before
    assert run_cli("audit", "verify").exit_code == 0
    assert run_cli("trace", "58B200917").exit_code == 0  # and the log keeps working


# --- 16. tracing while a clerk imports ------------------------------------------


def test_16_a_trace_during_an_import_answers_and_is_recorded(registry, run_cli):
    from firetrace import audit
    from firetrace.registry.db import connect

    clerk = sqlite3.connect(registry, isolation_level=None)
    clerk.execute("BEGIN IMMEDIATE")  # an import holding the write lock
    clerk.execute("INSERT INTO meta VALUES ('importing', '1')")
    try:
        result = run_cli("trace", "58B200917", "--json", "--purpose", "CASE-16")
    finally:
        clerk.execute("ROLLBACK")
        clerk.close()
    assert result.exit_code == 0, result.stderr
    traced = audit.query_log(connect(registry), command="trace")
    assert traced[0]["purpose"] == "CASE-16" and traced[0]["log"] == "reads"
    assert run_cli("audit", "verify").exit_code == 0


def test_16_a_deleted_or_cut_back_read_log_is_caught(registry, run_cli, tmp_path):
    from firetrace.paths import read_log_path

    for _ in range(3):
        assert run_cli("trace", "58B200917").exit_code == 0
    head = run_cli("audit", "head").stdout.strip()
    assert ":" in head  # the registry log's head and the read log's
    assert run_cli("backup", tmp_path / "b.db").exit_code == 0  # a write anchors the reads
    reads = read_log_path(registry)
    evil = sqlite3.connect(reads, isolation_level=None)
    evil.execute("DROP TRIGGER audit_no_delete")
    evil.execute("DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)")
    evil.close()
    result = run_cli("audit", "verify", "--head", head)
    assert result.exit_code == 1 and "read" in result.stdout
    reads.unlink()
    result = run_cli("check")
    assert result.exit_code == 1 and "read log" in result.stdout


# --- 13. profiles are names, never paths ----------------------------------------


def test_13_a_profile_path_outside_the_rules_folder_is_refused(run_cli, tmp_path, db_path):
    weak = tmp_path / "weak.toml"
    weak.write_text('name = "weak"\nrequired = ["serial"]\n')
    bad = tmp_path / "bad.csv"
    bad.write_text("manufacturer,serial,event,event_date\nAcme,,manufactured,2020-01-01\n")
    relative = os.path.relpath(weak.with_suffix(""), samples_dir().parent / "rules" / "marking")
    for profile in (str(weak), relative, "../../" + weak.stem, "iti/../weak"):
        result = run_cli("import", bad, "--profile", profile)
        assert result.exit_code == 2, (profile, result.stdout)
        assert "--profile" in result.stderr and "marking profile" in result.stderr
    assert not db_path.exists()


# --- 6. read-only commands never create or change a database ----------------------

READ_ONLY = [
    ("check",),
    ("audit", "verify"),
    ("audit", "log"),
    ("audit", "head"),
    ("dupes",),
    ("refs", "list"),
    ("trace", "58B200917"),
    ("batches",),
    ("list",),
    ("show", "1"),
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_06_a_missing_registry_is_not_created(command, run_cli, tmp_path):
    db = tmp_path / "typo.db"
    result = run_cli(*command, "--db", db)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "no registry here" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [*READ_ONLY, ("import", str(SAMPLE))], ids=str)
def test_06_another_programs_database_is_refused_unchanged(command, run_cli, tmp_path):
    other = tmp_path / "browser-history.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE visits (url TEXT, at TEXT)")
    conn.execute("INSERT INTO visits VALUES ('https://example.org', '2024-01-01')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = run_cli(*command, "--db", other)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "not a firetrace registry" in result.stderr
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name]  # no -wal, no read log


# --- 10. terminal escape injection ------------------------------------------------

HOSTILE = "a\x1b]0;pwned\x07b\x1b[2J\u202eexe.lts"


def _no_raw_controls(text: str) -> bool:
    return not any(c in text for c in ("\x1b", "\x07", "\x00", "\u202e"))


def test_10_untrusted_operator_purpose_and_set_values_are_refused(registry, run_cli):
    for args in (
        ("--operator", "x\x1b[31m", "trace", "58B200917"),
        ("trace", "58B200917", "--purpose", "case\u202e1"),
        ("correct", "1", "--set", "notes=ok\u202efdp.exe", "--reason", "r"),
        ("correct", "1", "--set", "notes=x", "--reason", "bell\x07"),
        ("withdraw", "1", "--reason", "sent\x1b[2Jtwice"),
        ("refs", "add", SAMPLE, "--label", "A\u202egnp"),
        ("refs", "add", SAMPLE, "--label", "A\x9bB"),  # a C1 control (CSI)
    ):
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "control character" in result.stderr
        assert _no_raw_controls(result.stdout + result.stderr)


def test_10_evidence_names_reach_the_terminal_escaped(run_cli, tmp_path):
    import json

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / f"{HOSTILE}.stl").write_text("solid x\nendsolid x\n")
    out = tmp_path / "scan.jsonl"
    result = run_cli("scan", evidence, "--jsonl", out, "--min-verdict", "clear", "--workers", "1")
    assert result.exit_code in (0, 1), result.stderr
    assert _no_raw_controls(result.stdout + result.stderr)
    document = run_cli("scan", evidence, "--json", "--workers", "1").stdout
    assert _no_raw_controls(document)  # escaped as JSON \\u escapes: the same values
    assert any(HOSTILE in r["path"] for r in json.loads(document)["records"])

    record = {"path": f"{evidence}/{HOSTILE}.stl", "verdict": "high", "score": 0.9}
    record |= {"format": "stl", "findings": [], "sha256": "0" * 64, "size": 1}
    scan = tmp_path / "hostile.jsonl"
    scan.write_text(json.dumps(record) + "\n")
    result = run_cli("report", scan, "-o", tmp_path / "r.html")
    assert "drawing" in result.stderr and "\\x1b" in result.stderr
    assert _no_raw_controls(result.stdout + result.stderr)


def test_10_the_audit_log_shows_stored_values_escaped(registry, run_cli):
    from firetrace.registry.db import connect

    conn = connect(registry)
    # Written by an older version, or by hand: the log still shows it safely.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO audit (ts, operator, purpose, command, args_digest, record_ids, "
        "prev_hash, hash) VALUES ('2026', ?, ?, 'trace', '', '[]', '', '')",
        (HOSTILE, HOSTILE),
    )
    conn.execute("COMMIT")
    result = run_cli("audit", "log")
    assert "\\x1b]0;pwned" in result.stdout and _no_raw_controls(result.stdout)


# --- 7. tracebacks become one-line errors with the right exit code ---------------


@pytest.mark.slow  # waits on timeouts, locks or many subprocesses
def test_07_the_same_batch_imported_twice_at_once_is_already_imported(db_path, tmp_path):
    import threading
    import time

    from firetrace.registry.db import connect
    from firetrace.registry.importer import file_sha256, import_file

    connect(db_path).close()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other import holds the lock, about to commit
    other.execute(
        "INSERT INTO batches (source, sha256, imported_at, rows) VALUES ('batch.csv', ?, 'now', 1)",
        (file_sha256(SAMPLE),),
    )
    results = []
    worker = threading.Thread(target=lambda: results.append(import_file(db_path, SAMPLE)))
    worker.start()
    time.sleep(1.0)  # this import has looked (nothing committed yet) and waits for the lock
    other.execute("COMMIT")
    worker.join(30)
    other.close()
    assert results and results[0].status == "already_imported"


def _xlsx(tmp_path: Path, name: str, replace) -> Path:
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["manufacturer", "serial", "event", "event_date"])
    book.active.append(["Acme", "A1", "manufactured", "2020-01-01"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    out = tmp_path / name
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            dst.writestr(member, replace(member, src.read(member)))
    return out


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + k)} "{("&" + chr(97 + k) + ";") * 10}">'.encode() for k in range(8)
    )
    + b']><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&i;</Types>'
)


def test_07_hostile_batches_are_one_line_errors(run_cli, tmp_path):
    def bomb(member, data):
        return LAUGHS if member == "[Content_Types].xml" else data

    def truncated(member, data):
        return data[: len(data) // 2] if member.startswith("xl/worksheets/") else data

    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"a":' * 5000 + "1" + "}" * 5000 + "\n")
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text('{"manufacturer": "Acme", "serial": "A\\ud800", "event": "x"}\n')
    cases = [
        (_xlsx(tmp_path, "bomb.xlsx", bomb), 2, "not a readable XLSX workbook"),
        (_xlsx(tmp_path, "cut.xlsx", truncated), 2, "sheet is damaged"),
        (deep, 1, "nested too deeply"),
        (surrogate, 1, "serial: contains a control character (\\ud800)"),
    ]
    for batch, code, message in cases:
        for extra in ((), ("--dry-run",)):
            result = run_cli("import", batch, *extra)
            assert result.exit_code == code, (batch.name, result.stdout, result.stderr)
            assert message in result.stdout + result.stderr, (batch.name, result.stderr)
            assert "Traceback" not in result.stderr


def test_07_hostile_bundles_and_ids_are_one_line_errors(run_cli, tmp_path, registry):
    import json

    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "firetrace-refs-bundle", "x": ' + "[" * 5000 + "]" * 5000 + "}")
    huge = tmp_path / "huge.json"
    entry = {"label": "x", "geometry_hash": "0" * 64, "signature": [0.1] * 139, "size": 1.0}
    for faces in (10**30, 1e30):
        document = {"format": "firetrace-refs-bundle", "version": 1, "signature_version": 1}
        huge.write_text(
            json.dumps(document | {"count": 1, "references": [entry | {"faces": faces}]})
        )
        result = run_cli("refs", "import", huge)
        assert result.exit_code == 2 and "faces" in result.stderr, result.stderr
    document = {"format": "firetrace-refs-bundle", "version": 1, "signature_version": 1}
    huge.write_text(
        json.dumps(document | {"count": 1, "references": [entry | {"label": "x\u202egnp"}]})
    )
    result = run_cli("refs", "import", huge)
    assert result.exit_code == 2 and "bidi control character" in result.stderr, result.stderr
    result = run_cli("refs", "import", deep)
    assert result.exit_code == 2 and "nested too deeply" in result.stderr
    result = run_cli("correct", "1234567890123456789012345", "--set", "notes=x", "--reason", "r")
    assert result.exit_code == 2 and "no event" in result.stderr


def test_07_hostile_tracing_requests_are_one_line_errors(registry, run_cli, tmp_path):
    """trace --request reads JSON or TOML another agency sent: as guarded as a batch."""
    import json
    import subprocess
    import sys

    cases = {
        "deep.json": (
            '{"weapon": {"model": ' + "[" * 5000 + "]" * 5000 + "}}",
            "nested too deeply",
        ),
        "deep.toml": ("information_requested = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        "twice.json": ('{"urgency": "high", "urgency": "low"}', "'urgency' is given twice"),
        "huge.json": ('{"urgency": 1e999}', "'urgency': inf is not a finite number"),
        "bidi.toml": ('requesting_authority = "Police\u202egnp"', "bidi control character"),
    }
    out = tmp_path / "response.json"
    for name, (text, message) in cases.items():
        request = tmp_path / name
        request.write_text(text)
        result = run_cli("trace", "58B200917", "--tracing-response", out, "--request", request)
        assert result.exit_code == 2, (name, result.stdout, result.stderr[-300:])
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert not out.exists()
    dated = tmp_path / "dated.toml"
    dated.write_text("request_date = 2024-05-01\n[circumstances]\nrecovered_on = 2024-04-30\n")
    result = run_cli("trace", "58B200917", "--tracing-response", out, "--request", dated)
    assert result.exit_code == 0, result.stderr
    asked = json.loads(out.read_text())["request"]
    assert asked["request_date"] == "2024-05-01"
    assert asked["circumstances"]["recovered_on"] == "2024-04-30"
    fifo = tmp_path / "request.toml"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "firetrace", "trace", "58B200917", "--db", str(registry),
               "--tracing-response", str(tmp_path / "r2.json"), "--request", str(fifo)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


@pytest.mark.slow  # waits on timeouts, locks or many subprocesses
def test_07_a_fifo_given_for_any_file_a_command_reads_never_hangs(registry, tmp_path):
    """A FIFO where a policy, config, scan limits file, report manifest, the
    registry's journal or the read log should be is refused at once (a reader
    opening it waits forever for a writer)."""
    import subprocess
    import sys

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    scan = tmp_path / "scan.jsonl"
    scan.write_text('{"path": "x.stl", "verdict": "high"}\n')
    (tmp_path / "evidence").mkdir()
    (tmp_path / "rules" / "forensics").mkdir(parents=True)
    (tmp_path / "rules" / "forensics" / "scan.toml").symlink_to(fifo)
    trace = ["trace", "58B200917", "--db", str(registry)]
    cases = [
        (trace, {"FIRETRACE_POLICY": str(fifo)}, "policy file cannot be read: not a regular"),
        (trace, {"FIRETRACE_CONFIG": str(fifo)}, "config file cannot be read: not a regular"),
        (["scan", str(tmp_path / "evidence"), "--rules", str(tmp_path / "rules")], {},
         "scan limits file cannot be read: not a regular"),
        (["report", str(scan), "--manifest", str(fifo), "-o", str(tmp_path / "r.html")], {},
         "manifest unreadable (not a regular file"),
    ]  # fmt: skip
    # A FIFO planted where SQLite looks for the registry's journal, or as the read log.
    journal, reads = Path(f"{registry}-journal"), Path(f"{registry}-reads")
    check = ["check", "--db", str(registry)]
    cases += [
        (check, {}, "so it cannot be the registry's journal", journal),
        (trace, {}, "so it cannot be the registry's journal", journal),
        (check, {}, "is not a regular file, so it cannot be the read log", reads),
        (trace, {}, "is not a regular file, so it cannot be the read log", reads),
    ]
    for args, env, message, *planted in cases:
        for path in planted:
            path.unlink(missing_ok=True)
            os.mkfifo(path)
        done = subprocess.run(
            [sys.executable, "-m", "firetrace", *args],
            env=os.environ | env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (args, env, done.stderr)
        assert message in " ".join(done.stderr.split()), done.stderr
        for path in planted:
            path.unlink()


def test_07_a_damaged_or_unwritable_registry_is_one_line(registry, run_cli, tmp_path):
    damaged = tmp_path / "damaged.db"
    data = bytearray(registry.read_bytes())
    data[len(data) // 3 :] = bytes(len(data) - len(data) // 3)  # the back two thirds zeroed
    damaged.write_bytes(bytes(data))
    for command in (("trace", "58B200917"), ("dupes",), ("audit", "verify"), ("refs", "list")):
        result = run_cli(*command, "--db", damaged)
        assert result.exit_code in (1, 2), (command, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 2
    result = run_cli("check", "--db", damaged)
    assert result.exit_code == 1, result.stderr  # damage found, not an unreadable input
    locked = tmp_path / "locked"
    locked.mkdir()
    copy = locked / "r.db"
    copy.write_bytes(registry.read_bytes())
    with _unwritable(locked, copy):
        for command in (("import", SAMPLE), ("trace", "58B200917"), ("check",)):
            result = run_cli(*command, "--db", copy)
            assert result.exit_code in (1, 2), (command, result.stdout, result.stderr)
            assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 2


@contextlib.contextmanager
def _unwritable(*paths: Path):
    """Files nobody may change, root included (chattr +i), else read-only modes."""
    import shutil
    import subprocess

    immutable = os.geteuid() == 0 and shutil.which("chattr")
    if immutable:
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
    else:
        for path in paths:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        else:
            for path in paths:
                os.chmod(path, 0o755 if path.is_dir() else 0o644)


# --- 4. trace has a length limit and bounded work -------------------------------


def test_04_an_impossible_query_is_a_usage_error_and_answers_at_once(registry, run_cli):
    for query, message in (
        ("A" * 1000, "characters long"),
        ("7" * 10_000, "characters long"),
        ("1-" * 200, "characters long"),
        ("*1*2*3*4*", "'*' runs"),
    ):
        result = run_cli("trace", query)
        assert result.exit_code == 2, (query[:20], result.stdout)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert run_cli("trace", "58B-2009-17").exit_code == 0  # separators still fine


def test_04_every_search_path_is_bounded_in_time(registry, monkeypatch):
    import firetrace.registry.lookup as lookup
    from firetrace.registry.db import connect
    from firetrace.registry.trace import trace

    monkeypatch.setattr(lookup, "SEARCH_SECONDS", 0.0)  # the bound fires at once
    monkeypatch.setattr(lookup, "PROGRESS_STEPS", 1)
    conn = connect(registry)
    for query in ("58B200917", "58B2?0917", "5*7", "58B200971"):
        document = trace(conn, query, audit=False)
        assert document["more"]["complete"] is False, query  # partial, and says so


# --- 15. smaller ----------------------------------------------------------------


def test_15_readers_name_the_right_line_encoding_and_keys(run_cli, tmp_path):
    header = b"manufacturer,serial,event,event_date\n"
    row = b"Acme,A1,manufactured,2020-01-01\n"
    nul = tmp_path / "nul.csv"
    nul.write_bytes(header + row * 3 + b"Acme,A\x001,manufactured,2020-01-01\n")
    cr = tmp_path / "cr.csv"
    cr.write_bytes((header + row * 2).replace(b"\n", b"\r"))
    utf32 = tmp_path / "u32.csv"
    utf32.write_bytes((header + row).decode().encode("utf-32"))
    twice = tmp_path / "twice.jsonl"
    twice.write_text('{"manufacturer": "Acme", "serial": "A1", "Serial": "B2", "event": "x"}\n')
    huge = tmp_path / "huge.jsonl"
    huge.write_text(
        '{"manufacturer": "Acme", "serial": "A1", "notes": 1e999, "event": "manufactured", '
        '"event_date": "2020-01-01", "country_of_manufacture": "AT"}\n'
    )
    bidi = tmp_path / "bidi.csv"
    bidi.write_text(
        "manufacturer,serial,event,event_date,notes\n"
        "Acme,A1,manufactured,2020-01-01,ok\u202egnp.exe\n"
    )
    for batch, needle in (
        (nul, "line 5: encoding: binary content"),
        (cr, "lone CR"),
        (utf32, "UTF-32"),
        (twice, "serial: given twice"),
        (huge, "notes: inf is not a finite number"),  # was stored as the text 'inf'
        (bidi, "notes: contains a bidi control character (\\u202e)"),
    ):
        result = run_cli("import", batch, "--dry-run")
        assert result.exit_code in (1, 2), (batch.name, result.stdout)
        assert needle in result.stdout + result.stderr, (batch.name, result.stdout, result.stderr)
        assert "universal-newline" not in result.stderr


def test_15_check_on_a_truncated_registry_reports_damage(registry, run_cli, tmp_path):
    """Cut short at any page, the registry is damage found (exit 1), not an
    unreadable input (exit 2); a file cut inside the SQLite signature, or text,
    is not a registry at all (exit 2)."""
    conn = sqlite3.connect(registry)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = registry.read_bytes()
    cut = tmp_path / "cut.db"
    for size, code in ((len(data) // 2, 1), (len(data) - 4096, 1), (4096, 1), (100, 1), (10, 2)):
        cut.write_bytes(data[:size])
        result = run_cli("check", "--db", cut)
        assert result.exit_code == code, (size, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 2
    cut.write_text("manufacturer,serial\n" * 300)
    assert run_cli("check", "--db", cut).exit_code == 2


def test_15_fullwidth_queries_find_the_serial(registry, run_cli):
    import json

    result = run_cli("trace", "５８Ｂ２００９１７", "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["matches"][0]["serial"] == "58B200917"
    assert document["query"] == "５８Ｂ２００９１７"  # as typed


def test_15_an_encrypted_7z_header_is_worded_for_people(run_cli, tmp_path):
    py7zr = pytest.importorskip("py7zr")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    with py7zr.SevenZipFile(evidence / "locked.7z", "w", password="x", header_encryption=True) as z:
        z.writestr(b"solid x\nendsolid x\n", "a.stl")
    result = run_cli("scan", evidence, "--workers", "1")
    assert "encrypted 7z (its file list too) not read" in result.stderr
    assert "PasswordRequired" not in result.stderr and "[{" not in result.stderr


# --- 8. unreadable evidence roots exit 2 ------------------------------------------


def test_08_a_root_that_cannot_be_read_at_all_exits_2(run_cli, tmp_path):
    broken = tmp_path / "gone"
    broken.symlink_to(tmp_path / "nowhere")
    damaged = tmp_path / "image.E01"
    damaged.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 64)  # an E01 signature, no image
    fifo = tmp_path / "fifo.E01"
    os.mkfifo(fifo)
    for root, message in (
        (broken, "cannot read evidence root"),
        (fifo, "cannot read evidence root: a FIFO, not a file, folder"),
        (Path("/dev/null"), "cannot read evidence root: a character device"),
        (damaged, "not a readable E01 image (truncated, damaged, or a segment"),
    ):
        result = run_cli("scan", root, "--workers", "1")
        assert result.exit_code == 2, (root.name, result.stderr)
        assert message in result.stderr
        assert "RuntimeError" not in result.stderr and "OSError(" not in result.stderr


# --- 12. scanning keeps access times ------------------------------------------------


@pytest.mark.slow  # waits on timeouts, locks or many subprocesses
@pytest.mark.parametrize("workers", [1, 2])
def test_12_scanning_keeps_the_access_times_of_files_folders_and_links(run_cli, tmp_path, workers):
    from test_scan_fixtures import tube_stl

    evidence = tmp_path / "evidence"
    (evidence / "sub" / "deeper").mkdir(parents=True)
    (evidence / "part.stl").write_bytes(tube_stl())
    (evidence / "sub" / "notes.txt").write_text("nothing here")
    (evidence / "sub" / "deeper" / "other.stl").write_bytes(tube_stl(length=40))
    (evidence / "link.stl").symlink_to("part.stl")
    (evidence / "sub" / "up").symlink_to("..")
    (evidence / "outside").symlink_to(tmp_path)
    paths = [p for p in evidence.rglob("*")] + [evidence]
    old = int((__import__("time").time() - 2 * 86400) * 1e9)
    for path in paths:
        os.utime(path, ns=(old, path.lstat().st_mtime_ns), follow_symlinks=False)
    before = {p: p.lstat().st_atime_ns for p in paths}
    result = run_cli("scan", evidence, "--workers", str(workers), "--min-verdict", "clear")
    assert result.exit_code in (0, 1), result.stderr
    after = {p: p.lstat().st_atime_ns for p in paths}
    assert {str(p): after[p] for p in paths if after[p] != before[p]} == {}


# --- 9. nothing is left behind after SIGKILL -----------------------------------------


@pytest.mark.slow
def test_09_killing_a_parallel_scan_ends_its_workers(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from test_scan_fixtures import tube_stl

    from firetrace.workers import parent_alive

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for k in range(8):
        (evidence / f"f{k}.stl").write_bytes(tube_stl(length=30 + k))
    # A scan whose analysis takes long enough to be killed in the middle of it.
    (tmp_path / "slow_analyser.py").write_text(
        "import time\n"
        "from firetrace.detect.sniff import sniff_format\n"
        "class Slow:\n"
        "    def sniff(self, fh, size, name):\n"
        "        return sniff_format(fh, size, name)\n"
        "    def analyse(self, fh, **kw):\n"
        "        time.sleep(60)\n"
        "        return {'verdict': 'clear', 'score': 0.0, 'findings': [], 'format': 'stl'}\n"
    )
    script = (
        "from slow_analyser import Slow\n"
        "from firetrace.forensics.session import ScanOptions, run_scan\n"
        f"run_scan(ScanOptions([{str(evidence)!r}], workers=2), analyser=Slow())\n"
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    scan = subprocess.Popen([sys.executable, "-c", script], env=env)
    children: set[int] = set()
    deadline = time.monotonic() + 60
    # the resource tracker, the forkserver and two workers, busy analysing
    while len(children) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
        children = _descendants(scan.pid)
    assert len(children) >= 4, children
    time.sleep(1.0)  # the workers are inside the analysis now
    scan.send_signal(signal.SIGKILL)
    scan.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(parent_alive(pid) for pid in children):
        time.sleep(0.2)
    left = [pid for pid in children if parent_alive(pid)]
    for pid in left:  # a failing run must not leave them either
        os.kill(pid, signal.SIGKILL)
    assert left == []


def _descendants(pid: int) -> set[int]:
    found, queue = set(), [pid]
    while queue:
        parent = queue.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.add(child)
            queue.append(child)
    return found


def test_09_import_scratch_files_stay_beside_the_registry_and_are_cleared(db_path, tmp_path):
    from firetrace.paths import scratch_dir
    from firetrace.workers import scratch_folder

    db_path.write_bytes(b"")
    dead = scratch_dir(db_path) / "999999999-left-by-a-killed-import"
    dead.mkdir(parents=True)
    (dead / "part0.db").write_text("owner names")
    mine = scratch_folder(db_path)
    assert mine.parent == scratch_dir(db_path) and mine.parent.parent == db_path.parent
    assert not dead.exists()  # the dead run's leftovers are gone
    assert oct(mine.stat().st_mode & 0o777) == "0o700"
    assert oct(mine.parent.stat().st_mode & 0o777) == "0o700"


@pytest.mark.slow
def test_09_a_killed_parallel_import_leaves_no_worker_and_its_scratch_is_cleared(
    db_path, tmp_path, run_cli
):
    """SIGKILL a two-worker import while its workers write their scratch
    databases: the workers end, nothing lands in the temporary folder, the parts
    sit in the private folder beside the registry, and the next import (a small,
    one-process one) removes them."""
    import signal
    import subprocess
    import sys
    import time

    from firetrace.paths import scratch_dir
    from firetrace.workers import parent_alive

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from _registry_gen import write_batch
    finally:
        sys.path.pop(0)
    big = tmp_path / "big.csv"
    write_batch(big, 200_000, seed=9)
    assert run_cli("import", SAMPLE).exit_code == 0
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "firetrace", "import", str(big), "--db", str(db_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | {"FIRETRACE_IMPORT_WORKERS": "2", "TMPDIR": str(tmp)},
    )
    scratch = scratch_dir(db_path)

    def parts() -> list[Path]:
        return [p for p in scratch.rglob("part*.db") if p.stat().st_size > 256 * 1024]

    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and len(parts()) < 2:
        time.sleep(0.01)
    workers = _descendants(proc.pid)
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert still_running and len(parts()) == 2, "import ended before the kill"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(parent_alive(pid) for pid in workers):
        time.sleep(0.2)
    left = [pid for pid in workers if parent_alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == [] and len(workers) >= 2
    assert [p for p in tmp.rglob("*") if p.is_file()] == []  # no owner names in /tmp
    assert oct(scratch.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.parent.stat().st_mode & 0o777) == "0o700" for p in parts())
    small = tmp_path / "small.csv"
    small.write_text(
        "manufacturer,serial,event,event_date,country_of_manufacture\n"
        "Acme,SCRATCH1,manufactured,2020-01-01,AT\n"
    )
    assert run_cli("import", small).exit_code == 0
    assert list(scratch.iterdir()) == []


# --- 14. scan and report ----------------------------------------------------------


def test_14_scan_limits_from_a_rules_folder_are_validated(run_cli, tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    rules = tmp_path / "rules" / "forensics"
    rules.mkdir(parents=True)
    for line, message in (
        ("max_depth = -1", "max_depth: -1 is outside"),
        ('max_depth = "deep"', "max_depth: must be a whole number"),
        ("max_ratio = 1e999", "max_ratio: inf is outside"),
        ("max_ratio = nan", "max_ratio: nan is outside"),
        ("analysis_seconds = true", "analysis_seconds: must be a number"),
    ):
        (rules / "scan.toml").write_text(f"[walk]\n{line}\n")
        result = run_cli("scan", evidence, "--rules", tmp_path / "rules")
        assert result.exit_code == 2, (line, result.stdout)
        assert message in result.stderr, (line, result.stderr)


def test_14_a_resumed_scan_counts_the_whole_scan_after_a_kill(tmp_path):
    import json

    from test_scan_fixtures import FixedVerdict, tube_stl

    from firetrace.forensics.session import ScanOptions, run_scan
    from firetrace.forensics.writers import journal_path, manifest_path

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for k in range(4):
        (evidence / f"p{k}.stl").write_bytes(tube_stl(length=30 + k))
    out = tmp_path / "scan.jsonl"
    whole = run_scan(ScanOptions([str(evidence)], jsonl=out, workers=1), analyser=FixedVerdict())
    # As if SIGKILLed after two files: no manifest, two units journaled.
    manifest_path(out).unlink()
    journal = journal_path(out)
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:2]))
    out.write_text("".join(out.read_text().splitlines(keepends=True)[:2]))
    resumed = run_scan(ScanOptions([str(evidence)], resume=out, workers=1), analyser=FixedVerdict())
    assert resumed.manifest["counts"]["files"] == whole.manifest["counts"]["files"] == 4
    assert resumed.manifest["counts"]["by_format"] == whole.manifest["counts"]["by_format"]
    assert json.loads(manifest_path(out).read_text())["counts"]["files"] == 4


def _report_of(run_cli, tmp_path, evidence, records):
    """A report drawn from *records* as a scan of the folder *evidence* (exit 0
    asserted): the scan's path, the report's path and its page."""
    import json

    scan = tmp_path / "scan.jsonl"
    scan.write_text("".join(json.dumps(r) + "\n" for r in records))
    manifest = {"roots": [{"path": str(evidence), "absolute": str(evidence), "type": "folder"}]}
    (tmp_path / "scan.manifest.json").write_text(json.dumps(manifest))
    html = tmp_path / "report.html"
    result = run_cli("report", scan, "-o", html)
    assert result.exit_code == 0, result.stderr
    return scan, html, html.read_text()


def test_14_report_rereads_only_the_evidence_and_checks_its_output_first(run_cli, tmp_path):

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "part.stl").symlink_to("/etc/passwd")
    secret = tmp_path / "outside.stl"
    secret.write_text("solid secret\nendsolid secret\n")
    base = {"verdict": "high", "score": 0.9, "format": "stl", "findings": [], "size": 1}
    records = [
        base | {"path": str(evidence / "part.stl"), "sha256": "1" * 64},
        base | {"path": str(secret), "sha256": "2" * 64},
        base | {"path": "/proc/self/environ", "sha256": "3" * 64},
    ]
    scan, html, page = _report_of(run_cli, tmp_path, evidence, records)
    assert page.count("outside the evidence roots") == 3
    assert "root:" not in page and "secret" not in page.split("<body", 1)[1].split("outside.stl")[0]
    before = html.read_text()
    result = run_cli("report", scan, "-o", html)  # exists: refused before drawing anything
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert "drawing" not in result.stderr and html.read_text() == before


def test_14_report_never_writes_into_the_evidence_it_reads(run_cli, tmp_path):
    """report -o onto a file it draws (or anywhere inside the manifest's roots) is
    refused before anything is drawn; without a manifest, the files drawn still are."""
    import json

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    part = evidence / "part.stl"
    part.write_text("solid x\nendsolid x\n")
    record = {"verdict": "high", "score": 0.9, "format": "stl", "findings": [], "size": 1}
    scan = tmp_path / "scan.jsonl"
    scan.write_text(json.dumps(record | {"path": str(part), "sha256": "1" * 64}) + "\n")
    manifest = tmp_path / "scan.manifest.json"
    manifest.write_text(json.dumps({"roots": [{"path": str(evidence), "absolute": str(evidence)}]}))
    for output in (part, evidence / "report.html", tmp_path / "link" / "part.stl"):
        if output.parent.name == "link" and not output.parent.exists():
            output.parent.symlink_to(evidence)
        result = run_cli("report", scan, "-o", output, "--force")
        assert result.exit_code == 2, (output, result.stderr)
        assert "output inside the evidence" in result.stderr and "drawing" not in result.stderr
    manifest.unlink()
    result = run_cli("report", scan, "-o", part, "--force")
    assert result.exit_code == 2 and "output inside the evidence" in result.stderr
    assert part.read_text() == "solid x\nendsolid x\n"
    assert sorted(p.name for p in evidence.iterdir()) == ["part.stl"]
    assert run_cli("report", scan).exit_code == 0  # beside the scan, as by default


def test_14_report_refuses_special_files_inside_the_evidence(run_cli, tmp_path):
    """A FIFO (would hang), a character device (never ends) and a block device node
    inside a seized folder are refused by name, not read and not 'not found'."""

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    os.mkfifo(evidence / "fifo.stl")
    nodes = ["fifo.stl"]
    import stat

    for name, kind, device in (
        ("zero.stl", stat.S_IFCHR, (1, 5)),
        ("disk.stl", stat.S_IFBLK, (7, 250)),
    ):
        try:  # root only: a /dev/zero and an unbound loop device inside the evidence
            os.mknod(evidence / name, 0o600 | kind, os.makedev(*device))
        except PermissionError:
            continue
        nodes.append(name)
    base = {"verdict": "high", "score": 0.9, "format": "stl", "findings": [], "size": 1}
    records = [
        base | {"path": str(evidence / name), "sha256": f"{k}" * 64}
        for k, name in enumerate(nodes, 1)
    ]
    scan, html, page = _report_of(run_cli, tmp_path, evidence, records)
    assert page.count("special file, not a regular file: not read") == len(nodes), page


def test_03_withdrawals_and_tables_added_later_are_sealed_too(registry, run_cli):
    from firetrace.audit import audited_write
    from firetrace.registry.db import connect

    conn = connect(registry)
    conn.execute("CREATE TABLE IF NOT EXISTS later_records (id INTEGER PRIMARY KEY, what TEXT)")
    with audited_write(conn, "withdraw", operator="clerk", purpose="CASE-3"):
        conn.execute(
            "INSERT INTO withdrawals (batch_id, reason, operator, withdrawn_at) "
            "VALUES (1, 'sent twice', 'clerk', '2026-01-01')"
        )
        conn.execute("INSERT INTO later_records (what) VALUES ('kept')")
    conn.close()
    assert run_cli("check").exit_code == 0
    evil = _attacker(registry)
    evil.execute("DROP TRIGGER IF EXISTS withdrawals_no_update")
    evil.execute("UPDATE withdrawals SET reason = 'never happened'")
    evil.execute("DELETE FROM later_records")
    evil.close()
    result = run_cli("check")
    assert result.exit_code == 1
    assert "withdrawals row 1 was altered" in result.stdout
    assert "later_records row 1" in result.stdout and "was deleted" in result.stdout
