"""Where the command line prints: the consoles, the terminal-or-pipe switch, errors, progress bars.

Results go to standard output, progress and errors to standard error. In a
terminal Rich draws colours, spinners and progress bars; piped or redirected
(not a terminal) the same figures come out as plain text: no escape codes,
no spinners, no trailing spaces. Tables fit the width either way (the
terminal's, `COLUMNS`, or 80).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import RenderableType

    from repsight.ingest import IngestReport

__all__ = ["FileProgress", "debug", "err", "error", "ingest_errors", "out", "set_debug", "show"]

out = Console()
"""Standard output: what a command found or made."""
err = Console(stderr=True)
"""Standard error: progress, spinners, notes about the run, errors."""

_debug = {"on": False}


def set_debug(on: bool) -> None:
    """Say whether errors show their traceback (`repsight --debug`)."""
    _debug["on"] = on


def debug() -> bool:
    """Return whether `--debug` was given."""
    return _debug["on"]


def show(*renderables: RenderableType, soft_wrap: bool = False) -> None:
    """Print to standard output: styled in a terminal; plain text, without trailing spaces, when piped.

    `soft_wrap` keeps each line whole (the terminal folds it), for a line that
    holds something to copy: a password, an address.
    """
    if out.is_terminal:
        out.print(*renderables, soft_wrap=soft_wrap)
        return
    with out.capture() as captured:
        out.print(*renderables, soft_wrap=soft_wrap)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    sys.stdout.flush()


def error(message: str, label: str = "error:") -> None:
    """Print one error line to standard error (never wrapped, never read as markup)."""
    err.print(Text.assemble((label, "red"), " ", message), soft_wrap=True, highlight=False)


def ingest_errors(report: IngestReport) -> None:
    """Print each file that could not be loaded, with its traceback under `--debug`."""
    for result in report.files:
        if result.error is None:
            continue
        error(result.error)
        if result.exception is not None and debug():
            err.print("".join(traceback.format_exception(result.exception)), markup=False, highlight=False)


class FileProgress:
    """Rich progress bars for the ingest stage: one per file, bytes and records (drawn in a terminal only).

    The bars are live only while a file loads, so that a spinner may run
    between files (the demo's steps) without two live displays at once.
    """

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[records]:>10,} records"),
            TextColumn("{task.fields[rate]:>8,.0f}/s"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None
        self._started = 0.0
        self._live = False

    def __enter__(self) -> FileProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._live:
            self._bar.stop()
            self._live = False

    def start(self, path: Path, total_bytes: int) -> None:
        if not self._live:
            self._bar.start()
            self._live = True
        self._task = self._bar.add_task(path.name, total=total_bytes, records=0, rate=0.0)
        self._started = time.perf_counter()

    def advance(self, bytes_read: int, records: int) -> None:
        if self._task is not None:
            elapsed = time.perf_counter() - self._started
            rate = records / elapsed if elapsed > 0 else 0.0
            self._bar.update(self._task, completed=bytes_read, records=records, rate=rate)

    def finish(self) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
            self._task = None
        self._stop()
