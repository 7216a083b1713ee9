"""Writing output files whole or not at all.

Every file firetrace writes in one piece (manifests, CASE documents, CSV exports,
signature bundles, reports) goes through :func:`atomic_output`: the text is
written to a private file beside the target, flushed to disk, then renamed over
it, so a crash or a full disk never leaves a half-written file behind, and a
previous version stays intact until the new one is complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from firetrace.errors import InputError


@contextmanager
def atomic_output(
    path: str | Path, *, newline: str | None = None, errors: str = "strict"
) -> Iterator[TextIO]:
    """A text file to write ``path``'s new content into; it replaces ``path`` on success.

    An :class:`OSError` (no such folder, no permission, disk full) becomes a
    one-line :class:`InputError` naming the file.
    """
    path = Path(path)
    try:
        fd, partial = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".partial", dir=path.parent or "."
        )
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline, errors=errors) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, path)
    except OSError as exc:
        Path(partial).unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str, *, errors: str = "strict") -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    with atomic_output(path, errors=errors) as fh:
        fh.write(text)
