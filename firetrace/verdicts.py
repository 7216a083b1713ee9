"""The verdicts a design file can get: the one home of that vocabulary.

Detection gives every file one of ``clear``, ``review`` or ``high`` (the
grades, lowest first), or ``error`` when it could not be read. Everything else
(``--min-verdict`` choices, what counts as flagged, display order, ranks) is
derived here, so detection, the scan, the report and the command line cannot
disagree about them.
"""

from __future__ import annotations

from enum import StrEnum

from firetrace.suggest import choose


class Verdict(StrEnum):
    """One file's verdict; a ``str``, so records and JSON carry the plain word."""

    CLEAR = "clear"
    REVIEW = "review"
    HIGH = "high"
    ERROR = "error"  # the file could not be read: no grade, listed apart


# The grades, lowest first: what a score maps to and what --min-verdict accepts.
GRADES = (Verdict.CLEAR, Verdict.REVIEW, Verdict.HIGH)
# Grades that put a file before an examiner (a report card, exit 1 from scan).
FLAGGED = frozenset({Verdict.REVIEW, Verdict.HIGH})
# Most urgent first, for tables and summaries.
BY_URGENCY = (Verdict.HIGH, Verdict.REVIEW, Verdict.CLEAR, Verdict.ERROR)


def rank(verdict: str | None) -> int:
    """A grade's place among :data:`GRADES` (clear 0, review 1, high 2); -1 for
    ``error`` or anything that is not a grade."""
    try:
        return GRADES.index(verdict)  # type: ignore[arg-type]
    except ValueError:
        return -1


# The --min-verdict default, the same in scan and report: files at review or high
# are the ones put before an examiner.
DEFAULT_MIN_VERDICT = Verdict.REVIEW


def parse_min_verdict(value: str) -> Verdict:
    """``value`` (any case) as the floor of a ``--min-verdict`` option, or a usage
    error (exit 2) with the nearest grade."""

    return Verdict(choose("verdict", str(value), list(GRADES), option="--min-verdict"))


def at_least(verdict: str | None, floor: str) -> bool:
    """Whether ``verdict`` is the grade ``floor`` or higher (``error`` never is)."""
    return rank(verdict) >= rank(floor) >= 0
