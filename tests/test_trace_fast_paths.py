"""The fast paths of `firetrace trace` give the answers of the slow ones: the
cost-only alignment ranks as the full one scores, all candidates described
together equal each described alone, a small --limit filled by exact hits skips
the fuzzy search without changing the answer, and the human output's tables
keep their content."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firetrace.paths import samples_dir
from firetrace.registry.db import connect
from firetrace.registry.lookup import Candidate, align, align_cost, find_candidates
from firetrace.registry.trace import describe_match, describe_matches

SAMPLE = samples_dir() / "batch.csv"
REPO = Path(__file__).resolve().parent.parent
# Digits, their look-alike letters and letters that look like nothing.
SERIAL_CHARS = "0123456789OQDILTZSGBUVAXK"


@settings(max_examples=300, deadline=None)
@given(
    read=st.text(alphabet=SERIAL_CHARS, max_size=10),
    marked=st.text(alphabet=SERIAL_CHARS, max_size=10),
)
def test_cost_only_alignment_equals_the_full_one(read, marked):
    cost, _ = align(read, marked)
    assert align_cost(read, marked) == cost


def test_alignment_phrases_name_each_edit():
    cost, phrases = align("AB1O34", "AB10034")
    assert phrases == ["doubled 0 at position 4 read once", "0 read as O at position 5"]
    assert cost == align_cost("AB1O34", "AB10034")


@pytest.fixture
def sample_conn(run_cli, db_path):
    assert run_cli("import", SAMPLE).exit_code == 0
    conn = connect(db_path)
    yield conn
    conn.close()


def test_candidates_described_together_equal_each_described_alone(sample_conn):
    # Parts and control components of several firearms, one barrel that moved.
    candidates = find_candidates(sample_conn, "58A12345", limit=0)
    candidates += find_candidates(sample_conn, "BRL58A7781", limit=0)
    candidates += find_candidates(sample_conn, "BKLM101", limit=0)
    unique = list({c.component_id: c for c in candidates}.values())
    assert len(unique) >= 4
    assert any(not describe_match(sample_conn, c)["control"] for c in unique)
    together = describe_matches(sample_conn, unique)
    assert together == [describe_match(sample_conn, c) for c in unique]
    # Each match keeps to its own events: no timeline borrows another's.
    for match in together:
        own = {match["serial"]}
        if match["firearm"]:
            own |= {match["firearm"]["control_component"]["serial"]}
            own |= {c["serial"] for c in match["firearm"]["components"]}
        # A part's earlier firearms: their control component, while the part was in it.
        own |= {spot["firearm_serial"] for spot in match.get("installations", ())}
        assert {e["serial"] for e in match["events"]} <= own


def test_small_limit_filled_by_exact_hits_gives_the_same_answer(sample_conn):
    serials = [r[0] for r in sample_conn.execute("SELECT serial FROM components")]
    assert len(serials) > 5
    exact_with_neighbours = 0
    for serial in serials:
        full = find_candidates(sample_conn, serial, limit=0)
        assert full[0].match == "exact"
        exact_with_neighbours += len(full) > 1
        for limit in (1, 2):
            assert find_candidates(sample_conn, serial, limit=limit) == full[:limit]
    assert exact_with_neighbours  # some answers do hold look-alike or fuzzy candidates


def test_fuzzy_candidates_are_explained(sample_conn):
    candidates = find_candidates(sample_conn, "58B2OO917", limit=5)
    assert candidates[0].serial == "58B200917" and candidates[0].match == "confusable"
    assert "O" in candidates[0].why and candidates[0].why.count("read as") == 2
    assert all(c.why for c in candidates)


def test_trace_output_lists_every_event(run_cli, sample_conn, db_path):
    result = run_cli("trace", "58B200917", "--db", db_path)
    assert result.exit_code == 0
    rows = sqlite3.connect(db_path).execute(
        "SELECT DISTINCT event_date FROM events e JOIN components c ON c.id = e.component_id "
        "WHERE c.serial = '58B200917'"
    )
    dates = [r[0] for r in rows]
    assert len(dates) >= 3
    for day in dates:
        assert day in result.stdout
    assert "event timeline" in result.stdout and "BRL58A7781" in result.stdout


def test_trace_command_imports_nothing_heavy(sample_conn, db_path):
    # sqlite-utils pulls in pandas; numpy and friends are for the 3D areas.
    script = (
        "import sys\n"
        "from firetrace.cli import main\n"
        "try:\n"
        f"    main(['trace', '58B2OO917', '--db', {str(db_path)!r}, '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('sqlite_utils', 'pandas', 'numpy', 'trimesh', 'scipy', 'lxml', 'pydantic')\n"
        "print('HEAVY', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO
    )
    assert '"serial": "58B200917"' in result.stdout, result.stderr
    assert "HEAVY []" in result.stderr


def test_many_candidates_are_described_in_rounds(sample_conn, monkeypatch):
    import firetrace.registry.trace as trace_module

    candidates = [
        Candidate(cid, serial, "", "", "wildcard", 0.9, "pattern matches")
        for cid, serial in sample_conn.execute("SELECT id, serial FROM components ORDER BY serial")
    ]
    assert len(candidates) >= 10
    whole = describe_matches(sample_conn, candidates)
    monkeypatch.setattr(trace_module, "DESCRIBE_CHUNK", 2)
    assert describe_matches(sample_conn, candidates) == whole
    assert [m["component_id"] for m in whole] == [c.component_id for c in candidates]
