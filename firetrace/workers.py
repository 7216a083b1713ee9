"""Worker processes that never outlive the command that started them, and the
private scratch folder parallel work writes into.

A scan or import killed with SIGKILL cannot tell its workers to stop. Without
help they finish (or block on) work nobody waits for, holding memory and open
evidence for minutes. :func:`exit_with_parent` runs first in every worker and
ends it within a second of its parent's death. Scratch files (a parallel
import's per-worker databases, which hold owner names) go to a private folder
beside the registry, not to the world-readable temporary folder; the next run
removes what a killed run left there (:func:`scratch_folder`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from firetrace.paths import scratch_dir

CHECK_SECONDS = 0.5


def parent_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def exit_with_parent(parent_pid: int) -> None:
    """In a worker process: exit at once when ``parent_pid`` is gone."""

    def watch() -> None:
        while parent_alive(parent_pid):
            time.sleep(CHECK_SECONDS)
        os._exit(70)  # EX_SOFTWARE: nobody is left to report to

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def scratch_folder(registry: str | Path | None) -> Path:
    """A new private folder (0700) for this run's scratch files, inside the
    registry's scratch folder (itself 0700, beside the registry); folders left by
    runs that died are removed first. Without a registry file, a private folder
    in the system's temporary folder."""
    if registry is None:
        return Path(tempfile.mkdtemp(prefix="firetrace-import-"))
    base = scratch_dir(registry)
    base.mkdir(mode=0o700, exist_ok=True)
    os.chmod(base, 0o700)
    clear_leftovers(registry)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))


def clear_leftovers(registry: str | Path | None) -> None:
    """Remove the scratch folders that runs which died (SIGKILL, power loss) left
    beside ``registry``; every import calls it first, parallel or not."""
    if registry is None:
        return
    base = scratch_dir(registry)
    try:
        leftovers = list(base.iterdir())
    except OSError:  # none yet (or not ours to list)
        return
    for leftover in leftovers:
        owner = leftover.name.split("-", 1)[0]
        if owner.isdigit() and not parent_alive(int(owner)):
            shutil.rmtree(leftover, ignore_errors=True)
