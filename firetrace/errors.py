"""Exceptions that the command line turns into one-line messages and exit codes.

Library code raises :class:`InputError` for input it cannot read at all (exit 2)
and :class:`FiretraceError` subclasses for other expected failures. The CLI
never shows a traceback for them.
"""

from __future__ import annotations

import importlib
import shlex
import sys


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


class MissingDependency(FiretraceError):
    """A package firetrace needs for this input is not installed (or does not load).

    The message is the exact command that installs it into the Python running
    firetrace. It stops a scan (exit 2) rather than becoming one file's error, since
    every later file of that kind would fail the same way."""


# Import name -> the requirement that provides it (as in pyproject.toml).
REQUIREMENTS = {"pytsk3": "pytsk3>=20231007", "pyewf": "libewf-python>=20231119"}


def require(module: str, *, needed_for: str):
    """``import module``, or :class:`MissingDependency` naming the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        requirement = REQUIREMENTS.get(module, module)
        command = f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(requirement)}"
        raise MissingDependency(
            f"{needed_for} needs the Python package {requirement.split('>')[0]}, which is "
            f"not installed or does not load ({exc}); install it with: {command}"
        ) from None
