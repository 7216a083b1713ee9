"""Party names: the key that makes two spellings of one maker, importer, dealer or
agency the same party.

``normalize_party_name`` folds accents, case, punctuation and ``and``/``und``
to ``&``, drops trailing legal-form words (``GmbH``, ``Inc.``, ``S.p.A.``) and
applies the aliases in ``rules/makers.toml``, so ``GLOCK GmbH`` and ``Glock``
give the same key. The registry stores the key in ``parties.norm_name``, the
first spelling seen in ``parties.name`` and every other one in ``party_names``
(:func:`spellings`).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path
from sqlite3 import Connection

from firetrace.paths import rules_dir

_PUNCTUATION = re.compile(r"[^\w&'/]+")
_CONJUNCTIONS = re.compile(r"(?<!\S)(?:AND|UND|ET)(?!\S)")
_SPACES = re.compile(r"\s+")


def _fold(name: str) -> str:
    """Accents, case, punctuation and conjunctions folded; spaces collapsed."""
    if name.isascii():
        plain = name.upper()
    else:
        decomposed = unicodedata.normalize("NFKD", name)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()
    plain = _PUNCTUATION.sub(" ", plain.replace("\u2019", "'"))
    plain = _CONJUNCTIONS.sub("&", plain)
    plain = plain.replace("&", " & ")
    return _SPACES.sub(" ", plain).strip()


@lru_cache(maxsize=4)
def _rules(path: Path | None = None) -> tuple[tuple[tuple[str, ...], ...], dict[str, str]]:
    path = path or rules_dir() / "makers.toml"
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    suffixes = {tuple(_fold(w).split()) for w in data.get("legal_suffixes", {}).get("words", [])}
    # Longest first so "PTY LTD" is tried before "LTD".
    ordered = tuple(sorted((s for s in suffixes if s), key=len, reverse=True))
    aliases: dict[str, str] = {}
    for canonical, spellings in data.get("aliases", {}).items():
        key = _strip_suffixes(_fold(canonical), ordered)
        aliases[key] = key
        for spelling in spellings:
            aliases[_strip_suffixes(_fold(spelling), ordered)] = key
    return ordered, aliases


def _strip_suffixes(folded: str, suffixes: tuple[tuple[str, ...], ...]) -> str:
    words = folded.split()
    by_length = _suffix_sets(suffixes)
    changed = True
    while changed and len(words) > 1:
        changed = False
        for n, options in by_length:
            # Keep at least one word: a company called just "AG" stays "AG".
            if n < len(words) and tuple(words[-n:]) in options:
                del words[-n:]
                changed = True
                break
        while len(words) > 1 and words[-1] == "&":
            words.pop()
    return " ".join(words)


@lru_cache(maxsize=4)
def _suffix_sets(
    suffixes: tuple[tuple[str, ...], ...],
) -> tuple[tuple[int, frozenset[tuple[str, ...]]], ...]:
    """Suffixes grouped by word count, longest first (one set lookup per length)."""
    lengths = sorted({len(s) for s in suffixes}, reverse=True)
    return tuple((n, frozenset(s for s in suffixes if len(s) == n)) for n in lengths)


@lru_cache(maxsize=8192)
def normalize_party_name(name: str) -> str:
    """The party key of ``name``: ``'GLOCK GmbH'`` and ``'Glock'`` both give ``'GLOCK'``.

    Returns ``''`` for a blank name.
    """
    suffixes, aliases = _rules()
    key = _strip_suffixes(_fold(name), suffixes)
    return aliases.get(key, key)


def spellings(conn: Connection, party_id: int) -> list[str]:
    """Every spelling of a party seen in the registry, the first one first."""
    first = conn.execute("SELECT name FROM parties WHERE id = ?", (party_id,)).fetchone()
    if first is None:
        return []
    others = conn.execute(
        "SELECT name FROM party_names WHERE party_id = ? AND name <> ? ORDER BY name",
        (party_id, first[0]),
    )
    return [first[0], *(name for (name,) in others)]
