"""What every evidence source hands the scan: an :class:`Entry` (one file at some
depth of containers, named by its ``!/``-joined layers, readable as a head for
sniffing and then as a whole stream) and the :class:`Tally` that counts what was
seen and collects every refusal, error and skip so none is silent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

LAYER_SEPARATOR = "!/"


def iso_utc(timestamp: float) -> str | None:
    """A POSIX timestamp as ISO 8601 UTC, or None when it is out of range."""

    try:
        moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def display_name(name: str) -> str:
    """A printable, UTF-8-safe form of an OS or member name (undecodable bytes as ``\\xNN``)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass
class Entry:
    """One file inside the evidence: an OS file, an archive member or a file in a disk image.

    ``opener`` returns a seekable binary stream positioned at 0. For archive
    members ``head_reader`` gives the first bytes cheaply (without materialising
    the whole member) and ``opener`` then stages the member in memory or in the
    private temporary folder.
    """

    layers: tuple[str, ...]
    size: int
    opener: Callable[[], BinaryIO]
    head_reader: Callable[[int], bytes] | None = None
    deleted: bool = False
    inode: int | None = None
    modified: str | None = None  # ISO 8601; UTC ("Z") unless the container stores local time

    @property
    def path(self) -> str:
        """The entry's full path, its containers' layers joined by ``!/``."""
        return LAYER_SEPARATOR.join(self.layers)

    @property
    def name(self) -> str:
        """The entry's own file name (the last layer's last path part)."""
        return self.layers[-1].rstrip("/").rsplit("/", 1)[-1]

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes of the entry, without opening it twice when it can be avoided."""
        if self.head_reader is not None:
            return self.head_reader(n)
        with self.opener() as fh:
            return fh.read(n)


@dataclass
class Tally:
    """Counts by kind of file and the list of everything refused, skipped or failed."""

    counts: Counter = field(default_factory=Counter)
    events: list[dict] = field(default_factory=list)

    def count(self, what: str, n: int = 1) -> None:
        """Add ``n`` to the counter ``what``."""
        self.counts[what] += n

    def event(self, kind: str, path: str, reason: str) -> None:
        """``kind`` is ``refused`` (bomb, hostile name), ``error`` (could not read),
        ``skipped`` (special file, symlink out of the root, depth limit) or ``warning``."""
        self.events.append({"kind": kind, "path": path, "reason": reason})

    def merge(self, other: Tally) -> None:
        """Add another tally's counts and events to this one (a worker's, say)."""
        self.counts.update(other.counts)
        self.events.extend(other.events)
