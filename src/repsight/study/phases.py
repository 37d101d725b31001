"""Phase 1 (the whole sales org), the multivariable model, and phase 2 (segment by segment, with heterogeneity)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd
from scipy import stats as sps

from repsight.metrics.catalog import better
from repsight.privacy import large_enough
from repsight.study.document import (
    CONSISTENT,
    SEGMENT_SPECIFIC,
    UNTESTED,
    Comparison,
    Heterogeneity,
    Model,
    Phase2Attribute,
    Segment,
    Slope,
    Verdict,
)
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

__all__ = [
    "Interaction",
    "better",
    "compare",
    "differing_segments",
    "heterogeneity",
    "multivariable_model",
    "period_dummies",
    "phase1",
    "phase2",
    "pooled_gap",
    "present",
    "q_in_place",
    "rep_codes",
]


class Interaction(TypedDict):
    """The metric × segment interaction model over some segments: its Wald p-value, I² and each segment's slope."""

    p: float
    i2: float
    slopes: dict[str, Slope]


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


def present(rows: pd.DataFrame, metric: str) -> NDArray[np.bool_]:
    """Return which rows have a value of `metric`: an optional metric (a reply time) may be empty for a rep-period."""
    found: NDArray[np.bool_] = np.isfinite(rows[metric].to_numpy(np.float64))
    return found


def compare(rows: pd.DataFrame, tiers: NDArray[np.int8], study: StudyConfig) -> dict[str, Comparison]:
    """Return, per metric, the top and bottom tiers' means, the bottom-vs-top gap with its interval, and rho with its p-value.

    Rows without a value of the metric (`present`) are left out of its
    comparison and counted in `missing`; the tiers stay those set on every
    row. The q-values are filled in by the caller, which knows the family of
    tests.
    """
    all_groups = rep_codes(rows)
    counts = bootstrap_counts(int(all_groups.max()) + 1, study.bootstrap_resamples, study.seed)
    all_attainment = rows["attainment"].to_numpy(np.float64)
    found: dict[str, Comparison] = {}
    for metric in study.metrics:
        kept = present(rows, metric)
        values = rows[metric].to_numpy(np.float64)[kept]
        groups, attainment, tiers_kept = all_groups[kept], all_attainment[kept], tiers[kept]
        top = float(values[tiers_kept > 0].mean()) if (tiers_kept > 0).any() else float("nan")
        bottom = float(values[tiers_kept < 0].mean()) if (tiers_kept < 0).any() else float("nan")
        gap = 100.0 * (bottom - top) / top if top != 0 else float("nan")
        rho, p = rank_slope(values, attainment, groups) if len(values) > 2 else (float("nan"), float("nan"))
        low, high, spread = gap_interval(values, tiers_kept, groups, counts, study.confidence)
        found[metric] = {
            "top_mean": top,
            "bottom_mean": bottom,
            "bottom_vs_top_pct": gap,
            "ci": [low, high],
            "se": spread,
            "rho": rho,
            "p": p,
            "q": float("nan"),
            "better": better(metric),
            "missing": int((~kept).sum()),
            # The reps behind each tier's mean: fewer than the tier's where rep-periods lack a value.
            "top_reps": int(np.unique(groups[tiers_kept > 0]).size),
            "bottom_reps": int(np.unique(groups[tiers_kept < 0]).size),
        }
    return found


def _fill_q(results: Sequence[Comparison]) -> None:
    q = bh_qvalues(np.array([r["p"] for r in results], dtype=np.float64))
    for result, value in zip(results, q, strict=True):
        result["q"] = float(value)


def phase1(rows: pd.DataFrame, study: StudyConfig) -> tuple[NDArray[np.int8], dict[str, Comparison]]:
    """Return the rows' tiers and, per metric, the whole-org comparison with q-values over the metrics."""
    tiers = assign_tiers(rows, study.tier_fraction)
    found = compare(rows, tiers, study)
    _fill_q(list(found.values()))
    return tiers, found


def multivariable_model(rows: pd.DataFrame, study: StudyConfig) -> Model:
    """Return attainment regressed on the standardised metrics, with period fixed effects and errors clustered by rep.

    Only rep-periods with a value of every metric are fitted (an optional
    metric may be empty); `without_values` says how many were left out.
    """
    complete = np.logical_and.reduce([present(rows, m) for m in study.metrics])
    without_values = int((~complete).sum())
    rows = rows[complete].reset_index(drop=True)
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
        "without_values": without_values,
    }


def heterogeneity(rows: pd.DataFrame, attribute: str, metric: str) -> Interaction:
    """Return the Wald test of metric × segment in the rank model, and I² across the segments' slopes.

    Model (errors clustered by rep): standardised rank of attainment on the
    standardised rank of the metric, the segments, metric × segment, and
    period fixed effects. A segment's slope is the metric's slope plus its
    interaction; I² is taken over those slopes with their variances. Rows
    without a value of the metric are left out.
    """
    rows = rows[present(rows, metric)].reset_index(drop=True)
    segments = sorted(rows[attribute].unique())
    no_test: Interaction = {"p": float("nan"), "i2": float("nan"), "slopes": {}}
    if len(segments) < 2:
        return no_test
    metric_rank = standardised(sps.rankdata(rows[metric].to_numpy(np.float64)))
    if not metric_rank.any():
        return no_test
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
            str(s): {"slope": b, "se": float(np.sqrt(v)) if v >= 0 else float("nan")}
            for s, b, v in zip(segments, slopes, variances, strict=True)
        },
    }


def differing_segments(
    rows: pd.DataFrame, attribute: str, metric: str, found: Interaction, q_of: Callable[[float], float], study: StudyConfig
) -> list[str]:
    """Return the segments that drive a segment-specific verdict, in the order they are set aside (the most different first).

    `found` is the interaction model over every kept segment (`heterogeneity`
    of `rows`); `q_of` gives the q-value that a p-value in `found`'s place
    would have had among the phase-2 interaction tests (`q_in_place`). The
    segment farthest from the slopes' inverse-variance pool (the largest
    w (slope − pooled)², w = 1 / se²) is set aside and the model is fitted
    again on the other segments' rows. While at least two segments remain
    and the verdict rule still calls them different (the refit's q below
    `q_threshold` and its I² at least `heterogeneity_i2`), the next one is
    set aside. Call it only for a segment-specific verdict: it always names
    at least one segment.
    """
    named: list[str] = []
    current = found
    while True:
        farthest = _farthest(current["slopes"])
        named.append(farthest)
        remaining = [s for s in current["slopes"] if s != farthest]
        if len(remaining) < 2:
            return named
        current = heterogeneity(rows[rows[attribute].isin(remaining)].reset_index(drop=True), attribute, metric)
        if not _differ(q_of(current["p"]), current["i2"], study):
            return named


def q_in_place(family: NDArray[np.float64], position: int, p: float) -> float:
    """Return the Benjamini–Hochberg q-value of `p` put in place of `family[position]`, the other p-values unchanged."""
    replaced = family.copy()
    replaced[position] = p
    return float(bh_qvalues(replaced)[position])


def _farthest(slopes: dict[str, Slope]) -> str:
    """Return the segment whose slope is farthest from the inverse-variance pool, in weighted squares (ties: the first)."""
    names = list(slopes)
    theta = np.array([slopes[s]["slope"] for s in names], dtype=np.float64)
    se = np.array([slopes[s]["se"] for s in names], dtype=np.float64)
    # Only slopes with a standard error are weighed (as in I²); a segment without one is set aside last.
    usable = np.isfinite(theta) & np.isfinite(se) & (se > 0)
    deviation = np.full(len(names), -np.inf)
    if usable.any():
        weight = 1.0 / se[usable] ** 2
        pooled = float(np.sum(weight * theta[usable]) / np.sum(weight))
        deviation[usable] = weight * (theta[usable] - pooled) ** 2
    return names[int(np.argmax(deviation))]


def _differ(p_or_q: float, i2: float, study: StudyConfig) -> bool:
    """Return whether an interaction test says the segments differ: below `q_threshold`, with I² at least `heterogeneity_i2`."""
    return bool(p_or_q < study.q_threshold and i2 >= study.heterogeneity_i2)


def _verdict(found: Interaction, q: float, study: StudyConfig) -> Verdict:
    if np.isnan(found["p"]):
        return UNTESTED
    return SEGMENT_SPECIFIC if _differ(q, found["i2"], study) else CONSISTENT


def phase2(rows: pd.DataFrame, study: StudyConfig, min_group_size: int) -> dict[str, Phase2Attribute]:
    """Return, per segmenting attribute, each large-enough segment's comparison, the segments left out, and the heterogeneity verdicts.

    A segment is left out when it has fewer reps than `min_group_size`, or
    when its top or bottom tier (all periods together) does.

    q-values of the segments' rho are corrected over every segment and
    metric of every attribute together; those of the interaction tests over
    every metric and attribute. A metric is segment-specific when its
    interaction test's q is below `q_threshold` and I² is at least
    `heterogeneity_i2`; `differing_segments` then names the segments that
    drive it (see `differing_segments`), and is empty for any other verdict.
    `consensus_pct` pools the gaps of the segments not named (`pooled_gap`).
    """
    kept_rows: dict[str, pd.DataFrame] = {}
    chosen: dict[str, tuple[dict[str, Segment], list[str]]] = {}
    for attribute in study.segment_by:
        segments: dict[str, Segment] = {}
        left_out: list[str] = []
        for value in sorted(rows[attribute].unique()):
            part = rows[rows[attribute] == value].reset_index(drop=True)
            reps = int(part["person"].nunique())
            tiers = (
                assign_tiers(part, study.tier_fraction) if large_enough(reps, min_group_size) else np.zeros(len(part), np.int8)
            )
            # A tier's mean over fewer reps than the minimum group would show a few people's behaviour.
            top_reps = int(part.loc[tiers > 0, "person"].nunique())
            bottom_reps = int(part.loc[tiers < 0, "person"].nunique())
            if not large_enough(min(reps, top_reps, bottom_reps), min_group_size):
                left_out.append(str(value))
                continue
            segments[str(value)] = {
                "n_reps": reps,
                "top_reps": top_reps,
                "bottom_reps": bottom_reps,
                "metrics": compare(part, tiers, study),
            }
        kept_rows[attribute] = rows[rows[attribute].isin(list(segments))].reset_index(drop=True)
        chosen[attribute] = (segments, left_out)
    _fill_q([m for segments, _ in chosen.values() for s in segments.values() for m in s["metrics"].values()])
    interactions = {
        (attribute, metric): heterogeneity(kept_rows[attribute], attribute, metric)
        for attribute in study.segment_by
        for metric in study.metrics
    }
    family = np.array([t["p"] for t in interactions.values()], dtype=np.float64)
    q_values = bh_qvalues(family)
    position = {key: i for i, key in enumerate(interactions)}
    found: dict[str, Phase2Attribute] = {}
    for attribute, (segments, left_out) in chosen.items():
        tests: dict[str, Heterogeneity] = {}
        for metric in study.metrics:
            at = position[(attribute, metric)]
            interaction, q = interactions[(attribute, metric)], float(q_values[at])
            verdict = _verdict(interaction, q, study)
            named = (
                differing_segments(kept_rows[attribute], attribute, metric, interaction, partial(q_in_place, family, at), study)
                if verdict == SEGMENT_SPECIFIC
                else []
            )
            tests[metric] = {
                "p": interaction["p"],
                "i2": interaction["i2"],
                "slopes": interaction["slopes"],
                "q": q,
                "verdict": verdict,
                "consensus_pct": pooled_gap(s["metrics"][metric] for name, s in segments.items() if name not in named),
                "differing_segments": named,
            }
        found[attribute] = {"segments": segments, "left_out": left_out, "heterogeneity": tests}
    return found


def pooled_gap(comparisons: Iterable[Comparison]) -> float:
    """Return the comparisons' bottom-vs-top gaps pooled with inverse-variance weights (variance: the bootstrap's `se`²).

    A comparison without a gap or without a positive `se` has no weight;
    with none left, the pool is NaN.
    """
    usable = [
        (c["bottom_vs_top_pct"], c["se"] ** 2)
        for c in comparisons
        if np.isfinite(c["bottom_vs_top_pct"]) and np.isfinite(c["se"]) and c["se"] > 0
    ]
    if not usable:
        return float("nan")
    theta = np.array([gap for gap, _ in usable])
    weight = 1.0 / np.array([variance for _, variance in usable])
    return float(np.sum(weight * theta) / np.sum(weight))
