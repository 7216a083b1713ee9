"""Archives as evidence sources: zip, 7z (py7zr), tar (plain, gz, bz2, xz) and
single compressed streams (gz, bz2, xz). Members are read in memory or staged in
the private temporary folder, never extracted next to the evidence. Guards:
hostile member names (absolute, ``..``, drive letters) are refused unread;
members whose compression ratio or size marks a bomb are refused; each archive
has a total-bytes and a member-count budget. Every refusal is reported to the
:class:`~firetrace.forensics.entries.Tally` and the rest of the archive is still
scanned.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import io
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from firetrace.forensics.entries import Entry, Tally, display_name, iso_utc
from firetrace.forensics.limits import ScanLimits
from firetrace.forensics.readonly import PrivateStaging

_SEVENZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
_DRIVE = re.compile(r"^[A-Za-z]:")


class BombRefused(Exception):
    """A member or archive exceeded a bomb guard; the message says which."""


def container_kind(head: bytes, size: int) -> str | None:
    """What kind of container ``head`` starts, by content only (names can lie)."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:6] == _SEVENZIP_MAGIC:
        return "7z"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:8] in (b"EVF\x09\x0d\x0a\xff\x00", b"EVF2\x0d\x0a\x81\x00"):
        return "ewf"
    if (
        size >= 32768
        and (
            head[510:512] == b"\x55\xaa"  # MBR or FAT/NTFS boot sector
            or head[1080:1082] == b"\x53\xef"  # ext2/3/4 superblock
            or head[512:520] == b"EFI PART"
            or head[32769:32774] == b"CD001"  # ISO 9660
            or head[1024:1026] in (b"H+", b"HX")  # HFS+
        )
    ):
        return "disk"
    return None


def hostile_name(name: str) -> str | None:
    """Why a member name is refused, or None when it is an ordinary relative name."""
    unified = name.replace("\\", "/")
    if unified.startswith("/"):  # "//server/share" too
        return "absolute member name"
    if _DRIVE.match(unified):
        return "member name with a drive letter"
    if any(part == ".." for part in unified.split("/")):
        return "member name escapes the archive (..)"
    return None


class _Budget:
    """Bytes one archive may still expand to, across all its members."""

    def __init__(self, limits: ScanLimits):
        self.left = limits.max_total_bytes

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise BombRefused("archive expands beyond the total-bytes limit")


def _ratio_refusal(limits: ScanLimits, expanded: int, compressed: int) -> str | None:
    if expanded > limits.max_member_bytes:
        return f"member of {expanded} bytes exceeds the member-size limit"
    if expanded >= limits.ratio_floor_bytes and expanded > limits.max_ratio * max(compressed, 1):
        ratio = expanded / max(compressed, 1)
        return f"compression ratio {ratio:.0f}:1 exceeds {limits.max_ratio:g}:1"
    return None


def _copy_guarded(src: BinaryIO, dst: BinaryIO, cap: int, budget: _Budget) -> int:
    """Copy at most ``cap`` bytes; more than that means the header lied (a bomb)."""
    total = 0
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            return total
        total += len(chunk)
        budget.take(len(chunk))
        if total > cap:
            raise BombRefused(f"member expands beyond its declared or allowed {cap} bytes")
        dst.write(chunk)


class _StreamMember:
    """A member read forwards once: a cheap head for sniffing, then (only if wanted)
    the whole member staged, reusing the bytes already read."""

    def __init__(
        self,
        open_stream: Callable[[], BinaryIO],
        cap: int,
        budget: _Budget,
        staging: PrivateStaging,
        limits: ScanLimits,
    ):
        self._open = open_stream
        self._cap, self._budget, self._staging, self._limits = cap, budget, staging, limits
        self._stream: BinaryIO | None = None
        self._head = b""
        self._staged: BinaryIO | None = None

    def head(self, n: int) -> bytes:
        if self._staged is not None:
            self._staged.seek(0)
            return self._staged.read(n)
        if self._stream is None:
            self._stream = self._open()
            self._head = self._stream.read(n)
            self._budget.take(len(self._head))
        return self._head[:n]

    def open(self) -> BinaryIO:
        if self._staged is None:
            staged = self._staging.spooled(self._limits.in_memory_bytes)
            if self._stream is None:
                self._stream = self._open()
            staged.write(self._head)
            _copy_guarded(self._stream, staged, self._cap - len(self._head), self._budget)
            self._stream.close()
            self._staged = staged
        self._staged.seek(0)
        return _Unclosing(self._staged)

    def close(self) -> None:
        for fh in (self._stream, self._staged):
            if fh is not None:
                fh.close()


class _Unclosing(io.BufferedIOBase):
    """A view of a staged member that callers may close without losing it."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw

    def read(self, n: int | None = -1) -> bytes:
        return self._raw.read(n)  # staged files read all for None or any negative n

    def readinto(self, b) -> int:
        data = self._raw.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:  # the staged file belongs to its member
        pass


def iter_members(
    kind: str,
    fh: BinaryIO,
    size: int,
    layers: tuple[str, ...],
    limits: ScanLimits,
    tally: Tally,
    staging: PrivateStaging,
) -> Iterator[Entry]:
    """Yield the members of the archive open on ``fh`` (seekable, at 0), guarded."""
    readers = {
        "zip": _iter_zip,
        "7z": _iter_7z,
        "tar": _iter_tar,
        "gzip": _iter_compressed,
        "bzip2": _iter_compressed,
        "xz": _iter_compressed,
    }
    yield from readers[kind](kind, fh, size, layers, limits, tally, staging)


def _admit(name: str, count: int, layers, limits: ScanLimits, tally: Tally) -> bool:
    path = "!/".join((*layers, display_name(name)))
    reason = hostile_name(name)
    if reason:
        tally.count("refused")
        tally.event("refused", path, reason)
        return False
    if count > limits.max_members:
        tally.count("refused")
        tally.event("refused", path, f"archive holds more than {limits.max_members} members")
        return False
    return True


def _iter_zip(kind, fh, size, layers, limits, tally, staging) -> Iterator[Entry]:
    archive = "!/".join(layers)
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        tally.count("errors")
        tally.event("error", archive, f"unreadable zip: {exc}")
        return
    budget = _Budget(limits)
    count = 0
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            count += 1
            if not _admit(info.filename, count, layers, limits, tally):
                continue
            member_layers = (*layers, display_name(info.filename))
            reason = _ratio_refusal(limits, info.file_size, info.compress_size)
            if reason:
                tally.count("refused")
                tally.event("refused", "!/".join(member_layers), reason)
                continue
            if info.flag_bits & 0x1:
                tally.count("errors")
                tally.event("error", "!/".join(member_layers), "encrypted member not read")
                continue
            member = _StreamMember(
                lambda info=info: zf.open(info), info.file_size, budget, staging, limits
            )
            try:
                yield Entry(
                    member_layers,
                    info.file_size,
                    member.open,
                    member.head,
                    modified=_zip_mtime(info),
                )
            finally:
                member.close()


def _zip_mtime(info: zipfile.ZipInfo) -> str | None:
    """Zip stores local time without a zone: kept as written, with no offset."""

    try:
        return dt.datetime(*info.date_time).isoformat()
    except ValueError:
        return None


def _iter_tar(kind, fh, size, layers, limits, tally, staging) -> Iterator[Entry]:
    archive = "!/".join(layers)
    budget = _Budget(limits)
    count = 0
    try:
        # Stream mode reads forwards only: a compressed tar is decompressed once.
        tf = tarfile.open(fileobj=fh, mode="r|*")
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as exc:
        tally.count("errors")
        tally.event("error", archive, f"unreadable tar: {exc}")
        return
    try:
        for info in tf:
            if info.isdir():
                continue
            member_path = "!/".join((*layers, display_name(info.name)))
            if not info.isfile():
                tally.count("special")
                tally.event("skipped", member_path, "link or device member not followed")
                continue
            count += 1
            if not _admit(info.name, count, layers, limits, tally):
                continue
            # Ratio of a compressed tar: bytes expanded so far against bytes consumed.
            consumed = max(fh.tell(), 1)
            reason = None
            if info.size > limits.max_member_bytes:
                reason = f"member of {info.size} bytes exceeds the member-size limit"
            expanded = tf.offset + info.size
            if (
                reason is None
                and expanded >= limits.ratio_floor_bytes
                and expanded > limits.max_ratio * consumed
            ):
                reason = (
                    f"compression ratio beyond {limits.max_ratio:g}:1 "
                    f"({expanded} bytes from {consumed})"
                )
            if reason:
                tally.count("refused")
                tally.event("refused", member_path, reason)
                if "ratio" in reason:
                    break
                continue
            member = _StreamMember(
                lambda info=info: tf.extractfile(info), info.size, budget, staging, limits
            )
            try:
                yield Entry(
                    (*layers, display_name(info.name)),
                    info.size,
                    member.open,
                    member.head,
                    modified=iso_utc(info.mtime),
                )
            finally:
                member.close()
    # No BombRefused here: the budget is spent by head() and open(), which the
    # caller runs outside this generator (the scan reports those per member).
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib_error()) as exc:
        tally.count("errors")
        tally.event("error", archive, f"tar read stopped: {exc}")
    finally:
        tf.close()


def zlib_error() -> type[Exception]:
    """The exception zlib raises for corrupt data (deflate members of ZIP archives)."""
    return zlib.error


_OPENERS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gzip": lambda fh: gzip.GzipFile(fileobj=fh, mode="rb"),
    "bzip2": lambda fh: bz2.BZ2File(fh, "rb"),
    "xz": lambda fh: lzma.LZMAFile(fh, "rb"),
}
_SUFFIXES = {"gzip": (".gz", ".tgz"), "bzip2": (".bz2", ".tbz2"), "xz": (".xz", ".txz")}


def _iter_compressed(kind, fh, size, layers, limits, tally, staging) -> Iterator[Entry]:
    """A compressed stream: a tar inside, or else one member named after the stream."""
    stream = _OPENERS[kind](fh)
    archive = "!/".join(layers)
    try:
        peek = stream.read(512)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        tally.count("errors")
        tally.event("error", archive, f"unreadable {kind} stream: {exc}")
        return
    fh.seek(0)
    if len(peek) > 262 and peek[257:262] == b"ustar":
        yield from _iter_tar("tar", fh, size, layers, limits, tally, staging)
        return
    name = layers[-1].rsplit("/", 1)[-1]
    for suffix in _SUFFIXES[kind]:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)] + (".tar" if suffix.startswith(".t") else "")
            break
    else:
        name = name + ".out"
    budget = _Budget(limits)
    cap = min(limits.max_member_bytes, int(limits.max_ratio * max(size, 1)))
    cap = max(cap, limits.ratio_floor_bytes)
    # The expanded size is needed to sniff (a binary STL's count must match it),
    # and only gzip records it, so the stream is expanded once, staged.
    staged = staging.spooled(limits.in_memory_bytes)
    try:
        expanded = _copy_guarded(_OPENERS[kind](fh), staged, cap, budget)
    except BombRefused as exc:
        staged.close()
        tally.count("refused")
        tally.event("refused", "!/".join((*layers, name)), str(exc))
        return
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        staged.close()
        tally.count("errors")
        tally.event("error", archive, f"unreadable {kind} stream: {exc}")
        return

    def opener() -> BinaryIO:
        staged.seek(0)
        return _Unclosing(staged)

    def head(n: int) -> bytes:
        staged.seek(0)
        return staged.read(n)

    try:
        yield Entry((*layers, name), expanded, opener, head)
    finally:
        staged.close()


def _iter_7z(kind, fh, size, layers, limits, tally, staging) -> Iterator[Entry]:
    # lazy: py7zr costs ~0.4 s, and only a 7z archive needs it
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    archive = "!/".join(layers)
    try:
        szf = py7zr.SevenZipFile(fh, mode="r")
        infos = [i for i in szf.list() if not i.is_directory]
    except py7zr.exceptions.PasswordRequired:
        # An encrypted header hides even the member names: nothing can be listed.
        tally.count("errors")
        tally.event("error", archive, "encrypted 7z (its file list too) not read")
        return
    except Exception as exc:  # py7zr raises many kinds on malformed input
        tally.count("errors")
        reason = exc.args[-1] if exc.args and isinstance(exc.args[-1], str) else exc
        tally.event("error", archive, f"unreadable 7z: {reason}")
        return
    if szf.needs_password():
        tally.count("errors")
        tally.event("error", archive, "encrypted 7z not read")
        szf.close()
        return
    wanted: list[str] = []
    count = 0
    declared = 0
    for info in infos:
        count += 1
        if not _admit(info.filename, count, layers, limits, tally):
            continue
        member_size = int(info.uncompressed or 0)
        if member_size > limits.max_member_bytes:
            tally.count("refused")
            tally.event(
                "refused",
                "!/".join((*layers, display_name(info.filename))),
                f"member of {member_size} bytes exceeds the member-size limit",
            )
            continue
        declared += member_size
        wanted.append(info.filename)
    # Solid 7z archives have no per-member ratio: judge the archive as a whole.
    reason = _ratio_refusal(
        ScanLimits(**{**limits.as_dict(), "max_member_bytes": limits.max_total_bytes}),
        declared,
        size,
    )
    if reason:
        tally.count("refused", len(wanted))
        tally.event("refused", archive, reason)
        szf.close()
        return

    budget = _Budget(limits)

    # All members of a solid archive come out at once: they share one in-memory
    # allowance (by declared size) and the rest go to the private folder on disk,
    # so memory stays bounded whatever the member count.
    declared_sizes = {info.filename: int(info.uncompressed or 0) for info in infos}
    memory_left = [limits.in_memory_bytes]

    class _Sink(Py7zIO):
        def __init__(self, filename: str) -> None:
            expected = declared_sizes.get(filename, 0)
            if expected <= memory_left[0]:
                memory_left[0] -= expected
                # a lying header still spills to disk past the declared size
                self.buf = staging.spooled(max(expected, 1))
            else:
                self.buf = staging.on_disk()
            self.n = 0

        def write(self, s) -> int:
            budget.take(len(s))
            self.n += len(s)
            return self.buf.write(s)

        def read(self, size=None) -> bytes:
            return self.buf.read(-1 if size is None else size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.buf.seek(offset, whence)

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.n

    sinks: dict[str, _Sink] = {}

    class _Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            sinks[filename] = _Sink(filename)
            return sinks[filename]

    try:
        if wanted:
            szf.extract(targets=wanted, factory=_Factory())
    except BombRefused as exc:
        tally.count("refused")
        tally.event("refused", archive, str(exc))
        return
    except Exception as exc:
        tally.count("errors")
        tally.event("error", archive, f"7z read stopped: {exc}")
    finally:
        szf.close()
    try:
        for name in wanted:
            sink = sinks.get(name)
            if sink is None:
                continue
            buf = sink.buf

            def opener(buf=buf) -> BinaryIO:
                buf.seek(0)
                return _Unclosing(buf)

            def head(n: int, buf=buf) -> bytes:
                buf.seek(0)
                return buf.read(n)

            yield Entry((*layers, display_name(name)), sink.n, opener, head)
    finally:
        for sink in sinks.values():
            sink.buf.close()
