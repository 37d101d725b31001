"""The `person_week` and `person_period` tables, as Ibis expressions.

docs/metrics.md, *Weeks and periods*, *Weekly metrics* and *Period metrics*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from repsight.metrics.engagement import ENGAGEMENT_COLUMNS, PERIOD_ENGAGEMENT_COLUMNS
from repsight.metrics.events import floor_mod, local_seconds, monday
from repsight.metrics.weeks import DAY, EPOCH, EPOCH_WEEKDAY, WEEK

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config
    from repsight.metrics.events import Encoded, Inputs, MailRows, MeetingRows

__all__ = [
    "activity_weeks",
    "email_time",
    "meeting_time",
    "person_period",
    "person_week",
    "person_weeks",
    "seen_weeks",
    "weekly_counts",
]

# Meeting hours are unions of intervals, one union per category of meeting.
CATEGORIES = {
    "meeting": None,
    "customer": "with_customer",
    "external": "with_external",
    "senior_leader": "with_senior",
    "manager": "with_manager",
    "manager_1on1": "one_on_one",
}
EMAIL_KINDS = ("email", "customer", "external", "senior_leader", "manager", "after_hours")


def _is_working(local: ir.IntegerValue, config: Config) -> ir.BooleanValue:
    """Return whether a local epoch second falls in working hours."""
    start, end = config.metrics.working_seconds
    days = config.metrics.working_weekdays
    if not days:
        return ibis.literal(False)
    weekday = floor_mod(local // DAY + EPOCH_WEEKDAY, 7)
    return weekday.isin(days) & floor_mod(local, DAY).between(start, end - 1)


def _with_working_seconds(table: ir.Table, start: str, end: str, config: Config) -> ir.Table:
    """Return `table` with `working`: the working seconds between local epoch seconds `start` and `end`.

    Counted from a Monday: whole weeks, then each working day's hours before
    the time of week. Each step is a column of its own, computed once: Ibis
    writes an expression out wherever it is used, and a time of week is used
    once per working day.
    """
    first, last = config.metrics.working_seconds
    days = sorted(config.metrics.working_weekdays)
    per_day = last - first
    shift = EPOCH_WEEKDAY * DAY  # 0 is Monday 1969-12-29 00:00
    staged = table.mutate(_start_week=floor_mod(table[start] + shift, WEEK), _end_week=floor_mod(table[end] + shift, WEEK))

    def before(time_of_week: ir.IntegerValue) -> ir.IntegerValue:
        """Working seconds from Monday 00:00 to a time of week."""
        parts = [(time_of_week - (day * DAY + first)).clip(lower=0, upper=per_day) for day in days]
        return sum(parts[1:], parts[0]) if parts else ibis.literal(0, type="int64")

    # The two Mondays are whole weeks apart: the division is exact.
    weeks = ((staged[end] - staged._end_week) - (staged[start] - staged._start_week)) // WEEK
    working = weeks * (len(days) * per_day) + before(staged._end_week) - before(staged._start_week)
    return staged.mutate(working=working).drop("_start_week", "_end_week")


def _group_key(party: ir.IntegerValue, week_start_day: ir.IntegerValue, category: ir.IntegerValue) -> ir.IntegerValue:
    """Return (party, week, category) packed into one integer, so that a window partitions on one column.

    DuckDB partitions and sorts about a third faster on one integer than on
    three. Weeks within 5,000 years of 1970 and up to 8 categories fit.
    """
    return (party * (1 << 22) + (week_start_day + (1 << 21))) * 8 + category


def _reach(meetings: ir.Table) -> ir.Table:
    """Return `meetings` (party, week_start_day, category, start, end) with `reach`: the latest end before each interval.

    Within each (party, week_start_day, category), sorted by start; null for the first.
    """
    keyed = meetings.mutate(_key=_group_key(meetings.party, meetings.week_start_day, meetings.category))
    window = ibis.window(group_by="_key", order_by=["start", "end"], rows=(None, -1))
    return keyed.mutate(reach=keyed.end.max().over(window))


def _union_seconds(reached: ir.Table) -> ir.Table:
    """Return per (party, week_start_day, category) the length of the union of its `[start, end)` intervals.

    `reached` is `_reach`. Sorted by start, each interval adds the part of it
    that reaches past every earlier interval's end.
    """
    added = ibis.greatest(reached.end - ibis.greatest(reached.start, reached.reach.fill_null(reached.start)), 0)
    return reached.group_by("party", "week_start_day", "category").aggregate(seconds=added.sum())


def _islands(reached: ir.Table) -> ir.Table:
    """Return the union of each group's intervals (`_reach` of one category), one row per disjoint interval.

    Gaps and islands: sorted by start, an interval opens a new island when it
    starts after every earlier interval has ended.
    """
    opened = reached.mutate(opens=(reached.reach.isnull() | (reached.start > reached.reach)).cast("int64"))
    # This window sorts again: among intervals with equal start and end, the
    # one that opens an island must come first, whatever order the rows of
    # `reached` were stored in, or the others would join the island before.
    order = ["start", "end", ibis.desc("opens")]
    island = opened.opens.sum().over(ibis.cumulative_window(group_by="_key", order_by=order))
    numbered = opened.mutate(island=island)
    return numbered.group_by("party", "week_start_day", "island").aggregate(start=numbered.start.min(), end=numbered.end.max())


def meeting_time(meetings: MeetingRows, parties: ir.Table, inputs: Inputs, config: Config) -> ir.Table:
    """Return per party and week the seconds of each category of meeting, after-hours seconds, and meetings."""
    rows = meetings.rows
    parts = []
    for number, flag in enumerate(CATEGORIES.values()):
        chosen = rows if flag is None else rows.filter(rows[flag])
        # Categories are numbered, in CATEGORIES' order: windows partition on integers faster than on text.
        parts.append(chosen.select("party", "week_start_day", "start", "end", category=ibis.literal(number, type="int8")))
    long = parts[0]
    for part in parts[1:]:
        long = long.union(part, distinct=False)
    reached = inputs.keep(_reach(long))
    unions = _union_seconds(reached)
    totals = unions.group_by("party", "week_start_day").aggregate(
        **{
            f"{category}_seconds": unions.seconds.sum(where=unions.category == number)
            for number, category in enumerate(CATEGORIES)
        }
    )
    # After hours: each island of the union of all meetings, in local time at its start.
    union = _islands(reached.filter(reached.category == list(CATEGORIES).index("meeting")))
    zones = parties.filter(parties.person).select(_zone_party="party", zone="zone")
    union = union.join(zones, union.party == zones._zone_party)
    union = local_seconds(union, "start", union.zone, inputs.zone_days, "local_start")
    union = _with_working_seconds(
        union.mutate(local_end=union.local_start + (union.end - union.start)), "local_start", "local_end", config
    )
    after = union.group_by("party", "week_start_day").aggregate(
        after_hours_seconds=(union.end - union.start - union.working).sum()
    )
    counts = rows.group_by("party", "week_start_day").aggregate(meetings=rows.count())
    keys = ["party", "week_start_day"]
    return totals.join(after, keys).join(counts, keys)


def email_time(mail: MailRows, config: Config) -> ir.Table:
    """Return per party and week how many messages of each kind the person sent and received.

    Counts, not minutes: integer sums are the same in any order on any
    engine; `person_week` turns them into hours.
    """
    rules = config.metrics
    # Outside working hours: a column of its own, computed once for the two counts that use it.
    rows = mail.rows.mutate(_after_hours=~mail.rows.broadcast & ~_is_working(mail.rows.local, config))
    small = rows.people <= rules.small_meeting_max_people
    kinds: dict[str, ir.BooleanValue | None] = {
        "email": None,
        "customer": ~rows.broadcast & rows.with_customer,
        "external": ~rows.broadcast & rows.with_external,
        "senior_leader": small & rows.with_senior,
        "manager": small & rows.with_manager,
        "after_hours": rows._after_hours,
    }
    assert tuple(kinds) == EMAIL_KINDS
    counts = {}
    for kind, where in kinds.items():
        sent = rows.sent if where is None else rows.sent & where
        received = ~rows.sent if where is None else ~rows.sent & where
        # Filtered counts: DuckDB counts with a filter faster than it sums casts of the flags.
        counts[f"{kind}_sent"] = rows.count(where=sent)
        counts[f"{kind}_received"] = rows.count(where=received)
    return rows.group_by("party", "week_start_day").aggregate(**counts)


def _epoch_day(day: ir.DateValue) -> ir.IntegerValue:
    return day.delta(ibis.date(EPOCH.year, EPOCH.month, EPOCH.day), unit="day")


def seen_weeks(encoded: Encoded) -> ir.Table:
    """Return `person`, `first_week`, `last_week`: each roster person's first and last week with a stored event, hire and leave aside.

    Every stored event counts here, counted or not (`incremental.event_spans` computes the same on the store).
    """
    messages, meetings = encoded.messages, encoded.meetings
    recipients = encoded.recipients.join(messages.select("message", "week_start_day"), "message")
    attendees = encoded.attendees.join(meetings.select("meeting", "week_start_day"), "meeting")
    seen = (
        messages.select(party="sender", week_start_day="week_start_day")
        .union(recipients.select("party", "week_start_day"), distinct=False)
        .union(meetings.select(party="organizer", week_start_day="week_start_day"), distinct=False)
        .union(attendees.select("party", "week_start_day"), distinct=False)
    )
    spans = seen.group_by("party").aggregate(first_week=seen.week_start_day.min(), last_week=seen.week_start_day.max())
    people = encoded.parties.filter(encoded.parties.person).select(_party="party", person="address")
    spans = spans.join(people, spans.party == people._party)
    return spans.select("person", "first_week", "last_week")


def activity_weeks(inputs: Inputs, encoded: Encoded, seen: ir.Table, since: int | None = None) -> ir.Table:
    """Return `party`, `first_week`, `last_week`: each roster person's weeks (docs/metrics.md, *Weeks and periods*).

    `seen` is `seen_weeks` (or the same from the store, `incremental.event_spans`);
    from its first and last week, a person's weeks run from the hire week to the
    leave week at most. With `since` (an epoch day), only the weeks from it on.
    """
    people = encoded.parties.filter(encoded.parties.person).select("party", _person="address")
    people = people.join(inputs.people.select("person", "hire_date", "leave_date"), people._person == inputs.people.person)
    spans = seen.join(people, seen.person == people._person)
    hired = _epoch_day(spans.hire_date)
    left = _epoch_day(spans.leave_date)
    first = ibis.greatest(spans.first_week, monday(hired).fill_null(spans.first_week))
    if since is not None:
        first = ibis.greatest(first, ibis.literal(since, type="int64"))
    last = ibis.least(spans.last_week, monday(left).fill_null(spans.last_week))
    return spans.select("party", first_week=first, last_week=last).filter(lambda t: t.first_week <= t.last_week)


def person_weeks(calendar: ir.Table, spans: ir.Table) -> ir.Table:
    """Return `party`, `week_start_day`, `week`, `period`, `period_start`: every week of each person's range (`activity_weeks`)."""
    grid = spans.join(calendar, (calendar.week_start_day >= spans.first_week) & (calendar.week_start_day <= spans.last_week))
    return grid.select("party", "week_start_day", "week", "period", "period_start")


# The integer columns behind the metrics: seconds of meetings, counts of messages.
_COUNT_COLUMNS = (
    *(f"{kind}_seconds" for kind in CATEGORIES),
    "after_hours_seconds",
    *(f"{kind}_{way}" for kind in EMAIL_KINDS for way in ("sent", "received")),
    "meetings",
    "internal_network_size",
    "org_span",
    *ENGAGEMENT_COLUMNS,
)


def weekly_counts(
    inputs: Inputs,
    config: Config,
    parties: ir.Table,
    mail: MailRows,
    meetings: MeetingRows,
    network: ir.Table,
    engagement: ir.Table,
    spans: ir.Table,
) -> ir.Table:
    """Return per roster person and week of their range the integer sums the metrics are made of.

    Both tables are computed from these integers (seconds, counts), so their
    values do not depend on the order an engine adds them in. `network` is
    `network.weekly_network`, `engagement` is `engagement.customer_engagement`,
    `spans` is `activity_weeks`; `parties` gives each person's pseudonym back.
    """
    grid = person_weeks(inputs.calendar, spans)
    keys = ["party", "week_start_day"]
    email = email_time(mail, config)
    meeting = meeting_time(meetings, parties, inputs, config)
    joined = grid.left_join(email, keys).left_join(meeting, keys).left_join(network, keys).left_join(engagement, keys)
    names = parties.select(_party="party", person="address")
    joined = joined.join(names, joined.party == names._party)
    return joined.select(
        "person", "week", "period", "period_start", **{c: joined[c].fill_null(0).cast("int64") for c in _COUNT_COLUMNS}
    )


def _metrics(counts: ir.Table, config: Config, weeks: ir.IntegerValue | None = None) -> dict[str, ir.Value]:
    """Return the metric columns of `counts`: per week, or (with `weeks`) means of sums over that many weeks."""
    per = weeks.cast("float64") if weeks is not None else ibis.literal(1.0, type="float64")
    sent_minutes = ibis.literal(config.metrics.email_sent_minutes, type="float64")
    received_minutes = ibis.literal(config.metrics.email_received_minutes, type="float64")

    def value(column: str) -> ir.FloatingValue:
        return counts[column].cast("float64") / per

    def email(kind: str) -> ir.FloatingValue:
        return (value(f"{kind}_sent") * sent_minutes + value(f"{kind}_received") * received_minutes) / 60

    def hours(kind: str, with_email: bool = True) -> ir.FloatingValue:
        meeting = value(f"{kind}_seconds") / 3600
        return meeting + email(kind) if with_email else meeting

    meeting_hours = hours("meeting", with_email=False)
    email_hours = email("email")
    integer = (lambda column: counts[column]) if weeks is None else value
    return {
        "meeting_hours": meeting_hours,
        "email_hours": email_hours,
        "collaboration_hours": meeting_hours + email_hours,
        "customer_hours": hours("customer"),
        "external_hours": hours("external"),
        "senior_leader_hours": hours("senior_leader"),
        "manager_hours": hours("manager"),
        "manager_1on1_hours": hours("manager_1on1", with_email=False),
        "after_hours_collaboration_hours": hours("after_hours"),
        "meetings": integer("meetings"),
        "emails_sent": integer("email_sent"),
        "emails_received": integer("email_received"),
        "internal_network_size": integer("internal_network_size"),
        "org_span": integer("org_span"),
        **{column: integer(column) for column in ENGAGEMENT_COLUMNS},
    }


def person_week(counts: ir.Table, config: Config) -> ir.Table:
    """Return the `person_week` table: one row per roster person and week of their range."""
    return counts.select("person", "week", "period", **_metrics(counts, config))


def person_period(
    counts: ir.Table,
    config: Config,
    engagement: ir.Table,
    replies: ir.Table,
    owned: ir.Table | None,
) -> ir.Table:
    """Return the `person_period` table without the graph columns: weekly values averaged per period, and the period's engagement.

    `engagement` is `engagement.period_engagement`: its integer parts are
    divided here, as float64, by the accounts touched, the person's weeks and
    the accounts owned. `replies` is `engagement.reply_hours`. `owned`
    (`_owner`, `owned_accounts`: the accounts each person owns) is None when
    no stored account has an owner: book coverage is then empty for everyone.
    """
    sums = counts.group_by("person", "period").aggregate(
        period_start=counts.period_start.min(), weeks=counts.count(), **{c: counts[c].sum() for c in _COUNT_COLUMNS}
    )
    joined = sums.left_join(engagement, (sums.person == engagement._person) & (sums.period == engagement._period))
    replies = replies.select(_reply_person="_person", _reply_period="_period", _reply_hours="customer_reply_hours")
    joined = joined.left_join(replies, (joined.person == replies._reply_person) & (joined.period == replies._reply_period))
    if owned is not None:
        joined = joined.left_join(owned, joined.person == owned._owner)
    accounts = joined.accounts_touched.fill_null(0).cast("float64")
    contacts = joined.period_contacts.fill_null(0).cast("float64")
    account_weeks = joined.account_weeks.fill_null(0).cast("float64")
    zero = ibis.literal(0.0, type="float64")
    empty = ibis.null("float64")
    if owned is not None:
        owns = joined.owned_accounts.fill_null(0).cast("float64")
        covered = joined.owned_touched.fill_null(0).cast("float64")
        # No account owned: no book to cover, so no share (not 0%).
        coverage = ibis.ifelse(owns > 0, covered * 100.0 / owns, empty)
    else:
        owns = coverage = empty
    # No account: both ratios are 0 (and nothing is divided by zero).
    period_only = {
        "accounts_touched": accounts,
        "contacts_per_account": ibis.ifelse(accounts > 0, contacts / accounts, zero),
        "account_cadence": ibis.ifelse(accounts > 0, account_weeks / (accounts * joined.weeks.cast("float64")), zero),
        # No reply to a customer in the period: empty, not 0 hours.
        "customer_reply_hours": joined._reply_hours.cast("float64"),
        "owned_accounts": owns,
        "owned_accounts_touched_pct": coverage,
    }
    assert tuple(period_only) == PERIOD_ENGAGEMENT_COLUMNS
    return joined.select("person", "period", "period_start", "weeks", **_metrics(joined, config, joined.weeks), **period_only)
