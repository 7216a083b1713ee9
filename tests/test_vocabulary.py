"""The registry's vocabularies have one home each: the record fields are the
tables in registry/vocabulary.py, the event and component kinds and statuses are
rules/registry.toml; everything that names them agrees with those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firetrace.errors import UsageError
from firetrace.registry.vocabulary import (
    COMPONENT_FIELDS,
    DESCRIPTION_FIELDS,
    EVENT_FIELDS,
    RECORD_FIELDS,
    ROUTING_FIELDS,
    load_vocabulary,
)

CONTRACT_COLUMNS = (  # CONTRACT "Registry record batches", in its table's order
    "manufacturer serial component control firearm type model calibre "
    "country_of_manufacture year_of_manufacture import_country import_year event "
    "event_date party party_licence party_country reference notes"
).split()


def test_record_fields_are_the_contract_columns_each_in_one_group():
    # The contract's columns in its order, then firetrace's extension (component_id).
    assert list(RECORD_FIELDS) == CONTRACT_COLUMNS + list(ROUTING_FIELDS)
    groups = (COMPONENT_FIELDS, DESCRIPTION_FIELDS, EVENT_FIELDS, ROUTING_FIELDS)
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == len(RECORD_FIELDS)


def test_importer_corrections_and_trace_use_the_field_tables():
    from firetrace.registry import corrections, importer, trace, validate

    assert validate.COLUMNS == RECORD_FIELDS
    assert corrections.CORRECTABLE == EVENT_FIELDS
    assert set(importer._STAGED_ATTRIBUTE) == set(DESCRIPTION_FIELDS)
    assert set(DESCRIPTION_FIELDS) <= set(trace._COMPONENT_FIELDS)
    assert set(EVENT_FIELDS) <= set(trace._EVENT_KEYS)


def test_correct_lists_exactly_the_correctable_fields(run_cli):
    result = run_cli("correct", "--help")
    for name in EVENT_FIELDS:
        assert name in result.stdout


def test_statuses_and_the_trace_styles_come_from_the_vocabulary():
    from firetrace.cli.registry import STATUS_STYLE
    from firetrace.registry.status import DEFAULT_STATUS

    vocab = load_vocabulary()
    statuses = set(vocab.status_of_event.values())
    assert DEFAULT_STATUS in statuses
    assert set(vocab.status_of_event) <= vocab.events
    assert set(STATUS_STYLE) <= statuses | vocab.events
    assert vocab.installs <= vocab.events and vocab.removes <= vocab.events
    assert vocab.control_by_default <= vocab.kinds and vocab.default_kind in vocab.kinds


def test_every_bundled_profile_names_known_events_and_components():
    from firetrace.registry.validate import load_profile, profile_names

    vocab = load_vocabulary()
    for name in profile_names():
        profile = load_profile(name)
        assert profile.marking_events <= vocab.events, name
        assert profile.marked_components <= vocab.kinds, name


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('marking_events = ["manufactured", "engraved"]', "marking_events names unknown event"),
        ('marked_components = ["frame", "stock"]', "marked_components names unknown component"),
        ('required = ["serial", "colour"]', "required names unknown columns: colour"),
    ],
)
def test_a_profile_naming_an_unknown_word_is_refused(tmp_path, line, message):
    from firetrace.registry.validate import load_profile

    path = tmp_path / "marking" / "custom.toml"
    path.parent.mkdir()
    path.write_text(f'name = "custom"\n{line}\n')
    with pytest.raises(UsageError, match=message):
        load_profile("custom", tmp_path)


def test_no_module_lists_the_event_or_component_kinds_again():
    package = Path(__file__).resolve().parent.parent / "firetrace"
    vocab = load_vocabulary()
    words = "|".join(sorted(vocab.events | vocab.kinds))
    quoted = re.compile(rf"""["']({words})["']""")
    # The trace's colour per status is presentation, checked against the vocabulary above.
    styles = package / "cli" / "registry.py"
    for path in package.rglob("*.py"):
        found = set(quoted.findall(path.read_text(encoding="utf-8")))
        if len(found) >= 4 and path != styles:
            pytest.fail(f"{path.relative_to(package)} lists kinds: {sorted(found)}")
