"""One streamed pass over the registry's serials for ``dupes``: blocking keys,
transposition pairs by hashing, and production runs (expected numbering).

Nothing here compares all pairs and nothing keeps a Python object per record.
:func:`scan` reads the compared components once, in chunks, into numpy arrays
(about 60 bytes a record plus the folded serial's characters, one byte each for
Latin serials):

* a hash of each serial's look-alike key with leading zeros folded, and of its
  skeleton within its maker: records sharing one with another record are the
  only ones the key kinds (exact, normalized, confusable, cross_manufacturer,
  embedded_letter, model_as_serial) ever look at (:func:`blocked_ids`);
* a polynomial hash of (maker, folded serial): swapping two adjacent characters
  changes it by a closed-form amount, so every swap of every serial is one
  vectorised update and one sorted lookup per position
  (:func:`transposition_pairs`);
* the serial's *template* (its characters with each digit as ``#``) and its
  *number* (its digits read as one integer), with its model and year: sorted by
  (maker, template, number), each record can see whether its maker also
  recorded a serial within :data:`RUN_GAP` numbers of it with the same model and
  year (:func:`in_run`).

**Expected numbering.** A maker numbers its production consecutively, so two
legitimately made firearms can carry serials one adjacent swap or one edit apart
(``AB405501`` / ``AB405510``). A pair is *expected numbering* when both of its
serials are regular members of a production run: each has a neighbouring serial
of its maker (same template, within :data:`RUN_GAP`) with the same model and the
same year of manufacture (unknown equals unknown). That covers the two serials in
one run and in two runs of different years alike; a keyed-in error leaves one
of the two with no such neighbour, or with neighbours of another model or year,
and stays a duplicate. The import hook applies the same rule through index
seeks (:func:`neighbour_folds`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# Neighbours within this many numbers make a production run (missing serials
# between two recorded ones: one exported, one not yet registered).
RUN_GAP = 2
_HASH_BASE = 0x9E3779B97F4A7C15  # odd 64-bit multiplier (golden-ratio constant)
_CHUNK = 200_000
_DIGIT_MARK = ord("#")


@dataclass
class Scan:
    """The compared records, one entry per record in every array (ids ascending)."""

    ids: np.ndarray  # int64
    makers: np.ndarray  # int64
    key_hash: np.ndarray  # int64: look-alike key, leading zeros folded (any maker)
    skel_hash: np.ndarray  # int64: (maker, skeleton)
    embedded: np.ndarray  # bool: the skeleton differs from the key
    swap_hash: np.ndarray  # uint64: (maker, folded serial), position-weighted
    template: np.ndarray  # uint64: hash of the template
    number: np.ndarray  # uint64: the serial's digits as a number
    model: np.ndarray  # int32 code (0: unknown)
    year: np.ndarray  # int32 (0: unknown)
    char_parts: list  # per chunk: (first index, characters as an n x width matrix)

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, ids) -> np.ndarray:
        """Positions of ``ids`` (which must be present) in the arrays."""
        return np.searchsorted(self.ids, np.asarray(ids, dtype=np.int64))


def _powers(width: int) -> np.ndarray:
    """Position weights B**(k+1) for k < width (B**0 weighs the maker): the same
    weights whatever the chunk's width, so hashes agree across chunks."""
    powers = np.ones(width + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for k in range(1, width + 1):
            powers[k] = powers[k - 1] * np.uint64(_HASH_BASE)
    return powers[1:]


def _char_matrix(folds: list[str]) -> np.ndarray:
    width = max(1, max(map(len, folds)))
    arr = np.array(folds, dtype=f"U{width}")
    return arr.view(np.uint32).reshape(len(folds), width).astype(np.uint64)


def _weighted(chars: np.ndarray, powers: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (chars * powers[: chars.shape[1]]).sum(axis=1, dtype=np.uint64)


def _numbers(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(template weights' input, number) of each row: digits as ``#`` / the
    digits read as one integer (modulo 2**64 beyond 19 digits)."""
    digit = (chars >= 48) & (chars <= 57)
    template = np.where(digit, np.uint64(_DIGIT_MARK), chars)
    # Each digit's power of ten: how many digits stand to its right.
    right = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - digit
    tens = np.power(np.uint64(10), np.minimum(right, 19).astype(np.uint64))
    with np.errstate(over="ignore"):
        number = np.where(digit, (chars - np.uint64(48)) * tens, np.uint64(0)).sum(
            axis=1, dtype=np.uint64
        )
    return template, number


def scan(
    conn: sqlite3.Connection,
    where: str,
    params: Iterable,
    *,
    exclude: np.ndarray | None = None,
    fold_zeros: bool = True,
    chunk: int = _CHUNK,
) -> Scan:
    """Stream the components matching ``where`` into a :class:`Scan` (``exclude``:
    sorted ids to leave out, e.g. records only withdrawn batches speak of)."""
    # Each component's model and year by its description (schema 10): a few
    # thousand rows read once, not two look-ups a component.
    described = {
        row[0]: row[1:]
        for row in conn.execute("SELECT id, model, year_of_manufacture FROM descriptions")
    }
    cursor = conn.execute(
        "SELECT id, maker_id, serial_fold, serial_skel_stored, description_id "
        f"FROM components WHERE {where} ORDER BY id",
        list(params),
    )
    models: dict[str, int] = {}
    parts: dict[str, list] = {name: [] for name in Scan.__dataclass_fields__}
    parts.pop("char_parts")
    char_parts = []
    powers = _powers(64)
    total = 0
    while rows := cursor.fetchmany(chunk):
        if exclude is not None and len(exclude):
            ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            at = np.minimum(np.searchsorted(exclude, ids), len(exclude) - 1)
            keep = exclude[at] != ids
            rows = [r for r, k in zip(rows, keep.tolist(), strict=True) if k]
            if not rows:
                continue
        n = len(rows)
        folds = [r[2] for r in rows]
        zero_folded = [f.lstrip("0") or f[:1] for f in folds] if fold_zeros else folds
        parts["ids"].append(np.fromiter((r[0] for r in rows), np.int64, n))
        makers = np.fromiter((r[1] for r in rows), np.int64, n)
        parts["makers"].append(makers)
        parts["key_hash"].append(np.fromiter(map(hash, zero_folded), np.int64, n))
        parts["skel_hash"].append(
            np.fromiter(
                (
                    hash((r[1], r[3] if r[3] is not None else z))
                    for r, z in zip(rows, zero_folded, strict=True)
                ),
                np.int64,
                n,
            )
        )
        parts["embedded"].append(np.fromiter((r[3] is not None for r in rows), bool, n))
        model_year = [described[r[4]] for r in rows]
        parts["model"].append(
            np.fromiter(
                (0 if m is None else models.setdefault(m, len(models) + 1) for m, _ in model_year),
                np.int32,
                n,
            )
        )
        parts["year"].append(np.fromiter((y or 0 for _, y in model_year), np.int32, n))
        chars = _char_matrix(folds)
        if chars.shape[1] > len(powers):
            powers = _powers(chars.shape[1])
        with np.errstate(over="ignore"):
            parts["swap_hash"].append(makers.astype(np.uint64) + _weighted(chars, powers))
        template, number = _numbers(chars)
        parts["template"].append(_weighted(template, powers))
        parts["number"].append(number)
        small = chars.max(initial=0) < 256
        char_parts.append((total, chars.astype(np.uint8 if small else np.uint32)))
        total += n
    empty = {
        "ids": np.int64,
        "makers": np.int64,
        "key_hash": np.int64,
        "skel_hash": np.int64,
        "embedded": bool,
        "swap_hash": np.uint64,
        "template": np.uint64,
        "number": np.uint64,
        "model": np.int32,
        "year": np.int32,
    }
    arrays = {
        name: np.concatenate(chunks) if chunks else np.zeros(0, dtype=empty[name])
        for name, chunks in parts.items()
    }
    return Scan(**arrays, char_parts=char_parts)


def _shared(keys: np.ndarray) -> np.ndarray:
    """Boolean mask: the key occurs more than once."""
    if len(keys) == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    same = ordered[1:] == ordered[:-1]
    mask = np.zeros(len(keys), dtype=bool)
    mask[order[1:][same]] = True
    mask[order[:-1][same]] = True
    return mask


def blocked_ids(found: Scan, *, skeletons: bool = True) -> np.ndarray:
    """Ids of records sharing a look-alike key (any maker) with another record, or
    (``skeletons``) a skeleton within their maker where one of them has letters
    between digits: the only candidates of the key kinds."""
    mask = _shared(found.key_hash)
    if skeletons and found.embedded.any():
        keys = found.skel_hash
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, len(ordered)])
        embedded = np.add.reduceat(found.embedded[order].astype(np.int64), starts)
        wanted = np.repeat((sizes > 1) & (embedded > 0), sizes)
        mask[order[wanted]] = True
    return found.ids[mask]


@dataclass
class Pairs:
    """Transposition pairs: scan positions of each side, swap position, and
    whether both sides are regular members of production runs (expected)."""

    a: np.ndarray  # int64 positions in the scan
    b: np.ndarray
    position: np.ndarray  # int16: characters position, position + 1 swapped
    expected: np.ndarray  # bool
    expected_count: int  # every expected pair, kept or not


def transposition_pairs(
    found: Scan, run_member: np.ndarray | None = None, *, keep_expected: bool = True
) -> Pairs:
    """Every pair of records whose (maker, folded serial) hashes are one adjacent
    swap apart, each pair once, classified by ``run_member`` (:func:`in_run`) as
    they are found; without ``keep_expected`` the expected ones are only counted,
    so memory holds the pairs a person will see. The caller verifies the pairs
    it lists on the strings (a 64-bit collision among a registry's serials is
    vanishingly unlikely, so counts use the hits as they are)."""
    none = Pairs(*(np.zeros(0, t) for t in (np.int64, np.int64, np.int16, bool)), 0)
    if len(found) < 2:
        return none
    width = max(chars.shape[1] for _, chars in found.char_parts)
    powers = _powers(width)
    order = np.argsort(found.swap_hash)
    table = found.swap_hash[order]
    kept: list[tuple] = []
    expected_count = 0
    for start, chars in found.char_parts:
        n = len(chars)
        base = found.swap_hash[start : start + n]
        chars = chars.astype(np.uint64)
        for i in range(chars.shape[1] - 1):
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
            side_a = np.repeat(start + mask[by_value[hit]], counts)
            starts = np.repeat(lo[hit], counts)
            within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            side_b = order[starts + within]
            expected = (
                run_member[side_a] & run_member[side_b]
                if run_member is not None
                else np.zeros(len(side_a), bool)
            )
            expected_count += int(expected.sum())
            if not keep_expected:
                side_a, side_b, expected = side_a[~expected], side_b[~expected], expected[~expected]
            kept.append((side_a, side_b, np.full(len(side_a), i, dtype=np.int16), expected))
    if not kept:
        return Pairs(none.a, none.b, none.position, none.expected, expected_count)
    return Pairs(*(np.concatenate(part) for part in zip(*kept, strict=True)), expected_count)


def in_run(found: Scan, gap: int = RUN_GAP) -> np.ndarray:
    """Boolean per record: a serial of its maker with the same template lies
    within ``gap`` numbers of it (and is not the same number) with the same model
    and year: the record is a regular member of a production run.

    Each record's (maker, template, model, year) and number are mixed into one
    64-bit key, so "a record ``d`` numbers away with everything else equal" is one
    sorted lookup of the key moved by ``d`` steps (a false hit needs a 64-bit
    collision)."""
    member = np.zeros(len(found), dtype=bool)
    if len(found) < 2:
        return member
    mix = [np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F),
           np.uint64(0x165667B19E3779F9), np.uint64(0x27D4EB2F165667C5)]  # fmt: skip
    step = np.uint64(0xFF51AFD7ED558CCD)
    with np.errstate(over="ignore"):
        key = (
            found.makers.astype(np.uint64) * mix[0]
            + found.template * mix[1]
            + found.model.astype(np.uint64) * mix[2]
            + found.year.astype(np.uint64) * mix[3]
            + found.number * step
        )
    table = np.sort(key)
    for d in range(1, gap + 1):
        with np.errstate(over="ignore"):
            moved = np.uint64(d) * step
            for probe in (key + moved, key - moved):
                at = np.minimum(np.searchsorted(table, probe), len(table) - 1)
                member |= table[at] == probe
    return member


def neighbour_folds(fold: str, gap: int = RUN_GAP) -> list[str]:
    """The folded serials within ``gap`` numbers of ``fold`` with its template (the
    same digit positions, each number written with as many digits): what
    :func:`in_run` compares, for the import hook's index seeks."""
    positions = [i for i, ch in enumerate(fold) if "0" <= ch <= "9"]
    if not positions:
        return []
    value = int("".join(fold[i] for i in positions))
    out = []
    for step in range(-gap, gap + 1):
        other = value + step
        if step == 0 or other < 0 or other >= 10 ** len(positions):
            continue
        digits = f"{other:0{len(positions)}d}"
        chars = list(fold)
        for i, d in zip(positions, digits, strict=True):
            chars[i] = d
        out.append("".join(chars))
    return out
