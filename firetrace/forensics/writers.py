"""Writers of scan results: JSON Lines (one record per line, a unit's records in
one write so an interrupted scan leaves whole units), a progress journal beside
it that makes ``--resume`` exact, CSV (spreadsheet-safe through
:func:`firetrace.sanitize.csv_cell`) and the resume
reader that recovers finished units from an earlier JSONL.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from firetrace.atomicfile import AtomicFile, atomic_output, atomic_write_text
from firetrace.errors import InputError
from firetrace.forensics.entries import LAYER_SEPARATOR, Tally
from firetrace.inputs import parse_json
from firetrace.sanitize import csv_cell
from firetrace.verdicts import FLAGGED

CSV_COLUMNS = (
    "path",
    "sha256",
    "md5",
    "sha1",
    "size",
    "format",
    "verdict",
    "score",
    "deleted",
    "inode",
    "modified",
    "hashset",
    "reference_matches",
    "findings",
    "bodies",
    "error",
)


def manifest_path(jsonl: str | Path) -> Path:
    """``OUT.jsonl`` -> ``OUT.manifest.json`` in the same folder."""
    jsonl = Path(jsonl)
    return jsonl.with_name(jsonl.stem + ".manifest.json")


def journal_path(jsonl: str | Path) -> Path:
    """``OUT.jsonl`` -> ``OUT.progress.jsonl``: one line per finished top-level file."""
    jsonl = Path(jsonl)
    return jsonl.with_name(jsonl.stem + ".progress.jsonl")


def unit_of(path: str) -> str:
    """The top-level evidence file a record path belongs to."""
    return path.split(LAYER_SEPARATOR, 1)[0]


def dumps(record: dict) -> str:
    """One record as a compact JSON line (non-ASCII kept, unknown types as text)."""
    return json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":"))


class JsonlWriter:
    """Records as JSON Lines, plus the progress journal used by ``--resume``."""

    def __init__(self, path: str | Path, *, append: bool = False):
        self.path = Path(path)
        mode = "a" if append else "w"
        self._fh = open(self.path, mode, encoding="utf-8", errors="backslashreplace")
        self._journal = open(
            journal_path(self.path), mode, encoding="utf-8", errors="backslashreplace"
        )

    def write_unit(
        self, unit: str, size: int, mtime_ns: int, records: list[dict], *, tally=None, images=()
    ) -> None:
        """A finished unit: its records, then its journal line, which also keeps the
        unit's counts, events and disk images, so a run resumed after a SIGKILL (no
        manifest written) still counts the whole scan."""
        if records:
            self._fh.write("".join(dumps(r) + "\n" for r in records))
            self._fh.flush()
        line = {"unit": unit, "size": size, "mtime_ns": mtime_ns}
        if tally is not None:
            line |= {"counts": dict(tally.counts), "events": tally.events, "images": list(images)}
        self._journal.write(dumps(line) + "\n")
        self._journal.flush()

    def close(self) -> None:
        """Close the JSONL file and its journal."""
        self._fh.close()
        self._journal.close()


class CsvWriter:
    """Records as CSV, one row per record, nested fields flattened to text; the
    file is put in place when the scan ends (an interrupted scan leaves none:
    the resumed run writes it whole)."""

    def __init__(self, path: str | Path):

        self.path = Path(path)
        self._out = AtomicFile(self.path, newline="", errors="backslashreplace")
        self._csv = csv.writer(self._out.fh)
        self._csv.writerow(CSV_COLUMNS)

    def write(self, record: dict) -> None:
        """Write one record as a CSV row (formula-leading cells neutralised)."""
        self._csv.writerow([_cell(column, record.get(column)) for column in CSV_COLUMNS])

    def close(self, *, complete: bool = True) -> None:
        """Close the CSV: put in place when ``complete``, else discard the partial file."""
        if complete:
            self._out.commit()
        else:
            self._out.abort()


def _cell(column: str, value):

    if column == "findings" and value is not None:
        value = "; ".join(
            f"{f.get('rule')} ({f.get('weight')}): {f.get('detail', '')}" for f in value
        )
    elif column == "bodies" and value is not None:
        value = bodies_summary(value)
    elif column == "reference_matches" and value is not None:
        value = "; ".join(f"{m.get('label')} {m.get('match')} {m.get('similarity')}" for m in value)
    return csv_cell(value)  # evidence names may be spreadsheet formulas


def bodies_summary(bodies: list[dict]) -> str:
    """One line for a file's bodies: how many, and each one flagged (index, name,
    verdict, score), so that a spreadsheet shows which part on a plate to look at."""
    flagged = [b for b in bodies if b.get("verdict") in FLAGGED]
    shown = "; ".join(
        f"body {b.get('index')} {b.get('name') or ''} {b.get('verdict')} {b.get('score')}".replace(
            "  ", " "
        )
        for b in flagged
    )
    return f"{len(bodies)} bodies" + (f", flagged: {shown}" if shown else "")


@dataclass
class Resumed:
    """What an earlier, interrupted run finished: its units, their records, and
    (from the journal) their counts, events and disk images."""

    done: set[str]
    records: list[dict]
    tally: Tally = field(default_factory=Tally)
    images: list[dict] = field(default_factory=list)
    journal_counts: bool = False  # the journal kept counts (else: the old manifest's)


def load_resume(path: str | Path) -> Resumed:
    """Finished units and their records from an earlier run's JSONL and journal.

    A unit is finished when the journal lists it (records are written before the
    journal line, so its records are whole). Records of unfinished units and a
    torn last line (the run was killed mid-write) are dropped and the JSONL is
    rewritten without them, so the resumed run appends whole units only. Without
    a journal, every unit with a record counts as finished.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("resume file not found", path=str(path))
    records: list[dict] = []
    torn = False
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        lines = fh.read().split("\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = parse_json(line)
            if not isinstance(record, dict) or "path" not in record:
                raise ValueError("not a scan record")
        except ValueError:
            if index == last:
                torn = True
                break
            raise InputError("not a scan record", path=str(path), line=index + 1) from None
        records.append(record)
    journal = journal_path(path)
    resumed = Resumed(set(), [])
    if journal.is_file():
        with open(journal, encoding="utf-8", errors="surrogateescape") as fh:
            for line in fh:
                _journal_line(line, resumed)
    else:
        resumed.done = {unit_of(r["path"]) for r in records}
    resumed.records = [r for r in records if unit_of(r["path"]) in resumed.done]
    if torn or len(resumed.records) != len(records):
        text = "".join(dumps(r) + "\n" for r in resumed.records)
        atomic_write_text(path, text, errors="backslashreplace")
    return resumed


def _journal_line(line: str, resumed: Resumed) -> None:
    try:
        entry = parse_json(line)
        unit = entry["unit"]
    except (ValueError, KeyError, TypeError):
        return  # a torn journal line: that unit is simply redone
    resumed.done.add(unit)
    counts = entry.get("counts")
    if isinstance(counts, dict):
        resumed.journal_counts = True
        for key, value in counts.items():
            if isinstance(value, int):
                resumed.tally.count(key, value)
        resumed.tally.events.extend(e for e in entry.get("events") or [] if isinstance(e, dict))
        resumed.images.extend(i for i in entry.get("images") or [] if isinstance(i, dict))


def write_json(path: str | Path, document: dict) -> None:
    """Write ``document`` to ``path`` as indented JSON, atomically."""
    with atomic_output(path, errors="backslashreplace") as fh:
        json.dump(document, fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
