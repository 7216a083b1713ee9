"""The user's configuration file: defaults a user sets once instead of on every
command line.

``config.toml`` in the user config folder (platformdirs; ``~/.config/firetrace/``
on Linux), or the file ``$FIRETRACE_CONFIG`` names. Keys, all optional::

    db = "~/registries/national.db"        # the registry (--db, $FIRETRACE_DB)
    operator = "J. Doe"                    # --operator, $FIRETRACE_OPERATOR
    profile = "eu"                         # import --profile, $FIRETRACE_PROFILE
    policy = "/etc/firetrace/policy.toml"  # the purpose policy, $FIRETRACE_POLICY
    refs_db = "~/lab/references.db"        # the reference library (--refs-db, $FIRETRACE_REFS_DB)

A flag beats the environment variable, which beats the file, which beats the
built-in default. Paths may start with ``~``; relative paths are taken from the
config file's folder. An unknown key or a file that is not TOML is a usage error
naming the file (exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from firetrace.errors import UsageError
from firetrace.inputs import read_toml
from firetrace.suggest import unknown_message

CONFIG_ENV = "FIRETRACE_CONFIG"
# key -> the environment variable that overrides it
KEYS = {
    "db": "FIRETRACE_DB",
    "operator": "FIRETRACE_OPERATOR",
    "profile": "FIRETRACE_PROFILE",
    "policy": "FIRETRACE_POLICY",
    "refs_db": "FIRETRACE_REFS_DB",
}
PATH_KEYS = frozenset({"db", "policy", "refs_db"})


def config_path() -> Path:
    """``$FIRETRACE_CONFIG``, else ``config.toml`` in the user config folder."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("firetrace", appauthor=False)) / "config.toml"


def load_config(path: Path | None = None) -> dict[str, str]:
    """The settings in the config file (empty when there is none), checked."""
    path = path or config_path()
    try:
        data = read_toml(path, "config file")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"{path}: config file cannot be read ({exc.strerror or exc})") from None
    settings: dict[str, str] = {}
    for key, value in data.items():
        if key not in KEYS:
            raise UsageError(f"{path}: {unknown_message('setting', key, KEYS)}")
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{path}: {key} must be a non-empty string")
        settings[key] = _resolved(value, path.parent) if key in PATH_KEYS else value
    return settings


def _resolved(value: str, folder: Path) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else folder / path)


def setting(key: str) -> tuple[str | None, str]:
    """A setting's value and where it came from: its environment variable, else the
    config file, else ``(None, "default")``."""
    env = os.environ.get(KEYS[key])
    if env:
        return env, f"${KEYS[key]}"
    value = load_config().get(key)
    if value is not None:
        return value, str(config_path())
    return None, "default"


def where(db_option: str | Path | None = None, refs_option: str | Path | None = None) -> dict:
    """Where everything firetrace reads and writes is, and what chose it: the config
    file, the registry, operator, profile, policy, reference library, the bundled
    rules and samples, and the user data folder (``firetrace where``)."""
    from firetrace import paths  # lazy: paths imports this module (the defaults it reads)

    def chosen(key: str, option, default) -> dict:
        if option:
            return {"value": str(option), "from": f"--{key.replace('_', '-')}"}
        value, source = setting(key)
        return {"value": str(value if value else default), "from": source}

    config = config_path()
    registry = chosen("db", db_option, paths.user_data_dir() / "registry.db")
    return {
        "config": {"value": str(config), "from": "exists" if config.is_file() else "not created"},
        "registry": registry,
        "operator": chosen("operator", None, paths.default_operator()),
        "profile": chosen("profile", None, "iti"),
        "policy": chosen("policy", None, paths.rules_dir() / "policy.toml"),
        "refs_db": chosen("refs_db", refs_option, registry["value"]),  # default: the registry
        "rules": {"value": str(paths.rules_dir()), "from": "bundled"},
        "samples": {"value": str(paths.samples_dir()), "from": "bundled"},
        "data_folder": {"value": str(paths.user_data_dir()), "from": "platformdirs"},
    }
