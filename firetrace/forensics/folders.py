"""Folders as evidence sources: a recursive walk that never follows or reads a
symlink (each is reported; reading one would set its access time, and one
inside the root points at a file the walk reaches anyway), is safe against
loops (each directory is entered once by device and inode), and counts FIFOs,
sockets and devices without opening them. Folders are listed through a
descriptor opened with ``O_NOATIME`` where permitted, so access times stay as
they were. Unreadable directories and non-UTF-8 names are reported, never
fatal. Only ``lstat``/``scandir`` touch the evidence here: no file is opened.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from firetrace.forensics.entries import Tally, display_name
from firetrace.forensics.readonly import NOATIME, open_readonly, stream_size

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


@dataclass(frozen=True)
class Unit:
    """One top-level evidence file: the unit of parallel work and of resume."""

    os_path: str  # as the OS needs it (may hold surrogate escapes)
    display: str  # UTF-8-safe, as written in records
    size: int
    mtime_ns: int


def walk_roots(roots: list[str], tally: Tally) -> Iterator[Unit]:
    """Every regular file under the roots (a root may itself be a file), each once
    even when roots overlap (``/e`` and ``/e/sub``)."""
    visited: set[tuple[int, int]] = set()
    for root in roots:
        yield from _walk_root(root, tally, visited)


def _walk_root(root: str, tally: Tally, visited: set[tuple[int, int]]) -> Iterator[Unit]:
    try:
        st = os.stat(root)  # the root itself was named by the examiner: follow it
    except OSError as exc:
        tally.count("errors")
        tally.event("error", display_name(root), f"cannot read evidence root: {exc.strerror}")
        return
    key = (st.st_dev, st.st_ino)
    if key in visited or (stat.S_ISREG(st.st_mode) and _inside_visited(root, visited)):
        tally.event("warning", display_name(root), "already scanned under another root")
        return
    visited.add(key)
    if stat.S_ISREG(st.st_mode):
        yield Unit(root, display_name(root), st.st_size, st.st_mtime_ns)
        return
    if stat.S_ISBLK(st.st_mode):  # a drive named as evidence is read like an image
        try:
            with open_readonly(root, follow_symlinks=True, allow_device=True) as fh:
                size = stream_size(fh)
        except OSError as exc:
            tally.count("errors")
            tally.event("error", display_name(root), f"cannot read device: {exc.strerror or exc}")
            return
        yield Unit(root, display_name(root), size, st.st_mtime_ns)
        return
    if not stat.S_ISDIR(st.st_mode):  # a FIFO or socket named as evidence: nothing to read
        kind = _special_kind(st.st_mode)
        tally.count("errors")
        tally.event(
            "error",
            display_name(root),
            f"cannot read evidence root: a {kind}, not a file, folder, disk image or drive",
        )
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            children = _list_folder(folder)
        except OSError as exc:
            tally.count("errors")
            tally.event("error", display_name(folder), f"cannot list folder: {exc.strerror}")
            continue
        subfolders = []
        for child in children:
            path = child.path
            shown = display_name(path)
            if shown != path:
                tally.count("non_utf8_names")
                tally.event("warning", shown, "name is not valid UTF-8 (shown with \\x escapes)")
            try:
                lst = child.stat(follow_symlinks=False)
            except OSError as exc:
                tally.count("errors")
                tally.event("error", shown, f"cannot stat: {exc.strerror}")
                continue
            mode = lst.st_mode
            if stat.S_ISLNK(mode):
                # Never read: reading a link (readlink) sets its access time, and
                # a link inside the root points at files the walk reaches anyway.
                tally.count("symlinks")
                tally.event("skipped", shown, "symlink not followed (its target is not read)")
                continue
            if stat.S_ISDIR(mode):
                key = (lst.st_dev, lst.st_ino)
                if key not in visited:
                    visited.add(key)
                    subfolders.append(path)
                continue
            if stat.S_ISREG(mode):
                if (lst.st_dev, lst.st_ino) in visited and lst.st_nlink == 1:
                    continue  # a file root given again inside a folder root
                yield Unit(path, shown, lst.st_size, lst.st_mtime_ns)
                continue
            _special(path, mode, tally)
        stack.extend(reversed(subfolders))


def _list_folder(folder: str) -> list[os.DirEntry]:
    """A folder's entries by name, listed through a descriptor opened with
    ``O_NOATIME`` where the system allows it (listing a folder sets its access
    time otherwise); ``DirEntry.path`` is joined to ``folder`` as ``scandir`` would."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = -1
    if NOATIME and os.scandir in os.supports_fd:
        try:
            fd = os.open(folder, flags | NOATIME)
        except PermissionError:  # O_NOATIME needs ownership (or CAP_FOWNER)
            fd = -1
    if fd < 0:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    try:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
    finally:
        os.close(fd)
    return [_Joined(folder, entry) for entry in entries]


class _Joined:
    """A ``DirEntry`` read through a descriptor, with the path it has under ``folder``."""

    def __init__(self, folder: str, entry: os.DirEntry):
        self._entry = entry
        self.name = entry.name
        self.path = os.path.join(folder, entry.name)

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        # The descriptor is closed: stat by path, without following (lstat).
        return os.stat(self.path, follow_symlinks=follow_symlinks)


def _inside_visited(path: str, visited: set[tuple[int, int]]) -> bool:
    """Whether a folder holding ``path`` was already walked."""
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        try:
            st = os.stat(folder)
        except OSError:
            return False
        if (st.st_dev, st.st_ino) in visited:
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _special_kind(mode: int) -> str:
    return next((label for test, label in _SPECIAL_KINDS if test(mode)), "special file")


def _special(path: str, mode: int, tally: Tally) -> None:
    kind = _special_kind(mode)
    tally.count("special")
    tally.event("skipped", display_name(path), f"{kind} counted, not opened")


def measure_roots(roots: list[str]) -> tuple[int, int]:
    """Files and bytes under the roots (for the progress bar's estimate), metadata only."""
    scratch = Tally()
    files = size = 0
    for unit in walk_roots(roots, scratch):
        files += 1
        size += unit.size
    return files, size
