"""`repsight report`: the stored study as one self-contained HTML page that opens offline.

The page carries everything it needs: Plotly's JavaScript, inlined once from
the installed package, each chart's data, and its styles. It loads nothing
from the network, so it can be mailed or opened from a USB stick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from markupsafe import Markup
from pydantic import BaseModel
from rich.text import Text

from repsight.config import CompanyConfig, Config, PrivacyConfig, StudyConfig
from repsight.errors import StudyError
from repsight.metrics.catalog import HEADLINE, unit
from repsight.metrics.catalog import metric as catalogued
from repsight.privacy import suppress_small_study_groups
from repsight.report.figures import (
    LEADING_TESTS,
    chart,
    chart_names,
    dynamics_metrics,
    engagement_metrics,
    headline_metrics,
    is_finding,
    label,
    lower_is_better,
    metric_order,
    tier_names,
)
from repsight.report.numbers import NONE, interval, is_missing, plain, q_value, signed
from repsight.study.document import (
    SEGMENT_SPECIFIC,
    UNTESTED,
    Coefficient,
    StudyDocument,
    differing_segments,
    missing_keys,
    upgraded,
)

if TYPE_CHECKING:
    import jinja2
    import plotly.graph_objects as go

    from repsight.store import Store

__all__ = ["ReportResult", "latest_study", "render_report", "write_report"]

THRESHOLD_SECTIONS: dict[str, type[BaseModel]] = {"sales_functions": CompanyConfig, "min_group_size": PrivacyConfig}
"""The section of repsight.toml of each of the document's thresholds that is not a `[study]` setting."""
WITHOUT_VALUE: dict[str, str] = {
    "customer_reply_hours": "the rep sent no reply to a customer in the period",
    "owned_accounts": "no account has an owner in accounts.csv",
    "owned_accounts_touched_pct": "the rep owns no account",
}
"""Why an optional metric has no value for a rep-period (docs/metrics.md): said where such rep-periods are left out."""


@dataclass(frozen=True)
class ReportResult:
    """A written report: where, how large, how many charts."""

    path: Path
    bytes: int
    figures: int

    def summary(self) -> str:
        """Return what was written, in one sentence: "Wrote the report (4.7 MB, 9 charts) to report.html"."""
        return f"Wrote the report ({self.bytes / 1e6:.1f} MB, {self.figures} charts) to {self.path}"

    def __rich__(self) -> Text:
        """Return the summary, for a terminal (never read as markup)."""
        return Text(self.summary())


@dataclass(frozen=True)
class _Page:
    html: str
    figures: int


def render_report(
    document: StudyDocument,
    config: Config,
    *,
    studied_at: datetime | None = None,
    generated_at: datetime | None = None,
) -> str:
    """Return the study `document` (as stored: JSON, docs/study.md) as one self-contained HTML page.

    Groups of fewer reps than `config.privacy.min_group_size` (or the study's
    own minimum, if larger) are in no figure. `studied_at` is when the study
    ran, `generated_at` when the page is made (now, by default); both UTC.
    """
    return _render(document, config, studied_at, generated_at).html


def _render(document: StudyDocument, config: Config, studied_at: datetime | None, generated_at: datetime | None) -> _Page:
    from plotly.offline import get_plotlyjs

    min_group = max(config.privacy.min_group_size, int(document["thresholds"]["min_group_size"]))
    shown = suppress_small_study_groups(document, min_group)
    figures: list[str] = []

    def embed(figure: go.Figure, name: str) -> Markup:
        figures.append(name)
        # Plotly's JSON escapes <, > and / inside the script, so no name from the data can end it.
        return Markup(
            figure.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"figure-{name}",
                config={"displaylogo": False, "responsive": True},
            )
        )

    charts = chart_names(shown)

    def drawn(name: str) -> Markup | None:
        return embed(chart(shown, name), name) if name in charts else None

    kept = [a for a, part in shown["phase2"].items() if part["segments"]]
    top, bottom = tier_names(shown)
    context = {
        "title": f"Behaviours behind quota attainment: {', '.join(config.company.domains)}",
        "studied_at": _when(studied_at),
        "generated_at": _when(generated_at or datetime.now(UTC)),
        "caveat": shown["caveat"],
        "top": top,
        "bottom": bottom,
        "confidence": f"{100 * float(shown['thresholds']['confidence']):g}%",
        "q_threshold": f"{float(shown['thresholds']['q_threshold']):g}",
        "min_group_size": min_group,
        "population": _population(shown),
        "thresholds": _thresholds(shown, min_group),
        "measurement": _measurement(config),
        "headline": _headline(shown),
        "headline_absent": [label(m) for m in HEADLINE if m in shown.get("absent", [])],
        "absent": [label(m) for m in shown.get("absent", [])],
        "headline_chart": drawn("headline"),
        "phase1_chart": drawn("phase1"),
        "phase1": [_phase1_row(shown, m) for m in metric_order(shown)],
        "engagement": _engagement(shown),
        "model": _model(shown),
        "phase2_chart": drawn("phase2"),
        "verdicts": _verdicts(shown, kept),
        "verdicts_attributes": kept,
        "left_out": {a: part["left_out"] for a, part in shown["phase2"].items() if part["left_out"]},
        "unshown": [a for a in shown["phase2"] if a not in kept],
        "dynamics": [
            {"metric": label(m), "headline": m in HEADLINE, "chart": drawn(f"dynamics-{m}")} for m in dynamics_metrics(shown)
        ],
        "leading_chart": drawn("leading"),
        "leading": _leading(shown),
        "periods": len(shown["population"]["periods"]),
        "plotly_js": Markup(get_plotlyjs()),
    }
    return _Page(_environment().get_template("report.html.j2").render(context), len(figures))


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("repsight.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _count(number: Any) -> str:
    return NONE if is_missing(number) else f"{int(number):,}"


def _population(document: StudyDocument) -> list[tuple[str, str]]:
    population, tiers = document["population"], document["tiers"]
    periods = population["periods"]
    top, bottom = tier_names(document)
    rows = []
    if "people" in population:
        rows.append(("People measured", _count(population["people"])))
    rows += [
        ("Reps studied", _count(population["reps"])),
        ("Rep-periods", _count(population["rep_periods"])),
        ("Periods", f"{periods[0]} to {periods[-1]} ({len(periods)})" if len(periods) > 1 else ", ".join(periods)),
    ]
    if "rep_periods_without_metrics" in population:
        rows.append(("Rep-periods with a KPI but no metrics (left out)", _count(population["rep_periods_without_metrics"])))
    rows += _validation_rows(document)
    rows += [
        (
            f"{top} (by attainment, each period)",
            f"{_count(tiers['top_rep_periods'])} rep-periods of {_count(tiers['top_reps'])} reps",
        ),
        (f"{bottom}", f"{_count(tiers['bottom_rep_periods'])} rep-periods of {_count(tiers['bottom_reps'])} reps"),
    ]
    return rows


_LEFT_OUT = {
    "no_own_mailbox": "Reps without their own mailbox in the export (left out)",
    "no_own_calendar": "Reps without their own calendar in the export (left out)",
    "no_week_left": "Rep-periods with every week flagged (left out)",
    "holiday_week": "Company holiday weeks (left out of the period means)",
    "edge_week": "Partly exported first or last weeks (left out of the period means)",
    "inactive_week": "Inactive weeks: leave, absence (left out of the period means)",
    "partial_week": "Weeks of a hire or leave date (left out of the period means)",
    "implausible_value": "Weeks with implausible values (left out of the period means)",
}


def _validation_rows(document: StudyDocument) -> list[tuple[str, str]]:
    """Return what the data validation took out of the study, rule by rule (docs/validation.md), or that none ran."""
    found = document.get("validation")
    if found is None:
        return []
    if found.get("validated_at") is None:
        return [("Data validation", "none: `repsight validate` was not run, so nothing was left out")]
    rows = []
    for rule, removed in found.get("removed", {}).items():
        if rule in ("no_own_mailbox", "no_own_calendar", "no_week_left"):
            said = f"{_count(removed['people'])} people, {_count(removed['rep_periods'])} rep-periods"
        else:
            said = f"{_count(removed['weeks'])} weeks of {_count(removed['people'])} reps"
        rows.append((_LEFT_OUT.get(rule, rule), said))
    if counts := found.get("counts"):
        rows.append(("Data validation flags", " · ".join(f"{rule} {_count(n)}" for rule, n in counts.items())))
    if found.get("warning"):
        rows.append(("Data validation", str(found["warning"])))
    return rows


def _setting(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _thresholds(document: StudyDocument, min_group: int) -> list[dict[str, str]]:
    rows = [{"name": name, "value": _setting(value), "meaning": _meaning(name)} for name, value in document["thresholds"].items()]
    if min_group != document["thresholds"]["min_group_size"]:
        rows.append(
            {
                "name": "min_group_size",
                "value": _setting(min_group),
                "meaning": "the workspace's minimum now ([privacy] in repsight.toml): this report shows no group of fewer reps",
            }
        )
    return rows


def _meaning(name: str) -> str:
    """Return what a threshold means: its setting's docstring in config.py, the field's description."""
    field = THRESHOLD_SECTIONS.get(name, StudyConfig).model_fields.get(name)
    return (field.description or "") if field is not None else ""


def _measurement(config: Config) -> list[tuple[str, str]]:
    """Return the metric settings of repsight.toml as they are now: the thresholds behind every weekly value."""
    settings = [
        ("[company] senior_level", _setting(config.company.senior_level)),
        ("[company] timezone", config.company.timezone),
    ]
    settings += [(f"[metrics] {name}", _setting(value)) for name, value in config.metrics.model_dump().items()]
    return settings


def _headline(document: StudyDocument) -> list[dict[str, Any]]:
    found = []
    for metric in headline_metrics(document):
        row = document["phase1"][metric]
        found.append(
            {
                "metric": label(metric),
                "gap": signed(row["bottom_vs_top_pct"], 1, "%"),
                "means": f"{plain(row['bottom_mean'])} vs {plain(row['top_mean'])} {unit(metric)}".strip(),
                "interval": interval(row["ci"], 1, "%"),
                "q": q_value(row["q"]),
                "finding": is_finding(row["q"], document),
            }
        )
    return found


def _unit(document: StudyDocument, name: str) -> str:
    """Return a metric's unit as a table says it beside the name: "median hours; lower is better" where less is better."""
    return "; ".join(part for part in (unit(name), "lower is better" if lower_is_better(document, name) else "") if part)


def _phase1_row(document: StudyDocument, metric: str) -> dict[str, Any]:
    row = document["phase1"][metric]
    return {
        "metric": label(metric),
        "unit": _unit(document, metric),
        "top": plain(row["top_mean"]),
        "bottom": plain(row["bottom_mean"]),
        "gap": signed(row["bottom_vs_top_pct"], 1, "%"),
        "interval": interval(row["ci"], 1, "%"),
        "rho": signed(row["rho"], 2),
        "q": q_value(row["q"]),
        "finding": is_finding(row["q"], document),
    }


def _reading(document: StudyDocument, name: str, gap: Any) -> str:
    """Return the bottom tier's gap in words: "39% slower in the bottom 25%" for a reply time, "18% fewer" for a count."""
    if is_missing(gap):
        return NONE
    size = abs(float(gap))
    if round(size) == 0:
        return "no gap"
    found = catalogued(name)
    kind = found.kind if found is not None else "ratio"
    if kind == "hours" and lower_is_better(document, name):
        words = ("slower", "faster")
    else:
        words = {"count": ("more", "fewer"), "hours": ("more", "less")}.get(kind, ("higher", "lower"))
    _, bottom = tier_names(document)
    return f"{size:.0f}% {words[0] if float(gap) > 0 else words[1]} in the {bottom.lower()}"


def _rep_periods(number: int) -> str:
    return f"{_count(number)} rep-period{'' if number == 1 else 's'} {'is' if number == 1 else 'are'}"


def _engagement(document: StudyDocument) -> dict[str, Any]:
    """Return the customer-engagement rows of phase 1, each gap read the right way round, and what was left out for want of a value."""
    rows, notes = [], []
    for name in engagement_metrics(document):
        row = document["phase1"][name]
        rows.append(
            {
                "metric": label(name),
                "unit": _unit(document, name),
                "top": plain(row["top_mean"]),
                "bottom": plain(row["bottom_mean"]),
                "gap": signed(row["bottom_vs_top_pct"], 1, "%"),
                "reading": _reading(document, name, row["bottom_vs_top_pct"]),
                "interval": interval(row["ci"], 1, "%"),
                "q": q_value(row["q"]),
                "finding": is_finding(row["q"], document),
            }
        )
        missing = int(row.get("missing", 0) or 0)
        if missing > 0:
            reason = WITHOUT_VALUE.get(name, "it has no value")
            notes.append(f"{_rep_periods(missing)} left out of the {label(name).lower()} comparison: {reason}.")
    model = _without_values(document)
    if rows and model:
        notes.append(model)
    return {
        "rows": rows,
        "notes": notes,
        "lower": [label(m) for m in engagement_metrics(document) if lower_is_better(document, m)],
    }


def _coefficient(document: StudyDocument, found: Coefficient | None) -> dict[str, Any]:
    """Return a regression coefficient in points of attainment (100 × the change) per SD."""
    if found is None:
        return {"coef": NONE, "interval": NONE, "p": NONE, "q": NONE, "finding": False}
    bounds = [None if is_missing(b) else 100 * float(b) for b in found["ci"]]
    return {
        "coef": signed(None if is_missing(found["coef"]) else 100 * float(found["coef"]), 1),
        "interval": interval(bounds, 1),
        "p": q_value(found["p"]),
        "q": q_value(found["q"]),
        "finding": is_finding(found["q"], document),
    }


def _model(document: StudyDocument) -> dict[str, Any]:
    model = document["model"]
    coefficients = model["coefficients"]
    return {
        "rows": [
            {"metric": label(m), **_coefficient(document, coefficients[m])} for m in metric_order(document) if m in coefficients
        ],
        "n": _count(model["n"]),
        "reps": _count(model["reps"]),
        "r2": plain(model["r2"], 3),
        "fixed_effects": ", ".join(model["fixed_effects"]),
        "errors": model["errors"],
        "left_out": [label(m) for m in model["left_out"]],
        "without_values": _without_values(document),
    }


def _without_values(document: StudyDocument) -> str | None:
    """Return the sentence on the rep-periods the model left out for want of a value (`model.without_values`), or None where none was."""
    without = int(document["model"].get("without_values", 0) or 0)
    return f"{_rep_periods(without)} left out of the model, which needs a value of every behaviour." if without > 0 else None


def _verdicts(document: StudyDocument, attributes: list[str]) -> list[dict[str, Any]]:
    rows = []
    for metric in metric_order(document):
        cells = []
        for attribute in attributes:
            test = document["phase2"][attribute]["heterogeneity"].get(metric)
            verdict = test["verdict"] if test is not None else UNTESTED
            specific = verdict == SEGMENT_SPECIFIC

            cells.append(
                {
                    "verdict": verdict,
                    "specific": specific,
                    # A segment-specific verdict names at least one segment; the report drops a name only when that
                    # segment is smaller than the workspace's minimum now (privacy.suppress_small_study_groups).
                    "differing": differing_segments(test["differing_segments"]) if test is not None and specific else "",
                    "detail": f"I² {plain(test['i2'] if test else None, 2)} · q {q_value(test['q'] if test else None)}",
                }
            )
        rows.append({"metric": label(metric), "cells": cells})
    return rows


def _leading(document: StudyDocument) -> dict[str, Any]:
    leading = document["leading"]
    metrics = [m for m in metric_order(document) if any(m in leading[t]["metrics"] for t in LEADING_TESTS)]
    return {
        "tests": {test: {"n": _count(leading[test]["n"]), "reps": _count(leading[test]["reps"])} for test in LEADING_TESTS},
        "rows": [
            {"metric": label(m), **{test: _coefficient(document, leading[test]["metrics"].get(m)) for test in LEADING_TESTS}}
            for m in metrics
        ],
    }


def latest_study(store: Store, config: Config) -> tuple[StudyDocument, datetime]:
    """Return the latest study stored in the workspace (table `study_results`) and when it ran (UTC).

    A study stored by an earlier version is read with today's key names
    (`ci95` is `ci`, `document.upgraded`); one that lacks a part every reader
    needs raises StudyError, which says to run the study again.
    """
    rows: list[dict[str, Any]] = []
    if store.has_table("study_results"):
        results = store.table("study_results")
        rows = store.to_arrow(results.order_by(results.created_at.desc()).limit(1)).to_pylist()
    if not rows:
        raise StudyError(f"no study in the workspace yet: run `repsight analyze -c {config.path}` first")
    created: datetime = rows[0]["created_at"]
    # Stored as `StudyResult.to_json` wrote it: a figure that does not exist is null.
    stored = upgraded(json.loads(rows[0]["document"]))
    missing = missing_keys(stored)
    if missing:
        raise StudyError(
            f"the workspace's study was stored by an earlier version of repsight and lacks {', '.join(missing)}: "
            f"run `repsight analyze -c {config.path}` again"
        )
    return cast("StudyDocument", stored), created.replace(tzinfo=UTC)


def run_report(config: Config, out: Path) -> ReportResult:
    """The report stage: write the workspace's latest study as a self-contained HTML page to `out`; return what was written."""
    return write_report(config, out)


def write_report(config: Config, out: Path) -> ReportResult:
    """Write the workspace's latest study as a self-contained HTML page to `out` (`run_report`, the stage's entry point)."""
    from repsight.atomic import write_bytes
    from repsight.store import Store

    with Store.open(config, read_only=True) as store:
        document, studied_at = latest_study(store, config)
    page = _render(document, config, studied_at, None)
    data = page.html.encode("utf-8")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(out, data)
    except FileExistsError:
        raise StudyError(f"{out}: cannot write the report: {out.parent} is a file, not a folder") from None
    except OSError as exc:
        raise StudyError(f"{out}: cannot write the report: {exc.strerror or exc}") from None
    return ReportResult(out, len(data), page.figures)
