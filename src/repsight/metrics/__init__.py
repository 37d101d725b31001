"""The metrics stage: per person and week, and per person and period, the behaviours of the study.

docs/metrics.md defines every metric exactly; `catalog` names each one once.
The rules are Ibis expressions (`events`, `network`, `weekly`, on the weeks
and periods of `weeks`), run by the configured backend (`engine`); graph
centralities run in igraph on the aggregated edges (`centrality`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repsight._lazy import lazy_exports

if TYPE_CHECKING:
    from repsight.metrics.catalog import CATALOG, HEADLINE
    from repsight.metrics.engine import MetricsReport, compute_metrics, run_metrics
    from repsight.metrics.headline import headline_by_quartile

__all__ = ["CATALOG", "HEADLINE", "MetricsReport", "compute_metrics", "headline_by_quartile", "run_metrics"]

# Imported on first use: the graph workers import `centrality` alone, without Ibis.
_HOMES = {
    "MetricsReport": "repsight.metrics.engine",
    "compute_metrics": "repsight.metrics.engine",
    "run_metrics": "repsight.metrics.engine",
    "HEADLINE": "repsight.metrics.catalog",
    "headline_by_quartile": "repsight.metrics.headline",
    "CATALOG": "repsight.metrics.catalog",
}

__getattr__ = lazy_exports(__name__, _HOMES, globals())
