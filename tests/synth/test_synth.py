"""The synthetic company: deterministic, realistic in shape and noise, honest in its planted effects.

Its files are read back as a user's would be, never through its internals.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from repsight.synth import generate
from repsight.synth.org import build_company
from repsight.synth.random import Rng
from tests.support import planted


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    generate(folder, people=160, months=6, seed=5, formats="csv")
    return folder


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Six quarters of a 200-person company, measured independently per rep and quarter."""
    folder = tmp_path_factory.mktemp("study")
    generate(folder, people=200, months=18, seed=7, formats="csv")
    return planted.quarter_table(folder)


def test_same_seed_writes_the_same_bytes(small: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", people=160, months=6, seed=5, formats="csv")
    assert digest(tmp_path / "again") == digest(small)
    generate(tmp_path / "other", people=160, months=6, seed=6, formats="csv")
    assert digest(tmp_path / "other")["roster.csv"] != digest(small)["roster.csv"]


def test_org_chart_has_every_layer_region_segment_channel_and_function(small: Path) -> None:
    roster = pd.read_csv(small / "roster.csv", dtype=str, keep_default_na=False)
    assert len(roster) == 160 and roster.email.is_unique
    top = roster[roster.manager_email == ""]
    assert top.level.tolist() == ["9"] and top.title.tolist() == ["Chief Executive Officer"]
    assert set(roster.manager_email) - {""} <= set(roster.email)
    assert set(roster.level.astype(int)) <= set(range(1, 10)) and set(roster.level.astype(int)) == set(range(1, 10))
    reps = roster[roster.title == "Account Executive"]
    assert set(reps.region) == {"NA", "EMEA", "APAC", "LATAM"}
    assert set(reps.segment) == {"SMB", "Mid-Market", "Enterprise"}
    assert set(reps.channel) == {"Direct", "Partner"}
    assert {"Sales", "Pre-sales", "Product", "Marketing", "Finance", "Legal", "Support", "Executive"} <= set(roster.function)
    manager = dict(zip(roster.email, roster.manager_email, strict=True))
    for person in roster.email:  # every chain ends at the CEO
        seen = set()
        while manager[person]:
            assert person not in seen
            seen.add(person)
            person = manager[person]


def test_study_scale_company_has_over_a_thousand_quota_carrying_reps() -> None:
    company = build_company(1500, Rng(1), date(2024, 7, 1), date(2026, 1, 1))
    assert len(company.employees) == 1500
    assert len(company.reps) >= 1000


def test_eighteen_months_give_six_quarters_of_kpis_for_the_reps_in_truth(study: pd.DataFrame) -> None:
    assert sorted(study.period.unique()) == ["2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]


def test_truth_names_every_rep_with_kpis(small: Path) -> None:
    truth = json.loads((small / "truth.json").read_text())
    kpis = pd.read_csv(small / "kpis.csv")
    assert set(kpis.email) <= set(truth["reps"])
    assert truth["params"]["expected_bottom_vs_top"]["customer_hours"] == -0.25
    assert truth["quarters"] == ["2024Q3", "2024Q4"]


def test_accounts_cover_customers_prospects_partners_and_vendors(small: Path) -> None:
    accounts = pd.read_csv(small / "accounts.csv")
    assert set(accounts.type) == {"customer", "prospect", "partner", "vendor"}
    assert accounts.domains.is_unique and accounts.account_id.is_unique


def test_mail_and_calendars_carry_real_world_noise(small: Path) -> None:
    mail = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((small / "mail").glob("*.csv"))])
    calendar = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((small / "calendar").glob("*.csv"))])
    roster = set(pd.read_csv(small / "roster.csv").email)
    recipients = mail.to.str.split(";")
    assert (recipients.str.len() > 50).any(), "company-wide announcements"
    assert mail.to.str.contains("sales-all@acme.example").any() and "sales-all@acme.example" not in roster
    assert mail.sender.str.endswith(("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")).any()
    assert not mail.message_id.is_unique, "the same message is in several mailbox exports"
    assert (calendar.is_cancelled == "true").any() and (calendar.is_all_day == "true").any()
    assert (calendar.is_transparent == "true").any() and (calendar.declined != "").any()
    assert (calendar.attendees.str.split(";").str.len() > 50).any(), "all-hands meetings"
    series = calendar.drop_duplicates(["event_id", "start"]).groupby("event_id").size()
    assert (series >= 20).any(), "weekly recurring meetings"
    assert calendar.start.str[-6:].nunique() >= 4, "several time zones"
    assert calendar.start[calendar.is_all_day == "true"].str.len().eq(10).all()
    # Double bookings: someone has two timed meetings that overlap.
    timed = calendar[calendar.is_all_day == "false"].drop_duplicates(["event_id", "start"])
    timed = timed.assign(
        start_at=pd.to_datetime(timed.start, utc=True, format="ISO8601"),
        end_at=pd.to_datetime(timed.end, utc=True, format="ISO8601"),
        person=timed.organizer,
    ).sort_values(["person", "start_at"])
    overlapping = timed.start_at < timed.groupby("person").end_at.shift()
    assert overlapping.sum() > 0, "double bookings"


def test_planted_behaviour_gaps_show_in_the_files(study: pd.DataFrame) -> None:
    # The published finding: bottom quartile ~25% less customer time, ~20%
    # smaller network, ~20% less senior-leader time; manager time: no effect.
    assert -0.33 < planted.bottom_vs_top(study, "customer_hours") < -0.17
    assert -0.28 < planted.bottom_vs_top(study, "internal_network_size") < -0.12
    assert -0.28 < planted.bottom_vs_top(study, "senior_leader_hours") < -0.12
    assert -0.06 < planted.bottom_vs_top(study, "manager_hours") < 0.06


def test_customer_time_falls_and_networking_rises_through_the_quarter(tmp_path: Path) -> None:
    generate(tmp_path, people=120, months=6, seed=9, formats="csv")
    weekly = planted.person_weeks(tmp_path)
    quarter_start = weekly.week.dt.to_period("Q").dt.start_time
    week_of_quarter = (weekly.week - quarter_start).dt.days // 7
    early, late = weekly[week_of_quarter <= 3], weekly[week_of_quarter >= 9]
    assert late.customer_hours.mean() < 0.85 * early.customer_hours.mean()
    assert late.internal_network_size.mean() > 1.1 * early.internal_network_size.mean()
