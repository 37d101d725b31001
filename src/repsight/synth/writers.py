"""Writing the synthetic company to the input formats repsight reads.

Mail and calendars are written the way companies export them: in files of
a few dozen mailboxes each, so that a message between people in two files
is in both, as it is in real exports (the loader must store it once).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from repsight.synth.activity import SynthMeeting, SynthMessage
from repsight.synth.org import Company

__all__ = ["CsvExports", "write_accounts", "write_json", "write_kpis", "write_roster"]

MAILBOXES_PER_FILE = 25
MAIL_COLUMNS = ("message_id", "sent_at", "sender", "to", "cc", "bcc")
CALENDAR_COLUMNS = (
    "event_id",
    "start",
    "end",
    "organizer",
    "attendees",
    "declined",
    "is_cancelled",
    "is_all_day",
    "is_transparent",
)


def _writer(handle: IO[str]) -> Any:
    return csv.writer(handle, lineterminator="\n")


def write_roster(company: Company, path: Path) -> None:
    columns = (
        "email",
        "name",
        "manager_email",
        "org",
        "level",
        "function",
        "region",
        "segment",
        "channel",
        "hire_date",
        "leave_date",
        "timezone",
        "title",
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(columns)
        for e in company.employees:
            out.writerow(
                (
                    e.email,
                    e.name,
                    e.manager.email if e.manager else "",
                    e.org,
                    e.level,
                    e.function,
                    e.region,
                    e.segment or "",
                    e.channel or "",
                    e.hire_date.isoformat(),
                    e.leave_date.isoformat() if e.leave_date else "",
                    e.timezone,
                    e.title,
                )
            )


def write_accounts(company: Company, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(("account_id", "name", "domains", "type"))
        for a in company.accounts:
            out.writerow((a.account_id, a.name, a.domain, a.type))


def write_kpis(rows: Iterable[tuple[str, str, float, float]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(("email", "period", "quota", "bookings"))
        for email, period, quota, bookings in rows:
            out.writerow((email, period, f"{quota:.2f}", f"{bookings:.2f}"))


def write_json(value: object, path: Path) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _moment(value: datetime) -> str:
    if value.tzinfo is UTC:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


class CsvExports:
    """Mail and calendar CSV files, one per group of mailboxes, written as events stream in."""

    def __init__(self, company: Company, folder: Path) -> None:
        self.group = {e.email: i // MAILBOXES_PER_FILE for i, e in enumerate(company.employees)}
        groups = max(self.group.values()) + 1
        (folder / "mail").mkdir(parents=True, exist_ok=True)
        (folder / "calendar").mkdir(parents=True, exist_ok=True)
        self.files: list[IO[str]] = []
        self.mail: list[Any] = []
        self.calendar: list[Any] = []
        for g in range(groups):
            for kind, columns, writers in (("mail", MAIL_COLUMNS, self.mail), ("calendar", CALENDAR_COLUMNS, self.calendar)):
                handle = (folder / kind / f"export-{g + 1:03d}.csv").open("w", encoding="utf-8", newline="")
                self.files.append(handle)
                writer = _writer(handle)
                writer.writerow(columns)
                writers.append(writer)
        self.messages = 0
        self.meetings = 0

    def groups_of(self, addresses: Iterable[str]) -> list[int]:
        return sorted({self.group[a] for a in addresses if a in self.group})

    def message(self, m: SynthMessage) -> None:
        row = (m.message_id, _moment(m.sent_at), m.sender, ";".join(m.to), ";".join(m.cc), ";".join(m.bcc))
        for g in self.groups_of([m.sender, *m.to, *m.cc, *m.bcc]):
            self.mail[g].writerow(row)
        self.messages += 1

    def meeting(self, m: SynthMeeting) -> None:
        if m.all_day:
            start, end = m.start.date().isoformat(), m.end.date().isoformat()
        else:
            start, end = _moment(m.start), _moment(m.end)
        row = (
            m.uid,
            start,
            end,
            m.organizer,
            ";".join(m.attendees),
            ";".join(m.declined),
            str(m.cancelled).lower(),
            str(m.all_day).lower(),
            str(m.transparent).lower(),
        )
        for g in self.groups_of([m.organizer, *m.attendees]):
            self.calendar[g].writerow(row)
        self.meetings += 1

    def close(self) -> None:
        for handle in self.files:
            handle.close()
