"""What each view shows (a person, a manager's team, an executive's organisation, the analyst's table), as plain values.

The pages and the JSON API render the same views. Access is checked before
a view is built (`web.access.allow`); a view only leaves out what its reader
may not see: every aggregate over people passes `repsight.privacy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from repsight.errors import GuidanceError
from repsight.metrics.catalog import metric as catalogued
from repsight.privacy import apart_enough, group_mean, large_enough, suppress_small_study_groups
from repsight.report.numbers import plain
from repsight.schema import HR_ATTRIBUTES
from repsight.web.charts import mean_by_week
from repsight.web.data import BEHAVIOURS, ENGAGEMENT, LABELS, LOWER_IS_BETTER
from repsight.web.roles import Role

if TYPE_CHECKING:
    import pandas as pd

    from repsight.config import PrivacyConfig
    from repsight.guidance import Gap, Suggestion
    from repsight.study.document import StudyDocument
    from repsight.web.access import User, Visit
    from repsight.web.data import WorkspaceData

__all__ = [
    "SHOWN_GAPS",
    "account_list",
    "coaching_members",
    "coaching_shows_members",
    "coaching_view",
    "gap_words",
    "guidance_view",
    "org_view",
    "person_period_table",
    "person_view",
    "shown_study",
    "team_members",
    "team_page_shows_members",
    "team_shows_members",
    "team_view",
    "with_top_tier",
]


def person_view(data: WorkspaceData, person: str, *, named: bool = True) -> dict[str, Any]:
    """Return one person's weekly behaviours with their segment's top-tier band, where they stand, their network, and their customer engagement.

    Not the accounts they touched: that list is theirs alone (`account_list`, behind its own rule).
    Not `named` (`access.sees_names`): the person and their contacts by pseudonym, as an analyst sees people.
    """
    charts = []
    for metric in BEHAVIOURS:
        rows = data.series([person], metric)  # in week order
        band = data.top_band(person, metric) if data.is_rep(person) else None
        charts.append(
            {
                "metric": metric,
                "label": LABELS[metric],
                "weeks": rows["week"].tolist(),
                "values": [None if v != v else float(v) for v in rows[metric]],
                "band": band,
            }
        )
    return {
        "person": person,
        "name": data.name(person) if named else person,
        "charts": charts,
        "standing": data.standing(person),
        "network": data.network(person, named=named),
        "engagement": data.engagement(person),
    }


def account_list(data: WorkspaceData, person: str) -> dict[str, Any]:
    """Return the accounts a rep touched in their latest period (name, contacts, weeks, last touch): for that rep only (`routes.policy.ACCOUNT_LIST`)."""
    return data.accounts(person)


def with_top_tier(view: dict[str, Any]) -> dict[str, Any]:
    """Return a person view as JSON values: each chart's band as `top_tier` (group, weeks, low, median, high), or None."""
    for chart in view["charts"]:
        band = chart.pop("band")
        chart["top_tier"] = (
            None
            if band is None
            else {"group": band.group, "weeks": band.weeks, "low": band.low, "median": band.median, "high": band.high}
        )
    return view


SHOWN_GAPS = 3
"""The gaps a person's guidance names first (the others are listed below them), and a team member's in the coaching view."""
_DIGITS = {"hours": 1, "count": 1, "percentile": 0, "ratio": 2, "percent": 0}
"""Decimals of a figure in a sentence, by the metric's kind."""


def gap_words(gap: Gap) -> str:
    """Return a gap or a strength in plain words, e.g. "Customer time: 3.6 hours/week; the top sellers in your segment (SMB): 4.4 at the median"."""
    entry = catalogued(gap.metric)
    digits = _DIGITS.get(entry.kind, 2) if entry is not None else 2
    where = f"your segment ({gap.group.removeprefix('segment ')})" if gap.group.startswith("segment ") else gap.group
    unit = f" {gap.unit}" if gap.unit else ""
    words = f"{gap.label}: {plain(gap.value, digits)}{unit}; the top sellers in {where}: {plain(gap.top_tier_median, digits)} at the median"
    return words + ("; less is better here" if gap.better == "lower" else "")


def _suggestion(found: Suggestion) -> dict[str, Any]:
    return {"name": found.name, "email": found.email, "org": found.org, "reason": found.reason}


def guidance_view(data: WorkspaceData, person: str) -> dict[str, Any]:
    """Return a person's guidance in their latest period as the page shows it: their own only (`routes.policy.GUIDANCE`).

    The gaps as sentences (largest first), the strengths, colleagues to
    connect with, leaders to meet and the caveat; or only `missing`, what is
    still to run (or why this person has none), where there is no guidance.
    """
    from repsight.guidance import CAVEAT

    try:
        advice = data.advice(person)
    except GuidanceError as exc:
        return {"missing": str(exc), "caveat": CAVEAT}
    gaps = [{"metric": g.metric, "label": g.label, "words": gap_words(g)} for g in advice.gaps]
    return {
        "missing": None,
        "period": advice.period,
        "segment": advice.segment,
        "gaps": gaps[:SHOWN_GAPS],
        "more_gaps": gaps[SHOWN_GAPS:],
        "strengths": [{"metric": g.metric, "label": g.label, "words": gap_words(g)} for g in advice.strengths],
        "connect_with": [_suggestion(s) for s in advice.connect_with],
        "leaders": [_suggestion(s) for s in advice.leaders],
        "caveat": advice.caveat,
    }


def coaching_view(data: WorkspaceData, manager: str, privacy: PrivacyConfig) -> dict[str, Any]:
    """Return a manager's coaching view: how many reps below them have each gap (and as their first), only for a team of at least the minimum group.

    Each member's first gaps only where `privacy.manager_sees_individuals`
    allows; only `missing` (what is still to run) where there is no guidance.
    """
    try:
        found = data.coaching(manager)
    except GuidanceError as exc:
        return {"missing": str(exc)}
    view: dict[str, Any] = {"missing": None, "period": found.period, "reps": found.reps, "shown": found.shown}
    if not found.shown:
        return view
    view["gaps"] = found.gaps
    if privacy.manager_sees_individuals:
        view["members"] = [
            {"person": a.pseudonym, "name": a.name, "gaps": [g.label for g in a.gaps[:SHOWN_GAPS]]} for a in found.members
        ]
    return view


def coaching_members(data: WorkspaceData, manager: str | None) -> bool:
    """Return whether the coaching view of `manager`'s team lists its members' gaps (an individual's data)."""
    if manager is None:
        return False
    try:
        return bool(data.coaching(manager).members)
    except GuidanceError:
        return False


def team_members(data: WorkspaceData, manager: str | None) -> tuple[list[str], list[str]]:
    """Return a manager's direct reports, and those of them measured (sorted)."""
    members = data.reports.get(manager, []) if manager is not None else []
    return members, sorted(set(members) & set(data.weeks["person"]))


def team_shows_members(visit: Visit) -> bool:
    """Return whether the signed-in manager's team view lists its members: where the workspace allows, and the team is large enough."""
    _, measured = team_members(visit.data, visit.user.person)
    privacy = visit.config.privacy
    return privacy.manager_sees_individuals and bool(large_enough(len(measured), privacy.min_group_size))


def coaching_shows_members(visit: Visit) -> bool:
    """Return whether the signed-in manager's coaching view lists each member's gaps: where the workspace allows, and the reps below them are enough."""
    return visit.config.privacy.manager_sees_individuals and coaching_members(visit.data, visit.user.person)


def team_page_shows_members(visit: Visit) -> bool:
    """Return whether the team page lists anyone: its members (`team_shows_members`), or their gaps in the coaching view."""
    return team_shows_members(visit) or coaching_shows_members(visit)


def team_view(data: WorkspaceData, user: User, privacy: PrivacyConfig) -> dict[str, Any]:
    """Return a manager's team: its size, its weekly means, and its members where allowed; only its size when it is smaller than the minimum group."""
    key = ("team", user.person, privacy.min_group_size, privacy.manager_sees_individuals)
    if key not in data.views:
        data.views[key] = _team_view(data, user, privacy)
    return dict(data.views[key])


def _team_view(data: WorkspaceData, user: User, privacy: PrivacyConfig) -> dict[str, Any]:
    members, measured = team_members(data, user.person)
    suppressed = not large_enough(len(measured), privacy.min_group_size)
    view: dict[str, Any] = {"size": len(members), "measured": len(measured), "suppressed": suppressed}
    if suppressed:
        return view
    view["charts"] = _weekly_means(data, measured, privacy.min_group_size)
    view["engagement"] = _team_engagement(data, measured, privacy.min_group_size)
    if privacy.manager_sees_individuals:
        latest = data.periods[data.periods["person"].isin(measured)].sort_values("period").groupby("person").tail(1)
        view["members"] = [
            {
                "person": row.person,
                "name": data.name(row.person),
                "period": row.period,
                **{m: float(getattr(row, m)) for m in BEHAVIOURS},
            }
            for row in latest.itertuples()
        ]
    return view


def _team_engagement(data: WorkspaceData, members: list[str], minimum: int) -> dict[str, Any]:
    """Return the members' mean customer engagement period by period; None where fewer than `minimum` members have a value (`privacy.group_mean`).

    Each row also gives the company's top tier's median in the latest period, for comparison.
    """
    rows = data.periods[data.periods["person"].isin(members)].astype({"period": str})
    names = [m for m in ENGAGEMENT if m in rows.columns]
    if rows.empty or not names:
        return {"periods": [], "metrics": []}
    means = group_mean(rows, "period", names, minimum)
    periods = [str(p) for p in means.index]
    found = []
    for name in names:
        if rows[name].isna().all():
            continue  # not measured in this workspace (no account owners): no row of blanks
        # Periods whose members with a value differ by a few would give those few away, side by side.
        valued = rows.dropna(subset=[name])
        shown = apart_enough({str(p): frozenset(g) for p, g in valued.groupby("period")["person"]}, minimum)
        values = [None if v != v or p not in shown else float(v) for p, v in zip(periods, means[name].to_numpy(), strict=True)]
        top = data.top_period_band(None, name, periods[-1])
        found.append(
            {
                "metric": name,
                "label": LABELS.get(name, name),
                "lower_is_better": name in LOWER_IS_BETTER,
                "values": values,
                "top_tier_median": top.median,
            }
        )
    return {"periods": periods, "metrics": found}


def shown_study(document: StudyDocument, minimum: int) -> StudyDocument:
    """Return the study as anyone but an analyst may see it: no segment or tier-week under the minimum group."""
    return suppress_small_study_groups(document, minimum)


def org_view(data: WorkspaceData, user: User, privacy: PrivacyConfig) -> dict[str, Any]:
    """Return an executive's organisation: its reps' weekly means (or only its size when too small), and its study as shown."""
    key = ("org", user.person, user.has(Role.MANAGER), privacy.min_group_size)
    if key not in data.views:
        data.views[key] = _org_view(data, user, privacy)
    return dict(data.views[key])


def _org_view(data: WorkspaceData, user: User, privacy: PrivacyConfig) -> dict[str, Any]:
    members = data.subtree(user.person) if user.person else []
    reps = [p for p in members if data.is_rep(p)]
    measured = sorted(set(reps) & set(data.weeks["person"]))
    suppressed = not large_enough(len(measured), privacy.min_group_size)
    view: dict[str, Any] = {"org_people": len(members), "reps": len(measured), "suppressed": suppressed}
    document, scope = data.org_study(members)
    view["study_of"] = scope
    view["study"] = shown_study(document, privacy.min_group_size)
    if not suppressed:
        # An executive who manages a team sees its weekly means too: no week of the two may differ by a few people.
        _, team = team_members(data, user.person) if user.has(Role.MANAGER) else ([], [])
        view["charts"] = _weekly_means(data, measured, privacy.min_group_size, beside=team or None)
    return view


def _weekly_means(data: WorkspaceData, people: list[str], minimum: int, beside: list[str] | None = None) -> list[dict[str, Any]]:
    """Return the weekly mean of each behaviour over `people`; `beside`: another group the viewer sees (`charts.mean_by_week`)."""
    charts = []
    for metric in BEHAVIOURS:
        other = data.series(beside, metric) if beside else None
        weeks, values = mean_by_week(data.series(people, metric), metric, minimum, beside=other)
        charts.append({"metric": metric, "label": LABELS[metric], "weeks": weeks, "values": values})
    return charts


def person_period_table(data: WorkspaceData) -> pd.DataFrame:
    """Return the person-period table with each person's HR attributes: pseudonyms, for analysts."""
    attributes = data.people[list(HR_ATTRIBUTES)]
    return data.periods.merge(attributes, left_on="person", right_index=True, how="left")
