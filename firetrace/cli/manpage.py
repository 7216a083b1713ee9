"""The firetrace(1) manual page, generated from the same command tree and help text
as ``--help``: ``python -m firetrace.cli.manpage > docs/firetrace.1`` (a test fails
when the shipped page drifts). Read it with ``man -l docs/firetrace.1``.
"""

from __future__ import annotations

import inspect
import sys

import typer._click as click
import typer.main

from firetrace import __version__
from firetrace.cli import build_app

EXIT_STATUS = [
    ("0", "Success, and nothing needs attention."),
    (
        "1",
        "The command ran and found something that needs attention: scan or inspect "
        "flagged a file, dupes found duplicates, refs match matched, audit verify or "
        "check found a problem, import rejected a batch because of invalid rows; trace "
        "found no match (as grep does).",
    ),
    (
        "2",
        "Usage error, or an input that cannot be read at all, with a one-line message "
        "naming the file, line and field.",
    ),
    ("130", "Interrupted."),
]
ENVIRONMENT = [
    ("FIRETRACE_CONFIG", "The config file (default: config.toml in the user config folder)."),
    ("FIRETRACE_DB", "The registry, when --db is not given."),
    ("FIRETRACE_OPERATOR", "Who runs the commands, when --operator is not given."),
    ("FIRETRACE_PROFILE", "The marking profile import uses, when --profile is not given."),
    ("FIRETRACE_POLICY", "The purpose policy file (default: the bundled rules/policy.toml)."),
    ("FIRETRACE_REFS_DB", "The reference library's database (default: the registry)."),
    ("FIRETRACE_AUDIT_KEY", "A key that makes the audit chain an HMAC-SHA-256 chain."),
    ("FIRETRACE_AUDIT_KEY_FILE", "A file holding that key."),
    ("FIRETRACE_IMPORT_WORKERS", "Processes that read a CSV batch (1: none)."),
    ("NO_COLOR", "Plain output without colour."),
]


def roff_text(text: str) -> str:
    """Text as roff: backslashes escaped, no line starting with a control character."""
    lines = []
    for line in text.replace("\\", "\\e").splitlines():
        line = line.strip()
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def _paragraphs(text: str | None) -> str:
    parts = [p for p in inspect.cleandoc(text or "").split("\n\n") if p.strip()]
    return "\n.PP\n".join(roff_text(" ".join(p.split())) for p in parts)


def _options(command, ctx) -> list[str]:
    out = []
    for param in command.params:
        record = param.get_help_record(ctx)
        if record is None or getattr(param, "hidden", False):
            continue
        name, help_text = record
        out += [".TP", f"\\fB{roff_text(name)}\\fR", roff_text(" ".join(help_text.split()))]
    return out


def _commands(group, ctx, prefix: str) -> list[str]:
    out = []
    for name, command in group.commands.items():
        if getattr(command, "hidden", False):
            continue
        path = f"{prefix} {name}"
        sub = click.Context(command, info_name=name, parent=ctx)
        if getattr(command, "commands", None):
            out += [".SS " + roff_text(path), _paragraphs(command.help)]
            out += _commands(command, sub, path)
            continue
        usage = " ".join(command.collect_usage_pieces(sub))
        out += [f'.SS "{roff_text(path)} {roff_text(usage)}"', _paragraphs(command.help)]
        out += _options(command, sub)
    return out


def render(app=None) -> str:
    """The whole page as roff (man macros)."""
    root = typer.main.get_command(app or build_app())
    ctx = click.Context(root, info_name="firetrace")
    lines = [
        f'.TH FIRETRACE 1 "" "firetrace {__version__}" "User Commands"',
        ".SH NAME",
        "firetrace \\- firearms marking, record-keeping and tracing; finding "
        "3D-printable firearm design files on seized media",
        ".SH SYNOPSIS",
        "\\fBfiretrace\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        _paragraphs(root.help),
        ".SH GLOBAL OPTIONS",
        "They work before and after the command.",
        *_options(root, ctx),
        ".SH COMMANDS",
        *_commands(root, ctx, "firetrace"),
        ".SH EXIT STATUS",
    ]
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f"\\fB{code}\\fR", roff_text(meaning)]
    lines.append(".SH ENVIRONMENT")
    for name, meaning in ENVIRONMENT:
        lines += [".TP", f"\\fB{name}\\fR", roff_text(meaning)]
    lines += [
        ".SH FILES",
        ".TP",
        "\\fI~/.config/firetrace/config.toml\\fR",
        "Defaults: db, operator, profile, policy, refs_db (firetrace where shows them).",
        ".TP",
        "\\fI~/.local/share/firetrace/registry.db\\fR",
        "The registry when none is configured.",
        ".SH SEE ALSO",
        "The docs/ folder of the source: conventions.md, registry.md, trace.md, "
        "dupes.md, detection.md, scan.md, refs.md, report.md, audit.md, cli.md.",
    ]
    return "\n".join(line for line in lines if line) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
