"""Validation of batch rows against the CONTRACT columns and a marking profile.

:class:`RowValidator` is built once per batch from its header and a
:class:`Profile` (``rules/marking/<name>.toml``) and then turns each raw row
into the tuple the importer stages (:data:`STAGING_COLUMNS`), or into a list of
``(field, reason)`` problems. Vocabularies (component kinds, events, status
mapping) come from ``rules/registry.toml``, calibre aliases from
``rules/calibres.toml``, maker aliases through
:func:`~firetrace.registry.parties.normalize_party_name`. The checks run per
row with small caches for values that repeat (dates, countries, makers), since
a batch can have millions of rows.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from hashlib import blake2b as _blake2b
from pathlib import Path

from firetrace.errors import InputError, UsageError
from firetrace.paths import rules_dir
from firetrace.registry.parties import normalize_party_name
from firetrace.registry.readers import REJECT_COLUMNS, is_rejects_header
from firetrace.registry.vocabulary import (  # noqa: F401 (Vocabulary: re-export)
    RECORD_FIELDS,
    Vocabulary,
    load_vocabulary,
)
from firetrace.sanitize import FIELD_FORBIDDEN, field_problem
from firetrace.serials.normalize import serial_keys
from firetrace.suggest import choose, close_matches, did_you_mean

# CONTRACT batch columns, in the order the JSON Lines reader aligns them.
COLUMNS = RECORD_FIELDS

# What the importer writes into its staging table, in this order.
STAGING_COLUMNS = (
    "line",
    "maker_norm",
    "maker_name",
    "kind",
    "control",
    "firearm_key",
    "type",
    "model",
    "calibre",
    "country",
    "year",
    "import_country",
    "import_year",
    "event",
    "event_date",
    "party_norm",
    "party_name",
    "party_licence",
    "party_country",
    "reference",
    "notes",
    "component_ref",
    "model_key",
    "serial",
    "serial_norm",
    "serial_fold",
    "serial_skel",
    "row_key",
    "legacy_key",
)

# Controls, bidi overrides and isolates, surrogates: never in a field (sanitize).
_CONTROL_CHARACTERS = FIELD_FORBIDDEN


@dataclass(frozen=True)
class Profile:
    """A marking profile: which fields a row needs and what a serial may look like."""

    name: str
    title: str
    required: tuple[str, ...]
    marking_events: frozenset[str]
    marking_required: tuple[str, ...]
    marked_components: frozenset[str]
    encouraged: tuple[str, ...]
    import_required: tuple[str, ...]
    serial_min: int
    serial_max: int
    serial_allowed: re.Pattern
    serial_allowed_text: str
    reject_all_zero: bool
    reject_letters_only: bool
    serial_unique_per_maker: bool = False
    source: Path = field(default=Path())


def event_row_key(
    maker_norm: str,
    kind: str,
    serial_norm: str,
    event: str,
    day: str,
    party_norm: str | None,
    party_licence: str | None,
    reference: str | None,
    notes: str | None,
    firearm_key: str | None,
    identity: tuple = (),
) -> bytes:
    """The digest that makes an event row unique: importing the same row twice,
    through either validation path, adds it once.

    ``identity`` (year, model, calibre, country of manufacture) is part of the
    key of a row that brings an item into the record (``manufactured``,
    ``marked``): two such rows alike in everything but the year are two items
    sharing a serial, not one row given twice. Other rows are keyed without it,
    as every row was before schema migration 5.
    """
    fields = (
        maker_norm,
        kind,
        serial_norm,
        event,
        day,
        party_norm or "",
        party_licence or "",
        reference or "",
        notes or "",
        firearm_key or "",
        *("" if value is None else str(value) for value in identity),
    )
    return _blake2b("\x1f".join(fields).encode(), digest_size=16).digest()


# Positions in a staging row of the fields the content key is made of.
_KEY_FIELDS = tuple(
    STAGING_COLUMNS.index(name)
    for name in (
        "maker_norm",
        "kind",
        "serial_norm",
        "event",
        "event_date",
        "party_norm",
        "party_licence",
        "reference",
        "notes",
        "firearm_key",
    )
)
_IDENTITY_FIELDS = tuple(
    STAGING_COLUMNS.index(name) for name in ("year", "model_key", "calibre", "country")
)
_EVENT = STAGING_COLUMNS.index("event")


def staging_row(
    fields: tuple, serial: str, keys: tuple[str, str, str], *, legacy_keys: bool = False
) -> tuple:
    """A valid row's staging tuple (:data:`STAGING_COLUMNS` order) from either
    validation path: ``fields`` runs from ``line`` to ``model_key``; the serial,
    its three keys, the content key (:func:`event_row_key`) and, with
    ``legacy_keys``, the key the row had before migration 5 (manufacture rows
    only, else None) are appended."""
    row = (*fields, serial, *keys)
    content = [row[i] for i in _KEY_FIELDS]
    if row[_EVENT] not in load_vocabulary().identifies:
        return (*row, event_row_key(*content), None)
    identity = tuple(row[i] for i in _IDENTITY_FIELDS)
    legacy = event_row_key(*content) if legacy_keys else None
    return (*row, event_row_key(*content, identity=identity), legacy)


def check_serial(serial: str, p: Profile) -> tuple[str, str, str] | str:
    """The serial's three keys (norm, fold, skeleton), or why profile ``p`` refuses it."""
    keys = serial_keys(serial)
    norm = keys[0]
    if not norm:
        return "blank after removing spaces and dashes"
    if len(norm) < p.serial_min or len(norm) > p.serial_max:
        return (
            f"'{serial[:40]}' has {len(norm)} characters after normalisation "
            f"(allowed {p.serial_min}-{p.serial_max})"
        )
    if p.reject_all_zero and not norm.strip("0"):
        return f"'{serial}' is all zeros"
    if not p.serial_allowed.fullmatch(norm):
        return f"'{serial}' has characters outside {p.serial_allowed_text}"
    if p.reject_letters_only and norm.isalpha():
        what = "a single letter" if len(norm) == 1 else "letters only"
        return f"'{serial}' is {what}; a serial needs digits"
    return keys


_MODEL_SEPARATORS = re.compile(r"[\s.\-_/]+")


def model_key(model: str) -> str:
    """A model as compared: case, spaces and separators folded (``92 FS`` = ``92fs``)."""
    return _MODEL_SEPARATORS.sub("", model).upper()


def profile_names(rules: Path | None = None) -> list[str]:
    """The marking profiles of the rules folder ``rules`` (default: the bundled one)."""
    return sorted(p.stem for p in ((rules or rules_dir()) / "marking").glob("*.toml"))


@lru_cache(maxsize=8)
def load_profile(name: str, rules: Path | None = None) -> Profile:
    """Load the marking profile ``name``: ``marking/<name>.toml`` in the rules
    folder ``rules`` (default: the bundled one). A profile is a name from that
    folder, never a path: ``--profile ../../x`` cannot load a weaker profile from
    elsewhere on the machine."""
    name = choose("marking profile", name, profile_names(rules), option="--profile")
    path = (rules or rules_dir()) / "marking" / f"{name}.toml"
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    serial = data.get("serial", {})
    vocab = load_vocabulary()
    for key, known, what in (
        ("required", COLUMNS, "columns"),
        ("marking_required", COLUMNS, "columns"),
        ("encouraged", COLUMNS, "columns"),
        ("import_required", COLUMNS, "columns"),
        ("marking_events", vocab.events, "event kinds"),
        ("marked_components", vocab.kinds, "component kinds"),
    ):
        unknown = set(data.get(key, [])) - set(known)
        if unknown:
            raise UsageError(f"{path}: {key} names unknown {what}: {', '.join(sorted(unknown))}")
    return Profile(
        name=data.get("name", path.stem),
        title=data.get("title", path.stem),
        required=tuple(data.get("required", ["manufacturer", "serial", "event", "event_date"])),
        marking_events=frozenset(data.get("marking_events", ["manufactured", "marked"])),
        marking_required=tuple(data.get("marking_required", [])),
        marked_components=frozenset(data.get("marked_components", [])),
        encouraged=tuple(data.get("encouraged", [])),
        import_required=tuple(data.get("import_required", [])),
        serial_min=int(serial.get("min_length", 1)),
        serial_max=int(serial.get("max_length", 20)),
        serial_allowed=re.compile(f"(?:{serial.get('allowed', '[0-9A-Z]')})+"),
        serial_allowed_text=serial.get("allowed_description", serial.get("allowed", "")),
        reject_all_zero=bool(serial.get("reject_all_zero", True)),
        reject_letters_only=bool(serial.get("reject_letters_only", True)),
        serial_unique_per_maker=bool(data.get("serial_unique_per_maker", False)),
        source=path,
    )


def _calibre_key(text: str) -> str:
    return re.sub(r"[\s.\-_]+", "", text.lower())


@lru_cache(maxsize=2)
def load_calibres(path: Path | None = None) -> dict[str, str]:
    """Alias key -> canonical calibre, from ``rules/calibres.toml``."""
    with open(path or rules_dir() / "calibres.toml", "rb") as fh:
        data = tomllib.load(fh)
    table: dict[str, str] = {}
    for canonical, aliases in data.get("aliases", {}).items():
        table[_calibre_key(canonical)] = canonical
        for alias in aliases:
            table.setdefault(_calibre_key(alias), canonical)
    return table


def normalize_calibre(text: str) -> tuple[str, bool]:
    """(canonical calibre, known?) — an unknown calibre is kept as written."""
    canonical = load_calibres().get(_calibre_key(text))
    return (canonical, True) if canonical else (text, False)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes plus the alpha-2 codes of ISO 3166-3 historic countries."""
    import pycountry  # lazy: ~70 ms, only once a row names a country

    codes = {c.alpha_2 for c in pycountry.countries}
    for historic in pycountry.historic_countries:
        code = getattr(historic, "alpha_2", None)
        if code:
            codes.add(code)
    # Transitional and exceptional reservations seen on older markings.
    codes.update({"UK", "EU", "XK"})
    return frozenset(codes)


def not_one_of(value: str, choices) -> str:
    """A row's enumerated value that is not one of ``choices``, with the nearest."""
    listed = ", ".join(sorted(choices))
    hint = did_you_mean(close_matches(value, choices))
    return f"'{value[:40]}' is not one of {listed}" + (f"; {hint}" if hint else "")


def not_a_country(code: str) -> str:
    """A country field that is not an ISO 3166 code, with the code it likely means."""
    from firetrace.registry.filters import suggest_country  # lazy: filters imports this module

    guess = suggest_country(code)
    hint = f"; did you mean '{guess}'?" if guess else ""
    return f"'{code[:40]}' is not an ISO 3166 country code{hint}"


def _calibre_hint(calibre: str) -> str:
    from firetrace.registry.filters import suggest_calibre  # lazy: filters imports this module

    hint = did_you_mean(suggest_calibre(calibre))
    return f"; {hint}" if hint else ""


@dataclass
class Warnings:
    """Counts of things worth a look that do not reject a row."""

    missing_encouraged: dict[str, int] = field(default_factory=dict)
    unknown_calibres: dict[str, int] = field(default_factory=dict)

    def messages(self) -> list[str]:
        """The batch-level warnings, one line each."""
        out = [
            f"{count} marking rows lack the encouraged field '{name}'"
            for name, count in sorted(self.missing_encouraged.items())
        ]
        if self.unknown_calibres:
            top = sorted(self.unknown_calibres.items(), key=lambda kv: -kv[1])[:5]
            listed = ", ".join(f"'{name}' ({n}{_calibre_hint(name)})" for name, n in top)
            out.append(
                f"{sum(self.unknown_calibres.values())} rows name a calibre not in "
                f"rules/calibres.toml, kept as written: {listed}"
            )
        return out


class RowValidator:
    """Checks one batch's rows; built from the batch header."""

    def __init__(
        self,
        columns: list[str],
        profile: Profile,
        *,
        ignore_unknown: bool = False,
        path: str = "",
        today: date | None = None,
        legacy_keys: bool = False,
    ):

        # a rejects file imported again: its line_number and msg are not batch columns
        skipped = REJECT_COLUMNS if is_rejects_header(columns) else ()
        unknown = [c for c in columns if c not in COLUMNS and c not in skipped]
        if unknown and not ignore_unknown:
            raise InputError(
                f"unknown column '{unknown[0]}'"
                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
                + f"; known columns: {', '.join(COLUMNS)} (or use --ignore-unknown)",
                path=path,
                line=1,
                field=unknown[0],
            )
        missing = [c for c in profile.required if c not in columns]
        if missing:
            raise InputError(
                f"required column missing (profile '{profile.name}' needs "
                f"{', '.join(profile.required)})",
                path=path,
                line=1,
                field=missing[0],
            )
        self.profile = profile
        self.vocab = load_vocabulary()
        self.countries = country_codes()
        self.today = today or date.today()
        self.warnings = Warnings()
        self.legacy_keys = legacy_keys
        # Characters of the batch's folded serials beyond digits and Latin letters:
        # trace's fuzzy expansion must try them (registry table serial_characters).
        self.characters: set[str] = set()
        self._index = {name: columns.index(name) for name in COLUMNS if name in columns}
        # Column positions for the fast path; -1 reads the "" appended to each row.
        self._positions = tuple(self._index.get(name, -1) for name in COLUMNS)
        self._marking_required = tuple(self._index.get(n, -1) for n in profile.marking_required)
        self._encouraged = tuple((n, self._index.get(n, -1)) for n in profile.encouraged)
        self._import_required = tuple(self._index.get(n, -1) for n in profile.import_required)
        self._extra_required = tuple(
            self._index.get(n, -1)
            for n in profile.required
            if n not in ("manufacturer", "serial", "event", "event_date")
        )
        self._serials: dict[str, tuple[str, str, str] | str] = {}
        self._dates: dict[str, object] = {}
        self._years: dict[str, object] = {}
        self._calibres: dict[str, tuple[str, bool]] = {}
        self._models: dict[str, str] = {}

    # Small caches: values that repeat across millions of rows are checked once.
    def _check_date(self, text: str) -> str | tuple[str]:
        """ISO date string, or a 1-tuple holding the reason it is not one."""
        cached = self._dates.get(text)
        if cached is not None:
            return cached
        try:
            day = date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
        except ValueError:
            result: str | tuple[str] = (f"'{text[:40]}' is not an ISO 8601 date (YYYY-MM-DD)",)
        else:
            if day > self.today:
                result = (f"{day.isoformat()} is in the future",)
            elif day.year < self.vocab.earliest_year:
                result = (f"{day.isoformat()} is before {self.vocab.earliest_year}",)
            else:
                result = day.isoformat()
        if len(self._dates) > 100_000:
            self._dates.clear()
        self._dates[text] = result
        return result

    def _check_year(self, text: str) -> int | tuple[str]:
        cached = self._years.get(text)
        if cached is not None:
            return cached
        if len(text) != 4 or not text.isdigit() or not text.isascii():
            result: int | tuple[str] = (f"'{text[:40]}' is not a four-digit year",)
        else:
            year = int(text)
            if year > self.today.year:
                result = (f"{year} is in the future",)
            elif year < self.vocab.earliest_year:
                result = (f"{year} is before {self.vocab.earliest_year}",)
            else:
                result = year
        self._years[text] = result
        return result

    def _calibre(self, calibre: str) -> str:
        """The calibre's canonical name; an unknown one is kept as written and counted."""
        known = self._calibres.get(calibre)
        if known is None:
            known = normalize_calibre(calibre)
            if len(self._calibres) < 10_000:
                self._calibres[calibre] = known
        if not known[1]:
            counts = self.warnings.unknown_calibres
            if calibre in counts or len(counts) < 1000:
                counts[calibre] = counts.get(calibre, 0) + 1
        return known[0]

    def _check_serial(self, serial: str) -> tuple[str, str, str] | str:
        keys = check_serial(serial, self.profile)
        if type(keys) is str:
            return keys
        fold = keys[1]
        if not (fold.isascii() and fold.isalnum()):
            self.characters.update(ch for ch in fold if not (ch.isascii() and ch.isalnum()))
        return keys

    def _model_key(self, model: str | None) -> str | None:
        if model is None:
            return None
        known = self._models.get(model)
        if known is None:
            known = model_key(model)
            if len(self._models) < 10_000:
                self._models[model] = known
        return known

    def _component_ref(self, text: str) -> int | None | tuple[str]:
        """A registry component id, None when blank, or a 1-tuple with the reason."""
        if not text:
            return None
        if text.isascii() and text.isdigit() and 0 < len(text) <= 18 and int(text) > 0:
            return int(text)
        return (f"'{text[:40]}' is not a component id (a registry id: a whole number)",)

    def validate(self, line: int, values: list[str]) -> tuple | list[tuple[str, str]]:
        """The staging tuple for a valid row, else its ``(field, reason)`` problems.

        Fast path: each check is a cached lookup; the first failure hands the
        row to :meth:`_full_check`, which lists every problem.
        """
        vocab = self.vocab
        joined = "".join(values)
        if (
            len(joined) > vocab.max_length and max(map(len, values)) > vocab.max_length
        ) or _CONTROL_CHARACTERS.search(joined):
            return self._full_check(line, values)
        row = [*values, ""]
        (
            i_maker,
            i_serial,
            i_kind,
            i_control,
            i_firearm,
            i_type,
            i_model,
            i_calibre,
            i_made_in,
            i_made,
            i_import_country,
            i_import_year,
            i_event,
            i_date,
            i_party,
            i_licence,
            i_party_country,
            i_reference,
            i_notes,
            i_component_id,
        ) = self._positions
        manufacturer = row[i_maker].strip()
        serial = row[i_serial].strip()
        event = row[i_event].strip().lower()
        if not (manufacturer and serial and event in vocab.events):
            return self._full_check(line, values)
        maker_norm = normalize_party_name(manufacturer)
        keys = self._serials.get(serial)
        if keys is None:
            keys = self._check_serial(serial)
            if len(self._serials) > 4096:  # rows of one component sit close together
                self._serials.clear()
            self._serials[serial] = keys
        day = self._dates.get(row[i_date]) or self._check_date(row[i_date].strip() or "?")
        if not maker_norm or type(keys) is str or type(day) is not str:
            return self._full_check(line, values)
        kind = row[i_kind].strip().lower() or vocab.default_kind
        control_text = row[i_control].strip().lower()
        ftype = row[i_type].strip().lower() or None
        if kind not in vocab.kinds or (ftype and ftype not in vocab.types):
            return self._full_check(line, values)
        if not control_text:
            control = 1 if kind in vocab.control_by_default else 0
        elif control_text in vocab.yes:
            control = 1
        elif control_text in vocab.no:
            control = 0
        else:
            return self._full_check(line, values)
        countries = self.countries
        made_in = row[i_made_in].strip().upper() or None
        import_country = row[i_import_country].strip().upper() or None
        party_country = row[i_party_country].strip().upper() or None
        if (
            (made_in and made_in not in countries)
            or (import_country and import_country not in countries)
            or (party_country and party_country not in countries)
        ):
            return self._full_check(line, values)
        made = row[i_made].strip()
        imported_in = row[i_import_year].strip()
        if made:
            made = self._check_year(made)
            if type(made) is not int or int(day[:4]) < made:
                return self._full_check(line, values)
        else:
            made = None
        if imported_in:
            imported_in = self._check_year(imported_in)
            if type(imported_in) is not int or (made and imported_in < made):
                return self._full_check(line, values)
        else:
            imported_in = None
        p = self.profile
        if event in p.marking_events and (control or kind in p.marked_components):
            for i in self._marking_required:
                if not row[i].strip():
                    return self._full_check(line, values)
            for name, i in self._encouraged:
                if not row[i].strip():
                    missing = self.warnings.missing_encouraged
                    missing[name] = missing.get(name, 0) + 1
        if event == "imported":
            for i in self._import_required:
                if not row[i].strip():
                    return self._full_check(line, values)
        for i in self._extra_required:
            if not row[i].strip():
                return self._full_check(line, values)
        calibre = row[i_calibre].strip() or None
        if calibre:
            calibre = self._calibre(calibre)
        party = row[i_party].strip() or None
        party_norm = normalize_party_name(party) or None if party else None
        firearm_key = row[i_firearm].strip() or None
        party_licence = row[i_licence].strip() or None
        reference = row[i_reference].strip() or None
        notes = row[i_notes].strip() or None
        component_ref = self._component_ref(row[i_component_id].strip())
        if type(component_ref) is tuple:
            return self._full_check(line, values)
        model = row[i_model].strip() or None
        return staging_row(
            (
                line,
                maker_norm,
                manufacturer,
                kind,
                control,
                firearm_key,
                ftype,
                model,
                calibre,
                made_in,
                made,
                import_country,
                imported_in,
                event,
                day,
                party_norm,
                party,
                party_licence,
                party_country,
                reference,
                notes,
                component_ref,
                self._model_key(model),
            ),
            serial,
            keys,
            legacy_keys=self.legacy_keys,
        )

    def _full_check(self, line: int, values: list[str]) -> tuple | list[tuple[str, str]]:
        """Every check, naming every problem: the slow path, run on rows the fast
        path (:meth:`validate`) rejected, and the reference the fast path mirrors."""
        vocab, p, idx = self.vocab, self.profile, self._index
        problems: list[tuple[str, str]] = []
        joined = "".join(values)
        if _CONTROL_CHARACTERS.search(joined):
            for name, i in idx.items():
                problem = field_problem(values[i])
                if problem:
                    problems.append((name, problem))
            return problems
        if len(joined) > vocab.max_length:
            for name, i in idx.items():
                limit = vocab.max_length_notes if name == "notes" else vocab.max_length
                if len(values[i]) > limit:
                    problems.append((name, f"{len(values[i])} characters (at most {limit})"))
            if problems:
                return problems

        def get(name: str) -> str:
            i = idx.get(name)
            return values[i].strip() if i is not None else ""

        manufacturer = get("manufacturer")
        serial = get("serial")
        event = get("event").lower()
        event_date = get("event_date")
        for name, value in (
            ("manufacturer", manufacturer),
            ("serial", serial),
            ("event", event),
            ("event_date", event_date),
        ):
            if not value:
                problems.append((name, "required"))
        maker_norm = normalize_party_name(manufacturer) if manufacturer else ""
        if manufacturer and not maker_norm:
            problems.append(("manufacturer", f"'{manufacturer}' has no letters or digits"))
        keys = self._check_serial(serial) if serial else None
        if isinstance(keys, str):
            problems.append(("serial", keys))
        if event and event not in vocab.events:
            problems.append(("event", not_one_of(event, vocab.events)))
        day = None
        if event_date:
            checked = self._check_date(event_date)
            if isinstance(checked, tuple):
                problems.append(("event_date", checked[0]))
            else:
                day = checked

        kind = get("component").lower() or vocab.default_kind
        if kind not in vocab.kinds:
            problems.append(("component", not_one_of(kind, vocab.kinds)))
        control_text = get("control").lower()
        if not control_text:
            control = 1 if kind in vocab.control_by_default else 0
        elif control_text in vocab.yes:
            control = 1
        elif control_text in vocab.no:
            control = 0
        else:
            control = 0
            problems.append(("control", f"'{control_text[:40]}' is not yes or no"))
        ftype = get("type").lower() or None
        if ftype and ftype not in vocab.types:
            problems.append(("type", not_one_of(ftype, vocab.types)))

        countries = []
        for name in ("country_of_manufacture", "import_country", "party_country"):
            code = get(name).upper() or None
            if code and code not in self.countries:
                problems.append((name, not_a_country(code)))
            countries.append(code)
        years = []
        for name in ("year_of_manufacture", "import_year"):
            text = get(name)
            year = None
            if text:
                checked_year = self._check_year(text)
                if isinstance(checked_year, tuple):
                    problems.append((name, checked_year[0]))
                else:
                    year = checked_year
            years.append(year)
        made, imported_in = years
        if made and day and int(day[:4]) < made:
            problems.append(("event_date", f"{day} is before the year of manufacture {made}"))
        if made and imported_in and imported_in < made:
            problems.append(
                ("import_year", f"{imported_in} is before the year of manufacture {made}")
            )

        calibre = get("calibre") or None
        if calibre:
            calibre = self._calibre(calibre)

        if event in p.marking_events and (control or kind in p.marked_components):
            for name in p.marking_required:
                if not get(name):
                    problems.append((name, f"required on a {event} row by profile '{p.name}'"))
            for name in p.encouraged:
                if not get(name):
                    missing = self.warnings.missing_encouraged
                    missing[name] = missing.get(name, 0) + 1
        if event == "imported":
            for name in p.import_required:
                if not get(name):
                    problems.append((name, f"required on an imported row by profile '{p.name}'"))
        for name in p.required:
            if name not in ("manufacturer", "serial", "event", "event_date") and not get(name):
                problems.append((name, f"required by profile '{p.name}'"))
        component_ref = self._component_ref(get("component_id"))
        if isinstance(component_ref, tuple):
            problems.append(("component_id", component_ref[0]))

        if problems:
            return problems
        party = get("party")
        party_norm = normalize_party_name(party) if party else None
        model = get("model") or None
        firearm_key = get("firearm") or None
        party_licence = get("party_licence") or None
        reference = get("reference") or None
        notes = get("notes") or None
        return staging_row(
            (
                line,
                maker_norm,
                manufacturer,
                kind,
                control,
                firearm_key,
                ftype,
                model,
                calibre,
                countries[0],
                made,
                countries[1],
                imported_in,
                event,
                day,
                party_norm or None,
                party or None,
                party_licence,
                countries[2],
                reference,
                notes,
                component_ref,
                self._model_key(model),
            ),
            serial,
            keys,
            legacy_keys=self.legacy_keys,
        )
