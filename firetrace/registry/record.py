"""What makes a trace a record someone can hand over: who asked, why, when,
against which state of which registry, with which tool and rules, and which
audit entry vouches for it.

:func:`trace_header` is the ``record`` object of ``trace --json`` and the header
of ``trace --report`` and the tracing response (:mod:`.tracing`):

* ``operator`` and ``purpose`` (the case or request reference), ``traced_at``
  (UTC);
* ``registry``: the file (absolute path), its schema version, the audit log's
  head when the trace read it (id and hash: the registry state traced against),
  and the audit entry of this trace (in the read log beside the registry: its
  id and hash; ``firetrace audit verify`` checks both chains);
* ``tool``: firetrace and its version; ``rules``: a SHA-256 over the rule files
  a trace depends on (registry vocabulary, serial look-alikes, calibres, makers,
  marking profiles), so two records made under different rules are told apart.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from firetrace import __version__, audit, readlog
from firetrace.paths import rules_dir

# The rule files a trace's answer depends on (relative to the rules folder).
RULE_FILES = ("registry.toml", "serials.toml", "calibres.toml", "makers.toml", "marking")


@lru_cache(maxsize=1)
def rules_digest() -> str:
    """SHA-256 over the names and contents of :data:`RULE_FILES`, in order."""
    digest = hashlib.sha256()
    root = rules_dir()
    for name in RULE_FILES:
        path = root / name
        files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.relative_to(root).as_posix().encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def trace_header(conn: sqlite3.Connection, *, operator: str, purpose: str | None) -> dict[str, Any]:
    """The record header of a trace about to be answered (the audit entry is
    added by :func:`add_audit_entry` once written)."""
    head = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    registry = readlog.registry_file(conn)
    return {
        "operator": operator,
        "purpose": purpose,
        "traced_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "registry": {
            "file": os.path.abspath(registry) if registry else None,
            "schema_version": int(version[0]) if version else 0,
            "audit_head": {"id": head[0], "hash": head[1]}
            if head
            else {"id": 0, "hash": audit.GENESIS},
            "audit_entry": None,
        },
        "tool": {"name": "firetrace", "version": __version__},
        "rules": {"sha256": rules_digest()},
    }


def add_audit_entry(conn: sqlite3.Connection, header: dict[str, Any], entry_hash: str) -> None:
    """Name the audit entry that recorded the trace (``id``, ``hash``, ``log``)."""
    path = readlog.read_log_for(conn)
    entry: dict[str, Any] = {"hash": entry_hash, "id": readlog.entry_id(conn, entry_hash)}
    entry["log"] = os.path.abspath(path) if entry["id"] is not None else None
    if entry["id"] is None:  # no read log beside the registry (in memory): its own log
        row = conn.execute("SELECT id FROM audit WHERE hash = ?", (entry_hash,)).fetchone()
        entry["id"] = row[0] if row else None
    header["registry"]["audit_entry"] = entry
