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
:mod:`firetrace.registry.serial_index`). A wildcard pattern with almost no literal
characters falls back to a scan capped at ``wildcard.max_scan_rows`` rows.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from firetrace.registry.description import COLUMNS as DESCRIPTION_COLUMNS
from firetrace.registry.description import Description
from firetrace.registry.parties import normalize_party_name
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
# Seconds of SQLite work one search may take, whatever the registry's size: a
# statement still running then is interrupted and the search says it is partial.
SEARCH_SECONDS = 1.5
PROGRESS_STEPS = 20_000  # SQLite VM steps between looks at the clock
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
    # With a description (trace --model ...): confirmed minus contradicted fields,
    # and per field whether the record matches, does not say, or differs.
    agreement: int = 0
    description: dict[str, str] | None = None
    record: tuple = field(default=(), repr=False)  # the description columns' values


@dataclass
class _Row:
    id: int
    serial: str
    norm: str
    fold: str
    maker: str
    kind: str
    described: tuple = ()  # description.COLUMNS values, when the search has a description


@dataclass
class Narrowing:
    """What a search is restricted to besides the serial: makers (any alias of the
    one given), a component kind, and what is known of the firearm
    (:class:`~firetrace.registry.description.Description`)."""

    maker_ids: list[int] | None = None
    component: str | None = None
    description: Description | None = None

    def sql(self) -> tuple[str, list]:
        """A WHERE fragment (and its parameters) keeping what the narrowing allows."""
        parts, params = [], []
        if self.maker_ids is not None:
            parts.append(f"+c.maker_id IN ({','.join('?' * len(self.maker_ids))})")
            params += self.maker_ids
        if self.component:
            parts.append("c.kind = ?")
            params.append(self.component)
        if self.description is not None:
            fragment, values = self.description.sql("c")
            if fragment:
                parts.append(fragment)
                params += values
        return " AND ".join(parts), params


def _score(cost: float) -> float:
    rules = load_serial_rules()
    return round(rules.scores.get("ceiling", 0.95) / (1.0 + cost), 4)


def _fetch(
    conn: sqlite3.Connection,
    where: str,
    params: Iterable,
    narrow: Narrowing,
    cap: int | None = None,
    bounded: list[bool] | None = None,
) -> list[_Row]:
    """Rows of ``where`` within ``narrow`` (at most ``cap``); appends True to
    ``bounded`` when the cap cut the result short, so callers can say their
    counts are lower bounds."""
    described = narrow.description is not None
    extra = (", " + ", ".join(DESCRIPTION_COLUMNS)) if described else ""
    sql = (
        f"SELECT c.id, c.serial, c.serial_norm, c.serial_fold, p.name, c.kind{extra} "
        "FROM components c JOIN parties p ON p.id = c.maker_id WHERE " + where
    )
    params = list(params)
    fragment, values = narrow.sql()
    if fragment:
        sql += " AND " + fragment
        params += values
    cap = MAX_EXAMINED if cap is None else cap
    sql += f" LIMIT {int(cap)}"
    rows: list[_Row] = []
    try:
        for row in conn.execute(sql, params):
            rows.append(_Row(*row[:6], described=row[6:]) if described else _Row(*row))
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        cap = len(rows)  # the search's time ran out: what was read so far
    if bounded is not None and len(rows) >= cap:
        bounded.append(True)
    return rows


@contextmanager
def _time_bound(conn: sqlite3.Connection):
    """Interrupt any statement of this search still running after
    :data:`SEARCH_SECONDS` (a candidate cap bounds the rows a query returns, not
    the rows an index range scans to find them)."""
    deadline = time.monotonic() + SEARCH_SECONDS
    conn.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


def _in_list(values: list) -> str:
    return "(" + ",".join("?" * len(values)) + ")"


def norm_seek(norms: list[str], alias: str = "c") -> tuple[str, list[str]]:
    """SQL and parameters for the components whose ``serial_norm`` is one of
    ``norms``: a seek on the fold index (the fold is a function of the norm;
    schema 8 keeps no index on the norm), then the norm compared."""
    folds = sorted({serial_keys(norm)[1] for norm in norms})
    return (
        f"{alias}.serial_fold IN {_in_list(folds)} AND {alias}.serial_norm IN {_in_list(norms)}",
        [*folds, *norms],
    )


def _maker_ids(conn: sqlite3.Connection, manufacturer: str) -> list[int]:
    """The parties a typed maker names: by its alias-folded key (an index seek),
    else by a spelling as first recorded (a party keyed under older rules), which
    reads every party (0.4 s among the 2.4M parties of a 10M registry): only
    when the key finds none."""
    key = normalize_party_name(manufacturer)
    rows = conn.execute("SELECT id FROM parties WHERE norm_name = ?", (key,)).fetchall()
    if not rows:
        rows = conn.execute(
            "SELECT id FROM parties WHERE name = ? COLLATE NOCASE", (manufacturer.strip(),)
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


@dataclass(frozen=True)
class _Weights:
    """Edit costs from the rules, in the form the alignment's inner loop wants."""

    substitution: float
    insertion: float
    deletion: float
    transposition: float
    doubled: float
    embedded: float
    # For a character as read: the cost of each character it may be marked as,
    # when cheaper than an unrelated substitution (itself at 0.0).
    lookalikes: dict[str, dict[str, float]]


_weights_cache: list = [None, None]  # [rules object, its _Weights]
# Insertion costs of the serial as read: the same for every candidate of a query.
_read_gaps: dict[str, list[float]] = {}


def _weights() -> _Weights:
    rules = load_serial_rules()
    if _weights_cache[0] is not rules:  # rules reloaded (tests, edited rules file)
        fuzzy = rules.fuzzy
        lookalikes: dict[str, dict[str, float]] = {}
        for pair, cost in rules.pair_costs.items():
            if len(pair) != 2:
                continue
            a, b = tuple(pair)
            lookalikes.setdefault(a, {a: 0.0})[b] = cost
            lookalikes.setdefault(b, {b: 0.0})[a] = cost
        _read_gaps.clear()
        _weights_cache[:] = [
            rules,
            _Weights(
                substitution=fuzzy.get("substitution", 1.0),
                insertion=fuzzy.get("insertion", 1.0),
                deletion=fuzzy.get("deletion", 1.0),
                transposition=fuzzy.get("transposition", 0.6),
                doubled=fuzzy.get("doubled_character", 0.6),
                embedded=fuzzy.get("embedded_letter", 0.3),
                lookalikes=lookalikes,
            ),
        ]
    return _weights_cache[1]


def _gap_costs(s: str, plain: float, w: _Weights) -> tuple[list[float], list[str]]:
    """Cost and kind of leaving out each character of ``s`` (a deletion from the
    marked serial or an insertion in the read one): an embedded letter, one of a
    doubled pair, or a plain character."""
    costs, kinds = [], []
    last = len(s) - 1
    for i, ch in enumerate(s):
        if _is_embedded(s, i):
            costs.append(w.embedded)
            kinds.append("embedded")
        elif (i > 0 and s[i - 1] == ch) or (i < last and s[i + 1] == ch):
            costs.append(w.doubled)
            kinds.append("doubled")
        else:
            costs.append(plain)
            kinds.append("plain")
    return costs, kinds


def align_cost(read: str, marked: str) -> float:
    """The cost :func:`align` returns, without the phrases (several times faster).

    The same recurrence evaluated cell by cell from its predecessors, so the
    minimum is the same float; trace ranks every candidate with this and
    explains only the ones it returns.
    """
    w = _weights()
    n, m = len(read), len(marked)
    dels, _ = _gap_costs(marked, w.deletion, w)
    inss = _read_gaps.get(read)
    if inss is None:
        if len(_read_gaps) > 256:
            _read_gaps.clear()
        inss = _read_gaps[read] = _gap_costs(read, w.insertion, w)[0]
    sub, tra, lookalikes = w.substitution, w.transposition, w.lookalikes
    prev = [0.0] * (m + 1)
    for j in range(m):
        prev[j + 1] = prev[j] + dels[j]
    prev2 = prev
    for i in range(1, n + 1):
        a = read[i - 1]
        before = read[i - 2] if i >= 2 else ""
        costs = lookalikes.get(a) or {a: 0.0}
        ins = inss[i - 1]
        cur = [prev[0] + ins] * (m + 1)
        for j in range(1, m + 1):
            b = marked[j - 1]
            best = prev[j - 1] + costs.get(b, sub)
            x = cur[j - 1] + dels[j - 1]
            if x < best:
                best = x
            x = prev[j] + ins
            if x < best:
                best = x
            if j >= 2 and before == b and a == marked[j - 2] and before != a:
                x = prev2[j - 2] + tra
                if x < best:
                    best = x
            cur[j] = best
        prev2, prev = prev, cur
    return prev[m]


def align(read: str, marked: str) -> tuple[float, list[str]]:
    """Weighted optimal-string-alignment of the serial as read against the serial
    as marked (both normalised): the cost and one phrase per edit, positions
    counted in the marked serial (1-based)."""
    w = _weights()
    sub_cost, tra_cost, lookalikes = w.substitution, w.transposition, w.lookalikes
    n, m = len(read), len(marked)
    del_costs, del_kinds = _gap_costs(marked, w.deletion, w)
    ins_costs, ins_kinds = _gap_costs(read, w.insertion, w)
    inf = float("inf")
    d = [[inf] * (m + 1) for _ in range(n + 1)]
    # back[i][j]: (previous i, previous j, edit) with edit one of "sub", "del",
    # "ins", "tra"; the phrase is written only for the cells on the chosen path.
    back: list[list[tuple | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    d[0][0] = 0.0

    for i in range(n + 1):
        for j in range(m + 1):
            here = d[i][j]
            if here == inf:
                continue
            if i < n and j < m:
                a = read[i]
                c = (lookalikes.get(a) or {a: 0.0}).get(marked[j], sub_cost)
                if here + c < d[i + 1][j + 1]:
                    d[i + 1][j + 1] = here + c
                    back[i + 1][j + 1] = (i, j, "sub")
            if j < m and here + del_costs[j] < d[i][j + 1]:
                d[i][j + 1] = here + del_costs[j]
                back[i][j + 1] = (i, j, "del")
            if i < n and here + ins_costs[i] < d[i + 1][j]:
                d[i + 1][j] = here + ins_costs[i]
                back[i + 1][j] = (i, j, "ins")
            if (
                i + 1 < n
                and j + 1 < m
                and read[i] == marked[j + 1]
                and read[i + 1] == marked[j]
                and read[i] != read[i + 1]
                and here + tra_cost < d[i + 2][j + 2]
            ):
                d[i + 2][j + 2] = here + tra_cost
                back[i + 2][j + 2] = (i, j, "tra")

    def phrase(i: int, j: int, edit: str) -> str:
        if edit == "sub":
            a, b = read[i], marked[j]
            return "" if a == b else f"{b} read as {a} at position {j + 1}"
        if edit == "del":  # marked[j] not read
            ch, kind = marked[j], del_kinds[j]
            if kind == "embedded":
                return f"embedded letter {ch} at position {j + 1} not read"
            if kind == "doubled":
                return f"doubled {ch} at position {j + 1} read once"
            return f"{ch} at position {j + 1} not read"
        if edit == "ins":  # read[i] has no marked character
            ch, kind = read[i], ins_kinds[i]
            where = f"after position {j}" if j else "before position 1"
            if kind == "embedded":
                return f"extra letter {ch} read {where}"
            if kind == "doubled":
                return f"{ch} at position {max(j, 1)} read twice"
            return f"extra {ch} read {where}"
        pair, seen_as = marked[j : j + 2], read[i : i + 2]
        return f"{pair} at positions {j + 1}-{j + 2} read as {seen_as} (transposed)"

    phrases: list[str] = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, edit = back[i][j]
        why = phrase(pi, pj, edit)
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


_DIGITS = "0123456789"
# Probes bound per statement (SQLite's default variable limit is 32,766).
PROBE_CHUNK = 20_000


def _folded_letters() -> str:
    """The letters a folded serial can hold (look-alikes of digits fold away)."""
    folded = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".translate(lookalike_fold_table())
    return "".join(sorted({ch for ch in folded if ch.isalpha()}))


def _alphabet(conn: sqlite3.Connection, fold: str) -> str:
    """Every character a stored folded serial may hold: digits, the folded Latin
    letters, the registry's other serial characters (Greek, Cyrillic: table
    ``serial_characters``, filled by the importer) and the query's own."""
    extra = "".join(r[0] for r in conn.execute("SELECT ch FROM serial_characters"))
    return "".join(sorted(set(_DIGITS + _folded_letters() + extra + fold)))


def _one_edit_folds(fold: str, alphabet: str) -> set[str]:
    """Every folded serial one edit from ``fold``: a character substituted, a
    character the reading missed, an extra character read, two neighbours
    swapped. Trace seeks each of them in the fold index (about 700 seeks for a
    nine-character serial)."""
    out: set[str] = set()
    for i in range(len(fold) + 1):
        head, tail = fold[:i], fold[i:]
        out.update(head + ch + tail for ch in alphabet)  # the reading missed one
        if tail:
            out.add(head + tail[1:])  # an extra character read
            out.update(head + ch + tail[1:] for ch in alphabet if ch != tail[0])
            if len(tail) > 1 and tail[0] != tail[1]:
                out.add(head + tail[1] + tail[0] + tail[2:])
    out.discard(fold)
    return out


def _same_class(ch: str, letters: str) -> str:
    return _DIGITS if ch.isdigit() else letters


def _two_edit_folds(fold: str) -> set[str]:
    """Folded serials two edits from ``fold`` that real misreadings produce and
    one edit does not reach, each substitution digit for digit or letter for
    letter: two characters keyed wrongly, and a wrong character beside an
    extra one read (a struck-twice digit and a misread one)."""
    letters = _folded_letters()

    def others(text: str) -> list[list[str]]:
        return [[c for c in _same_class(ch, letters) if c != ch] for ch in text]

    alternatives = others(fold)
    out: set[str] = set()
    for p in range(len(fold)):
        heads = [fold[:p] + a for a in alternatives[p]]
        for q in range(p + 1, len(fold)):
            middle, rest = fold[p + 1 : q], fold[q + 1 :]
            tails = [middle + b + rest for b in alternatives[q]]
            out.update(h + t for h in heads for t in tails)
    for d in range(len(fold)):
        shorter = fold[:d] + fold[d + 1 :]
        for p, choices in enumerate(others(shorter)):
            head, rest = shorter[:p], shorter[p + 1 :]
            out.update(head + b + rest for b in choices)
    out.discard(fold)
    return out


def _padded(key: str) -> list[str]:
    """``key`` and ``key`` behind up to four leading zeros (leading-zero folding)."""
    stripped = fold_leading_zeros(key)
    return sorted({key, stripped, *("0" * k + stripped for k in range(1, 5))})


def _chunks(values, size: int = PROBE_CHUNK):
    values = sorted(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _direct_and_fuzzy(
    conn: sqlite3.Connection,
    query: str,
    norm: str,
    narrow: Narrowing,
    want: int = 20,
    bounded: list[bool] | None = None,
) -> tuple[dict[int, Candidate], dict[int, str]]:
    """Exact, normalised, confusable and fuzzy candidates, and the serials (as
    normalised) of the ones whose ``why`` is still to be written: scoring needs
    only the alignment's cost; its phrases are written for the candidates the
    trace returns (:func:`_explain`)."""
    rules = load_serial_rules()
    max_edits = int(rules.fuzzy.get("max_edits", 2))
    _, fold, _ = serial_keys(norm)
    skel = skeleton_of_norm(norm)
    found: dict[int, Candidate] = {}
    unexplained: dict[int, str] = {}

    padded = _padded(norm)
    direct = _fetch(conn, *norm_seek(padded), narrow, bounded=bounded)
    for row in direct:
        if row.serial.strip() == query.strip():
            found[row.id] = _candidate(
                row, "exact", rules.scores.get("exact", 1.0), "serial as marked"
            )
        else:
            why = "equal after case, space and dash folding"
            if row.norm != norm:
                why = "equal after case, separator and leading-zero folding"
            found[row.id] = _candidate(row, "normalized", rules.scores.get("normalized", 0.99), why)
    for candidate in former_serial_candidates(conn, query, norm, padded, narrow):
        found.setdefault(candidate.component_id, candidate)
    if len(found) >= want:
        # Exact and normalised hits rank first and already fill the limit: no
        # look-alike or fuzzy candidate could be returned.
        if bounded is not None:
            bounded.append(True)
        return found, unexplained

    from rapidfuzz.distance import OSA  # lazy: only a search that goes fuzzy needs it

    # Everything else is verified by the weighted alignment.
    folds = fold_alternatives(norm)
    skeletons = _padded(skel)
    pools: list[tuple[str, list]] = [
        ("c.serial_fold IN " + _in_list(folds), folds),
        ("c.serial_skel_stored = ?", [skel]),
        ("c.serial_fold IN " + _in_list(skeletons), skeletons),
    ]
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
            match = "confusable" if same_fold or same_skel else "fuzzy"
            found[row.id] = _candidate(row, match, _score(align_cost(norm, row.norm)), "")
            unexplained[row.id] = row.norm

    def seek(probes) -> None:
        for chunk in _chunks(probes):
            examine(
                _fetch(
                    conn,
                    "c.serial_fold IN " + _in_list(chunk),
                    chunk,
                    narrow,
                    bounded=bounded,
                )
            )

    for where, params in pools:
        examine(_fetch(conn, where, params, narrow, bounded=bounded))
    if max_edits > 0 and fold:
        near = _one_edit_folds(fold, _alphabet(conn, fold))
        if max_edits >= 2:  # two extra characters read
            near |= {d for d in _deletions(fold, 2) if len(d) == len(fold) - 2}
        seek(near)
    read_as_marked = any(c.match in ("exact", "normalized") for c in found.values())
    if max_edits >= 2 and len(found) < want and len(fold) >= 4 and not read_as_marked:
        # Room left after the one-edit candidates, and no record carries the serial
        # as read: two edits as misreadings make them (about 5,000 seeks).
        seek(_two_edit_folds(fold))
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
                narrow,
                cap=ANCHOR_ROWS,
                bounded=bounded,
            )
        )
        examine(
            _fetch(
                conn,
                "c.id IN (SELECT component_id FROM serial_suffixes WHERE reversed >= ? AND "
                f"reversed < ? LIMIT {ANCHOR_ROWS}) AND length(c.serial_fold) BETWEEN ? AND ?",
                [suffix, suffix + _TOP, *lengths],
                narrow,
                cap=ANCHOR_ROWS,
                bounded=bounded,
            )
        )
    return found, unexplained


def former_serial_candidates(
    conn: sqlite3.Connection, query: str, norm: str, padded: list[str], narrow: Narrowing
) -> list[Candidate]:
    """Components whose serial was corrected from one equal to the query (table
    ``serial_changes``): a trace of the old serial still finds them, saying so."""
    changes = conn.execute(
        "SELECT component_id, old_serial, new_serial, changed_at, reason FROM serial_changes "
        f"WHERE old_norm IN {_in_list(padded)} ORDER BY id",
        padded,
    ).fetchall()
    if not changes:
        return []
    ids = sorted({c[0] for c in changes})
    rows = {r.id: r for r in _fetch(conn, f"c.id IN {_in_list(ids)}", ids, narrow)}
    rules = load_serial_rules()
    out = []
    for cid, old, new, when, reason in changes:
        row = rows.get(cid)
        if row is None:
            continue
        exact = old.strip() == query.strip()
        match, score = ("exact", 1.0) if exact else ("normalized", 0.99)
        why = (
            f"recorded as {old} until {when[:10]}, when the serial was corrected to {new}"
            f" ({reason})"
        )
        out.append(_candidate(row, match, rules.scores.get(match, score), why))
    return out


def _explain(norm: str, marked: str, match: str) -> str:
    """The ``why`` of a confusable or fuzzy candidate: one phrase per edit."""
    _, phrases = align(norm, marked)
    if match == "confusable" and not phrases:
        phrases = ["equal after look-alike and leading-zero folding"]
    return "; ".join(phrases)


def _glob_escape(literal: str) -> str:
    return "".join(f"[{ch}]" if ch in "[]" else ch for ch in literal)


def _wildcard(
    conn: sqlite3.Connection,
    norm: str,
    narrow: Narrowing,
    bounded: list[bool] | None = None,
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
        (scanned,) = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM components LIMIT ?)", (max_scan + 1,)
        ).fetchone()
        if bounded is not None and scanned > max_scan:
            bounded.append(True)
    regex = re.compile(
        "".join(
            "(.)" if ch == "?" else "(.*)" if ch == "*" else f"({re.escape(ch)})" for ch in folded
        )
    )
    unknown_cost = rules.scores.get("wildcard_unknown", 0.05)
    run_cost = rules.scores.get("wildcard_run", 0.1)
    empty_run_cost = rules.scores.get("wildcard_empty_run", 0.3)
    found: dict[int, Candidate] = {}
    for row in _fetch(conn, where, params, narrow, bounded=bounded):
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
    return Candidate(
        row.id, row.serial, row.maker, row.kind, match, score, why, record=row.described
    )


# How many leading parts of rank_key two candidates must share to be tied: the
# data cannot rank them apart.
TIE_PARTS = 3


def rank_key(c: Candidate) -> tuple:
    """Exact, then normalised, then everything else by score; at equal score the
    record that confirms more of the description given first; ties by serial."""
    return (
        min(MATCH_RANK[c.match], 2),
        -c.score,
        -c.agreement,
        c.serial,
        c.manufacturer,
        c.component_id,
    )


@dataclass
class Search:
    """The candidates a trace returns, and what the limit left out.

    ``more`` candidates were found beyond the limit; ``more_tied`` of them score
    exactly as well as the last one returned, so the data cannot rank them
    apart from it (a dense run of serials behind an obliterated digit).
    ``complete`` is False when a search bound stopped the search early: then
    both counts are lower bounds.
    """

    candidates: list[Candidate]
    more: int = 0
    more_tied: int = 0
    complete: bool = True


def find_candidates(conn: sqlite3.Connection, query: str, **options: Any) -> list[Candidate]:
    """Registry components ``query`` could be, ranked best first: :func:`search`
    with the same keyword options, without the counts of those left out."""
    return search(conn, query, **options).candidates


def limited(ranked: list[Candidate], limit: int, complete: bool = True) -> Search:
    """The first ``limit`` of ``ranked`` and what the limit left out: how many,
    and how many of those tie with the last one shown."""
    result = Search(ranked, complete=complete)
    if limit and 0 < limit < len(ranked):
        result.candidates, rest = ranked[:limit], ranked[limit:]
        last = rank_key(ranked[limit - 1])[:TIE_PARTS]
        result.more = len(rest)
        result.more_tied = sum(1 for c in rest if rank_key(c)[:TIE_PARTS] == last)
    return result


def judge_description(candidates: Iterable[Candidate], description: Description | None) -> None:
    """Each candidate's agreement with the description (for ranking and ``why``)."""
    if description is None:
        return
    for candidate in candidates:
        candidate.agreement, candidate.description = description.judge(candidate.record)


def narrowing(
    conn: sqlite3.Connection,
    manufacturer: str | None,
    component: str | None,
    description: Description | None,
) -> Narrowing | None:
    """The narrowing the filters ask for, ready to search with; None when no
    record can pass it (no maker known by that name)."""
    narrow = Narrowing(component=component, description=description)
    if manufacturer:
        narrow.maker_ids = _maker_ids(conn, manufacturer)
        if not narrow.maker_ids:
            return None
    if description is not None:
        description.prepare(conn)
    return narrow


def search(
    conn: sqlite3.Connection,
    query: str,
    *,
    manufacturer: str | None = None,
    component: str | None = None,
    description: Description | None = None,
    limit: int = 20,
) -> Search:
    """Registry components ``query`` could be, ranked best first, with counts of
    those the limit left out.

    ``query`` may hold ``?`` (one unreadable character) and ``*`` (any run).
    ``manufacturer`` (any spelling or alias), ``component`` and ``description``
    (:mod:`firetrace.registry.description`: a filter that keeps records that do
    not contradict it, and a hint that ranks those confirming it first) narrow
    the search. The search's SQLite work is bounded in time
    (:data:`SEARCH_SECONDS`): past it the candidates found so far come back with
    ``complete`` False.
    """
    with _time_bound(conn):
        try:
            return _search(conn, query, manufacturer, component, description, limit)
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            return Search([], complete=False)


def _search(
    conn: sqlite3.Connection,
    query: str,
    manufacturer: str | None,
    component: str | None,
    description: Description | None,
    limit: int,
) -> Search:
    norm = normalize_serial(query)
    if not norm or not norm.strip(WILDCARDS):
        return Search([])
    narrow = narrowing(conn, manufacturer, component, description)
    if narrow is None:
        return Search([])
    unexplained: dict[int, str] = {}
    bounded: list[bool] = []
    if any(ch in norm for ch in WILDCARDS):
        found = _wildcard(conn, norm, narrow, bounded)
    else:
        want = limit if limit and limit > 0 else MAX_EXAMINED
        found, unexplained = _direct_and_fuzzy(conn, query, norm, narrow, want, bounded)
    judge_description(found.values(), description)
    result = limited(sorted(found.values(), key=rank_key), limit, complete=not bounded)
    for candidate in result.candidates:
        marked = unexplained.get(candidate.component_id)
        if marked is not None:
            candidate.why = _explain(norm, marked, candidate.match)
    return result
