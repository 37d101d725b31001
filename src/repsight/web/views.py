"""What each view shows (a person, a manager's team, an executive's organisation, the analyst's table), as plain values.

The pages and the JSON API render the same views. Access is checked before
a view is built (`web.access.allow`); a view only leaves out what its reader
may not see: every aggregate over people passes `repsight.privacy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from repsight.privacy import group_mean, large_enough, suppress_small_study_groups
from repsight.schema import HR_ATTRIBUTES
from repsight.web.charts import mean_by_week
from repsight.web.data import BEHAVIOURS, ENGAGEMENT, LABELS, LOWER_IS_BETTER

if TYPE_CHECKING:
    import pandas as pd

    from repsight.config import PrivacyConfig
    from repsight.study.document import StudyDocument
    from repsight.web.access import User, Visit
    from repsight.web.data import WorkspaceData

__all__ = [
    "account_list",
    "org_view",
    "person_period_table",
    "person_view",
    "shown_study",
    "team_members",
    "team_shows_members",
    "team_view",
    "with_top_tier",
]


def person_view(data: WorkspaceData, person: str) -> dict[str, Any]:
    """Return one person's weekly behaviours with their segment's top-tier band, where they stand, their network, and their customer engagement.

    Not the accounts they touched: that list is theirs alone (`account_list`, behind its own rule).
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
        "name": data.name(person),
        "charts": charts,
        "standing": data.standing(person),
        "network": data.network(person),
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


def team_members(data: WorkspaceData, manager: str | None) -> tuple[list[str], list[str]]:
    """Return a manager's direct reports, and those of them measured (sorted)."""
    members = data.reports.get(manager, []) if manager is not None else []
    return members, sorted(set(members) & set(data.weeks["person"]))


def team_shows_members(visit: Visit) -> bool:
    """Return whether the signed-in manager's team view lists its members: where the workspace allows, and the team is large enough."""
    _, measured = team_members(visit.data, visit.user.person)
    privacy = visit.config.privacy
    return privacy.manager_sees_individuals and bool(large_enough(len(measured), privacy.min_group_size))


def team_view(data: WorkspaceData, user: User, privacy: PrivacyConfig) -> dict[str, Any]:
    """Return a manager's team: its size, its weekly means, and its members where allowed; only its size when it is smaller than the minimum group."""
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
        values = [None if v != v else float(v) for v in means[name].to_numpy()]
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
    members = data.subtree(user.person) if user.person else []
    reps = [p for p in members if data.is_rep(p)]
    measured = sorted(set(reps) & set(data.weeks["person"]))
    suppressed = not large_enough(len(measured), privacy.min_group_size)
    view: dict[str, Any] = {"org_people": len(members), "reps": len(measured), "suppressed": suppressed}
    document, scope = data.org_study(members)
    view["study_of"] = scope
    view["study"] = shown_study(document, privacy.min_group_size)
    if not suppressed:
        view["charts"] = _weekly_means(data, measured, privacy.min_group_size)
    return view


def _weekly_means(data: WorkspaceData, people: list[str], minimum: int) -> list[dict[str, Any]]:
    charts = []
    for metric in BEHAVIOURS:
        weeks, values = mean_by_week(data.series(people, metric), metric, minimum)
        charts.append({"metric": metric, "label": LABELS[metric], "weeks": weeks, "values": values})
    return charts


def person_period_table(data: WorkspaceData) -> pd.DataFrame:
    """Return the person-period table with each person's HR attributes: pseudonyms, for analysts."""
    attributes = data.people[list(HR_ATTRIBUTES)]
    return data.periods.merge(attributes, left_on="person", right_index=True, how="left")
