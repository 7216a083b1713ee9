"""The registry's vocabulary, in one place.

The record fields (the columns of a batch row, CONTRACT "Registry record
batches") are the tables below: every module that names them derives its list
from these. The domain vocabulary is data, ``rules/registry.toml``: component
kinds and which of them carry a firearm's identity, firearm types, event kinds,
which events install or remove a part, the event-to-status mapping, and value
limits (:func:`load_vocabulary`).

Kept apart from :mod:`.validate` so that reading it (trace, status) stays light.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from firetrace.paths import rules_dir

# What the row is about: the marked component, and the firearm it belongs to.
COMPONENT_FIELDS = ("manufacturer", "serial", "component", "control", "firearm")
# What the item is: stored on the component, shown as its firearm's description.
DESCRIPTION_FIELDS = (
    "type",
    "model",
    "calibre",
    "country_of_manufacture",
    "year_of_manufacture",
    "import_country",
    "import_year",
)
# What happened to it: one event (and what a correction may change).
EVENT_FIELDS = (
    "event",
    "event_date",
    "party",
    "party_licence",
    "party_country",
    "reference",
    "notes",
)
# Which registry component a row concerns, when the serial alone does not say
# (two items share it): the id trace, show and dupes print.
ROUTING_FIELDS = ("component_id",)
# Every record field, in the order the JSON Lines reader aligns them.
RECORD_FIELDS = COMPONENT_FIELDS + DESCRIPTION_FIELDS + EVENT_FIELDS + ROUTING_FIELDS
# The description fields on which two records of one serial cannot both be true
# of one item: a conflict makes them two items sharing a serial.
IDENTITY_FIELDS = ("year_of_manufacture", "model", "calibre", "country_of_manufacture")

# The ways two records' serials can collide (CONTRACT ``dupes --kinds``), in report order.
DUPLICATE_KINDS = (
    "exact",
    "cross_manufacturer",
    "normalized",
    "confusable",
    "embedded_letter",
    "transposition",
    "edit",
    "model_as_serial",
)


@dataclass(frozen=True)
class Vocabulary:
    kinds: frozenset[str]
    control_by_default: frozenset[str]
    default_kind: str
    types: frozenset[str]
    events: frozenset[str]
    installs: frozenset[str]
    removes: frozenset[str]
    identifies: frozenset[str]
    tracing: dict[str, frozenset[str]]  # history groups of a tracing response
    status_of_event: dict[str, str]
    yes: frozenset[str]
    no: frozenset[str]
    earliest_year: int
    max_length: int
    max_length_notes: int


@lru_cache(maxsize=2)
def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """The registry vocabulary from ``rules/registry.toml``."""
    with open(path or rules_dir() / "registry.toml", "rb") as fh:
        data = tomllib.load(fh)
    comp, events, values = data["components"], data["events"], data["values"]
    return Vocabulary(
        kinds=frozenset(comp["kinds"]),
        control_by_default=frozenset(comp["control_by_default"]),
        default_kind=comp["default_kind"],
        types=frozenset(data["firearms"]["types"]),
        events=frozenset(events["kinds"]),
        installs=frozenset(events["installs"]),
        removes=frozenset(events["removes"]),
        identifies=frozenset(events["identifies"]),
        tracing={name: frozenset(kinds) for name, kinds in data.get("tracing", {}).items()},
        status_of_event=dict(data["status"]),
        yes=frozenset(values["yes"]),
        no=frozenset(values["no"]),
        earliest_year=int(values["earliest_year"]),
        max_length=int(values["max_length"]),
        max_length_notes=int(values["max_length_notes"]),
    )
