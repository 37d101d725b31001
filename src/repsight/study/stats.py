"""The statistics of the study, on small in-memory arrays: ranks, cluster bootstrap, clustered models, q-values.

Every function here works on numpy arrays of rep-period rows; `groups`
holds each row's rep as an integer code (0 .. reps-1), because every
uncertainty in the study treats a rep's periods as one draw: a rep's
quarters are not independent evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats as sps

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "Clustered",
    "bh_qvalues",
    "bootstrap_counts",
    "clustered_ols",
    "gap_interval",
    "i_squared",
    "rank_slope",
    "standardised",
]


def standardised(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return `values` less their mean, over their standard deviation (population); zeros when constant."""
    values = np.asarray(values, dtype=np.float64)
    spread = float(values.std())
    if not spread > 0:
        return np.zeros_like(values)
    result: NDArray[np.float64] = (values - values.mean()) / spread
    return result


def bootstrap_counts(clusters: int, resamples: int, seed: int) -> NDArray[np.int64]:
    """Return how many times each cluster is drawn in each resample: an array resamples × clusters.

    Resample b draws `clusters` clusters with replacement: the draws are
    `numpy.random.default_rng(seed).integers(0, clusters, (resamples, clusters))[b]`,
    a contract the tests check the interval against.
    """
    draws = np.random.default_rng(seed).integers(0, clusters, size=(resamples, clusters))
    offsets = draws + np.arange(resamples)[:, None] * clusters
    return np.bincount(offsets.ravel(), minlength=resamples * clusters).reshape(resamples, clusters)


def gap_interval(
    values: NDArray[np.float64],
    tier: NDArray[np.int8],
    groups: NDArray[np.int64],
    counts: NDArray[np.int64],
    confidence: float,
) -> tuple[float, float, float]:
    """Return the percentile-bootstrap interval of 100 × (bottom mean − top mean) / top mean, and the resamples' standard deviation.

    `values` holds one metric's value per rep-period row; `tier` is +1 for a top row, −1 for a bottom row, 0 otherwise; `counts`
    comes from `bootstrap_counts` over the clusters in `groups`. A resample
    holds each drawn rep's rows, as often as the rep is drawn; the tiers are
    the rows' own (set once on the whole data). Resamples without a top or a
    bottom row, or with a top mean of zero, are left out of the interval.
    """
    clusters = counts.shape[1]
    top_sum = np.bincount(groups, weights=np.where(tier > 0, values, 0.0), minlength=clusters)
    top_rows = np.bincount(groups, weights=(tier > 0).astype(np.float64), minlength=clusters)
    bottom_sum = np.bincount(groups, weights=np.where(tier < 0, values, 0.0), minlength=clusters)
    bottom_rows = np.bincount(groups, weights=(tier < 0).astype(np.float64), minlength=clusters)
    weights = counts.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        top = (weights @ top_sum) / (weights @ top_rows)
        bottom = (weights @ bottom_sum) / (weights @ bottom_rows)
        gap = 100.0 * (bottom - top) / top
    gap = gap[np.isfinite(gap)]
    if gap.size < 2:
        return (float("nan"), float("nan"), float("nan"))
    tail = 100.0 * (1 - confidence) / 2
    low, high = np.percentile(gap, [tail, 100.0 - tail])
    return (float(low), float(high), float(gap.std(ddof=1)))


@dataclass(frozen=True)
class Clustered:
    """An OLS fit with errors clustered by rep: estimates, their covariance, and the t reference."""

    params: NDArray[np.float64]
    cov: NDArray[np.float64]
    df: int
    """Degrees of freedom of the t tests: clusters − 1."""
    nobs: int
    clusters: int
    rsquared: float

    def se(self, column: int) -> float:
        variance = float(self.cov[column, column])
        # A rank-deficient design (a segment's dummy equal to a period's) can leave a negative variance: no estimate.
        return float(np.sqrt(variance)) if variance >= 0 else float("nan")

    def p(self, column: int) -> float:
        """Return the two-sided p-value that the coefficient of `column` is zero."""
        se = self.se(column)
        if not se > 0:
            return float("nan")
        return float(2 * sps.t.sf(abs(self.params[column]) / se, self.df))

    def interval(self, column: int, confidence: float) -> tuple[float, float]:
        half = sps.t.ppf(0.5 + confidence / 2, self.df) * self.se(column)
        return (float(self.params[column] - half), float(self.params[column] + half))

    def wald(self, restriction: NDArray[np.float64]) -> tuple[float, float]:
        """Return the F statistic and p-value that `restriction` @ params = 0 (one row per constraint)."""
        estimate = restriction @ self.params
        middle = restriction @ self.cov @ restriction.T
        if not (np.isfinite(estimate).all() and np.isfinite(middle).all()):
            return float("nan"), float("nan")
        constraints = restriction.shape[0]
        statistic = float(estimate @ np.linalg.pinv(middle) @ estimate) / constraints
        return statistic, float(sps.f.sf(statistic, constraints, self.df))


def clustered_ols(y: NDArray[np.float64], x: NDArray[np.float64], groups: NDArray[np.int64]) -> Clustered:
    """Return the OLS fit of `y` on the columns of `x`, with errors clustered by `groups` (statsmodels, CR1, t with clusters − 1 df).

    Where the data cannot give an estimate with an error (no more rows than
    the design's rank, so the fit is exact and its errors zero; or one
    cluster, so there is no variance between reps), every estimate is NaN:
    not estimable, never falsely certain.
    """
    import statsmodels.api as sm

    clusters = int(np.unique(groups).size)
    columns = x.shape[1] if x.ndim == 2 else 1
    if clusters < 2 or len(y) <= np.linalg.matrix_rank(x):
        nothing = np.full(columns, np.nan)
        return Clustered(nothing, np.full((columns, columns), np.nan), max(clusters - 1, 0), len(y), clusters, float("nan"))
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    return Clustered(
        params=np.asarray(fit.params, dtype=np.float64),
        cov=np.asarray(fit.cov_params(), dtype=np.float64),
        df=clusters - 1,
        nobs=int(fit.nobs),
        clusters=clusters,
        rsquared=float(fit.rsquared),
    )


def rank_slope(metric: NDArray[np.float64], outcome: NDArray[np.float64], groups: NDArray[np.int64]) -> tuple[float, float]:
    """Return Spearman's rho of `metric` and `outcome`, and its p-value with reps as clusters.

    rho is the slope of the standardised ranks of the outcome on those of the
    metric (equal to the correlation of the ranks); its p-value comes from
    errors clustered by rep. A constant metric has neither.
    """
    ranks = standardised(sps.rankdata(metric))
    if not ranks.any():
        return (float("nan"), float("nan"))
    target = standardised(sps.rankdata(outcome))
    fit = clustered_ols(target, np.column_stack([np.ones_like(ranks), ranks]), groups)
    return float(fit.params[1]), fit.p(1)


def bh_qvalues(pvalues: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return Benjamini-Hochberg q-values of `pvalues`; a missing p-value (NaN) stays missing and is not counted."""
    p = np.asarray(pvalues, dtype=np.float64)
    q = np.full_like(p, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    if present.size == 0:
        return q
    order = present[np.argsort(p[present], kind="stable")]
    scaled = p[order] * present.size / np.arange(1, present.size + 1)
    q[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return q


def i_squared(estimates: NDArray[np.float64], variances: NDArray[np.float64]) -> float:
    """Return Higgins' I² of independent estimates with their variances: max(0, (Q − df) / Q).

    Q is Cochran's: the inverse-variance weighted squared deviations from the
    weighted mean. Fewer than two estimates, or Q of zero, give 0.
    """
    usable = np.isfinite(estimates) & np.isfinite(variances) & (variances > 0)
    theta, weight = estimates[usable], 1.0 / variances[usable]
    if theta.size < 2:
        return 0.0
    pooled = float(np.sum(weight * theta) / np.sum(weight))
    q = float(np.sum(weight * (theta - pooled) ** 2))
    return max(0.0, (q - (theta.size - 1)) / q) if q > 0 else 0.0
