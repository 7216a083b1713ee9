"""Checks every reader makes before it opens an input file.

A FIFO, socket or device named as an input would block a reader forever or
never end, so it is refused by its type before anything opens it; a missing
file or a folder gets the same one-line error from every command.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from firetrace.errors import InputError


def regular_file(
    path: str | Path, *, missing: str = "no such file", folder: str = "is a folder, not a file"
) -> Path:
    """``path`` as a :class:`Path` if it is a regular file (symlinks followed), else
    an :class:`InputError` naming it; ``missing`` and ``folder`` are the messages
    for a missing file and for a folder (a command may point to the one for folders)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(missing, path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path=str(path)) from None
    if stat.S_ISDIR(mode):
        raise InputError(folder, path=str(path))
    if not stat.S_ISREG(mode):
        raise InputError("not a regular file (FIFO, socket or device)", path=str(path))
    return path
