"""From stored events to counted interactions: one row per person and message or meeting.

The rules of docs/metrics.md (*Classes of address*, *Emails*, *Meetings*)
as Ibis expressions. Nothing here knows which engine runs them.

The stored keys are 32-character pseudonyms. Every address and every event
is numbered once (`parties`, `encode`), so that the many joins, windows and
aggregates after it compare integers, not strings; `weekly` and `network`
turn the numbers back into pseudonyms for the tables they return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from repsight.metrics.weeks import DAY, EPOCH, EPOCH_WEEKDAY

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config

__all__ = [
    "CUSTOMER",
    "DATED_FACTS",
    "EXTERNAL",
    "Encoded",
    "Inputs",
    "MailRows",
    "MeetingRows",
    "counted_meetings",
    "counted_messages",
    "domain_classes",
    "encode",
    "fixed_classes_table",
    "floor_mod",
    "in_week",
    "local_seconds",
    "monday",
    "parties",
    "roster_weeks_table",
    "seconds",
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
    roster_weeks: ir.Table | None
    """`person`, `week_start_day`, `manager`, `level`, `org`: the roster row in force in each week
    (`roster_weeks_table`), for the people whose manager, level or org changed; None when nobody's did."""
    keep: Callable[[ir.Table], ir.Table]
    """Computes an intermediate table once for its several uses (the engine's cache); plans stay small.

    Required: a table numbered with `row_id` must be kept before it is used twice."""
    row_id: Callable[[ir.Table], ir.IntegerValue]
    """A number unique to each row of one of the stored tables above, in no particular order (the engine's; see `encode`).

    Messages and meetings are numbered with it: the numbers only ever stand
    in for a key while the metrics are computed, and no result depends on
    which row got which. DuckDB reads each stored row's `rowid`; Spark
    numbers the rows of each partition at once, and may number them
    differently in two evaluations, hence `keep`."""


@dataclass(frozen=True)
class Encoded:
    """The stored events with every address and event numbered (`encode`)."""

    parties: ir.Table
    """party, address, cls, customer, external, internal, counted (the class as flags),
    account (a customer address's account), person (on the roster), senior, zone, org, manager (a party):
    every address seen in an event or on the roster, numbered."""
    messages: ir.Table
    """message, sender (a party), second (UTC epoch), week_start_day (its week in the company's zone)."""
    recipients: ir.Table
    """message, party: every stored recipient row."""
    meetings: ir.Table
    """meeting, organizer (a party), start, end (UTC epoch seconds), week_start_day, is_cancelled, is_all_day, is_transparent."""
    attendees: ir.Table
    """meeting, party, response: every stored attendee row."""
    replies: ir.Table
    """child, parent (messages): every stored message whose `parent_key` is a stored message's key (it may be itself)."""
    dated: ir.Table | None
    """party, week_start_day, senior, manager (a party), org: a roster person's facts in a week where
    they differ over time (`Inputs.roster_weeks`); `parties` holds the latest. None when nobody's differ."""


@dataclass(frozen=True)
class MailRows:
    """Counted messages, seen from each roster person who sent or received one."""

    rows: ir.Table
    """party, week_start_day, local (person's local second), sent, broadcast, people,
    with_customer, with_external, with_senior, with_manager."""
    recipients: ir.Table
    """message, party, internal: the recipients of every counted message, other than its sender."""
    messages: ir.Table
    """message, sender, sender_internal, second, week_start_day, people, broadcast."""


@dataclass(frozen=True)
class MeetingRows:
    """Counted meetings, seen from each roster person counted in one."""

    rows: ir.Table
    """party, week_start_day, start, end (epoch seconds), people,
    with_customer, with_external, with_senior, with_manager, one_on_one."""
    participants: ir.Table
    """meeting, party, internal: the counted people of every counted meeting."""
    meetings: ir.Table
    """meeting, start, week_start_day, people."""


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


# The roster facts the weekly metrics read; a change of any other column (region, timezone) changes none of them.
DATED_FACTS = ("manager", "level", "org")


def roster_weeks_table(history: pa.Table, first_week: int, last_week: int) -> pa.Table | None:
    """Return `person`, `week_start_day`, `manager`, `level`, `org`: each week's roster row, for the people whose facts changed.

    `history` is `people_history` (person, effective_date and the
    `DATED_FACTS`). A week takes the row in force on its last day (its
    Sunday), as a period takes the row in force on its last day; a week
    before a person's first effective date takes that first row. People
    whose rows all agree on the facts are left out (their `people` row says
    it); None when nobody's facts changed, and the metrics read `people` alone.
    """
    import pandas as pd

    rows = history.select(["person", "effective_date", *DATED_FACTS]).to_pandas()
    distinct = rows.drop_duplicates(["person", *DATED_FACTS])
    changing = distinct["person"].duplicated(keep=False)
    rows = rows[rows["person"].isin(set(distinct.loc[changing, "person"]))]
    if rows.empty:
        return None
    # Days since the epoch: 0001-01-01 (in force since always) is out of pandas' nanosecond range as a date.
    days = [(day - EPOCH).days for day in rows["effective_date"]]
    rows = rows.drop(columns="effective_date").assign(day=days, matched=True).sort_values("day", kind="stable")
    weeks = pd.DataFrame({"week_start_day": range(first_week, last_week + 1, 7)})
    grid = rows[["person"]].drop_duplicates().merge(weeks, how="cross")
    grid["day"] = grid["week_start_day"] + 6
    found = pd.merge_asof(grid.sort_values("day"), rows, on="day", by="person")
    # A week before the person's first effective date matched no row: it takes the first.
    first = rows.drop_duplicates("person").set_index("person")
    early = found["matched"].isna()
    for fact in DATED_FACTS:
        found[fact] = found[fact].where(~early, found["person"].map(first[fact]))
    found = found.sort_values(["person", "week_start_day"])
    return pa.table(
        {
            "person": pa.array(found["person"], pa.string()),
            "week_start_day": pa.array(found["week_start_day"], pa.int64()),
            "manager": pa.array(found["manager"].astype(object).where(found["manager"].notna(), None), pa.string()),
            "level": pa.array(found["level"].astype("Int64"), pa.int64()),
            "org": pa.array(found["org"].astype(object).where(found["org"].notna(), None), pa.string()),
        }
    )


def domain_classes(inputs: Inputs) -> ir.Table:
    """Return `domain`, `cls`: the class of every domain that is not `other_external`."""
    fixed = inputs.fixed_classes
    accounts = inputs.account_domains.select("domain", cls=inputs.account_domains.type.lower())
    return fixed.union(accounts.anti_join(fixed, "domain"))


def local_seconds(table: ir.Table, second: str, zone: ir.StringValue | str, zone_days: ir.Table, name: str) -> ir.Table:
    """Return `table` with column `name`: epoch second `second` in local time of `zone` (a column or a zone name)."""
    keyed = table.mutate(_zone_day=table[second] // DAY, _zone=ibis.literal(zone) if isinstance(zone, str) else zone)
    joined = keyed.left_join(zone_days, [keyed._zone == zone_days.zone, keyed._zone_day == zone_days.day])
    offset = ibis.ifelse(joined[second] >= joined.change_at, joined.offset_after, joined.offset_before)
    return joined.select(*table.columns, **{name: joined[second] + offset.fill_null(0)})


def floor_mod(value: ir.IntegerValue, divisor: int) -> ir.IntegerValue:
    """Return `value` modulo `divisor`, from 0 to `divisor` - 1 also where `value` is negative (before 1970)."""
    # DuckDB's and Spark's `%` keep the sign of `value` (-1 % 7 is -1): adding
    # the divisor and taking `%` again gives the floor modulo on both. `value`
    # appears once: Ibis writes an expression out wherever it is used.
    return (value % divisor + divisor) % divisor


def monday(day: ir.IntegerValue) -> ir.IntegerValue:
    """Return the epoch day of the Monday of the week holding epoch day `day`."""
    return day - floor_mod(day + EPOCH_WEEKDAY, 7)


def week_of(local: ir.IntegerValue) -> ir.IntegerValue:
    """Return the week (epoch day of its Monday) of a local epoch second."""
    return monday(local // DAY)


def _numbered(table: ir.Table, name: str, order_by: str) -> ir.Table:
    """Return `table` with `name`: 0, 1, … in the order of `order_by`."""
    # Spark's row_number is a 32-bit integer whatever Ibis believes, so the
    # cast to int64 must be spelled out through int32 (Ibis drops an int64 to
    # int64 cast). It caps what is numbered here (addresses) at 2^31 - 1 rows,
    # far above any company's; messages and meetings use `Inputs.row_id`.
    return table.mutate(**{name: ibis.row_number().over(order_by=order_by).cast("int32").cast("int64")})


def parties(inputs: Inputs, config: Config) -> ir.Table:
    """Return every address of the stored events and the roster, numbered, with its class and roster facts.

    Columns: party, address, cls (docs/metrics.md, *Classes of address*;
    personal addresses are kept here and left out where events are
    counted), the class as flags (customer, external, internal, and counted:
    not personal; flags are cheaper to test per event than text), account
    (a customer address's `account_id`, null for any other), person
    (true for a roster person), senior, zone, org, and manager (the
    manager's party; null for none or oneself).
    """
    m, r, e, a, p = inputs.messages, inputs.message_recipients, inputs.meetings, inputs.meeting_attendees, inputs.people
    seen = (
        m.select(address=m.sender, domain=m.sender_domain)
        .union(r.select(address=r.recipient, domain=r.recipient_domain), distinct=False)
        .union(e.select(address=e.organizer, domain=e.organizer_domain), distinct=False)
        .union(a.select(address=a.attendee, domain=a.attendee_domain), distinct=False)
        .union(p.select(address=p.person, domain=p.domain), distinct=False)
    )
    seen = seen.filter(seen.address.notnull())
    # An address's domain is part of the address before pseudonymisation, so
    # it is the same on every row; `max` picks it. Ordered: the numbers are
    # used twice below (the address, its manager) and must agree.
    addresses = _numbered(seen.group_by("address").aggregate(domain=seen.domain.max()), "party", order_by="address")
    classes = domain_classes(inputs)
    accounts = inputs.account_domains.select(_account_domain="domain", _account="account_id")
    classified = addresses.left_join(classes, addresses.domain == classes.domain)
    classified = classified.left_join(accounts, classified.domain == accounts._account_domain)
    cls = classified.cls.fill_null("other_external")
    customer = cls.isin(CUSTOMER)
    classified = classified.select(
        "party",
        "address",
        cls=cls,
        customer=customer,
        external=cls.isin(EXTERNAL),
        internal=cls == "internal",
        counted=cls != "personal",
        # A customer address's class came from its domain's account row: that row's account.
        account=ibis.ifelse(customer, classified._account, ibis.null("string")),
    )
    roster = p.left_join(inputs.person_zones, "person")
    roster = roster.select(
        _person="person",
        _manager=ibis.ifelse(roster.manager == roster.person, ibis.null("string"), roster.manager),
        senior=(roster.level >= config.company.senior_level).fill_null(False),
        zone=roster.zone,
        org=roster.org,
    )
    joined = classified.left_join(roster, classified.address == roster._person)
    managers = addresses.select(_manager_address="address", manager="party")
    joined = joined.left_join(managers, joined._manager == managers._manager_address)
    return joined.select(
        "party",
        "address",
        "cls",
        "customer",
        "external",
        "internal",
        "counted",
        "account",
        person=joined._person.notnull(),
        senior=joined.senior.fill_null(False),
        zone=joined.zone,
        org=joined.org,
        manager=joined.manager,
    )


def encode(inputs: Inputs, config: Config) -> Encoded:
    """Return the stored events with numbered addresses and events, and times as epoch seconds and weeks."""
    keep = inputs.keep
    known = keep(parties(inputs, config))
    party_of = known.select(_address="address", _party="party")

    stored = inputs.messages
    messages = stored.select("message_key", "sender", message=inputs.row_id(stored), second=seconds(stored.sent_at))
    messages = local_seconds(messages, "second", config.company.timezone, inputs.zone_days, "_company_local")
    messages = messages.left_join(party_of, messages.sender == party_of._address)
    messages = keep(
        messages.select(
            "message_key", "message", "second", sender=messages._party, week_start_day=week_of(messages._company_local)
        )
    )
    # A reply and its parent, both stored: two joins of the few messages that name a parent.
    named = stored.filter(stored.parent_key.notnull()).select(_child_key="message_key", _parent_key="parent_key")
    children = messages.select(_child_number_key="message_key", child="message")
    parents = messages.select(_parent_number_key="message_key", parent="message")
    replies = named.join(children, named._child_key == children._child_number_key)
    replies = keep(replies.join(parents, replies._parent_key == parents._parent_number_key).select("child", "parent"))
    recipients = inputs.message_recipients.join(messages.select("message_key", "message"), "message_key")
    recipients = recipients.join(party_of, recipients.recipient == party_of._address)
    recipients = keep(recipients.select("message", party=recipients._party))

    stored = inputs.meetings
    meetings = stored.select(
        "meeting_key",
        "organizer",
        "is_cancelled",
        "is_all_day",
        "is_transparent",
        meeting=inputs.row_id(stored),
        start=seconds(stored.start_at),
        end=seconds(stored.end_at),
    )
    meetings = local_seconds(meetings, "start", config.company.timezone, inputs.zone_days, "_company_local")
    meetings = meetings.left_join(party_of, meetings.organizer == party_of._address)
    meetings = keep(
        meetings.select(
            "meeting_key",
            "meeting",
            "start",
            "end",
            "is_cancelled",
            "is_all_day",
            "is_transparent",
            organizer=meetings._party,
            week_start_day=week_of(meetings._company_local),
        )
    )
    attendees = inputs.meeting_attendees.join(meetings.select("meeting_key", "meeting"), "meeting_key")
    attendees = attendees.join(party_of, attendees.attendee == party_of._address)
    attendees = keep(attendees.select("meeting", "response", party=attendees._party))
    return Encoded(
        parties=known,
        dated=None if inputs.roster_weeks is None else keep(_dated_facts(inputs.roster_weeks, party_of, config)),
        messages=messages.drop("message_key"),
        recipients=recipients,
        meetings=meetings.drop("meeting_key"),
        attendees=attendees,
        replies=replies,
    )


def _dated_facts(roster_weeks: ir.Table, party_of: ir.Table, config: Config) -> ir.Table:
    """Return `Encoded.dated`: `Inputs.roster_weeks` with parties for people and managers, and `senior` for the level."""
    rows = roster_weeks.join(party_of, roster_weeks.person == party_of._address)
    managers = party_of.select(_manager_address="_address", _manager_party="_party")
    # Oneself as one's own manager is no manager, as in `parties`.
    rows = rows.left_join(managers, (rows.manager == managers._manager_address) & (rows.manager != rows.person))
    return rows.select(
        "week_start_day",
        "org",
        party=rows._party,
        senior=(rows.level >= config.company.senior_level).fill_null(False),
        manager=rows._manager_party,
    )


def in_week(rows: ir.Table, dated: ir.Table | None, party: str, **facts: str) -> ir.Table:
    """Return `rows` with their columns `facts` (column → fact of `Encoded.dated`) as in force for their party column `party` in their week.

    `rows` carry `week_start_day`. A row whose party has no dated facts keeps what it has: the latest roster row's.
    """
    if dated is None:
        return rows
    week = dated.select(_dated_party="party", _dated_week="week_start_day", **{f"_dated_{c}": f for c, f in facts.items()})
    week = week.mutate(_dated=True)
    joined = rows.left_join(week, (rows[party] == week._dated_party) & (rows.week_start_day == week._dated_week))
    changed = {column: ibis.ifelse(joined._dated.notnull(), joined[f"_dated_{column}"], joined[column]) for column in facts}
    return joined.mutate(**changed).select(*rows.columns)


# What a participant row carries about its address.
_FACTS = ("customer", "external", "internal", "senior")


def _with_people(participants: ir.Table, key: str) -> ir.Table:
    """Return per-event class counts: `people`, `customers`, `externals`, `seniors` among its participants."""
    return participants.group_by(key).aggregate(
        people=participants.party.count(),
        # A filtered count, not a sum of flags: DuckDB counts with a filter faster than it sums casts.
        customers=participants.count(where=participants.customer),
        externals=participants.count(where=participants.external),
        seniors=participants.count(where=participants.senior),
    )


def _managing(participants: ir.Table, encoded: Encoded, key: str) -> ir.Table:
    """Return `_manager_key`, `_manager_party`: the participants of each event who manage someone (a small table)."""
    known = encoded.parties
    bosses = known.filter(known.manager.notnull()).select(_boss="manager")
    if encoded.dated is not None:
        dated = encoded.dated
        bosses = bosses.union(dated.filter(dated.manager.notnull()).select(_boss="manager"))
    bosses = bosses.distinct()
    managers = participants.semi_join(bosses, participants.party == bosses._boss)
    return managers.select(_manager_key=managers[key], _manager_party=managers.party)


def _as_person(rows: ir.Table, managers: ir.Table, encoded: Encoded, key: str) -> ir.Table:
    """Return the `rows` of roster people, with what the event holds besides them.

    `rows` are participants with their event's class counts (`_with_people`)
    and its `week_start_day`; `managers` is `_managing`, where a person's
    manager in that week is looked up.
    """
    known = encoded.parties
    people = known.filter(known.person).select(_party="party", _zone="zone", _manager="manager")
    rows = in_week(rows.join(people, rows.party == people._party), encoded.dated, "party", _manager="manager")
    rows = rows.left_join(managers, [rows[key] == managers._manager_key, rows._manager == managers._manager_party])
    return rows.mutate(
        zone=rows._zone,
        # "Others" are the participants other than the person: subtract them.
        with_customer=(rows.customers - rows.customer.cast("int64")) > 0,
        with_external=(rows.externals - rows.external.cast("int64")) > 0,
        with_senior=(rows.seniors - rows.senior.cast("int64")) > 0,
        with_manager=rows._manager_party.notnull(),
    )


def _counted_parties(table: ir.Table, column: str, known: ir.Table) -> ir.Table:
    """Return `table` with the class flags and `senior` of its party column `column`, without personal addresses."""
    facts = known.filter(known.counted).select(*_FACTS, _party="party")
    return table.join(facts, table[column] == facts._party).drop("_party")


def counted_messages(encoded: Encoded, inputs: Inputs, config: Config) -> MailRows:
    """Return the counted messages (docs/metrics.md, *Emails*) and each roster person's view of them."""
    rules = config.metrics
    keep = inputs.keep
    senders = _counted_parties(encoded.messages.filter(encoded.messages.sender.notnull()), "sender", encoded.parties)
    senders = in_week(senders, encoded.dated, "sender", senior="senior")
    recipients = encoded.recipients.join(senders.select("message", "week_start_day", _sender="sender"), "message")
    recipients = _counted_parties(recipients.filter(recipients.party != recipients._sender), "party", encoded.parties)
    recipients = in_week(recipients, encoded.dated, "party", senior="senior")
    # Written once: read for the class counts, as participants, and for each recipient's view.
    recipients = keep(recipients.select("message", "party", *_FACTS))
    # The class counts of `_with_people`, over the recipients; the sender is added below.
    sizes = recipients.group_by("message").aggregate(
        recipients=recipients.count(),
        customers=recipients.count(where=recipients.customer),
        externals=recipients.count(where=recipients.external),
        seniors=recipients.count(where=recipients.senior),
    )
    counted = senders.join(sizes, "message")
    counted = keep(
        counted.select(
            "message",
            "second",
            "week_start_day",
            broadcast=counted.recipients > rules.broadcast_recipients,
            people=counted.recipients + 1,
            customers=counted.customers + counted.customer.cast("int64"),
            externals=counted.externals + counted.external.cast("int64"),
            seniors=counted.seniors + counted.senior.cast("int64"),
            sender=counted.sender,
            **{f"sender_{fact}": counted[fact] for fact in _FACTS},
        )
    )
    counts = ("second", "week_start_day", "broadcast", "people", "customers", "externals", "seniors")
    # Every recipient's message is counted: its sender is, and it has a recipient.
    # The participants who manage someone, looked up from each side: few, written once.
    participants = counted.select("message", party=counted.sender).union(recipients.select("message", "party"))
    managers = keep(_managing(participants, encoded, "message"))
    # A sender's row carries its message's counts already; a recipient's is joined to them.
    sender_rows = counted.select(
        "message", *counts, party=counted.sender, **{fact: counted[f"sender_{fact}"] for fact in _FACTS}, is_sender=True
    )
    recipient_rows = recipients.join(counted.select("message", *counts), "message").mutate(is_sender=False)
    # Each side is narrowed to roster people before the two are put together.
    rows = _as_person(sender_rows, managers, encoded, "message")
    rows = rows.union(_as_person(recipient_rows.select(*sender_rows.columns), managers, encoded, "message"))
    rows = local_seconds(rows, "second", rows.zone, inputs.zone_days, "local")
    rows = rows.select(
        "party",
        "week_start_day",
        "local",
        "broadcast",
        "people",
        "with_customer",
        "with_external",
        "with_senior",
        "with_manager",
        sent=rows.is_sender,
    )
    messages = counted.select("message", "sender", "sender_internal", "second", "week_start_day", "broadcast", "people")
    # `rows` is read once (`weekly.email_time`): left to the query that reads it, not written out.
    return MailRows(rows, recipients.select("message", "party", "internal"), messages)


def counted_meetings(encoded: Encoded, inputs: Inputs, config: Config) -> MeetingRows:
    """Return the counted meetings (docs/metrics.md, *Meetings*) and each roster person's view of them."""
    rules = config.metrics
    keep = inputs.keep
    meetings = encoded.meetings.filter(
        lambda t: ~t.is_cancelled.fill_null(False) & ~t.is_all_day.fill_null(False) & ~t.is_transparent.fill_null(False)
    )
    length = meetings.end - meetings.start
    meetings = meetings.filter((length > 0) & (length < round(rules.meeting_max_hours * 3600)))
    organizers = meetings.filter(meetings.organizer.notnull()).select("meeting", party=meetings.organizer)
    attendees = encoded.attendees.filter(lambda t: t.response.fill_null("none") != "declined")
    attendees = attendees.semi_join(meetings, "meeting").select("meeting", "party")
    # Each address once: an organiser may also have an attendee row.
    people = _counted_parties(organizers.union(attendees, distinct=True), "party", encoded.parties)
    if encoded.dated is not None:
        # Whether a participant is a senior leader depends on the meeting's week.
        people = people.join(meetings.select("meeting", "week_start_day"), "meeting")
        people = in_week(people, encoded.dated, "party", senior="senior")
    people = keep(people.select("meeting", "party", *_FACTS))
    counts = keep(_with_people(people, "meeting").filter(lambda t: t.people >= 2))
    counted = meetings.join(counts.select("meeting"), "meeting")
    counted = keep(counted.select("meeting", "start", "end", "week_start_day"))
    participants = keep(people.semi_join(counted, "meeting"))
    managers = _managing(participants, encoded, "meeting")
    rows = _as_person(participants.join(counts, "meeting").join(counted, "meeting"), managers, encoded, "meeting")
    small = rows.people <= rules.small_meeting_max_people
    rows = rows.select(
        "party",
        "week_start_day",
        "start",
        "end",
        "people",
        "with_customer",
        "with_external",
        with_senior=small & rows.with_senior,
        with_manager=small & rows.with_manager,
        one_on_one=(rows.people == 2) & rows.with_manager,
    )
    meetings_out = keep(counted.select("meeting", "start", "week_start_day").join(counts.select("meeting", "people"), "meeting"))
    return MeetingRows(keep(rows), participants.select("meeting", "party", "internal"), meetings_out)
