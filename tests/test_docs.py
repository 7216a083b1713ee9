"""The documentation a user's clone holds: a short README, one page per area that
names every command, and links that all resolve (files and #anchors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from firetrace.cli import build_app

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def command_paths() -> list[str]:
    """Every command and subcommand of the full app, as typed ('refs add')."""
    root = typer.main.get_command(build_app())
    found: list[str] = []

    def walk(group, prefix: str) -> None:
        for name, command in group.commands.items():
            path = f"{prefix}{name}"
            found.append(path)
            if getattr(command, "commands", None):  # a group (typer vendors click)
                walk(command, path + " ")

    walk(root, "")
    return found


def heading_anchors(text: str) -> set[str]:
    """GitHub-style anchors of a page's headings."""
    anchors = set()
    for line in FENCE.sub("", text).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            title = re.sub(r"[^\w\- ]", "", title)
            anchors.add(title.replace(" ", "-"))
    return anchors


def test_readme_is_short_and_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    first_block = text.split("```sh", 1)[1].split("```", 1)[0]
    assert "pip install . && firetrace demo" in first_block
    assert "pip install -e '.[test]' && python -m pytest" in first_block


@pytest.mark.parametrize("command", command_paths())
def test_every_command_has_a_docs_page(command):
    """Each command is described on some page besides the generated reference."""
    mention = re.compile(r"firetrace (?:[-\w]+ )*?" + re.escape(command) + r"\b")
    pages = [p.name for p in DOCS.glob("*.md") if p.name != "cli.md"]
    hits = [name for name in pages if mention.search((DOCS / name).read_text())]
    assert hits, f"no page in docs/ describes `firetrace {command}`"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves(page):
    text = page.read_text()
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        assert linked.exists(), f"{page.name}: link to missing {target}"
        assert ROOT in linked.parents, f"{page.name}: {target} points outside the repository"
        if anchor:
            assert anchor in heading_anchors(linked.read_text()), (
                f"{page.name}: no heading for #{anchor} in {linked.name}"
            )


def test_no_page_points_at_files_a_clone_does_not_have():
    for page in PAGES:
        assert "../shared" not in page.read_text(), page.name


def test_the_batch_columns_and_vocabularies_are_specified_in_full():
    from firetrace.registry.vocabulary import RECORD_FIELDS, load_vocabulary

    registry = (DOCS / "registry.md").read_text()
    table_rows = {
        line.split("|")[1].strip() for line in registry.splitlines() if line.startswith("| `")
    }
    for column in RECORD_FIELDS:
        assert f"`{column}`" in table_rows, column
    vocab = load_vocabulary()
    for word in sorted(vocab.events | vocab.kinds | vocab.types):
        assert f"`{word}`" in registry, word


def test_the_dupes_kinds_and_the_scan_record_are_specified():
    from firetrace.forensics.entries import Entry
    from firetrace.forensics.scan import build_record
    from firetrace.registry.vocabulary import DUPLICATE_KINDS
    from firetrace.verdicts import Verdict

    dupes = (DOCS / "dupes.md").read_text()
    for kind in DUPLICATE_KINDS:
        assert f"`{kind}`" in dupes, kind
    scan = (DOCS / "scan.md").read_text()
    digests = {"sha256": "", "md5": "", "sha1": ""}
    record = build_record(Entry(("a.stl",), 0, lambda: None), digests, 0, "stl", {})
    for key in record:
        assert f'"{key}"' in scan or f"`{key}`" in scan, key
    for verdict in Verdict:
        assert verdict.value in scan
