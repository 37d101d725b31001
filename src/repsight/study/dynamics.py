"""How behaviour moves: top and bottom tiers week by week through the period, and metrics as leading indicators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from repsight.privacy import large_enough
from repsight.study.document import Coefficient, Dynamics, Leading
from repsight.study.phases import period_dummies, present, rep_codes
from repsight.study.stats import Clustered, bh_qvalues, clustered_ols, standardised
from repsight.study.table import TIER_BOTTOM, TIER_TOP

if TYPE_CHECKING:
    from repsight.config import StudyConfig

__all__ = ["dynamics", "leading_indicators", "weeks_per_period"]


def weeks_per_period(periods: list[str]) -> int:
    """Return how many weeks of a period the dynamics show: 13 for quarters, 5 for months."""
    return 13 if any("Q" in p for p in periods) else 5


def dynamics(weeks: pd.DataFrame, metrics: list[str], periods: list[str], min_group_size: int) -> Dynamics:
    """Return, per metric, the top and bottom tiers' mean weekly value by week of the period.

    `weeks` holds the tiered rep-periods' person-week rows (`rep_weeks`). A
    week's mean is over the tier's reps with that week in their data; a week
    with fewer reps than `min_group_size` in a tier shows no value. Weeks past
    the period's usual length (a quarter's rare 14th Monday) are left out.
    """
    length = weeks_per_period(periods)
    shown = weeks[weeks["week_of_period"].between(1, length)]
    grouped = shown.groupby(["tier", "week_of_period"])
    means = grouped[metrics].mean()
    reps = grouped["person"].nunique()
    found: Dynamics = {"weeks": list(range(1, length + 1))}
    for name, tier in (("top", TIER_TOP), ("bottom", TIER_BOTTOM)):
        found[f"{name}_reps"] = [int(reps.get((tier, w), 0)) for w in range(1, length + 1)]
    for metric in metrics:
        found[metric] = {
            name: [
                float(means.loc[(tier, w), metric]) if large_enough(reps.get((tier, w), 0), min_group_size) else None
                for w in range(1, length + 1)
            ]
            for name, tier in (("top", TIER_TOP), ("bottom", TIER_BOTTOM))
        }
    return found


def _next_period_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Return one row per rep and period t that has the rep's attainment in the next period too."""
    order = {name: i for i, name in enumerate(sorted(rows["period"].unique()))}
    indexed = rows.assign(period_index=rows["period"].map(order))
    following = indexed[["person", "period_index", "attainment"]].rename(columns={"attainment": "next_attainment"})
    following = following.assign(period_index=following["period_index"] - 1)
    return indexed.merge(following, on=["person", "period_index"]).sort_values(["period", "person"]).reset_index(drop=True)


def _demeaned(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Return each column less its mean within its group (the within transformation)."""
    if values.size == 0:
        return values
    matrix = values.reshape(len(values), -1)
    sums = np.zeros((int(groups.max()) + 1, matrix.shape[1]))
    np.add.at(sums, groups, matrix)
    sizes = np.bincount(groups).astype(np.float64)
    result: np.ndarray = matrix - (sums / sizes[:, None])[groups]
    return result.reshape(values.shape)


def _repeated(rows: pd.DataFrame) -> pd.DataFrame:
    """Return the rows of reps seen in more than one period: a rep seen in one period only has no change to learn from."""
    return rows[rows.groupby("person")["period"].transform("nunique") > 1].reset_index(drop=True)


def _within(repeated: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return the within-person regression of attainment on `metric` (outcome, design, rep codes), or None where it cannot be fitted.

    Rep-periods without a value of the metric are left out first, and with
    them any rep left with a single period.
    """
    kept = present(repeated, metric)
    rows = repeated if kept.all() else _repeated(repeated[kept])
    if len(rows) <= 2:
        return None
    groups = rep_codes(rows)
    metric_within = _demeaned(standardised(rows[metric].to_numpy(np.float64)), groups)
    if np.abs(metric_within).max() <= 1e-12:
        return None
    outcome = _demeaned(rows["attainment"].to_numpy(np.float64), groups)
    periods = _demeaned(period_dummies(rows["period"]), groups)
    return outcome, np.column_stack([metric_within, periods]), groups


def leading_indicators(rows: pd.DataFrame, study: StudyConfig) -> Leading:
    """Return, per metric, two tests of whether behaviour leads results.

    `next_period`: attainment in period t+1 on the standardised metric in t,
    controlling for attainment in t, with period fixed effects. `within_person`:
    attainment on the standardised metric with person and period fixed
    effects (the within transformation), so that a stable trait of a rep
    cannot pass for a lever. Errors clustered by rep; q-values over the
    metrics, per test.
    """
    pairs = _next_period_pairs(rows)
    repeated = _repeated(rows)
    found: Leading = {
        "next_period": {"n": len(pairs), "reps": int(pairs["person"].nunique()), "metrics": {}},
        "within_person": {"n": len(repeated), "reps": int(repeated["person"].nunique()), "metrics": {}},
    }
    for metric in study.metrics:
        # An optional metric's empty rep-periods (no reply to a customer) are left out of its own tests.
        measured = pairs[present(pairs, metric)].reset_index(drop=True)
        if len(measured) > 2 and measured[metric].nunique() > 1:
            design = np.column_stack(
                [
                    np.ones(len(measured)),
                    standardised(measured[metric].to_numpy(np.float64)),
                    measured["attainment"].to_numpy(np.float64),
                    period_dummies(measured["period"]),
                ]
            )
            fit = clustered_ols(measured["next_attainment"].to_numpy(np.float64), design, rep_codes(measured))
            found["next_period"]["metrics"][metric] = _coefficient(fit, 1, study)
        within = _within(repeated, metric)
        if within is None:
            continue
        outcome, design, codes = within
        fit = clustered_ols(outcome, design, codes)
        found["within_person"]["metrics"][metric] = _coefficient(fit, 0, study)
    for test in (found["next_period"], found["within_person"]):
        results = list(test["metrics"].values())
        for result, q in zip(results, bh_qvalues(np.array([r["p"] for r in results])), strict=True):
            result["q"] = float(q)
    return found


def _coefficient(fit: Clustered, column: int, study: StudyConfig) -> Coefficient:
    return {
        "coef": float(fit.params[column]),
        "se": fit.se(column),
        "ci": list(fit.interval(column, study.confidence)),
        "p": fit.p(column),
        "q": float("nan"),
    }
