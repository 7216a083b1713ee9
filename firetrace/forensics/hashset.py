"""Hash sets that mark known files (``--hashset FILE``): either one SHA-256 per
line with an optional label after whitespace or a comma (``#`` comments), or an
NSRL-style CSV with a header naming ``SHA-256``/``SHA-1``/``MD5`` columns and a
``FileName`` (or ``label``) column. A candidate matching any hash carries the
label in its record's ``hashset`` field.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from firetrace.errors import InputError

_HEX = {"md5": 32, "sha1": 40, "sha256": 64}
_COLUMN_ALIASES = {
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha1": "sha1",
    "sha-1": "sha1",
    "md5": "md5",
    "filename": "label",
    "file_name": "label",
    "name": "label",
    "label": "label",
    "productname": "product",
}
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")


@dataclass
class HashSet:
    source: str
    entries: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k in _HEX})

    def __len__(self) -> int:
        return sum(len(v) for v in self.entries.values())

    def lookup(self, record: dict) -> str | None:
        """The label of the first of the record's hashes found in the set, else None."""
        for algo in ("sha256", "sha1", "md5"):
            value = (record.get(algo) or "").lower()
            if value and value in self.entries[algo]:
                return self.entries[algo][value]
        return None


def load_hashset(path: str | Path) -> HashSet:
    """Read a hash set; a malformed line is an :class:`InputError` naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("hash set file not found", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("hash set is not UTF-8 text", path=str(path)) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from None
    hashset = HashSet(str(path))
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    header = [c.strip().strip('"').lower() for c in next(csv.reader([first]))] if first else []
    if any(_COLUMN_ALIASES.get(c) in _HEX for c in header):
        _load_csv(path, lines, hashset)
    else:
        _load_lines(path, lines, hashset)
    return hashset


def _load_lines(path: Path, lines: list[str], hashset: HashSet) -> None:
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = re.split(r"[\s,]+", stripped, maxsplit=1)
        digest = parts[0].strip('"').lower()
        if len(digest) != 64 or not _HEX_RE.match(digest):
            raise InputError("expected a SHA-256 (64 hex digits)", path=str(path), line=number)
        label = parts[1].strip().strip('"') if len(parts) > 1 else ""
        hashset.entries["sha256"][digest] = label or Path(path).name


def _load_csv(path: Path, lines: list[str], hashset: HashSet) -> None:
    rows = csv.reader(ln for ln in lines if not ln.lstrip().startswith("#"))
    header = [_COLUMN_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in next(rows)]
    for number, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue
        values = dict(zip(header, (c.strip() for c in row), strict=False))
        label = values.get("label") or values.get("product") or Path(path).name
        for algo, width in _HEX.items():
            digest = values.get(algo, "").lower()
            if not digest:
                continue
            if len(digest) != width or not _HEX_RE.match(digest):
                raise InputError(f"not a {algo} digest", path=str(path), line=number, field=algo)
            hashset.entries[algo][digest] = label
