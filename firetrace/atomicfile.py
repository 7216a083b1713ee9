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


class AtomicFile:
    """A text file written beside ``path`` and renamed over it by :meth:`commit`.

    For writers that stream (a CSV written row by row while a scan runs): until
    :meth:`commit`, ``path`` keeps its old content (or stays absent), and
    :meth:`abort` removes the partial file. An :class:`OSError` (no such
    folder, no permission, disk full) becomes a one-line :class:`InputError`.
    """

    def __init__(self, path: str | Path, *, newline: str | None = None, errors: str = "strict"):
        self.path = Path(path)
        try:
            fd, self._partial = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent or "."
            )
        except OSError as exc:
            raise self._error(exc) from None
        self.fh: TextIO = os.fdopen(fd, "w", encoding="utf-8", newline=newline, errors=errors)

    def _error(self, exc: OSError) -> InputError:
        return InputError(f"cannot write: {exc.strerror or exc}", path=str(self.path))

    def commit(self) -> None:
        """Flush the new content to disk and put it in place of ``path``."""
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            os.chmod(self._partial, 0o644)
            os.replace(self._partial, self.path)
        except OSError as exc:
            self.abort()
            raise self._error(exc) from None

    def abort(self) -> None:
        """Drop the partial file; ``path`` is left as it was."""
        try:
            self.fh.close()
        except OSError:
            pass
        Path(self._partial).unlink(missing_ok=True)


@contextmanager
def atomic_output(
    path: str | Path, *, newline: str | None = None, errors: str = "strict"
) -> Iterator[TextIO]:
    """A text file to write ``path``'s new content into; it replaces ``path`` on success.

    An :class:`OSError` (no such folder, no permission, disk full) becomes a
    one-line :class:`InputError` naming the file.
    """
    out = AtomicFile(path, newline=newline, errors=errors)
    try:
        yield out.fh
    except OSError as exc:
        out.abort()
        raise out._error(exc) from None
    except BaseException:
        out.abort()
        raise
    out.commit()


def atomic_write_text(path: str | Path, text: str, *, errors: str = "strict") -> None:
    """Write ``text`` to ``path`` whole or not at all."""
    with atomic_output(path, errors=errors) as fh:
        fh.write(text)
