"""Fuzzy trace candidates: exact and normalised first, then look-alike,
embedded-letter and within-two-edit matches ranked by a weighted cost, each
with a one-line why; --manufacturer and --component narrow."""

from __future__ import annotations

import pytest
from test_serials_index import make_registry

from firetrace.registry.lookup import align, find_candidates

RECORDS = [
    ("Acme", "AB1O34"),
    ("Glock", "AB1034"),
    ("Acme", "AB1234"),
    ("Acme", "369J257"),
    ("Acme", "KX12345"),
    ("Acme", "KX12354"),
    ("Acme", "KX12346"),
    ("Beretta", "KX1235"),
    ("Glock", "BKR778"),
    ("Glock", "BKR778", "slide", "pistol", None, 0),
    ("Acme", "ZQ5511"),
]


@pytest.fixture
def conn(db_path):
    return make_registry(db_path, RECORDS)


def serials(cands):
    return [(c.serial, c.manufacturer, c.match) for c in cands]


def test_exact_then_normalized_always_first(conn):
    cands = find_candidates(conn, "AB1O34")
    assert serials(cands)[0] == ("AB1O34", "Acme", "exact")
    assert cands[0].score == 1.0
    lower = find_candidates(conn, "ab-1o34")
    assert serials(lower)[0] == ("AB1O34", "Acme", "normalized")
    assert all(c.match not in ("exact", "normalized") for c in lower[1:])


def test_lookalike_match_explains_the_misreading(conn):
    cands = find_candidates(conn, "AB1034")
    confusable = next(c for c in cands if c.serial == "AB1O34")
    assert confusable.match == "confusable"
    assert confusable.why == "O read as 0 at position 4"
    # A look-alike swap ranks above an unrelated substitution (2 read as 0).
    fuzzy = next(c for c in cands if c.serial == "AB1234")
    assert fuzzy.match == "fuzzy" and fuzzy.score < confusable.score


def test_two_lookalike_swaps_are_one_confusable_match(conn):
    cands = find_candidates(conn, "8KR77B")  # B->8 at 1, 8->B at 6
    assert serials(cands)[:1] == [("BKR778", "Glock", "confusable")]
    assert "B read as 8 at position 1" in cands[0].why
    assert "8 read as B at position 6" in cands[0].why


def test_embedded_letter_dropped_by_the_reader(conn):
    cands = find_candidates(conn, "369257")
    assert cands[0].serial == "369J257"
    assert "embedded letter J at position 4 not read" in cands[0].why


def test_transposition_ranks_above_other_single_edits(conn):
    cands = find_candidates(conn, "KX12435")
    assert cands[0].serial == "KX12345"
    assert "transposed" in cands[0].why
    assert cands[0].score > cands[1].score


def test_dropped_and_extra_characters(conn):
    dropped = find_candidates(conn, "KX1245")
    assert {"KX12345", "KX1235"} <= {c.serial for c in dropped}
    assert all(c.match == "fuzzy" for c in dropped)
    extra = find_candidates(conn, "ZQ55511")  # a 5 struck twice
    assert extra[0].serial == "ZQ5511"
    assert "read twice" in extra[0].why


def test_nothing_beyond_two_edits(conn):
    assert find_candidates(conn, "KX99999") == []
    assert find_candidates(conn, "") == []


def test_manufacturer_and_component_narrow(conn):
    everyone = {c.manufacturer for c in find_candidates(conn, "KX1234")}
    assert {"Acme", "Beretta"} <= everyone
    acme = find_candidates(conn, "KX1234", manufacturer="acme")
    assert acme and {c.manufacturer for c in acme} == {"Acme"}
    assert find_candidates(conn, "KX1234", manufacturer="Nobody Arms") == []
    slides = find_candidates(conn, "BKR778", component="slide")
    assert [(c.serial, c.component) for c in slides] == [("BKR778", "slide")]


def test_limit_cuts_the_ranked_list(conn):
    full = find_candidates(conn, "KX1234", limit=50)
    assert len(full) > 2
    assert find_candidates(conn, "KX1234", limit=2) == full[:2]


def test_ranking_is_by_score_after_exact_and_normalized(conn):
    cands = find_candidates(conn, "AB1O34", limit=50)
    tail = [c.score for c in cands[1:]]
    assert tail == sorted(tail, reverse=True)


def test_alignment_costs_follow_the_rules():
    lookalike, _ = align("AB1034", "AB1O34")
    unrelated, _ = align("AB1234", "AB1O34")
    transposed, why = align("1243", "1234")
    assert lookalike < transposed < unrelated
    assert why == ["34 at positions 3-4 read as 43 (transposed)"]
    doubled, why = align("1123", "123")
    assert doubled < align("1923", "123")[0]
    assert why == ["1 at position 1 read twice"]


def test_two_unrelated_substitutions_in_one_half_are_found(db_path):
    records = [("Acme", "QP4471239")] + [("Acme", f"ZZ{n:07d}") for n in range(50)]
    conn = make_registry(db_path, records)
    cands = find_candidates(conn, "QP4471933")  # 2 read as 9 and 9 read as 3: one half intact
    assert [c.serial for c in cands] == ["QP4471239"]
    assert cands[0].match == "fuzzy"
    assert "2 read as 9 at position 7" in cands[0].why
    assert "9 read as 3 at position 9" in cands[0].why


def test_two_unrelated_substitutions_in_both_halves_are_found(conn):
    # KX12345 keyed as KX42375: 1 -> 4 in the first half and 4 -> 7 in the second,
    # so neither half is intact; only the two-substitution probes reach it.
    cands = find_candidates(conn, "KX42375")
    found = {c.serial: c for c in cands}
    assert "KX12345" in found and found["KX12345"].match == "fuzzy"
    assert found["KX12345"].why == "1 read as 4 at position 3; 4 read as 7 at position 6"
    # Nothing three substitutions away comes back.
    assert "ZQ5511" not in found and "AB1234" not in found


def test_edit_expansions_reach_every_serial_they_promise_and_nothing_far():
    import random

    from rapidfuzz.distance import OSA, Levenshtein

    from firetrace.registry.lookup import (
        _DIGITS,
        _folded_letters,
        _one_edit_folds,
        _two_edit_folds,
    )

    rng = random.Random(5)
    letters = _folded_letters()
    alphabet = _DIGITS + letters
    for _ in range(200):
        query = rng.choice(letters) + "".join(rng.choice(_DIGITS) for _ in range(6))
        one, two = _one_edit_folds(query, alphabet), _two_edit_folds(query)
        # Every serial one edit away (any character) is among the one-edit probes.
        i = rng.randrange(len(query))
        edits = {
            query[:i] + rng.choice(alphabet) + query[i + 1 :],  # substituted
            query[:i] + rng.choice(alphabet) + query[i:],  # a character not read
            query[:i] + query[i + 1 :],  # an extra character read
        }
        edits.discard(query)
        assert edits <= one, (query, edits - one)
        assert all(OSA.distance(query, probe) == 1 for probe in one)
        # Two characters keyed wrongly, each within its class, are a two-edit probe.
        chars = list(query)
        for p in rng.sample(range(len(query)), 2):
            pool = letters if chars[p].isalpha() else _DIGITS
            chars[p] = rng.choice([c for c in pool if c != query[p]])
        assert "".join(chars) in two
        assert all(Levenshtein.distance(query, probe) <= 2 for probe in two)
