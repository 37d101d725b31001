"""The HTML report: the stored study as one self-contained page, and the Plotly figures the dashboard shares."""

from repsight.report.figures import (
    dynamics_figure,
    headline_figure,
    leading_figure,
    phase1_figure,
    phase2_grid_figure,
)
from repsight.report.report import ReportResult, render_report, run_report, write_report

__all__ = [
    "ReportResult",
    "dynamics_figure",
    "headline_figure",
    "leading_figure",
    "phase1_figure",
    "phase2_grid_figure",
    "render_report",
    "run_report",
    "write_report",
]
