"""Disk images as evidence sources: raw/dd images and EnCase E01 images
(libewf-python) opened through The Sleuth Kit (pytsk3). Yields every allocated
regular file and every deleted file whose metadata still points at content,
marked ``deleted`` with its inode (metadata address) and path. A partition table
is followed when the image holds no file system at offset 0. All reads go through
file objects the scan opened read-only, so TSK never opens evidence itself.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from firetrace.errors import require
from firetrace.forensics.entries import Entry, Tally, iso_utc
from firetrace.forensics.readonly import open_readonly

_SEGMENT_NAME = re.compile(r"\.(?:e|ex|s|l)(?:\d\d|[a-z]{2})$", re.IGNORECASE)


class _ReadAt(io.RawIOBase):
    """A seekable read-only stream over a ``read_at(offset, n)`` function."""

    def __init__(self, read_at, size: int):
        self._read_at, self._size, self._pos = read_at, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, b) -> int:
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        data = self._read_at(self._pos, n)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)


def open_ewf(fh: BinaryIO, segment_paths: list[str] | None = None):
    """Open an E01 image; returns (readable stream over the media, media size, handle).

    ``segment_paths`` (all segments, from :func:`ewf_segments`) are opened read-only
    by the caller's opener; a single in-memory segment works too.
    """
    pyewf = require("pyewf", needed_for="reading E01 images")

    handles = [fh]
    if segment_paths and len(segment_paths) > 1:
        handles = [open_readonly(p) for p in segment_paths]
    handle = pyewf.handle()
    handle.open_file_objects(handles)
    size = handle.get_media_size()

    def read_at(offset: int, n: int) -> bytes:
        handle.seek(offset)
        return handle.read(n)

    return io.BufferedReader(_ReadAt(read_at, size), 1 << 16), size, handle


def ewf_segments(path: str) -> list[str]:
    """All segment files of the E01 image at ``path`` (``.E01``, ``.E02``, ...)."""
    pyewf = require("pyewf", needed_for="reading E01 images")

    if not _SEGMENT_NAME.search(path):
        return [path]
    try:
        return list(pyewf.glob(path))
    except Exception:  # glob fails on odd names; one segment still opens
        return [path]


def _img_info(fh: BinaryIO, size: int):
    pytsk3 = require("pytsk3", needed_for="reading disk images")

    class _StreamImg(pytsk3.Img_Info):
        def __init__(self) -> None:
            super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

        def close(self) -> None:
            pass

        def read(self, offset: int, length: int) -> bytes:
            fh.seek(offset)
            return fh.read(length)

        def get_size(self) -> int:
            return size

    return _StreamImg()


def iter_image_files(
    fh: BinaryIO, size: int, layers: tuple[str, ...], tally: Tally
) -> Iterator[Entry]:
    """Every regular file (allocated or recoverable deleted) of the image on ``fh``."""
    pytsk3 = require("pytsk3", needed_for="reading disk images")

    image_path = "!/".join(layers)
    img = _img_info(fh, size)
    file_systems: list[tuple[str, object]] = []
    try:
        file_systems.append(("", pytsk3.FS_Info(img, offset=0)))
    except OSError:
        try:
            volumes = pytsk3.Volume_Info(img)
            block = volumes.info.block_size
            for part in volumes:
                if not part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC or part.len <= 0:
                    continue
                try:
                    fs = pytsk3.FS_Info(img, offset=part.start * block)
                except OSError:
                    tally.event("warning", image_path, f"partition {part.addr}: no file system")
                    continue
                file_systems.append((f"partition{part.addr}/", fs))
        except OSError:
            pass
    if not file_systems:
        tally.count("errors")
        tally.event("error", image_path, "no file system or partition table recognised")
        return
    tally.count("disk_images")
    for prefix, fs in file_systems:
        yield from _walk_fs(fs, prefix, layers, tally)


def _walk_fs(fs, prefix: str, layers: tuple[str, ...], tally: Tally) -> Iterator[Entry]:
    pytsk3 = require("pytsk3", needed_for="reading disk images")

    reg = pytsk3.TSK_FS_META_TYPE_REG
    dir_types = (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR)
    unalloc_name = pytsk3.TSK_FS_NAME_FLAG_UNALLOC
    unalloc_meta = pytsk3.TSK_FS_META_FLAG_UNALLOC
    root = fs.info.root_inum
    stack: list[tuple[int, str]] = [(root, "")]
    visited = {root}
    while stack:
        inum, dir_path = stack.pop()
        try:
            directory = fs.open_dir(inode=inum)
        except OSError as exc:
            tally.event("warning", "!/".join((*layers, prefix + dir_path)), f"directory: {exc}")
            continue
        for f in directory:
            raw = f.info.name.name
            name = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            if name in (".", ".."):
                continue
            path = f"{prefix}{dir_path}{name}"
            meta = f.info.meta
            name_deleted = bool(f.info.name.flags & unalloc_name)
            if meta is None:
                if name_deleted:
                    tally.count("deleted_unrecoverable")
                continue
            deleted = name_deleted or bool(meta.flags & unalloc_meta)
            if meta.type in dir_types:
                if meta.addr not in visited:
                    visited.add(meta.addr)
                    stack.append((meta.addr, f"{dir_path}{name}/"))
                continue
            if meta.type != reg:
                tally.count("fs_special")
                continue
            size = int(meta.size)

            def read_at(offset: int, n: int, f=f) -> bytes:
                return f.read_random(offset, n)

            def opener(read_at=read_at, size=size) -> BinaryIO:
                return io.BufferedReader(_ReadAt(read_at, size), 1 << 16)

            if deleted:
                tally.count("deleted_files")
            yield Entry(
                (*layers, path),
                size,
                opener,
                deleted=deleted,
                inode=int(meta.addr),
                modified=iso_utc(meta.mtime) if meta.mtime else None,
            )
