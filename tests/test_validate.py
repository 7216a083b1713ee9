"""Row validation (registry/validate.py) called directly: the exact problems named
for each bad field, what a valid row stages, and the two paths (the cached fast
path and the full check) agreeing. Written from the survivors of a mutation run
(issue 17.8); cheap: no registry, no CLI."""

from __future__ import annotations

from datetime import date

import pytest
from test_registry_support import batch_row

from firetrace.registry.validate import (
    COLUMNS,
    STAGING_COLUMNS,
    RowValidator,
    check_serial,
    event_row_key,
    load_profile,
    model_key,
    normalize_calibre,
    not_a_country,
    not_one_of,
    staging_row,
)

TODAY = date(2025, 6, 30)
EVENTS = (
    "assembled, deactivated, destroyed, disassembled, exported, imported, manufactured, "
    "marked, recovered, reported_lost, reported_stolen, seized, sold, transferred"
)
WHOLE = "(a registry id: a whole number)"
TYPES = "machine_gun, other, pistol, revolver, rifle, shotgun, submachine_gun"


def _validator(profile="iti", **options) -> RowValidator:
    if not hasattr(profile, "name"):
        profile = load_profile(profile)
    return RowValidator(list(COLUMNS), profile, today=TODAY, **options)


def _values(**fields) -> list[str]:
    row = batch_row(**fields)
    return [row.get(name, "") for name in COLUMNS]


def _problems(validator: RowValidator, **fields) -> list[tuple[str, str]]:
    result = validator.validate(2, _values(**fields))
    assert isinstance(result, list), result
    return result


def _staged(validator: RowValidator, **fields) -> dict:
    """A valid row's staging tuple by column name; both paths must give it, and a
    row with no value over the length limit must not need the slow path (the
    import's speed rests on that: ``_full_check`` runs only on rejected rows)."""
    values = _values(**fields)
    if max(map(len, values)) > 200:
        fast = validator.validate(7, values)
    else:
        validator._full_check = _not_for_valid_rows
        try:
            fast = validator.validate(7, values)
        finally:
            del validator._full_check
    assert isinstance(fast, tuple), fast
    assert fast[0] == 7  # the line number
    assert validator._full_check(7, values) == fast
    return dict(zip(STAGING_COLUMNS, fast, strict=True))


def _not_for_valid_rows(line, values):
    raise AssertionError(f"a valid row took the slow path: {values}")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"manufacturer": "", "serial": "", "event": "", "event_date": ""},
            [
                ("manufacturer", "required"),
                ("serial", "required"),
                ("event", "required"),
                ("event_date", "required"),
            ],
        ),
        ({"manufacturer": "---"}, [("manufacturer", "'---' has no letters or digits")]),
        ({"serial": "- -"}, [("serial", "blank after removing spaces and dashes")]),
        ({"serial": "A"}, [("serial", "'A' is a single letter; a serial needs digits")]),
        ({"serial": "AB"}, [("serial", "'AB' is letters only; a serial needs digits")]),
        ({"serial": "0-00"}, [("serial", "'0-00' is all zeros")]),
        (
            {"serial": "9" * 45},
            [("serial", f"'{'9' * 40}' has 45 characters after normalisation (allowed 1-20)")],
        ),
        (
            {"serial": "AB12#34"},
            [("serial", "'AB12#34' has characters outside Latin letters A-Z and digits")],
        ),
        ({"event": "borrowed"}, [("event", f"'borrowed' is not one of {EVENTS}")]),
        (
            {"type": "pistole"},
            [("type", f"'pistole' is not one of {TYPES}; did you mean 'pistol'?")],
        ),
        (
            {"component": "barrel", "control": "x" * 45, "country_of_manufacture": ""},
            [("control", f"'{'x' * 40}' is not yes or no")],
        ),
        (
            {"country_of_manufacture": "AUT"},
            [
                (
                    "country_of_manufacture",
                    "'AUT' is not an ISO 3166 country code; did you mean 'AT'?",
                )
            ],
        ),
        (
            {"event": "imported", "import_country": "XY", "event_date": "2021-01-01"},
            [("import_country", "'XY' is not an ISO 3166 country code")],
        ),
        (
            {"event": "sold", "party_country": "XY", "event_date": "2021-01-01"},
            [("party_country", "'XY' is not an ISO 3166 country code")],
        ),
        ({"event_date": "2025-07-01"}, [("event_date", "2025-07-01 is in the future")]),
        ({"event_date": "1799-12-31"}, [("event_date", "1799-12-31 is before 1800")]),
        (
            {"event_date": "2020-03-01X"},
            [("event_date", "'2020-03-01X' is not an ISO 8601 date (YYYY-MM-DD)")],
        ),
        (
            {"event_date": "2020-03-01t10:00"},
            [("event_date", "'2020-03-01t10:00' is not an ISO 8601 date (YYYY-MM-DD)")],
        ),
        (
            {"event_date": "2" * 45},
            [("event_date", f"'{'2' * 40}' is not an ISO 8601 date (YYYY-MM-DD)")],
        ),
        (
            {"year_of_manufacture": "2026", "event_date": "2025-01-01"},
            [("year_of_manufacture", "2026 is in the future")],
        ),
        (
            {"year_of_manufacture": "1799", "event_date": "1801-01-01"},
            [("year_of_manufacture", "1799 is before 1800")],
        ),
        (
            {"year_of_manufacture": "2" * 45},
            [("year_of_manufacture", f"'{'2' * 40}' is not a four-digit year")],
        ),
        (
            {"event_date": "2019-12-31"},
            [("event_date", "2019-12-31 is before the year of manufacture 2020")],
        ),
        (
            {"event": "imported", "import_country": "DE", "import_year": "2019"},
            [("import_year", "2019 is before the year of manufacture 2020")],
        ),
        (
            {"event": "imported", "event_date": "2021-01-01"},
            [("import_country", "required on an imported row by profile 'iti'")],
        ),
        (
            {"country_of_manufacture": ""},
            [("country_of_manufacture", "required on a manufactured row by profile 'iti'")],
        ),
        (
            {"component_id": "abc"},
            [("component_id", f"'abc' is not a component id {WHOLE}")],
        ),
        (
            {"component_id": "0"},
            [("component_id", f"'0' is not a component id {WHOLE}")],
        ),
        (
            {"component_id": "1" * 19},
            [("component_id", f"'{'1' * 19}' is not a component id {WHOLE}")],
        ),
        (
            {"model": "M" * 201, "notes": "n" * 2001},
            [
                ("model", "201 characters (at most 200)"),
                ("notes", "2001 characters (at most 2000)"),
            ],
        ),
        (
            {"model": "bad\x07bell"},
            [("model", "contains a control character (\\x07) at position 4")],
        ),
    ],
)
def test_each_bad_field_is_named_with_its_reason(fields, expected):
    assert _problems(_validator(), **fields) == expected


def test_boundaries_that_are_still_valid():
    """The limits themselves pass: today's date and year, the year 1800, a one-digit
    serial, the longest field and notes, an import in the year of manufacture."""
    validator = _validator()
    assert _staged(validator, event_date="2025-06-30", year_of_manufacture="2025")["year"] == 2025
    assert _staged(validator, event_date="1800-01-01", year_of_manufacture="1800")["year"] == 1800
    assert _staged(validator, serial="7")["serial_norm"] == "7"
    assert _staged(validator, serial="X00")["serial_norm"] == "X00"
    assert _staged(validator, model="M" * 200, notes="n" * 190)["model"] == "M" * 200
    row = _staged(validator, model="M" * 200, notes="n" * 2000)
    assert row["model"] == "M" * 200 and len(row["notes"]) == 2000
    row = _staged(
        validator, event="imported", import_country="DE", import_year="2020",
        event_date="2020-12-01",
    )  # fmt: skip
    assert (row["import_country"], row["import_year"]) == ("DE", 2020)
    assert _staged(validator, event_date="2020-03-01T10:00:00")["event_date"] == "2020-03-01"
    assert _staged(validator, event_date="2020-03-01 10:00")["event_date"] == "2020-03-01"
    assert _staged(validator, event_date="2020-03-01T")["event_date"] == "2020-03-01"


def test_a_valid_row_stages_every_field_the_same_on_both_paths():
    validator = _validator(legacy_keys=True)
    row = _staged(
        validator,
        manufacturer="Glock GmbH",
        component="barrel",
        control="",
        firearm="F-1",
        model="92 FS",
        calibre="9 mm luger",
        event="sold",
        event_date="2021-05-05",
        party="Dealer Ltd",
        party_licence="L-77",
        party_country="de",
        reference="INV 9",
        notes="boxed",
        component_id="42",
    )
    assert row["kind"] == "barrel" and row["control"] == 0
    assert row["model_key"] == "92FS"
    assert row["calibre"] == "9x19mm"
    assert row["component_ref"] == 42
    assert row["party_name"] == "Dealer Ltd" and row["party_norm"]
    assert row["party_country"] == "DE"
    assert (row["party_licence"], row["reference"], row["notes"]) == ("L-77", "INV 9", "boxed")
    assert row["firearm_key"] == "F-1"
    assert row["legacy_key"] is None  # only rows that bring an item in had an old key
    made = _staged(validator, control="yes")
    assert made["control"] == 1 and isinstance(made["legacy_key"], bytes)
    assert made["legacy_key"] != made["row_key"]
    assert _staged(validator, component="frame")["control"] == 1  # frames are control parts
    assert _staged(validator, component="barrel", control="no")["control"] == 0
    assert _staged(_validator(), control="yes")["legacy_key"] is None
    # A long note sends the row down the full check, which must stage it alike.
    assert _staged(validator, component_id="42", notes="n" * 300)["component_ref"] == 42
    blank = _staged(validator, party="", model="")
    assert blank["party_norm"] is None and blank["party_name"] is None
    assert blank["model_key"] is None


def test_a_barrel_without_a_control_flag_is_not_held_to_the_marking_rules():
    """The marking fields are required on control parts only (iti: no
    marked_components), so an uncontrolled barrel without a country is valid."""
    row = _staged(_validator(), component="barrel", country_of_manufacture="")
    assert row["control"] == 0
    problems = _problems(_validator(), component="barrel", control="yes", country_of_manufacture="")
    assert problems == [
        ("country_of_manufacture", "required on a manufactured row by profile 'iti'")
    ]


def test_a_profile_requiring_more_columns_names_each_missing_one(tmp_path):
    marking = tmp_path / "marking"
    marking.mkdir()
    (marking / "strict.toml").write_text(
        'name = "strict"\nrequired = ["manufacturer", "serial", "event", "event_date", "model"]\n'
    )
    strict = load_profile("strict", tmp_path)
    validator = _validator(strict)
    assert _problems(validator, model="") == [("model", "required by profile 'strict'")]
    assert _problems(validator, manufacturer="", serial="", model="") == [
        ("manufacturer", "required"),
        ("serial", "required"),
        ("model", "required by profile 'strict'"),
    ]
    assert _staged(validator)["model"] == "G17"


def test_encouraged_fields_and_unknown_calibres_are_counted_as_warnings():
    validator = _validator()
    for notes in ("n" * 300, ""):  # the full check, then the fast path
        validator.validate(2, _values(model="", calibre="", notes=notes))
    validator.validate(2, _values(event="sold", model=""))  # not a marking row
    assert validator.warnings.missing_encouraged == {"calibre": 2, "model": 2}
    for calibre, times in (("wombat", 1), ("9mm lugr", 3), ("9mm Luger", 4), ("q1", 2)):
        for _ in range(times):
            validator.validate(2, _values(calibre=calibre))
    assert validator.warnings.unknown_calibres == {"wombat": 1, "9mm lugr": 3, "q1": 2}
    assert validator.warnings.messages() == [
        "2 marking rows lack the encouraged field 'calibre'",
        "2 marking rows lack the encouraged field 'model'",
        "6 rows name a calibre not in rules/calibres.toml, kept as written: "
        "'9mm lugr' (3; did you mean '9x19mm'?), 'q1' (2), 'wombat' (1)",
    ]


def test_the_unknown_calibre_warning_lists_the_five_most_frequent():
    validator = _validator()
    for i in range(7):
        for _ in range(i + 1):
            validator._calibre(f"zz{i}")
    (message,) = validator.warnings.messages()
    assert message == (
        "28 rows name a calibre not in rules/calibres.toml, kept as written: "
        "'zz6' (7), 'zz5' (6), 'zz4' (5), 'zz3' (4), 'zz2' (3)"
    )


def test_unknown_calibres_are_counted_for_the_first_thousand_names_only():
    validator = _validator()
    for i in range(1000):
        assert validator._calibre(f"odd{i}") == f"odd{i}"
    validator._calibre("odd1000")  # a new name past the limit: not counted
    validator._calibre("odd5")  # a name already counted still is
    counts = validator.warnings.unknown_calibres
    assert len(counts) == 1000 and "odd1000" not in counts and counts["odd5"] == 2


def test_the_row_key_is_a_stored_format():
    """Row keys are stored: a registry written by an earlier release must dedupe
    a re-imported row, so the digest of given fields must never change."""
    key = event_row_key("GLOCK", "frame", "AB1234", "sold", "2021-05-05", None, None, None,
                        None, None)  # fmt: skip
    assert key.hex() == ROW_KEY
    identity = (2020, "G17", None, "AT")
    full = event_row_key("GLOCK", "frame", "AB1234", "manufactured", "2020-03-01", "DEALER",
                         "L-77", "INV 9", "boxed", "F-1", identity=identity)  # fmt: skip
    assert full.hex() == FULL_ROW_KEY
    # A missing value is not the text "None", and fields do not run together.
    assert event_row_key("A", "B", "C", "D", "E", None, None, None, None, None) != event_row_key(
        "A", "B", "C", "D", "E", "None", None, None, None, None
    )
    assert event_row_key("AB", "", "C", "D", "E", None, None, None, None, None) != event_row_key(
        "A", "B", "C", "D", "E", None, None, None, None, None
    )


ROW_KEY = "8a6fea0f7ff4abe74c7200e8982cbb0b"
FULL_ROW_KEY = "4a1d5a9f4d5e0ed6f73630e73d052e27"


def test_only_rows_that_bring_an_item_in_are_keyed_by_its_identity():
    """Two ``manufactured`` rows differing only in the year are two items; two
    ``sold`` rows differing only in the year are one row given twice."""
    validator = _validator()
    made = [_staged(validator, year_of_manufacture=y)["row_key"] for y in ("2019", "2020")]
    assert made[0] != made[1]
    sold = [
        _staged(validator, event="sold", event_date="2021-01-01", year_of_manufacture=y)["row_key"]
        for y in ("2019", "2020")
    ]
    assert sold[0] == sold[1]
    # staging_row called without legacy_keys adds no old key
    fields = tuple(_staged(validator)[name] for name in STAGING_COLUMNS[:23])
    serial_keys = ("AB1234", "AB1234", "AB1234")
    assert staging_row(fields, "AB1234", serial_keys)[-1] is None
    assert isinstance(staging_row(fields, "AB1234", serial_keys, legacy_keys=True)[-1], bytes)


def test_small_helpers():
    assert model_key("92 fs-x/2.1_b") == "92FSX21B"
    assert normalize_calibre("9 mm luger") == ("9x19mm", True)
    assert normalize_calibre(".22 Wombat") == (".22 Wombat", False)
    assert not_one_of("zzzz", {"b", "a"}) == "'zzzz' is not one of a, b"
    assert not_one_of("x" * 45 + "a", {"a"}) == f"'{'x' * 40}' is not one of a"
    assert not_one_of("pistl", {"pistol", "rifle"}) == (
        "'pistl' is not one of pistol, rifle; did you mean 'pistol'?"
    )
    assert not_a_country("QQ") == "'QQ' is not an ISO 3166 country code"
    assert not_a_country("Q" * 45) == f"'{'Q' * 40}' is not an ISO 3166 country code"
    iti = load_profile("iti")
    assert check_serial("ab-12 34", iti) == ("AB1234", "A81234", "A81234")


def test_characters_beyond_latin_and_digits_are_collected_for_fuzzy_trace():
    validator = _validator("eu")
    assert _staged(validator, serial="ЖB12")["serial_fold"] == "Ж812"
    assert _staged(validator, serial="12Ф45")["serial_skel"] == "1245"  # Ф kept in the fold only
    _staged(validator, serial="AB99")
    assert _problems(validator, serial="#12")  # a refused serial adds nothing
    assert validator.characters == {"Ж", "Ф"}


def test_a_header_with_unknown_columns_is_refused_naming_the_first():
    from firetrace.errors import InputError

    iti = load_profile("iti")
    known = ", ".join(COLUMNS)
    for extra, more in ((["colour"], ""), (["colour", "weight"], " (and 1 more)"),
                        (["colour", "weight", "finish"], " (and 2 more)")):  # fmt: skip
        with pytest.raises(InputError) as caught:
            RowValidator([*COLUMNS, *extra], iti, path="b.csv")
        assert (caught.value.path, caught.value.line, caught.value.field) == ("b.csv", 1, "colour")
        assert str(caught.value) == (
            f"b.csv: line 1: colour: unknown column 'colour'{more}; known columns: {known} "
            "(or use --ignore-unknown)"
        )
    with pytest.raises(InputError) as caught:
        RowValidator([*COLUMNS, "colour"], iti)
    assert str(caught.value).startswith("line 1: colour: unknown column")  # no path given
    assert RowValidator([*COLUMNS, "colour"], iti, ignore_unknown=True).profile is iti
    # a rejects file imported again: its line_number and msg columns are not unknown
    assert RowValidator(["line_number", "msg", *COLUMNS], iti).profile is iti
    with pytest.raises(InputError, match="unknown column 'msg'"):
        RowValidator([*COLUMNS, "msg"], iti)


def test_a_header_without_a_required_column_names_the_first_missing():
    from firetrace.errors import InputError

    with pytest.raises(InputError) as caught:
        RowValidator(["manufacturer", "event"], load_profile("iti"), path="b.csv")
    assert (caught.value.path, caught.value.line, caught.value.field) == ("b.csv", 1, "serial")
    assert str(caught.value) == (
        "b.csv: line 1: serial: required column missing "
        "(profile 'iti' needs manufacturer, serial, event, event_date)"
    )


def test_a_batch_with_only_some_columns_reads_the_others_as_blank():
    """Columns a batch lacks read as blank on both paths: a marking row still needs
    its country, a missing encouraged field is counted, an import needs its country."""
    columns = ["manufacturer", "serial", "event", "event_date"]
    validator = RowValidator(columns, load_profile("iti"), today=TODAY)
    sold = ["Glock", "AB1234", "sold", "2021-01-01"]
    validator._full_check = _not_for_valid_rows
    staged = validator.validate(3, sold)
    del validator._full_check
    assert staged == validator._full_check(3, sold)
    row = dict(zip(STAGING_COLUMNS, staged, strict=True))
    assert row["kind"] == "frame" and row["control"] == 1
    blank = ("model", "calibre", "country", "year", "party_name", "notes", "component_ref")
    assert all(row[name] is None for name in blank)
    country = ("country_of_manufacture", "required on a manufactured row by profile 'iti'")
    assert validator.validate(3, ["Glock", "AB1234", "manufactured", "2021-01-01"]) == [country]
    imported = ("import_country", "required on an imported row by profile 'iti'")
    assert validator.validate(3, ["Glock", "AB1234", "imported", "2021-01-01"]) == [imported]
    us = RowValidator([*columns, "model", "calibre"], load_profile("us"), today=TODAY)
    us.validate(3, ["Glock", "AB1234", "manufactured", "2021-01-01", "G17", "9mm"])
    assert us.warnings.missing_encouraged == {"country_of_manufacture": 1, "year_of_manufacture": 1}


@pytest.mark.parametrize("text", ["1", "7", "1" * 18])
def test_component_ids_from_one_digit_to_eighteen_are_read(text):
    assert _staged(_validator(), component_id=text)["component_ref"] == int(text)


def test_a_long_component_id_that_is_not_a_number_is_shown_cut():
    assert _problems(_validator(), component_id="x" * 45) == [
        ("component_id", f"'{'x' * 40}' is not a component id {WHOLE}")
    ]
