"""What one rep's digest says: their four cards, their top gap, up to three suggestions, their dashboard link.

Everything here is the rep's own figures, the top tier's medians (which the
guidance already leaves out where the top tier is smaller than the minimum
group: `repsight.guidance.top_tier`) and the people the guidance suggests.
No other rep's figure ever enters a `Digest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

import pandas as pd

from repsight.errors import GuidanceError
from repsight.guidance import CAVEAT, advise_person, top_tier
from repsight.metrics.catalog import label, metric
from repsight.report.numbers import plain

if TYPE_CHECKING:
    from repsight.guidance import Gap, GuidanceData, Suggestion
    from repsight.store import Store

__all__ = [
    "CARDS",
    "MAX_SUGGESTIONS",
    "Card",
    "CardSpec",
    "Digest",
    "Recipients",
    "Step",
    "digest_for",
    "figure",
    "recipients",
    "resolve_week",
    "week_figure",
    "week_values",
]

MAX_SUGGESTIONS = 3
"""A digest suggests at most this many people: colleagues to connect with and leaders to meet, taken in turn."""


@dataclass(frozen=True)
class CardSpec:
    """One of the digest's four cards: its title, the metric it shows, and a second figure of the rep's own beside it."""

    title: str
    metric: str
    also: str | None
    """A second metric of the rep's, shown in words under the first (no top-tier figure)."""


CARDS: tuple[CardSpec, ...] = (
    CardSpec("Time with customers", "customer_hours", None),
    CardSpec("Depth of engagement", "contacts_per_account", "accounts_touched"),
    CardSpec(label("internal_network_size"), "internal_network_size", "org_span"),
    CardSpec("Connecting with leadership", "senior_leader_hours", "manager_hours"),
)
"""The four cards, in the order the digest shows them (the study's three behaviours, customer time split in two)."""

WEEKLY_CARD_METRICS: tuple[str, ...] = tuple(
    spec.metric for spec in CARDS if (found := metric(spec.metric)) is not None and found.grain == "week"
)


def figure(name: str, number: float | None) -> str:
    """Return a metric's value as the report writes it, with as many decimals as the metric's kind needs."""
    found = metric(name)
    if found is None:
        return plain(number, 1)
    # A weekly count's period value is a mean (8.4 people); a period's own count is whole (7 accounts).
    digits = {"hours": 1, "count": 1 if found.grain == "week" else 0, "percentile": 0, "ratio": 2, "percent": 0}[found.kind]
    return plain(number, digits)


def week_figure(name: str, number: float | None) -> str:
    """Return a metric's value in one week: a count is whole there (18 people), where the period's mean is not."""
    found = metric(name)
    return plain(number, 0) if found is not None and found.kind == "count" else figure(name, number)


@dataclass(frozen=True)
class Card:
    """One card of one rep: their value in the period, this week's, and the top tier's median."""

    title: str
    metric: str
    label: str
    unit: str
    value: float | None
    """The rep's own value in the period (a weekly mean for a weekly metric)."""
    week_value: float | None
    """The rep's own value in the digest's week; None for a metric measured per period only."""
    top_tier_median: float | None
    """None where the top tier is too small to show (the guidance's rule)."""
    group: str | None
    """Whose top tier: "segment SMB" or "the company"."""
    note: str | None
    """One more line of the rep's own: a second figure, or customer time's trend in the period."""


Step = Literal["connect", "meet"]


@dataclass(frozen=True)
class Digest:
    """One rep's digest for one week: what the message says, before it is written as HTML and text."""

    person: str = field(repr=False)
    """The rep's pseudonym."""
    email: str
    name: str
    week: date
    period: str
    segment: str | None
    cards: list[Card]
    top_gap: Gap | None
    suggestions: list[tuple[Step, Suggestion]]
    """Up to `MAX_SUGGESTIONS`: ("connect", a colleague) or ("meet", a leader)."""
    dashboard_url: str
    caveat: str = CAVEAT

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


@dataclass(frozen=True)
class Recipients:
    """Who gets a digest for a week, and how many people on the roster get nothing, by reason."""

    people: list[str]
    """The pseudonyms of the reps written to, by name."""
    opted_out: int
    """Reps whose email is in `digest.opt_out`."""
    not_reps: int
    """People whose roster `function` is not one of `company.sales_functions`."""
    left: int
    """Reps who left on or before the week's Monday, or who have no email."""
    unmeasured: int
    """Reps with no metrics in the week's period."""
    held_out: int = 0
    """Reps in the digest's holdout this week (`digest.holdout_fraction`): no digest, so that its effect can be measured."""


def resolve_week(store: Store, week: date | None) -> tuple[date, str]:
    """Return the digest's week (default: the latest with metrics) and the period holding it; a clear error for any other day."""
    rows = store.to_pandas(store.table("person_week").select("week", "period").distinct())
    if rows.empty:
        raise GuidanceError("the workspace has no weekly metrics yet: run `repsight metrics`")
    periods = {pd.Timestamp(w).date(): str(p) for w, p in zip(rows["week"], rows["period"], strict=True)}
    if week is None:
        week = max(periods)
    elif week.weekday() != 0:
        raise GuidanceError(f"--week {week.isoformat()}: a week starts on a Monday, and that day is a {week:%A}")
    if week not in periods:
        first, last = min(periods), max(periods)
        raise GuidanceError(
            f"--week {week.isoformat()}: no metrics for that week; the workspace has the weeks of {first.isoformat()} to {last.isoformat()}"
        )
    return week, periods[week]


def week_values(store: Store, week: date) -> pd.DataFrame:
    """Return each person's weekly card metrics in `week`, indexed by pseudonym."""
    table = store.table("person_week")
    rows = table.filter(table.week == week).select("person", *WEEKLY_CARD_METRICS)
    return store.to_pandas(rows).set_index("person")


def recipients(data: GuidanceData, week: date, period: str) -> Recipients:
    """Return the reps who get a digest for `week`: a rep role, an email, still there, not opted out, with metrics in `period`."""
    opted_out = set(data.config.digest.opt_out)
    measured = set(data.periods.loc[data.periods["period"].astype(str) == period, "person"].astype(str))
    chosen: list[str] = []
    counts = {"opted_out": 0, "not_reps": 0, "left": 0, "unmeasured": 0}
    for person in (str(p) for p in data.people.index):
        email = data.email(person).strip().lower()
        if not data.is_rep(person):
            counts["not_reps"] += 1
        elif email in opted_out:
            counts["opted_out"] += 1
        elif not email or data.has_left(person, week):
            counts["left"] += 1
        elif person not in measured:
            counts["unmeasured"] += 1
        else:
            chosen.append(person)
    chosen.sort(key=lambda p: (data.name(p), p))
    return Recipients(chosen, **counts)


def _value(number: object) -> float | None:
    return None if number is None or pd.isna(number) else float(number)  # type: ignore[arg-type]


def _note(spec: CardSpec, row: pd.Series, trend: dict[str, object]) -> str | None:
    if spec.also is not None:
        found = metric(spec.also)
        value = _value(row.get(spec.also))
        if found is None or value is None:
            return None
        return f"{found.label}: {figure(spec.also, value)} {found.unit}"
    if "first_half" in trend:
        first, second = _value(trend["first_half"]), _value(trend["second_half"])
        said = f"First half of the period {figure(spec.metric, first)}, second half {figure(spec.metric, second)} hours/week"
        return said + ("; lower late in the period" if trend.get("falling") else "")
    return None


def digest_for(data: GuidanceData, person: str, week: date, period: str, weekly: pd.DataFrame) -> Digest:
    """Return the digest of the rep `person` for `week` (in `period`): their guidance, read for one message."""
    advice = advise_person(data, person, period)
    row = data.periods[(data.periods["person"] == person) & (data.periods["period"].astype(str) == period)].iloc[0]
    cards = []
    for spec in CARDS:
        found = metric(spec.metric)
        tier = top_tier(data, spec.metric, period, advice.segment)
        this_week = weekly.at[person, spec.metric] if person in weekly.index and spec.metric in weekly.columns else None
        cards.append(
            Card(
                title=spec.title,
                metric=spec.metric,
                label=found.label if found is not None else spec.metric,
                unit=found.unit if found is not None else "",
                value=_value(row.get(spec.metric)),
                week_value=_value(this_week),
                top_tier_median=None if tier is None else tier.median,
                group=None if tier is None else tier.group,
                note=_note(spec, row, advice.customer["trend"]),
            )
        )
    suggestions: list[tuple[Step, Suggestion]] = []
    for i in range(max(len(advice.connect_with), len(advice.leaders))):
        suggestions += [("connect", s) for s in advice.connect_with[i : i + 1]]
        suggestions += [("meet", s) for s in advice.leaders[i : i + 1]]
    return Digest(
        person=person,
        email=data.email(person),
        name=data.name(person),
        week=week,
        period=period,
        segment=advice.segment,
        cards=cards,
        top_gap=advice.gaps[0] if advice.gaps else None,
        suggestions=suggestions[:MAX_SUGGESTIONS],
        dashboard_url=f"{data.config.digest.public_url}/people/{person}",
        caveat=advice.caveat,
    )
