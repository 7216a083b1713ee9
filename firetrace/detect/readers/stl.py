"""STL reader, binary and ASCII, straight into numpy arrays (no Python loop over
triangles). Binary counts are checked against the file size before allocation;
identical corner coordinates are merged into shared vertices so that topology
(watertightness, genus) can be measured. The 80-byte header and ``solid`` names
are kept as evidence.
"""

from __future__ import annotations

import io
import mmap
import re
import struct
from typing import BinaryIO

from firetrace.detect.readers import (
    LIMITS,
    Design,
    distinct_corners,
    geometry_skipped,
    register,
)
from firetrace.errors import InputError

_FLOAT = rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_NUMBER = rb"(" + _FLOAT + rb")"
_VERTEX = re.compile(rb"vertex\s+" + _NUMBER + rb"\s+" + _NUMBER + rb"\s+" + _NUMBER, re.I)
ASCII_CHUNK = 16 * 1024 * 1024
_SOLID_NAME = re.compile(rb"^\s*solid[ \t]*([^\r\n]*)", re.M | re.I)


_HASH_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)


def _corner_hash(corners):
    """A 64-bit hash of each float32 corner's bit pattern (in place, few temporaries)."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    bits = corners.view(np.uint32)
    key = bits[:, 0].astype(np.uint64)
    key *= np.uint64(_HASH_MULTIPLIERS[0])
    for axis in (1, 2):
        term = bits[:, axis].astype(np.uint64)
        term *= np.uint64(_HASH_MULTIPLIERS[axis])
        key ^= term
    return key


def _groups(order, starts):
    """Sorted corners (*order*) and where each new vertex starts -> (first, inverse)."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return order[starts], inverse


def merge_corners(corners):
    """(n*3, 3) float corners -> (unique vertices, (n, 3) faces) by exact equality.

    Corners are keyed by a 64-bit hash of their bit patterns whose low bits are
    replaced by the corner's index, so that one plain sort of one integer column
    (no argsort, no 12-byte records) both groups equal corners and says where each
    came from. The result is then checked exactly; a clash of the shortened hashes
    falls back to an argsort of the full hash, and a clash of that to the byte-wise
    sort. Vertices come out in the order of their hash either way.
    """
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    corners = np.array(corners, dtype=np.float32, order="C")  # always a private copy
    # +0.0 and -0.0 are the same point but differ in bits
    corners += np.float32(0.0)
    count = len(corners)
    key = _corner_hash(corners)
    shift = max(int(count - 1).bit_length(), 1)
    mask = np.uint64((1 << shift) - 1)
    packed = key & ~mask
    packed |= np.arange(count, dtype=np.uint64)
    packed.sort()
    starts = np.empty(count, dtype=bool)
    starts[:1] = True
    np.greater(packed[1:] ^ packed[:-1], mask, out=starts[1:])
    first, inverse = _groups((packed & mask).astype(np.int64), starts)
    if not np.array_equal(corners[first][inverse], corners):
        order = np.argsort(key)
        ordered = key[order]
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        first, inverse = _groups(order, starts)
    if not np.array_equal(corners[first][inverse], corners):
        records = corners.view(np.dtype((np.void, 12))).ravel()
        _, first, inverse = np.unique(records, return_index=True, return_inverse=True)
    vertices = corners[first].astype(np.float64)
    faces = inverse.reshape(-1, 3).astype(np.int64, copy=False)
    return vertices, faces


def _header_text(header: bytes) -> str:
    text = header.split(b"\x00", 1)[0].decode("latin-1", "replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text


def looks_like_stl(head) -> bool:
    """A binary STL's triangle count matches the file size exactly; an ASCII STL
    opens with ``solid`` and has facets (CAD exporters also write binary files
    whose 80-byte header starts with "solid", which the count check catches first)."""
    if head.size >= 84 and len(head.raw) >= 84:
        (count,) = struct.unpack_from("<I", head.raw, 80)
        if 84 + 50 * count == head.size:
            return True
    return (
        head.text
        and head.lowered.startswith(b"solid")
        and (b"facet" in head.lowered or b"endsolid" in head.lowered)
    )


def read_stl(fh: BinaryIO, size: int, name: str | None) -> Design:
    """STL, binary or ASCII: one body per ASCII ``solid``, one for a binary file."""
    fh.seek(0)
    head = fh.read(84)
    is_ascii = head.lstrip().lower().startswith(b"solid")
    if size >= 84:
        (count,) = struct.unpack_from("<I", head, 80)
        if 84 + 50 * count == size or not is_ascii:
            return _binary(fh, size, head, count)
    elif not is_ascii:
        raise InputError(f"truncated: {size} bytes is shorter than a binary STL header (84)")
    return _ascii(fh, size)


# registered by a call, not as a decorator: mutmut 3 does not mutate decorated
# functions (tools/mutation_score.py)
register("stl", signature=looks_like_stl, order=20)(read_stl)


_RECORD = None


def _record_dtype():
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    global _RECORD
    if _RECORD is None:
        _RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    return _RECORD


def _binary(fh: BinaryIO, size: int, head: bytes, count: int) -> Design:
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    expected = 84 + 50 * count
    if count > LIMITS.max_triangles and expected == size:
        design = Design(format="stl")
        geometry_skipped(design, count, LIMITS.max_triangles)
        return _with_header(design, head)
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
    if count > DECIMATE_ABOVE:
        vertices, faces, cell = _decimated(fh, count)
        design.add_body(vertices, faces, kind="solid")
        design.metadata["decimated"] = {
            "from_triangles": count,
            "to_triangles": int(len(faces)),
            "cell": round(float(cell), 6),
        }
        design.warnings.append(
            f"{count:,} triangles decimated to {len(faces):,} by vertex clustering "
            f"(cells of {cell:.3g} file units) before analysis"
        )
    else:
        fh.seek(84)
        data = fh.read(50 * count)
        records = np.frombuffer(data, dtype=_record_dtype(), count=count)
        vertices, faces = merge_corners(records["corners"].reshape(-1, 3))
        design.add_body(vertices, faces, kind="solid")
        del data, records
    design = _with_header(design, head)
    design.metadata["encoding"] = "binary"
    if expected < size:
        design.warnings.append(f"{size - expected} trailing bytes after the last triangle")
    return design


def _with_header(design: Design, head: bytes) -> Design:
    header = _header_text(head[:80])
    if header:
        design.names.append(header)
        design.metadata["header"] = header
    return design


# binary STL files with more triangles are decimated while they are read, so that a
# 10-million-triangle scan is judged in seconds and bounded memory (LIMITS caps the rest)
DECIMATE_ABOVE = 2_000_000
DECIMATE_CHUNK = 1_000_000  # triangles read at a time
# cells small enough that the engine's voxel grid (about 400 cells along the longest
# side) sees the same solid, and large enough that about this many vertices remain
DECIMATE_CELLS_ALONG = 800
DECIMATE_TARGET_VERTICES = 700_000


def _records(fh: BinaryIO, count: int):
    """The file's triangle records without copying them when the stream allows: a
    memory map of a file on disk, or the buffer of an in-memory stream; else None."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    if isinstance(fh, io.BytesIO):
        return np.frombuffer(fh.getbuffer(), dtype=_record_dtype(), count=count, offset=84)
    try:
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None  # an archive member or another stream: read in chunks
    return np.frombuffer(mapped, dtype=_record_dtype(), count=count, offset=84)


def _chunks(fh: BinaryIO, count: int, records=None):
    """The triangles' corners, DECIMATE_CHUNK triangles at a time."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    if records is not None:
        for start in range(0, count, DECIMATE_CHUNK):
            yield records["corners"][start : start + DECIMATE_CHUNK]
        return
    fh.seek(84)
    for start in range(0, count, DECIMATE_CHUNK):
        n = min(DECIMATE_CHUNK, count - start)
        data = fh.read(50 * n)
        if len(data) < 50 * n:
            raise InputError("truncated while reading triangles")
        yield np.frombuffer(data, dtype=_record_dtype(), count=n)["corners"]


def _decimated(fh: BinaryIO, count: int):
    """Vertex clustering in streaming passes: the box and surface area first, then
    every corner snapped to a cell of a regular grid, then each cell's vertex placed at
    the mean of its corners; triangles that collapse are dropped. Returns (vertices,
    faces, cell size in file units)."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    records = _records(fh, count)
    low = np.full(3, np.inf)
    high = np.full(3, -np.inf)
    area = 0.0
    for corners in _chunks(fh, count, records):
        flat = corners.reshape(-1, 3)
        low = np.minimum(low, flat.min(axis=0))  # a NaN or infinity carries through
        high = np.maximum(high, flat.max(axis=0))
        # the area only sizes the cells: every 16th triangle tells it well enough
        sample = corners[::16].astype(np.float64)
        cross = np.cross(sample[:, 1] - sample[:, 0], sample[:, 2] - sample[:, 0])
        area += 16 * float(np.sqrt(np.einsum("ij,ij->i", cross, cross)).sum() / 2)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise InputError("vertices with NaN or infinite coordinates")
    longest = float((high - low).max())
    if not longest > 0:
        raise InputError("degenerate mesh (all corners coincide)")
    cell = max(longest / DECIMATE_CELLS_ALONG, (area / DECIMATE_TARGET_VERTICES) ** 0.5)
    cells = np.floor((high - low) / cell).astype(np.int64) + 1
    keys = np.empty(3 * count, dtype=np.int64)
    position = 0
    origin, scale = low.astype(np.float32), np.float32(1.0 / cell)
    top = (cells - 1).astype(np.int32)
    for corners in _chunks(fh, count, records):
        # corners lie at or above the box's low corner: truncation is the floor
        index = ((corners.reshape(-1, 3) - origin) * scale).astype(np.int32)
        np.minimum(index, top, out=index)  # float32 rounding at the far side
        end = position + len(index)
        keys[position:end] = (index[:, 0].astype(np.int64) * cells[1] + index[:, 1]) * cells[
            2
        ] + index[:, 2]
        position = end
    unique, inverse = _cluster_keys(keys, int(np.prod(cells)))
    del keys
    # each vertex at the mean of the corners snapped to its cell (not the cell's
    # centre): the extents and walls stay where the file put them
    sums = np.zeros((len(unique), 3))
    position = 0
    for corners in _chunks(fh, count, records):
        flat = corners.reshape(-1, 3)
        which = inverse[position : position + len(flat)]
        for axis in range(3):
            sums[:, axis] += np.bincount(which, weights=flat[:, axis], minlength=len(unique))
        position += len(flat)
    vertices = sums / np.bincount(inverse, minlength=len(unique))[:, None]
    faces = inverse.reshape(-1, 3)
    del inverse
    faces = _without_repeats(faces[distinct_corners(faces)], len(unique))
    return vertices, faces, cell


# a grid of at most this many cells is marked in a dense table (linear time) rather
# than sorted (n log n); 50 million cells take 50 MB of flags and 200 MB of indices
DENSE_CELLS = 50_000_000


def _cluster_keys(keys, cells: int):
    """(the distinct cell keys in order, each key's position among them)."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    if cells > DENSE_CELLS:
        return np.unique(keys, return_inverse=True)
    used = np.zeros(cells, dtype=bool)
    used[keys] = True
    unique = np.flatnonzero(used)
    position = np.zeros(cells, dtype=np.int32)
    position[unique] = np.arange(len(unique), dtype=np.int32)
    return unique, position[keys].astype(np.int64)


def _without_repeats(faces, n_vertices: int):
    """Drop every triangle whose three vertices another triangle also uses: clustering
    folds thin slivers onto themselves, leaving pairs of opposite triangles that
    enclose nothing."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    if not len(faces):
        return faces
    ordered = np.sort(faces, axis=1)
    if n_vertices < 2_000_000:  # three indices fit one int64 key: a flat sort
        n = np.int64(n_vertices)
        key = (ordered[:, 0] * n + ordered[:, 1]) * n + ordered[:, 2]
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    else:
        _, inverse, counts = np.unique(ordered, axis=0, return_inverse=True, return_counts=True)
    return faces[counts[inverse.ravel()] == 1]


_SOLID_END = re.compile(rb"^[ \t]*endsolid[^\r\n]*", re.M | re.I)


def _ascii(fh: BinaryIO, size: int) -> Design:
    """Parse in chunks cut at line ends, so memory follows the triangle count
    rather than the (much larger) text. Each ``solid ... endsolid`` is a body."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    if size > LIMITS.max_text_bytes:
        raise InputError(f"ASCII STL of {size:,} bytes exceeds the {LIMITS.max_text_bytes:,} limit")
    fh.seek(0)
    solids: list[list] = [[]]  # the corner blocks of each solid, in file order
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
        pieces = _SOLID_END.split(text)
        for number, piece in enumerate(pieces):
            if number:
                solids.append([])  # an endsolid closed the previous solid
            numbers = _VERTEX.findall(piece)
            corners_seen += len(numbers)
            if corners_seen > 3 * LIMITS.max_geometry_triangles:
                too_many = True
            if numbers and not too_many:
                solids[-1].append(np.array(numbers, dtype=np.float64).reshape(-1, 3))
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
        filled = [blocks for blocks in solids if blocks]
        for number, blocks in enumerate(filled):
            corners = np.concatenate(blocks)
            if len(corners) % 3:
                raise InputError(f"ASCII STL: solid {number + 1} has a facet without 3 vertices")
            vertices, faces = merge_corners(corners)
            label = names[number] if number < len(names) and names[number] else None
            design.add_body(vertices, faces, name=label, kind="solid")
    design.metadata["encoding"] = "ascii"
    if b"endsolid" not in tail[-4096:].lower():
        design.warnings.append("no closing 'endsolid' (truncated?)")
    return design
