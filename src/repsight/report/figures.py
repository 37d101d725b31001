"""Plotly figures of the study document (docs/study.md): document in, figure out.

The HTML report and the dashboard draw the same charts from the same
document, as stored in `study_results` (JSON: a missing figure is null; the
study's own NaN is read as missing too). A figure shows what the document
holds and nothing else, so pass it a document that has been through
`repsight.privacy.suppress_small_study_groups` for the viewer's minimum group
size. Every number a chart shows is on hover, formatted as the report's
tables format it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from repsight.metrics.catalog import HEADLINE, PERIOD_ENGAGEMENT, better, label
from repsight.metrics.catalog import unit as metric_unit
from repsight.report.numbers import interval, is_missing, plain, q_value, signed, value
from repsight.study.document import (
    SEGMENT_SPECIFIC,
    TIERS,
    UNTESTED,
    Coefficient,
    Comparison,
    StudyDocument,
    dynamics_reps,
    dynamics_series,
    dynamics_weeks,
)

__all__ = [
    "ENGAGEMENT",
    "LEADING_TESTS",
    "LeadingTestName",
    "axis_label",
    "chart",
    "chart_names",
    "dynamics_figure",
    "dynamics_metrics",
    "engagement_metrics",
    "headline_figure",
    "headline_metrics",
    "is_finding",
    "label",
    "leading_figure",
    "lower_is_better",
    "metric_order",
    "phase1_figure",
    "phase2_grid_figure",
    "tier_names",
]

LeadingTestName = Literal["next_period", "within_person"]
"""The keys of the document's `leading`."""
LEADING_TESTS: dict[LeadingTestName, str] = {
    "next_period": "Next period: attainment in t+1, attainment in t held equal",
    "within_person": "Within person: a rep's change against their own average",
}
"""The document's leading-indicator tests, with what each asks."""
NO_STUDY = "No study in the workspace yet: run `repsight analyze`."
TOP_COLOUR = "#2a6f97"
BOTTOM_COLOUR = "#e76f51"
FINDING_COLOUR = "#1d3557"
NO_FINDING_COLOUR = "#9aa5b1"
INK = "#1f2933"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
# Red where the bottom tier does less, blue where it does more, white for no gap.
GAP_COLOURS = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1.0, "#2166ac"]]
ENGAGEMENT: tuple[str, ...] = PERIOD_ENGAGEMENT
"""The period's customer-engagement metrics, in the catalogue's order: the report's and the dashboard's "Customer engagement" sections show those they have."""


def lower_is_better(document: StudyDocument, name: str) -> bool:
    """Return whether less of a phase-1 metric is the better behaviour: the row's `better`, else (an older document) the catalogue's."""
    row = document["phase1"].get(name)
    default = better(name)
    return (row.get("better", default) if row is not None else default) == "lower"


def axis_label(document: StudyDocument, name: str) -> str:
    """Return a metric's name on a chart's axis: "Customer reply time (lower is better)" where less is better, else its label."""
    return f"{label(name)} (lower is better)" if lower_is_better(document, name) else label(name)


def engagement_metrics(document: StudyDocument) -> list[str]:
    """Return the customer-engagement metrics the study tested (its phase 1), in the catalogue's order."""
    return [m for m in ENGAGEMENT if m in document["phase1"]]


def metric_order(document: StudyDocument) -> list[str]:
    """Return the phase-1 metrics in the order charts list them: the three headline behaviours first."""
    metrics = list(document["phase1"])
    return [m for m in HEADLINE if m in metrics] + [m for m in metrics if m not in HEADLINE]


def headline_metrics(document: StudyDocument) -> list[str]:
    """Return the study's three headline behaviours that the document holds, in the study's order."""
    return [m for m in HEADLINE if m in document["phase1"]]


def tier_names(document: StudyDocument) -> tuple[str, str]:
    """Return the names of the top and bottom tiers, e.g. ("Top 25%", "Bottom 25%")."""
    share = f"{100 * float(document['thresholds']['tier_fraction']):g}%"
    return f"Top {share}", f"Bottom {share}"


def _confidence(document: StudyDocument) -> str:
    return f"{100 * float(document['thresholds']['confidence']):g}%"


def is_finding(q: Any, document: StudyDocument) -> bool:
    """Return whether a q-value is a finding: below the study's `q_threshold`."""
    return not is_missing(q) and float(q) < float(document["thresholds"]["q_threshold"])


def _text(name: Any) -> str:
    """Return a name from the data (a segment) as Plotly text: its tags would otherwise be drawn."""
    return html.escape(str(name), quote=False)


def _styled(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": 13, "color": INK},
        hoverlabel={"font": {"family": FONT}},
        margin={"l": 10, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "xanchor": "left", "x": 0},
    )
    figure.update_annotations(font_size=14)
    return figure


def _error_bars(centres: Sequence[float | None], bounds: Sequence[Any]) -> dict[str, Any]:
    """Return asymmetric Plotly error bars from each centre to its interval's bounds (none where either is missing)."""
    above: list[float | None] = []
    below: list[float | None] = []
    for centre, pair in zip(centres, bounds, strict=True):
        low, high = (value(pair[0]), value(pair[1])) if pair and len(pair) == 2 else (None, None)
        if centre is None or low is None or high is None:
            above.append(None)
            below.append(None)
        else:
            above.append(high - centre)
            below.append(centre - low)
    return {"type": "data", "symmetric": False, "array": above, "arrayminus": below, "color": INK, "thickness": 1.5, "width": 5}


def headline_figure(document: StudyDocument) -> go.Figure:
    """Return the three headline behaviours: top vs bottom tier means (upper row) and the bottom-vs-top gap with its interval."""
    if not document["phase1"]:
        return _message(NO_STUDY)
    phase1 = document["phase1"]
    metrics = headline_metrics(document)
    top, bottom = tier_names(document)
    confidence = _confidence(document)
    columns = max(len(metrics), 1)
    figure = make_subplots(
        rows=2,
        cols=columns,
        specs=[[{} for _ in range(columns)], [{"colspan": columns}] + [None] * (columns - 1)],
        row_heights=[0.58, 0.42],
        vertical_spacing=0.2,
        horizontal_spacing=0.1,
        subplot_titles=[
            *(f"{label(m)} ({metric_unit(m)})" for m in metrics),
            f"{bottom} vs {top}, with the {confidence} interval",
        ],
    )
    for column, metric in enumerate(metrics, start=1):
        row = phase1[metric]
        means = [value(row["top_mean"]), value(row["bottom_mean"])]
        figure.add_trace(
            go.Bar(
                x=[top, bottom],
                y=means,
                marker_color=[TOP_COLOUR, BOTTOM_COLOUR],
                text=[plain(m) for m in means],
                textposition="auto",
                name=label(metric),
                showlegend=False,
                hovertemplate=f"<b>{label(metric)}</b><br>%{{x}}: %{{text}} {metric_unit(metric)}<extra></extra>",
            ),
            row=1,
            col=column,
        )
    gaps = [value(phase1[m]["bottom_vs_top_pct"]) for m in metrics]
    bounds = [phase1[m]["ci"] for m in metrics]
    figure.add_trace(
        go.Bar(
            y=[label(m) for m in metrics],
            x=gaps,
            orientation="h",
            marker_color=BOTTOM_COLOUR,
            width=0.6,
            error_x=_error_bars(gaps, bounds),
            customdata=[
                [signed(g, 1, "%"), interval(b, 1, "%"), q_value(phase1[m]["q"])]
                for m, g, b in zip(metrics, gaps, bounds, strict=True)
            ],
            showlegend=False,
            hovertemplate=(
                f"<b>%{{y}}</b><br>{bottom} vs {top}: %{{customdata[0]}}<br>"
                f"{confidence} interval: %{{customdata[1]}}<br>q: %{{customdata[2]}}<extra></extra>"
            ),
        ),
        row=2,
        col=1,
    )
    figure.update_yaxes(autorange="reversed", row=2, col=1)
    figure.update_xaxes(ticksuffix="%", zeroline=True, zerolinecolor=INK, zerolinewidth=1, row=2, col=1)
    return _styled(figure, 620)


def _forest_traces(
    document: StudyDocument,
    rows: Mapping[str, Comparison | Coefficient],
    metrics: list[str],
    *,
    estimates: Mapping[str, float],
    scale: float,
    suffix: str,
) -> list[go.Scatter]:
    """Return a forest plot's two traces: the estimates with q below the threshold, and the others.

    `rows` maps a metric to a phase-1 row or a coefficient (its `ci` and
    `q`), `estimates` to the figure drawn (`bottom_vs_top_pct`, `coef`);
    estimates and intervals are drawn times `scale`.
    """
    threshold = document["thresholds"]["q_threshold"]
    traces = []
    for finding in (True, False):
        chosen = [m for m in metrics if is_finding(rows[m]["q"], document) == finding]
        centres = [None if (e := value(estimates[m])) is None else scale * e for m in chosen]
        bounds = [[None if is_missing(b) else scale * b for b in rows[m]["ci"]] for m in chosen]
        traces.append(
            go.Scatter(
                x=centres,
                y=[axis_label(document, m) for m in chosen],
                mode="markers",
                name=f"q < {threshold:g}" if finding else "not significant",
                legendgroup="finding" if finding else "other",
                marker={
                    "symbol": "circle" if finding else "circle-open",
                    "size": 11,
                    "color": FINDING_COLOUR if finding else NO_FINDING_COLOUR,
                    "line": {"width": 2, "color": FINDING_COLOUR if finding else NO_FINDING_COLOUR},
                },
                error_x=_error_bars(centres, bounds),
                customdata=[
                    [signed(c, 1, suffix), interval(b, 1, suffix), q_value(rows[m]["q"])]
                    for m, c, b in zip(chosen, centres, bounds, strict=True)
                ],
            )
        )
    return traces


def phase1_figure(document: StudyDocument) -> go.Figure:
    """Return every metric's bottom-vs-top gap with its interval (a forest plot); filled markers have q below the threshold."""
    if not document["phase1"]:
        return _message(NO_STUDY)
    phase1 = document["phase1"]
    metrics = metric_order(document)
    top, bottom = tier_names(document)
    confidence = _confidence(document)
    figure = go.Figure()
    gaps = {m: row["bottom_vs_top_pct"] for m, row in phase1.items()}
    for trace in _forest_traces(document, phase1, metrics, estimates=gaps, scale=1.0, suffix="%"):
        trace.update(
            hovertemplate=(
                f"<b>%{{y}}</b><br>{bottom} vs {top}: %{{customdata[0]}}<br>"
                f"{confidence} interval: %{{customdata[1]}}<br>q: %{{customdata[2]}}<extra></extra>"
            )
        )
        figure.add_trace(trace)
    labels = [axis_label(document, m) for m in metrics]
    figure.update_yaxes(categoryorder="array", categoryarray=labels, autorange="reversed")
    figure.update_xaxes(
        title_text=f"{bottom} vs {top} (%), with the {confidence} interval",
        ticksuffix="%",
        zeroline=True,
        zerolinecolor=INK,
        zerolinewidth=1,
    )
    return _styled(figure, 130 + 36 * len(metrics))


def _cell_hover(document: StudyDocument, attribute: str, segment: str, metric: str) -> str:
    part = document["phase2"][attribute]
    found = part["segments"][segment]
    row = found["metrics"][metric]
    test = part["heterogeneity"].get(metric)
    top, bottom = tier_names(document)
    verdict = test["verdict"] if test is not None else UNTESTED
    return (
        f"<b>{axis_label(document, metric)}</b><br>{_text(attribute)} {_text(segment)}: {found['n_reps']} reps<br>"
        f"{bottom} vs {top}: {signed(row['bottom_vs_top_pct'], 1, '%')}<br>"
        f"{_confidence(document)} interval: {interval(row['ci'], 1, '%')}<br>"
        f"q: {q_value(row['q'])}<br>across {_text(attribute)}: {verdict}"
    )


def phase2_grid_figure(document: StudyDocument) -> go.Figure:
    """Return phase 2 as metric × segment heatmaps of the bottom-vs-top gap, one panel per segmenting attribute.

    Hover shows a cell's interval, reps and q, and the metric's verdict over
    the attribute; an outlined cell is a segment named in the metric's
    `differing_segments` (docs/study.md). Segments left out (too few reps) are not in
    the document's `segments`, so they are in no panel.
    """
    if not document["phase1"]:
        return _message(NO_STUDY)
    phase2 = document["phase2"]
    metrics = metric_order(document)
    labels = [axis_label(document, m) for m in metrics]
    attributes = [a for a, part in phase2.items() if part["segments"]]
    if not attributes:
        return _message("No segment has enough reps to be compared.")
    figure = make_subplots(
        rows=1,
        cols=len(attributes),
        shared_yaxes=True,
        column_widths=[len(phase2[a]["segments"]) for a in attributes],
        horizontal_spacing=0.025,
        subplot_titles=[_text(a) for a in attributes],
    )
    gaps = [
        abs(v)
        for a in attributes
        for s in phase2[a]["segments"].values()
        for m in metrics
        if (v := value(s["metrics"][m]["bottom_vs_top_pct"])) is not None
    ]
    limit = max(gaps, default=1.0) or 1.0
    outlined = False
    for column, attribute in enumerate(attributes, start=1):
        part = phase2[attribute]
        segments = list(part["segments"])
        cells = [[value(part["segments"][s]["metrics"][m]["bottom_vs_top_pct"]) for s in segments] for m in metrics]
        figure.add_trace(
            go.Heatmap(
                x=[_text(s) for s in segments],
                y=labels,
                z=cells,
                text=[[signed(v, 0, "%") for v in row] for row in cells],
                texttemplate="%{text}",
                hovertext=[[_cell_hover(document, attribute, s, m) for s in segments] for m in metrics],
                hoverinfo="text",
                coloraxis="coloraxis",
                xgap=2,
                ygap=2,
                name=_text(attribute),
            ),
            row=1,
            col=column,
        )
        for metric in metrics:
            test = part["heterogeneity"].get(metric)
            if test is None or test["verdict"] != SEGMENT_SPECIFIC:
                continue
            for segment in test["differing_segments"]:
                if segment not in part["segments"]:
                    continue
                # Categories sit at 0, 1, 2...: the cell of (segment, metric) spans ± 0.5 around them.
                x, y = segments.index(segment), metrics.index(metric)
                figure.add_shape(
                    type="rect",
                    x0=x - 0.5,
                    x1=x + 0.5,
                    y0=y - 0.5,
                    y1=y + 0.5,
                    line={"color": INK, "width": 3},
                    name=f"segment that differs ({SEGMENT_SPECIFIC} verdict)",
                    legendgroup="differs",
                    showlegend=not outlined,
                    row=1,
                    col=column,
                )
                outlined = True
    top, bottom = tier_names(document)
    figure.update_layout(
        coloraxis={
            "colorscale": GAP_COLOURS,
            "cmin": -limit,
            "cmax": limit,
            "colorbar": {"title": {"text": f"{bottom}<br>vs {top}"}, "ticksuffix": "%", "thickness": 14},
        }
    )
    figure.update_yaxes(categoryorder="array", categoryarray=labels, autorange="reversed")
    figure.update_xaxes(showgrid=False, type="category")
    return _styled(figure, 150 + 36 * len(metrics))


def dynamics_metrics(document: StudyDocument) -> list[str]:
    """Return the metrics with weekly values in the document's dynamics, headline behaviours first (none without weekly data)."""
    return [m for m in metric_order(document) if dynamics_series(document, m) is not None]


def dynamics_figure(document: StudyDocument, metric: str) -> go.Figure:
    """Return the top and bottom tiers' mean weekly `metric` by week of the period; a week without a value is a gap.

    Raises ValueError when the document has no weekly values of `metric`.
    """
    series = dynamics_series(document, metric)
    if series is None:
        raise ValueError(f"the study has no weekly values of {metric}")
    weeks = dynamics_weeks(document)
    periods = document["population"]["periods"]
    period = "quarter" if any("Q" in p for p in periods) else "month"
    unit = metric_unit(metric)
    top, bottom = tier_names(document)
    figure = go.Figure()
    for tier, name, colour in zip(TIERS, (top, bottom), (TOP_COLOUR, BOTTOM_COLOUR), strict=True):
        means = [value(v) for v in series[tier]]
        reps = dynamics_reps(document, tier)
        figure.add_trace(
            go.Scatter(
                x=weeks,
                y=means,
                mode="lines+markers",
                connectgaps=False,
                name=name,
                line={"color": colour, "width": 2.5},
                marker={"size": 6},
                # A week without a value carries no count either: its tier was too small to show.
                customdata=[[plain(m), r] if m is not None else None for m, r in zip(means, reps, strict=True)],
                hovertemplate=f"<b>{name}</b>, week %{{x}}: %{{customdata[0]}} {unit}<br>%{{customdata[1]}} reps<extra></extra>",
            )
        )
    figure.update_xaxes(title_text=f"week of the {period}", dtick=1, range=[0.5, len(weeks) + 0.5])
    figure.update_yaxes(title_text=unit, rangemode="tozero")
    figure.update_layout(title={"text": label(metric), "x": 0, "xanchor": "left", "font": {"size": 15}})
    figure = _styled(figure, 340)
    figure.update_layout(margin={"t": 90})
    return figure


def leading_figure(document: StudyDocument) -> go.Figure:
    """Return the leading-indicator coefficients with their intervals: next period, and within person.

    A coefficient is shown in points of attainment (100 × the change of
    attainment) per standard deviation of the behaviour.
    """
    if not document["phase1"]:
        return _message(NO_STUDY)
    leading = document["leading"]
    metrics = [m for m in metric_order(document) if any(m in leading[t]["metrics"] for t in LEADING_TESTS)]
    if not metrics:
        return _message("The leading-indicator tests need reps seen in at least two periods.")
    figure = make_subplots(
        rows=1, cols=len(LEADING_TESTS), shared_yaxes=True, horizontal_spacing=0.04, subplot_titles=list(LEADING_TESTS.values())
    )
    confidence = _confidence(document)
    in_legend: set[str] = set()
    for column, test in enumerate(LEADING_TESTS, start=1):
        coefficients = leading[test]["metrics"]
        shown = [m for m in metrics if m in coefficients]
        estimates = {m: c["coef"] for m, c in coefficients.items()}
        for trace in _forest_traces(document, coefficients, shown, estimates=estimates, scale=100.0, suffix=" pts"):
            trace.update(
                showlegend=bool(trace.y) and trace.legendgroup not in in_legend,
                hovertemplate=(
                    "<b>%{y}</b><br>%{customdata[0]} of attainment per SD<br>"
                    f"{confidence} interval: %{{customdata[1]}}<br>q: %{{customdata[2]}}<extra></extra>"
                ),
            )
            if trace.showlegend:
                in_legend.add(trace.legendgroup)
            figure.add_trace(trace, row=1, col=column)
    labels = [axis_label(document, m) for m in metrics]
    figure.update_yaxes(categoryorder="array", categoryarray=labels, autorange="reversed")
    figure.update_xaxes(title_text="attainment points per SD", zeroline=True, zerolinecolor=INK, zerolinewidth=1)
    figure = _styled(figure, 160 + 36 * len(metrics))
    figure.update_annotations(font_size=13)
    return figure


def _message(text: str) -> go.Figure:
    """Return an empty figure that says why there is nothing to draw."""
    figure = go.Figure()
    figure.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _styled(figure, 160)


def chart_names(document: StudyDocument) -> list[str]:
    """Return the names of the charts a study (already suppressed) has, in the report's order.

    "headline" and "phase1" always; "phase2" when a segment is kept;
    "dynamics-<metric>" for each metric with weekly values; "leading" when
    a leading-indicator test has a metric.
    """
    names = ["headline", "phase1"]
    if any(part["segments"] for part in document["phase2"].values()):
        names.append("phase2")
    names += [f"dynamics-{m}" for m in dynamics_metrics(document)]
    if any(document["leading"][test]["metrics"] for test in LEADING_TESTS):
        names.append("leading")
    return names


def chart(document: StudyDocument, name: str) -> go.Figure:
    """Return the chart `name` (one of `chart_names`) of a study (already suppressed)."""
    if name.startswith("dynamics-"):
        return dynamics_figure(document, name.removeprefix("dynamics-"))
    draw = {
        "headline": headline_figure,
        "phase1": phase1_figure,
        "phase2": phase2_grid_figure,
        "leading": leading_figure,
    }[name]
    return draw(document)
