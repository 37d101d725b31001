"""The metrics stage: per person and week, and per person and period, the behaviours of the study.

docs/metrics.md defines every metric exactly. The rules are Ibis expressions
(`events`, `network`, `weekly`), run by the configured backend (`engine`);
graph centralities run in igraph on the aggregated edges (`graph`).
"""

from __future__ import annotations

from repsight.metrics.engine import MetricsReport, compute_metrics, run_metrics
from repsight.metrics.headline import HEADLINE, headline_by_quartile
from repsight.metrics.weekly import WEEKLY_COLUMNS

__all__ = ["HEADLINE", "WEEKLY_COLUMNS", "MetricsReport", "compute_metrics", "headline_by_quartile", "run_metrics"]
