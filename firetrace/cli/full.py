"""The complete firetrace app as a module attribute, for tools that look for one
(``python -m typer firetrace.cli.full utils docs`` generates docs/cli.md)."""

from firetrace.cli import build_app

app = build_app()
