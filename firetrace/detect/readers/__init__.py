"""Readers: one module per design-file format. Each module registers itself with
:func:`register`, declaring the format's name, its file extensions and the byte
signature that recognises it (plaso's way: the sniffer knows nothing about formats,
it asks every registered reader in turn). Adding a format is one new module in
this package plus its test; nothing else is edited (the package imports every
module it holds).

A reader turns a seekable binary stream into a :class:`Design`: the file's
**bodies** (each object, group, node or solid the file names, with its transform
applied; the engine then splits them into connected shells and joins shells that
touch), and the names and metadata that are evidence in themselves. Every reader
raises :class:`firetrace.errors.InputError` with a one-line reason for input it
cannot read; :func:`read_design` also turns unexpected parser failures into that
error, so callers never see a traceback for a bad file. Sizes claimed by a file
are checked against :data:`LIMITS` before anything is allocated; a limit that stops
analysis is recorded with :meth:`Design.limit` and makes the verdict ``review``,
never ``clear``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from firetrace.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads
    import trimesh  # lazy: trimesh loads when a file is read, not when it is sniffed


@dataclass
class Limits:
    """Ceilings that keep a hostile file from exhausting memory or time."""

    # a claim beyond this is absurd for a real part: the geometry is not loaded
    max_triangles: int = 20_000_000
    # formats read through trimesh or a tree parser (OBJ, PLY, OFF, glTF, 3MF, AMF)
    # keep their whole text and objects in memory: beyond this their geometry is not
    # loaded, which keeps one inspection under about 1 GB (STL streams, so it is
    # read up to max_triangles and decimated instead)
    max_geometry_triangles: int = 2_000_000
    max_text_bytes: int = 400_000_000
    max_zip_member_bytes: int = 400_000_000
    max_zip_ratio: int = 200
    max_bodies: int = 10_000  # bodies a reader may yield


LIMITS = Limits()


@dataclass
class Body:
    """One object, group, node or solid of a design file, in file units with the
    file's own transforms applied."""

    vertices: np.ndarray  # (n, 3) float64
    faces: np.ndarray  # (m, 3) int64
    name: str | None = None  # as the file names it: evidence, and how a person finds it
    kind: str = "mesh"  # what the file calls it: object, group, node, item, solid, ...


@dataclass
class Design:
    """What a reader found in one file."""

    format: str
    bodies: list[Body] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # object/part names, header text: evidence
    units: str | None = None  # declared by the file (3MF, AMF, STEP, IGES, G-code)
    metadata: dict[str, Any] = field(default_factory=dict)
    toolpath: dict[str, Any] | None = None  # G-code: extents, layers
    warnings: list[str] = field(default_factory=list)
    # analysis limits that were hit: {"limit": name, "detail": one line}
    limits: list[dict[str, str]] = field(default_factory=list)

    def add_body(self, vertices, faces, name: str | None = None, kind: str = "mesh") -> None:
        """Append one body (arrays are converted, not copied when already right)."""
        import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

        if len(self.bodies) >= LIMITS.max_bodies:
            if not any(item["limit"] == "max_bodies" for item in self.limits):
                self.limit(
                    "max_bodies", f"more than {LIMITS.max_bodies:,} bodies; the rest skipped"
                )
            return
        self.bodies.append(
            Body(
                vertices=np.asarray(vertices, dtype=np.float64),
                faces=np.asarray(faces, dtype=np.int64),
                name=name,
                kind=kind,
            )
        )

    def limit(self, name: str, detail: str) -> None:
        """Record that a limit stopped (part of) the analysis."""
        self.limits.append({"limit": name, "detail": detail})
        self.warnings.append(detail)

    @property
    def has_mesh(self) -> bool:
        """Whether any body holds a triangle."""
        return any(len(body.faces) for body in self.bodies)

    @property
    def vertices(self) -> np.ndarray | None:
        """All bodies' vertices, concatenated (None without a mesh)."""
        return self._joined()[0]

    @property
    def faces(self) -> np.ndarray | None:
        """All bodies' faces, indexing :attr:`vertices` (None without a mesh)."""
        return self._joined()[1]

    def _joined(self):
        import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

        bodies = [b for b in self.bodies if len(b.faces)]
        if not bodies:
            return None, None
        if len(bodies) == 1:
            return bodies[0].vertices, bodies[0].faces
        offsets = np.cumsum([0] + [len(b.vertices) for b in bodies[:-1]])
        vertices = np.concatenate([b.vertices for b in bodies])
        faces = np.concatenate([b.faces + o for b, o in zip(bodies, offsets, strict=True)])
        return vertices, faces

    def to_trimesh(self) -> trimesh.Trimesh:
        """The geometry of every body as one Trimesh (no processing beyond the reader's)."""
        import trimesh  # lazy: trimesh loads when a file is read, not when it is sniffed

        if not self.has_mesh:
            if self.limits:
                raise InputError(f"{self.format}: {self.limits[0]['detail']}")
            raise InputError(f"{self.format} file holds no triangle mesh")
        return trimesh.Trimesh(vertices=self.vertices, faces=self.faces, process=False)


@dataclass(frozen=True)
class Head:
    """The first bytes of a file, prepared once for every reader's signature test."""

    raw: bytes  # the first HEAD_BYTES (fewer for a short file)
    size: int  # the whole file's size
    stripped: bytes  # without a UTF-8 byte order mark and leading white space
    text: bool  # the start reads as text (no NUL, at most 3% control bytes)
    lowered: bytes  # the first 4 KiB of ``stripped``, lower-cased

    @property
    def first_line(self) -> bytes:
        """The first line of the stripped head, without surrounding white space."""
        return self.stripped.split(b"\n", 1)[0].strip()


Reader = Callable[[BinaryIO, int, str | None], Design]


@dataclass(frozen=True)
class ReaderSpec:
    """A registered reader: what it reads and how it recognises its files."""

    format: str
    read: Reader
    extensions: tuple[str, ...]
    # content signature: True when the head holds this format
    signature: Callable[[Head], bool] | None
    # for zip containers: True when the member names (lower-cased) hold this format
    zip_signature: Callable[[list[str]], bool] | None
    # signatures are tried in this order; binary signatures do not need text
    order: int
    text: bool  # the signature applies only to text heads
    summary: str


_READERS: dict[str, ReaderSpec] = {}


def register(
    fmt: str,
    *,
    extensions: tuple[str, ...] = (),
    signature: Callable[[Head], bool] | None = None,
    zip_signature: Callable[[list[str]], bool] | None = None,
    order: int = 100,
    text: bool = False,
) -> Callable[[Reader], Reader]:
    """Register a reader function for design format *fmt*: ``register(fmt, ...)(read)``
    (the readers call it after the function; mutmut 3 does not mutate decorated
    functions)."""

    def wrap(func: Reader) -> Reader:
        summary = (func.__doc__ or "").strip().split("\n", 1)[0]
        _READERS[fmt] = ReaderSpec(
            fmt, func, extensions or (fmt,), signature, zip_signature, order, text, summary
        )
        return func

    return wrap


_LOADED: list[bool] = []


def _load_all() -> None:
    """Import every reader module of this package (each registers itself). Importing
    one reader module directly registers only that one, so a flag, not the registry
    being non-empty, says that all were loaded."""
    if _LOADED:
        return
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _LOADED.append(True)


def reader_specs() -> list[ReaderSpec]:
    """Every registered reader, in signature order."""
    _load_all()
    return sorted(_READERS.values(), key=lambda spec: (spec.order, spec.format))


def supported_formats() -> list[str]:
    """Names of the formats a reader is registered for."""
    _load_all()
    return sorted(_READERS)


def stream_size(fh: BinaryIO) -> int:
    """The size of a seekable stream (its position is kept)."""
    pos = fh.tell()
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(pos)
    return size


def read_design(fh: BinaryIO, fmt: str, name: str | None = None, size: int | None = None) -> Design:
    """Read one design file of a known format; InputError with a reason if it cannot."""
    _load_all()
    spec = _READERS.get(fmt)
    if spec is None:
        raise InputError(f"unsupported format '{fmt}'")
    if size is None:
        size = stream_size(fh)
    if size == 0:
        raise InputError("empty file")
    fh.seek(0)
    try:
        design = spec.read(fh, size, name)
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


def geometry_skipped(design: Design, triangles: int, limit: int | None = None) -> Design:
    """Mark a design whose mesh is too large to load; its words are still evidence."""
    limit = LIMITS.max_geometry_triangles if limit is None else limit
    design.metadata["triangles"] = triangles
    design.limit(
        "triangles",
        f"geometry not analysed: {triangles:,} triangles exceeds the {limit:,} limit "
        "of this format's reader (names and metadata only)",
    )
    return design


def check_geometry(design: Design) -> None:
    """Refuse geometry no measurement can be made on; warn about defects."""
    for body in design.bodies:
        _check_body(design.format, body)
    degenerate = 0
    kept = []
    for body in design.bodies:
        faces = body.faces
        distinct = distinct_corners(faces)
        degenerate += int((~distinct).sum())
        if not distinct.all():
            body.faces = faces[distinct]
        if len(body.faces):
            kept.append(body)
    total = sum(len(b.faces) for b in design.bodies) + degenerate
    if not kept or not any(_has_area(body) for body in kept):
        raise InputError(f"{design.format}: degenerate mesh (all {total} triangles have zero area)")
    if degenerate:
        design.warnings.append(
            f"{degenerate} of {total} triangles are degenerate (repeated corner); ignored"
        )
    design.bodies = kept


def distinct_corners(faces: np.ndarray) -> np.ndarray:
    """Mask of the triangles whose three corners are distinct vertices (the others are
    lines or points; zero-area triangles with distinct corners are caught where areas
    are computed)."""
    return (
        (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 2] != faces[:, 0])
    )


def _has_area(body: Body) -> bool:
    """Whether any triangle of the body has an area above round-off."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    from firetrace.detect.arrays import column_extents  # lazy: it imports numpy

    vertices = body.vertices
    scale = float(column_extents(vertices).max()) or 1.0
    start, block = 0, 4096  # the first block nearly always tells; then larger ones
    while start < len(body.faces):
        corners = vertices[body.faces[start : start + block]]
        cross = np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
        if (cross > 1e-12 * scale * scale).any():
            return True
        start, block = start + block, min(block * 4, 100_000)
    return False


def _check_body(fmt: str, body: Body) -> None:
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads

    vertices, faces = body.vertices, body.faces
    if not len(faces):
        return
    if len(vertices) == 0:
        raise InputError(f"{fmt}: faces but no vertices")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise InputError(f"{fmt}: face refers to a vertex that does not exist")
    finite = np.isfinite(vertices).all(axis=1)
    if not finite.all():
        bad = int((~finite).sum())
        raise InputError(f"{fmt}: {bad} vertices have NaN or infinite coordinates")
    if np.abs(vertices).max() > 1e9:
        raise InputError(f"{fmt}: coordinates beyond 1e9 units")


def load_design(fh: BinaryIO, fmt: str | None = None, name: str | None = None) -> Design:
    """Sniff (unless *fmt* is given) and read a design file from a stream."""
    from firetrace.detect.sniff import sniff_format  # lazy: sniff imports this package

    size = stream_size(fh)
    if fmt is None:
        fmt = sniff_format(fh, size, name)
        if fmt is None:
            raise InputError("not a recognised design file")
    return read_design(fh, fmt, name, size)


def load_mesh(fh: BinaryIO, fmt: str | None = None, name: str | None = None) -> trimesh.Trimesh:
    """Geometry of a design file as one ``trimesh.Trimesh`` (every body, not merged).

    *fmt* is a registered format name (:func:`supported_formats`), or None to sniff
    the content. Raises :class:`InputError` for unreadable files and for formats
    that carry no mesh (STEP and IGES are read for their headers only).
    """
    return load_design(fh, fmt, name).to_trimesh()
