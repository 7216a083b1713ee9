"""Scan limits (container depth, sniff window, bomb thresholds) read from
``rules/forensics/scan.toml``; a ``--rules DIR`` holding ``forensics/scan.toml``
overrides any of its keys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from firetrace.errors import InputError
from firetrace.inputs import read_toml
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


# What each limit may be: (type, smallest, largest). Sizes stop at 2**62 bytes, a
# ratio at 10**9, the analysis time at a day: anything beyond is a typo, and a
# negative depth, a string or 1e999 would silently disable the limit.
_RANGES: dict[str, tuple[type, float, float]] = {
    "max_depth": (int, 0, 1000),
    "sniff_bytes": (int, 512, 1 << 30),
    "in_memory_bytes": (int, 0, 1 << 62),
    "max_ratio": (float, 1, 1e9),
    "ratio_floor_bytes": (int, 0, 1 << 62),
    "max_member_bytes": (int, 1, 1 << 62),
    "max_total_bytes": (int, 1, 1 << 62),
    "max_members": (int, 1, 1 << 40),
    "analysis_seconds": (float, 0, 86400),
}


def _checked(name: str, value: object, where: str) -> int | float:
    kind, low, high = _RANGES[name]
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if not numeric or (kind is int and not isinstance(value, int)):
        wanted = "a whole number" if kind is int else "a number"
        raise InputError(f"must be {wanted}, not {value!r}", path=where, field=name)
    if not low <= value <= high:  # NaN fails both comparisons
        raise InputError(f"{value!r} is outside {low:g}..{high:g}", path=where, field=name)
    return kind(value)


def _read_toml(path: Path) -> dict:
    try:
        data = read_toml(path, "scan limits file")
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from None
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
    bundled = rules_dir() / "forensics" / "scan.toml"
    values = {k: _checked(k, v, str(bundled)) for k, v in _read_toml(bundled).items()}
    if extra_dir is not None:
        user = Path(extra_dir) / "forensics" / "scan.toml"
        if user.exists():  # a FIFO or a folder there is refused, not passed over
            values.update({k: _checked(k, v, str(user)) for k, v in _read_toml(user).items()})
    values.update(
        {
            k: _checked(k, v, f"--{k.replace('_', '-')}")
            for k, v in overrides.items()
            if v is not None
        }
    )
    return ScanLimits(**values)
