"""Retention of events (`[privacy] retention_months`): `repsight purge`, also run by every ingest.

Events older than the retention are deleted: the messages sent, and the
meetings begun, before the cut-off, with their recipients and attendees.
The cut-off is midnight UTC at the start of the day `retention_months`
calendar months before today (31 March minus one month is 28 or 29
February). The rules are in docs/privacy.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from repsight.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Group

    from repsight.config import Config
    from repsight.store import Store

__all__ = ["PurgeResult", "purge_store", "retention_cutoff", "run_purge"]


def retention_cutoff(months: int, today: date) -> date:
    """Return the first day kept: `months` calendar months before `today` (the day clamped to the month's last)."""
    import calendar

    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


@dataclass
class PurgeResult:
    """What a purge removed, and the span of the events left."""

    months: int
    cutoff: date
    """The first day kept: events before its midnight (UTC) are gone."""
    removed: dict[str, int] = field(default_factory=dict)
    """Rows deleted per table: messages, message_recipients, meetings, meeting_attendees."""
    first: datetime | None = None
    """The earliest event left (UTC), None when none is."""
    last: datetime | None = None
    """The latest event left (UTC)."""

    def span(self) -> str:
        """Return the span of the events left, as dates, or "no events"."""
        if self.first is None or self.last is None:
            return "no events"
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"

    def summary(self) -> str:
        """Return one line: what was deleted before which day, and what remains."""
        messages, meetings = self.removed.get("messages", 0), self.removed.get("meetings", 0)
        return (
            f"retention ([privacy] retention_months = {self.months}): deleted {messages:,} messages and {meetings:,} "
            f"meetings before {self.cutoff:%Y-%m-%d}; events left: {self.span()}"
        )

    def __rich__(self) -> Group:
        from rich.console import Group

        from repsight import terminal
        from repsight.report.numbers import count

        table = terminal.table()
        terminal.words(table, "table")
        terminal.figures(table, "rows deleted")
        for name in ("messages", "message_recipients", "meetings", "meeting_attendees"):
            table.add_row(name, count(self.removed.get(name, 0)))
        notes = [self.summary()]
        if self.removed.get("messages") or self.removed.get("meetings"):
            notes.append(
                "Metrics and the study still cover the deleted weeks until `repsight metrics` and `repsight analyze` run again."
            )
        return Group(terminal.titled(f"Purge: events before {self.cutoff:%Y-%m-%d}", table), *(terminal.note(n) for n in notes))


def _span(store: Store) -> tuple[datetime | None, datetime | None]:
    """Return the earliest and latest stored event time (messages sent, meetings begun)."""
    found: list[datetime] = []
    for name, column in (("messages", "sent_at"), ("meetings", "start_at")):
        table = store.table(name)
        row = store.to_arrow(table.aggregate(first=table[column].min(), last=table[column].max())).to_pylist()[0]
        found.extend(v for v in (row["first"], row["last"]) if v is not None)
    return (min(found), max(found)) if found else (None, None)


def purge_store(store: Store, config: Config, today: date | None = None) -> PurgeResult:
    """Delete the events older than `[privacy] retention_months` before `today` (UTC) in one transaction; return what went and what is left.

    The cut-off is recorded in the `workspace` table as `retention_cutoff`,
    so that a later stage can say from when the data is kept.
    """
    months = config.privacy.retention_months
    if months is None:
        raise ConfigError(f"{config.path}: [privacy] retention_months is not set: there is nothing to purge")
    cutoff = retention_cutoff(months, today or datetime.now(UTC).date())
    with store.transaction():
        removed = store.purge_events(datetime.combine(cutoff, datetime.min.time()))
        store.upsert("workspace", pa.table({"name": ["retention_cutoff"], "value": [cutoff.isoformat()]}))
    first, last = _span(store)
    return PurgeResult(months, cutoff, removed, first, last)


def run_purge(config: Config, today: date | None = None) -> PurgeResult:
    """Open the workspace of `config` and delete the events older than its retention (`repsight purge`)."""
    from repsight.store import Store

    if config.privacy.retention_months is None:
        raise ConfigError(f"{config.path}: [privacy] retention_months is not set: there is nothing to purge")
    with Store.open(config) as store:
        return purge_store(store, config, today)
