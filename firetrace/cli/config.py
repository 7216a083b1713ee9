"""Commands about firetrace's own setup: ``firetrace where`` says which registry,
config file, policy, reference library and rules a command would use, and why
(flag, environment variable, config file or default)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from firetrace.cli.common import Commands, JsonOpt, Settings
from firetrace.cli.output import console, print_json
from firetrace.config import where

commands = Commands()

_LABELS = {
    "config": "config file",
    "registry": "registry",
    "operator": "operator",
    "profile": "marking profile",
    "policy": "purpose policy",
    "refs_db": "reference library",
    "rules": "rules",
    "samples": "samples",
    "data_folder": "user data folder",
}


@commands.command("where", refs=True)
def where_command(as_json: JsonOpt = False, *, settings: Settings) -> None:
    """Say where the registry, the config file, the rules and the reference library
    are, and what chose each (a flag, an environment variable, the config file or
    the default). Reads nothing and creates nothing."""
    places = where(settings.db_option, settings.refs_db_option)
    if settings.operator != places["operator"]["value"]:  # --operator was given
        places["operator"] = {"value": settings.operator, "from": "--operator"}
    if as_json:
        print_json(places)
        return
    table = Table(box=None, show_header=False, pad_edge=False)
    for column in ("what", "value", "from"):
        table.add_column(column, style="dim" if column != "value" else None)
    for key, place in places.items():
        table.add_row(_LABELS[key], Text(place["value"]), place["from"])
    console.print(table)
