"""Serial keys follow ``rules/serials.toml``: separators and case, look-alike
folding, the embedded-letter rule (look-alike letters between digits are misread
digits), leading zeros, and look-alike likelihoods."""

from __future__ import annotations

import pytest

from firetrace.serials.normalize import (
    fold_alternatives,
    load_serial_rules,
    lookalike_cost,
    normalize_serial,
    serial_keys,
    skeleton,
)


@pytest.mark.parametrize(
    "serial, keys",
    [
        ("ab-12 34", ("AB1234", "A81234", "A81234")),
        ("369J257", ("369J257", "369J257", "369257")),
        # O between digits is a misread 0, not a stamped letter to drop.
        ("12O45", ("12O45", "12045", "12045")),
        ("00123", ("00123", "00123", "123")),
        # Prefix letters are not embedded even when a look-alike letter precedes.
        ("ABC1234", ("ABC1234", "A8C1234", "A8C1234")),
        ("12OA5", ("12OA5", "120A5", "1205")),
    ],
)
def test_serial_keys(serial, keys):
    assert serial_keys(serial) == keys


def test_every_lookalike_group_folds_to_its_first_character():
    rules = load_serial_rules()
    for group in rules.groups:
        for ch in group:
            folded = normalize_serial(ch).translate(rules.fold_table)
            assert folded == next(g[0] for g in rules.groups if ch in g)


def test_embedded_letter_rule_makes_agency_spellings_agree():
    assert skeleton("369J257") == skeleton("369-257") == skeleton("0369257")
    assert skeleton("369J257") != skeleton("369J258")


def test_lookalike_cost_is_cheaper_than_a_substitution_and_symmetric():
    assert lookalike_cost("0", "O") == lookalike_cost("O", "0") < 1.0
    assert lookalike_cost("0", "O") < lookalike_cost("0", "D")
    assert lookalike_cost("A", "B") is None
    assert lookalike_cost("7", "7") == 0.0


def test_character_in_two_groups_has_both_folds():
    # T looks like 1 and like 7: a read 7 may be a marked T (which folds to 1).
    assert set(fold_alternatives("A7")) == {"A7", "A1"}
    assert fold_alternatives("AB1") == ["A81"]


def test_rules_file_with_bad_cost_key_is_rejected(tmp_path):
    bad = tmp_path / "serials.toml"
    bad.write_text('[lookalikes]\ngroups = [["0", "O"]]\n[lookalikes.cost]\n"0OQ" = 0.1\n')
    with pytest.raises(ValueError, match="two characters"):
        load_serial_rules(bad)
