"""OBJ, PLY, OFF, GLB and glTF through trimesh's loaders, with names gathered as
evidence (OBJ ``o``/``g`` names, PLY comments, glTF node and mesh names) and the
scene flattened into one mesh in world coordinates. glTF files that point at
external buffers are refused: a stream has no folder to resolve them against, and
following paths named inside a seized file is not something a scanner should do;
the one exception is a plain file name (``scene.bin``) beside a glTF read from
disk, which is what exporters write.
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


def _flatten(loaded, fmt: str) -> tuple:
    import numpy as np
    import trimesh

    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
    elif isinstance(loaded, trimesh.Trimesh):
        meshes = [loaded]
    else:
        meshes = []
    meshes = [m for m in meshes if len(m.faces)]
    if not meshes:
        raise InputError(f"{fmt} file holds no triangles")
    vertices, faces, offset = [], [], 0
    for mesh in meshes:
        vertices.append(np.asarray(mesh.vertices, dtype=np.float64))
        faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
        offset += len(mesh.vertices)
    return np.concatenate(vertices), np.concatenate(faces)


def _load(data: bytes, fmt: str, **kwargs):
    import logging

    import trimesh

    # trimesh logs tracebacks for missing textures; a seized file's textures are not evidence
    logging.getLogger("trimesh").setLevel(logging.CRITICAL)
    return trimesh.load(io.BytesIO(data), file_type=fmt, process=True, **kwargs)


@register("obj")
def read_obj(fh: BinaryIO, size: int, name: str | None) -> Design:
    data = _read_all(fh, size, "obj")
    if not re.search(rb"^[ \t]*f[ \t]", data, re.M):
        raise InputError("OBJ file holds no faces")
    names = sorted({n.decode("utf-8", "replace").strip() for n in _OBJ_NAME.findall(data)})
    design = Design(format="obj", names=[n for n in names if n][:200])
    polygons = data.count(b"\nf ")
    if polygons > LIMITS.max_geometry_triangles:
        return geometry_skipped(design, polygons)
    loaded = _load(data, "obj", skip_materials=True, group_material=False)
    design.vertices, design.faces = _flatten(loaded, "obj")
    return design


@register("ply")
def read_ply(fh: BinaryIO, size: int, name: str | None) -> Design:
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
    loaded = _load(data, "ply")
    design.vertices, design.faces = _flatten(loaded, "ply")
    return design


@register("off")
def read_off(fh: BinaryIO, size: int, name: str | None) -> Design:
    data = _read_all(fh, size, "off")
    tokens = re.sub(rb"#[^\n]*", b"", data[:4096]).split()
    if len(tokens) >= 4 and tokens[1].isdigit() and tokens[2].isdigit():
        claimed = int(tokens[2])
        if claimed > LIMITS.max_triangles:
            raise InputError(f"OFF header claims {claimed:,} faces; refusing")
        if claimed > LIMITS.max_geometry_triangles:
            return geometry_skipped(Design(format="off"), claimed)
    loaded = _load(data, "off")
    vertices, faces = _flatten(loaded, "off")
    return Design(format="off", vertices=vertices, faces=faces)


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
    import os

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


@register("glb")
def read_glb(fh: BinaryIO, size: int, name: str | None) -> Design:
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
    loaded = _load(data, "glb")
    vertices, faces = _flatten(loaded, "glb")
    return Design(format="glb", vertices=vertices, faces=faces, names=_gltf_names(document))


@register("gltf")
def read_gltf(fh: BinaryIO, size: int, name: str | None) -> Design:
    data = _read_all(fh, size, "gltf")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"glTF is not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise InputError("glTF document is not a JSON object")
    _check_buffers(document, "gltf", name)
    loaded = _load(json.dumps(document).encode(), "gltf")
    vertices, faces = _flatten(loaded, "gltf")
    return Design(format="gltf", vertices=vertices, faces=faces, names=_gltf_names(document))
