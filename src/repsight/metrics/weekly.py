"""The `person_week` and `person_period` tables, as Ibis expressions.

docs/metrics.md, *Weeks and periods*, *Weekly metrics* and *Period metrics*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from repsight.metrics.calendar import DAY, EPOCH, EPOCH_WEEKDAY, WEEK
from repsight.metrics.events import floor_mod, local_seconds, monday

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config
    from repsight.metrics.events import Inputs, MailRows, MeetingRows

__all__ = [
    "WEEKLY_COLUMNS",
    "activity_weeks",
    "email_time",
    "meeting_time",
    "person_period",
    "person_week",
    "weekly_counts",
]

# The weekly metrics, in the order the tables hold them.
WEEKLY_COLUMNS = (
    "meeting_hours",
    "email_hours",
    "collaboration_hours",
    "customer_hours",
    "external_hours",
    "senior_leader_hours",
    "manager_hours",
    "manager_1on1_hours",
    "after_hours_collaboration_hours",
    "meetings",
    "emails_sent",
    "emails_received",
    "internal_network_size",
    "org_span",
)
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
    second = floor_mod(local, DAY)
    return weekday.isin(days) & (second >= start) & (second < end)


def _working_before(local: ir.IntegerValue, config: Config) -> ir.IntegerValue:
    """Return the working seconds between a fixed Monday long ago and a local epoch second."""
    start, end = config.metrics.working_seconds
    days = config.metrics.working_weekdays
    per_day = end - start
    shifted = local + EPOCH_WEEKDAY * DAY  # 0 is Monday 1969-12-29 00:00
    weekday = floor_mod(shifted, WEEK) // DAY
    second = floor_mod(shifted, DAY)
    earlier_days = ibis.cases(*((weekday == k, per_day * sum(1 for d in days if d < k)) for k in range(7)))
    today = ibis.ifelse(weekday.isin(days), (second - start).clip(lower=0, upper=per_day), 0) if days else 0
    return (shifted // WEEK) * (len(days) * per_day) + earlier_days + today


def _islands(meetings: ir.Table) -> ir.Table:
    """Return the union of each group's `[start, end)` intervals, one row per disjoint interval.

    Groups are (person, zone, week_day, category). Gaps and islands: sorted
    by start, an interval opens a new island when it starts after every
    earlier interval has ended.
    """
    group = ["person", "zone", "week_day", "category"]
    order = ["start", "end"]
    running = meetings.mutate(reach=meetings.end.max().over(ibis.cumulative_window(group_by=group, order_by=order)))
    opened = running.mutate(previous=running.reach.lag().over(ibis.window(group_by=group, order_by=order)))
    opened = opened.mutate(opens=(opened.previous.isnull() | (opened.start > opened.previous)).cast("int64"))
    numbered = opened.mutate(island=opened.opens.sum().over(ibis.cumulative_window(group_by=group, order_by=order)))
    return numbered.group_by(*group, "island").aggregate(start=numbered.start.min(), end=numbered.end.max())


def meeting_time(meetings: MeetingRows, inputs: Inputs, config: Config) -> ir.Table:
    """Return per person and week the seconds of each category of meeting, after-hours seconds, and meetings."""
    rows = meetings.rows
    parts = []
    for category, flag in CATEGORIES.items():
        chosen = rows if flag is None else rows.filter(rows[flag])
        parts.append(chosen.select("person", "zone", "week_day", "start", "end", category=ibis.literal(category)))
    long = parts[0]
    for part in parts[1:]:
        long = long.union(part, distinct=False)
    islands = inputs.keep(_islands(long))
    length = islands.end - islands.start
    totals = islands.group_by("person", "week_day").aggregate(
        **{f"{category}_seconds": length.sum(where=islands.category == category) for category in CATEGORIES}
    )
    union = islands.filter(islands.category == "meeting")
    union = local_seconds(union, "start", union.zone, inputs.zone_days, "local_start")
    local_end = union.local_start + (union.end - union.start)
    working = _working_before(local_end, config) - _working_before(union.local_start, config)
    after = union.group_by("person", "week_day").aggregate(after_hours_seconds=(union.end - union.start - working).sum())
    counts = rows.group_by("person", "week_day").aggregate(meetings=rows.count())
    return totals.join(after, ["person", "week_day"]).join(counts, ["person", "week_day"])


def email_time(mail: MailRows, config: Config) -> ir.Table:
    """Return per person and week how many messages of each kind the person sent and received.

    Counts, not minutes: integer sums are the same in any order on any
    engine; `person_week` turns them into hours.
    """
    rules = config.metrics
    rows = mail.rows
    small = rows.people <= rules.small_meeting_max_people
    kinds: dict[str, ir.BooleanValue | None] = {
        "email": None,
        "customer": ~rows.broadcast & rows.with_customer,
        "external": ~rows.broadcast & rows.with_external,
        "senior_leader": small & rows.with_senior,
        "manager": small & rows.with_manager,
        "after_hours": ~rows.broadcast & ~_is_working(rows.local, config),
    }
    assert tuple(kinds) == EMAIL_KINDS
    counts = {}
    for kind, where in kinds.items():
        sent = rows.sent if where is None else rows.sent & where
        received = ~rows.sent if where is None else ~rows.sent & where
        counts[f"{kind}_sent"] = sent.cast("int64").sum()
        counts[f"{kind}_received"] = received.cast("int64").sum()
    return rows.group_by("person", "week_day").aggregate(**counts)


def _epoch_day(day: ir.DateValue) -> ir.IntegerValue:
    return day.delta(ibis.date(EPOCH.year, EPOCH.month, EPOCH.day), unit="day")


def activity_weeks(inputs: Inputs, messages: ir.Table, meetings: ir.Table) -> ir.Table:
    """Return `person`, `first_week`, `last_week`: each roster person's weeks (docs/metrics.md, *Weeks and periods*).

    `messages` and `meetings` are `timed_messages` and `timed_meetings`: every stored event.
    """
    recipients = inputs.message_recipients.join(messages.select("message_key", "week_day"), "message_key")
    attendees = inputs.meeting_attendees.join(meetings.select("meeting_key", "week_day"), "meeting_key")
    seen = (
        messages.select(person="sender", week_day="week_day")
        .union(recipients.select(person="recipient", week_day="week_day"), distinct=False)
        .union(meetings.select(person="organizer", week_day="week_day"), distinct=False)
        .union(attendees.select(person="attendee", week_day="week_day"), distinct=False)
    )
    spans = seen.group_by("person").aggregate(first_week=seen.week_day.min(), last_week=seen.week_day.max())
    people = inputs.people
    spans = spans.join(people.select("person", "hire_date", "leave_date"), "person")
    hired = _epoch_day(spans.hire_date)
    left = _epoch_day(spans.leave_date)
    first = ibis.greatest(spans.first_week, monday(hired).fill_null(spans.first_week))
    last = ibis.least(spans.last_week, monday(left).fill_null(spans.last_week))
    return spans.select("person", first_week=first, last_week=last).filter(lambda t: t.first_week <= t.last_week)


# The integer columns behind the metrics: seconds of meetings, counts of messages.
_COUNT_COLUMNS = (
    *(f"{kind}_seconds" for kind in CATEGORIES),
    "after_hours_seconds",
    *(f"{kind}_{way}" for kind in EMAIL_KINDS for way in ("sent", "received")),
    "meetings",
    "internal_network_size",
    "org_span",
)


def weekly_counts(
    inputs: Inputs, config: Config, mail: MailRows, meetings: MeetingRows, network: ir.Table, spans: ir.Table
) -> ir.Table:
    """Return per roster person and week of their range the integer sums the metrics are made of.

    Both tables are computed from these integers (seconds, counts), so their
    values do not depend on the order an engine adds them in. `spans` is
    `activity_weeks`.
    """
    calendar = inputs.calendar
    grid = spans.join(calendar, (calendar.week_day >= spans.first_week) & (calendar.week_day <= spans.last_week))
    grid = grid.select("person", "week_day", "week", "period", "period_start")
    keys = ["person", "week_day"]
    email = inputs.keep(email_time(mail, config))
    meeting = inputs.keep(meeting_time(meetings, inputs, config))
    joined = grid.left_join(email, keys).left_join(meeting, keys).left_join(network, keys)
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
    }


def person_week(counts: ir.Table, config: Config) -> ir.Table:
    """Return the `person_week` table: one row per roster person and week of their range."""
    return counts.select("person", "week", "period", **_metrics(counts, config))


def person_period(counts: ir.Table, config: Config) -> ir.Table:
    """Return the `person_period` table without the graph columns: weekly values averaged per period."""
    sums = counts.group_by("person", "period").aggregate(
        period_start=counts.period_start.min(), weeks=counts.count(), **{c: counts[c].sum() for c in _COUNT_COLUMNS}
    )
    return sums.select("person", "period", "period_start", "weeks", **_metrics(sums, config, sums.weeks))
