"""CASE/UCO JSON-LD export of a scan: each candidate design file as an
``observable:File`` with its file facet (name, path, size, times) and its
content-data facet (MD5, SHA-1, SHA-256); the scan as a
``case-investigation:InvestigativeAction`` performed with firetrace
(``uco-tool:Tool``) on the evidence roots, with the files as its results; and
each verdict, score and finding as a ``uco-core:Annotation`` on the file it
describes. Identifiers end in UUIDs derived from the content, so the same scan
exported twice gives the same graph.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from firetrace import __version__
from firetrace.atomicfile import atomic_output

_NAMESPACE = uuid.UUID("6f0c1f43-2a3e-4c53-9f5e-6b1d7d2b9a10")

CONTEXT = {
    "kb": "http://example.org/kb/",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

_HASH_NAMES = (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256"))


def _id(kind: str, *parts: object) -> str:
    return f"kb:{kind}-{uuid.uuid5(_NAMESPACE, '|'.join(str(p) for p in (kind, *parts)))}"


def _datetime(value: str) -> dict:
    return {"@type": "xsd:dateTime", "@value": value}


def _hashes(owner_id: str, digests: dict) -> list[dict]:
    """The UCO Hash nodes of ``digests`` (MD5, SHA-1, SHA-256 where present)."""
    return [
        {
            "@id": _id("hash", owner_id, algo),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": label,
            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": digests[algo]},
        }
        for algo, label in _HASH_NAMES
        if digests.get(algo)
    ]


def file_node(record: dict) -> tuple[dict, str]:
    """The ``observable:File`` node for one record and its identifier."""
    file_id = _id("file", record["path"], record.get("sha256"))
    name = record["path"].rsplit("!/", 1)[-1].rsplit("/", 1)[-1]
    file_facet = {
        "@id": _id("file-facet", file_id),
        "@type": "uco-observable:FileFacet",
        "uco-observable:fileName": name,
        "uco-observable:filePath": record["path"],
        "uco-observable:isDirectory": False,
        "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(record["size"])},
    }
    if record.get("modified"):
        file_facet["uco-observable:modifiedTime"] = _datetime(record["modified"])
    hashes = _hashes(file_id, record)
    content_facet = {
        "@id": _id("content-data-facet", file_id),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(record["size"])},
        "uco-observable:hash": hashes,
    }
    node = {
        "@id": file_id,
        "@type": "uco-observable:File",
        "uco-core:hasFacet": [file_facet, content_facet],
    }
    return node, file_id


def annotation_node(record: dict, file_id: str) -> dict:
    """Verdict, score, findings and reference matches as an annotation of the file."""
    lines = [f"firetrace verdict {record['verdict']} (score {record['score']:.2f})"]
    if record.get("format"):
        lines.append(f"format {record['format']}")
    if record.get("deleted"):
        lines.append(f"deleted file, inode {record.get('inode')}")
    for finding in record.get("findings") or []:
        rule, weight = finding.get("rule"), finding.get("weight")
        lines.append(f"{rule} ({weight}): {finding.get('detail', '')}")
    for match in record.get("reference_matches") or []:
        lines.append(
            f"reference {match.get('label')} {match.get('match')} {match.get('similarity')}"
        )
    if record.get("hashset"):
        lines.append(f"hash set: {record['hashset']}")
    if record.get("error"):
        lines.append(f"error: {record['error']}")
    tags = [f"verdict:{record['verdict']}"]
    if record.get("format"):
        tags.append(f"format:{record['format']}")
    if record.get("deleted"):
        tags.append("deleted")
    return {
        "@id": _id("annotation", file_id),
        "@type": "uco-core:Annotation",
        "uco-core:object": [{"@id": file_id}],
        "uco-core:statement": "; ".join(lines),
        "uco-core:tag": tags,
    }


def case_document(records: list[dict], manifest: dict) -> dict:
    """The whole scan as one JSON-LD document."""
    tool_id = _id("tool", "firetrace", __version__)
    graph: list[dict] = [
        {
            "@id": tool_id,
            "@type": "uco-tool:Tool",
            "uco-core:name": "firetrace",
            "uco-tool:version": __version__,
            "uco-tool:toolType": "forensic scanner for 3D-printable firearm design files",
        }
    ]
    run_key = (manifest.get("started"), manifest.get("operator"))
    operator = manifest.get("operator")
    operator_id = None
    if operator:
        operator_id = _id("identity", operator)
        graph.append(
            {"@id": operator_id, "@type": "uco-identity:Identity", "uco-core:name": operator}
        )
    evidence_ids = []
    for root in manifest.get("roots", []):
        root_id = _id("evidence", root["path"], root.get("sha256"))
        evidence_ids.append({"@id": root_id})
        facet = {
            "@id": _id("evidence-facet", root_id),
            "@type": "uco-observable:FileFacet",
            "uco-observable:filePath": root["path"],
            "uco-observable:isDirectory": root.get("type") == "folder",
        }
        facets: list[dict] = [facet]
        if root.get("sha256"):
            facets.append(
                {
                    "@id": _id("evidence-content", root_id),
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:hash": _hashes(root_id, root),
                }
            )
        graph.append({"@id": root_id, "@type": "uco-observable:File", "uco-core:hasFacet": facets})
    results = []
    for record in records:
        node, file_id = file_node(record)
        graph.append(node)
        graph.append(annotation_node(record, file_id))
        results.append({"@id": file_id})
    action: dict = {
        "@id": _id("action", *run_key),
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": "firetrace scan",
        "uco-core:description": manifest.get("purpose") or "scan for firearm design files",
        "uco-action:instrument": {"@id": tool_id},
        "uco-action:object": evidence_ids,
        "uco-action:result": results,
    }
    if operator_id:
        action["uco-action:performer"] = {"@id": operator_id}
    if manifest.get("started"):
        action["uco-action:startTime"] = _datetime(manifest["started"])
    if manifest.get("ended"):
        action["uco-action:endTime"] = _datetime(manifest["ended"])
    graph.append(action)
    return {"@context": CONTEXT, "@graph": graph}


def write_case(path: str | Path, records: list[dict], manifest: dict) -> None:
    """Write the CASE/UCO JSON-LD document of ``records`` to ``path``, atomically."""
    with atomic_output(path, errors="backslashreplace") as fh:
        json.dump(case_document(records, manifest), fh, indent=2, ensure_ascii=False)
        fh.write("\n")
