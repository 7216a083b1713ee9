"""Archives as evidence: zip, 7z, tar (gz, bz2, xz) and single compressed streams;
bombs and hostile member names are refused and reported while the rest of the
archive is still scanned."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest
from test_scan_fixtures import block_stl, scan_folder, seven_zip, tube_stl, zip_bytes

from firetrace.forensics.archives import container_kind, hostile_name
from firetrace.forensics.limits import load_limits


def _tar(members: dict[str, bytes], mode: str = "w:gz", links: dict[str, str] | None = None):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def test_zip_bomb_and_hostile_names_refused_rest_scanned(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    stl = tube_stl()
    archive = zip_bytes(
        {
            "bomb.bin": b"\0" * (50 << 20),  # 50 MB of zeros: ~1000:1
            "../escape.stl": stl,
            "/etc/absolute.stl": stl,
            "C:/windows/drive.stl": stl,
            "good/part.stl": stl,
            "readme.txt": b"hello",
        }
    )
    (evidence / "mixed.zip").write_bytes(archive)
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/mixed.zip!/good/part.stl"]
    refused = {e["path"].split("!/", 1)[1]: e["reason"] for e in summary.manifest["refused"]}
    assert set(refused) == {
        "bomb.bin",
        "../escape.stl",
        "/etc/absolute.stl",
        "C:/windows/drive.stl",
    }
    assert "compression ratio" in refused["bomb.bin"]
    assert "(..)" in refused["../escape.stl"]
    assert "absolute" in refused["/etc/absolute.stl"]
    assert summary.manifest["counts"]["refused"] == 4


def test_nested_zip_bomb_refused_inside_outer_archive(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    bomb = zip_bytes({f"z{i}.bin": b"\0" * (24 << 20) for i in range(2)})
    outer = zip_bytes({"layer1/bomb.zip": bomb, "layer1/ok.stl": block_stl()}, zipfile.ZIP_STORED)
    (evidence / "outer.zip").write_bytes(outer)
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/outer.zip!/layer1/ok.stl"]
    refused = [e["path"] for e in summary.manifest["refused"]]
    assert refused == [f"{evidence}/outer.zip!/layer1/bomb.zip!/z{i}.bin" for i in range(2)]


@pytest.mark.parametrize("mode", ["w:gz", "w:bz2", "w:xz", "w:"])
def test_tar_variants_scanned_with_hostile_members_refused(tmp_path, mode):
    evidence = tmp_path / "e"
    evidence.mkdir()
    data = _tar(
        {"a/part.stl": tube_stl(), "../../up.stl": block_stl(), "doc.txt": b"x" * 100},
        mode,
        links={"a/link.stl": "/etc/passwd"},
    )
    (evidence / "bundle.bin").write_bytes(data)  # named to prove content decides
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/bundle.bin!/a/part.stl"]
    assert [e["path"] for e in summary.manifest["refused"]] == [
        f"{evidence}/bundle.bin!/../../up.stl"
    ]
    skipped = [e for e in summary.manifest["skipped"] if e["path"].endswith("a/link.stl")]
    assert skipped and "link" in skipped[0]["reason"]


def test_tar_gz_bomb_stops_reading(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    data = _tar(
        {"first.stl": tube_stl(), "zeros.bin": b"\0" * (60 << 20), "after.stl": block_stl()}
    )
    (evidence / "b.tgz").write_bytes(data)
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/b.tgz!/first.stl"]
    refused = summary.manifest["refused"]
    assert refused and "compression ratio" in refused[0]["reason"]


@pytest.mark.parametrize(
    "compress,suffix", [(gzip.compress, ".gz"), (bz2.compress, ".bz2"), (lzma.compress, ".xz")]
)
def test_single_compressed_stream(tmp_path, compress, suffix):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / f"part.stl{suffix}").write_bytes(compress(tube_stl()))
    _, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/part.stl{suffix}!/part.stl"]


@pytest.mark.slow
def test_7z_bomb_refused_by_overall_ratio(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "big.7z").write_bytes(seven_zip({"zeros.bin": b"\0" * (40 << 20)}))
    (evidence / "ok.7z").write_bytes(seven_zip({"p.stl": tube_stl()}))
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/ok.7z!/p.stl"]
    refused = summary.manifest["refused"]
    assert [e["path"] for e in refused] == [f"{evidence}/big.7z"]
    assert "compression ratio" in refused[0]["reason"]


def test_member_count_limit_from_user_rules(tmp_path):
    rules = tmp_path / "rules" / "forensics"
    rules.mkdir(parents=True)
    (rules / "scan.toml").write_text("[bombs]\nmax_members = 2\n")
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "many.zip").write_bytes(
        zip_bytes({f"p{i}.stl": tube_stl(length=20 + i) for i in range(4)})
    )
    summary, records = scan_folder(evidence, tmp_path, rules_dir=tmp_path / "rules")
    assert len(records) == 2
    assert len(summary.manifest["refused"]) == 2
    assert summary.manifest["options"]["limits"]["max_members"] == 2


def test_unknown_limit_key_is_an_input_error(tmp_path):
    from firetrace.errors import InputError

    rules = tmp_path / "forensics"
    rules.mkdir()
    (rules / "scan.toml").write_text("[bombs]\nmax_member = 2\n")
    with pytest.raises(InputError, match="unknown scan limit 'max_member'"):
        load_limits(tmp_path)


def test_corrupt_archives_reported_not_fatal(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    good = zip_bytes({"a.stl": tube_stl()})
    (evidence / "cut.zip").write_bytes(good[: len(good) // 2])
    (evidence / "cut.7z").write_bytes(seven_zip({"a.stl": tube_stl()})[:60])
    (evidence / "cut.tgz").write_bytes(_tar({"a.stl": tube_stl()})[:200])
    (evidence / "fine.stl").write_bytes(block_stl())
    summary, records = scan_folder(evidence, tmp_path)
    assert [r["path"] for r in records] == [f"{evidence}/fine.stl"]
    errored = {e["path"].split("!/")[0].rsplit("/", 1)[1] for e in summary.manifest["errors"]}
    assert errored == {"cut.7z", "cut.tgz", "cut.zip"}


def test_3mf_is_a_design_file_not_an_archive(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    model = (
        '<?xml version="1.0"?><model unit="millimeter" '
        'xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources>'
        '<object id="1" type="model"><mesh><vertices><vertex x="0" y="0" z="0"/>'
        '<vertex x="10" y="0" z="0"/><vertex x="0" y="10" z="0"/><vertex x="0" y="0" z="10"/>'
        '</vertices><triangles><triangle v1="0" v2="2" v3="1"/><triangle v1="0" v2="1" v3="3"/>'
        '<triangle v1="1" v2="2" v3="3"/><triangle v1="0" v2="3" v3="2"/></triangles></mesh>'
        '</object></resources><build><item objectid="1"/></build></model>'
    )
    three_mf = zip_bytes({"3D/3dmodel.model": model.encode(), "[Content_Types].xml": b"<Types/>"})
    (evidence / "print.3mf").write_bytes(three_mf)
    (evidence / "box.zip").write_bytes(zip_bytes({"inner.3mf": three_mf}))
    _, records = scan_folder(evidence, tmp_path)
    assert sorted((r["path"], r["format"]) for r in records) == [
        (f"{evidence}/box.zip!/inner.3mf", "3mf"),
        (f"{evidence}/print.3mf", "3mf"),
    ]


def test_container_kind_and_hostile_name():
    assert container_kind(b"PK\x03\x04rest", 10) == "zip"
    assert container_kind(b"7z\xbc\xaf\x27\x1c", 10) == "7z"
    assert container_kind(b"\x1f\x8b\x08", 10) == "gzip"
    assert container_kind(b"BZh9", 10) == "bzip2"
    assert container_kind(b"\xfd7zXZ\x00", 10) == "xz"
    assert container_kind(b"EVF\x09\x0d\x0a\xff\x00", 10) == "ewf"
    assert container_kind(b"\xff\xd8\xff\xe0" + bytes(600), 600) is None
    assert hostile_name("a/../../b") and hostile_name("\\\\server\\share\\x")
    assert hostile_name("a/b..c/d.stl") is None and hostile_name("dir/x.stl") is None


def test_compressed_stream_bomb_refused(tmp_path):
    evidence = tmp_path / "e"
    evidence.mkdir()
    (evidence / "zeros.bin.gz").write_bytes(gzip.compress(b"\0" * (40 << 20), compresslevel=1))
    summary, records = scan_folder(evidence, tmp_path)
    assert records == []
    refused = summary.manifest["refused"]
    assert [e["path"] for e in refused] == [f"{evidence}/zeros.bin.gz!/zeros.bin"]


# --- members read directly (cheap: small archives, no scan) -----------------------


def _members(kind: str, data: bytes, **limits):
    """(name, size, content, head) of each member, and the tally."""
    from test_archive_guards import _entries

    return _entries(kind, data, layers=("ev/a." + kind,), **limits)


def test_7z_members_are_read_with_their_names_sizes_and_heads():
    data = seven_zip({"a.stl": b"solid a\n" * 10, "dir/b.bin": b"\1\2\3"})
    found, tally = _members("7z", data)
    assert sorted(found) == [
        ("a.stl", 80, b"solid a\n" * 10, b"soli"),
        ("dir/b.bin", 3, b"\1\2\3", b"\1\2\3"),
    ]
    assert tally.events == [] and not tally.counts


def test_7z_members_past_the_memory_allowance_are_staged_on_disk_alike():
    members = {f"m{i}.bin": bytes([i]) * (1000 + i) for i in range(4)}
    in_memory, _ = _members("7z", seven_zip(members))
    on_disk, _ = _members("7z", seven_zip(members), in_memory_bytes=1500)
    assert sorted(on_disk) == sorted(in_memory)
    assert sorted((n, s) for n, s, *_ in in_memory) == [(f"m{i}.bin", 1000 + i) for i in range(4)]


def test_7z_limits_on_members_and_sizes_are_named():
    data = seven_zip({"a.bin": b"a" * 100, "b.bin": b"b" * 5000, "c.bin": b"c" * 10})
    found, tally = _members("7z", data, max_member_bytes=4000, max_members=2)
    assert [n for n, *_ in found] == ["a.bin"]
    assert tally.events == [
        {"kind": "refused", "path": "ev/a.7z!/b.bin",
         "reason": "member of 5000 bytes exceeds the member-size limit"},
        {"kind": "refused", "path": "ev/a.7z!/c.bin",
         "reason": "archive holds more than 2 members"},
    ]  # fmt: skip


def test_a_7z_whose_members_expand_past_the_ratio_is_refused_whole():
    data = seven_zip({"z1.bin": b"\0" * 40_000, "z2.bin": b"\0" * 40_000})
    found, tally = _members("7z", data, ratio_floor_bytes=50_000, max_ratio=20)
    assert found == [] and tally.counts["refused"] == 2
    (event,) = tally.events
    ratio = 80_000 / len(data)
    assert event == {"kind": "refused", "path": "ev/a.7z",
                     "reason": f"compression ratio {ratio:.0f}:1 exceeds 20:1"}  # fmt: skip
    # under the floor, or within the ratio, it is read
    assert len(_members("7z", data, ratio_floor_bytes=80_001, max_ratio=20)[0]) == 2
    assert len(_members("7z", data, ratio_floor_bytes=80_000, max_ratio=ratio)[0]) == 2


def test_a_7z_declaring_more_than_the_total_budget_is_refused_whole():
    data = seven_zip({"z1.bin": b"\0" * 4000, "z2.bin": b"\1" * 4000})
    found, tally = _members("7z", data, max_total_bytes=6000)
    assert found == [] and tally.counts["refused"] == 2
    reason = "member of 8000 bytes exceeds the member-size limit"
    assert tally.events == [{"kind": "refused", "path": "ev/a.7z", "reason": reason}]
    assert len(_members("7z", data, max_total_bytes=8000)[0]) == 2


def test_unreadable_and_encrypted_7z_are_errors_not_crashes():
    import py7zr

    found, tally = _members("7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 40)
    assert found == [] and tally.counts["errors"] == 1
    assert tally.events[0]["reason"].startswith("unreadable 7z: ")
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password="secret", header_encryption=True) as archive:
        archive.writestr(b"hidden", "h.txt")
    found, tally = _members("7z", buf.getvalue())
    assert found == [] and tally.events == [
        {"kind": "error", "path": "ev/a.7z",
         "reason": "encrypted 7z (its file list too) not read"}
    ]  # fmt: skip
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password="secret") as archive:
        archive.writestr(b"hidden", "h.txt")
    found, tally = _members("7z", buf.getvalue())
    assert found == [] and tally.events == [
        {"kind": "error", "path": "ev/a.7z", "reason": "encrypted 7z not read"}
    ]


def test_tar_members_special_files_and_limits_are_named():
    data = _tar({"a.bin": b"a" * 10, "big.bin": b"b" * 3000, "c.bin": b"c", "d.bin": b"d"},
                mode="w", links={"link": "a.bin"})  # fmt: skip
    found, tally = _members("tar", data, max_member_bytes=2000, max_members=3)
    assert [(n, s, c, h) for n, s, c, h in found] == [("a.bin", 10, b"a" * 10, b"aaaa"),
                                                      ("c.bin", 1, b"c", b"c")]  # fmt: skip
    assert tally.events == [
        {"kind": "refused", "path": "ev/a.tar!/big.bin",
         "reason": "member of 3000 bytes exceeds the member-size limit"},
        {"kind": "refused", "path": "ev/a.tar!/d.bin",
         "reason": "archive holds more than 3 members"},
        {"kind": "skipped", "path": "ev/a.tar!/link",
         "reason": "link or device member not followed"},
    ]  # fmt: skip
    assert (tally.counts["refused"], tally.counts["special"]) == (2, 1)


def test_a_tar_expanding_past_the_ratio_stops_at_that_member():
    data = _tar({"a.bin": b"\0" * 30_000, "b.bin": b"\0" * 30_000, "c.bin": b"x"}, mode="w:gz")
    found, tally = _members("gzip", data, ratio_floor_bytes=70_000, max_ratio=10)
    assert [n for n, *_ in found] == ["a.bin"]
    (event,) = tally.events
    assert event["path"] == "ev/a.gzip!/b.bin"
    assert event["reason"].startswith("compression ratio beyond 10:1 (")
    assert event["reason"].endswith(f" bytes from {len(data)})")


def test_a_corrupt_tar_stream_stops_with_an_error():
    data = _tar({"a.bin": b"a" * 5000, "b.bin": b"b" * 5000}, mode="w:gz")
    found, tally = _members("gzip", data[: len(data) // 2])
    assert tally.counts["errors"] == 1
    assert tally.events[-1]["reason"].startswith(("tar read stopped: ", "unreadable"))


def _members_named(kind: str, data: bytes, name: str, **limits):
    from firetrace.forensics.archives import iter_members
    from firetrace.forensics.entries import Tally
    from firetrace.forensics.limits import ScanLimits
    from firetrace.forensics.readonly import PrivateStaging

    tally, staging = Tally(), PrivateStaging()
    found = []
    try:
        for entry in iter_members(kind, io.BytesIO(data), len(data), ("ev", f"d/{name}"),
                                  ScanLimits(**limits), tally, staging):  # fmt: skip
            with entry.opener() as fh:
                found.append((entry.layers[-1], entry.size, fh.read(), entry.head_reader(5)))
            found.append(entry.head_reader(3))  # read again: from the start
    finally:
        staging.cleanup()
    return found, tally


@pytest.mark.parametrize(
    ("kind", "compress", "name", "member"),
    [
        ("gzip", gzip.compress, "part.stl.gz", "part.stl"),
        ("gzip", gzip.compress, "PART.TGZ", "PART.tar"),
        ("bzip2", bz2.compress, "part.stl.bz2", "part.stl"),
        ("bzip2", bz2.compress, "x.tbz2", "x.tar"),
        ("xz", lzma.compress, "part.xz", "part"),
        ("xz", lzma.compress, "odd.bin", "odd.bin.out"),
    ],
)
def test_a_single_compressed_stream_is_one_member_named_after_it(kind, compress, name, member):
    payload = b"solid part\n" + b"x" * 1000
    found, tally = _members_named(kind, compress(payload), name)
    assert found == [(member, len(payload), payload, b"solid"), b"sol"]
    assert tally.events == []


def test_a_compressed_tar_is_read_as_a_tar():
    data = _tar({"in/a.bin": b"a" * 600}, mode="w:xz")
    found, tally = _members_named("xz", data, "b.txz")
    assert found[0] == ("in/a.bin", 600, b"a" * 600, b"aaaaa")


def test_a_corrupt_or_exploding_compressed_stream_is_named():
    found, tally = _members_named("gzip", b"\x1f\x8b\x09\x00" + b"\xff" * 40, "bad.gz")
    assert found == [] and tally.counts["errors"] == 1
    (event,) = tally.events
    assert event["kind"] == "error" and event["path"] == "ev!/d/bad.gz"
    assert event["reason"].startswith("unreadable gzip stream: ")
    # a valid header over a corrupt deflate body (zlib.error, not an OSError)
    header = gzip.compress(b"x")[:10]
    found, tally = _members_named("gzip", header + b"\xff" * 40, "body.gz")
    assert found == [] and tally.counts["errors"] == 1
    assert tally.events[0]["reason"].startswith("unreadable gzip stream: ")
    whole = gzip.compress(bytes(range(256)) * 400)
    truncated = whole[: len(whole) // 2]
    found, tally = _members_named("gzip", truncated, "cut.gz")
    assert found == [] and tally.counts["errors"] == 1
    assert tally.events[0]["reason"].startswith("unreadable gzip stream: ")
    data = gzip.compress(b"\0" * 100_000)
    found, tally = _members_named("gzip", data, "z.gz", ratio_floor_bytes=1000, max_ratio=10)
    assert found == [] and tally.counts["refused"] == 1
    cap = max(min(4 << 30, int(10 * len(data))), 1000)
    reason = f"member expands beyond its declared or allowed {cap} bytes"
    assert tally.events == [{"kind": "refused", "path": "ev!/d/z.gz!/z", "reason": reason}]


def test_an_unreadable_tar_is_one_error_naming_the_archive():
    found, tally = _members("tar", b"not a tar at all" * 40)
    assert found == [] and tally.counts == {"errors": 1}
    (event,) = tally.events
    assert (event["kind"], event["path"]) == ("error", "ev/a.tar")
    assert event["reason"].startswith("unreadable tar: ")


def test_tar_members_keep_their_time_and_a_tar_past_the_total_budget_is_refused():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("t.bin")
        info.size, info.mtime = 3, 1_700_000_000
        tf.addfile(info, io.BytesIO(b"abc"))
    from firetrace.forensics.archives import iter_members
    from firetrace.forensics.entries import Tally, iso_utc
    from firetrace.forensics.limits import ScanLimits
    from firetrace.forensics.readonly import PrivateStaging

    staging = PrivateStaging()
    try:
        data = buf.getvalue()
        (entry,) = iter_members("tar", io.BytesIO(data), len(data), ("t.tar",), ScanLimits(),
                                Tally(), staging)  # fmt: skip
        assert entry.modified == iso_utc(1_700_000_000)
    finally:
        staging.cleanup()
    from firetrace.forensics.archives import BombRefused

    data = _tar({"a.bin": b"a" * 3000, "b.bin": b"b" * 3000}, mode="w")
    with pytest.raises(BombRefused, match="^archive expands beyond the total-bytes limit$"):
        _members("tar", data, max_total_bytes=4000)  # the second member is refused
