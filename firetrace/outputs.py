"""The one check every command makes on the files it is about to write.

:func:`guard_outputs` is called with all of a command's output paths before
anything is written (and before any long work starts), and refuses with a
one-line usage error (exit 2) when a path is:

- the registry, its ``-wal``, ``-shm`` or ``-journal`` file, or the read-audit
  log beside it (writing there destroys committed records);
- an input of the same command (``import X --errors X`` would replace the batch),
  the config file and the purpose policy included (every command reads them);
- a folder, a device, a FIFO, a socket or any other special file;
- the same file as another output of the same command;
- (:func:`refuse_outputs_in_evidence`) a file inside the evidence a command reads;
- an existing file, unless the command was given ``--force`` (or the option
  continues that file, as ``scan --resume`` does).

Paths are compared as the files they name: through symlinks, ``..`` and hard
links, so a second name for the registry is still the registry. The writing
itself goes through :mod:`firetrace.atomicfile` (whole or not at all).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from firetrace.config import config_path
from firetrace.errors import UsageError
from firetrace.inputs import SQLITE_COMPANIONS  # writing over any loses committed data
from firetrace.paths import default_db_path, policy_path, read_log_path

# The databases the running command uses (its --db and --refs-db, given before or
# after the command, or chosen by the environment): set by the command line for each
# run (:func:`protect_databases`), protected by every output check of that run.
_IN_USE: list[Path] = []


def protect_databases(*dbs: str | Path | None) -> None:
    """Name the registry and reference library this run uses, so that every
    output check refuses them whether or not the command passes them itself
    (``firetrace --db R template R`` must not replace the registry)."""
    _IN_USE[:] = [Path(db) for db in dbs if db]


def registry_files(db: str | Path) -> list[Path]:
    """Every file that makes up the registry at ``db``: the database, its SQLite
    companions, and the read-audit log with its own companions."""

    db = Path(db)
    files = [db, *(Path(f"{db}{suffix}") for suffix in SQLITE_COMPANIONS)]
    reads = read_log_path(db)
    files += [reads, *(Path(f"{reads}{suffix}") for suffix in SQLITE_COMPANIONS)]
    return files


class _Identity:
    """A file named by a path: its resolved path, and (when it exists) its device
    and inode, so two names of one file (symlink, hard link, ``..``) compare equal."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.resolved = os.path.realpath(os.path.abspath(path))
        try:
            st = os.stat(path)
        except OSError:
            self.inode = None
        else:
            self.inode = (st.st_dev, st.st_ino)

    def same(self, other: _Identity) -> bool:
        if self.inode is not None and self.inode == other.inode:
            return True
        return self.resolved == other.resolved


def _file_type_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file, or None when it can."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None  # a missing folder is reported when the file is written
    except OSError as exc:
        return f"cannot check the output path ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "is a folder; give a file name"
    if not stat.S_ISREG(mode):
        return "is a device, FIFO, socket or other special file, not a regular file"
    return None


def guard_outputs(
    outputs: Mapping[str, str | Path | None],
    *,
    registry: str | Path | Iterable[str | Path] | None = None,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
    may_exist: Iterable[str] = (),
) -> dict[str, Path]:
    """Check a command's output paths together; return them as paths.

    ``outputs`` maps each output's option name (``--csv``; used in messages) to
    its path, or None when not given. ``registry`` is the registry file (or
    several) the command uses; the default registry is protected too.
    ``inputs`` are the files the command reads. ``force`` allows replacing an
    existing output; option names in ``may_exist`` may exist without it (they
    are continued, not replaced). Raises :class:`UsageError` on the first problem.
    """
    given = {name: Path(path) for name, path in outputs.items() if path is not None}
    protected = _registry_identities(registry)
    read = [(Path(p), _Identity(p)) for p in [*inputs, *_settings_files()] if p is not None]
    seen: list[tuple[str, _Identity]] = []
    allowed = set(may_exist)
    for name, path in given.items():
        where = f"{name} {path}" if name.startswith("-") else str(path)
        problem = _file_type_problem(path)
        if problem:
            raise UsageError(f"{where}: {problem}")
        this = _Identity(path)
        hit = next((file for file, ident in protected if ident.same(this)), None)
        if hit is not None:
            raise UsageError(f"{where}: is part of the registry ({hit}); refusing to write over it")
        source = next((file for file, ident in read if ident.same(this)), None)
        if source is not None:
            raise UsageError(f"{where}: is an input of this command ({source}); write elsewhere")
        twice = next((other for other, ident in seen if ident.same(this)), None)
        if twice is not None:
            raise UsageError(f"{where}: the same file is also given as {twice}")
        seen.append((name, this))
        if this.inode is not None and not force and name not in allowed:
            raise UsageError(f"{where}: already exists (use --force to replace it)")
    return given


def refuse_outputs_in_evidence(
    outputs: Iterable[str | Path | None],
    evidence: Iterable[str | Path],
    *,
    shown: Callable[[str], str] = str,
) -> None:
    """Refuse (exit 2) an output that is one of the ``evidence`` files or lies inside
    an evidence folder, through any symlink: results are never written into the
    evidence (``scan`` would scan them, ``report -o`` would replace what it reads).
    ``shown`` renders an evidence path for the message."""
    roots = [os.path.realpath(r) for r in evidence]
    folders = [r for r in roots if os.path.isdir(r)]
    files = {r for r in roots if not os.path.isdir(r)}
    for output in outputs:
        if output is None:
            continue
        target = os.path.realpath(output)
        inside = next((f for f in folders if os.path.commonpath([target, f]) == f), None) or (
            target if target in files else None
        )
        if inside:
            raise UsageError(
                f"{output}: output inside the evidence ({shown(inside)}); write results elsewhere"
            )


def _settings_files() -> list[Path]:
    """The files every command reads: the config file and the purpose policy."""
    files = []
    for source in (config_path, policy_path):
        try:
            files.append(source())
        except Exception:  # an unreadable config is reported by whoever reads it
            pass
    return files


def _registry_identities(registry) -> list[tuple[Path, _Identity]]:

    if registry is None:
        dbs: list[str | Path] = []
    elif isinstance(registry, str | Path):
        dbs = [registry]
    else:
        dbs = list(registry)
    dbs += _IN_USE
    try:
        dbs.append(default_db_path())
    except Exception:  # no user data folder: nothing more to protect
        pass
    return [(file, _Identity(file)) for db in dbs for file in registry_files(db)]


def guard_output(
    name: str,
    path: str | Path | None,
    *,
    registry=None,
    inputs: Iterable[str | Path | None] = (),
    force: bool = False,
) -> Path | None:
    """:func:`guard_outputs` for a command with a single output."""
    checked = guard_outputs({name: path}, registry=registry, inputs=inputs, force=force)
    return checked.get(name)
