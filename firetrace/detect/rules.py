"""The detection rule set: loading ``rules/detect/*.toml`` (plus a user folder
given with ``--rules DIR``), and evaluating rules against measured features and
keyword hits into findings, a score and a verdict.

A rule is data, not code. Feature rules name a feature list (``holes``) or the
scalar features (``feature = "shape"``) and give ``where`` conditions: a
``[low, high]`` pair is a range, a list of strings a set, anything else an equal
value; ``min_count``/``group_by`` ask for several matching items sharing a value
(a row of parallel pin holes). Keyword rules name a term tier. Combination rules
fire when rules they list fired, and (unless ``distinct = false``) the holes that
made those rules fire are different holes: one opening seen twice, as a finger loop
and as a cavity, is one piece of evidence, not two. Any rule may list ``unless``: rules
that, when fired before it, keep it from firing (a broader reading of evidence that a
stricter rule already counted). Weights combine by noisy-OR into a score; the
``[verdict]`` thresholds turn the score into ``high``, ``review`` or ``clear``.

User files are loaded after the bundled ones: a rule with an existing id replaces
it (``enabled = false`` switches it off), term lists are extended, settings are
overridden key by key. ``RuleSet.digest`` is the SHA-256 over every file read.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from firetrace import paths
from firetrace.errors import InputError
from firetrace.verdicts import Verdict


@dataclass
class Rule:
    id: str
    kind: str  # feature | keyword | combination
    weight: float
    detail: str
    feature: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    min_count: int = 1
    group_by: str | None = None
    value: str | None = None
    tier: str | None = None
    requires: list[str] = field(default_factory=list)
    requires_any: list[str] = field(default_factory=list)
    min_any: int = 1
    # combinations: the holes behind the rules they list must be different holes
    distinct: bool = True
    # the rule does not fire when any of these fired before it (in rule order): a
    # broader reading of evidence a stricter rule already counted
    unless: list[str] = field(default_factory=list)
    enabled: bool = True
    source: str = ""


@dataclass
class RuleSet:
    rules: list[Rule]
    settings: dict[str, Any]
    terms: dict[str, Any]
    digest: str
    sources: list[str]

    def section(self, name: str) -> dict[str, Any]:
        """One settings table (``[measure]``, ``[bodies]``, ...), empty when absent."""
        return self.settings.get(name, {})

    @property
    def high(self) -> float:
        """The score from which the verdict is ``high``."""
        return float(self.section("verdict").get("high", 0.7))

    @property
    def review(self) -> float:
        """The score from which the verdict is ``review``."""
        return float(self.section("verdict").get("review", 0.4))


_RULE_KEYS = set(Rule.__dataclass_fields__) - {"source"}


def _merge(target: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = target[key] + [v for v in value if v not in target[key]]
        else:
            target[key] = value


def _rule_from(table: dict, source: str) -> Rule:
    unknown = set(table) - _RULE_KEYS
    if unknown:
        raise InputError(f"{source}: rule {table.get('id', '?')}: unknown key(s) {sorted(unknown)}")
    if "id" not in table:
        raise InputError(f"{source}: a [[rule]] without an id")
    rule_id = table["id"]
    kind = table.get("kind") or (
        "combination"
        if ("requires" in table or "requires_any" in table)
        else "keyword"
        if "tier" in table
        else "feature"
    )
    if kind not in ("feature", "keyword", "combination"):
        raise InputError(f"{source}: rule {rule_id}: kind must be feature, keyword or combination")
    try:
        weight = float(table.get("weight", 0.0))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{source}: rule {rule_id}: weight must be a number") from exc
    if not 0.0 <= weight <= 1.0:
        raise InputError(f"{source}: rule {rule_id}: weight must be between 0 and 1")
    if kind == "feature" and not table.get("feature"):
        raise InputError(f"{source}: rule {rule_id}: a feature rule needs 'feature'")
    values = {k: v for k, v in table.items() if k in _RULE_KEYS}
    values.update(kind=kind, weight=weight, detail=str(table.get("detail", rule_id)))
    return Rule(**values, source=source)


def load_rules(extra_dir: Path | None = None) -> RuleSet:
    """Load the bundled detection rules, then those in *extra_dir* (if given)."""

    folders = [paths.rules_dir() / "detect"]
    if extra_dir is not None:
        extra_dir = Path(extra_dir)
        if not extra_dir.is_dir():
            raise InputError(f"{extra_dir}: rules folder does not exist")
        folders.append(extra_dir)
    digest = hashlib.sha256()
    rules: dict[str, Rule] = {}
    settings: dict[str, Any] = {}
    terms: dict[str, Any] = {}
    sources: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.toml")):
            raw = path.read_bytes()
            digest.update(path.name.encode() + b"\0" + hashlib.sha256(raw).digest())
            try:
                document = tomllib.loads(raw.decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: invalid TOML ({exc})") from exc
            sources.append(str(path))
            for table in document.pop("rule", []):
                rule = _rule_from(table, str(path))
                rules[rule.id] = rule
            _merge(terms, document.pop("terms", {}))
            _merge(settings, document)
    active = [r for r in rules.values() if r.enabled]
    known = set(rules)  # a switched-off rule simply never fires in a combination
    for rule in active:
        for needed in rule.requires + rule.requires_any:
            if needed not in known:
                raise InputError(f"{rule.source}: rule {rule.id}: requires unknown rule '{needed}'")
        for other in rule.unless:
            if other not in known:
                raise InputError(
                    f"{rule.source}: rule {rule.id}: unless names unknown rule '{other}'"
                )
    return RuleSet(
        rules=active, settings=settings, terms=terms, digest=digest.hexdigest(), sources=sources
    )


def _condition_holds(actual: Any, wanted: Any) -> bool:
    if actual is None:
        return False
    if (
        isinstance(wanted, list)
        and len(wanted) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in wanted)
    ):
        try:
            return float(wanted[0]) <= float(actual) <= float(wanted[1])
        except (TypeError, ValueError):
            return False
    if isinstance(wanted, list):
        return actual in wanted
    return actual == wanted


def _matches(item: dict, where: dict) -> bool:
    return all(_condition_holds(item.get(key), wanted) for key, wanted in where.items())


def _format(template: str, values: dict) -> str:
    shown = {}
    for key, value in values.items():
        if isinstance(value, float):
            finite = abs(value) < 1e6 and not math.isnan(value)
            shown[key] = f"{value:.1f}" if finite else str(value)
        else:
            shown[key] = value
    try:
        return template.format_map(_Missing(shown))
    except (ValueError, IndexError):
        return template


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _evaluate_feature(rule: Rule, features: dict) -> dict | None:
    if rule.feature == "shape":
        if features and _matches(features, rule.where):
            value = features.get(rule.value) if rule.value else None
            return {"detail": _format(rule.detail, features), "value": value}
        return None
    scalars = {k: v for k, v in features.items() if not isinstance(v, list | dict)}
    items = [i for i in features.get(rule.feature) or [] if _matches({**scalars, **i}, rule.where)]
    if not items:
        return None
    if rule.group_by:
        groups: dict[Any, list] = {}
        for item in items:
            groups.setdefault(item.get(rule.group_by), []).append(item)
        items = max(groups.values(), key=len)
    if len(items) < rule.min_count:
        return None
    best = items[0]
    values = dict(features)
    values.update(best)
    values["count"] = len(items)
    value = best.get(rule.value) if rule.value else len(items)
    # a group (a pin row) is one piece of evidence: any of its holes stands for it
    return {"detail": _format(rule.detail, values), "value": value, "items": items}


def _same_opening(a: dict, b: dict) -> bool:
    """Two holes found along one direction with overlapping sections: one opening
    (a window that narrows along its depth reads as two holes)."""
    if a is b:
        return True
    if a.get("direction_id") != b.get("direction_id"):
        return False
    centre_a, centre_b = a.get("centre_mm"), b.get("centre_mm")
    if centre_a is None or centre_b is None:
        return False
    reach = 0.5 * (float(a.get("diameter_mm") or 0) + float(b.get("diameter_mm") or 0))
    return math.dist(centre_a, centre_b) < reach


def _distinct_choice(groups: list[list[dict] | None]) -> bool:
    """Whether one hole can be picked per group with no two the same opening (a group
    of None is evidence without holes: a name, a shape figure)."""
    holed = sorted((g[:12] for g in groups if g), key=len)

    def pick(index: int, chosen: list[dict]) -> bool:
        if index == len(holed):
            return True
        return any(
            not any(_same_opening(item, other) for other in chosen)
            and pick(index + 1, [*chosen, item])
            for item in holed[index]
        )

    return pick(0, [])


def _combination_holds(rule: Rule, items: dict[str, list[dict] | None]) -> bool:
    if not all(r in items for r in rule.requires):
        return False
    present = [r for r in rule.requires_any if r in items]
    if rule.requires_any and len(present) < rule.min_any:
        return False
    if not rule.distinct:
        return True
    needed = [items[r] for r in rule.requires]
    if not rule.requires_any:
        return _distinct_choice(needed)
    return any(
        _distinct_choice(needed + [items[r] for r in chosen])
        for chosen in combinations(present, rule.min_any)
    )


def evaluate(rule_set: RuleSet, features: dict, keyword_hits: dict[str, list[dict]]) -> list[dict]:
    """Findings for every rule that fired, in rule order (combinations last)."""
    findings: list[dict] = []
    # the rules that fired, each with the holes that made it fire (None: no holes)
    fired: dict[str, list[dict] | None] = {}
    for rule in rule_set.rules:
        result = None
        if any(other in fired for other in rule.unless):
            continue
        if rule.kind == "feature":
            result = _evaluate_feature(rule, features)
        elif rule.kind == "keyword":
            hits = keyword_hits.get(rule.tier or "", [])
            if hits:
                first = hits[0]
                values = dict(first)
                values["terms"] = ", ".join(sorted({h["term"] for h in hits}))
                values["count"] = len(hits)
                result = {"detail": _format(rule.detail, values), "value": values["terms"]}
        if result is not None:
            fired[rule.id] = result.get("items")
            if rule.weight > 0:
                findings.append(_finding(rule, result))
    _discount_same_openings(findings, fired)
    for rule in rule_set.rules:
        if rule.kind != "combination" or not _combination_holds(rule, fired):
            continue
        if any(other in fired for other in rule.unless):
            continue
        fired[rule.id] = None
        if rule.weight > 0:
            findings.append(_finding(rule, {"detail": _format(rule.detail, {}), "value": None}))
    return findings


def _discount_same_openings(findings: list[dict], fired: dict) -> None:
    """A lighter hole finding whose every hole is an opening a heavier finding already
    stands on adds no weight (kept, at weight 0, saying so): one window read as a
    loop and as a cavity is one piece of evidence."""
    kept: list[dict] = []
    for finding in sorted(findings, key=lambda f: -f["weight"]):
        items = fired.get(finding["rule"])
        if items:
            for heavier in kept:
                others = fired.get(heavier["rule"]) or []
                if all(any(_same_opening(i, o) for o in others) for i in items):
                    finding["detail"] += f" (the same opening as {heavier['rule']})"
                    finding["weight"] = 0.0
                    break
        if finding["weight"] > 0 and items:
            kept.append(finding)


def _finding(rule: Rule, result: dict) -> dict:
    finding = {"rule": rule.id, "weight": rule.weight, "detail": result["detail"]}
    if result.get("value") is not None:
        finding["value"] = result["value"]
    return finding


def score(findings: list[dict]) -> float:
    """Noisy-OR of the finding weights: independent pieces of evidence add up
    without ever exceeding 1."""
    remaining = 1.0
    for finding in findings:
        remaining *= 1.0 - float(finding["weight"])
    return round(1.0 - remaining, 4)


def verdict_for(rule_set: RuleSet, value: float) -> Verdict:
    """The grade a score earns under the rule set's ``[verdict]`` thresholds."""
    if value >= rule_set.high:
        return Verdict.HIGH
    if value >= rule_set.review:
        return Verdict.REVIEW
    return Verdict.CLEAR
