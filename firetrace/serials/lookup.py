"""Candidate search for ``firetrace trace``: which registry components could a
serial read off a recovered firearm belong to.

:func:`find_candidates` is the single entry point the trace uses. It returns
candidates ranked best first; every candidate carries its match kind, a score in
[0, 1] and a one-line ``why``. Exact and normalised hits always rank first; the
rest rank by a weighted edit cost (look-alike likelihoods, transpositions,
doubled and embedded characters, all from ``rules/serials.toml``), so a dropped
digit in a dense run of sequential serials is ranked by principle, not luck.

Every route is an index seek or range scan: the stored keys (``serial_norm``,
``serial_fold``, ``serial_skel``), the deletion neighbourhood for fuzzy matches
and the reversed keys for wildcard patterns with a literal ending (see
:mod:`firetrace.serials.index`). A wildcard pattern with almost no literal
characters falls back to a scan capped at ``wildcard.max_scan_rows`` rows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from firetrace.serials.normalize import (
    fold_alternatives,
    fold_leading_zeros,
    load_serial_rules,
    lookalike_cost,
    lookalike_fold_table,
    normalize_serial,
    serial_keys,
    skeleton_of_norm,
)

MATCH_RANK = {"exact": 0, "normalized": 1, "confusable": 2, "wildcard": 3, "fuzzy": 4}
WILDCARDS = "?*"
# Candidate ids examined per query at most: keeps a pathological query bounded.
MAX_EXAMINED = 20_000
# Rows read per half-serial anchor in the two-edit fallback.
ANCHOR_ROWS = 2_000
_TOP = chr(0x10FFFF)  # sorts after every character: upper bound of a prefix range


@dataclass
class Candidate:
    component_id: int
    serial: str
    manufacturer: str
    component: str
    match: str  # exact | normalized | confusable | wildcard | fuzzy
    score: float
    why: str


@dataclass
class _Row:
    id: int
    serial: str
    norm: str
    fold: str
    maker: str
    kind: str


def _plain(conn):
    return getattr(conn, "conn", conn)


def _score(cost: float) -> float:
    rules = load_serial_rules()
    return round(rules.scores.get("ceiling", 0.95) / (1.0 + cost), 4)


def _fetch(
    conn: sqlite3.Connection,
    where: str,
    params: Iterable,
    maker_ids: list[int] | None,
    component: str | None,
    cap: int = MAX_EXAMINED,
) -> list[_Row]:
    sql = (
        "SELECT c.id, c.serial, c.serial_norm, c.serial_fold, p.name, c.kind "
        "FROM components c JOIN parties p ON p.id = c.maker_id WHERE " + where
    )
    params = list(params)
    if maker_ids is not None:
        sql += f" AND +c.maker_id IN ({','.join('?' * len(maker_ids))})"
        params += maker_ids
    if component:
        sql += " AND c.kind = ?"
        params.append(component)
    sql += f" LIMIT {int(cap)}"
    return [_Row(*r) for r in conn.execute(sql, params)]


def _in_list(values: list) -> str:
    return "(" + ",".join("?" * len(values)) + ")"


def _maker_ids(conn: sqlite3.Connection, manufacturer: str) -> list[int]:
    try:
        from firetrace.registry.parties import normalize_party_name

        key = normalize_party_name(manufacturer)
    except ImportError:  # registry area not installed: match the stored key plainly
        key = manufacturer.strip().upper()
    rows = conn.execute(
        "SELECT id FROM parties WHERE norm_name = ? OR name = ? COLLATE NOCASE",
        (key, manufacturer.strip()),
    ).fetchall()
    return [r[0] for r in rows]


# --- weighted alignment -------------------------------------------------------


def _is_embedded(s: str, i: int) -> bool:
    """Whether s[i] is a letter standing between digits (within its letter run)."""
    if not s[i].isalpha():
        return False
    j, k = i, i
    while j > 0 and s[j - 1].isalpha():
        j -= 1
    while k < len(s) - 1 and s[k + 1].isalpha():
        k += 1
    return j > 0 and k < len(s) - 1 and s[j - 1].isdigit() and s[k + 1].isdigit()


def align(read: str, marked: str) -> tuple[float, list[str]]:
    """Weighted optimal-string-alignment of the serial as read against the serial
    as marked (both normalised): the cost and one phrase per edit, positions
    counted in the marked serial (1-based)."""
    rules = load_serial_rules().fuzzy
    sub_cost = rules.get("substitution", 1.0)
    ins_cost = rules.get("insertion", 1.0)
    del_cost = rules.get("deletion", 1.0)
    tra_cost = rules.get("transposition", 0.6)
    dbl_cost = rules.get("doubled_character", 0.6)
    emb_cost = rules.get("embedded_letter", 0.3)
    n, m = len(read), len(marked)
    inf = float("inf")
    d = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    d[0][0] = 0.0

    def deletion_cost(j: int) -> tuple[float, str]:  # marked[j] not read
        ch = marked[j]
        if _is_embedded(marked, j):
            return emb_cost, f"embedded letter {ch} at position {j + 1} not read"
        if (j > 0 and marked[j - 1] == ch) or (j + 1 < m and marked[j + 1] == ch):
            return dbl_cost, f"doubled {ch} at position {j + 1} read once"
        return del_cost, f"{ch} at position {j + 1} not read"

    def insertion_cost(i: int, j: int) -> tuple[float, str]:  # read[i] has no marked char
        ch = read[i]
        where = f"after position {j}" if j else "before position 1"
        if _is_embedded(read, i):
            return emb_cost, f"extra letter {ch} read {where}"
        if (i > 0 and read[i - 1] == ch) or (i + 1 < n and read[i + 1] == ch):
            return dbl_cost, f"{ch} at position {max(j, 1)} read twice"
        return ins_cost, f"extra {ch} read {where}"

    for i in range(n + 1):
        for j in range(m + 1):
            here = d[i][j]
            if here == inf:
                continue
            if i < n and j < m:
                a, b = read[i], marked[j]
                la = lookalike_cost(a, b)
                c = la if la is not None else sub_cost
                if here + c < d[i + 1][j + 1]:
                    d[i + 1][j + 1] = here + c
                    why = "" if a == b else f"{b} read as {a} at position {j + 1}"
                    back[i + 1][j + 1] = (i, j, why)
            if j < m:
                c, why = deletion_cost(j)
                if here + c < d[i][j + 1]:
                    d[i][j + 1] = here + c
                    back[i][j + 1] = (i, j, why)
            if i < n:
                c, why = insertion_cost(i, j)
                if here + c < d[i + 1][j]:
                    d[i + 1][j] = here + c
                    back[i + 1][j] = (i, j, why)
            if (
                i + 1 < n
                and j + 1 < m
                and read[i] == marked[j + 1]
                and read[i + 1] == marked[j]
                and read[i] != read[i + 1]
                and here + tra_cost < d[i + 2][j + 2]
            ):
                d[i + 2][j + 2] = here + tra_cost
                pair, seen_as = marked[j : j + 2], read[i : i + 2]
                why = f"{pair} at positions {j + 1}-{j + 2} read as {seen_as} (transposed)"
                back[i + 2][j + 2] = (i, j, why)
    phrases: list[str] = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, why = back[i][j]
        if why:
            phrases.append(why)
        i, j = pi, pj
    phrases.reverse()
    return d[n][m], phrases


# --- routes -------------------------------------------------------------------


def _deletions(s: str, depth: int) -> set[str]:
    out: set[str] = set()
    for k in range(1, depth + 1):
        if k > len(s):
            break
        for drop in combinations(range(len(s)), k):
            out.add("".join(ch for i, ch in enumerate(s) if i not in drop))
    return out


def _direct_and_fuzzy(
    conn: sqlite3.Connection,
    query: str,
    norm: str,
    maker_ids: list[int] | None,
    component: str | None,
    want: int = 20,
) -> dict[int, Candidate]:
    from rapidfuzz.distance import OSA

    rules = load_serial_rules()
    max_edits = int(rules.fuzzy.get("max_edits", 2))
    _, fold, _ = serial_keys(norm)
    skel = skeleton_of_norm(norm)
    found: dict[int, Candidate] = {}

    stripped = fold_leading_zeros(norm)
    padded = sorted({norm, stripped, *("0" * k + stripped for k in range(1, 5))})
    for row in _fetch(conn, "c.serial_norm IN " + _in_list(padded), padded, maker_ids, component):
        if row.serial.strip() == query.strip():
            found[row.id] = _candidate(
                row, "exact", rules.scores.get("exact", 1.0), "serial as marked"
            )
        else:
            why = "equal after case, space and dash folding"
            if row.norm != norm:
                why = "equal after case, separator and leading-zero folding"
            found[row.id] = _candidate(row, "normalized", rules.scores.get("normalized", 0.99), why)

    # Everything else is verified by the weighted alignment.
    folds = fold_alternatives(norm)
    pools: list[tuple[str, list]] = [
        ("c.serial_fold IN " + _in_list(folds), folds),
        ("c.serial_skel = ?", [skel]),
    ]
    if max_edits > 0 and fold:
        query_dels = sorted(_deletions(fold, max_edits))
        probe = sorted({fold, *query_dels})
        if query_dels:
            pools.append(("c.serial_fold IN " + _in_list(query_dels), query_dels))
        pools.append(
            (
                "c.id IN (SELECT component_id FROM serial_deletions WHERE variant IN "
                + _in_list(probe)
                + ")",
                probe,
            )
        )
    seen: set[int] = set(found)

    def examine(rows: list[_Row]) -> None:
        for row in rows:
            if row.id in seen:
                continue
            seen.add(row.id)
            same_fold = row.fold in folds
            same_skel = skeleton_of_norm(row.norm) == skel
            if not (same_fold or same_skel):
                if OSA.distance(fold, row.fold, score_cutoff=max_edits) > max_edits:
                    continue
            cost, phrases = align(norm, row.norm)
            if same_fold or same_skel:
                match = "confusable"
                if not phrases:
                    phrases = ["equal after look-alike and leading-zero folding"]
            else:
                match = "fuzzy"
            found[row.id] = _candidate(row, match, _score(cost), "; ".join(phrases))

    for where, params in pools:
        examine(_fetch(conn, where, params, maker_ids, component))
    half = len(fold) // 2
    one_edit = _score(load_serial_rules().fuzzy.get("substitution", 1.0))
    close = sum(1 for c in found.values() if c.score >= one_edit)
    if max_edits >= 2 and close == 0 and len(found) < want and half >= 3:
        # Nothing within one edit: look for two edits the deletion neighbourhood
        # cannot see (two unrelated substitutions, two dropped characters). They
        # leave one half of the serial intact when both fall in the other half,
        # so range-scan each half (bounded).
        lengths = (len(fold) - max_edits, len(fold) + max_edits)
        prefix, suffix = fold[:half], fold[-half:][::-1]
        examine(
            _fetch(
                conn,
                "c.serial_fold >= ? AND c.serial_fold < ? "
                "AND length(c.serial_fold) BETWEEN ? AND ?",
                [prefix, prefix + _TOP, *lengths],
                maker_ids,
                component,
                cap=ANCHOR_ROWS,
            )
        )
        examine(
            _fetch(
                conn,
                "c.id IN (SELECT component_id FROM serial_suffixes WHERE reversed >= ? AND "
                f"reversed < ? LIMIT {ANCHOR_ROWS}) AND length(c.serial_fold) BETWEEN ? AND ?",
                [suffix, suffix + _TOP, *lengths],
                maker_ids,
                component,
                cap=ANCHOR_ROWS,
            )
        )
    return found


def _glob_escape(literal: str) -> str:
    return "".join(f"[{ch}]" if ch in "[]" else ch for ch in literal)


def _wildcard(
    conn: sqlite3.Connection,
    norm: str,
    maker_ids: list[int] | None,
    component: str | None,
) -> dict[int, Candidate]:
    rules = load_serial_rules()
    pattern = re.sub(r"\*+", "*", norm)
    folded = pattern.translate(lookalike_fold_table())
    glob = _glob_escape(folded)
    prefix = re.match(r"[^?*]*", folded).group(0)
    suffix = re.search(r"[^?*]*$", folded).group(0)
    min_anchor = int(rules.wildcard.get("min_anchor", 2))
    max_scan = int(rules.wildcard.get("max_scan_rows", 250_000))
    if max(len(prefix), len(suffix)) >= min_anchor:
        if len(suffix) > len(prefix):
            reversed_glob = _glob_escape(folded[::-1])
            where = (
                "c.id IN (SELECT component_id FROM serial_suffixes WHERE reversed GLOB ?) "
                "AND c.serial_fold GLOB ?"
            )
            params = [reversed_glob, glob]
        else:
            where, params = "c.serial_fold GLOB ?", [glob]
    else:
        # Almost no literals: a capped scan of the key index.
        where = (
            "c.id IN (SELECT id FROM (SELECT id, serial_fold FROM components "
            f"ORDER BY serial_fold LIMIT {max_scan}) WHERE serial_fold GLOB ?)"
        )
        params = [glob]
    regex = re.compile(
        "".join(
            "(.)" if ch == "?" else "(.*)" if ch == "*" else f"({re.escape(ch)})" for ch in folded
        )
    )
    unknown_cost = rules.scores.get("wildcard_unknown", 0.05)
    run_cost = rules.scores.get("wildcard_run", 0.1)
    empty_run_cost = rules.scores.get("wildcard_empty_run", 0.3)
    found: dict[int, Candidate] = {}
    for row in _fetch(conn, where, params, maker_ids, component):
        m = regex.fullmatch(row.fold)
        if not m:
            continue
        cost, phrases, unknown = 0.0, [], 0
        for k, ch in enumerate(pattern):
            start, end = m.span(k + 1)
            if ch == "?":
                unknown += 1
                cost += unknown_cost
                continue
            if ch == "*":
                unknown += end - start
                cost += run_cost + (empty_run_cost if end == start else 0.0)
                continue
            marked = row.norm[start]
            if marked != ch:
                cost += lookalike_cost(ch, marked) or 0.0
                phrases.append(f"{marked} read as {ch} at position {start + 1}")
        why = f"pattern {norm} matches, {unknown} unreadable character{'s' * (unknown != 1)}"
        found[row.id] = _candidate(row, "wildcard", _score(cost), "; ".join([why, *phrases]))
    return found


def _candidate(row: _Row, match: str, score: float, why: str) -> Candidate:
    return Candidate(row.id, row.serial, row.maker, row.kind, match, score, why)


def rank_key(c: Candidate) -> tuple:
    """Exact, then normalised, then everything else by score; ties by serial."""
    return (min(MATCH_RANK[c.match], 2), -c.score, c.serial, c.manufacturer, c.component_id)


def find_candidates(
    conn: sqlite3.Connection,
    query: str,
    *,
    manufacturer: str | None = None,
    component: str | None = None,
    limit: int = 20,
) -> list[Candidate]:
    """Registry components ``query`` could be, ranked best first.

    ``query`` may hold ``?`` (one unreadable character) and ``*`` (any run).
    ``manufacturer`` (any spelling or alias) and ``component`` narrow the search.
    """
    conn = _plain(conn)
    norm = normalize_serial(query)
    if not norm or not norm.strip(WILDCARDS):
        return []
    maker_ids = None
    if manufacturer:
        maker_ids = _maker_ids(conn, manufacturer)
        if not maker_ids:
            return []
    if any(ch in norm for ch in WILDCARDS):
        found = _wildcard(conn, norm, maker_ids, component)
    else:
        want = limit if limit and limit > 0 else MAX_EXAMINED
        found = _direct_and_fuzzy(conn, query, norm, maker_ids, component, want)
    ranked = sorted(found.values(), key=rank_key)
    return ranked[:limit] if limit and limit > 0 else ranked
