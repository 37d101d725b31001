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
from repsight.study.document import TOO_SMALL, differing_segments
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
    # A verdict whose named segments were all suppressed (too small for the workspace's minimum now): as the report says it.
    unnamed: Any = document({"region": {m: heterogeneity("segment-specific") for m in METRICS}})
    assert phase2_reading(unnamed, "org_span").plain == "segment-specific: region (a segment too small to show)"
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
    if width >= len(title):
        assert lines[0] == title
    else:  # the period range is one unit: it moves to the next line whole
        assert lines[:2] == ["The study: bottom vs top quarter of sellers, 1,013 reps over 3 periods", "(2024Q3 to 2025Q1)"]


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
    rows: list[dict[str, Any]] = [
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


def test_a_verdict_without_a_segment_left_to_name_reads_alike_in_the_terminal_and_the_notebook() -> None:
    from repsight.notebook import _verdict_table

    assert differing_segments(["APAC", "EMEA"]) == "APAC, EMEA"
    assert differing_segments([]) == TOO_SMALL == "a segment too small to show"  # the report's and docs/study.md's words
    study: Any = document({"region": {m: heterogeneity("segment-specific") for m in METRICS}})
    study["phase2"]["region"]["segments"] = {"NA": {}}
    table = _verdict_table(study)
    assert table is not None
    assert set(table["region"]) == {f"segment-specific: {TOO_SMALL}"}
    assert phase2_reading(study, "customer_hours").plain == f"segment-specific: region ({TOO_SMALL})"


@pytest.mark.parametrize("width", [40, 60, 80])
def test_a_title_wraps_at_spaces_but_keeps_its_period_range_whole(width: int) -> None:
    from rich.text import Text

    from repsight import terminal

    title = "The study: bottom vs top quarter of sellers, 1,013 reps over 3 periods (2024Q3 to 2025Q1)"
    lines = rendered(terminal.titled(title, Text("body"), whole=["(2024Q3 to 2025Q1)"]), width)
    assert lines[-1] == "body"
    assert all(len(line) <= width for line in lines)
    assert " ".join(lines[:-1]) == title
    assert "(2024Q3 to 2025Q1)" in lines[-2]
    # Styles survive the wrapping (the title is bold in a terminal).
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="standard")
    console.print(terminal.titled(title, Text("body")))
    assert "\x1b[1m" in console.file.getvalue()  # type: ignore[attr-defined]


TIMESTAMP = "'2024-13-45T99:99:99.123456+00:00'"


def quarantine_list(*records: tuple[str, str, str, str], total: int | None = None) -> Any:
    from pathlib import Path

    from repsight.workspace import QuarantinedRecord, QuarantineList

    root = Path("/workspace")
    found = [QuarantinedRecord(root / source, position, field, reason) for source, position, field, reason in records]
    return QuarantineList(root, found, len(found) if total is None else total)


def test_quarantine_keeps_timestamps_dates_and_file_names_whole_in_80_columns() -> None:
    listing = quarantine_list(
        ("calendar/export-2024-01-05.csv", "row 12,345", "start", f"{TIMESTAMP} is not an ISO 8601 timestamp"),
        ("kpis/kpis-2024-06-30.csv", "row 7", "period", "'2024Q5' is not a period: 2024-06-30 is in 2024Q2"),
        total=3,
    )
    lines = rendered(listing, 80)
    text = "\n".join(lines)
    assert all(len(line) <= 80 for line in lines), text
    assert "…" not in text
    for token in (TIMESTAMP, "export-2024-01-05.csv", "kpis-2024-06-30.csv", "2024-06-30", "12,345"):
        assert any(token in line for line in lines), (token, text)
    assert lines[0] == "Quarantine (3 records)" and lines[-1] == "1 more; use --limit"


def test_a_file_name_in_a_reason_stays_whole_and_a_long_path_wraps_after_a_slash() -> None:
    inner = "mail/2024-03-01/archive-2024-03-01.mbox"
    listing = quarantine_list(
        (inner, "message 1,234", "date", f"'Mon, 45 Foo 2024 99:99:99 +0000' is not a date in {inner} ({TIMESTAMP})"),
    )
    lines = rendered(listing, 80)
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    assert any(inner in line for line in lines), "\n".join(lines)  # in the reason: one word, whole
    assert any(TIMESTAMP in line for line in lines), "\n".join(lines)
    # In the file column, a name too long for it wraps after a "/", its dates whole.
    long_path = "mail/exports/2024-03-01/archive-03.mbox"
    listing = quarantine_list((long_path, "message 1,234", "date", f"{TIMESTAMP} is not a date; " + "more words " * 6))
    lines = rendered(listing, 80)
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    assert any(TIMESTAMP in line for line in lines), "\n".join(lines)
    names = [line.split(" ")[0] for line in lines[3:] if line and not line.startswith(" ")]
    assert "".join(names) == long_path and len(names) > 1, "\n".join(lines)
    assert all(name.endswith("/") for name in names[:-1]) and names[-1] == "archive-03.mbox", "\n".join(lines)


def test_a_words_column_is_never_narrower_than_its_longest_word_while_the_table_can_fit() -> None:
    from rich.text import Text

    from repsight import terminal

    table = terminal.table()
    terminal.words(table, "a")
    terminal.words(table, "b")
    terminal.figures(table, "n")
    long_words = " ".join(["word"] * 30)
    table.add_row(Text(long_words), Text(f"short words then {TIMESTAMP} and more words after it"), "218,409")
    lines = rendered(table, 60)
    assert all(len(line) <= 60 for line in lines)
    assert any(TIMESTAMP in line for line in lines), "\n".join(lines)
    assert any(line.endswith("218,409") for line in lines)
    # Only a table that cannot fit at all folds a word: the width is kept.
    assert all(len(line) <= 20 for line in rendered(table, 20))


def test_results_render_themselves() -> None:
    from datetime import date, datetime
    from pathlib import Path

    from repsight.export import ExportResult
    from repsight.metrics import MetricsReport
    from repsight.report import ReportResult
    from repsight.workspace import LoadedFile, WorkspaceStatus

    exported = ExportResult(Path("out[1]/m.csv"), 1234, ["person", "week"], "person_week")
    assert rendered(exported, 80) == ["Wrote 1,234 rows of person_week (2 columns) to out[1]/m.csv"]
    assert rendered(ReportResult(Path("[x]/report.html"), 4_700_000, 9), 80) == [
        "Wrote the report (4.7 MB, 9 charts) to [x]/report.html"
    ]
    measured = MetricsReport("duckdb", "quarter", date(2024, 7, 1), date(2024, 9, 30), 60, 780, 60, ["2024Q3"], 1.0)
    summary = rendered(measured, 80)
    assert summary[0].startswith("Measured 60 people") and not any("quartile" in line for line in summary)  # none computed
    rows = [{"quartile": q, "people": 15, "person_periods": 15, **dict.fromkeys(HEADLINE, float(q))} for q in (1, 2, 3, 4)]
    with_headline = rendered(MetricsReport(**{**measured.__dict__, "headline": rows, "min_group_size": 5}), 80)
    joined = [" ".join(line.split()) for line in with_headline]
    assert joined[0].startswith("Measured 60 people") and "lowest vs top -75% -75% -75%" in joined
    root = Path("/workspace")
    status = WorkspaceStatus(
        root / "repsight.duckdb",
        root,
        {"people": 5, "quarantine": 1},
        [
            LoadedFile(root / "roster.csv", 6, 1, 1, datetime(2025, 1, 7, 9, 30), changed=2, removed=3),
            LoadedFile(root / "mail/export-2024-01-05.mbox", 100, 40, 0, None),
        ],
    )
    joined = [" ".join(line.split()) for line in rendered(status, 100)]
    # read, new, changed, removed, quarantined
    assert "people 5" in joined and "roster.csv 6 1 2 3 1 2025-01-07 09:30" in joined
    assert "mail/export-2024-01-05.mbox 100 40 0 0 0 interrupted" in joined
    assert joined[-1].startswith("note: an interrupted load kept whole batches")
