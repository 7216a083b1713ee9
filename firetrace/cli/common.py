"""Shared pieces of the command line: how a command is declared and the global
options. What commands print through (consoles, JSON) is :mod:`firetrace.cli.output`.

How to declare a command (every area module does the same)::

    commands = Commands()

    @commands.command("trace")
    def trace_command(serial: ..., as_json: JsonOpt = False, *, settings: Settings) -> None:
        ...

:meth:`Commands.command` adds the global options (``--db``, ``--operator``,
``--purpose``) to the command, so they work both before and after its name; the
app callback stores the ones given before it in ``ctx.obj``, and the command
receives both merged into one :class:`Settings` (the command's own value wins,
then the app's, then environment, then defaults). A command that does not need
them omits the ``settings`` parameter and still accepts the options. Subcommand
groups (``audit log``) come from :meth:`Commands.group`. ``--json`` is
:data:`JsonOpt`, always bound to a parameter named ``as_json``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from firetrace import audit
from firetrace.outputs import protect_databases
from firetrace.paths import default_db_path, default_operator, refs_db_path

DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Registry file (default: $FIRETRACE_DB, else the config file, else user data dir).",
        show_default=False,
    ),
]
OperatorOpt = Annotated[
    str | None,
    typer.Option(
        "--operator",
        help="Who runs this (default: $FIRETRACE_OPERATOR, else the config file, else OS user).",
        show_default=False,
    ),
]
PurposeOpt = Annotated[
    str | None,
    typer.Option(
        "--purpose",
        help="Case or request reference, recorded in the audit log.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace output files that already exist.")]
MakerOpt = Annotated[
    str | None,
    typer.Option("--manufacturer", "-m", help="Only this maker's records (aliases ok)."),
]
RefsDbOpt = Annotated[
    Path | None,
    typer.Option(
        "--refs-db",
        help="Reference library database (default: $FIRETRACE_REFS_DB, else the config "
        "file, else the registry).",
        show_default=False,
    ),
]


def path_option(*flags: str, help: str) -> Any:
    """The type of an optional file option (``--csv FILE``, ``--rules DIR``): a path,
    None unless given."""
    return Annotated[Path | None, typer.Option(*flags, help=help, show_default=False)]


def limit_option(what: str, *, minimum: int = 1) -> Any:
    """The type of every listing's ``--limit``/``-n``: at most this many ``what``."""
    return Annotated[
        int | None, typer.Option("--limit", "-n", min=minimum, help=f"At most this many {what}.")
    ]


# scan and report: one option, one default, one parser (firetrace.verdicts).
MinVerdictOpt = Annotated[
    str,
    typer.Option(
        "--min-verdict",
        help="Lowest verdict listed as flagged: clear, review or high (any case).",
    ),
]

# The global options: parameter name -> its option type, in the order help lists them.
GLOBAL_OPTIONS: dict[str, Any] = {"db": DbOpt, "operator": OperatorOpt, "purpose": PurposeOpt}
# Their flags, which take a value (to find the command word after them in argv).
GLOBAL_FLAGS = frozenset(f"--{name}" for name in GLOBAL_OPTIONS)
# Options some commands share and receive in their Settings too (after the name only).
SHARED_OPTIONS: dict[str, Any] = {"refs_db": RefsDbOpt}
OPTION_TYPES = GLOBAL_OPTIONS | SHARED_OPTIONS


@dataclass(frozen=True)
class Settings:
    """The global options of one run, merged from before and after the command."""

    db_option: Path | None  # --db as given, before or after the command; None if not given
    operator: str
    purpose: str | None
    refs_db_option: Path | None = None  # --refs-db as given (refs, inspect, scan, where)

    @property
    def who(self) -> dict[str, str | None]:
        """``operator`` and ``purpose`` as keyword arguments for the library's audit."""
        return {"operator": self.operator, "purpose": self.purpose}

    @property
    def db(self) -> Path:
        """The registry file: ``--db``, else ``$FIRETRACE_DB``, else the user data folder."""

        return self.db_option or default_db_path()

    @property
    def refs_db(self) -> Path:
        """The reference library: ``--refs-db``, else ``$FIRETRACE_REFS_DB``, else the
        config file, else the registry itself."""
        return refs_db_path(self.db, self.refs_db_option)


def merge_settings(ctx: typer.Context | None, given: dict[str, Any]) -> Settings:
    """Merge a command's own global options (``given``) over the app-level ones,
    then environment and defaults."""

    top = (ctx.find_root().obj if ctx is not None else None) or {}

    def pick(name: str) -> Any:
        return given.get(name) or top.get(name)

    chosen = Settings(
        db_option=Path(pick("db")) if pick("db") else None,
        operator=pick("operator") or default_operator(),
        purpose=pick("purpose"),
        refs_db_option=given.get("refs_db"),
    )
    audit.check_who(chosen.operator, chosen.purpose)  # before any work, not at the audit entry
    return chosen


def _context_parameter(signature: inspect.Signature) -> str | None:
    for parameter in signature.parameters.values():
        if parameter.annotation is typer.Context:
            return parameter.name
    return None


def with_global_options(
    function: Callable[..., Any], *, names: tuple[str, ...] = tuple(GLOBAL_OPTIONS)
) -> Callable[..., Any]:
    """``function`` with the global options ``names`` appended to its parameters;
    it receives them merged as ``settings`` if it declares that parameter.

    typer reads a command's options from its signature, so the wrapper presents
    the command's own parameters plus the global ones (and a context to find the
    app-level values) and hands the command only what it declared.
    """
    signature = inspect.signature(function, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "settings"]
    wants_settings = "settings" in signature.parameters
    context_name = _context_parameter(signature)
    extra = [_option(name, OPTION_TYPES[name]) for name in names]
    if context_name is None:
        context_name = "_global_ctx"
        extra.append(_option(context_name, typer.Context, default=inspect.Parameter.empty))
    keep_context = _context_parameter(signature) is not None

    def command(**kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names}
        ctx = kwargs[context_name] if keep_context else kwargs.pop(context_name)
        settings = merge_settings(ctx, given)
        # Every output check of this run protects the databases in use, also in
        # commands that do not open them (template, report).
        protect_databases(settings.db, settings.refs_db)
        if wants_settings:
            kwargs["settings"] = settings
        return function(**kwargs)

    return _presented(command, function, own + extra)


def option_group(
    parameter: str, options: dict[str, Any], *, after: str | None = None
) -> Callable[..., Any]:
    """A decorator: the command's parameter ``parameter`` is given on the command
    line as ``options`` (parameter name -> option type, each None unless given),
    listed after the parameter ``after`` (else where ``parameter`` stands), and
    reaches the command as one dict of their values.

    For options several commands take together and mean the same by, declared
    once (the description of the firearm sought: trace, list)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        group = [_option(name, kind) for name, kind in options.items()]
        parameters: list[inspect.Parameter] = []
        for own in inspect.signature(function, eval_str=True).parameters.values():
            if own.name != parameter:
                parameters.append(own)
            if own.name == (after or parameter):
                parameters += group

        def command(**kwargs: Any) -> Any:
            kwargs[parameter] = {name: kwargs.pop(name) for name in options}
            return function(**kwargs)

        return _presented(command, function, parameters)

    return decorate


def _option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _presented(
    wrapper: Callable[..., Any], function: Callable[..., Any], parameters: list[inspect.Parameter]
) -> Callable[..., Any]:
    """``wrapper`` (taking keywords only) shown to typer as ``function`` with
    ``parameters``: its name, docstring and this signature."""
    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]
    wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(wrapper, attribute, getattr(function, attribute))
    return wrapper


class Commands:
    """The commands of one area of the CLI (or of one subcommand group), declared
    with :meth:`command` and added to the app by :meth:`add_to`."""

    def __init__(self, name: str | None = None, help: str | None = None, refs: bool = False):
        self.name, self.help = name, help
        self.refs = refs  # the default of command(refs=) for this group's commands
        # In declaration order, which is the order help lists them in.
        self._entries: list[tuple[str, Callable[..., Any]] | Commands] = []

    def command(
        self, name: str, *, db: bool = True, who: bool = True, refs: bool | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare the command ``name`` with the global options: ``--db`` unless
        ``db`` is false, ``--operator`` and ``--purpose`` unless ``who`` is false
        (for a command whose own options of those names mean something else), and
        ``--refs-db`` (``settings.refs_db``) if ``refs`` is true (default: as the group)."""
        names = tuple(n for n in GLOBAL_OPTIONS if (db or n != "db") and (who or n == "db"))
        names += ("refs_db",) if (self.refs if refs is None else refs) else ()

        def declare(function: Callable[..., Any]) -> Callable[..., Any]:
            self._entries.append((name, with_global_options(function, names=names)))
            return function

        return declare

    def group(self, name: str, help: str, refs: bool = False) -> Commands:
        """A subcommand group ``firetrace NAME ...`` whose commands are declared on it
        (``refs``: they all take ``--refs-db``)."""
        group = Commands(name, help, refs)
        self._entries.append(group)
        return group

    def add_to(self, app: typer.Typer) -> None:
        """Register every declared command and group on ``app``."""
        for entry in self._entries:
            if isinstance(entry, Commands):
                sub_app = typer.Typer(name=entry.name, help=entry.help, no_args_is_help=True)
                entry.add_to(sub_app)
                app.add_typer(sub_app, name=entry.name)
            else:
                name, command = entry
                app.command(name)(command)
