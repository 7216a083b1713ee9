"""Exceptions that the command line turns into one-line messages and exit codes.

Library code raises :class:`InputError` for input it cannot read at all (exit 2)
and :class:`FiretraceError` subclasses for other expected failures. The CLI
never shows a traceback for them.
"""

from __future__ import annotations


class FiretraceError(Exception):
    """An expected failure with a one-line message for the user."""

    exit_code = 2


class InputError(FiretraceError):
    """Input that cannot be read at all: missing file, wrong encoding, bad header.

    The message names the file, and where known the line and field.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ):
        parts = [p for p in (path, f"line {line}" if line else None, field) if p]
        super().__init__(": ".join([*parts, message]) if parts else message)
        self.path, self.line, self.field = path, line, field


class UsageError(FiretraceError):
    """Options that do not make sense together, or a refused request (policy)."""
