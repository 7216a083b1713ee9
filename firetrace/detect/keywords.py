"""Keyword evidence: fuzzy matching of file names, object names and metadata
against the curated term list in ``rules/detect/terms.toml``.

Names are split into tokens (on punctuation and camelCase); each token is also
read with its look-alike digits folded to the letters they stand for, every
reading of an ambiguous one (``g1ock`` -> ``giock`` and ``glock``), and without a
model number stuck to its end (``glock19`` -> ``glock``); runs of up to three
tokens are joined so that ``lower-reciever`` meets the term ``lower receiver``.
Short terms must match exactly; longer ones may differ by about one edit per five
letters (rapidfuzz ratio), a dropped letter included (``frme`` -> ``frame``) as
long as the first letter stands (``lock`` is not ``glock``). Tiers carry the
context: ``strong`` terms are firearm-specific,
``weak`` terms are ordinary mechanical words (frame, lower, trigger) that count
only when at least two of them appear and no ``benign_context`` term (printer and
hardware vocabulary) sits in the same name.
"""

from __future__ import annotations

import re
from typing import Any

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9a-zA-Z]+")


def tokenize(text: str) -> list[str]:
    """Lower-case tokens of a name: ``A_Drive_FrameLower.stl`` -> a, drive, frame, lower, stl."""
    text = _CAMEL.sub(" ", text)
    return [t for t in _SPLIT.split(text.lower()) if t]


_TRAILING_DIGITS = re.compile(r"^(.*[a-z].*?)\d+$")


def readings(token: str, table: dict[str, str | list[str]], most: int = 8) -> list[str]:
    """Every way to read *token*: as written, with its look-alike characters folded
    (each reading of an ambiguous character: ``1`` as ``i`` or ``l``), and without a
    trailing model number (``glock19``). The token as written comes first; folded
    readings follow, at most *most* in all."""
    out = [token]
    cores = [token]
    match = _TRAILING_DIGITS.match(token)
    if match and match.group(1) != token:
        cores.append(match.group(1))
        out.append(match.group(1))
    for core in cores:
        if not any(ch.isalpha() for ch in core):
            continue
        variants = [""]
        for ch in core:
            choices = table.get(ch, ch)
            options = [choices] if isinstance(choices, str) else list(choices)
            variants = [v + option for v in variants for option in options][:most]
        out += [v for v in variants if v not in out]
    return out[:most]


class TermMatcher:
    """Compiled view of the ``[terms]`` tables of a rule set."""

    def __init__(self, terms: dict[str, Any]):
        settings = terms.get("settings", {})
        self.min_ratio = float(settings.get("min_ratio", 85))
        self.exact_below = int(settings.get("exact_below", 5))
        self.max_window = int(settings.get("max_window", 3))
        self.weak_min_distinct = int(settings.get("weak_min_distinct", 2))
        self.fold = {
            str(k): (v if isinstance(v, str) else [str(x) for x in v])
            for k, v in terms.get("lookalikes", {}).items()
        }
        self.tiers: dict[str, list[tuple[str, str]]] = {}
        for tier, terms_list in terms.items():
            if tier in ("settings", "lookalikes") or not isinstance(terms_list, list):
                continue
            self.tiers[tier] = [(t, re.sub(r"[^0-9a-z]", "", t.lower())) for t in terms_list]

    def _windows(self, tokens: list[list[str]]) -> list[tuple[str, str]]:
        """Joined runs of up to ``max_window`` tokens, each in all its readings (the
        first reading of a token is the token as written, for display)."""
        out = []
        for size in range(1, self.max_window + 1):
            for start in range(0, len(tokens) - size + 1):
                run = tokens[start : start + size]
                shown = " ".join(t[0] for t in run)
                joined = [""]
                for options in run:
                    joined = [j + o for j in joined for o in options][:16]
                out += [(j, shown) for j in joined]
        return out

    def _similarity(self, candidate: str, key: str) -> float:
        if len(key) < self.exact_below:
            return 100.0 if candidate == key else 0.0
        if len(candidate) < self.exact_below - 1 or abs(len(candidate) - len(key)) > max(
            2, len(key) // 4
        ):
            return 0.0
        if len(candidate) < len(key) and candidate[0] != key[0]:
            return 0.0  # a dropped letter, not a different word ("lock" is not "glock")
        from rapidfuzz import fuzz  # lazy: refs and scan load this module without matching

        return fuzz.ratio(candidate, key)

    def find(self, tier: str, tokens: list[str]) -> list[dict]:
        """Terms of *tier* present in *tokens*: [{term, token, similarity}]."""
        hits: dict[str, dict] = {}
        windows = self._windows([readings(t, self.fold) for t in tokens])
        for term, key in self.tiers.get(tier, []):
            if not key:
                continue
            for candidate, shown in windows:
                similarity = self._similarity(candidate, key)
                if similarity >= self.min_ratio and similarity > hits.get(term, {}).get(
                    "similarity", -1
                ):
                    hits[term] = {"term": term, "token": shown, "similarity": round(similarity, 1)}
        return sorted(hits.values(), key=lambda h: -h["similarity"])


def keyword_hits(texts: list[str], terms: dict[str, Any]) -> dict[str, list[dict]]:
    """Hits per tier over all evidence texts, with the weak-term context applied.

    Each text is judged on its own (a folder name and an object name are separate
    contexts). Returns ``{"strong": [...], "weak": [...], ...}`` where ``weak`` is
    empty unless the context rules allow it.
    """
    matcher = TermMatcher(terms)
    result: dict[str, list[dict]] = {tier: [] for tier in matcher.tiers}
    for text in texts:
        tokens = tokenize(text)[:64]
        if not tokens:
            continue
        for tier in matcher.tiers:
            if tier in ("weak", "benign_context"):
                continue
            for hit in matcher.find(tier, tokens):
                hit["text"] = text[:120]
                result[tier].append(hit)
        weak = matcher.find("weak", tokens)
        distinct = {h["term"] for h in weak}
        benign = matcher.find("benign_context", tokens)
        if len(distinct) >= matcher.weak_min_distinct and not benign:
            for hit in weak:
                hit["text"] = text[:120]
                result.setdefault("weak", []).append(hit)
    return result
