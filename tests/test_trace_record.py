"""A trace record to hand over (issue 14.4): trace --json carries who, why,
when, the registry's identity (file, schema version, audit head, this trace's
audit entry), tool and rules versions; --report writes them with the trace as
one self-contained, printable page; --tracing-response writes the ITI / ISACS
05.31 request and response."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from test_registry_support import batch_row, write_csv

from firetrace import __version__
from firetrace.registry.db import latest_version


@pytest.fixture
def registry(tmp_path, run_cli, db_path):
    rows = [
        batch_row(serial="AB1001", party="Glock"),
        batch_row(
            serial="AB1001",
            event="sold",
            event_date="2021-02-01",
            party="Waffen <script>alert(1)</script> GmbH",
            party_licence="DE-1",
            party_country="DE",
            year_of_manufacture="",
        ),  # fmt: skip
        batch_row(
            serial="AB1001",
            event="reported_stolen",
            event_date="2023-05-01",
            party="Polizei Hamburg",
            reference="POL-1",
            year_of_manufacture="",
        ),  # fmt: skip
        batch_row(serial="AB1002"),
    ]
    assert run_cli("import", write_csv(tmp_path / "b.csv", rows)).exit_code == 0
    return db_path


def test_trace_json_carries_the_record_header(registry, run_cli, db_path):
    conn = sqlite3.connect(db_path)
    head = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    result = run_cli("trace", "AB1001", "--json", "--purpose", "CASE-7", "--operator", "ann")
    record = json.loads(result.stdout)["record"]
    assert record["operator"] == "ann" and record["purpose"] == "CASE-7"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", record["traced_at"])
    registry_info = record["registry"]
    assert registry_info["file"] == str(db_path.resolve())
    assert registry_info["schema_version"] == latest_version()
    assert registry_info["audit_head"] == {"id": head[0], "hash": head[1]}
    entry = registry_info["audit_entry"]
    reads = sqlite3.connect(entry["log"])
    row = reads.execute("SELECT id, command FROM audit WHERE hash = ?", (entry["hash"],)).fetchone()
    assert row == (entry["id"], "trace")
    assert record["tool"] == {"name": "firetrace", "version": __version__}
    assert re.fullmatch(r"[0-9a-f]{64}", record["rules"]["sha256"])


def test_report_is_one_self_contained_printable_page(registry, run_cli, tmp_path):
    page = tmp_path / "record.html"
    result = run_cli(
        "trace", "AB100?", "--report", page, "--purpose", "CASE-7", "--json", "--limit", "1"
    )
    assert result.exit_code == 0
    record = json.loads(result.stdout)["record"]
    html = page.read_text()
    for expected in ("AB100?", "CASE-7", "tester", record["registry"]["file"],
                     record["registry"]["audit_entry"]["hash"], record["rules"]["sha256"],
                     f"firetrace {__version__}", "reported stolen", "@media print",
                     "Components over time", "Timeline", "fit exactly as well"):  # fmt: skip
        assert expected in html, expected
    # Nothing remote, no script, the registry's values escaped.
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "<script" not in html and "script-src 'none'" in html and "default-src 'none'" in html
    assert "Waffen &lt;script&gt;alert(1)&lt;/script&gt; GmbH" in html


def test_report_outputs_are_guarded(registry, run_cli, tmp_path, db_path):
    page = tmp_path / "record.html"
    page.write_text("mine")
    refused = run_cli("trace", "AB1001", "--report", page)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert page.read_text() == "mine"
    assert run_cli("trace", "AB1001", "--report", page, "--force").exit_code == 0
    assert run_cli("trace", "AB1001", "--report", db_path).exit_code == 2


def test_tracing_response_answers_the_request(registry, run_cli, tmp_path):
    request = tmp_path / "request.toml"
    request.write_text(
        'requesting_state = "FR"\nrequesting_authority = "Police nationale"\n'
        '[circumstances]\nplace = "Lyon"\n[weapon]\ntype = "pistol"\n'
    )
    out = tmp_path / "response.json"
    result = run_cli("trace", "AB10?1", "--tracing-response", out, "--request", request,
                     "--purpose", "FR-2024-117", "--model", "G17")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["standards"][0].startswith("International Tracing Instrument")
    asked = doc["request"]
    assert asked["requesting_state"] == "FR" and asked["circumstances"]["place"] == "Lyon"
    assert asked["weapon"]["serial_as_read"] == "AB10?1" and asked["weapon"]["obliterated"] is True
    assert asked["weapon"]["model"] == "G17" and asked["request_reference"] == "FR-2024-117"
    answer = doc["response"]
    assert answer["result"] == "candidates" and answer["request_reference"] == "FR-2024-117"
    (candidate,) = answer["candidates"]
    assert (
        candidate["identification"]["serial"] == "AB1001"
        and candidate["status"] == "reported_stolen"
    )
    assert candidate["last_known_lawful_holder"]["party_licence"] == "DE-1"
    assert [r["event"] for r in candidate["reports"]] == ["reported_stolen"]
    assert doc["record"]["purpose"] == "FR-2024-117"


@pytest.mark.parametrize(
    "content, message",
    [
        ('requestng_state = "FR"\n', "unknown field 'requestng_state'"),
        ("[weapon]\ncolour = 'black'\n", "unknown field 'weapon.colour'"),
        ("not = [valid", "not a JSON or TOML tracing request"),
    ],
)
def test_a_bad_request_file_is_a_clear_error(registry, run_cli, tmp_path, content, message):
    request = tmp_path / "request.toml"
    request.write_text(content)
    out = tmp_path / "response.json"
    result = run_cli("trace", "AB1001", "--tracing-response", out, "--request", request)
    assert result.exit_code == 2 and message in result.stderr and "request.toml" in result.stderr
    assert not out.exists()
