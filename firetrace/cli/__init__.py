"""The typer application. Each area of the product declares its commands in its
own module (``firetrace.cli.<area>``, a :class:`~firetrace.cli.common.Commands`
named ``commands``); commands parse options, call one library function and
render the result. Heavy modules (numpy, trimesh) are
imported inside the commands that need them so that start-up stays fast.

For the same reason :func:`main` builds an app holding only the area of the
command being run (``firetrace trace`` never imports or builds the scan, audit
or report commands); ``--help``, an unknown command and ``firetrace.cli.app``
(for Python users and the generated docs) get every area.
"""

from __future__ import annotations

import sqlite3
import sys
from importlib import import_module
from typing import Annotated

import typer

from firetrace import __version__
from firetrace.cli.common import GLOBAL_FLAGS, DbOpt, OperatorOpt, PurposeOpt
from firetrace.cli.output import err_console, shown
from firetrace.errors import FiretraceError
from firetrace.outputs import protect_databases

# Top-level command -> the module that registers it (tests check this stays true).
COMMAND_AREAS = {
    "import": "registry",
    "trace": "registry",
    "demo": "registry",
    "template": "registry",
    "batches": "registry",
    "withdraw": "registry",
    "show": "registry",
    "list": "registry",
    "dupes": "serials",
    "inspect": "detect",
    "scan": "forensics",
    "refs": "refs",
    "audit": "audit",
    "backup": "audit",
    "check": "audit",
    "correct": "audit",
    "report": "report",
    "where": "config",
}
AREAS = tuple(dict.fromkeys(COMMAND_AREAS.values()))  # in help order


def _version(value: bool) -> None:
    if value:
        typer.echo(f"firetrace {__version__}")
        raise typer.Exit()


def _global(
    ctx: typer.Context,
    db: DbOpt = None,
    operator: OperatorOpt = None,
    purpose: PurposeOpt = None,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    ctx.obj = {"db": db, "operator": operator, "purpose": purpose}


def build_app(areas: tuple[str, ...] = AREAS) -> typer.Typer:
    """The firetrace app with the commands of ``areas`` registered."""
    application = typer.Typer(
        name="firetrace",
        help="Firearms marking, record-keeping and tracing; finding 3D-printable firearm "
        "design files on seized media.\n\n"
        "The registry is --db, else $FIRETRACE_DB, else the config file, else registry.db "
        "in the user data folder; the rules are bundled (rules/). "
        "'firetrace where' shows every path in use and what chose it.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(_global)
    for area in areas:
        import_module(f"firetrace.cli.{area}").commands.add_to(application)
    return application


def command_name(argv: list[str]) -> str | None:
    """The command word in ``argv``, skipping global options and their values."""
    args = iter(argv)
    for arg in args:
        if arg in GLOBAL_FLAGS:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def __getattr__(name: str):
    if name == "app":  # the full app, built on first use
        application = build_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: no traceback for expected failures."""
    args = sys.argv[1:] if argv is None else argv
    area = COMMAND_AREAS.get(command_name(args) or "")
    application = build_app((area,)) if area else build_app()
    try:
        application(args=args, prog_name="firetrace")
    except FiretraceError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("firetrace: interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    # Nets under the commands' own handling: a database damaged where no command
    # looked, a disk that filled up, a file that vanished. One line, never a traceback.
    except sqlite3.DatabaseError as exc:
        _fail(f"the registry cannot be used: {exc} (see 'firetrace check')", 2)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}", 2)
    finally:
        protect_databases()  # this run's databases, not the next in-process run's


def _fail(message: str, code: int) -> None:
    err_console.print(f"[bold red]firetrace:[/] {shown(message)}", soft_wrap=True)
    sys.exit(code)


__all__ = ["app", "build_app", "main", "COMMAND_AREAS"]
