"""Registry-wide duplicate detection for ``firetrace dupes``, ranked for people.

Finds groups of registry records whose serials collide or nearly collide, one
kind per way of colliding (CONTRACT: exact, cross_manufacturer, normalized,
confusable, embedded_letter, transposition, edit, model_as_serial), each group
with a one-line ``detail``, a suspicion ``score`` in [0, 1] and a ``reason`` a
clerk can act on; groups come most suspicious first (:func:`rank`).

Nothing here compares all pairs. One streamed pass
(:func:`firetrace.registry.numbering.scan`) reads the compared records into
numpy arrays; records sharing a blocking key with another are the only ones the
key kinds look at, transpositions come from a closed-form hash update, and
production runs are found by sorting. Transposition and edit pairs whose two
serials are both regular members of their maker's production runs (a
neighbouring serial with the same model and year) are *expected numbering*:
counted in ``stats``, listed only with ``include_expected`` (``dupes --all``).
The optional ``edit`` kind uses deletion neighbourhoods per maker, verified
with rapidfuzz.

By default only control components (the ones carrying a firearm's identity:
frames, receivers) are compared, since a slide or barrel legitimately carries
its frame's serial; ``all_components=True`` compares every component. Records
that only withdrawn batches speak of are left out.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from operator import attrgetter

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from firetrace.audit import check_policy, record_read
from firetrace.errors import UsageError
from firetrace.registry import numbering
from firetrace.registry.batches import withdrawn_records
from firetrace.registry.filters import maker_name
from firetrace.registry.lookup import _maker_ids as lookup_maker_ids
from firetrace.registry.status import DEFAULT_STATUS, component_status
from firetrace.registry.validate import model_key
from firetrace.registry.vocabulary import DUPLICATE_KINDS, load_vocabulary
from firetrace.serials.normalize import load_serial_rules

KINDS = DUPLICATE_KINDS
DEFAULT_KINDS = tuple(k for k in KINDS if k != "edit")
# Kinds whose pairs may be a maker's consecutive numbering (hidden by default).
NUMBERING_KINDS = ("transposition", "edit")


def parse_kinds(kinds: str | None, max_distance: int | None = None) -> list[str]:
    """The kinds a ``--kinds`` text asks for (comma-separated, ``all`` for every
    kind); none given: :data:`DEFAULT_KINDS`, plus ``edit`` when a distance is."""
    if not kinds:
        chosen = list(DEFAULT_KINDS)
        if max_distance is not None:
            chosen.append("edit")  # asking for a distance asks for the edit kind
        return chosen
    chosen = [k.strip().lower().replace("-", "_") for k in kinds.split(",") if k.strip()]
    if "all" in chosen:
        return list(KINDS)
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise UsageError(
            f"--kinds: unknown kind '{unknown[0]}' (choose from {', '.join(KINDS)}, all)"
        )
    return chosen


@lru_cache(maxsize=1)
def _folds_leading_zeros() -> bool:
    return load_serial_rules().fold_leading_zeros


@dataclass(slots=True)
class Member:
    id: int
    serial: str
    manufacturer: str
    component: str
    maker_id: int = 0
    type: str | None = None
    model: str | None = None
    norm: str = ""
    fold: str = ""
    skel: str = ""
    year: int | None = None
    calibre: str | None = None
    country: str | None = None
    norm0: str = ""  # norm and fold with leading zeros folded, computed once
    fold0: str = ""
    status: str | None = None  # set for the members of listed groups (ranking)

    def __post_init__(self) -> None:
        if _folds_leading_zeros():
            self.norm0 = self.norm.lstrip("0") or self.norm[:1]
            self.fold0 = self.fold.lstrip("0") or self.fold[:1]
        else:
            self.norm0, self.fold0 = self.norm, self.fold

    def public(self) -> dict:
        """The member as shown in ``dupes --json``."""
        return {
            "id": self.id,
            "serial": self.serial,
            "manufacturer": self.manufacturer,
            "component": self.component,
            "model": self.model,
            "year_of_manufacture": self.year,
            "status": self.status,
        }


@dataclass
class DupeGroup:
    kind: str
    members: list[Member]
    detail: str
    score: float = 0.0
    reason: str = ""
    expected: bool = False  # expected numbering, listed on request only

    def as_dict(self) -> dict:
        """The group as shown in ``dupes --json``."""
        out = {
            "kind": self.kind,
            "score": self.score,
            "reason": self.reason,
            "members": [m.public() for m in self.members],
            "detail": self.detail,
        }
        if self.expected:
            out["expected_numbering"] = True
        return out


@dataclass
class DupesReport:
    groups: list[DupeGroup] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The report as the JSON document ``dupes --json`` prints."""
        return {"groups": [g.as_dict() for g in self.groups], "stats": self.stats}


class _Scope:
    """Which components are compared: a WHERE fragment and its parameters."""

    def __init__(self, all_components: bool, maker_ids: list[int] | None):
        self.sql = "control IN (0, 1)" if all_components else "control = 1"
        self.params: list = []
        if maker_ids is not None:
            self.sql += f" AND maker_id IN ({','.join('?' * len(maker_ids))})"
            self.params = list(maker_ids)

    def on(self, alias: str) -> str:
        """The fragment with its columns qualified by ``alias``."""
        return self.sql.replace("control", f"{alias}.control").replace(
            "maker_id", f"{alias}.maker_id"
        )


_MEMBER_COLUMNS = (
    "c.id, c.serial, p.name, c.kind, c.maker_id, c.type, c.model, "
    "c.serial_norm, c.serial_fold, c.serial_skel, c.year_of_manufacture, c.calibre, "
    "c.country_of_manufacture"
)
_MEMBER_SQL = f"SELECT {_MEMBER_COLUMNS} FROM components c JOIN parties p ON p.id = c.maker_id "


def _members(rows: Iterable[tuple]) -> list[Member]:
    # Maker names, kinds, types and models repeat: share one string object each.
    shared: dict[str, str] = {}

    def one(value):
        return value if value is None else shared.setdefault(value, value)

    return [
        Member(
            cid,
            serial,
            one(maker),
            one(kind),
            maker_id,
            one(ftype),
            one(model),
            norm,
            fold,
            skel,
            year,
            one(calibre),
            one(country),
        )  # fmt: skip
        for (
            cid,
            serial,
            maker,
            kind,
            maker_id,
            ftype,
            model,
            norm,
            fold,
            skel,
            year,
            calibre,
            country,
        ) in rows  # fmt: skip
    ]


def _dead_components(conn: sqlite3.Connection) -> np.ndarray:
    """Sorted ids of components only withdrawn batches speak of (none count)."""
    return np.array(withdrawn_records(conn), dtype=np.int64)


def _group_by(members: Iterable[Member], key: Callable[[Member], object]) -> list[list[Member]]:
    groups: dict[object, list[Member]] = defaultdict(list)
    for m in members:
        groups[key(m)].append(m)
    return [g for g in groups.values() if len(g) > 1]


def _distinct(members: list[Member], key: Callable[[Member], object]) -> int:
    return len({key(m) for m in members})


def _listing(members: list[Member], attr: str = "serial") -> str:
    seen: list[str] = []
    for m in members:
        value = getattr(m, attr)
        if value not in seen:
            seen.append(value)
    return " / ".join(seen)


@dataclass(frozen=True)
class _KeyKind:
    """A dupes kind found by grouping on one key: records sharing ``key`` form a
    group when ``keep`` holds for it; ``detail`` explains the group."""

    kind: str
    key: Callable[[Member], object]
    keep: Callable[[list[Member]], bool]
    detail: Callable[[list[Member]], str]


def _folding(
    kind: str,
    key: str,
    finer: Callable[[Member], object],
    said: Callable[[list[Member]], str],
) -> _KeyKind:
    """A kind of one maker's records equal on the folded serial ``key`` (a Member
    attribute) but not all on the ``finer`` key: the folding made them one."""
    folded = attrgetter(key)
    return _KeyKind(
        kind,
        lambda m: (m.maker_id, folded(m)),
        lambda g: _distinct(g, finer) > 1,
        lambda g: f"{_listing(g)} equal {said(g)}",
    )


_KEY_KINDS = (
    _KeyKind(
        "exact",
        lambda m: (m.maker_id, m.serial.strip()),
        lambda g: True,
        lambda g: f"serial {g[0].serial.strip()} recorded {len(g)} times for {g[0].manufacturer}",
    ),
    _folding(
        "normalized",
        "norm0",
        lambda m: m.serial.strip(),
        lambda g: f"after case, separator and leading-zero folding ({g[0].manufacturer})",
    ),
    _folding(
        "confusable",
        "fold0",
        attrgetter("norm0"),
        lambda g: (
            f"after folding look-alike characters ({_lookalike_note(g)}; {g[0].manufacturer})"
        ),
    ),
    _folding(
        "embedded_letter",
        "skel",
        attrgetter("fold0"),
        lambda g: f"once letters between digits are dropped ({g[0].manufacturer})",
    ),
    _KeyKind(
        "cross_manufacturer",
        lambda m: m.norm0,
        lambda g: _distinct(g, lambda m: m.maker_id) > 1,
        lambda g: (
            f"serial {g[0].norm0} used by {_distinct(g, lambda m: m.maker_id)} "
            f"makers: {_listing(g, 'manufacturer')}"
        ),
    ),
    _KeyKind(
        "model_as_serial",
        lambda m: (m.maker_id, m.norm0, m.type),
        lambda g: len(g) >= 3,
        lambda g: (
            f"serial {g[0].norm0} on {len(g)} {g[0].manufacturer} records of "
            f"type {g[0].type or 'unknown'}: a model number typed as a serial?"
        ),
    ),
)


def _key_groups(members: list[Member], kinds: set[str]) -> list[DupeGroup]:
    out: list[DupeGroup] = []
    for spec in _KEY_KINDS:
        if spec.kind in kinds:
            out.extend(
                DupeGroup(spec.kind, g, spec.detail(g))
                for g in _group_by(members, spec.key)
                if spec.keep(g)
            )
    return out


def _lookalike_note(group: list[Member]) -> str:
    a, b = group[0].norm0, next(m.norm0 for m in group if m.norm0 != group[0].norm0)
    if len(a) != len(b):
        return "look-alikes and leading zeros"
    diffs = [
        f"{x}/{y} at position {i + 1}" for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y
    ]
    return ", ".join(diffs[:3])


def _norm_sql(column: str) -> str:
    """SQL for normalize_serial(column), so the model check is one scan in SQLite."""
    rules = load_serial_rules()
    expr = f"trim({column})"
    for ch in rules.strip:
        expr = f"replace({expr}, char({ord(ch)}), '')"
    return f"upper({expr})" if rules.uppercase else expr


# --- ranking ---------------------------------------------------------------------

# Statuses that make any duplicate more urgent: a firearm out of lawful hands.
_URGENT = {"reported_stolen": "reported stolen", "reported_lost": "reported lost",
           "seized": "seized"}  # fmt: skip
_DESCRIBED = (("year", "made"), ("model", "model"), ("calibre", "calibre"),
              ("country", "made in"))  # fmt: skip


def _differences(members: list[Member]) -> list[str]:
    """What the members' descriptions disagree on: ``made 2019 / 2020``."""
    out = []
    for attr, label in _DESCRIBED:
        values = [getattr(m, attr) for m in members if getattr(m, attr) is not None]
        keyed = {model_key(v) if attr == "model" else v for v in values}
        if len(keyed) > 1:
            out.append(f"{label} {' / '.join(dict.fromkeys(map(str, values)))}")
    return out


def _kinds_of(members: list[Member]) -> str:
    return " and ".join(dict.fromkeys(m.component for m in members))


def _serial_weight(serial: str) -> float:
    """How unlikely two makers are to use ``serial`` by chance: long, mixed serials
    are rare; short numbers are common."""
    length = len(serial)
    mixed = any(ch.isalpha() for ch in serial) and any(ch.isdigit() for ch in serial)
    return min(1.0, max(0.0, (length - 4) / 6)) * (1.0 if mixed else 0.7)


def rank(group: DupeGroup, in_run: dict[int, bool] | None = None) -> DupeGroup:
    """Set ``group.score`` (suspicion, 0-1) and ``group.reason`` (what a person
    should make of it). ``in_run``: for transposition and edit members, whether
    each is a regular member of a production run."""
    members = group.members
    first = members[0]
    maker = first.manufacturer
    differs = _differences(members)
    described = f" ({'; '.join(differs)})" if differs else ""
    kind = group.kind
    if group.expected:
        score, reason = (
            0.05,
            (
                f"expected numbering: each serial sits in a {maker} production run "
                "(neighbouring serials of the same model and year)"
            ),
        )
    elif kind == "exact":
        kinds = {m.component for m in members}
        if len(kinds) == 1:
            score = 1.0 if differs else 0.9
            reason = (
                f"{len(members)} {maker} {first.component}s carry serial {first.serial.strip()}"
                + (
                    f"{described}: two items with one serial"
                    if differs
                    else ": one item recorded twice, or two items with one serial"
                )  # fmt: skip
            )
        else:
            score = 0.8
            reason = f"one {maker} serial on a {_kinds_of(members)}{described}"
    elif kind in ("normalized", "confusable", "embedded_letter"):
        base = {"normalized": 0.85, "confusable": 0.8, "embedded_letter": 0.6}[kind]
        how = {"normalized": "written two ways", "confusable": "read two ways (look-alikes)",
               "embedded_letter": "with and without a letter between digits"}[kind]  # fmt: skip
        score = base - (0.15 if differs else 0.0)
        reason = f"{_listing(members)}: one {maker} serial {how}" + (
            f"{described}: two items, or one with a wrong description"
            if differs
            else ": one item recorded twice?"  # fmt: skip
        )
    elif kind == "model_as_serial":
        score = 0.7
        reason = (
            f"{first.serial.strip()} looks like a {maker} model number, not a serial: "
            "check the marking"
        )
    elif kind == "cross_manufacturer":
        names = list(dict.fromkeys(m.manufacturer for m in members))
        alias = any(fuzz.token_set_ratio(a, b) >= 80 for i, a in enumerate(names)
                    for b in names[i + 1:])  # fmt: skip
        weight = _serial_weight(first.norm0)
        score = 0.8 if alias else round(0.2 + 0.35 * weight, 2)
        reason = f"serial {first.norm0} used by {' and '.join(names)}" + (
            ": perhaps one maker under two names (add an alias to rules/makers.toml)"
            if alias
            else (
                ": a long serial, unlikely by chance"
                if weight > 0.6
                else ": short serials recur across makers"
            )  # fmt: skip
        )
    else:  # transposition, edit
        stray = [m for m in members if in_run is not None and not in_run.get(m.id, False)]
        what = "two characters swapped" if kind == "transposition" else "a character off"
        if not differs:
            score = 0.6 if kind == "transposition" else 0.4
            reason = f"{_listing(members)}: one {maker} item keyed twice with {what}?"
        else:
            score = 0.45 if kind == "transposition" else 0.3
            lone = stray[0].serial if stray else members[-1].serial
            reason = (
                f"{lone} has no neighbouring {maker} serial of its model and year: "
                f"{_listing(members)} with {what}{described}, a keying error?"
            )
    urgent = [m for m in members if m.status in _URGENT]
    if urgent and not group.expected:
        score = min(1.0, score + 0.1)
        reason += "; " + ", ".join(f"{m.serial} is {_URGENT[m.status]}" for m in urgent)
    group.score, group.reason = round(score, 2), reason
    return group


def _set_statuses(conn: sqlite3.Connection, members: Iterable[Member]) -> None:
    """Each member's status where it is out of circulation (the partial status
    index finds the few that are; the rest are in circulation)."""
    by_id: dict[int, list[Member]] = defaultdict(list)
    for m in members:
        by_id[m.id].append(m)
    if not by_id:
        return
    for m in (m for ms in by_id.values() for m in ms):
        m.status = DEFAULT_STATUS
    conn.execute("DROP TABLE IF EXISTS temp.dupe_status_ids")
    conn.execute("CREATE TEMP TABLE dupe_status_ids (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO temp.dupe_status_ids VALUES (?)", ((i,) for i in by_id))
    flagged = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT e.component_id FROM temp.dupe_status_ids t CROSS JOIN events e "
            f"ON e.component_id = t.id WHERE e.event IN ({_out_of_circulation_sql()})"
        )
    ]
    conn.execute("DROP TABLE temp.dupe_status_ids")
    for cid in flagged:
        status = component_status(conn, cid)
        for m in by_id[cid]:
            m.status = status


@lru_cache(maxsize=1)
def _out_of_circulation_sql() -> str:
    events = sorted(e for e, s in load_vocabulary().status_of_event.items() if s != DEFAULT_STATUS)
    return ", ".join(f"'{e}'" for e in events)


def order_groups(groups: list[DupeGroup]) -> list[DupeGroup]:
    """Most suspicious first; then by kind and serial (a stable reading order)."""
    position = {k: i for i, k in enumerate(KINDS)}
    for g in groups:
        g.members.sort(key=lambda m: (m.serial, m.manufacturer, m.id))
    return sorted(
        groups,
        key=lambda g: (-g.score, position[g.kind], g.members[0].serial, [m.id for m in g.members]),
    )


def _model_equals_serial(
    conn: sqlite3.Connection, scope: _Scope, dead: set[int] | None = None
) -> list[DupeGroup]:
    rows = conn.execute(
        _MEMBER_SQL
        # The model read once a component from its description (schema 10). The
        # first-character test is cheap and rejects almost every row before the
        # full normalisation of the model is computed.
        + "JOIN descriptions d ON d.id = c.description_id "
        + "WHERE d.model IS NOT NULL AND substr(c.serial_norm, 1, 1) = "
        + "upper(substr(ltrim(d.model), 1, 1)) AND c.serial_norm = "
        + _norm_sql("d.model")
        + " AND "
        + scope.on("c"),
        scope.params,
    )
    by_key: dict[tuple, list[Member]] = defaultdict(list)
    for m in _members(rows):
        if not dead or m.id not in dead:
            by_key[(m.maker_id, m.norm)].append(m)
    return [
        DupeGroup(
            "model_as_serial",
            g,
            f"serial {g[0].serial.strip()} equals the model ({g[0].manufacturer}, "
            f"{len(g)} record{'s' * (len(g) != 1)})",
        )
        for g in by_key.values()
    ]


def _pair_groups(
    members: dict[int, Member], ids_a: list, ids_b: list, positions: list, expected: list
) -> list[DupeGroup]:
    """Transposition groups for hashed pair hits, each verified on the strings;
    records sharing a serial with a pair's member join its group."""
    grouped: dict[tuple, tuple[set[int], bool]] = {}
    for cid, pid, i, flag in zip(ids_a, ids_b, positions, expected, strict=True):
        m, other = members[cid], members[pid]
        fold = m.fold
        swapped = fold[:i] + fold[i + 1] + fold[i] + fold[i + 2 :]
        if other.fold == swapped and other.maker_id == m.maker_id and m.fold0 != other.fold0:
            key = (m.maker_id, min(fold, swapped), max(fold, swapped), i)
            ids, was = grouped.get(key, (set(), True))
            grouped[key] = (ids | {cid, pid}, was and flag)
    out = []
    for key, (group_ids, flag) in grouped.items():
        group = [members[x] for x in sorted(group_ids)]
        out.append(
            DupeGroup("transposition", group, _describe_transposition(key, group), expected=flag)
        )
    return out


def _describe_transposition(pair: tuple, members: list[Member]) -> str:
    maker, fa, fb, i = pair
    return f"{_listing(members)}: characters {i + 1}-{i + 2} transposed ({members[0].manufacturer})"


def _maker_ids(conn: sqlite3.Connection, manufacturer: str) -> list[int]:
    return lookup_maker_ids(conn, manufacturer)


_KEY_KIND_NAMES = {"exact", "cross_manufacturer", "normalized", "confusable", "embedded_letter",
                   "model_as_serial"}  # fmt: skip


def find_duplicates(
    conn: sqlite3.Connection,
    *,
    kinds: Iterable[str] = DEFAULT_KINDS,
    max_distance: int = 1,
    manufacturer: str | None = None,
    all_components: bool = False,
    include_expected: bool = False,
    progress: Callable[[str], None] | None = None,
    operator: str = "unknown",
    purpose: str | None = None,
    audit: bool = True,
) -> DupesReport:
    """Every duplicate group of the chosen ``kinds`` in the registry, most
    suspicious first; expected numbering only counted unless ``include_expected``.

    A read of personal data: the purpose policy is checked first, and the search
    is recorded in the audit log with every record it returns, unless ``audit`` is
    False (benchmarks).
    """
    check_policy("dupes", purpose)
    kinds = set(kinds)
    unknown = kinds - set(KINDS)
    if unknown:
        raise UsageError(
            f"--kinds: unknown kind {', '.join(sorted(unknown))} (choose from {', '.join(KINDS)})"
        )
    if "edit" in kinds and not 1 <= max_distance <= 3:
        raise UsageError("--max-distance: must be 1, 2 or 3")
    if manufacturer:
        maker_name(conn, manufacturer)  # a typo is a usage error, not "no duplicates"
    maker_ids = _maker_ids(conn, manufacturer) if manufacturer else None
    scope = _Scope(all_components, maker_ids)
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    groups: list[DupeGroup] = []
    expected_counts = {k: 0 for k in NUMBERING_KINDS if k in kinds}
    dead = _dead_components(conn)
    dead_set = set(dead.tolist())
    say("reading serials")
    t = time.perf_counter()
    found = numbering.scan(
        conn, scope.sql, scope.params, exclude=dead, fold_zeros=_folds_leading_zeros()
    )
    timings["scan_s"] = round(time.perf_counter() - t, 3)
    if maker_ids == []:
        found = numbering.scan(conn, "0", [])
    if kinds & _KEY_KIND_NAMES:
        t = time.perf_counter()
        say("grouping shared keys")
        blocked = _members_by_id(conn, numbering.blocked_ids(found).tolist())
        groups += _key_groups(list(blocked.values()), kinds)
        if "model_as_serial" in kinds:
            groups += _model_equals_serial(conn, scope, dead_set)
        timings["keys_s"] = round(time.perf_counter() - t, 3)
    run_member = numbering.in_run(found) if kinds & set(NUMBERING_KINDS) else None
    if "transposition" in kinds:
        t = time.perf_counter()
        say("hashing adjacent transpositions")
        pairs = numbering.transposition_pairs(found, run_member, keep_expected=include_expected)
        expected_counts["transposition"] = pairs.expected_count
        a, b = found.ids[pairs.a], found.ids[pairs.b]
        pos, flags = pairs.position, pairs.expected
        members = _members_by_id(conn, sorted(set(a.tolist()) | set(b.tolist())))
        groups += _pair_groups(members, a.tolist(), b.tolist(), pos.tolist(), flags.tolist())
        timings["transposition_s"] = round(time.perf_counter() - t, 3)
    if "edit" in kinds:
        t = time.perf_counter()
        say(f"deletion neighbourhoods within {max_distance} edits")
        pairs = _edit_pairs(conn, scope, max_distance)
        for group in _groups_for_fold_pairs(conn, scope, pairs, "edit", _describe_edit, dead_set):
            at = found.index_of([m.id for m in group.members])
            group.expected = bool(run_member[at].all())
            if group.expected:
                expected_counts["edit"] += 1
            if include_expected or not group.expected:
                groups.append(group)
        timings["edit_s"] = round(time.perf_counter() - t, 3)
    groups = _ranked(conn, groups, found, run_member)
    counts = {k: 0 for k in KINDS if k in kinds}
    for g in groups:
        counts[g.kind] += 1
    report = DupesReport(
        groups,
        {
            "records_compared": len(found),
            "scope": "all components" if all_components else "control components",
            "manufacturer": manufacturer,
            "kinds": [k for k in KINDS if k in kinds],
            "max_distance": max_distance if "edit" in kinds else None,
            "groups": counts,
            "listed": len(groups),
            "expected_numbering": expected_counts,
            "expected_numbering_listed": include_expected,
            "withdrawn_left_out": len(dead_set),
            "records_in_groups": len({m.id for g in groups for m in g.members}),
            "elapsed_s": round(time.perf_counter() - started, 3),
            **timings,
        },
    )
    if audit:
        args = {
            "kinds": report.stats["kinds"],
            "max_distance": report.stats["max_distance"],
            "manufacturer": manufacturer,
            "all_components": all_components,
            "include_expected": include_expected,
        }
        ids = sorted({m.id for g in groups for m in g.members})
        record_read(conn, "dupes", operator=operator, purpose=purpose, args=args, record_ids=ids)
    return report


def _ranked(conn, groups: list[DupeGroup], found, run_member) -> list[DupeGroup]:
    """Statuses looked up, every group scored and explained, most suspicious first."""
    _set_statuses(conn, (m for g in groups for m in g.members))
    in_run: dict[int, bool] = {}
    numbered = [m.id for g in groups if g.kind in NUMBERING_KINDS for m in g.members]
    if numbered and run_member is not None:
        present = found.index_of(numbered)
        ok = present < len(found)
        ok[ok] = found.ids[present[ok]] == [x for x, k in zip(numbered, ok, strict=True) if k]
        for cid, at, known in zip(numbered, present.tolist(), ok.tolist(), strict=True):
            in_run[cid] = bool(run_member[at]) if known else False
    for g in groups:
        rank(g, in_run)
    return order_groups(groups)


# --- the import hook ---------------------------------------------------------------

# Above this many new control components, the import check reads the whole
# registry once (seconds) instead of probing every key and swap of every new
# serial (a seek each).
BULK_CHECK = 20_000
# The probe keys of a small batch held in memory before they are written out.
PROBE_FLUSH = 50_000


@dataclass
class BatchFindings:
    """What the import hook reports about one batch, ranked, bounded whatever its size.

    ``groups``: up to ``limit`` groups a new serial joins, most suspicious first;
    ``more``: how many such groups were left out; ``expected``: pairs of the
    batch's serials (with each other or with existing records) that are expected
    numbering, counted per maker, not listed.
    """

    groups: list[DupeGroup] = field(default_factory=list)
    more: int = 0
    expected: dict[str, int] = field(default_factory=dict)
    new_members: set[int] = field(default_factory=set)  # ids in ``groups`` this batch stored
    in_run: dict[int, bool] = field(default_factory=dict)  # numbering members: in a run?


def batch_findings(
    conn: sqlite3.Connection,
    batch_id: int,
    *,
    limit: int = 1_000,
    kinds: Iterable[str] = DEFAULT_KINDS,
    after_id: int | None = None,
) -> BatchFindings:
    """Duplicate groups that the components first stored by ``batch_id`` join
    (``after_id``: every component of the batch has a larger id, which saves a
    scan), ranked as ``dupes`` ranks them."""
    where, params = "batch_id = ? AND control = 1", [batch_id]
    if after_id is not None:
        where, params = "id > ? AND batch_id = ? AND control = 1", [after_id, batch_id]
    conn.execute("DROP TABLE IF EXISTS temp.dupe_batch_ids")
    conn.execute("CREATE TEMP TABLE dupe_batch_ids (id INTEGER PRIMARY KEY)")
    conn.execute(
        f"INSERT INTO temp.dupe_batch_ids SELECT id FROM components WHERE {where} ORDER BY id",
        params,
    )
    findings = BatchFindings()
    try:
        new_ids = np.fromiter(
            (r[0] for r in conn.execute("SELECT id FROM temp.dupe_batch_ids")), dtype=np.int64
        )
        if len(new_ids):
            kinds = set(kinds) - {"edit"}
            if len(new_ids) <= BULK_CHECK:
                groups = _probed_findings(conn, new_ids, kinds, findings)
            else:
                groups = _scanned_findings(conn, new_ids, kinds, limit, findings)
            groups = [g for g in groups if _touches(g, new_ids)]
            _set_statuses(conn, (m for g in groups for m in g.members))
            for g in groups:
                rank(g, findings.in_run)
            groups = order_groups(groups)
            findings.groups, findings.more = (
                groups[:limit],
                findings.more + max(0, len(groups) - limit),
            )
            ids = np.array([m.id for g in findings.groups for m in g.members], dtype=np.int64)
            findings.new_members = set(ids[np.isin(ids, new_ids)].tolist())
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.dupe_batch_ids")
    return findings


def _touches(group: DupeGroup, new_ids) -> bool:
    return bool(np.isin([m.id for m in group.members], new_ids).any())


def _probed_findings(conn, new_ids, kinds: set[str], findings: BatchFindings) -> list:
    """A small batch: its keys and swaps looked up by index seeks."""
    groups: list[DupeGroup] = []
    # Records only withdrawn batches speak of are left out, as dupes and the scan leave them.
    dead = set(withdrawn_records(conn))
    if kinds & _KEY_KIND_NAMES:
        related = _key_neighbours(conn)
        groups += _key_groups([m for i, m in related.items() if i not in dead], kinds)
    if "transposition" not in kinds:
        return groups
    new_keys = conn.execute(
        "SELECT DISTINCT c.maker_id, c.serial_fold FROM temp.dupe_batch_ids n "
        "CROSS JOIN components c ON c.id = n.id"
    ).fetchall()
    new_key_set = set(new_keys)
    swaps: dict[tuple, list] = {}
    for maker, fold in new_keys:
        for i in range(len(fold) - 1):
            a, b = fold[i], fold[i + 1]
            if a != b:
                swapped = fold[:i] + b + a + fold[i + 2 :]
                swaps.setdefault((maker, swapped), []).append((fold, i))
    conn.execute("DROP TABLE IF EXISTS temp.dupe_swaps")
    conn.execute("CREATE TEMP TABLE dupe_swaps (maker_id INTEGER, fold TEXT)")
    conn.executemany("INSERT INTO temp.dupe_swaps VALUES (?, ?)", list(swaps))
    hits = conn.execute(
        "SELECT DISTINCT c.maker_id, c.serial_fold FROM temp.dupe_swaps s "
        "CROSS JOIN components c ON c.serial_fold = s.fold AND +c.maker_id = s.maker_id "
        "WHERE c.control = 1"
    ).fetchall()
    conn.execute("DROP TABLE temp.dupe_swaps")
    pairs = []
    for maker, other in hits:
        for fold, i in swaps[(maker, other)]:
            if fold > other or (maker, other) not in new_key_set:  # each pair once
                pairs.append((maker, fold, other, i))
    found = _groups_for_fold_pairs(
        conn, _Scope(False, None), pairs, "transposition", _describe_transposition, dead
    )
    members = [m for g in found for m in g.members]
    in_run = _in_run_by_seeks(conn, members, dead)
    findings.in_run = in_run
    for group in found:
        if all(in_run.get(m.id) for m in group.members):
            name = group.members[0].manufacturer
            findings.expected[name] = findings.expected.get(name, 0) + 1
        else:
            groups.append(group)
    return groups


def _in_run_by_seeks(
    conn: sqlite3.Connection, members: list[Member], dead: set[int]
) -> dict[int, bool]:
    """:func:`firetrace.registry.numbering.in_run` for a few records, by seeking
    each one's numeric neighbours in the fold index (``dead``: records that do not
    count, as only withdrawn batches speak of them)."""
    out: dict[int, bool] = {}
    for m in members:
        if m.id in out:
            continue
        near = numbering.neighbour_folds(m.fold)
        if not near:
            out[m.id] = False
            continue
        rows = conn.execute(
            f"SELECT id FROM components WHERE serial_fold IN ({','.join('?' * len(near))}) "
            "AND +maker_id = ? AND control = 1 AND model IS ? AND year_of_manufacture IS ?",
            (*near, m.maker_id, m.model, m.year),
        )
        out[m.id] = any(r[0] not in dead for r in rows)
    return out


def _scanned_findings(conn, new_ids, kinds: set[str], limit: int, findings) -> list:
    """A large batch: one pass over the registry's control components."""
    dead = _dead_components(conn)
    found = numbering.scan(
        conn, "control = 1", [], exclude=dead, fold_zeros=_folds_leading_zeros(), chunk=50_000
    )
    is_new = np.isin(found.ids, new_ids)
    groups: list[DupeGroup] = []
    if kinds & _KEY_KIND_NAMES:
        blocked = np.isin(found.ids, numbering.blocked_ids(found))
        hot = set(found.key_hash[blocked & is_new].tolist())
        hot_skel = set(found.skel_hash[blocked & is_new].tolist())
        near = blocked & (
            np.isin(found.key_hash, list(hot)) | np.isin(found.skel_hash, list(hot_skel))
        )
        related = _members_by_id(conn, found.ids[near].tolist())
        groups += _key_groups(list(related.values()), kinds)
    if "transposition" not in kinds:
        return groups
    run_member = numbering.in_run(found)
    pairs = numbering.transposition_pairs(found, run_member)
    at_a, at_b, pos, expected = pairs.a, pairs.b, pairs.position, pairs.expected
    a, b = found.ids[at_a], found.ids[at_b]
    touches = is_new[at_a] | is_new[at_b]
    for maker, count in zip(*np.unique(found.makers[at_a][touches & expected],
                                       return_counts=True), strict=True):  # fmt: skip
        name = conn.execute("SELECT name FROM parties WHERE id = ?", (int(maker),)).fetchone()[0]
        findings.expected[name] = int(count)
    listed = np.flatnonzero(touches & ~expected)
    kept, left_out = _first_groups(found, at_a[listed], at_b[listed], limit * 2)
    kept = listed[kept]
    findings.more += left_out
    members = _members_by_id(conn, sorted(set(a[kept].tolist()) | set(b[kept].tolist())))
    groups += _pair_groups(
        members, a[kept].tolist(), b[kept].tolist(), pos[kept].tolist(), [False] * len(kept)
    )
    ids = [m.id for g in groups for m in g.members]
    findings.in_run = dict(zip(ids, run_member[found.index_of(ids)].tolist(), strict=True))
    return groups


def _first_groups(found, at_a, at_b, keep: int) -> tuple[np.ndarray, int]:
    """The pairs (scan positions of each side) of the first ``keep`` groups they
    form, in the order each group's first pair came, and how many groups are left
    out. A group is one pair of (maker, folded serial) hashes: the maker and the two
    serials :func:`_pair_groups` groups by (one adjacent swap apart, so the swap
    position follows from them). A cut never splits a group, so every record sharing
    a serial with a pair's member stays in it, and ``more`` counts groups."""
    ha, hb = found.swap_hash[at_a], found.swap_hash[at_b]
    key = np.stack([np.minimum(ha, hb), np.maximum(ha, hb)], axis=1)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    order = np.empty_like(first)
    order[np.argsort(first)] = np.arange(len(first))  # first positions are distinct
    return np.flatnonzero(order[inverse.reshape(-1)] < keep), max(0, len(first) - keep)


def _members_by_id(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Member]:
    conn.execute("DROP TABLE IF EXISTS temp.dupe_ids")
    conn.execute("CREATE TEMP TABLE dupe_ids (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO temp.dupe_ids VALUES (?)", [(x,) for x in ids])
    rows = conn.execute(
        f"SELECT {_MEMBER_COLUMNS} FROM temp.dupe_ids t "
        "CROSS JOIN components c ON c.id = t.id JOIN parties p ON p.id = c.maker_id"
    )
    out = {m.id: m for m in _members(rows)}
    conn.execute("DROP TABLE temp.dupe_ids")
    return out


def _groups_for_fold_pairs(
    conn: sqlite3.Connection,
    scope: _Scope,
    pairs: list[tuple[int, str, str, int]],
    kind: str,
    describe: Callable[[tuple, list[Member]], str],
    dead: set[int],
) -> list[DupeGroup]:
    """The groups of ``pairs`` (maker, fold, other fold, position) whose two folds
    both hold records in ``scope``; records in ``dead`` (only withdrawn batches
    speak of them) are left out before grouping."""
    if not pairs:
        return []
    conn.execute("DROP TABLE IF EXISTS temp.dupe_fold_pairs")
    conn.execute(
        "CREATE TEMP TABLE dupe_fold_pairs (fold TEXT, maker_id INTEGER, PRIMARY KEY (fold, "
        "maker_id)) WITHOUT ROWID"
    )
    conn.executemany(
        "INSERT OR IGNORE INTO temp.dupe_fold_pairs VALUES (?, ?)",
        {(f, p[0]) for p in pairs for f in (p[1], p[2])},
    )
    # CROSS JOIN keeps the temp table outermost: one index seek per pair key.
    rows = conn.execute(
        f"SELECT {_MEMBER_COLUMNS} FROM temp.dupe_fold_pairs t "
        "CROSS JOIN components c ON c.serial_fold = t.fold AND +c.maker_id = t.maker_id "
        "JOIN parties p ON p.id = c.maker_id WHERE " + scope.on("c"),
        scope.params,
    )
    by_fold: dict[tuple[int, str], list[Member]] = defaultdict(list)
    for m in _members(rows):
        if m.id not in dead:
            by_fold[(m.maker_id, m.fold)].append(m)
    conn.execute("DROP TABLE temp.dupe_fold_pairs")
    out = []
    for pair in pairs:
        a = by_fold.get((pair[0], pair[1]), [])
        b = by_fold.get((pair[0], pair[2]), [])
        # Folds equal up to leading zeros are already a confusable/normalized group.
        if a and b and a[0].fold0 != b[0].fold0:
            members = a + b
            out.append(DupeGroup(kind, members, describe(pair, members)))
    return out


# --- optional edit kind -----------------------------------------------------------


def _edit_pairs(
    conn: sqlite3.Connection, scope: _Scope, max_distance: int
) -> list[tuple[int, str, str, int]]:
    """Fold pairs (same maker) within ``max_distance`` Levenshtein edits, by deletion
    neighbourhoods built one maker at a time (memory bounded by the largest maker)."""
    makers = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT maker_id FROM components WHERE {scope.sql}", scope.params
        )
    ]
    pairs: list[tuple[int, str, str, int]] = []
    for maker in makers:
        folds = [
            r[0]
            for r in conn.execute(
                f"SELECT DISTINCT serial_fold FROM components WHERE {scope.sql} AND maker_id = ?",
                [*scope.params, maker],
            )
        ]
        neighbourhood: dict[str, list[int]] = defaultdict(list)
        for idx, fold in enumerate(folds):
            variants = {fold}
            for k in range(1, max_distance + 1):
                for drop in combinations(range(len(fold)), k):
                    variants.add("".join(ch for j, ch in enumerate(fold) if j not in drop))
            for v in variants:
                neighbourhood[v].append(idx)
        seen: set[tuple[int, int]] = set()
        for bucket in neighbourhood.values():
            if len(bucket) < 2:
                continue
            for x, y in combinations(sorted(set(bucket)), 2):
                if (x, y) in seen:
                    continue
                seen.add((x, y))
                d = Levenshtein.distance(folds[x], folds[y], score_cutoff=max_distance)
                if d <= max_distance and not _is_transposition(folds[x], folds[y]):
                    pairs.append((maker, folds[x], folds[y], d))
    return pairs


def _is_transposition(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and (a[diff[1]] == b[diff[0]])
    )


def _describe_edit(pair: tuple, members: list[Member]) -> str:
    d = pair[3]
    return f"{_listing(members)}: {d} edit{'s' * (d != 1)} apart ({members[0].manufacturer})"


def _key_neighbours(conn: sqlite3.Connection) -> dict[int, Member]:
    """The batch's new control components and every control component sharing a
    blocking key with one (look-alike key or skeleton, leading zeros folded), by
    index seeks: each key is looked up with up to four leading zeros."""
    conn.execute("DROP TABLE IF EXISTS temp.dupe_probes")
    conn.execute("CREATE TEMP TABLE dupe_probes (fold TEXT PRIMARY KEY) WITHOUT ROWID")
    probes: set[str] = set()
    keys = conn.execute(
        "SELECT c.serial_fold, c.serial_skel FROM temp.dupe_batch_ids n "
        "CROSS JOIN components c ON c.id = n.id WHERE c.control = 1"
    )
    while rows := keys.fetchmany(10_000):
        for fold, skel in rows:
            for key in {fold, skel}:
                stripped = key.lstrip("0") if _folds_leading_zeros() else key
                probes.update("0" * k + stripped for k in range(5))
        if len(probes) > PROBE_FLUSH:
            conn.executemany(
                "INSERT OR IGNORE INTO temp.dupe_probes VALUES (?)", ((p,) for p in probes)
            )
            probes.clear()
    conn.executemany("INSERT OR IGNORE INTO temp.dupe_probes VALUES (?)", ((p,) for p in probes))
    related: dict[int, Member] = {}
    for where in (
        "c.serial_fold = t.fold",
        "c.serial_skel_stored = t.fold",
    ):
        rows = conn.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM temp.dupe_probes t "
            f"CROSS JOIN components c ON {where} JOIN parties p ON p.id = c.maker_id "
            "WHERE c.control = 1"
        )
        related.update((m.id, m) for m in _members(rows))
    conn.execute("DROP TABLE temp.dupe_probes")
    return related
