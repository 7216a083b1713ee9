"""Wildcard trace: ``?`` is one unreadable character, ``*`` any run. Patterns with
a literal beginning or ending are served by an index range scan; a pattern with
almost no literals scans, but within a bound."""

from __future__ import annotations

import pytest
from test_serials_index import make_registry

from firetrace.registry.lookup import find_candidates

FILLER = 3000  # enough rows that a full scan costs far more than a range scan


@pytest.fixture
def conn(db_path):
    records = [("Acme", f"QW{n:06d}") for n in range(FILLER)]
    records += [
        ("Glock", "AB1234"),
        ("Glock", "AB1O34"),
        ("Glock", "AB12345"),
        ("Acme", "XK998877"),
        ("Beretta", "ZZ7G61"),
    ]
    return make_registry(db_path, records)


def _steps(conn, fn):
    """SQLite virtual-machine steps (in thousands) that ``fn`` costs."""
    calls = [0]

    def tick():
        calls[0] += 1
        return 0

    conn.set_progress_handler(tick, 1000)
    try:
        result = fn()
    finally:
        conn.set_progress_handler(None, 1000)
    return result, calls[0]


def test_question_mark_is_one_character(conn):
    cands = find_candidates(conn, "AB12?4")
    assert {c.serial for c in cands} == {"AB1234"}
    assert cands[0].match == "wildcard"
    assert "1 unreadable character" in cands[0].why
    # The literal part folds look-alikes: AB1?34 finds both AB1234 and AB1O34.
    assert {c.serial for c in find_candidates(conn, "AB1?34")} == {"AB1234", "AB1O34"}


def test_star_is_any_run_and_ranks_non_empty_runs_first(conn):
    cands = find_candidates(conn, "AB12*")
    assert {c.serial for c in cands} == {"AB1234", "AB12345"}
    assert find_candidates(conn, "AB1234*")[0].serial == "AB12345"  # a run, not nothing
    assert [c.serial for c in find_candidates(conn, "*8877")] == ["XK998877"]


def test_literal_read_as_lookalike_is_explained(conn):
    cands = find_candidates(conn, "ZZ76?1")
    assert [c.serial for c in cands] == ["ZZ7G61"]
    assert "G read as 6 at position 4" in cands[0].why


def test_manufacturer_narrows_wildcards(conn):
    assert find_candidates(conn, "AB1*", manufacturer="Acme") == []
    assert len(find_candidates(conn, "AB1*", manufacturer="Glock")) == 3


def test_prefix_and_suffix_patterns_use_an_index(conn):
    _, full_scan = _steps(
        conn, lambda: conn.execute("SELECT count(*) FROM components WHERE serial GLOB '*8877'")
    )
    found, prefix = _steps(conn, lambda: find_candidates(conn, "XK99*"))
    assert [c.serial for c in found] == ["XK998877"]
    found, suffix = _steps(conn, lambda: find_candidates(conn, "*998877"))
    assert [c.serial for c in found] == ["XK998877"]
    assert full_scan > 10 * max(prefix, suffix, 1)


def test_pattern_without_literals_is_bounded(conn, monkeypatch):
    from firetrace.serials import normalize

    rules = normalize.load_serial_rules()
    monkeypatch.setitem(rules.wildcard, "max_scan_rows", 100)
    cands = find_candidates(conn, "*5*", limit=0)  # no prefix or suffix to anchor on
    assert 0 < len(cands) <= 100
    assert find_candidates(conn, "*") == []  # nothing readable at all


def test_search_counts_what_the_limit_left_out(conn):
    from firetrace.registry.lookup import search

    # QW000100 .. QW000199 all fit QW0001??: the data cannot rank them apart.
    result = search(conn, "QW0001??", limit=5)
    assert [c.serial for c in result.candidates] == [f"QW0001{n:02d}" for n in range(5)]
    assert (result.more, result.more_tied, result.complete) == (95, 95, True)
    assert search(conn, "QW0001??", limit=0).more == 0
    # A look-alike reading ranks below the literal fits: left out, but not tied.
    mixed = search(conn, "AB1?34", limit=1)
    assert [c.serial for c in mixed.candidates] == ["AB1234"]
    assert (mixed.more, mixed.more_tied) == (1, 1)  # AB1O34 fits the pattern as well


def test_search_bound_makes_counts_lower_bounds(conn, monkeypatch):
    from firetrace.registry import lookup

    monkeypatch.setattr(lookup, "MAX_EXAMINED", 50)
    result = lookup.search(conn, "QW00*", limit=10)
    assert len(result.candidates) == 10 and result.more == 40 and not result.complete


def test_trace_says_how_many_more_fit(db_path, conn, run_cli):
    out = run_cli("trace", "QW0001??", "--limit", "3", "--db", db_path, "--json")
    import json

    doc = json.loads(out.stdout)
    assert len(doc["matches"]) == 3
    assert doc["more"] == {"matches": 97, "tied_with_last": 97, "complete": True}
    text = run_cli("trace", "QW0001??", "--limit", "3", "--db", db_path).stdout
    assert "97 more candidates not shown, 97 of them fitting exactly as well as match 3" in text


def test_exact_trace_counts_what_the_limit_left_out(db_path):
    from firetrace.registry.trace import trace

    conn = make_registry(db_path, [("Acme", "AB1234"), ("Glock", "AB1234"), ("Beretta", "ab-1234")])
    doc = trace(conn, "AB1234", exact=True, limit=1, audit=False)
    assert [m["manufacturer"] for m in doc["matches"]] == ["Acme"]
    # Glock's AB1234 is as exact as Acme's; Beretta's ab-1234 only normalised.
    assert doc["more"] == {"matches": 2, "tied_with_last": 1, "complete": True}
    everything = trace(conn, "AB1234", exact=True, limit=0, audit=False)
    assert len(everything["matches"]) == 3 and everything["more"]["matches"] == 0


def test_trace_tables_detail_the_best_and_list_the_rest(db_path, conn, run_cli):
    text = run_cli("trace", "QW0001??", "--limit", "5", "--db", db_path).stdout
    # No exact or normalised hit: the first three in full, the rest one line each.
    assert text.count("event timeline") == 3
    assert text.count("firearm: not known") == 3
    assert "other candidates" in text
    assert "  4. QW000103 Acme frame" in text and "  5. QW000104 Acme frame" in text
    full = run_cli("trace", "QW0001??", "--limit", "5", "--details", "--db", db_path).stdout
    assert full.count("event timeline") == 5 and "other candidates" not in full
