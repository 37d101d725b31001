"""How stage results look in a terminal: one table style that fits the width, figures that never break.

Each stage's `render` module builds its Rich renderables with these helpers,
and the command line prints them. A table fits the console's width (80
columns, or what the terminal or `COLUMNS` says) by wrapping its columns of
words at spaces; a column of figures never wraps, so an interval such as
"[-26, -19]" or a count such as "218,409" is always whole on one line.
Values from the data (file names, reasons, segment names) go in as `Text`,
never as markup, so a "[section]" in a message prints as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import JustifyMethod, RenderableType

__all__ = ["data", "figures", "note", "path", "shown", "table", "titled", "words"]


def table() -> Table:
    """Return an empty table in the one style: a rule under the headings, no outer edge, two spaces between columns."""
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")


def figures(table: Table, heading: str) -> None:
    """Add a column of figures to `table`: right-aligned and never wrapped (a heading may hold a line break)."""
    table.add_column(heading, justify="right", no_wrap=True)


def words(table: Table, heading: str, *, justify: JustifyMethod = "left") -> None:
    """Add a column of words to `table`: it narrows, when the table must, by wrapping at spaces."""
    table.add_column(heading, justify=justify, overflow="fold")


def path(table: Table, heading: str) -> None:
    """Add a column of file names to `table`: a name longer than the column folds (it has no spaces to wrap at)."""
    table.add_column(heading, overflow="fold", min_width=12)


def shown(path: Path, root: Path) -> str:
    """Return `path` as a person reads it: relative to `root` where it lies below it, else as given."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def titled(title: str | Text, body: RenderableType) -> Group:
    """Return `body` under a bold title of its own, which wraps at the console's width rather than the table's."""
    heading = title if isinstance(title, Text) else Text(title)
    heading.stylize("bold")
    return Group(heading, body)


def data(value: object, style: str = "") -> Text:
    """Return a value from the data as text (None as nothing), never read as markup."""
    return Text("" if value is None else str(value), style=style)


def note(message: str, label: str = "note:", style: str = "yellow") -> Text:
    """Return a one-paragraph note, e.g. "note: mail: no file matches mail/*.mbox", its label styled."""
    return Text.assemble((label, style), " ", message)
