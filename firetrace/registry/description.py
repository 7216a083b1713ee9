"""What an officer knows of the firearm in hand, as a trace narrows by it.

A trace request usually carries more than the serial: the make, model and
calibre read off the firearm, often its country and year. ``trace --model
--calibre --type --country --year`` (:func:`describe`) turn them into a
:class:`Description` that works two ways at once:

* **a filter**: a candidate whose record *contradicts* the description (a
  recorded model, calibre, type, country or year that is not the one given) is
  left out. A record that does not say (the field is empty) is kept: an unknown
  is not a contradiction, and old registers often lack a calibre or year;
* **a ranking hint**: among candidates that fit the serial equally well, the
  ones whose records *confirm* more of the description come first. A dense run
  of consecutive serials behind an obliterated digit (``BK00?234``) is ten
  candidates that tie on the serial; the model and year break the tie.

With ``soft`` (``trace --hint``) the description only ranks: contradicting
records are kept, after the ones that confirm or do not say, for a description
the officer is unsure of. Model is compared with case, spaces and separators
folded (``92 FS`` = ``92fs``), calibre after its aliases (``9mm Luger`` =
``9x19mm``), country against the country of manufacture or of import, year as
one year or a range (``2018-2020``).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from firetrace.errors import UsageError
from firetrace.registry.filters import firearm_type as known_type
from firetrace.registry.filters import suggest_country
from firetrace.registry.validate import country_codes, model_key, normalize_calibre
from firetrace.suggest import did_you_mean

# The component columns a description is checked against, in this order.
COLUMNS = (
    "c.model",
    "c.calibre",
    "c.type",
    "c.country_of_manufacture",
    "c.import_country",
    "c.year_of_manufacture",
)
_YEARS = re.compile(r"^\s*(\d{4})\s*(?:(?:-|\.\.|–|to)\s*(\d{4})\s*)?$")


@dataclass(frozen=True)
class Description:
    """The fields given (None: not given), as the registry compares them."""

    model: str | None = None  # model key (firetrace.registry.validate.model_key)
    calibre: str | None = None  # canonical calibre
    type: str | None = None
    country: str | None = None
    years: tuple[int, int] | None = None
    soft: bool = False
    model_as_given: str | None = None

    def given(self) -> list[str]:
        """The names of the fields given."""
        names = ("model", "calibre", "type", "country", "years")
        return [n for n in names if getattr(self, n) is not None]

    def sql(self, alias: str = "c") -> tuple[str, list]:
        """A WHERE fragment keeping every record that does not contradict the
        description (empty for a soft one): field unknown, or equal."""
        if self.soft:
            return "", []
        parts, params = [], []
        if self.model is not None:
            parts.append(f"({alias}.model IS NULL OR firetrace_model_key({alias}.model) = ?)")
            params.append(self.model)
        for name in ("calibre", "type"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"({alias}.{name} IS NULL OR {alias}.{name} = ?)")
                params.append(value)
        if self.country is not None:
            parts.append(
                f"(coalesce({alias}.country_of_manufacture, {alias}.import_country) IS NULL "
                f"OR {alias}.country_of_manufacture = ? OR {alias}.import_country = ?)"
            )
            params += [self.country, self.country]
        if self.years is not None:
            parts.append(
                f"({alias}.year_of_manufacture IS NULL OR "
                f"{alias}.year_of_manufacture BETWEEN ? AND ?)"
            )
            params += list(self.years)
        return " AND ".join(parts), params

    def prepare(self, conn: sqlite3.Connection) -> None:
        """Register the model-key function the SQL fragment uses."""
        if self.model is not None and not self.soft:
            conn.create_function(
                "firetrace_model_key",
                1,
                lambda m: None if m is None else model_key(m),
                deterministic=True,
            )

    def judge(self, values: tuple) -> tuple[int, dict[str, str]]:
        """(confirmed minus contradicted, per field 'matches'/'unknown'/'differs')
        for a record's :data:`COLUMNS` values."""
        model, calibre, ftype, made_in, imported_to, year = values
        verdicts: dict[str, str] = {}

        def verdict(name: str, known: bool, same: bool) -> None:
            verdicts[name] = "unknown" if not known else "matches" if same else "differs"

        if self.model is not None:
            same = model is not None and model_key(model) == self.model
            verdict("model", model is not None, same)
        if self.calibre is not None:
            verdict("calibre", calibre is not None, calibre == self.calibre)
        if self.type is not None:
            verdict("type", ftype is not None, ftype == self.type)
        if self.country is not None:
            known = made_in is not None or imported_to is not None
            verdict("country", known, self.country in (made_in, imported_to))
        if self.years is not None:
            low, high = self.years
            verdict("year", year is not None, year is not None and low <= year <= high)
        score = sum(v == "matches" for v in verdicts.values()) - sum(
            v == "differs" for v in verdicts.values()
        )
        return score, verdicts

    def as_dict(self) -> dict:
        """The description as given, for the trace JSON and its audit entry."""
        out: dict = {}
        if self.model_as_given is not None:
            out["model"] = self.model_as_given
        if self.calibre is not None:
            out["calibre"] = self.calibre
        if self.type is not None:
            out["type"] = self.type
        if self.country is not None:
            out["country"] = self.country
        if self.years is not None:
            low, high = self.years
            out["year"] = str(low) if low == high else f"{low}-{high}"
        if out:
            out["mode"] = "hint" if self.soft else "filter"
        return out


def parse_years(text: str, option: str = "--year") -> tuple[int, int]:
    """``2019`` -> (2019, 2019); ``2018-2020`` (or ``2018..2020``) -> (2018, 2020)."""
    match = _YEARS.match(text)
    if not match:
        raise UsageError(f"{option}: '{text}' is not a year (2019) or a range (2018-2020)")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high < low:
        raise UsageError(f"{option}: '{text}' ends before it starts")
    return low, high


def describe(
    *,
    model: str | None = None,
    calibre: str | None = None,
    firearm_type: str | None = None,
    country: str | None = None,
    year: str | None = None,
    soft: bool = False,
) -> Description | None:
    """The description given to a trace, checked (a value the vocabularies do not
    know is a usage error with suggestions), or None when nothing was given."""
    if all(v is None for v in (model, calibre, firearm_type, country, year)):
        return None
    canonical_calibre = None
    if calibre is not None:
        canonical_calibre = normalize_calibre(calibre.strip())[0]
    kind = None
    if firearm_type is not None:
        kind = known_type(firearm_type)
    code = None
    if country is not None:
        code = _country(country)
    model_text = model.strip() if model is not None else None
    if model_text == "":
        raise UsageError("--model: give the model as marked")
    return Description(
        model=model_key(model_text) if model_text else None,
        calibre=canonical_calibre,
        type=kind,
        country=code,
        years=parse_years(year) if year is not None else None,
        soft=soft,
        model_as_given=model_text,
    )


def _country(text: str) -> str:
    code = text.strip().upper()
    if code in country_codes():
        return code
    likely = suggest_country(text)
    hint = did_you_mean([likely] if likely else []) or "give an ISO 3166 code such as DE"
    raise UsageError(f"--country: '{text}' is not a country code; {hint}")
