"""The STL reader (detect/readers/stl.py) on small made-up triangles: ASCII solids,
their names and every refusal; binary files read from memory, from a file on disk
and from a stream that cannot be mapped; the decimation of large files. Written
from the survivors of a mutation run (issue 17.8); cheap (no mesh library)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from firetrace.detect import readers
from firetrace.detect.readers import stl
from firetrace.errors import InputError

TRIANGLE = [[0.0, 0.0, 1.375], [10.5, 0.0, 2.625], [0.0, 10.25, 3.125]]


def _facets(triangles) -> str:
    return "".join(
        "facet normal 0 0 1\n outer loop\n"
        + "".join(f"  vertex {x} {y} {z}\n" for x, y, z in corners)
        + " endloop\nendfacet\n"
        for corners in triangles
    )


def _ascii(*solids, end=True) -> bytes:
    """An ASCII STL of (name, triangles) solids."""
    text = "".join(
        f"solid {name}\n{_facets(triangles)}" + (f"endsolid {name}\n" if end else "")
        for name, triangles in solids
    )
    return text.encode()


def _read(data: bytes, size: int | None = None):
    return stl.read_stl(io.BytesIO(data), len(data) if size is None else size, "x.stl")


def _shifted(offset: float, count: int = 1):
    return [[[x + offset + i, y, z] for x, y, z in TRIANGLE] for i in range(count)]


def test_each_ascii_solid_is_a_named_body():
    design = _read(_ascii(("left", _shifted(0, 2)), ("right", _shifted(100))))
    assert design.format == "stl" and design.metadata["encoding"] == "ascii"
    assert [(b.name, b.kind, len(b.faces)) for b in design.bodies] == [
        ("left", "solid", 2),
        ("right", "solid", 1),
    ]
    assert design.names == ["left", "right"] and design.warnings == []
    assert sorted(design.bodies[1].vertices[:, 0].tolist()) == [100.0, 100.0, 110.5]


def test_facets_after_the_last_endsolid_are_an_unnamed_body():
    data = _ascii(("only", _shifted(0))) + _facets(_shifted(50)).encode()
    design = _read(data)
    assert [b.name for b in design.bodies] == ["only", None]
    assert [len(b.faces) for b in design.bodies] == [1, 1]


def test_a_missing_or_distant_endsolid_is_a_warning():
    assert _read(_ascii(("a", _shifted(0)), end=False)).warnings == [
        "no closing 'endsolid' (truncated?)"
    ]
    upper = _ascii(("a", _shifted(0))).replace(b"endsolid", b"ENDSOLID")
    assert _read(upper).warnings == []
    long_solid = _ascii(("a", _shifted(0, 80)))  # longer than the 4,096-byte tail
    assert len(long_solid) > 8192 and _read(long_solid).warnings == []
    padded = _ascii(("a", _shifted(0))) + b" " * 5000  # endsolid not near the end
    assert _read(padded).warnings == ["no closing 'endsolid' (truncated?)"]


def test_chunked_ascii_reading_gives_the_same_solids(monkeypatch):
    data = _ascii(("left", _shifted(0.125, 5)), ("right", _shifted(7.75, 4)))
    whole = _read(data)
    monkeypatch.setattr(stl, "ASCII_CHUNK", 61)
    chunked = _read(data)
    assert [b.name for b in chunked.bodies] == ["left", "right"]
    for a, b in zip(whole.bodies, chunked.bodies, strict=True):
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"solid empty\nendsolid empty\n", "ASCII STL without any vertex"),
        (
            _ascii(("a", _shifted(0))).replace(b"endloop", b"vertex 1 1 1\nendloop", 1),
            "ASCII STL: 4 vertices is not a multiple of three (truncated?)",
        ),
        (
            _ascii(("a", [[*TRIANGLE, [1, 1, 1]]]), ("b", [TRIANGLE[:2]])),
            "ASCII STL: solid 1 has a facet without 3 vertices",
        ),
        (
            _ascii(("a", [TRIANGLE]), ("b", [[*TRIANGLE, [1, 1, 1]]]), ("c", [TRIANGLE[:2]])),
            "ASCII STL: solid 2 has a facet without 3 vertices",
        ),
    ],
)
def test_ascii_files_without_whole_facets_are_refused(data, message):
    with pytest.raises(InputError) as caught:
        _read(data)
    assert str(caught.value) == message


def test_an_ascii_file_over_the_text_limit_is_refused(monkeypatch):
    data = _ascii(("a", _shifted(0)))
    monkeypatch.setattr(readers.LIMITS, "max_text_bytes", len(data))
    assert _read(data).has_mesh  # at the limit: read
    monkeypatch.setattr(readers.LIMITS, "max_text_bytes", len(data) - 1)
    with pytest.raises(InputError) as caught:
        _read(data)
    assert str(caught.value) == (
        f"ASCII STL of {len(data):,} bytes exceeds the {len(data) - 1:,} limit"
    )


def test_ascii_geometry_over_the_limit_keeps_the_names_only(monkeypatch):
    data = _ascii(("part", _shifted(0, 3)))
    monkeypatch.setattr(readers.LIMITS, "max_geometry_triangles", 3)
    assert len(_read(data).faces) == 3  # at the limit: read
    monkeypatch.setattr(readers.LIMITS, "max_geometry_triangles", 2)
    design = _read(data)
    assert not design.has_mesh and design.names == ["part"]
    assert design.metadata["triangles"] == 3
    assert design.warnings[0].startswith("geometry not analysed: 3 triangles exceeds the 2 ")


def test_solid_names_that_are_not_utf8_are_kept_replaced_and_at_most_fifty():
    data = _ascii(("caf\xe9", _shifted(0))).replace("caf\xe9".encode(), b"caf\xe9")
    assert _read(data).names == ["caf\ufffd"]
    many = _ascii(*[(f"s{i}", _shifted(i)) for i in range(52)])
    design = _read(many)
    assert design.names == [f"s{i}" for i in range(50)] and len(design.bodies) == 52


# --- binary -------------------------------------------------------------------------


def _binary(triangles, header: bytes = b"made up", trailing: bytes = b"") -> bytes:
    body = b"".join(
        struct.pack("<3f", 0, 0, 1) + np.asarray(t, dtype="<f4").tobytes() + b"\0\0"
        for t in triangles
    )
    return header.ljust(80, b"\0") + struct.pack("<I", len(triangles)) + body + trailing


def _grid(n: int):
    """A flat sheet of 2 n^2 triangles with fractional corners."""
    tris = []
    for i in range(n):
        for j in range(n):
            a, b = [i * 1.5, j * 1.25, 0.0], [(i + 1) * 1.5, j * 1.25, 0.0]
            c, d = [i * 1.5, (j + 1) * 1.25, 0.0], [(i + 1) * 1.5, (j + 1) * 1.25, 0.5 * i]
            tris += [[a, b, c], [b, d, c]]
    return tris


class _Unmappable(io.RawIOBase):
    """A stream with no file behind it (an archive member): read in chunks."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return self._data.seek(offset, whence)

    def readinto(self, buffer):
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _decimating(monkeypatch):
    monkeypatch.setattr(stl, "DECIMATE_ABOVE", 100)
    monkeypatch.setattr(stl, "DECIMATE_CHUNK", 37)  # chunk edges inside the data
    monkeypatch.setattr(stl, "DECIMATE_TARGET_VERTICES", 40)


def test_a_decimated_file_reads_alike_from_memory_disk_and_an_unmappable_stream(
    tmp_path, monkeypatch
):
    _decimating(monkeypatch)
    tris = _grid(12)  # 288 triangles
    data = _binary(tris, trailing=b"\1" * 50)  # one record's worth past the count
    from_memory = _read(data)
    path = tmp_path / "sheet.stl"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        from_disk = stl.read_stl(fh, len(data), "sheet.stl")
    from_stream = stl.read_stl(io.BufferedReader(_Unmappable(data)), len(data), "sheet.stl")
    info = from_memory.metadata["decimated"]
    assert info["from_triangles"] == 288 and 0 < info["to_triangles"] < 288
    corners = np.asarray(tris, dtype=np.float64).reshape(-1, 3)
    longest = float(np.ptp(corners, axis=0).max())
    # the area sizing the cells: every 16th triangle of each chunk, times 16
    sample = np.concatenate(
        [np.asarray(tris[i : i + 37], dtype=np.float32)[::16] for i in range(0, 288, 37)]
    ).astype(np.float64)
    cross = np.cross(sample[:, 1] - sample[:, 0], sample[:, 2] - sample[:, 0])
    area = 16 * float(np.linalg.norm(cross, axis=1).sum() / 2)
    assert info["cell"] == round(max(longest / stl.DECIMATE_CELLS_ALONG, (area / 40) ** 0.5), 6)
    for other in (from_disk, from_stream):
        assert other.metadata == from_memory.metadata
        assert np.array_equal(other.vertices, from_memory.vertices)
        assert np.array_equal(other.faces, from_memory.faces)
    assert from_memory.warnings == [
        f"288 triangles decimated to {info['to_triangles']:,} by vertex clustering "
        f"(cells of {info['cell']:.3g} file units) before analysis",
        "50 trailing bytes after the last triangle",
    ]
    assert from_memory.bodies[0].kind == "solid"
    extent = np.ptp(corners, axis=0)  # vertices at the mean of their cell: within a cell
    assert np.ptp(from_memory.vertices, axis=0) == pytest.approx(extent, abs=info["cell"])


def test_the_sorted_cluster_keys_give_the_dense_table_s_answer(monkeypatch):
    _decimating(monkeypatch)
    data = _binary(_grid(12))
    dense = _read(data)
    monkeypatch.setattr(stl, "DENSE_CELLS", 0)
    assert np.array_equal(_read(data).faces, dense.faces)
    keys = np.array([9, 3, 9, 0, 3], dtype=np.int64)
    for cells in (10, stl.DENSE_CELLS + 1):
        unique, inverse = stl._cluster_keys(keys, cells)
        assert unique.tolist() == [0, 3, 9] and inverse.tolist() == [2, 1, 2, 0, 1]


def test_a_stream_that_ends_before_its_triangles_is_truncated(monkeypatch):
    _decimating(monkeypatch)
    data = _binary(_grid(12))
    short = io.BufferedReader(_Unmappable(data[:-500]))
    with pytest.raises(InputError, match="^truncated while reading triangles$"):
        stl.read_stl(short, len(data), "x.stl")


@pytest.mark.parametrize(
    ("corner", "message"),
    [
        ([np.nan, 0, 0], "vertices with NaN or infinite coordinates"),
        ([np.inf, 0, 0], "vertices with NaN or infinite coordinates"),
    ],
)
def test_decimation_refuses_coordinates_that_are_not_numbers(monkeypatch, corner, message):
    _decimating(monkeypatch)
    tris = _grid(12)
    tris[5] = [corner, tris[5][1], tris[5][2]]
    with pytest.raises(InputError, match=f"^{message}$"):
        _read(_binary(tris))


def test_decimation_refuses_a_mesh_whose_corners_all_coincide(monkeypatch):
    _decimating(monkeypatch)
    with pytest.raises(InputError, match=r"^degenerate mesh \(all corners coincide\)$"):
        _read(_binary([[[1, 2, 3]] * 3] * 150))


@pytest.mark.parametrize("n_vertices", [10, 3_000_000])
def test_triangles_repeated_in_any_order_are_all_dropped(n_vertices):
    faces = np.array([[0, 1, 2], [2, 1, 0], [3, 4, 5], [1, 2, 3], [5, 3, 4]], dtype=np.int64)
    assert stl._without_repeats(faces, n_vertices).tolist() == [[1, 2, 3]]
    assert stl._without_repeats(faces[:0], n_vertices).shape == (0, 3)


def test_a_small_binary_file_is_one_solid_with_its_header_and_no_warning():
    data = _binary(_shifted(0, 2), header=b"Part 7\x01\x02x\0junk after the NUL")
    design = _read(data)
    assert design.format == "stl" and design.metadata["encoding"] == "binary"
    assert design.metadata["header"] == "Part 7  x" and design.names == ["Part 7  x"]
    assert [(b.kind, len(b.faces)) for b in design.bodies] == [("solid", 2)]
    assert design.warnings == [] and "decimated" not in design.metadata
    latin = _read(_binary(_shifted(0), header=b"caf\xe9 \xff"))
    assert latin.metadata["header"] == "caf\xe9 \xff"
    # the header is the first 80 bytes only, never the count after it
    assert _read(_binary(_shifted(0), header=b"A" * 80)).metadata["header"] == "A" * 80
    assert "header" not in _read(_binary(_shifted(0), header=b"\0" * 80)).metadata


def test_exactly_decimate_above_triangles_are_read_whole(monkeypatch):
    monkeypatch.setattr(stl, "DECIMATE_ABOVE", 288)
    assert "decimated" not in _read(_binary(_grid(12))).metadata
    monkeypatch.setattr(stl, "DECIMATE_ABOVE", 287)
    assert _read(_binary(_grid(12))).metadata["decimated"]["from_triangles"] == 288


@pytest.mark.parametrize(
    ("count", "size", "message"),
    [
        (0, 84, "binary STL with zero triangles"),
        (3, 84 + 100, "truncated: header claims 3 triangles (234 bytes), file has 184 bytes"),
        (
            5,
            84 + 100,
            "binary STL header claims 5 triangles (334 bytes) but the file has 184 bytes; "
            "refusing (limit 4)",
        ),
    ],
)
def test_binary_counts_that_do_not_fit_are_refused(monkeypatch, count, size, message):
    monkeypatch.setattr(readers.LIMITS, "max_triangles", 4)
    data = (b"\0" * 80 + struct.pack("<I", count)).ljust(size, b"\0")
    with pytest.raises(InputError) as caught:
        _read(data)
    assert str(caught.value) == message


def test_binary_files_at_and_over_the_triangle_limit(monkeypatch):
    monkeypatch.setattr(readers.LIMITS, "max_triangles", 3)
    assert len(_read(_binary(_shifted(0, 3))).faces) == 3  # at the limit: read
    over = _read(_binary(_shifted(0, 4), header=b"big part"))
    assert not over.has_mesh and over.names == ["big part"] and over.format == "stl"
    assert over.warnings[0].startswith("geometry not analysed: 4 triangles exceeds the 3 limit")


def test_a_file_is_recognised_as_stl_by_its_count_or_its_solid_and_facets():
    from firetrace.detect.sniff import make_head

    data = _binary(_shifted(0, 2))
    assert stl.looks_like_stl(make_head(data[:512], len(data)))
    assert not stl.looks_like_stl(make_head(data[:512], len(data) + 1))
    assert not stl.looks_like_stl(make_head(data[:83], 83))
    assert not stl.looks_like_stl(make_head(data[:83], 10_000))  # a head cut short
    assert stl.looks_like_stl(make_head(b"solid x\nendsolid x\n", 19))
    assert stl.looks_like_stl(make_head(b"solid x\nfacet normal 0 0 1\n", 27))
    assert not stl.looks_like_stl(make_head(b"solid x\nnothing else here\n", 26))
    exactly = _binary(_shifted(0, 0))
    assert stl.looks_like_stl(make_head(exactly, 84))  # 84 bytes, zero triangles


def test_triangle_keys_do_not_collide_for_distinct_triangles():
    faces = np.array([[0, 2, 5], [1, 2, 4], [1, 2, 5], [0, 3, 5]], dtype=np.int64)
    for n_vertices in (10, 3_000_000):
        assert stl._without_repeats(faces, n_vertices).tolist() == faces.tolist()


def test_minus_zero_and_zero_are_one_vertex():
    tris = [[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
            [[-0.0, 0.0, -0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]  # fmt: skip
    vertices, faces = stl.merge_corners(np.asarray(tris, dtype=np.float32).reshape(-1, 3))
    assert len(vertices) == 4 and faces.shape == (2, 3)


@pytest.mark.parametrize("clash", ["none", "short", "full"])
def test_corners_merge_exactly_whatever_their_hashes_clash(monkeypatch, clash):
    """Distinct corners whose shortened hashes clash (same high bits), or whose full
    hashes clash too, still merge by exact equality, as with unclashed hashes."""
    rng = np.random.default_rng(3)
    points = rng.integers(0, 50, size=(40, 3)).astype(np.float32)
    corners = points[rng.integers(0, 40, size=300)]
    distinct = {tuple(p) for p in corners.tolist()}
    if clash == "short":  # distinct, but all below the index bits: the high parts clash

        def numbered(c):
            records = np.ascontiguousarray(c).view(np.dtype((np.void, 12))).ravel()
            return np.unique(records, return_inverse=True)[1].astype(np.uint64)

        monkeypatch.setattr(stl, "_corner_hash", numbered)
    elif clash == "full":
        monkeypatch.setattr(stl, "_corner_hash", lambda c: np.zeros(len(c), np.uint64))
    vertices, faces = stl.merge_corners(corners)
    assert len(vertices) == len(distinct)
    assert {tuple(v) for v in vertices.tolist()} == distinct
    assert np.array_equal(vertices[faces].reshape(-1, 3), corners.astype(np.float64))


def test_the_record_layout_is_built_on_first_use(monkeypatch):
    monkeypatch.setattr(stl, "_RECORD", None)
    design = _read(_binary(_shifted(0, 2)))
    assert len(design.faces) == 2 and stl._RECORD.itemsize == 50


def test_the_header_stops_before_the_count_even_when_it_is_printable():
    data = _binary(_shifted(0, 65), header=b"A" * 80)  # count 65 is the byte "A"
    assert _read(data).metadata["header"] == "A" * 80


@pytest.mark.parametrize("scale", [1.0, 0.01, -3.0])
def test_each_decimated_vertex_is_the_mean_of_the_corners_in_its_cell(monkeypatch, scale):
    """The clustering written out again: corners snapped to a grid of the reported
    cell size from the box's low corner, one vertex per occupied cell at the mean
    of its corners, faces renumbered, collapsed and repeated triangles dropped."""
    _decimating(monkeypatch)
    tris = np.asarray(_grid(12), dtype=np.float32) * np.float32(scale) + np.float32(7.0)
    design = _read(_binary(tris.tolist()))
    cell = design.metadata["decimated"]["cell"]
    corners = tris.reshape(-1, 3)
    low, high = corners.min(axis=0), corners.max(axis=0)
    cells = np.floor((high - low) / cell).astype(np.int64) + 1
    index = np.minimum(((corners - low) * np.float32(1 / cell)).astype(np.int64), cells - 1)
    key = (index[:, 0] * cells[1] + index[:, 1]) * cells[2] + index[:, 2]
    unique, inverse = np.unique(key, return_inverse=True)
    means = np.array([corners[inverse == i].astype(np.float64).mean(axis=0)
                      for i in range(len(unique))])  # fmt: skip
    assert design.vertices == pytest.approx(means, rel=1e-4, abs=1e-3 * abs(scale))
    faces = inverse.reshape(-1, 3)
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2])
                  & (faces[:, 0] != faces[:, 2])]  # fmt: skip
    kept = {tuple(sorted(f)) for f in faces.tolist()}
    counts = {k: sum(1 for f in faces.tolist() if tuple(sorted(f)) == k) for k in kept}
    expected = sorted(tuple(f) for f in faces.tolist() if counts[tuple(sorted(f))] == 1)
    assert sorted(tuple(f) for f in design.faces.tolist()) == expected
    assert (design.vertices.min(axis=0) >= low - 1e-3).all()
    assert (design.vertices.max(axis=0) <= high + 1e-3).all()


def test_solid_must_end_within_the_84_byte_head_white_space_included():
    data = _ascii(("part", _shifted(0)))
    for blanks in (0, 3, 79):
        design = _read(b" " * blanks + data)
        assert [(b.name, len(b.faces)) for b in design.bodies] == [("part", 1)], blanks
    # 80 blanks leave "soli" in the head: a binary file, whose count is those four bytes
    padded = b" " * 80 + data
    count = struct.unpack("<I", b"soli")[0]
    with pytest.raises(InputError) as caught:
        _read(padded)
    assert str(caught.value) == (
        f"binary STL header claims {count:,} triangles ({84 + 50 * count:,} bytes) but the file "
        f"has {len(padded):,} bytes; refusing (limit {readers.LIMITS.max_triangles:,})"
    )


def test_the_triangle_count_is_read_unsigned_and_short_files_are_refused():
    data = b"\0" * 80 + b"\xff\xff\xff\xff" + b"\0" * 50
    with pytest.raises(InputError) as caught:
        _read(data)
    assert str(caught.value).startswith("binary STL header claims 4,294,967,295 triangles (")
    with pytest.raises(InputError) as caught:
        _read(b"\0" * 83)
    assert str(caught.value) == "truncated: 83 bytes is shorter than a binary STL header (84)"
