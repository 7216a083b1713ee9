"""3MF and AMF readers on a hardened lxml parser: no DTD loading, no entity
resolution, no network, no huge-tree mode, and any ``<!DOCTYPE``/``<!ENTITY``
refused outright (neither format allows one, and that is where entity bombs and
external-entity tricks live). Zip members are size-checked against their
compression ratio before they are inflated. Coordinates are pulled with XPath into
numpy arrays; object names, metadata and declared units are kept as evidence.
"""

from __future__ import annotations

import re
import zipfile
from typing import BinaryIO

from firetrace.detect.readers import LIMITS, Design, register
from firetrace.errors import InputError

# about a million triangles of 3MF XML; lxml needs several times this in memory
MAX_MODEL_XML_BYTES = 100_000_000
NS_3MF = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)

UNIT_NAMES = {
    "micron": "micron",
    "millimeter": "mm",
    "millimetre": "mm",
    "centimeter": "cm",
    "centimetre": "cm",
    "inch": "inch",
    "foot": "foot",
    "meter": "m",
    "metre": "m",
}


def parse_xml_safely(data: bytes, what: str):
    """Parse XML with every dangerous feature off; InputError on DTDs or bad XML."""
    from lxml import etree

    if _DTD.search(data[:65536]) or _DTD.search(data):
        raise InputError(f"{what}: XML document type/entity declarations are not allowed (refused)")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{what}: malformed XML ({str(exc)[:160]})") from exc


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > LIMITS.max_zip_member_bytes:
        raise InputError(f"zip member '{info.filename}' inflates to {info.file_size:,} bytes")
    if info.compress_size and info.file_size / max(info.compress_size, 1) > LIMITS.max_zip_ratio:
        if info.file_size > 10_000_000:
            raise InputError(f"zip member '{info.filename}' has a bomb-like compression ratio")
    with archive.open(info) as member:
        data = member.read(LIMITS.max_zip_member_bytes + 1)
    if len(data) > LIMITS.max_zip_member_bytes:
        raise InputError(f"zip member '{info.filename}' is larger than its directory claims")
    return data


def _open_zip(fh: BinaryIO, what: str) -> zipfile.ZipFile:
    fh.seek(0)
    try:
        return zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"{what}: corrupt zip container ({exc})") from exc


def _floats(values, what: str):
    import numpy as np

    try:
        return np.asarray(values, dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"{what}: non-numeric coordinate ({str(exc)[:80]})") from exc


def _transform(text: str | None):
    import numpy as np

    matrix = np.eye(4)
    if not text:
        return matrix
    values = [float(v) for v in text.split()]
    if len(values) != 12:
        raise InputError(f"3MF: transform with {len(values)} numbers (expected 12)")
    matrix[:3, :4] = np.array(values).reshape(4, 3).T
    return matrix


@register("3mf")
def read_3mf(fh: BinaryIO, size: int, name: str | None) -> Design:
    import numpy as np

    design = Design(format="3mf")
    try:
        archive = _open_zip(fh, "3MF")
        with archive:
            infos = archive.infolist()
            models = [i for i in infos if i.filename.lower().endswith(".model")]
            if not models:
                raise InputError("3MF without a 3D model part")
            all_vertices, all_faces, offset = [], [], 0
            skipped = 0
            for info in models:
                if info.file_size > MAX_MODEL_XML_BYTES:
                    skipped += 1  # an XML tree costs many times its text: do not build it
                    design.warnings.append(
                        f"3MF part {info.filename} of {info.file_size:,} bytes is over the "
                        f"{MAX_MODEL_XML_BYTES:,} limit; its geometry was not analysed"
                    )
                    continue
                root = parse_xml_safely(_read_member(archive, info), f"3MF {info.filename}")
                verts, faces, offset = _model_geometry(root, design, offset)
                all_vertices += verts
                all_faces += faces
            for info in infos:
                lowered = info.filename.lower()
                if lowered.startswith("metadata/") and lowered.endswith((".config", ".xml")):
                    _slicer_config_names(_read_member(archive, info), design)
    except zipfile.BadZipFile as exc:
        raise InputError(f"3MF: corrupt zip container ({exc})") from exc
    if not all_faces:
        if skipped:
            return design
        raise InputError("3MF holds no triangles")
    design.vertices = np.concatenate(all_vertices)
    design.faces = np.concatenate(all_faces)
    design.names = sorted(set(design.names))[:200]
    return design


def _model_geometry(root, design: Design, offset: int):
    import numpy as np

    ns = {"m": root.nsmap.get(None) or NS_3MF}
    unit = root.get("unit") or "millimeter"
    design.units = UNIT_NAMES.get(unit, unit)
    for meta in root.xpath("m:metadata", namespaces=ns):
        key, value = meta.get("name") or "", (meta.text or "").strip()
        if value:
            design.metadata[key] = value[:500]
            if key.lower() in ("title", "designer", "description", "application", "copyright"):
                design.names.append(value[:200])
    objects: dict[str, tuple] = {}
    for obj in root.xpath("m:resources/m:object", namespaces=ns):
        if obj.get("name"):
            design.names.append(obj.get("name")[:200])
        mesh = obj.find("m:mesh", namespaces=ns)
        components = obj.xpath("m:components/m:component", namespaces=ns)
        if mesh is not None:
            vx = _floats(mesh.xpath("m:vertices/m:vertex/@x", namespaces=ns), "3MF")
            vy = _floats(mesh.xpath("m:vertices/m:vertex/@y", namespaces=ns), "3MF")
            vz = _floats(mesh.xpath("m:vertices/m:vertex/@z", namespaces=ns), "3MF")
            tris = [mesh.xpath(f"m:triangles/m:triangle/@v{k}", namespaces=ns) for k in (1, 2, 3)]
            label = f"3MF object {obj.get('id')}"
            if not (len(vx) == len(vy) == len(vz)) or len({len(t) for t in tris}) != 1:
                raise InputError(f"{label}: vertex or triangle missing an attribute")
            if len(tris[0]) > LIMITS.max_triangles:
                raise InputError(f"{label}: {len(tris[0]):,} triangles; refusing")
            faces = None
            if tris[0]:
                faces = np.column_stack([np.asarray(t, dtype=np.int64) for t in tris])
            objects[obj.get("id")] = ("mesh", np.column_stack([vx, vy, vz]), faces)
        elif components:
            parts = [(c.get("objectid"), _transform(c.get("transform"))) for c in components]
            objects[obj.get("id")] = ("components", parts, None)
    items = root.xpath("m:build/m:item", namespaces=ns)
    placements = [(i.get("objectid"), _transform(i.get("transform"))) for i in items]
    if not placements:
        placements = [(oid, np.eye(4)) for oid in objects]
    vertices_out, faces_out = [], []

    def emit(object_id, matrix, depth):
        if depth > 8:
            raise InputError("3MF components nested more than 8 deep")
        entry = objects.get(object_id)
        if entry is None:
            return
        nonlocal offset
        if entry[0] == "mesh":
            verts, faces = entry[1], entry[2]
            if faces is None or len(verts) == 0:
                return
            if faces.min() < 0 or faces.max() >= len(verts):
                raise InputError(f"3MF object {object_id}: triangle refers to a missing vertex")
            moved = verts @ matrix[:3, :3].T + matrix[:3, 3]
            vertices_out.append(moved)
            faces_out.append(faces + offset)
            offset += len(verts)
        else:
            for child_id, child_matrix in entry[1]:
                emit(child_id, matrix @ child_matrix, depth + 1)

    for object_id, matrix in placements:
        emit(object_id, matrix, 0)
    return vertices_out, faces_out, offset


def _slicer_config_names(data: bytes, design: Design) -> None:
    try:
        root = parse_xml_safely(data, "3MF metadata")
    except InputError:
        return
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.get("key") == "name" and node.get("value"):
            design.names.append(node.get("value")[:200])


@register("amf")
def read_amf(fh: BinaryIO, size: int, name: str | None) -> Design:
    import numpy as np

    fh.seek(0)
    head = fh.read(4)
    if head.startswith(b"PK"):
        archive = _open_zip(fh, "AMF")
        with archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            if not members:
                raise InputError("AMF zip is empty")
            data = _read_member(archive, members[0])
    else:
        if size > LIMITS.max_text_bytes:
            raise InputError(f"AMF of {size:,} bytes exceeds the limit")
        fh.seek(0)
        data = fh.read()
    root = parse_xml_safely(data, "AMF")
    design = Design(format="amf")
    unit = root.get("unit") or "millimeter"
    design.units = UNIT_NAMES.get(unit.lower(), unit)
    for meta in root.iter("metadata"):
        if meta.text and meta.text.strip():
            design.metadata[meta.get("type") or "metadata"] = meta.text.strip()[:500]
            if (meta.get("type") or "").lower() in ("name", "title", "description", "author"):
                design.names.append(meta.text.strip()[:200])
    vertices_out, faces_out, offset = [], [], 0
    for mesh in root.iter("mesh"):
        coords = [
            _floats(mesh.xpath(f"vertices/vertex/coordinates/{a}/text()"), "AMF") for a in "xyz"
        ]
        if not (len(coords[0]) == len(coords[1]) == len(coords[2])):
            raise InputError("AMF: vertex missing a coordinate")
        tris = [mesh.xpath(f"volume/triangle/v{k}/text()") for k in (1, 2, 3)]
        if not (len(tris[0]) == len(tris[1]) == len(tris[2])):
            raise InputError("AMF: triangle missing a corner")
        if not tris[0]:
            continue
        faces = np.column_stack([np.asarray([int(v) for v in t], dtype=np.int64) for t in tris])
        if faces.min() < 0 or faces.max() >= len(coords[0]):
            raise InputError("AMF: triangle refers to a missing vertex")
        vertices_out.append(np.column_stack(coords))
        faces_out.append(faces + offset)
        offset += len(coords[0])
    if not faces_out:
        raise InputError("AMF holds no triangles")
    design.vertices = np.concatenate(vertices_out)
    design.faces = np.concatenate(faces_out)
    design.names = sorted(set(design.names))
    return design
