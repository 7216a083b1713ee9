"""Checks every reader makes before it opens an input file.

A FIFO, socket or device named as an input would block a reader forever or
never end, so it is refused by its type before anything opens it; a missing
file or a folder gets the same one-line error from every command.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tomllib
from pathlib import Path

from firetrace.errors import InputError


def regular_file(
    path: str | Path, *, missing: str = "no such file", folder: str = "is a folder, not a file"
) -> Path:
    """``path`` as a :class:`Path` if it is a regular file (symlinks followed), else
    an :class:`InputError` naming it; ``missing`` and ``folder`` are the messages
    for a missing file and for a folder (a command may point to the one for folders)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(missing, path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path=str(path)) from None
    if stat.S_ISDIR(mode):
        raise InputError(folder, path=str(path))
    if not stat.S_ISREG(mode):
        raise InputError(SPECIAL, path=str(path))
    return path


def special_file(path: str | Path) -> bool:
    """Whether ``path`` names a FIFO, socket or device (symlinks followed): a reader
    opening it would block forever or never end. False when it is missing, a
    regular file or a folder (each reported by the caller as it sees fit)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


SPECIAL = "not a regular file (FIFO, socket or device)"

# SQLite's companion files of a database: rollback journal, write-ahead log and
# its shared-memory index.
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


def refuse_special_companions(db: str | Path, what: str) -> None:
    """An :class:`InputError` when a companion file of the SQLite database ``db``
    is a FIFO, socket or device: SQLite opening a FIFO ``-journal`` (to look for a
    hot journal) waits for a writer for ever. ``what`` names the database."""
    for suffix in SQLITE_COMPANIONS:
        companion = f"{db}{suffix}"
        if special_file(companion):
            raise InputError(f"{SPECIAL}, so it cannot be {what}'s {suffix[1:]}", path=companion)


class DuplicateKey(ValueError):
    """A JSON object naming the same key twice (which value was meant?)."""

    def __init__(self, key: str):
        super().__init__(f"'{key}' is given twice")
        self.key = key


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def parse_json(text: str | bytes, *, unique_keys: bool = False):
    """``json.loads`` for untrusted text: nesting too deep for the parser is a
    ``ValueError`` like any other malformed JSON (not a ``RecursionError``), and
    with ``unique_keys`` an object naming a key twice is one (:class:`DuplicateKey`)."""
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs if unique_keys else None)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of the file at ``path``, read in 1 MiB blocks (memory stays flat)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_toml(path: str | Path, what: str = "TOML file") -> dict:
    """A TOML file a user supplies (policy, config, scan limits), as a dict. A
    missing file raises :class:`FileNotFoundError` (callers decide what that
    means); unreadable, non-UTF-8 or malformed content is an :class:`InputError`."""
    path = Path(path)
    if special_file(path):
        raise InputError(f"{what} cannot be read: {SPECIAL}", path=str(path))
    with open(path, "rb") as fh:  # FileNotFoundError passes through
        raw = fh.read()
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{what} cannot be read: not UTF-8 text", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} cannot be read: not valid TOML ({exc})", path=str(path)) from None
