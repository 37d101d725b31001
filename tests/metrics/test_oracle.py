"""Hand-computed checks of the metrics, on tiny organisations: the oracle's and the engine's.

Each test builds a few events, works out the expected numbers from
docs/metrics.md by hand (in the comments), and compares. Every test runs
twice: on the oracle (tests/metrics_oracle.py) and on the engine (DuckDB). Unless a test says
otherwise the company's time zone is UTC and 2025-01-06 is a Monday.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from repsight.metrics import compute_metrics
from repsight.store import Store
from tests.support import TEST_KEY, events_measured
from tests.support.metrics_oracle import (
    COUNT_COLUMNS,
    ENGAGEMENT_COLUMNS,
    HOUR_COLUMNS,
    PERIOD_COLUMNS,
    PERIOD_ENGAGEMENT_COLUMNS,
    WEEK_COLUMNS,
    oracle_metrics,
    oracle_person_week,
)
from tests.support.metrics_org import (
    EDGE_CASE_ACTIVE,
    EDGE_CASE_PEOPLE,
    OrgBuilder,
    edge_case_config,
    edge_case_tables,
    make_config,
)

SENT = 5 / 60  # hours credited for a sent email
RECEIVED = 2.5 / 60  # hours credited for a received email
BUYER = "buyer@bigco.example"


def org(timezone: str = "UTC", people: tuple[str, ...] = ("ana", "bob", "cid"), **person: Any) -> OrgBuilder:
    """Return a builder with roster people (default org Sales, level 3) and a customer account."""
    builder = OrgBuilder(timezone=timezone)
    for name in people:
        builder.person(name, **person)
    builder.account("bigco.example", "customer")
    return builder


@pytest.fixture(autouse=True, params=["oracle", "engine"])
def implementation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run every test on the oracle and on the engine."""
    _IMPLEMENTATION[0] = request.param
    yield
    _IMPLEMENTATION[0] = "oracle"


_IMPLEMENTATION = ["oracle"]


def run(builder: OrgBuilder, tmp_path: Path, **settings: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (person_week, person_period) for the builder's tables, by the implementation under test."""
    if _IMPLEMENTATION[0] == "oracle":
        return oracle_metrics(builder.tables(), make_config(tmp_path, timezone=builder.timezone, **settings))
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    config = make_config(folder, timezone=builder.timezone, **settings)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in builder.tables().items():
            store.append(name, table)
        compute_metrics(store, config)
        weekly, period = store.table("person_week").to_pandas(), store.table("person_period").to_pandas()
    return _as_dates(events_measured(weekly), "week"), _as_dates(events_measured(period), "period_start")


def _as_dates(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Return `table` with `column` as `datetime.date` objects and text columns as Python strings, as the oracle gives them."""
    columns: dict[str, pd.Series] = {}
    for name in table.columns:
        if name == column:
            columns[name] = pd.Series([pd.Timestamp(v).date() for v in table[name]], dtype=object)
        else:
            columns[name] = table[name].reset_index(drop=True)
    return pd.DataFrame(columns)


def row(table: pd.DataFrame, person: str, when: str, column: str = "week") -> pd.Series:
    """Return the one row of `person` for a week (ISO date) or, with column="period", a period."""
    key = date.fromisoformat(when) if column == "week" else when
    found = table[(table["person"] == person) & (table[column] == key)]
    assert len(found) == 1, f"{person} {when}: {len(found)} rows"
    return found.iloc[0]


def weeks_of(table: pd.DataFrame, person: str) -> list[str]:
    return [w.isoformat() for w in table.loc[table["person"] == person, "week"]]


# ---------------------------------------------------------------- meetings


def test_declined_attendee_gets_no_meeting_hours(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 10:00", 60, "ana", ["bob", ("cid", "declined")])
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "ana", "2025-01-06")["meeting_hours"] == 1.0
    assert row(weekly, "bob", "2025-01-06")["meeting_hours"] == 1.0
    # cid appears (whatever the status), so cid has a week, but of zeros.
    cid = row(weekly, "cid", "2025-01-06")
    assert (cid["meeting_hours"], cid["meetings"], cid["collaboration_hours"]) == (0.0, 0, 0.0)


def test_overlapping_meetings_count_once(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 10:00", 60, "ana", ["bob"])
    o.meeting("2025-01-07 10:30", 60, "ana", ["cid"])  # union 10:00-11:30
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert (ana["meeting_hours"], ana["meetings"]) == (1.5, 2)
    assert ana["collaboration_hours"] == 1.5


def test_nested_and_back_to_back_meetings(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 13:00", 120, "ana", ["bob"])
    o.meeting("2025-01-07 13:30", 30, "ana", ["cid"])  # inside the first
    o.meeting("2025-01-07 15:00", 30, "ana", ["cid"])  # starts where the first ends
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert (ana["meeting_hours"], ana["meetings"]) == (2.5, 3)


def test_meeting_of_max_hours_or_longer_does_not_count(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 08:00", 8 * 60, "ana", ["bob"])  # exactly 8 h: out
    o.meeting("2025-01-08 08:00", 8 * 60 - 1, "ana", ["bob"])  # 7 h 59 min: in
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert ana["meeting_hours"] == pytest.approx(479 / 60)
    assert ana["meetings"] == 1


def test_cancelled_all_day_transparent_and_zero_length_meetings_do_not_count(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 09:00", 60, "ana", ["bob"], cancelled=True)
    o.meeting("2025-01-08 00:00", 60, "ana", ["bob"], all_day=True)
    o.meeting("2025-01-09 09:00", 60, "ana", ["bob"], transparent=True)
    o.meeting("2025-01-10 09:00", 0, "ana", ["bob"])
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")  # a row: ana appears in stored meetings
    assert (ana["meeting_hours"], ana["meetings"]) == (0.0, 0)


def test_meeting_needs_two_counted_people(tmp_path: Path) -> None:
    o = org()
    # bob declined and the only other attendee is personal: ana alone is counted.
    o.meeting("2025-01-07 09:00", 60, "ana", [("bob", "declined"), "pal@gmail.com"])
    weekly, _ = run(o, tmp_path)
    assert (row(weekly, "ana", "2025-01-06")["meetings"], row(weekly, "bob", "2025-01-06")["meetings"]) == (0, 0)


def test_declined_organiser_still_counts(tmp_path: Path) -> None:
    o = org()
    o.person("max", org="Sales", level=5)
    o.rows["people"][0]["manager"] = "max"  # ana reports to max
    # max organises and his own attendee row says declined: he is still a counted person (our reading).
    o.meeting("2025-01-07 09:00", 30, "max", ["ana"], organizer_row="declined")
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert (ana["meeting_hours"], ana["manager_hours"], ana["manager_1on1_hours"]) == (0.5, 0.5, 0.5)


def test_meeting_hours_belong_to_the_week_of_their_start(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-12 23:30", 60, "ana", ["bob"])  # Sunday, runs into Monday: 1 h in week 01-06
    o.meeting("2025-01-13 00:00", 30, "ana", ["cid"])  # overlaps it, but unions are per week
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "ana", "2025-01-06")["meeting_hours"] == 1.0
    assert row(weekly, "ana", "2025-01-13")["meeting_hours"] == 0.5


# ---------------------------------------------------------------- emails


def test_broadcast_counts_only_email_and_collaboration_hours(tmp_path: Path) -> None:
    o = org()
    o.person("ivy", org="Marketing")
    staff = [f"staff{i:02d}" for i in range(49)]
    # 51 recipients (ana, a customer, 49 staff), on a Saturday evening: a broadcast.
    o.message("2025-01-11 20:00", "ivy", ["ana", BUYER, *staff])
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert ana["email_hours"] == pytest.approx(RECEIVED)
    assert ana["collaboration_hours"] == pytest.approx(RECEIVED)
    assert ana["emails_received"] == 1
    for column in ("customer_hours", "external_hours", "after_hours_collaboration_hours", "senior_leader_hours"):
        assert ana[column] == 0.0, column
    assert ana["internal_network_size"] == 0
    ivy = row(weekly, "ivy", "2025-01-06")
    assert (ivy["email_hours"], ivy["emails_sent"]) == (pytest.approx(SENT), 1)


def test_fifty_recipients_is_not_a_broadcast(tmp_path: Path) -> None:
    o = org()
    o.person("ivy", org="Marketing")
    staff = [f"staff{i:02d}" for i in range(48)]
    o.message("2025-01-11 20:00", "ivy", ["ana", BUYER, *staff])  # 50 recipients
    o.message("2025-01-11 20:05", "ivy", ["ana", BUYER, *staff])  # twice: still no ties (51 people)
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    for column in ("email_hours", "customer_hours", "external_hours", "after_hours_collaboration_hours"):
        assert ana[column] == pytest.approx(2 * RECEIVED), column
    assert ana["internal_network_size"] == 0


def test_email_to_self_and_sender_among_recipients(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", ["ana"])  # no recipient but herself: not counted
    o.message("2025-01-07 09:10", "ana", ["ana", "bob"])  # counted once, as sent; one recipient
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert (ana["emails_sent"], ana["emails_received"], ana["email_hours"]) == (1, 0, pytest.approx(SENT))
    bob = row(weekly, "bob", "2025-01-06")
    assert (bob["emails_sent"], bob["emails_received"]) == (0, 1)


def test_personal_addresses_are_removed(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "pal@gmail.com", ["ana"])  # personal sender: not counted
    o.message("2025-01-07 09:10", "ana", ["ana.home@gmail.com"])  # only recipient personal: not counted
    o.message("2025-01-07 09:20", "ana", ["bob", "ana.home@gmail.com"])  # 2 people, bob only
    o.message("2025-01-07 09:30", "ana", ["bob", "ana.home@gmail.com"])
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert (ana["emails_sent"], ana["emails_received"]) == (2, 0)
    assert ana["external_hours"] == 0.0  # personal is not external
    assert ana["internal_network_size"] == 1  # two 2-person messages with bob


def test_customer_hours_count_customers_and_prospects_only(tmp_path: Path) -> None:
    o = org()
    o.account("newco.example", "prospect")
    o.account("partnerco.example", "partner")
    o.account("supplyco.example", "vendor")
    o.message("2025-01-07 09:00", "ana", [BUYER])  # customer, sent
    o.message("2025-01-07 09:10", "lead@newco.example", ["ana"])  # prospect, received
    o.message("2025-01-07 09:20", "ana", ["pat@partnerco.example"])  # partner: external only
    o.message("2025-01-07 09:30", "ana", ["sal@supplyco.example"])  # vendor: external only
    o.message("2025-01-07 09:40", "ana", ["who@random.example"])  # no account: external only
    o.meeting("2025-01-08 10:00", 30, "ana", [BUYER])  # customer 10:00-10:30
    o.meeting("2025-01-08 10:15", 45, "ana", ["pat@partnerco.example"])  # external 10:15-11:00
    crowd = [f"staff{i:02d}" for i in range(10)]
    o.meeting("2025-01-09 10:00", 60, "ana", [*crowd, BUYER])  # large meetings count too
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert ana["customer_hours"] == pytest.approx(SENT + RECEIVED + 0.5 + 1.0)
    assert ana["external_hours"] == pytest.approx(4 * SENT + RECEIVED + 1.0 + 1.0)
    assert ana["meeting_hours"] == 2.0


def test_senior_leader_hours_need_at_most_eight_people(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eli", "fay", "gil", "hub"))
    o.person("vic", level=7)
    seven = ["ana", "bob", "cid", "dee", "eli", "fay", "gil"]
    o.meeting("2025-01-07 09:00", 30, "vic", seven)  # 8 counted people: senior time
    o.meeting("2025-01-07 10:00", 30, "vic", [*seven, "hub"])  # 9: none
    o.message("2025-01-07 11:00", "vic", seven)  # 8 people
    o.message("2025-01-07 11:05", "vic", [*seven, "hub"])  # 9 people
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "ana", "2025-01-06")["senior_leader_hours"] == pytest.approx(0.5 + RECEIVED)
    assert row(weekly, "hub", "2025-01-06")["senior_leader_hours"] == 0.0
    assert row(weekly, "vic", "2025-01-06")["senior_leader_hours"] == 0.0  # his own seniority does not count


def test_senior_leaders_get_time_with_other_senior_leaders(tmp_path: Path) -> None:
    o = org()
    o.person("vic", level=7)
    o.person("lea", level=8)
    o.meeting("2025-01-07 09:00", 30, "lea", ["vic"])
    o.meeting("2025-01-07 10:00", 60, "lea", ["ana"])
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "vic", "2025-01-06")["senior_leader_hours"] == 0.5
    assert row(weekly, "lea", "2025-01-06")["senior_leader_hours"] == 0.5  # only vic is "other"
    assert row(weekly, "ana", "2025-01-06")["senior_leader_hours"] == 1.0


def test_manager_hours_and_manager_1on1(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eli", "fay", "gil"), manager="max")
    o.person("max", level=5)
    o.meeting("2025-01-07 09:00", 30, "max", ["ana"])  # 1:1
    o.meeting("2025-01-07 10:00", 30, "ana", ["max", ("bob", "declined")])  # still a 1:1: bob declined
    o.meeting("2025-01-07 11:00", 60, "max", ["ana", "bob"])  # manager time, not a 1:1
    o.meeting("2025-01-07 14:00", 30, "max", ["ana", "bob", "cid", "dee", "eli", "fay", "gil"])  # 8 people: manager time
    o.meeting("2025-01-08 14:00", 30, "max", ["ana", "bob", "cid", "dee", "eli", "fay", "gil", "nora"])  # 9: none
    o.message("2025-01-08 09:00", "ana", ["max"])
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert ana["manager_1on1_hours"] == 1.0
    assert ana["manager_hours"] == pytest.approx(0.5 + 0.5 + 1.0 + 0.5 + SENT)
    assert ana["meeting_hours"] == 3.0
    assert row(weekly, "max", "2025-01-06")["manager_hours"] == 0.0  # max has no manager


# ---------------------------------------------------------------- working hours and weeks


def test_after_hours_messages_at_working_hour_boundaries(tmp_path: Path) -> None:
    o = org()
    for when in ("2025-01-07 07:59", "2025-01-07 08:00", "2025-01-07 17:59", "2025-01-07 18:00", "2025-01-11 12:00"):
        o.message(when, "ana", ["bob"])
    weekly, _ = run(o, tmp_path)
    # 07:59 and 18:00 are outside, 08:00 and 17:59 inside; Saturday is outside.
    assert row(weekly, "ana", "2025-01-06")["after_hours_collaboration_hours"] == pytest.approx(3 * SENT)
    assert row(weekly, "bob", "2025-01-06")["after_hours_collaboration_hours"] == pytest.approx(3 * RECEIVED)


def test_after_hours_meeting_part_uses_the_person_time_zone(tmp_path: Path) -> None:
    o = org()
    o.person("ben", timezone="Europe/Berlin")
    o.meeting("2025-01-07 06:30", 120, "ana", ["ben"])  # UTC 06:30-08:30; Berlin 07:30-09:30
    o.meeting("2025-01-08 23:00", 120, "ana", ["bob"])  # 23:00-01:00 across midnight: all after hours
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "ana", "2025-01-06")["after_hours_collaboration_hours"] == 1.5 + 2.0
    assert row(weekly, "ben", "2025-01-06")["after_hours_collaboration_hours"] == 0.5


def test_after_hours_meeting_uses_the_offset_in_force(tmp_path: Path) -> None:
    o = org(timezone="America/New_York")
    o.meeting("2025-03-10 07:30", 60, "ana", ["bob"])  # 07:30-08:30 EDT (11:30Z): half an hour after hours
    o.meeting("2025-03-03 07:30", 60, "ana", ["bob"])  # 07:30-08:30 EST (12:30Z): the same
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "ana", "2025-03-10")["after_hours_collaboration_hours"] == 0.5
    assert row(weekly, "ana", "2025-03-03")["after_hours_collaboration_hours"] == 0.5


def test_invalid_or_empty_timezone_falls_back_to_company(tmp_path: Path) -> None:
    o = org(timezone="America/New_York", people=())
    o.person("cat", timezone="")
    o.person("dan", timezone="Mars/Olympus")
    o.message("2025-01-07 12:30+00:00", "cat", ["dan"])  # 07:30 in New York: outside
    o.message("2025-01-07 22:00+00:00", "cat", ["dan"])  # 17:00 in New York: inside (outside in UTC)
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "cat", "2025-01-06")["after_hours_collaboration_hours"] == pytest.approx(SENT)
    assert row(weekly, "dan", "2025-01-06")["after_hours_collaboration_hours"] == pytest.approx(RECEIVED)


def test_week_starts_monday_local_across_dst(tmp_path: Path) -> None:
    o = org(timezone="America/New_York")
    o.message("2025-03-02 23:59", "ana", ["bob"])  # Sunday EST: week of 02-24
    o.message("2025-03-03 00:00", "ana", ["bob"])  # Monday 00:00 EST (05:00Z): week of 03-03
    o.message("2025-03-09 23:30", "ana", ["bob"])  # Sunday EDT (03:30Z Monday): week of 03-03
    o.message("2025-03-10 00:00", "ana", ["bob"])  # Monday 00:00 EDT (04:00Z): week of 03-10
    weekly, _ = run(o, tmp_path)
    assert weeks_of(weekly, "ana") == ["2025-02-24", "2025-03-03", "2025-03-10"]
    assert weekly.loc[weekly["person"] == "ana", "emails_sent"].tolist() == [1, 2, 1]


def test_weeks_range_is_filled_with_zeros_and_cut_by_hire_and_leave(tmp_path: Path) -> None:
    o = org(people=("ana",))
    o.person("bob", hire_date=date(2025, 1, 15), leave_date=date(2025, 1, 29))  # Wednesdays
    o.message("2025-01-07 09:00", "ana", ["bob"])
    o.message("2025-02-04 09:00", "ana", ["bob"])
    weekly, _ = run(o, tmp_path)
    assert weeks_of(weekly, "ana") == ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03"]
    assert row(weekly, "ana", "2025-01-20")[HOUR_COLUMNS].sum() == 0.0
    assert weeks_of(weekly, "bob") == ["2025-01-13", "2025-01-20", "2025-01-27"]  # hire week to leave week
    assert row(weekly, "bob", "2025-01-13")["emails_received"] == 0  # his message was before the hire week


def test_weeks_before_1970_start_on_monday_local(tmp_path: Path) -> None:
    # Epoch seconds and days are negative here: weeks, weekdays, working hours and hire/leave weeks must still hold.
    o = org(timezone="America/New_York", people=("ana",))
    o.person("bob", hire_date=date(1969, 12, 17))  # a Wednesday: hire week 12-15
    o.person("cid", leave_date=date(1969, 12, 24))  # a Wednesday: leave week 12-22
    o.message("1969-12-16 09:00", "ana", ["bob", "cid"])  # Tuesday, working hours: week 12-15, bob's hire week
    o.message("1969-12-26 12:00", "ana", ["cid"])  # Friday noon, working hours: week 12-22
    o.message("1969-12-28 23:30", "ana", ["bob"])  # Sunday 23:30 EST (04:30Z Monday), after hours: week 12-22
    o.message("1969-12-29 00:00", "ana", ["bob", "cid"])  # Monday 00:00 EST, after hours: week 12-29, cid has left
    o.meeting("1969-12-23 07:00", 120, "ana", ["bob"])  # Tuesday 07:00-09:00: one hour after hours
    weekly, _ = run(o, tmp_path)
    assert weeks_of(weekly, "ana") == ["1969-12-15", "1969-12-22", "1969-12-29"]
    assert weekly.loc[weekly["person"] == "ana", "emails_sent"].tolist() == [1, 2, 1]
    assert weeks_of(weekly, "bob") == ["1969-12-15", "1969-12-22", "1969-12-29"]
    assert weekly.loc[weekly["person"] == "bob", "emails_received"].tolist() == [1, 1, 1]
    assert weeks_of(weekly, "cid") == ["1969-12-15", "1969-12-22"]
    ana = weekly.loc[weekly["person"] == "ana", "after_hours_collaboration_hours"].tolist()
    assert ana == [0.0, pytest.approx(1.0 + SENT), pytest.approx(SENT)]
    assert row(weekly, "bob", "1969-12-22")["after_hours_collaboration_hours"] == pytest.approx(1.0 + RECEIVED)
    assert row(weekly, "ana", "1969-12-22")["meeting_hours"] == 2.0


def test_person_without_activity_has_no_rows(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 09:00", 60, "ana", ["bob"], cancelled=True)  # any stored event gives rows
    weekly, period = run(o, tmp_path)
    assert sorted(weekly["person"].unique()) == ["ana", "bob"]
    assert "cid" not in set(period["person"])


# ---------------------------------------------------------------- customer engagement


def engagement(table: pd.DataFrame, person: str, when: str, column: str = "week") -> list[Any]:
    """Return (customer_accounts, customer_contacts, customer_meetings) of a person's week (or period)."""
    return row(table, person, when, column)[ENGAGEMENT_COLUMNS].tolist()


def test_an_account_with_two_domains_counts_once(tmp_path: Path) -> None:
    o = org()
    o.account("bigco-eu.example", "customer", account_id="acct-bigco.example")
    o.message("2025-01-07 09:00", "ana", [BUYER])
    o.message("2025-01-08 09:00", "eu@bigco-eu.example", ["ana"])  # received: the sender is among the others
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [1, 2, 0]


def test_two_contacts_of_one_account_in_one_meeting(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 10:00", 60, "ana", [BUYER, "cfo@bigco.example"])
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [1, 2, 1]


def test_only_customer_addresses_are_contacts(tmp_path: Path) -> None:
    o = org()
    o.account("partnerco.example", "partner")
    o.message("2025-01-07 09:00", "ana", [BUYER, "pat@partnerco.example", "bob"])  # the partner and bob do not count
    o.message("2025-01-07 09:10", "cid", ["pat@partnerco.example", "who@random.example"])  # no customer: no interaction
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [1, 1, 0]
    assert engagement(weekly, "bob", "2025-01-06") == [1, 1, 0]  # a recipient beside the customer interacts too
    assert engagement(weekly, "cid", "2025-01-06") == [0, 0, 0]


def test_a_broadcast_with_a_customer_is_no_interaction(tmp_path: Path) -> None:
    o = org()
    staff = [f"staff{i:02d}" for i in range(50)]
    o.message("2025-01-07 09:00", "ana", [BUYER, *staff])  # 51 recipients: a broadcast
    o.message("2025-01-07 09:05", "bob", [BUYER, *staff[:49]])  # 50 recipients: not a broadcast
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [0, 0, 0]
    assert engagement(weekly, "bob", "2025-01-06") == [1, 1, 0]


def test_a_declined_meeting_is_no_interaction(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 10:00", 60, "ana", [BUYER, ("bob", "declined"), ("cfo@bigco.example", "declined")])
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [1, 1, 1]  # the customer who declined is no contact
    assert engagement(weekly, "bob", "2025-01-06") == [0, 0, 0]


def test_a_prospect_counts_as_a_customer(tmp_path: Path) -> None:
    o = org()
    o.account("newco.example", "prospect")
    o.message("2025-01-07 09:00", "lead@newco.example", ["ana"])
    o.meeting("2025-01-08 10:00", 30, "ana", ["lead@newco.example", BUYER])
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [2, 2, 1]


def test_personal_addresses_are_no_contacts(tmp_path: Path) -> None:
    o = org()
    o.account("gmail.com", "customer")  # a personal domain in the CRM stays personal
    o.message("2025-01-07 09:00", "ana", ["pal@gmail.com"])  # no recipient left: not counted
    o.message("2025-01-07 09:10", "ana", ["pal@gmail.com", "bob"])
    o.meeting("2025-01-08 10:00", 30, "ana", ["pal@gmail.com", "bob"])
    weekly, _ = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [0, 0, 0]


def test_engagement_counts_are_per_week_and_periods_take_their_mean(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 10:00", 30, "ana", [BUYER])
    o.meeting("2025-01-08 10:00", 30, "ana", [BUYER])  # the same contact again: 1 contact, 2 meetings
    o.message("2025-01-21 09:00", "ana", ["bob"])  # a week later with no customer; the week between is empty
    weekly, period = run(o, tmp_path)
    assert engagement(weekly, "ana", "2025-01-06") == [1, 1, 2]
    assert engagement(weekly, "ana", "2025-01-13") == [0, 0, 0]
    assert engagement(weekly, "ana", "2025-01-20") == [0, 0, 0]
    assert engagement(period, "ana", "2025Q1", "period") == [1 / 3, 1 / 3, 2 / 3]


def period_engagement(period: pd.DataFrame, person: str, when: str = "2025Q1") -> list[Any]:
    """Return (accounts_touched, contacts_per_account, account_cadence) of a person's period."""
    return row(period, person, when, "period")[PERIOD_ENGAGEMENT_COLUMNS[:3]].tolist()


def test_one_account_in_two_of_four_weeks_has_cadence_one_half(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", [BUYER])
    o.message("2025-01-21 09:00", BUYER, ["ana"])  # weeks 1 and 3 of ana's 4
    o.message("2025-01-28 09:00", "ana", ["bob"])
    _, period = run(o, tmp_path)
    assert row(period, "ana", "2025Q1", "period")["weeks"] == 4
    assert period_engagement(period, "ana") == [1.0, 1.0, 0.5]


def test_cadence_is_the_mean_over_accounts(tmp_path: Path) -> None:
    o = org()
    o.account("newco.example", "prospect")
    for day in ("2025-01-07", "2025-01-14", "2025-01-21", "2025-01-28"):
        o.message(f"{day} 09:00", "ana", [BUYER])  # every week
    o.meeting("2025-01-15 10:00", 30, "ana", ["lead@newco.example"])  # once in four weeks
    _, period = run(o, tmp_path)
    assert period_engagement(period, "ana") == [2.0, 1.0, (1 + 0.25) / 2]


def test_three_contacts_over_two_accounts(tmp_path: Path) -> None:
    o = org()
    o.account("newco.example", "prospect")
    o.message("2025-01-07 09:00", "ana", [BUYER, "cfo@bigco.example"])
    o.meeting("2025-01-08 10:00", 30, "ana", ["lead@newco.example", BUYER])
    _, period = run(o, tmp_path)
    assert period_engagement(period, "ana") == [2.0, 1.5, 1.0]


def test_no_customer_interaction_scores_zero(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", ["bob"])
    o.message("2025-01-08 09:00", BUYER, ["bob"])  # bob's, not ana's
    _, period = run(o, tmp_path)
    assert period_engagement(period, "ana") == [0.0, 0.0, 0.0]
    assert period_engagement(period, "bob") == [1.0, 1.0, 1.0]


def test_an_account_with_two_domains_counts_once_in_the_period(tmp_path: Path) -> None:
    o = org()
    o.account("bigco-eu.example", "customer", account_id="acct-bigco.example")
    o.message("2025-01-07 09:00", "ana", [BUYER])
    o.message("2025-01-14 09:00", "eu@bigco-eu.example", ["ana"])
    _, period = run(o, tmp_path)
    assert period_engagement(period, "ana") == [1.0, 2.0, 1.0]  # one account, in both weeks


def test_a_contact_seen_in_two_weeks_counts_once_in_the_period(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", [BUYER])
    o.message("2025-01-14 09:00", "ana", [BUYER])
    o.message("2025-01-21 09:00", "ana", ["bob"])
    _, period = run(o, tmp_path)
    ana = row(period, "ana", "2025Q1", "period")
    assert ana["customer_contacts"] == pytest.approx(2 / 3)  # the weekly mean counts it in both weeks
    assert period_engagement(period, "ana") == [1.0, 1.0, pytest.approx(2 / 3)]


def test_period_engagement_reads_only_the_persons_weeks_and_each_period_alone(tmp_path: Path) -> None:
    o = org(people=("ana",))
    o.person("bob", hire_date=date(2025, 1, 15))  # a Wednesday: bob's weeks start 2025-01-13
    o.account("newco.example", "prospect")
    o.message("2025-01-07 09:00", "lead@newco.example", ["bob"])  # before bob's hire week: not counted
    o.message("2025-01-14 09:00", BUYER, ["bob", "ana"])
    o.message("2025-04-08 09:00", "ana", ["lead@newco.example"])  # 2025Q2
    _, period = run(o, tmp_path)
    assert row(period, "bob", "2025Q1", "period")["weeks"] == 1
    assert period_engagement(period, "bob") == [1.0, 1.0, 1.0]
    assert period_engagement(period, "ana", "2025Q1") == [1.0, 1.0, 1 / 12]  # 12 weeks of Q1, from 2025-01-13
    assert period_engagement(period, "ana", "2025Q2") == [1.0, 1.0, 1.0]  # 1 week of Q2


def reply_hours(period: pd.DataFrame, person: str, when: str = "2025Q1") -> float:
    """Return a person's customer_reply_hours of a period (nan: no reply to a customer)."""
    return float(row(period, person, when, "period")["customer_reply_hours"])


def test_reply_time_is_the_median_over_the_period(tmp_path: Path) -> None:
    o = org()
    for day, hours in (("2025-01-07", 1), ("2025-01-14", 2), ("2025-01-21", 4), ("2025-01-28", 30)):
        asked = o.message(f"{day} 09:00", BUYER, ["ana"])
        o.message(pd.Timestamp(f"{day} 09:00") + pd.Timedelta(hours=hours), "ana", [BUYER], replies_to=asked)
    o.message("2025-01-07 09:00", "bob", ["ana"])
    _, period = run(o, tmp_path)
    assert reply_hours(period, "ana") == 3.0  # (2 + 4) / 2: the mean of the two middle ones
    assert np.isnan(reply_hours(period, "bob"))  # no reply: empty, not zero


def test_an_odd_number_of_replies_takes_the_middle_one_to_the_second(tmp_path: Path) -> None:
    o = org()
    for minutes in (10, 95, 20):
        asked = o.message("2025-01-07 09:00", BUYER, ["ana"])
        o.message(pd.Timestamp("2025-01-07 09:00") + pd.Timedelta(minutes=minutes, seconds=7), "ana", [BUYER], replies_to=asked)
    _, period = run(o, tmp_path)
    assert reply_hours(period, "ana") == (20 * 60 + 7) / 3600


def test_a_reply_to_a_colleague_is_not_a_reply_to_a_customer(tmp_path: Path) -> None:
    o = org()
    asked = o.message("2025-01-07 09:00", "bob", ["ana", BUYER])
    o.message("2025-01-07 10:00", "ana", ["bob", BUYER], replies_to=asked)  # a customer among the recipients
    _, period = run(o, tmp_path)
    assert np.isnan(reply_hours(period, "ana"))


def test_a_reply_after_fourteen_days_does_not_count(tmp_path: Path) -> None:
    o = org()
    asked = o.message("2025-01-07 09:00", BUYER, ["ana", "bob"])
    o.message("2025-01-21 09:00", "ana", [BUYER], replies_to=asked)  # 14 days: counted
    o.message("2025-01-22 09:00", "bob", [BUYER], replies_to=asked)  # 15 days: not
    _, period = run(o, tmp_path)
    assert reply_hours(period, "ana") == 14 * 24
    assert np.isnan(reply_hours(period, "bob"))
    _, period = run(o, tmp_path, reply_max_days=15)
    assert reply_hours(period, "bob") == 15 * 24


def test_a_message_that_is_its_own_parent_is_no_reply(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", [BUYER], key="m-self", replies_to="m-self")
    o.message("2025-01-07 10:00", BUYER, ["bob"], key="m-buyer", replies_to="m-buyer")  # the customer's own
    o.message("2025-01-07 11:00", "bob", [BUYER], replies_to="m-not-stored")
    _, period = run(o, tmp_path)
    assert np.isnan(reply_hours(period, "ana"))
    assert np.isnan(reply_hours(period, "bob"))


def test_only_a_recipient_of_the_customers_message_replies_to_it(tmp_path: Path) -> None:
    o = org()
    asked = o.message("2025-01-07 09:00", BUYER, ["ana"])
    o.message("2025-01-07 09:30", "bob", [BUYER], replies_to=asked)  # bob was not sent it
    o.message("2025-01-07 09:00", "ana", [BUYER], replies_to=asked)  # same second: 0 hours
    early = o.message("2025-01-07 12:00", BUYER, ["cid"])
    o.message("2025-01-07 11:00", "cid", [BUYER], replies_to=early)  # before its parent
    _, period = run(o, tmp_path)
    assert np.isnan(reply_hours(period, "bob"))
    assert reply_hours(period, "ana") == 0.0
    assert np.isnan(reply_hours(period, "cid"))


def test_a_reply_counts_in_the_period_it_is_sent_in(tmp_path: Path) -> None:
    o = org()
    asked = o.message("2025-03-28 09:00", "lead@newco.example", ["ana"])
    o.account("newco.example", "prospect")
    # 11 days later, in the week of Monday 2025-04-07: Q2 (the week of 2025-03-31 is Q1's)
    o.message("2025-04-08 09:00", "ana", ["lead@newco.example"], replies_to=asked)
    _, period = run(o, tmp_path)
    assert np.isnan(reply_hours(period, "ana", "2025Q1"))
    assert reply_hours(period, "ana", "2025Q2") == 11 * 24


def coverage(period: pd.DataFrame, person: str, when: str = "2025Q1") -> list[float]:
    """Return (owned_accounts, owned_accounts_touched_pct) of a person's period."""
    return row(period, person, when, "period")[["owned_accounts", "owned_accounts_touched_pct"]].tolist()


def test_book_coverage_is_the_share_of_owned_accounts_touched(tmp_path: Path) -> None:
    o = org(people=("ana", "bob"))
    o.account("newco.example", "prospect", owner="ana")
    o.account("oldco.example", "customer", owner="ana")
    o.account("eu.bigco.example", "customer", account_id="acct-bigco.example", owner="ana")
    o.account("farco.example", "customer", owner="someone-gone")  # an owner off the roster
    o.rows["account_domains"][0]["owner"] = "ana"  # bigco.example: ana's too (both domains of the account)
    o.message("2025-01-07 09:00", "ana", [BUYER, "cfo@farco.example"])
    o.message("2025-01-08 09:00", "lead@newco.example", ["bob"])
    o.message("2025-04-08 09:00", "ana", ["lead@newco.example", "bob"])
    _, period = run(o, tmp_path)
    assert coverage(period, "ana", "2025Q1") == [3.0, 100 / 3]  # bigco of bigco, newco, oldco; farco is not ana's
    assert coverage(period, "ana", "2025Q2") == [3.0, 100 / 3]  # newco
    owned, share = coverage(period, "bob")
    assert owned == 0.0 and np.isnan(share)  # owns nothing: no share


def test_without_owners_book_coverage_is_empty(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", [BUYER])
    _, period = run(o, tmp_path)
    assert all(np.isnan(value) for value in coverage(period, "ana"))


# ---------------------------------------------------------------- network


def test_network_needs_two_meaningful_interactions_in_four_weeks(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", ["bob"])
    o.message("2025-01-28 09:00", "bob", ["ana"])  # 3 weeks later: both in the window of week 01-27
    o.message("2025-01-07 09:30", "ana", ["cid"])
    o.message("2025-02-04 09:00", "cid", ["ana"])  # 4 weeks later: never in one window
    weekly, _ = run(o, tmp_path)
    sizes = weekly.loc[weekly["person"] == "ana", "internal_network_size"].tolist()
    assert weeks_of(weekly, "ana") == ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03"]
    assert sizes == [0, 0, 0, 1, 0]
    assert weekly.loc[weekly["person"] == "cid", "internal_network_size"].max() == 0


def test_six_person_interactions_make_no_ties(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eli", "fay"))
    for minute in (0, 5):
        o.message(f"2025-01-07 09:{minute:02d}", "ana", ["bob", "cid", "dee", "eli"])  # 5 people: ties
        o.message(f"2025-01-07 10:{minute:02d}", "bob", ["cid", "dee", "eli", "fay", "ana"])  # 6 people: none
        o.meeting(f"2025-01-08 1{minute // 5}:00", 30, "fay", ["bob", "cid", "dee", "eli", "ana"])  # 6 counted: none
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "ana", "2025-01-06")["internal_network_size"] == 4
    assert row(weekly, "fay", "2025-01-06")["internal_network_size"] == 0


def test_message_ties_sender_with_recipients_only(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", ["bob", "cid"])
    o.message("2025-01-07 09:05", "ana", ["bob", "cid"])
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "bob", "2025-01-06")["internal_network_size"] == 1  # ana, not cid
    assert row(weekly, "ana", "2025-01-06")["internal_network_size"] == 2


def test_meeting_ties_every_pair(tmp_path: Path) -> None:
    o = org()
    o.meeting("2025-01-07 09:00", 30, "ana", ["bob", "cid"])
    o.meeting("2025-01-08 09:00", 30, "ana", ["bob", "cid"])
    weekly, _ = run(o, tmp_path)
    assert row(weekly, "bob", "2025-01-06")["internal_network_size"] == 2


def test_ties_are_only_between_internal_addresses(tmp_path: Path) -> None:
    o = org()
    for minute in (0, 5):
        o.message(f"2025-01-07 09:{minute:02d}", "ana", [BUYER])
        o.message(f"2025-01-07 10:{minute:02d}", "ana", ["nora"])  # internal, not on the roster
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    assert (ana["internal_network_size"], ana["org_span"]) == (1, 0)


def test_org_span_counts_other_orgs_of_roster_colleagues(tmp_path: Path) -> None:
    o = org(people=("ana", "bob"))
    o.person("cid", org="Marketing")
    o.person("dee", org="Finance")
    o.person("eli", org="Marketing")
    o.person("fay", org=None)
    for minute in (0, 5):
        o.message(f"2025-01-07 09:{minute:02d}", "ana", ["bob", "cid", "dee", "eli"])
        o.message(f"2025-01-07 10:{minute:02d}", "ana", ["nora", "fay"])
    weekly, _ = run(o, tmp_path)
    ana = row(weekly, "ana", "2025-01-06")
    # Network: bob, cid, dee, eli, nora, fay. Orgs other than Sales: Marketing, Finance.
    assert (ana["internal_network_size"], ana["org_span"]) == (6, 2)
    # fay has no org of her own: ana's Sales counts.
    assert row(weekly, "fay", "2025-01-06")["org_span"] == 1


# ---------------------------------------------------------------- periods


def test_period_means_and_quarter_boundary(tmp_path: Path) -> None:
    o = org()
    o.message("2025-03-25 09:00", "ana", ["bob"])  # week 03-24, Q1
    o.message("2025-04-01 09:00", "ana", ["bob"])  # week 03-31: its Monday is in March, Q1
    o.message("2025-04-02 09:00", "ana", ["bob"])
    o.message("2025-04-08 09:00", "ana", ["bob"])  # week 04-07, Q2
    weekly, period = run(o, tmp_path)
    assert row(weekly, "ana", "2025-03-31")["period"] == "2025Q1"
    q1, q2 = row(period, "ana", "2025Q1", "period"), row(period, "ana", "2025Q2", "period")
    assert (q1["weeks"], q1["emails_sent"], q1["email_hours"]) == (2, 1.5, pytest.approx(1.5 * SENT))
    assert q1["internal_network_size"] == 0.5  # week 03-24: 1 tie; week 03-31: 3 ties in the window
    assert (q1["period_start"], q2["period_start"], q2["weeks"]) == (date(2025, 1, 1), date(2025, 4, 1), 1)


def test_auto_period_follows_the_kpis(tmp_path: Path) -> None:
    o = org()
    o.kpi("ana", "2025-03")
    o.message("2025-04-01 09:00", "ana", ["bob"])  # week 03-31
    o.message("2025-04-08 09:00", "ana", ["bob"])  # week 04-07
    weekly, period = run(o, tmp_path)
    assert weekly.loc[weekly["person"] == "ana", "period"].tolist() == ["2025-03", "2025-04"]
    assert row(period, "ana", "2025-03", "period")["period_start"] == date(2025, 3, 1)
    weekly, _ = run(o, tmp_path, period="quarter")
    assert weekly.loc[weekly["person"] == "ana", "period"].tolist() == ["2025Q1", "2025Q2"]


# ---------------------------------------------------------------- graph scores


def test_percentiles_average_ties(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eve"))
    for leaf in ("bob", "cid", "dee"):  # a star around ana
        o.message("2025-01-07 09:00", "ana", [leaf])
    o.meeting("2025-01-08 09:00", 30, "eve", ["ana"], cancelled=True)  # eve has a row, not in the graph
    _, period = run(o, tmp_path)
    scores = period.set_index("person")
    # Prominence: ana 1, leaves 1/sqrt(3), eve 0 -> ranks 5, 3 (avg of 2,3,4), 1 -> 100, 50, 0.
    assert scores["network_prominence"].to_dict() == {"ana": 100.0, "bob": 50.0, "cid": 50.0, "dee": 50.0, "eve": 0.0}
    # Brokerage: ana 3 (the three leaf pairs), everyone else 0 -> ranks 5 and 2.5 -> 100, 37.5.
    assert scores["network_brokerage"].to_dict() == {"ana": 100.0, "bob": 37.5, "cid": 37.5, "dee": 37.5, "eve": 37.5}


def test_eigenvector_keeps_only_the_component_with_the_largest_eigenvalue(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eli"))
    for minute in (0, 1, 2):
        o.message(f"2025-01-07 09:0{minute}", "ana", ["bob"])  # ana–bob weight 3: eigenvalue 3
    o.message("2025-01-07 10:00", "cid", ["dee"])  # path cid–dee–eli: eigenvalue sqrt(2)
    o.message("2025-01-07 10:05", "dee", ["eli"])
    _, period = run(o, tmp_path)
    scores = period.set_index("person")
    # ana and bob score 1, the path 0: ranks 4.5 and 2 -> 87.5 and 25.
    assert scores["network_prominence"].to_dict() == {"ana": 87.5, "bob": 87.5, "cid": 25.0, "dee": 25.0, "eli": 25.0}
    # Betweenness: dee 1 (cid–eli), everyone else 0.
    assert scores["network_brokerage"].to_dict() == {"ana": 37.5, "bob": 37.5, "cid": 37.5, "dee": 100.0, "eli": 37.5}


def test_eigenvector_keeps_every_component_tied_for_the_largest_eigenvalue(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eli", "fay", "gil", "hub"))
    for i, (a, b) in enumerate([("ana", "bob"), ("bob", "cid"), ("dee", "eli"), ("eli", "fay"), ("gil", "hub")]):
        o.message(f"2025-01-07 09:{i:02d}", a, [b])
    _, period = run(o, tmp_path)
    # Two identical paths ana–bob–cid and dee–eli–fay (eigenvalue sqrt(2)) tie: each keeps its own
    # vector, ends 1/sqrt(2) and centre 1. The pair gil–hub (eigenvalue 1) scores 0.
    # Ranks: gil, hub 1.5; the four ends 4.5; bob, eli 7.5 -> 100 × (rank − 1) / 7.
    scores = period.set_index("person")["network_prominence"].to_dict()
    expected = dict.fromkeys(["ana", "cid", "dee", "fay"], 50.0) | {"bob": 650 / 7, "eli": 650 / 7, "gil": 50 / 7, "hub": 50 / 7}
    assert scores == pytest.approx(expected)


def test_betweenness_shares_unweighted_shortest_paths(tmp_path: Path) -> None:
    o = org(people=("ana", "bob", "cid", "dee", "eli"))
    edges = [("ana", "bob"), ("ana", "bob"), ("ana", "bob"), ("ana", "cid"), ("bob", "dee"), ("cid", "dee"), ("dee", "eli")]
    for i, (a, b) in enumerate(edges):
        o.message(f"2025-01-07 09:{i:02d}", a, [b])
    _, period = run(o, tmp_path)
    # A diamond ana–{bob, cid}–dee plus dee–eli. Raw betweenness (weights ignored):
    # ana 0.5, bob 1, cid 1, dee 3.5, eli 0 -> ranks 2, 3.5, 3.5, 5, 1.
    scores = period.set_index("person")["network_brokerage"].to_dict()
    assert scores == {"ana": 25.0, "bob": 62.5, "cid": 62.5, "dee": 100.0, "eli": 0.0}


def test_single_person_period_percentile_is_50(tmp_path: Path) -> None:
    o = org(people=("ana",))
    o.message("2025-01-07 09:00", "ana", ["nora"])
    _, period = run(o, tmp_path)
    ana = row(period, "ana", "2025Q1", "period")
    assert (ana["network_prominence"], ana["network_brokerage"]) == (50.0, 50.0)


def test_empty_graph_ranks_everyone_equal(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", [BUYER])
    o.message("2025-01-07 09:00", "bob", [BUYER])
    o.message("2025-01-07 09:00", "cid", [BUYER])
    _, period = run(o, tmp_path)
    assert period["network_prominence"].tolist() == [50.0, 50.0, 50.0]
    assert period["network_brokerage"].tolist() == [50.0, 50.0, 50.0]


# ---------------------------------------------------------------- the tables


def test_output_columns_and_types(tmp_path: Path) -> None:
    o = org()
    o.message("2025-01-07 09:00", "ana", ["bob"])
    weekly, period = run(o, tmp_path)
    assert list(weekly.columns) == ["person", "week", "period", *WEEK_COLUMNS]
    assert list(period.columns) == ["person", "period", "period_start", "weeks", *PERIOD_COLUMNS]
    assert all(weekly[c].dtype == "float64" for c in HOUR_COLUMNS)
    assert all(weekly[c].dtype == "int64" for c in COUNT_COLUMNS)
    assert isinstance(weekly["week"].iloc[0], date)
    assert isinstance(period["period_start"].iloc[0], date)
    assert period["weeks"].dtype == "int64"


def test_oracle_runs_on_the_edge_case_company(tmp_path: Path) -> None:
    tables = edge_case_tables()
    config = edge_case_config(tmp_path)
    started = time.perf_counter()
    weekly, period = oracle_metrics(tables, config)
    assert time.perf_counter() - started < 30
    assert sorted(weekly["person"].unique()) == sorted(EDGE_CASE_ACTIVE)
    assert "gus" in EDGE_CASE_PEOPLE and "gus" not in set(weekly["person"])
    assert all(w.weekday() == 0 for w in weekly["week"])
    assert weeks_of(weekly, "eve")[0] == "2025-03-03"  # hire week, though she appears earlier
    assert weeks_of(weekly, "fay")[-1] == "2025-03-17"  # leave week, though she appears later
    assert set(period["period"]) == {"2025Q1", "2025Q2"}
    assert weekly.equals(oracle_person_week(tables, config))
    # A few hand-checked values of the edge cases.
    ana = row(weekly, "ana", "2025-02-17")
    assert (ana["meeting_hours"], ana["manager_1on1_hours"], ana["meetings"]) == (5.5, 2.0, 7)
    assert row(weekly, "ana", "2025-02-24")["meeting_hours"] == pytest.approx(479 / 60 + 1.5 + 1.0)
    assert row(weekly, "ana", "2025-03-24")["after_hours_collaboration_hours"] == 10.0  # 22:00-11:00 NY
    assert row(weekly, "ben", "2025-03-24")["after_hours_collaboration_hours"] == 5.0  # 03:00-16:00 Berlin
    assert row(weekly, "ceo", "2025-03-10")["internal_network_size"] == 1  # lea, 3 weeks apart
    assert weekly.loc[weekly["person"] == "vic", "internal_network_size"].max() == 0  # mia, 4 weeks apart
    engagement = ["customer_accounts", "customer_contacts", "customer_meetings"]
    # cat: a prospect meeting (lead) and a message to two contacts of one account (two domains).
    assert row(weekly, "cat", "2025-03-10")[engagement].tolist() == [2, 3, 1]
    # hal: meetings with buyer and with a contact of the same account's other domain.
    assert row(weekly, "hal", "2025-03-10")[engagement].tolist() == [1, 2, 2]
    assert row(weekly, "dan", "2025-03-10")[engagement].tolist() == [0, 0, 0]  # declined
    prominence = period.set_index(["person", "period"])["network_prominence"]
    assert prominence[("jon", "2025Q1")] == prominence[("ivy", "2025Q1")]  # the smaller component scores 0
