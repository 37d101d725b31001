"""The validation rules (docs/validation.md): each reads the stored tables and returns its flags, with the numbers behind each.

A rule is a function of a `Checked` workspace returning `Flag`s. The rules
never change the store; `repsight.validation.run` stores what they find in
the `validation` table, and the study reads it back (`excluded`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from repsight.metrics.catalog import CATALOG
from repsight.privacy import large_enough

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config
    from repsight.store import Store

__all__ = ["ALL_RULES", "RULES", "WEEK_RULES", "Checked", "Flag", "checked"]

HOURS_IN_A_WEEK = 168.0
WEEK_RULES = ("holiday_week", "edge_week", "inactive_week", "partial_week", "implausible_value")
"""The rules whose flagged weeks the study leaves out of the period means (`[validation] exclude_flagged_weeks`)."""


@dataclass(frozen=True)
class Flag:
    """One finding: the rule that raised it, whom and when it concerns, a sentence, and the numbers behind it."""

    rule: str
    detail: str
    person: str | None = None
    week: date | None = None
    period: str | None = None
    numbers: dict[str, Any] = field(default_factory=dict)

    def numbers_json(self) -> str:
        return json.dumps(self.numbers, sort_keys=True, default=str)


@dataclass
class Checked:
    """What the rules read: the store, the settings, and the tables most rules share (pandas)."""

    store: Store
    config: Config
    people: pd.DataFrame
    """The roster: person (index), function, manager, hire_date, leave_date, and the segment attributes."""
    weeks: pd.DataFrame
    """`person_week`: person, week, and the hours metrics (empty before `repsight metrics`)."""
    kpis: pd.DataFrame
    identities: pd.DataFrame
    _participants: dict[str, ir.Table] = field(default_factory=dict)

    @property
    def sellers(self) -> set[str]:
        return set(self.people.index[self.config.company.is_seller(self.people["function"])])

    def participants(self, kind: str) -> ir.Table:
        """Return (event, person) for each internal participant of each stored message ("mail") or meeting, computed once."""
        if kind not in self._participants:
            self._participants[kind] = _internal_participants(self.store, self.config, kind).cache()
        return self._participants[kind]


_HOURS = tuple(m.name for m in CATALOG if m.kind == "hours" and m.grain == "week")


def checked(store: Store, config: Config) -> Checked:
    """Return the tables the rules share."""
    people = store.to_pandas(store.table("people").drop("load_id")).set_index("person")
    weeks = pd.DataFrame(columns=["person", "week", *_HOURS])
    if store.has_table("person_week") and store.count("person_week"):
        table = store.table("person_week")
        weeks = store.to_pandas(table.select("person", "week", *[m for m in _HOURS if m in table.columns]))
        weeks["week"] = pd.to_datetime(weeks["week"]).dt.date
    kpis = store.to_pandas(store.table("kpis").select("person", "period", "attainment"))
    identities = store.to_pandas(store.table("identities"))
    return Checked(store, config, people, weeks, kpis, identities)


def _internal_participants(store: Store, config: Config, kind: str) -> ir.Table:
    """Return (event, person) for each internal participant of each stored message or meeting, each pair once."""
    domains = list(config.company.domains)
    if kind == "mail":
        events, people = store.table("messages"), store.table("message_recipients")
        first = events.filter(events.sender_domain.isin(domains)).select(event=events.message_key, person=events.sender)
        rest = people.filter(people.recipient_domain.isin(domains)).select(event=people.message_key, person=people.recipient)
    else:
        events, people = store.table("meetings"), store.table("meeting_attendees")
        first = events.filter(events.organizer_domain.isin(domains)).select(event=events.meeting_key, person=events.organizer)
        rest = people.filter(people.attendee_domain.isin(domains)).select(event=people.meeting_key, person=people.attendee)
    return first.union(rest, distinct=True)


def _coverage(c: Checked, kind: str) -> pd.DataFrame:
    """Return per internal person: `events` they take part in, and `sole`, those whose only internal participant they are."""
    parts = c.participants(kind)
    sizes = parts.group_by("event").aggregate(internal=parts.count())
    joined = parts.join(sizes, "event")
    counts = joined.group_by("person").aggregate(events=joined.count(), sole=(joined.internal == 1).sum())
    found = c.store.to_pandas(counts).set_index("person")
    if kind == "mail":
        # A message with Bcc recipients is the sender's own copy: only their mailbox holds its Bcc.
        messages, recipients = c.store.table("messages"), c.store.table("message_recipients")
        bcc = recipients.filter(recipients.kind == "bcc").select("message_key").distinct()
        with_bcc = messages.semi_join(bcc, "message_key")
        sent = with_bcc.group_by("sender").aggregate(bcc=with_bcc.count())
        found = found.join(c.store.to_pandas(sent).set_index("sender")["bcc"], how="left")
        found["bcc"] = found["bcc"].fillna(0).astype(np.int64)
    else:
        found["bcc"] = 0
    return found


def own_mailbox(c: Checked) -> list[Flag]:
    """`no_own_mailbox`: a roster person in enough messages, none of which only their own mailbox would hold."""
    return _own_export(c, "mail", "no_own_mailbox", c.config.validation.min_messages, "messages", "mailbox")


def own_calendar(c: Checked) -> list[Flag]:
    """`no_own_calendar`: a roster person in enough meetings, none of which only their own calendar would hold."""
    return _own_export(c, "calendar", "no_own_calendar", c.config.validation.min_meetings, "meetings", "calendar")


def _own_export(c: Checked, kind: str, rule: str, needed: int, events: str, export: str) -> list[Flag]:
    # Only the study's reps (sellers with a KPI) are checked: they deal with customers on their own, so their own
    # export always holds something no colleague's does. A colleague who never writes or meets outside the company
    # without another colleague (a manager, a pre-sales engineer) cannot be told from one whose export is missing.
    found = _coverage(c, kind)
    found = found[found.index.isin(c.sellers & set(c.kpis["person"]))]
    flags = []
    for person, row in found.sort_index().iterrows():
        evidence = int(row["sole"]) + int(row["bcc"])
        if int(row["events"]) >= needed and evidence == 0:
            flags.append(
                Flag(
                    rule,
                    f"in {int(row['events']):,} stored {events}, none that only their own {export} holds: "
                    f"their own {export} is not in the export",
                    person=str(person),
                    numbers={events: int(row["events"]), "only_theirs": int(row["sole"]), "sent_with_bcc": int(row["bcc"])},
                )
            )
    return flags


def holiday_weeks(c: Checked) -> list[Flag]:
    """`holiday_week`: a week whose company-wide collaboration is far below the weeks around it (`edge_week` for the data's first or last)."""
    totals = _company_weeks(c)
    settings = c.config.validation
    flags = []
    for week, total in totals.items():
        around = [
            totals[w]
            for d in range(1, settings.holiday_window_weeks + 1)
            for w in (week - timedelta(weeks=d), week + timedelta(weeks=d))
            if w in totals.index
        ]
        if len(around) < 2:
            continue
        usual = float(np.median(around))
        if usual > 0 and total < settings.holiday_fraction * usual:
            # The first and last weeks of the data are cut by the export's dates, not by a holiday.
            edge = week in (totals.index[0], totals.index[-1])
            flags.append(
                Flag(
                    "edge_week" if edge else "holiday_week",
                    f"company-wide collaboration of {total:,.0f} hours, {total / usual:.0%} of the "
                    f"{usual:,.0f} of the weeks around it"
                    + (": the export covers part of this first or last week" if edge else ""),
                    week=week,
                    numbers={"hours": round(float(total), 2), "usual_hours": round(usual, 2), "weeks_compared": len(around)},
                )
            )
    return flags


def _company_weeks(c: Checked) -> pd.Series:
    if c.weeks.empty or "collaboration_hours" not in c.weeks:
        return pd.Series(dtype=np.float64)
    return c.weeks.groupby("week")["collaboration_hours"].sum().sort_index()


def inactive_weeks(c: Checked, holidays: set[date]) -> list[Flag]:
    """`inactive_week`: a person's week far below their own usual collaboration (leave, sickness), not a company holiday."""
    if c.weeks.empty or "collaboration_hours" not in c.weeks:
        return []
    share = c.config.validation.inactive_fraction
    weeks = c.weeks[c.weeks["person"].isin(c.people.index) & c.weeks["collaboration_hours"].notna()]
    weeks = weeks[~weeks["week"].isin(holidays)]
    usual = weeks.groupby("person")["collaboration_hours"].transform("median")
    quiet = weeks.assign(usual=usual)[(weeks["collaboration_hours"] < share * usual) & (usual > 0)]
    return [
        Flag(
            "inactive_week",
            f"{row.collaboration_hours:.1f} hours of collaboration, under {share:.0%} of their usual "
            f"{row.usual:.1f}: leave or absence, not behaviour",
            person=str(row.person),
            week=row.week,
            numbers={"collaboration_hours": round(float(row.collaboration_hours), 2), "usual_hours": round(float(row.usual), 2)},
        )
        for row in quiet.sort_values(["person", "week"]).itertuples()
    ]


def partial_weeks(c: Checked) -> list[Flag]:
    """`partial_week`: the week of a person's hire or leave date, where they were on the roster for part of it only."""
    if c.weeks.empty:
        return []
    weeks_of = c.weeks.groupby("person")["week"].apply(list).to_dict()
    flags = []
    for person, row in c.people.sort_index().iterrows():
        for column, when, starts in (("hire_date", "hired", True), ("leave_date", "left", False)):
            day = row[column]
            if day is None or pd.isna(day):
                continue
            day = pd.Timestamp(day).date()
            # The measured week holding the day: a Monday's, or a Viva week's MetricDate (a Sunday).
            week = next((w for w in weeks_of.get(person, []) if w <= day < w + timedelta(days=7)), None)
            partial = week is not None and (day != week if starts else day != week + timedelta(days=6))
            if partial:
                flags.append(
                    Flag(
                        "partial_week",
                        f"{when} on {day.isoformat()}, during the week",
                        person=str(person),
                        week=week,
                        numbers={column: day.isoformat()},
                    )
                )
    return flags


def implausible_values(c: Checked) -> list[Flag]:
    """`implausible_value`: a weekly hours value above `[validation] max_weekly_hours`, or above the hours of a week."""
    limit = min(c.config.validation.max_weekly_hours, HOURS_IN_A_WEEK)
    flags = []
    for metric in (m for m in _HOURS if m in c.weeks.columns):
        values = c.weeks[["person", "week", metric]].dropna()
        for row in values[values[metric] > limit].sort_values(["person", "week"]).itertuples():
            value = float(getattr(row, metric))
            beyond = "more than the 168 hours of a week" if value > HOURS_IN_A_WEEK else f"above the plausible {limit:g}"
            flags.append(
                Flag(
                    "implausible_value",
                    f"{metric} of {value:g} hours in a week, {beyond}",
                    person=str(row.person),
                    week=row.week,
                    numbers={"metric": metric, "value": value, "limit": limit},
                )
            )
    return flags


def implausible_attainment(c: Checked) -> list[Flag]:
    """`implausible_attainment`: attainment outside `[validation] min_attainment` to `max_attainment`."""
    low, high = c.config.validation.min_attainment, c.config.validation.max_attainment
    kpis = c.kpis.dropna(subset=["attainment"])
    odd = kpis[(kpis["attainment"] < low) | (kpis["attainment"] > high)]
    return [
        Flag(
            "implausible_attainment",
            f"attainment of {row.attainment:.0%}, outside {low:.0%} to {high:.0%}",
            person=str(row.person),
            period=str(row.period),
            numbers={"attainment": float(row.attainment), "min": low, "max": high},
        )
        for row in odd.sort_values(["person", "period"]).itertuples()
    ]


def people_without_data(c: Checked) -> list[Flag]:
    """`no_data`: on the roster, in no stored event (no data, which is not zero behaviour)."""
    if c.weeks.empty:
        return []
    measured = set(c.weeks["person"])
    return [
        Flag("no_data", "on the roster but in no stored message or meeting: no data, not zero behaviour", person=str(p))
        for p in sorted(c.people.index)
        if p not in measured
    ]


def not_on_roster(c: Checked) -> list[Flag]:
    """`not_on_roster`: an internal address in many messages that is not on the roster (a distribution list, a shared mailbox)."""
    if not c.config.company.domains:
        return []
    parts = c.participants("mail")
    counts = c.store.to_pandas(parts.group_by("person").aggregate(messages=parts.count()))
    many = counts[(counts["messages"] >= c.config.validation.min_messages) & ~counts["person"].isin(c.people.index)]
    return [
        Flag(
            "not_on_roster",
            f"an internal address in {row.messages:,} messages that is not on the roster: a distribution list, "
            "a shared mailbox, or a person the roster misses",
            person=str(row.person),
            numbers={"messages": int(row.messages)},
        )
        for row in many.sort_values("person").itertuples()
    ]


def kpi_coverage(c: Checked) -> list[Flag]:
    """`no_kpi`: a seller measured in a period without a KPI for it; `kpi_not_rep`: a KPI of someone outside the sales functions."""
    sellers = c.sellers
    flags = []
    periods = set(c.kpis["period"])
    if periods and c.store.has_table("person_period"):
        measured = c.store.to_pandas(c.store.table("person_period").select("person", "period"))
        measured = measured[measured["person"].isin(sellers) & measured["period"].isin(periods)]
        have = set(zip(c.kpis["person"], c.kpis["period"], strict=True))
        with_any = set(c.kpis["person"])
        for row in measured.sort_values(["person", "period"]).itertuples():
            if (row.person, row.period) not in have and row.person in with_any:
                flags.append(
                    Flag("no_kpi", "a rep measured in the period without a KPI for it", person=row.person, period=row.period)
                )
        for person in sorted(set(measured["person"]) - with_any):
            flags.append(
                Flag(
                    "no_kpi", "in a sales function and measured, but without a KPI in any period: not in the study", person=person
                )
            )
    others = c.kpis[~c.kpis["person"].isin(sellers)]
    for row in others.sort_values(["person", "period"]).itertuples():
        found = c.people["function"].get(row.person)
        function = None if found is None or pd.isna(found) else str(found)
        flags.append(
            Flag(
                "kpi_not_rep",
                f"a KPI of someone whose function ({function}) is not a sales function",
                person=str(row.person),
                period=str(row.period),
                numbers={"function": function},
            )
        )
    return flags


def duplicate_people(c: Checked) -> list[Flag]:
    """`duplicate_person`: two internal addresses with the same display name that never take part in the same message or meeting."""
    if not c.store.count("messages") and not c.store.count("meetings"):
        return []  # nothing shows two addresses apart or together (a Viva workspace): no evidence either way
    names = c.identities.dropna(subset=["name"])
    names = names[names["name"].str.strip() != ""]
    if names.empty:
        return []
    names = names.assign(key=names["name"].str.casefold().str.split().str.join(" "))
    groups = names.groupby("key")["person"].apply(list)
    groups = groups[groups.map(len) > 1]
    if groups.empty:
        return []
    suspects = sorted({p for members in groups for p in members})
    together = _co_occurring(c, suspects)
    flags = []
    for members in groups:
        for i, first in enumerate(sorted(members)):
            for second in sorted(members)[i + 1 :]:
                if (first, second) in together:
                    continue
                on_roster = [p for p in (first, second) if p in c.people.index]
                flagged = [p for p in (first, second) if p not in c.people.index] or [second]
                for person in flagged:
                    other = first if person == second else second
                    flags.append(
                        Flag(
                            "duplicate_person",
                            "the same name as another address, and never in the same message or meeting with it: "
                            "one person under two addresses",
                            person=person,
                            numbers={"other": other, "on_roster": on_roster},
                        )
                    )
    return flags


def _co_occurring(c: Checked, people: list[str]) -> set[tuple[str, str]]:
    import ibis

    found: set[tuple[str, str]] = set()
    chosen = ibis.memtable(pd.DataFrame({"person": people}))
    for kind in ("mail", "calendar"):
        parts = c.participants(kind).semi_join(chosen, "person")
        right = parts.select(event2="event", other="person")
        pairs = parts.join(right, (parts.event == right.event2) & (parts.person < right.other))
        rows = c.store.to_pandas(pairs.select("person", "other").distinct())
        found |= set(zip(rows["person"], rows["other"], strict=True))
    return found


def small_groups(c: Checked) -> list[Flag]:
    """`small_group`: a segment of sellers or a manager's team under `[privacy] min_group_size`, which the study and views leave out."""
    minimum = c.config.privacy.min_group_size
    flags = []
    sellers = c.people[c.people.index.isin(c.sellers) & c.people.index.isin(set(c.kpis["person"]))]
    for attribute in c.config.study.segment_by:
        if attribute not in sellers.columns:
            continue
        sizes = sellers[attribute].fillna("(missing)").astype(str).value_counts().sort_index()
        for segment, size in sizes.items():
            if not large_enough(int(size), minimum):
                flags.append(
                    Flag(
                        "small_group",
                        f"the segment {attribute} = {segment} has {size} sellers, under the minimum group size of {minimum}",
                        numbers={"attribute": attribute, "segment": segment, "people": int(size)},
                    )
                )
    teams = c.people["manager"].dropna().value_counts().sort_index()
    for manager, size in teams.items():
        if not large_enough(int(size), minimum):
            flags.append(
                Flag(
                    "small_group",
                    f"a team of {size} direct reports, under the minimum group size of {minimum}: its aggregates are not shown",
                    person=str(manager),
                    numbers={"team": int(size)},
                )
            )
    return flags


RULES: dict[str, Callable[..., list[Flag]]] = {
    "no_own_mailbox": own_mailbox,
    "no_own_calendar": own_calendar,
    "holiday_week": holiday_weeks,
    "inactive_week": inactive_weeks,
    "partial_week": partial_weeks,
    "no_data": people_without_data,
    "not_on_roster": not_on_roster,
    "no_kpi": kpi_coverage,
    "implausible_value": implausible_values,
    "implausible_attainment": implausible_attainment,
    "duplicate_person": duplicate_people,
    "small_group": small_groups,
}
"""Every rule function by name, in the order they run (`holiday_week` also raises `edge_week`, `no_kpi` also `kpi_not_rep`)."""

ALL_RULES: tuple[str, ...] = (
    "no_own_mailbox",
    "no_own_calendar",
    "holiday_week",
    "edge_week",
    "inactive_week",
    "partial_week",
    "no_data",
    "not_on_roster",
    "no_kpi",
    "kpi_not_rep",
    "implausible_value",
    "implausible_attainment",
    "duplicate_person",
    "small_group",
)
"""Every rule a flag may name (the JSON's `rule`), in the order `repsight validate` lists them."""
