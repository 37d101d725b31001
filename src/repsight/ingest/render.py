"""The ingest stage in a terminal: per file, the records read, loaded (of which new) and quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text

from repsight import terminal
from repsight.report.numbers import count

if TYPE_CHECKING:
    from repsight.ingest.run import FileResult, IngestReport

__all__ = ["ingest_view"]


def _counts(result: FileResult) -> list[str | Text]:
    quarantined = Text(count(result.quarantined), style="yellow" if result.quarantined else "")
    return [count(result.read), count(result.loaded), count(result.new), quarantined, f"{result.seconds:.1f}"]


def ingest_view(report: IngestReport, root: Path) -> Group:
    """Return the ingest table (file names relative to `root`), a total row for several files, then the notes."""
    table = terminal.table()
    terminal.words(table, "kind")
    terminal.path(table, "file")
    for heading in ("read", "loaded", "new", "quarantined", "secs"):
        terminal.figures(table, heading)
    for result in report.files:
        name = terminal.data(terminal.shown(result.path, root))
        if result.error is not None:
            # Said beside the name, so that the columns of figures stay as narrow as their figures.
            not_loaded = Text.assemble(name, " ", ("not loaded", "red"))
            table.add_row(result.kind, terminal.file_name(not_loaded), "", "", "", "", "")
        else:
            table.add_row(result.kind, terminal.file_name(name), *_counts(result))
    if len(report.files) > 1:
        table.add_section()
        table.add_row("", "total", *_counts(report.total()))
    return Group(terminal.titled("Ingest", table), *(terminal.note(note) for note in report.notes))
