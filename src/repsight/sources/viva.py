"""Viva Insights person queries (CSV): weekly metrics per `PersonId`, with the person's HR attributes (docs/viva.md).

A person query has one row per person and week. It is read as Viva
Insights writes it and as its analysis packages clean it: display-name
headers (`Collaboration hours`) or snake-case ones (`Collaboration_hours`),
`%` in headers and values, a leading unnamed index column, `MetricDate` as
`MM/DD/YYYY` or ISO, UTF-8 with or without a byte-order mark, the British
and American spellings that differ between releases, and older names of
the same metrics (`ALIASES`). repsight's own `export --format viva` reads
back too: its lower-case columns are repsight's metric names.

Every numeric column is kept, by its canonical name (`canonical_name`);
every other column is an HR attribute. Which is which is decided from the
file's first rows (`SAMPLE_ROWS`): a column whose values there are all
numbers (or empty) is a metric.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator
from datetime import date

from repsight.errors import InputError
from repsight.metrics.catalog import CATALOG
from repsight.sources.csvfile import FieldError, parse_address, read_csv, shown
from repsight.sources.files import Source
from repsight.sources.records import Rejected, VivaIdentity, VivaWeek

__all__ = [
    "ALIASES",
    "HR_COLUMNS",
    "IGNORED",
    "METRIC_OF",
    "SAMPLE_ROWS",
    "TEXT_HR",
    "canonical_name",
    "kept_attribute",
    "parse_metric_date",
    "read_viva",
    "read_viva_identities",
]

SAMPLE_ROWS = 1_000
"""Rows read before deciding which columns are metrics (numbers) and which are HR attributes (text)."""

ALIASES: dict[str, str] = {
    # Older names of the same metric (by canonical form) → today's person-query name.
    "date": "metric_date",
    "metricdate": "metric_date",
    "personid": "person_id",
    "manager_coaching_hours_1_on_1": "meeting_and_call_hours_with_manager_1_1",
    "meeting_hours_with_manager_1_on_1": "meeting_and_call_hours_with_manager_1_1",
    "meeting_and_call_hours_with_manager_1_on_1": "meeting_and_call_hours_with_manager_1_1",
    "meeting_hours_with_manager": "meeting_and_call_hours_with_manager",
    "meeting_hours_with_skip_level": "meeting_and_call_hours_with_skip_level",
    "networking_outside_organisation": "network_outside_organisation",
    "networking_outside_company": "network_outside_company",
    "collaboration_hours_external": "external_collaboration_hours",
    "time_with_leadership_hours": "time_with_leadership",
}
"""Older or alternative column names (canonical form) and the canonical name they mean today."""


def canonical_name(header: str) -> str:
    """Return a column's canonical name: snake case, lower case, `%` as `pct`, British spelling, today's name.

    `Collaboration hours`, `Collaboration_hours` and `collaboration_hours` are
    one column; so are `Network_outside_organization` and
    `Networking_outside_organisation`.
    """
    name = header.strip().lstrip("\ufeff").replace("%", " pct ")
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)  # camel case: LevelDesignation, PersonId
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower()
    name = name.replace("organization", "organisation")
    return ALIASES.get(name, name)


METRIC_OF: dict[str, str] = {
    **{m.name: m.name for m in CATALOG if m.grain == "week"},
    **{canonical_name(m.viva): m.name for m in CATALOG if m.viva and m.grain == "week"},
}
"""Canonical Viva column → the repsight metric it fills (docs/viva.md has each one's relation: same rule, close, Viva-only)."""

HR_COLUMNS: dict[str, str] = {
    "organisation": "org",
    "org": "org",
    "function_type": "function",
    "function": "function",
    "region": "region",
    "segment": "segment",
    "channel": "channel",
    "hire_date": "hire_date",
    "timezone": "timezone",
    "time_zone": "timezone",
}
"""Canonical HR column → the roster column of `people` it fills. `LevelDesignation` or `Level` fills `level` where its values are whole numbers."""

TEXT_HR = frozenset({*HR_COLUMNS, "level", "level_designation", "supervisor_indicator"})
"""HR columns even where their values are numbers (a level of 3)."""

IGNORED = frozenset({"person_id", "metric_date", "manager", "manager_id", "period", "period_start", "attainment", "weeks"})
"""Columns that are neither a metric nor an HR attribute: the keys, the manager, and the extra columns of repsight's own export."""

_INDEX = re.compile(r"^(unnamed_\d+|index|)$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?$")


def kept_attribute(attributes: Iterable[str | None], name: str) -> list[str | None]:
    """Return each person's value of the HR column `name` from `people.attributes` texts (JSON), matched by canonical name.

    The roster's extra columns and a person query's HR columns are kept there
    by their header as written; `LevelDesignation`, `level designation` and
    `Level_Designation` name one column.
    """
    wanted = canonical_name(name)
    parsed = [json.loads(text) if text else {} for text in attributes]
    return [next((str(v) for k, v in found.items() if canonical_name(k) == wanted), None) for found in parsed]


def parse_metric_date(value: str, field: str = "MetricDate") -> date:
    """Return a `MetricDate` written as MM/DD/YYYY (Viva's own) or YYYY-MM-DD (its analysis packages'), or raise FieldError."""
    text = value.strip()
    try:
        if match := _US_DATE.match(text):
            return date(int(match[3]), int(match[1]), int(match[2]))
        if match := _ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise FieldError(field, f"{shown(value)} is not a date (MM/DD/YYYY or YYYY-MM-DD)")


def _number(text: str) -> float | None:
    """Return a cell's number (`12.5`, `12.5%`, `1,234`), None when empty; raise ValueError when it is no number."""
    cleaned = text.strip().rstrip("%").replace(",", "").strip()
    if not cleaned or cleaned.upper() in ("NA", "NAN", "NULL"):
        return None
    number = float(cleaned)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _numeric(values: list[str]) -> bool:
    try:
        return any(_number(v) is not None for v in values)
    except ValueError:
        return False


def read_viva(source: Source) -> Iterator[VivaWeek | Rejected]:
    """Yield each person-week of a person query, or Rejected with the reason (file, row and column)."""
    rows = read_csv(source.text, source.path, required=(), keep_case=True)
    sample = list(itertools.islice(rows, SAMPLE_ROWS))
    headers = list(sample[0].fields) if sample and sample[0].problem is None and sample[0].fields else []
    if not headers:
        headers = next((list(r.fields) for r in sample if r.fields), [])
    canonical = {h: canonical_name(h) for h in headers}
    found = set(canonical.values())
    if sample and ("person_id" not in found or "metric_date" not in found):
        missing = " and ".join(n for n, c in (("PersonId", "person_id"), ("MetricDate", "metric_date")) if c not in found)
        raise InputError(
            f"{source.path}: row 1: no {missing} column; a Viva Insights person query has PersonId and MetricDate "
            f"(the header has {', '.join(h or '(blank)' for h in headers)})"
        )
    by_name = {c: h for h, c in canonical.items()}
    metrics: dict[str, str] = {}
    hr: list[str] = []
    for header, name in canonical.items():
        if name in IGNORED or _INDEX.match(name):
            continue
        column = [r.fields.get(header, "") for r in sample if r.problem is None]
        if name in METRIC_OF or (name not in TEXT_HR and _numeric(column)):
            metrics[header] = name
        else:
            hr.append(header)
    person_header, date_header = by_name.get("person_id", ""), by_name.get("metric_date", "")
    manager_header = by_name.get("manager_id") or by_name.get("manager")
    seen: dict[tuple[str, date], str] = {}
    for row in itertools.chain(sample, rows):
        if row.problem is not None:
            yield Rejected(row.position, row.problem.field, row.problem.reason)
            continue
        fields = row.fields
        try:
            person = fields[person_header]
            if not person:
                raise FieldError(person_header, "is empty")
            week = parse_metric_date(fields[date_header], date_header)
            if (person, week) in seen:
                raise FieldError(date_header, f"duplicate row: the same PersonId and MetricDate are on {seen[(person, week)]}")
            values: dict[str, float] = {}
            for header, name in metrics.items():
                try:
                    number = _number(fields[header])
                except ValueError:
                    raise FieldError(header, f"{shown(fields[header])} is not a number") from None
                if number is None:
                    continue
                if number < 0:
                    raise FieldError(header, f"{shown(fields[header])} is negative")
                values[name] = number
        except FieldError as exc:
            yield Rejected(row.position, exc.field, exc.reason)
            continue
        seen[(person, week)] = row.position
        attributes = {h: fields[h] for h in hr if fields[h]}
        manager = fields.get(manager_header, "") if manager_header else ""
        yield VivaWeek(row.position, person, week, values, attributes, manager or None)


def read_viva_identities(source: Source) -> Iterator[VivaIdentity | Rejected]:
    """Yield each row of an identity mapping (`PersonId`, `email`, optional `name`), or Rejected with the reason."""
    seen: dict[str, str] = {}
    for row in read_csv(source.text, source.path, required=("personid", "email")):
        if row.problem is not None:
            yield Rejected(row.position, row.problem.field, row.problem.reason)
            continue
        fields = row.fields
        try:
            if not fields["personid"]:
                raise FieldError("PersonId", "is empty")
            if fields["personid"] in seen:
                raise FieldError("PersonId", f"duplicate: the same PersonId is on {seen[fields['personid']]}")
            if not fields["email"]:
                raise FieldError("email", "is empty")
            email, _ = parse_address(fields["email"], "email")
        except FieldError as exc:
            yield Rejected(row.position, exc.field, exc.reason)
            continue
        seen[fields["personid"]] = row.position
        yield VivaIdentity(row.position, fields["personid"], email, fields.get("name", ""))
