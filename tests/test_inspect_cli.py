"""The ``firetrace inspect`` command: human panel, --json record, exit codes, --rules."""

from __future__ import annotations

import json

import trimesh


def _tube(path):
    tube = trimesh.boolean.difference(
        [
            trimesh.creation.cylinder(radius=12, height=150, sections=48),
            trimesh.creation.cylinder(radius=4.5, height=160, sections=48),
        ],
        engine="manifold",
    )
    tube.apply_transform(trimesh.transformations.rotation_matrix(0.7, [1, 1, 0]))
    tube.export(path)
    return path


def test_json_prints_one_record_and_exit_1_when_flagged(run_cli, tmp_path):
    path = _tube(tmp_path / "part.stl")
    result = run_cli("inspect", path, "--json")
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["path"] == str(path)
    assert record["format"] == "stl" and record["verdict"] == "review"
    assert len(record["sha256"]) == 64 and len(record["md5"]) == 32
    assert record["size"] == path.stat().st_size
    bore = next(f for f in record["findings"] if f["rule"] == "bore.calibre_range")
    assert abs(bore["value"] - 9.0) < 0.6
    assert record["reference_matches"] == [] and record["error"] is None


def test_human_output_shows_verdict_findings_and_features(run_cli, tmp_path):
    path = _tube(tmp_path / "part.stl")
    result = run_cli("inspect", path)
    assert result.exit_code == 1
    for text in ("REVIEW", "bore.calibre_range", "straight bore", "genus", "Holes"):
        assert text in result.stdout


def test_clear_file_exits_0(run_cli, tmp_path):
    path = tmp_path / "cube.stl"
    trimesh.creation.box((20, 20, 20)).export(path)
    result = run_cli("inspect", path, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["verdict"] == "clear"


def test_unreadable_file_exits_2_with_an_error_record(run_cli, tmp_path):
    path = tmp_path / "broken.stl"
    path.write_bytes(b"\0" * 80 + (1000).to_bytes(4, "little") + b"\0" * 100)
    result = run_cli("inspect", path, "--json")
    assert result.exit_code == 2
    record = json.loads(result.stdout)
    assert record["verdict"] == "error" and "truncated" in record["error"]


def test_missing_file_is_a_one_line_usage_error(run_cli, tmp_path):
    result = run_cli("inspect", tmp_path / "nope.stl")
    assert result.exit_code == 2
    assert "nope.stl" in result.stderr and "Traceback" not in result.stderr


def test_rules_folder_changes_the_verdict(run_cli, tmp_path):
    path = _tube(tmp_path / "part.stl")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "quiet.toml").write_text(
        '[[rule]]\nid = "bore.calibre_range"\nfeature = "holes"\nenabled = false\n'
    )
    result = run_cli("inspect", path, "--json", "--rules", rules)
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["verdict"] == "clear"
    # the bore is still measured; only the rule that weighs it is switched off
    assert any(h["shape"] == "round" and h["axis"] == 0 for h in record["features"]["holes"])


def test_bad_rules_folder_is_exit_2(run_cli, tmp_path):
    path = _tube(tmp_path / "part.stl")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.toml").write_text("[[rule]\n")
    result = run_cli("inspect", path, "--rules", rules)
    assert result.exit_code == 2 and "invalid TOML" in result.stderr


def test_names_from_the_file_are_shown_literally_not_as_markup(run_cli, tmp_path):
    path = tmp_path / "[a]_knob.obj"
    text = "o [red]fake verdict[/red]\n" + trimesh.creation.box((20, 20, 20)).export(
        file_type="obj"
    )
    path.write_text(text)
    result = run_cli("inspect", path)
    assert result.exit_code == 0
    assert "[a]_knob.obj" in result.stdout
    assert "[red]fake verdict[/red]" in result.stdout


def test_fifo_is_refused_without_being_opened(run_cli, tmp_path):
    import os

    fifo = tmp_path / "pipe.stl"
    os.mkfifo(fifo)  # opening it for reading would block forever
    result = run_cli("inspect", fifo)
    assert result.exit_code == 2
    assert "not a regular file" in result.stderr
