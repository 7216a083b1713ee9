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


def test_every_column_name_an_nsrl_style_header_may_use(tmp_path):
    """Each header alias, in any case, quoted or padded, after a byte-order mark."""
    sha1 = hashlib.sha1(b"known").hexdigest()
    for sha256_name, sha1_name, label_name in (
        ("sha256", "sha1", "filename"),
        ("SHA-256", "SHA-1", "file_name"),
        ("Sha256", ' "Sha1" ', "Name"),
        ("sha-256", "sha-1", "label"),
    ):
        path = tmp_path / "aliases.csv"
        path.write_text(
            f"{sha256_name},{sha1_name},{label_name}\n{SHA.upper()}, {sha1} , part v1 \n",
            encoding="utf-8-sig",
        )
        hashset = load_hashset(path)
        assert len(hashset) == 2, sha256_name
        assert hashset.lookup({"sha256": SHA}) == "part v1"
        assert hashset.lookup({"sha1": sha1.upper()}) == "part v1"
        assert hashset.lookup({"md5": MD5}) is None


def test_a_csv_label_falls_back_to_the_product_then_the_file_name(tmp_path):
    path = tmp_path / "nsrl.csv"
    path.write_text(
        '"MD5","ProductName","FileName"\n'
        f'"{MD5}","Widget Suite",""\n'
        f'"{"e" * 32}","",""\n'
        f'"{"f" * 32}","Widget Suite","f.stl"\n',
        encoding="utf-8",
    )
    hashset = load_hashset(path)
    assert hashset.lookup({"md5": MD5}) == "Widget Suite"
    assert hashset.lookup({"md5": "e" * 32}) == "nsrl.csv"
    assert hashset.lookup({"md5": "F" * 32}) == "f.stl"


def test_a_blank_digest_in_a_csv_row_is_skipped_and_a_short_row_is_read(tmp_path):
    """NSRL rows may leave a hash column empty; a row shorter than the header keeps
    the columns it has."""
    path = tmp_path / "gaps.csv"
    path.write_text(f"SHA-256,MD5,FileName\n,{MD5},a.stl\n{SHA}\n", encoding="utf-8")
    hashset = load_hashset(path)
    assert len(hashset) == 2
    assert hashset.entries["sha256"] == {SHA: "gaps.csv"}
    assert hashset.entries["md5"] == {MD5: "a.stl"}


def test_a_csv_digest_of_the_wrong_width_names_its_column(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(f"SHA-1,FileName\n{'a' * 41},x\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_hashset(path)
    assert caught.value.field == "sha1" and str(caught.value).endswith("not a sha1 digest")
    path.write_text(f"SHA-1,FileName\n{'a' * 39}z,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: sha1: not a sha1 digest"):
        load_hashset(path)


def test_the_first_matching_hash_decides_sha256_before_sha1_before_md5(tmp_path):
    sha1 = hashlib.sha1(b"known").hexdigest()
    path = tmp_path / "three.csv"
    path.write_text(f"SHA-256,FileName\n{SHA},by sha256\n", encoding="utf-8")
    by_sha256 = load_hashset(path)
    path.write_text(f"SHA-1,MD5,FileName\n{sha1},,by sha1\n,{MD5},by md5\n", encoding="utf-8")
    by_others = load_hashset(path)
    by_sha256.entries["sha1"].update(by_others.entries["sha1"])
    by_sha256.entries["md5"].update(by_others.entries["md5"])
    record = {"sha256": SHA, "sha1": sha1, "md5": MD5}
    assert by_sha256.lookup(record) == "by sha256"
    assert by_sha256.lookup({**record, "sha256": None}) == "by sha1"
    assert by_sha256.lookup({"sha1": "", "md5": MD5.upper()}) == "by md5"


def test_a_line_of_exactly_the_longest_length_is_read(tmp_path):
    """The limit counts the line with its newline: ``MAX_LINE`` characters pass."""
    path = tmp_path / "long.txt"
    path.write_text(f"{SHA} {'x' * (MAX_LINE - 66)}\n", encoding="utf-8")
    assert load_hashset(path).lookup({"sha256": SHA}) == "x" * (MAX_LINE - 66)
    path.write_text(f"{SHA}\n{SHA} {'x' * (MAX_LINE - 65)}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_hashset(path)
    assert str(caught.value) == f"{path}: line 2: line longer than {MAX_LINE} characters"


def test_a_plain_list_splits_the_label_at_the_first_comma_or_space_only(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text(f'{SHA},"left, lower part"\n{"d" * 64} , spaced  label \n', encoding="utf-8")
    hashset = load_hashset(path)
    assert hashset.lookup({"sha256": SHA}) == "left, lower part"
    assert hashset.lookup({"sha256": "d" * 64}) == "spaced  label"


def test_a_crlf_line_counts_both_line_end_characters_against_the_limit(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(f"{SHA} {'x' * (MAX_LINE - 67)}\r\n".encode())  # MAX_LINE with CR LF
    assert len(load_hashset(path)) == 1
    path.write_bytes(f"{SHA} {'x' * (MAX_LINE - 66)}\r\n".encode())
    with pytest.raises(InputError, match="line 1: line longer than"):
        load_hashset(path)


def test_an_x_before_a_digest_or_around_a_label_is_kept(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text(f"X{SHA}\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1: expected a SHA-256"):
        load_hashset(path)
    path.write_text(f"{SHA} Xbox part X\n", encoding="utf-8")
    assert load_hashset(path).lookup({"sha256": SHA}) == "Xbox part X"


def test_a_file_that_vanishes_or_cannot_be_read_after_the_check_is_one_line(tmp_path, monkeypatch):
    """Between the check that the path is a file and the read, it can be removed,
    replaced by a folder or lose its permissions: each is a named one-line error."""
    from firetrace.forensics import hashset as module

    path = tmp_path / "set.txt"
    path.write_text(f"{SHA}\n", encoding="utf-8")
    for error, message in (
        (FileNotFoundError(2, "No such file or directory"), "hash set file not found"),
        (IsADirectoryError(21, "Is a directory"), "is a folder, not a hash set file"),
        (PermissionError(13, "Permission denied"), "Permission denied"),
        (OSError("device went away"), "device went away"),
    ):

        def refuse(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(module, "open", refuse, raising=False)
        with pytest.raises(InputError) as caught:
            load_hashset(path)
        assert str(caught.value) == f"{path}: {message}"
        assert caught.value.path == str(path)


@pytest.mark.parametrize("where", ["header", "row"])
def test_a_csv_field_over_the_csv_module_limit_names_the_line(tmp_path, where):
    import csv

    path = tmp_path / "big.csv"
    if where == "header":
        path.write_text(f"SHA-256,{'n' * 300}\n", encoding="utf-8")
        line = 1
    else:
        path.write_text(f"SHA-256,FileName\n# c\n{SHA},{'n' * 300}\n", encoding="utf-8")
        line = 3
    limit = csv.field_size_limit(100)
    try:
        with pytest.raises(InputError) as caught:
            load_hashset(path)
    finally:
        csv.field_size_limit(limit)
    assert str(caught.value) == (
        f"{path}: line {line}: malformed CSV (field larger than field limit (100))"
    )
