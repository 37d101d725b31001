"""Calendar metadata as CSV: `event_id,start,end,organizer,attendees,declined,is_cancelled,is_all_day`.

Optional columns: `is_transparent` (free/busy "free"). A date without a time
is read as midnight UTC (all-day events). One row is one occurrence; the
meeting key is event id + start, as for iCalendar's UID + occurrence start.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from repsight.sources.csvfile import (
    FieldError,
    parse_address,
    parse_address_list,
    parse_bool,
    parse_rows,
    parse_timestamp,
)
from repsight.sources.files import Source
from repsight.sources.records import Attendee, Meeting, Rejected, meeting_key

__all__ = ["REQUIRED_COLUMNS", "read_calendar_csv"]

REQUIRED_COLUMNS = ("event_id", "start", "end", "organizer", "attendees")


def _moment(value: str, field: str, all_day: bool) -> datetime:
    if all_day and len(value) == 10:
        try:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        except ValueError:
            raise FieldError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
    return parse_timestamp(value, field)


def _meeting(position: str, fields: dict[str, str]) -> Meeting:
    uid = fields["event_id"]
    if not uid:
        raise FieldError("event_id", "is empty")
    all_day = parse_bool(fields.get("is_all_day", ""), "is_all_day")
    start = _moment(fields["start"], "start", all_day)
    end = _moment(fields["end"], "end", all_day)
    if end < start:
        raise FieldError("end", "the meeting ends before it starts")
    if not fields["organizer"]:
        raise FieldError("organizer", "is empty")
    organizer, organizer_name = parse_address(fields["organizer"], "organizer")
    declined = {a.lower() for a, _ in parse_address_list(fields.get("declined", ""), "declined")}
    attendees = {organizer.lower(): Attendee(organizer, "organizer", organizer_name)}
    for address, name in parse_address_list(fields["attendees"], "attendees"):
        response = "declined" if address.lower() in declined else "none"
        attendees.setdefault(address.lower(), Attendee(address, response, name))
    for address in declined - attendees.keys():
        attendees[address] = Attendee(address, "declined")
    return Meeting(
        position=position,
        key=meeting_key(uid, start),
        uid=uid,
        start=start,
        end=end,
        organizer=organizer,
        attendees=tuple(attendees.values()),
        is_cancelled=parse_bool(fields.get("is_cancelled", ""), "is_cancelled"),
        is_all_day=all_day,
        is_transparent=parse_bool(fields.get("is_transparent", ""), "is_transparent"),
    )


def read_calendar_csv(source: Source) -> Iterator[Meeting | Rejected]:
    """Yield each meeting row of a calendar CSV, or Rejected with the reason."""
    return parse_rows(source, REQUIRED_COLUMNS, _meeting)
