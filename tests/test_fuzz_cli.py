"""Fuzzing the command line: every file a command reads (batches as CSV, JSON
Lines and XLSX, fixes files, signature bundles, tracing requests (``trace
--request``, JSON or TOML), scan results and manifests for
``report`` and ``--resume``, hash sets, rules and policy TOML, the config file,
design files for ``inspect``) and every typed value (serials, operators,
purposes, ``--set`` values), mutated from valid seeds or made up whole.

Whatever the input, the command ends with an exit code in {0, 1, 2} and no
traceback: an uncaught exception fails the example. The default run tries a few
examples per input (the fast suite); ``FIRETRACE_FUZZ_EXAMPLES`` asks for more
(the slow-marked deep run uses 150).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firetrace.paths import samples_dir

EXAMPLES = int(os.environ.get("FIRETRACE_FUZZ_EXAMPLES", "8"))
SAMPLE = samples_dir() / "batch.csv"


def _settings(examples: int | None = None):
    return settings(
        max_examples=examples or EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def _run(*args, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``firetrace ARGS`` in this process: the exit code and everything printed.
    An exception escaping ``main`` is a traceback the user would have seen."""
    from firetrace.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    printed = out.getvalue() + err.getvalue()
    assert code in (0, 1, 2), (code, printed[-2000:])
    assert "Traceback" not in printed, printed[-2000:]
    return code, printed


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` cut short, with bytes flipped, spliced or inserted; or any bytes."""
    cut = st.integers(0, len(seed)).map(lambda n: seed[:n])
    spliced = st.tuples(
        st.integers(0, len(seed)), st.integers(0, len(seed)), st.binary(max_size=64)
    )
    spliced = spliced.map(lambda t: seed[: min(t[:2])] + t[2] + seed[max(t[:2]) :])
    flips = st.lists(
        st.tuples(st.integers(0, max(len(seed) - 1, 0)), st.integers(0, 255)), max_size=8
    )
    flipped = flips.map(lambda fs: _flip(seed, fs))
    return st.one_of(cut, spliced, flipped, st.binary(max_size=512), st.just(seed))


def _flip(seed: bytes, flips) -> bytes:
    data = bytearray(seed)
    for index, value in flips:
        if data:
            data[index % len(data)] = value
    return bytes(data)


# Text that reaches parsers as text: control, bidi and surrogate characters,
# huge numbers, deep nesting.
NASTY = st.sampled_from(
    ["\x00", "\x1b[2J", "\u202e", "\ud800", "1e999", "-1", "nan", "[" * 3000, "{" * 3000, '"']
)
text_values = st.one_of(st.text(max_size=80), NASTY, st.lists(NASTY, max_size=4).map("".join))


@pytest.fixture
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _fresh(workspace: Path, name: str, data: bytes) -> Path:
    path = workspace / name
    path.write_bytes(data)
    return path


def _jsonl_seed() -> bytes:
    import csv

    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8")))
    return "".join(json.dumps(row) + "\n" for row in rows[:6]).encode()


def _xlsx_seed() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:5]:
        book.active.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- batches ----------------------------------------------------------------------


@_settings()
@given(data=mutated(SAMPLE.read_bytes()[:3000]))
def test_fuzz_import_csv(workspace, data):
    batch = _fresh(workspace, "batch.csv", data)
    _run("import", batch, "--dry-run", "--db", workspace / "r.db")


@_settings()
@given(data=mutated(_jsonl_seed()))
def test_fuzz_import_jsonl(workspace, data):
    batch = _fresh(workspace, "batch.jsonl", data)
    _run("import", batch, "--dry-run", "--db", workspace / "r.db")


@_settings()
@given(data=mutated(_xlsx_seed()))
def test_fuzz_import_xlsx(workspace, data):
    batch = _fresh(workspace, "batch.xlsx", data)
    _run("import", batch, "--dry-run", "--db", workspace / "r.db")


@_settings()
@given(member=st.sampled_from(["xl/worksheets/sheet1.xml", "[Content_Types].xml",
                               "xl/workbook.xml", "xl/sharedStrings.xml"]),
       data=st.binary(max_size=400))  # fmt: skip
def test_fuzz_import_xlsx_members(workspace, member, data):
    """A valid zip whose one XML member is damaged (the case a zip-level fuzz misses)."""
    seed = zipfile.ZipFile(io.BytesIO(_xlsx_seed()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for name in seed.namelist():
            book.writestr(name, data if name == member else seed.read(name))
    batch = _fresh(workspace, "member.xlsx", out.getvalue())
    _run("import", batch, "--dry-run", "--db", workspace / "r.db")


@_settings()
@given(data=mutated(b"line,field,reason,manufacturer,serial,event,event_date\n2,serial,x,Acme,A1,"
                    b"manufactured,2020-01-01\n"))  # fmt: skip
def test_fuzz_import_fixes_file(workspace, data):
    fixes = _fresh(workspace, "fixes.csv", data)
    _run("import", SAMPLE, "--fixes", fixes, "--dry-run", "--db", workspace / "r.db")


@_settings()
@given(values=st.lists(text_values, min_size=4, max_size=4))
def test_fuzz_import_field_values(workspace, values):
    row = {"manufacturer": values[0], "serial": values[1], "event": values[2]}
    row |= {"event_date": values[3], "notes": values[0] + values[1]}
    batch = _fresh(
        workspace, "values.jsonl", (json.dumps(row) + "\n").encode("utf-8", "surrogatepass")
    )
    _run("import", batch, "--dry-run", "--db", workspace / "r.db")


# --- the registry's typed inputs ------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("registry") / "r.db"
    code, printed = _run("import", SAMPLE, "--db", db)
    assert code == 0, printed
    return db


@_settings()
@given(query=text_values, operator=text_values, purpose=text_values)
def test_fuzz_trace_and_who(registry, query, operator, purpose):
    _run("trace", query or "x", "--db", registry, "--operator", operator or "o",
         "--purpose", purpose or "p", "--json")  # fmt: skip


@_settings()
@given(value=text_values, field=st.sampled_from(["notes", "event_date", "event", "party",
                                                 "party_country", "nonsense"]))  # fmt: skip
def test_fuzz_correct_values(tmp_path_factory, registry, value, field):
    db = tmp_path_factory.mktemp("corr") / "r.db"
    db.write_bytes(registry.read_bytes())
    _run("correct", "1", "--set", f"{field}={value}", "--reason", value or "r", "--db", db)


@_settings()
@given(head=text_values)
def test_fuzz_audit_filters_and_heads(registry, head):
    _run("audit", "verify", "--head", head or "0", "--db", registry)
    _run("audit", "log", "--since", head or "x", "--operator", head or "*", "--db", registry)


REQUEST = (
    b'requesting_state = "FR"\nrequest_date = 2024-05-01\n'
    b'[circumstances]\nplace = "Lyon"\n[weapon]\ntype = "pistol"\nobliterated = true\n'
)
REQUEST_JSON = json.dumps(
    {"requesting_state": "FR", "circumstances": {"place": "Lyon"}, "weapon": {"type": "pistol"}}
).encode()


@_settings()
@given(data=st.one_of(mutated(REQUEST), mutated(REQUEST_JSON)))
def test_fuzz_tracing_request(workspace, registry, data):
    request = _fresh(workspace, "request.toml", data)
    _run("trace", "58B200917", "--db", registry, "--request", request,
         "--tracing-response", workspace / "response.json", "--force")  # fmt: skip


# --- signature bundles --------------------------------------------------------------

BUNDLE = json.dumps(
    {
        "format": "firetrace-refs-bundle",
        "version": 1,
        "signature_version": 1,
        "count": 1,
        "references": [
            {
                "label": "x",
                "geometry_hash": "0" * 64,
                "signature": [0.1] * 139,
                "size": 1.0,
                "faces": 12,
            }
        ],
    }  # fmt: skip
).encode()


@_settings()
@given(data=mutated(BUNDLE))
def test_fuzz_refs_import(workspace, data):
    bundle = _fresh(workspace, "bundle.json", data)
    _run("refs", "import", bundle, "--db", workspace / "refs.db")


# --- scan results read back: report, --resume, hash sets, rules ---------------------

RECORD = json.dumps(
    {
        "path": "evidence/part.stl",
        "sha256": "0" * 64,
        "size": 10,
        "format": "stl",
        "verdict": "high",
        "score": 0.9,
        "findings": [{"rule": "r", "weight": 0.5, "detail": "d"}],
        "bodies": [{"index": 0, "verdict": "high", "score": 0.9, "findings": []}],
    }  # fmt: skip
).encode()
MANIFEST = json.dumps(
    {
        "tool": "firetrace",
        "roots": [{"path": "evidence", "absolute": "/nonexistent"}],
        "counts": {"files": 1},
        "errors": [],
        "refused": [],
        "skipped": [],
    }  # fmt: skip
).encode()


@_settings()
@given(scan=mutated(RECORD + b"\n" + RECORD + b"\n"), manifest=mutated(MANIFEST))
def test_fuzz_report_inputs(workspace, scan, manifest):
    jsonl = _fresh(workspace, "scan.jsonl", scan)
    _fresh(workspace, "scan.manifest.json", manifest)
    _run("report", jsonl, "-o", workspace / "out.html", "--force")


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> Path:
    from test_scan_fixtures import tube_stl

    folder = tmp_path_factory.mktemp("evidence")
    (folder / "part.stl").write_bytes(tube_stl())
    (folder / "notes.txt").write_text("nothing")
    return folder


@_settings()
@given(jsonl=mutated(RECORD + b"\n"), journal=mutated(b'{"unit": "x", "size": 1, "mtime_ns": 1}\n'))
def test_fuzz_scan_resume(workspace, evidence, jsonl, journal):
    out = _fresh(workspace, "resume.jsonl", jsonl)
    _fresh(workspace, "resume.progress.jsonl", journal)
    _run("scan", evidence, "--resume", out, "--workers", "1", "--db", workspace / "none.db")


@_settings()
@given(data=mutated(b"# known\n" + b"a" * 64 + b"  label\n"))
def test_fuzz_scan_hashset(workspace, evidence, data):
    hashset = _fresh(workspace, "hashes.txt", data)
    _run("scan", evidence, "--hashset", hashset, "--workers", "1", "--db", workspace / "none.db")


@_settings()
@given(data=mutated(b"[walk]\nmax_depth = 3\n[bombs]\nmax_ratio = 50\n"))
def test_fuzz_scan_rules(workspace, evidence, data):
    rules = workspace / "rules"
    (rules / "forensics").mkdir(parents=True, exist_ok=True)
    (rules / "forensics" / "scan.toml").write_bytes(data)
    _run("scan", evidence, "--rules", rules, "--workers", "1", "--db", workspace / "none.db")


@_settings()
@given(data=mutated(b'[purpose]\nrequired_for = ["trace"]\npattern = "CASE-[0-9]+"\n'))
def test_fuzz_policy_and_config(workspace, registry, data):
    policy = _fresh(workspace, "policy.toml", data)
    _run("trace", "58B200917", "--db", registry, env={"FIRETRACE_POLICY": str(policy)})
    config = _fresh(workspace, "config.toml", data)
    _run("trace", "58B200917", "--db", registry, env={"FIRETRACE_CONFIG": str(config)})


# --- design files through inspect ----------------------------------------------------


@_settings()
@given(name=st.sampled_from(["a.stl", "b.obj", "c.ply", "d.3mf", "e.gcode", "f.glb", "g.step"]),
       data=st.binary(max_size=600))  # fmt: skip
def test_fuzz_inspect(workspace, name, data):
    design = _fresh(workspace, name, data)
    _run("inspect", design, "--db", workspace / "none.db")


@pytest.mark.slow
def test_fuzz_deep_run():
    """The same tests with many more examples (run by the slow suite)."""
    import subprocess
    import sys

    env = os.environ | {"FIRETRACE_FUZZ_EXAMPLES": "150"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-m",
            "not slow",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert result.returncode == 0, result.stdout[-4000:]
