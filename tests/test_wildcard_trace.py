"""Wildcard trace: ``?`` is one unreadable character, ``*`` any run. Patterns with
a literal beginning or ending are served by an index range scan; a pattern with
almost no literals scans, but within a bound."""

from __future__ import annotations

import pytest
from test_fuzzy_trace import answers
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
    # (the search counts its own steps in hundreds: _steps' handler is replaced by its bound)
    found, prefix = _search_steps(conn, "XK99*")
    assert found == ["XK998877"]
    found, suffix = _search_steps(conn, "*998877")
    assert found == ["XK998877"]
    assert full_scan * 10 > 10 * max(prefix, suffix)


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


# --- found by the mutation run of registry/lookup.py (issue 17.8) -------------

WILDCARD_QUERIES = ["AB12?4", "AB1?34", "AB12*", "AB1234*", "*8877", "ZZ76?1", "A*", "?B1234",
                    "AB**45", "AB*?45", "XK9988?7*", "Z*6?", "*5*", "QW0001??"]  # fmt: skip


def test_every_field_of_a_wildcard_candidate(conn):
    glock = ("Glock", "frame", "wildcard")
    assert answers(conn, "AB12?4", limit=0) == (
        [("AB1234", *glock, 0.9048, "pattern AB12?4 matches, 1 unreadable character")],
        (0, 0, True),
    )
    # 0.95 / (1 + 0.1 per run) for a run of some characters, + 0.3 for an empty one
    assert answers(conn, "AB1234*", limit=0)[0] == [
        ("AB12345", *glock, 0.8636, "pattern AB1234* matches, 1 unreadable character"),
        ("AB1234", *glock, 0.6786, "pattern AB1234* matches, 0 unreadable characters"),
    ]
    # Repeated stars are one run; the pattern is quoted as typed.
    assert answers(conn, "AB**45", limit=0)[0] == [
        ("AB12345", *glock, 0.8636, "pattern AB**45 matches, 3 unreadable characters"),
    ]
    assert answers(conn, "AB*?45", limit=0)[0] == [
        ("AB12345", *glock, 0.8261, "pattern AB*?45 matches, 3 unreadable characters"),
    ]
    # One match each: (pattern, maker, score, unreadable characters and misreadings).
    # In Z*6? the run takes all it can (Z7G), so the 6 is the marked one, not G.
    for pattern, serial, maker, score, why in [
        ("Z*6?", "ZZ7G61", "Beretta", 0.8261, "4 unreadable characters"),
        ("Z?76?1", "ZZ7G61", "Beretta", 0.7037,
         "2 unreadable characters; G read as 6 at position 4"),
        ("XK9988?7*", "XK998877", "Acme", 0.6552, "1 unreadable character"),
        ("*8877", "XK998877", "Acme", 0.8636, "4 unreadable characters"),
    ]:  # fmt: skip
        expected = (serial, maker, "frame", "wildcard", score, f"pattern {pattern} matches, {why}")
        assert answers(conn, pattern, limit=0)[0] == [expected]


def test_wildcard_rules_without_scores_or_bounds_use_the_documented_defaults(conn, serial_rules):
    bundled = [answers(conn, q, limit=0) for q in WILDCARD_QUERIES]
    serial_rules("")  # no [scores] or [wildcard]: every value falls back
    assert [answers(conn, q, limit=0) for q in WILDCARD_QUERIES] == bundled


def _search_steps(conn, query):
    """A wildcard search's answer and its SQLite work, in hundreds of VM steps (the
    search's own time bound looks at the clock every PROGRESS_STEPS steps)."""
    import time
    from types import SimpleNamespace

    from firetrace.registry import lookup

    looks = [0]

    def monotonic():
        looks[0] += 1
        return time.monotonic()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lookup, "PROGRESS_STEPS", 100)
        patch.setattr(lookup, "time", SimpleNamespace(monotonic=monotonic))
        found = [c.serial for c in lookup.search(conn, query, limit=0).candidates]
    return found, looks[0]


@pytest.mark.parametrize("rules", ["bundled", "defaults"])
def test_an_anchor_of_two_literals_is_served_by_an_index(conn, serial_rules, rules):
    if rules == "defaults":
        serial_rules("")
    # A scan of the key index reads the 3,005 rows (hundreds of looks at the clock).
    scan_found, scan = _search_steps(conn, "A*")
    assert scan_found == ["AB1234", "AB12345", "AB1O34"] and scan > 300
    for pattern, found in [("AB*", scan_found), ("*77", None), ("XK*7", ["XK998877"]),
                           ("X*77", ["XK998877"]), ("XK99*", ["XK998877"])]:  # fmt: skip
        serials, steps = _search_steps(conn, pattern)
        assert steps < scan / 10, pattern
        if found is not None:
            assert serials == found
    assert len(_search_steps(conn, "*77")[0]) == 31
    # One literal at either end is no anchor: the capped scan.
    for pattern in ("X*7", "?K*", "*K*"):
        assert _search_steps(conn, pattern)[0] == ["XK998877"]
        assert _search_steps(conn, pattern)[1] > 300


def test_a_scan_cut_by_its_bound_says_so_and_one_that_reads_everything_does_not(conn, monkeypatch):
    from firetrace.serials import normalize

    rules = normalize.load_serial_rules()
    total = FILLER + 5
    monkeypatch.setitem(rules.wildcard, "max_scan_rows", total)
    whole = answers(conn, "*5*", limit=0)
    # AB12345 and the 813 fillers holding a 5
    assert whole[1] == (0, 0, True) and len(whole[0]) == 814
    monkeypatch.setitem(rules.wildcard, "max_scan_rows", total - 1)
    cut = answers(conn, "*5*", limit=0)  # the last row in key order (ZZ7G61) not read
    assert cut == (whole[0], (0, 0, False))


def test_edited_wildcard_scores_and_anchor_take_effect(conn, serial_rules):
    serial_rules(
        "[scores]\nceiling = 0.9\nwildcard_unknown = 0.5\nwildcard_run = 0.2\n"
        "wildcard_empty_run = 0.4\n[wildcard]\nmin_anchor = 3\nmax_scan_rows = 5000\n"
    )
    assert [r[4] for r in answers(conn, "AB12?4", limit=0)[0]] == [0.6]  # 0.9 / (1 + 0.5)
    assert [r[4] for r in answers(conn, "AB1234*", limit=0)[0]] == [0.75, 0.5625]
    # two literals are no anchor now: the scan, and three are
    found, steps = _search_steps(conn, "AB*")
    assert found == ["AB1234", "AB12345", "AB1O34"] and steps > 300
    anchored, steps = _search_steps(conn, "AB1*")
    assert anchored == found and steps < 30


def test_a_literal_folded_like_the_mark_without_a_listed_pair_costs_nothing(db_path, serial_rules):
    # O and Q fold to 0 through two groups but are no pair of one: no cost is known
    serial_rules(
        "", head='[normalize]\nstrip = ["-"]\n[lookalikes]\ngroups = [["0", "O"], ["0", "Q"]]'
    )
    conn = make_registry(db_path, [("Acme", "AB1Q34")])  # keyed under these rules
    assert answers(conn, "AB1O?4", limit=0)[0] == [
        ("AB1Q34", "Acme", "frame", "wildcard", 0.9048,
         "pattern AB1O?4 matches, 1 unreadable character; Q read as O at position 4"),
    ]  # fmt: skip
