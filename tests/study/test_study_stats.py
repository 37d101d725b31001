"""The study's statistics against independent computations: scipy and statsmodels called directly, and plain loops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from repsight.config import StudyConfig
from repsight.study import assign_tiers
from repsight.study.document import Comparison
from repsight.study.dynamics import leading_indicators
from repsight.study.phases import heterogeneity, multivariable_model, pooled_gap, q_in_place, rep_codes
from repsight.study.stats import bh_qvalues, bootstrap_counts, gap_interval, i_squared, rank_slope
from tests.support.study_org import DEMO_LIKE, Plan, rep_period_rows

RELATIVE = 1e-9


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return rep_period_rows(Plan(reps=60, seed=3, effects=DEMO_LIKE))


def test_tiers_are_the_lowest_and_highest_quarter_of_each_period_ties_broken_by_pseudonym() -> None:
    frame = pd.DataFrame(
        {
            "person": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "x", "y", "z", "w"],
            "period": ["Q1"] * 9 + ["Q2"] * 4,
            "attainment": [0.5, 0.9, 0.5, 1.2, 0.7, 1.5, 1.5, 0.1, 1.0, 2.0, 1.0, 0.5, 3.0],
        }
    )
    tiers = assign_tiers(frame, 0.25)
    # Q1, nine reps: two at each end. h (0.1) then a and c tie at 0.5, a first.
    # At the top f and g tie at 1.5: both are the top two.
    assert dict(zip(frame.person, tiers.tolist(), strict=True)) == {
        "a": -1, "b": 0, "c": 0, "d": 0, "e": 0, "f": 1, "g": 1, "h": -1, "i": 0,
        "x": 0, "y": 0, "z": -1, "w": 1,
    }  # fmt: skip


def test_q_values_are_benjamini_hochberg_as_statsmodels_computes_them() -> None:
    p = np.array([0.001, 0.04, 0.03, 0.2, np.nan, 0.04, 0.9, 0.0005])
    present = ~np.isnan(p)
    expected = multipletests(p[present], method="fdr_bh")[1]
    q = bh_qvalues(p)
    assert np.isnan(q[4])
    np.testing.assert_allclose(q[present], expected, rtol=RELATIVE)


def test_rho_is_spearman_and_its_p_value_clusters_reps_as_statsmodels_does(rows: pd.DataFrame) -> None:
    rho, p = rank_slope(rows["customer_hours"].to_numpy(), rows["attainment"].to_numpy(), rep_codes(rows))
    assert rho == pytest.approx(sps.spearmanr(rows["customer_hours"], rows["attainment"]).statistic, rel=RELATIVE)
    ranks = pd.DataFrame(
        {
            "y": sps.rankdata(rows["attainment"]),
            "x": sps.rankdata(rows["customer_hours"]),
            "rep": pd.factorize(rows["person"])[0],
        }
    )
    ranks = (ranks - ranks.mean()) / ranks.std(ddof=0)
    fit = smf.ols("y ~ x", ranks).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["person"])[0]}, use_t=True)
    # statsmodels' t reference for clustered errors has clusters − 1 degrees of freedom, as ours.
    assert p == pytest.approx(fit.pvalues["x"], rel=1e-7)
    assert 0 < p < 0.05


def _gap(frame: pd.DataFrame, metric: str) -> float:
    top = frame.loc[frame.tier > 0, metric].mean()
    bottom = frame.loc[frame.tier < 0, metric].mean()
    return float(100 * (bottom - top) / top)


def test_bootstrap_interval_equals_a_plain_loop_over_resampled_reps(rows: pd.DataFrame) -> None:
    frame = rows.assign(tier=assign_tiers(rows, 0.25), rep=rep_codes(rows))
    resamples, seed = 300, 11
    low, high, spread = gap_interval(
        frame["customer_hours"].to_numpy(),
        frame["tier"].to_numpy(),
        frame["rep"].to_numpy(),
        bootstrap_counts(frame["rep"].max() + 1, resamples, seed),
        0.95,
    )
    # The oracle: build each resample as a table (a rep drawn twice is there twice) and measure it.
    draws = np.random.default_rng(seed).integers(0, frame["rep"].max() + 1, size=(resamples, frame["rep"].max() + 1))
    by_rep = {rep: part for rep, part in frame.groupby("rep")}
    gaps = [_gap(pd.concat([by_rep[r] for r in draw]), "customer_hours") for draw in draws]
    assert [low, high] == pytest.approx(list(np.percentile(gaps, [2.5, 97.5])), rel=RELATIVE)
    assert spread == pytest.approx(np.std(gaps, ddof=1), rel=RELATIVE)


def test_bootstrap_interval_agrees_with_scipy_bootstrap_over_reps(rows: pd.DataFrame) -> None:
    frame = rows.assign(tier=assign_tiers(rows, 0.25), rep=rep_codes(rows))
    clusters = frame["rep"].max() + 1
    low, high, _ = gap_interval(
        frame["customer_hours"].to_numpy(),
        frame["tier"].to_numpy(),
        frame["rep"].to_numpy(),
        bootstrap_counts(clusters, 4000, 0),
        0.95,
    )
    by_rep = {rep: part for rep, part in frame.groupby("rep")}

    def statistic(reps: np.ndarray) -> float:
        return _gap(pd.concat([by_rep[int(r)] for r in reps]), "customer_hours")

    expected = sps.bootstrap(
        (np.arange(clusters),), statistic, n_resamples=1000, method="percentile", vectorized=False, rng=np.random.default_rng(5)
    ).confidence_interval
    # Different draws: the two intervals agree to Monte Carlo error.
    width = expected.high - expected.low
    assert low == pytest.approx(expected.low, abs=0.1 * width)
    assert high == pytest.approx(expected.high, abs=0.1 * width)


def test_interaction_wald_test_and_segment_slopes_match_statsmodels_formula(rows: pd.DataFrame) -> None:
    found = heterogeneity(rows, "region", "customer_hours")
    data = pd.DataFrame(
        {
            "y": sps.rankdata(rows["attainment"]),
            "x": sps.rankdata(rows["customer_hours"]),
            "region": rows["region"],
            "period": rows["period"],
        }
    )
    data[["y", "x"]] = (data[["y", "x"]] - data[["y", "x"]].mean()) / data[["y", "x"]].std(ddof=0)
    groups = pd.factorize(rows["person"])[0]
    fit = smf.ols("y ~ x * C(region) + C(period)", data).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    interactions = [name for name in fit.params.index if name.startswith("x:C(region)")]
    wald = fit.wald_test(", ".join(f"{name} = 0" for name in interactions), use_f=True, scalar=True)
    assert found["p"] == pytest.approx(float(wald.pvalue), rel=1e-7)
    slopes = {"APAC": fit.params["x"]} | {
        name[len("x:C(region)[T.") : -1]: fit.params["x"] + fit.params[name] for name in interactions
    }
    assert {k: v["slope"] for k, v in found["slopes"].items()} == pytest.approx(slopes, rel=RELATIVE)
    cov = fit.cov_params()
    variances = {"APAC": cov.loc["x", "x"]} | {
        name[len("x:C(region)[T.") : -1]: cov.loc["x", "x"] + cov.loc[name, name] + 2 * cov.loc["x", name]
        for name in interactions
    }
    theta, weight = np.array(list(slopes.values())), 1 / np.array([variances[k] for k in slopes])
    q = float(np.sum(weight * (theta - np.sum(weight * theta) / np.sum(weight)) ** 2))
    assert found["i2"] == pytest.approx(max(0.0, (q - 2) / q), rel=1e-7, abs=1e-12)


def test_i_squared_of_hand_values() -> None:
    # Two estimates 0 and 1 with variance 0.1 each: Q = 5, df = 1, I² = 0.8.
    assert i_squared(np.array([0.0, 1.0]), np.array([0.1, 0.1])) == pytest.approx(0.8)
    assert i_squared(np.array([0.5, 0.5, 0.5]), np.array([0.1, 0.2, 0.3])) == 0.0
    assert i_squared(np.array([0.5]), np.array([0.1])) == 0.0


def test_multivariable_model_matches_statsmodels_formula_with_period_effects(rows: pd.DataFrame) -> None:
    study = StudyConfig(metrics=["customer_hours", "internal_network_size", "manager_hours"])
    model = multivariable_model(rows, study)
    data = rows[["attainment", "period", *study.metrics]].copy()
    for metric in study.metrics:
        data[metric] = (data[metric] - data[metric].mean()) / data[metric].std(ddof=0)
    groups = pd.factorize(rows["person"])[0]
    fit = smf.ols("attainment ~ customer_hours + internal_network_size + manager_hours + C(period)", data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    for metric in study.metrics:
        assert model["coefficients"][metric]["coef"] == pytest.approx(fit.params[metric], rel=RELATIVE)
        assert model["coefficients"][metric]["se"] == pytest.approx(fit.bse[metric], rel=1e-7)
        assert model["coefficients"][metric]["p"] == pytest.approx(fit.pvalues[metric], rel=1e-6)
    assert model["n"] == len(rows) and model["r2"] == pytest.approx(fit.rsquared, rel=RELATIVE)


def test_within_person_estimate_equals_the_person_dummies_model(rows: pd.DataFrame) -> None:
    study = StudyConfig(metrics=["customer_hours"])
    found = leading_indicators(rows, study)["within_person"]["metrics"]["customer_hours"]
    data = rows[["attainment", "period", "person"]].assign(
        metric=(rows["customer_hours"] - rows["customer_hours"].mean()) / rows["customer_hours"].std(ddof=0)
    )
    groups = pd.factorize(rows["person"])[0]
    fit = smf.ols("attainment ~ metric + C(person) + C(period)", data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    assert found["coef"] == pytest.approx(fit.params["metric"], rel=1e-7)
    # Same residuals and scores; only the small-sample factor (N−1)/(N−K) counts K differently:
    # the dummies model counts every person's intercept, the within model does not.
    n, k_dummies, k_within = len(rows), len(fit.params), 1 + rows["period"].nunique() - 1
    assert found["se"] == pytest.approx(fit.bse["metric"] * np.sqrt((n - k_dummies) / (n - k_within)), rel=1e-6)


def test_next_period_model_matches_statsmodels_formula(rows: pd.DataFrame) -> None:
    study = StudyConfig(metrics=["internal_network_size"])
    found = leading_indicators(rows, study)["next_period"]
    order = {p: i for i, p in enumerate(sorted(rows["period"].unique()))}
    data = rows.assign(index=rows["period"].map(order))
    following = data[["person", "index", "attainment"]].assign(index=lambda t: t["index"] - 1)
    pairs = data.merge(following.rename(columns={"attainment": "next"}), on=["person", "index"])
    pairs["metric"] = (pairs["internal_network_size"] - pairs["internal_network_size"].mean()) / pairs[
        "internal_network_size"
    ].std(ddof=0)
    fit = smf.ols("next ~ metric + attainment + C(period)", pairs).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(pairs["person"])[0]}, use_t=True
    )
    assert found["n"] == len(pairs) == 5 * rows["person"].nunique()
    assert found["metrics"]["internal_network_size"]["coef"] == pytest.approx(fit.params["metric"], rel=1e-7)
    assert found["metrics"]["internal_network_size"]["p"] == pytest.approx(fit.pvalues["metric"], rel=1e-6)


def _segment(gap: float, se: float) -> Comparison:
    nan = float("nan")
    return {
        "top_mean": nan,
        "bottom_mean": nan,
        "bottom_vs_top_pct": gap,
        "ci": [nan, nan],
        "se": se,
        "rho": nan,
        "p": nan,
        "q": nan,
    }


def test_pooled_gap_weighs_each_segment_by_its_inverse_bootstrap_variance() -> None:
    assert pooled_gap([_segment(-24.0, 2.0), _segment(-28.0, 4.0)]) == pytest.approx((-24 / 4 - 28 / 16) / (1 / 4 + 1 / 16))
    assert pooled_gap([_segment(-24.0, 3.0), _segment(-28.0, 3.0), _segment(1.0, 3.0)]) == pytest.approx(-17.0)
    # A segment without a gap or a spread has no weight; with none left there is no pool.
    assert pooled_gap([_segment(-24.0, 2.0), _segment(float("nan"), 1.0), _segment(5.0, 0.0)]) == -24.0
    assert np.isnan(pooled_gap([_segment(float("nan"), 1.0)])) and np.isnan(pooled_gap([]))


def test_q_in_place_is_benjamini_hochberg_with_one_p_value_replaced() -> None:
    family = np.array([0.001, 0.2, np.nan, 0.03, 0.6])
    for p in (0.0001, 0.02, 0.9):
        replaced = np.array([0.001, 0.2, 0.03, p])
        expected = multipletests(replaced, method="fdr_bh")[1][3]
        assert q_in_place(family, 4, p) == pytest.approx(expected, rel=RELATIVE)
    assert family[4] == 0.6  # the family itself is left as it was


@pytest.mark.parametrize(
    ("y", "x", "groups"),
    [
        # As many rows as parameters: the fit is exact and its clustered errors zero, which would read as certainty.
        ([1.0, 2.0, 3.0], [[1, 1, 0, 1], [1, 0, 1, 1], [1, 2, 1, 0]], [0, 1, 2]),
        # One rep: no variance between reps (statsmodels divides by clusters - 1).
        ([1.0, 2.0, 3.0, 4.0], [[1, 1], [1, 0], [1, 2], [1, 5]], [0, 0, 0, 0]),
    ],
)
def test_a_model_the_data_cannot_estimate_gives_no_estimate_not_a_crash_or_false_certainty(
    y: list[float], x: list[list[float]], groups: list[int]
) -> None:
    from repsight.study.stats import clustered_ols

    fit = clustered_ols(np.array(y), np.array(x, dtype=np.float64), np.array(groups))
    assert np.isnan(fit.params).all() and np.isnan(fit.p(1)) and all(np.isnan(fit.interval(1, 0.95)))
    assert all(np.isnan(fit.wald(np.eye(len(x[0]))[1:2])))
