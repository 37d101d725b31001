"""Weeks, periods and time-zone offsets, as small tables the metric expressions join with.

Every backend computes local time the same way: a join with `zone_days`,
one row per time zone and UTC day, giving the offset in force and the one
change within that day, if any. Weeks are whole numbers (the epoch day of
their Monday), so week arithmetic is integer arithmetic on every engine.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from repsight.errors import MetricsError

__all__ = [
    "DAY",
    "EPOCH",
    "WEEK",
    "PeriodGrain",
    "calendar_table",
    "monday_of",
    "period_grain",
    "period_of",
    "valid_zone",
    "zone_days_table",
]

DAY = 86_400
WEEK = 7 * DAY
EPOCH = date(1970, 1, 1)
# 1970-01-01 was a Thursday: weekday (Monday 0) of epoch day d is (d + 3) % 7.
EPOCH_WEEKDAY = 3
# Data spans longer than this are a sign of a broken date, not of history.
MAX_SPAN_DAYS = 40 * 366
_MONTH = re.compile(r"\d{4}-\d{2}")

PeriodGrain = str  # "quarter" or "month"


def monday_of(day: int) -> int:
    """Return the epoch day of the Monday of the week holding epoch day `day`."""
    return day - (day + EPOCH_WEEKDAY) % 7


def period_grain(setting: str, kpi_periods: list[str]) -> PeriodGrain:
    """Return "month" or "quarter": the setting, or for "auto" what the KPIs use."""
    if setting != "auto":
        return setting
    return "month" if any(_MONTH.fullmatch(p) for p in kpi_periods) else "quarter"


def period_of(day: date, grain: PeriodGrain) -> tuple[str, date]:
    """Return the name and first day of the period holding `day`."""
    if grain == "month":
        return f"{day.year}-{day.month:02d}", day.replace(day=1)
    quarter = (day.month - 1) // 3
    return f"{day.year}Q{quarter + 1}", date(day.year, 3 * quarter + 1, 1)


def calendar_table(first_week: int, last_week: int, grain: PeriodGrain) -> pa.Table:
    """Return one row per week from `first_week` to `last_week` (epoch days of Mondays).

    Columns: `week_start_day` (the Monday's epoch day), `week` (its date), `period`
    (the period its Monday falls in) and `period_start`.
    """
    days, weeks, periods, starts = [], [], [], []
    for week_start_day in range(first_week, last_week + 1, 7):
        monday = EPOCH + timedelta(days=week_start_day)
        period, start = period_of(monday, grain)
        days.append(week_start_day)
        weeks.append(monday)
        periods.append(period)
        starts.append(start)
    return pa.table(
        {
            "week_start_day": pa.array(days, pa.int64()),
            "week": pa.array(weeks, pa.date32()),
            "period": pa.array(periods, pa.string()),
            "period_start": pa.array(starts, pa.date32()),
        }
    )


def valid_zone(name: str | None) -> bool:
    """Return whether `name` is an IANA time zone this machine knows."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ("Europe")
        return False
    return True


def _offset(zone: ZoneInfo, second: int) -> int:
    moment = datetime.fromtimestamp(second, UTC).astimezone(zone)
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _change_within(zone: ZoneInfo, start: int, end: int, before: int) -> int:
    """Return the first second in (start, end] whose offset differs from `before`."""
    low, high = start, end
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def zone_days_table(zones: list[str], first_day: int, last_day: int) -> pa.Table:
    """Return the UTC offset of each zone on each UTC day from `first_day` to `last_day`.

    Columns: `zone`, `day` (epoch day), `offset_before` (seconds, in force at
    the day's start), `change_at` (epoch second of the day's offset change, or
    the next day's start if none) and `offset_after`. The local time of epoch
    second s is s + (offset_after if s >= change_at else offset_before).
    """
    if last_day - first_day > MAX_SPAN_DAYS:
        raise MetricsError(
            f"the events span {EPOCH + timedelta(days=first_day)} to {EPOCH + timedelta(days=last_day)}; "
            "a date that far off is broken: find it with `repsight status` and fix or remove its file"
        )
    columns: dict[str, list[object]] = {"zone": [], "day": [], "offset_before": [], "change_at": [], "offset_after": []}
    for name in zones:
        zone = ZoneInfo(name)
        before = _offset(zone, first_day * DAY)
        for day in range(first_day, last_day + 1):
            start, end = day * DAY, (day + 1) * DAY
            after = _offset(zone, end)
            change_at, offset_after = end, before
            if after != before:
                change_at = _change_within(zone, start, end, before)
                offset_after = _offset(zone, change_at)
                if change_at < end and _offset(zone, end - 1) != offset_after:
                    raise MetricsError(f"time zone {name} changes its offset twice on {EPOCH + timedelta(days=day)}")
            for column, value in zip(columns, (name, day, before, change_at, offset_after), strict=True):
                columns[column].append(value)
            before = after
    return pa.table(
        {
            "zone": pa.array(columns["zone"], pa.string()),
            "day": pa.array(columns["day"], pa.int64()),
            "offset_before": pa.array(columns["offset_before"], pa.int64()),
            "change_at": pa.array(columns["change_at"], pa.int64()),
            "offset_after": pa.array(columns["offset_after"], pa.int64()),
        }
    )
