"""Serial normalisation driven by ``rules/serials.toml``.

Three keys are derived from a serial as marked and stored beside it:

* ``normalize_serial``: case and separators folded (``ab-12 34`` -> ``AB1234``);
* ``fold_lookalikes``: look-alike characters folded to one representative
  (``O``/``Q``/``D`` -> ``0``, ``I``/``L`` -> ``1``, ...);
* ``drop_embedded_letters``: letters standing between digits removed
  (``369J257`` -> ``369257``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from firetrace.paths import rules_dir


@dataclass(frozen=True)
class SerialRules:
    strip: str
    uppercase: bool
    fold_table: dict[int, str]
    groups: tuple[tuple[str, ...], ...]
    embedded_letters: bool

    def strip_table(self) -> dict[int, None]:
        return {ord(c): None for c in self.strip}


@lru_cache(maxsize=8)
def load_serial_rules(path: Path | None = None) -> SerialRules:
    path = path or rules_dir() / "serials.toml"
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    norm = data.get("normalize", {})
    groups = tuple(tuple(g) for g in data.get("lookalikes", {}).get("groups", []))
    table: dict[int, str] = {}
    for group in groups:
        rep = group[0]
        for ch in group[1:]:
            table.setdefault(ord(ch), rep)  # first group wins for a character in two groups
    return SerialRules(
        strip="".join(norm.get("strip", [])),
        uppercase=bool(norm.get("uppercase", True)),
        fold_table=table,
        groups=groups,
        embedded_letters=bool(data.get("embedded_letters", {}).get("enabled", True)),
    )


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, None], dict[int, str], bool]:
    rules = load_serial_rules()
    return rules.strip_table(), rules.fold_table, rules.uppercase


def normalize_serial(serial: str) -> str:
    strip, _, upper = _tables()
    s = serial.strip().translate(strip)
    return s.upper() if upper else s


def fold_lookalikes(serial: str) -> str:
    """Normalise, then fold look-alike characters."""
    _, fold, _ = _tables()
    return normalize_serial(serial).translate(fold)


_EMBEDDED = re.compile(r"(?<=\d)[^\W\d_]+(?=\d)")


def drop_embedded_letters(serial: str) -> str:
    """Remove letter runs standing between digits (on the normalised serial)."""
    return _EMBEDDED.sub("", serial)


def serial_keys(serial: str) -> tuple[str, str, str]:
    """(normalised, look-alike folded, folded skeleton without embedded letters).

    The skeleton drops embedded letters from the *normalised* serial before
    folding, so that a letter between digits is not first turned into a digit.
    """
    norm = normalize_serial(serial)
    _, fold, _ = _tables()
    return norm, norm.translate(fold), drop_embedded_letters(norm).translate(fold)
