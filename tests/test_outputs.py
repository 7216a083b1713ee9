"""The one output-path guard: registry files, inputs, special files, the same
path twice and existing files are refused before anything is written."""

from __future__ import annotations

import os

import pytest

from firetrace.errors import UsageError
from firetrace.outputs import guard_output, guard_outputs, registry_files


def test_every_registry_file_is_refused_under_any_name(tmp_path):
    db = tmp_path / "registry.db"
    db.write_bytes(b"SQLite format 3\x00")
    (tmp_path / "sub").mkdir()
    os.symlink(db, tmp_path / "alias.db")
    os.link(db, tmp_path / "hardlink.db")
    names = [*registry_files(db), tmp_path / "sub" / ".." / "registry.db"]
    names += [tmp_path / "alias.db", tmp_path / "hardlink.db"]
    for name in names:
        with pytest.raises(UsageError, match="part of the registry"):
            guard_output("--csv", name, registry=db, force=True)
    assert db.read_bytes() == b"SQLite format 3\x00"


def test_an_input_of_the_same_command_is_refused(tmp_path):
    batch = tmp_path / "batch.csv"
    batch.write_text("x\n")
    with pytest.raises(UsageError, match="is an input of this command"):
        guard_output("--errors", batch, inputs=[batch], force=True)


def test_special_files_and_folders_are_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, message in (
        (fifo, "special file"),
        ("/dev/null", "special file"),
        (tmp_path, "is a folder"),
    ):
        with pytest.raises(UsageError, match=message):
            guard_output("--csv", path, force=True)


def test_the_same_file_twice_is_refused(tmp_path):
    out = tmp_path / "out.csv"
    with pytest.raises(UsageError, match="also given as --jsonl"):
        guard_outputs({"--jsonl": out, "--csv": tmp_path / "." / "out.csv"})


def test_an_existing_output_needs_force_unless_it_is_continued(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("keep")
    with pytest.raises(UsageError, match="already exists .*--force"):
        guard_output("--csv", out)
    assert guard_output("--csv", out, force=True) == out
    assert guard_outputs({"--jsonl": out}, may_exist=["--jsonl"]) == {"--jsonl": out}
    assert out.read_text() == "keep"
    assert guard_outputs({"--csv": None}) == {}
