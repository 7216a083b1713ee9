"""The rule set: loading, user overrides, digest, keyword context, scoring."""

from __future__ import annotations

import io

import pytest
import trimesh

from firetrace.detect.engine import inspect_stream
from firetrace.detect.keywords import keyword_hits, tokenize
from firetrace.detect.rules import evaluate, load_rules, score
from firetrace.errors import InputError


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def hits(rules, *texts):
    return keyword_hits(list(texts), rules.terms)


def test_bundled_rules_load_with_a_stable_digest(rules):
    again = load_rules()
    assert rules.digest == again.digest and len(rules.digest) == 64
    ids = {r.id for r in rules.rules}
    assert {"bore.calibre_range", "loop.finger", "keyword.firearm_term"} <= ids
    assert 0 < rules.review < rules.high <= 1


def test_tokenize_splits_punctuation_and_camel_case():
    assert tokenize("A_Drive_FrameLower-x1.stl") == ["a", "drive", "frame", "lower", "x1", "stl"]


@pytest.mark.parametrize(
    "name, term",
    [
        ("gl0ck_frme.stl", "glock"),
        ("lower-reciever.stl", "lower receiver"),
        ("LowerReceiver_v2.3mf", "lower receiver"),
        ("AR-15 lower.stl", "ar15"),
        ("solvent_trap_kit.obj", "solvent trap"),
    ],
)
def test_obfuscated_firearm_terms_are_caught(rules, name, term):
    found = {h["term"] for h in hits(rules, name)["strong"]}
    assert term in found


@pytest.mark.parametrize(
    "name",
    [
        "A_Drive_Frame_Lower_x1.stl",
        "[a]_9mm_Spacer_x6.stl",
        "Door_Handle_x1.STL",
        "TH_Lower_Clip_Mirror_x3.stl",
        "block_clock_flock.stl",
        "piston_slider.stl",
    ],
)
def test_printer_and_household_names_are_not_flagged(rules, name):
    found = hits(rules, name)
    assert not found["strong"] and not found.get("weak")


def test_weak_words_count_only_together_and_without_benign_context(rules):
    assert not hits(rules, "frame.stl").get("weak")
    assert {h["term"] for h in hits(rules, "frame_trigger.stl")["weak"]} == {"frame", "trigger"}
    assert not hits(rules, "frame_trigger_spool_holder.stl").get("weak")


def test_user_folder_overrides_a_rule_and_adds_terms(tmp_path, rules):
    (tmp_path / "local.toml").write_text(
        '[[rule]]\nid = "keyword.firearm_term"\ntier = "strong"\nweight = 0.9\n'
        'detail = "term {terms}"\n\n'
        '[[rule]]\nid = "bore.calibre_range"\nfeature = "holes"\nenabled = false\n\n'
        '[terms]\nstrong = ["zip gun"]\n\n[verdict]\nreview = 0.3\n'
    )
    local = load_rules(tmp_path)
    assert local.digest != rules.digest
    by_id = {r.id: r for r in local.rules}
    assert by_id["keyword.firearm_term"].weight == 0.9
    assert "bore.calibre_range" not in by_id
    assert local.review == 0.3 and local.high == rules.high
    assert "zip gun" in local.terms["strong"] and "glock" in local.terms["strong"]
    findings = evaluate(local, {}, hits(local, "zipgun.stl"))
    assert findings[0]["rule"] == "keyword.firearm_term" and findings[0]["weight"] == 0.9


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[rule]]\nweight = 0.1\n", "without an id"),
        ('[[rule]]\nid = "x"\nfeature = "holes"\nweight = 2\n', "between 0 and 1"),
        ('[[rule]]\nid = "x"\nfeature = "holes"\ncolour = "red"\n', "unknown key"),
        ('[[rule]]\nid = "x"\nrequires = ["nope"]\n', "unknown rule"),
        ('[[rule]]\nid = "x"\nfeature = "holes"\nunless = ["nope"]\n', "unless names unknown"),
        ("[[rule]\n", "invalid TOML"),
    ],
)
def test_bad_rule_files_are_one_line_input_errors(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(InputError, match=message):
        load_rules(tmp_path)


def test_a_rule_with_unless_stays_quiet_when_the_stricter_rule_fired(tmp_path):
    (tmp_path / "local.toml").write_text(
        '[[rule]]\nid = "t.strict"\nfeature = "shape"\nwhere = { length_mm = [100.0, 200.0] }\n'
        "weight = 0.3\n\n"
        '[[rule]]\nid = "t.broad"\nfeature = "shape"\nwhere = { length_mm = [50.0, 300.0] }\n'
        'unless = ["t.strict"]\nweight = 0.3\n\n'
        '[[rule]]\nid = "t.any"\nfeature = "shape"\nwhere = { length_mm = [0.0, 1000.0] }\n\n'
        '[[rule]]\nid = "t.both"\nrequires = ["t.any"]\nunless = ["t.strict"]\nweight = 0.1\n'
    )
    local = load_rules(tmp_path)

    def fired(length):
        findings = evaluate(local, {"length_mm": length}, {})
        return [f["rule"] for f in findings if f["rule"].startswith("t.")]

    assert fired(150.0) == ["t.strict"]
    assert fired(250.0) == ["t.broad", "t.both"]
    assert fired(20.0) == ["t.both"]


def test_missing_rules_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_rules(tmp_path / "nope")


def test_noisy_or_score():
    assert score([]) == 0.0
    assert score([{"weight": 0.5}, {"weight": 0.5}]) == 0.75
    assert score([{"weight": 1.0}, {"weight": 0.2}]) == 1.0


def test_name_alone_asks_for_review_and_names_the_evidence(rules):
    data = trimesh.creation.box((30, 20, 10)).export(file_type="stl")
    record = inspect_stream(io.BytesIO(data), name="case7/gl0ck_frme.stl", size=len(data))
    assert record["verdict"] == "review"
    finding = next(f for f in record["findings"] if f["rule"] == "keyword.firearm_term")
    assert "glock" in finding["detail"] and "gl0ck" in finding["detail"]


def test_reference_match_makes_the_verdict_high(rules):
    data = trimesh.creation.box((30, 20, 10)).export(file_type="stl")
    seen = []

    def matcher(mesh):
        seen.append(len(mesh.faces))
        return [{"label": "case-12 exhibit 3", "match": "near", "similarity": 0.97}]

    record = inspect_stream(io.BytesIO(data), name="box.stl", size=len(data), matcher=matcher)
    assert seen == [12]
    assert record["verdict"] == "high"
    assert record["reference_matches"][0]["label"] == "case-12 exhibit 3"
    assert record["findings"][0]["rule"] == "reference.match"


def test_firearm_term_backed_by_geometry_is_high():
    tube = trimesh.boolean.difference(
        [
            trimesh.creation.cylinder(radius=12, height=150, sections=48),
            trimesh.creation.cylinder(radius=4.5, height=160, sections=48),
        ],
        engine="manifold",
    )
    data = tube.export(file_type="stl")
    plain = inspect_stream(io.BytesIO(data), name="part.stl", size=len(data))
    named = inspect_stream(io.BytesIO(data), name="pistol_barrel.stl", size=len(data))
    assert plain["verdict"] == "review"
    assert named["verdict"] == "high"
    assert "evidence.term_with_geometry" in {f["rule"] for f in named["findings"]}


def test_a_failing_matcher_leaves_a_warning_not_an_error():
    data = trimesh.creation.box((30, 20, 10)).export(file_type="stl")

    def matcher(mesh):
        raise RuntimeError("index unavailable")

    record = inspect_stream(io.BytesIO(data), name="box.stl", size=len(data), matcher=matcher)
    assert record["verdict"] == "clear" and record["error"] is None
    assert any("index unavailable" in w for w in record["warnings"])
