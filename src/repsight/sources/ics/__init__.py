"""Calendar metadata from iCalendar (.ics, RFC 5545): one Meeting per occurrence.

One person's export and a shared export of many calendars read alike: a
file may hold several VCALENDARs one after the other, and the same meeting
in several of them.

What a record holds:

- `uid` is the UID as written; `key` is `meeting_key(uid, start)` with the
  occurrence's actual start. SUMMARY, DESCRIPTION and LOCATION are never
  read.
- `attendees`: the ORGANIZER first (response "organizer"), then each
  ATTENDEE in file order; an address appears once (case-insensitively, the
  first mention wins). A `mailto:` prefix is dropped, CN is the name, and
  PARTSTAT gives the response (ACCEPTED, TENTATIVE, DECLINED, NEEDS-ACTION
  or none written → "needs-action", anything else → "none"). An ATTENDEE
  that is not a mail address (no "@": a room or resource written as another
  URI) is left out, and so is one that cannot be a real address
  (`csvfile.address_problem`: a control character, no domain, longer than
  RFC 5321 allows); an ORGANIZER that cannot be real rejects the event.
- STATUS:CANCELLED, TRANSP:TRANSPARENT and a DTSTART that is a date set the
  flags; an all-day occurrence runs from midnight UTC of its first date to
  midnight UTC of its end date, as in the CSV calendar. Without DTEND the
  end is DTSTART + DURATION, or else one day after a date and the start
  itself for a date-time. A DTEND of the other kind is read as DTSTART's
  kind: a date-time's date (as written) for an all-day event, midnight in
  DTSTART's zone for a timed one.

Times: a TZID is read as an IANA zone name, else a Windows zone name (as
Outlook writes them), else through the calendar's VTIMEZONE of that name,
else as a "globally unique" `/vendor/Area/City` name; an unknown TZID
rejects the event. (A known name wins over a VTIMEZONE, as in icalendar:
exporters write VTIMEZONEs that cover only the span they export.) `Z` is
UTC. A time with no zone is read in the calendar's X-WR-TIMEZONE (as
written before the event; an unknown name there is ignored) when there is
one, else as UTC; and, as Google Calendar means it and the x-wr-timezone
package reads it, X-WR-TIMEZONE also makes a series whose DTSTART is in UTC
recur at the same local time in that zone.

Recurring meetings (RRULE, RDATE, RECURRENCE-ID; an empty RRULE is no
rule) are grouped by `series_uid` (so Outlook's occurrence ids join their
series) and expanded as `ics.series` describes, within `source.window`: no occurrence starts before
`window.start` or at or after `window.end`. Without a window end, a series
with UNTIL or COUNT is expanded whole and an open-ended one up to the
latest start or end of anything else in the file (events, overrides,
RDATEs, bounded series, other open-ended series' first occurrences), or up
to its own first occurrence where nothing is later. A non-recurring VEVENT
is always yielded, whatever the window.

Each bad VEVENT is rejected with the line of its BEGIN:VEVENT (an expanded
occurrence carries its master's line): no UID, no DTSTART, a value that
cannot be read, an unknown zone, an end before the start, no ORGANIZER (or
one that is no mail address, or cannot be a real one), a property RFC 5545 allows once written
twice, a time too near the year 1 or 9999, no END:VEVENT. A reason never
quotes a value that looks like an address.

The file is read one component at a time: a non-recurring event is yielded
as soon as it is read; the components of recurring series (and an event
whose VTIMEZONE comes later in its calendar) wait for the end of the file
(of the calendar). A meeting that appears in several calendars of one file
is yielded once if it recurs, and once per copy if not (keeping every key
seen would cost memory in the number of events; the loader keeps the first
of each key).

Plain content lines are read by a fast path, the rest by icalendar, which is
the reference (`read_ics_reference` reads everything through it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo

from repsight.sources.csvfile import FieldError, address_problem, shown
from repsight.sources.files import Source
from repsight.sources.ics.lines import BROKEN, CALENDAR, CALENDAR_END, CALENDAR_ZONE, EVENT, TIMEZONE, blocks
from repsight.sources.ics.parse import IcsEvent, Stamp, parse_fast, parse_reference, used_lines
from repsight.sources.ics.series import Component, Moment, Series, expand, instant, recurrence_rule
from repsight.sources.ics.zones import CalendarZones, named_zone
from repsight.sources.records import Attendee, Meeting, Rejected, series_uid

__all__ = ["read_ics", "read_ics_reference"]

_RESPONSES = {
    "ACCEPTED": "accepted",
    "TENTATIVE": "tentative",
    "DECLINED": "declined",
    "NEEDS-ACTION": "needs-action",
    "": "needs-action",
}


class _Later(Exception):
    """An event names a zone its calendar may still define: read it at the calendar's end."""


def _moment(stamp: Stamp, field: str, zones: CalendarZones, final: bool, floating: tzinfo | None) -> Moment:
    """Return a value with its zone applied; a floating date-time takes `floating` (None: stays naive)."""
    value = stamp.value
    if stamp.tzid is not None:
        zone = zones.zone(stamp.tzid)
        if zone is None:
            if not final:
                raise _Later
            raise FieldError(
                field, f"unknown time zone {shown(stamp.tzid)}: not an IANA or Windows zone name, and no VTIMEZONE defines it"
            )
        return value.replace(tzinfo=zone) if isinstance(value, datetime) else value
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        return value if zones.calendar_zone is None else value.astimezone(zones.calendar_zone)
    return value if floating is None else value.replace(tzinfo=floating)


def _address(value: str) -> str:
    address = value.strip()
    return address[7:].strip() if address[:7].lower() == "mailto:" else address


def _end(event: IcsEvent, start: Moment, zones: CalendarZones, final: bool, floating: tzinfo) -> Moment:
    """Return the end of an event: DTEND, or DTSTART + DURATION, or the RFC 5545 default."""
    if event.end is not None:
        field = "DTEND"
        end = _moment(event.end, field, zones, final, floating)
        # A DTEND of the other kind than DTSTART (some clients write them) is read as DTSTART's kind.
        if isinstance(start, datetime) and not isinstance(end, datetime):
            end = datetime.combine(end, time.min, start.tzinfo)
        elif not isinstance(start, datetime) and isinstance(end, datetime):
            written = event.end.value
            end = written.date() if isinstance(written, datetime) else written
    elif event.duration is not None:
        end, field = start + event.duration, "DURATION"
    else:
        end, field = (start if isinstance(start, datetime) else start + timedelta(days=1)), "DTEND"
    if instant(end) < instant(start):
        raise FieldError(field, "the meeting ends before it starts")
    return end


def _people(event: IcsEvent) -> tuple[str, tuple[Attendee, ...]]:
    """Return the organizer's address and everyone invited, the organizer first."""
    if event.organizer is None:
        raise FieldError("ORGANIZER", "missing")
    organizer = _address(event.organizer.value)
    if not organizer:
        raise FieldError("ORGANIZER", "is empty")
    if "@" not in organizer:
        raise FieldError("ORGANIZER", f"{shown(organizer)} is not a mail address")
    if "\ufffd" in organizer:
        raise FieldError("ORGANIZER", "not valid UTF-8")
    problem = address_problem(organizer)
    if problem is not None:
        raise FieldError("ORGANIZER", problem)
    people = {organizer.lower(): Attendee(organizer, "organizer", event.organizer.name)}
    for party in event.attendees:
        address = _address(party.value)
        if "@" not in address:
            continue  # a room or resource written as another URI
        if "\ufffd" in address:
            raise FieldError("ATTENDEE", "not valid UTF-8")
        if address_problem(address) is not None:
            continue  # as one that is no address: exports write junk where a room or a list should be
        if address.lower() not in people:
            response = _RESPONSES.get(party.partstat.upper(), "none")
            people[address.lower()] = Attendee(address, response, party.name)
    return organizer, tuple(people.values())


def _component(position: str, event: IcsEvent, zones: CalendarZones, final: bool) -> Component:
    """Return the checked event; raises FieldError for a bad one, _Later to wait for its calendar's zones."""
    problems = dict(reversed(event.problems))  # the first problem of each property
    if "UID" in problems:
        raise FieldError("UID", problems["UID"])
    if not event.uid or not event.uid.strip():
        raise FieldError("UID", "missing")
    if "\ufffd" in event.uid:
        raise FieldError("UID", "not valid UTF-8")
    if "DTSTART" in problems:
        raise FieldError("DTSTART", problems["DTSTART"])
    if event.start is None:
        raise FieldError("DTSTART", "missing")
    if event.problems:
        raise FieldError(*event.problems[0])
    floating = zones.calendar_zone or UTC
    start = _moment(event.start, "DTSTART", zones, final, floating)
    end = _end(event, start, zones, final, floating)
    recurrence_id = None
    if event.recurrence_id is not None:
        recurrence_id = _moment(event.recurrence_id, "RECURRENCE-ID", zones, final, None)
    rdates: list[tuple[Moment, Moment | timedelta | None]] = []
    for rdate, period in event.rdates:
        period_end = _moment(period, "RDATE", zones, final, None) if isinstance(period, Stamp) else period
        rdates.append((_moment(rdate, "RDATE", zones, final, None), period_end))
    exdates = tuple(_moment(exdate, "EXDATE", zones, final, None) for exdate in event.exdates)
    organizer, attendees = _people(event)
    rules = []
    untils: list[datetime] = []
    open_ended = False
    if recurrence_id is None:
        for text in event.rrules:
            rule, until, ends = recurrence_rule(text, start)
            rules += [rule] if rule is not None else []
            untils += [until] if until is not None else []
            open_ended = open_ended or not ends
    return Component(
        position=position,
        uid=event.uid,
        start=start,
        end=end,
        organizer=organizer,
        attendees=attendees,
        is_cancelled=event.status.strip().upper() == "CANCELLED",
        is_transparent=event.transp.strip().upper() == "TRANSPARENT",
        sequence=event.sequence,
        recurrence_id=recurrence_id,
        rules=tuple(rules),
        last_until=max(untils, default=None),
        has_rule=recurrence_id is not None and bool(event.rrules),
        open_ended=open_ended,
        ruled=recurrence_id is None and bool(event.rrules),
        rdates=tuple(rdates) if recurrence_id is None else (),
        exdates=exdates if recurrence_id is None else (),
    )


def _read(source: Source, parse: Callable[[list[tuple[str, str]]], IcsEvent]) -> Iterator[Meeting | Rejected]:
    series: dict[str, Series] = {}
    latest: datetime | None = None  # the latest start or end of a non-recurring event
    zones = CalendarZones()
    waiting: list[tuple[str, IcsEvent]] = []

    def take(position: str, event: IcsEvent, final: bool) -> Meeting | Rejected | None:
        nonlocal latest
        try:
            component = _component(position, event, zones, final)
        except _Later:
            waiting.append((position, event))
            return None
        except FieldError as problem:
            return Rejected(position, problem.field, problem.reason)
        except OverflowError:  # datetime's range ends at the years 1 and 9999
            return Rejected(position, "DTSTART", "is too near the year 1 or 9999 to compute with")
        # Last resort: dateutil (rules, VTIMEZONEs read lazily) raises all sorts on untrusted input,
        # and one bad event must not abort the whole file.
        except Exception as exc:
            return Rejected(position, "VEVENT", f"cannot be read ({type(exc).__name__})")
        try:
            if component.recurs:
                series.setdefault(series_uid(component.uid), Series()).add(component)
                return None
            meeting = component.meeting()
        except OverflowError:
            field = "DTSTART" if component.recurrence_id is None else "RECURRENCE-ID"
            return Rejected(position, field, "is too near the year 1 or 9999 to compute with")
        except Exception as exc:  # as above: a last resort, so that reading goes on
            return Rejected(position, "VEVENT", f"cannot be read ({type(exc).__name__})")
        latest = max(latest or meeting.end, meeting.end, meeting.start)
        return meeting

    for block in blocks(source.text, source.path):
        kind = block.kind
        if kind == EVENT:
            found = take(f"line {block.line}", parse(used_lines(block.lines)), False)
            if found is not None:
                yield found
        elif kind == TIMEZONE:
            zones.define(block.lines)
        elif kind == CALENDAR:
            zones = CalendarZones()
        elif kind == CALENDAR_ZONE:
            zones.calendar_zone = named_zone(block.lines[0]) if block.lines else None
        elif kind == CALENDAR_END:
            for position, event in waiting:
                found = take(position, event, True)
                if found is not None:
                    yield found
            waiting.clear()
        elif kind == BROKEN:
            yield Rejected(f"line {block.line}", "VEVENT", "has no END:VEVENT")
    yield from expand(list(series.values()), source.window, latest)


def _parse(used: list[tuple[str, str]]) -> IcsEvent:
    return parse_fast(used) or parse_reference(used)


def read_ics(source: Source) -> Iterator[Meeting | Rejected]:
    """Yield each meeting occurrence of an iCalendar file, or Rejected with the line and reason."""
    return _read(source, _parse)


def read_ics_reference(source: Source) -> Iterator[Meeting | Rejected]:
    """Yield what `read_ics` yields, reading every event through icalendar (the reference for the fast path)."""
    return _read(source, parse_reference)
