"""Evidence text in the report: whatever a file name holds, it is shown, never obeyed."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from firetrace.report.html import describe, text


@given(st.text())
def test_text_never_yields_markup_or_invisible_controls(value):
    shown = text(value, limit=10**6)
    assert not set("<>\"'") & set(shown)
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in shown)
    assert not any(ord(c) < 32 and c != "\t" for c in shown)
    shown.encode("utf-8")  # lone surrogates from non-UTF-8 names are made encodable


@given(st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"))))
def test_printable_text_reads_back_unchanged(value):
    if any(0x2066 <= ord(c) <= 0x2069 or 0x200B <= ord(c) <= 0x200F for c in value):
        return
    assert html.unescape(text(value, limit=10**6)) == value


def test_disguised_and_non_utf8_names_are_shown_as_escapes():
    assert text("invoice\u202egpj.lts") == "invoice\\u202egpj.lts"
    assert text("caf\udce9.stl") == "caf\\udce9.stl"
    assert text("a\nb\x00c") == "a\\x0ab\\x00c"
    assert text("x" * 30, limit=10).startswith("xxxxxxxxxx\u2026 (20 more")


@given(st.recursive(st.none() | st.booleans() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20))  # fmt: skip
def test_describe_escapes_nested_values(value):
    assert "<" not in describe(value) and ">" not in describe(value)
