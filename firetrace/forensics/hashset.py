"""Hash sets that mark known files (``--hashset FILE``): either one SHA-256 per
line with an optional label after whitespace or a comma (``#`` comments), or an
NSRL-style CSV with a header naming ``SHA-256``/``SHA-1``/``MD5`` columns and a
``FileName`` (or ``label``) column. A candidate matching any hash carries the
label in its record's ``hashset`` field.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from firetrace.errors import InputError
from firetrace.inputs import regular_file

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
    """Read a hash set, streaming (NSRL sets run to gigabytes); a malformed line is
    an :class:`InputError` naming file and line."""
    path = regular_file(path, missing="hash set file not found")
    hashset = HashSet(str(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            lines = _numbered_lines(fh)
            first = next(lines, None)
            if first is None:
                return hashset  # an empty set marks nothing
            header = [c.strip().strip('"').lower() for c in _split_csv(path, *first)]
            if any(_COLUMN_ALIASES.get(c) in _HEX for c in header):
                _load_csv(path, header, lines, hashset)
            else:
                _load_lines(path, itertools.chain([first], lines), hashset)
    except FileNotFoundError:
        raise InputError("hash set file not found", path=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("hash set is not UTF-8 text", path=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a hash set file", path=str(path)) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from None
    return hashset


MAX_LINE = 64 * 1024  # no digest line is longer; a longer one is not a hash set


def _numbered_lines(fh) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line that is not blank or a # comment."""
    for number, line in enumerate(fh, 1):
        if len(line) > MAX_LINE:
            raise InputError(f"line longer than {MAX_LINE} characters", path=fh.name, line=number)
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _split_csv(path: Path, number: int, line: str) -> list[str]:
    try:
        return next(csv.reader([line]))
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", path=str(path), line=number) from None


def _load_lines(path: Path, lines: Iterable[tuple[int, str]], hashset: HashSet) -> None:
    for number, line in lines:
        parts = re.split(r"[\s,]+", line, maxsplit=1)
        digest = parts[0].strip('"').lower()
        if len(digest) != 64 or not _HEX_RE.match(digest):
            raise InputError("expected a SHA-256 (64 hex digits)", path=str(path), line=number)
        label = parts[1].strip().strip('"') if len(parts) > 1 else ""
        hashset.entries["sha256"][digest] = label or Path(path).name


def _load_csv(
    path: Path, header: list[str], lines: Iterable[tuple[int, str]], hashset: HashSet
) -> None:
    columns = [_COLUMN_ALIASES.get(c, c) for c in header]
    for number, line in lines:
        values = dict(
            zip(columns, (c.strip() for c in _split_csv(path, number, line)), strict=False)
        )
        label = values.get("label") or values.get("product") or Path(path).name
        for algo, width in _HEX.items():
            digest = values.get(algo, "").lower()
            if not digest:
                continue
            if len(digest) != width or not _HEX_RE.match(digest):
                raise InputError(f"not a {algo} digest", path=str(path), line=number, field=algo)
            hashset.entries[algo][digest] = label
