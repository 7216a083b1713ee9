"""Tests that the mutation runs showed were missing (issue 17.8): boundaries,
ties, ranking, fields no other test looked at. Each fails on the mutation named
in its docstring."""

from __future__ import annotations

import json

import pytest
from test_registry_support import batch_row, write_csv


def _trace(run_cli, serial: str, *args: str) -> dict:
    result = run_cli("trace", serial, "--json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_a_serial_of_exactly_the_maximum_length_is_accepted(tmp_path, run_cli):
    """Mutation: ``len(norm) > serial_max`` became ``>=`` (the longest valid serial refused)."""
    from firetrace.registry.validate import load_profile

    longest = load_profile("iti").serial_max
    fits = "A1" + "7" * (longest - 2)
    batch = write_csv(tmp_path / "max.csv", [batch_row(serial=fits)])
    assert run_cli("import", batch).exit_code == 0
    too_long = write_csv(tmp_path / "over.csv", [batch_row(serial=fits + "7")])
    refused = run_cli("import", too_long)
    assert refused.exit_code == 1
    assert f"has {longest + 1} characters" in refused.stdout + refused.stderr


def test_on_one_day_the_later_recorded_status_event_wins(tmp_path, run_cli):
    """Mutation: the same-day tie broken by ``id ASC`` (stolen then recovered ends stolen)."""
    rows = [
        batch_row(serial="TIE100"),
        batch_row(serial="TIE100", event="reported_stolen", event_date="2023-05-05"),
        batch_row(serial="TIE100", event="recovered", event_date="2023-05-05"),
    ]
    assert run_cli("import", write_csv(tmp_path / "tie.csv", rows)).exit_code == 0
    (match,) = _trace(run_cli, "TIE100", "--exact")["matches"]
    assert match["status"] == "in_circulation"
    rows = [
        batch_row(serial="TIE200"),
        batch_row(serial="TIE200", event="recovered", event_date="2023-05-05"),
        batch_row(serial="TIE200", event="reported_stolen", event_date="2023-05-05"),
    ]
    assert run_cli("import", write_csv(tmp_path / "tie2.csv", rows)).exit_code == 0
    (match,) = _trace(run_cli, "TIE200", "--exact")["matches"]
    assert match["status"] == "reported_stolen"


def test_a_removed_part_is_not_installed_now(tmp_path, run_cli):
    """Mutation: ``installed_now`` ignoring ``removed`` (a part taken out still shown in)."""
    common = {"manufacturer": "Acme Arms", "firearm": "A"}
    rows = [
        batch_row(serial="FCU900", component="fire_control_unit", **common),
        batch_row(serial="BR900", component="barrel", **common),
        batch_row(serial="SL900", component="slide", **common),
        batch_row(
            serial="BR900", component="barrel", event="disassembled",
            event_date="2022-01-01", **common,
        ),
    ]  # fmt: skip
    assert run_cli("import", write_csv(tmp_path / "parts.csv", rows)).exit_code == 0
    (barrel,) = _trace(run_cli, "BR900", "--exact")["matches"]
    (slide,) = _trace(run_cli, "SL900", "--exact")["matches"]
    assert barrel["installed_now"] is False
    assert slide["installed_now"] is True


def test_look_alikes_and_fuzzy_matches_rank_by_score_alone():
    """Mutation: ranking by match kind first (a look-alike above a better fuzzy match)."""
    from firetrace.registry.lookup import Candidate, rank_key

    def candidate(cid, match, score):
        return Candidate(cid, f"S{cid}", "Acme", "frame", match, score, "")

    found = [
        candidate(1, "confusable", 0.80),
        candidate(2, "fuzzy", 0.93),
        candidate(3, "wildcard", 0.85),
        candidate(4, "normalized", 0.60),
        candidate(5, "exact", 0.50),
    ]
    ranked = [c.component_id for c in sorted(found, key=rank_key)]
    assert ranked == [5, 4, 2, 3, 1]  # exact, normalised, then by score whatever the kind


def test_the_reference_index_keeps_the_best_near_matches_not_the_first():
    """Mutation: near matches taken in row order (the first five above the threshold
    kept, better ones later in the library dropped)."""
    import numpy as np

    from firetrace.refs.library import Fingerprint, ReferenceIndex, match_settings
    from firetrace.refs.signature import SIGNATURE_LENGTH, TOTAL_WEIGHT, Signature

    settings = match_settings()
    keep = settings.max_results
    query = np.zeros(SIGNATURE_LENGTH, dtype=np.float32)
    # Every reference is a near match; the farther ones come first in the library.
    # (distances 0.003 down to 0.0002: all above the 0.9 threshold's 0.0038)
    offsets = np.linspace(0.003, 0.0002, 2 * keep + 3) * np.sqrt(TOTAL_WEIGHT)
    rows = []
    for i, offset in enumerate(offsets):
        vector = query.copy()
        vector[0] = offset
        rows.append(
            {"id": i, "label": f"ref{i}", "size": 1.0, "vector": vector, "geometry_hash": f"h{i}"}
        )
    index = ReferenceIndex(rows, settings)
    sims = index.similarities(query)
    assert (sims >= settings.threshold).all()  # all eligible: only ranking decides
    found = index.match(Fingerprint("none", Signature(query, 1.0, 12)), settings.threshold)
    best = [f"ref{i}" for i in np.argsort(-sims, kind="stable")[:keep]]
    assert [m["label"] for m in found] == best


def test_a_hash_set_of_md5_or_sha1_only_still_matches(tmp_path):
    """Mutation: lookup trying SHA-256 and SHA-1 only (an MD5-only set never matching)."""
    import hashlib

    from firetrace.forensics.hashset import load_hashset

    data = b"known file"
    record = {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    md5_only = tmp_path / "md5.csv"
    md5_only.write_text(f'"MD5","FileName"\n"{record["md5"].upper()}","known.stl"\n')
    assert load_hashset(md5_only).lookup(record) == "known.stl"
    sha1_only = tmp_path / "sha1.csv"
    sha1_only.write_text(f'"SHA-1","FileName"\n"{record["sha1"]}","other.stl"\n')
    assert load_hashset(sha1_only).lookup(record) == "other.stl"
    assert load_hashset(md5_only).lookup({"md5": "0" * 32, "sha256": "1" * 64}) is None


def test_metadata_and_feature_keys_from_the_file_are_escaped_on_the_card():
    """Mutation: the card printing metadata keys raw (``text(k)`` dropped)."""
    from firetrace.report.html import Card, _card

    hostile = '<img src=x onerror="alert(1)">'
    record = {
        "path": "evidence/part.stl",
        "verdict": "review",
        "score": 0.5,
        "format": "stl",
        "findings": [],
        "metadata": {hostile: "value", "author": hostile},
        "features": {hostile: 1},
    }
    page = _card(Card(1, record))
    assert "<img" not in page
    assert page.count("&lt;img src=x onerror=") == 3  # two keys and one value, all shown


def test_a_binary_stl_whose_header_says_solid_is_read_as_binary():
    """Mutation: the reader trusting a ``solid`` header over the binary size check
    (CAD exporters write binary files whose header starts with "solid")."""
    import io
    import struct

    import numpy as np

    from firetrace.detect.readers.stl import read_stl

    triangles = np.array(
        [[[0, 0, 0], [10, 0, 0], [0, 10, 0]], [[0, 0, 0], [0, 10, 0], [0, 0, 10]]],
        dtype=np.float32,
    )
    body = b"".join(struct.pack("<3f", 0, 0, 0) + tri.tobytes() + b"\0\0" for tri in triangles)
    header = b"solid exported by a CAD program".ljust(80, b" ")
    data = header + struct.pack("<I", len(triangles)) + body
    design = read_stl(io.BytesIO(data), len(data), "part.stl")
    assert design.has_mesh and len(design.faces) == 2
    assert np.ptp(design.vertices, axis=0).tolist() == [10.0, 10.0, 10.0]


def test_a_blind_hole_is_not_reported_as_through():
    """Mutation: every hole reported ``through`` (a blind bore read as a barrel's)."""
    from test_detect_hole_window import RESOLUTION, block_with_holes

    from firetrace.detect.features import DEFAULTS, find_holes

    holes = find_holes(block_with_holes(), RESOLUTION, dict(DEFAULTS))
    by_axis = {h["axis"]: h for h in holes}
    assert by_axis[0]["through"] is True
    assert by_axis[2]["through"] is False and by_axis[2]["open_ends"] == 1


def test_a_component_without_status_events_is_in_circulation(db_path):
    """Mutation (mutmut, registry/status.py): the default status never used (``if row``
    made always true), so a component whose events bear no status raised."""
    from firetrace.registry.db import connect
    from firetrace.registry.status import DEFAULT_STATUS, component_status

    conn = connect(db_path)
    assert component_status(conn, 12345) == DEFAULT_STATUS == "in_circulation"


def test_every_unreadable_hash_set_says_what_is_wrong_with_it(tmp_path):
    """Mutations (mutmut, forensics/hashset.py): the refusal messages and the fields
    they name, which the older tests only checked were errors."""
    import pytest

    from firetrace.errors import InputError
    from firetrace.forensics.hashset import load_hashset

    def refused(path, message):
        with pytest.raises(InputError) as caught:
            load_hashset(path)
        assert str(caught.value) == f"{path}: {message}"

    refused(tmp_path / "missing.txt", "hash set file not found")
    folder = tmp_path / "folder"
    folder.mkdir()
    refused(folder, "is a folder, not a file")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    refused(latin, "hash set is not UTF-8 text")
    short = tmp_path / "short.txt"
    short.write_text("abc123 label\n")
    refused(short, "line 1: expected a SHA-256 (64 hex digits)")
    not_hex = tmp_path / "nothex.txt"
    not_hex.write_text("g" * 64 + "\n")
    refused(not_hex, "line 1: expected a SHA-256 (64 hex digits)")
    bad_md5 = tmp_path / "bad.csv"
    bad_md5.write_text('"MD5","FileName"\n"1234","x.stl"\n')
    refused(bad_md5, "line 2: md5: not a md5 digest")


def test_a_plain_hash_list_keeps_labels_and_quotes_off_and_names_the_file_otherwise(tmp_path):
    """Mutations (mutmut, forensics/hashset.py): labels and quotes in a plain list."""
    from firetrace.forensics.hashset import load_hashset

    digest = "AB" * 32
    plain = tmp_path / "known.txt"
    plain.write_text(f'"{digest}"  "widget v2"\n{"cd" * 32}\n# comment\n\n')
    hashset = load_hashset(plain)
    assert len(hashset) == 2
    assert hashset.lookup({"sha256": digest.lower()}) == "widget v2"
    assert hashset.lookup({"sha256": "CD" * 32}) == "known.txt"  # no label: the file's name
    assert hashset.source == str(plain)


def test_align_cost_sees_no_character_before_the_first():
    """Mutation: ``read[i - 2]`` taken at the first read character too (``read[-1]``,
    the last one), so align_cost saw a transposition between the last and the
    first character: ``AB`` against ``ABXB`` cost 1.6 where align says 2.0."""
    from firetrace.registry.lookup import align, align_cost

    for read, marked, cost in (("AB", "ABXB", 2.0), ("A1", "A1X1", 1.3), ("AB", "ABCB", 2.0)):
        assert align_cost(read, marked) == pytest.approx(align(read, marked)[0])
        assert align_cost(read, marked) == pytest.approx(cost)


def test_align_phrases_of_transpositions_and_embedded_letters():
    """Mutations: the transposition's third character tested against the one before
    it (``AAB`` as ``ABA`` not seen as a swap), either embedded-letter phrase
    never chosen, the transposed pair quoted with a third character."""
    from firetrace.registry.lookup import align, align_cost

    for read, marked, phrases in (
        ("AAB", "ABA", ["BA at positions 2-3 read as AB (transposed)"]),
        ("BA1", "AB1", ["AB at positions 1-2 read as BA (transposed)"]),
        ("XBA12", "XAB12", ["AB at positions 2-3 read as BA (transposed)"]),
        ("A11", "A1X1", ["embedded letter X at position 3 not read"]),
        ("A1X1", "A11", ["extra letter X read after position 2"]),
    ):
        cost, said = align(read, marked)
        assert said == phrases
        assert cost == pytest.approx(align_cost(read, marked))
