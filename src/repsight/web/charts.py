"""The dashboard's own charts (a person's weeks, a team's, an org's), as Plotly figure specifications.

Plain dictionaries in Plotly's JSON schema, not `plotly.graph_objects`: the
objects validate every property on construction, which cost about 20 ms a
chart, and a person's page has six. The report's figures (shared with the
organisation page) still use plotly.py; these are small and fixed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from repsight.privacy import group_mean

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
    """Return the weeks and the mean of `metric` over each week's people; None for a week of fewer than `minimum` people (`privacy.group_mean`).

    A group large enough over the whole range can still be small in one week
    (people join, leave, or have no data yet): its mean would be one person's value.
    `beside` is another group's rows whose weekly means the same viewer sees
    (an executive's own team beside their organisation): a week where the
    two groups' people differ by fewer than `minimum` is None too, since the
    two means together would give away those few people's values.
    """
    weeks = sorted(rows["week"].unique())
    # A person without a value in a week is not one of that week's people.
    valued = rows.dropna(subset=[metric])
    means = group_mean(valued, "week", [metric], minimum).reindex(weeks)[metric]
    if beside is not None:
        theirs = _people_by_week(beside.dropna(subset=[metric]))
        ours = _people_by_week(valued)
        for week in weeks:
            other, own = theirs.get(week, frozenset()), ours.get(week, frozenset())
            if len(other) >= minimum and 0 < len(own ^ other) < minimum:
                means[week] = float("nan")
    return [str(w) for w in weeks], [None if v != v else float(v) for v in means.to_numpy()]


def _people_by_week(rows: pd.DataFrame) -> dict[Any, frozenset[str]]:
    return {week: frozenset(people) for week, people in rows.groupby("week")["person"]}


def figure_json(figure: Any) -> str:
    """Return a figure (a specification here, or a plotly.py figure) as JSON for `Plotly.newPlot`."""
    if isinstance(figure, dict):
        return json.dumps(figure, allow_nan=False, default=_missing)
    text: str = figure.to_json()
    return text


def _missing(value: object) -> None:
    raise TypeError(f"not JSON: {value!r}")
