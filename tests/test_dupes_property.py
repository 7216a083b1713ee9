"""Property: on random registries of a few thousand serials with planted
duplicates of every kind, ``find_duplicates`` (blocking, hashing, deletion
neighbourhoods) finds exactly the groups that a brute-force all-pairs rapidfuzz
comparison finds."""

from __future__ import annotations

import random
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein
from test_serials_index import make_registry

from firetrace.registry.dupes import KINDS, find_duplicates
from firetrace.serials.normalize import fold_leading_zeros, normalize_serial

MAKERS = ("Acme", "Glock", "Beretta", "Walther")
FORMATS = ("PP#####", "P####", "##L###", "000#####", "##-####")


def _serial(rng: random.Random, fmt: str, number: int) -> str:
    digits = f"{number:0{fmt.count('#')}d}"
    out, k = [], 0
    for ch in fmt:
        if ch == "#":
            out.append(digits[k])
            k += 1
        elif ch == "P":
            out.append(rng.choice("ABKXRW"))
        elif ch == "L":
            out.append(rng.choice("ACHJK"))
        else:
            out.append(ch)
    return "".join(out)


def _plant(rng: random.Random, kind: str, base: tuple) -> list[tuple] | None:
    """Records that duplicate ``base`` in the way ``kind`` names, or None."""
    maker, serial, ctype = base
    if kind == "exact":
        return [(maker, serial, "receiver", ctype)]
    if kind == "cross_manufacturer":
        return [(rng.choice([m for m in MAKERS if m != maker]), serial, "frame", ctype)]
    if kind == "normalized":
        return [(maker, "0" + serial.lower(), "frame", ctype)]
    if kind == "confusable":
        swaps = {"0": "O", "1": "I", "5": "S", "8": "B", "B": "8", "6": "G"}
        spots = [i for i, ch in enumerate(serial) if ch in swaps]
        if not spots:
            return None
        i = rng.choice(spots)
        return [(maker, serial[:i] + swaps[serial[i]] + serial[i + 1 :], "frame", ctype)]
    if kind == "embedded_letter":
        spots = [i for i in range(1, len(serial)) if serial[i - 1 : i + 1].isdigit()]
        if not spots:
            return None
        i = rng.choice(spots)
        return [(maker, serial[:i] + "X" + serial[i:], "frame", ctype)]
    if kind == "transposition":
        spots = [i for i in range(len(serial) - 1) if serial[i] != serial[i + 1]]
        if not spots:
            return None
        i = rng.choice(spots)
        return [(maker, serial[:i] + serial[i + 1] + serial[i] + serial[i + 2 :], "frame", ctype)]
    if kind == "edit":
        spots = [i for i, ch in enumerate(serial) if ch.isdigit()]
        i = rng.choice(spots)
        digit = rng.choice([d for d in string.digits if d != serial[i]])
        return [(maker, serial[:i] + digit + serial[i + 1 :], "frame", ctype)]
    if kind == "model_as_serial":
        model = f"M{rng.randrange(90)}"
        return [(maker, model, k, ctype, model) for k in ("frame", "receiver", "lower_receiver")]
    raise ValueError(kind)


def random_registry(seed: int, size: int, plants: int) -> list[tuple]:
    rng = random.Random(seed)
    base: list[tuple] = []
    for maker in MAKERS:
        fmt = rng.choice(FORMATS)
        number = rng.randrange(10**4)
        for _ in range(size // len(MAKERS)):
            number += 1 if rng.random() < 0.7 else rng.randrange(2, 500)
            base.append((maker, _serial(rng, fmt, number % 10 ** fmt.count("#")), "frame"))
    records = list(base)
    for kind in KINDS:
        made = 0
        while made < plants:
            m, s, _k = rng.choice(base)
            planted = _plant(rng, kind, (m, s, "pistol"))
            if planted:
                records += planted
                made += 1
    # The registry refuses two records with one maker, kind and normalised serial.
    seen, unique = set(), []
    for rec in records:
        key = (rec[0], rec[2], normalize_serial(rec[1]))
        if key not in seen:
            seen.add(key)
            unique.append(rec)
    return unique


def _classes(equal: np.ndarray) -> list[list[int]]:
    """Connected classes of an equality matrix (it is transitive: a partition)."""
    seen, out = set(), []
    for i in range(len(equal)):
        if i in seen:
            continue
        members = np.nonzero(equal[i])[0].tolist()
        seen.update(members)
        if len(members) > 1:
            out.append(members)
    return out


def brute_force(rows: list[dict], max_distance: int) -> dict[str, set[frozenset]]:
    """Every group by comparing all pairs with rapidfuzz, no blocking."""
    ids = [r["id"] for r in rows]
    makers = np.array([r["maker"] for r in rows])
    same_maker = makers[:, None] == makers[None, :]

    def equal(attr):
        keys = [r[attr] for r in rows]
        return process.cdist(keys, keys, scorer=Levenshtein.distance, workers=1) == 0

    raw, norm0, fold0, skel = (equal(a) for a in ("raw", "norm0", "fold0", "skel"))
    folds = [r["fold"] for r in rows]
    lev = process.cdist(folds, folds, scorer=Levenshtein.distance, workers=1)
    osa = process.cdist(folds, folds, scorer=OSA.distance, workers=1)
    types = np.array([r["type"] or "" for r in rows])
    groups: dict[str, set[frozenset]] = {k: set() for k in KINDS}

    def add(kind, members):
        groups[kind].add(frozenset(ids[i] for i in members))

    def distinct(members, attr):
        return len({rows[i][attr] for i in members})

    for c in _classes(raw & same_maker):
        add("exact", c)
    for c in _classes(norm0 & same_maker):
        if distinct(c, "raw") > 1:
            add("normalized", c)
    for c in _classes(fold0 & same_maker):
        if distinct(c, "norm0") > 1:
            add("confusable", c)
    for c in _classes(skel & same_maker):
        if distinct(c, "fold0") > 1:
            add("embedded_letter", c)
    for c in _classes(norm0):
        if distinct(c, "maker") > 1:
            add("cross_manufacturer", c)
    for c in _classes(norm0 & same_maker & (types[:, None] == types[None, :])):
        if len(c) >= 3:
            add("model_as_serial", c)
    by_model: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        if r["model"] and r["norm"] == normalize_serial(r["model"]):
            by_model.setdefault((r["maker"], r["norm"]), []).append(i)
    for members in by_model.values():
        add("model_as_serial", members)
    fold_equal = equal("fold")
    transposed = (osa == 1) & (lev == 2)
    near = (lev <= max_distance) & ~transposed
    for kind, relation in (("transposition", transposed), ("edit", near)):
        pairs = np.argwhere(relation & same_maker & ~fold0 & ~fold_equal)
        for i, j in pairs.tolist():
            if i < j:
                add(kind, np.nonzero(same_maker[i] & (fold_equal[i] | fold_equal[j]))[0])
    return groups


def brute_force_in_run(rows: list[dict]) -> dict[int, bool]:
    """The run rule by hand: a serial of the same maker and template (digits as #)
    within 2 numbers of it (not equal), with the same model and year."""
    from collections import defaultdict

    def template_and_number(fold: str) -> tuple[str, int | None]:
        digits = "".join(ch for ch in fold if ch.isdigit())
        return "".join("#" if ch.isdigit() else ch for ch in fold), int(digits) if digits else None

    at: dict[tuple, list] = defaultdict(list)
    for r in rows:
        template, number = template_and_number(r["fold"])
        at[(r["maker"], template, number)].append((r["model"], r["year"]))
    out = {}
    for r in rows:
        template, number = template_and_number(r["fold"])
        out[r["id"]] = number is not None and any(
            (r["model"], r["year"]) in at.get((r["maker"], template, number + step), [])
            for step in (-2, -1, 1, 2)
        )
    return out


def _rows(conn) -> list[dict]:
    rows = []
    for cid, maker, serial, norm, fold, skel, ftype, model, year in conn.execute(
        "SELECT id, maker_id, serial, serial_norm, serial_fold, serial_skel, type, model, "
        "year_of_manufacture FROM components WHERE control = 1"
    ):
        rows.append(
            dict(
                id=cid,
                maker=maker,
                raw=serial.strip(),
                norm=norm,
                fold=fold,
                skel=skel,
                norm0=fold_leading_zeros(norm),
                fold0=fold_leading_zeros(fold),
                type=ftype,
                model=model,
                year=year,
            )  # fmt: skip
        )
    return rows


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1500, 2500),
    plants=st.integers(3, 12),
    max_distance=st.sampled_from((1, 2)),
)
def test_dupes_equal_brute_force(tmp_path_factory, seed, size, plants, max_distance):
    path = tmp_path_factory.mktemp("reg") / "registry.db"
    records = random_registry(seed, size, plants)
    rows = [(*r[:3], r[3] if len(r) > 3 else "pistol", *r[4:5]) for r in records]
    conn = make_registry(path, rows, makers=MAKERS)
    report = find_duplicates(conn, kinds=KINDS, max_distance=max_distance, include_expected=True)
    found: dict[str, set[frozenset]] = {k: set() for k in KINDS}
    for g in report.groups:
        found[g.kind].add(frozenset(m.id for m in g.members))
    rows = _rows(conn)
    expected = brute_force(rows, max_distance)
    for kind in KINDS:
        assert found[kind] == expected[kind], kind
    # Every kind was planted, so every kind is found.
    assert all(found[k] for k in KINDS)
    # Expected numbering is exactly the groups whose serials all sit in runs.
    in_run = brute_force_in_run(rows)
    for g in report.groups:
        if g.kind in ("transposition", "edit"):
            assert g.expected == all(in_run[m.id] for m in g.members), g.detail
        else:
            assert not g.expected
    # The default report lists the same groups less the expected numbering.
    default = find_duplicates(conn, kinds=KINDS, max_distance=max_distance)
    assert {(g.kind, frozenset(m.id for m in g.members)) for g in default.groups} == {
        (g.kind, frozenset(m.id for m in g.members)) for g in report.groups if not g.expected
    }


def test_brute_force_reference_sees_a_planted_transposition(db_path):
    conn = make_registry(db_path, [("Acme", "AB12345"), ("Acme", "AB12354"), ("Glock", "AB21345")])
    expected = brute_force(_rows(conn), 1)
    assert expected["transposition"] == {frozenset({1, 2})}
    assert expected["cross_manufacturer"] == set()
