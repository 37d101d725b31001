"""Personal guidance on a generated company: gaps, strengths, suggestions, leaders and the coaching view (docs/guidance.md).

Suggestions are checked against an independent computation of the ties:
the metrics oracle's (tests/support/metrics_oracle.py), from the stored
events, not the engine's `week_ties` and `period_edges` the guidance reads.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repsight.config import Config
from repsight.errors import GuidanceError
from repsight.guidance import GuidanceData, advise, advise_person, coaching, load_guidance_data
from repsight.metrics.engine import INPUT_TABLES
from repsight.store import Store
from tests.support import repsight, studied_company
from tests.support.metrics_oracle import oracle_week_ties

pytestmark = pytest.mark.xdist_group("advice")  # the module's fixtures are built once, on one worker


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A 200-person company over two quarters, ingested, measured and studied."""
    return studied_company(tmp_path_factory.mktemp("guidance") / "demo", people=200, months=6)


@pytest.fixture(scope="module")
def data(company: Config) -> GuidanceData:
    with Store.open(company, read_only=True) as store:
        return load_guidance_data(store, company)


@pytest.fixture(scope="module")
def oracle_ties(company: Config) -> pd.DataFrame:
    """week, a, b, interactions: each pair's meaningful interactions per week, by the oracle."""
    with Store.open(company, read_only=True) as store:
        tables = {name: store.table(name).to_pyarrow() for name in INPUT_TABLES}
    return oracle_week_ties(tables, company)


def latest(data: GuidanceData) -> str:
    return data.period_names[-1]


def reps(data: GuidanceData) -> list[str]:
    """Return the reps with metrics in the latest period, in pseudonym order."""
    measured = set(data.periods.loc[data.periods["period"] == latest(data), "person"])
    return sorted(p for p in data.people.index if data.is_rep(p) and p in measured)


def test_a_rep_whose_weakness_is_the_network_gets_a_network_gap_first(data: GuidanceData) -> None:
    """One rep at the top tier's median on every behaviour but the network, planted far below it."""
    period = latest(data)
    # Not a top-tier rep: their own planted values would move the top tier's medians they are compared with.
    top = set(data.tiers.loc[(data.tiers["tier"] == 1) & (data.tiers["period"].astype(str) == period), "person"])
    rep = [r for r in reps(data) if r not in top][7]
    first = advise_person(data, rep, period)
    periods = data.periods.copy()
    mine = (periods["person"] == rep) & (periods["period"] == period)
    for gap in [*first.gaps, *first.strengths]:
        periods.loc[mine, gap.metric] = gap.top_tier_median
    periods.loc[mine, "internal_network_size"] = 0.0
    weak = advise_person(replace(data, periods=periods), rep, period)
    assert [g.metric for g in weak.gaps] == ["internal_network_size"]
    gap = weak.gaps[0]
    assert gap.value == 0 and gap.gap == gap.top_tier_median > 0
    assert gap.spreads == pytest.approx(gap.top_tier_median / (gap.top_tier_high - gap.top_tier_low))
    assert gap.score == pytest.approx(gap.spreads * gap.association)
    # At the median: a strength, never a gap.
    assert {s.metric for s in weak.strengths} == {g.metric for g in [*first.gaps, *first.strengths]} - {"internal_network_size"}


def test_no_behaviour_at_or_above_the_top_tiers_median_is_ever_a_gap(data: GuidanceData) -> None:
    for rep in reps(data)[::4]:
        advice = advise_person(data, rep, latest(data))
        for gap in advice.gaps:
            ahead = gap.value <= gap.top_tier_median if gap.better == "lower" else gap.value >= gap.top_tier_median
            assert not ahead and gap.gap > 0, (rep, gap)
        for strength in advice.strengths:
            assert strength.gap <= 0
        assert [g.score for g in advice.gaps] == sorted((g.score for g in advice.gaps), reverse=True)
        # Never more work outside working hours, and only behaviours the study found, in their better direction.
        assert all(g.metric != "after_hours_collaboration_hours" for g in [*advice.gaps, *advice.strengths])
        for gap in [*advice.gaps, *advice.strengths]:
            found = data.study["phase1"][gap.metric]
            assert found["q"] < 0.05 and (found["rho"] > 0) == (gap.better == "higher")


def test_the_top_tiers_figures_are_its_quartiles_in_the_reps_segment(data: GuidanceData) -> None:
    period = latest(data)
    rep = next(r for r in reps(data) if isinstance(data.people.at[r, "segment"], str))
    segment = data.people.at[rep, "segment"]
    advice = advise_person(data, rep, period)
    top = data.tiers[(data.tiers["tier"] == 1) & (data.tiers["period"] == period)]["person"]
    mine = data.periods[(data.periods["period"] == period) & data.periods["person"].isin(top)]
    mine = mine[mine["person"].map(data.people["segment"]) == segment]
    for gap in [*advice.gaps, *advice.strengths]:
        assert gap.group == f"segment {segment}"
        values = mine[gap.metric].dropna().to_numpy(np.float64)
        assert (gap.top_tier_low, gap.top_tier_median, gap.top_tier_high) == pytest.approx(
            tuple(np.quantile(values, [0.25, 0.5, 0.75]))
        )


def _window(data: GuidanceData, rep: str, period: str) -> set[date]:
    weeks = sorted(
        pd.Timestamp(w).date() for w in data.weeks[(data.weeks["person"] == rep) & (data.weeks["period"] == period)]["week"]
    )
    return set(weeks[-data.config.metrics.network_window_weeks :])


def test_every_colleague_suggested_is_unmet_in_the_window_and_works_with_top_sellers(
    data: GuidanceData, oracle_ties: pd.DataFrame
) -> None:
    period = latest(data)
    periods_of = dict(zip(data.weeks["week"].map(lambda w: pd.Timestamp(w).date()), data.weeks["period"], strict=False))
    ties = oracle_ties.assign(period=oracle_ties["week"].map(periods_of))
    in_period = ties[ties["period"] == period]
    top = set(data.tiers[(data.tiers["tier"] == 1) & (data.tiers["period"] == period)]["person"])
    suggested = 0
    for rep in reps(data)[::3]:
        advice = advise_person(data, rep, period)
        window = _window(data, rep, period)
        segment = data.people.at[rep, "segment"]
        group = {p for p in top - {rep} if data.people.at[p, "segment"] == segment}
        if len(group) < data.config.privacy.min_group_size:
            group = top - {rep}
        chain = set(data.managers_of(rep))
        assert len(advice.connect_with) <= data.config.guidance.max_suggestions
        for s in advice.connect_with:
            suggested += 1
            other = s.person
            pair = ((ties["a"] == rep) & (ties["b"] == other)) | ((ties["a"] == other) & (ties["b"] == rep))
            assert not ties[pair & ties["week"].isin(window)]["interactions"].gt(0).any(), (rep, s)
            theirs = in_period[(in_period["a"] == other) | (in_period["b"] == other)]
            partners = (set(theirs["a"]) | set(theirs["b"])) - {other}
            assert f"works with {len(partners & group)} of the {len(group)} top sellers" in s.reason
            assert len(partners & group) >= 1
            assert other in data.people.index and other != rep and other not in chain
            assert pd.isna(data.people.at[other, "leave_date"]) or pd.Timestamp(data.people.at[other, "leave_date"]).date() > max(
                window
            )
            assert s.email == data.people.at[other, "email"] and s.email.endswith("@acme.example")
    assert suggested > 20


def test_leaders_are_senior_unmet_in_the_period_and_the_chain_comes_first(data: GuidanceData, oracle_ties: pd.DataFrame) -> None:
    period = latest(data)
    periods_of = dict(zip(data.weeks["week"].map(lambda w: pd.Timestamp(w).date()), data.weeks["period"], strict=False))
    in_period = oracle_ties[oracle_ties["week"].map(periods_of) == period]
    senior = data.config.company.senior_level
    seen = 0
    for rep in reps(data)[::5]:
        advice = advise_person(data, rep, period)
        met = set(in_period[in_period["a"] == rep]["b"]) | set(in_period[in_period["b"] == rep]["a"])
        chain = data.managers_of(rep)
        reasons = [s.reason for s in advice.leaders]
        assert reasons == sorted(reasons, key=lambda r: r != "in your management chain")
        for s in advice.leaders:
            seen += 1
            assert int(data.people.at[s.person, "level"]) >= senior and s.person not in met and s.person != rep
            assert (s.reason == "in your management chain") == (s.person in chain)
    assert seen > 5


def test_no_one_excluded_or_gone_is_ever_suggested(company: Config, data: GuidanceData) -> None:
    period = latest(data)
    rep = reps(data)[3]
    first = advise_person(data, rep, period)
    assert first.connect_with and first.leaders
    excluded, gone = first.connect_with[0], first.leaders[0]
    people = data.people.copy()
    people.loc[gone.person, "leave_date"] = date(2000, 1, 1)
    guidance = company.guidance.model_copy(update={"exclude": [excluded.email.upper()]})
    changed = replace(data, people=people, config=company.model_copy(update={"guidance": guidance}))
    again = advise_person(changed, rep, period)
    named = {s.person for s in [*again.connect_with, *again.leaders]}
    assert excluded.person not in named and gone.person not in named


def test_a_group_under_the_minimum_is_never_shown(company: Config, data: GuidanceData) -> None:
    period = latest(data)
    top = int(((data.tiers["tier"] == 1) & (data.tiers["period"] == period)).sum())
    rep = reps(data)[5]
    # Above every segment's top tier but not the company's: everything falls back to the company.
    raised = company.model_copy(update={"privacy": company.privacy.model_copy(update={"min_group_size": top - 1})})
    advice = advise_person(replace(data, config=raised), rep, period)
    assert {g.group for g in [*advice.gaps, *advice.strengths]} == {"the company"}
    assert all("in the company" in s.reason for s in advice.connect_with)
    # Above the company's top tier too: no top-tier figure, so no gap and no suggestion.
    closed = company.model_copy(update={"privacy": company.privacy.model_copy(update={"min_group_size": top + 1})})
    nothing = advise_person(replace(data, config=closed), rep, period)
    assert (nothing.gaps, nothing.strengths, nothing.connect_with) == ([], [], [])
    assert all(m["top_tier_median"] is None for m in nothing.customer["metrics"])


def test_the_customer_card_and_its_trend(data: GuidanceData) -> None:
    period = latest(data)
    rep = reps(data)[2]
    card = advise_person(data, rep, period).customer
    assert [m["metric"] for m in card["metrics"]] == [
        "customer_hours",
        "accounts_touched",
        "contacts_per_account",
        "customer_reply_hours",
    ]
    assert card["metrics"][3]["better"] == "lower"
    weeks = data.weeks[(data.weeks["person"] == rep) & (data.weeks["period"] == period)].sort_values("week")["customer_hours"]
    half = len(weeks) // 2
    assert card["trend"]["weeks"] == len(weeks)
    assert card["trend"]["first_half"] == pytest.approx(weeks.iloc[:half].mean())
    assert card["trend"]["second_half"] == pytest.approx(weeks.iloc[half:].mean())


def test_the_coaching_view_counts_each_gap_over_the_team(company: Config, data: GuidanceData) -> None:
    period = latest(data)
    measured = set(data.periods.loc[data.periods["period"] == period, "person"])
    manager = max(data.reports, key=lambda m: sum(data.is_rep(p) and p in measured for p in data.team(m)))
    view = coaching(data, manager, period)
    members = [p for p in data.team(manager) if data.is_rep(p) and p in measured]
    assert view.shown and view.reps == len(members) >= 5 and view.members == []
    expected: dict[str, list[int]] = {}
    for member in members:
        for rank, gap in enumerate(advise_person(data, member, period).gaps):
            expected.setdefault(gap.metric, [0, 0])
            expected[gap.metric][0] += 1
            expected[gap.metric][1] += rank == 0
    assert {g["metric"]: [g["members"], g["first"]] for g in view.gaps} == expected
    assert [g["members"] for g in view.gaps] == sorted((g["members"] for g in view.gaps), reverse=True)
    individuals = company.privacy.model_copy(update={"manager_sees_individuals": True})
    assert len(
        coaching(replace(data, config=company.model_copy(update={"privacy": individuals})), manager, period).members
    ) == len(members)
    raised = company.privacy.model_copy(update={"min_group_size": len(members) + 1})
    small = coaching(replace(data, config=company.model_copy(update={"privacy": raised})), manager, period)
    assert (small.shown, small.gaps, small.members) == (False, [], [])


def test_unknown_people_and_periods_are_clear_errors(data: GuidanceData) -> None:
    with pytest.raises(GuidanceError, match=r"nobody@acme\.example: not on the roster"):
        advise(data, "nobody@acme.example")
    rep = reps(data)[0]
    with pytest.raises(GuidanceError, match="no metrics for 1999Q1; they have"):
        advise(data, data.email(rep).upper(), "1999Q1")


def test_advise_prints_the_guidance_and_writes_the_json_contract(company: Config, data: GuidanceData, tmp_path: Path) -> None:
    rep = reps(data)[4]
    email = data.email(rep)
    shown = repsight("advise", "-c", str(company.path), "--person", email, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"Guidance for {data.name(rep)} ({email})" in shown.stdout and "associations" in shown.stdout
    out = tmp_path / "advice.json"
    written = repsight("advise", "-c", str(company.path), "--person", email, "--json", str(out), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    document = json.loads(out.read_text())
    assert set(document) == {
        "person",
        "name",
        "period",
        "segment",
        "gaps",
        "strengths",
        "connect_with",
        "leaders",
        "customer",
        "caveat",
    }
    assert document["person"] == email and document["period"] == latest(data)
    for gap in document["gaps"]:
        assert {"metric", "value", "top_tier_median", "gap", "group", "association", "association_from", "score"} <= set(gap)
    for suggestion in [*document["connect_with"], *document["leaders"]]:
        assert set(suggestion) == {"email", "name", "org", "reason"}
    assert document == json.loads(json.dumps(advise_person(data, rep).to_json()))
    failed = repsight("advise", "-c", str(company.path), "--person", "nobody@acme.example", cwd=tmp_path)
    assert (
        failed.returncode == 1
        and failed.stderr.strip() == "error: nobody@acme.example: not on the roster (no person has that email)"
    )
    assert "Traceback" not in failed.stderr


def test_advise_on_a_workspace_without_metrics_says_what_to_run(tmp_path: Path) -> None:
    from repsight.workspace import init_workspace

    config = init_workspace(tmp_path / "empty", domains=["acme.example"])
    failed = repsight("advise", "-c", str(config.path), "--person", "ana@acme.example", cwd=tmp_path)
    assert failed.returncode == 1 and "no workspace database yet" in failed.stderr and "repsight ingest" in failed.stderr
