"""Hashes of evidence content: MD5, SHA-1 and SHA-256 computed together in one
read pass over a stream, the form every record, the hash set lookup and the CASE
export use.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

CHUNK = 1 << 20


class MultiHash:
    """MD5, SHA-1 and SHA-256 updated together."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        """Feed ``data`` to every digest."""
        self._md5.update(data)
        self._sha1.update(data)
        self._sha256.update(data)
        self.size += len(data)

    def hexdigests(self) -> dict[str, str]:
        """The MD5, SHA-1 and SHA-256 of everything fed so far, as hex."""
        return {
            "md5": self._md5.hexdigest(),
            "sha1": self._sha1.hexdigest(),
            "sha256": self._sha256.hexdigest(),
        }


def hash_stream(fh: BinaryIO, *, chunk: int = CHUNK) -> tuple[dict[str, str], int]:
    """Hash ``fh`` from its current position to the end; return (digests, bytes read)."""
    digest = MultiHash()
    buf = bytearray(chunk)
    view = memoryview(buf)
    readinto = getattr(fh, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
            if not n:
                break
            digest.update(view[:n])
        else:
            data = fh.read(chunk)
            if not data:
                break
            digest.update(data)
    return digest.hexdigests(), digest.size
