"""The notebook API on a real workspace: its DataFrames are the stored tables, its study the stored document, its charts the report's."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

import repsight
from repsight.config import Config, PrivacyConfig, load_config
from repsight.errors import ConfigError, MetricsError, StoreError, StudyError
from repsight.notebook import Workspace
from repsight.privacy import pseudonym, read_key
from repsight.store import Store
from tests.support import REPO

HR = ["manager", "org", "level", "function", "region", "segment", "channel", "hire_date", "leave_date", "timezone"]
HEADLINE = ["customer_hours", "internal_network_size", "senior_leader_hours"]
MINUS = "\u2212"


class Stages:
    """One demo workspace at each stage: loaded only, measured, and measured and studied."""

    def __init__(self, ingested: Config, measured: Config, studied: Config) -> None:
        self.ingested, self.measured, self.studied = ingested, measured, studied


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> Stages:
    """Return a 60-person, 3-month demo company after `ingest`, after `metrics`, and after `analyze`."""
    from repsight.ingest import run_ingest
    from repsight.metrics import run_metrics
    from repsight.study import run_study
    from repsight.synth.demo import create_demo_workspace

    root = tmp_path_factory.mktemp("notebook")
    config, _ = create_demo_workspace(root / "studied", people=60, months=3, formats="csv")
    assert run_ingest(config).ok
    shutil.copytree(root / "studied", root / "ingested")
    run_metrics(config)
    shutil.copytree(root / "studied", root / "measured")
    run_study(config)
    return Stages(load_config(root / "ingested"), load_config(root / "measured"), config)


@pytest.fixture(scope="module")
def stored(stages: Stages) -> dict[str, pd.DataFrame]:
    """Return the studied workspace's tables as the store gives them."""
    with Store.open(stages.studied, read_only=True) as store:
        return {
            name: store.to_pandas(store.table(name))
            for name in ("person_week", "person_period", "people", "kpis", "study_results")
        }


def _format(number: float, suffix: str = "%") -> str:
    """Write a gap as the report does, independently of repsight.report.numbers: −28.8%."""
    return f"{number:+.1f}{suffix}".replace("-", MINUS)


def _q(q: float) -> str:
    return "<0.001" if q < 0.001 else f"{q:.3f}"


# -- the tables ----------------------------------------------------------------------------------


def test_person_week_is_the_stored_table_with_each_persons_hr_attributes(stages: Stages, stored: dict[str, pd.DataFrame]) -> None:
    weeks = repsight.open(stages.studied.root).person_week()
    expected = (
        stored["person_week"]
        .merge(stored["people"][["person", *HR]], on="person", how="left")
        .sort_values(["person", "week"])
        .reset_index(drop=True)
    )
    assert list(weeks.columns) == [*stored["person_week"].columns, *HR]
    assert len(weeks) == len(stored["person_week"]) == 836
    pd.testing.assert_frame_equal(weeks, expected)


def test_hr_attributes_are_attached_by_pseudonym_as_the_roster_gives_them(stages: Stages) -> None:
    """The oracle is the roster file itself: each email's pseudonym carries that row's org, level and function."""
    weeks = repsight.open(stages.studied.path).person_week()
    key = read_key(stages.studied.key_path)
    with (stages.studied.root / "roster.csv").open(encoding="utf-8") as handle:
        roster = {pseudonym(key, row["email"]): row for row in csv.DictReader(handle)}
    people = weeks.drop_duplicates("person").set_index("person")
    assert len(people) == 60
    for person, row in people.iterrows():
        expected = roster[str(person)]
        assert (row["org"], int(row["level"]), row["function"], str(row["hire_date"])) == (
            expected["org"],
            int(expected["level"]),
            expected["function"],
            expected["hire_date"],
        )


def test_person_period_carries_the_kpis_attainment_where_one_exists(stages: Stages, stored: dict[str, pd.DataFrame]) -> None:
    periods = repsight.open(stages.studied.root).person_period()
    assert list(periods.columns) == [*stored["person_period"].columns, *HR, "attainment"]
    expected = stored["person_period"].sort_values(["person", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(periods[list(expected.columns)], expected)
    kpis = stored["kpis"].set_index(["person", "period"])["attainment"]
    with_kpi = periods.set_index(["person", "period"])["attainment"].dropna()
    assert len(with_kpi) == 29
    assert with_kpi.to_dict() == kpis.loc[with_kpi.index].to_dict()
    # Every rep-period the KPIs cover and the metrics measured has its attainment; no other row has one.
    both = kpis.index.intersection(periods.set_index(["person", "period"]).index)
    assert sorted(with_kpi.index) == sorted(both)


def test_attainment_is_bookings_over_quota_of_the_kpi_file(stages: Stages) -> None:
    periods = repsight.open(stages.studied.root).person_period().dropna(subset=["attainment"])
    key = read_key(stages.studied.key_path)
    with (stages.studied.root / "kpis.csv").open(encoding="utf-8") as handle:
        rows = {
            (pseudonym(key, r["email"]), r["period"]): float(r["bookings"]) / float(r["quota"]) for r in csv.DictReader(handle)
        }
    found = {(p, q): a for p, q, a in periods[["person", "period", "attainment"]].itertuples(index=False)}
    assert found == pytest.approx({k: rows[k] for k in found}, rel=1e-12)


# -- the study and its figures -------------------------------------------------------------------


def test_study_is_the_stored_json_document(stages: Stages, stored: dict[str, pd.DataFrame]) -> None:
    study = repsight.open(stages.studied.root).study()
    row = stored["study_results"].iloc[0]
    assert study.document == json.loads(row["document"])
    assert study.studied_at == row["created_at"].to_pydatetime().replace(tzinfo=UTC)
    assert study.min_group_size == 5
    reps, rep_periods = study.document["population"]["reps"], study.document["population"]["rep_periods"]
    assert repr(study) == f"<Study of {reps} reps, {rep_periods} rep-periods, run {study.studied_at:%Y-%m-%d %H:%M} UTC>"
    assert list(study.phase1().index[:3]) == HEADLINE
    assert (
        study.phase1().loc["customer_hours", "bottom_vs_top_pct"]
        == study.document["phase1"]["customer_hours"]["bottom_vs_top_pct"]
    )
    assert study.phase1().loc["customer_reply_hours", "better"] == "lower"
    assert study.phase1().loc["customer_hours", ["better", "missing"]].tolist() == ["higher", 0]


def report_chart(shown: Any, name: str) -> go.Figure:
    """Return the report's chart `name` of a suppressed study, drawn by repsight.report.figures."""
    from repsight.report import figures

    if name.startswith("dynamics-"):
        return figures.dynamics_figure(shown, name.removeprefix("dynamics-"))
    draw = {
        "headline": figures.headline_figure,
        "phase1": figures.phase1_figure,
        "phase2": figures.phase2_grid_figure,
        "leading": figures.leading_figure,
    }[name]
    return draw(shown)


def test_every_named_figure_is_the_reports_own_chart_of_the_suppressed_study(stages: Stages) -> None:
    from repsight.report import figures

    ws = repsight.open(stages.studied.root)
    study = ws.study()
    document = study.document
    weekly = [m for m, series in document["dynamics"].items() if isinstance(series, dict)]
    names = ws.figures()
    assert [a for a, part in document["phase2"].items() if part["segments"]] == ["channel"]
    # One quarter of KPIs: no leading indicators; a segment of 5 reps or more in `channel` only: a phase-2 chart.
    assert names == [
        "headline",
        "phase1",
        "phase2",
        *(f"dynamics-{m}" for m in [*HEADLINE, *[m for m in weekly if m not in HEADLINE]]),
    ]
    assert len(names) == 3 + len(weekly) == 11
    # Each chart is the report's, drawn from the study as the report shows it (small groups suppressed).
    shown = study.shown
    expected = {
        "headline": figures.headline_figure(shown),
        "phase1": figures.phase1_figure(shown),
        "phase2": figures.phase2_grid_figure(shown),
        **{f"dynamics-{m}": figures.dynamics_figure(shown, m) for m in weekly},
    }
    assert set(expected) == set(names)
    for name in names:
        found = ws.figure(name)
        assert isinstance(found, go.Figure), name
        assert found.to_json() == expected[name].to_json(), name
        assert found.to_json() == study.figure(name).to_json(), name
    with pytest.raises(ValueError, match="no figure 'leading' in this study; choose one of headline, phase1, phase2, dynamics-"):
        ws.figure("leading")


def test_headline_figure_carries_the_studys_numbers(stages: Stages) -> None:
    ws = repsight.open(stages.studied.root)
    phase1 = ws.study().document["phase1"]
    figure = ws.figure("headline")
    means = [list(trace.y) for trace in figure.data[:3]]
    assert means == [[phase1[m]["top_mean"], phase1[m]["bottom_mean"]] for m in HEADLINE]
    gaps = figure.data[3]
    assert list(gaps.x) == [phase1[m]["bottom_vs_top_pct"] for m in HEADLINE]
    assert list(gaps.y) == ["Customer time", "Internal network", "Senior-leader time"]
    assert [row[2] for row in gaps.customdata] == [_q(phase1[m]["q"]) for m in HEADLINE]


def test_figures_leave_out_segments_below_the_workspaces_minimum_now(stages: Stages) -> None:
    """Raising [privacy] min_group_size after the study hides the segments it makes too small, as the report does."""
    document = repsight.open(stages.studied.root).study().document
    kept = document["phase2"]["channel"]["segments"]
    largest = max(segment["n_reps"] for segment in kept.values())
    stricter = stages.studied.model_copy(update={"privacy": PrivacyConfig(min_group_size=largest + 1)})
    study = Workspace(stricter).study()
    assert study.min_group_size == largest + 1
    assert study.document == document  # the analyst's data are whole
    assert study.shown["phase2"]["channel"]["segments"] == {}
    assert "phase2" not in study.figures()
    assert f"channel: {', '.join(sorted(document['phase2']['channel']['left_out'] + list(kept)))}" in study._repr_html_()
    # Each tier-week of the dynamics holds fewer reps than the largest segment: every value goes.
    whole = repsight.open(stages.studied.root).figure("dynamics-customer_hours")
    assert all(y is not None for trace in whole.data for y in trace.y)
    assert all(y is None for trace in study.figure("dynamics-customer_hours").data for y in trace.y)
    # Every chart is still the report's own, drawn from the study as shown under the stricter minimum.
    for name in study.figures():
        assert study.figure(name).to_json() == report_chart(study.shown, name).to_json(), name


def test_study_displays_its_headline_table_and_verdicts(stages: Stages) -> None:
    study = repsight.open(stages.studied.root).study()
    page = study._repr_html_()
    phase1 = study.document["phase1"]
    for metric, label in zip(
        HEADLINE, ["Customer time (hours/week)", "Internal network (people)", "Senior-leader time (hours/week)"], strict=True
    ):
        row = phase1[metric]
        low, high = row["ci"]
        cells = [
            label,
            f"{row['top_mean']:.2f}",
            f"{row['bottom_mean']:.2f}",
            _format(row["bottom_vs_top_pct"]),
            f"{_format(low)} to {_format(high)}",
            _q(row["q"]).replace("<", "&lt;"),
        ]
        assert "".join(f"\n      <td>{cell}</td>" for cell in cells) in page
    assert "<th>Top 25%</th>" in page and "<th>95% interval</th>" in page
    verdicts = study.verdicts()
    assert set(verdicts["attribute"]) == {"channel"}
    for metric, verdict in verdicts.set_index("metric")["verdict"].items():
        assert verdict == study.document["phase2"]["channel"]["heterogeneity"][metric]["verdict"]
    assert "<th>channel</th>" in page
    assert study.document["caveat"] in page


def test_workspace_displays_its_population_and_tables(stages: Stages, stored: dict[str, pd.DataFrame]) -> None:
    ws = repsight.open(stages.studied.root)
    page = ws._repr_html_()
    summary = ws.summary()
    people = stored["people"]
    sellers = set(people.loc[people["function"] == "Sales", "person"])
    reps = sellers & set(stored["kpis"].dropna(subset=["attainment"])["person"])
    assert (summary.people, summary.sellers, summary.reps) == (60, len(sellers), len(reps))
    assert summary.people_measured == stored["person_period"]["person"].nunique()
    assert summary.periods == sorted(stored["person_period"]["period"].unique())
    assert "<tr><th>People on the roster</th><td>60</td></tr>" in page
    assert f"<tr><th>In sales functions (Sales)</th><td>{len(sellers)}</td></tr>" in page
    assert f"<tr><th>Reps (with an attainment)</th><td>{len(reps)}</td></tr>" in page
    assert f"<tr><th>person_week</th><td>{len(stored['person_week'])}</td></tr>" in page
    assert "<tr><th>study_results</th><td>1</td></tr>" in page
    assert repr(ws) == f"Workspace({str(stages.studied.path)!r})"


def test_calls_do_not_keep_the_database_open(stages: Stages) -> None:
    """`repsight metrics` may write the workspace between two cells: a writer can open it right after each call."""
    ws = repsight.open(stages.studied.root)
    ws.person_week()
    ws.figure("phase1")
    ws._repr_html_()
    with Store.open(stages.studied) as writer:
        assert writer.count("person_week") == 836


# -- what a user is told -------------------------------------------------------------------------


def test_open_without_a_workspace_says_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        repsight.open(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'repsight.toml'}: no configuration file here; create one with `repsight init DIR`"


def test_a_workspace_without_data_says_to_load_it(tmp_path: Path) -> None:
    config = repsight.init_workspace(tmp_path / "acme", domains=["acme.example"])
    ws = repsight.open(tmp_path / "acme")
    advice = f"load data with `repsight ingest -c {config.path}`"
    with pytest.raises(StoreError) as raised:
        ws.person_week()
    assert str(raised.value).endswith(f": no workspace database yet; {advice}")
    assert advice in ws._repr_html_()


def test_tables_before_metrics_say_to_run_metrics(stages: Stages) -> None:
    ws = repsight.open(stages.ingested.root)
    message = f"the workspace has no metrics yet: run `repsight metrics -c {stages.ingested.path}`"
    for table in (ws.person_week, ws.person_period):
        with pytest.raises(MetricsError) as raised:
            table()
        assert str(raised.value) == message
    assert f"next: `repsight metrics -c {stages.ingested.path}`" in ws._repr_html_()


def test_study_before_analyze_says_to_run_analyze(stages: Stages) -> None:
    ws = repsight.open(stages.measured.root)
    assert len(ws.person_week()) == 836
    message = f"no study in the workspace yet: run `repsight analyze -c {stages.measured.path}` first"
    calls: list[Any] = [ws.study, ws.figures, lambda: ws.figure("headline")]
    for call in calls:
        with pytest.raises(StudyError) as raised:
            call()
        assert str(raised.value) == message
    assert f"next: `repsight analyze -c {stages.measured.path}`" in ws._repr_html_()


# -- the package root ----------------------------------------------------------------------------


def test_the_package_root_exports_the_api_and_imports_no_engine() -> None:
    code = (
        "import sys, repsight\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'ibis', 'duckdb', 'plotly', 'pydantic') if m in sys.modules]\n"
        "names = [n for n in repsight.__all__ if getattr(repsight, n, None) is None]\n"
        "print(heavy, names, repsight.open.__module__, repsight.Workspace.__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    # Importing the root loads nothing heavy; asking for every name then works.
    assert result.stdout.split("\n")[0] == "[] [] repsight.notebook Workspace"
