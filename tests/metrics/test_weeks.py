"""Weeks, periods and time-zone offsets: the small tables every backend joins with."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from repsight.errors import MetricsError
from repsight.metrics.weeks import (
    EPOCH,
    calendar_table,
    monday_of,
    period_grain,
    period_of,
    valid_zone,
    zone_days_table,
)


def epoch_day(day: date) -> int:
    return (day - EPOCH).days


def test_monday_of_every_day_of_a_week() -> None:
    monday = date(2025, 3, 3)
    for offset in range(7):
        assert monday_of(epoch_day(monday + timedelta(days=offset))) == epoch_day(monday)
    assert monday_of(epoch_day(monday + timedelta(days=7))) == epoch_day(monday) + 7


def test_periods_are_quarters_unless_the_kpis_use_months() -> None:
    assert period_grain("auto", ["2025Q1", "2025Q2"]) == "quarter"
    assert period_grain("auto", ["2025Q1", "2025-04"]) == "month"
    assert period_grain("auto", []) == "quarter"
    assert period_grain("month", ["2025Q1"]) == "month"
    assert period_of(date(2025, 3, 31), "quarter") == ("2025Q1", date(2025, 1, 1))
    assert period_of(date(2025, 4, 1), "quarter") == ("2025Q2", date(2025, 4, 1))
    assert period_of(date(2025, 12, 29), "month") == ("2025-12", date(2025, 12, 1))


def test_a_week_belongs_to_the_period_of_its_monday() -> None:
    # Monday 2025-03-31 is in Q1 although most of its week is in April.
    table = calendar_table(epoch_day(date(2025, 3, 24)), epoch_day(date(2025, 4, 7)), "quarter").to_pylist()
    assert [(r["week"], r["period"], r["period_start"]) for r in table] == [
        (date(2025, 3, 24), "2025Q1", date(2025, 1, 1)),
        (date(2025, 3, 31), "2025Q1", date(2025, 1, 1)),
        (date(2025, 4, 7), "2025Q2", date(2025, 4, 1)),
    ]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"])
def test_zone_days_give_the_offset_of_every_hour_and_every_change(zone: str) -> None:
    first, last = epoch_day(date(2024, 12, 25)), epoch_day(date(2025, 12, 31))
    rows = {r["day"]: r for r in zone_days_table([zone], first, last).to_pylist()}
    tz = ZoneInfo(zone)
    # Every quarter hour, and the seconds either side of each change.
    moments = list(range(first * 86400, (last + 1) * 86400, 900))
    moments += [r["change_at"] + d for r in rows.values() if r["change_at"] < (r["day"] + 1) * 86400 for d in (-1, 0, 1)]
    for second in moments:
        row = rows[second // 86400]
        offset = row["offset_after"] if second >= row["change_at"] else row["offset_before"]
        expected = datetime.fromtimestamp(second, UTC).astimezone(tz).utcoffset()
        assert expected is not None and offset == expected.total_seconds(), (zone, second)


def test_a_date_decades_off_is_a_clear_error() -> None:
    with pytest.raises(MetricsError, match="a date that far off is broken"):
        zone_days_table(["UTC"], epoch_day(date(1971, 1, 1)), epoch_day(date(2025, 1, 1)))


def test_only_iana_names_are_zones() -> None:
    assert valid_zone("Europe/Berlin") and not valid_zone("") and not valid_zone(None) and not valid_zone("CET-ish")
