"""The archive guards at their edges, read member by member (small archives built
here, no scan; tests/test_archives.py has the scans): container signatures and their
boundaries, the exact refusal and error reports with the archive's path and counts,
zip members (directories, encrypted, times, heads), the staged view callers may
close, the memory allowance of 7z members, and the tar ratio at its limits."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import struct
import tarfile
import tracemalloc
import zipfile

import py7zr
import pytest
from test_scan_fixtures import seven_zip, zip_bytes

from firetrace.forensics.archives import BombRefused, container_kind, hostile_name, iter_members
from firetrace.forensics.entries import Tally
from firetrace.forensics.limits import ScanLimits
from firetrace.forensics.readonly import PrivateStaging


class RecordingStaging(PrivateStaging):
    """Real staging that notes where each member is put: ("memory", allowance) or "disk"."""

    def __init__(self) -> None:
        super().__init__()
        self.placed: list = []

    def spooled(self, in_memory_bytes):
        self.placed.append(("memory", in_memory_bytes))
        return super().spooled(in_memory_bytes)

    def on_disk(self):
        self.placed.append("disk")
        return super().on_disk()


def _entries(kind, data, layers=("ev/a.x",), staging=None, read=True, head=True, **limits):
    """(name, size, content or None, head or None) of each member, and the tally."""
    tally, staging = Tally(), staging or PrivateStaging()
    found = []
    try:
        for entry in iter_members(kind, io.BytesIO(data), len(data), layers,
                                  ScanLimits(**limits), tally, staging):  # fmt: skip
            first = entry.head_reader(4) if head else None
            content = None
            if read:
                with entry.opener() as fh:
                    content = fh.read()
            found.append((entry.layers[-1], entry.size, content, first))
    finally:
        staging.cleanup()
    return found, tally


def _tar(members, mode="w"):
    """A tar of (name, data) members; data None makes a directory, str a symlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif isinstance(data, str):
                info.type, info.linkname = tarfile.SYMTYPE, data
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip_patched(data: bytes, **central) -> bytes:
    """A zip whose central-directory record of the first member is rewritten (a crafted
    header): ``flags`` (general purpose bits), ``file_size`` (the declared size)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    if "flags" in central:
        struct.pack_into("<H", out, at + 8, central["flags"])
    if "file_size" in central:
        struct.pack_into("<I", out, at + 24, central["file_size"])
    return bytes(out)


# --- container signatures ----------------------------------------------------------


def _with(offset: int, signature: bytes, size: int = 40_000) -> bytes:
    head = bytearray(size)
    head[offset : offset + len(signature)] = signature
    return bytes(head)


@pytest.mark.parametrize(
    ("offset", "signature"),
    [(510, b"\x55\xaa"), (1080, b"\x53\xef"), (512, b"EFI PART"), (32769, b"CD001"),
     (1024, b"H+"), (1024, b"HX")],
)  # fmt: skip
def test_each_disk_signature_alone_marks_a_disk_image(offset, signature):
    assert container_kind(_with(offset, signature), 40_000) == "disk"
    wrong = bytes(b ^ 0x20 for b in signature)  # letter case or one bit off
    assert container_kind(_with(offset, wrong), 40_000) is None
    assert container_kind(_with(offset + 1, signature), 40_000) is None


def test_a_disk_image_is_at_least_32_kib_and_needs_a_signature():
    assert container_kind(_with(510, b"\x55\xaa", 32768), 32768) == "disk"
    assert container_kind(_with(510, b"\x55\xaa", 32767), 32767) is None
    assert container_kind(bytes(40_000), 40_000) is None


def test_archive_and_stream_signatures_at_their_edges():
    assert container_kind(zip_bytes({}), 22) == "zip"  # an empty zip: its end record alone
    assert container_kind(bz2.compress(b""), 14) == "bzip2"  # no block after the level digit
    assert container_kind(b"BZhx0000", 8) is None and container_kind(b"abc12345", 8) is None
    assert container_kind(b"EVF\x09\x0d\x0a\xff\x00\x01\x00", 10) == "ewf"
    assert container_kind(b"EVF2\x0d\x0a\x81\x00\x02\x00", 10) == "ewf"
    assert container_kind(b"evf2\x0d\x0a\x81\x00\x02\x00", 10) is None
    tar = _tar([("a.bin", b"a")])
    # the ustar magic ends at byte 262: a head must hold more than that
    assert container_kind(tar[:263], 263) == "tar"
    assert container_kind(tar[:262], 262) is None


def test_hostile_names_give_their_reason():
    assert hostile_name("/etc/x.stl") == "absolute member name"
    assert hostile_name("\\\\server\\share\\x.stl") == "absolute member name"
    assert hostile_name("c:x.stl") == "member name with a drive letter"
    assert hostile_name("a\\..\\b.stl") == "member name escapes the archive (..)"


# --- zip -----------------------------------------------------------------------------


def test_zip_members_skip_folders_keep_times_and_give_heads():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("dir/", b"")
        zf.writestr(zipfile.ZipInfo("dir/a.bin", (2020, 1, 2, 3, 4, 6)), b"abcdef")
        zf.writestr(zipfile.ZipInfo("bad-date.bin", (1980, 0, 0, 0, 0, 0)), b"xyz")
    tally, staging = Tally(), PrivateStaging()
    data = buf.getvalue()
    try:
        got = [
            (e.layers, e.size, e.modified, e.head_reader(4))
            for e in iter_members(
                "zip", io.BytesIO(data), len(data), ("ev/a.zip",), ScanLimits(), tally, staging
            )  # fmt: skip
        ]
    finally:
        staging.cleanup()
    assert got == [
        (("ev/a.zip", "dir/a.bin"), 6, "2020-01-02T03:04:06", b"abcd"),
        (("ev/a.zip", "bad-date.bin"), 3, None, b"xyz"),
    ]
    assert tally.events == []


def test_an_encrypted_zip_member_is_an_error_and_the_next_is_read():
    data = _zip_patched(zip_bytes({"secret.bin": b"s" * 50, "open.bin": b"o" * 5}), flags=0x1)
    found, tally = _entries("zip", data, layers=("ev/a.zip",))
    assert found == [("open.bin", 5, b"o" * 5, b"oooo")]
    assert tally.events == [
        {"kind": "error", "path": "ev/a.zip!/secret.bin", "reason": "encrypted member not read"}
    ]
    assert tally.counts == {"errors": 1}


def test_an_unreadable_zip_inside_another_names_both():
    found, tally = _entries("zip", b"PK\x03\x04" + b"\0" * 60, layers=("ev/o.zip", "in.zip"))
    assert found == [] and tally.counts == {"errors": 1}
    (event,) = tally.events
    assert (event["kind"], event["path"]) == ("error", "ev/o.zip!/in.zip")
    assert event["reason"] == "unreadable zip: File is not a zip file"


def test_zip_ratio_counts_one_compressed_byte_and_the_floor_itself():
    # a stored 1-byte member whose header claims 3 bytes: 3:1
    data = _zip_patched(zip_bytes({"a.bin": b"a"}, zipfile.ZIP_STORED), file_size=3)
    found, tally = _entries("zip", data, layers=("ev/a.zip",), ratio_floor_bytes=3, max_ratio=2)
    assert found == [] and tally.counts == {"refused": 1}
    assert tally.events == [{"kind": "refused", "path": "ev/a.zip!/a.bin",
                             "reason": "compression ratio 3:1 exceeds 2:1"}]  # fmt: skip


def test_zip_member_size_limit_is_inclusive():
    data = zip_bytes({"a.bin": b"a" * 100})
    assert _entries("zip", data, max_member_bytes=100)[0] == [("a.bin", 100, b"a" * 100, b"aaaa")]
    found, tally = _entries("zip", data, layers=("ev/a.zip",), max_member_bytes=99)
    assert found == [] and tally.events == [{"kind": "refused", "path": "ev/a.zip!/a.bin",
        "reason": "member of 100 bytes exceeds the member-size limit"}]  # fmt: skip


# --- the total budget and the staged member --------------------------------------------


def test_sniffing_heads_spends_only_the_head_bytes_of_the_budget():
    data = zip_bytes({"a.bin": b"a" * 3000, "b.bin": b"b" * 3000})
    found, tally = _entries("zip", data, read=False, max_total_bytes=5000)
    assert found == [("a.bin", 3000, None, b"aaaa"), ("b.bin", 3000, None, b"bbbb")]
    # read whole, the second member takes the archive past its budget
    with pytest.raises(BombRefused, match="^archive expands beyond the total-bytes limit$"):
        _entries("zip", data, max_total_bytes=5000)
    assert len(_entries("zip", data, max_total_bytes=6000)[0]) == 2  # exactly the budget


def test_a_member_opened_before_its_head_is_whole_and_the_view_reads_like_a_file():
    payload = bytes(range(200))
    data = zip_bytes({"m.bin": payload})
    staging = RecordingStaging()
    try:
        members = iter_members("zip", io.BytesIO(data), len(data), ("a.zip",),
                               ScanLimits(in_memory_bytes=1234), Tally(), staging)  # fmt: skip
        entry = next(members)  # read while the archive is open
        with entry.opener() as fh:
            assert fh.seekable() and fh.readable()
            assert fh.read(3) == payload[:3] and fh.tell() == 3
            assert fh.read(None) == payload[3:]
            fh.seek(0)
            chunk = bytearray(4)
            assert fh.readinto(chunk) == 4 and chunk == payload[:4]
        assert entry.head_reader(5) == payload[:5]  # from the staged copy, from its start
        with entry.opener() as fh:  # closing the view kept the member
            assert fh.read() == payload
        assert next(members, None) is None
    finally:
        staging.cleanup()
    assert staging.placed == [("memory", 1234)]


def test_a_stream_over_its_cap_is_refused_at_its_first_megabyte():
    # 3 MiB of zeros as three gzip members: each read is 1 MiB
    data = gzip.compress(b"\0" * (1 << 20)) * 3
    found, tally = _entries("gzip", data, layers=("ev", "d/z.gz"), ratio_floor_bytes=0,
                            max_member_bytes=500_000, max_total_bytes=1_500_000)  # fmt: skip
    assert found == [] and tally.counts == {"refused": 1}
    assert tally.events == [{"kind": "refused", "path": "ev!/d/z.gz!/z",
        "reason": "member expands beyond its declared or allowed 500000 bytes"}]  # fmt: skip


def test_the_tar_check_of_a_stream_reads_only_its_first_block():
    data = gzip.compress(b"\0" * (1 << 20)) * 16  # 16 MiB of zeros, 16 KiB compressed
    tracemalloc.start()
    try:
        found, tally = _entries("gzip", data, ratio_floor_bytes=0, max_member_bytes=2 << 20,
                                in_memory_bytes=0)  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == [] and tally.counts == {"refused": 1}
    assert peak < 8 << 20  # never the whole stream in memory


# --- single compressed streams ------------------------------------------------------


def test_a_stream_named_at_the_top_level_and_its_errors_name_the_stream():
    payload = b"p" * 300
    found, tally = _entries("xz", lzma.compress(payload), layers=("part.stl.xz",))
    assert found == [("part.stl", 300, payload, b"pppp")] and tally.events == []
    staging = RecordingStaging()
    _entries("bzip2", bz2.compress(payload), staging=staging, in_memory_bytes=777)
    assert staging.placed == [("memory", 777)]
    header = gzip.compress(b"x")[:10]  # a valid header over a corrupt deflate body
    found, tally = _entries("gzip", header + b"\xff" * 40, layers=("ev", "d/body.gz"))
    assert found == [] and tally.counts == {"errors": 1}
    (event,) = tally.events
    assert (event["kind"], event["path"]) == ("error", "ev!/d/body.gz")
    assert event["reason"].startswith("unreadable gzip stream: ")
    # a stream cut short after its first block: the peek passes, the expansion fails
    whole = gzip.compress(bytes(range(256)) * 400)
    found, tally = _entries("gzip", whole[: len(whole) // 2], layers=("ev", "d/cut.gz"))
    assert found == [] and tally.counts == {"errors": 1}
    (event,) = tally.events
    assert (event["kind"], event["path"]) == ("error", "ev!/d/cut.gz")
    assert event["reason"].startswith("unreadable gzip stream: ")


def test_a_stream_is_a_tar_when_its_first_block_has_the_ustar_magic():
    body = bytearray(b"q" * 263)
    body[257:262] = b"ustar"
    # 262 bytes cannot hold a tar header: one member
    found, tally = _entries("gzip", gzip.compress(bytes(body[:262])), layers=("ev/p.gz",))
    assert [(n, s) for n, s, *_ in found] == [("p", 262)] and tally.events == []
    # 263 bytes with the magic are read as a tar (here a broken one)
    found, tally = _entries("gzip", gzip.compress(bytes(body)), layers=("ev/p.gz",))
    assert found == [] and tally.counts == {"errors": 1}
    assert tally.events[0]["reason"].startswith("unreadable tar: ")


# --- tar -----------------------------------------------------------------------------


def test_tar_folders_and_links_before_a_file_do_not_stop_the_reading():
    data = _tar([("d", None), ("d/link", "../x"), ("d/a.bin", b"abc"), ("b.bin", b"b" * 100)])
    found, tally = _entries("tar", data, layers=("ev/a.tar",), max_member_bytes=100)
    assert found == [("d/a.bin", 3, b"abc", b"abc"), ("b.bin", 100, b"b" * 100, b"bbbb")]
    assert tally.events == [{"kind": "skipped", "path": "ev/a.tar!/d/link",
                             "reason": "link or device member not followed"}]  # fmt: skip


def test_an_unreadable_tar_inside_another_names_both():
    found, tally = _entries("tar", b"not a tar at all" * 40, layers=("ev/o.zip", "in.tar"))
    assert found == [] and tally.counts == {"errors": 1}
    assert tally.events == [{"kind": "error", "path": "ev/o.zip!/in.tar",
                             "reason": "unreadable tar: invalid header"}]  # fmt: skip


def test_a_tar_cut_short_stops_with_an_error_after_the_members_before():
    data = _tar([("a.bin", b"a" * 5000), ("b.bin", b"b" * 5000)])
    found, tally = _entries(
        "tar", data[:3000], layers=("ev/o.zip", "in.tar"), read=False, head=False
    )
    assert [n for n, *_ in found] == ["a.bin"] and tally.counts == {"errors": 1}
    assert tally.events == [{"kind": "error", "path": "ev/o.zip!/in.tar",
                             "reason": "tar read stopped: unexpected end of data"}]  # fmt: skip


def test_the_tar_ratio_is_refused_past_its_limit_and_its_floor_only():
    data = _tar([("a.bin", b"\0" * 30_000), ("b.bin", b"b")])
    found, tally = _entries("tar", data, ratio_floor_bytes=0, max_ratio=1, read=False)
    (event,) = tally.events
    numbers = re.search(r"\((\d+) bytes from (\d+)\)$", event["reason"])
    expanded, consumed = int(numbers[1]), int(numbers[2])
    assert found == [] and tally.counts == {"refused": 1} and event["path"] == "ev/a.x!/a.bin"
    assert expanded > 30_000 and consumed >= 512
    ratio = expanded / consumed
    assert ratio * consumed == expanded  # the limit lands on the member exactly
    # within the ratio, at it, or under the floor: read; at the floor and past the ratio: not
    assert len(_entries("tar", data, ratio_floor_bytes=0, max_ratio=1000)[0]) == 2
    assert len(_entries("tar", data, ratio_floor_bytes=0, max_ratio=ratio)[0]) == 2
    assert len(_entries("tar", data, ratio_floor_bytes=expanded + 1, max_ratio=1)[0]) == 2
    found, tally = _entries("tar", data, ratio_floor_bytes=expanded, max_ratio=1)
    assert found == [] and tally.counts == {"refused": 1}


def test_tar_member_size_limit_is_inclusive():
    data = _tar([("a.bin", b"a" * 100)])
    assert [s for _, s, *_ in _entries("tar", data, max_member_bytes=100)[0]] == [100]


# --- 7z ------------------------------------------------------------------------------


def test_7z_members_share_the_memory_allowance_by_declared_size():
    members = {"e.bin": b"", "a.bin": b"a" * 1000, "b.bin": b"b" * 600, "c.bin": b"c" * 400}
    staging = RecordingStaging()
    found, _ = _entries("7z", seven_zip(members), staging=staging, in_memory_bytes=1400)
    assert sorted((n, s, c) for n, s, c, _ in found) == sorted(
        (n, len(d), d) for n, d in members.items()
    )
    # e: an empty spool; a: 1000 of 1400; b: 600 > 400 left, on disk; c: the last 400
    assert staging.placed == [("memory", 1), ("memory", 1000), "disk", ("memory", 400)]


def test_7z_refused_members_are_not_extracted_and_the_rest_are_read():
    data = seven_zip({"a/../up.bin": b"u", "big.bin": b"\0" * 50_000, "ok.bin": b"o" * 100})
    found, tally = _entries("7z", data, layers=("ev/a.7z",), max_member_bytes=10_000,
                            max_total_bytes=20_000)  # fmt: skip
    assert found == [("ok.bin", 100, b"o" * 100, b"oooo")]
    assert tally.counts == {"refused": 2}
    assert [e["path"] for e in tally.events] == ["ev/a.7z!/a/../up.bin", "ev/a.7z!/big.bin"]


def test_7z_limits_are_inclusive_and_an_empty_member_declares_nothing():
    data = seven_zip({"e.bin": b"", "n.bin": b"n" * 1000})
    found, tally = _entries("7z", data, max_member_bytes=1000, max_total_bytes=1000)
    assert sorted((n, s) for n, s, *_ in found) == [("e.bin", 0), ("n.bin", 1000)]
    assert tally.events == []


def test_7z_errors_are_counted_and_name_the_archive_inside_another():
    layers = ("ev/o.zip", "in.7z")
    found, tally = _entries("7z", b"7z\xbc\xaf\x27\x1c" + b"\0" * 40, layers=layers)
    assert found == [] and tally.counts == {"errors": 1}
    assert tally.events == [
        {"kind": "error", "path": "ev/o.zip!/in.7z", "reason": "unreadable 7z: invalid header data"}
    ]
    for header_encryption in (True, False):
        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w", password="pw", header_encryption=header_encryption) as z:
            z.writestr(b"hidden", "h.txt")
        found, tally = _entries("7z", buf.getvalue(), layers=layers)
        assert found == [] and tally.counts == {"errors": 1}
        assert [e["path"] for e in tally.events] == ["ev/o.zip!/in.7z"]


def test_a_7z_with_corrupt_data_is_an_error_naming_the_archive():
    data = bytearray(seven_zip({"a.bin": bytes(range(256)) * 40}))
    data[40] ^= 0xFF  # inside the packed stream; the file list at the end is intact
    _, tally = _entries("7z", bytes(data), layers=("ev/o.zip", "in.7z"), read=False)
    assert tally.counts == {"errors": 1}
    assert tally.events == [{"kind": "error", "path": "ev/o.zip!/in.7z",
                             "reason": "7z read stopped: Corrupt input data"}]  # fmt: skip


def test_a_7z_member_written_in_pieces_has_its_whole_size(monkeypatch):
    monkeypatch.setattr(py7zr.py7zr, "get_memory_limit", lambda: 1000)  # py7zr's write size
    payload = bytes(range(256)) * 20
    found, tally = _entries("7z", seven_zip({"p.bin": payload}))
    assert found == [("p.bin", 5120, payload, payload[:4])] and tally.events == []
