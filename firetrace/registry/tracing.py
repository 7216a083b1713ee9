"""A tracing request and its response, as the International Tracing Instrument
(ITI, section V "Cooperation in tracing", paragraphs 17-23) and ISACS 05.31
("Tracing illicit small arms and light weapons") describe them:
``firetrace trace SERIAL --tracing-response FILE.json [--request REQUEST]``.

The **request** is what the requesting authority sends (ITI para 17; ISACS 05.31
clause 7 and its request form): who asks (state, authority, point of contact),
the reference and date, the legal basis and purpose, how urgent and how
confidential, the circumstances of recovery (when, where, how found, what
crime), the weapon as found (type, make, model, calibre, serial as read, whether
the marking was obliterated, other markings such as import and proof marks,
country and year of manufacture) and what information is asked for. It is read
from ``--request`` (JSON or TOML, the keys below) and completed from the trace:
the serial as read is the query, ``obliterated`` is set when it holds ``?`` or
``*``, the weapon fields come from ``--model`` and the other description options,
the reference from ``--purpose``.

The **response** (ITI paras 19-20; ISACS 05.31 clause 8) is built from the trace:
who responds (the registry and the operator), when, to which request; whether the
weapon was identified; and for each candidate record the identification
(manufacturer, serial, model, calibre, country and year of manufacture, import
marks), how it matched, its status, the manufacture record, import and export
history, transfers and the last known lawful holder, loss, theft, recovery and
seizure reports, its components over time, and the limits of the answer (ties,
candidates left out, duplicated serials, withdrawn records). The record header
(:mod:`.record`) says against which registry state it was answered.
"""

from __future__ import annotations

import datetime
import math
import tomllib
from pathlib import Path
from typing import Any

from firetrace.errors import InputError
from firetrace.inputs import parse_json, regular_file
from firetrace.registry.vocabulary import load_vocabulary
from firetrace.sanitize import field_problem

STANDARDS = (
    "International Tracing Instrument (UN, 2005), section V, paras 17-23",
    "ISACS 05.31 Tracing illicit small arms and light weapons",
)
REQUEST_FIELDS: dict[str, Any] = {
    "requesting_state": None,
    "requesting_authority": None,
    "point_of_contact": None,
    "request_reference": None,
    "request_date": None,
    "legal_basis": None,
    "purpose": None,
    "urgency": None,
    "confidentiality": None,
    "circumstances": {"recovered_on": None, "place": None, "how_found": None, "crime": None},
    "weapon": {
        "type": None,
        "manufacturer": None,
        "model": None,
        "calibre": None,
        "serial_as_read": None,
        "obliterated": None,
        "other_markings": None,
        "import_marks": None,
        "country_of_manufacture": None,
        "year_of_manufacture": None,
    },
    "information_requested": None,
}


def load_request(path: str | Path) -> dict[str, Any]:
    """A tracing request from a JSON or TOML file; unknown keys are an error
    naming the key (a misspelt field would otherwise be silently lost), and so
    are a key given twice, nesting deeper than the fields, a number JSON cannot
    carry (``1e999``) and control or bidi characters in a value (the request
    goes into a response another agency reads)."""
    path = regular_file(path)  # a FIFO would block the read forever
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the tracing request: {exc.strerror}", path=str(path)
        ) from None
    try:
        text = raw.decode("utf-8")
        if text.lstrip().startswith("{"):
            data = parse_json(text, unique_keys=True)
        else:
            data = tomllib.loads(text)
    except RecursionError:  # (TOML arrays nested thousands deep)
        raise InputError(
            "not a JSON or TOML tracing request: nested too deeply", path=str(path)
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSON, TOML, a key given twice
        raise InputError(f"not a JSON or TOML tracing request: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("a tracing request is one object of fields", path=str(path))
    _check_keys(data, REQUEST_FIELDS, str(path), "")
    return _dates_as_text(data)


def _dates_as_text(value: Any) -> Any:
    """TOML dates and times as ISO 8601 text (the response is JSON)."""
    if isinstance(value, dict):
        return {key: _dates_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_as_text(item) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def _check_keys(data: dict, known: dict, path: str, prefix: str) -> None:
    for key, value in data.items():
        if key not in known:
            raise InputError(
                f"unknown field '{prefix}{key}' (known: {', '.join(known)})", path=path
            )
        if isinstance(known[key], dict):
            if not isinstance(value, dict):
                raise InputError(f"'{prefix}{key}' must be a table of fields", path=path)
            _check_keys(value, known[key], path, f"{prefix}{key}.")
        else:
            for item in value if isinstance(value, list) else [value]:
                problem = _value_problem(item)
                if problem:
                    raise InputError(f"'{prefix}{key}': {problem}", path=path)


def _value_problem(value: Any) -> str | None:
    """Why a request field's value (or one item of a list) cannot go into the
    response, or None: text without control or bidi characters, a finite number,
    true or false, or a date."""
    if isinstance(value, str):
        return field_problem(value)
    if isinstance(value, bool | int) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, datetime.date | datetime.time):
        return None  # (TOML dates and times)
    return "must be text, a number, true or false, or a date (not a list of lists or a table)"


def _merged(defaults: dict, given: dict) -> dict:
    out = {}
    for key, value in defaults.items():
        if isinstance(value, dict):
            out[key] = _merged(value, given.get(key) or {})
        else:
            out[key] = given.get(key, value)
    return out


def complete_request(
    request: dict[str, Any] | None, document: dict[str, Any], manufacturer: str | None
) -> dict[str, Any]:
    """The request with what the trace itself says filled in where it was silent."""
    out = _merged(REQUEST_FIELDS, request or {})
    weapon, record = out["weapon"], document.get("record") or {}
    query = document["query"]
    weapon["serial_as_read"] = weapon["serial_as_read"] or query
    if weapon["obliterated"] is None:
        weapon["obliterated"] = any(ch in query for ch in "?*")
    weapon["manufacturer"] = weapon["manufacturer"] or manufacturer
    described = document.get("description") or {}
    for key, field in (("model", "model"), ("calibre", "calibre"), ("type", "type"),
                       ("year", "year_of_manufacture")):  # fmt: skip
        if weapon[field] is None and key in described:
            weapon[field] = described[key]
    out["request_reference"] = out["request_reference"] or record.get("purpose")
    out["request_date"] = out["request_date"] or (record.get("traced_at") or "")[:10]
    return out


def _events(match: dict[str, Any], group: str) -> list[dict[str, Any]]:
    """The match's events of one history group (``[tracing]`` in rules/registry.toml)."""
    kinds = load_vocabulary().tracing.get(group, frozenset())
    keep = ("event", "event_date", "party", "party_licence", "party_country", "reference")
    return [{k: e.get(k) for k in keep} for e in match.get("events", []) if e["event"] in kinds]


def _candidate(match: dict[str, Any]) -> dict[str, Any]:
    firearm = match.get("firearm") or {}
    identifies = load_vocabulary().identifies
    made = next((e for e in match.get("events", []) if e["event"] in identifies), None)
    transfers = _events(match, "transfers")
    holder = transfers[-1] if transfers else None
    limits = []
    if match.get("duplicate_serial"):
        limits.append(match["duplicate_serial"]["note"])
    if match.get("withdrawn_events"):
        limits.append(f"{len(match['withdrawn_events'])} event(s) of withdrawn batches left out")
    return {
        "component_id": match["component_id"],
        "identification": {
            "manufacturer": match["manufacturer"],
            "serial": match["serial"],
            "component": match["component"],
            **{
                k: firearm.get(k)
                for k in (
                    "type",
                    "model",
                    "calibre",
                    "country_of_manufacture",
                    "year_of_manufacture",
                )
            },  # fmt: skip
            "import_marks": {
                "country": firearm.get("import_country"),
                "year": firearm.get("import_year"),
            },  # fmt: skip
            "serial_history": match.get("serial_history", []),
        },
        "match": {
            "kind": match["match"],
            "score": match["score"],
            "why": match["why"],
            "description": match.get("description"),
        },  # fmt: skip
        "status": match["status"],
        "manufacture": made and {k: made.get(k) for k in ("event_date", "party", "reference")},
        "import_export": _events(match, "import_export"),
        "transfers": transfers,
        "last_known_lawful_holder": holder
        and {
            k: holder.get(k) for k in ("party", "party_licence", "party_country", "event_date")
        },  # fmt: skip
        "reports": _events(match, "reports"),
        "components_over_time": firearm.get("components", []),
        "limitations": limits,
    }


def tracing_response(
    document: dict[str, Any], request: dict[str, Any] | None = None, manufacturer: str | None = None
) -> dict[str, Any]:
    """The tracing request (completed) and the response the trace ``document`` gives."""
    record = document.get("record") or {}
    matches = document.get("matches", [])
    direct = [m for m in matches if m["match"] in ("exact", "normalized")]
    result = "identified" if len(direct) == 1 else "candidates" if matches else "not_found"
    more = document.get("more") or {}
    limits = []
    if len(direct) > 1:
        limits.append(f"{len(direct)} records carry this serial: see each candidate")
    if more.get("matches"):
        limits.append(
            f"{more['matches']} further candidate(s) left out by the limit, "
            f"{more.get('tied_with_last', 0)} tied with the last one given"
        )
    if document.get("withdrawn"):
        limits.append(f"{len(document['withdrawn'])} record(s) of withdrawn batches left out")
    completed = complete_request(request, document, manufacturer)
    return {
        "standards": list(STANDARDS),
        "request": completed,
        "response": {
            "responding_authority": {
                "registry": (record.get("registry") or {}).get("file"),
                "operator": record.get("operator"),
            },  # fmt: skip
            "response_date": record.get("traced_at"),
            "request_reference": completed["request_reference"],
            "result": result,
            "candidates": [_candidate(m) for m in matches],
            "limitations": limits,
        },
        "record": record,
    }
