"""Where firetrace finds its data: the bundled ``rules/`` and ``samples/`` folders,
the default registry file, the purpose policy and the reference library.

In a source checkout the folders sit beside the package; in an installed wheel
they are packaged as ``firetrace/_data/``. The registry path follows the
CONTRACT: ``--db``, else ``FIRETRACE_DB``, else the config file
(:mod:`firetrace.config`), else the per-user data folder.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import platformdirs

from firetrace.config import setting

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
    """The registry when no ``--db`` is given: ``$FIRETRACE_DB``, else ``db`` in the
    config file (:mod:`firetrace.config`), else ``registry.db`` in the user data folder."""
    value, _ = setting("db")
    return Path(value) if value else user_data_dir() / "registry.db"


def user_data_dir() -> Path:
    """The per-user data folder (platformdirs; ``~/.local/share/firetrace`` on Linux)."""
    return Path(platformdirs.user_data_dir("firetrace", appauthor=False))


def default_operator() -> str:
    """``$FIRETRACE_OPERATOR``, else ``operator`` in the config file, else the OS user name."""
    value, _ = setting("operator")
    if value:
        return value
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def default_profile() -> str:
    """The marking profile when ``import`` is given none: ``$FIRETRACE_PROFILE``, else
    ``profile`` in the config file, else ``iti``."""
    return setting("profile")[0] or "iti"


def policy_path() -> Path:
    """The purpose policy: ``$FIRETRACE_POLICY``, else ``policy`` in the config file,
    else the bundled ``rules/policy.toml``."""
    value, _ = setting("policy")
    return Path(value) if value else rules_dir() / "policy.toml"


def refs_db_path(registry: str | Path, option: str | Path | None = None) -> Path:
    """The reference library's database: ``--refs-db``, else ``$FIRETRACE_REFS_DB``,
    else ``refs_db`` in the config file, else the registry itself."""
    if option:
        return Path(option)
    value, _ = setting("refs_db")
    return Path(value) if value else Path(registry)


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
