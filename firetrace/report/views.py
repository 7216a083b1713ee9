"""Three shaded orthographic views (front, side, top) of a mesh, as PNG bytes.

This module owns how a flagged part is pictured in the report: the pose (the
file's own axes, or the axes of the part's smallest oriented box when the file
was saved tilted), one common millimetre scale for the three views so sizes
compare across them, decimation of large meshes for the picture only, flat
Lambert shading with depth cueing, dark outlines on silhouettes, creases and
depth steps, 2x supersampling, and a scale bar in every view. Nothing here
needs a display: pictures are drawn by :mod:`.raster` and encoded by
:mod:`.png`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from firetrace.report.annotate import draw_scale_bar
from firetrace.report.png import encode_png
from firetrace.report.raster import cluster_vertices, rasterise


@dataclass(frozen=True)
class ViewSpec:
    name: str
    caption: str
    right: tuple[float, float, float]
    up: tuple[float, float, float]
    toward_viewer: tuple[float, float, float]


VIEWS = (
    ViewSpec("front", "Front (X right, Z up)", (1, 0, 0), (0, 0, 1), (0, -1, 0)),
    ViewSpec("side", "Side (Y right, Z up)", (0, 1, 0), (0, 0, 1), (1, 0, 0)),
    ViewSpec("top", "Top (X right, Y up)", (1, 0, 0), (0, 1, 0), (0, 0, 1)),
)

BACKGROUND = np.array([255, 255, 255], dtype=np.uint8)
SURFACE = np.array([150, 172, 196], dtype=np.float64)
OUTLINE = np.array([36, 44, 56], dtype=np.uint8)
# Creases sharper than this angle between neighbouring faces are outlined.
CREASE_COS = float(np.cos(np.radians(35.0)))
# A pose is "tilted" when the axis-aligned box is this much bigger than the
# smallest oriented box; then the views follow the oriented box instead.
SKEW_RATIO = 1.02
# Pictures are drawn at this many times their size and averaged down (anti-aliasing).
SUPERSAMPLE = 2
DEPTH_CUE = 0.35
# Hidden surfaces peeled per view for dashed hidden edges, and the dash length.
HIDDEN_LAYERS = 2
DASH = 4


@dataclass
class RenderedView:
    name: str
    caption: str
    png: bytes
    width: int
    height: int


@dataclass
class Rendering:
    """Three views of one part, with what the card should say about them."""

    views: list[RenderedView]
    triangles: int
    drawn_triangles: int
    extents_mm: tuple[float, float, float]
    scale_bar_mm: float
    pose: str
    notes: list[str] = field(default_factory=list)

    @property
    def decimated(self) -> bool:
        """Whether fewer triangles were drawn than the mesh has (a large mesh's picture)."""
        return self.drawn_triangles < self.triangles


def _pose(vertices: np.ndarray) -> tuple[np.ndarray, str]:
    """Vertices in the frame the views use, and a phrase saying which frame.

    A part whose axis-aligned box is clearly bigger than its smallest oriented
    box was saved tilted; it is then viewed along the oriented box's axes
    (longest across the front view, second up, shortest in depth). Otherwise
    the file's own axes are kept: they are how the part was designed.
    """
    extent = np.ptp(vertices, axis=0)
    try:
        import trimesh  # lazy: ~2 s, only to straighten a tilted part's pose

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # hull mass properties of slivers divide by 0
            to_origin, box = trimesh.bounds.oriented_bounds(vertices, angle_digits=2)
        if not np.isfinite(to_origin).all() or not np.isfinite(box).all():
            raise ValueError("no finite oriented box")
    except Exception:  # flat or degenerate point sets: qhull refuses them
        return vertices, "the file's own axes"
    if np.prod(extent) <= SKEW_RATIO * max(float(np.prod(box)), 1e-30):
        return vertices, "the file's own axes"
    aligned = vertices @ to_origin[:3, :3].T + to_origin[:3, 3]
    longest, middle, shortest = np.argsort(box)[::-1]
    tilted = "the part's own axes (the file's pose is tilted)"
    return aligned[:, [longest, shortest, middle]], tilted


def _face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    return normal / np.where(length > 0, length, 1.0)


def _outlines(
    face_ids: np.ndarray, depth: np.ndarray, normals: np.ndarray, depth_tol: float
) -> np.ndarray:
    """Pixels on a silhouette, a crease or a step in depth of one layer."""
    # Only pixel pairs that see different faces can be on a line, so
    # the tests run on those few pairs, not on the whole picture.
    edge = np.zeros(face_ids.shape, dtype=bool)
    for step in ((1, 0), (0, 1)):
        ya, xa = np.nonzero(
            face_ids[: -step[0] or None, : -step[1] or None] != face_ids[step[0] :, step[1] :]
        )
        yb, xb = ya + step[0], xa + step[1]
        fa, fb = face_ids[ya, xa], face_ids[yb, xb]
        za, zb = depth[ya, xa], depth[yb, xb]
        ca, cb = fa >= 0, fb >= 0
        # Winding is not trusted (and decimation can fold a face over), so a
        # crease is judged on the unsigned angle, like the shading.
        crease = np.abs((normals[fa] * normals[fb]).sum(axis=-1)) < CREASE_COS
        line = (ca != cb) | (ca & cb & (crease | (np.abs(za - zb) > depth_tol)))
        # Draw on the covered side of a silhouette, on the nearer side otherwise.
        near_a = ca & (~cb | (za <= zb))
        edge[ya[line & near_a], xa[line & near_a]] = True
        edge[yb[line & ~near_a], xb[line & ~near_a]] = True
    return edge


def _shade_view(
    face_ids: np.ndarray,
    depth: np.ndarray,
    normals: np.ndarray,
    spec: ViewSpec,
    depth_tol: float,
    line_width: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Colour a rasterised view: Lambert shading plus outlines (also returned)."""
    right = np.asarray(spec.right, dtype=np.float64)
    up = np.asarray(spec.up, dtype=np.float64)
    toward = np.asarray(spec.toward_viewer, dtype=np.float64)
    light = 0.35 * right + 0.55 * up + 1.0 * toward
    light /= np.linalg.norm(light)
    # |n.l| rather than max(n.l, 0): files with inconsistent winding still read well.
    intensity = 0.28 + 0.72 * np.abs(normals @ light)
    face_colour = np.clip(intensity[:, None] * SURFACE, 0, 255)

    covered = face_ids >= 0
    image = np.empty(face_ids.shape + (3,), dtype=np.uint8)
    image[:] = BACKGROUND
    # Depth cueing: farther surfaces darker, so steps and recesses seen
    # head-on in an orthographic view still read as being at different depths.
    cue = 1.0 - DEPTH_CUE * depth[covered]
    image[covered] = (face_colour[face_ids[covered]] * cue[:, None]).astype(np.uint8)

    edge = _outlines(face_ids, depth, normals, depth_tol)
    for _ in range(line_width - 1):  # thicken so lines survive downsampling
        edge[1:] |= edge[:-1]
        edge[:, 1:] |= edge[:, :-1]
    image[edge] = OUTLINE
    return image, edge


def _hidden_edges(
    xy: np.ndarray,
    depth: np.ndarray,
    faces: np.ndarray,
    normals: np.ndarray,
    width: int,
    height: int,
    depth_tol: float,
) -> np.ndarray:
    """Outlines of the surfaces behind the visible one (a bore seen side-on).

    Depth peeling: each layer is the nearest surface more than ``depth_tol``
    behind the previous one; the outlines of the first few hidden layers are
    the hidden edges an engineering drawing shows dashed.
    """
    face_ids, layer = rasterise(xy, depth, faces, width, height)
    hidden = np.zeros((height, width), dtype=bool)
    for _ in range(HIDDEN_LAYERS):
        face_ids, layer = rasterise(xy, depth, faces, width, height, behind=layer, gap=depth_tol)
        if not (face_ids >= 0).any():
            break
        hidden |= _outlines(face_ids, layer, normals, depth_tol) & (face_ids >= 0)
    return hidden


def _grow(mask: np.ndarray) -> np.ndarray:
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _draw_hidden(image: np.ndarray, hidden: np.ndarray) -> None:
    """Dashed lines, drawn half-way between the surface colour and the outline."""
    # Lines running across are dashed by column, the others by row, so a line
    # two pixels thick still breaks into clean dashes.
    across = hidden.copy()
    across[:, 1:-1] &= hidden[:, :-2] & hidden[:, 2:]
    rows, cols = np.nonzero(hidden)
    dash = np.where(across[rows, cols], cols // DASH, rows // DASH) % 2 == 0
    rows, cols = rows[dash], cols[dash]
    blend = (image[rows, cols].astype(np.float64) + OUTLINE) / 2
    image[rows, cols] = blend.astype(np.uint8)


def render_views(
    vertices: np.ndarray,
    faces: np.ndarray,
    *,
    mm_per_unit: float = 1.0,
    width: int = 400,
    height: int = 320,
    max_triangles: int = 200_000,
) -> Rendering:
    """Draw the front, side and top views of a mesh into PNG images.

    ``mm_per_unit`` converts the file's units to millimetres (25.4 for inches).
    Meshes with more than ``max_triangles`` faces are decimated for the picture
    only; the returned :class:`Rendering` says so.
    """
    vertices = np.asarray(vertices, dtype=np.float64) * mm_per_unit
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0 or len(vertices) == 0:
        raise ValueError("the mesh has no triangles to draw")
    if not np.isfinite(vertices).all():
        finite = np.isfinite(vertices).all(axis=1)
        faces = faces[finite[faces].all(axis=1)]
        if len(faces) == 0:
            raise ValueError("the mesh has no triangles with finite coordinates")
    used = np.zeros(len(vertices), dtype=bool)
    used[faces] = True
    if not used.all():  # unreferenced vertices must not widen the picture
        new_index = np.cumsum(used) - 1
        vertices, faces = vertices[used], new_index[faces]
    notes: list[str] = []
    bar_room, margin = 26, 12

    def fit_scale(extent: np.ndarray) -> float:
        spans = [(extent[0], extent[2]), (extent[1], extent[2]), (extent[0], extent[1])]
        return float(
            min(
                min(
                    (width - 2 * margin) / max(w, 1e-9),
                    (height - 2 * margin - bar_room) / max(h, 1e-9),
                )
                for w, h in spans
            )
        )

    triangles = len(faces)
    if triangles > max_triangles:
        # A grid cell of about a pixel keeps everything the picture can show
        # (the box of the file's axes is never smaller than the final one).
        cell = 1.0 / fit_scale(np.ptp(vertices, axis=0))
        vertices, faces = cluster_vertices(vertices, faces, cell)
        while len(faces) > max_triangles:
            cell *= 1.5
            vertices, faces = cluster_vertices(vertices, faces, cell)
        if len(faces) == 0:
            raise ValueError("the mesh is too thin to draw at this scale")
        notes.append(
            f"Pictures drawn from a decimated copy ({triangles:,} \u2192 {len(faces):,} "
            "triangles); findings and measurements use the full mesh."
        )
    posed, pose = _pose(vertices)
    posed = posed - (posed.min(axis=0) + posed.max(axis=0)) / 2
    extent = np.ptp(posed, axis=0)
    px_per_mm = fit_scale(extent)

    normals = _face_normals(posed, faces)
    centre_px = np.array([width / 2, (height - bar_room) / 2])

    views: list[RenderedView] = []
    bar_mm = 0.0
    for spec in VIEWS:
        right = posed @ np.asarray(spec.right, float)
        up = posed @ np.asarray(spec.up, float)
        toward = posed @ np.asarray(spec.toward_viewer, float)
        ss = SUPERSAMPLE
        xy = np.stack([centre_px[0] + right * px_per_mm, centre_px[1] - up * px_per_mm], axis=1)
        face_ids, depth = rasterise(xy * ss, -toward, faces, width * ss, height * ss)
        span = float(np.ptp(toward)) or 1.0
        # Depth jumps bigger than ~3 px (in model units) are outlined.
        depth_tol = 3.0 / px_per_mm / span
        fine, fine_edge = _shade_view(
            face_ids, depth, normals, spec, depth_tol=depth_tol, line_width=ss
        )
        # Averaging each ss x ss block smooths the edges (anti-aliasing).
        image = fine.reshape(height, ss, width, ss, 3).mean(axis=(1, 3)).round().astype(np.uint8)
        visible_edge = fine_edge.reshape(height, ss, width, ss).any(axis=(1, 3))
        hidden = _hidden_edges(xy, -toward, faces, normals, width, height, depth_tol)
        _draw_hidden(image, hidden & ~_grow(visible_edge))
        bar_mm = draw_scale_bar(image, px_per_mm)
        views.append(RenderedView(spec.name, spec.caption, encode_png(image), width, height))
    return Rendering(
        views=views,
        triangles=triangles,
        drawn_triangles=len(faces),
        extents_mm=(float(extent[0]), float(extent[1]), float(extent[2])),
        scale_bar_mm=bar_mm,
        pose=pose,
        notes=notes,
    )
