"""What the serial area does when a batch lands in the registry.

The importer calls :func:`after_batch_import` inside the import transaction,
after the batch's components are stored. The serial index tables are kept by
triggers (see :mod:`firetrace.serials.index`), so the hook's work is the
warning: every new serial that joins a duplicate group (an existing record with
the same, a normalised, a look-alike, an embedded-letter or a transposed
serial) is named with the group it joins. Import never rejects for this.
"""

from __future__ import annotations

import sqlite3


def after_batch_import(conn: sqlite3.Connection, batch_id: int) -> list[str]:
    """Warnings for serials of batch ``batch_id`` that joined a duplicate group."""
    from firetrace.serials.dupes import groups_touching

    conn = getattr(conn, "conn", conn)
    new_ids = [
        r[0] for r in conn.execute("SELECT id FROM components WHERE batch_id = ?", (batch_id,))
    ]
    if not new_ids:
        return []
    new = set(new_ids)
    warnings = []
    for group in groups_touching(conn, new_ids):
        joined = [m for m in group.members if m.id in new]
        others = [m for m in group.members if m.id not in new]
        serials = ", ".join(f"{m.serial} ({m.manufacturer} {m.component})" for m in joined)
        existing = (
            f"{len(others)} existing record{'s' * (len(others) != 1)}"
            if others
            else "records of this batch"
        )
        warnings.append(
            f"{serials} joins a {group.kind} duplicate group with {existing}: {group.detail}"
        )
    return warnings
