"""A typo gets a suggestion: unknown makers, component kinds, calibres, profiles,
verdicts and encodings on the command line are usage errors (exit 2) with "did
you mean"; mistyped enumerations in a batch name the value they likely mean."""

from __future__ import annotations

import json

import pytest

from firetrace.errors import UsageError
from firetrace.paths import samples_dir
from firetrace.registry.filters import calibre_name, country_code, suggest_country
from firetrace.suggest import choose, close_matches, did_you_mean


@pytest.mark.parametrize(
    "typed, choices, expected",
    [
        ("stolen", ["reported_stolen", "reported_lost", "sold", "destroyed"], ["reported_stolen"]),
        ("frmae", ["frame", "fire_control_unit", "receiver"], ["frame"]),
        ("pistl", ["pistol", "revolver", "rifle"], ["pistol"]),
        ("hihg", ["clear", "review", "high"], ["high"]),
        ("xyz", ["frame", "slide"], []),
        ("", ["frame"], []),
    ],
)
def test_close_matches(typed, choices, expected):
    assert close_matches(typed, choices) == expected


def test_did_you_mean_and_choose():
    assert did_you_mean(["a", "b", "c"]) == "did you mean 'a', 'b' or 'c'?"
    assert did_you_mean([]) == ""
    assert choose("verdict", " HIGH ", ["clear", "review", "high"]) == "high"
    with pytest.raises(UsageError, match=r"^--x: unknown thing 'q' \(one of: a, b\)$"):
        choose("thing", "q", ["a", "b"], option="--x")


@pytest.mark.parametrize(
    "typed, code", [("GER", "DE"), ("deu", "DE"), ("Germany", "DE"), ("SUI", "CH"), ("zz", None)]
)
def test_country_suggestions(typed, code):
    assert suggest_country(typed) == code


def test_country_and_calibre_filters(conn_with_sample):
    assert country_code("de") == "DE"
    with pytest.raises(UsageError, match="'GER' is not an ISO 3166 country code; did you mean"):
        country_code("GER")
    assert calibre_name(conn_with_sample, "9mm Luger") == "9x19mm"
    with pytest.raises(UsageError, match=r"unknown calibre '9mm Lugr'; did you mean '9x19mm'\?"):
        calibre_name(conn_with_sample, "9mm Lugr")


@pytest.fixture
def conn_with_sample(db_path, run_cli):
    from firetrace.registry.db import connect

    assert run_cli("import", samples_dir() / "batch.csv").exit_code == 0
    conn = connect(db_path, create=False)
    yield conn
    conn.close()


@pytest.mark.parametrize(
    "args, message",
    [
        (["trace", "BKLM101", "-m", "glok"], "unknown maker 'glok'; did you mean 'GLOCK GmbH'?"),
        (["trace", "BKLM101", "--component", "frmae"], "did you mean 'frame'?"),
        (["dupes", "-m", "berreta"], "did you mean 'Fabbrica d'Armi Pietro Beretta S.p.A.'?"),
        (["dupes", "--manufacturer", "zzqx"], "unknown maker 'zzqx'"),
        (["import", "x.csv", "--profile", "EU2"], "marking profile 'EU2'; did you mean 'eu'?"),
        (["import", "x.csv", "--encoding", "cp-1252"], "did you mean 'cp1252'"),
        (["scan", ".", "--min-verdict", "hihg"], "unknown verdict 'hihg'; did you mean 'high'?"),
        (["report", "x.jsonl", "--min-verdict", "reveiw"], "did you mean 'review'?"),
    ],
)
def test_a_typo_on_the_command_line_is_a_usage_error_with_a_suggestion(
    args, message, conn_with_sample, run_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("manufacturer,serial,event,event_date\n")
    (tmp_path / "x.jsonl").write_text('{"path": "a.stl", "verdict": "high", "score": 0.9}\n')
    result = run_cli(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_known_values_still_work_in_any_case(conn_with_sample, run_cli):
    assert run_cli("trace", "BKLM101", "-m", "glock", "-c", "FRAME").exit_code == 0
    # a maker the rules know but the registry has no record of: a search, not a typo
    result = run_cli("trace", "BKLM101", "-m", "Heckler & Koch")
    assert result.exit_code == 1 and "no registry record" in result.stdout


def test_mistyped_batch_values_name_what_they_likely_mean(tmp_path, run_cli):
    batch = tmp_path / "typos.csv"
    batch.write_text(
        "manufacturer,serial,component,type,calibre,country_of_manufacture,event,event_date\n"
        "Glock,AB1234,frmae,pistl,9mm Luger,GER,stolen,2020-01-01\n"
        "Glock,AB1235,frame,pistol,9mm Lugr,AT,manufactured,2020-01-01\n"
    )
    errors = tmp_path / "errors.csv"
    result = run_cli("import", batch, "--errors", errors, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    found = " | ".join(document["errors"])
    for hint in (
        "line 2: event: 'stolen' is not one of",
        "did you mean 'reported_stolen'?",
        "line 2: component: 'frmae' is not one of",
        "did you mean 'frame'?",
        "did you mean 'pistol'?",
        "line 2: country_of_manufacture: 'GER' is not an ISO 3166 country code; did you mean 'DE'?",
    ):
        assert hint in found, hint
    calibre_warning = next(w for w in document["warnings"] if "calibre" in w)
    assert "'9mm Lugr' (1; did you mean '9x19mm'?)" in calibre_warning
