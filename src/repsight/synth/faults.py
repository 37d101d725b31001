"""Faults real exports have, planted in the synthetic company so that data validation can be scored against them.

A plan (`plan_faults`) says who and when: people whose own mailbox or
calendar is not exported, company-wide holiday weeks, people on leave for a
few weeks, and people who for a while send and receive under a second
address that is not on the roster. `apply_faults` then rewrites or drops
the generator's events as they stream by, and `Exports` leaves the missing
mailboxes and calendars out. Every choice is drawn from a stream of its own
(`faults_rng`), so the company, and every event the faults leave alone, is
what it is without them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from repsight.synth.activity import SynthMeeting, SynthMessage
from repsight.synth.org import Company, Employee
from repsight.synth.random import Rng

__all__ = ["Alias", "Faults", "PlantedFaults", "apply_faults", "faults_rng", "plan_faults"]

Event = SynthMessage | SynthMeeting

WEEK = timedelta(days=7)
ZONE_MARGIN = timedelta(hours=14)
"""Leave covers this much more on either side of its weeks (as UTC weeks), so that weeks counted in any zone see none of it."""
EXECUTIVE_LEVEL = 8
"""Executives (the CEO sends the all-hands) get no fault: a fault of theirs would touch everyone."""


@dataclass(frozen=True)
class Faults:
    """How many of each fault to plant; written to truth.json with what was planted."""

    missing_mailbox_share: float = 0.05
    """Share of reps whose own mailbox is missing from the mail export (at least one where the share is above 0)."""
    missing_mailbox_others: int = 2
    """People who are not reps whose own mailbox is missing from the mail export."""
    missing_calendar_share: float = 0.05
    """Share of reps whose own calendar is missing from the calendar export (other people than those without a mailbox)."""
    missing_calendar_others: int = 2
    """People who are not reps whose own calendar is missing from the calendar export."""
    missing_from_top: bool = False
    """Draw the reps without their own mailbox or calendar from the more skilled half only (an export that missed the
    top performers' mail system): the missing data then go with attainment, and a study that keeps them is biased."""
    holiday_weeks: int = 2
    """Company-wide weeks in which nearly all activity stops: the week of 25 December where the data holds it, the rest drawn."""
    holiday_activity: float = 0.05
    """Share of a holiday week's emails and meetings that still happen."""
    leave_share: float = 0.04
    """Share of people (at least one where above 0) with no activity at all for a span of weeks inside their employment."""
    leave_weeks: tuple[int, int] = (2, 6)
    """Fewest and most consecutive weeks of one leave."""
    duplicates: int = 3
    """People who, for a span of weeks, send and receive under a second address that is not on the roster."""
    duplicate_weeks: tuple[int, int] = (4, 10)
    """Fewest and most consecutive weeks of one second address."""

    def __post_init__(self) -> None:
        for name in ("missing_mailbox_share", "missing_calendar_share", "holiday_activity", "leave_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"Faults.{name} must be between 0 and 1")
        for name in ("missing_mailbox_others", "missing_calendar_others", "holiday_weeks", "duplicates"):
            if getattr(self, name) < 0:
                raise ValueError(f"Faults.{name} must not be negative")
        for name in ("leave_weeks", "duplicate_weeks"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"Faults.{name} must be (fewest, most) weeks with 1 <= fewest <= most")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Alias:
    """A second address a person uses, with the same display name, from the `first` to the `last` Monday."""

    address: str
    first: date
    last: date


@dataclass(frozen=True)
class PlantedFaults:
    """What `plan_faults` chose: the truth a validation report is scored against."""

    faults: Faults
    missing_mailbox: frozenset[str] = frozenset()
    missing_calendar: frozenset[str] = frozenset()
    holiday_weeks: tuple[date, ...] = ()
    leave: dict[str, tuple[date, date]] = field(default_factory=dict)
    """Each person on leave: the first and last Monday of the leave."""
    aliases: dict[str, Alias] = field(default_factory=dict)
    """Each person with a second address: the roster address and the alias."""

    def as_dict(self) -> dict[str, object]:
        """Return the plan as truth.json records it: addresses sorted, weeks as ISO Mondays."""
        return {
            "params": self.faults.as_dict(),
            "missing_mailbox": sorted(self.missing_mailbox),
            "missing_calendar": sorted(self.missing_calendar),
            "holiday_weeks": [w.isoformat() for w in self.holiday_weeks],
            "leave": {
                e: {"first": first.isoformat(), "last": last.isoformat()} for e, (first, last) in sorted(self.leave.items())
            },
            "duplicates": {
                e: {"alias": a.address, "first": a.first.isoformat(), "last": a.last.isoformat()}
                for e, a in sorted(self.aliases.items())
            },
        }


def faults_rng(seed: int) -> Rng:
    """Return the stream the faults are drawn from: derived from the seed, apart from the main and engagement streams."""
    digest = hashlib.sha256(f"repsight synthetic faults {seed}".encode()).digest()
    return Rng(int.from_bytes(digest[:8], "big"))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _count(share: float, pool: int) -> int:
    return min(pool, max(1, round(share * pool))) if share > 0 else 0


def _allowed(person: Employee, weeks: Sequence[date]) -> tuple[date, date]:
    """Return the first and last Monday a span of `person`'s may cover: inside their employment, two weeks from hire and leave."""
    first = max(weeks[1], _monday(person.hire_date) + 2 * WEEK)
    last = weeks[-2] if person.leave_date is None else min(weeks[-2], _monday(person.leave_date) - 2 * WEEK)
    return first, last


def _room(person: Employee, weeks: Sequence[date]) -> int:
    """Return how many weeks a span of `person`'s may cover."""
    first, last = _allowed(person, weeks)
    return (last - first).days // 7 + 1


def _span(person: Employee, weeks: Sequence[date], lengths: tuple[int, int], rng: Rng) -> tuple[date, date]:
    """Return the first and last Monday of a span of weeks inside `person`'s employment (`_room` must hold the shortest)."""
    first_allowed, _ = _allowed(person, weeks)
    room = _room(person, weeks)
    low, high = lengths
    length = rng.integer(low, min(high, room))
    first = first_allowed + rng.integer(0, room - length) * WEEK
    return first, first + (length - 1) * WEEK


def _holidays(weeks: Sequence[date], count: int, rng: Rng) -> tuple[date, ...]:
    """Return `count` holiday Mondays: the week of 25 December where it is inside the data, then drawn; never next to each other or at an end."""
    inner = list(weeks[1:-1])
    chosen = [w for w in inner if w <= date(w.year, 12, 25) < w + WEEK][:count]
    while len(chosen) < count:
        free = [w for w in inner if all(abs((w - c).days) > 7 for c in chosen)]
        if not free:
            break
        chosen.append(rng.choice(free))
    return tuple(sorted(chosen))


def _alias(person: Employee, taken: set[str], rng: Rng) -> str:
    """Return a second address for `person` as mail systems make them: `ana.duarte2@…` or `aduarte@…`, unused."""
    local, domain = person.email.split("@")
    first, last = (local.rstrip("0123456789").split(".") + [""])[:2]
    forms = [f"{first[:1]}{last}", f"{first}{last}", f"{first}.{last}"]
    start = rng.integer(0, 2)
    for form in forms[start:] + forms[:start]:
        for suffix in ("", *map(str, range(2, 100))):
            address = f"{form}{suffix}@{domain}"
            if address not in taken:
                return address
    raise AssertionError("no free alias")  # pragma: no cover - a hundred forms cannot all be taken


def plan_faults(company: Company, weeks: Sequence[date], faults: Faults, rng: Rng) -> PlantedFaults:
    """Return the faults to plant in `company` over `weeks`, drawn from `rng` (`faults_rng`); each person gets one fault at most."""
    people = [e for e in company.employees if e.level < EXECUTIVE_LEVEL]
    faulty: set[Employee] = set()  # a person is themself (`Employee` compares by identity)

    def draw(pool: list[Employee], count: int) -> list[Employee]:
        chosen = rng.sample([e for e in pool if e not in faulty], count)
        faulty.update(chosen)
        return chosen

    reps = [e for e in people if e.is_rep]
    others = [e for e in people if not e.is_rep]
    pool = reps
    if faults.missing_from_top:
        ranked = sorted(reps, key=lambda e: (e.skill or 0.0, e.email))
        pool = ranked[len(ranked) // 2 :]
    no_mailbox = draw(pool, _count(faults.missing_mailbox_share, len(reps))) + draw(others, faults.missing_mailbox_others)
    no_calendar = draw(pool, _count(faults.missing_calendar_share, len(reps))) + draw(others, faults.missing_calendar_others)
    holidays = _holidays(weeks, faults.holiday_weeks, rng)
    # Only people employed long enough for the shortest span can take one.
    can_leave = [e for e in people if _room(e, weeks) >= faults.leave_weeks[0]]
    leave: dict[str, tuple[date, date]] = {}
    for person in draw(can_leave, _count(faults.leave_share, len(people))):
        leave[person.email] = _span(person, weeks, faults.leave_weeks, rng)
    taken = {e.email for e in company.employees}
    aliases: dict[str, Alias] = {}
    for person in draw([e for e in people if _room(e, weeks) >= faults.duplicate_weeks[0]], faults.duplicates):
        span = _span(person, weeks, faults.duplicate_weeks, rng)
        address = _alias(person, taken, rng)
        taken.add(address)
        aliases[person.email] = Alias(address, *span)
    return PlantedFaults(
        faults,
        frozenset(e.email for e in no_mailbox),
        frozenset(e.email for e in no_calendar),
        holidays,
        leave,
        aliases,
    )


def _moment(event: Event) -> datetime:
    return event.sent_at if isinstance(event, SynthMessage) else event.start.astimezone(UTC)


def _utc_monday(monday: date) -> datetime:
    return datetime.combine(monday, time(0, 0), UTC)


def _without(event: Event, person: str) -> Event | None:
    """Return `event` without `person` in it, or None where they sent or organised it or nobody else is left to receive it."""
    if isinstance(event, SynthMessage):
        if event.sender == person:
            return None
        to = [a for a in event.to if a != person]
        if not to:
            return None
        return replace(event, to=to, cc=[a for a in event.cc if a != person], bcc=[a for a in event.bcc if a != person])
    if event.organizer == person:
        return None
    attendees = [a for a in event.attendees if a != person]
    if not attendees:
        return None
    return replace(event, attendees=attendees, declined=[a for a in event.declined if a != person])


def _renamed(event: Event, person: str, alias: str) -> Event:
    """Return `event` with every mention of `person` under `alias` instead."""

    def swap(addresses: Iterable[str]) -> list[str]:
        return [alias if a == person else a for a in addresses]

    if isinstance(event, SynthMessage):
        sender = alias if event.sender == person else event.sender
        return replace(event, sender=sender, to=swap(event.to), cc=swap(event.cc), bcc=swap(event.bcc))
    organizer = alias if event.organizer == person else event.organizer
    return replace(event, organizer=organizer, attendees=swap(event.attendees), declined=swap(event.declined))


def _mentions(event: Event, person: str) -> bool:
    if isinstance(event, SynthMessage):
        return person == event.sender or person in event.to or person in event.cc or person in event.bcc
    return person == event.organizer or person in event.attendees


def apply_faults(events: Iterable[Event], planted: PlantedFaults, rng: Rng) -> Iterator[Event]:
    """Yield `events` as the faults leave them: thinned in holiday weeks, without people on leave, under aliases.

    Which holiday events still happen is drawn from `rng`, the stream the
    plan was drawn from. A week is a UTC week here; leave reaches `ZONE_MARGIN` further on either
    side. Events are copied before they change, as the generator still
    holds some of them (the thread a later reply continues). Missing
    mailboxes and calendars are left out by `Exports`, not here.
    """
    holidays = {_utc_monday(w) for w in planted.holiday_weeks}
    activity = planted.faults.holiday_activity
    leave = [
        (person, _utc_monday(first) - ZONE_MARGIN, _utc_monday(last) + WEEK + ZONE_MARGIN)
        for person, (first, last) in planted.leave.items()
    ]
    aliases = [(person, a.address, _utc_monday(a.first), _utc_monday(a.last) + WEEK) for person, a in planted.aliases.items()]
    for event in events:
        moment = _moment(event)
        if _utc_monday(_monday(moment.date())) in holidays and not rng.chance(activity):
            continue
        changed: Event | None = event
        for person, start, end in leave:
            if changed is not None and start <= moment < end and _mentions(changed, person):
                changed = _without(changed, person)
        if changed is None:
            continue
        for person, address, start, end in aliases:
            if start <= moment < end and _mentions(changed, person):
                changed = _renamed(changed, person, address)
        yield changed
