"""Writing the synthetic company to the input formats repsight reads.

Mail and calendars are written the way companies export them: in files of
a few dozen mailboxes each, so that a message between people in two files
is in both, as it is in real exports (the loader must store it once).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from repsight.synth.activity import SynthMeeting, SynthMessage
from repsight.synth.formats import open_exports
from repsight.synth.org import Company

__all__ = ["Exports", "write_accounts", "write_json", "write_kpis", "write_roster"]

MAILBOXES_PER_FILE = 25


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
    """Write the CRM accounts, each with its owning rep (`owner_email`, empty for partners and vendors)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(("account_id", "name", "domains", "type", "owner_email"))
        for a in company.accounts:
            out.writerow((a.account_id, a.name, a.domain, a.type, a.owner or ""))


def write_kpis(rows: Iterable[tuple[str, str, float, float]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(("email", "period", "quota", "bookings"))
        for email, period, quota, bookings in rows:
            out.writerow((email, period, f"{quota:.2f}", f"{bookings:.2f}"))


def write_json(value: object, path: Path) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class Exports:
    """Mail and calendar exports, one of each per group of mailboxes, written as events stream in."""

    def __init__(self, company: Company, folder: Path, formats: str = "csv") -> None:
        self.group = {e.email: i // MAILBOXES_PER_FILE for i, e in enumerate(company.employees)}
        names = {e.email: e.name for e in company.employees}
        self.mail, self.calendars = open_exports(folder, max(self.group.values()) + 1, formats, names)
        self.messages = 0
        self.meetings = 0

    def groups_of(self, addresses: Iterable[str]) -> list[int]:
        return sorted({self.group[a] for a in addresses if a in self.group})

    def message(self, m: SynthMessage) -> None:
        for g in self.groups_of([m.sender, *m.to, *m.cc, *m.bcc]):
            self.mail[g].message(m)
        self.messages += 1

    def meeting(self, m: SynthMeeting) -> None:
        for g in self.groups_of([m.organizer, *m.attendees]):
            self.calendars[g].meeting(m)
        self.meetings += 1

    def close(self) -> None:
        for mail in self.mail:
            mail.close()
        for calendar in self.calendars:
            calendar.close()
