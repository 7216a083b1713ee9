"""OBJ, PLY, OFF, GLB and glTF through trimesh's loaders, with names gathered as
evidence (OBJ ``o``/``g`` names, PLY comments, glTF node and mesh names). Every
OBJ object and group, and every glTF node that carries a mesh, becomes one body in
world coordinates (the node's transform applied), named as the file names it.
glTF files that point at external buffers are refused: a stream has no folder to
resolve them against, and following paths named inside a seized file is not
something a scanner should do; the one exception is a plain file name
(``scene.bin``) beside a glTF read from disk, which is what exporters write.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
from pathlib import Path
from typing import BinaryIO

from firetrace.detect.readers import LIMITS, Design, geometry_skipped, register
from firetrace.errors import InputError

_OBJ_NAME = re.compile(rb"^[ \t]*(?:o|g)[ \t]+([^\r\n]+)", re.M)
_PLY_COMMENT = re.compile(rb"^(?:comment|obj_info)[ \t]+([^\r\n]*)", re.M)


def _read_all(fh: BinaryIO, size: int, fmt: str) -> bytes:
    if size > LIMITS.max_text_bytes:
        raise InputError(f"{fmt} file of {size:,} bytes exceeds the read limit")
    fh.seek(0)
    return fh.read()


def _add_bodies(design: Design, loaded, kind: str) -> Design:
    """One body per mesh-carrying scene node (world transform applied), or the mesh."""
    import numpy as np  # lazy: sniffing imports every reader module; numpy loads when one reads
    import trimesh  # lazy: trimesh loads when a file is read, not when it is sniffed

    if isinstance(loaded, trimesh.Trimesh):
        if len(loaded.faces):
            design.add_body(loaded.vertices, loaded.faces, kind=kind)
    elif isinstance(loaded, trimesh.Scene):
        for node in loaded.graph.nodes_geometry:
            transform, geometry_name = loaded.graph[node]
            mesh = loaded.geometry.get(geometry_name)
            if not isinstance(mesh, trimesh.Trimesh) or not len(mesh.faces):
                continue
            vertices = np.asarray(mesh.vertices, dtype=np.float64)
            if not np.allclose(transform, np.eye(4)):
                vertices = vertices @ transform[:3, :3].T + transform[:3, 3]
            label = str(node) if node != geometry_name else str(geometry_name)
            design.add_body(vertices, mesh.faces, name=label[:200], kind=kind)
    if not design.has_mesh:
        raise InputError(f"{design.format} file holds no triangles")
    return design


def _load(data: bytes, fmt: str, **kwargs):
    import logging  # lazy: only the trimesh-read formats quiet its logger

    import trimesh  # lazy: trimesh loads when a file is read, not when it is sniffed

    # trimesh logs tracebacks for missing textures; a seized file's textures are not evidence
    logging.getLogger("trimesh").setLevel(logging.CRITICAL)
    return trimesh.load(io.BytesIO(data), file_type=fmt, process=True, **kwargs)


_OBJ_LINE = re.compile(rb"^(v|vn|vt|f|o|g|mtllib|usemtl|s)\s", re.M)
_OBJ_VERTEX = re.compile(rb"^v\s+[-+.\d]", re.M)


def _looks_like_obj(head) -> bool:
    if head.stripped.startswith(b"<"):
        return False  # XML
    return bool(_OBJ_VERTEX.search(head.stripped)) and len(_OBJ_LINE.findall(head.stripped)) >= 3


def read_obj(fh: BinaryIO, size: int, name: str | None) -> Design:
    """Wavefront OBJ: one body per object and group."""
    data = _read_all(fh, size, "obj")
    if not re.search(rb"^[ \t]*f[ \t]", data, re.M):
        raise InputError("OBJ file holds no faces")
    names = sorted({n.decode("utf-8", "replace").strip() for n in _OBJ_NAME.findall(data)})
    design = Design(format="obj", names=[n for n in names if n][:200])
    polygons = data.count(b"\nf ")
    if polygons > LIMITS.max_geometry_triangles:
        return geometry_skipped(design, polygons)
    loaded = _load(
        data,
        "obj",
        skip_materials=True,
        group_material=False,
        split_objects=True,
        split_groups=True,
    )
    return _add_bodies(design, loaded, "group")


# registered by calls, not as decorators: mutmut 3 does not mutate decorated
# functions (tools/mutation_score.py)
register("obj", signature=_looks_like_obj, order=60, text=True)(read_obj)


def _looks_like_ply(head) -> bool:
    # the header is text even when the body is binary
    return head.stripped.startswith(b"ply") and head.stripped[3:4] in (b"\n", b"\r")


def read_ply(fh: BinaryIO, size: int, name: str | None) -> Design:
    """PLY, ASCII or binary: one body; header comments are evidence."""
    data = _read_all(fh, size, "ply")
    header_end = data.find(b"end_header")
    if header_end < 0:
        raise InputError("PLY without 'end_header' (truncated header)")
    header = data[:header_end]
    match = re.search(rb"element\s+face\s+(\d+)", header)
    if not match or int(match.group(1)) == 0:
        raise InputError("PLY file holds no faces")
    claimed = int(match.group(1))
    if claimed > LIMITS.max_triangles:
        raise InputError(f"PLY header claims {claimed:,} faces; refusing")
    comments = [c.decode("utf-8", "replace").strip() for c in _PLY_COMMENT.findall(header)]
    design = Design(format="ply", names=[c for c in comments if c])
    if claimed > LIMITS.max_geometry_triangles:
        return geometry_skipped(design, claimed)
    return _add_bodies(design, _load(data, "ply"), "solid")


register("ply", signature=_looks_like_ply, order=30)(read_ply)


def _looks_like_off(head) -> bool:
    first = head.first_line
    return first in (b"OFF", b"COFF", b"NOFF", b"CNOFF") or bool(re.match(rb"^OFF\s+\d", first))


def read_off(fh: BinaryIO, size: int, name: str | None) -> Design:
    """Object File Format: one body."""
    data = _read_all(fh, size, "off")
    tokens = re.sub(rb"#[^\n]*", b"", data[:4096]).split()
    if len(tokens) >= 4 and tokens[1].isdigit() and tokens[2].isdigit():
        claimed = int(tokens[2])
        if claimed > LIMITS.max_triangles:
            raise InputError(f"OFF header claims {claimed:,} faces; refusing")
        if claimed > LIMITS.max_geometry_triangles:
            return geometry_skipped(Design(format="off"), claimed)
    return _add_bodies(Design(format="off"), _load(data, "off"), "solid")


register("off", signature=_looks_like_off, order=41, text=True)(read_off)


def _gltf_names(document: dict) -> list[str]:
    names: list[str] = []
    for key in ("nodes", "meshes", "scenes"):
        for item in document.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
    asset = document.get("asset") or {}
    for key in ("generator", "copyright"):
        if isinstance(asset, dict) and isinstance(asset.get(key), str):
            names.append(asset[key])
    return sorted(set(n for n in names if n.strip()))[:200]


def _sibling(name: str | None, uri: str):
    """A buffer file beside the glTF on disk, when *uri* is a plain file name."""
    import os  # lazy: only a glTF beside its buffers needs it

    if not name or "!/" in name or "/" in uri or "\\" in uri or uri in ("", ".", ".."):
        return None
    candidate = Path(name).parent / uri
    if not candidate.is_file() or candidate.stat().st_size > LIMITS.max_text_bytes:
        return None
    if os.path.islink(candidate):
        return None
    return candidate


def _check_buffers(document: dict, fmt: str, name: str | None = None) -> None:
    """Inline external buffers that sit beside the file (plain names only); refuse
    any other reference. Texture images are dropped: they are not evidence."""
    for buffer in document.get("buffers") or []:
        uri = buffer.get("uri") if isinstance(buffer, dict) else None
        if uri and not str(uri).startswith("data:"):
            sibling = _sibling(name, str(uri))
            if sibling is None:
                raise InputError(f"{fmt} refers to an external buffer '{str(uri)[:80]}' (not read)")
            payload = base64.b64encode(sibling.read_bytes()).decode("ascii")
            buffer["uri"] = "data:application/octet-stream;base64," + payload
    for image in document.get("images") or []:
        if isinstance(image, dict) and not str(image.get("uri", "data:")).startswith("data:"):
            image.pop("uri", None)


def read_glb(fh: BinaryIO, size: int, name: str | None) -> Design:
    """Binary glTF: one body per mesh node; node and mesh names are evidence."""
    data = _read_all(fh, size, "glb")
    if len(data) < 20:
        raise InputError("truncated GLB header")
    _magic, _version, length = struct.unpack_from("<4sII", data, 0)
    if length > len(data):
        raise InputError(f"truncated: GLB header claims {length:,} bytes, file has {len(data):,}")
    chunk_length, chunk_type = struct.unpack_from("<II", data, 12)
    if chunk_type != 0x4E4F534A or 20 + chunk_length > len(data):
        raise InputError("GLB without a valid JSON chunk")
    document = json.loads(data[20 : 20 + chunk_length])
    _check_buffers({"buffers": (document.get("buffers") or [])[1:]}, "glb")
    design = Design(format="glb", names=_gltf_names(document))
    return _add_bodies(design, _load(data, "glb"), "node")


register(
    "glb", signature=lambda head: head.raw.startswith(b"glTF") and len(head.raw) >= 12, order=10
)(read_glb)


def _looks_like_gltf(head) -> bool:
    return head.stripped.startswith(b"{") and b'"asset"' in head.lowered


def read_gltf(fh: BinaryIO, size: int, name: str | None) -> Design:
    """glTF JSON: one body per mesh node (buffers inline or beside the file only)."""
    data = _read_all(fh, size, "gltf")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"glTF is not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise InputError("glTF document is not a JSON object")
    _check_buffers(document, "gltf", name)
    design = Design(format="gltf", names=_gltf_names(document))
    return _add_bodies(design, _load(json.dumps(document).encode(), "gltf"), "node")


register("gltf", signature=_looks_like_gltf, order=45, text=True)(read_gltf)
