"""The exact scores, reasons, details and order of ``dupes`` groups (issue 17.8):
:func:`rank` on groups built by hand, one branch at a time (each kind with and
without a disagreeing description, urgent statuses, expected numbering, the
serial weight of a serial shared across makers and its boundaries), the reading
order of equally suspicious groups, the ``--kinds`` parsing, and the whole report
of a small registry: every group, member, detail, reason and statistic."""

from __future__ import annotations

import pytest

from firetrace.errors import UsageError
from firetrace.registry.dupes import (
    DEFAULT_KINDS,
    KINDS,
    DupeGroup,
    Member,
    order_groups,
    parse_kinds,
    rank,
)


def _m(cid, serial, maker="Acme", component="frame", status=None, **described) -> Member:
    member = Member(cid, serial, maker, component, norm=serial, fold=serial, **described)
    member.status = status
    return member


def _ranked(kind, *members, in_run=None, expected=False) -> tuple[float, str]:
    group = rank(DupeGroup(kind, list(members), "", expected=expected), in_run)
    return group.score, group.reason


# --- exact ---------------------------------------------------------------------------


def test_exact_same_component_kind_described_alike_or_not():
    assert _ranked("exact", _m(1, "AB123 "), _m(2, "AB123")) == (
        0.9,
        "2 Acme frames carry serial AB123: one item recorded twice, or two items with one serial",
    )
    three = (_m(1, "AB123", year=2019), _m(2, "AB123", year=2020), _m(3, "AB123", year=2019))
    assert _ranked("exact", *three) == (
        1.0,
        "3 Acme frames carry serial AB123 (made 2019 / 2020): two items with one serial",
    )


def test_exact_on_different_component_kinds():
    assert _ranked("exact", _m(1, "AB123"), _m(2, "AB123", component="receiver")) == (
        0.8,
        "one Acme serial on a frame and receiver",
    )
    members = (
        _m(1, "AB123", model="G17", calibre="9mm"),
        _m(2, "AB123", component="receiver", model="G19", calibre="9mm"),
        _m(3, "AB123", component="frame", country="AT"),
    )
    assert _ranked("exact", *members) == (
        0.8,
        "one Acme serial on a frame and receiver (model G17 / G19)",
    )


def test_every_described_field_is_compared_in_order_and_models_by_their_key():
    a = _m(1, "X1", year=2019, model="92 FS", calibre="9mm", country="IT")
    b = _m(2, "X1", year=2020, model="92fs", calibre=".40 S&W", country="US")
    c = _m(3, "X1", year=None, model="M9", calibre=None, country="US")
    _, reason = _ranked("exact", a, b, c)
    assert reason == (
        "3 Acme frames carry serial X1 (made 2019 / 2020; model 92 FS / 92fs / M9; "
        "calibre 9mm / .40 S&W; made in IT / US): two items with one serial"
    )
    # "92 FS" and "92fs" are one model; missing values disagree with nothing.
    same = (_m(1, "X1", model="92 FS", year=2019), _m(2, "X1", model="92fs", year=None))
    assert _ranked("exact", *same)[0] == 0.9


# --- the folding kinds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "base", "how"),
    [
        ("normalized", 0.85, "written two ways"),
        ("confusable", 0.8, "read two ways (look-alikes)"),
        ("embedded_letter", 0.6, "with and without a letter between digits"),
    ],
)
def test_folding_kinds_with_and_without_a_disagreement(kind, base, how):
    assert _ranked(kind, _m(1, "AB-1"), _m(2, "ab1"), _m(3, "AB-1")) == (
        base,
        f"AB-1 / ab1: one Acme serial {how}: one item recorded twice?",
    )
    score, reason = _ranked(kind, _m(1, "AB-1", calibre="9mm"), _m(2, "ab1", calibre="10mm"))
    assert score == round(base - 0.15, 2)
    assert reason == (
        f"AB-1 / ab1: one Acme serial {how} (calibre 9mm / 10mm): "
        "two items, or one with a wrong description"
    )


def test_model_as_serial():
    assert _ranked("model_as_serial", _m(1, " G17 ", maker="Glock"), _m(2, "G17")) == (
        0.7,
        "G17 looks like a Glock model number, not a serial: check the marking",
    )


# --- one serial, several makers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "score", "said"),
    [
        ("AB1", 0.2, "short serials recur across makers"),  # under 4 characters: weight 0
        ("AB12", 0.2, "short serials recur across makers"),
        ("AB123", 0.26, "short serials recur across makers"),
        ("123456", 0.28, "short serials recur across makers"),  # digits only: 0.7 of the weight
        ("AB12345", 0.38, "short serials recur across makers"),
        ("123456789", 0.4, "short serials recur across makers"),  # weight 0.58
        ("AB123456", 0.43, "a long serial, unlikely by chance"),  # weight 0.67
        ("1234567890", 0.44, "a long serial, unlikely by chance"),  # weight 0.7
        ("AB123456789", 0.55, "a long serial, unlikely by chance"),  # weight capped at 1
        ("ABCDEFGHIJKL", 0.44, "a long serial, unlikely by chance"),  # letters only: 0.7
    ],
)
def test_cross_manufacturer_weight_of_the_serial(serial, score, said):
    members = (_m(1, serial, maker="Acme"), _m(2, serial, maker="Glock"), _m(3, serial))
    assert _ranked("cross_manufacturer", *members) == (
        score,
        f"serial {serial} used by Acme and Glock: {said}",
    )


def test_cross_manufacturer_names_alike_are_one_maker_under_two_names():
    alias = ": perhaps one maker under two names (add an alias to rules/makers.toml)"
    # token_set_ratio("Abcde", "Abcdx") is exactly 80: the threshold counts.
    members = (_m(1, "AB1", maker="Abcde"), _m(2, "AB1", maker="Abcdx"))
    assert _ranked("cross_manufacturer", *members) == (
        0.8,
        "serial AB1 used by Abcde and Abcdx" + alias,
    )
    # Only the third and fourth names are alike: every pair is compared.
    four = (
        _m(1, "AB1", maker="Acme"),
        _m(2, "AB1", maker="Zeta"),
        _m(3, "AB1", maker="Glock"),
        _m(4, "AB1", maker="Glock GmbH"),
    )
    assert _ranked("cross_manufacturer", *four) == (
        0.8,
        "serial AB1 used by Acme and Zeta and Glock and Glock GmbH" + alias,
    )
    # 71: not alike.
    assert _ranked("cross_manufacturer", _m(1, "AB1", maker="Sig Sauer"),
                   _m(2, "AB1", maker="SIG Sauer Inc"))[0] == 0.2  # fmt: skip


# --- transposition and edit ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "what", "plain", "described"),
    [("transposition", "two characters swapped", 0.6, 0.45), ("edit", "a character off", 0.4, 0.3)],
)
def test_numbering_kinds(kind, what, plain, described):
    a, b = _m(1, "KQ12345", year=2020), _m(2, "KQ12354", year=2020)
    assert _ranked(kind, a, b, in_run={1: True, 2: True}) == (
        plain,
        f"KQ12345 / KQ12354: one Acme item keyed twice with {what}?",
    )
    c = _m(2, "KQ12354", year=2017)
    text = f"KQ12345 / KQ12354 with {what} (made 2020 / 2017), a keying error?"
    # The member outside a production run is named ...
    assert _ranked(kind, _m(1, "KQ12345", year=2020), c, in_run={1: False, 2: True}) == (
        described,
        f"KQ12345 has no neighbouring Acme serial of its model and year: {text}",
    )
    # ... a member missing from in_run counts as outside ...
    assert _ranked(kind, _m(1, "KQ12345", year=2020), c, in_run={1: True})[1].startswith("KQ12354 ")
    # ... with both in runs or no run information, the last member.
    for in_run in ({1: True, 2: True}, None):
        assert _ranked(kind, _m(1, "KQ12345", year=2020), c, in_run=in_run) == (
            described,
            f"KQ12354 has no neighbouring Acme serial of its model and year: {text}",
        )
    # Three members all in runs: the last is named.
    d = _m(3, "KQ12354", component="receiver", year=2017)
    assert _ranked(kind, _m(1, "KQ12345", year=2020), c, d, in_run={1: True, 2: True, 3: True})[
        1
    ].startswith("KQ12354 has no neighbouring")
    last = _m(3, "KQ12345", component="receiver", year=2017)
    assert _ranked(kind, _m(1, "KQ12345", year=2020), c, last, in_run={1: True, 2: True, 3: True})[
        1
    ].startswith("KQ12345 has no neighbouring")
    # With no run information every member is stray: the first is named.
    assert _ranked(kind, _m(1, "KQ12345", year=2020), c, in_run={})[1].startswith("KQ12345 ")


def test_expected_numbering_scores_lowest_and_ignores_status():
    members = (_m(1, "BK0012", maker="Glock", status="reported_stolen"), _m(2, "BK0021"))
    assert _ranked("transposition", *members, expected=True) == (
        0.05,
        "expected numbering: each serial sits in a Glock production run "
        "(neighbouring serials of the same model and year)",
    )


def test_urgent_statuses_raise_the_score_and_are_named():
    members = (
        _m(1, "AB123", status="reported_stolen"),
        _m(2, "AB123", component="receiver", status="seized"),
        _m(3, "AB123", component="receiver", status="in_circulation"),
        _m(4, "AB123", component="receiver", status="reported_lost"),
        _m(5, "AB123", component="receiver", status="destroyed"),
    )
    assert _ranked("exact", *members) == (
        0.9,
        "one Acme serial on a frame and receiver; AB123 is reported stolen, AB123 is seized, "
        "AB123 is reported lost",
    )
    # Capped at 1.
    stolen = (_m(1, "AB1", year=2019, status="reported_lost"), _m(2, "AB1", year=2020))
    assert _ranked("exact", *stolen) == (
        1.0,
        "2 Acme frames carry serial AB1 (made 2019 / 2020): two items with one serial; "
        "AB1 is reported lost",
    )
    edit = (_m(1, "AB12"), _m(2, "AB13", status="seized"))
    assert _ranked("edit", *edit, in_run={}) == (
        0.5,
        "AB12 / AB13: one Acme item keyed twice with a character off?; AB13 is seized",
    )


# --- order -------------------------------------------------------------------------------------


def test_order_most_suspicious_then_kind_then_serial_then_ids():
    def group(kind, score, *members):
        return DupeGroup(kind, list(members), kind, score=score)

    groups = [
        group("transposition", 0.6, _m(9, "B2"), _m(8, "B1")),
        group("embedded_letter", 0.6, _m(7, "A9")),
        group("exact", 0.6, _m(6, "C1"), _m(5, "C1", maker="Beretta"), _m(4, "C1")),
        group("exact", 0.6, _m(3, "A1"), _m(2, "A1")),
        group("exact", 0.6, _m(11, "A1"), _m(1, "A1")),
        group("model_as_serial", 0.9, _m(10, "Z1")),
    ]
    ordered = order_groups(groups)
    assert [(g.kind, [m.id for m in g.members]) for g in ordered] == [
        ("model_as_serial", [10]),
        ("exact", [1, 11]),
        ("exact", [2, 3]),
        ("exact", [4, 6, 5]),  # by serial, then maker (Acme before Beretta), then id
        ("embedded_letter", [7]),
        ("transposition", [8, 9]),
    ]


# --- --kinds -----------------------------------------------------------------------------------


def test_parse_kinds():
    assert parse_kinds(None) == list(DEFAULT_KINDS) and "edit" not in DEFAULT_KINDS
    assert parse_kinds("") == list(DEFAULT_KINDS)
    assert parse_kinds(None, max_distance=2) == [*DEFAULT_KINDS, "edit"]
    assert parse_kinds(None, max_distance=0) == [*DEFAULT_KINDS, "edit"]
    assert parse_kinds(" Embedded-Letter, ,EXACT,") == ["embedded_letter", "exact"]
    assert parse_kinds("exact,all") == list(KINDS)
    assert parse_kinds("cross-manufacturer", max_distance=2) == ["cross_manufacturer"]
    with pytest.raises(UsageError) as err:
        parse_kinds("exact,bogus,worse")
    assert str(err.value) == (
        f"--kinds: unknown kind 'bogus' (choose from {', '.join(KINDS)}, all)"
    )


# --- a whole report ---------------------------------------------------------------------------


@pytest.fixture
def registry(db_path):
    from test_dupes import RECORDS
    from test_serials_index import make_registry

    return make_registry(db_path, RECORDS)


def _groups(report):
    return [(g.kind, g.score, [m.id for m in g.members], g.detail, g.reason) for g in report.groups]


def _stats(report):
    return {k: v for k, v in report.stats.items() if not k.endswith("_s")}


def test_the_whole_report_of_a_small_registry(registry):
    from firetrace.registry.dupes import find_duplicates

    report = find_duplicates(registry, audit=False)
    pistols = "records of type pistol: a model number typed as a serial?"
    assert _groups(report) == [
        ("normalized", 0.85, [4, 1, 2, 3],
         "AB123 / ab-123 / 0AB123 equal after case, separator and leading-zero folding (Acme)",
         "AB123 / ab-123 / 0AB123: one Acme serial written two ways: one item recorded twice?"),
        ("exact", 0.8, [1, 2], "serial AB123 recorded 2 times for Acme",
         "one Acme serial on a frame and receiver"),
        ("exact", 0.8, [13, 14, 15], "serial M9 recorded 3 times for Beretta",
         "one Beretta serial on a frame and receiver and lower_receiver"),
        ("confusable", 0.8, [7, 6],
         "XS5001 / X55OO1 equal after folding look-alike characters (S/5 at position 2, "
         "0/O at position 4, 0/O at position 5; Acme)",
         "XS5001 / X55OO1: one Acme serial read two ways (look-alikes): one item recorded twice?"),
        ("model_as_serial", 0.7, [4, 1, 2, 3], f"serial AB123 on 4 Acme {pistols}",
         "AB123 looks like a Acme model number, not a serial: check the marking"),
        ("model_as_serial", 0.7, [12], "serial G17 equals the model (Glock, 1 record)",
         "G17 looks like a Glock model number, not a serial: check the marking"),
        ("model_as_serial", 0.7, [13, 14, 15], f"serial M9 on 3 Beretta {pistols}",
         "M9 looks like a Beretta model number, not a serial: check the marking"),
        ("embedded_letter", 0.6, [9, 8],
         "369J257 / 369257 equal once letters between digits are dropped (Acme)",
         "369J257 / 369257: one Acme serial with and without a letter between digits: "
         "one item recorded twice?"),
        ("transposition", 0.6, [10, 11], "KQ12345 / KQ12354: characters 6-7 transposed (Acme)",
         "KQ12345 / KQ12354: one Acme item keyed twice with two characters swapped?"),
        ("cross_manufacturer", 0.26, [4, 1, 2, 5, 3], "serial AB123 used by 2 makers: Acme / Glock",
         "serial AB123 used by Acme and Glock: short serials recur across makers"),
    ]  # fmt: skip
    assert {m.status for g in report.groups for m in g.members} == {"in_circulation"}
    assert report.groups[-1].members[3].public() == {
        "id": 5, "serial": "AB123", "manufacturer": "Glock", "component": "frame",
        "model": None, "year_of_manufacture": None, "status": "in_circulation",
    }  # fmt: skip
    assert _stats(report) == {
        "records_compared": 19,
        "scope": "control components",
        "manufacturer": None,
        "kinds": ["exact", "cross_manufacturer", "normalized", "confusable", "embedded_letter",
                  "transposition", "model_as_serial"],
        "max_distance": None,
        "groups": {"exact": 2, "cross_manufacturer": 1, "normalized": 1, "confusable": 1,
                   "embedded_letter": 1, "transposition": 1, "model_as_serial": 3},
        "listed": 10,
        "expected_numbering": {"transposition": 0},
        "expected_numbering_listed": False,
        "withdrawn_left_out": 0,
        "records_in_groups": 15,
    }  # fmt: skip
    assert {"elapsed_s", "scan_s", "keys_s", "transposition_s"} <= set(report.stats)
    doc = report.as_dict()
    assert list(doc) == ["groups", "stats"] and doc["stats"] is report.stats
    assert doc["groups"][0] == {
        "kind": "normalized",
        "score": 0.85,
        "reason": report.groups[0].reason,
        "members": [m.public() for m in report.groups[0].members],
        "detail": report.groups[0].detail,
    }


def test_edit_groups_their_distance_and_expected_numbering(registry):
    from firetrace.registry.dupes import find_duplicates

    run = ("expected numbering: each serial sits in a Beretta production run "
           "(neighbouring serials of the same model and year)")  # fmt: skip
    hidden = find_duplicates(registry, kinds=["edit"], audit=False)
    assert _groups(hidden) == [
        ("edit", 0.4, [9, 8], "369257 / 369J257: 1 edit apart (Acme)",
         "369257 / 369J257: one Acme item keyed twice with a character off?"),
    ]  # fmt: skip
    assert _stats(hidden)["expected_numbering"] == {"edit": 1}
    assert (_stats(hidden)["max_distance"], _stats(hidden)["records_in_groups"]) == (1, 2)
    two = find_duplicates(registry, kinds=["edit"], max_distance=2, include_expected=True,
                          audit=False)  # fmt: skip
    assert _groups(two) == [
        ("edit", 0.4, [9, 8], "369257 / 369J257: 1 edit apart (Acme)",
         "369257 / 369J257: one Acme item keyed twice with a character off?"),
        ("edit", 0.4, [16, 18], "PX77001 / PX77023: 2 edits apart (Beretta)",
         "PX77001 / PX77023: one Beretta item keyed twice with a character off?"),
        ("edit", 0.4, [17, 18], "PX77002 / PX77023: 2 edits apart (Beretta)",
         "PX77002 / PX77023: one Beretta item keyed twice with a character off?"),
        ("edit", 0.05, [16, 17], "PX77001 / PX77002: 1 edit apart (Beretta)", run),
    ]  # fmt: skip
    assert two.as_dict()["groups"][-1]["expected_numbering"] is True
    assert "expected_numbering" not in two.as_dict()["groups"][0]
    assert _stats(two)["expected_numbering_listed"] is True
    assert _stats(two)["groups"] == {"edit": 4}


def test_all_components_and_one_maker(registry):
    from firetrace.registry.dupes import find_duplicates

    every = find_duplicates(registry, all_components=True, kinds=["exact"], audit=False)
    assert [(g.kind, [m.id for m in g.members], g.reason) for g in every.groups] == [
        ("exact", [1, 2], "one Acme serial on a frame and receiver"),
        ("exact", [19, 20], "one Glock serial on a slide and frame"),
        ("exact", [13, 14, 15], "one Beretta serial on a frame and receiver and lower_receiver"),
    ]
    assert _stats(every)["scope"] == "all components"
    assert _stats(every)["records_compared"] == 20
    assert _stats(every)["expected_numbering"] == {}
    glock = find_duplicates(registry, manufacturer="glock", audit=False)
    assert [(g.kind, [m.id for m in g.members]) for g in glock.groups] == [
        ("model_as_serial", [12])
    ]
    assert (_stats(glock)["manufacturer"], _stats(glock)["records_compared"]) == ("glock", 3)


@pytest.mark.parametrize("distance", [0, 4, -1])
def test_edit_distance_out_of_range_is_refused(registry, distance):
    from firetrace.registry.dupes import find_duplicates

    with pytest.raises(UsageError) as err:
        find_duplicates(registry, kinds=["edit"], max_distance=distance, audit=False)
    assert str(err.value) == "--max-distance: must be 1, 2 or 3"
    # Without the edit kind the distance is not used.
    assert find_duplicates(registry, kinds=["exact"], max_distance=distance, audit=False).groups


def test_edit_distance_three_is_accepted(registry):
    from firetrace.registry.dupes import find_duplicates

    report = find_duplicates(registry, kinds=["edit"], max_distance=3, audit=False)
    assert report.stats["max_distance"] == 3


def test_unknown_kinds_are_refused_by_name(registry):
    from firetrace.registry.dupes import find_duplicates

    with pytest.raises(UsageError) as err:
        find_duplicates(registry, kinds=["zeta", "exact", "alpha"], audit=False)
    assert str(err.value) == (f"--kinds: unknown kind alpha, zeta (choose from {', '.join(KINDS)})")


# --- the import hook -----------------------------------------------------------------------------


def _imported(db_path, tmp_path):
    """A registry of a Glock production run and a few records, then a batch that
    joins groups of every default kind; the registry and the second batch's id."""
    from test_registry_support import batch_row, write_csv

    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    def run(numbers):
        return [batch_row(serial=f"BK{n:04d}", year_of_manufacture=2021, event_date="2021-06-01")
                for n in numbers]  # fmt: skip

    conn = connect(db_path)
    old = run(range(1, 31)) + [
        batch_row(manufacturer="Beretta", serial="QX55012", model="92FS"),
        batch_row(serial="AB12345"),
        batch_row(serial="ZT4410", model="G19"),
    ]
    assert import_batch(conn, write_csv(tmp_path / "old.csv", old)).ok
    stolen = [batch_row(serial="AB12345", event="reported_stolen", event_date="2022-01-02")]
    assert import_batch(conn, write_csv(tmp_path / "stolen.csv", stolen)).ok
    new = run(range(31, 46)) + [
        batch_row(manufacturer="Beretta", serial="QX55021", model="92FS"),  # id 35
        batch_row(serial="AB12345", component="receiver"),  # 53: exact, with a stolen frame
        batch_row(serial="8K0005", year_of_manufacture=2019),  # 36: confusable with BK0005 (7)
        batch_row(serial="ZT4401", model="G19"),  # 54
        batch_row(serial="ZT-4401", model="G19", year_of_manufacture=2018),  # 55
        batch_row(serial="AB1234S"),  # 37
        batch_row(manufacturer="Beretta", serial="AB12345", model="92FS"),  # 34
    ]
    result = import_batch(conn, write_csv(tmp_path / "new.csv", new))
    assert result.ok
    return conn, result.batch_id


# index seeks per key; seeks still for a batch of exactly BULK_CHECK; one registry scan
@pytest.mark.parametrize("bulk_check", [10**9, "batch", 0])
def test_batch_findings_on_both_paths(db_path, tmp_path, monkeypatch, bulk_check):
    from firetrace.registry import dupes

    monkeypatch.setattr(dupes, "BULK_CHECK", 0 if bulk_check == "batch" else bulk_check)
    conn, batch = _imported(db_path, tmp_path)
    if bulk_check == "batch":  # up to BULK_CHECK new control components go by seeks
        sql = "SELECT count(*) FROM components WHERE batch_id = ? AND control = 1"
        bulk_check = conn.execute(sql, (batch,)).fetchone()[0]
        monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    found = dupes.batch_findings(conn, batch)
    stolen = "; AB12345 is reported stolen"
    # The transposition's members come in the order each path found them, before
    # ranking sorts them: the seeks put the new serial first, the scan the older id.
    qx = "QX55021 / QX55012" if bulk_check else "QX55012 / QX55021"
    zt = (
        ("ZT4401", "ZT4401 / ZT-4401 / ZT4410")
        if bulk_check
        else ("ZT4410", "ZT4410 / ZT4401 / ZT-4401")
    )
    assert [
        (g.kind, g.score, [m.id for m in g.members], g.detail, g.reason) for g in found.groups
    ] == [
        ("exact", 0.9, [2, 53], "serial AB12345 recorded 2 times for Glock",
         "one Glock serial on a frame and receiver" + stolen),
        ("confusable", 0.9, [2, 53, 37],
         "AB12345 / AB1234S equal after folding look-alike characters (5/S at position 7; Glock)",
         "AB12345 / AB1234S: one Glock serial read two ways (look-alikes): one item recorded "
         "twice?" + stolen),
        ("normalized", 0.7, [55, 54],
         "ZT4401 / ZT-4401 equal after case, separator and leading-zero folding (Glock)",
         "ZT4401 / ZT-4401: one Glock serial written two ways (made 2020 / 2018): two items, or "
         "one with a wrong description"),
        ("confusable", 0.65, [36, 7],
         "BK0005 / 8K0005 equal after folding look-alike characters (B/8 at position 1; Glock)",
         "BK0005 / 8K0005: one Glock serial read two ways (look-alikes) (made 2021 / 2019): two "
         "items, or one with a wrong description"),
        ("transposition", 0.6, [1, 35], f"{qx}: characters 6-7 transposed (Beretta)",
         f"{qx}: one Beretta item keyed twice with two characters swapped?"),
        ("cross_manufacturer", 0.48, [34, 2, 53],
         "serial AB12345 used by 2 makers: Glock / Beretta",
         "serial AB12345 used by Glock and Beretta: short serials recur across makers" + stolen),
        ("transposition", 0.45, [55, 54, 33], f"{zt[1]}: characters 5-6 transposed (Glock)",
         f"{zt[0]} has no neighbouring Glock serial of its model and year: {zt[1]} with two "
         "characters swapped (made 2020 / 2018), a keying error?"),
    ]  # fmt: skip
    assert [m.status for m in found.groups[0].members] == ["reported_stolen", "in_circulation"]
    # Six swaps inside the run (BK0013/BK0031, ...), counted per maker, not listed.
    assert (found.more, found.expected) == (0, {"Glock": 6})
    assert found.new_members == {34, 35, 36, 37, 53, 54, 55}
    assert all(not found.in_run[i] for i in (1, 33, 35, 54, 55))
    capped = dupes.batch_findings(conn, batch, limit=3)
    assert [g.kind for g in capped.groups] == ["exact", "confusable", "normalized"]
    assert (capped.more, capped.new_members) == (4, {37, 53, 54, 55})
    # after_id: the same findings from the components stored after it.
    later = dupes.batch_findings(conn, batch, after_id=33)
    assert [[m.id for m in g.members] for g in later.groups] == [
        [m.id for m in g.members] for g in found.groups
    ]
    assert dupes.batch_findings(conn, batch, after_id=55).groups == []
    keys_only = dupes.batch_findings(conn, batch, kinds=["exact", "normalized"])
    assert [g.kind for g in keys_only.groups] == ["exact", "normalized"]
    assert keys_only.expected == {}
    swaps_only = dupes.batch_findings(conn, batch, kinds=["transposition", "edit"])
    assert [[m.id for m in g.members] for g in swaps_only.groups] == [[1, 35], [55, 54, 33]]
    assert swaps_only.expected == {"Glock": 6}


def test_progress_names_each_step(registry):
    from firetrace.registry.dupes import find_duplicates

    said: list[str] = []
    report_all = find_duplicates(
        registry, kinds=KINDS, max_distance=2, progress=said.append, audit=False
    )
    assert said == [
        "reading serials",
        "grouping shared keys",
        "hashing adjacent transpositions",
        "deletion neighbourhoods within 2 edits",
    ]
    assert {"scan_s", "keys_s", "transposition_s", "edit_s", "elapsed_s"} <= set(report_all.stats)
    assert all(type(v) is float for k, v in report_all.stats.items() if k.endswith("_s"))
    said.clear()
    report = find_duplicates(registry, kinds=["edit"], progress=said.append, audit=False)
    assert said == ["reading serials", "deletion neighbourhoods within 1 edits"]
    assert {"scan_s", "edit_s", "elapsed_s"} <= set(report.stats)
    assert all(type(report.stats[k]) is float for k in ("scan_s", "edit_s", "elapsed_s"))
    assert not {"keys_s", "transposition_s"} & set(report.stats)


def test_withdrawn_records_are_left_out_of_every_kind(db_path, tmp_path):
    from test_registry_support import batch_row, write_csv

    from firetrace.registry.batches import withdraw_batch
    from firetrace.registry.db import connect
    from firetrace.registry.dupes import find_duplicates
    from firetrace.registry.importer import import_batch

    conn = connect(db_path)
    beretta = {"manufacturer": "Beretta", "model": "G19"}
    kept = [
        batch_row(serial="AB12345"),
        batch_row(serial="QX5501", **beretta),
        batch_row(serial="G22", model="G22"),
        # a Glock edit pair, looked at after the (withdrawn) Beretta one
        batch_row(serial="ZZ1000"),
        batch_row(serial="ZZ1090"),
    ]
    assert import_batch(conn, write_csv(tmp_path / "kept.csv", kept)).ok
    batch = [
        batch_row(serial="AB12345", component="receiver"),  # exact
        batch_row(serial="QX5510", **beretta),  # transposition
        batch_row(serial="QX5591", **beretta, year_of_manufacture=2011),  # edit
        batch_row(serial="G19", model="G19"),  # model_as_serial
    ]
    batch_id = import_batch(conn, write_csv(tmp_path / "withdrawn.csv", batch)).batch_id
    report = find_duplicates(conn, kinds=KINDS, audit=False)
    assert report.stats["withdrawn_left_out"] == 0
    assert {g.kind for g in report.groups} == {"exact", "transposition", "edit", "model_as_serial"}
    withdraw_batch(conn, batch_id, reason="keyed twice", operator="t", purpose=None)
    report = find_duplicates(conn, kinds=KINDS, audit=False)
    assert report.stats["withdrawn_left_out"] == 4
    assert [(g.kind, [m.serial for m in g.members]) for g in report.groups] == [
        ("model_as_serial", ["G22"]),
        ("edit", ["ZZ1000", "ZZ1090"]),
    ]
    assert report.stats["records_compared"] == 5


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_the_import_hook_leaves_withdrawn_records_out(db_path, tmp_path, monkeypatch, bulk_check):
    """A bug found by the mutation run: the small-batch path (index seeks) warned
    about groups with records only withdrawn batches speak of, and counted them as
    production-run neighbours; dupes and the large-batch path leave them out."""
    from test_registry_support import batch_row, write_csv

    from firetrace.registry import dupes
    from firetrace.registry.batches import withdraw_batch
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    conn = connect(db_path)
    live = [batch_row(serial="QX5501")]
    assert import_batch(conn, write_csv(tmp_path / "live.csv", live)).ok
    # QX5502 would make QX5501 a production-run member; AB12345 a duplicate.
    wrong = [batch_row(serial="QX5502"), batch_row(serial="AB12345"), batch_row(serial="ZZ9180")]
    withdrawn = import_batch(conn, write_csv(tmp_path / "wrong.csv", wrong)).batch_id
    withdraw_batch(conn, withdrawn, reason="keyed twice", operator="t", purpose=None)
    new = [
        batch_row(serial="QX5510"),  # QX5501 transposed; QX5511 is its run neighbour
        batch_row(serial="QX5511"),
        batch_row(serial="AB12345", component="receiver"),
        batch_row(serial="ZZ9810"),  # a transposition of the withdrawn ZZ9180 only
    ]
    batch = import_batch(conn, write_csv(tmp_path / "new.csv", new)).batch_id
    found = dupes.batch_findings(conn, batch)
    assert [(g.kind, sorted(m.serial for m in g.members)) for g in found.groups] == [
        ("transposition", ["QX5501", "QX5510"])
    ]
    assert found.groups[0].score == 0.6 and found.expected == {}
    assert found.in_run[1] is False  # QX5501: its only neighbour was withdrawn
    report = dupes.find_duplicates(conn, audit=False)
    assert [(g.kind, sorted(m.serial for m in g.members)) for g in report.groups] == [
        ("transposition", ["QX5501", "QX5510"])
    ]


@pytest.fixture
def odd_serials(db_path):
    """One-character serials, look-alikes in four places, a look-alike with leading
    zeros, a serial sharing a one-deletion neighbour with another two edits away,
    and models written in other cases and separators; every record a year of its own."""
    from test_serials_index import make_registry

    records = [
        ("Acme", "7"), ("Acme", "8"), ("Acme", "AB12"), ("Acme", "A12B"), ("Acme", "O0123"),
        ("Acme", "00123"), ("Acme", "S0B2"), ("Acme", "5O8Z"),
        ("Glock", "G19", "frame", "pistol", "g-19"), ("Glock", "G 19", "frame", "pistol", " g19"),
        ("Glock", "G17", "frame", "pistol", "G18"),
    ]  # fmt: skip
    conn = make_registry(db_path, records)
    conn.execute("UPDATE components SET year_of_manufacture = 2000 + id")
    conn.commit()
    return conn


def test_look_alike_notes_models_in_other_cases(odd_serials):
    from firetrace.registry.dupes import find_duplicates

    report = find_duplicates(odd_serials, audit=False)
    assert [(g.kind, g.score, [m.id for m in g.members], g.detail) for g in report.groups] == [
        ("normalized", 0.7, [10, 9],
         "G19 / G 19 equal after case, separator and leading-zero folding (Glock)"),
        ("model_as_serial", 0.7, [10, 9], "serial G19 equals the model (Glock, 2 records)"),
        ("confusable", 0.65, [6, 5], "O0123 / 00123 equal after folding look-alike characters "
         "(look-alikes and leading zeros; Acme)"),
        ("confusable", 0.65, [8, 7], "S0B2 / 5O8Z equal after folding look-alike characters "
         "(S/5 at position 1, 0/O at position 2, B/8 at position 3; Acme)"),
    ]  # fmt: skip


def test_edit_pairs_of_one_character_and_two_edits(odd_serials):
    from firetrace.registry.dupes import find_duplicates

    g17 = (
        "G17 has no neighbouring Glock serial of its model and year: G17 / G19 / G 19 with a "
        "character off (made 2011 / 2009 / 2010; model G18 / g-19 /  g19), a keying error?"
    )
    seven = (
        "7 has no neighbouring Acme serial of its model and year: 7 / 8 with a character off "
        "(made 2001 / 2002), a keying error?"
    )
    one = find_duplicates(odd_serials, kinds=["edit"], audit=False)
    assert [(g.score, [m.id for m in g.members], g.detail, g.reason) for g in one.groups] == [
        (0.3, [1, 2], "7 / 8: 1 edit apart (Acme)", seven),
        (0.3, [10, 11, 9], "G17 / G19 / G 19: 1 edit apart (Glock)", g17),
    ]
    # AB12 / A12B share the one-deletion neighbour A12 but are two edits apart: listed
    # at distance 2 only, once.
    two = find_duplicates(odd_serials, kinds=["edit"], max_distance=2, audit=False)
    assert [[m.id for m in g.members] for g in two.groups] == [[1, 2], [4, 3], [10, 11, 9]]
    assert two.groups[1].detail == "A12B / AB12: 2 edits apart (Acme)"


def test_policy_is_checked_before_any_work_even_unaudited(registry, tmp_path, monkeypatch):
    from firetrace import audit
    from firetrace.registry.dupes import find_duplicates

    policy = tmp_path / "policy.toml"
    policy.write_text('[purpose]\nrequired_for = ["dupes"]\n')
    monkeypatch.setenv("FIRETRACE_POLICY", str(policy))
    said: list[str] = []
    with pytest.raises(UsageError) as err:
        find_duplicates(registry, audit=False, progress=said.append)
    assert str(err.value) == (
        "policy (policy.toml) requires --purpose for 'dupes': give a case or request reference"
    )
    assert said == []
    assert find_duplicates(registry, audit=False, purpose="CASE-1", kinds=["exact"]).groups
    find_duplicates(registry, purpose="CASE-2", kinds=["exact"])
    (entry,) = audit.query_log(registry)
    assert (entry["operator"], entry["purpose"]) == ("unknown", "CASE-2")
    asked = {
        "kinds": ["exact"], "max_distance": None, "manufacturer": None,
        "all_components": False, "include_expected": False,
    }  # fmt: skip
    assert entry["args_digest"] == audit.args_digest(asked)
    find_duplicates(registry, purpose="CASE-3", kinds=["edit", "exact"], max_distance=2,
                    manufacturer="acme", all_components=True, include_expected=True)  # fmt: skip
    asked = {
        "kinds": ["exact", "edit"], "max_distance": 2, "manufacturer": "acme",
        "all_components": True, "include_expected": True,
    }  # fmt: skip
    assert audit.query_log(registry)[0]["args_digest"] == audit.args_digest(asked)


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_batch_findings_fold_zeros_and_skeletons_and_cap_swaps(
    db_path, tmp_path, monkeypatch, bulk_check
):
    from test_registry_support import batch_row, write_csv

    from firetrace.registry import dupes
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    conn = connect(db_path)
    old = ["ZK4410", "369257", "AB1058", "AB2058", "AB3058"]
    assert import_batch(conn, write_csv(tmp_path / "old.csv", [batch_row(serial=s) for s in old]))
    new = ["0ZK4410", "369J257", "AB1085", "AB2085", "AB3085"]
    batch = import_batch(conn, write_csv(tmp_path / "new.csv", [batch_row(serial=s) for s in new]))
    found = dupes.batch_findings(conn, batch.batch_id)
    assert [(g.kind, sorted(m.serial for m in g.members)) for g in found.groups] == [
        ("normalized", ["0ZK4410", "ZK4410"]),
        ("embedded_letter", ["369257", "369J257"]),
        ("transposition", ["AB1058", "AB1085"]),
        ("transposition", ["AB2058", "AB2085"]),
        ("transposition", ["AB3058", "AB3085"]),
    ]
    assert (found.more, found.expected) == (0, {})
    one = dupes.batch_findings(conn, batch.batch_id, limit=1)
    assert [g.kind for g in one.groups] == ["normalized"]
    # Every group left out is counted, on both paths.
    assert one.more == 4


def test_the_member_outside_a_run_is_named_whatever_its_place(db_path):
    from test_serials_index import make_registry

    from firetrace.registry.dupes import find_duplicates

    # QX5501 and QX5502 are a run (same model and year); QX5510, made in another
    # year, is QX5501 transposed; a receiver carries QX5501 too, in the run.
    records = [("Acme", "QX5501"), ("Acme", "QX5502"), ("Acme", "QX5510"),
               ("Acme", "QX5501", "receiver")]  # fmt: skip
    conn = make_registry(db_path, records)
    conn.execute("UPDATE components SET year_of_manufacture = 2020, model = 'M1'")
    conn.execute("UPDATE components SET year_of_manufacture = 2011 WHERE id = 3")
    conn.commit()
    report = find_duplicates(conn, kinds=["transposition"], audit=False)
    assert [(g.score, [m.id for m in g.members], g.reason) for g in report.groups] == [
        (0.45, [1, 4, 3],
         "QX5510 has no neighbouring Acme serial of its model and year: QX5501 / QX5510 with two "
         "characters swapped (made 2020 / 2011), a keying error?"),
    ]  # fmt: skip


def test_a_maker_the_rules_know_and_the_registry_does_not(registry):
    from firetrace.registry.dupes import find_duplicates

    report = find_duplicates(registry, manufacturer="Walther", kinds=KINDS, audit=False)
    assert report.groups == []
    assert (report.stats["records_compared"], report.stats["manufacturer"]) == (0, "Walther")


def test_expected_edit_pairs_are_each_counted(db_path):
    from test_serials_index import make_registry

    from firetrace.registry.dupes import find_duplicates

    conn = make_registry(db_path, [("Acme", "AB101"), ("Acme", "AB102"), ("Acme", "CD201"),
                                   ("Acme", "CD202")])  # fmt: skip
    report = find_duplicates(conn, kinds=["edit"], audit=False)
    assert report.groups == [] and report.stats["expected_numbering"] == {"edit": 2}


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_a_new_serial_finds_an_old_one_written_with_leading_zeros(
    db_path, tmp_path, monkeypatch, bulk_check
):
    from test_registry_support import batch_row, write_csv

    from firetrace.registry import dupes
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    conn = connect(db_path)
    old = [batch_row(serial="00KR515"), batch_row(serial="0000KR626")]
    assert import_batch(conn, write_csv(tmp_path / "old.csv", old)).ok
    new = [batch_row(serial="KR515"), batch_row(serial="KR626")]
    batch = import_batch(conn, write_csv(tmp_path / "new.csv", new)).batch_id
    found = dupes.batch_findings(conn, batch)
    assert [(g.kind, sorted(m.serial for m in g.members)) for g in found.groups] == [
        ("normalized", ["0000KR626", "KR626"]),
        ("normalized", ["00KR515", "KR515"]),
    ]


def _two_batches(db_path, tmp_path, old, new):
    """A registry of ``old`` rows, then a batch of ``new`` rows; the registry and
    the second batch's id."""
    from test_registry_support import batch_row, write_csv

    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    conn = connect(db_path)
    rows = [batch_row(**r) if isinstance(r, dict) else batch_row(serial=r) for r in old]
    assert import_batch(conn, write_csv(tmp_path / "old.csv", rows)).ok
    rows = [batch_row(**r) if isinstance(r, dict) else batch_row(serial=r) for r in new]
    result = import_batch(conn, write_csv(tmp_path / "new.csv", rows))
    assert result.ok
    return conn, result.batch_id


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_a_new_serial_swapped_two_ways_inside_runs_is_expected_twice(
    db_path, tmp_path, monkeypatch, bulk_check
):
    """AB2105 is both AB1205 and AB2015 with two characters swapped, and all three
    have a numeric neighbour of their model and year: two expected pairs, nothing
    listed. (Mutation: the seeks stopping at the first member seen twice, so the
    second pair's other member counted as outside a run.)"""
    from firetrace.registry import dupes

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    old = ["AB1205", "AB1204", "AB2015", "AB2014", "AB2103"]
    conn, batch = _two_batches(db_path, tmp_path, old, ["AB2105"])
    found = dupes.batch_findings(conn, batch)
    assert (found.groups, found.more, found.expected) == ([], 0, {"Glock": 2})


def test_serials_without_a_digit_are_in_no_run(db_path):
    """A serial with no digit, even after look-alike folding (a profile with
    ``reject_letters_only = false`` lets one in), has no numeric neighbour: the
    import hook's seeks list its transposition instead of counting it as expected
    numbering. (Mutation: such a serial taken as a run member.)"""
    from test_serials_index import make_registry

    from firetrace.registry import dupes

    conn = make_registry(db_path, [("Acme", "KXWMNP"), ("Acme", "XKWMNP")])
    conn.execute(
        "INSERT INTO batches (id, source, sha256, imported_at, rows) "
        "VALUES (7, 'new.csv', 'x', '2026-01-01', 1)"
    )
    conn.execute("UPDATE components SET batch_id = 7 WHERE id = 2")
    conn.commit()
    found = dupes.batch_findings(conn, 7)
    assert [(g.kind, [m.serial for m in g.members], g.score) for g in found.groups] == [
        ("transposition", ["KXWMNP", "XKWMNP"], 0.6)
    ]
    assert (found.expected, found.in_run) == ({}, {1: False, 2: False})


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_a_part_carrying_a_frames_serial_joins_no_swap_group(
    db_path, tmp_path, monkeypatch, bulk_check
):
    """Transpositions compare control components only: a slide stamped with the old
    frame's serial is not a member. (Mutation: the small-batch path's swap groups
    read over all components.)"""
    from firetrace.registry import dupes

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    old = ["AB1058", {"serial": "AB1058", "component": "slide"}]
    conn, batch = _two_batches(db_path, tmp_path, old, ["AB1085"])
    found = dupes.batch_findings(conn, batch)
    assert [(g.kind, sorted((m.serial, m.component) for m in g.members)) for g in found.groups] == [
        ("transposition", [("AB1058", "frame"), ("AB1085", "frame")])
    ]


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_serials_beginning_and_ending_with_x_are_looked_up_whole(
    db_path, tmp_path, monkeypatch, bulk_check
):
    """Only leading zeros are stripped from a key before it is probed. (Mutation: the
    small-batch path stripping X as well, so XK1234 and AB123X found nothing.)"""
    from firetrace.registry import dupes

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    new = [{"serial": s, "component": "receiver"} for s in ("XK1234", "AB123X")]
    conn, batch = _two_batches(db_path, tmp_path, ["XK1234", "AB123X"], new)
    found = dupes.batch_findings(conn, batch)
    assert [(g.kind, [m.id for m in g.members]) for g in found.groups] == [
        ("exact", [1, 3]),
        ("exact", [2, 4]),
    ]


@pytest.mark.parametrize("flush", [50_000, 3])
def test_probe_keys_written_out_in_pieces_are_all_probed(db_path, tmp_path, monkeypatch, flush):
    """The small-batch path writes its probe keys out whenever more than
    ``PROBE_FLUSH`` are held (10 a serial with an embedded letter: the look-alike
    key and the skeleton, each with up to four leading zeros); every group is found
    either way. (Mutations: the flush's insert mutated.)"""
    from firetrace.registry import dupes

    monkeypatch.setattr(dupes, "PROBE_FLUSH", flush)
    new = ["50042J9", "60042J9", "70042J9"]
    conn, batch = _two_batches(db_path, tmp_path, ["500429", "700429"], new)
    found = dupes.batch_findings(conn, batch, kinds=["embedded_letter"])
    assert [(g.kind, sorted(m.serial for m in g.members)) for g in found.groups] == [
        ("embedded_letter", ["500429", "50042J9"]),
        ("embedded_letter", ["700429", "70042J9"]),
    ]


def test_a_maker_keyed_under_older_rules_scopes_every_party_of_its_name(db_path):
    from test_serials_index import make_registry

    from firetrace.registry.dupes import find_duplicates

    records = [("Glock", "AB123"), ("Glock2", "AB123"), ("Acme", "AB123"),
               ("Glock", "QX55012"), ("Glock2", "QX55021")]  # fmt: skip
    conn = make_registry(db_path, records, makers=("Glock", "Glock2", "Acme"))
    # Two parties spelt Glock, both keyed under older rules: --manufacturer Glock
    # finds neither key and takes every party of that spelling (two maker ids).
    conn.execute("UPDATE parties SET norm_name = 'OLD KEY ' || id WHERE name LIKE 'Glock%'")
    conn.execute("UPDATE parties SET name = 'GLOCK' WHERE name = 'Glock2'")
    report = find_duplicates(conn, manufacturer="Glock", audit=False)
    assert [(g.kind, [(m.manufacturer, m.serial) for m in g.members]) for g in report.groups] == [
        ("cross_manufacturer", [("GLOCK", "AB123"), ("Glock", "AB123")]),
    ]
    assert report.stats["records_compared"] == 4  # Acme's record is out of scope


def test_batch_findings_list_a_thousand_groups_by_default(db_path, tmp_path):
    from test_registry_support import batch_row, write_csv

    from firetrace.registry import dupes
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    conn = connect(db_path)
    serials = [f"QZ{n:05d}" for n in range(0, 1001 * 7, 7)]  # 1,001 serials
    frames = [batch_row(serial=s) for s in serials]
    assert import_batch(conn, write_csv(tmp_path / "old.csv", frames))
    receivers = [batch_row(serial=s, component="receiver") for s in serials]
    batch = import_batch(conn, write_csv(tmp_path / "new.csv", receivers))
    found = dupes.batch_findings(conn, batch.batch_id, kinds=["exact"])
    assert (len(found.groups), found.more) == (1_000, 1)  # 1,001 exact groups


def test_calibre_and_country_read_from_the_registry_are_compared(db_path, tmp_path):
    from test_registry_support import batch_row, write_csv

    from firetrace.registry.db import connect
    from firetrace.registry.dupes import find_duplicates
    from firetrace.registry.importer import import_batch

    conn = connect(db_path)
    rows = [batch_row(serial="CC1234"),  # 9mm Luger (stored as 9x19mm), made in AT
            batch_row(serial="CC1234", component="receiver", calibre=".40 S&W",
                      country_of_manufacture="US")]  # fmt: skip
    assert import_batch(conn, write_csv(tmp_path / "two.csv", rows)).ok
    (group,) = find_duplicates(conn, kinds=["exact"], audit=False).groups
    assert group.reason == (
        "one Glock serial on a frame and receiver (calibre 9x19mm / .40 S&W; made in AT / US)"
    )


def test_serials_of_zeros_keep_one_zero_and_a_leading_x_is_no_zero(db_path):
    from test_serials_index import make_registry

    from firetrace.registry.dupes import find_duplicates

    # 0 and 000 fold to 0; O reads as 0; X0123 / 0X123 are a swap, not one serial
    # with a leading zero (only zeros are padding, not the X before one).
    serials = ("0", "000", "O", "X0123", "0X123")
    conn = make_registry(db_path, [("Acme", s) for s in serials])
    kinds = ["normalized", "confusable", "transposition"]
    report = find_duplicates(conn, kinds=kinds, include_expected=True, audit=False)
    assert [(g.kind, [m.serial for m in g.members]) for g in report.groups] == [
        ("normalized", ["0", "000"]),
        ("confusable", ["0", "000", "O"]),
        ("transposition", ["0X123", "X0123"]),
    ]


def test_leading_zeros_kept_when_the_rules_do_not_fold_them(monkeypatch):
    from firetrace.registry import dupes

    monkeypatch.setattr(dupes, "_folds_leading_zeros", lambda: False)
    member = _m(1, "00AB1")
    assert (member.norm0, member.fold0) == ("00AB1", "00AB1")


@pytest.mark.parametrize("bulk_check", [10**9, 0])
def test_a_batch_cut_at_its_limit_keeps_each_swap_group_whole(
    db_path, tmp_path, monkeypatch, bulk_check
):
    """A bug found by the mutation run: the large-batch path cut the swap pairs at
    twice the limit before grouping them, so a group of more pairs than that lost
    members, and ``more`` counted pairs. Both paths now list whole groups and count
    the groups left out."""
    from test_registry_support import batch_row, write_csv

    from firetrace.registry import dupes
    from firetrace.registry.db import connect
    from firetrace.registry.importer import import_batch

    monkeypatch.setattr(dupes, "BULK_CHECK", bulk_check)
    conn = connect(db_path)
    # Three frames sharing serial AB1058 (each made in another year: three items).
    old = [batch_row(serial="AB1058", year_of_manufacture=y) for y in (2017, 2018, 2019)]
    old += [batch_row(serial=s, year_of_manufacture=2016) for s in ("ZZ7310", "MN8820")]
    assert import_batch(conn, write_csv(tmp_path / "old.csv", old)).ok
    new = [batch_row(serial="AB1085", year_of_manufacture=2020),
           batch_row(serial="ZZ7301", year_of_manufacture=2015),
           batch_row(serial="MN8802", year_of_manufacture=2015)]  # fmt: skip
    batch = import_batch(conn, write_csv(tmp_path / "new.csv", new)).batch_id
    whole = {"AB1058 AB1058 AB1058 AB1085", "ZZ7301 ZZ7310", "MN8802 MN8820"}

    def listed(limit):
        found = dupes.batch_findings(conn, batch, limit=limit)
        assert {g.kind for g in found.groups} == {"transposition"}
        return {" ".join(sorted(m.serial for m in g.members)) for g in found.groups}, found.more

    assert listed(3) == (whole, 0)
    for limit in (1, 2):  # the large batch keeps twice the limit before ranking
        some, more = listed(limit)
        assert len(some) == limit and some <= whole and more == 3 - limit
