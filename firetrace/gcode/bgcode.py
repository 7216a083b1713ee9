"""Prusa binary G-code (``.bgcode``), after the published libbgcode specification.

A 10-byte file header (``GCDE``, version, checksum type) is followed by blocks:
a header (type, compression, uncompressed size, and the compressed size when
compressed), parameters (the encoding; for thumbnails format, width and height),
the data and, when the file says so, a CRC32 of header, parameters and data.
Compression is none, deflate, or heatshrink with window 11 or 12 and lookahead 4
(through the ``heatshrink2`` package); G-code data may be MeatPack-encoded (4-bit
codes for the 15 commonest G-code characters, two to a byte).

:func:`decode_bgcode` returns the metadata tables, the thumbnails and the G-code
text. Every size is checked against the file and :data:`MAX_BLOCK_BYTES` before
anything is allocated; a bad checksum or a truncated block is an
:class:`~firetrace.errors.InputError` naming the byte offset. :func:`encode_bgcode`
writes files the same way; the tests use it to make fixtures, since no slicer on
this machine writes bgcode.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

from firetrace.errors import InputError

MAGIC = b"GCDE"
MAX_BLOCK_BYTES = 400_000_000
MAX_BLOCKS = 200_000
BLOCK_TYPES = {
    0: "file_metadata",
    1: "gcode",
    2: "slicer_metadata",
    3: "printer_metadata",
    4: "print_metadata",
    5: "thumbnail",
}
TYPE_OF = {name: code for code, name in BLOCK_TYPES.items()}
COMPRESSIONS = {0: "none", 1: "deflate", 2: "heatshrink_11_4", 3: "heatshrink_12_4"}
THUMBNAIL_FORMATS = {0: "png", 1: "jpg", 2: "qoi"}
ENCODING_MEATPACK = (1, 2)

# MeatPack: 4-bit code -> character; code 11 is 'E' instead of ' ' when spaces are omitted
_MEATPACK = b"0123456789. \nGX"
_SIGNAL = 0xFF
_ENABLE_PACKING, _DISABLE_PACKING, _RESET_ALL = 251, 250, 249
_ENABLE_NO_SPACES, _DISABLE_NO_SPACES = 247, 246


@dataclass
class Thumbnail:
    format: str
    width: int
    height: int
    data: bytes


@dataclass
class BinaryGcode:
    """What a bgcode file holds."""

    version: int
    checksum: str
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    thumbnails: list[Thumbnail] = field(default_factory=list)
    gcode: bytes = b""
    blocks: dict[str, int] = field(default_factory=dict)  # counts per kind
    compressions: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)


def _heatshrink(payload: bytes, window: int, expected: int, offset: int) -> bytes:
    try:
        import heatshrink2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError("heatshrink-compressed bgcode needs the heatshrink2 package") from exc
    data = heatshrink2.decompress(payload, window_sz2=window, lookahead_sz2=4)
    if len(data) != expected:
        raise InputError(
            f"bgcode block at byte {offset}: heatshrink gave {len(data):,} bytes, "
            f"header says {expected:,}"
        )
    return data


def _inflate(payload: bytes, expected: int, offset: int) -> bytes:
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):  # zlib stream, else raw deflate
        try:
            inflater = zlib.decompressobj(wbits)
            data = inflater.decompress(payload, expected + 1)
        except zlib.error:
            continue
        if len(data) == expected:
            return data
    raise InputError(f"bgcode block at byte {offset}: deflate data does not decompress")


def _decompress(kind: int, payload: bytes, expected: int, offset: int) -> bytes:
    if kind == 0:
        return payload
    if kind == 1:
        return _inflate(payload, expected, offset)
    if kind in (2, 3):
        return _heatshrink(payload, 11 if kind == 2 else 12, expected, offset)
    raise InputError(f"bgcode block at byte {offset}: unknown compression {kind}")


def _ini(payload: bytes) -> dict[str, str]:
    table: dict[str, str] = {}
    for line in payload.decode("utf-8", "replace").splitlines()[:5000]:
        key, sep, value = line.partition("=")
        if sep and key.strip():
            table[key.strip()[:100]] = value.strip()[:500]
    return table


def _packed_raw_positions(packed: np.ndarray) -> np.ndarray:
    """Which bytes of a packed run are full-width characters: the ones that follow
    a packed byte with an all-ones nibble (one per such nibble).

    Full-width characters are ASCII, so their high nibble is never all ones; only
    a few (``/ ? O _ o``) end in one. If none of those is among them, every byte
    with an all-ones nibble is a packed byte and the answer is one vector step;
    otherwise the run is walked in order (exact, slower)."""
    low = (packed & 0x0F) == 0x0F
    high = (packed & 0xF0) == 0xF0
    counts = low.astype(np.int64) + high.astype(np.int64)
    candidates = np.flatnonzero(counts)
    raw = np.zeros(len(packed) + 2, dtype=bool)
    raw[candidates + 1] = True
    raw[candidates[counts[candidates] == 2] + 2] = True
    raw = raw[: len(packed)]
    if not raw[candidates[candidates < len(packed)]].any():
        return raw
    raw[:] = False
    skip_until = 0
    for position in candidates.tolist():
        if position < skip_until:
            continue  # itself a full-width character
        width = int(counts[position])
        raw[position + 1 : position + 1 + width] = True
        skip_until = position + 1 + width
    return raw


def _unpack_run(run: np.ndarray, no_spaces: bool) -> bytes:
    """Decode one run of packed bytes (no signal inside)."""
    if len(run) == 0:
        return b""
    raw = _packed_raw_positions(run)
    packed = run[~raw]
    full = run[raw]
    nibbles = np.empty(2 * len(packed), dtype=np.uint8)
    nibbles[0::2] = packed & 0x0F
    nibbles[1::2] = packed >> 4
    table = np.frombuffer(_MEATPACK, dtype=np.uint8).copy()
    if no_spaces:
        table[11] = ord("E")
    wide = nibbles == 0x0F
    out = np.empty(len(nibbles), dtype=np.uint8)
    out[~wide] = table[nibbles[~wide]]
    n_wide = int(wide.sum())
    out[np.flatnonzero(wide)[: len(full)]] = full[:n_wide]
    if n_wide > len(full):  # truncated: drop the characters that never came
        out = out[: np.flatnonzero(wide)[len(full)]]
    return out.tobytes()


def meatpack_decode(data: bytes) -> bytes:
    """MeatPack-encoded G-code to text. Signals (two 0xFF bytes and a command)
    switch packing and the no-spaces mode; the runs between them decode at once."""
    buf = np.frombuffer(data, dtype=np.uint8)
    signals = np.flatnonzero((buf[:-2] == _SIGNAL) & (buf[1:-1] == _SIGNAL)) if len(buf) > 2 else []
    packing, no_spaces = False, False
    parts: list[bytes] = []
    position = 0
    for signal in list(signals) + [len(buf)]:
        if signal < position:
            continue  # the second 0xFF of a signal already read
        run = buf[position:signal]
        parts.append(_unpack_run(run, no_spaces) if packing else run.tobytes())
        if signal >= len(buf) - 2:
            break
        command = int(buf[signal + 2])
        if command == _ENABLE_PACKING:
            packing = True
        elif command == _DISABLE_PACKING:
            packing = False
        elif command == _ENABLE_NO_SPACES:
            no_spaces = True
        elif command == _DISABLE_NO_SPACES:
            no_spaces = False
        elif command == _RESET_ALL:
            packing, no_spaces = False, False
        position = signal + 3
    return b"".join(parts)


def meatpack_encode(text: bytes, no_spaces: bool = False) -> bytes:
    """MeatPack-encode G-code (for fixtures): packing on, two characters a byte,
    a character outside the table as an all-ones nibble plus the byte itself."""
    table = bytearray(_MEATPACK)
    if no_spaces:
        table[11] = ord("E")
        text = text.replace(b" ", b"")
    code = {c: i for i, c in enumerate(table) if i < 15}
    out = bytearray([_SIGNAL, _SIGNAL, _ENABLE_PACKING])
    if no_spaces:
        out += bytes([_SIGNAL, _SIGNAL, _ENABLE_NO_SPACES])
    if len(text) % 2:
        text += b"\n" if text.endswith(b"\n") else b" "
    for first, second in zip(text[0::2], text[1::2], strict=True):
        lo, hi = code.get(first, 0x0F), code.get(second, 0x0F)
        out.append(lo | (hi << 4))
        out += bytes(c for c, n in ((first, lo), (second, hi)) if n == 0x0F)
    return bytes(out)


def _read_header(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        raise InputError("bgcode shorter than its 10-byte file header")
    magic, version, checksum = struct.unpack_from("<4sIH", data, 0)
    if magic != MAGIC:
        raise InputError("bgcode without the GCDE signature")
    if checksum not in (0, 1):
        raise InputError(f"bgcode with unknown checksum type {checksum}")
    return version, checksum


def decode_bgcode(data: bytes) -> BinaryGcode:
    """Every block of a bgcode file (see the module docstring)."""
    version, checksum = _read_header(data)
    result = BinaryGcode(version=version, checksum="crc32" if checksum else "none")
    crc_size = 4 if checksum else 0
    gcode_parts: list[bytes] = []
    position = 10
    while position < len(data):
        if len(result.blocks) and sum(result.blocks.values()) >= MAX_BLOCKS:
            raise InputError(f"bgcode with more than {MAX_BLOCKS:,} blocks")
        if position + 8 > len(data):
            raise InputError(f"bgcode block header at byte {position} is truncated")
        kind, compression, size = struct.unpack_from("<HHI", data, position)
        header_size, stored = 8, size
        if compression:
            if position + 12 > len(data):
                raise InputError(f"bgcode block header at byte {position} is truncated")
            (stored,) = struct.unpack_from("<I", data, position + 8)
            header_size = 12
        if kind not in BLOCK_TYPES:
            raise InputError(f"bgcode block at byte {position} has unknown type {kind}")
        params_size = 6 if kind == TYPE_OF["thumbnail"] else 2
        start = position + header_size + params_size
        end = start + stored
        if end + crc_size > len(data) or max(size, stored) > MAX_BLOCK_BYTES:
            raise InputError(f"bgcode block at byte {position} runs past the end of the file")
        if checksum:
            (expected,) = struct.unpack_from("<I", data, end)
            if zlib.crc32(data[position:end]) != expected:
                raise InputError(f"bgcode block at byte {position} fails its CRC32 checksum")
        payload = _decompress(compression, data[start:end], size, position)
        name = BLOCK_TYPES[kind]
        result.blocks[name] = result.blocks.get(name, 0) + 1
        label = COMPRESSIONS.get(compression, str(compression))
        if label not in result.compressions:
            result.compressions.append(label)
        if name == "thumbnail":
            fmt, width, height = struct.unpack_from("<HHH", data, position + header_size)
            result.thumbnails.append(
                Thumbnail(THUMBNAIL_FORMATS.get(fmt, f"format{fmt}"), width, height, payload)
            )
        elif name == "gcode":
            (encoding,) = struct.unpack_from("<H", data, position + header_size)
            encoded = "meatpack" if encoding in ENCODING_MEATPACK else "plain"
            if encoded not in result.encodings:
                result.encodings.append(encoded)
            gcode_parts.append(
                meatpack_decode(payload) if encoding in ENCODING_MEATPACK else payload
            )
        else:
            result.metadata.setdefault(name, {}).update(_ini(payload))
        position = end + crc_size
    if not result.blocks:
        raise InputError("bgcode without any block")
    result.gcode = b"".join(gcode_parts)
    return result


def _compress(payload: bytes, compression: int) -> bytes:
    if compression == 0:
        return payload
    if compression == 1:
        return zlib.compress(payload)
    import heatshrink2

    return heatshrink2.compress(payload, window_sz2=11 if compression == 2 else 12, lookahead_sz2=4)


def encode_block(
    kind: str,
    payload: bytes,
    *,
    compression: int = 0,
    params: bytes = b"\0\0",
    checksum: bool = True,
) -> bytes:
    """One block: header, parameters, (compressed) data and CRC32."""
    stored = _compress(payload, compression)
    header = struct.pack("<HHI", TYPE_OF[kind], compression, len(payload))
    if compression:
        header += struct.pack("<I", len(stored))
    block = header + params + stored
    return block + (struct.pack("<I", zlib.crc32(block)) if checksum else b"")


def _ini_bytes(table: dict[str, str]) -> bytes:
    return "".join(f"{key}={value}\n" for key, value in table.items()).encode()


def encode_bgcode(
    gcode: bytes,
    *,
    printer: dict[str, str] | None = None,
    slicer: dict[str, str] | None = None,
    print_meta: dict[str, str] | None = None,
    file_meta: dict[str, str] | None = None,
    thumbnails: list[Thumbnail] = (),
    compression: int = 1,
    meatpack: bool = False,
    checksum: bool = True,
    block_bytes: int = 65536,
) -> bytes:
    """A bgcode file in the specification's block order (for fixtures and tests)."""
    out = [MAGIC + struct.pack("<IH", 1, 1 if checksum else 0)]

    def metadata(kind: str, values: dict[str, str]) -> bytes:
        return encode_block(
            kind, _ini_bytes(values), compression=1 if compression else 0, checksum=checksum
        )

    if file_meta:
        out.append(metadata("file_metadata", file_meta))
    out.append(metadata("printer_metadata", printer or {}))
    for thumb in thumbnails:
        fmt = {v: k for k, v in THUMBNAIL_FORMATS.items()}[thumb.format]
        out.append(
            encode_block(
                "thumbnail",
                thumb.data,
                params=struct.pack("<HHH", fmt, thumb.width, thumb.height),
                checksum=checksum,
            )
        )
    out.append(metadata("print_metadata", print_meta or {}))
    out.append(metadata("slicer_metadata", slicer or {}))
    lines = gcode.splitlines(keepends=True)
    chunk: list[bytes] = []
    size = 0
    for line in lines + [None]:
        if line is not None:
            chunk.append(line)
            size += len(line)
        if chunk and (line is None or size >= block_bytes):
            text = b"".join(chunk)
            payload = meatpack_encode(text) if meatpack else text
            out.append(
                encode_block(
                    "gcode",
                    payload,
                    compression=compression,
                    params=struct.pack("<H", 1 if meatpack else 0),
                    checksum=checksum,
                )
            )
            chunk, size = [], 0
    return b"".join(out)
