"""What commands print through: the stdout console (values whole when piped),
the stderr console, :func:`shown` for untrusted values in markup, and
:func:`print_json` for ``--json``. Every segment goes through the terminal
sanitiser, so evidence names and batch fields cannot move the cursor or reorder
text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from firetrace.sanitize import escape_json_text, terminal_text

# Piped or redirected, a line may be this wide: wider than any value firetrace
# prints, so rich never cuts one with an ellipsis or wraps it mid-value.
PIPED_WIDTH = 1 << 20


class SafeConsole(Console):
    """A rich console that never writes a raw control, bidi or invisible character.

    Commands render untrusted values through :func:`shown` (or
    :func:`~firetrace.sanitize.terminal_text`) so tables measure the escaped
    text; this is the net under them: every text segment is sanitised as it is
    written, whatever a renderer forgot. Rich's own cursor movements (progress
    bars) are control segments and pass unchanged, as do line breaks.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No guessing at what to colour: firetrace prints serials, paths and numbers
        # from evidence and records, which rich's highlighter would colour at random.
        kwargs.setdefault("highlight", False)
        super().__init__(*args, **kwargs)

    def _render_buffer(self, buffer) -> str:
        return super()._render_buffer(
            segment
            if segment.control or segment.text.isprintable()
            else Segment(terminal_text(segment.text, multiline=True), *segment[1:])
            for segment in buffer
        )


class OutputConsole(SafeConsole):
    """The stdout console. On a terminal rich fits output to the window; when
    stdout is a pipe or a file (``firetrace trace X | grep``, ``> out.txt``) every
    value is printed whole, however wide the line, even when stderr is still a
    terminal (rich would otherwise take that terminal's width) and whatever
    ``$COLUMNS`` says. A ``width`` given in code is kept."""

    def __init__(self, *args: Any, width: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, width=width, **kwargs)
        self._width_given = width is not None

    @property
    def piped(self) -> bool:
        """True when stdout is a pipe or a file: print every value whole."""
        return not self._width_given and not self.is_terminal

    @property
    def size(self) -> ConsoleDimensions:
        """The terminal's size, or an unlimited width when piped (values print whole)."""
        size = super().size
        return ConsoleDimensions(PIPED_WIDTH, size.height) if self.piped else size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        """Set the size (rich's own setter), remembering that a width was given."""
        self._width, self._height = new_size
        self._width_given = True

    def clip(self, text: str, length: int, mark: str = "") -> str:
        """``text`` cut to ``length`` characters (plus ``mark``) on a terminal, where
        a hash prefix is enough to recognise a row; whole when piped."""
        if self.piped or len(text) <= length:
            return text
        return text[:length] + mark

    def rule(self, title: str = "", **options: Any) -> None:
        """A horizontal rule: the window's width on a terminal; piped, as wide as a
        classic terminal (or the title), not :data:`PIPED_WIDTH` characters."""
        if not self.piped:
            return super().rule(title, **options)

        plain = Text.from_markup(title).plain if isinstance(title, str) else str(title)
        self.print(Rule(title, **options), width=max(80, cell_len(plain) + 6))


console = OutputConsole()
err_console = SafeConsole(stderr=True)


def shown(value: object) -> str:
    """An untrusted value as console markup that prints it as it is, on one line:
    control and bidi characters as visible escapes, ``[`` never read as markup."""

    return escape(terminal_text(value))


def print_json(document: Any) -> None:
    """Write one JSON document on stdout (and nothing else)."""
    # Bidi, invisible and surrogate characters as \uXXXX: the same JSON values, but
    # nothing that reorders or hides text on a terminal (or fails to encode).
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(escape_json_text(text))
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_result(as_json: bool, document: Any, summary: str) -> None:
    """With ``--json`` the result's JSON document, else its one-line summary."""
    if as_json:
        print_json(document)
    else:
        console.print(summary)


def printed_instead_of_rows(as_json: bool, document: Any, rows: list, empty: str) -> bool:
    """Print ``document`` as JSON, or the sentence ``empty`` when there are no
    ``rows``; True when either was printed (else the caller shows the rows)."""
    if as_json:
        print_json(document)
    elif not rows:
        console.print(empty)
    return as_json or not rows


def table_of(
    title: str | None, columns: Iterable[str], *, fold: bool = False, **options: Any
) -> Table:
    """A rich table titled ``title`` with these column headers (``fold``: long
    values fold onto more lines instead of being cut); ``options`` go to Table."""
    table = Table(title=title, **options)
    for column in columns:
        table.add_column(column, overflow="fold" if fold else "ellipsis")
    return table
