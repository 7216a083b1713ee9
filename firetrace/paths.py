"""Where firetrace finds its data: the bundled ``rules/`` and ``samples/`` folders
and the default registry file.

In a source checkout the folders sit beside the package; in an installed wheel
they are packaged as ``firetrace/_data/``. The registry path follows the
CONTRACT: ``--db``, else ``FIRETRACE_DB``, else the per-user data folder.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import platformdirs

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"firetrace data folder '{name}' is missing from the installation")


def rules_dir() -> Path:
    """The bundled rules folder (marking profiles, detection rules, serial knowledge)."""
    return _data_dir("rules")


def samples_dir() -> Path:
    """The bundled samples folder (sample batch, sample generator)."""
    return _data_dir("samples")


def default_db_path() -> Path:
    """``FIRETRACE_DB`` if set, else ``registry.db`` in the user data folder."""
    env = os.environ.get("FIRETRACE_DB")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("firetrace", appauthor=False)) / "registry.db"


def default_operator() -> str:
    """``FIRETRACE_OPERATOR`` if set, else the OS user name."""
    env = os.environ.get("FIRETRACE_OPERATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def read_log_path(db: str | Path) -> Path:
    """The read-audit log beside the registry ``db``: ``registry.db-reads``.

    Audit entries of reads (trace, dupes) go there, so an officer's trace is
    recorded even while a batch import holds the registry's write lock.
    """
    return Path(f"{db}-reads")


def scratch_dir(db: str | Path) -> Path:
    """The private scratch folder beside the registry ``db`` (parallel import parts)."""
    db = Path(db)
    return db.with_name(f".{db.name}-scratch")
