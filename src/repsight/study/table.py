"""The study's input: one row per rep and period, with attainment, tier and HR attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from repsight.errors import StudyError
from repsight.metrics.catalog import PERIOD_ONLY, metric

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.store import Store
    from repsight.validation.run import Exclusions

__all__ = ["MISSING", "TIER_BOTTOM", "TIER_TOP", "assign_tiers", "rep_periods", "rep_weeks"]

TIER_TOP = 1
TIER_BOTTOM = -1
MISSING = "(missing)"
"""The segment of reps whose roster leaves the attribute empty."""


def rep_periods(store: Store, config: Config, exclusions: Exclusions | None = None) -> tuple[pd.DataFrame, int]:
    """Return the reps' person-period rows (metrics, attainment, period_start, segment attributes) and how many rep-periods had a KPI but no metrics.

    A rep is a roster person of `company.sales_functions`; a rep-period is
    one with an attainment in the KPIs. A rep-period without a person_period
    row (no mail or meetings of that person in the data) cannot be measured
    and is left out; its count is returned so that it can be said.
    """
    from repsight.metrics.viva import has_viva

    study = config.study
    people = config.company.sellers(store.table("people"))
    kpis = store.table("kpis").filter(lambda t: t.attainment.notnull()).select("person", "period", "attainment")
    kpis = kpis.semi_join(people, "person")
    periods = store.table("person_period").select("person", "period", "period_start", *study.metrics)
    # A roster column, or any other HR column (the roster's extra columns, a person query's), kept in `attributes`.
    columns = [a for a in study.segment_by if a in people.columns and a not in ("person", "attributes", "load_id")]
    others = [a for a in study.segment_by if a not in columns]
    attributes = people.select(
        "person", *[people[a].cast("string").name(a) for a in columns], *(["attributes"] if others else [])
    )
    joined = periods.join(kpis, ["person", "period"]).join(attributes, "person")
    rows = store.to_pandas(joined.order_by("period", "person"))
    unmeasured = int(kpis.anti_join(periods, ["person", "period"]).count().execute())
    if rows.empty:
        measured = store.count("person_period")
        raise StudyError(
            "no rep has both metrics and an attainment for a period: "
            + (
                f"run `repsight metrics -c {config.path}` first"
                if measured == 0
                else f"check that [company] sales_functions ({', '.join(config.company.sales_functions)}) "
                "matches the roster's `function` and that the KPI periods match the metrics' periods"
            )
        )
    if exclusions is not None:
        rows = _leave_out(store, config, rows, exclusions)
        if rows.empty:
            said = ", ".join(
                f"{rule}: {n['rep_periods']} rep-periods" for rule, n in exclusions.removed.items() if n["rep_periods"]
            )
            raise StudyError(
                f"the data validation leaves no rep-period to study ({said}); see `repsight validate`, "
                "and docs/validation.md for the [validation] settings that decide what is left out"
            )
    _in_force(store, rows, columns, bool(others))
    if others:
        _extra_attributes(rows, others)
    for attribute in study.segment_by:
        rows[attribute] = rows[attribute].fillna(MISSING).replace("", MISSING)
    # Measured from events, an empty value of a metric is none of the behaviour (0), but for an optional metric
    # (no reply to a customer: the study leaves those rows out of that metric's tests). A Viva Insights person
    # query's empty value is a value Viva did not give: left empty too. A metric empty for every rep is absent.
    from_events = not has_viva(store)
    for name in study.metrics:
        optional = (found := metric(name)) is not None and found.optional
        values = rows[name].astype(np.float64)
        rows[name] = values if optional or not from_events or values.isna().all() else values.fillna(0.0)
    rows["attainment"] = rows["attainment"].astype(np.float64)
    return rows.reset_index(drop=True), unmeasured


def _leave_out(store: Store, config: Config, rows: pd.DataFrame, exclusions: Exclusions) -> pd.DataFrame:
    """Return `rows` without what the validation flags (docs/validation.md); count in `exclusions.removed` what each rule removed.

    The rep-periods of people without their own mailbox or calendar go.
    A rep-period with flagged weeks has its weekly metrics' means taken
    again over its other weeks; one with no other week goes.
    """
    removed: dict[str, dict[str, int]] = {}
    for rule, people in exclusions.people.items():
        gone = rows["person"].isin(people)
        removed[rule] = {"people": int(rows.loc[gone, "person"].nunique()), "rep_periods": int(gone.sum()), "weeks": 0}
        rows = rows[~gone]
    weekly = [m for m in config.study.metrics if m not in PERIOD_ONLY]
    if (exclusions.week_rules or exclusions.holidays) and weekly and not rows.empty:
        table = store.table("person_week")
        reps = ibis.memtable(rows[["person"]].drop_duplicates().reset_index(drop=True))
        weeks = store.to_pandas(table.select("person", "week", "period", *weekly).semi_join(reps, "person"))
        weeks["week"] = pd.to_datetime(weeks["week"]).dt.date
        # Only the studied rep-periods' weeks: a period without a KPI is in no count.
        weeks = weeks.merge(rows[["person", "period"]].drop_duplicates(), on=["person", "period"])
        # Each week's rule: the company's (a holiday) first, else the person's own flag; one merge, not a lookup per week.
        flagged = pd.DataFrame(
            [(person, week, rule) for (person, week), rule in exclusions.week_rules.items()], columns=["person", "week", "rule"]
        )
        weeks = weeks.merge(flagged, on=["person", "week"], how="left")
        rule = weeks["week"].map(exclusions.holidays).astype(object).where(weeks["week"].isin(exclusions.holidays), weeks["rule"])
        weeks["rule"] = rule
        for name, chosen in weeks[rule.notna()].groupby("rule"):
            # rep_periods: those whose means are taken again without the rule's weeks.
            touched_by = len(chosen[["person", "period"]].drop_duplicates())
            removed[str(name)] = {"people": int(chosen["person"].nunique()), "rep_periods": touched_by, "weeks": len(chosen)}
        touched = weeks.loc[rule.notna(), ["person", "period"]].drop_duplicates()
        kept = weeks[rule.isna()].groupby(["person", "period"])[weekly].mean()
        index = pd.MultiIndex.from_frame(rows[["person", "period"]])
        emptied = index.isin(pd.MultiIndex.from_frame(touched)) & ~index.isin(kept.index)
        if emptied.any():
            removed["no_week_left"] = {
                "people": int(rows.loc[emptied, "person"].nunique()),
                "rep_periods": int(emptied.sum()),
                "weeks": 0,
            }
        rows = rows[~emptied].copy()
        index = pd.MultiIndex.from_frame(rows[["person", "period"]])
        again = index.isin(pd.MultiIndex.from_frame(touched))
        for name in weekly:
            rows.loc[again, name] = kept.loc[index[again], name].to_numpy()
    exclusions.removed = removed
    return rows.reset_index(drop=True)


def _in_force(store: Store, rows: pd.DataFrame, columns: list[str], extra: bool) -> None:
    """Give each rep-period the segment attributes of the roster row in force on the period's last day (`people_history`).

    A person whose roster has one row keeps it. A period before a person's
    first effective date takes that first row.
    """
    wanted = [*columns, *(["attributes"] if extra else [])]
    if rows.empty or not wanted or not store.has_table("people_history"):
        return
    history = store.table("people_history")
    reps = ibis.memtable(rows[["person"]].drop_duplicates().reset_index(drop=True))
    versions = store.to_pandas(history.select("person", "effective_date", *wanted).semi_join(reps, "person"))
    changing = versions.groupby("person")["effective_date"].transform("size") > 1
    versions = versions[changing]
    if versions.empty:
        return
    kpis = store.table("kpis")
    last_days = store.to_pandas(kpis.group_by("period").aggregate(end=kpis.period_end.max())).set_index("period")["end"]
    chosen = rows.loc[rows["person"].isin(set(versions["person"])), ["person", "period"]].copy()
    # Seconds: an effective date of 0001-01-01 (always) is out of the nanoseconds' range.
    chosen["day"] = pd.to_datetime(chosen["period"].map(last_days)).astype("datetime64[s]")
    days = pd.to_datetime(versions["effective_date"]).astype("datetime64[s]")
    versions = versions.assign(day=days, matched=True).sort_values("day")
    chosen = chosen.reset_index().sort_values("day")
    found = pd.merge_asof(chosen, versions.drop(columns="effective_date"), on="day", by="person", direction="backward")
    # A period that ends before the person's first effective date takes that first row.
    first = versions.drop_duplicates("person").set_index("person")  # each person's earliest row, whole
    early = found["matched"].isna().to_numpy()
    for name in wanted:
        values = found[name].where(~early, found["person"].map(first[name]))
        text = values if name == "attributes" else values.map(_as_text)
        rows.loc[found["index"].to_numpy(), name] = text.to_numpy()


def _as_text(value: object) -> str | None:
    """Return a roster value as the study's segment text: a level of 3 is "3" (also where pandas made it 3.0)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _extra_attributes(rows: pd.DataFrame, names: list[str]) -> None:
    """Add to `rows` a column per name of HR columns kept in `people.attributes` (JSON), matched by canonical name."""
    from repsight.sources.viva import kept_attribute

    texts = [text if isinstance(text, str) else None for text in rows.pop("attributes")]
    for name in names:
        values = kept_attribute(texts, name)
        if all(v is None for v in values):
            raise StudyError(
                f"[study] segment_by names {name!r}, but no rep has such an attribute: neither a roster column "
                "(region, segment, channel, org, function, level, timezone) nor another HR column of the roster or person query"
            )
        rows[name] = pd.Series(values, index=rows.index, dtype=object)


def assign_tiers(rows: pd.DataFrame, fraction: float) -> np.ndarray:
    """Return each row's tier within its period: +1 top, −1 bottom, 0 neither.

    Within a period the rows are sorted by attainment, ties broken by
    pseudonym; the bottom tier is the first floor(n × fraction), the top tier
    the last as many.
    """
    tiers = np.zeros(len(rows), dtype=np.int8)
    ordered = rows.reset_index(drop=True).sort_values(["period", "attainment", "person"], kind="stable")
    for _, positions in ordered.groupby("period", sort=False).indices.items():
        index = ordered.index.to_numpy()[positions]
        size = int(np.floor(len(index) * fraction + 1e-9))
        if size == 0:
            continue
        tiers[index[:size]] = TIER_BOTTOM
        tiers[index[-size:]] = TIER_TOP
    return tiers


def rep_weeks(store: Store, config: Config, tiers: pd.DataFrame) -> pd.DataFrame:
    """Return the person-week rows of the tiered rep-periods, with `tier` and `week_of_period` (1 = the period's first week)."""
    metrics = [m for m in config.study.metrics if m not in PERIOD_ONLY]
    weeks = store.table("person_week").select("person", "week", "period", *metrics)
    chosen = ibis.memtable(tiers[["person", "period", "tier", "period_start"]].reset_index(drop=True))
    rows = store.to_pandas(weeks.join(chosen, ["person", "period"]))
    offset = pd.to_datetime(rows["week"]) - pd.to_datetime(rows["period_start"])
    rows["week_of_period"] = (offset.dt.days // 7 + 1).astype(np.int64)
    return rows
