"""Imports point one way: cli -> report -> forensics -> refs -> detect, registry
-> serials -> the shared base modules. Checked on the source (imports inside
functions included), so a shortcut upwards fails here rather than in review."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "firetrace"

# Higher imports lower (or its own area), never the other way.
LAYER = {
    "cli": 7,
    "__main__": 8,  # python -m firetrace: the command line
    "report": 6,
    "forensics": 5,
    "refs": 4,
    "detect": 3,
    "gcode": 2.5,  # the G-code parser and rebuild: detect's readers and report use it
    "registry": 2,
    "serials": 1,
}
BASE = 0  # errors, paths, inputs, audit, verdicts, ...: used by every layer


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports(path: Path):
    return _imports_of(path, path.stat().st_mtime_ns)


@cache
def _imports_of(path: Path, _mtime: int) -> tuple[str, ...]:
    return tuple(_walk_imports(path))


def _walk_imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "firetrace":
                yield from (f"firetrace.{alias.name}" for alias in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, _area(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))


def test_imports_point_down():
    upward = []
    for path, area in _modules():
        for target in _imports(path):
            if not target.startswith("firetrace"):
                continue
            to = _area(target)
            if to != area and LAYER.get(to, BASE) >= LAYER.get(area, BASE) > BASE:
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
            elif to != area and LAYER.get(area, BASE) == BASE and to in LAYER:
                upward.append(f"{path.relative_to(PACKAGE)} (base) imports {target}")
    assert not upward, "\n".join(upward)


def test_serials_is_pure_text():
    for path in (PACKAGE / "serials").rglob("*.py"):
        imported = set(_imports(path))
        assert "sqlite3" not in imported, path.name
        assert not {m for m in imported if m.startswith("firetrace.registry")}, path.name


def test_nothing_outside_cli_imports_typer_or_rich():
    for path, area in _modules():
        if area in ("cli", "__main__"):
            continue
        for target in _imports(path):
            assert target.split(".")[0] not in ("typer", "rich"), path.relative_to(PACKAGE)


def test_the_registry_is_reached_through_sqlite3_only():
    # docs/architecture.md, "Why plain sqlite3, not sqlite-utils".
    for path, _ in _modules():
        for target in _imports(path):
            assert target.split(".")[0] != "sqlite_utils", path.relative_to(PACKAGE)
