"""How stage results look in a terminal: one table style that fits the width, figures that never break.

Each stage's `render` module builds its Rich renderables with these helpers,
and the command line prints them. A table fits the console's width (80
columns, or what the terminal or `COLUMNS` says) by wrapping its columns of
words at spaces; a column of figures never wraps, so an interval such as
"[-26, -19]" or a count such as "218,409" is always whole on one line. A
column of words is never narrower than its longest word, so that a token
without spaces (a timestamp, a date, a file name inside a reason) is never
split: the table takes the width from the other columns. A file name wraps
after a "/" and folds only last; only a table that cannot fit at all with
every word whole folds a word. Values from the data (file names, reasons, segment names) go in as `Text`,
never as markup, so a "[section]" in a message prints as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len, chop_cells
from rich.console import Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType, RenderResult

__all__ = ["FileName", "Wrapped", "data", "figures", "file_name", "note", "path", "shown", "table", "titled", "words"]

_GLUE = "\ue000"
"""Stands for a space inside a phrase kept whole while a line is wrapped: one cell wide, and not a space to Rich."""


class _FittingTable(Table):
    """A table that narrows its columns of words only down to their longest word, then folds its file names.

    Rich narrows the widest columns first, however long their words: a
    timestamp in a column of reasons would fold mid-token. Here a column of
    words keeps room for its longest word (it wraps at spaces only), a
    column of file names (`path`) for its longest part between slashes (it
    wraps after a "/"), and a column of figures never narrows. Only where
    that cannot fit do the file names fold, down to their `min_width`; only
    where even that cannot fit does Rich's own narrowing fold words.
    """

    def _calculate_column_widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        max_width = options.max_width
        columns = self.columns
        ranges = [self._measure_column(console, options, column) for column in columns]
        widths = [found.maximum or 1 for found in ranges]
        if self.expand or self.min_width is not None or sum(widths) <= max_width:
            return super()._calculate_column_widths(console, options)
        fixed = [column.no_wrap or column.width is not None for column in columns]
        whole = [width if fix else found.minimum for width, fix, found in zip(widths, fixed, ranges, strict=True)]
        folded = [
            floor if fix or column.min_width is None else column.min_width + self._get_padding_width(column._index)
            for floor, fix, column in zip(whole, fixed, columns, strict=True)
        ]
        for floors in (whole, folded):
            widths = _narrowed(widths, floors, max_width)
            if sum(widths) <= max_width:
                return widths
        # Not even every file name folded makes room for every word whole: Rich's own narrowing, which folds words.
        return super()._calculate_column_widths(console, options)


def _narrowed(widths: list[int], floors: list[int], max_width: int) -> list[int]:
    """Return `widths` narrowed, the widest column above its floor first, until they fit `max_width` or reach their floors."""
    narrowed = list(widths)
    excess = sum(narrowed) - max_width
    while excess > 0:
        slack = [(width, i) for i, (width, floor) in enumerate(zip(narrowed, floors, strict=True)) if width > floor]
        if not slack:
            break
        _, widest = max(slack)
        narrowed[widest] -= 1
        excess -= 1
    return narrowed


def table() -> Table:
    """Return an empty table in the one style: a rule under the headings, no outer edge, two spaces between columns."""
    return _FittingTable(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")


def figures(table: Table, heading: str) -> None:
    """Add a column of figures to `table`: right-aligned and never wrapped (a heading may hold a line break)."""
    table.add_column(heading, justify="right", no_wrap=True)


def words(table: Table, heading: str, *, justify: JustifyMethod = "left") -> None:
    """Add a column of words to `table`: it narrows, when the table must, by wrapping at spaces, never below its longest word.

    (It folds a word only where the table cannot fit the width at all with every word whole.)
    """
    table.add_column(heading, justify=justify, overflow="fold")


def path(table: Table, heading: str) -> None:
    """Add a column of file names to `table` (cells from `file_name`): whole where the width allows, else wrapped after a "/".

    A part between slashes longer than the column folds, where nothing else
    makes room (the column is at least 12 wide).
    """
    table.add_column(heading, overflow="fold", min_width=12)


_PARTS = re.compile(r"[^/ ]*[/ ]|[^/ ]+")
"""A file name's parts: each up to and with its "/" (or a space), the last without."""


class FileName:
    """A file name (or an email) that wraps after a "/" or at a space, so that a date inside it stays whole.

    Only a part longer than the whole width folds. Its narrowest width is
    its longest part, as a word's is for text: `table` keeps room for it
    where it can.
    """

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(options.max_width, 1)
        offsets: list[int] = []
        used = position = 0
        for part in _PARTS.findall(self.text.plain):
            if used and used + cell_len(part.rstrip()) > width:
                offsets.append(position)
                used = 0
            pieces = chop_cells(part, width) if cell_len(part.rstrip()) > width else [part]
            for piece in pieces[:-1]:
                position += len(piece)
                offsets.append(position)
            used += cell_len(pieces[-1])
            position += len(pieces[-1])
        for line in self.text.divide(offsets):
            line.rstrip()
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        parts = [cell_len(part.rstrip()) for part in _PARTS.findall(self.text.plain)]
        return Measurement(max(parts, default=0), cell_len(self.text.plain))


def file_name(value: str | Text) -> FileName:
    """Return a file name from the data for a `path` column: never read as markup, wrapped after a "/" where it must."""
    return FileName(value if isinstance(value, Text) else Text(value))


def shown(path: Path, root: Path) -> str:
    """Return `path` as a person reads it: relative to `root` where it lies below it, else as given."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


class Wrapped:
    """A paragraph that wraps at the console's width at its spaces, but never inside one of the phrases `whole`.

    E.g. a title that ends "over 3 periods (2024Q3 to 2025Q1)" with that
    period range kept whole: it moves to the next line as one word.
    """

    def __init__(self, text: str | Text, whole: Sequence[str] = ()) -> None:
        self.text = text if isinstance(text, Text) else Text(text)
        self.whole = tuple(phrase for phrase in whole if phrase)

    def _glued(self) -> Text:
        glued = self.text.copy()
        plain = glued.plain
        for phrase in self.whole:
            plain = plain.replace(phrase, phrase.replace(" ", _GLUE))
        glued.plain = plain  # as long as before: the styles stay where they were
        return glued

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self._glued().wrap(console, options.max_width, overflow="fold"):
            line.plain = line.plain.replace(_GLUE, " ")
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._glued())


def titled(title: str | Text, body: RenderableType, *, whole: Sequence[str] = ()) -> Group:
    """Return `body` under a bold title of its own, which wraps at the console's width rather than the table's.

    The title wraps at spaces, never inside one of the phrases `whole` (a period range, a date).
    """
    heading = title.copy() if isinstance(title, Text) else Text(title)
    heading.stylize("bold")
    return Group(Wrapped(heading, whole), body)


def data(value: object, style: str = "") -> Text:
    """Return a value from the data as text (None as nothing), never read as markup."""
    return Text("" if value is None else str(value), style=style)


def note(message: str, label: str = "note:", style: str = "yellow") -> Text:
    """Return a one-paragraph note, e.g. "note: mail: no file matches mail/*.mbox", its label styled."""
    return Text.assemble((label, style), " ", message)
