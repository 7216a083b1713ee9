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


def _index(entries, **settings):
    """A ReferenceIndex over made-up signatures: each entry is (label, distance from
    the zero query, size, geometry hash); a distance d gives similarity
    exp(-(d / distance_scale)^2)."""
    from firetrace.refs.signature import SIGNATURE_LENGTH, TOTAL_WEIGHT

    rows = []
    for i, (label, distance, size, ghash) in enumerate(entries):
        vector = np.zeros(SIGNATURE_LENGTH, dtype=np.float32)
        vector[3] = distance * np.sqrt(TOTAL_WEIGHT)
        rows.append({"id": 100 + i, "label": label, "size": size, "vector": vector,
                     "geometry_hash": ghash})  # fmt: skip
    base = library.match_settings()
    chosen = library.MatchSettings(
        settings.get("distance_scale", base.distance_scale),
        settings.get("threshold", base.threshold),
        settings.get("max_results", base.max_results),
    )
    return library.ReferenceIndex(rows, chosen)


def _query(size=4.0, ghash="q"):
    from firetrace.refs.signature import SIGNATURE_LENGTH, Signature

    return library.Fingerprint(ghash, Signature(np.zeros(SIGNATURE_LENGTH, np.float32), size, 12))


def _similarity(distance):
    return round(float(np.exp(-((distance / library.match_settings().distance_scale) ** 2))), 4)


def test_the_index_puts_exact_matches_first_then_one_best_row_per_label():
    scale = library.match_settings().distance_scale
    near, nearer = 0.2 * scale, 0.1 * scale
    index = _index([
        ("far", 3 * scale, 1.0, "h-far"),  # similarity ~0: below the threshold
        ("kit", near, 2.0, "h-kit1"),
        ("kit", nearer, 8.0, "h-kit2"),  # the better row of the label is the one shown
        ("flat", near, 0.0, "h-flat"),  # no size: no scale factor
        ("same", 3 * scale, 5.0, "q"),  # same triangles, however far the signature
    ])  # fmt: skip
    found = index.match(_query())
    assert found == [
        {"label": "same", "match": "exact", "similarity": 1.0, "scale": 1.0,
         "reference_id": 104, "detail": "same triangles as reference 'same'"},
        {"label": "kit", "match": "near", "similarity": _similarity(nearer), "scale": 0.5,
         "reference_id": 102,
         "detail": f"near copy of reference 'kit' (similarity {_similarity(nearer):.3f}, "
                   "scale 0.5x)"},
        {"label": "flat", "match": "near", "similarity": _similarity(near), "scale": 1.0,
         "reference_id": 103,
         "detail": f"near copy of reference 'flat' (similarity {_similarity(near):.3f}, "
                   "scale 1x)"},
    ]  # fmt: skip
    assert [m["label"] for m in index.match(_query(), threshold=0.0)] == [
        "same", "kit", "flat", "far"
    ]  # fmt: skip
    assert index.similarities(np.zeros_like(index.matrix[0]))[4] < 0.01
    assert library.ReferenceIndex([]).match(_query()) == []


def test_the_index_returns_at_most_max_results_labels_exact_ones_included():
    scale = library.match_settings().distance_scale
    entries = [(f"n{i}", (0.05 + 0.01 * i) * scale, 1.0, f"h{i}") for i in range(4)]
    index = _index([*entries, ("exact", scale, 1.0, "q")], max_results=3)
    assert [m["label"] for m in index.match(_query())] == ["exact", "n0", "n1"]
    index = _index(entries, max_results=3)
    assert [m["label"] for m in index.match(_query())] == ["n0", "n1", "n2"]
    two_exact = _index([("a", scale, 1.0, "q"), ("b", scale, 1.0, "q"), *entries], max_results=2)
    assert [m["label"] for m in two_exact.match(_query())] == ["a", "b"]


def test_a_threshold_is_inclusive():
    scale = library.match_settings().distance_scale
    index = _index([("edge", 0.3 * scale, 1.0, "h")])
    edge = float(index.similarities(np.zeros_like(index.matrix[0]))[0])
    assert [m["label"] for m in index.match(_query(), threshold=edge)] == ["edge"]
    assert index.match(_query(), threshold=np.nextafter(edge, 2.0)) == []


def test_labels_are_one_line_of_limited_length():
    limit = int(library.load_settings()["bundle"]["max_label_chars"])
    assert library._check_label("  Kit A  ") == "Kit A"
    assert library._check_label("x" * limit) == "x" * limit
    for bad, message in (
        ("   ", "--label: empty label"),
        (None, "--label: empty label"),
        ("x" * (limit + 1), f"--label: a label is one line of at most {limit} characters"),
        ("two\nlines", "--label: contains a control character (\\n) at position 4"),
        ("tab\there", "--label: contains a control character (\\t) at position 4"),
    ):
        with pytest.raises(InputError) as caught:
            library._check_label(bad)
        assert str(caught.value) == message


def test_stored_references_of_another_version_or_damaged_are_refused():
    from firetrace.errors import FiretraceError
    from firetrace.refs.signature import SIGNATURE_LENGTH, SIGNATURE_VERSION

    blob = np.zeros(SIGNATURE_LENGTH, "<f4").tobytes()
    row = (7, "Kit", "h", blob, SIGNATURE_VERSION, 2.5, 12, "a.stl", "file")
    (decoded,) = library._decode_rows([row])
    assert {k: v for k, v in decoded.items() if k != "vector"} == {
        "id": 7, "label": "Kit", "geometry_hash": "h", "size": 2.5, "faces": 12,
        "source": "a.stl", "origin": "file",
    }  # fmt: skip
    assert decoded["vector"].shape == (SIGNATURE_LENGTH,)
    old = (7, "Kit", "h", blob, SIGNATURE_VERSION - 1, 2.5, 12, "a.stl", "file")
    with pytest.raises(FiretraceError) as caught:
        library._decode_rows([old])
    assert str(caught.value) == (
        f"reference 7 ('Kit') has signature version {SIGNATURE_VERSION - 1}; this firetrace "
        f"reads version {SIGNATURE_VERSION}: remove it and add the file again"
    )
    cut = (7, "Kit", "h", blob[:-4], SIGNATURE_VERSION, 2.5, 12, "a.stl", "file")
    with pytest.raises(FiretraceError) as caught:
        library._decode_rows([cut])
    assert str(caught.value) == "reference 7 ('Kit') has a damaged signature"


def test_adding_a_file_twice_keeps_one_reference_and_lists_it(db_path, design_files):
    first = library.add_references(db_path, [design_files["tube"]], "Tube", operator="ann")
    again = library.add_references(
        db_path, [design_files["tube"], design_files["ring"]], "Tube", operator="bob"
    )
    (added,) = first
    assert added["status"] == "added" and isinstance(added["id"], int)
    assert added["file"] == str(design_files["tube"]) and added["label"] == "Tube"
    assert len(added["geometry_hash"]) == 64 and added["faces"] > 0 and added["size"] > 0
    assert [(a["status"], a["id"]) for a in again][0] == ("already present", None)
    assert again[1]["status"] == "added"
    listed = library.list_references(db_path)
    assert [(r["label"], r["source"], r["added_by"], r["origin"]) for r in listed] == [
        ("Tube", "tube.stl", "ann", "file"),
        ("Tube", "ring.stl", "bob", "file"),
    ]
    assert listed[0]["id"] == added["id"] and listed[0]["faces"] == added["faces"]
    assert set(listed[0]) == {"id", "label", "geometry_hash", "faces", "size", "source",
                              "origin", "added_at", "added_by"}  # fmt: skip
    assert library.remove_references(db_path, "Tube", operator="t") == 2
    matched = library.match_file(db_path, design_files["tube"])
    assert matched["references"] == 0 and matched["reference_matches"] == []
    assert matched["file"] == str(design_files["tube"]) and matched["faces"] == added["faces"]


def test_missing_registries_and_labels_are_named(tmp_path):
    from firetrace.errors import FiretraceError

    missing = tmp_path / "none.db"
    with pytest.raises(InputError) as caught:
        library.list_references(missing)
    assert str(caught.value) == (
        f"{missing}: no registry here (import a batch or add references first)"
    )
    with pytest.raises(FiretraceError) as caught:
        library.remove_references(missing, "Kit", operator="t")
    assert str(caught.value) == f"no reference labelled 'Kit' ({missing} does not exist)"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    with pytest.raises(InputError) as caught:
        library.load_matcher(other)
    assert str(caught.value) == (
        f"{other}: is an SQLite database of another program, not a firetrace registry"
    )


# --- found by the mutation run of refs/library.py (issue 17.8) ----------------


def _refused(path) -> InputError:
    with pytest.raises(InputError) as caught:
        library.mesh_from_file(path)
    return caught.value


def test_a_file_no_reader_claims_is_named_and_its_extension_is_heard(tmp_path, design_files):
    text = tmp_path / "notes.txt"
    text.write_text("these are notes, not a mesh\n")
    assert str(_refused(text)) == f"{text}: not a recognised design file"
    # The same bytes named .stl are read as the STL they claim to be (and refused as one).
    assert str(_refused(design_files["not_a_mesh"])) == (
        f"{design_files['not_a_mesh']}: truncated: 28 bytes is shorter than a binary STL "
        "header (84)"
    )


def test_a_fingerprint_is_the_hash_and_signature_of_the_triangles_in_float64(design_files):
    from firetrace.refs.canonical import geometry_hash
    from firetrace.refs.signature import compute_signature

    mesh = library.mesh_from_file(design_files["tube"])
    triangles = np.asarray(mesh.triangles, dtype=np.float64)
    expected = compute_signature(triangles)
    for given in (mesh, triangles, triangles.reshape(-1, 9), triangles.tolist()):
        found = library.fingerprint(given)
        assert found.geometry_hash == geometry_hash(triangles)
        assert np.array_equal(found.signature.vector, expected.vector)
        assert (found.signature.size, found.signature.faces) == (expected.size, expected.faces)
    # float32 triangles are hashed as their float64 values
    single = triangles.astype(np.float32)
    assert library.fingerprint(single).geometry_hash == geometry_hash(single.astype(np.float64))
    with pytest.raises(InputError) as caught:
        library.fingerprint(np.zeros((2, 3, 3)))
    assert str(caught.value) == "the mesh has no surface area"


def test_a_reference_with_the_query_signature_is_a_near_copy_of_similarity_one():
    from firetrace.refs.signature import SIGNATURE_LENGTH, Signature

    # float32 rounding makes |a|^2 + |b|^2 - 2ab a little negative for this vector
    vector = np.random.default_rng(0).random(SIGNATURE_LENGTH).astype(np.float32)
    rows = [{"id": 1, "label": "twin", "size": 1.0, "vector": vector, "geometry_hash": "h"}]
    index = library.ReferenceIndex(rows)
    assert index.similarities(vector).tolist() == [1.0]
    found = library.Fingerprint("other", Signature(vector.copy(), 1.0, 12))
    assert [(m["label"], m["match"], m["similarity"]) for m in index.match(found)] == [
        ("twin", "near", 1.0)
    ]


def test_the_best_labels_are_kept_in_stored_order_among_equals():
    scale = library.match_settings().distance_scale
    far = [(f"far{i:02d}", 0.2 * scale, 1.0, f"hf{i}") for i in range(30)]
    near = [(f"near{i:02d}", 0.1 * scale, 1.0, f"hn{i}") for i in range(30)]
    index = _index([*far, *near], max_results=3)
    assert [m["label"] for m in index.match(_query())] == ["near00", "near01", "near02"]


def test_scales_are_rounded_to_four_places_and_small_references_scaled():
    scale = library.match_settings().distance_scale
    index = _index([("third", 0.1 * scale, 3.0, "h1"), ("half", 0.1 * scale, 0.5, "h2")])
    assert [(m["label"], m["scale"]) for m in index.match(_query(size=1.0))] == [
        ("third", 0.3333), ("half", 2.0)
    ]  # fmt: skip
    assert "scale 0.333x" in index.match(_query(size=1.0))[0]["detail"]


def test_a_matcher_is_built_once_per_database_state(db_path, design_files):
    library.add_references(db_path, [design_files["tube"]], "Tube", operator="t")
    first = library.load_matcher(db_path)
    assert library.load_matcher(db_path) is first
    library.add_references(db_path, [design_files["ring"]], "Ring", operator="t")
    second = library.load_matcher(db_path)
    assert second is not first and library.load_matcher(db_path) is second


def test_a_registry_whose_tables_cannot_be_read_is_named(db_path, design_files):
    from firetrace.errors import FiretraceError

    library.add_references(db_path, [design_files["tube"]], "Tube", operator="t")
    with sqlite3.connect(db_path) as conn:
        conn.execute("ALTER TABLE meta RENAME TO meta_gone")
    with pytest.raises(FiretraceError) as caught:
        library.load_matcher(db_path)
    assert str(caught.value) == f"{db_path}: cannot read references: no such table: meta"


def test_references_are_stamped_in_utc_and_removal_is_audited(db_path, design_files):
    from datetime import UTC, datetime, timedelta

    from firetrace.audit import args_digest
    from firetrace.errors import FiretraceError

    (added,) = library.add_references(db_path, [design_files["tube"]], "Tube", operator="t")
    (listed,) = library.list_references(db_path)
    stamped = datetime.fromisoformat(listed["added_at"])
    assert listed["added_at"].endswith("+00:00")
    assert abs(datetime.now(UTC) - stamped) < timedelta(minutes=5)
    with pytest.raises(FiretraceError) as caught:
        library.remove_references(db_path, "Nothing", operator="t")
    assert str(caught.value) == "no reference labelled 'Nothing'"
    assert library.remove_references(db_path, "Tube", operator="ann", purpose="CASE-9") == 1
    with sqlite3.connect(db_path) as conn:
        entry = conn.execute(
            "SELECT operator, purpose, command, args_digest, record_ids FROM audit "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert entry == (
        "ann", "CASE-9", "refs remove", args_digest({"label": "Tube"}), f'["ref:{added["id"]}"]'
    )  # fmt: skip


def test_matching_a_file_takes_the_threshold_given(db_path, design_files):
    from firetrace.refs.canonical import geometry_hash

    library.add_references(db_path, [design_files["bracket"]], "Bracket", operator="t")
    mesh = library.mesh_from_file(design_files["tube"])
    found = library.match_file(db_path, design_files["tube"])
    assert found["geometry_hash"] == geometry_hash(np.asarray(mesh.triangles, dtype=np.float64))
    assert found["references"] == 1 and found["reference_matches"] == []
    loose = library.match_file(db_path, design_files["tube"], threshold=0.0)
    assert [(m["label"], m["match"]) for m in loose["reference_matches"]] == [("Bracket", "near")]


def test_a_mesh_is_read_in_millimetres_as_the_inspector_reads_it(tmp_path):
    # 6 units long, far from the origin in y: the longest side (6) says inches
    box = trimesh.creation.box(extents=(6.0, 6.0, 1.0))
    box.apply_translation((3.0, 103.0, 0.5))
    unitless, declared = tmp_path / "box.stl", tmp_path / "box.3mf"
    box.export(unitless, file_type="stl")
    box.export(declared, file_type="3mf")  # millimetres, as 3MF says
    inches = library.mesh_from_file(unitless)
    assert np.allclose(inches.bounds, [[0.0, 2540.0, 0.0], [152.4, 2692.4, 25.4]], atol=1e-3)
    assert np.allclose(library.mesh_from_file(declared).extents, [6.0, 6.0, 1.0], atol=1e-6)


def test_a_design_file_without_triangles_and_an_unreadable_one_are_named(tmp_path, monkeypatch):
    from unittest.mock import Mock

    gcode = tmp_path / "part.gcode"
    gcode.write_text("G21\nG1 X0 Y0 Z0.2 E1\nG1 X10 Y0 E2\n")
    refused = _refused(gcode)
    assert (str(refused), refused.path) == (
        f"{gcode}: gcode file holds no triangle mesh",
        str(gcode),
    )
    for error, reason in [(PermissionError(13, "Permission denied"), "Permission denied"),
                          (OSError("the disk went away"), "the disk went away")]:  # fmt: skip
        monkeypatch.setattr(library, "open", Mock(side_effect=error), raising=False)
        refused = _refused(gcode)
        assert (str(refused), refused.path) == (f"{gcode}: {reason}", str(gcode))


def test_a_gltf_is_read_with_the_buffer_beside_it_wherever_firetrace_runs(
    tmp_path, monkeypatch, db_path
):
    box = trimesh.creation.box(extents=(20.0, 30.0, 40.0))
    folder = tmp_path / "evidence"
    folder.mkdir()
    for file_name, content in box.export(file_type="gltf").items():
        (folder / file_name).write_bytes(content)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the buffer is beside the file, not in the working folder
    mesh = library.mesh_from_file(folder / "model.gltf")
    assert len(mesh.faces) == 12 and np.allclose(mesh.extents, [20.0, 30.0, 40.0])
    (added,) = library.add_references(db_path, [folder / "model.gltf"], "Box", operator="t")
    assert added["status"] == "added" and added["faces"] == 12


def test_adding_reports_each_file_its_size_and_audits_what_was_asked(db_path, tmp_path):
    from firetrace.audit import args_digest
    from firetrace.refs.signature import compute_signature

    box = trimesh.creation.box(extents=(20.0, 30.0, 40.0))
    path = tmp_path / "box.stl"
    box.export(path, file_type="stl")
    seen = []
    (added,) = library.add_references(db_path, [path], "Box", operator="ann", progress=seen.append)
    assert seen == [path]
    size = compute_signature(np.asarray(library.mesh_from_file(path).triangles)).size
    assert added["size"] == round(size, 6) != size  # six places: 19.50884
    assert (added["faces"], added["label"], added["status"]) == (12, "Box", "added")
    with sqlite3.connect(db_path) as conn:
        (digest,) = conn.execute("SELECT args_digest FROM audit ORDER BY id DESC").fetchone()
    assert digest == args_digest({"label": "Box", "files": [str(path)]})
