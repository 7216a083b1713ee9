"""Dupes ranked for people (issue 14.2), end to end through ``import`` and
``dupes``: on a maker's production run of one model and year, transposition
pairs inside the run are expected numbering (counted in the stats, listed only
with ``--kinds transposition --all``); a transposed serial outside the run, made
in another year, and a second item sharing a serial are listed, most suspicious
first; the import's warnings carry the same scores in the same order."""

from __future__ import annotations

import json
import re

from test_registry_support import batch_row, write_csv

RUN = [f"BK{n:04d}" for n in range(1, 400)]  # one production run: G17, 2021


def _run_rows():
    return [batch_row(serial=s, year_of_manufacture=2021, event_date="2021-06-01") for s in RUN]


def _listed(result):
    doc = json.loads(result.stdout)
    return doc, [(g["kind"], sorted(m["serial"] for m in g["members"])) for g in doc["groups"]]


def test_production_run_pairs_are_counted_and_real_duplicates_listed_first(
    tmp_path, run_cli, db_path
):
    assert run_cli("import", write_csv(tmp_path / "run.csv", _run_rows())).exit_code == 0
    planted = [
        # BK0123 transposed to BK1023: outside the run, made in another year.
        batch_row(serial="BK1023", year_of_manufacture=2017, event_date="2017-02-01"),
        # A second frame with the run's serial BK0111, made in another year (no
        # transposition of BK0111 is in the run).
        batch_row(serial="BK0111", year_of_manufacture=2019, event_date="2019-02-01"),
    ]
    imported = run_cli("import", write_csv(tmp_path / "planted.csv", planted), "--json")
    assert imported.exit_code == 0

    doc, listed = _listed(run_cli("dupes", "--json"))
    assert ("exact", ["BK0111", "BK0111"]) in listed
    assert ("transposition", ["BK0123", "BK1023"]) in listed
    # No pair with both serials inside the run is listed by default ...
    in_run = set(RUN)
    assert not [
        serials for kind, serials in listed
        if kind == "transposition" and set(serials) <= in_run
    ]  # fmt: skip
    counted = doc["stats"]["expected_numbering"]["transposition"]
    assert counted > 100
    # ... most suspicious first: the second item before the keying error.
    kinds = [kind for kind, _ in listed]
    assert kinds.index("exact") < kinds.index("transposition")
    assert [g["score"] for g in doc["groups"]] == sorted(
        (g["score"] for g in doc["groups"]), reverse=True
    )
    assert all(g["reason"] for g in doc["groups"])

    # --all lists the expected numbering too, one group a counted pair.
    every = json.loads(run_cli("dupes", "--kinds", "transposition", "--all", "--json").stdout)
    run_pairs = [
        g for g in every["groups"] if {m["serial"] for m in g["members"]} <= in_run
    ]  # fmt: skip
    assert len(run_pairs) == counted
    assert ["BK0012", "BK0021"] in [sorted(m["serial"] for m in g["members"]) for g in run_pairs]
    # They rank below the planted keying error.
    planted_score = next(
        g["score"] for g in every["groups"]
        if sorted(m["serial"] for m in g["members"]) == ["BK0123", "BK1023"]
    )  # fmt: skip
    assert all(g["score"] < planted_score for g in run_pairs)


def test_a_transposition_in_the_run_but_of_another_year_is_listed(tmp_path, run_cli, db_path):
    rows = _run_rows()
    # BK0021 keyed for a frame made in 2018: a run serial, but it contradicts the run.
    rows[20] = batch_row(serial="BK0021", year_of_manufacture=2018, event_date="2018-06-01")
    assert run_cli("import", write_csv(tmp_path / "run.csv", rows)).exit_code == 0
    _, listed = _listed(run_cli("dupes", "--kinds", "transposition", "--json"))
    assert ("transposition", ["BK0012", "BK0021"]) in listed


def test_import_warnings_follow_the_dupes_ranking(tmp_path, run_cli, db_path):
    assert run_cli("import", write_csv(tmp_path / "run.csv", _run_rows())).exit_code == 0
    planted = [
        batch_row(serial="BK1023", year_of_manufacture=2017, event_date="2017-02-01"),
        batch_row(serial="8K0345", year_of_manufacture=2016, event_date="2016-02-01"),
        batch_row(serial="BK-0077", year_of_manufacture=2015, event_date="2015-02-01"),
    ]
    result = run_cli("import", write_csv(tmp_path / "planted.csv", planted))
    assert result.exit_code == 0
    text = result.stderr.replace("\n", " ")
    scores = [float(s) for s in re.findall(r"\[suspicion (\d\.\d\d)\]", text)]
    assert len(scores) >= 3
    assert scores == sorted(scores, reverse=True)
    # The same groups, with the same scores, as dupes lists them.
    doc = json.loads(run_cli("dupes", "--json").stdout)
    by_serials = {
        tuple(sorted(m["serial"] for m in g["members"])): round(g["score"], 2)
        for g in doc["groups"]
    }
    for serials in (("BK0123", "BK1023"), ("8K0345", "BK0345")):
        score = by_serials[serials]
        warning = next(w for w in text.split("warning:") if serials[0] in w and serials[1] in w)
        assert f"[suspicion {score:.2f}]" in warning
