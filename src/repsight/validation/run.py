"""`repsight validate`: run every rule, store the flags (`validation` table), and give them as JSON and for a terminal.

The study reads the stored flags back (`study_exclusions`): what it leaves
out, and how many people, rep-periods and weeks each rule removed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from repsight.validation.rules import ALL_RULES, RULES, WEEK_RULES, Flag, checked

if TYPE_CHECKING:
    from rich.console import Group

    from repsight.config import Config
    from repsight.store import Store

__all__ = ["Exclusions", "ValidationResult", "run_validation", "stale_validation", "study_exclusions", "validate"]


@dataclass(frozen=True)
class ValidationResult:
    """The flags of one validation run, in rule order, with the emails of the people they concern."""

    flags: list[Flag]
    emails: dict[str, str]
    validated_at: datetime
    seconds: float
    notes: list[str] = field(default_factory=list)
    """What could not be checked, and why (no metrics yet: the week rules read `person_week`)."""

    def counts(self) -> dict[str, int]:
        """Return how many flags each rule raised (every rule named, 0 where none)."""
        found = Counter(f.rule for f in self.flags)
        return {rule: found.get(rule, 0) for rule in ALL_RULES}

    def to_json(self, indent: int | None = 2) -> str:
        """Return the public document (docs/validation.md): `validated_at`, `counts`, and `flags`."""
        return json.dumps(
            {
                "validated_at": self.validated_at.isoformat(timespec="seconds") + "Z",
                "counts": self.counts(),
                "flags": [_flag_json(f, self.emails) for f in self.flags],
            },
            indent=indent,
            default=str,
        )

    def __rich__(self) -> Group:
        from repsight.validation.render import validation_view

        return validation_view(self)


def _flag_json(flag: Flag, emails: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {"rule": flag.rule}
    if flag.person is not None:
        found["person"] = flag.person
        found["email"] = emails.get(flag.person)
    if flag.week is not None:
        found["week"] = flag.week.isoformat()
    if flag.period is not None:
        found["period"] = flag.period
    found["detail"] = flag.detail
    found["numbers"] = flag.numbers
    return found


def validate(store: Store, config: Config) -> ValidationResult:
    """Run every rule on the workspace's stored tables, store the flags (replacing the last run's) and return them."""
    started = time.perf_counter()
    tables = checked(store, config)
    flags: list[Flag] = []
    holidays: set[date] = set()
    for name, rule in RULES.items():
        found = rule(tables, holidays) if name == "inactive_week" else rule(tables)
        if name == "holiday_week":
            holidays = {f.week for f in found if f.week is not None}  # edge weeks too: company-wide
        flags.extend(found)
    validated_at = datetime.now(UTC).replace(tzinfo=None)
    rows = pa.table(
        {
            "rule": pa.array([f.rule for f in flags], pa.string()),
            "person": pa.array([f.person for f in flags], pa.string()),
            "week": pa.array([f.week for f in flags], pa.date32()),
            "period": pa.array([f.period for f in flags], pa.string()),
            "detail": pa.array([f.detail for f in flags], pa.string()),
            "numbers": pa.array([f.numbers_json() for f in flags], pa.string()),
            "validated_at": pa.array([validated_at] * len(flags), pa.timestamp("us")),
        }
    )
    with store.transaction():
        store.replace("validation", rows)
        store.upsert("workspace", pa.table({"name": ["validated_at"], "value": [validated_at.isoformat()]}))
    identities = tables.identities
    emails = dict(zip(identities["person"], identities["email"], strict=True))
    notes = []
    if tables.weeks.empty:
        notes.append(
            "no metrics yet: the week, value and no-data rules read them; run `repsight metrics` first, then validate again"
        )
    return ValidationResult(flags, emails, validated_at, time.perf_counter() - started, notes)


def run_validation(config: Config) -> ValidationResult:
    """Open the workspace of `config`, validate it and store the flags."""
    from repsight.store import Store

    with Store.open(config) as store:
        return validate(store, config)


def stale_validation(store: Store) -> str | None:
    """Return why the stored validation does not describe the data (none yet, or older than the last load or metrics), else None."""
    stamp = store.setting("validated_at")
    if stamp is None:
        return "the data have not been validated: `repsight validate` flags what the study should leave out"
    validated = datetime.fromisoformat(stamp)
    loads = store.table("loads")
    last = store.to_arrow(loads.aggregate(last=loads.finished_at.max()))["last"][0].as_py()
    measured = store.setting("measured_at")
    newest = max([t for t in (last, datetime.fromisoformat(measured) if measured else None) if t is not None], default=None)
    if newest is not None and newest > validated:
        return (
            f"the validation ({validated:%Y-%m-%d %H:%M} UTC) is older than the data ({newest:%Y-%m-%d %H:%M} UTC): "
            "run `repsight validate` again"
        )
    return None


@dataclass
class Exclusions:
    """What the study leaves out because of the stored flags, and how much each rule removed."""

    people: dict[str, set[str]] = field(default_factory=dict)
    """Per rule (no own mailbox, no own calendar): the people whose rep-periods are left out."""
    holidays: dict[date, str] = field(default_factory=dict)
    """Company-wide weeks left out of everyone's period means, with the rule that flagged each (holiday, edge of the data)."""
    week_rules: dict[tuple[str, date], str] = field(default_factory=dict)
    """The rule that flagged each left-out (person, week) pair."""
    removed: dict[str, dict[str, int]] = field(default_factory=dict)
    """Filled by the study: per rule, the people, rep-periods and weeks it took out of the study."""
    counts: dict[str, int] = field(default_factory=dict)
    """How many flags each rule raised in the stored validation (the rules that raised any)."""
    validated_at: str | None = None
    warning: str | None = None
    """Why the validation does not describe the data (none yet, or older than it), else None."""


def study_exclusions(store: Store, config: Config) -> Exclusions:
    """Return what the study leaves out by `[validation]`'s settings, from the stored flags (nothing before a validation)."""
    settings = config.validation
    found = Exclusions(validated_at=store.setting("validated_at"), warning=stale_validation(store))
    if not store.has_table("validation") or store.count("validation") == 0:
        return found
    flags = store.to_pandas(store.table("validation").select("rule", "person", "week"))
    flags["week"] = pd.to_datetime(flags["week"]).dt.date
    raised = flags["rule"].value_counts()
    found.counts = {rule: int(raised[rule]) for rule in ALL_RULES if rule in raised.index}
    for rule, wanted in (
        ("no_own_mailbox", settings.exclude_no_own_mailbox),
        ("no_own_calendar", settings.exclude_no_own_calendar),
    ):
        if wanted:
            found.people[rule] = set(flags.loc[flags["rule"] == rule, "person"].dropna())
    if settings.exclude_flagged_weeks:
        for rule in WEEK_RULES:
            chosen = flags[flags["rule"] == rule]
            if rule in ("holiday_week", "edge_week"):
                found.holidays.update(dict.fromkeys(chosen["week"].dropna(), rule))
                continue
            for person, week in zip(chosen["person"], chosen["week"], strict=True):
                found.week_rules.setdefault((person, week), rule)
    return found
