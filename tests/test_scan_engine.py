"""The scan with the real inspection engine, in worker processes: procedural
stand-ins from ``samples/generate.py`` hidden in a folder, a zip and a 7z are all
found and inspected; anything flagged makes the command exit 1 and appears in
the flagged table."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import zipfile

import pytest
from test_scan_fixtures import seven_zip

from firetrace.paths import samples_dir


def _generator():
    path = samples_dir() / "generate.py"
    if not path.is_file():
        pytest.skip("samples/generate.py (the detect area's generator) is not there yet")
    spec = importlib.util.spec_from_file_location("firetrace_sample_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_real_engine_in_workers_over_containers(tmp_path, run_cli):
    generate = _generator()
    made = generate.generate(tmp_path / "made", count=1, seed=3, formats=("stl", "obj", "3mf"))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    members = {}
    for i, path in enumerate(sorted(made)):
        data = path.read_bytes()
        if i % 3 == 0:
            (evidence / f"file{i}{path.suffix}").write_bytes(data)
        elif i % 3 == 1:
            members[f"zipped/file{i}{path.suffix}"] = data
        else:
            (evidence / f"packed{i}.7z").write_bytes(seven_zip({f"file{i}{path.suffix}": data}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    (evidence / "bundle.zip").write_bytes(buf.getvalue())

    out = tmp_path / "scan.jsonl"
    result = run_cli("scan", evidence, "--jsonl", out, "--workers", "2")
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(made)
    assert all(r["verdict"] in ("clear", "review", "high") for r in records), [
        (r["path"], r["error"]) for r in records if r["verdict"] == "error"
    ]
    assert all(r["features"] for r in records)  # the engine measured every one
    flagged = [r for r in records if r["verdict"] in ("review", "high")]
    assert result.exit_code == (1 if flagged else 0)
    table_rows = re.findall(r"│\s+\d\.\d\d │ (?:review|high)", result.stdout)
    assert len(table_rows) == len(flagged)
    manifest = json.loads((tmp_path / "scan.manifest.json").read_text())
    assert manifest["options"]["workers"] == 2
    assert sum(manifest["counts"]["by_verdict"].values()) == len(made)
