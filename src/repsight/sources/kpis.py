"""Sales results (CSV): quota and bookings, or attainment, per person and period.

A person is named by `email`, or, in a Viva Insights workspace, by the
person query's `PersonId` (a `PersonId` column instead of `email`).
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterator
from datetime import date

from repsight.errors import InputError
from repsight.sources.csvfile import FieldError, parse_address, parse_number, read_csv, shown
from repsight.sources.files import Source
from repsight.sources.records import Kpi, Rejected

__all__ = ["PERSON_COLUMNS", "REQUIRED_COLUMNS", "parse_period", "read_kpis"]

REQUIRED_COLUMNS = ("period",)
PERSON_COLUMNS = ("email", "personid")
"""A KPI file names people by one of these columns."""
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(value: str) -> tuple[str, date, date]:
    """Return (canonical name, first day, last day) of a `2025Q1` or `2025-01` period."""
    if match := _QUARTER.match(value.strip()):
        year, quarter = int(match[1]), int(match[2])
        first_month = 3 * quarter - 2
        last_month = first_month + 2
        return (
            f"{year}Q{quarter}",
            date(year, first_month, 1),
            date(year, last_month, monthrange(year, last_month)[1]),
        )
    if match := _MONTH.match(value.strip()):
        year, month = int(match[1]), int(match[2])
        return f"{year}-{month:02d}", date(year, month, 1), date(year, month, monthrange(year, month)[1])
    raise FieldError("period", f"{shown(value)} is not a quarter (2025Q1) or a month (2025-01)")


def _attainment(fields: dict[str, str]) -> tuple[float | None, float | None, float]:
    quota_text, bookings_text = fields.get("quota", ""), fields.get("bookings", "")
    attainment_text = fields.get("attainment", "")
    if quota_text or bookings_text:
        if not quota_text:
            raise FieldError("quota", "is empty but bookings is given")
        if not bookings_text:
            raise FieldError("bookings", "is empty but quota is given")
        quota = parse_number(quota_text, "quota")
        bookings = parse_number(bookings_text, "bookings")
        if quota <= 0:
            raise FieldError("quota", f"{shown(quota_text)} is not a positive number")
        return quota, bookings, bookings / quota
    if attainment_text:
        percent = attainment_text.endswith("%")
        value = parse_number(attainment_text.rstrip("%"), "attainment")
        return None, None, value / 100 if percent else value
    raise FieldError("quota", "no result: give quota and bookings, or attainment")


def read_kpis(source: Source) -> Iterator[Kpi | Rejected]:
    """Yield each KPI row, or Rejected with the reason."""
    seen: dict[tuple[str, str], str] = {}
    for row in read_csv(source.text, source.path, required=REQUIRED_COLUMNS):
        if row.problem is not None:
            yield Rejected(row.position, row.problem.field, row.problem.reason)
            continue
        by_id = "email" not in row.fields
        if by_id and "personid" not in row.fields:
            raise InputError(f"{source.path}: row 1: missing column email (or PersonId, in a Viva Insights workspace)")
        try:
            if by_id:
                if not row.fields["personid"]:
                    raise FieldError("PersonId", "is empty")
                email = row.fields["personid"]
            else:
                if not row.fields["email"]:
                    raise FieldError("email", "is empty")
                email, _ = parse_address(row.fields["email"], "email")
            period, first, last = parse_period(row.fields["period"])
            pair = (email.lower(), period)
            if pair in seen:
                raise FieldError("period", f"duplicate result: the same person and period are on {seen[pair]}")
            quota, bookings, attainment = _attainment(row.fields)
        except FieldError as exc:
            yield Rejected(row.position, exc.field, exc.reason)
            continue
        seen[pair] = row.position
        yield Kpi(row.position, email, period, first, last, quota, bookings, attainment, by_viva_id=by_id)
