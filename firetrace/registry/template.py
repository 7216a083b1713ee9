"""An empty record batch to fill in (``firetrace template``): the header row, then
one example row per event kind.

The rows are data, ``samples/template.csv``: the life of one invented modular
pistol (made, its barrel marked and fitted, exported, imported, sold,
transferred, lost, recovered, stolen, seized, the barrel removed, deactivated,
destroyed), valid under every marking profile, so a clerk sees a batch that
imports and then replaces the rows with real ones. Tests check the file has one
row per event kind of ``rules/registry.toml`` and that it imports.
"""

from __future__ import annotations

import csv
import io
import json

from firetrace.paths import samples_dir
from firetrace.registry.vocabulary import RECORD_FIELDS


def example_rows() -> list[dict[str, str]]:
    """The example rows of ``samples/template.csv``, every column present."""
    with open(samples_dir() / "template.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [{name: row.get(name) or "" for name in RECORD_FIELDS} for row in rows]


def template_text(fmt: str = "csv", *, examples: bool = True) -> str:
    """The batch as text: ``csv`` (header and rows) or ``jsonl`` (one object per
    row; with no examples, one object holding every column, empty)."""
    rows = example_rows() if examples else []
    if fmt == "jsonl":
        rows = rows or [dict.fromkeys(RECORD_FIELDS, "")]
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
