"""Values a registry command filters by (``-m/--manufacturer``, ``--component``,
``--type``, ``--calibre``, ``--country``), checked before the search: a value the
registry and the rules do not know is a usage error with "did you mean", never an
empty answer that looks like "no record" (exit 1).

The same suggestions serve batch validation (:func:`suggest_country`,
:func:`suggest_calibre`), so a mistyped ``GER`` in a row and on the command line
get the same hint.
"""

from __future__ import annotations

import sqlite3
import tomllib
from functools import lru_cache

from firetrace.errors import UsageError
from firetrace.paths import rules_dir
from firetrace.registry.parties import normalize_party_name
from firetrace.registry.validate import (
    _calibre_key,
    country_codes,
    load_calibres,
    normalize_calibre,
)
from firetrace.registry.vocabulary import load_vocabulary
from firetrace.suggest import choose, close_matches, did_you_mean, unknown_message


def component_kind(value: str, *, option: str = "--component") -> str:
    """``value`` as a component kind (any case), or a usage error with suggestions."""

    return choose("component kind", value, sorted(load_vocabulary().kinds), option=option)


def firearm_type(value: str, *, option: str = "--type") -> str:
    """``value`` as a firearm type (any case), or a usage error with suggestions."""

    return choose("firearm type", value, sorted(load_vocabulary().types), option=option)


def event_kind(value: str, *, option: str = "--event") -> str:
    """``value`` as an event kind (any case), or a usage error with suggestions."""

    return choose("event", value, sorted(load_vocabulary().events), option=option)


def _registry_makers(conn: sqlite3.Connection) -> dict[str, str]:
    """Party key -> the name it was first registered under, for every maker."""
    rows = conn.execute(
        "SELECT p.norm_name, p.name FROM parties p "
        "WHERE p.id IN (SELECT DISTINCT maker_id FROM components)"
    ).fetchall()
    return {key: name for key, name in rows}


@lru_cache(maxsize=1)
def _rule_makers() -> dict[str, str]:
    """Party key -> canonical name, for the makers in ``rules/makers.toml``."""

    with open(rules_dir() / "makers.toml", "rb") as fh:
        aliases = tomllib.load(fh).get("aliases", {})
    return {normalize_party_name(name): name.title() for name in aliases}


def maker_name(conn: sqlite3.Connection, value: str, *, option: str = "--manufacturer") -> str:
    """``value`` when it names a maker the registry or ``rules/makers.toml`` knows
    (any spelling or alias); else a usage error suggesting the nearest makers."""

    key = normalize_party_name(value)
    # A name the rules or the parties table knows: one seek (listing the registry's
    # makers scans every component, so only a name nobody knows pays for it).
    known = conn.execute("SELECT 1 FROM parties WHERE norm_name = ?", (key,)).fetchone()
    if key and (known or key in _rule_makers()):
        return value
    registered = _registry_makers(conn)
    names = {**_rule_makers(), **registered}  # key -> name shown
    nearest = list(dict.fromkeys(names[k] for k in close_matches(key or value, names)))
    hint = did_you_mean(nearest) or "no maker of that name is in the registry"
    raise UsageError(f"{option}: unknown maker '{value}'; {hint}")


def suggest_calibre(value: str) -> list[str]:
    """Canonical calibres whose spellings are nearest ``value`` (``9mm Lugr``)."""

    table = load_calibres()
    return list(dict.fromkeys(table[k] for k in close_matches(_calibre_key(value), table)))


def calibre_name(conn: sqlite3.Connection, value: str, *, option: str = "--calibre") -> str:
    """The canonical calibre ``value`` names, or a calibre stored as written in the
    registry; else a usage error with suggestions."""

    canonical, known = normalize_calibre(value)
    if known:
        return canonical
    stored = [
        row[0]
        for row in conn.execute(  # the descriptions components point to (schema 10)
            "SELECT DISTINCT calibre FROM descriptions "
            "WHERE id IN (SELECT description_id FROM component_rows)"
        )
    ]
    exact = {s.casefold(): s for s in stored if s}
    if value.strip().casefold() in exact:
        return exact[value.strip().casefold()]
    nearest = [*suggest_calibre(value), *close_matches(value, exact.values())]
    suggestions = list(dict.fromkeys(nearest))
    raise UsageError(f"{option}: {unknown_message('calibre', value, [], suggestions=suggestions)}")


@lru_cache(maxsize=1)
def _country_aliases() -> dict[str, str]:
    with open(rules_dir() / "registry.toml", "rb") as fh:
        data = tomllib.load(fh)
    return {k.upper(): v for k, v in data.get("country_aliases", {}).items()}


def suggest_country(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code ``value`` most likely means: an alpha-3 code
    (``DEU``), a sports or vehicle code (``GER``, ``SUI``; ``rules/registry.toml``
    ``[country_aliases]``) or a country name (``Germany``); None when unclear."""
    text = value.strip()
    if not text:
        return None
    alias = _country_aliases().get(text.upper())
    if alias:
        return alias
    import pycountry  # lazy: ~70 ms, only for a value that is neither a code nor an alias

    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        return None
    return getattr(found, "alpha_2", None)


def country_code(value: str, *, option: str = "--country") -> str:
    """``value`` as an ISO 3166 alpha-2 code (any case), or a usage error suggesting one."""

    code = value.strip().upper()
    if code in country_codes():
        return code
    guess = suggest_country(value)
    hint = f"; did you mean '{guess}'?" if guess else ""
    raise UsageError(f"{option}: '{value}' is not an ISO 3166 country code{hint}")
