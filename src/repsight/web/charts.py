"""The dashboard's own charts (a person's weeks, a team's, an org's), as Plotly figure specifications.

Plain dictionaries in Plotly's JSON schema, not `plotly.graph_objects`: the
objects validate every property on construction, which cost about 20 ms a
chart, and a person's page has six. The report's figures (shared with the
organisation page) still use plotly.py; these are small and fixed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from repsight.privacy import a_few_apart, apart_enough, group_mean

if TYPE_CHECKING:
    import pandas as pd

    from repsight.web.data import Band

__all__ = ["figure_json", "mean_by_week", "network_chart", "standing_chart", "weekly_chart"]

Figure = dict[str, Any]

_OURS = "#1f6feb"
_BAND = "rgba(46, 160, 67, 0.18)"
_BAND_LINE = "#2ea043"
_LOW = "#d29922"


def _layout(title: str, height: int = 300, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified",
        "xaxis": {"showgrid": False},
        "yaxis": {"gridcolor": "#eee", "rangemode": "tozero"},
    }
    layout.update(extra)
    return layout


def weekly_chart(title: str, weeks: list[str], values: list[float | None], label: str, band: Band | None) -> Figure:
    """Return a line of weekly values over the top tier's band (its middle half) and median, where there is one."""
    data: list[dict[str, Any]] = []
    if band is not None:
        data += [
            {
                "type": "scatter",
                "x": band.weeks,
                "y": band.high,
                "mode": "lines",
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": band.weeks,
                "y": band.low,
                "mode": "lines",
                "line": {"width": 0},
                "fill": "tonexty",
                "fillcolor": _BAND,
                "name": f"top tier, middle half ({band.group})",
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": band.weeks,
                "y": band.median,
                "mode": "lines",
                "line": {"color": _BAND_LINE, "dash": "dash"},
                "name": "top tier, median",
            },
        ]
    data.append(
        {
            "type": "scatter",
            "x": weeks,
            "y": values,
            "mode": "lines+markers",
            "line": {"color": _OURS},
            "marker": {"size": 4},
            "name": label,
        }
    )
    return {"data": data, "layout": _layout(title)}


def standing_chart(rows: list[dict[str, Any]]) -> Figure:
    """Return where a person stands in each behaviour: their percentile among the period's reps.

    Green marks the better quarter: the top one, or the bottom one where lower is better (a reply time).
    """
    percentiles = [float(r["percentile"]) for r in rows]
    better = [100 - p if r.get("lower_is_better") else p for p, r in zip(percentiles, rows, strict=True)]
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": percentiles,
        "y": [str(r["label"]) for r in rows],
        "marker": {"color": [_BAND_LINE if b >= 75 else _OURS if b >= 25 else _LOW for b in better]},
        "text": [f"{p:.0f}" for p in percentiles],
        "textposition": "outside",
        "customdata": [float(r["value"]) for r in rows],
        "hovertemplate": "%{y}: percentile %{x:.0f}<br>value %{customdata:.2f}<extra></extra>",
    }
    layout = _layout("Where you stand", height=60 + 32 * len(rows), hovermode="closest")
    layout["xaxis"] = {
        "range": [0, 105],
        "title": {"text": "percentile among the period's reps (50 = middle)"},
        "showgrid": False,
    }
    layout["yaxis"] = {"autorange": "reversed"}
    return {"data": [bar], "layout": layout}


def network_chart(by_org: dict[str, int]) -> Figure:
    """Return the person's colleagues by org unit."""
    bar = {"type": "bar", "orientation": "h", "x": list(by_org.values()), "y": list(by_org), "marker": {"color": _OURS}}
    layout = _layout("Your network by org unit (colleagues)", height=80 + 28 * max(1, len(by_org)), hovermode="closest")
    layout["yaxis"] = {"autorange": "reversed"}
    return {"data": [bar], "layout": layout}


def mean_by_week(
    rows: pd.DataFrame, metric: str, minimum: int, *, beside: pd.DataFrame | None = None
) -> tuple[list[str], list[float | None]]:
    """Return the weeks and the mean of `metric` over each week's people; None where showing it could single someone out.

    `rows` are weekly rows (person, week, period, the metric). A week is
    None where fewer than `minimum` people have a value
    (`privacy.group_mean`), and where its people differ by a few from
    another week shown (`privacy.apart_enough`): a team before and after
    one member left. Of two ways to keep weeks apart, the one that shows
    more weeks is taken: each week over its own people, or each period's
    weeks over the same people (those with a value in every week of it,
    so that someone who joins or leaves within a period counts from the
    next period they are in whole), which keeps a large organisation's
    weekly joiners and leavers from hiding most of its weeks.
    `beside` is another group's rows whose weekly means the same viewer sees
    (an executive's own team beside their organisation): a week where the
    two groups' people differ by fewer than `minimum` is None too, since the
    two means together would give away those few people's values.
    """
    weeks = sorted(rows["week"].unique())
    means, ours = _most_shown(rows, metric, minimum)
    means = means.reindex(weeks)
    if beside is not None:
        shown, theirs = _most_shown(beside, metric, minimum)
        for week in weeks:
            other, own = theirs.get(week, frozenset()), ours.get(week, frozenset())
            if week in shown.index and shown[week] == shown[week] and a_few_apart(own, other, minimum):
                means[week] = float("nan")
    return [str(w) for w in weeks], [None if v != v else float(v) for v in means.to_numpy()]


def _most_shown(rows: pd.DataFrame, metric: str, minimum: int) -> tuple[pd.Series, dict[Any, frozenset[str]]]:
    """Return the weekly means `mean_by_week` may show (NaN elsewhere) and each week's people, the way that shows more weeks."""
    ways = [_weekly_means(rows, metric, minimum, whole_periods) for whole_periods in (False, True)]
    return max(ways, key=lambda way: int(way[0].notna().sum()))


def _weekly_means(
    rows: pd.DataFrame, metric: str, minimum: int, whole_periods: bool
) -> tuple[pd.Series, dict[Any, frozenset[str]]]:
    # A person without a value in a week is not one of that week's people.
    valued = rows.dropna(subset=[metric])
    if whole_periods and "period" in valued.columns and not valued.empty:
        weeks_of_period = valued.groupby("period")["week"].nunique()
        weeks_of_person = valued.groupby(["period", "person"])["week"].nunique()
        whole = weeks_of_person[
            weeks_of_person.to_numpy() == weeks_of_period.reindex(weeks_of_person.index.get_level_values(0)).to_numpy()
        ]
        valued = valued.merge(whole.index.to_frame(index=False), on=["period", "person"])
    means = group_mean(valued, "week", [metric], minimum)[metric]
    people = {week: frozenset(group) for week, group in valued.groupby("week")["person"]}
    # Weeks whose people differ by a few would give those few away, side by side.
    shown = apart_enough(people, minimum)
    means[[week not in shown for week in means.index]] = float("nan")
    return means, people


def figure_json(figure: Any) -> str:
    """Return a figure (a specification here, or a plotly.py figure) as JSON for `Plotly.newPlot`."""
    if isinstance(figure, dict):
        return json.dumps(figure, allow_nan=False, default=_missing)
    text: str = figure.to_json()
    return text


def _missing(value: object) -> None:
    raise TypeError(f"not JSON: {value!r}")
