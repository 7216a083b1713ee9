"""The typer application. Each area of the product registers its commands from
its own module (``firetrace.cli.<area>``); commands parse options, call one
library function and render the result. Heavy modules (numpy, trimesh) are
imported inside the commands that need them so that start-up stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from firetrace import __version__
from firetrace.cli import audit, detect, forensics, refs, registry, report, serials
from firetrace.cli.common import DbOpt, OperatorOpt, PurposeOpt, err_console
from firetrace.errors import FiretraceError

app = typer.Typer(
    name="firetrace",
    help="Firearms marking, record-keeping and tracing; finding 3D-printable firearm "
    "design files on seized media.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"firetrace {__version__}")
        raise typer.Exit()


@app.callback()
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


for _area in (registry, serials, detect, forensics, refs, audit, report):
    _area.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: no traceback for expected failures."""
    try:
        app(args=argv, prog_name="firetrace")
    except FiretraceError as exc:
        err_console.print(
            f"[bold red]firetrace:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("firetrace: interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


__all__ = ["app", "main", "Path"]
