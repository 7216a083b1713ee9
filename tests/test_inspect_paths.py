"""`inspect` takes what `scan` gives: `archive.zip!/member.stl` paths (archives,
nested archives, disk images) read through the scan's readers and guards, several
files at once, and the same record as the scan (SHA-1 included)."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.test_disk_images import fat_image
from tests.test_scan_fixtures import block_stl, tube_stl, zip_bytes


def scan_records(run_cli, evidence, out) -> list[dict]:
    result = run_cli("scan", evidence, "--jsonl", out, "-j", "1", "--min-verdict", "clear")
    assert result.exit_code in (0, 1), result.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def inspected(run_cli, *paths) -> tuple[int, dict]:
    result = run_cli("inspect", *paths, "--json")
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def assert_same_record(scanned: dict, record: dict) -> None:
    for key, value in scanned.items():
        if key == "hashset":  # a scan-only stamp (--hashset)
            continue
        assert record[key] == value, key


def test_zip_members_and_nested_archives_give_the_scan_record(tmp_path, run_cli):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    inner = zip_bytes({"deep/receiver_part.stl": tube_stl()})
    (evidence / "parts.zip").write_bytes(
        zip_bytes({"lower.stl": tube_stl(), "cube.stl": block_stl(), "inner.zip": inner})
    )
    records = scan_records(run_cli, evidence, tmp_path / "scan.jsonl")
    paths = sorted(r["path"] for r in records)
    assert paths == sorted(
        f"{evidence}/parts.zip!/{name}"
        for name in ("cube.stl", "inner.zip!/deep/receiver_part.stl", "lower.stl")
    )
    for scanned in records:
        code, record = inspected(run_cli, scanned["path"])
        assert_same_record(scanned, record)
        assert record["sha1"] and len(record["sha1"]) == 40 and record["format"] == "stl"
        assert code == (1 if scanned["verdict"] in ("review", "high") else 0)


def test_several_files_at_once(tmp_path, run_cli):
    tube, cube = tmp_path / "tube.stl", tmp_path / "cube.stl"
    tube.write_bytes(tube_stl())
    cube.write_bytes(block_stl())
    code, document = inspected(run_cli, tube, cube)
    assert [r["path"] for r in document["records"]] == [str(tube), str(cube)]
    assert [r["verdict"] for r in document["records"]] == ["review", "clear"]
    assert code == 1  # the highest: one file is flagged
    human = run_cli("inspect", tube, cube)
    assert human.stdout.count("sha256") == 2 and human.exit_code == 1


def test_a_file_that_cannot_be_opened_among_several_is_an_error_record(tmp_path, run_cli):
    tube = tmp_path / "tube.stl"
    tube.write_bytes(tube_stl())
    code, document = inspected(run_cli, tube, tmp_path / "gone.stl")
    first, second = document["records"]
    assert first["verdict"] == "review"
    assert second["verdict"] == "error" and "no such file" in second["error"]
    assert code == 2


def test_disk_image_files_live_and_deleted(tmp_path, run_cli):
    image = fat_image(tmp_path / "card.img", tube_stl(), block_stl())
    records = scan_records(run_cli, image, tmp_path / "scan.jsonl")
    live = next(r for r in records if r["path"].endswith("parts/live.stl"))
    code, record = inspected(run_cli, live["path"])
    assert_same_record(live, record)
    assert record["deleted"] is False and record["inode"] == live["inode"]


def test_an_archive_named_itself_says_how_to_reach_its_files(tmp_path, run_cli):
    archive = tmp_path / "parts.zip"
    archive.write_bytes(zip_bytes({"lower.stl": tube_stl()}))
    code, record = inspected(run_cli, archive)
    assert code == 2 and record["verdict"] == "error" and record["format"] is None
    assert f"{archive}!/NAME" in record["error"] and "scan" in record["error"]
    human = run_cli("inspect", archive)
    assert "not a design file" in human.stdout and "None" not in human.stdout


def test_a_missing_member_names_the_layer(tmp_path, run_cli):
    archive = tmp_path / "parts.zip"
    archive.write_bytes(zip_bytes({"lower.stl": tube_stl()}))
    result = run_cli("inspect", f"{archive}!/upper.stl")
    assert result.exit_code == 2
    assert f"{archive}!/upper.stl: member not found" in result.stderr


@pytest.mark.parametrize(
    "member, reason",
    [("../../etc/evil.stl", "refused"), ("/abs/evil.stl", "refused")],
)
def test_hostile_member_names_are_refused_unread(tmp_path, run_cli, member, reason):
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, tube_stl())
    result = run_cli("inspect", f"{archive}!/{member}")
    assert result.exit_code == 2 and reason in result.stderr
    assert "Traceback" not in result.stderr


def test_a_decompression_bomb_member_is_refused(tmp_path, run_cli):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.stl", b"\0" * (40 << 20))  # 40 MB of zeros: ratio ~1000:1
    result = run_cli("inspect", f"{archive}!/big.stl")
    assert result.exit_code == 2 and "refused" in result.stderr
