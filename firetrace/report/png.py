"""PNG encoding of the report's pictures with the standard library only.

The renderer produces ``(height, width, 3)`` uint8 arrays; :func:`encode_png`
turns one into PNG bytes (8-bit RGB, the "Up" row filter, zlib) so the report
needs no imaging library at run time. Decoding is left to browsers and tests.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2


def _chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(rgb: np.ndarray, *, level: int = 6) -> bytes:
    """PNG bytes of an ``(height, width, 3)`` uint8 image."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (h, w, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    rows = rgb.reshape(height, width * 3)
    # The Up filter (each byte minus the byte above, modulo 256) suits shaded
    # pictures with large flat areas and is a single vectorised subtraction.
    above = np.vstack([np.zeros((1, width * 3), np.uint8), rows[:-1]])
    filtered = rows - above  # uint8 arithmetic wraps modulo 256, as PNG expects
    raw = np.hstack([np.full((height, 1), _FILTER_UP, np.uint8), filtered])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
        + _chunk(b"IEND", b"")
    )
