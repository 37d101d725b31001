"""Reading CSV inputs: header checks, row positions, field parsing shared by all CSV readers."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import IO, TypeVar

from repsight.errors import InputError
from repsight.sources.files import Source
from repsight.sources.records import Rejected

T = TypeVar("T")

__all__ = [
    "CsvRow",
    "FieldError",
    "parse_address",
    "parse_address_list",
    "parse_bool",
    "parse_date",
    "parse_number",
    "parse_rows",
    "parse_timestamp",
    "read_csv",
]


class FieldError(ValueError):
    """A field's value is wrong; the reader turns it into a quarantine entry."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its position as a spreadsheet shows it (header = row 1) and its fields."""

    position: str
    fields: dict[str, str]
    problem: FieldError | None = None


def read_csv(text: IO[str], path: Path, *, required: tuple[str, ...]) -> Iterator[CsvRow]:
    """Yield the data rows of a CSV file whose header holds the `required` columns.

    Column names are matched case-insensitively; blank lines are skipped.
    A row with the wrong number of fields, or undecodable bytes, comes with
    its `problem` set.
    """
    # An all-hands invitation lists thousands of addresses in one field.
    csv.field_size_limit(1 << 26)
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise InputError(f"{path}: row 1: not CSV: {exc}") from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(
            f"{path}: row 1: missing column(s) {', '.join(missing)}; the header has {', '.join(n or '(blank)' for n in names)}"
        )
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise InputError(f"{path}: row 1: column(s) {', '.join(duplicated)} appear more than once")
    last_line = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            position = f"row {last_line + 1}"
            last_line = reader.line_num
            yield CsvRow(position, {}, FieldError("(row)", f"not CSV: {exc}"))
            continue
        position = f"row {last_line + 1}"
        last_line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(names):
            problem = FieldError("(row)", f"has {len(values)} fields; the header has {len(names)}")
            yield CsvRow(position, {}, problem)
            continue
        fields = {name: value.strip() for name, value in zip(names, values, strict=True)}
        bad = next((n for n, v in fields.items() if "\ufffd" in v), None)
        if bad is not None:
            yield CsvRow(position, fields, FieldError(bad, "not valid UTF-8"))
            continue
        yield CsvRow(position, fields)


# A bare address, as the CSV contract has it: checked without the (slow)
# general RFC 5322 parser, which handles every other form.
_BARE_ADDRESS = re.compile(r"[^\s@<>\"(),;:]+@[^\s@<>\"(),;:.]+(?:\.[^\s@<>\"(),;:.]+)+")


def parse_rows(source: Source, required: tuple[str, ...], parse: Callable[[str, dict[str, str]], T]) -> Iterator[T | Rejected]:
    """Yield `parse(position, fields)` for each row, or Rejected where the row or `parse` finds a problem."""
    for row in read_csv(source.text, source.path, required=required):
        if row.problem is not None:
            yield Rejected(row.position, row.problem.field, row.problem.reason)
            continue
        try:
            yield parse(row.position, row.fields)
        except FieldError as exc:
            yield Rejected(row.position, exc.field, exc.reason)


def parse_address(value: str, field: str) -> tuple[str, str]:
    """Return (address, display name) of one mail address, or raise FieldError."""
    value = value.strip()
    if _BARE_ADDRESS.fullmatch(value):
        return value, ""
    name, address = parseaddr(value)
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not value.strip():
        raise FieldError(field, "is empty")
    # The value is left out of the reason: it may be a person's name or address,
    # and the quarantine must not become a second identity table.
    if not at or not local or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise FieldError(field, "is not a mail address")
    if any(ch.isspace() for ch in address):
        raise FieldError(field, "is not a mail address")
    return address, name.strip()


def parse_address_list(value: str, field: str) -> list[tuple[str, str]]:
    """Return the `;`-separated addresses of a field (none when it is empty)."""
    found = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        # Nearly every address of a mail export is bare: skip the parser for those.
        found.append((part, "") if _BARE_ADDRESS.fullmatch(part) else parse_address(part, field))
    return found


def parse_number(value: str, field: str) -> float:
    """Return a finite number, allowing thousands separators, or raise FieldError."""
    cleaned = value.replace(",", "").replace("_", "").strip()
    try:
        number = float(cleaned)
    except ValueError:
        raise FieldError(field, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise FieldError(field, f"{value!r} is not a finite number")
    return number


def parse_date(value: str, field: str) -> date:
    """Return an ISO 8601 date (YYYY-MM-DD), or raise FieldError."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def parse_timestamp(value: str, field: str) -> datetime:
    """Return an aware ISO 8601 timestamp; one without an offset or `Z` is refused."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"{value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FieldError(field, f"{value!r} has no UTC offset (add 'Z' or '+01:00')")
    return moment


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def parse_bool(value: str, field: str) -> bool:
    """Return a boolean from true/false, 1/0, yes/no (blank is false)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise FieldError(field, f"{value!r} is not true or false")
