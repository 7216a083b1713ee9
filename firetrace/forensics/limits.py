"""Scan limits (container depth, sniff window, bomb thresholds) read from
``rules/forensics/scan.toml``; a ``--rules DIR`` holding ``forensics/scan.toml``
overrides any of its keys.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from firetrace.errors import InputError
from firetrace.paths import rules_dir


@dataclass(frozen=True)
class ScanLimits:
    max_depth: int = 8
    sniff_bytes: int = 65536
    in_memory_bytes: int = 64 << 20
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 16 << 20
    max_member_bytes: int = 4 << 30
    max_total_bytes: int = 16 << 30
    max_members: int = 100_000
    analysis_seconds: float = 120.0

    def as_dict(self) -> dict:
        """The limits as a plain dict, for the manifest."""
        return asdict(self)


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(str(exc), path=str(path)) from None
    flat: dict = {}
    for section in data.values():
        if isinstance(section, dict):
            flat.update(section)
    known = {f.name for f in fields(ScanLimits)}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise InputError(f"unknown scan limit {unknown[0]!r}", path=str(path))
    return flat


def load_limits(extra_dir: str | Path | None = None, **overrides: int | None) -> ScanLimits:
    """Bundled limits, then ``extra_dir/forensics/scan.toml``, then explicit overrides."""
    values: dict = _read_toml(rules_dir() / "forensics" / "scan.toml")
    if extra_dir is not None:
        user = Path(extra_dir) / "forensics" / "scan.toml"
        if user.is_file():
            values.update(_read_toml(user))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ScanLimits(**values)
    except TypeError as exc:
        raise InputError(str(exc), path="forensics/scan.toml") from None
