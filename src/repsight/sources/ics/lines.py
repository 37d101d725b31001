"""Splitting an iCalendar stream into components, one at a time, with the line each begins on.

Lines are unfolded (RFC 5545 3.1: a line starting with a space or a tab
continues the one before) and numbered as physical lines of the file, so a
position names the line an editor shows. Only what the calendar reader uses
is kept: VEVENT and VTIMEZONE components whole, each calendar's start and
end, and its X-WR-TIMEZONE; other components (VTODO, VJOURNAL, VFREEBUSY)
are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from repsight.errors import InputError

__all__ = ["BROKEN", "CALENDAR", "CALENDAR_END", "CALENDAR_ZONE", "EVENT", "TIMEZONE", "Block", "blocks", "logical_lines"]

CALENDAR = "VCALENDAR"
CALENDAR_END = "END:VCALENDAR"
CALENDAR_ZONE = "X-WR-TIMEZONE"
EVENT = "VEVENT"
TIMEZONE = "VTIMEZONE"
BROKEN = "broken"  # a VEVENT without its END:VEVENT

# Lines that end the component being read even though they are not its END:
# one export's VEVENT never swallows the next event or calendar.
_INTERRUPTIONS = ("BEGIN:VEVENT", "BEGIN:VTIMEZONE", "BEGIN:VCALENDAR", "END:VCALENDAR")


@dataclass(frozen=True, slots=True)
class Block:
    """A piece of the file: its kind, the line it begins on, and its unfolded lines (BEGIN and END left out)."""

    kind: str
    line: int
    lines: list[str]


def logical_lines(text: IO[str]) -> Iterator[tuple[int, str]]:
    """Yield (first physical line number, unfolded line) for each non-blank content line."""
    number = 0
    current = ""
    first = 0
    for raw in text:
        number += 1
        if raw[0] == " " or raw[0] == "\t":
            current += raw[1:].rstrip("\r\n")
            continue
        if current:
            yield first, current
        current = raw.rstrip("\r\n")
        first = number
    if current:
        yield first, current


def blocks(text: IO[str], path: Path) -> Iterator[Block]:
    """Yield the calendars, time zones and events of an iCalendar stream, in file order.

    Raises InputError when the stream is not iCalendar: its first content
    line must be BEGIN:VCALENDAR.
    """
    lines = logical_lines(text)
    first = next(lines, None)
    if first is None:
        raise InputError(f"{path}: the file is empty; expected an iCalendar file (BEGIN:VCALENDAR)")
    if first[1].strip().upper() != "BEGIN:VCALENDAR":
        raise InputError(f"{path}: line {first[0]}: not an iCalendar file (it does not start with BEGIN:VCALENDAR)")
    yield Block(CALENDAR, first[0], [])
    in_calendar = True
    number = first[0]
    kind = ""  # the component being read (or skipped), or "" between components
    depth = 0  # components open inside it (VALARM in a VEVENT, STANDARD in a VTIMEZONE)
    start = 0
    collected: list[str] = []
    for number, line in lines:
        head = line[0]
        if kind:
            kept = kind in (EVENT, TIMEZONE)
            if head not in "BbEe":
                if kept:
                    collected.append(line)
                continue
            upper = line.rstrip().upper()
            if upper in _INTERRUPTIONS:
                if kind == EVENT:
                    yield Block(BROKEN, start, collected)
                kind = ""  # and read the line as one between components
            else:
                # Its own END ends it, whatever is left open inside; at its top level any END
                # does (a misspelt END:VEVNT), as icalendar ends the innermost component on any END.
                if upper.startswith("END:") and (depth == 0 or upper == "END:" + kind):
                    if kept:
                        yield Block(kind, start, collected)
                    kind = ""
                    continue
                if upper.startswith("END:"):
                    depth -= 1
                elif upper.startswith("BEGIN:"):
                    depth += 1
                if kept:
                    collected.append(line)
                continue
        if head not in "BbEeXx":
            continue
        upper = line.rstrip().upper()
        if upper.startswith("BEGIN:") and upper != "BEGIN:VCALENDAR":
            kind, depth, start, collected = upper[6:], 0, number, []
        elif upper == "BEGIN:VCALENDAR":
            if in_calendar:
                yield Block(CALENDAR_END, number, [])
            yield Block(CALENDAR, number, [])
            in_calendar = True
        elif upper == "END:VCALENDAR":
            yield Block(CALENDAR_END, number, [])
            in_calendar = False
        elif upper.startswith("X-WR-TIMEZONE") and upper[13:14] in (":", ";"):
            yield Block(CALENDAR_ZONE, number, [line.partition(":")[2].strip()])
    if kind == EVENT:
        yield Block(BROKEN, start, collected)
    if in_calendar:
        yield Block(CALENDAR_END, number, [])
