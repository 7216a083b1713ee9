"""What the serial area does when a batch lands in the registry.

The importer calls :func:`after_batch_import` inside the import transaction,
after the batch's components are stored. The serial index tables are kept by
triggers or, for large batches, filled in bulk by the importer (see
:mod:`firetrace.registry.serial_index`), so the hook's work is the warning: every new
serial that joins a duplicate group with an existing record (the same, a
normalised, a look-alike, an embedded-letter or a transposed serial) is named
with the group it joins, up to a cap (the rest are counted). Transpositions
among the batch's own serials, which sequential numbering produces by the
thousand (…0199 / …1099), are one line per manufacturer with a count and an
example. Memory stays bounded whatever the batch size. Import never rejects
for this.
"""

from __future__ import annotations

import sqlite3

from firetrace.registry.dupes import batch_findings

MAX_WARNINGS = 1_000


def after_batch_import(
    conn: sqlite3.Connection, batch_id: int, *, limit: int = MAX_WARNINGS
) -> list[str]:
    """Warnings for serials of batch ``batch_id`` that joined a duplicate group."""

    found = batch_findings(conn, batch_id, limit=limit)
    new_ids = found.new_members
    warnings = []
    for group in found.groups:
        joined = [m for m in group.members if m.id in new_ids]
        others = [m for m in group.members if m.id not in new_ids]
        serials = ", ".join(f"{m.serial} ({m.manufacturer} {m.component})" for m in joined)
        existing = (
            f"{len(others)} existing record{'s' * (len(others) != 1)}"
            if others
            else "records of this batch"
        )
        warnings.append(
            f"{serials} joins a {group.kind} duplicate group with {existing}: {group.detail}"
        )
    if found.more:
        warnings.append(
            f"... and {found.more} more serial warnings (firetrace dupes lists them all)"
        )
    for maker, (count, example) in sorted(found.internal.items(), key=lambda kv: -kv[1][0]):
        warnings.append(
            f"{count} transposition pair{'s' * (count != 1)} among this batch's own {maker} "
            f"serials (as sequential numbering makes), e.g. {example}; "
            "`firetrace dupes --kinds transposition` lists them"
        )
    return warnings
