"""The metrics stage: per person and week, and per person and period, the behaviours of the study.

docs/metrics.md defines every metric exactly. The rules are Ibis expressions
(`events`, `network`, `weekly`), run by the configured backend (`engine`);
graph centralities run in igraph on the aggregated edges (`graph`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from repsight.metrics.engine import MetricsReport, compute_metrics, run_metrics
    from repsight.metrics.headline import HEADLINE, headline_by_quartile
    from repsight.metrics.weekly import WEEKLY_COLUMNS

__all__ = ["HEADLINE", "WEEKLY_COLUMNS", "MetricsReport", "compute_metrics", "headline_by_quartile", "run_metrics"]

# Imported on first use: the graph workers import `graph` alone, without Ibis.
_HOMES = {
    "MetricsReport": "repsight.metrics.engine",
    "compute_metrics": "repsight.metrics.engine",
    "run_metrics": "repsight.metrics.engine",
    "HEADLINE": "repsight.metrics.headline",
    "headline_by_quartile": "repsight.metrics.headline",
    "WEEKLY_COLUMNS": "repsight.metrics.weekly",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'repsight.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once imported, a plain attribute
    return value
