"""The duplicate-serial warnings of an import.

The importer calls :func:`after_batch_import` inside the import transaction,
after the batch's components are stored. Every new serial that joins a duplicate
group (the same, a normalised, a look-alike, an embedded-letter or a transposed
serial) is named with the group it joins, ranked as ``firetrace dupes`` ranks
them (most suspicious first, with the score and the reason), up to a cap (the
rest are counted). Pairs that are a maker's consecutive numbering (both serials
regular members of production runs, same model and year) are counted per maker,
not listed. Second items sharing a serial, which the importer reports itself,
are not repeated. Memory stays bounded whatever the batch size. Import never
rejects for this.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.dupes import batch_findings

MAX_WARNINGS = 1_000


def after_batch_import(
    conn: sqlite3.Connection,
    batch_id: int,
    *,
    limit: int = MAX_WARNINGS,
    after_id: int | None = None,
    reported: set[int] = frozenset(),
) -> list[str]:
    """Warnings for serials of batch ``batch_id`` that joined a duplicate group
    (``after_id``: the largest component id before the batch; ``reported``:
    component ids the importer already named as second items)."""

    found = batch_findings(conn, batch_id, limit=limit, after_id=after_id)
    new_ids = found.new_members
    warnings = []
    for group in found.groups:
        joined = [m for m in group.members if m.id in new_ids]
        if group.kind == "exact" and all(m.id in reported for m in joined):
            continue
        others = [m for m in group.members if m.id not in new_ids]
        serials = ", ".join(f"{m.serial} ({m.manufacturer} {m.component})" for m in joined)
        existing = (
            f"{len(others)} existing record{'s' * (len(others) != 1)}"
            if others
            else "records of this batch"
        )
        warnings.append(
            f"[suspicion {group.score:.2f}] {serials} joins {_article(group.kind)} "
            f"{group.kind} duplicate group with {existing}: {group.reason} ({group.detail})"
        )
    if found.more:
        warnings.append(
            f"... and {found.more} more serial warnings (firetrace dupes lists them all)"
        )
    for maker, count in sorted(found.expected.items(), key=lambda kv: -kv[1]):
        warnings.append(
            f"{count} transposition pair{'s' * (count != 1)} with this batch's {maker} serials "
            "are expected numbering (both in production runs, same model and year): counted, "
            "not listed; `firetrace dupes --kinds transposition --all` lists them"
        )
    return warnings


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"
