"""The metrics stage in a terminal: what was measured, and the headline behaviours by attainment quartile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

from repsight import terminal
from repsight.metrics.catalog import HEADLINE, metric
from repsight.privacy import large_enough
from repsight.report.numbers import NONE, count, is_missing, percent, plain
from repsight.report.numbers import terminal as ascii_signs

if TYPE_CHECKING:
    from repsight.metrics.engine import MetricsReport

__all__ = ["headline_table", "metrics_summary", "metrics_view"]

_QUARTILES = {1: "1 (lowest)", 4: "4 (top)"}


def metrics_view(report: MetricsReport) -> Group:
    """Return a metrics run for a terminal: what was measured, then the headline quartiles where the report carries them."""
    if report.headline is None:
        return metrics_summary(report)
    return Group(metrics_summary(report), Text(""), headline_table(report.headline, report.min_group_size))


def metrics_summary(report: MetricsReport) -> Group:
    """Return what a metrics run measured, in one sentence, and a note per period whose brokerage was estimated."""
    if report.person_weeks == 0 and report.stored_periods:
        summary = Text.assemble(
            f"Nothing was loaded since the last run: the stored metrics of {count(report.people)} people stand "
            f"({report.first_week} to {report.last_week}; {', '.join(report.stored_periods)})"
        )
        return Group(summary)
    measured = "Measured " if report.since is None else f"Recomputed from the week of {report.since} ({report.why}) for "
    summary = Text.assemble(
        measured,
        (count(report.people), "bold"),
        f" people: {count(report.person_weeks)} person-weeks ({report.since or report.first_week} to {report.last_week}) "
        f"and {count(report.person_periods)} person-{report.grain}s ({', '.join(report.periods)}) "
        f"on {report.backend} in {report.seconds:.1f} s",
    )
    notes = [
        terminal.note(
            f"{period}: network_brokerage is estimated from sampled paths ({count(people)} people in the network; "
            "exact up to [metrics] betweenness_exact_max_people)"
        )
        for period, people in report.estimated_betweenness.items()
    ]
    return Group(summary, *notes)


def _gap(lowest: Any, top: Any) -> str:
    """Return the lowest quartile's mean against the top's, in percent ("-" where either is hidden or the top's is 0)."""
    if is_missing(lowest) or is_missing(top) or not top:
        return ascii_signs(NONE)
    return ascii_signs(percent((float(lowest) / float(top) - 1) * 100))


def headline_table(rows: Sequence[Mapping[str, Any]], min_group_size: int) -> Group:
    """Return the headline behaviours' means per attainment quartile (`headline_by_quartile` rows), and lowest vs top.

    A quartile of fewer people than `min_group_size` arrives without values
    and says so.
    """
    table = terminal.table()
    terminal.words(table, "attainment quartile")
    terminal.figures(table, "people")
    for name in HEADLINE:
        found = metric(name)
        terminal.figures(table, found.heading if found else name)
    hidden = Text(f"fewer than {min_group_size}", style="dim")
    # A metric without a value in any shown quartile is not in the data (customer time in a Viva Insights person query).
    shown = [row for row in rows if large_enough(int(row["people"]), min_group_size)]
    absent = {name for name in HEADLINE if shown and all(is_missing(row[name]) for row in shown)}
    not_measured = Text("not in the data", style="dim")
    for row in rows:
        quartile = int(row["quartile"])
        cells: list[str | Text] = [
            not_measured if name in absent else hidden if is_missing(row[name]) else ascii_signs(plain(row[name]))
            for name in HEADLINE
        ]
        table.add_row(_QUARTILES.get(quartile, str(quartile)), count(row["people"]), *cells)
    by_quartile = {int(row["quartile"]): row for row in rows}
    lowest, top = by_quartile.get(1), by_quartile.get(4)
    if lowest is not None and top is not None:
        table.add_section()
        table.add_row("lowest vs top", "", *[_gap(lowest[name], top[name]) for name in HEADLINE])
    return terminal.titled("Headline behaviours by attainment quartile (sellers' person-periods)", table)
