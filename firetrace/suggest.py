"""'Did you mean ...?' for a mistyped value: the one home of suggestions.

A value that must be one of a known set (a component kind, an event, a verdict, a
marking profile, a maker in the registry, a calibre, a country code) and is not
gets the nearest known values by rapidfuzz's weighted ratio, which also catches a
value typed as part of a longer one (``stolen`` for ``reported_stolen``). Only
suggestions close to the best are offered, so one clear match is one suggestion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from firetrace.errors import UsageError

# Weighted-ratio score (0-100) a known value needs to be suggested at all, and how
# far below the best suggestion another may score and still be offered.
MIN_SCORE = 70.0
NEAR_BEST = 5.0
# A choice list this short is printed in full when nothing is close.
LIST_CHOICES_UP_TO = 20


def close_matches(value: str, choices: Iterable[str], *, limit: int = 3) -> list[str]:
    """The known values nearest ``value``, best first (case and punctuation ignored)."""
    from rapidfuzz import fuzz, process, utils  # lazy: only once a value is wrong

    unique = list(dict.fromkeys(c for c in choices if c))
    if not value.strip() or not unique:
        return []
    found = process.extract(
        value,
        unique,
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=MIN_SCORE,
    )
    if not found:
        return []
    best = found[0][1]
    return [choice for choice, score, _ in found if score >= best - NEAR_BEST]


def did_you_mean(suggestions: list[str]) -> str:
    """``"did you mean 'a' or 'b'?"``, or ``""`` when there is nothing to suggest."""
    if not suggestions:
        return ""
    quoted = [f"'{s}'" for s in suggestions]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"did you mean {listed}?"


def unknown_message(
    what: str, value: str, choices: Iterable[str], *, suggestions: list[str] | None = None
) -> str:
    """``unknown component 'frmae'; did you mean 'frame'?`` (or the choices, when few)."""
    choices = list(dict.fromkeys(choices))
    if suggestions is None:
        suggestions = close_matches(value, choices)
    message = f"unknown {what} '{value}'"
    hint = did_you_mean(suggestions)
    if hint:
        return f"{message}; {hint}"
    if 0 < len(choices) <= LIST_CHOICES_UP_TO:
        return f"{message} (one of: {', '.join(choices)})"
    return message


def choose(
    what: str,
    value: str,
    choices: Iterable[str] | Mapping[str, str],
    *,
    option: str | None = None,
) -> str:
    """The known value ``value`` names, compared without regard to case; else a
    usage error (exit 2) with the nearest choices.

    ``choices`` may map accepted spellings to the value they stand for; the
    suggestions are then the values the nearest spellings stand for.
    """
    mapping = choices if isinstance(choices, Mapping) else {c: c for c in choices}
    by_case = {key.casefold(): target for key, target in mapping.items()}
    hit = by_case.get(value.strip().casefold())
    if hit is not None:
        return hit
    suggestions = list(dict.fromkeys(mapping[k] for k in close_matches(value, mapping)))
    message = unknown_message(what, value, mapping.values(), suggestions=suggestions)
    raise UsageError(f"{option}: {message}" if option else message)
