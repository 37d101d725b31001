"""What the dashboard shows, read from the workspace: people, weekly and period metrics, tiers, the study.

The workspace's tables are read into memory and the DuckDB file is released
at once, so that `repsight metrics` or `analyze` can run while the dashboard
serves; `web.live` reads them again when those have changed the database.
Everything here is plain pandas on small tables (people × weeks), answered
from memory. Every aggregate over people goes through `repsight.privacy`.
The personal guidance (`repsight.guidance`) is read in the same read, so
that it is refreshed with the rest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from repsight.errors import GuidanceError, StudyError
from repsight.metrics.catalog import CATALOG, PERIOD_ONLY
from repsight.metrics.catalog import metric as catalogued
from repsight.privacy import group_quantiles, large_enough
from repsight.report.figures import ENGAGEMENT
from repsight.schema import HR_ATTRIBUTES

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.guidance import Advice, Coaching, GuidanceData
    from repsight.store import Store
    from repsight.study.document import StudyDocument

__all__ = ["BEHAVIOURS", "ENGAGEMENT", "LABELS", "LOWER_IS_BETTER", "Band", "PeriodBand", "WorkspaceData", "load_data"]

BEHAVIOURS = tuple(m.name for m in CATALOG if m.dashboard)
"""The behaviours each view charts: the study's three, and manager time."""
LABELS = {m.name: m.label_with_unit for m in CATALOG}
"""Each metric's name and unit on the dashboard, as the report names them."""
_PEOPLE = ["person", "manager", *HR_ATTRIBUTES]
LOWER_IS_BETTER = frozenset(m.name for m in CATALOG if m.lower_is_better)
"""The metrics of which less is the better behaviour (a reply time): a view says so, and colours the other way round."""


@dataclass(frozen=True)
class Band:
    """The top tier's weekly spread: quartiles over the top-tier reps of a group, week by week."""

    group: str
    """The group the band is drawn from ("segment Enterprise", or "the company" when a segment is too small)."""
    weeks: list[str]
    low: list[float | None]
    median: list[float | None]
    high: list[float | None]


@dataclass(frozen=True)
class PeriodBand:
    """The top tier's spread in one period: quartiles of a period-only metric over the top-tier reps of a group (None: too few)."""

    group: str
    """The group the band is drawn from ("segment Enterprise", or "the company" when a segment is too small)."""
    period: str
    low: float | None
    median: float | None
    high: float | None


@dataclass
class WorkspaceData:
    """The workspace's tables the dashboard reads, in memory."""

    config: Config
    people: pd.DataFrame
    """One row per roster person (index: pseudonym) with email, name and HR attributes."""
    weeks: pd.DataFrame
    periods: pd.DataFrame
    tiers: pd.DataFrame
    edges: pd.DataFrame
    study: StudyDocument
    """The workspace's latest study (`repsight analyze`)."""
    rep_rows: pd.DataFrame | None = None
    """The study's rep-period rows (metrics, attainment, segments): for an organisation's own study."""
    touches: pd.DataFrame | None = None
    """Each account a person touched in a period (`account_touches`) with the account's name: each rep's own list."""
    guidance: GuidanceData | None = None
    """What the personal guidance reads; None where the workspace cannot give it yet (`guidance_missing` says why)."""
    guidance_missing: str = "no guidance was read with this workspace's data"
    """Why there is no guidance, and what to run (`repsight.errors.GuidanceError`'s message), where `guidance` is None."""
    validation: pd.DataFrame | None = None
    """The data validation's flags (`repsight validate`), with each flagged person's email: for the analyst's view."""
    _bands: dict[tuple[str, str], Band] = field(default_factory=dict)
    _period_bands: dict[tuple[str, str, str], PeriodBand] = field(default_factory=dict)
    _org_studies: dict[tuple[str, ...], tuple[StudyDocument, str]] = field(default_factory=dict)
    _advice: dict[str, Advice] = field(default_factory=dict)
    _coaching: dict[str, Coaching] = field(default_factory=dict)
    views: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    """Team and organisation views computed once per workspace load (`web.views`): the same for every request of a viewer."""

    @cached_property
    def person_of_email(self) -> dict[str, str]:
        emails = self.people["email"].dropna()
        return dict(zip(emails.str.lower(), emails.index, strict=True))

    @cached_property
    def reports(self) -> dict[str, list[str]]:
        """Manager pseudonym → direct reports' pseudonyms."""
        managed = self.people.dropna(subset=["manager"])
        return {m: sorted(group.index) for m, group in managed.groupby("manager")}

    def subtree(self, person: str) -> list[str]:
        """Return everyone who reports to `person`, directly or not."""
        found: list[str] = []
        queue = list(self.reports.get(person, []))
        seen = {person}
        while queue:
            member = queue.pop()
            if member in seen:
                continue
            seen.add(member)
            found.append(member)
            queue.extend(self.reports.get(member, []))
        return sorted(found)

    @cached_property
    def reps(self) -> frozenset[str]:
        return frozenset(self.people.index[self.config.company.is_seller(self.people["function"])])

    def is_rep(self, person: str) -> bool:
        return person in self.reps

    @cached_property
    def _weeks_of(self) -> dict[str, pd.DataFrame]:
        return {str(p): rows.sort_values("week") for p, rows in self.weeks.groupby("person", sort=False)}

    @cached_property
    def _periods_of(self) -> dict[str, pd.DataFrame]:
        return {str(p): rows for p, rows in self.periods.groupby("person", sort=False)}

    def name(self, person: str) -> str:
        if person in self.people.index and isinstance(self.people.at[person, "name"], str):
            return str(self.people.at[person, "name"])
        return person[:8]

    def series(self, people: list[str], metric: str) -> pd.DataFrame:
        """Return the weekly rows (person, week, period, metric) of `people`."""
        if len(people) == 1:
            rows = self._weeks_of.get(people[0], self.weeks.iloc[:0])
        else:
            rows = self.weeks[self.weeks["person"].isin(people)]
        return rows[["person", "week", "period", metric]]

    def top_band(self, person: str, metric: str) -> Band:
        """Return the top tier's weekly quartiles among reps of `person`'s segment; the company's when the segment is too small."""
        segment = self.people.at[person, "segment"] if person in self.people.index else None
        band = self._band(f"segment {segment}", metric, segment) if isinstance(segment, str) else None
        if band is None or all(v is None for v in band.median):
            band = self._band("the company", metric, None)
        assert band is not None
        return band

    def _band(self, group: str, metric: str, segment: str | None) -> Band | None:
        if (group, metric) not in self._bands:
            self._bands.update(self._group_bands(group, segment))
        return self._bands.get((group, metric))

    def _group_bands(self, group: str, segment: str | None) -> dict[tuple[str, str], Band]:
        """Return the bands of every behaviour for one group of reps: one join, quartiles of all columns at once."""
        top = self.tiers[self.tiers["tier"] == 1][["person", "period"]]
        if segment is not None:
            top = top[top["person"].map(self.people["segment"]) == segment]
        metrics = [m for m in BEHAVIOURS if m in self.weeks.columns]
        rows = self.weeks.merge(top, on=["person", "period"])[["person", "week", *metrics]]
        weeks = sorted(self.weeks["week"].unique())
        quantiles = [0.25, 0.5, 0.75]
        bands = {}
        for metric in metrics:
            if rows.empty:
                found = pd.DataFrame(np.nan, index=weeks, columns=quantiles)
            else:
                # NaN in every week of fewer top-tier reps than the minimum group.
                found = group_quantiles(rows, "week", metric, quantiles, self.config.privacy.min_group_size).reindex(weeks)
            low, median, high = ([None if v != v else float(v) for v in found[q].to_numpy()] for q in quantiles)
            bands[(group, metric)] = Band(group, [str(w) for w in weeks], low, median, high)
        return bands

    def org_study(self, members: list[str]) -> tuple[StudyDocument, str]:
        """Return the study of the reps among `members` and what it covers; the company's where theirs cannot be shown.

        An organisation's study is run on its own reps (and kept for the next
        visit). It falls back to the company's study when the organisation
        holds every rep, or too few reps for tiers of the minimum group size.
        """
        from repsight.study import study_document
        from repsight.study.run import jsonable

        rows = self.rep_rows
        company = (self.study, "the company")
        if rows is None:
            return company
        mine = rows[rows["person"].isin(members)]
        key = tuple(sorted(set(mine["person"])))
        if len(key) == rows["person"].nunique():
            return company
        if key not in self._org_studies:
            found: tuple[StudyDocument, str] = (
                self.study,
                "the company: your organisation has too few reps to study on its own",
            )
            document = None
            minimum = self.config.privacy.min_group_size
            if large_enough(len(key), 2 * minimum):  # fewer reps cannot fill two tiers of the minimum
                try:
                    document, _ = study_document(mine.reset_index(drop=True), self.config)
                except StudyError:
                    document = None
            if document is not None and large_enough(
                min(document["tiers"]["top_reps"], document["tiers"]["bottom_reps"]), minimum
            ):
                found = (jsonable(document), "your organisation")
            self._org_studies[key] = found
        return self._org_studies[key]

    def advice(self, person: str) -> Advice:
        """Return `person`'s guidance in their latest period (kept for the next visit); GuidanceError says why there is none."""
        from repsight.guidance import advise_person

        if person not in self._advice:
            self._advice[person] = advise_person(self._guidance(), person)
        return self._advice[person]

    def coaching(self, manager: str) -> Coaching:
        """Return the coaching view of `manager`'s team in the latest period (kept for the next visit); GuidanceError says why there is none."""
        from repsight.guidance import coaching

        if manager not in self._coaching:
            self._coaching[manager] = coaching(self._guidance(), manager)
        return self._coaching[manager]

    def _guidance(self) -> GuidanceData:
        if self.guidance is None:
            raise GuidanceError(self.guidance_missing)
        return self.guidance

    def warm(self) -> None:
        """Compute every group's bands now, so that no visitor waits for the first of a segment."""
        for segment in sorted(self.people["segment"].dropna().unique()):
            self._band(f"segment {segment}", BEHAVIOURS[0], str(segment))
        self._band("the company", BEHAVIOURS[0], None)
        for cached in (
            "_weeks_of",
            "_periods_of",
            "_rep_values",
            "_edges_of",
            "_touches_of",
            "reports",
            "person_of_email",
            "_names",
            "_orgs",
        ):
            getattr(self, cached)
        if self.guidance is not None:
            self.guidance.ties_of("")  # indexes the ties by person
            for cached in ("person_of_email", "period_names", "reports"):
                getattr(self.guidance, cached)

    def top_period_band(self, person: str | None, metric: str, period: str) -> PeriodBand:
        """Return the top tier's quartiles of a period-only `metric` in `period` among reps of `person`'s segment; the company's when the segment is too small (or `person` is None)."""
        segment = self.people.at[person, "segment"] if person is not None and person in self.people.index else None
        band = self._period_band(f"segment {segment}", segment, metric, period) if isinstance(segment, str) else None
        if band is None or band.median is None:
            band = self._period_band("the company", None, metric, period)
        return band

    def _period_band(self, group: str, segment: str | None, metric: str, period: str) -> PeriodBand:
        if (group, metric, period) not in self._period_bands:
            self._period_bands.update(self._group_period_bands(group, segment, period))
        return self._period_bands[(group, metric, period)]

    def _group_period_bands(self, group: str, segment: str | None, period: str) -> dict[tuple[str, str, str], PeriodBand]:
        """Return the bands of every engagement metric for one group of top-tier reps in one period."""
        top = self.tiers[(self.tiers["tier"] == 1) & (self.tiers["period"].astype(str) == period)][["person"]]
        if segment is not None:
            top = top[top["person"].map(self.people["segment"]) == segment]
        rows = self.periods[self.periods["period"].astype(str) == period].merge(top, on="person")
        quantiles = [0.25, 0.5, 0.75]
        bands = {}
        for name in ENGAGEMENT:
            found: list[float | None] = [None, None, None]
            if name in rows.columns and not rows.empty:
                # None where fewer top-tier reps than the minimum group have a value (a reply time may be empty).
                spread = group_quantiles(rows, "period", name, quantiles, self.config.privacy.min_group_size)
                found = [None if v != v else float(v) for v in spread[quantiles].iloc[0].to_numpy()]
            bands[(group, name, period)] = PeriodBand(group, period, *found)
        return bands

    def engagement(self, person: str) -> dict[str, Any]:
        """Return the person's customer engagement in their latest period, each metric they have a value of against the top tier's band (reps only)."""
        period = self.latest_period(person)
        if period is None:
            return {"period": None, "metrics": []}
        mine = self._periods_of[person].set_index("period").loc[period]
        found = []
        for name in ENGAGEMENT:
            value = float(mine[name]) if name in mine.index else float("nan")
            if value != value:  # no reply to a customer, no account owned: nothing to show
                continue
            band = self.top_period_band(person, name, period) if self.is_rep(person) else None
            position = None
            if band is not None and band.low is not None and band.high is not None:
                position = "below" if value < band.low else "above" if value > band.high else "within"
            entry = catalogued(name)
            found.append(
                {
                    "metric": name,
                    "label": LABELS.get(name, name),
                    "value": value,
                    "lower_is_better": name in LOWER_IS_BETTER,
                    "digits": 1 if entry is not None and entry.kind in ("count", "percent") else 2,
                    "top_tier": None
                    if band is None
                    else {"group": band.group, "low": band.low, "median": band.median, "high": band.high},
                    "position": position,
                }
            )
        return {"period": period, "metrics": found}

    @cached_property
    def _touches_of(self) -> dict[tuple[str, str], pd.DataFrame]:
        """(person, period) → the accounts the person touched in it, the last touched first."""
        if self.touches is None or self.touches.empty:
            return {}
        ordered = self.touches.sort_values(["last_touch", "account"], ascending=[False, True])
        return {(str(k[0]), str(k[1])): rows for k, rows in ordered.groupby(["person", "period"], sort=False)}

    def accounts(self, person: str) -> dict[str, Any]:
        """Return the accounts the person touched in their latest period: name, contacts, weeks and the date of the last touch (UTC)."""
        period = self.latest_period(person)
        rows = self._touches_of.get((person, period)) if period is not None else None
        if rows is None:
            return {"period": period, "accounts": []}
        return {
            "period": period,
            "accounts": [
                {"account": str(account), "contacts": int(contacts), "weeks": int(weeks), "last_touch": last.strftime("%Y-%m-%d")}
                for account, contacts, weeks, last in zip(
                    rows["account"], rows["contacts"], rows["weeks"], pd.to_datetime(rows["last_touch"]), strict=True
                )
            ],
        }

    def latest_period(self, person: str) -> str | None:
        rows = self._periods_of.get(person)
        return None if rows is None else str(rows["period"].max())

    @cached_property
    def _rep_values(self) -> dict[str, dict[str, np.ndarray]]:
        """Period → metric → the reps' values, sorted (percentiles by binary search)."""
        reps = self.periods[self.periods["person"].isin(self.reps)]
        return {
            str(period): {m: np.sort(rows[m].dropna().to_numpy(dtype=float)) for m in self.config.study.metrics}
            for period, rows in reps.groupby("period")
        }

    def standing(self, person: str) -> list[dict[str, Any]]:
        """Return, per study metric, the person's value in their latest period and their percentile among that period's reps.

        The percentile counts the reps below and half of those equal: 50 is
        the middle. It is None when fewer reps than the minimum group were
        measured in the metric that period (`reps` says how many): among two,
        one rep's percentile would tell where the other stands.
        """
        period = self.latest_period(person)
        if period is None:
            return []
        mine = self._periods_of[person].set_index("period").loc[period]
        minimum = self.config.privacy.min_group_size
        found = []
        for metric in self.config.study.metrics:
            values = self._rep_values.get(period, {}).get(metric, np.empty(0))
            value = float(mine[metric])
            if value != value:  # not measured for this person: nothing to place
                continue
            percentile = None
            if large_enough(len(values), minimum):
                below = int(np.searchsorted(values, value, side="left"))
                equal = int(np.searchsorted(values, value, side="right")) - below
                percentile = 100 * (below + 0.5 * equal) / len(values)
            found.append(
                {
                    "metric": metric,
                    "label": LABELS.get(metric, metric),
                    "value": value,
                    "lower_is_better": metric in LOWER_IS_BETTER,
                    "percentile": percentile,
                    "reps": len(values),
                    "period": period,
                }
            )
        return found

    @cached_property
    def _edges_of(self) -> dict[tuple[str, str], pd.DataFrame]:
        """(period, person) → that person's ties in the period: the other person and the weight."""
        both = pd.concat(
            [
                self.edges.rename(columns={"a": "person", "b": "other"}),
                self.edges.rename(columns={"b": "person", "a": "other"}),
            ]
        )
        return {(str(k[0]), str(k[1])): rows[["other", "weight"]] for k, rows in both.groupby(["period", "person"], sort=False)}

    def network(self, person: str, *, named: bool = True) -> dict[str, Any]:
        """Return the person's ties in their latest period: colleagues (named) with the interactions, and counts by org unit.

        Not `named`: each colleague by pseudonym, for a viewer who may not see names (`access.sees_names`).
        """
        period = self.latest_period(person)
        if period is None:
            return {"period": None, "contacts": [], "by_org": {}}
        ties = self._edges_of.get((period, person))
        others = ties["other"].tolist() if ties is not None else []
        weights = ties["weight"].tolist() if ties is not None else []
        names, orgs = self._names, self._orgs

        def shown(other: str) -> str:
            return (names.get(other) or other[:8]) if named else other

        ties_named = sorted(
            ((int(w), shown(o), orgs.get(o) or "outside the roster") for o, w in zip(others, weights, strict=True)),
            key=lambda tie: (-tie[0], tie[1]),
        )
        contacts = [{"name": name, "org": org, "interactions": count} for count, name, org in ties_named]
        by_org = Counter(org for _, _, org in ties_named)
        return {
            "period": period,
            "contacts": contacts,
            "by_org": dict(sorted(by_org.items(), key=lambda item: (-item[1], item[0]))),
        }

    @cached_property
    def _names(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.people["name"].dropna().items()}

    @cached_property
    def _orgs(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.people["org"].dropna().items()}


def load_data(store: Store, config: Config) -> WorkspaceData:
    """Return the workspace's dashboard data; the study must have run (`repsight analyze`).

    Only reads: the caches are built later (`WorkspaceData.warm`), once the store is closed.
    """
    from repsight.report.report import latest_study
    from repsight.study import rep_periods
    from repsight.validation import study_exclusions

    metrics = [m for m in config.study.metrics if m not in PERIOD_ONLY]
    people = store.to_pandas(store.table("people").select(*_PEOPLE))
    identities = store.to_pandas(store.table("identities"))
    people = people.merge(identities[["person", "email", "name"]], on="person", how="left").set_index("person")
    weeks = store.to_pandas(store.table("person_week").select("person", "week", "period", *metrics))
    periods = store.to_pandas(store.table("person_period"))
    tiers = store.to_pandas(store.table("study_tiers"))
    edges = store.to_pandas(store.table("period_edges"))
    document, _ = latest_study(store, config)
    weeks["week"] = weeks["week"].astype(str)
    rep_rows, _ = rep_periods(store, config, study_exclusions(store, config))
    data = WorkspaceData(config, people, weeks, periods, tiers, edges, document, rep_rows, _touches(store))
    data.guidance, data.guidance_missing = _guidance(store, config)
    if store.has_table("validation"):  # a workspace older than the validation has none
        flags = store.to_pandas(store.table("validation").drop("validated_at"))
        flags["week"] = [w.isoformat() if isinstance(w, date) else None for w in pd.to_datetime(flags["week"]).dt.date]
        flags = flags.merge(identities[["person", "email"]], on="person", how="left")
        data.validation = flags.astype(object).where(flags.notna(), None)  # empty cells as None, never "nan"
    return data


def _guidance(store: Store, config: Config) -> tuple[GuidanceData | None, str]:
    """Return what the guidance reads; None and what to run for a workspace that cannot give it yet (measured before `week_ties` existed)."""
    from repsight.guidance import load_guidance_data

    try:
        return load_guidance_data(store, config), ""
    except GuidanceError as exc:
        # The rest of the dashboard works without it: the guidance section says what to run.
        return None, str(exc)


def _touches(store: Store) -> pd.DataFrame | None:
    """Return `account_touches` with each account's name (its id where it has none); None for a workspace measured before it existed."""
    if not store.has_table("account_touches"):
        return None
    touches = store.to_pandas(store.table("account_touches"))
    names = store.to_pandas(store.table("accounts").select("account_id", "name"))
    touches = touches.merge(names, on="account_id", how="left")
    touches["account"] = touches["name"].where(touches["name"].notna(), touches["account_id"])
    touches["period"] = touches["period"].astype(str)
    return touches.drop(columns=["name"])
