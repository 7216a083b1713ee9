"""Registry-wide duplicate detection for ``firetrace dupes``.

Finds groups of registry records whose serials collide or nearly collide, one
kind per way of colliding (CONTRACT: exact, cross_manufacturer, normalized,
confusable, embedded_letter, transposition, edit, model_as_serial), each group
with a one-line explanation.

Nothing here compares all pairs. Key-equality kinds come from two blocking
passes that SQLite runs as covering scans of indexed keys (``GROUP BY ... HAVING
count(*) > 1`` on the leading-zero-folded look-alike key and on the skeleton),
so only records that share a key with another record ever reach Python.
Transpositions are found by hashing: a polynomial hash of each (maker, folded
serial) changes by a closed-form amount when two adjacent characters swap, so
every possible swap of every serial is one vectorised array operation and one
sorted-array lookup per position (numpy, streamed from SQLite in chunks, about
24 bytes per record in memory). The optional ``edit`` kind uses deletion
neighbourhoods per maker, verified with rapidfuzz.

By default only control components (the ones carrying a firearm's identity:
frames, receivers) are compared, since a slide or barrel legitimately carries
its frame's serial; ``all_components=True`` compares every component.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

import numpy as np

from firetrace.audit import check_policy, record_read
from firetrace.errors import UsageError
from firetrace.registry.filters import maker_name
from firetrace.registry.lookup import _maker_ids as lookup_maker_ids
from firetrace.registry.vocabulary import DUPLICATE_KINDS
from firetrace.serials.normalize import (
    load_serial_rules,
)

KINDS = DUPLICATE_KINDS
DEFAULT_KINDS = tuple(k for k in KINDS if k != "edit")


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


_CHUNK = 200_000


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
    norm0: str = ""  # norm and fold with leading zeros folded, computed once
    fold0: str = ""

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
        }


@dataclass
class DupeGroup:
    kind: str
    members: list[Member]
    detail: str

    def as_dict(self) -> dict:
        """The group as shown in ``dupes --json``."""
        return {
            "kind": self.kind,
            "members": [m.public() for m in self.members],
            "detail": self.detail,
        }


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
        self.sql = "1 = 1" if all_components else "control = 1"
        self.params: list = []
        if all_components:
            # Keeps the (key, control) indexes covering for the blocking scans.
            self.sql = "control IN (0, 1)"
        if maker_ids is not None:
            self.sql += f" AND maker_id IN ({','.join('?' * len(maker_ids))})"
            self.params = list(maker_ids)


_MEMBER_SQL = (
    "SELECT c.id, c.serial, p.name, c.kind, c.maker_id, c.type, c.model, "
    "c.serial_norm, c.serial_fold, c.serial_skel FROM components c "
    "JOIN parties p ON p.id = c.maker_id "
)


def _members(rows: Iterable[tuple]) -> list[Member]:
    # Maker names, kinds, types and models repeat across millions of rows: share
    # one string object each instead of one per row (about half a member's size).
    shared: dict[str, str] = {}
    out = []
    for cid, serial, maker, kind, maker_id, ftype, model, norm, fold, skel in rows:
        out.append(
            Member(
                cid,
                serial,
                shared.setdefault(maker, maker),
                shared.setdefault(kind, kind),
                maker_id,
                ftype if ftype is None else shared.setdefault(ftype, ftype),
                model if model is None else shared.setdefault(model, model),
                norm,
                fold,
                skel,
            )
        )
    return out


def _fold0_sql() -> str:
    return "ltrim(serial_fold, '0')" if load_serial_rules().fold_leading_zeros else "serial_fold"


def _blocked_members(conn: sqlite3.Connection, scope: _Scope, kinds: set[str]) -> list[Member]:
    """Records sharing a blocking key with another record in scope: the
    look-alike key across makers (cross-maker collisions are a kind), and the
    skeleton within one maker (embedded letters only count within a maker)."""
    where = scope.sql.replace("control", "c.control").replace("maker_id", "c.maker_id")
    by_id: dict[int, Member] = {}
    if kinds & {"exact", "cross_manufacturer", "normalized", "confusable", "model_as_serial"}:
        fold0 = _fold0_sql()
        conn.execute("DROP TABLE IF EXISTS temp.dupe_blocks_fold")
        conn.execute("CREATE TEMP TABLE dupe_blocks_fold (k TEXT PRIMARY KEY)")
        conn.execute(
            f"INSERT INTO temp.dupe_blocks_fold(k) SELECT {fold0} AS k FROM components "
            f"WHERE {scope.sql} GROUP BY k HAVING count(*) > 1",
            scope.params,
        )
        rows = conn.execute(
            _MEMBER_SQL
            + f"WHERE {fold0.replace('serial_', 'c.serial_')} IN "
            + f"(SELECT k FROM temp.dupe_blocks_fold) AND {where}",
            scope.params,
        )
        by_id.update((m.id, m) for m in _members(rows))
        conn.execute("DROP TABLE temp.dupe_blocks_fold")
    if "embedded_letter" in kinds:
        conn.execute("DROP TABLE IF EXISTS temp.dupe_blocks_skel")
        conn.execute("CREATE TEMP TABLE dupe_blocks_skel (k TEXT PRIMARY KEY)")
        # Only skeletons some maker has twice: one covering scan in index order.
        conn.execute(
            "INSERT INTO temp.dupe_blocks_skel(k) SELECT serial_skel FROM components "
            f"WHERE {scope.sql} GROUP BY serial_skel HAVING count(*) > count(DISTINCT maker_id)",
            scope.params,
        )
        rows = conn.execute(
            _MEMBER_SQL
            + f"WHERE c.serial_skel IN (SELECT k FROM temp.dupe_blocks_skel) AND {where}",
            scope.params,
        )
        by_id.update((m.id, m) for m in _members(rows) if m.id not in by_id)
        conn.execute("DROP TABLE temp.dupe_blocks_skel")
    return list(by_id.values())


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


_KEY_KINDS = (
    _KeyKind(
        "exact",
        lambda m: (m.maker_id, m.serial.strip()),
        lambda g: True,
        lambda g: f"serial {g[0].serial.strip()} recorded {len(g)} times for {g[0].manufacturer}",
    ),
    _KeyKind(
        "normalized",
        lambda m: (m.maker_id, m.norm0),
        lambda g: _distinct(g, lambda m: m.serial.strip()) > 1,
        lambda g: (
            f"{_listing(g)} equal after case, separator and leading-zero folding "
            f"({g[0].manufacturer})"
        ),
    ),
    _KeyKind(
        "confusable",
        lambda m: (m.maker_id, m.fold0),
        lambda g: _distinct(g, lambda m: m.norm0) > 1,
        lambda g: (
            f"{_listing(g)} equal after folding look-alike characters "
            f"({_lookalike_note(g)}; {g[0].manufacturer})"
        ),
    ),
    _KeyKind(
        "embedded_letter",
        lambda m: (m.maker_id, m.skel),
        lambda g: _distinct(g, lambda m: m.fold0) > 1,
        lambda g: (
            f"{_listing(g)} equal once letters between digits are dropped ({g[0].manufacturer})"
        ),
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


def _model_equals_serial(conn: sqlite3.Connection, scope: _Scope) -> list[DupeGroup]:
    rows = conn.execute(
        _MEMBER_SQL
        # The first-character test is cheap and rejects almost every row before the
        # full normalisation of the model is computed.
        + "WHERE c.model IS NOT NULL AND substr(c.serial_norm, 1, 1) = "
        + "upper(substr(ltrim(c.model), 1, 1)) AND c.serial_norm = "
        + _norm_sql("c.model")
        + " AND "
        + scope.sql.replace("control", "c.control").replace("maker_id", "c.maker_id"),
        scope.params,
    )
    by_key: dict[tuple, list[Member]] = defaultdict(list)
    for m in _members(rows):
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


# --- transpositions by hashing -------------------------------------------------

_HASH_BASE = 0x9E3779B97F4A7C15  # odd 64-bit multiplier (golden-ratio constant)


def _fold_chunks(conn: sqlite3.Connection, scope: _Scope, chunk: int = _CHUNK):
    cur = conn.execute(
        f"SELECT id, maker_id, serial_fold FROM components WHERE {scope.sql}", scope.params
    )
    while True:
        rows = cur.fetchmany(chunk)
        if not rows:
            return
        yield rows


def _char_matrix(folds: list[str], width: int):
    arr = np.array(folds, dtype=f"U{width}")
    return arr.view(np.uint32).reshape(len(folds), width).astype(np.uint64)


def _powers(width: int):
    powers = np.ones(width + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for k in range(width - 1, -1, -1):
            powers[k] = powers[k + 1] * np.uint64(_HASH_BASE)
    return powers  # powers[k] multiplies column k; powers[width] (=1) the maker


def _hashes(makers, chars, powers):
    width = chars.shape[1]
    with np.errstate(over="ignore"):
        h = np.asarray(makers, dtype=np.uint64) * powers[width]
        h = h + (chars * powers[:width]).sum(axis=1, dtype=np.uint64)
    return h


def _transposition_groups(conn: sqlite3.Connection, scope: _Scope) -> list[DupeGroup]:
    """Groups of records (one maker) whose folded serials are one adjacent swap apart."""
    found = _transposition_pair_arrays(conn, scope)
    if found is None:
        return []
    pairs_a, pairs_b, positions = (a.tolist() for a in found[:3])
    members = _members_by_id(conn, sorted(set(pairs_a) | set(pairs_b)))
    grouped: dict[tuple[int, str, str, int], set[int]] = {}
    for cid, pid, i in zip(pairs_a, pairs_b, positions, strict=True):
        m, other = members[cid], members[pid]
        fold = m.fold
        swapped = fold[:i] + fold[i + 1] + fold[i] + fold[i + 2 :]
        if other.fold == swapped and other.maker_id == m.maker_id:
            grouped.setdefault((m.maker_id, fold, swapped, i), set()).update((cid, pid))
    out = []
    for key, group_ids in grouped.items():
        group = [members[x] for x in sorted(group_ids)]
        out.append(DupeGroup("transposition", group, _describe_transposition(key, group)))
    return out


def _transposition_pair_arrays(conn: sqlite3.Connection, scope: _Scope, chunk: int = _CHUNK):
    """(ids a, ids b, swap positions, makers) as numpy arrays, or None: every pair of
    records (one maker) whose folded serials are one adjacent swap apart.

    One streamed pass keeps each record's id, maker and characters (one byte per
    character for ASCII serials) and hashes every (maker, folded serial) into a
    sorted array. Then, per position, the hash every serial would have with that
    position and the next swapped is a closed-form update, looked up in the
    sorted array. :func:`_transposition_groups` verifies each hit on the strings,
    so a hash collision cannot report a false group; the import hook's per-maker
    counts of a batch's own pairs use the hits as they are (a 64-bit collision
    among a registry's serials is vanishingly unlikely).
    """
    (width,) = conn.execute(
        f"SELECT coalesce(max(length(serial_fold)), 0) FROM components WHERE {scope.sql}",
        scope.params,
    ).fetchone()
    if width < 2:
        return None
    powers = _powers(width)
    hashes, ids, makers, char_parts = [], [], [], []
    for rows in _fold_chunks(conn, scope, chunk):
        chars = _char_matrix([r[2] for r in rows], width)
        chunk_makers = np.fromiter((r[1] for r in rows), dtype=np.uint64, count=len(rows))
        hashes.append(_hashes(chunk_makers, chars, powers))
        ids.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        makers.append(chunk_makers)
        small = chars.max(initial=0) < 256
        char_parts.append(chars.astype(np.uint8 if small else np.uint32))
    if not hashes:
        return None
    all_hashes = np.concatenate(hashes)
    all_ids = np.concatenate(ids)
    order = np.argsort(all_hashes)
    table, table_ids = all_hashes[order], all_ids[order]
    del hashes, ids, order
    found_a, found_b, found_pos = [], [], []
    offset = 0
    for chars in char_parts:
        n = len(chars)
        base = all_hashes[offset : offset + n]
        chunk_ids = all_ids[offset : offset + n]
        offset += n
        chars = chars.astype(np.uint64)
        for i in range(width - 1):
            a, b = chars[:, i], chars[:, i + 1]
            # Each unordered pair once: only swaps that put the smaller character first.
            mask = np.nonzero((b != 0) & (a > b))[0]
            if len(mask) == 0:
                continue
            with np.errstate(over="ignore"):
                swapped = (
                    base[mask]
                    + (b[mask] - a[mask]) * powers[i]
                    + (a[mask] - b[mask]) * powers[i + 1]
                )
            by_value = np.argsort(swapped)  # sorted probes walk the table in order
            probes = swapped[by_value]
            lo = np.searchsorted(table, probes, "left")
            hi = np.searchsorted(table, probes, "right")
            hit = np.nonzero(hi > lo)[0]
            if len(hit) == 0:
                continue
            counts = hi[hit] - lo[hit]
            rows_a = chunk_ids[mask[by_value[hit]]]
            found_a.append(np.repeat(rows_a, counts))
            starts = np.repeat(lo[hit], counts)
            within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            found_b.append(table_ids[starts + within])
            found_pos.append(np.full(len(starts), i, dtype=np.int16))
    del table, table_ids, all_hashes, char_parts
    if not found_a:
        return None
    pairs_a, pairs_b = np.concatenate(found_a), np.concatenate(found_b)
    positions = np.concatenate(found_pos)
    # Makers of the a side, for per-maker counts without fetching members.
    by_id = np.argsort(all_ids)
    all_makers = np.concatenate(makers)
    makers_a = all_makers[by_id[np.searchsorted(all_ids, pairs_a, sorter=by_id)]]
    return pairs_a, pairs_b, positions, makers_a


def _members_by_id(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Member]:
    conn.execute("DROP TABLE IF EXISTS temp.dupe_ids")
    conn.execute("CREATE TEMP TABLE dupe_ids (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO temp.dupe_ids VALUES (?)", [(x,) for x in ids])
    rows = conn.execute(
        "SELECT c.id, c.serial, p.name, c.kind, c.maker_id, c.type, c.model, "
        "c.serial_norm, c.serial_fold, c.serial_skel FROM temp.dupe_ids t "
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
) -> list[DupeGroup]:
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
        "SELECT c.id, c.serial, p.name, c.kind, c.maker_id, c.type, c.model, "
        "c.serial_norm, c.serial_fold, c.serial_skel FROM temp.dupe_fold_pairs t "
        "CROSS JOIN components c ON c.serial_fold = t.fold AND +c.maker_id = t.maker_id "
        "JOIN parties p ON p.id = c.maker_id "
        + "WHERE "
        + scope.sql.replace("control", "c.control").replace("maker_id", "c.maker_id"),
        scope.params,
    )
    by_fold: dict[tuple[int, str], list[Member]] = defaultdict(list)
    for m in _members(rows):
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


def _describe_transposition(pair: tuple, members: list[Member]) -> str:
    maker, fa, fb, i = pair
    return f"{_listing(members)}: characters {i + 1}-{i + 2} transposed ({members[0].manufacturer})"


# --- optional edit kind -----------------------------------------------------------


def _edit_pairs(
    conn: sqlite3.Connection, scope: _Scope, max_distance: int
) -> list[tuple[int, str, str, int]]:
    """Fold pairs (same maker) within ``max_distance`` Levenshtein edits, by deletion
    neighbourhoods built one maker at a time (memory bounded by the largest maker)."""
    from rapidfuzz.distance import Levenshtein  # lazy: only the edit kind (opt-in) needs it

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


# --- entry point -----------------------------------------------------------------


def _maker_ids(conn: sqlite3.Connection, manufacturer: str) -> list[int]:

    return lookup_maker_ids(conn, manufacturer)


def find_duplicates(
    conn: sqlite3.Connection,
    *,
    kinds: Iterable[str] = DEFAULT_KINDS,
    max_distance: int = 1,
    manufacturer: str | None = None,
    all_components: bool = False,
    progress: Callable[[str], None] | None = None,
    operator: str = "unknown",
    purpose: str | None = None,
    audit: bool = True,
) -> DupesReport:
    """Every duplicate group of the chosen ``kinds`` in the registry.

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

    (records,) = conn.execute(
        f"SELECT count(*) FROM components WHERE {scope.sql}", scope.params
    ).fetchone()
    groups: list[DupeGroup] = []
    if maker_ids == []:
        records = 0
    else:
        t = time.perf_counter()
        say("blocking on folded keys")
        blocked = _blocked_members(conn, scope, kinds)
        groups += _key_groups(blocked, kinds)
        if "model_as_serial" in kinds:
            groups += _model_equals_serial(conn, scope)
        timings["keys_s"] = round(time.perf_counter() - t, 3)
        if "transposition" in kinds:
            t = time.perf_counter()
            say("hashing adjacent transpositions")
            groups += _transposition_groups(conn, scope)
            timings["transposition_s"] = round(time.perf_counter() - t, 3)
        if "edit" in kinds:
            t = time.perf_counter()
            say(f"deletion neighbourhoods within {max_distance} edits")
            pairs = _edit_pairs(conn, scope, max_distance)
            groups += _groups_for_fold_pairs(conn, scope, pairs, "edit", _describe_edit)
            timings["edit_s"] = round(time.perf_counter() - t, 3)
    order = {k: i for i, k in enumerate(KINDS)}
    for g in groups:
        g.members.sort(key=lambda m: (m.serial, m.manufacturer, m.id))
    groups.sort(key=lambda g: (order[g.kind], g.members[0].serial, [m.id for m in g.members]))
    counts = {k: 0 for k in KINDS if k in kinds}
    for g in groups:
        counts[g.kind] += 1
    report = DupesReport(
        groups,
        {
            "records_compared": records,
            "scope": "all components" if all_components else "control components",
            "manufacturer": manufacturer,
            "kinds": [k for k in KINDS if k in kinds],
            "max_distance": max_distance if "edit" in kinds else None,
            "groups": counts,
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
        }
        ids = sorted({m.id for g in groups for m in g.members})
        record_read(conn, "dupes", operator=operator, purpose=purpose, args=args, record_ids=ids)
    return report


# Above this many new control components, the import check hashes the whole
# registry for transpositions (seconds) instead of probing every swap of every
# new serial (a seek each).
BULK_CHECK = 20_000
# The import hook hashes in smaller chunks than `dupes`: its peak memory (a few
# wide numpy temporaries per chunk) stays small beside the import's own.
_IMPORT_CHUNK = 25_000


@dataclass
class BatchFindings:
    """What the import hook reports about one batch, bounded whatever its size.

    ``groups``: up to ``limit`` groups a new serial joins that involve an existing
    record, or a key (normalised, look-alike, embedded-letter) group; ``more``:
    how many such groups were left out. ``internal``: transpositions among the
    batch's own serials (sequential numbering makes thousands of these), counted
    per manufacturer as (pair count, one example) instead of listed.
    """

    groups: list[DupeGroup] = field(default_factory=list)
    more: int = 0
    internal: dict[str, tuple[int, str]] = field(default_factory=dict)
    new_members: set[int] = field(default_factory=set)  # ids in ``groups`` this batch stored


def batch_findings(
    conn: sqlite3.Connection,
    batch_id: int,
    *,
    limit: int = 1_000,
    kinds: Iterable[str] = DEFAULT_KINDS,
) -> BatchFindings:
    """Duplicate groups that the components first stored by ``batch_id`` join: the
    import hook's check, set-based and with memory bounded by ``limit`` (plus a
    few bytes per new record for the registry-wide transposition pass)."""
    conn.execute("DROP TABLE IF EXISTS temp.dupe_batch_ids")
    conn.execute("CREATE TEMP TABLE dupe_batch_ids (id INTEGER PRIMARY KEY)")
    conn.execute(
        "INSERT INTO temp.dupe_batch_ids SELECT id FROM components WHERE batch_id = ? ORDER BY id",
        (batch_id,),
    )
    try:
        new_ids = np.fromiter(
            (r[0] for r in conn.execute("SELECT id FROM temp.dupe_batch_ids")), dtype=np.int64
        )
        findings = BatchFindings()
        if len(new_ids):
            _batch_findings(conn, new_ids, set(kinds) - {"edit"}, limit, findings)
            ids = np.array([m.id for g in findings.groups for m in g.members], dtype=np.int64)
            at = np.minimum(np.searchsorted(new_ids, ids), len(new_ids) - 1)
            findings.new_members = set(ids[new_ids[at] == ids].tolist())
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.dupe_batch_ids")
    return findings


def _batch_findings(conn, new_ids, kinds: set[str], limit: int, findings: BatchFindings) -> None:
    def is_new(ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(new_ids, ids), len(new_ids) - 1)
        return new_ids[at] == ids

    def report(group: DupeGroup) -> None:
        flags = is_new([m.id for m in group.members])
        if not flags.any():
            return
        if group.kind == "transposition" and flags.all():
            name = group.members[0].manufacturer
            count, example = findings.internal.get(name, (0, group.detail))
            findings.internal[name] = (count + 1, example)
        elif len(findings.groups) < limit:
            findings.groups.append(group)
        else:
            findings.more += 1

    related = _key_neighbours(conn)
    if related:
        for group in _key_groups(list(related.values()), kinds):
            report(group)
    related.clear()
    if "transposition" not in kinds:
        return
    (new_control,) = conn.execute(
        "SELECT count(*) FROM temp.dupe_batch_ids n CROSS JOIN components c ON c.id = n.id "
        "WHERE c.control = 1"
    ).fetchone()
    if new_control <= BULK_CHECK:
        # Few new serials: probe every swap of each (an index seek each).
        new_keys = conn.execute(
            "SELECT DISTINCT c.maker_id, c.serial_fold FROM temp.dupe_batch_ids n "
            "CROSS JOIN components c ON c.id = n.id WHERE c.control = 1"
        ).fetchall()
        new_key_set = set(new_keys)
        swaps = {}
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
        for group in _groups_for_fold_pairs(
            conn, _Scope(False, None), pairs, "transposition", _describe_transposition
        ):
            report(group)
        return
    # Many new serials: one hashed pass over the registry's control components.
    found = _transposition_pair_arrays(conn, _Scope(False, None), _IMPORT_CHUNK)
    if found is None:
        return
    pairs_a, pairs_b, positions, makers_a = found
    new_a, new_b = is_new(pairs_a), is_new(pairs_b)
    internal = new_a & new_b
    if internal.any():
        makers, first, counts = np.unique(makers_a[internal], return_index=True, return_counts=True)
        for at, count in zip(np.nonzero(internal)[0][first], counts.tolist(), strict=True):
            example = _verified_pair_groups(
                conn, [int(pairs_a[at])], [int(pairs_b[at])], [int(positions[at])]
            )
            if example:
                findings.internal[example[0].members[0].manufacturer] = (count, example[0].detail)
    outside = np.nonzero((new_a | new_b) & ~internal)[0]
    kept = outside[:limit]
    findings.groups += _verified_pair_groups(
        conn, pairs_a[kept].tolist(), pairs_b[kept].tolist(), positions[kept].tolist()
    )
    findings.more += len(outside) - len(kept)


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
        if len(probes) > 50_000:
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
            "SELECT c.id, c.serial, p.name, c.kind, c.maker_id, c.type, c.model, "
            "c.serial_norm, c.serial_fold, c.serial_skel FROM temp.dupe_probes t "
            f"CROSS JOIN components c ON {where} JOIN parties p ON p.id = c.maker_id "
            "WHERE c.control = 1"
        )
        related.update((m.id, m) for m in _members(rows))
    conn.execute("DROP TABLE temp.dupe_probes")
    return related


def _verified_pair_groups(conn, ids_a: list, ids_b: list, positions: list) -> list[DupeGroup]:
    """Transposition groups for hashed pair hits, each verified on the strings."""
    members = _members_by_id(conn, sorted(set(ids_a) | set(ids_b)))
    out = []
    for cid, pid, i in zip(ids_a, ids_b, positions, strict=True):
        m, other = members[cid], members[pid]
        fold = m.fold
        swapped = fold[:i] + fold[i + 1] + fold[i] + fold[i + 2 :]
        if other.fold == swapped and other.maker_id == m.maker_id:
            group = [m, other] if cid < pid else [other, m]
            out.append(
                DupeGroup(
                    "transposition",
                    group,
                    _describe_transposition((m.maker_id, fold, swapped, i), group),
                )
            )
    return out
