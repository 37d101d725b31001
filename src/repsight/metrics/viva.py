"""The metrics of a Viva Insights workspace: `person_week` and `person_period` from the stored person query (docs/viva.md).

A person query already holds weekly metrics. Each Viva column that means
one of repsight's metrics (`sources.viva.METRIC_OF`: the same rule, or a
close one) fills that metric's column; the rest of repsight's metrics are
absent (empty, never zero): customer time needs the CRM's domains, the
network scores need who met whom. A week is the row's `MetricDate`; a
period holds the weeks whose `MetricDate` falls in it, and its value of a
metric is the mean over the person's weeks there that have one.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from repsight.errors import MetricsError
from repsight.metrics.catalog import WEEKLY
from repsight.metrics.weeks import period_grain, period_of
from repsight.schema import TABLES
from repsight.sources.viva import METRIC_OF

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.metrics.engine import MetricsReport
    from repsight.store import Store

__all__ = ["VIVA_SOURCES", "compute_viva_metrics", "has_viva", "measured_metrics"]


def _sources() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = defaultdict(list)
    for viva_name, metric in METRIC_OF.items():
        found[metric].append(viva_name)
    return {metric: tuple(sorted(names)) for metric, names in found.items()}


VIVA_SOURCES: dict[str, tuple[str, ...]] = _sources()
"""Each weekly metric → the canonical Viva columns that fill it (its Viva name, and repsight's own name in its own export)."""


def has_viva(store: Store) -> bool:
    """Return whether the workspace holds a Viva Insights person query."""
    return store.has_table("viva_values") and store.count("viva_values") > 0


def measured_metrics(store: Store) -> list[str]:
    """Return the weekly metrics the stored person query has a value of, in the catalogue's order."""
    values = store.table("viva_values")
    present = set(store.to_arrow(values.select("metric").distinct())["metric"].to_pylist())
    return [m for m in WEEKLY if present & set(VIVA_SOURCES.get(m, ()))]


def compute_viva_metrics(store: Store, config: Config) -> MetricsReport:
    """Compute `person_week` and `person_period` from the stored person query and store them (replacing earlier ones)."""
    from repsight.metrics.engine import MetricsReport

    started = time.perf_counter()
    if store.count("messages") or store.count("meetings"):
        raise MetricsError(
            "the workspace holds both mail or calendar events and a Viva Insights person query; "
            "measure one or the other: a workspace for each (docs/viva.md)"
        )
    values = store.table("viva_values")
    weeks = sorted(store.to_arrow(values.select("week").distinct())["week"].to_pylist())
    kpi_periods = store.to_arrow(store.table("kpis").select("period").distinct())["period"].to_pylist()
    grain = period_grain(config.metrics.period, kpi_periods)
    calendar = ibis.memtable(_calendar(weeks, grain))
    metrics = measured_metrics(store)

    def weekly(name: str) -> ibis.Value:
        value = values.value.max(where=values.metric.isin(VIVA_SOURCES[name]))
        # repsight's own counts are whole (`person_week` holds integers): a fraction in a person query is rounded to
        # the nearest (half away from zero). Hours and the Viva-only metrics are kept as they are.
        return value.round().cast("int64") if TABLES["person_week"][name] == "int64" else value

    wide = values.group_by("person", "week").aggregate(**{name: weekly(name) for name in metrics})
    wide = wide.join(calendar, "week")
    week_rows = store.to_arrow(wide.select("person", "week", "period", *metrics).order_by("person", "week"))
    sums = wide.group_by("person", "period").aggregate(
        period_start=wide.period_start.min(),
        weeks=wide.count(),
        **{name: wide[name].cast("float64").mean() for name in metrics},
    )
    period_rows = store.to_arrow(sums.order_by("person", "period"))
    with store.transaction():
        store.replace("person_week", week_rows)
        store.replace("person_period", period_rows)
        for table in ("period_edges", "account_touches", "week_ties"):
            store.replace(table, pa.table({}))
    return MetricsReport(
        backend="duckdb",
        grain=grain,
        first_week=weeks[0],
        last_week=weeks[-1],
        people=len(set(week_rows["person"].to_pylist())),
        person_weeks=week_rows.num_rows,
        person_periods=period_rows.num_rows,
        periods=sorted(set(period_rows["period"].to_pylist())),
        seconds=time.perf_counter() - started,
    )


def _calendar(weeks: list[date], grain: str) -> pa.Table:
    """Return `week`, `period`, `period_start` for each stored MetricDate: the period its MetricDate falls in."""
    if not weeks:
        raise MetricsError("the Viva Insights person query holds no weeks")
    found = [period_of(week, grain) for week in weeks]
    return pa.table(
        {
            "week": pa.array(weeks, pa.date32()),
            "period": pa.array([name for name, _ in found], pa.string()),
            "period_start": pa.array([start for _, start in found], pa.date32()),
        }
    )
