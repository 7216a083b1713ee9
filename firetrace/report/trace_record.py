"""The trace record: one trace as a self-contained, printable HTML page to hand
over (``firetrace trace SERIAL --report FILE.html``).

It follows the examiner report's conventions (:mod:`firetrace.report.html`):
one file with its stylesheet inline and nothing remote, a Content Security
Policy that allows only that stylesheet (no script at all), every value from
the registry escaped by :func:`~firetrace.report.html.text` (control and
direction-override characters shown as escapes), and a print stylesheet (A4,
one match per page). It holds the query as typed and what narrowed it; what
matched and why; each match's firearm, components over time, timeline and
status, with withdrawn events apart; the candidates left out and the ties; and
the record header (:mod:`firetrace.registry.record`): operator, purpose, UTC
time, registry file, schema version, audit head and this trace's audit entry,
tool and rules versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firetrace.atomicfile import atomic_write_text
from firetrace.registry.trace import match_notes
from firetrace.report.html import STYLE, _csp_hash, _kv_table, text

TRACE_STYLE = """
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
  font-size: 12px; font-weight: 700; text-transform: uppercase; background: var(--clear); }
.status.s-reported_stolen, .status.s-seized { background: var(--high); }
.status.s-reported_lost { background: var(--review); }
.status.s-destroyed, .status.s-deactivated, .status.s-exported { background: var(--error); }
.match { border: 1px solid var(--rule); border-left: 6px solid var(--ink); border-radius: 6px;
  padding: 12px 16px; margin: 16px 0; }
.withdrawn td { color: var(--muted); text-decoration: line-through; }
.dup { color: var(--high); font-weight: 600; }
@media print { .match { break-before: page; border: none; padding: 0; }
  .status { print-color-adjust: exact; -webkit-print-color-adjust: exact; } }
"""
PAGE_STYLE = STYLE + TRACE_STYLE


def _status(status: str) -> str:
    return f'<span class="status s-{text(status)}">{text(status.replace("_", " "))}</span>'


def _rows(headers: tuple[str, ...], rows: list[tuple], css: str = "data") -> str:
    if not rows:
        return '<p class="quiet">none recorded</p>'
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _header(document: dict[str, Any]) -> str:
    record = document.get("record") or {}
    registry = record.get("registry") or {}
    head = registry.get("audit_head") or {}
    entry = registry.get("audit_entry") or {}
    narrowed = document.get("description") or {}
    rows = [
        ("Query as typed", text(document.get("query"))),
        ("Narrowed by", text(", ".join(f"{k} {v}" for k, v in narrowed.items())) or "nothing"),
        ("Exact matches only", "yes" if document.get("exact") else "no"),
        ("Operator", text(record.get("operator"))),
        ("Purpose", text(record.get("purpose")) or '<span class="quiet">none given</span>'),
        ("Traced at (UTC)", text(record.get("traced_at"))),
        ("Registry file", f"<code>{text(registry.get('file'))}</code>"),
        ("Schema version", text(registry.get("schema_version"))),
        (
            "Audit head when traced",
            f"entry {text(head.get('id'))} <code>{text(head.get('hash'))}</code>",
        ),
        (
            "Audit entry of this trace",
            (
                f"entry {text(entry.get('id'))} <code>{text(entry.get('hash'))}</code> in "
                f"<code>{text(entry.get('log'))}</code>"
            )
            if entry
            else "not audited",
        ),  # fmt: skip
        (
            "Tool",
            text(f"{record.get('tool', {}).get('name')} {record.get('tool', {}).get('version')}"),
        ),
        ("Rules (SHA-256)", f"<code>{text(record.get('rules', {}).get('sha256'))}</code>"),
    ]
    return f'<section id="record"><h2>Record</h2>{_kv_table(rows)}</section>'


def _summary(document: dict[str, Any]) -> str:
    matches, more = document.get("matches", []), document.get("more") or {}
    lines = [f"{len(matches)} match(es) shown, best first."]
    if more.get("matches"):
        at_least = "" if more.get("complete", True) else "at least "
        lines.append(
            f"{at_least}{more['matches']} more candidate(s) were left out by the limit; "
            f"{more.get('tied_with_last', 0)} of them fit exactly as well as the last one "
            "shown (the data cannot rank them apart)."
        )
    else:
        lines.append("No candidate was left out.")
    if document.get("withdrawn"):
        lines.append(
            f"{len(document['withdrawn'])} record(s) only withdrawn batches speak of are "
            "listed apart at the end; they are not matches."
        )
    body = "".join(f"<li>{text(line)}</li>" for line in lines)
    table = _rows(
        ("#", "serial", "manufacturer", "component", "match", "score", "status", "why"),
        [
            (n, m["serial"], m["manufacturer"], m["component"], m["match"], f"{m['score']:.2f}",
             m["status"], m["why"])
            for n, m in enumerate(matches, 1)
        ],
    )  # fmt: skip
    return f'<section id="summary"><h2>What matched</h2><ul>{body}</ul>{table}</section>'


def _firearm(match: dict[str, Any]) -> str:
    firearm = match.get("firearm")
    if not firearm:
        return '<p class="quiet">Not linked to a firearm.</p>'
    control = firearm["control_component"]
    rows = [
        ("Control component", text(f"{control['component']} {control['serial']} "
                                   f"({control['manufacturer']})")),
    ] + [
        (label, text(firearm.get(key)))
        for label, key in (("Type", "type"), ("Model", "model"), ("Calibre", "calibre"),
                           ("Country of manufacture", "country_of_manufacture"),
                           ("Year of manufacture", "year_of_manufacture"),
                           ("Import country", "import_country"), ("Import year", "import_year"))
        if firearm.get(key) is not None
    ]  # fmt: skip
    parts = _rows(
        ("component", "serial", "manufacturer", "installed", "removed"),
        [(p["component"], p["serial"], p["manufacturer"], p["installed"],
          p["removed"] or "installed") for p in firearm.get("components", [])],
    )  # fmt: skip
    return f"{_kv_table(rows)}<h4>Components over time</h4>{parts}"


def _events(events: list[dict[str, Any]], css: str = "data") -> str:
    return _rows(
        ("date", "event", "component", "party", "licence", "country", "reference", "notes"),
        [
            (e["event_date"], e["event"] + (f" (corrected by {e['corrected_by']})"
                                            if e.get("corrected_by") else ""),
             f"{e['component']} {e['serial']}", e.get("party"), e.get("party_licence"),
             e.get("party_country"), e.get("reference"), e.get("notes"))
            for e in events
        ],
        css,
    )  # fmt: skip


_NOTE_CLASS = {"duplicate": ' class="dup"'}


def _match(number: int, match: dict[str, Any]) -> str:
    notes = [
        f"<p{_NOTE_CLASS.get(kind, '')}>{text(note[:1].upper() + note[1:])}</p>"
        for kind, note in match_notes(match)
    ]
    installs = ""
    if match.get("installations"):
        installs = "<h4>Installations of this part</h4>" + _rows(
            ("in firearm", "installed", "removed"),
            [(f"{s['firearm_component']} {s['firearm_serial']}", s["installed"], s["removed"])
             for s in match["installations"]],
        )  # fmt: skip
    withdrawn = ""
    if match.get("withdrawn_events"):
        withdrawn = "<h4>Events of withdrawn batches (not counted)</h4>" + _events(
            match["withdrawn_events"], "data withdrawn"
        )
    return (
        f'<article class="match"><h3>{number}. <code>{text(match["serial"])}</code> '
        f"{text(match['manufacturer'])} {text(match['component'])} {_status(match['status'])}"
        f"</h3><p>{text(match['match'])} match, score {match['score']:.2f}: "
        f"{text(match['why'])} (component {text(match['component_id'])})</p>{''.join(notes)}"
        f"<h4>Firearm</h4>{_firearm(match)}{installs}<h4>Timeline</h4>"
        f"{_events(match.get('events', []))}{withdrawn}</article>"
    )


def render_trace_record(document: dict[str, Any]) -> str:
    """The trace ``document`` (as ``trace --json`` prints it) as one HTML page."""
    policy = (
        f"default-src 'none'; style-src {_csp_hash(PAGE_STYLE)}; script-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    record = document.get("record") or {}
    version = (record.get("tool") or {}).get("version")
    title = f"Trace record: {document.get('query')}"
    matches = "".join(_match(n, m) for n, m in enumerate(document.get("matches", []), 1))
    withdrawn = ""
    if document.get("withdrawn"):
        withdrawn = (
            '<section id="withdrawn"><h2>Records only withdrawn batches speak of</h2>'
            + (
                _rows(
                    ("serial", "manufacturer", "component", "component id"),
                    [
                        (m["serial"], m["manufacturer"], m["component"], m["component_id"])
                        for m in document["withdrawn"]
                    ],
                )  # fmt: skip
            )
            + "</section>"
        )
    entry = (record.get("registry") or {}).get("audit_entry") or {}
    verify = f"firetrace audit verify --db {(record.get('registry') or {}).get('file')}" + (
        f" (this trace: read entry {entry.get('id')}, {entry.get('hash')})" if entry else ""
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        f'<meta name="generator" content="firetrace {text(version)}">'
        f"<title>{text(title)}</title><style>{PAGE_STYLE}</style></head><body>"
        f'<header><h1>{text(title)}</h1><p class="sub">traced {text(record.get("traced_at"))} '
        f"by {text(record.get('operator'))} for {text(record.get('purpose') or 'no purpose given')}"
        "</p></header>"
        f"{_header(document)}{_summary(document)}"
        f'<section id="matches"><h2>Matches in full</h2>'
        f"{matches or '<p class=quiet>No registry record matches.</p>'}</section>{withdrawn}"
        "<footer>A firearm's status is derived from the latest status-bearing event of its "
        "control component, leaving out corrected events and events of withdrawn batches. "
        "Values are quoted from the registry; invisible and control characters in them are "
        f"shown as escapes. To check the audit chain this record names: {text(verify)}."
        "</footer></body></html>\n"
    )


def write_trace_record(document: dict[str, Any], path: str | Path) -> Path:
    """Write the trace record page to ``path`` whole or not at all (the caller has
    guarded the output path before tracing)."""
    path = Path(path)
    atomic_write_text(path, render_trace_record(document))
    return path
