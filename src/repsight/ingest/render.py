"""The ingest stage in a terminal: per file, the records read, loaded (new, changed), quarantined, and the keys removed."""

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


def _counts(result: FileResult, snapshots: bool, snapshot: bool) -> list[str | Text]:
    """Return a row's figures; `changed` and `removed` (columns only when `snapshots`) stay blank for events."""
    quarantined = Text(count(result.quarantined), style="yellow" if result.quarantined else "")
    replaced = [count(result.changed), count(result.removed)] if snapshot else ["", ""]
    return [
        count(result.read),
        count(result.loaded),
        count(result.new),
        *(replaced if snapshots else []),
        quarantined,
        f"{result.seconds:.1f}",
    ]


def ingest_view(report: IngestReport, root: Path) -> Group:
    """Return the ingest table (file names relative to `root`), a total row for several files, then the notes.

    The columns `changed` and `removed` appear when a reference file (a
    snapshot) changed or removed something: a first load, or one that only
    adds, keeps the narrower table.
    """
    from repsight.ingest.loaders import SNAPSHOT_KINDS

    snapshots = any(f.kind in SNAPSHOT_KINDS and (f.changed or f.removed) for f in report.files)
    headings = ("read", "loaded", "new", *(("changed", "removed") if snapshots else ()), "quarantined", "secs")
    table = terminal.table()
    terminal.words(table, "kind")
    terminal.path(table, "file")
    for heading in headings:
        terminal.figures(table, heading)
    for result in report.files:
        name = terminal.data(terminal.shown(result.path, root))
        if result.error is not None:
            # Said beside the name, so that the columns of figures stay as narrow as their figures.
            not_loaded = Text.assemble(name, " ", ("not loaded", "red"))
            table.add_row(result.kind, terminal.file_name(not_loaded), *[""] * len(headings))
        else:
            table.add_row(result.kind, terminal.file_name(name), *_counts(result, snapshots, result.kind in SNAPSHOT_KINDS))
    if len(report.files) > 1:
        table.add_section()
        table.add_row("", "total", *_counts(report.total(), snapshots, snapshots))
    return Group(terminal.titled("Ingest", table), *(terminal.note(note) for note in report.notes))
