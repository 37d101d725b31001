"""The stage results as a terminal shows them, rendered in-process at a given width: whole figures, words wrapped at spaces."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from rich.console import Console

from repsight.metrics.catalog import CATALOG, HEADLINE
from repsight.metrics.render import headline_table
from repsight.report.numbers import bracketed, count, percent, terminal
from repsight.study.render import phase2_reading, study_view

HEADINGS = {m.name: m.heading for m in CATALOG}
METRICS = [*HEADLINE, "org_span", "after_hours_collaboration_hours"]


def rendered(renderable: Any, width: int) -> list[str]:
    """Return the lines `renderable` prints on a console `width` wide that is not a terminal (a pipe)."""
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(renderable)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[" not in text
    return [line.rstrip() for line in text.splitlines()]


def heterogeneity(verdict: str, differing: list[str] | None = None) -> dict[str, Any]:
    return {
        "p": 0.01,
        "q": 0.02,
        "i2": 0.7,
        "slopes": {},
        "verdict": verdict,
        "consensus_pct": -20.0,
        "differing_segments": differing or [],
    }


def document(verdicts: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Return a study document with wide intervals (three-digit bounds) and phase 2's `verdicts` (attribute → metric → heterogeneity)."""
    phase1 = {
        name: {
            "top_mean": 21.657 + i,
            "bottom_mean": 17.18,
            "bottom_vs_top_pct": -23.4 + 40 * i,
            "ci": [-126.2, 118.9 + i],
            "se": 3.0,
            "rho": 0.514 - 0.3 * i,
            "p": 0.0001,
            "q": 0.0004 if i < 2 else 0.36,
        }
        for i, name in enumerate(METRICS)
    }
    phase1["org_span"]["ci"] = [math.nan, math.nan]  # an interval that does not exist
    return {
        "population": {"reps": 1013, "rep_periods": 5900, "periods": ["2024Q3", "2024Q4", "2025Q1"]},
        "thresholds": {
            "sales_functions": ["Sales"],
            "tier_fraction": 0.25,
            "bootstrap_resamples": 2000,
            "confidence": 0.95,
            "seed": 0,
            "q_threshold": 0.05,
            "heterogeneity_i2": 0.5,
            "min_group_size": 5,
            "segment_by": list(verdicts),
            "metrics": METRICS,
        },
        "tiers": {"top_rep_periods": 1, "bottom_rep_periods": 1, "top_reps": 1, "bottom_reps": 1},
        "phase1": phase1,
        "model": {},
        "phase2": {
            attribute: {"segments": {}, "left_out": [], "heterogeneity": {m: by[m] for m in METRICS if m in by}}
            for attribute, by in verdicts.items()
        },
        "dynamics": {},
        "leading": {},
        "caveat": "These are associations between behaviour and attainment, not proof.",
    }


SPECIFIC = {
    "region": {
        m: heterogeneity("segment-specific", ["APAC"]) if m == "senior_leader_hours" else heterogeneity("consistent")
        for m in METRICS
    },
    "segment": {m: heterogeneity("consistent") for m in METRICS},
    "channel": {
        m: heterogeneity("segment-specific", ["Partner", "Direct"]) if m == "customer_hours" else heterogeneity("untested")
        for m in METRICS
    },
}


def test_terminal_figures_use_ascii_signs_and_keep_the_reports_rounding() -> None:
    assert percent(-23.4) == "\u221223%" and terminal(percent(-23.4)) == "-23%"
    assert terminal(bracketed([-26.2, -18.9])) == "[-26, -19]"
    assert terminal(bracketed([0.2, 101.0])) == "[+0, +101]"
    assert bracketed([math.nan, 3.0]) == "" and bracketed(None) == ""
    assert count(218409) == "218,409"
    assert terminal(percent(None)) == "-"


def test_phase2_reading_comes_from_the_documents_verdicts() -> None:
    study: Any = document(SPECIFIC)
    assert phase2_reading(study, "senior_leader_hours").plain == "segment-specific: region (APAC)"
    assert phase2_reading(study, "customer_hours").plain == "segment-specific: channel (Partner, Direct)"
    assert phase2_reading(study, "internal_network_size").plain == "consistent (channel untested)"
    untested: Any = document({"region": {m: heterogeneity("untested") for m in METRICS}})
    assert phase2_reading(untested, "customer_hours").plain == "untested"
    unnamed: Any = document({"region": {m: heterogeneity("segment-specific") for m in METRICS}})
    assert phase2_reading(unnamed, "org_span").plain == "segment-specific: region (no single segment)"
    assert phase2_reading(document({}), "customer_hours").plain == "no segments"  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [80, 100, 200])
def test_the_study_fits_the_width_with_every_figure_and_reading_whole(width: int) -> None:
    study: Any = document(SPECIFIC)
    lines = rendered(study_view(study), width)
    joined = [" ".join(line.split()) for line in lines]
    assert all(len(line) <= width for line in lines), "\n".join(lines)
    for i, name in enumerate(METRICS):
        row = next(line for line in joined if line.startswith(HEADINGS[name] + " "))
        if name != "org_span":
            assert f"[-126, +{119 + i}]" in row, row
        assert f"{21.657 + i:.2f} 17.18" in row
    for reading in ("segment-specific: region (APAC)", "segment-specific: channel (Partner, Direct)"):
        assert any(line.endswith(reading) for line in joined), "\n".join(lines)
    # An interval that does not exist leaves its cell empty; the other figures stay in their columns.
    assert next(line for line in joined if line.startswith(HEADINGS["org_span"] + " ")).startswith(
        f"{HEADINGS['org_span']} 24.66 17.18 +97% -0.39 0.360"
    )
    assert "…" not in "\n".join(lines)
    title = "The study: bottom vs top quarter of sellers, 1,013 reps over 3 periods (2024Q3 to 2025Q1)"
    assert " ".join(" ".join(lines[:2]).split()).startswith(title)


def test_in_80_columns_long_readings_follow_the_figures_in_a_table_of_their_own() -> None:
    study: Any = document(SPECIFIC)
    narrow = [" ".join(line.split()) for line in rendered(study_view(study), 80)]
    assert "Phase 2: by region, segment, channel" in narrow
    assert f"{HEADINGS['senior_leader_hours']} segment-specific: region (APAC)" in narrow
    wide = [" ".join(line.split()) for line in rendered(study_view(study), 200)]
    assert "Phase 2: by region, segment, channel" not in wide
    leaders = next(line for line in wide if line.startswith(HEADINGS["senior_leader_hours"] + " "))
    assert leaders.endswith("[-126, +121] -0.09 0.360 segment-specific: region (APAC)"), leaders
    # With short readings the whole study is one table in 80 columns.
    consistent: Any = document({"region": {m: heterogeneity("consistent") for m in METRICS}})
    one = [" ".join(line.split()) for line in rendered(study_view(consistent), 80)]
    assert any(line.startswith(HEADINGS["customer_hours"] + " ") and line.endswith(" consistent") for line in one)


def test_headline_table_says_which_quartiles_are_too_small_and_fits_80_columns() -> None:
    rows = [
        {"quartile": 1, "people": 4, "person_periods": 4, **dict.fromkeys(HEADLINE, None)},
        {"quartile": 2, "people": 7, "person_periods": 9, **dict.fromkeys(HEADLINE, 2.0)},
        {"quartile": 4, "people": 1234, "person_periods": 2000, **dict.fromkeys(HEADLINE, 4.0)},
    ]
    lines = rendered(headline_table(rows, 5), 80)
    joined = [" ".join(line.split()) for line in lines]
    assert all(len(line) <= 80 for line in lines)
    assert "1 (lowest) 4 fewer than 5 fewer than 5 fewer than 5" in joined
    assert "4 (top) 1,234 4.00 4.00 4.00" in joined
    assert "lowest vs top - - -" in joined


def test_ingest_table_keeps_six_digit_counts_whole_in_80_columns() -> None:
    from pathlib import Path

    from repsight.ingest import FileResult, IngestReport

    root = Path("/workspace")
    report = IngestReport(
        files=[
            FileResult("mail", root / "mail/export-002", read=141_798, loaded=141_790, new=137_249, quarantined=8, seconds=2.5),
            FileResult("calendar", root / "calendar/export-003.json", read=15_137, loaded=15_137, new=12_151, seconds=0.8),
            FileResult("calendar", root / "calendar/export-004.ics", error="calendar/export-004.ics: not iCalendar"),
        ],
        notes=["mail: no file matches mail/*.mbox"],
    )
    lines = rendered(report.render(root), 80)
    joined = [" ".join(line.split()) for line in lines]
    assert all(len(line) <= 80 for line in lines)
    assert "mail mail/export-002 141,798 141,790 137,249 8 2.5" in joined
    assert "calendar calendar/export-003.json 15,137 15,137 12,151 0 0.8" in joined
    assert "total 156,935 156,927 149,400 8 3.3" in joined
    assert "calendar calendar/export-004.ics not loaded" in " ".join(joined)  # wrapped at a space, if at all
    assert joined[-1] == "note: mail: no file matches mail/*.mbox"
