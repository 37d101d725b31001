"""What a rep's digest must say, computed again from the stored tables with pandas: the roster, the week, the rep's own rows, the top tier's medians."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from repsight.config import Config
from repsight.store import Store


def roster(config: Config) -> list[dict[str, str]]:
    """Return the roster CSV's rows, as the company wrote them."""
    with (config.root / "roster.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Company:
    """The stored tables a digest is checked against, read once."""

    roster: list[dict[str, str]]
    person_of: dict[str, str]
    """Email (lower-cased) → pseudonym."""
    periods: pd.DataFrame
    weeks: pd.DataFrame
    tiers: pd.DataFrame
    latest_week: date
    period: str
    """The latest week's period."""

    def measured(self, period: str) -> set[str]:
        return set(self.periods.loc[self.periods["period"] == period, "person"])

    def reps(self, week: date, period: str, opted_out: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
        """Return the emails of the reps who should get a digest: Sales, still there on the Monday, measured, not opted out."""
        found = set()
        for row in self.roster:
            email = row["email"].strip().lower()
            still_there = not row.get("leave_date") or date.fromisoformat(row["leave_date"]) > week
            if (
                row["function"] == "Sales"
                and still_there
                and email not in opted_out
                and self.person_of[email] in self.measured(period)
            ):
                found.add(email)
        return found

    def own(self, email: str, period: str) -> pd.Series:
        rows = self.periods[(self.periods["person"] == self.person_of[email]) & (self.periods["period"] == period)]
        return rows.iloc[0]

    def own_week(self, email: str, week: date) -> pd.Series:
        rows = self.weeks[(self.weeks["person"] == self.person_of[email]) & (self.weeks["week"] == week)]
        return rows.iloc[0]

    def segment(self, email: str) -> str:
        return next(r["segment"] for r in self.roster if r["email"].lower() == email)

    def top_tier_median(self, metric: str, period: str, segment: str, minimum: int) -> tuple[float, str] | None:
        """Return the top tier's median of `metric` in the rep's segment (the company's where fewer than `minimum` have one), and whose."""
        top = set(self.tiers.loc[(self.tiers["tier"] == 1) & (self.tiers["period"] == period), "person"])
        rows = self.periods[(self.periods["period"] == period) & self.periods["person"].isin(top)]
        in_segment = {self.person_of[r["email"].lower()] for r in self.roster if r["segment"] == segment}
        for group, part in ((f"segment {segment}", rows[rows["person"].isin(in_segment)]), ("the company", rows)):
            values = part[metric].dropna().to_numpy(np.float64)
            if (segment or group == "the company") and len(values) >= minimum:
                return float(np.median(values)), group
        return None


def read_company(config: Config) -> Company:
    with Store.open(config, read_only=True) as store:
        identities = store.to_pandas(store.table("identities"))
        periods = store.to_pandas(store.table("person_period"))
        weeks = store.to_pandas(store.table("person_week"))
        tiers = store.to_pandas(store.table("study_tiers"))
    weeks["week"] = pd.to_datetime(weeks["week"]).dt.date
    latest = max(weeks["week"])
    period = str(weeks.loc[weeks["week"] == latest, "period"].iloc[0])
    return Company(
        roster=roster(config),
        person_of={str(e).lower(): str(p) for e, p in zip(identities["email"], identities["person"], strict=True)},
        periods=periods.assign(period=periods["period"].astype(str)),
        weeks=weeks,
        tiers=tiers.assign(period=tiers["period"].astype(str)),
        latest_week=latest,
        period=period,
    )
