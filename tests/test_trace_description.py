"""Trace narrowed by description (issue 14.3): --model, --calibre, --type,
--country and --year leave out records that contradict them, keep records that
do not say, rank confirming records first among equal matches, count ties
completely, and only rank with --hint; bad values are usage errors."""

from __future__ import annotations

import json

import pytest
from test_registry_support import batch_row, write_csv


@pytest.fixture
def registry(tmp_path, run_cli, db_path):
    """Ten consecutive Glock frames: G17 made 2019 (1230-1234), G19 made 2021
    (1235-1238), and 1239 recorded without model, calibre or year; one imported
    into France."""
    rows = []
    for n in range(1230, 1240):
        g17 = n < 1235
        row = batch_row(
            serial=f"BK0{n}",
            model="G17" if g17 else "G19",
            calibre="9mm Luger" if g17 else ".40 S&W",
            year_of_manufacture="2019" if g17 else "2021",
            event_date="2021-06-01",
        )
        if n == 1239:
            row.update(model="", calibre="", year_of_manufacture="", type="")
        rows.append(row)
    imported = batch_row(
        serial="BK01231", event="imported", event_date="2022-01-10", import_country="FR"
    )
    imported.update(import_year="2022", model="", calibre="", year_of_manufacture="")
    rows.append(imported)
    assert run_cli("import", write_csv(tmp_path / "b.csv", rows)).exit_code == 0
    return db_path


def trace(run_cli, *args):
    result = run_cli("trace", *args, "--json", "--purpose", "CASE-1")
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def serials(doc):
    return [m["serial"] for m in doc["matches"]]


def test_a_model_filter_leaves_out_contradicting_records_and_keeps_unknown_ones(registry, run_cli):
    everything = trace(run_cli, "BK0123?")
    assert len(everything["matches"]) == 10
    g19 = trace(run_cli, "BK0123?", "--model", "g 19")
    # G19 records first (they confirm the model), then the one that does not say.
    assert serials(g19) == ["BK01235", "BK01236", "BK01237", "BK01238", "BK01239"]
    assert g19["matches"][0]["description"] == {"model": "matches"}
    assert g19["matches"][-1]["description"] == {"model": "unknown"}
    assert g19["description"] == {"model": "g 19", "mode": "filter"}


def test_calibre_aliases_year_ranges_type_and_country(registry, run_cli):
    by_calibre = trace(run_cli, "BK0123?", "--calibre", "9x19mm")
    assert serials(by_calibre)[:5] == ["BK01230", "BK01231", "BK01232", "BK01233", "BK01234"]
    assert "BK01235" not in serials(by_calibre)
    by_years = trace(run_cli, "BK0123?", "--year", "2020-2022")
    assert serials(by_years)[:4] == ["BK01235", "BK01236", "BK01237", "BK01238"]
    assert "BK01230" not in serials(by_years)
    # Only the record that does not give a type can be a rifle.
    assert serials(trace(run_cli, "BK0123?", "--type", "rifle")) == ["BK01239"]
    # Country of import counts: BK01231 was made in Austria and imported into France.
    france = trace(run_cli, "BK0123?", "--country", "FR")
    assert serials(france) == ["BK01231"]
    assert france["matches"][0]["description"] == {"country": "matches"}
    assert len(trace(run_cli, "BK0123?", "--country", "at")["matches"]) == 10


def test_a_description_breaks_ties_and_counts_the_rest_completely(registry, run_cli):
    tied = trace(run_cli, "BK0123?", "--limit", "3")
    assert tied["more"] == {"matches": 7, "tied_with_last": 7, "complete": True}
    narrowed = trace(run_cli, "BK0123?", "--year", "2019", "--model", "G17", "--limit", "3")
    # Five G17s of 2019 confirm both fields and one record does not say: the three
    # shown confirm both, two more do, and the unknown ranks after them.
    assert serials(narrowed) == ["BK01230", "BK01231", "BK01232"]
    assert narrowed["more"] == {"matches": 3, "tied_with_last": 2, "complete": True}


def test_a_hint_only_ranks(registry, run_cli):
    hinted = trace(run_cli, "BK0123?", "--model", "G19", "--hint")
    assert len(hinted["matches"]) == 10  # nothing left out
    assert serials(hinted)[:4] == ["BK01235", "BK01236", "BK01237", "BK01238"]
    assert serials(hinted)[4] == "BK01239"  # does not say: before the contradicting ones
    assert hinted["matches"][-1]["description"] == {"model": "differs"}
    assert hinted["description"]["mode"] == "hint"


def test_exact_trace_takes_the_description_too(registry, run_cli):
    assert serials(trace(run_cli, "BK01230", "--exact", "--model", "G17")) == ["BK01230"]
    assert trace(run_cli, "BK01230", "--exact", "--model", "G19")["matches"] == []


def test_the_human_output_says_what_narrowed_it(registry, run_cli):
    result = run_cli("trace", "BK0123?", "--model", "G19", "--purpose", "CASE-1")
    assert "narrowed by: model G19" in result.stdout
    assert "description: model matches" in result.stdout


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--year", "19", "'19' is not a year"),
        ("--year", "2021-2019", "ends before it starts"),
        ("--type", "pistl", "did you mean 'pistol'"),
        ("--country", "GER", "did you mean 'DE'"),
        ("--model", " ", "give the model"),
    ],
)
def test_bad_description_values_are_usage_errors(registry, run_cli, option, value, message):
    result = run_cli("trace", "BK0123?", option, value, "--purpose", "CASE-1")
    assert result.exit_code == 2
    assert message in result.stderr
