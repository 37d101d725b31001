"""What the study leaves out because of the flags: rep-periods of reps without their own export, flagged weeks in the means."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from repsight.config import CompanyConfig, Config, StudyConfig
from repsight.errors import StudyError
from repsight.metrics import compute_metrics
from repsight.store import Store
from repsight.study import rep_periods
from repsight.validation.run import Exclusions
from tests.support import TEST_KEY
from tests.support.metrics_org import COMPANY_DOMAIN, OrgBuilder

MONDAY = date(2025, 1, 6)
SECOND = MONDAY + timedelta(weeks=1)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """Two reps and a colleague over two weeks: ana meets bob 2 hours in the first week and 4 in the second."""
    b = OrgBuilder()
    for name in ("ana", "bob", "cid"):
        b.person(name)
    for name in ("ana", "bob"):
        b.kpi(name, "2025Q1")
    b.meeting(f"{MONDAY + timedelta(days=1)} 10:00", 120, "ana", ["bob"])
    b.meeting(f"{SECOND + timedelta(days=1)} 10:00", 240, "ana", ["bob"])
    b.meeting(f"{SECOND + timedelta(days=2)} 10:00", 60, "cid", ["bob"])
    folder = tmp_path_factory.mktemp("exclusions")
    config = Config(
        company=CompanyConfig(domains=[COMPANY_DOMAIN]),
        study=StudyConfig(metrics=["collaboration_hours", "meetings"], segment_by=["region"]),
        path=folder / "repsight.toml",
    )
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in b.tables().items():
            store.append(name, table)
        compute_metrics(store, config)
    return config


def rows(config: Config, exclusions: Exclusions | None) -> pd.DataFrame:
    with Store.open(config, key=TEST_KEY, read_only=True) as store:
        found, _ = rep_periods(store, config, exclusions)
    return found.set_index("person")[["collaboration_hours", "meetings"]]


def test_without_flags_the_means_are_the_stored_ones(measured: Config) -> None:
    assert rows(measured, None).to_dict("index") == {
        "ana": {"collaboration_hours": 3.0, "meetings": 1.0},
        "bob": {"collaboration_hours": 3.5, "meetings": 1.5},
    }
    empty = Exclusions()
    assert rows(measured, empty).equals(rows(measured, None)) and empty.removed == {}


def test_a_flagged_week_leaves_the_persons_mean_over_their_other_weeks(measured: Config) -> None:
    exclusions = Exclusions(week_rules={("ana", SECOND): "inactive_week"})
    found = rows(measured, exclusions)
    assert found.loc["ana"].to_dict() == {"collaboration_hours": 2.0, "meetings": 1.0}
    assert found.loc["bob"].to_dict() == {"collaboration_hours": 3.5, "meetings": 1.5}  # untouched: stored value
    assert exclusions.removed == {"inactive_week": {"people": 1, "rep_periods": 1, "weeks": 1}}


def test_a_holiday_leaves_everyones_week_out(measured: Config) -> None:
    exclusions = Exclusions(holidays={MONDAY: "holiday_week"})
    found = rows(measured, exclusions)
    assert found.to_dict("index") == {
        "ana": {"collaboration_hours": 4.0, "meetings": 1.0},
        "bob": {"collaboration_hours": 5.0, "meetings": 2.0},
    }
    assert exclusions.removed == {"holiday_week": {"people": 2, "rep_periods": 2, "weeks": 2}}


def test_reps_without_their_own_mailbox_go_and_a_rep_period_without_weeks_goes(measured: Config) -> None:
    exclusions = Exclusions(
        people={"no_own_mailbox": {"bob"}, "no_own_calendar": set()},
        week_rules={("ana", MONDAY): "partial_week", ("ana", SECOND): "inactive_week"},
    )
    with pytest.raises(StudyError, match="leaves no rep-period to study"):
        rows(measured, exclusions)
    assert exclusions.removed == {
        "no_own_mailbox": {"people": 1, "rep_periods": 1, "weeks": 0},
        "no_own_calendar": {"people": 0, "rep_periods": 0, "weeks": 0},
        "inactive_week": {"people": 1, "rep_periods": 1, "weeks": 1},
        "partial_week": {"people": 1, "rep_periods": 1, "weeks": 1},
        "no_week_left": {"people": 1, "rep_periods": 1, "weeks": 0},
    }


def test_a_validation_that_leaves_no_rep_period_says_so(measured: Config) -> None:
    exclusions = Exclusions(people={"no_own_mailbox": {"ana", "bob"}})
    with pytest.raises(StudyError, match=r"leaves no rep-period to study \(no_own_mailbox: 2 rep-periods\)"):
        rows(measured, exclusions)
