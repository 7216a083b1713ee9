"""STL reader, binary and ASCII, straight into numpy arrays (no Python loop over
triangles). Binary counts are checked against the file size before allocation;
identical corner coordinates are merged into shared vertices so that topology
(watertightness, genus) can be measured. The 80-byte header and ``solid`` names
are kept as evidence.
"""

from __future__ import annotations

import re
import struct
from typing import BinaryIO

from firetrace.detect.readers import LIMITS, Design, geometry_skipped, register
from firetrace.errors import InputError

_FLOAT = rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_NUMBER = rb"(" + _FLOAT + rb")"
_VERTEX = re.compile(rb"vertex\s+" + _NUMBER + rb"\s+" + _NUMBER + rb"\s+" + _NUMBER, re.I)
ASCII_CHUNK = 16 * 1024 * 1024
_SOLID_NAME = re.compile(rb"^\s*solid[ \t]*([^\r\n]*)", re.M | re.I)


def merge_corners(corners):
    """(n*3, 3) float corners -> (unique vertices, (n, 3) faces) by exact equality.

    Corners are keyed by a 64-bit hash of their bit patterns (sorting one integer
    column is several times faster than sorting 12-byte records); the result is
    then checked exactly, and a hash collision falls back to the byte-wise sort.
    """
    import numpy as np

    corners = np.array(corners, dtype=np.float32, order="C")  # always a private copy
    # +0.0 and -0.0 are the same point but differ in bits
    corners += np.float32(0.0)
    bits = corners.view(np.uint32).astype(np.uint64)
    key = (
        (bits[:, 0] * np.uint64(0x9E3779B97F4A7C15))
        ^ (bits[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F))
        ^ (bits[:, 2] * np.uint64(0x165667B19E3779F9))
    )
    # np.unique(return_index, return_inverse) does more work than this one argsort
    order = np.argsort(key)
    ordered = key[order]
    starts = np.empty(len(key), dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    inverse = np.empty(len(key), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    first = order[starts]
    if not np.array_equal(corners[first][inverse], corners):
        records = corners.view(np.dtype((np.void, 12))).ravel()
        _, first, inverse = np.unique(records, return_index=True, return_inverse=True)
    vertices = corners[first].astype(np.float64)
    faces = inverse.reshape(-1, 3).astype(np.int64)
    return vertices, faces


def _header_text(header: bytes) -> str:
    text = header.split(b"\x00", 1)[0].decode("latin-1", "replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text


@register("stl")
def read_stl(fh: BinaryIO, size: int, name: str | None) -> Design:
    fh.seek(0)
    head = fh.read(84)
    is_ascii = head.lstrip().lower().startswith(b"solid")
    if size >= 84:
        (count,) = struct.unpack_from("<I", head, 80)
        if 84 + 50 * count == size:
            is_ascii = False
        elif is_ascii:
            pass
        else:
            return _binary(fh, size, head, count)
    elif not is_ascii:
        raise InputError(f"truncated: {size} bytes is shorter than a binary STL header (84)")
    if is_ascii:
        return _ascii(fh, size)
    return _binary(fh, size, head, count)


def _binary(fh: BinaryIO, size: int, head: bytes, count: int) -> Design:
    import numpy as np

    expected = 84 + 50 * count
    if count > LIMITS.max_triangles:
        raise InputError(
            f"binary STL header claims {count:,} triangles ({expected:,} bytes) but the file has "
            f"{size:,} bytes; refusing (limit {LIMITS.max_triangles:,})"
        )
    if expected > size:
        raise InputError(
            f"truncated: header claims {count:,} triangles ({expected:,} bytes), "
            f"file has {size:,} bytes"
        )
    if count == 0:
        raise InputError("binary STL with zero triangles")
    design = Design(format="stl")
    if count > LIMITS.max_geometry_triangles:
        geometry_skipped(design, count)
    else:
        dtype = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
        fh.seek(84)
        data = fh.read(50 * count)
        records = np.frombuffer(data, dtype=dtype, count=count)
        design.vertices, design.faces = merge_corners(records["corners"].reshape(-1, 3))
        del data, records
    header = _header_text(head[:80])
    if header:
        design.names.append(header)
        design.metadata["header"] = header
    design.metadata["encoding"] = "binary"
    if expected < size:
        design.warnings.append(f"{size - expected} trailing bytes after the last triangle")
    return design


def _ascii(fh: BinaryIO, size: int) -> Design:
    """Parse in chunks cut at line ends, so memory follows the triangle count
    rather than the (much larger) text."""
    import numpy as np

    if size > LIMITS.max_text_bytes:
        raise InputError(f"ASCII STL of {size:,} bytes exceeds the {LIMITS.max_text_bytes:,} limit")
    fh.seek(0)
    blocks: list = []
    names: list[str] = []
    corners_seen = 0
    too_many = False
    carry = b""
    tail = b""
    while True:
        chunk = fh.read(ASCII_CHUNK)
        text = carry + chunk
        if chunk:
            cut = text.rfind(b"\n") + 1 or len(text)
            text, carry = text[:cut], text[cut:]
        else:
            carry = b""
        names += [n.decode("utf-8", "replace").strip() for n in _SOLID_NAME.findall(text)]
        numbers = _VERTEX.findall(text)
        corners_seen += len(numbers)
        if corners_seen > 3 * LIMITS.max_geometry_triangles:
            too_many = True
        if numbers and not too_many:
            blocks.append(np.array(numbers, dtype=np.float64).reshape(-1, 3))
        if text:
            tail = (tail + text)[-4096:]
        if not chunk:
            break
    if corners_seen == 0:
        raise InputError("ASCII STL without any vertex")
    if corners_seen % 3:
        raise InputError(
            f"ASCII STL: {corners_seen} vertices is not a multiple of three (truncated?)"
        )
    design = Design(format="stl", names=[n for n in names if n][:50])
    if too_many:
        geometry_skipped(design, corners_seen // 3)
    else:
        design.vertices, design.faces = merge_corners(np.concatenate(blocks))
    text = tail
    design.metadata["encoding"] = "ascii"
    if b"endsolid" not in text[-4096:].lower():
        design.warnings.append("no closing 'endsolid' (truncated?)")
    return design
