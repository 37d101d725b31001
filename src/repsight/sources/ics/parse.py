"""One VEVENT's properties, as written: a fast path for plain content lines, and icalendar as the reference.

Only the properties the calendar reader uses are read (`USED`); SUMMARY,
DESCRIPTION, LOCATION and the rest are dropped before any parsing, and so
are the properties of nested components (VALARM). Times stay as written
(`Stamp`: a date, a UTC date-time, or a local one with its TZID); the
reader resolves zones, since a TZID means what the calendar around it says.

`parse_fast` reads the plain lines exporters write (Outlook, Google, Apple,
icalendar itself) and returns None on anything else: escapes, RFC 6868
parameter encoding, repeated properties, PERIOD values, odd formats.
`parse_reference` reads any event through icalendar, and records a value it
cannot read as a problem instead of failing. Tests check that both give the
same event wherever the fast path answers.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from repsight.sources.csvfile import shown

__all__ = ["SINGULAR", "USED", "IcsEvent", "Party", "Stamp", "parse_fast", "parse_reference", "used_lines"]

USED = frozenset(
    {
        "UID",
        "DTSTART",
        "DTEND",
        "DURATION",
        "RECURRENCE-ID",
        "RRULE",
        "RDATE",
        "EXDATE",
        "ORGANIZER",
        "ATTENDEE",
        "STATUS",
        "TRANSP",
        "SEQUENCE",
    }
)
"""The properties the reader uses."""

SINGULAR = USED - {"RRULE", "RDATE", "EXDATE", "ATTENDEE"}
"""Properties that RFC 5545 allows once per event."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """A DATE or DATE-TIME value as written: a date, a UTC date-time, or a naive one with its TZID (None: floating)."""

    value: date | datetime
    tzid: str | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """An ORGANIZER or ATTENDEE as written: the value (a URI), CN and PARTSTAT."""

    value: str
    name: str = ""
    partstat: str = ""


@dataclass(slots=True)
class IcsEvent:
    """The properties of one VEVENT the reader uses, and the problems met reading them."""

    uid: str | None = None
    start: Stamp | None = None
    end: Stamp | None = None
    duration: timedelta | None = None
    recurrence_id: Stamp | None = None
    rrules: list[str] = field(default_factory=list)
    rdates: list[tuple[Stamp, Stamp | timedelta | None]] = field(default_factory=list)  # (start, end of a PERIOD)
    exdates: list[Stamp] = field(default_factory=list)
    organizer: Party | None = None
    attendees: list[Party] = field(default_factory=list)
    status: str = ""
    transp: str = ""
    sequence: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)  # (property, reason), in file order


_NAME = re.compile(r"[A-Za-z0-9-]+(?=[;:])")


def used_lines(lines: list[str]) -> list[tuple[str, str]]:
    """Return (NAME, line) for each line of a used property, in file order, outside nested components."""
    used = []
    depth = 0
    for line in lines:
        match = _NAME.match(line)
        if match is None:
            continue  # not a content line: a badly folded DESCRIPTION, say
        name = match.group().upper()
        if name == "BEGIN":
            depth += 1
        elif name == "END":
            depth = max(depth - 1, 0)
        elif depth == 0 and name in USED:
            used.append((name, line))
    return used


# The fast path: plain content lines only.

_PARAMETERS = re.compile(r'[A-Za-z0-9-]+((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*))+):(.*)', re.DOTALL)
_PARAMETER = re.compile(r';([A-Za-z0-9-]+)=(?:"([^"]*)"|([^";:,]*))')
_DURATION = re.compile(r"([+-]?)P(?:(\d+)W|(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)")
_NO_PARAMETERS: dict[str, str] = {}
_VALUE_TYPES = {name: ("DATE", "DATE-TIME") for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")}


@functools.lru_cache(maxsize=8192)
def _split(line: str) -> tuple[dict[str, str], str] | None:
    """Return a plain content line's parameters (names upper-cased, not to be changed) and value; None for anything else.

    Cached: the same ATTENDEE and ORGANIZER lines come back in meeting after meeting.
    """
    colon = line.find(":")
    if colon < 0:
        return None
    if line.find(";", 0, colon) < 0:
        return _NO_PARAMETERS, line[colon + 1 :]
    match = _PARAMETERS.fullmatch(line)
    if match is None:
        return None
    written = match.group(1)
    if "^" in written or "\\" in written:
        return None  # RFC 6868 or backslash escapes: icalendar decodes them
    parameters: dict[str, str] = {}
    for name, quoted, plain in _PARAMETER.findall(written):
        key, value = name.upper(), quoted or plain
        if key in parameters or value != value.strip():
            return None  # icalendar keeps the last of a repeated parameter, and strips spaces
        parameters[key] = value
    return parameters, match.group(2)


def _set_moment(event: IcsEvent, name: str, stamp: Stamp) -> None:
    """Set DTSTART, DTEND or RECURRENCE-ID (by `name`) on the event."""
    if name == "DTSTART":
        event.start = stamp
    elif name == "DTEND":
        event.end = stamp
    else:
        event.recurrence_id = stamp


def _stamp(value: str, parameters: dict[str, str]) -> Stamp | None:
    """Return a plain DATE or DATE-TIME value; None for anything else."""
    kind = parameters.get("VALUE")
    tzid = parameters.get("TZID")
    try:
        # fromisoformat reads more forms than RFC 5545's; the length and digit checks keep to those.
        if len(value) == 8 and kind != "DATE-TIME" and tzid is None and value.isdigit():
            return Stamp(date.fromisoformat(value))
        if len(value) in (15, 16) and kind != "DATE" and value[8] == "T" and value[:8].isdigit() and value[9:15].isdigit():
            moment = datetime.fromisoformat(value[:15])
            if len(value) == 15:
                return Stamp(moment, tzid)
            if value[15] == "Z" and tzid is None:
                return Stamp(moment.replace(tzinfo=UTC))
    except ValueError:
        pass
    return None


def _duration(value: str) -> timedelta | None:
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "+P", "-P"):
        return None
    sign, weeks, days, hours, minutes, seconds = match.groups()
    try:
        span = timedelta(
            weeks=int(weeks or 0),
            days=int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=int(seconds or 0),
        )
    except OverflowError:
        return None
    return -span if sign == "-" else span


def _is_rule(value: str) -> bool:
    """Return whether icalendar reads a recurrence rule (where it does not, the reference says why)."""
    from icalendar.prop import vRecur

    try:
        vRecur.from_ical(value)
    except Exception:  # whatever icalendar's parser raises, the reference path handles
        return False
    return True


def parse_fast(used: list[tuple[str, str]]) -> IcsEvent | None:
    """Return the event of plain content lines (from `used_lines`); None where icalendar must read it."""
    event = IcsEvent()
    seen: set[str] = set()
    for name, line in used:
        split = _split(line)
        if split is None:
            return None
        parameters, value = split
        if "\\" in value:
            return None  # escapes: icalendar decodes them (in addresses too)
        if "VALUE" in parameters and parameters["VALUE"] not in _VALUE_TYPES.get(name, ()):
            return None  # icalendar reads the value as that type
        if name in SINGULAR:
            if name in seen:
                return None
            seen.add(name)
        if name == "ATTENDEE" or name == "ORGANIZER":
            party = Party(value, parameters.get("CN", ""), parameters.get("PARTSTAT", ""))
            if name == "ATTENDEE":
                event.attendees.append(party)
            else:
                event.organizer = party
        elif name == "DTSTART" or name == "DTEND" or name == "RECURRENCE-ID":
            stamp = _stamp(value, parameters)
            if stamp is None:
                return None
            _set_moment(event, name, stamp)
        elif name == "RDATE" and not value:
            continue  # icalendar adds nothing for an empty RDATE
        elif name == "RDATE" or name == "EXDATE":
            stamps = [_stamp(v, parameters) for v in value.split(",")]
            if None in stamps:
                return None
            if name == "RDATE":
                event.rdates += [(s, None) for s in stamps if s is not None]
            else:
                event.exdates += [s for s in stamps if s is not None]
        elif name == "UID":
            event.uid = value
        elif name == "RRULE":
            if value.strip():  # calendars write empty rules for events that do not recur
                if not _is_rule(value):
                    return None
                event.rrules.append(value)
        elif name == "DURATION":
            event.duration = _duration(value)
            if event.duration is None:
                return None
        elif name == "STATUS":
            event.status = value
        elif name == "TRANSP":
            event.transp = value
        elif name == "SEQUENCE":
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                return None  # icalendar reads it (a huge SEQUENCE is a problem Python's int digit limit raises)
            event.sequence = int(value)
    return event


# The reference: icalendar reads the event.

_UNREADABLE = {
    "DTSTART": "is not an iCalendar date or date-time",
    "DTEND": "is not an iCalendar date or date-time",
    "RECURRENCE-ID": "is not an iCalendar date or date-time",
    "RDATE": "is not a list of iCalendar dates, date-times or periods",
    "EXDATE": "is not a list of iCalendar dates or date-times",
    "DURATION": "is not an iCalendar duration",
    "RRULE": "is not a recurrence rule",
}


class _Unreadable(ValueError):
    """icalendar read a value the reader cannot use."""


def _as_stamp(value: Any, tzid: Any) -> Stamp:
    """Return the Stamp of a date or date-time icalendar read (a TZID kept, not applied)."""
    if isinstance(value, datetime):
        if tzid is not None:
            return Stamp(value.replace(tzinfo=None), _text(tzid))
        return Stamp(value if value.tzinfo is None else value.astimezone(UTC))
    if isinstance(value, date):
        return Stamp(value)
    raise _Unreadable("not a date or date-time")


def _text(value: Any) -> str:
    """Return a parameter's value as one string (icalendar splits unquoted commas into a list)."""
    return ",".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _party(prop: Any) -> Party:
    return Party(str(prop), _text(prop.params.get("CN", "")), _text(prop.params.get("PARTSTAT", "")))


def _read_property(event: IcsEvent, name: str, prop: Any, value: str) -> None:
    """Put one property icalendar read (`value`: as written) into `event`; raises ValueError if it cannot be used."""
    from icalendar.prop import vBroken

    if isinstance(prop, vBroken):
        raise _Unreadable(name)
    if name == "UID":
        event.uid = str(prop)
    elif name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        _set_moment(event, name, _as_stamp(prop.dt, prop.params.get("TZID")))
    elif name == "DURATION":
        if not isinstance(prop.dt, timedelta):
            raise _Unreadable(name)
        event.duration = prop.dt
    elif name == "RRULE":
        if value.strip():  # calendars write empty rules for events that do not recur
            event.rrules.append(value)  # as written: the reader parses it with dateutil, on either path
    elif name in ("RDATE", "EXDATE"):
        tzid = prop.params.get("TZID")
        for item in prop.dts:
            moment = item.dt
            if name == "EXDATE":
                event.exdates.append(_as_stamp(moment, tzid))
            elif isinstance(moment, tuple):  # a PERIOD: start and end, or start and duration
                end = moment[1] if isinstance(moment[1], timedelta) else _as_stamp(moment[1], tzid)
                event.rdates.append((_as_stamp(moment[0], tzid), end))
            else:
                event.rdates.append((_as_stamp(moment, tzid), None))
    elif name == "ORGANIZER":
        event.organizer = _party(prop)
    elif name == "ATTENDEE":
        event.attendees.append(_party(prop))
    elif name == "STATUS":
        event.status = str(prop)
    elif name == "TRANSP":
        event.transp = str(prop)
    elif name == "SEQUENCE":
        event.sequence = int(prop)


def parse_reference(used: list[tuple[str, str]]) -> IcsEvent:
    """Return the event icalendar reads from the used lines (from `used_lines`), with any problems noted."""
    from icalendar import Event
    from icalendar.error import GloballyUniqueTZIDGuessed
    from icalendar.parser import Contentline

    event = IcsEvent()
    seen: set[str] = set()
    readable: list[tuple[str, str, str]] = []
    for name, line in used:
        # icalendar drops a line it cannot split without saying which; say it here.
        try:
            value = str(Contentline(line).parts()[2])  # type: ignore[no-untyped-call]
        except ValueError:
            event.problems.append((name, "cannot be parsed as an iCalendar content line"))
            continue
        if name in SINGULAR and name in seen:
            event.problems.append((name, "appears more than once"))
            continue
        seen.add(name)
        if name != "RDATE" or value:  # icalendar adds nothing for an empty RDATE
            readable.append((name, line, value))
    try:
        with warnings.catch_warnings():
            # icalendar warns when it guesses a "globally unique" TZID; the reader resolves zones itself.
            warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
            component = Event.from_ical("BEGIN:VEVENT\r\n" + "".join(line + "\r\n" for _, line, _ in readable) + "END:VEVENT\r\n")
    except Exception:  # untrusted input through a third-party parser: one event must not stop the file
        event.problems.append(("VEVENT", "cannot be parsed as an iCalendar event"))
        return event
    # icalendar keeps each property's values in file order, a repeated one as a list.
    props = {name: component.get(name) for name, _, _ in readable}
    taken: dict[str, int] = {}
    for name, _, value in readable:
        prop = props[name]
        if isinstance(prop, list):
            taken[name] = taken.get(name, -1) + 1
            prop = prop[taken[name]]
        try:
            _read_property(event, name, prop, value)
        except (ValueError, TypeError, AttributeError, OverflowError):
            if name != "SEQUENCE":  # SEQUENCE only ranks copies of one event: a bad one counts as 0
                event.problems.append((name, f"{shown(value)} {_UNREADABLE.get(name, 'cannot be read')}"))
    return event
