"""`--hashset` files: plain SHA-256 lists and NSRL-style CSV, and every kind of bad
input giving a one-line error that names the file and line."""

from __future__ import annotations

import hashlib

import pytest

from firetrace.errors import InputError
from firetrace.forensics.hashset import MAX_LINE, load_hashset

SHA = hashlib.sha256(b"known").hexdigest()
MD5 = hashlib.md5(b"known").hexdigest()


def test_plain_list_with_comments_labels_and_blank_lines(tmp_path):
    path = tmp_path / "set.txt"
    path.write_text(f"# seized 2026\n\n{SHA}  lower part v2\n{'b' * 64}\n", encoding="utf-8")
    hashset = load_hashset(path)
    assert len(hashset) == 2
    assert hashset.lookup({"sha256": SHA.upper()}) == "lower part v2"
    assert hashset.lookup({"sha256": "b" * 64}) == "set.txt"  # no label: the file's name


def test_nsrl_csv_with_a_comment_reports_the_real_line(tmp_path):
    path = tmp_path / "nsrl.csv"
    path.write_text(
        '"SHA-1","MD5","FileName"\n# note\n'
        f'"{"a" * 40}","{MD5}","part.stl"\n"{"c" * 40}","xyz","bad.stl"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_hashset(path)
    assert "line 4" in str(caught.value) and "md5" in str(caught.value)


def test_empty_file_is_an_empty_set(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert len(load_hashset(path)) == 0


def test_truncated_digest_names_the_line(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_text(f"{SHA}\n{SHA[:40]}", encoding="utf-8")
    with pytest.raises(InputError, match="cut.txt: line 2"):
        load_hashset(path)


def test_oversized_line_is_refused_without_reading_on(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("SHA-256,FileName\n" + "a" * (MAX_LINE + 10) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="huge.csv: line 2: line longer than"):
        load_hashset(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe" + SHA.encode("utf-16-le"), "not UTF-8"),
        (b'"SHA-256","FileName"\n"' + b"a" * 64 + b'\x00","x"\n', "line 2"),
    ],
)
def test_malicious_or_mis_encoded_content_is_a_clear_error(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason):
        load_hashset(path)


def test_a_folder_is_not_a_hash_set(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        load_hashset(tmp_path)
