"""Disk images as evidence: FAT and ext4 images built at test time with mkfs.fat
and mtools or mke2fs -d, a partitioned image, an image inside an archive and an
E01 made with ewfacquire. Live and recoverable deleted files are both found; the
deleted one is marked with its inode."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from test_scan_fixtures import block_stl, scan_folder, tube_stl, zip_bytes

from firetrace.forensics.evidence import read_evidence

FAT_TOOLS = ("mkfs.fat", "mmd", "mcopy", "mdel")


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(
            f"needs {', '.join(missing)} (installed by .ci/run: dosfstools, mtools, "
            "e2fsprogs, ewf-tools)"
        )


def _run(*args) -> None:
    subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=60)


def fat_image(path: Path, live: bytes, gone: bytes) -> Path:
    """A 2 MB FAT image holding /parts/live.stl and a deleted /gone.stl."""
    _need(*FAT_TOOLS)
    src = path.parent / "src"
    src.mkdir(exist_ok=True)
    (src / "live.stl").write_bytes(live)
    (src / "gone.stl").write_bytes(gone)
    _run("mkfs.fat", "-C", path, 2048)
    _run("mmd", "-i", path, "::/parts")
    _run("mcopy", "-i", path, src / "live.stl", "::/parts/live.stl")
    _run("mcopy", "-i", path, src / "gone.stl", "::/gone.stl")
    _run("mdel", "-i", path, "::/gone.stl")
    shutil.rmtree(src)
    return path


def test_fat_image_yields_live_and_deleted_files(tmp_path):
    live, gone = tube_stl(), block_stl()
    evidence = tmp_path / "e"
    evidence.mkdir()
    image = fat_image(evidence / "sdcard.img", live, gone)
    summary, records = scan_folder(evidence, tmp_path)
    by_content = {r["sha256"]: r for r in records}
    assert set(by_content) == {hashlib.sha256(live).hexdigest(), hashlib.sha256(gone).hexdigest()}
    live_record = by_content[hashlib.sha256(live).hexdigest()]
    gone_record = by_content[hashlib.sha256(gone).hexdigest()]
    assert live_record["path"] == f"{image}!/parts/live.stl"
    assert live_record["deleted"] is False and live_record["inode"] > 0
    assert gone_record["deleted"] is True and isinstance(gone_record["inode"], int)
    # FAT overwrites the first letter of a deleted name; the rest survives
    assert gone_record["path"].startswith(f"{image}!/") and gone_record["path"].lower().endswith(
        "one.stl"
    )
    assert summary.manifest["counts"]["deleted_files"] == 1
    image_info = summary.manifest["disk_images"][0]
    assert image_info["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    # the report can re-read both through the image
    assert read_evidence(live_record["path"]) == live
    assert read_evidence(gone_record["path"], inode=gone_record["inode"]) == gone


def test_image_root_hashes_in_manifest(tmp_path):
    image = fat_image(tmp_path / "card.dd", tube_stl(), block_stl())
    summary, records = scan_folder(image, tmp_path)
    assert len(records) == 2
    root = summary.manifest["roots"][0]
    assert root["type"] == "disk_image" and root["image_kind"] == "disk"
    data = image.read_bytes()
    assert root["sha256"] == hashlib.sha256(data).hexdigest()
    assert root["md5"] == hashlib.md5(data).hexdigest()


def test_partitioned_image(tmp_path):
    fat = fat_image(tmp_path / "fat.img", tube_stl(), block_stl())
    volume = fat.read_bytes()
    mbr = bytearray(512)
    start, sectors = 2048, len(volume) // 512
    entry = bytes([0x00, 0, 0, 0, 0x01, 0, 0, 0]) + start.to_bytes(4, "little")
    entry += sectors.to_bytes(4, "little")
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    disk = tmp_path / "e" / "disk.raw"
    disk.parent.mkdir()
    disk.write_bytes(bytes(mbr) + bytes(start * 512 - 512) + volume)
    _, records = scan_folder(disk.parent, tmp_path)
    live = [r for r in records if not r["deleted"]]
    assert len(records) == 2 and len(live) == 1
    assert live[0]["path"].startswith(f"{disk}!/partition")
    assert live[0]["path"].endswith("/parts/live.stl")
    assert read_evidence(live[0]["path"]) == tube_stl()


def test_image_inside_an_archive(tmp_path):
    fat = fat_image(tmp_path / "fat.img", tube_stl(), block_stl())
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "backup.zip").write_bytes(zip_bytes({"cards/sd.img": fat.read_bytes()}))
    _, records = scan_folder(evidence, tmp_path)
    paths = sorted(r["path"] for r in records)
    assert f"{evidence}/backup.zip!/cards/sd.img!/parts/live.stl" in paths
    assert len(paths) == 2
    assert read_evidence(f"{evidence}/backup.zip!/cards/sd.img!/parts/live.stl") == tube_stl()


def test_ext4_image_made_with_mke2fs(tmp_path):
    _need("mke2fs")
    src = tmp_path / "src"
    (src / "home" / "u").mkdir(parents=True)
    (src / "home" / "u" / "slide.stl").write_bytes(tube_stl())
    (src / "home" / "u" / "cv.txt").write_text("curriculum vitae\n")
    image = tmp_path / "e" / "disk.ext4"
    image.parent.mkdir()
    _run("mke2fs", "-q", "-t", "ext4", "-d", src, image, "4M")
    _, records = scan_folder(image.parent, tmp_path)
    assert [r["path"] for r in records] == [f"{image}!/home/u/slide.stl"]
    assert records[0]["sha256"] == hashlib.sha256(tube_stl()).hexdigest()


def test_e01_image(tmp_path):
    _need("ewfacquire", *FAT_TOOLS)
    fat = fat_image(tmp_path / "fat.img", tube_stl(), block_stl())
    evidence = tmp_path / "e"
    evidence.mkdir()
    _run(
        "ewfacquire",
        "-u",
        "-q",
        "-t",
        evidence / "seized",
        "-f",
        "encase6",
        "-c",
        "deflate:fast",
        "-e",
        "examiner",
        "-E",
        "item 1",
        "-D",
        "sd card",
        "-N",
        "test",
        fat,
    )
    image = evidence / "seized.E01"
    assert image.is_file()
    summary, records = scan_folder(image, tmp_path)
    assert sorted(r["deleted"] for r in records) == [False, True]
    live = next(r for r in records if not r["deleted"])
    assert live["path"] == f"{image}!/parts/live.stl"
    root = summary.manifest["roots"][0]
    assert root["image_kind"] == "ewf"
    assert root["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    stored = summary.manifest["disk_images"][0]["acquisition_hashes"]
    assert stored["md5"] == hashlib.md5(fat.read_bytes()).hexdigest()
    assert read_evidence(live["path"]) == tube_stl()


def test_garbage_with_boot_signature_is_reported(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    data = bytearray(65536)
    data[510:512] = b"\x55\xaa"
    (evidence / "blob.bin").write_bytes(bytes(data))
    summary, records = scan_folder(evidence, tmp_path)
    assert records == []
    assert "no file system" in summary.manifest["errors"][0]["reason"]


def test_e01_in_several_segments(tmp_path):
    _need("ewfacquire", *FAT_TOOLS)
    fat = fat_image(tmp_path / "fat.img", tube_stl(), block_stl())
    evidence = tmp_path / "e"
    evidence.mkdir()
    _run(
        "ewfacquire",
        "-u",
        "-q",
        "-t",
        evidence / "card",
        "-f",
        "encase6",
        "-c",
        "none",
        "-S",
        "1MiB",
        fat,
    )
    segments = sorted(p.name for p in evidence.iterdir())
    assert segments[:2] == ["card.E01", "card.E02"]
    summary, records = scan_folder(evidence, tmp_path)
    assert sorted(r["deleted"] for r in records) == [False, True]
    live = next(r for r in records if not r["deleted"])
    assert live["path"] == f"{evidence}/card.E01!/parts/live.stl"
    assert read_evidence(live["path"]) == tube_stl()
    skipped = {e["path"].rsplit("/", 1)[1] for e in summary.manifest["skipped"]}
    assert skipped == set(segments[1:])
    image = summary.manifest["disk_images"][0]
    assert [s["path"].rsplit("/", 1)[1] for s in image["segments"]] == segments
    assert (
        image["segments"][1]["sha256"]
        == hashlib.sha256((evidence / "card.E02").read_bytes()).hexdigest()
    )


def test_block_device_named_as_evidence(tmp_path):
    """A drive named on the command line is read like an image (a loop device here)."""
    _need("losetup", *FAT_TOOLS)
    image = fat_image(tmp_path / "fat.img", tube_stl(), block_stl())
    attach = subprocess.run(
        ["losetup", "--read-only", "--find", "--show", str(image)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if attach.returncode != 0:
        pytest.skip(f"cannot attach a loop device here: {attach.stderr.strip()}")
    device = attach.stdout.strip()
    try:
        summary, records = scan_folder(Path(device), tmp_path)
        assert sorted(r["deleted"] for r in records) == [False, True]
        live = next(r for r in records if not r["deleted"])
        assert live["path"] == f"{device}!/parts/live.stl"
        assert read_evidence(live["path"]) == tube_stl()
        root = summary.manifest["roots"][0]
        assert root["block_device"] is True and root["type"] == "disk_image"
        assert root["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True, timeout=30)


def test_devices_inside_folders_are_not_opened(tmp_path):
    import os
    import stat as stat_mod

    evidence = tmp_path / "e"
    evidence.mkdir()
    try:
        os.mknod(evidence / "disk", stat_mod.S_IFBLK | 0o600, os.makedev(7, 250))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    summary, records = scan_folder(evidence, tmp_path)
    assert records == [] and summary.manifest["counts"]["special"] == 1
    assert "block device" in summary.manifest["skipped"][0]["reason"]
