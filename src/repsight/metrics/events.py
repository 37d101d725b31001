"""From stored events to counted interactions: one row per person and message or meeting.

The rules of docs/metrics.md (*Classes of address*, *Emails*, *Meetings*)
as Ibis expressions. Nothing here knows which engine runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from repsight.metrics.calendar import DAY, EPOCH_WEEKDAY

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config

__all__ = [
    "CUSTOMER",
    "EXTERNAL",
    "Inputs",
    "MailRows",
    "MeetingRows",
    "counted_meetings",
    "counted_messages",
    "domain_classes",
    "fixed_classes_table",
    "floor_mod",
    "local_seconds",
    "monday",
    "seconds",
    "timed_meetings",
    "timed_messages",
    "week_of",
]

CUSTOMER = ("customer", "prospect")
EXTERNAL = ("customer", "prospect", "partner", "vendor", "other_external")


@dataclass(frozen=True)
class Inputs:
    """The stored tables the metrics read, and the small tables built for them, on one backend."""

    people: ir.Table
    account_domains: ir.Table
    messages: ir.Table
    message_recipients: ir.Table
    meetings: ir.Table
    meeting_attendees: ir.Table
    zone_days: ir.Table
    """Offsets of each time zone on each UTC day (`calendar.zone_days_table`)."""
    calendar: ir.Table
    """Weeks with their dates and periods (`calendar.calendar_table`)."""
    person_zones: ir.Table
    """`person`, `zone`: the time zone each roster person's working hours are in."""
    fixed_classes: ir.Table
    """`domain`, `cls`: the company's and the personal domains (`fixed_classes_table`)."""
    network_shifts: ir.Table
    """`shift`: 0, 7, 14, … days: how far a week's ties reach forward in the network window."""
    keep: Callable[[ir.Table], ir.Table] = lambda table: table
    """Computes an intermediate table once for its several uses (the engine's cache); plans stay small."""


@dataclass(frozen=True)
class MailRows:
    """Counted messages, seen from each roster person who sent or received one."""

    rows: ir.Table
    """person, message_key, week_day, local (person's local second), sent, broadcast, people,
    with_customer, with_external, with_senior, with_manager."""
    participants: ir.Table
    """message_key, address, cls, is_sender: every participant of every counted message."""
    messages: ir.Table
    """message_key, week_day, people, broadcast."""


@dataclass(frozen=True)
class MeetingRows:
    """Counted meetings, seen from each roster person counted in one."""

    rows: ir.Table
    """person, meeting_key, week_day, start, end (epoch seconds), people,
    with_customer, with_external, with_senior, with_manager, one_on_one."""
    participants: ir.Table
    """meeting_key, address, cls: the counted people of every counted meeting."""
    meetings: ir.Table
    """meeting_key, week_day, people."""


def seconds(timestamp: ir.TimestampValue) -> ir.IntegerValue:
    """Return a UTC timestamp as whole epoch seconds (a fraction of a second dropped)."""
    # DuckDB's epoch() keeps the fraction and a plain cast would round it.
    return timestamp.epoch_seconds().cast("float64").floor().cast("int64")


def fixed_classes_table(config: Config) -> pa.Table:
    """Return `domain`, `cls` for the company's domains (internal) and the personal ones."""
    company = config.company
    fixed = [(d, "internal") for d in company.domains]
    fixed += [(d, "personal") for d in company.personal_domains if d not in company.domains]
    return pa.table({"domain": pa.array([d for d, _ in fixed], pa.string()), "cls": pa.array([c for _, c in fixed], pa.string())})


def domain_classes(inputs: Inputs) -> ir.Table:
    """Return `domain`, `cls`: the class of every domain that is not `other_external`."""
    fixed = inputs.fixed_classes
    accounts = inputs.account_domains.select("domain", cls=inputs.account_domains.type.lower())
    return fixed.union(accounts.anti_join(fixed, "domain"))


def _classified(table: ir.Table, domain: str, classes: ir.Table) -> ir.Table:
    """Return `table` with `cls`, the class of its `domain` column, and without personal addresses."""
    joined = table.left_join(classes, table[domain] == classes.domain)
    cls = joined.cls.fill_null("other_external")
    return joined.select(*table.columns, cls=cls).filter(lambda t: t.cls != "personal")


def local_seconds(table: ir.Table, second: str, zone: ir.StringValue | str, zone_days: ir.Table, name: str) -> ir.Table:
    """Return `table` with column `name`: epoch second `second` in local time of `zone` (a column or a zone name)."""
    keyed = table.mutate(_zone_day=table[second] // DAY, _zone=ibis.literal(zone) if isinstance(zone, str) else zone)
    joined = keyed.left_join(zone_days, [keyed._zone == zone_days.zone, keyed._zone_day == zone_days.day])
    offset = ibis.ifelse(joined[second] >= joined.change_at, joined.offset_after, joined.offset_before)
    return joined.select(*table.columns, **{name: joined[second] + offset.fill_null(0)})


def floor_mod(value: ir.IntegerValue, divisor: int) -> ir.IntegerValue:
    """Return `value` modulo `divisor`, from 0 to `divisor` - 1 also where `value` is negative (before 1970)."""
    # DuckDB's and Spark's `%` keep the sign of `value`; Ibis compiles `//` to
    # floor(value / divisor) on both, so this is the floor modulo everywhere.
    return value - (value // divisor) * divisor


def monday(day: ir.IntegerValue) -> ir.IntegerValue:
    """Return the epoch day of the Monday of the week holding epoch day `day`."""
    return day - floor_mod(day + EPOCH_WEEKDAY, 7)


def week_of(local: ir.IntegerValue) -> ir.IntegerValue:
    """Return the week (epoch day of its Monday) of a local epoch second."""
    return monday(local // DAY)


def _roster(inputs: Inputs, config: Config) -> ir.Table:
    """Return `person`, `manager`, `senior`, `zone` for every roster person."""
    people = inputs.people.left_join(inputs.person_zones, "person")
    return people.select(
        "person",
        manager=ibis.ifelse(people.manager == people.person, ibis.null("string"), people.manager),
        senior=(people.level >= config.company.senior_level).fill_null(False),
        zone=people.zone,
    )


def _with_people(participants: ir.Table, roster: ir.Table, key: str) -> ir.Table:
    """Return per-event class counts: `people`, `customers`, `externals`, `seniors` among its participants."""
    flagged = participants.left_join(roster.select("person", "senior"), participants.address == roster.person)
    return flagged.group_by(key).aggregate(
        people=flagged.address.count(),
        customers=flagged.cls.isin(CUSTOMER).sum(),
        externals=flagged.cls.isin(EXTERNAL).sum(),
        seniors=flagged.senior.fill_null(False).sum(),
    )


def _as_person(participants: ir.Table, roster: ir.Table, counts: ir.Table, key: str) -> ir.Table:
    """Return one row per roster person among the participants, with what the event holds besides them."""
    rows = participants.join(roster, participants.address == roster.person).join(counts, key)
    managers = participants.select(_manager_key=participants[key], _manager=participants.address)
    rows = rows.left_join(managers, [rows[key] == managers._manager_key, rows.manager == managers._manager])
    return rows.mutate(
        # "Others" are the participants other than the person: subtract them.
        with_customer=(rows.customers - rows.cls.isin(CUSTOMER).cast("int64")) > 0,
        with_external=(rows.externals - rows.cls.isin(EXTERNAL).cast("int64")) > 0,
        with_senior=(rows.seniors - rows.senior.cast("int64")) > 0,
        with_manager=rows._manager.notnull(),
    )


def timed_messages(inputs: Inputs, config: Config) -> ir.Table:
    """Return every stored message with its `second` (UTC epoch) and `week_day` (its week in the company's zone)."""
    stored = inputs.messages
    messages = stored.select("message_key", "sender", "sender_domain", second=seconds(stored.sent_at))
    messages = local_seconds(messages, "second", config.company.timezone, inputs.zone_days, "company_local")
    return messages.select("message_key", "sender", "sender_domain", "second", week_day=week_of(messages.company_local))


def timed_meetings(inputs: Inputs, config: Config) -> ir.Table:
    """Return every stored meeting with `start`, `end` (UTC epoch seconds) and `week_day` (the week of its start)."""
    stored = inputs.meetings
    meetings = stored.select(
        "meeting_key",
        "organizer",
        "organizer_domain",
        "is_cancelled",
        "is_all_day",
        "is_transparent",
        start=seconds(stored.start_at),
        end=seconds(stored.end_at),
    )
    meetings = local_seconds(meetings, "start", config.company.timezone, inputs.zone_days, "company_local")
    return meetings.select(*[c for c in meetings.columns if c != "company_local"], week_day=week_of(meetings.company_local))


def counted_messages(inputs: Inputs, config: Config, classes: ir.Table, timed: ir.Table) -> MailRows:
    """Return the counted messages (docs/metrics.md, *Emails*) and each roster person's view of them.

    `timed` is `timed_messages`.
    """
    rules = config.metrics
    messages = timed.filter(timed.sender.notnull())
    senders = _classified(messages, "sender_domain", classes)
    recipients = inputs.message_recipients.join(senders.select("message_key", "sender"), "message_key")
    recipients = recipients.filter(recipients.recipient != recipients.sender)
    recipients = _classified(recipients, "recipient_domain", classes).select("message_key", address="recipient", cls="cls")
    sizes = recipients.group_by("message_key").aggregate(recipients=recipients.count())
    counted = senders.join(sizes, "message_key")
    counted = counted.select(
        "message_key",
        "second",
        "week_day",
        broadcast=counted.recipients > rules.broadcast_recipients,
        sender=counted.sender,
        sender_cls=counted.cls,
    )
    counted = inputs.keep(counted)
    participants = counted.select("message_key", address=counted.sender, cls=counted.sender_cls, is_sender=True).union(
        recipients.semi_join(counted, "message_key").mutate(is_sender=False)
    )
    participants = inputs.keep(participants)
    roster = inputs.keep(_roster(inputs, config))
    counts = inputs.keep(_with_people(participants, roster, "message_key"))
    rows = _as_person(participants, roster, counts, "message_key")
    rows = rows.join(counted.select("message_key", "second", "week_day", "broadcast"), "message_key")
    rows = local_seconds(rows, "second", rows.zone, inputs.zone_days, "local")
    rows = rows.select(
        "person",
        "message_key",
        "week_day",
        "local",
        "broadcast",
        "people",
        "with_customer",
        "with_external",
        "with_senior",
        "with_manager",
        sent=rows.is_sender,
    )
    messages_out = inputs.keep(counted.join(counts.select("message_key", "people"), "message_key"))
    return MailRows(inputs.keep(rows), participants, messages_out)


def counted_meetings(inputs: Inputs, config: Config, classes: ir.Table, timed: ir.Table) -> MeetingRows:
    """Return the counted meetings (docs/metrics.md, *Meetings*) and each roster person's view of them.

    `timed` is `timed_meetings`.
    """
    rules = config.metrics
    meetings = timed.filter(
        lambda t: ~t.is_cancelled.fill_null(False) & ~t.is_all_day.fill_null(False) & ~t.is_transparent.fill_null(False)
    )
    length = meetings.end - meetings.start
    meetings = meetings.filter((length > 0) & (length < round(rules.meeting_max_hours * 3600)))
    organizers = meetings.filter(meetings.organizer.notnull()).select(
        "meeting_key", address=meetings.organizer, domain=meetings.organizer_domain
    )
    attendees = inputs.meeting_attendees.filter(lambda t: t.response.fill_null("none") != "declined")
    attendees = attendees.semi_join(meetings, "meeting_key").select(
        "meeting_key", address=attendees.attendee, domain=attendees.attendee_domain
    )
    people = organizers.union(attendees).group_by("meeting_key", "address").aggregate(domain=lambda t: t.domain.max())
    people = inputs.keep(_classified(people, "domain", classes).select("meeting_key", "address", "cls"))
    roster = inputs.keep(_roster(inputs, config))
    counts = inputs.keep(_with_people(people, roster, "meeting_key").filter(lambda t: t.people >= 2))
    counted = meetings.join(counts.select("meeting_key"), "meeting_key")
    counted = inputs.keep(counted.select("meeting_key", "start", "end", "week_day"))
    participants = inputs.keep(people.semi_join(counted, "meeting_key"))
    rows = _as_person(participants, roster, counts, "meeting_key").join(counted, "meeting_key")
    small = rows.people <= rules.small_meeting_max_people
    rows = rows.select(
        "person",
        "zone",
        "meeting_key",
        "week_day",
        "start",
        "end",
        "people",
        "with_customer",
        "with_external",
        with_senior=small & rows.with_senior,
        with_manager=small & rows.with_manager,
        one_on_one=(rows.people == 2) & rows.with_manager,
    )
    meetings_out = inputs.keep(counted.join(counts.select("meeting_key", "people"), "meeting_key"))
    return MeetingRows(inputs.keep(rows), participants, meetings_out)
