"""Readers: one module per design-file format, each registering a function that
turns a seekable binary stream into a :class:`Design` (geometry if the format has
any, plus the names and metadata that are evidence in themselves).

Adding a format touches one new module here and its test. Every reader raises
:class:`firetrace.errors.InputError` with a one-line reason for input it cannot
read; :func:`read_design` also turns unexpected parser failures into that error so
callers never see a traceback for a bad file. Sizes claimed by a file are checked
against :data:`LIMITS` before anything is allocated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from firetrace.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import trimesh


@dataclass
class Limits:
    """Ceilings that keep a hostile file from exhausting memory."""

    max_triangles: int = 20_000_000  # a claim beyond this is absurd: error record
    # beyond this the mesh is not loaded (names and metadata still are), which keeps
    # one inspection under about 1 GB of memory
    max_geometry_triangles: int = 2_000_000
    max_text_bytes: int = 400_000_000
    max_zip_member_bytes: int = 400_000_000
    max_zip_ratio: int = 200


LIMITS = Limits()


@dataclass
class Design:
    """What a reader found in one file."""

    format: str
    vertices: np.ndarray | None = None  # (n, 3) float64
    faces: np.ndarray | None = None  # (m, 3) int64
    names: list[str] = field(default_factory=list)  # object/part names, header text: evidence
    units: str | None = None  # declared by the file (3MF, AMF, STEP, IGES, G-code)
    metadata: dict[str, Any] = field(default_factory=dict)
    toolpath: dict[str, Any] | None = None  # G-code: extents, layers
    warnings: list[str] = field(default_factory=list)

    @property
    def has_mesh(self) -> bool:
        return self.vertices is not None and self.faces is not None and len(self.faces) > 0

    def to_trimesh(self) -> trimesh.Trimesh:
        """The geometry as a Trimesh (no processing beyond what the reader did)."""
        import trimesh

        if not self.has_mesh:
            if self.metadata.get("triangles"):
                raise InputError(
                    f"{self.format} mesh of {self.metadata['triangles']:,} triangles is over "
                    f"the {LIMITS.max_geometry_triangles:,} limit; not loaded"
                )
            raise InputError(f"{self.format} file holds no triangle mesh")
        return trimesh.Trimesh(vertices=self.vertices, faces=self.faces, process=False)


Reader = Callable[[BinaryIO, int, str | None], Design]
_READERS: dict[str, Reader] = {}


def register(*formats: str) -> Callable[[Reader], Reader]:
    """Decorator: register a reader for one or more format names."""

    def wrap(func: Reader) -> Reader:
        for fmt in formats:
            _READERS[fmt] = func
        return func

    return wrap


def _load_all() -> None:
    if _READERS:
        return
    from firetrace.detect.readers import (  # noqa: F401  (import registers)
        gcode,
        header,
        stl,
        trimesh_formats,
        xml_formats,
    )


def supported_formats() -> list[str]:
    _load_all()
    return sorted(_READERS)


def stream_size(fh: BinaryIO) -> int:
    pos = fh.tell()
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(pos)
    return size


def read_design(fh: BinaryIO, fmt: str, name: str | None = None, size: int | None = None) -> Design:
    """Read one design file of a known format; InputError with a reason if it cannot."""
    _load_all()
    reader = _READERS.get(fmt)
    if reader is None:
        raise InputError(f"unsupported format '{fmt}'")
    if size is None:
        size = stream_size(fh)
    if size == 0:
        raise InputError("empty file")
    fh.seek(0)
    try:
        design = reader(fh, size, name)
    except InputError:
        raise
    except MemoryError as exc:
        raise InputError(f"{fmt}: too large to load in memory") from exc
    except RecursionError as exc:
        raise InputError(f"{fmt}: structure nested too deeply") from exc
    except Exception as exc:  # parser libraries raise anything on hostile input
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(f"{fmt}: cannot parse ({message})") from exc
    if design.has_mesh:
        check_geometry(design)
    return design


def geometry_skipped(design: Design, triangles: int) -> Design:
    """Mark a design whose mesh is too large to load; its words are still evidence."""
    design.metadata["triangles"] = triangles
    design.warnings.append(
        f"geometry not analysed: {triangles:,} triangles exceeds the "
        f"{LIMITS.max_geometry_triangles:,} limit (names and metadata only)"
    )
    return design


def check_geometry(design: Design) -> None:
    """Refuse geometry no measurement can be made on; warn about defects."""
    import numpy as np

    vertices, faces = design.vertices, design.faces
    if len(vertices) == 0:
        raise InputError(f"{design.format}: faces but no vertices")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise InputError(f"{design.format}: face refers to a vertex that does not exist")
    finite = np.isfinite(vertices).all(axis=1)
    if not finite.all():
        bad = int((~finite).sum())
        raise InputError(f"{design.format}: {bad} vertices have NaN or infinite coordinates")
    if np.abs(vertices).max() > 1e9:
        raise InputError(f"{design.format}: coordinates beyond 1e9 units")
    # triangles that repeat a corner are lines or points; zero-area triangles with
    # three distinct corners are caught where areas are computed anyway (features)
    distinct = (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    )
    if not distinct.any():
        raise InputError(
            f"{design.format}: degenerate mesh (all {len(faces)} triangles have zero area)"
        )
    if not distinct.all():
        design.warnings.append(
            f"{int((~distinct).sum())} of {len(faces)} triangles are degenerate "
            "(repeated corner); ignored"
        )
        design.faces = faces[distinct]


def load_design(fh: BinaryIO, fmt: str | None = None, name: str | None = None) -> Design:
    """Sniff (unless *fmt* is given) and read a design file from a stream."""
    from firetrace.detect.sniff import sniff_format

    size = stream_size(fh)
    if fmt is None:
        fmt = sniff_format(fh, size, name)
        if fmt is None:
            raise InputError("not a recognised design file")
    return read_design(fh, fmt, name, size)


def load_mesh(fh: BinaryIO, fmt: str | None = None, name: str | None = None) -> trimesh.Trimesh:
    """Geometry of a design file as a ``trimesh.Trimesh`` (vertices merged).

    *fmt* is one of :data:`firetrace.detect.sniff.FORMATS`, or None to sniff the
    content. Raises :class:`InputError` for unreadable files and for formats that
    carry no mesh (STEP, IGES and G-code are read for their headers only).
    """
    design = load_design(fh, fmt, name)
    return design.to_trimesh()
