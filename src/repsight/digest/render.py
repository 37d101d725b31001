"""A digest run as the command line prints it: one row per message (delivered, failed, skipped or written), then the counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text

from repsight import terminal
from repsight.report.numbers import count

if TYPE_CHECKING:
    from repsight.digest.result import DigestResult

__all__ = ["digest_view"]

_STYLES = {"written": "", "delivered": "green", "failed": "red", "skipped": "dim"}


def _summary(result: DigestResult) -> str:
    if result.mode == "outbox":
        done = f"{count(result.count('written'))} written to {result.outbox} (WEEK_EMAIL.eml)"
    else:
        done = ", ".join(f"{count(result.count(status))} {status}" for status in ("delivered", "failed", "skipped"))  # type: ignore[arg-type]
    nothing = [
        (result.opted_out, "opted out"),
        (result.not_reps, "without a rep role"),
        (result.left, "gone or without an email"),
        (result.unmeasured, f"without metrics in {result.period}"),
        (result.held_out, "held out to measure the digest"),
    ]
    said = "; ".join(f"{count(n)} {why}" for n, why in nothing if n)
    return f"{done}." + (f" No digest for: {said}." if said else "")


def digest_view(result: DigestResult) -> Group:
    """Return the run's messages as a table under a title, then a line of counts."""
    sending = result.mode == "send"
    table = terminal.table()
    terminal.words(table, "rep")
    terminal.words(table, "status")
    if sending:  # a message written to the outbox has no tries and no relay's words
        terminal.figures(table, "tries")
        terminal.words(table, "detail")
    for message in result.messages:
        cells: list[Text | str] = [terminal.data(message.email), Text(message.status, style=_STYLES[message.status])]
        if sending:
            cells += [str(message.attempts) if message.attempts else "", terminal.data(message.detail)]
        table.add_row(*cells)
    title = f"Weekly digest, week of {result.week.isoformat()} ({result.period})"
    parts: list[object] = [terminal.titled(title, table) if result.messages else Text(title, style="bold")]
    parts.append(Text(_summary(result)))
    return Group(*parts)  # type: ignore[arg-type]
