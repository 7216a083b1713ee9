"""Re-reading evidence by a record's path: ``read_evidence("img.E01!/Users/x/a.zip!/lower.stl")``
opens the OS file read-only, then each container layer in turn (archive or disk
image, recognised by content as in the scan, with the same bomb guards) and
returns the member's bytes. The report uses it to re-load and render a flagged
file without anything ever being extracted next to the evidence.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
from collections.abc import Iterator
from typing import BinaryIO

from firetrace.errors import InputError
from firetrace.forensics.archives import container_kind, iter_members
from firetrace.forensics.diskimage import ewf_segments, iter_image_files, open_ewf
from firetrace.forensics.entries import LAYER_SEPARATOR, Entry, Tally, display_name, iso_utc
from firetrace.forensics.limits import ScanLimits, load_limits
from firetrace.forensics.readonly import PrivateStaging, open_readonly, stream_size


def _split_os_path(path: str) -> tuple[str, list[str]]:
    """The longest-named existing OS file at the start of ``path``, and the layers after it.

    A folder may itself be named ``x!``, so every split point is tried.
    """
    parts = path.split(LAYER_SEPARATOR)
    for k in range(len(parts), 0, -1):
        candidate = LAYER_SEPARATOR.join(parts[:k])
        for form in (candidate, _undo_display_escapes(candidate)):
            if os.path.exists(form) and not os.path.isdir(form):
                return form, parts[k:]  # (a special file is refused when opened)
    raise InputError("evidence file not found", path=parts[0])


def _refuse_special(os_path: str, roots: list[str] | None) -> None:
    """Only regular files are read back, and a block device (a write-blocked
    drive) only where the examiner named it as an evidence root: a FIFO would
    hang the read, a character device never ends, and a device node inside a
    seized folder is not the evidence the scan read."""
    mode = os.stat(os_path).st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISBLK(mode) and (
        roots is None or os.path.realpath(os_path) in {os.path.realpath(r) for r in roots}
    ):
        return
    raise InputError(
        "a device, FIFO, socket or other special file, not a regular file: not read",
        path=display_name(os_path),
    )


def _undo_display_escapes(shown: str) -> str:
    """The OS name behind a record path whose undecodable bytes were shown as ``\\xNN``."""
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(0xDC00 + int(m.group(1), 16)), shown)


def _children(
    fh: BinaryIO,
    size: int,
    layers: tuple[str, ...],
    limits: ScanLimits,
    staging: PrivateStaging,
    stack: contextlib.ExitStack,
    tally: Tally,
) -> Iterator[Entry]:

    head = fh.read(limits.sniff_bytes)
    fh.seek(0)
    kind = container_kind(head, size)
    where = LAYER_SEPARATOR.join(layers)
    if kind is None:
        raise InputError("not an archive or disk image, so it holds no members", path=where)
    if kind in ("disk", "ewf"):
        media, media_size = fh, size
        if kind == "ewf":
            segments = ewf_segments(layers[0]) if len(layers) == 1 else None
            media, media_size, handle = open_ewf(fh, segments)
            stack.callback(handle.close)
        return iter_image_files(media, media_size, layers, tally)
    return iter_members(kind, fh, size, layers, limits, tally, staging)


def read_evidence(
    path: str,
    *,
    inode: int | None = None,
    limits: ScanLimits | None = None,
    within: list[str] | None = None,
) -> bytes:
    """The bytes of the file a scan record's ``path`` names (read-only).

    ``inode`` picks among same-named files in a disk image (a live and a deleted
    copy). ``within`` confines the read to those evidence roots (see
    :func:`confine`). Raises :class:`InputError` naming the layer that cannot be found.
    """
    with open_evidence(path, inode=inode, limits=limits, within=within) as (_entry, fh):
        return fh.read()


def confine(os_path: str, roots: list[str]) -> None:
    """Refuse ``os_path`` unless, once every symlink is resolved, it is one of the
    evidence ``roots`` or inside a root folder. A record read back later names a
    path the scan wrote, but the file there may since be a link to ``/etc/passwd``,
    and a crafted JSONL may name ``/proc/self/environ``: neither is evidence."""
    real = os.path.realpath(os_path)
    for root in roots:
        top = os.path.realpath(root)
        if real == top or (os.path.isdir(top) and os.path.commonpath([real, top]) == top):
            return
    raise InputError(
        "outside the evidence roots the scan's manifest names: not read", path=display_name(os_path)
    )


@contextlib.contextmanager
def open_evidence(
    path: str,
    *,
    inode: int | None = None,
    limits: ScanLimits | None = None,
    within: list[str] | None = None,
) -> Iterator[tuple[Entry, BinaryIO]]:
    """The file a ``!/`` path names, as the scan saw it: its :class:`Entry` (layers,
    size, deleted flag, inode, modification time) and a seekable read-only stream.

    An OS file is streamed from disk; a member is read through every container
    layer with the scan's guards (bomb limits, hostile names, read-only opens) and
    held in memory. Raises :class:`InputError` naming the layer that cannot be found.
    """
    limits = limits or load_limits()
    os_path, remaining = _split_os_path(path)
    if within is not None:
        confine(os_path, within)
    _refuse_special(os_path, within)
    with contextlib.ExitStack() as stack:
        staging = PrivateStaging()
        stack.callback(staging.cleanup)
        fh: BinaryIO = stack.enter_context(
            open_readonly(os_path, follow_symlinks=True, allow_device=True)
        )
        size = stream_size(fh)
        layers: tuple[str, ...] = (os_path,)
        if not remaining:
            modified = iso_utc(os.fstat(fh.fileno()).st_mtime)
            opener = lambda: open_readonly(os_path, follow_symlinks=True)  # noqa: E731
            yield Entry((display_name(os_path),), size, opener, modified=modified), fh
            return
        while True:
            entry, data, j = _member(fh, size, layers, remaining, inode, limits, staging, stack)
            if j == len(remaining):
                yield entry, io.BytesIO(data)
                return
            fh, size, layers, remaining = io.BytesIO(data), len(data), entry.layers, remaining[j:]


def _member(fh, size, layers, remaining, inode, limits, staging, stack):
    """The member of the container ``fh`` that the next layers of ``remaining`` name:
    (its entry, its bytes, how many layers its name spans)."""
    wanted = {LAYER_SEPARATOR.join(remaining[:j]): j for j in range(1, len(remaining) + 1)}
    tally = Tally()  # what the readers refused or could not read, as the scan reports it
    for entry in _children(fh, size, layers, limits, staging, stack, tally):
        j = wanted.get(entry.layers[-1])
        if j is None:
            continue
        if j == len(remaining) and inode is not None and entry.inode not in (None, inode):
            continue
        with entry.opener() as member:
            return entry, member.read(), j
    where = LAYER_SEPARATOR.join((*layers, remaining[0]))
    for event in tally.events:  # a bomb, a hostile name, a corrupt member: say which
        if event["kind"] in ("refused", "error"):
            raise InputError(f"{event['kind']}: {event['reason']}", path=event["path"])
    raise InputError("member not found", path=where)
