"""Phase 1 (the whole sales org), the multivariable model, and phase 2 (segment by segment, with heterogeneity)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from repsight.study.stats import (
    bh_qvalues,
    bootstrap_counts,
    clustered_ols,
    gap_interval,
    i_squared,
    rank_slope,
    standardised,
)
from repsight.study.table import assign_tiers

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from repsight.config import StudyConfig

__all__ = ["compare", "consensus", "heterogeneity", "multivariable_model", "period_dummies", "phase1", "phase2", "rep_codes"]

CONSISTENT = "consistent"
SEGMENT_SPECIFIC = "segment-specific"
UNTESTED = "untested"


def rep_codes(rows: pd.DataFrame) -> NDArray[np.int64]:
    """Return each row's rep as a code 0 .. reps−1, in pseudonym order (the bootstrap's clusters)."""
    codes, _ = pd.factorize(rows["person"], sort=True)
    return np.asarray(codes, dtype=np.int64)


def period_dummies(periods: pd.Series) -> NDArray[np.float64]:
    """Return one 0/1 column per period but the first (in sorted order): period fixed effects next to a constant."""
    names = sorted(periods.unique())
    return (
        np.column_stack([(periods == name).to_numpy(np.float64) for name in names[1:]])
        if len(names) > 1
        else np.empty((len(periods), 0))
    )


def compare(rows: pd.DataFrame, tiers: NDArray[np.int8], study: StudyConfig) -> dict[str, dict[str, Any]]:
    """Return, per metric, the top and bottom tiers' means, the bottom-vs-top gap with its interval, and rho with its p-value.

    The q-values are filled in by the caller, which knows the family of tests.
    """
    groups = rep_codes(rows)
    counts = bootstrap_counts(int(groups.max()) + 1, study.bootstrap_resamples, study.seed)
    attainment = rows["attainment"].to_numpy(np.float64)
    found: dict[str, dict[str, Any]] = {}
    for metric in study.metrics:
        values = rows[metric].to_numpy(np.float64)
        top = float(values[tiers > 0].mean()) if (tiers > 0).any() else float("nan")
        bottom = float(values[tiers < 0].mean()) if (tiers < 0).any() else float("nan")
        gap = 100.0 * (bottom - top) / top if top != 0 else float("nan")
        rho, p = rank_slope(values, attainment, groups)
        low, high, spread = gap_interval(values, tiers, groups, counts, study.confidence)
        found[metric] = {
            "top_mean": top,
            "bottom_mean": bottom,
            "bottom_vs_top_pct": gap,
            "ci": [low, high],
            "se": spread,
            "rho": rho,
            "p": p,
            "q": float("nan"),
        }
    return found


def _fill_q(results: list[dict[str, Any]]) -> None:
    q = bh_qvalues(np.array([r["p"] for r in results], dtype=np.float64))
    for result, value in zip(results, q, strict=True):
        result["q"] = float(value)


def phase1(rows: pd.DataFrame, study: StudyConfig) -> tuple[NDArray[np.int8], dict[str, dict[str, Any]]]:
    """Return the rows' tiers and, per metric, the whole-org comparison with q-values over the metrics."""
    tiers = assign_tiers(rows, study.tier_fraction)
    found = compare(rows, tiers, study)
    _fill_q(list(found.values()))
    return tiers, found


def multivariable_model(rows: pd.DataFrame, study: StudyConfig) -> dict[str, Any]:
    """Return attainment regressed on the standardised metrics, with period fixed effects and errors clustered by rep."""
    varying = [m for m in study.metrics if rows[m].nunique() > 1]
    columns = [standardised(rows[m].to_numpy(np.float64)) for m in varying]
    design = np.column_stack([np.ones(len(rows)), *columns, period_dummies(rows["period"])])
    fit = clustered_ols(rows["attainment"].to_numpy(np.float64), design, rep_codes(rows))
    p = np.array([fit.p(i + 1) for i in range(len(varying))])
    q = bh_qvalues(p)
    return {
        "outcome": "attainment",
        "scale": "change in attainment per standard deviation of the metric, the other metrics held equal",
        "fixed_effects": ["period"],
        "errors": "clustered by rep",
        "n": fit.nobs,
        "reps": fit.clusters,
        "r2": fit.rsquared,
        "coefficients": {
            metric: {
                "coef": float(fit.params[i + 1]),
                "se": fit.se(i + 1),
                "ci": list(fit.interval(i + 1, study.confidence)),
                "p": float(p[i]),
                "q": float(q[i]),
            }
            for i, metric in enumerate(varying)
        },
        "left_out": [m for m in study.metrics if m not in varying],
    }


def heterogeneity(rows: pd.DataFrame, attribute: str, metric: str) -> dict[str, Any]:
    """Return the Wald test of metric × segment in the rank model, and I² across the segments' slopes.

    Model (errors clustered by rep): standardised rank of attainment on the
    standardised rank of the metric, the segments, metric × segment, and
    period fixed effects. A segment's slope is the metric's slope plus its
    interaction; I² is taken over those slopes with their variances.
    """
    segments = sorted(rows[attribute].unique())
    untested = {"p": float("nan"), "i2": float("nan"), "slopes": {}}
    if len(segments) < 2:
        return untested
    metric_rank = standardised(sps.rankdata(rows[metric].to_numpy(np.float64)))
    if not metric_rank.any():
        return untested
    outcome = standardised(sps.rankdata(rows["attainment"].to_numpy(np.float64)))
    member = [(rows[attribute] == s).to_numpy(np.float64) for s in segments[1:]]
    design = np.column_stack(
        [np.ones(len(rows)), metric_rank, *member, *[metric_rank * m for m in member], period_dummies(rows["period"])]
    )
    fit = clustered_ols(outcome, design, rep_codes(rows))
    others = len(segments) - 1
    first_interaction = 2 + others
    restriction = np.zeros((others, design.shape[1]))
    restriction[np.arange(others), first_interaction + np.arange(others)] = 1.0
    _, p = fit.wald(restriction)
    slopes, variances = [], []
    for index in range(len(segments)):
        pick = np.zeros(design.shape[1])
        pick[1] = 1.0
        if index > 0:
            pick[first_interaction + index - 1] = 1.0
        slopes.append(float(pick @ fit.params))
        variances.append(float(pick @ fit.cov @ pick))
    i2 = i_squared(np.array(slopes), np.array(variances))
    return {
        "p": p,
        "i2": i2,
        "slopes": {
            s: {"slope": b, "se": float(np.sqrt(v)) if v >= 0 else float("nan")}
            for s, b, v in zip(segments, slopes, variances, strict=True)
        },
    }


def phase2(rows: pd.DataFrame, study: StudyConfig, min_group_size: int) -> dict[str, dict[str, Any]]:
    """Return, per segmenting attribute, each large-enough segment's comparison, the segments left out, and the heterogeneity verdicts.

    A segment is left out when it has fewer reps than `min_group_size`, or
    when its top or bottom tier (all periods together) does.

    q-values of the segments' rho are corrected over every segment and
    metric of every attribute together; those of the interaction tests over
    every metric and attribute.
    """
    found: dict[str, dict[str, Any]] = {}
    for attribute in study.segment_by:
        segments: dict[str, dict[str, Any]] = {}
        left_out: list[str] = []
        for value in sorted(rows[attribute].unique()):
            part = rows[rows[attribute] == value].reset_index(drop=True)
            reps = int(part["person"].nunique())
            tiers = assign_tiers(part, study.tier_fraction) if reps >= min_group_size else np.zeros(len(part), np.int8)
            # A tier's mean over fewer reps than the minimum group would show a few people's behaviour.
            top_reps = int(part.loc[tiers > 0, "person"].nunique())
            bottom_reps = int(part.loc[tiers < 0, "person"].nunique())
            if min(reps, top_reps, bottom_reps) < min_group_size:
                left_out.append(str(value))
                continue
            segments[str(value)] = {
                "n_reps": reps,
                "top_reps": top_reps,
                "bottom_reps": bottom_reps,
                "metrics": compare(part, tiers, study),
            }
        kept = rows[rows[attribute].isin(list(segments))].reset_index(drop=True)
        tests = {metric: heterogeneity(kept, attribute, metric) for metric in study.metrics}
        found[attribute] = {"segments": segments, "left_out": left_out, "heterogeneity": tests}
    _fill_q([m for a in found.values() for s in a["segments"].values() for m in s["metrics"].values()])
    _fill_q([t for a in found.values() for t in a["heterogeneity"].values()])
    for part in found.values():
        for metric, test in part["heterogeneity"].items():
            test["verdict"] = _verdict(test, study)
            test["consensus_pct"] = consensus(
                {name: segment["metrics"][metric] for name, segment in part["segments"].items()}, study.q_threshold
            )
            test["differing_segments"] = [
                name
                for name, segment in part["segments"].items()
                if _excludes(segment["metrics"][metric]["ci"], test["consensus_pct"])
            ]
    return found


def consensus(segments: dict[str, dict[str, Any]], alpha: float) -> float:
    """Return the bottom-vs-top gap pooled over the segments that agree with one another.

    A segment differs when its interval excludes this value. The whole-org
    gap would not do: a segment where a behaviour does not matter pulls the
    pooled gap towards itself, and the segments where it does would then
    look different too. So the segments' gaps are pooled with inverse-variance
    weights (variance: the bootstrap's); while Cochran's Q says the pooled
    segments disagree (p < alpha), the one farthest from the pool, in
    standard errors, is set aside.
    """
    estimates = {
        name: (m["bottom_vs_top_pct"], m["se"] ** 2)
        for name, m in segments.items()
        if np.isfinite(m["bottom_vs_top_pct"]) and np.isfinite(m["se"]) and m["se"] > 0
    }
    while estimates:
        theta = np.array([e for e, _ in estimates.values()])
        weight = 1.0 / np.array([v for _, v in estimates.values()])
        pooled = float(np.sum(weight * theta) / np.sum(weight))
        deviation = weight * (theta - pooled) ** 2
        if len(estimates) < 2 or sps.chi2.sf(deviation.sum(), len(estimates) - 1) >= alpha:
            return pooled
        del estimates[list(estimates)[int(np.argmax(deviation))]]
    return float("nan")


def _verdict(test: dict[str, Any], study: StudyConfig) -> str:
    if np.isnan(test["p"]):
        return UNTESTED
    return SEGMENT_SPECIFIC if test["q"] < study.q_threshold and test["i2"] >= study.heterogeneity_i2 else CONSISTENT


def _excludes(interval: list[float], value: float) -> bool:
    low, high = interval
    return bool(np.isfinite(low) and np.isfinite(high) and np.isfinite(value) and not low <= value <= high)
