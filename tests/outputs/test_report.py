"""The HTML report: its figures and tables show the stored study exactly, hide small groups, and open offline in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from repsight.config import CompanyConfig, Config, PrivacyConfig, StudyConfig, load_config
from repsight.errors import StudyError
from repsight.privacy import suppress_small_study_groups
from repsight.report import (
    dynamics_figure,
    headline_figure,
    leading_figure,
    phase1_figure,
    phase2_grid_figure,
    render_report,
    write_report,
)
from repsight.report.figures import axis_label, label
from repsight.study import StudyResult, study_document
from repsight.study.dynamics import dynamics
from tests.support import REPO
from tests.support.study_org import DEMO_LIKE, Plan, rep_period_rows

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "docs" / "screenshots"
"""Where the browser tests keep their screenshots for the docs: only when REPSIGHT_SCREENSHOTS is set (`make screenshots`)."""
HEADLINE = ["customer_hours", "internal_network_size", "senior_leader_hours"]
MINUS = "\u2212"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium (scripts/ensure-chromium.sh)",
)


def config(min_group_size: int = 5) -> Config:
    return Config(
        company=CompanyConfig(domains=["acme.example"]),
        privacy=PrivacyConfig(min_group_size=min_group_size),
        study=StudyConfig(bootstrap_resamples=200),
    )


def stored(document: dict[str, Any], tiers: pd.DataFrame) -> dict[str, Any]:
    """Return the document as `study_results` stores it: JSON, NaN as null."""
    loaded: dict[str, Any] = json.loads(StudyResult(document, tiers, 0.0).to_json())
    return loaded


pytestmark = pytest.mark.xdist_group("report")  # the module's fixtures are built once, on one worker


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """A study of 80 reps over six quarters with the study's planted effects; three reps form a region too small to show."""
    rows = rep_period_rows(Plan(reps=80, effects=DEMO_LIKE))
    rows.loc[rows["person"].isin(sorted(rows["person"].unique())[:3]), "region"] = "LATAM"
    return stored(*study_document(rows, config()))


def weekly(top: dict[int, list[float]], bottom: dict[int, list[float]]) -> pd.DataFrame:
    """Return person-week rows of one quarter: week → each tier's reps' customer hours (the other metrics twice those)."""
    rows = []
    for tier, weeks in ((1, top), (-1, bottom)):
        for week, values in weeks.items():
            for rep, hours in enumerate(values):
                person = f"{'t' if tier > 0 else 'b'}{rep}"
                rows.append(
                    {
                        "person": person,
                        "tier": tier,
                        "week_of_period": week,
                        "customer_hours": hours,
                        "internal_network_size": 2 * hours,
                        "senior_leader_hours": hours / 10,
                    }
                )
    return pd.DataFrame(rows)


# Six top reps with 5 h of customer time a week (6 h in week 3); six bottom reps with 3 h,
# of whom only four have data in week 2: a tier-week below the minimum group of 5.
WEEKS = weekly(
    {w: [5.0] * 5 + [11.0 if w == 3 else 5.0] for w in range(1, 14)},
    {w: [3.0] * (4 if w == 2 else 6) for w in range(1, 14)},
)


@pytest.fixture(scope="module")
def with_weeks(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "dynamics": dynamics(WEEKS, HEADLINE, ["2024Q1"], 5)}


class Tables(HTMLParser):
    """Collects each table's rows (cell texts) by the table's id, and the page's text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def signed(value: float, digits: int = 1, suffix: str = "") -> str:
    return f"{value:+.{digits}f}".replace("-", MINUS) + suffix


def without_plotly(page: str) -> str:
    from plotly.offline import get_plotlyjs

    return page.replace(get_plotlyjs(), "")


# -- the page ------------------------------------------------------------------------------------


def test_phase1_table_shows_every_metric_as_the_document_has_it(document: dict[str, Any]) -> None:
    rows = Tables(render_report(document, config())).tables["phase1-table"]
    assert rows[0] == ["Behaviour", "Top 25%", "Bottom 25%", "Bottom vs top", "95% interval", "rho", "q"]
    metrics = HEADLINE + [m for m in document["phase1"] if m not in HEADLINE]
    assert [r[0].split(" ")[0] for r in rows[1:]] == [label(m).split(" ")[0] for m in metrics]
    customer = document["phase1"]["customer_hours"]
    low, high = customer["ci"]
    assert rows[1] == [
        "Customer time hours/week",
        f"{customer['top_mean']:.2f}",
        f"{customer['bottom_mean']:.2f}",
        signed(customer["bottom_vs_top_pct"], 1, "%"),
        f"{signed(low, 1, '%')} to {signed(high, 1, '%')}",
        signed(customer["rho"], 2),
        "<0.001",
    ]
    # The planted gap, as the study found it on these reps: -22.3% [-28.7%, -15.1%].
    assert rows[1][3:5] == [f"{MINUS}22.3%", f"{MINUS}28.7% to {MINUS}15.1%"]
    manager = document["phase1"]["manager_hours"]
    assert rows[metrics.index("manager_hours") + 1][6] == f"{manager['q']:.3f}"


def _engagement_study(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document with round figures in its engagement rows: the bottom tier replies 39% slower, touches 18% fewer accounts."""
    changed = json.loads(json.dumps(document))
    changed["phase1"]["customer_reply_hours"].update(
        top_mean=3.0, bottom_mean=4.17, bottom_vs_top_pct=39.0, ci=[20.0, 61.5], q=0.002, missing=412
    )
    changed["phase1"]["accounts_touched"].update(
        top_mean=12.5, bottom_mean=10.25, bottom_vs_top_pct=-18.0, ci=[-25.0, -11.0], q=0.0004
    )
    changed["model"]["without_values"] = 412
    return changed


def test_the_engagement_section_reads_each_gap_the_right_way_round(document: dict[str, Any]) -> None:
    page = render_report(_engagement_study(document), config())
    rows = Tables(page).tables["engagement-table"]
    assert rows[0] == ["Behaviour", "Top 25%", "Bottom 25%", "Bottom vs top", "Read as", "95% interval", "q"]
    assert [row[0] for row in rows[1:]] == [
        "Accounts touched accounts",
        "Contacts per account contacts/account",
        "Account cadence share of weeks",
        "Customer reply time median hours; lower is better",
    ]
    assert rows[1] == [
        "Accounts touched accounts",
        "12.50",
        "10.25",
        f"{MINUS}18.0%",
        "18% fewer in the bottom 25%",
        f"{MINUS}25.0% to {MINUS}11.0%",
        "<0.001",
    ]
    # Lower is better: a positive gap is the bottom tier's slower replies.
    assert rows[4] == [
        "Customer reply time median hours; lower is better",
        "3.00",
        "4.17",
        "+39.0%",
        "39% slower in the bottom 25%",
        "+20.0% to +61.5%",
        "0.002",
    ]
    assert "for Customer reply time lower is better, so a positive gap means the Bottom 25% is slower" in page
    assert (
        "412 rep-periods are left out of the customer reply time comparison: "
        "the rep sent no reply to a customer in the period." in page
    )
    assert page.count("412 rep-periods are left out of the model, which needs a value of every behaviour.") == 2
    assert page.index('id="phase1-table"') < page.index('id="engagement-table"') < page.index('id="model-table"')
    # The every-behaviour table says it too.
    phase1 = {row[0]: row for row in Tables(page).tables["phase1-table"][1:]}
    assert phase1["Customer reply time median hours; lower is better"][3] == "+39.0%"
    found, _ = phase1_figure(_engagement_study(document)).data  # q below 0.05: a filled marker
    assert list(found.y)[-2:] == ["Accounts touched", "Customer reply time (lower is better)"]


def test_a_document_stored_before_better_and_missing_reads_the_direction_from_the_catalogue(document: dict[str, Any]) -> None:
    older = _engagement_study(document)
    for row in older["phase1"].values():
        row.pop("better", None)
        row.pop("missing", None)
    del older["model"]["without_values"]
    page = render_report(older, config())
    assert Tables(page).tables["engagement-table"][4][4] == "39% slower in the bottom 25%"
    assert "left out of the" not in page


def test_a_study_without_engagement_metrics_says_so(document: dict[str, Any]) -> None:
    engagement = ("accounts_touched", "contacts_per_account", "account_cadence", "customer_reply_hours")
    without = {**document, "phase1": {m: row for m, row in document["phase1"].items() if m not in engagement}}
    page = render_report(without, config())
    assert "engagement-table" not in page and "This study did not test customer engagement" in page


def test_the_three_behaviours_lead_with_their_gap_interval_and_q(document: dict[str, Any]) -> None:
    page = render_report(document, config())
    for metric in HEADLINE:
        found = document["phase1"][metric]
        low, high = found["ci"]
        q = "&lt;0.001" if found["q"] < 0.001 else f"{found['q']:.3f}"
        card = f"95% interval {signed(low, 1, '%')} to {signed(high, 1, '%')} · q {q}"
        assert f'<div class="gap">{signed(found["bottom_vs_top_pct"], 1, "%")}</div>' in page
        assert card in page, metric


def test_population_and_every_threshold_are_printed(document: dict[str, Any]) -> None:
    tables = Tables(render_report(document, config()))
    thresholds = {row[0]: row[1] for row in tables.tables["thresholds-table"][1:]}
    assert thresholds == {
        "sales_functions": "Sales",
        "tier_fraction": "0.25",
        "bootstrap_resamples": "200",
        "confidence": "0.95",
        "seed": "0",
        "q_threshold": "0.05",
        "heterogeneity_i2": "0.5",
        "min_group_size": "5",
        "segment_by": "region, segment, channel",
        "metrics": ", ".join(document["thresholds"]["metrics"]),
    }
    # Each meaning is the setting's docstring in config.py.
    meanings = {row[0]: row[2] for row in tables.tables["thresholds-table"][1:]}
    assert (
        meanings["q_threshold"]
        == StudyConfig.model_fields["q_threshold"].description
        == ("A Benjamini-Hochberg q-value below this is a finding.")
    )
    assert meanings["sales_functions"] == CompanyConfig.model_fields["sales_functions"].description
    assert meanings["min_group_size"] == PrivacyConfig.model_fields["min_group_size"].description
    assert all(meanings.values()), meanings
    measurement = dict(tuple(row) for row in tables.tables["measurement-table"])
    assert measurement["[metrics] email_sent_minutes"] == "5" and measurement["[company] senior_level"] == "7"
    page = render_report(document, config())
    for fact in (
        "<dt>Reps studied</dt><dd>80</dd>",
        "<dt>Rep-periods</dt><dd>480</dd>",
        "<dt>Periods</dt><dd>2024Q1 to 2025Q2 (6)</dd>",
    ):
        assert fact in page
    tiers = document["tiers"]
    assert f"<dd>{tiers['top_rep_periods']} rep-periods of {tiers['top_reps']} reps</dd>" in page


def test_the_caveat_comes_before_any_chart(document: dict[str, Any]) -> None:
    page = render_report(document, config())
    caveat = page.index(document["caveat"])
    assert page.rindex('<aside class="caveat"', 0, caveat) < caveat < page.index('id="chart-headline"')


def test_a_left_out_segment_is_named_once_and_in_no_figure(document: dict[str, Any]) -> None:
    assert document["phase2"]["region"]["left_out"] == ["LATAM"]
    page = render_report(document, config())
    assert "<li>region: LATAM</li>" in page
    # Named in the list of left-out segments and nowhere else: no cell, hover or axis carries it.
    assert page.count("LATAM") == 1
    assert "LATAM" not in phase2_grid_figure(document).to_json()


def test_a_raised_minimum_group_leaves_out_the_smaller_segments(document: dict[str, Any]) -> None:
    # A segment's smallest group is its smallest tier: APAC's and Partner's are under 13, every other's is not.
    sizes = {
        s: min(v["n_reps"], v["top_reps"], v["bottom_reps"])
        for p in document["phase2"].values()
        for s, v in p["segments"].items()
    }
    assert max(sizes["APAC"], sizes["Partner"]) < 13 <= min(v for s, v in sizes.items() if s not in ("APAC", "Partner"))
    page = render_report(document, config(min_group_size=13))
    assert "<li>region: APAC, LATAM</li>" in page and "<li>channel: Partner</li>" in page
    assert page.count("APAC") == 1 and page.count("Partner") == 1
    shown = suppress_small_study_groups(document, 13)
    grid = phase2_grid_figure(shown)
    assert [list(trace.x) for trace in grid.data] == [["EMEA", "NA"], ["Enterprise", "Mid-Market", "SMB"], ["Direct"]]
    thresholds = Tables(page).tables["thresholds-table"]
    assert thresholds[-1][:2] == ["min_group_size", "13"] and ["min_group_size", "5"] in [r[:2] for r in thresholds]


def test_plotly_is_inlined_once_and_the_page_loads_nothing_from_the_network(with_weeks: dict[str, Any]) -> None:
    from plotly.offline import get_plotlyjs

    page = render_report(with_weeks, config())
    assert page.count(get_plotlyjs()) == 1
    assert page.count("* plotly.js v") == 1
    rest = without_plotly(page)
    # Plotly's own code names URLs (map tiles it would fetch only for maps); the rest of the page names none.
    assert not re.search(r"https?://", rest)
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|@import|url\(", rest, re.IGNORECASE)


def test_every_chart_is_embedded_once_with_its_container(with_weeks: dict[str, Any]) -> None:
    page = render_report(with_weeks, config())
    ids = re.findall(r'<div id="(figure-[^"]+)" class="plotly-graph-div"', page)
    assert ids == [
        "figure-headline",
        "figure-phase1",
        "figure-phase2",
        "figure-dynamics-customer_hours",
        "figure-dynamics-internal_network_size",
        "figure-dynamics-senior_leader_hours",
        "figure-leading",
    ]
    assert page.count("Plotly.newPlot(") == len(ids)


def test_a_study_without_weekly_data_says_so(document: dict[str, Any]) -> None:
    assert document["dynamics"] == {}
    page = render_report(document, config())
    assert "This study holds no weekly data" in page and "figure-dynamics" not in page


def test_a_single_period_says_why_there_are_no_leading_indicators(document: dict[str, Any]) -> None:
    single = {
        **document,
        "population": {**document["population"], "periods": ["2024Q1"]},
        "leading": {test: {"n": 0, "reps": 0, "metrics": {}} for test in ("next_period", "within_person")},
    }
    page = render_report(single, config())
    assert "need reps seen in at least two periods; this study has 1 period." in page
    assert "figure-leading" not in page


def test_segment_specific_verdicts_name_their_differing_segments(document: dict[str, Any]) -> None:
    flagged = json.loads(json.dumps(document))
    test = flagged["phase2"]["region"]["heterogeneity"]["customer_hours"]
    test.update(verdict="segment-specific", differing_segments=["EMEA"], i2=0.81, q=0.004)
    verdicts = Tables(render_report(flagged, config())).tables["verdicts"]
    assert verdicts[0] == ["Behaviour", "region", "segment", "channel"]
    assert verdicts[1][:2] == ["Customer time", "segment-specific: EMEA I² 0.81 · q 0.004"]
    grid = phase2_grid_figure(flagged)
    # EMEA is the region panel's second column; customer time its first row.
    [outline] = grid.layout.shapes
    assert (outline.xref, outline.x0, outline.x1, outline.y0, outline.y1) == ("x", 0.5, 1.5, -0.5, 0.5)


def test_a_named_segment_too_small_for_the_workspace_now_is_not_named(document: dict[str, Any]) -> None:
    flagged = json.loads(json.dumps(document))
    test = flagged["phase2"]["region"]["heterogeneity"]["customer_hours"]
    test.update(verdict="segment-specific", differing_segments=["APAC"], i2=0.81, q=0.004)
    # APAC's smaller tier has fewer than 13 reps: a minimum of 13 leaves it out, by name only.
    page = render_report(flagged, config(min_group_size=13))
    verdicts = Tables(page).tables["verdicts"]
    assert verdicts[1][:2] == ["Customer time", "segment-specific: a segment too small to show I² 0.81 · q 0.004"]
    assert page.count("APAC") == 1 and "<li>region: APAC, LATAM</li>" in page
    assert (
        suppress_small_study_groups(flagged, 13)["phase2"]["region"]["heterogeneity"]["customer_hours"]["differing_segments"]
        == []
    )


# -- the figures ---------------------------------------------------------------------------------


def test_headline_figure_shows_top_and_bottom_means_and_the_gap_with_its_interval(document: dict[str, Any]) -> None:
    figure = headline_figure(document)
    bars, gap = figure.data[:3], figure.data[3]
    for trace, metric in zip(bars, HEADLINE, strict=True):
        found = document["phase1"][metric]
        assert list(trace.x) == ["Top 25%", "Bottom 25%"] and list(trace.y) == [found["top_mean"], found["bottom_mean"]]
    gaps = [document["phase1"][m]["bottom_vs_top_pct"] for m in HEADLINE]
    assert list(gap.y) == ["Customer time", "Internal network", "Senior-leader time"] and list(gap.x) == gaps
    assert list(gap.error_x.array) == [document["phase1"][m]["ci"][1] - g for m, g in zip(HEADLINE, gaps, strict=True)]
    assert list(gap.error_x.arrayminus) == [g - document["phase1"][m]["ci"][0] for m, g in zip(HEADLINE, gaps, strict=True)]
    assert gap.customdata[0][2] == "<0.001"


def test_phase1_figure_fills_the_markers_of_metrics_below_the_q_threshold(document: dict[str, Any]) -> None:
    found, other = phase1_figure(document).data
    significant = [m for m, row in document["phase1"].items() if row["q"] < 0.05]
    assert significant == ["customer_hours", "internal_network_size", "senior_leader_hours"]
    assert list(found.y) == [label(m) for m in significant] and found.marker.symbol == "circle"
    assert len(other.y) == len(document["phase1"]) - 3 and other.marker.symbol == "circle-open"
    assert list(found.x) == [document["phase1"][m]["bottom_vs_top_pct"] for m in significant]


def test_phase2_grid_holds_each_kept_segments_gap(document: dict[str, Any]) -> None:
    grid = phase2_grid_figure(document)
    region = grid.data[0]
    assert list(region.x) == ["APAC", "EMEA", "NA"]
    emea = document["phase2"]["region"]["segments"]["EMEA"]
    assert region.z[0][1] == emea["metrics"]["customer_hours"]["bottom_vs_top_pct"]
    hover = region.hovertext[0][1]
    low, high = emea["metrics"]["customer_hours"]["ci"]
    assert f"region EMEA: {emea['n_reps']} reps" in hover
    assert f"95% interval: {signed(low, 1, '%')} to {signed(high, 1, '%')}" in hover
    assert hover.endswith("across region: consistent")


def test_dynamics_figure_shows_each_tiers_weekly_mean_and_leaves_small_weeks_blank(with_weeks: dict[str, Any]) -> None:
    top, bottom = dynamics_figure(with_weeks, "customer_hours").data
    assert list(top.x) == list(range(1, 14))
    assert list(top.y) == [5.0, 5.0, 6.0] + [5.0] * 10
    # Week 2 has four bottom reps, fewer than the minimum group of 5: no value, and no count either.
    assert list(bottom.y) == [3.0, None] + [3.0] * 11
    assert bottom.customdata[1] is None and list(bottom.customdata[0]) == ["3.00", 6]
    with pytest.raises(ValueError, match="no weekly values of manager_hours"):
        dynamics_figure(with_weeks, "manager_hours")


def test_a_raised_minimum_group_blanks_the_weeks_of_smaller_tiers(with_weeks: dict[str, Any]) -> None:
    shown = suppress_small_study_groups(with_weeks, 6)
    assert shown["dynamics"]["customer_hours"]["bottom"] == [3.0, None] + [3.0] * 11
    assert shown["dynamics"]["bottom_reps"] == [6, None] + [6] * 11
    assert with_weeks["dynamics"]["bottom_reps"][1] == 4
    hidden = suppress_small_study_groups(with_weeks, 7)["dynamics"]["customer_hours"]
    assert hidden == {"top": [None] * 13, "bottom": [None] * 13}


def test_leading_figure_plots_each_coefficient_in_points_of_attainment(document: dict[str, Any]) -> None:
    figure = leading_figure(document)
    coefficients = document["leading"]["within_person"]["metrics"]
    within = [t for t in figure.data if t.xaxis == "x2"]
    plotted = {y: x for trace in within for y, x in zip(trace.y, trace.x, strict=True)}
    assert plotted == {axis_label(document, m): pytest.approx(100 * c["coef"]) for m, c in coefficients.items()}
    assert "Customer reply time (lower is better)" in plotted


def test_figures_of_a_study_without_metrics_say_so(document: dict[str, Any]) -> None:
    empty = {**document, "phase1": {}}
    for make in (headline_figure, phase1_figure, phase2_grid_figure, leading_figure):
        assert make(empty).layout.annotations[0].text == "No study in the workspace yet: run `repsight analyze`."


# -- a real workspace ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Config]:
    """Return a 60-person demo workspace, measured and studied, and a copy of it measured but not yet studied."""
    from repsight.ingest import run_ingest
    from repsight.metrics import run_metrics
    from repsight.study import run_study
    from repsight.synth.demo import create_demo_workspace

    root = tmp_path_factory.mktemp("report")
    studied, _ = create_demo_workspace(root / "studied", people=60, months=3, formats="csv")
    run_ingest(studied)
    run_metrics(studied)
    shutil.copytree(root / "studied", root / "unstudied")
    run_study(studied)
    return studied, load_config(root / "unstudied" / "repsight.toml")


@pytest.fixture(scope="module")
def workspace_report(workspaces: tuple[Config, Config], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "reports" / "report.html"
    result = write_report(workspaces[0], out)
    assert result.path == out and result.bytes == out.stat().st_size
    return out


def test_report_before_analyze_names_the_command_to_run(workspaces: tuple[Config, Config], tmp_path: Path) -> None:
    unstudied = workspaces[1]
    with pytest.raises(StudyError) as raised:
        write_report(unstudied, tmp_path / "report.html")
    assert str(raised.value) == f"no study in the workspace yet: run `repsight analyze -c {unstudied.path}` first"
    assert not (tmp_path / "report.html").exists()


def test_write_report_shows_the_workspace_study(workspaces: tuple[Config, Config], workspace_report: Path) -> None:
    from repsight.report.report import latest_study
    from repsight.store import Store

    config = workspaces[0]
    with Store.open(config, read_only=True) as store:
        document, _ = latest_study(store, config)
    page = workspace_report.read_text(encoding="utf-8")
    rows = Tables(page).tables["phase1-table"]
    assert rows[1][3] == signed(document["phase1"]["customer_hours"]["bottom_vs_top_pct"], 1, "%")
    assert f"<dt>Reps studied</dt><dd>{document['population']['reps']}</dd>" in page
    # One quarter of data: weekly charts for every weekly metric, no leading indicators.
    weekly = [m for m in document["dynamics"] if isinstance(document["dynamics"][m], dict)]
    assert page.count("Plotly.newPlot(") == 3 + len(weekly) == 11
    assert "this study has 1 period." in page
    grid = phase2_grid_figure(suppress_small_study_groups(document, config.privacy.min_group_size)).to_json()
    for attribute, part in document["phase2"].items():
        if part["left_out"]:
            assert f"<li>{attribute}: {', '.join(part['left_out'])}</li>" in page
        for name in part["left_out"]:
            assert f'"{name}"' not in grid


def _renamed(found: Any, old: str, new: str) -> Any:
    """Return parsed JSON with every key `old` renamed `new`, at any depth."""
    if isinstance(found, dict):
        return {(new if k == old else k): _renamed(v, old, new) for k, v in found.items()}
    if isinstance(found, list):
        return [_renamed(v, old, new) for v in found]
    return found


def _stored_again(config: Config, document: Any) -> None:
    """Store `document` (parsed JSON) in place of the workspace's study, as an earlier version would have."""
    import pyarrow as pa

    from repsight.store import Store

    with Store.open(config) as store:
        created = store.to_arrow(store.table("study_results"))["created_at"][0].as_py()
        store.replace("study_results", pa.table({"created_at": [created], "document": [json.dumps(document)]}))


def _copy(config: Config, to: Path) -> Config:
    shutil.copytree(config.root, to)
    return load_config(to / "repsight.toml")


def test_a_study_stored_with_ci95_intervals_is_read_and_reported_with_ci(
    workspaces: tuple[Config, Config], workspace_report: Path, tmp_path: Path
) -> None:
    """A study stored before `ci95` became `ci`: the report, `latest_study` and the notebook read it as today's."""
    import repsight
    from repsight.report.report import latest_study
    from repsight.store import Store

    with Store.open(workspaces[0], read_only=True) as store:
        today, studied_at = latest_study(store, workspaces[0])
    older = _copy(workspaces[0], tmp_path / "older")
    _stored_again(older, _renamed(today, "ci", "ci95"))
    with Store.open(older, read_only=True) as store:
        text = store.to_arrow(store.table("study_results"))["document"][0].as_py()
        assert '"ci95"' in text and '"ci"' not in text
        document, when = latest_study(store, older)
    assert document == today and when == studied_at
    assert document["phase1"]["customer_hours"]["ci"] == today["phase1"]["customer_hours"]["ci"]
    result = write_report(older, tmp_path / "report.html")
    page = result.path.read_text(encoding="utf-8")
    assert result.figures == 11
    expected = Tables(workspace_report.read_text(encoding="utf-8")).tables
    assert Tables(page).tables == expected
    assert repsight.open(older.root).study().document == today


def test_a_stored_study_without_a_part_of_todays_document_asks_for_analyze_again(
    workspaces: tuple[Config, Config], tmp_path: Path
) -> None:
    from repsight.report.report import latest_study
    from repsight.store import Store

    older = _copy(workspaces[0], tmp_path / "older")
    with Store.open(older, read_only=True) as store:
        today, _ = latest_study(store, older)
    partial = {k: v for k, v in today.items() if k not in ("dynamics", "leading")}
    partial["tiers"] = {k: v for k, v in today["tiers"].items() if k != "top_reps"}
    _stored_again(older, partial)
    expected = (
        "the workspace's study was stored by an earlier version of repsight and lacks dynamics, leading, tiers.top_reps: "
        f"run `repsight analyze -c {older.path}` again"
    )
    with pytest.raises(StudyError) as raised:
        write_report(older, tmp_path / "report.html")
    assert str(raised.value) == expected
    assert not (tmp_path / "report.html").exists()


def test_write_report_turns_an_unwritable_path_into_a_study_error(workspaces: tuple[Config, Config], tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    out = tmp_path / "taken" / "report.html"
    with pytest.raises(StudyError) as raised:
        write_report(workspaces[0], out)
    assert str(raised.value) == f"{out}: cannot write the report: {tmp_path / 'taken'} is a file, not a folder"
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(StudyError, match=re.escape(f"{tmp_path / 'folder.html'}: cannot write the report: Is a directory")):
        write_report(workspaces[0], tmp_path / "folder.html")


# -- in a real browser ---------------------------------------------------------------------------


def open_offline(report: Path, screenshot: Path | None = None) -> dict[str, Any]:
    """Open `report` in Chromium with every request but file:// refused; return what was refused, errors and each chart's marks."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    errors: list[str] = []

    def only_files(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.route("**/*", only_files)
            page.goto(report.resolve().as_uri(), wait_until="load")
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(div => ({
                    id: div.id,
                    svg: div.querySelectorAll('svg.main-svg').length,
                    marks: div.querySelectorAll('.scatterlayer .point, .barlayer .point, .heatmaplayer image').length,
                }))"""
            )
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {"refused": refused, "errors": errors, "charts": charts}


@pytest.mark.browser
@needs_chromium
def test_the_workspace_report_opens_offline_in_chromium_with_every_chart_drawn(workspace_report: Path, tmp_path: Path) -> None:
    found = open_offline(workspace_report, tmp_path / "report.png")
    assert found["refused"] == [] and found["errors"] == []
    assert len(found["charts"]) == 11
    for chart in found["charts"]:
        assert chart["svg"] > 0 and chart["marks"] > 0, chart
    assert (tmp_path / "report.png").stat().st_size > 0
    # The tracked screenshot in docs/ changes only when asked for (`make screenshots`), not on every test run.
    if os.environ.get("REPSIGHT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "report.png", SCREENSHOTS / "report.png")


@pytest.mark.browser
@needs_chromium
def test_a_report_with_weekly_data_and_leading_indicators_draws_every_chart_offline(
    with_weeks: dict[str, Any], tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_report(with_weeks, config()), encoding="utf-8")
    found = open_offline(report)
    assert found["refused"] == [] and found["errors"] == []
    marks = {chart["id"]: chart["marks"] for chart in found["charts"] if chart["svg"] > 0}
    metrics = len(with_weeks["phase1"])
    assert marks == {
        "figure-headline": 3 * 2 + 3,
        "figure-phase1": metrics,
        "figure-phase2": 3,
        # 13 weeks of two tiers, less the bottom tier's week 2 (too few reps).
        "figure-dynamics-customer_hours": 25,
        "figure-dynamics-internal_network_size": 25,
        "figure-dynamics-senior_leader_hours": 25,
        "figure-leading": sum(len(with_weeks["leading"][t]["metrics"]) for t in ("next_period", "within_person")),
    }
