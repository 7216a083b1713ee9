"""Content sniffing: which design-file format a byte stream holds, judged by its
content and never by its name alone.

The scanner calls :func:`sniff_format` on every file of a seized tree, so it reads
only the first few kilobytes (and, for zip containers, the zip directory) and
allocates nothing large. The name is used only to report a corrupt file whose
content is inconclusive but whose extension claims a design format (a truncated
``part.stl`` must still be reported, as an error record, rather than skipped).
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

from firetrace.detect.readers import Head, reader_specs

HEAD_BYTES = 8192


def _specs():
    return reader_specs()


def __getattr__(name: str):
    # derived from the readers' own registrations on first use, so that importing
    # this module imports no reader module
    if name == "FORMATS":
        return tuple(spec.format for spec in _specs())
    if name == "EXTENSION_FORMATS":
        return extension_formats()
    raise AttributeError(name)


def extension_formats() -> dict[str, str]:
    """Every registered extension (lower case, no dot) and the format it claims."""
    return {ext: spec.format for spec in _specs() for ext in spec.extensions}


def extension_format(name: str | None) -> str | None:
    """The design format an extension claims (``part.STL`` -> ``stl``), or None."""
    if not name:
        return None
    base = name.rsplit("!/", 1)[-1].rsplit("/", 1)[-1]
    if "." not in base:
        return None
    return extension_formats().get(base.rsplit(".", 1)[-1].lower())


_PRINTABLE = bytes([9, 10, 13, *range(32, 256)])


def _is_text(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head:
        return False
    sample = head[:2048]
    control = len(sample.translate(None, _PRINTABLE))  # bytes.translate runs in C
    return len(sample) - control >= 0.97 * len(sample)


def _zip_names(fh: BinaryIO) -> list[str] | None:
    try:
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            return [n.lower() for n in archive.namelist()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
        return None


def _zip_formats() -> tuple[str, ...]:
    return tuple(spec.format for spec in _specs() if spec.zip_signature is not None)


def _sniff_zip(names: list[str]) -> str | None:
    for spec in _specs():
        if spec.zip_signature is not None and spec.zip_signature(names):
            return spec.format
    return None


def make_head(head: bytes, size: int):
    """The :class:`~firetrace.detect.readers.Head` every reader's signature is tested on."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return Head(
        raw=head,
        size=size,
        stripped=stripped,
        text=_is_text(stripped[:4096]),
        lowered=stripped[:4096].lower(),
    )


def sniff_bytes(head: bytes, size: int) -> str | None:
    """Identify a format from the first bytes of a file and its total size: the first
    registered reader, in signature order, whose signature holds."""
    if not head:
        return None
    prepared = make_head(head, size)
    for spec in _specs():
        if spec.signature is None or (spec.text and not prepared.text):
            continue
        if spec.signature(prepared):
            return spec.format
    return None


def sniff_format(fh: BinaryIO, size: int, name: str | None = None) -> str | None:
    """Identify a design-file format by content; None when it is not a design file.

    Reads at most :data:`HEAD_BYTES` from the start (plus the zip directory of a zip
    container). A plain zip that no reader claims returns None. When the content is
    inconclusive but the extension claims a design format and the content is not
    obviously something else (an image, a plain zip), the claimed format is
    returned so that the corrupt file is reported as an error record.
    """
    try:
        fh.seek(0)
        head = fh.read(HEAD_BYTES)
    except (OSError, ValueError):
        return None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        names = _zip_names(fh)
        if names is None:
            claimed = extension_format(name)
            # a corrupt 3MF is reported, not taken for an archive
            return claimed if claimed in _zip_formats() else None
        return _sniff_zip(names)
    found = sniff_bytes(head, size)
    if found is not None:
        return found
    claimed = extension_format(name)
    if claimed is None or not head:
        return claimed if claimed is not None and size == 0 else None
    if _looks_like_other_file(head):
        return None
    return claimed


_OTHER_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x1f\x8b",
    b"MZ",
    b"\x7fELF",
    b"BM",
    b"ID3",
)


def _looks_like_other_file(head: bytes) -> bool:
    return head.startswith(_OTHER_MAGIC)


def describe_content(head: bytes) -> str:
    """A short human description of what a non-design file seems to be (for errors)."""
    names = {
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
        b"GIF8": "a GIF image",
        b"%PDF": "a PDF document",
        b"PK\x03\x04": "a zip archive",
        b"7z\xbc\xaf": "a 7-Zip archive",
        b"Rar!": "a RAR archive",
        b"\x1f\x8b": "a gzip file",
        b"MZ": "a Windows executable",
        b"\x7fELF": "an ELF executable",
    }
    for magic, label in names.items():
        if head.startswith(magic):
            return label
    if not head:
        return "an empty file"
    return "text" if _is_text(head) else "unrecognised binary data"
