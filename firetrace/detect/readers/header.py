"""STEP and IGES readers, header only: no B-rep is evaluated. What they give is
evidence in words (STEP ``FILE_NAME``, ``FILE_DESCRIPTION`` and ``PRODUCT``
names; IGES start-section text and global-section strings) and the declared
length unit. Only the first :data:`SCAN_BYTES` are read.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from firetrace.detect.readers import Design, register
from firetrace.errors import InputError

SCAN_BYTES = 16_000_000
_STRING = r"'((?:[^']|'')*)'"
_FILE_NAME = re.compile(r"FILE_NAME\s*\(\s*" + _STRING, re.I)
_FILE_DESCRIPTION = re.compile(r"FILE_DESCRIPTION\s*\(\s*\(\s*" + _STRING, re.I)
_COMMA = r"\s*,\s*"
_PRODUCT = re.compile(r"\bPRODUCT\s*\(\s*" + _STRING + _COMMA + _STRING + _COMMA + _STRING, re.I)
_STEP_UNIT = re.compile(r"SI_UNIT\s*\(\s*(\.\w+\.|\$)\s*,\s*\.METRE\.", re.I)
_STEP_INCH = re.compile(r"CONVERSION_BASED_UNIT\s*\(\s*'INCH'", re.I)


def _unquote(text: str) -> str:
    return text.replace("''", "'").strip()


def read_step(fh: BinaryIO, size: int, name: str | None) -> Design:
    """STEP header: file name, description, product names and the length unit."""
    fh.seek(0)
    text = fh.read(SCAN_BYTES).decode("latin-1")
    if "ISO-10303-21" not in text[:1024]:
        raise InputError("STEP without the ISO-10303-21 signature")
    if "HEADER;" not in text.upper()[:65536]:
        raise InputError("STEP without a HEADER section (truncated?)")
    design = Design(format="step")
    names: list[str] = []
    match = _FILE_NAME.search(text)
    if match:
        design.metadata["file_name"] = _unquote(match.group(1))
        names.append(design.metadata["file_name"])
    match = _FILE_DESCRIPTION.search(text)
    if match:
        design.metadata["file_description"] = _unquote(match.group(1))
        names.append(design.metadata["file_description"])
    products = []
    for product in _PRODUCT.finditer(text):
        for part in product.groups():
            value = _unquote(part)
            if value and value not in products:
                products.append(value)
    design.metadata["products"] = products[:100]
    names += products[:100]
    if _STEP_INCH.search(text):
        design.units = "inch"
    else:
        unit = _STEP_UNIT.search(text)
        if unit:
            design.units = {".MILLI.": "mm", ".CENTI.": "cm", "$": "m"}.get(unit.group(1).upper())
    design.names = [n for n in names if n]
    return design


# registered by a call, not as a decorator: mutmut 3 does not mutate decorated
# functions (tools/mutation_score.py)
register(
    "step",
    extensions=("step", "stp"),
    signature=lambda head: head.stripped.startswith(b"ISO-10303-21"),
    order=40,
    text=True,
)(read_step)


def _hollerith_strings(text: str) -> tuple[list[str], str]:
    """Hollerith strings (``5HHELLO``) of an IGES global section, and the section
    with each of them replaced by ``H`` so that it can be split on commas."""
    strings, index, rest = [], 0, []
    pattern = re.compile(r"(?:(?<=^)|(?<=[,;]))\s*(\d+)H")
    while True:
        match = pattern.search(text, index)
        if not match:
            rest.append(text[index:])
            return strings, "".join(rest)
        length = int(match.group(1))
        start = match.end()
        strings.append(text[start : start + length])
        rest.append(text[index : match.start()] + "H")
        index = start + length


def _looks_like_iges(head) -> bool:
    first = head.raw.split(b"\n", 1)[0].rstrip(b"\r")
    return len(first) >= 73 and first[72:73] == b"S" and first[73:80].strip().isdigit()


def read_iges(fh: BinaryIO, size: int, name: str | None) -> Design:
    """IGES start and global sections: their text, strings and the length unit."""
    fh.seek(0)
    text = fh.read(min(size, 4_000_000)).decode("latin-1")
    lines = text.splitlines()
    start = [line[:72] for line in lines if len(line) >= 73 and line[72] == "S"]
    glob = [line[:72] for line in lines if len(line) >= 73 and line[72] == "G"]
    if not start and not glob:
        raise InputError("IGES without start or global section")
    design = Design(format="iges")
    start_text = " ".join(s.strip() for s in start).strip()
    if start_text:
        design.metadata["start"] = start_text[:500]
        design.names.append(start_text[:200])
    global_text = "".join(glob)
    raw_strings, skeleton = _hollerith_strings(global_text)
    strings = [s.strip() for s in raw_strings]
    # global parameters 3 (product id), 4 (file name) and 12 (receiving product id)
    # are Hollerith strings; delimiters come first, so skip one-character strings
    meaningful = [s for s in strings if len(s) > 1]
    design.metadata["global_strings"] = meaningful[:20]
    design.names += meaningful[:6]
    fields = skeleton.split(",")
    if len(fields) > 13 and fields[13].strip().isdigit():
        flag = int(fields[13].strip())
        design.units = {1: "inch", 2: "mm", 6: "m", 10: "cm", 4: "foot"}.get(flag)
    return design


register("iges", extensions=("iges", "igs"), signature=_looks_like_iges, order=43, text=True)(
    read_iges
)
