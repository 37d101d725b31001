"""Microsoft Graph message and event JSON, as Graph and Graph Data Connect export them.

Containers (an array, `{"value": [...]}` pages, JSON Lines) are streamed by
`jsonstream`; positions are "line N", the line where a resource starts.
Graph Data Connect writes enum values as `microsoft.graph.responseType'accepted'`,
plain Graph as `accepted`: both are read everywhere.

Messages follow the mail CSV's rules: the key is the Internet Message-ID
(else a hash of sentDateTime and the from, To, Cc and Bcc addresses, as the
CSV reader hashes its columns); the sender is `from`, else `sender`;
recipients are To, Cc, Bcc in that order, an address once (first mention
wins). Drafts, and messages without a sender or recipients, are rejected.
A display name that only repeats the address (Outlook writes one where it
knows no name) is no name. The parent (the message replied to) is read from
`internetMessageHeaders`, where the export has them: In-Reply-To, else the
last id of References (`records.parent_key`). `conversationId` names a
thread, not a parent, and is not read.

Events: `start`/`end` are local times in a Windows zone name, an IANA name
or UTC (UTC where no zone is given); all-day events start and end at
midnight UTC of their dates, as in the calendar CSV. `showAs: free` is
transparent. Attendees are the organiser first, then `attendees` in order,
an address once; rooms and equipment (`type: resource`) are not attendees;
a response Graph does not define counts as "none".

Recurring meetings:

- `singleInstance` (also a resource with no `type`), `occurrence` and
  `exception` resources are one meeting each, keyed by iCalUId and their
  actual start. Outlook's per-occurrence iCalUIds share their series' key,
  so a master's expanded occurrence and the same occurrence from a calendar
  view are one meeting.
- A `seriesMaster` is expanded with its recurrence pattern and range, in
  `range.recurrenceTimeZone` (else `originalStartTimeZone`, else its
  start's zone), on local wall-clock time across DST changes, unless the
  same file holds an `occurrence` of it: a calendar view already lists
  them. Exceptions alone do not stop it, since an `/events` export lists
  masters with their exceptions. Outlook's "day 31" falls on the last day
  of a shorter month.
- An `exception` stands for the occurrence due at its `originalStart` (for
  all-day series: that date, midnight in UTC or in the series' zone); where
  its master is expanded it takes that generated occurrence's place.
- Masters and exceptions are kept to the end of the file; everything else
  is yielded as it streams. Then come each expanded master's occurrences,
  then the exceptions that replaced none.
- Generated occurrences are limited to the source's window (start at or
  after `window.start`, before `window.end`). With no `window.end`, a
  series with no end is expanded up to the latest end of any other event
  in the file, and to its own first occurrence where nothing later exists.
  Single instances, occurrences and exceptions are never dropped.
- An occurrence lasts as long as its master in elapsed time, so one that
  spans a DST change keeps the master's length in hours, not on the clock.
  A range whose `startDate` is before the master's start gives no
  occurrence before the master's own start.
- Limits, so that no file runs away: a pattern's dayOfMonth (1-31), month
  (1-12), interval (from 1) and index are checked before anything is built;
  a series may give at most MAX_OCCURRENCES (10,000) occurrences and is
  expanded at most SPAN_YEARS (50) years past the window's start (or its
  own first occurrence). A series with more occurrences is rejected, naming
  the limit and `[sources] calendar_from/calendar_until`; so is a series
  that cannot be expanded for any other reason, and reading goes on.
- A `timeZone` is looked up only when it is a Windows name or one of the
  IANA names the system lists (never a file path).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from dateutil import rrule

from repsight.sources.csvfile import FieldError, parse_address, parse_timestamp, shown
from repsight.sources.files import MAX_OCCURRENCES, Source, Window
from repsight.sources.jsonstream import field_flag, field_list, field_number, field_object, field_text, read_resources
from repsight.sources.records import Attendee, Meeting, Message, Recipient, Rejected, meeting_key, message_key, parent_key

__all__ = ["graph_time_zone", "read_graph_events", "read_graph_messages"]

_ENUM = re.compile(r"microsoft\.graph\.\w+'(.*)'")
# Graph's enum values are camelCase; they are compared lower-cased.
_RESPONSES = {
    "organizer": "organizer",
    "accepted": "accepted",
    "tentativelyaccepted": "tentative",
    "declined": "declined",
    "notresponded": "needs-action",
}
_EVENT_TYPES = ("singleinstance", "occurrence", "exception", "seriesmaster")
_RECIPIENTS = (("toRecipients", "to"), ("ccRecipients", "cc"), ("bccRecipients", "bcc"))
_HEADERS = "internetMessageHeaders"
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEK_INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}

SPAN_YEARS = 50
"""A series is expanded up to this many years after the window's start (or its own first occurrence)."""
_TOO_MANY = (
    f"the series has more than {MAX_OCCURRENCES:,} occurrences in the window;"
    " set [sources] calendar_from/calendar_until to a narrower window"
)


def _enum(value: Any, field: str) -> str:
    """Return an enum value lower-cased, Data Connect's `microsoft.graph.type'value'` unwrapped."""
    text = field_text(value, field)
    match = _ENUM.fullmatch(text)
    return (match.group(1) if match else text).lower()


def _mailbox(value: Any, field: str) -> tuple[str, str] | None:
    """Return (address, name) of a Graph recipient (`{"emailAddress": {...}}`), or None if it has no address."""
    if value is None:
        return None
    email = field_object(value, field).get("emailAddress")
    if email is None:
        return None
    email = field_object(email, field)
    address = field_text(email.get("address"), field)
    if not address:
        return None
    address, _ = parse_address(address, field)
    name = field_text(email.get("name"), field)
    return address, "" if name.lower() == address.lower() else name


def _instant(value: Any, field: str) -> datetime:
    """Return a Graph DateTimeOffset (`2024-07-01T09:00:00Z`, up to 7 fractional digits) as an aware datetime."""
    text = field_text(value, field)
    if not text:
        raise FieldError(field, "is missing")
    return parse_timestamp(text, field)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    """The IANA names this system knows: only these reach ZoneInfo (never a path, never a name it recurses on)."""
    return frozenset(available_timezones())


@lru_cache(maxsize=512)
def graph_time_zone(name: str) -> tzinfo | None:
    """Return the zone a Graph `timeZone` names (a Windows name, an IANA name or UTC), or None if unknown."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    name = name.strip()
    if name.upper() in ("UTC", "TZONE://MICROSOFT/UTC"):
        return UTC
    iana = WINDOWS_TO_OLSON.get(name, name)
    if iana not in _zone_names():
        return None
    try:
        return ZoneInfo(iana)
    except (KeyError, ValueError, OSError):  # not a zone's file after all; KeyError is ZoneInfoNotFoundError
        return None


def _local(value: Any, field: str, all_day: bool) -> datetime:
    """Return a Graph dateTimeTimeZone as an aware datetime (midnight UTC of its date for all-day events)."""
    value = field_object(value, field)
    text = field_text(value.get("dateTime"), field)
    if not text:
        raise FieldError(field, "is missing")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(field, f"{shown(text)} is not an ISO 8601 date and time") from None
    if all_day:
        return datetime.combine(moment.date(), time(), UTC)
    if moment.tzinfo is None:
        # Graph writes times in UTC unless asked for another zone.
        zone_name = field_text(value.get("timeZone"), field) or "UTC"
        zone = graph_time_zone(zone_name)
        if zone is None:
            raise FieldError(field, f"the time zone {shown(zone_name)} is unknown")
        moment = moment.replace(tzinfo=zone)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise FieldError(field, f"{shown(text)} is out of range (years 1 to 9999 in UTC)") from None
    return moment


def _message(position: str, fields: dict[str, Any]) -> Message:
    if field_flag(fields.get("isDraft"), "isDraft"):
        raise FieldError("isDraft", "a draft, never sent")
    sent_at = _instant(fields.get("sentDateTime"), "sentDateTime")
    found = _mailbox(fields.get("from"), "from") or _mailbox(fields.get("sender"), "sender")
    if found is None:
        raise FieldError("from", "the message has no sender")
    sender, sender_name = found
    recipients: dict[str, Recipient] = {}
    listed: list[str] = []
    for field, kind in _RECIPIENTS:
        addresses = []
        for entry in field_list(fields.get(field), field):
            mailbox = _mailbox(entry, field)
            if mailbox is not None:
                addresses.append(mailbox[0])
                recipients.setdefault(mailbox[0].lower(), Recipient(mailbox[0], kind, mailbox[1]))
        listed.append(";".join(addresses))
    if not recipients:
        raise FieldError("toRecipients", "the message has no recipients")
    # The fallback is the mail CSV's, so a message without an id keys alike in both formats.
    key = message_key(
        field_text(fields.get("internetMessageId"), "internetMessageId"), (fields["sentDateTime"].strip(), sender, *listed)
    )
    return Message(position, key, sent_at, sender, tuple(recipients.values()), sender_name, _parent(fields))


def _parent(fields: dict[str, Any]) -> str | None:
    """Return the key of the message this one replies to, from its `internetMessageHeaders` (None without them)."""
    found: dict[str, str] = {}
    for entry in field_list(fields.get("internetMessageHeaders"), _HEADERS):
        header = field_object(entry, _HEADERS)
        name = field_text(header.get("name"), _HEADERS).lower()
        if name in ("in-reply-to", "references"):
            found.setdefault(name, field_text(header.get("value"), _HEADERS))  # the first of a repeated header
    return parent_key(found.get("in-reply-to", ""), found.get("references", ""))


def read_graph_messages(source: Source) -> Iterator[Message | Rejected]:
    """Yield each message of a Graph message JSON file in file order, or Rejected with the reason."""
    for item in read_resources(source.text, source.path):
        if isinstance(item, Rejected):
            yield item
            continue
        try:
            yield _message(item.position, item.fields)
        except FieldError as exc:
            yield Rejected(item.position, exc.field, exc.reason)


@dataclass(frozen=True, slots=True)
class _Event:
    """A meeting as read, with what recurrence needs: its type, ids and the Graph fields of a master."""

    meeting: Meeting
    type: str
    id: str
    series_id: str
    original_start: datetime | None
    fields: dict[str, Any] | None = None  # a master's `recurrence` and zone names


def _event(position: str, fields: dict[str, Any]) -> _Event:
    kind = _enum(fields.get("type"), "type") or "singleinstance"
    if kind not in _EVENT_TYPES:
        raise FieldError("type", f"{shown(kind)} is not singleInstance, occurrence, exception or seriesMaster")
    uid = field_text(fields.get("iCalUId"), "iCalUId")
    if not uid:
        raise FieldError("iCalUId", "is missing")
    all_day = field_flag(fields.get("isAllDay"), "isAllDay")
    start, end = _local(fields.get("start"), "start", all_day), _local(fields.get("end"), "end", all_day)
    if end < start:
        raise FieldError("end", "the meeting ends before it starts")
    organizer = _mailbox(fields.get("organizer"), "organizer")
    if organizer is None:
        raise FieldError("organizer", "the meeting has no organizer")
    attendees = {organizer[0].lower(): Attendee(organizer[0], "organizer", organizer[1])}
    for entry in field_list(fields.get("attendees"), "attendees"):
        mailbox = _mailbox(entry, "attendees")
        if mailbox is None or _enum(entry.get("type"), "attendees") == "resource":
            continue
        status = entry.get("status")
        response = _enum(status.get("response"), "attendees") if isinstance(status, dict) else ""
        attendees.setdefault(mailbox[0].lower(), Attendee(mailbox[0], _RESPONSES.get(response, "none"), mailbox[1]))
    meeting = Meeting(
        position=position,
        key=meeting_key(uid, start),
        uid=uid,
        start=start,
        end=end,
        organizer=organizer[0],
        attendees=tuple(attendees.values()),
        is_cancelled=field_flag(fields.get("isCancelled"), "isCancelled"),
        is_all_day=all_day,
        is_transparent=_enum(fields.get("showAs"), "showAs") == "free",
    )
    original = fields.get("originalStart")
    return _Event(
        meeting,
        kind,
        field_text(fields.get("id"), "id"),
        field_text(fields.get("seriesMasterId"), "seriesMasterId"),
        _instant(original, "originalStart") if kind == "exception" and original else None,
        {k: fields.get(k) for k in ("recurrence", "originalStartTimeZone", "start")} if kind == "seriesmaster" else None,
    )


def _series_zone(fields: dict[str, Any]) -> tzinfo:
    """Return the zone a master recurs in: the range's, else its original start's, else its start's."""
    recurrence = fields.get("recurrence") or {}
    range_ = recurrence.get("range") if isinstance(recurrence, dict) else None
    start = fields.get("start")
    candidates = [
        range_.get("recurrenceTimeZone") if isinstance(range_, dict) else None,
        fields.get("originalStartTimeZone"),
        start.get("timeZone") if isinstance(start, dict) else None,
    ]
    for name in candidates:
        # Outlook writes "tzone://Microsoft/Custom" for zones it defined itself: try the next.
        zone = graph_time_zone(name) if isinstance(name, str) and name.strip() else None
        if zone is not None:
            return zone
    return UTC


def _rule(recurrence: Any, first: datetime, bound: datetime) -> tuple[Any, bool]:
    """Return the dateutil rule of a Graph `recurrence` (naive local times from `first`) and whether it never ends.

    A rule that is not counted ends by `bound` at the latest.
    """
    recurrence = field_object(recurrence, "recurrence")
    pattern = field_object(recurrence.get("pattern"), "recurrence")
    range_ = field_object(recurrence.get("range"), "recurrence")
    kind = _enum(pattern.get("type"), "recurrence")
    days = [_WEEKDAYS.get(_enum(d, "recurrence")) for d in field_list(pattern.get("daysOfWeek"), "recurrence")]
    if None in days:
        raise FieldError("recurrence", "daysOfWeek holds a value that is not a day of the week")
    index_name = _enum(pattern.get("index"), "recurrence") or "first"
    index = _WEEK_INDEX.get(index_name)
    if index is None:
        raise FieldError("recurrence", f"the index {shown(index_name)} is not first, second, third, fourth or last")
    # Checked before anything is built from them: Graph writes 0 where a pattern uses no day or month.
    day = field_number(pattern.get("dayOfMonth"), "recurrence", 0)
    if not 0 <= day <= 31:
        raise FieldError("recurrence", f"the day of the month {shown(str(day))} is not 1 to 31")
    month = field_number(pattern.get("month"), "recurrence", 0)
    if not 0 <= month <= 12:
        raise FieldError("recurrence", f"{shown(str(month))} is not a month")
    interval = field_number(pattern.get("interval"), "recurrence", 1)
    if interval < 1:
        raise FieldError("recurrence", f"the interval {shown(str(interval))} is not a whole number from 1")
    options: dict[str, Any] = {
        "dtstart": first,
        "interval": interval,
        "wkst": _WEEKDAYS.get(_enum(pattern.get("firstDayOfWeek"), "recurrence") or "sunday", 6),
    }
    # Outlook puts "day 31" on the last day of a shorter month: the last of days 28..31 the month has.
    month_day = {"bymonthday": list(range(28, day + 1)), "bysetpos": -1} if day > 28 else {"bymonthday": day}
    frequency: Literal[0, 1, 2, 3, 4, 5, 6]
    if kind == "daily":
        frequency = rrule.DAILY
    elif kind == "weekly":
        frequency = rrule.WEEKLY
        options["byweekday"] = days or None  # none given: the weekday of the first occurrence
    elif kind in ("absolutemonthly", "absoluteyearly") and 1 <= day <= 31:
        frequency = rrule.MONTHLY if kind == "absolutemonthly" else rrule.YEARLY
        options.update(month_day)
    elif kind in ("relativemonthly", "relativeyearly") and days:
        frequency = rrule.MONTHLY if kind == "relativemonthly" else rrule.YEARLY
        options.update(byweekday=days, bysetpos=index)
    else:
        raise FieldError("recurrence", f"the pattern {shown(kind)} is not one repsight can expand")
    if frequency == rrule.YEARLY:
        if not 1 <= month <= 12:
            raise FieldError("recurrence", f"{shown(str(month))} is not a month")
        options["bymonth"] = month
    end_kind = _enum(range_.get("type"), "recurrence")
    if end_kind == "enddate":
        last = field_text(range_.get("endDate"), "recurrence")[:10]
        try:
            options["until"] = datetime.combine(date.fromisoformat(last), time.max)
        except ValueError:
            raise FieldError("recurrence", f"the end date {shown(last)} is not a date (YYYY-MM-DD)") from None
    elif end_kind == "numbered":
        count = max(field_number(range_.get("numberOfOccurrences"), "recurrence", 1), 1)
        if count > MAX_OCCURRENCES:
            raise FieldError("recurrence", _TOO_MANY)
        options["count"] = count
    elif end_kind != "noend":
        raise FieldError("recurrence", f"the range {shown(end_kind)} is not endDate, numbered or noEnd")
    if "count" not in options:  # a counted rule must be counted from its start; MAX_OCCURRENCES bounds it
        options["until"] = min(options.get("until", bound), bound)
    return rrule.rrule(frequency, **options), end_kind == "noend"


def _expand(master: _Event, zone: tzinfo, window: Window, horizon: datetime | None) -> Iterator[Meeting]:
    """Yield a master's occurrences within the window (and up to `horizon` for a series with no end).

    Every iteration has an explicit end: the window's end, the horizon, the series' own end, and at
    most SPAN_YEARS after the window's start (or the series' first occurrence). More than
    MAX_OCCURRENCES occurrences raise FieldError.
    """
    assert master.fields is not None
    meeting = master.meeting
    local_start = meeting.start.astimezone(zone).replace(tzinfo=None)
    recurrence = master.fields["recurrence"]
    range_ = recurrence.get("range") if isinstance(recurrence, dict) else None
    first_day = field_text(range_.get("startDate"), "recurrence")[:10] if isinstance(range_, dict) else ""
    try:
        first = datetime.combine(date.fromisoformat(first_day), local_start.time()) if first_day else local_start
    except ValueError:
        raise FieldError("recurrence", f"the start date {shown(first_day)} is not a date (YYYY-MM-DD)") from None
    # The master's start is its first occurrence: a range starting earlier gives none before it.
    first = max(first, local_start)
    # The window's start in local time, a day early for any UTC offset; the exact bound is checked below.
    since = window.start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1) if window.start else first
    since = max(since, first)
    bound = _years_later(since, SPAN_YEARS)
    if window.end is not None:
        bound = min(bound, window.end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1))
    # Elapsed time, as Outlook keeps an occurrence's length across a DST change.
    duration = meeting.end.astimezone(UTC) - meeting.start.astimezone(UTC)
    rule, endless = _rule(recurrence, first, bound)
    last = window.end
    if last is None and endless:
        last = max(horizon or meeting.start, meeting.start) + timedelta(microseconds=1)
    produced = 0
    for local in rule.xafter(since, inc=True):
        if local >= bound:
            return
        start = local.replace(tzinfo=zone)
        if last is not None and start >= last:
            return
        if window.start is None or start >= window.start:
            produced += 1
            if produced > MAX_OCCURRENCES:
                raise FieldError("recurrence", _TOO_MANY)
            end = (start.astimezone(UTC) + duration).astimezone(zone)
            yield replace(meeting, key=meeting_key(meeting.uid, start), start=start, end=end)


def _years_later(moment: datetime, years: int) -> datetime:
    """Return `moment` some years later, the last of February for the 29th, capped at the end of year 9999."""
    if moment.year + years > 9999:
        return datetime.combine(date(9999, 12, 31), time.max)
    return moment.replace(year=moment.year + years, day=min(moment.day, 28) if moment.month == 2 else moment.day)


def _due(moment: datetime, zone: tzinfo, all_day: bool) -> datetime | date:
    """Return what ties an occurrence to the exception replacing it: its start, or the date of an all-day one."""
    if not all_day:
        return moment.astimezone(UTC)
    # An all-day occurrence's original start is midnight, in UTC or in the series' zone.
    if moment.astimezone(UTC).time() == time():
        return moment.astimezone(UTC).date()
    return moment.astimezone(zone).date()


def read_graph_events(source: Source) -> Iterator[Meeting | Rejected]:
    """Yield each meeting occurrence of a Graph event JSON file, or Rejected with the reason.

    Single instances and occurrences come in file order; then each master's
    expanded occurrences (with its exceptions in their place), then the
    exceptions that replaced nothing.
    """
    masters: list[_Event] = []
    exceptions: list[_Event] = []
    with_occurrences: set[str] = set()
    latest: datetime | None = None
    for item in read_resources(source.text, source.path):
        if isinstance(item, Rejected):
            yield item
            continue
        try:
            event = _event(item.position, item.fields)
        except FieldError as exc:
            yield Rejected(item.position, exc.field, exc.reason)
            continue
        if event.type == "seriesmaster":
            masters.append(event)
            continue
        latest = event.meeting.end if latest is None else max(latest, event.meeting.end)
        if event.type == "occurrence":
            with_occurrences.add(event.series_id)
        if event.type == "exception":
            exceptions.append(event)
        else:
            yield event.meeting
    yield from _finish(masters, exceptions, with_occurrences, latest, source.window)


def _finish(
    masters: list[_Event], exceptions: list[_Event], with_occurrences: set[str], latest: datetime | None, window: Window
) -> Iterator[Meeting | Rejected]:
    """Yield the masters' occurrences, each exception in its occurrence's place, then the exceptions left."""
    latest_ends = sorted((m.meeting.end for m in masters), reverse=True)[:2]
    of_master: dict[str, list[int]] = {}
    for i, exception in enumerate(exceptions):
        if exception.original_start is not None:
            of_master.setdefault(exception.series_id, []).append(i)
    placed: set[int] = set()
    for master in masters:
        if master.id and master.id in with_occurrences:
            continue
        # The latest end of any other event: another master's first occurrence counts, its own does not.
        others = list(latest_ends)
        if master.meeting.end in others:
            others.remove(master.meeting.end)
        horizon = max([*others[:1], *([latest] if latest else [])], default=None)
        zone = _series_zone(master.fields or {})
        replacing: dict[datetime | date, int] = {}
        for i in of_master.get(master.id, []) if master.id else []:
            original = exceptions[i].original_start
            assert original is not None
            replacing.setdefault(_due(original, zone, master.meeting.is_all_day), i)
        try:
            # All-day occurrences are dates, kept at midnight UTC like every other reader's.
            # Collected first (at most MAX_OCCURRENCES), so a series rejected part way gives nothing.
            occurrences = list(_expand(master, UTC if master.meeting.is_all_day else zone, window, horizon))
        except FieldError as exc:
            yield Rejected(master.meeting.position, exc.field, exc.reason)
            continue
        except Exception as exc:
            # A last resort: a pattern dateutil or datetime cannot handle must cost this series, not the
            # whole ingest; InputError is never raised here, and the reason names no value of the file.
            yield Rejected(master.meeting.position, "recurrence", f"cannot be expanded ({type(exc).__name__})")
            continue
        for occurrence in occurrences:
            found = replacing.get(_due(occurrence.start, zone, occurrence.is_all_day))
            if found is None:
                yield occurrence
            elif found not in placed:
                placed.add(found)
                yield exceptions[found].meeting
    yield from (e.meeting for i, e in enumerate(exceptions) if i not in placed)
