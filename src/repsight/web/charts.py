"""The dashboard's own charts (a person's weeks, a team's, an org's), as Plotly figure JSON for the pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

if TYPE_CHECKING:
    import pandas as pd

    from repsight.web.data import Band

__all__ = ["figure_json", "network_chart", "standing_chart", "weekly_chart"]

_OURS = "#1f6feb"
_BAND = "rgba(46, 160, 67, 0.18)"
_BAND_LINE = "#2ea043"


def _layout(figure: go.Figure, title: str, height: int = 300) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )
    figure.update_xaxes(showgrid=False)
    figure.update_yaxes(gridcolor="#eee", rangemode="tozero")
    return figure


def weekly_chart(title: str, weeks: list[str], values: list[float | None], label: str, band: Band | None) -> go.Figure:
    """Return a line of weekly values, over the top tier's band (quartiles) and median where there is one."""
    figure = go.Figure()
    if band is not None:
        figure.add_trace(
            go.Scatter(x=band.weeks, y=band.high, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
        )
        figure.add_trace(
            go.Scatter(
                x=band.weeks,
                y=band.low,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=_BAND,
                name=f"top tier, middle half ({band.group})",
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=band.weeks, y=band.median, mode="lines", line={"color": _BAND_LINE, "dash": "dash"}, name="top tier, median"
            )
        )
    figure.add_trace(go.Scatter(x=weeks, y=values, mode="lines+markers", line={"color": _OURS}, marker={"size": 4}, name=label))
    return _layout(figure, title)


def standing_chart(rows: list[dict[str, object]]) -> go.Figure:
    """Return where a person stands in each behaviour: their percentile among the period's reps."""
    labels = [str(r["label"]) for r in rows]
    percentiles = [float(str(r["percentile"])) for r in rows]
    figure = go.Figure(
        go.Bar(
            x=percentiles,
            y=labels,
            orientation="h",
            marker={"color": [_BAND_LINE if p >= 75 else _OURS if p >= 25 else "#d29922" for p in percentiles]},
            text=[f"{p:.0f}" for p in percentiles],
            textposition="outside",
            customdata=[float(str(r["value"])) for r in rows],
            hovertemplate="%{y}: percentile %{x:.0f}<br>value %{customdata:.2f}<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, 105], title="percentile among the period's reps (50 = middle)")
    figure = _layout(figure, "Where you stand", height=60 + 32 * len(rows))
    figure.update_layout(hovermode="closest")
    figure.update_yaxes(autorange="reversed")
    return figure


def network_chart(by_org: dict[str, int]) -> go.Figure:
    """Return the person's colleagues by org unit."""
    figure = go.Figure(go.Bar(x=list(by_org.values()), y=list(by_org), orientation="h", marker={"color": _OURS}))
    figure = _layout(figure, "Your network by org unit (colleagues)", height=80 + 28 * max(1, len(by_org)))
    figure.update_layout(hovermode="closest")
    figure.update_yaxes(autorange="reversed")
    return figure


def mean_by_week(rows: pd.DataFrame, metric: str) -> tuple[list[str], list[float | None]]:
    """Return the weeks and the mean of `metric` over the rows of each week."""
    means = rows.groupby("week")[metric].mean()
    return [str(w) for w in means.index], [float(v) for v in means.to_numpy()]


def figure_json(figure: go.Figure) -> str:
    """Return the figure as JSON for `Plotly.newPlot` in a page."""
    text: str = figure.to_json()
    return text
