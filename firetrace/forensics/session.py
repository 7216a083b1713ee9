"""One scan run from start to finish, as the command line drives it: load limits,
hash set and analyser; walk the roots (skipping units finished by an earlier run
when resuming); scan in parallel; stamp hash-set matches; write JSONL, CSV and
CASE; and write the run manifest (tool version, rules digest, operator, purpose,
evidence roots with image hashes, start and end times, counts by format and
verdict, every error and refusal) beside the JSONL.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from firetrace import __version__
from firetrace.errors import InputError, UsageError
from firetrace.forensics import analysis
from firetrace.forensics.case import write_case
from firetrace.forensics.entries import Tally, display_name
from firetrace.forensics.hashing import hash_stream
from firetrace.forensics.hashset import load_hashset
from firetrace.forensics.limits import ScanLimits, load_limits
from firetrace.forensics.scan import default_workers, scan_units, walk
from firetrace.forensics.writers import (
    CsvWriter,
    JsonlWriter,
    journal_path,
    load_resume,
    manifest_path,
    write_json,
)
from firetrace.inputs import parse_json
from firetrace.outputs import guard_outputs, refuse_outputs_in_evidence
from firetrace.paths import default_db_path
from firetrace.verdicts import FLAGGED, at_least, parse_min_verdict


@dataclass
class ScanOptions:
    roots: list[str]
    jsonl: Path | None = None
    csv: Path | None = None
    case: Path | None = None
    min_verdict: str = "review"  # lowest verdict listed as flagged (every record is written)
    workers: int | None = None
    max_depth: int | None = None
    hashset: Path | None = None
    resume: Path | None = None
    rules_dir: Path | None = None
    db_path: Path | None = None
    refs_db: Path | None = None  # the reference library, when not in the registry
    operator: str | None = None
    purpose: str | None = None
    keep_records: bool = False  # return every reported record (for --json)
    force: bool = False  # replace outputs that exist


@dataclass
class ScanSummary:
    manifest: dict
    flagged: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)

    @property
    def unreadable_roots(self) -> list[dict]:
        """Errors about an evidence root named on the command line itself (a broken
        link, a damaged E01): that input could not be read at all."""
        roots = {root["path"] for root in self.manifest.get("roots", [])}
        return [e for e in self.manifest.get("errors", []) if e.get("path") in roots]

    @property
    def exit_code(self) -> int:
        """2 when a named root could not be read at all, else 1 when anything is flagged."""
        if self.unreadable_roots:
            return 2
        return 1 if self.flagged else 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_DERIVED_COUNTS = ("by_format", "by_verdict", "hashset_matches", "resumed_skipped")


def _carry_over(previous_manifest: Path, tally: Tally, images: list[dict]) -> str | None:
    """Counts, events and disk images of the interrupted run, so the resumed run's
    manifest still lists everything (records are counted again from the JSONL)."""

    try:
        previous = parse_json(previous_manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # killed before its manifest was written: nothing to carry
    for key, value in (previous.get("counts") or {}).items():
        if key not in _DERIVED_COUNTS and isinstance(value, int):
            tally.count(key, value)
    for kind in ("errors", "refused", "skipped", "warnings"):
        tally.events.extend(e for e in previous.get(kind) or [] if isinstance(e, dict))
    images.extend(previous.get("disk_images") or [])
    return (previous.get("resumed") or {}).get("first_started") or previous.get("started")


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode
    except OSError:
        return 0


def _guard_outputs(options: ScanOptions, jsonl: Path | None) -> None:
    """Every file the scan will write, checked together before anything is read:
    not the registry, not an input, not special, no two alike, none replaced
    without ``--force`` (``--resume`` continues its JSONL, journal and manifest)."""

    outputs: dict[str, Path | None] = {"--jsonl": jsonl}
    if jsonl is not None:
        outputs["the manifest"] = manifest_path(jsonl)
        outputs["the progress journal"] = journal_path(jsonl)
    outputs |= {"--csv": options.csv, "--case": options.case}
    resumed = ("--jsonl", "the manifest", "the progress journal") if options.resume else ()
    guard_outputs(
        outputs,
        registry=options.db_path or default_db_path(),
        inputs=[
            options.hashset,
            *(p for p in options.roots if os.path.isfile(p)),
            # the extra rules (scan limits, detection rules) are read too
            *(sorted(Path(options.rules_dir).rglob("*.toml")) if options.rules_dir else ()),
        ],
        force=options.force,
        may_exist=resumed,
    )


def _make_output_folders(outputs: list) -> None:
    """Create the folders the results go into (``--jsonl out/scan.jsonl``), before
    any evidence is read, so a bad output path fails at once and cleanly."""
    for output in outputs:
        if output is None:
            continue
        folder = Path(output).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the output folder: {exc.strerror or exc}", path=str(output)
            ) from None
        if not os.access(folder, os.W_OK):
            raise InputError("output folder is not writable", path=str(output))


def _sha256_of(path) -> str:

    with open(path, "rb") as fh:
        return hash_stream(fh)[0]["sha256"]


def run_scan(
    options: ScanOptions,
    *,
    analyser=None,
    limits: ScanLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScanSummary:
    """Run a scan; returns the manifest and the flagged records, best score first."""
    floor = parse_min_verdict(options.min_verdict)
    if not options.roots:
        raise UsageError("scan needs at least one evidence path")
    for root in options.roots:
        if not os.path.lexists(root):
            raise InputError("evidence path not found", path=display_name(root))
    jsonl = options.jsonl
    if options.resume is not None:
        if jsonl is not None and Path(jsonl).resolve() != Path(options.resume).resolve():
            raise UsageError("--resume continues the JSONL it names; give --jsonl the same file")
        jsonl = options.resume
    outputs = [jsonl, options.csv, options.case]
    _guard_outputs(options, jsonl)
    refuse_outputs_in_evidence(outputs, options.roots, shown=display_name)
    _make_output_folders(outputs)
    limits = limits or load_limits(options.rules_dir, max_depth=options.max_depth)
    if analyser is None:
        analyser = analysis.EngineAnalyser(options.rules_dir, options.refs_db or options.db_path)
    hashset = None
    if options.hashset is not None:
        hashset = load_hashset(options.hashset)
    workers = options.workers or default_workers()

    # Load the rules (and references) now: a broken --rules folder is an error
    # before any evidence is read, not a column of error records.
    describe = getattr(analyser, "rules_digest", None)
    rules_digest = describe() if describe is not None else None

    done: set[str] = set()
    previous: list[dict] = []
    started = _now()
    tally = Tally()
    images: list[dict] = []
    first_started = None
    if options.resume is not None:
        resumed = load_resume(options.resume)
        done, previous = resumed.done, resumed.records
        if resumed.journal_counts:  # exact, even when the first run left no manifest
            tally.merge(resumed.tally)
            images.extend(resumed.images)
            first_started = _carry_over(manifest_path(jsonl), Tally(), [])
        else:  # a journal from before it kept counts: the old manifest's
            first_started = _carry_over(manifest_path(jsonl), tally, images)
    by_format: Counter = Counter()
    by_verdict: Counter = Counter()
    known: Counter = Counter()
    flagged: list[dict] = []
    kept: list[dict] = []  # for the CASE export, which needs the whole graph at once
    bytes_done = files_done = 0

    def take(record: dict) -> None:
        by_format[record.get("format") or "unknown"] += 1
        by_verdict[record.get("verdict") or "unknown"] += 1
        if record.get("hashset"):
            known[record["hashset"]] += 1
        # Every candidate is written; --min-verdict says which count as flagged.
        if record.get("verdict") in FLAGGED and at_least(record.get("verdict"), floor):
            flagged.append(record)
        if options.case is not None or options.keep_records:
            kept.append(record)

    jsonl_writer = JsonlWriter(jsonl, append=options.resume is not None) if jsonl else None
    csv_writer = CsvWriter(options.csv) if options.csv else None
    interrupted = failed = False
    try:
        for record in previous:
            take(record)
            if csv_writer:
                csv_writer.write(record)

        def finished_before(unit) -> bool:
            nonlocal files_done, bytes_done
            if unit.display not in done:
                return False
            files_done += 1  # counts toward progress: the bar's total includes it
            bytes_done += unit.size
            return True

        units = walk(options.roots, tally, skip=finished_before if done else None)
        for result in scan_units(units, analyser, limits, workers=workers):
            tally.merge(result.tally)
            images.extend(result.images)
            for record in result.records:
                if hashset is not None:
                    record["hashset"] = hashset.lookup(record)
                take(record)
                if csv_writer:
                    csv_writer.write(record)
            if jsonl_writer:
                jsonl_writer.write_unit(
                    result.unit,
                    result.size,
                    result.mtime_ns,
                    result.records,
                    tally=result.tally,
                    images=result.images,
                )
            files_done += 1
            bytes_done += result.size
            if progress is not None:
                progress(files_done, bytes_done)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        failed = True
        raise
    finally:
        if jsonl_writer is not None:
            jsonl_writer.close()
        if csv_writer is not None:
            csv_writer.close(complete=not failed)
        output_hashes = {
            kind: _sha256_of(path)
            for kind, path in (("jsonl", jsonl), ("csv", options.csv))
            if path is not None and Path(path).is_file()
        }
        manifest = _manifest(
            options,
            jsonl=jsonl,
            rules_digest=rules_digest,
            limits=limits,
            workers=workers,
            started=started,
            tally=tally,
            images=images,
            by_format=by_format,
            by_verdict=by_verdict,
            known=known,
            hashset=hashset,
            resumed=(len(done), len(previous)) if options.resume is not None else None,
            interrupted=interrupted,
        )
        manifest["outputs"]["sha256"] = output_hashes
        if first_started:
            manifest["resumed"]["first_started"] = first_started
        if jsonl is not None:
            write_json(manifest_path(jsonl), manifest)
    if options.case is not None:
        write_case(options.case, kept, manifest)
    flagged.sort(key=lambda r: (-float(r.get("score") or 0), r["path"]))
    return ScanSummary(manifest, flagged, kept if options.keep_records else [])


def _manifest(
    options: ScanOptions,
    *,
    jsonl,
    rules_digest,
    limits,
    workers,
    started,
    tally,
    images,
    by_format,
    by_verdict,
    known,
    hashset,
    resumed,
    interrupted,
) -> dict:
    image_by_path = {image["path"]: image for image in images}
    roots = []
    for root in options.roots:
        shown = display_name(root)
        entry: dict = {"path": shown, "absolute": display_name(os.path.abspath(root))}
        if os.path.isdir(root):
            entry["type"] = "folder"
        elif os.path.isfile(root) or stat.S_ISBLK(_mode(root)):
            entry["type"] = "file"
            entry["size"] = os.path.getsize(root)
            if stat.S_ISBLK(_mode(root)):
                entry["block_device"] = True
            if shown in image_by_path:
                image = image_by_path[shown]
                entry.update(type="disk_image", image_kind=image["kind"], size=image["size"])
                entry.update({k: image[k] for k in ("md5", "sha1", "sha256")})
        else:
            entry["type"] = "other"
        roots.append(entry)
    counts = dict(sorted(tally.counts.items()))
    events = tally.events
    document = {
        "tool": "firetrace",
        "version": __version__,
        "command": "scan",
        "rules_digest": rules_digest,
        "operator": options.operator,
        "purpose": options.purpose,
        "host": platform.node(),
        "started": started,
        "ended": _now(),
        "interrupted": interrupted,
        "roots": roots,
        "disk_images": images,
        "options": {
            "min_verdict": options.min_verdict,
            "workers": workers,
            "rules_dir": str(options.rules_dir) if options.rules_dir else None,
            "limits": limits.as_dict(),
            "hashset": (
                {"path": hashset.source, "entries": len(hashset)} if hashset is not None else None
            ),
        },
        "outputs": {
            "jsonl": str(jsonl) if jsonl else None,
            "csv": str(options.csv) if options.csv else None,
            "case": str(options.case) if options.case else None,
        },
        "counts": {
            **counts,
            "by_format": dict(sorted(by_format.items())),
            "by_verdict": dict(sorted(by_verdict.items())),
            "hashset_matches": dict(sorted(known.items())),
        },
        "errors": [e for e in events if e["kind"] == "error"],
        "refused": [e for e in events if e["kind"] == "refused"],
        "skipped": [e for e in events if e["kind"] == "skipped"],
        "warnings": [e for e in events if e["kind"] == "warning"],
    }
    if resumed is not None:
        document["resumed"] = {"units_already_done": resumed[0], "records_carried": resumed[1]}
    return document
