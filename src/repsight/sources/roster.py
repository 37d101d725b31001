"""The HR roster (CSV): one row per person and effective date, validated as a whole.

Rows that cannot be loaded are yielded as `Rejected`; the rest load. The
checks, in order: fields of each row; duplicates (the first row for an email
and effective date wins); managers that are not in the roster; cycles in the
manager chain as the latest rows draw it.

Org charts change: a row may carry an `effective_date` (from when it is in
force, as Viva Insights' organisational data does), so one file can hold a
person's history; a file without the column takes the date in its name
(`roster-2025-01-01.csv`), so several dated roster files make the history;
a row with neither is in force since always.

A manager whose own row is rejected for a field error is still "in the
roster": the people below them load, pointing to their pseudonym, so that
fixing that one row later restores the whole chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from repsight.privacy import canonical_address
from repsight.sources.csvfile import (
    FieldError,
    parse_address,
    parse_date,
    parse_number,
    read_csv,
    shown,
)
from repsight.sources.files import Source
from repsight.sources.records import Person, Rejected

__all__ = ["REQUIRED_COLUMNS", "read_roster"]

REQUIRED_COLUMNS = ("email", "name", "manager_email", "org", "level", "function")
OPTIONAL_COLUMNS = ("region", "segment", "channel", "hire_date", "leave_date", "timezone", "effective_date")
_DATED_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _level(value: str) -> int:
    if not value:
        raise FieldError("level", "is empty; every person needs a level")
    number = parse_number(value, "level")
    if number != int(number) or number < 0:
        raise FieldError("level", f"{shown(value)} is not a whole number")
    return int(number)


def _person(position: str, fields: dict[str, str], dated: date | None = None) -> Person:
    if not fields["email"]:
        raise FieldError("email", "is empty; every person needs an email")
    email, _ = parse_address(fields["email"], "email")
    manager = fields["manager_email"]
    manager_email = parse_address(manager, "manager_email")[0] if manager else None
    if manager_email is not None and canonical_address(manager_email) == canonical_address(email):
        # Some HR systems make the top of the chart their own manager.
        manager_email = None
    for required in ("org", "function"):
        if not fields[required]:
            raise FieldError(required, "is empty")
    timezone = fields.get("timezone") or None
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ("Europe")
            raise FieldError("timezone", f"{shown(timezone)} is not an IANA time zone") from None
    hire = fields.get("hire_date")
    leave = fields.get("leave_date")
    effective = fields.get("effective_date")
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    return Person(
        position=position,
        email=email,
        name=fields["name"],
        manager_email=manager_email,
        org=fields["org"],
        level=_level(fields["level"]),
        function=fields["function"],
        region=fields.get("region") or None,
        segment=fields.get("segment") or None,
        channel=fields.get("channel") or None,
        hire_date=parse_date(hire, "hire_date") if hire else None,
        leave_date=parse_date(leave, "leave_date") if leave else None,
        timezone=timezone,
        # Extra columns are kept, but never an address (an assistant's, say):
        # addresses belong in `identities` alone.
        attributes={k: v for k, v in fields.items() if k not in known and v and "@" not in v},
        effective_date=parse_date(effective, "effective_date") if effective else dated,
    )


def _cycles(people: dict[str, Person]) -> dict[str, str]:
    """Return, for each person on a manager-chain loop, a description of the loop."""
    parent = {key: canonical_address(p.manager_email) for key, p in people.items() if p.manager_email is not None}
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    looped: dict[str, str] = {}
    for start in people:
        walk: list[str] = []
        node: str | None = start
        while node is not None and node in people and state.get(node) is None:
            state[node] = 1
            walk.append(node)
            node = parent.get(node)
        if node is not None and state.get(node) == 1:
            loop = walk[walk.index(node) :]
            rows = " → ".join(people[n].position for n in [*loop, node])
            for member in loop:
                looped[member] = f"the manager chain loops: {rows}"
        for visited in walk:
            state[visited] = 2
    return looped


def _email_of(value: str) -> str | None:
    """Return the canonical address in a roster email field, or None if it holds none."""
    try:
        return canonical_address(parse_address(value, "email")[0]) if value else None
    except FieldError:
        return None


def read_roster(source: Source) -> Iterator[Person | Rejected]:
    """Yield each roster row as a Person, or as Rejected with the reason."""
    # The roster is checked as a whole (duplicates, managers, loops), so it is
    # read at once: it has one row per employee, never more than memory holds.
    rows = list(read_csv(source.text, source.path, required=REQUIRED_COLUMNS))
    named = _DATED_NAME.search(source.path.name)
    try:
        dated = date.fromisoformat(named.group(1)) if named else None
    except ValueError:
        dated = None
    outcome: list[Person | Rejected] = []
    first_row: dict[str, str] = {}
    first_version: dict[tuple[str, str], str] = {}
    for row in rows:
        if row.problem is not None:
            outcome.append(Rejected(row.position, row.problem.field, row.problem.reason))
            continue
        # The email as parsed, so `Ana <ana@x>` and `ana@x` are one person; one row per person and effective date.
        email = _email_of(row.fields["email"])
        version = (email or "", row.fields.get("effective_date", ""))
        if email is not None and version in first_version:
            said = " and effective date" if version[1] else ""
            outcome.append(
                Rejected(row.position, "email", f"duplicate person: the same email{said} is on {first_version[version]}")
            )
            continue
        if email is not None:
            first_version[version] = row.position
            first_row.setdefault(email, row.position)
        try:
            outcome.append(_person(row.position, row.fields, dated))
        except FieldError as exc:
            outcome.append(Rejected(row.position, exc.field, exc.reason))
    for index, item in enumerate(outcome):
        if isinstance(item, Person) and item.manager_email is not None and canonical_address(item.manager_email) not in first_row:
            outcome[index] = Rejected(item.position, "manager_email", "the manager is not in the roster (no row has that email)")
    # The chart as the latest rows draw it: each person's row with the latest effective date.
    valid: dict[str, Person] = {}
    for p in outcome:
        if isinstance(p, Person):
            kept = valid.get(canonical_address(p.email))
            if kept is None or (p.effective_date or date.min) >= (kept.effective_date or date.min):
                valid[canonical_address(p.email)] = p
    looped = _cycles(valid)
    for index, item in enumerate(outcome):
        if isinstance(item, Person) and canonical_address(item.email) in looped:
            outcome[index] = Rejected(item.position, "manager_email", looped[canonical_address(item.email)])
    yield from outcome
