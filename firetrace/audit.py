"""Hash-chained audit log of every read of personal data and every write.

Each entry stores time, operator, purpose, command, a digest of its arguments,
the affected record ids, the previous entry's hash and its own hash. With
``FIRETRACE_AUDIT_KEY`` set the hash is an HMAC-SHA-256 under that key, so a
person who can edit the database file still cannot rebuild a valid chain.

Call :func:`append_entry` inside the same transaction as the change it records,
so the entry and the change land together or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def _key() -> bytes | None:
    key = os.environ.get("FIRETRACE_AUDIT_KEY")
    return key.encode() if key else None


def args_digest(args: Any) -> str:
    """SHA-256 of the canonical JSON of a command's arguments."""
    blob = json.dumps(args, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def entry_hash(fields: dict[str, Any], prev_hash: str, key: bytes | None) -> str:
    """The hash of one entry: its fields in canonical JSON chained to ``prev_hash``."""
    payload = (
        json.dumps(
            {
                k: fields[k]
                for k in ("ts", "operator", "purpose", "command", "args_digest", "record_ids")
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        + b"|"
        + prev_hash.encode()
    )
    if key:
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()


def append_entry(
    conn,
    *,
    operator: str,
    purpose: str | None,
    command: str,
    args: Any,
    record_ids: Iterable[Any] = (),
    ts: str | None = None,
) -> str:
    """Append one entry through ``conn`` (a sqlite3 connection); return its hash."""
    row = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev = row[0] if row else GENESIS
    key = _key()
    fields = {
        "ts": ts or datetime.now(UTC).isoformat(timespec="microseconds"),
        "operator": operator,
        "purpose": purpose,
        "command": command,
        "args_digest": args_digest(args),
        "record_ids": json.dumps(list(record_ids), default=str, separators=(",", ":")),
    }
    digest = entry_hash(fields, prev, key)
    conn.execute(
        "INSERT INTO audit (ts, operator, purpose, command, args_digest, record_ids, "
        "prev_hash, hash, keyed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*fields.values(), prev, digest, 1 if key else 0),
    )
    return digest


def check_policy(command: str, purpose: str | None, policy_path=None) -> None:
    """Refuse ``command`` without a purpose when ``rules/policy.toml`` requires one."""
    import tomllib

    from firetrace.errors import UsageError
    from firetrace.paths import rules_dir

    path = policy_path or rules_dir() / "policy.toml"
    with open(path, "rb") as fh:
        policy = tomllib.load(fh)
    required = policy.get("purpose", {}).get("required_for", [])
    if command in required and not (purpose and purpose.strip()):
        raise UsageError(
            f"policy ({path.name}) requires --purpose for '{command}': give a case or "
            "request reference"
        )
