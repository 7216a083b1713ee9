"""Fuzzy trace candidates: exact and normalised first, then look-alike,
embedded-letter and within-two-edit matches ranked by a weighted cost, each
with a one-line why; --manufacturer and --component narrow."""

from __future__ import annotations

from itertools import count

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


# --- found by the mutation run of registry/lookup.py (issue 17.8) -------------


def answers(conn, query, **options):
    """Every field a trace reads of each candidate, in rank order, and the counts."""
    from firetrace.registry.lookup import search

    result = search(conn, query, **options)
    rows = [
        (c.serial, c.manufacturer, c.component, c.match, c.score, c.why) for c in result.candidates
    ]
    return rows, (result.more, result.more_tied, result.complete)


def test_every_field_of_each_kind_of_candidate(conn):
    everything = {"limit": 0}
    assert answers(conn, "AB1O34", **everything) == ([
        ("AB1O34", "Acme", "frame", "exact", 1.0, "serial as marked"),
        ("AB1034", "Glock", "frame", "confusable", 0.8636, "0 read as O at position 4"),
        ("AB1234", "Acme", "frame", "fuzzy", 0.475, "2 read as O at position 4"),
    ], (0, 0, True))  # fmt: skip
    assert answers(conn, "ab-1o34", **everything)[0][0] == (
        "AB1O34", "Acme", "frame", "normalized", 0.99, "equal after case, space and dash folding"
    )  # fmt: skip
    assert answers(conn, "0AB1O34", **everything)[0] == [
        ("AB1O34", "Acme", "frame", "normalized", 0.99,
         "equal after case, separator and leading-zero folding"),
        ("AB1034", "Glock", "frame", "fuzzy", 0.4524,
         "extra 0 read before position 1; 0 read as O at position 4"),
    ]  # fmt: skip
    assert answers(conn, "KX12345", **everything)[0] == [
        ("KX12345", "Acme", "frame", "exact", 1.0, "serial as marked"),
        ("KX12354", "Acme", "frame", "fuzzy", 0.5937,
         "54 at positions 6-7 read as 45 (transposed)"),
        ("KX12346", "Acme", "frame", "fuzzy", 0.475, "6 read as 5 at position 7"),
        ("KX1235", "Beretta", "frame", "fuzzy", 0.475, "extra 4 read after position 5"),
    ]  # fmt: skip
    # Two records of one serial (a frame and a slide) tie: the record id breaks it.
    folded = "equal after case, space and dash folding"
    assert answers(conn, "bkr778", **everything)[0] == [
        ("BKR778", "Glock", "frame", "normalized", 0.99, folded),
        ("BKR778", "Glock", "slide", "normalized", 0.99, folded),
    ]
    assert answers(conn, "369257", **everything)[0] == [
        ("369J257", "Acme", "frame", "confusable", 0.7308,
         "embedded letter J at position 4 not read"),
    ]  # fmt: skip
    assert answers(conn, "2Q55I1", **everything)[0] == [
        ("ZQ5511", "Acme", "frame", "confusable", 0.7308,
         "Z read as 2 at position 1; 1 read as I at position 5"),
    ]  # fmt: skip
    assert answers(conn, "KX1235", **everything)[0] == [
        ("KX1235", "Beretta", "frame", "exact", 1.0, "serial as marked"),
        ("KX12345", "Acme", "frame", "fuzzy", 0.475, "4 at position 6 not read"),
        ("KX12354", "Acme", "frame", "fuzzy", 0.475, "4 at position 7 not read"),
    ]  # fmt: skip


def test_two_extra_characters_read_are_found_by_their_deletions(conn):
    assert answers(conn, "KX1923485", limit=0)[0] == [
        ("KX12345", "Acme", "frame", "fuzzy", 0.3167,
         "extra 9 read after position 3; extra 8 read after position 6"),
    ]  # fmt: skip


def test_a_limit_filled_by_exact_hits_says_the_counts_are_lower_bounds(conn):
    # The fuzzy search is skipped, so what it would have found is not counted.
    rows, counts = answers(conn, "BKR778", limit=1)
    assert rows == [("BKR778", "Glock", "frame", "exact", 1.0, "serial as marked")]
    assert counts == (1, 1, False)
    assert answers(conn, "BKR778", limit=2)[1] == (0, 0, False)
    assert answers(conn, "BKR778", limit=3)[1] == (0, 0, True)


@pytest.mark.parametrize(
    ("serial", "embedded"),
    [
        ("369J257", [False, False, False, True, False, False, False]),
        ("1AB2", [False, True, True, False]),
        ("X1AB2Y", [False, False, True, True, False, False]),
        ("A1", [False, False]),
        ("1A", [False, False]),
        ("1A1", [False, True, False]),
        ("1A2B", [False, True, False, False]),
        ("AB", [False, False]),
        ("12", [False, False]),
    ],
)
def test_a_letter_is_embedded_only_between_digits(serial, embedded):
    from firetrace.registry.lookup import _is_embedded

    assert [_is_embedded(serial, i) for i in range(len(serial))] == embedded


@pytest.mark.parametrize(
    ("read", "marked", "cost"),
    [
        ("AB1034", "AB1O34", 0.1),  # look-alikes: the pair's own cost
        ("B", "8", 0.15),
        ("T", "7", 0.35),  # T in two groups: each pair its cost
        ("T", "1", 0.4),
        ("AB1234", "AB1O34", 1.0),  # unrelated substitution
        ("8KR77B", "BKR778", 0.3),
        ("1243", "1234", 0.6),  # transposition
        ("AB", "BA", 0.6),
        ("1123", "123", 0.6),  # one of a doubled pair read twice / read once
        ("123", "1123", 0.6),
        ("369257", "369J257", 0.3),  # embedded letter not read / read extra
        ("369J257", "369257", 0.3),
        ("1923", "123", 1.0),  # a plain extra character / one not read
        ("13", "123", 1.0),
        ("", "", 0.0),
        ("", "12", 2.0),
        ("12", "", 2.0),
        ("11", "11", 0.0),
        ("KX1923485", "KX12345", 2.0),
    ],
)
def test_alignment_costs_are_the_rules_weights(read, marked, cost):
    from firetrace.registry.lookup import align_cost

    assert align_cost(read, marked) == pytest.approx(cost, abs=1e-9)
    assert align(read, marked)[0] == pytest.approx(cost, abs=1e-9)


FUZZY_QUERIES = ["AB1O34", "ab-1o34", "0AB1O34", "KX12435", "KX1245", "ZQ55511", "369257",
                 "369J257", "8KR77B", "2Q55I1", "KX1923485", "KX42375", "BKR778"]  # fmt: skip


def test_rules_without_weights_or_scores_use_the_documented_defaults(conn, serial_rules, tmp_path):
    far = ["KX100000", "KX123456", "KX1234567"]  # half-serial scans, three edits
    bundled = [answers(conn, q, limit=0) for q in FUZZY_QUERIES]
    bundled.append(_answers_among(tmp_path, far, "KX1236", limit=0))
    assert len({len(rows) for rows, _ in bundled}) > 1  # the queries differ
    serial_rules("")  # no [fuzzy], [scores] or [wildcard]: every value falls back
    again = [answers(conn, q, limit=0) for q in FUZZY_QUERIES]
    assert [*again, _answers_among(tmp_path, far, "KX1236", limit=0)] == bundled


def test_edited_weights_and_scores_take_effect_at_once(conn, serial_rules, tmp_path):
    from firetrace.registry.lookup import align_cost

    assert align_cost("1923", "123") == 1.0  # remembered for this reading
    serial_rules(
        "[fuzzy]\nmax_edits = 2\ninsertion = 2.0\ndeletion = 3.0\nsubstitution = 4.0\n"
        "transposition = 0.5\ndoubled_character = 0.7\nembedded_letter = 0.2\n"
        "[scores]\nexact = 0.9\nnormalized = 0.8\nceiling = 0.5\n"
    )
    assert align_cost("1923", "123") == 2.0
    assert [align_cost(*pair) for pair in [("13", "123"), ("A", "X"), ("1243", "1234"),
            ("1123", "123"), ("369257", "369J257"), ("AB1034", "AB1O34")]] == pytest.approx(
        [3.0, 4.0, 0.5, 0.7, 0.2, 0.1]
    )  # fmt: skip
    rows, _ = answers(conn, "AB1O34", limit=0)
    # 0.5 / (1 + 0.1); AB1234: 2 read as O costs an extra 2 and a dropped embedded O 0.2
    assert [(r[3], r[4]) for r in rows] == [
        ("exact", 0.9),
        ("confusable", 0.4545),
        ("fuzzy", 0.119),
    ]
    assert answers(conn, "ab1o34", limit=1)[0][0][3:5] == ("normalized", 0.8)
    # One substitution (cost 4) is the one-edit mark: it stops the half-serial scans.
    assert [r[0] for r in _answers_among(tmp_path, ["KX1237", "KX123456"], "KX1236")[0]] == [
        "KX1237"
    ]
    serial_rules("[fuzzy]\nmax_edits = 0\n")  # look-alikes only
    assert [r[0] for r in answers(conn, "AB1O34", limit=0)[0]] == ["AB1O34", "AB1034"]
    assert answers(conn, "KX12435", limit=0)[0] == []
    serial_rules("[fuzzy]\nmax_edits = 1\n")  # and one edit
    assert [r[0] for r in answers(conn, "KX12435", limit=0)[0]] == ["KX12345", "KX1235"]


def test_a_character_in_two_look_alike_groups_is_a_look_alike_of_both(tmp_path, serial_rules):
    # T folds to 1 but is also read for 7: 7123 is a look-alike reading of T123 even
    # when no edit is allowed beyond look-alikes.
    serial_rules("[fuzzy]\nmax_edits = 0\n")
    assert _answers_among(tmp_path, ["7123", "1123"], "T123", limit=0)[0] == [
        ("7123", "Acme", "frame", "confusable", 0.7037, "7 read as T at position 1"),
        ("1123", "Acme", "frame", "confusable", 0.6786, "1 read as T at position 1"),
    ]


def test_a_maker_is_found_by_its_key_and_else_by_its_first_spelling(db_path):
    # Keys as the importer writes them for Glock and S&W; Acme's (ACME) was written
    # under older rules, which now key "acme" as ACME ARMS.
    makers = ("Glock", "Smith & Wesson", "Acme")
    conn = make_registry(db_path, [(m, "KX1234") for m in makers], makers=makers)
    found = {
        typed: [c.manufacturer for c in find_candidates(conn, "KX1234", manufacturer=typed)]
        for typed in ("Glock GmbH", "glock", "S&W", "smith and wesson", "ACME", "Acme Inc.")
    }
    assert found == {
        "Glock GmbH": ["Glock"], "glock": ["Glock"], "S&W": ["Smith & Wesson"],
        "smith and wesson": ["Smith & Wesson"], "ACME": ["Acme"], "Acme Inc.": [],
    }  # fmt: skip


def test_up_to_four_leading_zeros_are_padding(db_path):
    serials = ["0123", "00123", "0000123", "00000123"]
    conn = make_registry(db_path, [("Acme", s) for s in serials])
    found = {c.serial: (c.match, c.score) for c in find_candidates(conn, "123", limit=0)}
    assert found == {
        "0123": ("normalized", 0.99),
        "00123": ("normalized", 0.99),
        "0000123": ("normalized", 0.99),
    }  # fmt: skip (five zeros are no padding, and three edits away)


def test_characters_beyond_latin_letters_are_tried_as_misreadings(tmp_path, run_cli, db_path):
    from test_registry_support import batch_row, write_csv

    from firetrace.registry.db import connect

    batch = write_csv(tmp_path / "b.csv", [batch_row(serial="ЖB1234"), batch_row(serial="AB1235")])
    assert run_cli("import", batch, "--profile", "eu").exit_code == 0
    # AB1235 is one edit away, so the half-serial scan that would also reach ЖB1234 is
    # not run: only the registry's own characters (Ж) make the probe that finds it.
    assert answers(connect(db_path), "AB1234", limit=0)[0] == [
        ("AB1235", "Glock", "frame", "fuzzy", 0.475, "5 read as 4 at position 6"),
        ("ЖB1234", "Glock", "frame", "fuzzy", 0.475, "Ж read as A at position 1"),
    ]


_REGISTRIES = count()


def _answers_among(tmp_path, serials, query, **options):
    """``answers`` in a fresh registry of Acme frames with ``serials``."""
    path = tmp_path / f"{next(_REGISTRIES)}.db"  # (counting files missed -wal files closed)
    return answers(make_registry(path, [("Acme", s) for s in serials]), query, **options)


def _fuzzy(serial, score, why):
    return (serial, "Acme", "frame", "fuzzy", score, why)


def test_each_wider_search_runs_only_when_the_closer_ones_leave_room(tmp_path):
    # An exact hit: records two substitutions away are not looked for.
    assert _answers_among(tmp_path, ["KX42375", "KX12345"], "KX42375", limit=0) == (
        [("KX42375", "Acme", "frame", "exact", 1.0, "serial as marked")], (0, 0, True)
    )  # fmt: skip
    # Two substitutions are looked for from four characters on, not below.
    assert _answers_among(tmp_path, ["1234"], "1564", limit=0)[0] == [
        _fuzzy("1234", 0.3167, "2 read as 5 at position 2; 3 read as 6 at position 3")
    ]
    assert _answers_among(tmp_path, ["123"], "156", limit=0)[0] == []
    # One-edit candidates filling the limit: the two-edit search is not run (none counted).
    near = ["KX12346", "KX12347", "KX12399"]
    one_edit = [_fuzzy("KX12346", 0.475, "6 read as 5 at position 7"),
                _fuzzy("KX12347", 0.475, "7 read as 5 at position 7")]  # fmt: skip
    assert _answers_among(tmp_path, near, "KX12345", limit=2) == (one_edit, (0, 0, True))
    assert _answers_among(tmp_path, near, "KX12345", limit=3)[0] == [
        *one_edit, _fuzzy("KX12399", 0.3167, "9 read as 4 at position 6; 9 read as 5 at position 7")
    ]  # fmt: skip


def test_nothing_within_one_edit_scans_each_half_of_a_serial_of_six(tmp_path):
    # Two characters dropped in the second half: the first half (KX1) finds it, after a
    # row of the same first half that is too far.
    dropped = ["KX100000", "KX123456"]
    assert _answers_among(tmp_path, dropped, "KX1236", limit=0)[0] == [
        _fuzzy("KX123456", 0.3167, "4 at position 6 not read; 5 at position 7 not read")
    ]
    # ... but not when a candidate one edit away exists.
    assert _answers_among(tmp_path, [*dropped, "KX1237"], "KX1236", limit=0)[0] == [
        _fuzzy("KX1237", 0.475, "7 read as 6 at position 6")
    ]
    # ... nor when two-edit candidates fill the limit already
    rows, counts = _answers_among(tmp_path, ["KX1299", "KX123456"], "KX1236", limit=1)
    assert [r[0] for r in rows] == ["KX1299"] and counts == (0, 0, True)
    # Three edits away (KX1234567: three characters not read) is never a candidate.
    assert [r[0] for r in _answers_among(tmp_path, [*dropped, "KX1234567"], "KX1236")[0]] == [
        "KX123456"
    ]
    # Dropped in the first half: the reversed second half (1KX) finds it.
    assert _answers_among(tmp_path, ["000001KX", "654321KX"], "6521KX", limit=0)[0] == [
        _fuzzy("654321KX", 0.3167, "4 at position 3 not read; 3 at position 4 not read")
    ]
    # Digits read as letters (no look-alikes) keep the length: the scan finds them too.
    assert _answers_among(tmp_path, ["KX1234"], "KX12AB", limit=0)[0] == [
        _fuzzy("KX1234", 0.3167, "3 read as A at position 5; 4 read as B at position 6")
    ]


def test_the_smallest_probe_is_sought_too(tmp_path):
    # 01234 is the first of the sorted one-edit probes of 51234
    assert _answers_among(tmp_path, ["01234"], "51234", limit=0)[0] == [
        _fuzzy("01234", 0.475, "0 read as 5 at position 1")
    ]


def test_look_alike_and_one_edit_rows_cut_by_the_bound_make_the_counts_lower_bounds(
    tmp_path, monkeypatch
):
    from firetrace.registry import lookup

    monkeypatch.setattr(lookup, "MAX_EXAMINED", 2)
    # three records of one fold: the look-alike pool reads two
    rows, counts = _answers_among(tmp_path, ["AB1O34", "AB1Q34", "AB1D34"], "AB1034", limit=10)
    assert [r[0] for r in rows] == ["AB1O34", "AB1Q34"] and counts == (0, 0, False)
    # three records one edit away: the seek of the one-edit probes reads two
    rows, counts = _answers_among(tmp_path, ["KX12340", "KX12341", "KX12342"], "KX12349", limit=10)
    assert [r[0] for r in rows] == ["KX12340", "KX12341"] and counts == (0, 0, False)


def test_a_corrected_serial_is_found_by_its_former_reading_once(tmp_path, run_cli, db_path):
    import json

    from test_registry_support import batch_row, write_csv

    from firetrace.registry.db import connect

    batch = write_csv(tmp_path / "b.csv", [batch_row(serial="AB1003"), batch_row(serial="CD-77")])
    assert run_cli("import", batch).exit_code == 0
    for serial, new in (("AB1003", "AB1030"), ("CD-77", "CD77")):
        doc = json.loads(run_cli("trace", serial, "--exact", "--json").stdout)
        event = doc["matches"][0]["events"][0]["id"]
        fixed = run_cli("correct", str(event), "--set", f"serial={new}", "--reason", "read again",
                        "--purpose", "C", "--json")  # fmt: skip
        assert fixed.exit_code == 0, fixed.stderr
    conn = connect(db_path)
    (when,) = {r[0][:10] for r in conn.execute("SELECT changed_at FROM serial_changes")}
    former = (
        f"recorded as AB1003 until {when}, when the serial was corrected to AB1030 (read again)"
    )
    assert answers(conn, "AB1003", limit=0)[0] == [
        ("AB1030", "Glock", "frame", "exact", 1.0, former)
    ]
    assert answers(conn, "ab-1003", limit=0)[0] == [
        ("AB1030", "Glock", "frame", "normalized", 0.99, former)
    ]
    assert answers(conn, "AB1003", limit=0, component="slide")[0] == []  # it is a frame
    # Both the serial as it is now and as it was equal the query: one candidate, as marked.
    rows, _ = answers(conn, "CD77", limit=0)
    assert rows == [("CD77", "Glock", "frame", "exact", 1.0, "serial as marked")]


def test_each_half_serial_scan_reads_at_most_its_bound(tmp_path, monkeypatch):
    from firetrace.registry import lookup

    monkeypatch.setattr(lookup, "ANCHOR_ROWS", 1)
    # The one row each scan may read is the one too far (KX100000, 000001KX): the
    # searched-for record is not reached, and the counts say they are lower bounds.
    for serials, query in ((["KX100000", "KX123456"], "KX1236"),
                           (["000001KX", "654321KX"], "6521KX")):  # fmt: skip
        assert _answers_among(tmp_path, serials, query, limit=0) == ([], (0, 0, False))
