"""The report page's HTML, piece by piece (issue 17.8): each helper on small
made-up records and manifests, compared with the exact markup an examiner's
browser gets (escaping, number and size formats, table limits, the summary's
manifest fields and count tables, the flagged-files table, a card's every
section, and the page's policy and byline). No scan and no mesh: under a second."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from firetrace.report.html import (
    MAX_ROWS,
    SCRIPT,
    STYLE,
    Card,
    PageContext,
    _badge,
    _bodies_table,
    _card,
    _counts_table,
    _dict_table,
    _file_name,
    _find_counts,
    _flagged_table,
    _kv_table,
    _summary,
    _top_finding,
    _weight,
    breakable,
    describe,
    human_size,
    number,
    render_page,
    text,
)
from firetrace.verdicts import BY_URGENCY

SHA = "ab" * 32
SCAN = (
    '<table class="kv"><tr><th scope=row>Scan results</th><td>scan.jsonl<br>'
    f"<code>SHA-256 {SHA}</code></td></tr></table>"
)


def _ctx(manifest, records=(), note=None, **values) -> PageContext:
    base = dict(title="T<", tool_version="1.2", generated_at="2026-01-01", jsonl_name="scan.jsonl",
                jsonl_sha256=SHA, manifest=manifest, manifest_note=note, records=list(records),
                min_verdict="review", total_flagged=0, limit=None)  # fmt: skip
    base.update(values)
    return PageContext(**base)


def _counts(caption, *rows, badges=()):
    cells = "".join(
        f'<tr><th scope=row><span class="badge v-{k}">{k}</span></th><td class="num">{v}</td></tr>'
        if k in badges
        else f'<tr><th scope=row>{k}</th><td class="num">{v}</td></tr>'
        for k, v in rows
    )
    return f'<table class="counts"><caption>{caption}</caption>{cells}</table>'


# --- text and values ------------------------------------------------------------------------


def test_text_escapes_cuts_and_shows_invisibles():
    assert text(None) == "" and text(5) == "5"
    assert text("a\tb\x7f") == "a\tb\\x7f"  # a tab stays; DEL is a control
    assert (
        text("\u200b\u200f\ufeff\u2066\u2069\u202a") == "\\u200b\\u200f\\ufeff\\u2066\\u2069\\u202a"
    )
    assert text("\u2070\u2065\u2029") == "\u2070\u2065\u2029"  # just outside the ranges
    assert text("\"<&>'") == "&quot;&lt;&amp;&gt;&#x27;"
    assert text("x" * 5, limit=5) == "xxxxx"
    assert text("x" * 6, limit=5) == "xxxxx\u2026 (1 more characters)"
    assert text("y" * 3234) == "y" * 2000 + "\u2026 (1,234 more characters)"
    assert text("y" * 2000) == "y" * 2000
    assert text("<" * 3, limit=2) == "&lt;&lt;\u2026 (1 more characters)"  # cut before escaping


def test_breakable_number_and_describe():
    assert breakable("a.b_c.d") == "a.<wbr>b_<wbr>c.<wbr>d"
    values = (True, False, 1234567, -5, 3.14159265, 1e-7, float("inf"), float("nan"), 12345.678,
              "a<b", None)  # fmt: skip
    assert [number(v) for v in values] == [
        "yes", "no", "1,234,567", "-5", "3.142", "1e-07", "inf", "nan", "1.235e+04", "a&lt;b", ""
    ]  # fmt: skip
    assert number(3.14159, 2) == "3.1" and number(2.0) == "2"
    nested = {"a": 1, "b": [1, 2.5, "x"], "c": {"d": {"e": {"f": 1}}}, "g": [{"h": 1}, [2]]}
    assert describe(nested) == "a: 1; b: 1, 2.5, x; c: d: e: {&quot;f&quot;: 1}; g: h: 1 | 2"
    assert describe([[[[1, "<"]]]]) == "[1, &quot;&lt;&quot;]"
    assert describe([[[1, 2]]]) == "1, 2"
    assert describe({"a": {"b": {"c": [1]}}}) == "a: b: c: [1]"
    assert describe({"a": {"b": [{"c": 1}]}}) == "a: b: {&quot;c&quot;: 1}"
    assert describe(True) == "yes" and describe(None) == "" and describe((1, 2)) == "1, 2"
    assert describe(2.0) == "2" and describe("<") == "&lt;"
    # Deeper than three levels: JSON text, non-ASCII kept, other values as their text.
    assert describe([[[["é", Path("a/b")]]]]) == "[&quot;é&quot;, &quot;a/b&quot;]"
    assert describe({"a": {"b": {"c": {"d": "é", "p": Path("x")}}}}) == (
        "a: b: c: {&quot;d&quot;: &quot;é&quot;, &quot;p&quot;: &quot;x&quot;}"
    )


def test_human_size():
    sizes = (0, 999, 1000, 1499, 999_999, 1_000_000, 12_345_678_901, 10**12, 10**15, True, None,
             1.5, "<5>")  # fmt: skip
    assert [human_size(v) for v in sizes] == [
        "0 bytes", "999 bytes", "1.0 KB", "1.5 KB", "1000.0 KB", "1.0 MB", "12.3 GB", "1.0 TB",
        "1000.0 TB", "True", "", "1.5", "&lt;5&gt;",
    ]  # fmt: skip
    assert human_size(12_345) == "12.3 KB" and human_size(1234) == "1.2 KB"


# --- tables ---------------------------------------------------------------------------------


def test_key_value_and_list_tables():
    assert _kv_table([("A", "1"), ("B", "<b>")]) == (
        '<table class="kv"><tr><th scope=row>A</th><td>1</td></tr>'
        "<tr><th scope=row>B</th><td><b></td></tr></table>"
    )
    assert _kv_table([]) == "" and _kv_table(iter(())) == ""
    assert (
        _kv_table([("A", "1")], "x")
        == '<table class="x"><tr><th scope=row>A</th><td>1</td></tr></table>'
    )
    assert _dict_table([{"a": 1, "b": "<"}, {"c": [1, 2], "a": None}], "Cap") == (
        '<table class="data"><caption>Cap</caption><thead><tr><th scope=col>a</th>'
        "<th scope=col>b</th><th scope=col>c</th></tr></thead><tbody><tr><td>1</td>"
        "<td>&lt;</td><td></td></tr><tr><td></td><td></td><td>1, 2</td></tr></tbody></table>"
    )
    assert _dict_table([1, "x", {"k": 2}], "Cap") == (
        '<table class="data"><caption>Cap</caption><thead><tr><th scope=col>entry</th></tr>'
        "</thead><tbody><tr><td>1</td></tr><tr><td>x</td></tr><tr><td>k: 2</td></tr></tbody>"
        "</table>"
    )
    assert _dict_table([], "Cap") == ""


@pytest.mark.parametrize("extra", [0, 1, 1234])
def test_list_tables_stop_at_max_rows(extra):
    items = [{"a": i} for i in range(MAX_ROWS + extra)]
    table = _dict_table(items, "Cap")
    assert table.count("<tr>") == MAX_ROWS + 1  # the head and MAX_ROWS rows
    assert f"<td>{MAX_ROWS - 1}</td>" in table and f"<td>{MAX_ROWS}</td>" not in table
    tail = f'<p class="more">\u2026 {extra:,} more not shown.</p>'
    assert table.endswith("</tbody></table>" + (tail if extra else ""))
    plain = _dict_table(list(range(MAX_ROWS + extra)), "Cap")
    assert plain.count("<tr>") == MAX_ROWS + 1 and plain.endswith(
        "</table>" + (tail if extra else "")
    )


def test_counts_tables_order_and_badges():
    counts = {"zeta": 1, "review": 2, "alpha": 3.5, "flagged": 0, "high": True}
    assert _counts_table(counts, "C", BY_URGENCY) == _counts(
        "C", ("high", "yes"), ("review", 2), ("alpha", "3.5"), ("flagged", 0), ("zeta", 1),
        badges=("high", "review"),
    )  # fmt: skip
    assert _counts_table({"b": 1, "a": 2, "c": 3}, "C", ["c", "x"]) == _counts(
        "C", ("c", 3), ("a", 2), ("b", 1)
    )
    assert _counts_table({"<k>": 1}, "C") == _counts("C", ("&lt;k&gt;", 1))


def test_find_counts_looks_at_the_top_and_one_level_down():
    assert _find_counts({"x": {"verdicts": {"a": 1}}, "by_verdict": {}}, "verdict") == {"a": 1}
    assert _find_counts({"Verdict_counts": {"a": 1.5, "b": 2}}, "verdict") == {"a": 1.5, "b": 2}
    assert _find_counts({"verdicts": {"a": "x"}}, "verdict") is None
    assert _find_counts({"verdicts": {"a": 1, "b": "x"}}, "verdict") is None
    assert _find_counts({"a": {"b": {"verdicts": {"a": 1}}}}, "verdict") is None
    assert _find_counts({"verdicts": [1]}, "verdict") is None
    assert _find_counts({"formats": {"stl": 1}, "verdicts": {"high": 2}}, "verdict") == {"high": 2}


def test_small_helpers():
    assert _badge("<x") == '<span class="badge v-&lt;x">&lt;x</span>'
    names = ("a/b/c.stl", "a/b/", "/", "", "c", "d/MAX")
    assert [_file_name(p) for p in names] == ["c.stl", "b", "/", "", "c", "MAX"]
    assert [_weight(v) for v in (1, 2.5, True, "3", None)] == [1.0, 2.5, 0.0, 0.0, 0.0]
    assert _top_finding({}) == "" and _top_finding({"findings": None}) == ""
    assert _top_finding({"findings": ["x"]}) == ""
    findings = [
        "x",
        {"rule": "r1", "weight": 0.2, "detail": "d1"},
        {"rule": "r<2", "weight": 0.9, "detail": "y" * 200},
        {"rule": "r3", "weight": "9", "detail": "d3"},  # a weight that is no number counts 0
    ]
    assert (
        _top_finding({"findings": findings})
        == "r&lt;2: " + "y" * 160 + "\u2026 (40 more characters)"
    )
    unweighted = [{"rule": "r1", "detail": "a"}, {"rule": "r2", "weight": -1, "detail": "b"}]
    assert _top_finding({"findings": unweighted}) == "r1: a"
    assert _top_finding({"findings": [{"rule": "r1", "weight": 1}]}) == "r1: "


# --- the case summary ---------------------------------------------------------------------


RECORDS = [
    {"verdict": "high", "format": "stl"},
    {"verdict": "error", "format": "obj", "path": "a/b.obj", "error": "bad <x>"},
    {"verdict": "clear"},
]
UNREADABLE = (
    '<details><summary>Files found but not analysable (1)</summary><table class="data">'
    "<caption>Records with verdict error</caption><thead><tr><th scope=col>path</th>"
    "<th scope=col>format</th><th scope=col>error</th></tr></thead><tbody><tr><td>a/b.obj</td>"
    "<td>obj</td><td>bad &lt;x&gt;</td></tr></tbody></table></details>"
)
FROM_RECORDS = (
    '<div class="count-tables">'
    + _counts("By verdict (scan records)", ("high", 1), ("clear", 1), ("error", 1),
              badges=("high", "clear", "error"))
    + _counts("By format (scan records)", ("obj", 1), ("stl", 1), ("unknown", 1))
    + "</div>"
)  # fmt: skip


@pytest.mark.parametrize(
    ("note", "said"), [(None, "No manifest."), ("No manifest <here>.", "No manifest &lt;here&gt;.")]
)
def test_summary_without_a_manifest(note, said):
    assert _summary(_ctx(None, RECORDS, note=note)) == (
        f'<section id="summary"><h2>Case summary</h2><p class="warning">{said} The case details '
        "below are therefore missing, and the counts are taken from the scan records alone.</p>"
        f"{SCAN}{FROM_RECORDS}{UNREADABLE}</section>"
    )


def test_summary_of_an_empty_manifest_says_nothing_was_reported():
    assert _summary(_ctx({}, [{"verdict": "high", "format": "stl"}])) == (
        f'<section id="summary"><h2>Case summary</h2>{SCAN}<div class="count-tables">'
        + _counts("By verdict (scan records)", ("high", 1), badges=("high",))
        + _counts("By format (scan records)", ("stl", 1))
        + '</div><p class="quiet">The scan reported no errors, refusals or skipped files.</p>'
        "</section>"
    )


def test_summary_of_a_full_manifest():
    manifest = {
        "interrupted": True, "tool": "firetrace", "version": "1.2", "firetrace_version": 3,
        "operator": "", "case": "C-1", "purpose": None, "started": "t0", "end_time": "t1",
        "hostname": "h", "rules_sha256": "r",
        "evidence": ["/mnt/a", "/mnt/b"], "disk_images": [{"path": "d.img", "size": 5}],
        "counts": {"files": 10, "skipped_big": 2, "flag": True,
                   "by_verdict": {"high": 1, "clear": 9}, "by_format": {"stl": 10},
                   "sizes": {"small": 3}},
        "errors": [{"path": "x", "error": "e"}], "refused": [], "skipped": "one", "warnings": [],
        "options": {"limit": 5}, "extra_<key>": "v",
    }  # fmt: skip
    assert _summary(_ctx(manifest, RECORDS)) == (
        '<section id="summary"><h2>Case summary</h2><p class="warning">The scan was interrupted: '
        'its results may be incomplete.</p><table class="kv"><tr><th scope=row>Tool</th>'
        "<td>firetrace 1.2</td></tr><tr><th scope=row>Purpose</th><td>C-1</td></tr>"
        "<tr><th scope=row>Started</th><td>t0</td></tr><tr><th scope=row>Ended</th><td>t1</td>"
        "</tr><tr><th scope=row>Host</th><td>h</td></tr><tr><th scope=row>Rules digest</th>"
        "<td>r</td></tr><tr><th scope=row>Scan results</th><td>scan.jsonl<br>"
        f"<code>SHA-256 {SHA}</code></td></tr></table>"
        '<table class="data"><caption>Evidence</caption><thead><tr><th scope=col>entry</th></tr>'
        "</thead><tbody><tr><td>/mnt/a</td></tr><tr><td>/mnt/b</td></tr></tbody></table>"
        '<table class="data"><caption>Disk images</caption><thead><tr><th scope=col>path</th>'
        "<th scope=col>size</th></tr></thead><tbody><tr><td>d.img</td><td>5</td></tr></tbody>"
        '</table><div class="count-tables">'
        + _counts("Totals", ("files", 10), ("skipped big", 2))
        + _counts("By verdict (manifest)", ("high", 1), ("clear", 9), badges=("high", "clear"))
        + _counts("By format (manifest)", ("stl", 10))
        + _counts("Options", ("limit", 5))
        + _counts("Sizes", ("small", 3))
        + '</div><details open><summary>Errors (1)</summary><table class="data"><caption>Errors '
        "during the scan</caption><thead><tr><th scope=col>path</th><th scope=col>error</th></tr>"
        "</thead><tbody><tr><td>x</td><td>e</td></tr></tbody></table></details><details>"
        '<summary>Skipped (1)</summary><table class="data"><caption>Skipped during the scan'
        "</caption><thead><tr><th scope=col>entry</th></tr></thead><tbody><tr><td>one</td></tr>"
        f"</tbody></table></details>{UNREADABLE}<details><summary>Other manifest fields "
        '(options, outputs, \u2026)</summary><table class="kv"><tr><th scope=row>extra_&lt;key&gt;'
        "</th><td>v</td></tr></table></details></section>"
    )


def test_summary_fields_under_their_other_names():
    manifest = {
        "tool_version": "2.0", "firetrace_version": "b", "reference": ["R1"], "start": "s",
        "finished_at": "f", "host": "<h>", "rules_digest": "d<", "sources": {"a": "b"},
        "verdict_counts": {"review": 2}, "format_counts": {"obj": 2}, "events": {"what": "e1"},
        "problems": [], "refused": [{"name": "../x"}], "disk_images": [],
    }  # fmt: skip
    page = _summary(_ctx(manifest))
    assert page.startswith(
        '<section id="summary"><h2>Case summary</h2><table class="kv"><tr><th scope=row>Tool</th>'
        "<td>2.0 b</td></tr><tr><th scope=row>Purpose</th><td>R1</td></tr><tr><th scope=row>"
        "Started</th><td>s</td></tr><tr><th scope=row>Ended</th><td>f</td></tr><tr><th scope=row>"
        "Host</th><td>&lt;h&gt;</td></tr><tr><th scope=row>Rules digest</th><td>d&lt;</td></tr>"
    )
    assert (
        '<table class="kv"><tr><th scope=row>Evidence</th><td>a: b</td></tr></table>'
        '<div class="count-tables">'
        + _counts("By verdict (manifest)", ("review", 2), badges=("review",))
        + _counts("By format (manifest)", ("obj", 2))
        + "</div><details open><summary>Refused (archive bombs, hostile member names) (1)"
        '</summary><table class="data"><caption>Refused (archive bombs, hostile member names) '
        "during the scan</caption><thead><tr><th scope=col>name</th></tr></thead><tbody><tr>"
        "<td>../x</td></tr></tbody></table></details><details open><summary>Events (1)</summary>"
        '<table class="data"><caption>Events during the scan</caption><thead><tr><th scope=col>'
        "what</th></tr></thead><tbody><tr><td>e1</td></tr></tbody></table></details></section>"
    ) in page
    assert "Disk images" not in page and "Other manifest fields" not in page
    # Only one of the two count mappings in the manifest: both taken from the records.
    half = _summary(_ctx({"verdict_counts": {"review": 2}}, [{"verdict": "high"}]))
    assert "By verdict (scan records)" in half and "By format (scan records)" in half
    assert _counts("Verdict counts", ("review", 2), badges=("review",)) in half
    assert "The scan reported no errors" in half


# --- the flagged files ----------------------------------------------------------------------

CONTROLS = (
    '<div class="controls" id="controls" hidden><label>Filter <input id="filter" type="search" '
    'placeholder="name, path, rule\u2026"></label><label>Verdict <select id="verdict-filter">'
    '<option value="">any</option><option value="high">high</option><option value="review">'
    'review</option><option value="clear">clear</option><option value="error">error</option>'
    '</select></label> <span id="shown-count" aria-live="polite"></span></div>'
)
HEAD = (
    '<table class="data" id="flagged-table"><thead><tr><th scope=col data-type="num">#</th>'
    '<th scope=col data-type="num">Verdict</th><th scope=col data-type="num">Score</th>'
    '<th scope=col data-type="text">Format</th><th scope=col data-type="num">Size</th>'
    '<th scope=col data-type="text">Deleted</th><th scope=col data-type="text">File</th>'
    '<th scope=col data-type="text">Strongest finding</th></tr></thead>'
)
FLAGGED = {
    "path": "ev/dir/gun<1>.stl", "verdict": "high", "score": 0.87654, "format": "stl",
    "size": 1500, "deleted": True,
    "findings": [{"rule": "bore.through_hole", "weight": 0.5, "detail": "d=9 mm"},
                 {"rule": "x", "weight": 0.7, "detail": "w"}],
}  # fmt: skip
ROW = (
    '<tr data-verdict="high"><td class="num" data-v="1"><a href="#file-1">1</a></td>'
    '<td data-v="0"><span class="badge v-high">high</span></td><td class="num" '
    'data-v="0.87654">0.877</td><td>stl</td><td class="num" data-v="1500">1.5 KB</td>'
    '<td>yes</td><td class="path"><a href="#file-1">gun&lt;1&gt;.stl</a><div class="full">'
    "ev/dir/gun&lt;1&gt;.stl</div></td><td>x: w</td></tr>"
)
HINT = '<p class="noprint hint">Click a column heading to sort; type to filter.</p>'


def test_flagged_table_of_one_file():
    assert _flagged_table(_ctx({}, total_flagged=1), [Card(1, FLAGGED)]) == (
        '<section id="flagged"><h2>Flagged files</h2><p>1 file at or above <b>review</b>, '
        f"highest verdict and score first.</p>{HINT}{CONTROLS}{HEAD}<tbody>{ROW}</tbody></table>"
        "</section>"
    )


def test_flagged_table_cut_by_the_limit_and_odd_values():
    odd = {"path": "b/", "verdict": "odd", "score": True, "size": "big", "format": None}
    review = {"path": "r", "verdict": "review", "score": 2, "size": 7, "deleted": False}
    cards = [Card(1, FLAGGED), Card(2, odd), Card(3, review)]
    assert _flagged_table(_ctx({}, total_flagged=5, limit=3, min_verdict="<v>"), cards) == (
        '<section id="flagged"><h2>Flagged files</h2><p>5 files at or above <b>&lt;v&gt;</b>, '
        "highest verdict and score first. Only the first 3 are shown (<code>--limit 3</code>).</p>"
        f"{HINT}{CONTROLS}{HEAD}<tbody>{ROW}"
        '<tr data-verdict="odd"><td class="num" data-v="2"><a href="#file-2">2</a></td>'
        '<td data-v="9"><span class="badge v-odd">odd</span></td><td class="num" data-v="0.0">0'
        '</td><td></td><td class="num" data-v="-1">big</td><td>no</td><td class="path">'
        '<a href="#file-2">b</a><div class="full">b/</div></td><td></td></tr>'
        '<tr data-verdict="review"><td class="num" data-v="3"><a href="#file-3">3</a></td>'
        '<td data-v="1"><span class="badge v-review">review</span></td><td class="num" '
        'data-v="2.0">2</td><td></td><td class="num" data-v="7">7 bytes</td><td>no</td>'
        '<td class="path"><a href="#file-3">r</a><div class="full">r</div></td><td></td></tr>'
        "</tbody></table></section>"
    )


def test_flagged_table_of_nothing():
    assert _flagged_table(_ctx({}, total_flagged=0), []) == (
        '<section id="flagged"><h2>Flagged files</h2><p>0 files at or above <b>review</b>, '
        f'highest verdict and score first.</p>{HINT}<p class="quiet">Nothing was flagged.</p>'
        "</section>"
    )


# --- a card --------------------------------------------------------------------------------------


@dataclass
class _View:
    png: bytes
    width: int
    height: int
    caption: str


def test_a_card_with_every_section():
    record = {
        "path": "ev/gun.stl", "verdict": "high", "score": 0.56789, "format": "stl",
        "size": 2_000_000, "deleted": True, "sha256": "s2", "sha1": None, "md5": "m5", "inode": 0,
        "units": {"unit": "mm"}, "hashset": ["known", "set"],
        "findings": [{"rule": "bore.hole_1", "weight": 0.23456, "detail": "<d>"}, "junk"],
        "reference_matches": [{"label": "ref<1>", "match": "geometry", "similarity": 0.98765}, 3],
        "bodies": [
            {"index": 0, "name": "a", "verdict": "clear", "score": 0.1, "extents_mm": [1, 2, 3],
             "findings": [{"rule": "r1"}, {"rule": "r2"}, "x"]},
            {"index": 1, "name": None, "verdict": "high", "score": 0.91234,
             "set_aside": "too small", "findings": []},
            "x",
        ],
        "features": {"holes": 2}, "metadata": {},
    }  # fmt: skip
    card = Card(
        3,
        record,
        views=[_View(b"\x89PNG", 10, 20, "Top<")],
        facts=[("Fact<", "v>")],
        notes=["Warning: odd", "", "plain"],
        problem="bad <p>",
        content_check="Content ok",
    )
    assert _card(card) == (
        '<article class="card c-high" id="file-3"><h3><span class="n">3.</span> <span class="badge '
        'v-high">high</span> <span class="score">score 0.568</span> <span class="name">gun.stl'
        '</span></h3><p class="fullpath"><span class="label">Full path</span> '
        "<code>ev/gun.stl</code></p>"
        '<div class="views"><figure><img src="data:image/png;base64,iVBORw==" width="10" '
        'height="20" alt="Top&lt; view of gun.stl"><figcaption>Top&lt;</figcaption></figure></div>'
        '<p class="problem">bad &lt;p&gt;</p><ul class="notes"><li class="">Content ok</li>'
        '<li class="warning">Warning: odd</li><li class="">plain</li></ul><div class="facts"><div>'
        '<h4>File</h4><table class="kv"><tr><th scope=row>Format</th><td>stl</td></tr><tr>'
        "<th scope=row>Size</th><td>2.0 MB</td></tr><tr><th scope=row>SHA-256</th><td><code>s2"
        "</code></td></tr><tr><th scope=row>SHA-1</th><td><code>not recorded</code></td></tr><tr>"
        "<th scope=row>MD5</th><td><code>m5</code></td></tr><tr><th scope=row>Deleted</th><td><b>"
        "yes</b> (recovered from unallocated space)</td></tr><tr><th scope=row>Inode</th><td>0"
        "</td></tr><tr><th scope=row>Units</th><td>unit: mm</td></tr><tr><th scope=row>Hash set"
        "</th><td>known, set</td></tr><tr><th scope=row>Fact&lt;</th><td>v&gt;</td></tr></table>"
        '</div><div><h4>Findings</h4><table class="data"><thead><tr><th scope=col>Rule</th>'
        "<th scope=col>Weight</th><th scope=col>Measured</th></tr></thead><tbody><tr><td>"
        '<code class="rule">bore.<wbr>hole_<wbr>1</code></td><td class="num">0.235</td><td>'
        "&lt;d&gt;</td></tr></tbody></table></div><div><h4>Reference matches</h4>"
        '<table class="data"><thead>'
        "<tr><th scope=col>Reference</th><th scope=col>Match</th><th scope=col>Similarity</th></tr>"
        '</thead><tbody><tr><td>ref&lt;1&gt;</td><td>geometry</td><td class="num">0.988</td></tr>'
        '</tbody></table></div><div><h4>Bodies (2, most suspicious first)</h4><table class="data">'
        "<thead><tr><th scope=col>#</th><th scope=col>Name</th><th scope=col>Verdict</th>"
        "<th scope=col>Score</th><th scope=col>Extents mm</th><th scope=col>Findings, or why set "
        'aside</th></tr></thead><tbody><tr><td class="num">1</td><td></td><td><span class="badge '
        'v-high">high</span></td><td class="num">0.912</td><td></td><td>too small</td></tr><tr>'
        '<td class="num">0</td><td>a</td><td><span class="badge v-clear">clear</span></td><td '
        'class="num">0.1</td><td>1 x 2 x 3</td><td>r1, r2</td></tr></tbody></table></div><div>'
        '<h4>Measured features</h4><table class="kv"><tr><th scope=row>holes</th><td>2</td></tr>'
        "</table></div></div></article>"
    )


def test_a_bare_card():
    assert _card(Card(1, {"path": "x", "verdict": "review", "score": "0.3"})) == (
        '<article class="card c-review" id="file-1"><h3><span class="n">1.</span> <span '
        'class="badge v-review">review</span> <span class="score">score 0</span> <span '
        'class="name">x</span></h3><p class="fullpath"><span class="label">Full path</span> '
        '<code>x</code></p><div class="facts"><div><h4>File</h4><table class="kv"><tr><th '
        "scope=row>Format</th><td>unknown</td></tr><tr><th scope=row>Size</th><td></td></tr><tr>"
        "<th scope=row>SHA-256</th><td><code>not recorded</code></td></tr><tr><th scope=row>SHA-1"
        "</th><td><code>not recorded</code></td></tr><tr><th scope=row>MD5</th><td><code>not "
        "recorded</code></td></tr><tr><th scope=row>Deleted</th><td>no</td></tr></table></div>"
        '<div><h4>Findings</h4><p class="quiet">None recorded.</p></div><div><h4>Reference '
        'matches</h4><p class="quiet">No match in the reference library.</p></div></div></article>'
    )
    # One body, or none that is an object: no bodies table.
    assert _bodies_table([{"index": 1}]) == "" and _bodies_table(None) == ""
    assert _bodies_table([{"index": 1}, "x"]) == ""
    assert "score 2" in _card(Card(1, {"path": "x", "verdict": "high", "score": 2}))
    metadata = _card(Card(1, {"path": "x", "verdict": "high", "metadata": {"author": "<a>"}}))
    assert (
        '<div><h4>Names and metadata in the file</h4><table class="kv"><tr><th scope=row>author'
        "</th><td>&lt;a&gt;</td></tr></table></div></div></article>"
    ) in metadata


# --- the page ----------------------------------------------------------------------------------


def _sha(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def test_page_head_policy_byline_and_footer():
    page = render_page(_ctx({}, prepared_by="ann<", purpose="CASE-9"), [Card(1, FLAGGED)])
    policy = (
        f"default-src 'none'; img-src data:; style-src {_sha(STYLE)}; script-src {_sha(SCRIPT)}; "
        "base-uri 'none'; form-action 'none'"
    )
    assert page.startswith(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" '
        f'content="{policy}"><meta name="generator" content="firetrace 1.2"><title>T&lt;</title>'
        f'<style>{STYLE}</style></head><body><header><h1>T&lt;</h1><p class="sub">firetrace 1.2 '
        "\u00b7 generated 2026-01-01 by ann&lt; for CASE-9 \u00b7 from scan.jsonl</p></header>"
        '<nav class="toc"><a href="#summary">Case summary</a><a href="#flagged">Flagged files</a>'
        '<a href="#cards">Cards (1)</a></nav><section id="summary">'
    )
    assert (
        '</section><section id="cards"><h2>Flagged files, one by one</h2><article class="card '
        'c-high" id="file-1">'
    ) in page
    assert page.endswith(
        "</article></section><footer>Pictures are orthographic views drawn by firetrace from the "
        "file as read for this report; hidden edges are dashed and every view carries a millimetre "
        "scale bar. Findings, scores and measurements are those of the scan. Names, paths and "
        "metadata are quoted from the evidence; invisible and control characters in them are shown "
        f"as escapes.</footer><script>{SCRIPT}</script></body></html>\n"
    )
    assert page.count("<script>") == 1 and page.count("<style>") == 1


def test_page_without_cards_operator_or_purpose():
    page = render_page(_ctx({}), [])
    assert (
        '<p class="sub">firetrace 1.2 \u00b7 generated 2026-01-01 \u00b7 from scan.jsonl</p>'
    ) in page
    assert '<a href="#cards">Cards (0)</a>' in page
    assert (
        '<section id="cards"><h2>Flagged files, one by one</h2><p class=quiet>No cards: nothing '
        "was flagged.</p></section>"
    ) in page
    assert " by " not in page.split("</header>")[0].split('class="sub"')[1]


def test_page_cards_follow_each_other_in_order():
    cards = [Card(1, FLAGGED), Card(2, {"path": "b", "verdict": "review", "score": 0.2})]
    page = render_page(_ctx({}, total_flagged=2), cards)
    section = page.split('<section id="cards"><h2>Flagged files, one by one</h2>')[1]
    assert section.startswith(_card(cards[0]) + _card(cards[1]) + "</section><footer>")
    assert '<a href="#cards">Cards (2)</a>' in page


def test_a_card_lists_every_view_finding_and_match_in_order():
    record = {
        "path": "p.stl", "verdict": "high",
        "findings": [{"rule": "a", "weight": 1, "detail": "x"}, {"rule": "b", "weight": 2}],
        "reference_matches": [{"label": "r1", "similarity": 1}, {"label": "r2", "match": "m"}],
    }  # fmt: skip
    views = [_View(b"a", 1, 2, "Top"), _View(b"b", 3, 4, "Side")]
    page = _card(Card(2, record, views=views))
    assert (
        '<div class="views"><figure><img src="data:image/png;base64,YQ==" width="1" height="2" '
        'alt="Top view of p.stl"><figcaption>Top</figcaption></figure><figure><img '
        'src="data:image/png;base64,Yg==" width="3" height="4" alt="Side view of p.stl">'
        "<figcaption>Side</figcaption></figure></div>"
    ) in page
    assert (
        '<tbody><tr><td><code class="rule">a</code></td><td class="num">1</td><td>x</td></tr>'
        '<tr><td><code class="rule">b</code></td><td class="num">2</td><td></td></tr></tbody>'
    ) in page
    assert (
        '<tbody><tr><td>r1</td><td></td><td class="num">1</td></tr><tr><td>r2</td><td>m</td>'
        '<td class="num"></td></tr></tbody>'
    ) in page


def test_disk_images_that_are_not_a_list_are_not_tabled():
    page = _summary(_ctx({"disk_images": "d.img"}))
    assert "Disk images" not in page and "Other manifest fields" not in page
