"""The study in a terminal: phase 1's table with phase 2's reading per behaviour, read from the study document."""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from repsight import terminal
from repsight.metrics.catalog import HEADLINE, label, metric
from repsight.report.numbers import bracketed, count, is_missing, percent, plain, q_value, signed
from repsight.report.numbers import terminal as ascii_signs
from repsight.study.document import (
    CONSISTENT,
    SEGMENT_SPECIFIC,
    UNTESTED,
    Comparison,
    StudyDocument,
    differing_segments,
)

__all__ = ["StudyView", "digest_table", "direction_notes", "phase2_reading", "study_view", "tier_name"]


def tier_name(fraction: float) -> str:
    """Return how a tier of `fraction` of the reps is called: "quarter" for 0.25, else a percentage ("20%")."""
    return "quarter" if abs(fraction - 0.25) < 1e-9 else f"{fraction:.0%}"


def phase2_reading(document: StudyDocument, name: str) -> Text:
    """Return phase 2's reading of metric `name` over every segmenting attribute, from the document's verdicts.

    "segment-specific: region (APAC)" where any attribute's verdict is
    segment-specific (with the segments that differ), else "consistent"
    (naming the attributes that could not be tested), else "untested".
    """
    phase2 = document["phase2"]
    if not phase2:
        return Text("no segments", style="dim")
    specific: list[str] = []
    consistent: list[str] = []
    untested: list[str] = []
    for attribute, part in phase2.items():
        found = part["heterogeneity"].get(name)
        verdict = found["verdict"] if found is not None else UNTESTED
        if found is not None and verdict == SEGMENT_SPECIFIC:
            specific.append(f"{attribute} ({differing_segments(found['differing_segments'])})")
        elif verdict == CONSISTENT:
            consistent.append(attribute)
        else:
            untested.append(attribute)
    if specific:
        return Text.assemble((f"{SEGMENT_SPECIFIC}:", "yellow"), " ", "; ".join(specific))
    if consistent:
        reading = Text(CONSISTENT, style="green")
        if untested:
            reading.append(f" ({', '.join(untested)} {UNTESTED})", style="dim")
        return reading
    return Text(UNTESTED, style="dim")


def _periods(periods: list[str]) -> tuple[str, str]:
    """Return how many periods, and which: ("3 periods", "(2024Q3 to 2025Q1)"); the second is kept whole on a line."""
    if not periods:
        return "no periods", ""
    if len(periods) == 1:
        return "1 period", f"({periods[0]})"
    return f"{len(periods)} periods", f"({periods[0]} to {periods[-1]})"


def study_view(document: StudyDocument) -> StudyView:
    """Return the study for a terminal: a title, one row per metric (headline behaviours first), a key and the caveat."""
    return StudyView(document)


class StudyView:
    """The study as a terminal shows it, laid out for the console's width.

    Phase 2's reading is the table's last column where the whole table fits
    the width; where it does not (a long "segment-specific: …" in 80
    columns), the readings follow in a table of their own, so that no figure
    and no word of a reading is ever cut.
    """

    def __init__(self, document: StudyDocument) -> None:
        self.document = document

    def _phase1(self, *, with_phase2: bool) -> Table:
        document = self.document
        thresholds, phase1 = document["thresholds"], document["phase1"]
        table = terminal.table()
        terminal.words(table, "behaviour")
        terminal.figures(table, "top")
        terminal.figures(table, "bottom")
        terminal.figures(table, "bottom\nvs top")
        terminal.figures(table, f"{thresholds['confidence']:.0%} CI")
        terminal.figures(table, "rho")
        terminal.figures(table, "q")
        if with_phase2:
            terminal.words(table, "phase 2")
        threshold = thresholds["q_threshold"]
        for name, first_other in _in_order(phase1):
            if first_other:
                table.add_section()
            row = phase1[name]
            q = row["q"]
            cells: list[RenderableType] = [
                Text(_heading(name), style="dim" if is_missing(q) or q >= threshold else "bold"),
                ascii_signs(plain(row["top_mean"])),
                ascii_signs(plain(row["bottom_mean"])),
                ascii_signs(percent(row["bottom_vs_top_pct"])),
                ascii_signs(bracketed(row["ci"])),
                ascii_signs(signed(row["rho"], 2)),
                ascii_signs(q_value(q)),
            ]
            if with_phase2:
                cells.append(phase2_reading(document, name))
            table.add_row(*cells)
        return table

    def _phase2(self) -> Table:
        table = terminal.table()
        terminal.words(table, "behaviour")
        terminal.words(table, "reading")
        for name, _ in _in_order(self.document["phase1"]):
            table.add_row(_heading(name), phase2_reading(self.document, name))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        document = self.document
        population, thresholds = document["population"], document["thresholds"]
        tier = tier_name(thresholds["tier_fraction"])
        attributes = ", ".join(thresholds["segment_by"]) or "no attribute"
        periods, which = _periods(population.get("periods", []))
        reps = count(population.get("reps", 0))
        title = f"The study: bottom vs top {tier} of sellers, {reps} reps over {periods} {which}".rstrip()
        table = self._phase1(with_phase2=True)
        natural = Measurement.get(console, options.update(width=10_000), table).maximum
        if natural <= options.max_width:
            yield terminal.titled(title, table, whole=[which])
        else:
            yield terminal.titled(title, self._phase1(with_phase2=False), whole=[which])
            yield Text("")
            yield terminal.titled(f"Phase 2: by {attributes}", self._phase2())
        yield Text("")
        yield Text(
            f"top, bottom: the highest and lowest {tier} of each period's reps by attainment; bottom vs top: "
            f"the bottom's mean against the top's, with its {thresholds['confidence']:.0%} bootstrap interval; "
            f"rho: rank correlation with attainment; q: Benjamini-Hochberg, a finding where q < "
            f"{thresholds['q_threshold']} (bold); phase 2: the reading across the segments of {attributes}. "
            "`repsight analyze --json FILE` writes every figure.",
            style="dim",
        )
        for note in direction_notes(document["phase1"]):
            yield Text(note, style="dim")
        if absent := document.get("absent"):
            said = ", ".join(label(m) for m in absent)
            yield Text(
                f"Not in the data, so not tested: {said} (docs/viva.md says which metrics a source measures).", style="dim"
            )
        if "digest" in document:
            yield Text("")
            yield digest_table(document["digest"])
        yield Text.assemble(("Caveat:", "bold"), " ", document["caveat"])


def digest_table(found: dict[str, Any]) -> RenderableType:
    """Return the digest's measured effect: each behaviour's change for recipients against the holdout, with its interval."""
    table = terminal.table()
    terminal.words(table, "digest effect")
    terminal.figures(table, "recipients\nchange")
    terminal.figures(table, "holdout\nchange")
    terminal.figures(table, "effect")
    terminal.figures(table, "interval")
    terminal.figures(table, "p")
    rows = [(name, row) for name, row in found["metrics"].items()]
    if found.get("attainment") is not None:
        rows.append(("attainment", found["attainment"]))
    for name, row in rows:
        table.add_row(
            _heading(name),
            ascii_signs(signed(row["recipients_change"], 2)),
            ascii_signs(signed(row["holdout_change"], 2)),
            ascii_signs(signed(row["effect"], 2)),
            ascii_signs(bracketed(row["ci"], 2) or "-"),
            ascii_signs(q_value(row["p"])),
        )
    title = (
        f"The digest, measured: {count(found['held_out'])} reps held out for {found['holdout_weeks']} weeks "
        f"from {found['first_week']}; each behaviour's change from before to after, recipients against the holdout"
    )
    return terminal.titled(title, table)


def direction_notes(phase1: dict[str, Comparison]) -> list[str]:
    """Return a sentence per metric that is better lower (a reply time), and per metric with rep-periods left out for want of a value."""
    notes = []
    for name, row in phase1.items():
        found = metric(name)
        lower = row.get("better", "lower" if found is not None and found.lower_is_better else "higher") == "lower"
        missing = int(row.get("missing", 0))
        said = [f"{_heading(name)}: lower is better; a positive bottom vs top means the bottom is slower"] if lower else []
        if missing:
            said.append(f"{count(missing)} rep-periods without a value are left out of it")
        if said:
            sentence = "; ".join(said)
            notes.append(sentence[0].upper() + sentence[1:] + ".")
    return notes


def _heading(name: str) -> str:
    found = metric(name)
    return found.heading if found else name


def _in_order(phase1: dict[str, Comparison]) -> list[tuple[str, bool]]:
    """Return the metrics of phase 1, the headline behaviours first, each with whether it starts the other metrics."""
    headline = [name for name in HEADLINE if name in phase1]
    others = [name for name in phase1 if name not in HEADLINE]
    return [(name, False) for name in headline] + [(name, bool(headline) and i == 0) for i, name in enumerate(others)]
