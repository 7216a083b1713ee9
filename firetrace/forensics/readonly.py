"""Read-only access to evidence files: opened ``O_RDONLY`` with ``O_NOATIME``
where the platform and ownership allow it (so reading does not even update the
access time), never following a symlink at the last component and never
blocking on a FIFO swapped in after the walk looked at it. Nothing in the scan
writes, renames or touches evidence; staged copies of archive members go to a
private temporary folder (mode 0700) outside the evidence.
"""

from __future__ import annotations

import os
import stat
import tempfile
from typing import BinaryIO

NOATIME = getattr(os, "O_NOATIME", 0)
_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_readonly(
    path: str | os.PathLike, *, follow_symlinks: bool = False, allow_device: bool = False
) -> BinaryIO:
    """Open a regular evidence file for reading without changing its atime.

    ``allow_device`` also admits a block device (a write-blocked drive the
    examiner names as an evidence root). Raises ``OSError`` (``PermissionError``
    included) like :func:`open`, and for anything else that is not a regular file.
    """
    flags = _BASE_FLAGS | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    fd = -1
    if NOATIME:
        try:
            fd = os.open(path, flags | NOATIME)
        except PermissionError:
            # O_NOATIME needs ownership (or CAP_FOWNER); fall back to a plain read.
            fd = -1
    if fd < 0:
        fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not (stat.S_ISREG(st.st_mode) or (allow_device and stat.S_ISBLK(st.st_mode))):
            raise OSError(f"not a regular file: {os.fsdecode(path)}")
        # Clear O_NONBLOCK again: it only guarded the open against FIFOs.
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, "rb", buffering=1 << 20)
    except BaseException:
        os.close(fd)
        raise


def stream_size(fh: BinaryIO) -> int:
    """Size of an open file or block device (``st_size`` is 0 for a device)."""
    size = fh.seek(0, os.SEEK_END)
    fh.seek(0)
    return size


class PrivateStaging:
    """A private temporary folder (0700) for archive members too big for memory."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory | None = None

    def _folder(self) -> str:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="firetrace-scan-")
            os.chmod(self._dir.name, 0o700)
        return self._dir.name

    def spooled(self, in_memory_bytes: int) -> BinaryIO:
        """A file kept in memory up to ``in_memory_bytes``, then on disk."""
        return tempfile.SpooledTemporaryFile(  # type: ignore[return-value]
            max_size=in_memory_bytes, dir=self._folder()
        )

    def on_disk(self) -> BinaryIO:
        """A file on disk in the private folder (deleted when closed)."""
        return tempfile.TemporaryFile(dir=self._folder())  # type: ignore[return-value]

    def cleanup(self) -> None:
        """Remove the private staging folder and everything in it."""
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
