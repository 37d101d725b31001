"""The guidance as the command line prints it: gaps, strengths, people to meet, customer engagement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text

from repsight import terminal
from repsight.report.numbers import plain, signed

if TYPE_CHECKING:
    from repsight.guidance.advice import Advice, Gap

__all__ = ["advice_view"]


def _figure(value: float | None) -> str:
    return "-" if value is None or value != value else plain(value)


def _gap_table(gaps: list[Gap], heading: str) -> object:
    table = terminal.table()
    terminal.words(table, heading)
    terminal.figures(table, "you")
    terminal.figures(table, "top tier\nmedian")
    terminal.words(table, "compared with")
    terminal.figures(table, "spreads")
    for gap in gaps:
        direction = " (lower is better)" if gap.better == "lower" else ""
        table.add_row(
            f"{gap.label}{direction}",
            _figure(gap.value),
            _figure(gap.top_tier_median),
            gap.group,
            signed(gap.spreads, 1),
        )
    return table


def advice_view(advice: Advice) -> Group:
    """Return the advice as Rich renderables: a title, the gaps, the strengths, the people to meet, the customer card, the caveat."""
    parts: list[object] = [
        Text(
            f"Guidance for {advice.name} ({advice.person}), {advice.period}"
            + (f", segment {advice.segment}" if advice.segment else ""),
            style="bold",
        )
    ]
    if advice.gaps:
        parts += [Text(""), _gap_table(advice.gaps, "gaps that matter, largest first")]
    else:
        parts += [Text(""), Text("No gap: you are at or above the top tier's median on every behaviour the study found.")]
    if advice.strengths:
        parts += [Text(""), _gap_table(advice.strengths, "strengths")]
    for title, suggestions in (("Connect with", advice.connect_with), ("Leaders to meet", advice.leaders)):
        if not suggestions:
            continue
        table = terminal.table()
        terminal.words(table, title.lower())
        terminal.words(table, "org")
        terminal.words(table, "why")
        for s in suggestions:
            table.add_row(f"{s.name} <{s.email}>", s.org or "-", s.reason)
        parts += [Text(""), table]
    card = terminal.table()
    terminal.words(card, "customer engagement")
    terminal.figures(card, "you")
    terminal.figures(card, "top tier\nmedian")
    for row in advice.customer["metrics"]:
        direction = " (lower is better)" if row["better"] == "lower" else ""
        card.add_row(f"{row['label']}{direction}", _figure(row["value"]), _figure(row["top_tier_median"]))
    parts += [Text(""), card]
    trend = advice.customer["trend"]
    if "first_half" in trend:
        parts.append(
            Text(
                f"Customer time, first half of the period {plain(trend['first_half'])} h/wk, second half {plain(trend['second_half'])} h/wk"
                + (" (falling late in the period)" if trend["falling"] else ""),
                style="dim",
            )
        )
    parts += [Text(""), Text(advice.caveat, style="dim")]
    return Group(*parts)  # type: ignore[arg-type]
