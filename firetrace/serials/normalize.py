"""Serial normalisation driven by ``rules/serials.toml``.

Three keys are derived from a serial as marked and stored beside it:

* ``normalize_serial``: case and separators folded (``ab-12 34`` -> ``AB1234``);
  the identity key, never fuzzier than that;
* ``fold_lookalikes``: look-alike characters folded to one representative
  (``O``/``Q``/``D`` -> ``0``, ``I``/``L`` -> ``1``, ...);
* ``skeleton``: the folded serial with the letters still standing between
  digits dropped (``369J257`` -> ``369257``) and leading zeros folded. Letters
  that look like digits are folded *before* the drop, because a letter ``O``
  between digits is almost always a misread ``0`` (``12O45`` ~ ``12045``).

The module also answers how likely one character is misread as another
(:func:`lookalike_cost`), for the fuzzy trace's weighted edit distance.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from firetrace.paths import rules_dir


@dataclass(frozen=True)
class SerialRules:
    strip: str
    uppercase: bool
    fold_table: dict[int, str]
    groups: tuple[tuple[str, ...], ...]
    embedded_letters: bool
    fold_digit_lookalikes_first: bool = True
    fold_leading_zeros: bool = True
    pair_costs: dict[frozenset, float] = field(default_factory=dict)
    fuzzy: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    wildcard: dict[str, Any] = field(default_factory=dict)

    def strip_table(self) -> dict[int, None]:
        """The translation table that deletes the separator characters."""
        return {ord(c): None for c in self.strip}


@lru_cache(maxsize=8)
def load_serial_rules(path: Path | None = None) -> SerialRules:
    """The serial knowledge in ``rules/serials.toml`` (look-alikes, separators, ...)."""
    path = path or rules_dir() / "serials.toml"
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    norm = data.get("normalize", {})
    lookalikes = data.get("lookalikes", {})
    groups = tuple(tuple(g) for g in lookalikes.get("groups", []))
    table: dict[int, str] = {}
    for group in groups:
        rep = group[0]
        for ch in group[1:]:
            table.setdefault(ord(ch), rep)  # first group wins for a character in two groups
    default_cost = float(lookalikes.get("default_cost", 0.35))
    pair_costs: dict[frozenset, float] = {}
    for group in groups:
        for a in group:
            for b in group:
                if a != b:
                    pair_costs.setdefault(frozenset((a, b)), default_cost)
    for pair, cost in lookalikes.get("cost", {}).items():
        if len(pair) != 2:
            raise ValueError(f"{path}: lookalikes.cost key '{pair}' must be two characters")
        pair_costs[frozenset(pair)] = float(cost)
    embedded = data.get("embedded_letters", {})
    return SerialRules(
        strip="".join(norm.get("strip", [])),
        uppercase=bool(norm.get("uppercase", True)),
        fold_table=table,
        groups=groups,
        embedded_letters=bool(embedded.get("enabled", True)),
        fold_digit_lookalikes_first=bool(embedded.get("fold_digit_lookalikes_first", True)),
        fold_leading_zeros=bool(norm.get("fold_leading_zeros", True)),
        pair_costs=pair_costs,
        fuzzy={k: float(v) for k, v in data.get("fuzzy", {}).items()},
        scores={k: float(v) for k, v in data.get("scores", {}).items()},
        wildcard=dict(data.get("wildcard", {})),
    )


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, None], dict[int, str], bool]:
    rules = load_serial_rules()
    return rules.strip_table(), rules.fold_table, rules.uppercase


def lookalike_fold_table() -> dict[int, str]:
    """The ``str.translate`` table folding look-alike characters."""
    return _tables()[1]


def normalize_serial(serial: str) -> str:
    """Case and separators folded: ``ab-12 34`` -> ``AB1234``."""
    strip, _, upper = _tables()
    s = serial.strip().translate(strip)
    return s.upper() if upper else s


def fold_lookalikes(serial: str) -> str:
    """Normalise, then fold look-alike characters."""
    _, fold, _ = _tables()
    return normalize_serial(serial).translate(fold)


_EMBEDDED = re.compile(r"(?<=\d)[^\W\d_]+(?=\d)")


def drop_embedded_letters(serial: str) -> str:
    """Remove letter runs standing between digits (on the normalised serial)."""
    return _EMBEDDED.sub("", serial)


def fold_leading_zeros(key: str) -> str:
    """``00123`` -> ``123`` when the rules fold leading zeros (an all-zero key keeps one)."""
    if not load_serial_rules().fold_leading_zeros:
        return key
    return key.lstrip("0") or key[:1]


def skeleton_of_norm(norm: str) -> str:
    """The skeleton key of an already normalised serial."""
    rules = load_serial_rules()
    _, fold, _ = _tables()
    if not rules.embedded_letters:
        skel = norm
    elif rules.fold_digit_lookalikes_first:
        # Only letters inside a digit run are judged: a look-alike of a digit becomes
        # that digit, any other letter is dropped. Prefix letters stay letters here.
        skel = _EMBEDDED.sub(lambda m: "".join(_digit_lookalike(ch) for ch in m.group(0)), norm)
    else:
        skel = drop_embedded_letters(norm)
    return fold_leading_zeros(skel.translate(fold))


def _digit_lookalike(ch: str) -> str:
    folded = ch.translate(_tables()[1])
    return folded if folded.isdigit() else ""


def skeleton(serial: str) -> str:
    """Folded serial with embedded letters dropped and leading zeros folded."""
    return skeleton_of_norm(normalize_serial(serial))


def serial_keys(serial: str) -> tuple[str, str, str]:
    """(normalised, look-alike folded, skeleton): the three stored keys."""
    norm = normalize_serial(serial)
    _, fold, _ = _tables()
    return norm, norm.translate(fold), skeleton_of_norm(norm)


@lru_cache(maxsize=1)
def _fold_choices() -> dict[str, tuple[str, ...]]:
    """For a character as read, the fold representatives of what may have been
    marked: more than one only for a character in two look-alike groups (T)."""
    rules = load_serial_rules()
    table = rules.fold_table
    choices: dict[str, set[str]] = {}
    for group in rules.groups:
        for read in group:
            for marked in group:
                choices.setdefault(read, set()).add(marked.translate(table))
    return {k: tuple(sorted(v)) for k, v in choices.items() if len(v) > 1}


def fold_alternatives(norm: str, cap: int = 16) -> list[str]:
    """Every folded key the normalised serial ``norm`` may stand for: its own fold,
    plus variants where a character in two look-alike groups (T: 1 or 7) takes
    its other group's representative. At most ``cap`` keys."""
    table = _tables()[1]
    keys = [""]
    choices = _fold_choices()
    for ch in norm:
        options = choices.get(ch, (ch.translate(table),))
        keys = [k + o for k in keys for o in options][:cap]
    own = norm.translate(table)
    return [own, *sorted(set(keys) - {own})]


def lookalike_cost(read: str, marked: str) -> float | None:
    """Cost of ``marked`` being read as ``read`` if they are look-alikes, else None."""
    if read == marked:
        return 0.0
    return load_serial_rules().pair_costs.get(frozenset((read, marked)))
