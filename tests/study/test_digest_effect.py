"""The digest's holdout and its difference in differences (repsight.study.digest_effect), on planted person-weeks."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from repsight.study.digest_effect import HOLDOUT, RECIPIENT, assign_holdout, digest_effect

FIRST_DIGEST = date(2025, 3, 3)


def reps(count: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person": [f"{i:032x}" for i in range(count)],
            "segment": rng.choice(["SMB", "Mid-Market", "Enterprise", None], size=count),
            "tier": rng.choice([1, 0, -1], size=count),
        }
    )


def planted_weeks(assignment: pd.DataFrame, response: float, seed: int = 1) -> pd.DataFrame:
    """Eight weeks before the first digest and eight with it: each rep's own level, a trend every rep shares,
    weekly noise, and `response` more customer hours a week for recipients once the digest comes."""
    rng = np.random.default_rng(seed)
    rows = []
    for person, group in zip(assignment["person"], assignment["group"], strict=True):
        level = rng.normal(4.0, 1.0)
        for k in range(-8, 8):
            week = FIRST_DIGEST + timedelta(weeks=k)
            shared = 0.05 * k  # a trend the holdout has too: a before/after comparison alone would take it for an effect
            effect = response if (group == RECIPIENT and k >= 0) else 0.0
            rows.append({"person": person, "week": week, "customer_hours": level + shared + effect + rng.normal(0, 0.8)})
    return pd.DataFrame(rows)


def test_the_holdout_is_a_seeded_share_of_every_segment_and_tier() -> None:
    people = reps()
    first = assign_holdout(people, 0.2, seed=3)
    assert first.equals(assign_holdout(people.sample(frac=1, random_state=9), 0.2, seed=3))  # input order does not matter
    assert not first.equals(assign_holdout(people, 0.2, seed=4))
    for stratum, part in first.groupby("stratum"):
        assert (part["group"] == HOLDOUT).sum() == round(len(part) * 0.2), stratum
    assert set(first["person"]) == set(people["person"])
    assert (assign_holdout(people, 0.0, seed=3)["group"] == RECIPIENT).all()
    with pytest.raises(ValueError, match="below 1"):
        assign_holdout(people, 1.0, seed=3)


def test_a_planted_response_in_recipients_is_recovered_and_the_shared_trend_is_not_taken_for_one() -> None:
    assignment = assign_holdout(reps(), 0.3, seed=0)
    found = digest_effect(planted_weeks(assignment, response=0.5), assignment, FIRST_DIGEST, ["customer_hours"])
    effect = found["metrics"]["customer_hours"]
    low, high = effect["ci"]
    assert low <= 0.5 <= high and effect["p"] < 0.001
    # Both groups rose with the shared trend (0.05 a week, the mean weeks 8 apart: +0.4); only the difference is the digest's.
    assert effect["holdout_change"] == pytest.approx(0.4, abs=0.15)
    assert effect["recipients_change"] == pytest.approx(0.9, abs=0.15)
    none = digest_effect(planted_weeks(assignment, response=0.0), assignment, FIRST_DIGEST, ["customer_hours"])
    low, high = none["metrics"]["customer_hours"]["ci"]
    assert low <= 0 <= high


def test_the_effect_is_welchs_difference_of_each_reps_change() -> None:
    """An independent computation: each rep's mean after minus mean before, then scipy's Welch t-test of the two groups."""
    assignment = assign_holdout(reps(60), 0.5, seed=2)
    weeks = planted_weeks(assignment, response=0.3, seed=5)
    found = digest_effect(weeks, assignment, FIRST_DIGEST, ["customer_hours"])["metrics"]["customer_hours"]
    weeks = weeks.assign(after=weeks["week"] >= FIRST_DIGEST).merge(assignment, on="person")
    means = weeks.groupby(["person", "group", "after"])["customer_hours"].mean().unstack("after")
    change = (means[True] - means[False]).reset_index()
    treated = change.loc[change["group"] == RECIPIENT, 0]
    held = change.loc[change["group"] == HOLDOUT, 0]
    test = sps.ttest_ind(treated, held, equal_var=False)
    interval = test.confidence_interval(0.95)
    assert found["effect"] == pytest.approx(treated.mean() - held.mean(), rel=1e-12)
    assert found["p"] == pytest.approx(test.pvalue, rel=1e-9)
    assert found["ci"] == pytest.approx([interval.low, interval.high], rel=1e-9)
    assert (found["recipients"], found["holdout"]) == (len(treated), len(held))


def test_a_rep_without_weeks_on_both_sides_is_left_out() -> None:
    assignment = assign_holdout(reps(40), 0.5, seed=1)
    weeks = planted_weeks(assignment, response=0.2)
    late = assignment["person"].iloc[0]
    weeks = weeks[(weeks["person"] != late) | (pd.to_datetime(weeks["week"]) >= pd.Timestamp(FIRST_DIGEST))]
    found = digest_effect(weeks, assignment, FIRST_DIGEST, ["customer_hours"])["metrics"]["customer_hours"]
    assert found["recipients"] + found["holdout"] == 39
