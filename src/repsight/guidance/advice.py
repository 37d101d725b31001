"""Personal guidance for one person and period: gaps that matter, strengths, who to connect with, leaders to meet, customer engagement.

Every rule is in docs/guidance.md, in words; this module is that page as
code. It reads `GuidanceData` only (no web, no command line), and never
shows a group smaller than `privacy.min_group_size`: each top-tier figure
comes from `privacy.group_quantiles`, and a segment's top tier too small to
show falls back to the company's, which the advice then says.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from repsight.errors import GuidanceError
from repsight.metrics.catalog import better, label, metric, unit
from repsight.privacy import group_quantiles, large_enough

if TYPE_CHECKING:
    from repsight.guidance.data import GuidanceData
    from repsight.study.document import Comparison

__all__ = [
    "CAVEAT",
    "CUSTOMER_METRICS",
    "Advice",
    "Gap",
    "Suggestion",
    "TopTier",
    "advise",
    "advise_person",
    "gaps_of",
    "top_tier",
]

CUSTOMER_METRICS = ("customer_hours", "accounts_touched", "contacts_per_account", "customer_reply_hours")
"""The customer-engagement card: time with customers, accounts touched, depth per account, reply time."""

CAVEAT = (
    "These are associations found in your company's own data between behaviour and results, "
    "not proof that a change in behaviour changes results."
)

Strength = Literal["phase 1 rho", "phase 2 rho"]


@dataclass(frozen=True)
class TopTier:
    """The top tier's spread of one metric in one period: over the reps of a segment, or of the company."""

    group: str
    """"segment SMB", or "the company" where the segment's top tier is smaller than the minimum group."""
    reps: int
    low: float
    median: float
    high: float


@dataclass(frozen=True)
class Gap:
    """One behaviour of the person against the top tier: a gap that matters, or a strength."""

    metric: str
    label: str
    unit: str
    better: Literal["higher", "lower"]
    value: float
    top_tier_median: float
    top_tier_low: float
    top_tier_high: float
    group: str
    """Whose top tier: "segment SMB" or "the company"."""
    gap: float
    """How far the person is from the top tier's median in the better direction, in the metric's unit (0 or less: a strength)."""
    spreads: float
    """`gap` in units of the top tier's spread (the middle half's width)."""
    association: float
    """The strength of the study's association: |rho| of the comparison the guidance used."""
    association_from: str
    """Which comparison: "the company" (phase 1) or "segment SMB" (phase 2, where the verdict is segment-specific)."""
    score: float
    """`spreads` × `association`: what gaps are ranked by."""


@dataclass(frozen=True)
class Suggestion:
    """A colleague to connect with, or a leader to meet, with the reason in one line."""

    email: str
    name: str
    org: str | None
    reason: str
    person: str = field(repr=False)
    """The pseudonym (not in the JSON: the email names the person)."""
    top_ties: int = 0
    """How many top-tier reps of the group have a tie with them in the period."""


@dataclass(frozen=True)
class Advice:
    """The guidance for one person and period (docs/guidance.md; `to_json` is the public contract)."""

    person: str
    """The person's email."""
    name: str
    period: str
    segment: str | None
    gaps: list[Gap]
    strengths: list[Gap]
    connect_with: list[Suggestion]
    leaders: list[Suggestion]
    customer: dict[str, Any]
    pseudonym: str = field(repr=False)
    caveat: str = CAVEAT

    def to_json(self) -> dict[str, Any]:
        """Return the advice as `repsight advise --json` writes it."""

        def suggestion(s: Suggestion) -> dict[str, Any]:
            return {"email": s.email, "name": s.name, "org": s.org, "reason": s.reason}

        return {
            "person": self.person,
            "name": self.name,
            "period": self.period,
            "segment": self.segment,
            "gaps": [asdict(g) for g in self.gaps],
            "strengths": [asdict(g) for g in self.strengths],
            "connect_with": [suggestion(s) for s in self.connect_with],
            "leaders": [suggestion(s) for s in self.leaders],
            "customer": self.customer,
            "caveat": self.caveat,
        }

    def __rich__(self) -> Any:
        """Return the advice for a terminal (`repsight.guidance.render`)."""
        from repsight.guidance.render import advice_view

        return advice_view(self)


def _segment_of(data: GuidanceData, person: str) -> str | None:
    segment = data.fact(person, "segment")
    return str(segment) if isinstance(segment, str) and segment else None


def top_tier(data: GuidanceData, name: str, period: str, segment: str | None) -> TopTier | None:
    """Return the top tier's quartiles of `name` in `period` among the reps of `segment`; the company's where the segment's are too few; None where even those are."""
    key = ("top_tier", name, period, segment, data.config.privacy.min_group_size)
    if key not in data.memo:
        data.memo[key] = _top_tier(data, name, period, segment)
    found: TopTier | None = data.memo[key]
    return found


def _top_tier(data: GuidanceData, name: str, period: str, segment: str | None) -> TopTier | None:
    minimum = data.config.privacy.min_group_size
    tiers = data.tiers[(data.tiers["tier"] == 1) & (data.tiers["period"].astype(str) == period)][["person"]]
    rows = data.periods[data.periods["period"].astype(str) == period][["person", name]].merge(tiers, on="person")
    groups: list[tuple[str, pd.DataFrame]] = []
    if segment is not None:
        groups.append((f"segment {segment}", rows[rows["person"].map(data.people["segment"]) == segment]))
    groups.append(("the company", rows))
    for group, part in groups:
        if part.empty:
            continue
        found = group_quantiles(part.assign(_all=0), "_all", name, [0.25, 0.5, 0.75], minimum).iloc[0]
        if not math.isnan(found[0.5]):
            return TopTier(group, int(found["people"]), float(found[0.25]), float(found[0.5]), float(found[0.75]))
    return None


def _comparison(data: GuidanceData, name: str, segment: str | None) -> tuple[Comparison | None, str]:
    """Return the study's comparison the guidance reads for `name`: the segment's where the verdict is segment-specific, else the company's."""
    from repsight.study.document import SEGMENT_SPECIFIC

    study = data.study
    part = study["phase2"].get("segment")
    if segment is not None and part is not None:
        test = part["heterogeneity"].get(name)
        own = part["segments"].get(segment)
        if test is not None and test["verdict"] == SEGMENT_SPECIFIC and own is not None and name in own["metrics"]:
            return own["metrics"][name], f"segment {segment}"
    return study["phase1"].get(name), "the company"


def _gaps(data: GuidanceData, person: str, period: str, segment: str | None) -> tuple[list[Gap], list[Gap]]:
    """Return the person's gaps that matter (largest score first) and strengths (in the study's order)."""
    study = data.study
    threshold = study["thresholds"]["q_threshold"]
    row = data.periods[(data.periods["person"] == person) & (data.periods["period"].astype(str) == period)].iloc[0]
    gaps: list[Gap] = []
    strengths: list[Gap] = []
    for name in study["thresholds"]["metrics"]:
        comparison, source = _comparison(data, name, segment)
        entry = metric(name)
        if comparison is None or name not in row.index or (entry is not None and not entry.advised):
            continue
        q, rho = comparison["q"], comparison["rho"]
        direction = better(name)
        # A behaviour the study found, in the direction the catalogue calls better: top sellers have more of it
        # (less, for a reply time). An association against that direction is not advised (docs/guidance.md).
        if not (q == q and rho == rho and q < threshold and (rho > 0) == (direction == "higher")):
            continue
        value = float(row[name])
        tier = top_tier(data, name, period, segment)
        if value != value or tier is None:
            continue
        shortfall = tier.median - value if direction == "higher" else value - tier.median
        spread = tier.high - tier.low
        unit_spread = spread if spread > 0 else (abs(tier.median) if tier.median != 0 else 1.0)
        spreads = shortfall / unit_spread
        found = Gap(
            metric=name,
            label=label(name),
            unit=unit(name),
            better=direction,
            value=value,
            top_tier_median=tier.median,
            top_tier_low=tier.low,
            top_tier_high=tier.high,
            group=tier.group,
            gap=shortfall,
            spreads=spreads,
            association=abs(float(rho)),
            association_from=source,
            score=spreads * abs(float(rho)),
        )
        (gaps if shortfall > 0 else strengths).append(found)
    gaps.sort(key=lambda g: (-g.score, g.metric))
    return gaps, strengths


def gaps_of(data: GuidanceData, person: str, period: str) -> tuple[list[Gap], list[Gap]]:
    """Return a person's gaps (largest first) and strengths in `period`, without the suggestions (the coaching view's counts)."""
    return _gaps(data, person, period, _segment_of(data, person))


def _window(data: GuidanceData, person: str, period: str) -> list[date]:
    """Return the last `network_window_weeks` of the person's weeks in the period (the network window at its end)."""
    weeks = data.weeks[(data.weeks["person"] == person) & (data.weeks["period"].astype(str) == period)]["week"]
    ordered = sorted(pd.Timestamp(w).date() for w in weeks)
    return ordered[-data.config.metrics.network_window_weeks :]


def _neighbours(frame: pd.DataFrame, person: str) -> pd.Series:
    """Return the other side of each row of an edge table (`a`, `b`) that holds `person`."""
    mine = frame[(frame["a"] == person) | (frame["b"] == person)]
    return mine["b"].where(mine["a"] == person, mine["a"])


def _top_group(data: GuidanceData, person: str, period: str, segment: str | None) -> tuple[set[str], str]:
    """Return the top-tier reps of the period the suggestions count ties with, and where they are: the segment's, or the company's where those are too few."""
    minimum = data.config.privacy.min_group_size
    top = data.tiers[(data.tiers["tier"] == 1) & (data.tiers["period"].astype(str) == period)]["person"]
    everyone = {str(p) for p in top} - {person}
    if segment is not None:
        mine = {p for p in everyone if data.fact(p, "segment") == segment}
        if large_enough(len(mine), minimum):
            return mine, f"in your segment ({segment})"
    return everyone, "in the company"


def _connect_with(data: GuidanceData, person: str, period: str, segment: str | None, today: date) -> list[Suggestion]:
    """Return colleagues the person has not met in the window, the ones most tied to top sellers first (docs/guidance.md)."""
    config = data.config
    minimum = config.privacy.min_group_size
    top, group = _top_group(data, person, period, segment)
    if not large_enough(len(top), minimum):
        return []
    window = [pd.Timestamp(w) for w in _window(data, person, period)]
    mine = data.ties_of(person)
    met = set(_neighbours(mine[mine["week"].isin(window) & (mine["interactions"] > 0)], person))
    edges = data.edges_of(period)
    reached = {data.org(p) for p in _neighbours(edges, person)} | {data.org(person)}
    # Each colleague's ties with the top sellers in the period: one row per (colleague, top seller).
    with_top = edges[edges["a"].isin(top) | edges["b"].isin(top)]
    sides = [
        with_top[with_top["b"].isin(top)][["a", "b"]].set_axis(["other", "top"], axis=1),
        with_top[with_top["a"].isin(top)][["b", "a"]].set_axis(["other", "top"], axis=1),
    ]
    pairs = pd.concat(sides, ignore_index=True).drop_duplicates()
    counts = pairs.groupby("other")["top"].nunique()
    excluded = {email.strip().lower() for email in config.guidance.exclude}
    chain = set(data.managers_of(person))
    found: list[Suggestion] = []
    for other, ties_to_top in counts.items():
        other = str(other)
        if other == person or other in met or other in chain or data.has_left(other, today):
            continue
        if data.email(other).lower() in excluded:
            continue
        org = data.org(other)
        outside = org is not None and org not in reached
        reason = f"works with {ties_to_top} of the {len(top)} top sellers {group}"
        if outside:
            reason += f"; {org}, which your network does not reach"
        found.append(Suggestion(data.email(other), data.name(other), org, reason, other, int(ties_to_top)))
    found.sort(key=lambda s: (-s.top_ties, s.org is None or s.org in reached, s.name, s.person))
    return found[: config.guidance.max_suggestions]


def _leaders(data: GuidanceData, person: str, period: str, segment: str | None, today: date) -> list[Suggestion]:
    """Return senior leaders the person has not met in the period: their own chain first, then those top sellers meet."""
    config = data.config
    senior = config.company.senior_level
    edges = data.edges_of(period)
    met = set(_neighbours(edges, person))
    excluded = {email.strip().lower() for email in config.guidance.exclude}

    def eligible(leader: str) -> bool:
        level = data.fact(leader, "level")  # None off the roster
        return (
            leader != person
            and pd.notna(level)
            and int(level) >= senior
            and leader not in met
            and not data.has_left(leader, today)
            and data.email(leader).lower() not in excluded
        )

    found: list[Suggestion] = []
    for leader in data.managers_of(person):
        if eligible(leader):
            found.append(Suggestion(data.email(leader), data.name(leader), data.org(leader), "in your management chain", leader))
    top, group = _top_group(data, person, period, segment)
    if large_enough(len(top), config.privacy.min_group_size):
        ranked = _leaders_top_sellers_meet(data, period, top)
        chosen = {s.person for s in found}
        for leader, sellers in ranked:
            if leader in chosen or not eligible(leader):
                continue
            reason = f"met by {len(sellers)} of the {len(top)} top sellers {group} this period"
            found.append(Suggestion(data.email(leader), data.name(leader), data.org(leader), reason, leader, len(sellers)))
    return found[: config.guidance.max_suggestions]


def _leaders_top_sellers_meet(data: GuidanceData, period: str, top: set[str]) -> list[tuple[str, set[str]]]:
    """Return the senior leaders the `top` sellers have ties with in `period`, with those sellers: the most met first."""
    key = ("leaders", period, frozenset(top))
    if key not in data.memo:
        senior = data.config.company.senior_level
        levels = data.people["level"]
        leaders = {str(p) for p, level in levels.items() if pd.notna(level) and int(level) >= senior}
        edges = data.edges_of(period)
        counts: dict[str, set[str]] = {}
        for a, b in zip(edges["a"], edges["b"], strict=True):
            for seller, other in ((a, b), (b, a)):
                if seller in top and other in leaders:
                    counts.setdefault(str(other), set()).add(str(seller))
        data.memo[key] = sorted(counts.items(), key=lambda item: (-len(item[1]), data.name(item[0]), item[0]))
    ranked: list[tuple[str, set[str]]] = data.memo[key]
    return ranked


def _customer(data: GuidanceData, person: str, period: str, segment: str | None) -> dict[str, Any]:
    """Return the customer-engagement card: each metric against the top tier, and customer time's trend within the period."""
    row = data.periods[(data.periods["person"] == person) & (data.periods["period"].astype(str) == period)].iloc[0]
    metrics = []
    for name in CUSTOMER_METRICS:
        if name not in row.index:
            continue
        value = float(row[name])
        tier = top_tier(data, name, period, segment)
        metrics.append(
            {
                "metric": name,
                "label": label(name),
                "unit": unit(name),
                "better": better(name),
                "value": None if value != value else value,
                "top_tier_median": None if tier is None else tier.median,
                "group": None if tier is None else tier.group,
            }
        )
    weeks = data.weeks[(data.weeks["person"] == person) & (data.weeks["period"].astype(str) == period)].sort_values("week")
    trend: dict[str, Any] = {"weeks": len(weeks)}
    if "customer_hours" in weeks.columns and len(weeks) >= 2:
        hours = weeks["customer_hours"].to_numpy(np.float64)
        half = len(hours) // 2
        first, second = float(hours[:half].mean()), float(hours[half:].mean())
        trend |= {
            "first_half": first,
            "second_half": second,
            "change_pct": None if first == 0 else 100.0 * (second - first) / first,
            "falling": second < first,
        }
    return {"metrics": metrics, "trend": trend}


def advise(data: GuidanceData, email: str, period: str | None = None) -> Advice:
    """Return the guidance for the person of `email` in `period` (default: their latest period with metrics)."""
    person = data.person_of_email.get(email.strip().lower())
    if person is None:
        raise GuidanceError(f"{email}: not on the roster (no person has that email)")
    return advise_person(data, person, period)


def advise_person(data: GuidanceData, person: str, period: str | None = None) -> Advice:
    """Return the guidance for a pseudonym (`advise` for an email)."""
    mine = data.periods[data.periods["person"] == person]
    if mine.empty:
        raise GuidanceError(f"{data.email(person) or person}: no metrics (no mail or meetings of this person are stored)")
    periods = sorted(str(p) for p in mine["period"].unique())
    if period is None:
        period = periods[-1]
    elif period not in periods:
        raise GuidanceError(f"{data.email(person) or person}: no metrics for {period}; they have {', '.join(periods)}")
    segment = _segment_of(data, person)
    window = _window(data, person, period)
    today = (window[-1] + timedelta(days=6)) if window else date.max
    gaps, strengths = _gaps(data, person, period, segment)
    return Advice(
        person=data.email(person),
        name=data.name(person),
        period=period,
        segment=segment,
        gaps=gaps,
        strengths=strengths,
        connect_with=_connect_with(data, person, period, segment, today),
        leaders=_leaders(data, person, period, segment, today),
        customer=_customer(data, person, period, segment),
        pseudonym=person,
    )
