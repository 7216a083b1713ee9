"""Evidence handling: a scan (serial and parallel) and a re-read through
``read_evidence`` leave every evidence file's content, size and mtime unchanged,
and its atime too where the platform honours ``O_NOATIME``; nothing is created
next to the evidence."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from test_scan_fixtures import block_stl, scan_folder, seven_zip, tube_stl, zip_bytes

from firetrace.forensics.evidence import read_evidence
from firetrace.forensics.readonly import open_readonly

TWO_DAYS = 2 * 86400


def _snapshot(root: Path) -> dict[str, tuple]:
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open_readonly(path) as fh:  # the snapshot itself must not touch atime
                    digest = hashlib.sha256(fh.read()).hexdigest()
            state[path] = (digest, st.st_size, st.st_mtime_ns, st.st_atime_ns, st.st_mode)
    return state


def _age(root: Path) -> None:
    """Put every atime two days back, so a plain read would update it even under relatime."""
    old = time.time() - TWO_DAYS
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            st = os.stat(path)
            os.utime(path, ns=(int(old * 1e9), st.st_mtime_ns))


def _platform_updates_atime(tmp_path: Path) -> bool:
    control = tmp_path / "control.bin"
    control.write_bytes(b"x" * 4096)
    os.utime(control, ns=(int((time.time() - TWO_DAYS) * 1e9), control.stat().st_mtime_ns))
    before = control.stat().st_atime_ns
    with open(control, "rb") as fh:
        fh.read()
    return control.stat().st_atime_ns != before


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_leaves_evidence_unchanged(tmp_path, workers):
    evidence = tmp_path / "evidence"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "part.stl").write_bytes(tube_stl())
    (evidence / "sub" / "holiday.jpg").write_bytes(block_stl())
    (evidence / "sub" / "nest.zip").write_bytes(
        zip_bytes({"x/inner.7z": seven_zip({"y/p.stl": tube_stl(length=50)})})
    )
    (evidence / "sub" / "notes.txt").write_text("meeting at noon\n")
    _age(evidence)
    before = _snapshot(evidence)
    # Where reads never update atime (noatime mounts), the atime check proves nothing.
    atime_matters = _platform_updates_atime(tmp_path)

    _, records = scan_folder(evidence, tmp_path, workers=workers)
    assert len(records) == 3
    for record in records:
        assert hashlib.sha256(read_evidence(record["path"])).hexdigest() == record["sha256"]

    after = _snapshot(evidence)
    assert set(after) == set(before), "nothing may be created or removed in the evidence"
    for path, (digest, size, mtime, atime, mode) in before.items():
        digest2, size2, mtime2, atime2, mode2 = after[path]
        assert (digest2, size2, mtime2, mode2) == (digest, size, mtime, mode), path
        if atime_matters and digest is not None:
            assert atime2 == atime, f"atime changed on {path}"


def test_open_readonly_refuses_writes_and_special_files(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"abc")
    with open_readonly(target) as fh:
        assert fh.read() == b"abc"
        with pytest.raises(OSError):
            fh.write(b"x")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match="not a regular file"):
        open_readonly(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(OSError):
        open_readonly(tmp_path / "link")


def test_read_evidence_names_the_missing_layer(tmp_path):
    from firetrace.errors import InputError

    archive = tmp_path / "a.zip"
    archive.write_bytes(zip_bytes({"in/p.stl": tube_stl()}))
    assert read_evidence(f"{archive}!/in/p.stl") == tube_stl()
    with pytest.raises(InputError, match=r"a\.zip!/in/q\.stl: member not found"):
        read_evidence(f"{archive}!/in/q.stl")
    with pytest.raises(InputError, match="evidence file not found"):
        read_evidence(f"{tmp_path}/nope.zip!/p.stl")
    with pytest.raises(InputError, match="holds no members"):
        (tmp_path / "plain.txt").write_text("hi")
        read_evidence(f"{tmp_path}/plain.txt!/x")


def test_folder_named_with_bang_is_resolved(tmp_path):
    odd = tmp_path / "case!"
    odd.mkdir()
    (odd / "a.stl").write_bytes(tube_stl())
    assert read_evidence(f"{odd}/a.stl") == tube_stl()
