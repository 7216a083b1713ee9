"""The HTML of the examiner's report: one self-contained page.

This module owns the page: the case summary from the manifest, the sortable,
filterable table of flagged files, one card per flagged file, and the print
stylesheet. Everything read from the evidence (file names, paths, metadata,
findings) is hostile input and goes through :func:`text` (HTML-escaped, with
control and bidirectional-override characters shown as escapes so a name cannot
disguise itself). Images are embedded as data URIs; the only script is a few
lines of vanilla JavaScript for sorting and filtering, and a Content Security
Policy pinned to the hashes of the page's own style and script means nothing
else can run or load, even if some text escaped its escaping.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firetrace.verdicts import BY_URGENCY as VERDICT_ORDER

_HERE = Path(__file__).resolve().parent
STYLE = (_HERE / "report.css").read_text(encoding="utf-8")
SCRIPT = (_HERE / "report.js").read_text(encoding="utf-8")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_TEXT = 2000  # characters of one evidence value shown before "…"
MAX_ROWS = 500  # rows of one summary table (errors, unanalysed files) before "… N more"


@dataclass
class Card:
    """One flagged file as the page shows it."""

    number: int
    record: dict[str, Any]
    views: list[Any] = field(default_factory=list)  # RenderedView
    facts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    content_check: str | None = None


@dataclass
class PageContext:
    """Everything the page says besides the cards."""

    title: str
    tool_version: str
    generated_at: str
    jsonl_name: str
    jsonl_sha256: str
    manifest: dict[str, Any] | None
    manifest_note: str | None
    records: list[dict[str, Any]]
    min_verdict: str
    total_flagged: int
    limit: int | None
    prepared_by: str | None = None  # the operator who built this report
    purpose: str | None = None


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """Evidence text made safe and honest for HTML.

    Escapes markup, shows control and direction-override characters as
    ``\\uXXXX`` instead of letting them act, replaces lone surrogates (names
    that were not UTF-8), and cuts very long values.
    """
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    s = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    s = "".join(
        f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" and c not in "\t" else c for c in s
    )
    if len(s) > limit:
        s = s[:limit] + f"\u2026 ({len(s) - limit:,} more characters)"
    return html.escape(s, quote=True)


def breakable(escaped: str) -> str:
    """Allow line breaks after the dots and underscores of an (escaped) identifier."""
    return escaped.replace(".", ".<wbr>").replace("_", "_<wbr>")


def number(value: Any, digits: int = 4) -> str:
    """A measured value as an examiner reads it: a few significant figures."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.{digits}g}"
    return text(value)


def describe(value: Any, depth: int = 0) -> str:
    """Any JSON value as compact, escaped text (nested values inline)."""
    if isinstance(value, dict):
        if depth > 2:
            return text(json.dumps(value, ensure_ascii=False, default=str))
        return "; ".join(f"{text(k)}: {describe(v, depth + 1)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if depth > 2:
            return text(json.dumps(value, ensure_ascii=False, default=str))
        joiner = " | " if any(isinstance(v, dict | list) for v in value) else ", "
        return joiner.join(describe(v, depth + 1) for v in value)
    if isinstance(value, int | float | bool):
        return number(value)
    return text(value)


def human_size(size: Any) -> str:
    """A byte count as HTML-escaped text in the largest fitting unit (``1.2 MB``)."""
    if not isinstance(size, int) or isinstance(size, bool):
        return text(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return text(size)


def _kv_table(rows: Iterable[tuple[str, str]], css: str = "kv") -> str:
    body = "".join(f"<tr><th scope=row>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<table class="{css}">{body}</table>' if body else ""


def _dict_table(items: list[Any], caption: str) -> str:
    """A list of objects (or of plain values) as a table; columns in first-seen order."""
    if not items:
        return ""
    shown = items[:MAX_ROWS]
    if all(isinstance(i, dict) for i in shown):
        columns: list[str] = []
        for item in shown:
            columns += [k for k in item if k not in columns]
        head = "".join(f"<th scope=col>{text(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{describe(item.get(c))}</td>" for c in columns) + "</tr>"
            for item in shown
        )
    else:
        head = "<th scope=col>entry</th>"
        body = "".join(f"<tr><td>{describe(item)}</td></tr>" for item in shown)
    more = len(items) - len(shown)
    tail = f'<p class="more">\u2026 {more:,} more not shown.</p>' if more > 0 else ""
    return (
        f'<table class="data"><caption>{caption}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{tail}"
    )


def _counts_table(counts: dict[str, Any], caption: str, order: Iterable[str] = ()) -> str:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    body = "".join(
        f'<tr><th scope=row><span class="badge v-{text(k)}">{text(k)}</span></th>'
        f'<td class="num">{number(counts[k])}</td></tr>'
        if k in VERDICT_ORDER
        else f'<tr><th scope=row>{text(k)}</th><td class="num">{number(counts[k])}</td></tr>'
        for k in keys
    )
    return f'<table class="counts"><caption>{caption}</caption>{body}</table>'


# Manifest fields the summary knows, under the names scans have used for them.
_MANIFEST_FIELDS = (
    ("Operator", ("operator",)),
    ("Purpose", ("purpose", "case", "reference")),
    ("Started", ("started", "start", "started_at", "start_time")),
    ("Ended", ("ended", "finished", "end", "ended_at", "end_time", "finished_at")),
    ("Host", ("host", "hostname")),
    ("Rules digest", ("rules_digest", "rules_sha256")),
)
_TOOL_KEYS = ("tool", "version", "tool_version", "firetrace_version")
_ROOT_KEYS = ("roots", "evidence", "evidence_roots", "sources")
# Lists of problems the scan reported: key, heading, shown open.
_EVENT_LISTS = (
    ("errors", "Errors", True),
    ("refused", "Refused (archive bombs, hostile member names)", True),
    ("events", "Events", True),
    ("problems", "Problems", True),
    ("skipped", "Skipped", False),
    ("warnings", "Warnings", False),
)


def _find_counts(manifest: dict[str, Any], word: str) -> dict | None:
    """A ``{name: count}`` mapping whose key mentions ``word`` (top level or one down)."""
    candidates = [manifest] + [v for v in manifest.values() if isinstance(v, dict)]
    for holder in candidates:
        for key, value in holder.items():
            if (
                word in key.lower()
                and isinstance(value, dict)
                and value
                and all(isinstance(v, int | float) for v in value.values())
            ):
                return value
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _summary(ctx: PageContext) -> str:
    parts = ['<section id="summary"><h2>Case summary</h2>']
    manifest = ctx.manifest or {}
    used: set[str] = set()
    if ctx.manifest is None:
        parts.append(
            f'<p class="warning">{text(ctx.manifest_note or "No manifest.")} The case '
            "details below are therefore missing, and the counts are taken from the scan "
            "records alone.</p>"
        )
    if manifest.get("interrupted"):
        parts.append(
            '<p class="warning">The scan was interrupted: its results may be incomplete.</p>'
        )
        used.add("interrupted")
    rows = []
    tool = " ".join(str(manifest[k]) for k in _TOOL_KEYS if isinstance(manifest.get(k), str))
    if tool:
        rows.append(("Tool", text(tool)))
    used.update(k for k in _TOOL_KEYS if k in manifest)
    for label, keys in _MANIFEST_FIELDS:
        key = next((k for k in keys if manifest.get(k) not in (None, "", [])), None)
        if key is not None:
            rows.append((label, describe(manifest[key])))
        used.update(k for k in keys if k in manifest)
    results = f"{text(ctx.jsonl_name)}<br><code>SHA-256 {ctx.jsonl_sha256}</code>"
    rows.append(("Scan results", results))
    parts.append(_kv_table(rows))

    roots = next((manifest[k] for k in _ROOT_KEYS if k in manifest), None)
    used.update(k for k in _ROOT_KEYS if k in manifest)
    if isinstance(roots, list) and roots:
        parts.append(_dict_table(roots, "Evidence"))
    elif roots:
        parts.append(_kv_table([("Evidence", describe(roots))]))
    images = manifest.get("disk_images")
    if isinstance(images, list) and images:
        parts.append(_dict_table(images, "Disk images"))
    if "disk_images" in manifest:
        used.add("disk_images")

    by_verdict = _find_counts(manifest, "verdict")
    by_format = _find_counts(manifest, "format")
    source = "manifest" if by_verdict is not None and by_format is not None else "scan records"
    if source == "scan records":
        by_verdict = Counter(str(r.get("verdict")) for r in ctx.records)
        by_format = Counter(str(r.get("format") or "unknown") for r in ctx.records)
    parts.append('<div class="count-tables">')
    counts_holder = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    totals = [
        (text(k).replace("_", " "), number(v)) for k, v in counts_holder.items() if _is_count(v)
    ]
    if totals:
        parts.append(
            '<table class="counts"><caption>Totals</caption>'
            + "".join(f'<tr><th scope=row>{k}</th><td class="num">{v}</td></tr>' for k, v in totals)
            + "</table>"
        )
    parts.append(_counts_table(by_verdict, f"By verdict ({source})", VERDICT_ORDER))
    parts.append(_counts_table(by_format, f"By format ({source})"))
    for holder in (manifest, counts_holder):
        for key, value in holder.items():
            if (
                isinstance(value, dict)
                and value
                and value is not by_verdict
                and value is not by_format
                and all(_is_count(x) for x in value.values())
            ):
                parts.append(_counts_table(value, text(key).replace("_", " ").capitalize()))
                used.add(key)
    parts.append("</div>")
    if counts_holder:
        used.add("counts")
    used.update(k for k in manifest if manifest[k] is by_verdict or manifest[k] is by_format)

    reported = False
    for key, heading, is_open in _EVENT_LISTS:
        if key not in manifest:
            continue
        used.add(key)
        listed = manifest[key] if isinstance(manifest[key], list) else [manifest[key]]
        if not listed:
            continue
        reported = True
        parts.append(
            f"<details{' open' if is_open else ''}><summary>{heading} ({len(listed):,})</summary>"
            f"{_dict_table(listed, text(heading) + ' during the scan')}</details>"
        )
    if ctx.manifest is not None and not reported:
        parts.append('<p class="quiet">The scan reported no errors, refusals or skipped files.</p>')
    unreadable = [
        {"path": r.get("path"), "format": r.get("format"), "error": r.get("error")}
        for r in ctx.records
        if r.get("verdict") == "error"
    ]
    if unreadable:
        parts.append(
            f"<details><summary>Files found but not analysable ({len(unreadable):,})</summary>"
            f"{_dict_table(unreadable, 'Records with verdict error')}</details>"
        )
    rest = [(text(k), describe(v)) for k, v in manifest.items() if k not in used]
    if rest:
        parts.append(
            "<details><summary>Other manifest fields (options, outputs, \u2026)</summary>"
            + _kv_table(rest)
            + "</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{text(verdict)}">{text(verdict)}</span>'


def _file_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _weight(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _top_finding(record: dict[str, Any]) -> str:
    findings = [f for f in record.get("findings") or [] if isinstance(f, dict)]
    if not findings:
        return ""
    best = max(
        findings, key=lambda f: f.get("weight") if isinstance(f.get("weight"), int | float) else 0
    )
    return f"{text(best.get('rule'))}: {text(best.get('detail'), 160)}"


def _flagged_table(ctx: PageContext, cards: list[Card]) -> str:
    shown = len(cards)
    intro = (
        f"{ctx.total_flagged:,} file{'s' if ctx.total_flagged != 1 else ''} at or above "
        f"<b>{text(ctx.min_verdict)}</b>, highest verdict and score first."
    )
    if shown < ctx.total_flagged:
        intro += f" Only the first {shown:,} are shown (<code>--limit {ctx.limit}</code>)."
    rows = []
    for card in cards:
        r = card.record
        path = str(r.get("path"))
        size = r.get("size")
        score = _weight(r.get("score"))
        link = f'<a href="#file-{card.number}">'
        rank = VERDICT_ORDER.index(r["verdict"]) if r.get("verdict") in VERDICT_ORDER else 9
        size_key = size if isinstance(size, int) else -1
        rows.append(
            f'<tr data-verdict="{text(r.get("verdict"))}">'
            f'<td class="num" data-v="{card.number}">{link}{card.number}</a></td>'
            f'<td data-v="{rank}">'
            f"{_badge(str(r.get('verdict')))}</td>"
            f'<td class="num" data-v="{float(score)}">{number(float(score), 3)}</td>'
            f"<td>{text(r.get('format'))}</td>"
            f'<td class="num" data-v="{size_key}">{human_size(size)}</td>'
            f"<td>{'yes' if r.get('deleted') else 'no'}</td>"
            f'<td class="path">{link}{text(_file_name(path))}</a>'
            f'<div class="full">{text(path)}</div></td>'
            f"<td>{_top_finding(r)}</td></tr>"
        )
    head = "".join(
        f'<th scope=col data-type="{kind}">{label}</th>'
        for label, kind in (
            ("#", "num"),
            ("Verdict", "num"),
            ("Score", "num"),
            ("Format", "text"),
            ("Size", "num"),
            ("Deleted", "text"),
            ("File", "text"),
            ("Strongest finding", "text"),
        )
    )
    controls = (
        '<div class="controls" id="controls" hidden>'
        '<label>Filter <input id="filter" type="search" '
        'placeholder="name, path, rule\u2026"></label>'
        '<label>Verdict <select id="verdict-filter"><option value="">any</option>'
        + "".join(f'<option value="{v}">{v}</option>' for v in VERDICT_ORDER)
        + '</select></label> <span id="shown-count" aria-live="polite"></span></div>'
    )
    table = (
        f'<table class="data" id="flagged-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="quiet">Nothing was flagged.</p>'
    )
    return (
        f'<section id="flagged"><h2>Flagged files</h2><p>{intro}</p>'
        f'<p class="noprint hint">Click a column heading to sort; type to filter.</p>'
        f"{controls if rows else ''}{table}</section>"
    )


def _image(view: Any, file_label: str) -> str:
    data = base64.b64encode(view.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" width="{view.width}" '
        f'height="{view.height}" alt="{text(view.caption)} view of {file_label}">'
        f"<figcaption>{text(view.caption)}</figcaption></figure>"
    )


def _bodies_table(bodies: Any) -> str:
    """A file's bodies (objects, groups, shells), each with its own verdict, so that the
    examiner can find the flagged part on a build plate; nothing for one body."""
    rows = [b for b in bodies or [] if isinstance(b, dict)]
    if len(rows) < 2:
        return ""
    rows.sort(key=lambda b: -_weight(b.get("score")))

    def why(b: dict) -> str:
        rules = [str(f.get("rule")) for f in b.get("findings") or [] if isinstance(f, dict)]
        return str(b.get("set_aside") or ", ".join(rules))

    body = "".join(
        f'<tr><td class="num">{text(b.get("index"))}</td><td>{text(b.get("name") or "")}</td>'
        f"<td>{_badge(str(b.get('verdict')))}</td>"
        f'<td class="num">{number(b.get("score"), 3)}</td>'
        f"<td>{text(' x '.join(str(v) for v in b.get('extents_mm') or []))}</td>"
        f"<td>{text(why(b))}</td></tr>"
        for b in rows
    )
    return (
        f'<div><h4>Bodies ({len(rows)}, most suspicious first)</h4><table class="data"><thead>'
        "<tr><th scope=col>#</th><th scope=col>Name</th><th scope=col>Verdict</th>"
        "<th scope=col>Score</th><th scope=col>Extents mm</th>"
        "<th scope=col>Findings, or why set aside</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _card(card: Card) -> str:
    r = card.record
    path = str(r.get("path"))
    name = text(_file_name(path))
    verdict = str(r.get("verdict"))
    score = r.get("score") if isinstance(r.get("score"), int | float) else 0.0
    parts = [
        f'<article class="card c-{text(verdict)}" id="file-{card.number}">'
        f'<h3><span class="n">{card.number}.</span> {_badge(verdict)} '
        f'<span class="score">score {number(float(score), 3)}</span> '
        f'<span class="name">{name}</span></h3>'
        f'<p class="fullpath"><span class="label">Full path</span> <code>{text(path)}</code></p>'
    ]
    if card.views:
        parts.append(
            '<div class="views">' + "".join(_image(v, name) for v in card.views) + "</div>"
        )
    if card.problem:
        parts.append(f'<p class="problem">{text(card.problem)}</p>')
    notes = [n for n in (card.content_check, *card.notes) if n]
    if notes:
        parts.append(
            '<ul class="notes">'
            + "".join(
                f'<li class="{"warning" if n.startswith("Warning") else ""}">{text(n)}</li>'
                for n in notes
            )
            + "</ul>"
        )

    identity = [
        ("Format", text(r.get("format") or "unknown")),
        ("Size", human_size(r.get("size"))),
        ("SHA-256", f"<code>{text(r.get('sha256') or 'not recorded')}</code>"),
        ("SHA-1", f"<code>{text(r.get('sha1') or 'not recorded')}</code>"),
        ("MD5", f"<code>{text(r.get('md5') or 'not recorded')}</code>"),
        ("Deleted", "<b>yes</b> (recovered from unallocated space)" if r.get("deleted") else "no"),
    ]
    if r.get("inode") is not None:
        identity.append(("Inode", text(r.get("inode"))))
    if r.get("units"):
        identity.append(("Units", describe(r.get("units"))))
    if r.get("hashset"):
        identity.append(("Hash set", describe(r.get("hashset"))))
    identity += [(text(label), text(value)) for label, value in card.facts]
    parts.append('<div class="facts">')
    parts.append(f"<div><h4>File</h4>{_kv_table(identity)}</div>")

    findings = [f for f in r.get("findings") or [] if isinstance(f, dict)]
    if findings:
        body = "".join(
            f'<tr><td><code class="rule">{breakable(text(f.get("rule")))}</code></td>'
            f'<td class="num">{number(f.get("weight"), 3)}</td>'
            f"<td>{text(f.get('detail'))}</td></tr>"
            for f in findings
        )
        parts.append(
            '<div><h4>Findings</h4><table class="data"><thead><tr><th scope=col>Rule</th>'
            "<th scope=col>Weight</th><th scope=col>Measured</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
    else:
        parts.append('<div><h4>Findings</h4><p class="quiet">None recorded.</p></div>')

    matches = [m for m in r.get("reference_matches") or [] if isinstance(m, dict)]
    if matches:
        body = "".join(
            f"<tr><td>{text(m.get('label'))}</td><td>{text(m.get('match'))}</td>"
            f'<td class="num">{number(m.get("similarity"), 3)}</td></tr>'
            for m in matches
        )
        parts.append(
            '<div><h4>Reference matches</h4><table class="data"><thead><tr>'
            "<th scope=col>Reference</th><th scope=col>Match</th><th scope=col>Similarity</th>"
            f"</tr></thead><tbody>{body}</tbody></table></div>"
        )
    else:
        parts.append(
            '<div><h4>Reference matches</h4><p class="quiet">No match in the reference '
            "library.</p></div>"
        )
    parts.append(_bodies_table(r.get("bodies")))
    for key, heading in (
        ("features", "Measured features"),
        ("metadata", "Names and metadata in the file"),
    ):
        values = r.get(key)
        if isinstance(values, dict) and values:
            # keys come from the file as much as values do: both escaped
            table = _kv_table((text(k), describe(v)) for k, v in values.items())
            parts.append(f"<div><h4>{heading}</h4>{table}</div>")
    parts.append("</div></article>")
    return "".join(parts)


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def render_page(ctx: PageContext, cards: list[Card]) -> str:
    """The whole report as one HTML document."""
    policy = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)}; "
        "base-uri 'none'; form-action 'none'"
    )
    cards_html = "".join(_card(c) for c in cards)
    byline = f"firetrace {text(ctx.tool_version)} \u00b7 generated {text(ctx.generated_at)}"
    if ctx.prepared_by:
        byline += f" by {text(ctx.prepared_by)}"
    if ctx.purpose:
        byline += f" for {text(ctx.purpose)}"
    byline += f" \u00b7 from {text(ctx.jsonl_name)}"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        f'<meta name="generator" content="firetrace {text(ctx.tool_version)}">'
        f"<title>{text(ctx.title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{text(ctx.title)}</h1>"
        f'<p class="sub">{byline}</p></header>'
        '<nav class="toc"><a href="#summary">Case summary</a><a href="#flagged">Flagged files</a>'
        f'<a href="#cards">Cards ({len(cards)})</a></nav>'
        f"{_summary(ctx)}{_flagged_table(ctx, cards)}"
        f'<section id="cards"><h2>Flagged files, one by one</h2>'
        f"{cards_html or '<p class=quiet>No cards: nothing was flagged.</p>'}</section>"
        "<footer>Pictures are orthographic views drawn by firetrace from the file as read "
        "for this report; hidden edges are dashed and every view carries a millimetre "
        "scale bar. Findings, scores and "
        "measurements are those of the scan. Names, paths and metadata are quoted from the "
        "evidence; invisible and control characters in them are shown as escapes.</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
