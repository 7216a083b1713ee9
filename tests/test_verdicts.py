"""The verdict vocabulary: grades in order, what is flagged, the --min-verdict
floor, and no second list of verdicts anywhere else in the package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firetrace.errors import UsageError
from firetrace.verdicts import (
    BY_URGENCY,
    FLAGGED,
    GRADES,
    Verdict,
    at_least,
    parse_min_verdict,
    rank,
)


def test_grades_rank_lowest_first_and_error_has_no_grade():
    assert [rank(v) for v in ("clear", "review", "high")] == [0, 1, 2]
    assert rank("error") == rank("bogus") == rank(None) == -1
    assert Verdict.ERROR not in GRADES and set(BY_URGENCY) == set(Verdict)


@pytest.mark.parametrize(
    ("verdict", "floor", "passes"),
    [
        ("high", "review", True),
        ("review", "review", True),
        ("clear", "review", False),
        ("clear", "clear", True),
        ("error", "clear", False),
        ("high", "high", True),
        ("review", "high", False),
    ],
)
def test_at_least(verdict, floor, passes):
    assert at_least(verdict, floor) is passes


def test_flagged_are_the_grades_above_clear():
    assert FLAGGED == {v for v in GRADES if rank(v) > rank(Verdict.CLEAR)}


def test_min_verdict_names_the_choices():
    assert parse_min_verdict("review") is Verdict.REVIEW
    assert parse_min_verdict("HIGH") is Verdict.HIGH  # any case, in scan and report alike
    with pytest.raises(UsageError, match=r"--min-verdict: unknown verdict 'error' \(one of: clear"):
        parse_min_verdict("error")
    with pytest.raises(UsageError, match=r"unknown verdict 'hihg'; did you mean 'high'\?"):
        parse_min_verdict("hihg")


def test_verdicts_are_plain_words_in_json():
    import json

    assert json.dumps([Verdict.HIGH]) == '["high"]' and f"{Verdict.REVIEW}" == "review"


def test_no_module_lists_the_verdicts_again():
    package = Path(__file__).resolve().parent.parent / "firetrace"
    words = r"""["'](clear|review|high|error)["']"""
    for path in package.rglob("*.py"):
        if path.name == "verdicts.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if len(set(re.findall(words, line))) >= 2:
                pytest.fail(f"{path.relative_to(package)}:{number} lists verdicts: {line.strip()}")
