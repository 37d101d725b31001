"""Recurring meetings of an iCalendar file: a series' master and overrides, expanded into occurrences.

Expansion follows recurring-ical-events (the tests compare the two on every
fixture), with dateutil doing the rule arithmetic:

- DTSTART is the first occurrence, unless it lies after every UNTIL;
  RRULE and RDATE add occurrences at the same local (wall-clock) time.
- EXDATE removes an occurrence: a date-time removes the one at that instant,
  a date every occurrence on that (local) day.
- An override (RECURRENCE-ID) replaces the occurrence it names, with its
  own times, attendees and status; an override that names no occurrence is
  an occurrence of its own, unless it has an RRULE and a lower SEQUENCE
  than the master (a copy from before the series was split). Of several
  copies of a master or an override (a shared export holds one per
  calendar) the highest SEQUENCE wins, then the first in the file.
  RANGE=THISANDFUTURE is read as the one occurrence it names (a known
  difference from recurring-ical-events, which moves the later ones too).
- A RECURRENCE-ID, RDATE or EXDATE written without a zone is read in the
  zone of the series' DTSTART.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from repsight.sources.csvfile import FieldError, shown
from repsight.sources.files import MAX_OCCURRENCES, Window
from repsight.sources.records import Attendee, Meeting, Rejected, meeting_key

if TYPE_CHECKING:
    from dateutil.rrule import rrule

__all__ = ["Component", "Series", "expand", "instant", "recurrence_rule"]

_CYCLE_YEARS = 400  # the Gregorian calendar (weekdays included) repeats every 400 years

Moment = datetime | date  # aware date-time, a date (all-day), or naive (no zone written: the series' zone applies)


def instant(moment: Moment) -> datetime:
    """Return a moment in UTC: a date (or a naive date-time) is read as UTC, as all-day events are."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time.min, UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(slots=True)
class Component:
    """A checked VEVENT: times resolved (aware in their zone, or dates), people normalised."""

    position: str
    uid: str
    start: Moment
    end: Moment
    organizer: str
    attendees: tuple[Attendee, ...]
    is_cancelled: bool
    is_transparent: bool
    sequence: int = 0
    recurrence_id: Moment | None = None
    rules: tuple[rrule, ...] = ()  # from DTSTART
    last_until: datetime | None = None  # the latest UNTIL of the rules (DTSTART after it is no occurrence)
    has_rule: bool = False  # an override with an RRULE of its own: a copy from before its series was split
    open_ended: bool = False  # a rule without UNTIL or COUNT
    ruled: bool = False  # an RRULE was written (one that never occurs is dropped from `rules`, the series stays one)
    rdates: tuple[tuple[Moment, Moment | timedelta | None], ...] = ()
    exdates: tuple[Moment, ...] = ()

    @property
    def recurs(self) -> bool:
        return self.recurrence_id is not None or self.ruled or bool(self.rules) or bool(self.rdates)

    def meeting(self, start: Moment | None = None, end: Moment | None = None) -> Meeting:
        """Return the occurrence starting at `start` (default: the component's own), as a Meeting in UTC."""
        first = instant(self.start if start is None else start)
        return Meeting(
            position=self.position,
            key=meeting_key(self.uid, first),
            uid=self.uid,
            start=first,
            end=instant(self.end if end is None else end),
            organizer=self.organizer,
            attendees=self.attendees,
            is_cancelled=self.is_cancelled,
            is_all_day=not isinstance(self.start, datetime),
            is_transparent=self.is_transparent,
        )


def recurrence_rule(text: str, start: Moment) -> tuple[rrule | None, datetime | None, bool]:
    """Return a dateutil rule from DTSTART, its UNTIL and whether it ends (UNTIL or COUNT).

    The rule is None where it never occurs (it adds nothing to DTSTART).

    UNTIL is made to fit DTSTART as recurring-ical-events does: a date for
    all-day series, UTC for zoned ones (a value without `Z` is read as UTC).
    """
    from dateutil.rrule import rrule, rrulestr

    parts = [p.strip() for p in text.strip().removeprefix("RRULE:").split(";") if p.strip()]
    names = [p.partition("=")[0].upper() for p in parts]
    for i, name in enumerate(names):
        if name != "UNTIL":
            continue
        written = parts[i].partition("=")[2]
        if not isinstance(start, datetime):
            written = written[:8]
        elif start.tzinfo is not None and not written.endswith("Z"):
            written = (written + "T000000" if len(written) == 8 else written) + "Z"
        parts[i] = "UNTIL=" + written
    first = start if isinstance(start, datetime) else datetime.combine(start, time.min)
    try:
        rule = rrulestr(";".join(parts), dtstart=first)
    except (ValueError, TypeError, OverflowError, KeyError, IndexError):
        rule = None
    if not isinstance(rule, rrule):
        raise FieldError("RRULE", f"{shown(text)} is not a recurrence rule")
    _check_rule(rule, text)
    return (
        (None if _never_occurs(rule) else rule),
        getattr(rule, "_until", None),
        "UNTIL" in names or "COUNT" in names,
    )  # UNTIL as dateutil read it


def _check_rule(rule: rrule, text: str) -> None:
    """Raise FieldError for a rule that cannot be expanded in bounded time (dateutil would loop or scan for ages)."""
    from dateutil.rrule import DAILY, HOURLY, MINUTELY, SECONDLY

    # dateutil yields DTSTART forever at INTERVAL=0.
    if rule._interval <= 0:  # type: ignore[attr-defined]
        raise FieldError("RRULE", f"{shown(text)} is not a recurrence rule (INTERVAL must be positive)")
    if rule._count is not None and rule._count <= 0:  # type: ignore[attr-defined]
        raise FieldError("RRULE", f"{shown(text)} is not a recurrence rule (COUNT must be positive)")
    # No meeting recurs every minute or second; such rules give millions of occurrences a month.
    if rule._freq in (MINUTELY, SECONDLY):  # type: ignore[attr-defined]
        raise FieldError("RRULE", "repeats more often than hourly, as no meeting does")
    # BYSETPOS picks among the times of one day or hour there: dateutil may scan hour by hour to the year 9999.
    if rule._bysetpos and rule._freq in (DAILY, HOURLY):  # type: ignore[attr-defined]
        raise FieldError("RRULE", "has BYSETPOS with FREQ=DAILY or HOURLY, which this reader does not expand")


def _never_occurs(rule: rrule) -> bool:
    """Return whether a rule gives no occurrence at all (BYMONTH=2;BYMONTHDAY=31, say).

    dateutil scans such a rule up to the year 9999 (seconds); this scans one
    400-year calendar cycle (weekdays included) near that end instead, the
    rule shifted by whole cycles, which keeps its INTERVAL's phase. Where no
    one cycle keeps it, the probe drops the INTERVAL: it then yields every
    occurrence of the rule and more, so an empty probe still proves it empty.
    """
    from dateutil.rrule import DAILY, HOURLY, MONTHLY, WEEKLY, YEARLY

    # Periods of each frequency in 400 years: a shift by a whole cycle keeps the INTERVAL's phase if it divides them.
    periods = {YEARLY: 400, MONTHLY: 4800, WEEKLY: 20871, DAILY: 146097, HOURLY: 146097 * 24}.get(rule._freq)  # type: ignore[attr-defined]
    if periods is None:
        return False
    interval = rule._interval  # type: ignore[attr-defined]
    if periods % interval:
        interval = 1  # every occurrence of the rule is one of this probe's
    start = rule._dtstart.replace(tzinfo=None)  # type: ignore[attr-defined]
    span = _CYCLE_YEARS
    year = start.year + (MAXYEAR - span - start.year) // span * span
    try:
        probe = rule.replace(dtstart=start.replace(year=year), interval=interval, count=None, until=None)
        return probe.after(probe._dtstart, inc=True) is None  # type: ignore[attr-defined]
    except Exception:  # dateutil on an untrusted rule: expanding it will tell
        return False


@dataclass(frozen=True, slots=True)
class _Frame:
    """How a series computes with its moments: in its DTSTART's zone, or in naive midnights if it is all-day."""

    zone: tzinfo | None
    all_day: bool

    def local(self, moment: Moment) -> datetime:
        """Return a moment as the series' rules give them (a value without a zone takes the series' zone)."""
        if self.all_day:
            return datetime.combine(moment.date() if isinstance(moment, datetime) else moment, time.min)
        if not isinstance(moment, datetime):
            return datetime.combine(moment, time.min, self.zone)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=self.zone)

    def key(self, moment: Moment) -> datetime | date:
        """Return what identifies an occurrence: its instant, or its date in an all-day series."""
        local = self.local(moment)
        return local.date() if self.all_day else local


def _span(start: Moment, end: Moment) -> timedelta:
    """Return end - start: wall-clock time for two date-times in one zone (as Python subtracts), days for dates."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end - start
    return (end.date() if isinstance(end, datetime) else end) - (start.date() if isinstance(start, datetime) else start)


def _before(moment: datetime, limit: datetime | None, inclusive: bool) -> bool:
    return limit is None or moment < limit or (inclusive and moment == limit)


class Series:
    """The components of one UID that recur: a master (RRULE or RDATE) and overrides (RECURRENCE-ID)."""

    def __init__(self) -> None:
        self.master: Component | None = None
        # One override per RECURRENCE-ID as written (a shared export holds a copy per calendar).
        self.overrides: dict[datetime | date, Component] = {}

    def add(self, component: Component) -> None:
        """Take a component of the series: of two copies, the higher SEQUENCE wins, then the first."""
        rid = component.recurrence_id
        if rid is None:
            if self.master is None or component.sequence > self.master.sequence:
                self.master = component
            return
        written = instant(rid) if isinstance(rid, datetime) and rid.tzinfo is not None else rid
        if written not in self.overrides or component.sequence > self.overrides[written].sequence:
            self.overrides[written] = component

    @property
    def position(self) -> str:
        """The master's line, or else the first override's."""
        return self.master.position if self.master is not None else next(iter(self.overrides.values())).position

    @property
    def open_ended(self) -> bool:
        return self.master is not None and self.master.open_ended

    def _frame(self) -> _Frame:
        start = None if self.master is None else self.master.start
        if start is not None and not isinstance(start, datetime):
            return _Frame(None, True)
        return _Frame(None if start is None else start.tzinfo, False)

    def latest_written(self) -> datetime | None:
        """Return the latest start or end its overrides and RDATEs write, if any."""
        frame = self._frame()
        try:
            moments = [instant(m) for c in self.overrides.values() for m in (c.start, c.end)]
            if self.master is not None:
                moments += [instant(frame.local(start)) for start, _ in self.master.rdates]
        except Exception:  # past the year 9999 in UTC, or a VTIMEZONE dateutil fails on: expanding the series will say so
            return None
        return max(moments, default=None)

    def first(self) -> datetime:
        """Return the latest moment of the master's own occurrence (DTSTART): its end, or its start if later."""
        assert self.master is not None
        return max(instant(self.master.start), instant(self.master.end))

    def _starts(self, frame: _Frame, limit: datetime | None, inclusive: bool) -> Iterator[datetime]:
        """Yield the master's occurrence starts in order, up to `limit`, EXDATE not yet applied."""
        from dateutil.rrule import rruleset

        assert self.master is not None
        master = self.master
        merged = rruleset()
        for rule in master.rules:
            merged.rrule(rule)
        for start, _ in master.rdates:
            merged.rdate(frame.local(start))
        first = frame.local(master.start)
        if master.last_until is None or first <= master.last_until:
            merged.rdate(first)
        for walked, start in enumerate(merged):
            if not _before(instant(start), limit, inclusive):
                return
            if walked >= MAX_OCCURRENCES:
                raise _TooMany
            yield start

    def occurrences(self, limit: datetime | None, inclusive: bool) -> Iterator[Meeting]:
        """Yield each occurrence once, in order, up to `limit`; an override in place of the one it replaces."""
        frame = self._frame()
        overrides: dict[datetime | date, Component] = {}
        for override in self.overrides.values():
            assert override.recurrence_id is not None
            key = frame.key(override.recurrence_id)
            if key not in overrides or override.sequence > overrides[key].sequence:
                overrides[key] = override
        master = self.master
        excluded = {frame.key(m) for m in master.exdates} if master else set()
        excluded_days = {m for m in master.exdates if not isinstance(m, datetime)} if master else set()
        emitted: set[datetime] = set()
        if master is not None:
            duration = _span(master.start, master.end)
            periods = {frame.key(start): end for start, end in master.rdates if end is not None}
            for start in self._starts(frame, limit, inclusive):
                key = frame.key(start)
                if key in excluded or start.date() in excluded_days:
                    continue
                override = overrides.pop(key, master)
                if override is not master:
                    meeting = override.meeting()
                    if not _before(meeting.start, limit, inclusive):
                        continue  # moved past the limit (the window's end): it starts outside
                else:
                    # An RDATE written as a PERIOD brings its own end.
                    period = periods.get(key)
                    if period is None or isinstance(period, timedelta):
                        end = start + (duration if period is None else period)
                    else:
                        end = frame.local(period)
                    meeting = master.meeting(key, end.date() if frame.all_day else end)
                if meeting.start not in emitted:
                    emitted.add(meeting.start)
                    yield meeting
        for key, override in overrides.items():
            if key in excluded or (override.has_rule and self._outdated(frame, override, key)):
                continue
            meeting = override.meeting()
            if meeting.start not in emitted and _before(meeting.start, limit, inclusive):
                emitted.add(meeting.start)
                yield meeting

    def _outdated(self, frame: _Frame, override: Component, key: datetime | date) -> bool:
        """Return whether an override older than its master names none of its occurrences.

        Such an override (one with an RRULE of its own) is a copy from before
        the series was split; recurring-ical-events leaves it out, and so do we.
        """
        master = self.master
        if master is None or override.sequence >= master.sequence:
            return False
        excluded = {frame.key(m) for m in master.exdates}
        excluded_days = {m for m in master.exdates if not isinstance(m, datetime)}
        return not any(
            frame.key(start) == key and key not in excluded and start.date() not in excluded_days
            for start in self._starts(frame, instant(key), inclusive=True)
        )


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


class _TooMany(Exception):
    """A series has more than MAX_OCCURRENCES occurrences up to where it is read."""


def _guarded(each: Series, meetings: Iterator[Meeting]) -> Iterator[Meeting | Rejected]:
    """Yield the meetings; a series that cannot be expanded (years past 9999, say) ends in a Rejected."""
    try:
        yield from meetings
    except _TooMany:
        yield Rejected(
            each.position,
            "RRULE",
            f"has more than {MAX_OCCURRENCES:,} occurrences from DTSTART to where reading stops; "
            "set [sources] calendar_from/calendar_until to read a shorter span",
        )
    # Last resort: dateutil and datetime raise all sorts (IndexError, OverflowError, ...) on untrusted rules and
    # VTIMEZONEs, and one bad series must not abort the whole file.
    except Exception as exc:
        yield Rejected(each.position, "RRULE", f"the series cannot be expanded ({type(exc).__name__})")


def expand(series: list[Series], window: Window, latest: datetime | None) -> Iterator[Meeting | Rejected]:
    """Yield the occurrences of every series from `window.start`, up to `window.end` or else a horizon.

    Without a window end, a series that ends (UNTIL, COUNT, or RDATE only)
    is expanded whole, and an open-ended one up to the latest start or end
    of anything else in the file: `latest` (that of the non-recurring
    events), overrides, RDATEs, the occurrences of series that end, and the
    first occurrence of other open-ended series; where nothing is later, up
    to its own first occurrence.
    """

    def shown(found: Meeting | Rejected) -> bool:
        return isinstance(found, Rejected) or window.start is None or found.start >= window.start

    if window.end is not None:
        for each in series:
            yield from filter(shown, _guarded(each, each.occurrences(window.end, inclusive=False)))
        return
    latest = _latest(latest, *(each.latest_written() for each in series))
    for each in series:
        if not each.open_ended:
            for found in _guarded(each, each.occurrences(None, inclusive=True)):
                if isinstance(found, Meeting):
                    latest = _latest(latest, found.start, found.end)
                if shown(found):
                    yield found
    open_ended = [each for each in series if each.open_ended]
    # Each open-ended series leans on the others' first occurrences, never on its own.
    firsts = sorted((each.first(), i) for i, each in enumerate(open_ended))[-2:]
    for i, each in enumerate(open_ended):
        assert each.master is not None
        others = [moment for moment, j in firsts if j != i][-1:]
        limit = _latest(latest, *others, instant(each.master.start))
        yield from filter(shown, _guarded(each, each.occurrences(limit, inclusive=True)))
