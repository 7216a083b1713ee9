"""The per-file analysis the scan injects: an object with ``sniff`` (which design
format a stream holds, by content) and ``analyse`` (the inspection record). The
default, :class:`EngineAnalyser`, wires in the inspection engine
(:mod:`firetrace.detect`) and the reference library (:mod:`firetrace.refs`); it is
picklable and loads rules and references lazily, once per worker process.
Tests and other tools may pass any object with the same two methods (and,
optionally, ``preload``: names of modules a parallel scan imports once, before
its workers start).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, Protocol

from firetrace.detect.engine import inspect_stream
from firetrace.detect.rules import load_rules
from firetrace.detect.sniff import sniff_format
from firetrace.refs.library import load_matcher
from firetrace.verdicts import Verdict


class Analyser(Protocol):
    def sniff(self, fh: BinaryIO, size: int, name: str | None) -> str | None:
        """The format of the file on ``fh`` by content, or None when it is not a design file."""
        ...

    def analyse(self, fh: BinaryIO, *, name: str, size: int, fmt: str | None) -> dict:
        """The detection record of one design file (verdict, score, findings, ...)."""
        ...


class EngineAnalyser:
    """The inspection engine with the detection rules and (if a registry exists)
    the reference library's matcher."""

    # what the first analysis of each format would import: a parallel scan imports
    # them in the server its workers are forked from (see scan_units)
    preload = (
        "firetrace.detect.features",
        "firetrace.detect.bodies",
        "firetrace.detect.readers",
        "firetrace.gcode.rebuild",
        "skimage.measure._marching_cubes_lewiner",
        "trimesh",
    )

    def __init__(self, rules_dir: str | Path | None = None, db_path: str | Path | None = None):
        self.rules_dir = str(rules_dir) if rules_dir else None
        self.db_path = str(db_path) if db_path else None
        self._rules: Any = None
        self._matcher: Any = None
        self._loaded = False

    def __getstate__(self) -> dict:
        return {"rules_dir": self.rules_dir, "db_path": self.db_path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["rules_dir"], state["db_path"])

    def _load(self) -> None:
        if self._loaded:
            return

        self._rules = load_rules(self.rules_dir)
        self._matcher = None
        if self.db_path and Path(self.db_path).is_file():
            self._matcher = load_matcher(self.db_path)
        self._loaded = True

    def rules_digest(self) -> str | None:
        """The digest of the rule set in use, for the scan's manifest."""
        self._load()
        return getattr(self._rules, "digest", None)

    def sniff(self, fh: BinaryIO, size: int, name: str | None) -> str | None:
        """The format of the file on ``fh`` by content (see :func:`sniff_format`)."""
        return sniff_format(fh, size, name)

    def analyse(self, fh: BinaryIO, *, name: str, size: int, fmt: str | None) -> dict:
        """The detection engine's record for one design file, with the reference matches."""
        self._load()
        return inspect_stream(
            fh, name=name, size=size, fmt=fmt, rules=self._rules, matcher=self._matcher
        )


class SniffOnlyAnalyser:
    """Finds and hashes design files without geometric analysis (triage, benchmarks).

    Every design file found gets verdict ``clear`` with score 0 and no findings;
    the scan still hashes it (MD5, SHA-1, SHA-256) like any candidate.
    """

    def sniff(self, fh: BinaryIO, size: int, name: str | None) -> str | None:
        """The format of the file on ``fh`` by content (see :func:`sniff_format`)."""
        return sniff_format(fh, size, name)

    def analyse(self, fh: BinaryIO, *, name: str, size: int, fmt: str | None) -> dict:
        """A ``clear`` record naming the format only: for scans that only inventory files."""
        return {"format": fmt, "verdict": Verdict.CLEAR, "score": 0.0, "findings": []}
