"""Mail and calendar exports in the formats companies hand over: mbox, iCalendar, Graph JSON, CSV.

Each writer holds the export of one group of mailboxes and takes the
company's events as they stream in (`message`, `meeting`); `close` finishes
the file. iCalendar needs the whole group to fold occurrences back into
recurring series (RRULE or RDATE, EXDATE, RECURRENCE-ID overrides), so it
keeps its group's meetings until then.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Protocol

from repsight.synth.activity import SynthMeeting, SynthMessage

__all__ = ["FORMATS", "CalendarExport", "MailExport", "open_exports", "raw_message"]

MAIL_COLUMNS = ("message_id", "sent_at", "sender", "to", "cc", "bcc", "in_reply_to")
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

# The Windows names Outlook and Microsoft Graph give the zones the company uses.
WINDOWS_ZONES = {
    "America/New_York": "Eastern Standard Time",
    "America/Chicago": "Central Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "America/Mexico_City": "Central Standard Time (Mexico)",
    "America/Sao_Paulo": "E. South America Standard Time",
    "Europe/London": "GMT Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/Paris": "Romance Standard Time",
    "Asia/Singapore": "Singapore Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
    "Australia/Sydney": "AUS Eastern Standard Time",
    "UTC": "UTC",
}


class MailExport(Protocol):
    def message(self, m: SynthMessage) -> None: ...
    def close(self) -> None: ...


class CalendarExport(Protocol):
    def meeting(self, m: SynthMeeting) -> None: ...
    def close(self) -> None: ...


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: datetime) -> str:
    return _utc(value) if value.tzinfo is UTC else value.isoformat()


class _CsvFile:
    columns: tuple[str, ...] = ()

    def __init__(self, path: Path) -> None:
        self._file = path.open("w", encoding="utf-8", newline="")
        self._out = csv.writer(self._file, lineterminator="\n")
        self._out.writerow(self.columns)

    def close(self) -> None:
        self._file.close()


class CsvMail(_CsvFile):
    columns = MAIL_COLUMNS

    def message(self, m: SynthMessage) -> None:
        self._out.writerow(
            (m.message_id, _moment(m.sent_at), m.sender, ";".join(m.to), ";".join(m.cc), ";".join(m.bcc), m.in_reply_to or "")
        )


class CsvCalendar(_CsvFile):
    columns = CALENDAR_COLUMNS

    def meeting(self, m: SynthMeeting) -> None:
        if m.all_day:
            start, end = m.start.date().isoformat(), m.end.date().isoformat()
        else:
            start, end = _moment(m.start), _moment(m.end)
        flags = (str(m.cancelled).lower(), str(m.all_day).lower(), str(m.transparent).lower())
        self._out.writerow((m.uid, start, end, m.organizer, ";".join(m.attendees), ";".join(m.declined), *flags))


class MboxMail:
    """An mbox file (mboxrd: body lines starting "From " are quoted), headers as a mail client writes them."""

    def __init__(self, path: Path, names: dict[str, str]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="\n")
        self._names = names

    def message(self, m: SynthMessage) -> None:
        postmark = f"From {m.sender} {m.sent_at.astimezone(UTC):%a %b %d %H:%M:%S %Y}\n"
        self._file.write(postmark + raw_message(m, self._names))

    def close(self) -> None:
        self._file.close()


def raw_message(m: SynthMessage, names: dict[str, str]) -> str:
    """Return the message as a mail client writes it (RFC 5322 headers, a short body)."""

    def address(a: str) -> str:
        return formataddr((names.get(a, ""), a))

    lines = [
        f"Message-ID: <{m.message_id}>",
        f"Date: {format_datetime(m.sent_at.astimezone(UTC))}",
        f"From: {address(m.sender)}",
        "To: " + ",\n ".join(address(a) for a in m.to),  # folded, as long headers are
    ]
    if m.cc:
        lines.append("Cc: " + ", ".join(address(a) for a in m.cc))
    if m.bcc:  # the sender's copy keeps its Bcc
        lines.append("Bcc: " + ", ".join(address(a) for a in m.bcc))
    if m.in_reply_to is not None:
        lines.append(f"In-Reply-To: <{m.in_reply_to}>")
        lines.append("References: " + "\n ".join(f"<{i}>" for i in m.references))  # folded, one id a line
    lines += [
        f"Subject: {_subject(m)}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "",
        "Thanks, see below.",
        ">From the notes of our last call: nothing for the metadata to read.",
        "",
    ]
    return "\n".join(lines) + "\n"


def _subject(m: SynthMessage) -> str:
    return "Re: Follow-up" if m.in_reply_to is not None else "Follow-up"


def _reply_headers(m: SynthMessage) -> list[dict[str, str]]:
    """Return Graph's `internetMessageHeaders`: Message-ID, and In-Reply-To and References for a reply."""
    headers = [{"name": "Message-ID", "value": f"<{m.message_id}>"}]
    if m.in_reply_to is not None:
        headers.append({"name": "In-Reply-To", "value": f"<{m.in_reply_to}>"})
        headers.append({"name": "References", "value": " ".join(f"<{i}>" for i in m.references)})
    return headers


class MaildirMail:
    """A maildir: one file per message under `cur/`, as mail servers and clients keep them."""

    def __init__(self, folder: Path, names: dict[str, str]) -> None:
        for part in ("cur", "new", "tmp"):
            (folder / part).mkdir(parents=True, exist_ok=True)
        self._folder = folder / "cur"
        self._names = names
        self._count = 0

    def message(self, m: SynthMessage) -> None:
        self._count += 1
        name = f"{int(m.sent_at.timestamp())}.M{self._count}P1.mail.acme.example:2,S"
        (self._folder / name).write_text(raw_message(m, self._names), encoding="utf-8", newline="\n")

    def close(self) -> None:
        pass


def _graph_address(address: str, names: dict[str, str]) -> dict[str, Any]:
    return {"emailAddress": {"name": names.get(address, address), "address": address}}


def _graph_id(*parts: str) -> str:
    return "AAMkA" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


class GraphMail:
    """Microsoft Graph message resources, one JSON object per line."""

    def __init__(self, path: Path, names: dict[str, str]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="\n")
        self._names = names

    def message(self, m: SynthMessage) -> None:
        sender = _graph_address(m.sender, self._names)
        resource = {
            "id": _graph_id(m.message_id),
            "internetMessageId": f"<{m.message_id}>",
            "internetMessageHeaders": _reply_headers(m),
            "sentDateTime": _utc(m.sent_at),
            "subject": _subject(m),
            "from": sender,
            "sender": sender,
            "toRecipients": [_graph_address(a, self._names) for a in m.to],
            "ccRecipients": [_graph_address(a, self._names) for a in m.cc],
            "bccRecipients": [_graph_address(a, self._names) for a in m.bcc],
        }
        self._file.write(json.dumps(resource, sort_keys=True) + "\n")

    def close(self) -> None:
        self._file.close()


def _graph_time(moment: datetime, zone: str) -> dict[str, str]:
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": WINDOWS_ZONES.get(zone, zone)}


class GraphCalendar:
    """Microsoft Graph event resources (a calendar view: occurrences expanded), one JSON object per line."""

    def __init__(self, path: Path, names: dict[str, str]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="\n")
        self._names = names

    def meeting(self, m: SynthMeeting) -> None:
        zone = str(m.start.tzinfo)
        attendees = [
            {
                "type": "required",
                "status": {"response": "declined" if a in m.declined else "accepted", "time": "0001-01-01T00:00:00Z"},
                **_graph_address(a, self._names),
            }
            for a in m.attendees
        ]
        resource: dict[str, Any] = {
            "id": _graph_id(m.uid, _utc(m.start)),
            "iCalUId": m.uid,
            "subject": "Meeting",
            "isAllDay": m.all_day,
            "isCancelled": m.cancelled,
            "showAs": "free" if m.transparent else "busy",
            "start": _graph_time(m.start, zone),
            "end": _graph_time(m.end, zone),
            "originalStartTimeZone": WINDOWS_ZONES.get(zone, zone),
            "organizer": _graph_address(m.organizer, self._names),
            "attendees": attendees,
            "type": ("exception" if m.original_start is not None else "occurrence") if m.series else "singleInstance",
        }
        if m.series:
            resource["seriesMasterId"] = _graph_id(m.uid)
        self._file.write(json.dumps(resource, sort_keys=True) + "\n")

    def close(self) -> None:
        self._file.close()


class IcsCalendar:
    """An iCalendar export of many calendars: recurring meetings as series with their exceptions."""

    def __init__(self, path: Path, names: dict[str, str]) -> None:
        self._path = path
        self._names = names
        self._by_uid: dict[str, list[SynthMeeting]] = {}

    def meeting(self, m: SynthMeeting) -> None:
        self._by_uid.setdefault(m.uid, []).append(m)

    def close(self) -> None:
        from icalendar import Calendar, Timezone

        calendar = Calendar()
        calendar.add("prodid", "-//repsight synthetic organisation//EN")
        calendar.add("version", "2.0")
        zones: dict[str, tuple[datetime, datetime]] = {}
        events = []
        for uid, occurrences in self._by_uid.items():
            for m in occurrences:
                if not m.all_day:
                    zone = str(m.start.tzinfo)
                    first, last = zones.get(zone, (m.start, m.start))
                    zones[zone] = (min(first, m.start), max(last, m.end))
            events += self._series(uid, occurrences) if len(occurrences) > 1 else [self._event(occurrences[0])]
        for zone, (first, last) in sorted(zones.items()):
            if zone != "UTC":
                calendar.add_component(
                    Timezone.from_tzid(zone, first_date=first.date(), last_date=last.date() + timedelta(days=1))
                )
        for event in events:
            calendar.add_component(event)
        self._path.write_bytes(calendar.to_ical())

    def _event(self, m: SynthMeeting, *, recurrence_id: datetime | None = None) -> Any:
        from icalendar import Event, vCalAddress

        event = Event()
        event.add("uid", m.uid)
        event.add("dtstamp", datetime(2024, 1, 1, tzinfo=UTC))
        event.add("summary", "Meeting")
        if m.all_day:
            event.add("dtstart", m.start.date())
            event.add("dtend", m.end.date())
        else:
            event.add("dtstart", m.start)
            event.add("dtend", m.end)
        if recurrence_id is not None:
            event.add("recurrence-id", recurrence_id)
        organizer = vCalAddress(f"mailto:{m.organizer}")
        if m.organizer in self._names:
            organizer.params["CN"] = self._names[m.organizer]
        event.add("organizer", organizer)
        for address in m.attendees:
            attendee = vCalAddress(f"mailto:{address}")
            attendee.params["PARTSTAT"] = "DECLINED" if address in m.declined else "ACCEPTED"
            if address in self._names:
                attendee.params["CN"] = self._names[address]
            event.add("attendee", attendee)
        if m.cancelled:
            event.add("status", "CANCELLED")
        if m.transparent:
            event.add("transp", "TRANSPARENT")
        return event

    def _series(self, uid: str, occurrences: list[SynthMeeting]) -> list[Any]:
        """Return the series' master (RRULE or RDATE, EXDATE) and an override for each occurrence that differs."""
        due = [m.original_start or m.start for m in occurrences]
        first = due[0]
        duration = occurrences[0].end - occurrences[0].start
        # The master says what the series usually is: nobody declined, nothing cancelled.
        template = replace(occurrences[0], start=first, end=first + duration, declined=[], cancelled=False, original_start=None)
        master = self._event(template)
        weekly = all((d - first) % timedelta(days=7) == timedelta(0) and d.timetz() == first.timetz() for d in due)
        if weekly:
            weeks = {(d.date() - first.date()).days // 7 for d in due}
            master.add("rrule", {"freq": "weekly", "until": due[-1].astimezone(UTC)})
            missing = [first + timedelta(days=7 * w) for w in range(max(weeks) + 1) if w not in weeks]
            if missing:
                master.add("exdate", missing)
        else:
            master.add("rdate", due[1:])
        overrides = [
            self._event(m, recurrence_id=d)
            for d, m in zip(due, occurrences, strict=True)
            if replace(m, original_start=None) != replace(template, start=d, end=d + duration)
        ]
        return [master, *overrides]


FORMATS = ("csv", "mixed")
# In a mixed export, group g uses MIX[g % len(MIX)]: mostly mbox and iCalendar,
# some maildir and iCalendar, some Microsoft Graph JSON, some CSV.
MIX = ("mbox", "maildir", "graph", "mbox", "csv", "mbox", "mbox", "graph", "maildir", "csv")


def open_exports(folder: Path, groups: int, formats: str, names: dict[str, str]) -> tuple[list[MailExport], list[CalendarExport]]:
    """Return one mail and one calendar export per group of mailboxes, in `formats` ("csv" or "mixed")."""
    if formats not in FORMATS:
        raise ValueError(f"formats must be one of {', '.join(FORMATS)}")
    (folder / "mail").mkdir(parents=True, exist_ok=True)
    (folder / "calendar").mkdir(parents=True, exist_ok=True)
    mail: list[MailExport] = []
    calendars: list[CalendarExport] = []
    for g in range(groups):
        kind = "csv" if formats == "csv" else MIX[g % len(MIX)]
        stem = f"export-{g + 1:03d}"
        if kind == "mbox":
            mail.append(MboxMail(folder / "mail" / f"{stem}.mbox", names))
            calendars.append(IcsCalendar(folder / "calendar" / f"{stem}.ics", names))
        elif kind == "maildir":
            mail.append(MaildirMail(folder / "mail" / stem, names))
            calendars.append(IcsCalendar(folder / "calendar" / f"{stem}.ics", names))
        elif kind == "graph":
            mail.append(GraphMail(folder / "mail" / f"{stem}.json", names))
            calendars.append(GraphCalendar(folder / "calendar" / f"{stem}.json", names))
        else:
            mail.append(CsvMail(folder / "mail" / f"{stem}.csv"))
            calendars.append(CsvCalendar(folder / "calendar" / f"{stem}.csv"))
    return mail, calendars
