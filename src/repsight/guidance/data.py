"""What the guidance reads: the workspace's people, metrics, tiers, study and ties, loaded once.

One `GuidanceData` serves every person of a run (`repsight advise` for one,
the weekly digest and a manager's coaching view for many): the tables are
read once, read-only, and indexed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from repsight.errors import GuidanceError

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.store import Store
    from repsight.study.document import StudyDocument

__all__ = ["GuidanceData", "load_guidance_data"]


@dataclass
class GuidanceData:
    """The stored tables the guidance reads, as pandas frames (pseudonyms throughout)."""

    config: Config
    people: pd.DataFrame
    """The roster indexed by pseudonym, with `email` and `name` from the identities."""
    periods: pd.DataFrame
    """`person_period`."""
    weeks: pd.DataFrame
    """`person_week` (person, week, period, the weekly metrics)."""
    tiers: pd.DataFrame
    """`study_tiers`: person, period, attainment, tier (+1 top, −1 bottom, 0 neither)."""
    study: StudyDocument
    edges: pd.DataFrame
    """`period_edges`: period, a, b, weight."""
    ties: pd.DataFrame
    """`week_ties`: week, a, b, interactions."""
    memo: dict[tuple[object, ...], Any] = field(default_factory=dict, init=False, repr=False)
    """Figures shared by every person of a run (a group's top-tier quartiles, the leaders top sellers meet), computed once."""

    @cached_property
    def _ties_by_person(self) -> dict[str, pd.DataFrame]:
        both = pd.concat([self.ties.assign(_person=self.ties["a"]), self.ties.assign(_person=self.ties["b"])], ignore_index=True)
        return {str(person): rows.drop(columns="_person") for person, rows in both.groupby("_person", sort=False)}

    def ties_of(self, person: str) -> pd.DataFrame:
        """Return the `week_ties` rows that hold `person` (week as a timestamp)."""
        return self._ties_by_person.get(person, self.ties.iloc[:0])

    @cached_property
    def _rows(self) -> dict[str, dict[str, Any]]:
        """Return each roster row by pseudonym: a person's facts are looked up for every colleague a suggestion weighs, and a dict does that 100 times faster than `people.at`."""
        return {str(person): row for person, row in self.people.to_dict("index").items()}

    def fact(self, person: str, column: str) -> Any:
        """Return `person`'s roster value in `column` (pandas' missing value where it has none), or None when they are not on the roster."""
        row = self._rows.get(person)
        return None if row is None else row[column]

    def edges_of(self, period: str) -> pd.DataFrame:
        """Return the `period_edges` rows of `period` (selected once per run: every suggestion of the period reads them)."""
        key = ("edges", period)
        if key not in self.memo:
            self.memo[key] = self.edges[self.edges["period"].astype(str) == period]
        found: pd.DataFrame = self.memo[key]
        return found

    @cached_property
    def person_of_email(self) -> dict[str, str]:
        """Return each roster email (lower-cased) → pseudonym."""
        emails = self.people["email"].dropna()
        return {str(email).strip().lower(): str(person) for person, email in emails.items()}

    @cached_property
    def period_names(self) -> list[str]:
        """Return the periods with metrics, in order."""
        return sorted(str(p) for p in self.periods["period"].unique())

    def managers_of(self, person: str) -> list[str]:
        """Return `person`'s manager chain, the nearest first (never the person, and never a loop twice)."""
        chain: list[str] = []
        current = person
        while True:
            manager = self.fact(current, "manager")
            if not isinstance(manager, str) or manager in (current, person) or manager in chain:
                return chain
            chain.append(manager)
            current = manager

    @cached_property
    def reports(self) -> dict[str, list[str]]:
        """Return each manager → their direct reports."""
        found: dict[str, list[str]] = {}
        for person, manager in self.people["manager"].dropna().items():
            if manager != person:
                found.setdefault(str(manager), []).append(str(person))
        return found

    def team(self, manager: str) -> list[str]:
        """Return everyone below `manager`, directly or not, in pseudonym order."""
        found: set[str] = set()
        queue = list(self.reports.get(manager, []))
        while queue:
            member = queue.pop()
            if member in found or member == manager:
                continue
            found.add(member)
            queue.extend(self.reports.get(member, []))
        return sorted(found)

    def is_rep(self, person: str) -> bool:
        """Return whether `person` carries quota (their `function` is one of `company.sales_functions`)."""
        return person in self._rows and (
            self.config.company.everyone_sells or self.fact(person, "function") in self.config.company.sales_functions
        )

    def has_left(self, person: str, today: date) -> bool:
        """Return whether `person` is off the roster or left on or before `today` (their `leave_date`)."""
        if person not in self._rows:
            return True
        left = self.fact(person, "leave_date")
        return bool(pd.notna(left) and pd.Timestamp(left).date() <= today)

    def name(self, person: str) -> str:
        found = self.fact(person, "name")
        return str(found) if isinstance(found, str) and found else person[:8]

    def email(self, person: str) -> str:
        found = self.fact(person, "email")
        return str(found) if isinstance(found, str) else ""

    def org(self, person: str) -> str | None:
        found = self.fact(person, "org")
        return str(found) if isinstance(found, str) and found else None


def load_guidance_data(store: Store, config: Config) -> GuidanceData:
    """Read what the guidance needs from an open workspace; a clear error names the stage still to run."""
    from repsight.report.report import latest_study

    if not store.has_table("week_ties") or store.count("person_period") == 0:
        raise GuidanceError(f"the workspace has no metrics of this version yet: run `repsight metrics -c {config.path}`")
    study, _ = latest_study(store, config)
    people = store.to_pandas(store.table("people"))
    identities = store.to_pandas(store.table("identities"))
    people = people.merge(identities[["person", "email", "name"]], on="person", how="left").set_index("person")
    ties = store.to_pandas(store.table("week_ties"))
    weekly = ["person", "week", "period", *[c for c in ("customer_hours",) if c in store.table("person_week").columns]]
    return GuidanceData(
        config=config,
        people=people,
        periods=store.to_pandas(store.table("person_period")),
        weeks=store.to_pandas(store.table("person_week").select(*weekly)),
        tiers=store.to_pandas(store.table("study_tiers")),
        study=study,
        edges=store.to_pandas(store.table("period_edges")),
        ties=ties.assign(week=pd.to_datetime(ties["week"])),
    )
