"""Output files are written whole or not at all."""

from __future__ import annotations

import pytest

from firetrace.atomicfile import atomic_output, atomic_write_text
from firetrace.errors import InputError


def test_new_content_replaces_the_old_only_when_complete(tmp_path):
    target = tmp_path / "manifest.json"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as fh:
            fh.write("half of the new")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]  # no partial left
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_unwritable_destination_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="no-such-folder/out.csv: cannot write"):
        atomic_write_text(tmp_path / "no-such-folder" / "out.csv", "x")


def test_dupes_csv_into_a_missing_folder_is_a_clear_error(run_cli, tmp_path, db_path):
    from firetrace.registry.db import connect

    connect(db_path).close()  # dupes reads a registry; it never creates one
    result = run_cli("dupes", "--csv", tmp_path / "missing" / "groups.csv")
    assert result.exit_code == 2
    assert "groups.csv" in result.stderr and "Traceback" not in result.stderr
