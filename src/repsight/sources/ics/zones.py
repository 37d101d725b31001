"""The time zones an iCalendar event can name: IANA and Windows names, and its calendar's VTIMEZONEs.

A TZID is read as an IANA zone name (one `zoneinfo.available_timezones()`
lists: never a file path), else as a Windows zone name (as
Outlook writes them; the table is the one icalendar ships, from Unicode
CLDR), else through the calendar's VTIMEZONE of that name, else as a
"globally unique" `/vendor/Area/City` name. A known name wins over a
VTIMEZONE, as in icalendar: exporters write VTIMEZONEs that cover only the
span they export.
"""

from __future__ import annotations

import functools
import re
from datetime import tzinfo
from zoneinfo import ZoneInfo

from repsight.sources.csvfile import FieldError

__all__ = ["CalendarZones", "named_zone"]


@functools.cache
def _iana_names() -> frozenset[str]:
    """Return the IANA zone names this host (or the tzdata package) knows."""
    from zoneinfo import available_timezones

    # localtime and posixrules are links to whatever zone the host is set to, not names of a zone.
    return frozenset(available_timezones()) - {"localtime", "posixrules"}


def _iana_zone(name: str) -> tzinfo | None:
    # Only a known name reaches ZoneInfo: it would read a file path (host-dependent) and recurse on long names.
    if name not in _iana_names():
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # a damaged zone file: the name stays unknown
        return None


@functools.lru_cache(maxsize=1024)
def named_zone(name: str) -> tzinfo | None:
    """Return the zone an IANA name, or else a Windows zone name, stands for; None if it is neither."""
    zone = _iana_zone(name)
    if zone is None and name in _windows_zones():
        zone = _iana_zone(_windows_zones()[name])
    return zone


@functools.cache
def _windows_zones() -> dict[str, str]:
    """Return the IANA zone of each Windows zone name (the table icalendar ships, from Unicode CLDR)."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    return dict(WINDOWS_TO_OLSON)


# The ranges RFC 5545 (3.3.10) gives each BY part of a recurrence rule; an ordinal weekday's number as in a yearly rule.
_RULE_RANGES = {
    "BYSECOND": (0, 60),
    "BYMINUTE": (0, 59),
    "BYHOUR": (0, 23),
    "BYMONTHDAY": (-31, 31),
    "BYYEARDAY": (-366, 366),
    "BYWEEKNO": (-53, 53),
    "BYMONTH": (1, 12),
    "BYSETPOS": (-366, 366),
    "BYDAY": (-53, 53),
}


def _rule_in_range(line: str) -> bool:
    """Return whether an RRULE line's BY parts are all numbers in RFC 5545's ranges.

    dateutil looks for the next change of a zone forever where a rule names
    a day that never comes (`BYDAY=-9999SU`): such a zone is not read.
    """
    _, _, rule = line.partition(":")
    for part in rule.split(";"):
        name, _, values = part.partition("=")
        low_high = _RULE_RANGES.get(name.strip().upper())
        if low_high is None:
            continue
        for value in values.split(","):
            number = (
                re.match(r"\s*([+-]?\d+)", value) if name.strip().upper() == "BYDAY" else re.fullmatch(r"\s*([+-]?\d+)\s*", value)
            )
            if number is None:
                if name.strip().upper() == "BYDAY" and re.fullmatch(r"\s*(MO|TU|WE|TH|FR|SA|SU)\s*", value, re.I):
                    continue
                return False
            if not low_high[0] <= int(number.group(1)) <= low_high[1]:
                return False
    return True


def _vtimezone(lines: list[str]) -> tzinfo | None:
    """Return the zone a VTIMEZONE defines; None if it cannot be read. A rule outside RFC 5545's ranges is a FieldError."""
    from io import StringIO

    from dateutil.tz import tzical

    if not all(_rule_in_range(line) for line in lines if line[:6].upper() in ("RRULE:", "RRULE;")):
        raise FieldError("VTIMEZONE", "its RRULE has a part outside RFC 5545's ranges (a day that never comes)")

    # dateutil refuses X- properties and DTSTARTs that are dates, which exporters write; icalendar mends them so too.
    mended = [
        re.sub(r"(?i)^DTSTART;VALUE=DATE:(\d{8})$", r"DTSTART:\1T000000", line) for line in lines if line[:2].upper() != "X-"
    ]
    for written in (lines, mended):
        text = "BEGIN:VTIMEZONE\r\n" + "".join(line + "\r\n" for line in written) + "END:VTIMEZONE\r\n"
        try:
            return tzical(StringIO(text)).get()
        except Exception:  # untrusted input through a third-party parser: the zone stays unknown
            continue
    return None


class CalendarZones:
    """The zones one VCALENDAR can name: IANA and Windows names, its VTIMEZONEs, and its X-WR-TIMEZONE."""

    def __init__(self) -> None:
        self.written: dict[str, list[str]] = {}
        self.built: dict[str, tzinfo | None] = {}
        self.calendar_zone: tzinfo | None = None

    def define(self, lines: list[str]) -> None:
        """Take a VTIMEZONE (its lines); the first of a TZID counts. It is read when an event first needs it."""
        for line in lines:
            if line[:5].upper() == "TZID:" or line[:5].upper() == "TZID;":
                self.written.setdefault(line.partition(":")[2].strip(), lines)
                return

    def zone(self, tzid: str) -> tzinfo | None:
        """Return the zone a TZID names here; None if nothing defines it."""
        cleaned = tzid.strip().strip("/")
        zone = named_zone(cleaned)
        if zone is not None:
            return zone
        for name in (tzid, cleaned):
            if name in self.written:
                if name not in self.built:
                    self.built[name] = _vtimezone(self.written[name])
                if self.built[name] is not None:
                    return self.built[name]
        # A "globally unique" TZID (RFC 5545 3.2.19) such as /example.com/Europe/Berlin.
        parts = cleaned.split("/")
        for i in range(1, len(parts)):
            zone = named_zone("/".join(parts[i:]))
            if zone is not None:
                return zone
        return None
