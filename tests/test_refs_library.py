"""The reference library in the registry: load_matcher, bundles and the
``refs`` commands (add, list, remove, export, import, match), with audit."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
import trimesh
from _refs_shapes import bracket, ring, tube

from firetrace.errors import InputError
from firetrace.refs import library
from firetrace.refs.bundle import BUNDLE_FORMAT, parse_bundle


@pytest.fixture(scope="module")
def design_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("designs")
    paths = {}
    for name, make in (("bracket", bracket), ("tube", tube), ("ring", ring)):
        paths[name] = folder / f"{name}.stl"
        make().export(paths[name], file_type="stl")
    copy = bracket()
    pose = trimesh.transformations.random_rotation_matrix(rand=np.array([0.2, 0.5, 0.7]))
    copy.apply_transform(pose @ np.diag([-1.0, 1.0, 1.0, 1.0]))
    copy.apply_scale(2.0)
    paths["bracket_copy"] = folder / "copy.obj"
    paths["bracket_copy"].write_text(trimesh.exchange.obj.export_obj(copy))
    paths["bracket_ply"] = folder / "same.ply"
    same = library.mesh_from_file(paths["bracket"])
    same.merge_vertices()
    paths["bracket_ply"].write_bytes(trimesh.exchange.ply.export_ply(same))
    paths["not_a_mesh"] = folder / "notes.stl"
    paths["not_a_mesh"].write_text("these are notes, not a mesh\n")
    return paths


def _audit_commands(db_path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT command FROM audit ORDER BY id")]


def test_load_matcher_is_none_without_database(tmp_path):
    missing = tmp_path / "nothing.db"
    assert library.load_matcher(missing) is None
    assert not missing.exists()  # never creates a database just to look


def test_load_matcher_is_none_without_references(db_path, design_files):
    library.add_references(db_path, [design_files["tube"]], "tube", operator="t")
    library.remove_references(db_path, "tube", operator="t")
    assert library.load_matcher(db_path) is None


def test_matcher_finds_exact_and_near_copies(db_path, design_files):
    library.add_references(db_path, [design_files["bracket"]], "Bracket X", operator="t")
    matcher = library.load_matcher(db_path)
    assert matcher is not None and len(matcher) == 1
    exact = matcher(library.mesh_from_file(design_files["bracket_ply"]))
    assert [(m["label"], m["match"], m["scale"]) for m in exact] == [("Bracket X", "exact", 1.0)]
    near = matcher(library.mesh_from_file(design_files["bracket_copy"]))
    assert [(m["label"], m["match"]) for m in near] == [("Bracket X", "near")]
    assert near[0]["scale"] == pytest.approx(2.0, rel=0.02)
    assert 0.0 <= near[0]["similarity"] <= 1.0
    assert matcher(library.mesh_from_file(design_files["ring"])) == []
    # the cache follows the database: a new reference is seen on the next call
    library.add_references(db_path, [design_files["ring"]], "Ring", operator="t")
    assert len(library.load_matcher(db_path)) == 2


def test_matcher_cache_sees_a_replaced_reference(db_path, design_files):
    library.add_references(db_path, [design_files["tube"]], "first", operator="t")
    assert library.load_matcher(db_path).index.labels == ["first"]
    library.remove_references(db_path, "first", operator="t")
    # the new row takes the same id, so count and ids are as before
    library.add_references(db_path, [design_files["ring"]], "second", operator="t")
    assert library.load_matcher(db_path).index.labels == ["second"]


def test_unreadable_database_is_a_clear_error(tmp_path):
    from firetrace.errors import FiretraceError

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FiretraceError, match="junk.db"):
        library.load_matcher(junk)


def test_add_is_all_or_nothing_and_names_the_bad_file(db_path, design_files):
    with pytest.raises(InputError, match="notes.stl"):
        library.add_references(
            db_path, [design_files["tube"], design_files["not_a_mesh"]], "T", operator="t"
        )
    assert not db_path.exists()  # files are read before the registry is opened


def test_bundle_round_trip_holds_no_geometry(tmp_path, design_files):
    source, target = tmp_path / "a.db", tmp_path / "b.db"
    library.add_references(
        source, [design_files["bracket"], design_files["tube"]], "Kit", operator="t"
    )
    from firetrace.refs.bundle import export_bundle, import_bundle

    bundle = tmp_path / "kit.json"
    exported = export_bundle(source, bundle, operator="t", purpose="share-1")
    assert exported["count"] == 2
    document = json.loads(bundle.read_text())
    assert document["format"] == BUNDLE_FORMAT and document["version"] == 1
    keys = {key for ref in document["references"] for key in ref}
    assert keys == {"label", "geometry_hash", "signature", "size", "faces"}
    result = import_bundle(target, bundle, operator="t")
    assert (result["added"], result["skipped"]) == (2, 0)
    assert import_bundle(target, bundle, operator="t")["added"] == 0  # idempotent
    matcher = library.load_matcher(target)
    found = matcher(library.mesh_from_file(design_files["bracket_copy"]))
    assert [m["label"] for m in found] == ["Kit"]
    assert matcher(library.mesh_from_file(design_files["bracket"]))[0]["match"] == "exact"
    assert _audit_commands(source) == ["refs add", "refs export"]
    assert _audit_commands(target) == ["refs import", "refs import"]


def _valid_document(design_files, tmp_path) -> dict:
    db = tmp_path / "v.db"
    library.add_references(db, [design_files["tube"]], "Tube", operator="t")
    from firetrace.refs.bundle import export_bundle

    export_bundle(db, tmp_path / "v.json", operator="t")
    return json.loads((tmp_path / "v.json").read_text())


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: d.update(version=2), "version: bundle version 2 is not supported"),
        (lambda d: d.update(format="something-else"), "format: not a firetrace"),
        (lambda d: d.update(signature_version=0), "signature_version"),
        (lambda d: d["references"][0].update(signature=[0.1] * 3), r"references\[0\].signature"),
        (lambda d: d["references"][0].update(geometry_hash="xyz"), "geometry_hash"),
        (lambda d: d["references"][0].update(label=""), r"references\[0\].label"),
        (lambda d: d["references"][0].update(size=-1), "size: must be positive"),
        (lambda d: d.update(references="many"), "references: must be a list"),
        (lambda d: d.update(count=5), "count"),
    ],
)
def test_bad_bundles_are_refused_with_one_line(tmp_path, design_files, damage, message):
    document = _valid_document(design_files, tmp_path)
    damage(document)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    with pytest.raises(InputError, match=message) as info:
        parse_bundle(bad)
    assert "\n" not in str(info.value) and "bad.json" in str(info.value)


def test_malformed_and_oversized_bundles_are_refused(tmp_path, design_files):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "firetrace-refs-bundle",\n "version": ')
    with pytest.raises(InputError, match=r"broken.json: line 2: malformed JSON"):
        parse_bundle(broken)
    document = _valid_document(design_files, tmp_path)
    big = tmp_path / "big.json"
    big.write_text(json.dumps(document))
    with pytest.raises(InputError, match="more than the 100 allowed"):
        parse_bundle(big, max_bytes=100)
    document["references"] *= 3
    document["count"] = 3
    big.write_text(json.dumps(document))
    with pytest.raises(InputError, match="3 references, more than the 2 allowed"):
        parse_bundle(big, max_references=2)


def test_refs_cli_add_list_match_remove(run_cli, db_path, design_files, tmp_path):
    result = run_cli(
        "refs",
        "add",
        design_files["bracket"],
        design_files["tube"],
        "--label",
        "Kit A",
        "--operator",
        "alice",
        "--purpose",
        "case-7",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    added = json.loads(result.stdout)["added"]
    assert [a["status"] for a in added] == ["added", "added"]

    listed = run_cli("refs", "list", "--json")
    refs = json.loads(listed.stdout)["references"]
    assert [(r["label"], r["source"]) for r in refs] == [
        ("Kit A", "bracket.stl"),
        ("Kit A", "tube.stl"),
    ]
    assert "Kit A" in run_cli("refs list").stdout

    match = run_cli("refs", "match", design_files["bracket_copy"], "--json")
    assert match.exit_code == 1
    assert json.loads(match.stdout)["reference_matches"][0]["label"] == "Kit A"
    assert run_cli("refs", "match", design_files["ring"]).exit_code == 0

    bundle = tmp_path / "kit.json"
    assert run_cli("refs", "export", bundle).exit_code == 0
    removed = run_cli("refs", "remove", "Kit A", "--json")
    assert json.loads(removed.stdout) == {"label": "Kit A", "removed": 2}
    assert json.loads(run_cli("refs list --json").stdout)["references"] == []
    imported = run_cli("--db", db_path, "refs", "import", bundle, "--json")
    assert json.loads(imported.stdout)["added"] == 2

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT operator, purpose, command FROM audit ORDER BY id").fetchall()
    assert rows[0] == ("alice", "case-7", "refs add")
    assert [r[2] for r in rows] == ["refs add", "refs export", "refs remove", "refs import"]


def test_refs_cli_bad_input_is_one_line_exit_2(run_cli, design_files, tmp_path):
    result = run_cli("refs", "add", design_files["not_a_mesh"], "--label", "X")
    assert result.exit_code == 2 and "notes.stl" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli("refs", "add", design_files["tube"], "--label", " ").exit_code == 2
    assert run_cli("refs", "remove", "no such label").exit_code == 2
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2")
    result = run_cli("refs", "import", junk)
    assert result.exit_code == 2 and "junk.json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_inspect_reports_reference_matches(run_cli, db_path, design_files):
    run_cli("refs", "add", design_files["bracket"], "--label", "Bracket X")
    result = run_cli("inspect", design_files["bracket_copy"], "--json")
    record = json.loads(result.stdout)
    assert record["verdict"] == "high"
    assert [(m["label"], m["match"]) for m in record["reference_matches"]] == [
        ("Bracket X", "near")
    ]
    assert any(f["rule"] == "reference.match" for f in record["findings"])


def test_policy_can_require_a_purpose_for_reference_changes(
    run_cli, design_files, tmp_path, monkeypatch
):
    import shutil

    from firetrace import paths

    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(paths.rules_dir() / "refs.toml", rules / "refs.toml")
    (rules / "policy.toml").write_text('[purpose]\nrequired_for = ["refs add"]\n')
    monkeypatch.setattr(paths, "rules_dir", lambda: rules)
    refused = run_cli("refs", "add", design_files["tube"], "--label", "T")
    assert refused.exit_code == 2 and "requires --purpose" in refused.stderr
    allowed = run_cli("refs", "add", design_files["tube"], "--label", "T", "--purpose", "C-1")
    assert allowed.exit_code == 0, allowed.stderr
