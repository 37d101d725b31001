"""Does the weekly digest change behaviour? A holdout, and a difference in differences against it.

docs/guidance.md, *Measuring the digest*. A seeded share of reps, drawn
within each segment and tier, gets no digest for a number of weeks
(`assign_holdout`); the digest's effect on a behaviour is then how much more
it changed for the recipients than for the holdout, from the weeks before
the first digest to the weeks with it (`digest_effect`).

Each rep's weeks are first averaged into one value before and one after, so
that a rep's weeks, which are not independent of each other, weigh as one
observation (a rep is the cluster); the difference of the two groups' mean
changes then has Welch's t-test (scipy's `ttest_ind(equal_var=False)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["HOLDOUT", "RECIPIENT", "assign_holdout", "digest_effect"]

HOLDOUT = "holdout"
RECIPIENT = "recipient"


def assign_holdout(reps: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """Return `person`, `stratum`, `group` (`holdout` or `recipient`): a seeded share of reps held out within each stratum.

    `reps` holds one row per rep with `person`, `segment` and `tier` (the
    study's latest tier; any value). Within each stratum (segment × tier,
    a missing segment a stratum of its own), reps in pseudonym order are
    shuffled by `numpy.random.default_rng(seed)` and the first
    round(n × fraction) held out, so the same reps and seed give the same
    assignment, and every stratum is held out in the same share.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"the holdout fraction must be at least 0 and below 1, not {fraction}")
    rng = np.random.default_rng(seed)
    rows = reps.assign(stratum=reps["segment"].fillna("(missing)").astype(str) + " / tier " + reps["tier"].astype(str))
    rows = rows.sort_values(["stratum", "person"], kind="stable").reset_index(drop=True)
    group = np.full(len(rows), RECIPIENT, dtype=object)
    for _, index in rows.groupby("stratum", sort=True).indices.items():
        order = rng.permutation(index)
        group[order[: round(len(index) * fraction)]] = HOLDOUT
    return rows.assign(group=group)[["person", "stratum", "group"]]


def digest_effect(
    weeks: pd.DataFrame, assignment: pd.DataFrame, first_week: Any, metrics: list[str], confidence: float = 0.95
) -> dict[str, Any]:
    """Return per metric the difference in differences of recipients against the holdout, with its interval.

    `weeks` holds person-week rows (`person`, `week`, the metrics);
    `assignment` is `assign_holdout`'s; weeks before `first_week` are
    *before*, the others *after*. A rep counts when they have weeks on both
    sides. Per metric: `effect` (recipients' mean change minus the
    holdout's, in the metric's unit), `ci`, `se`, `p`, the two groups' mean
    changes and sizes.
    """
    start = pd.Timestamp(first_week)
    rows = weeks.merge(assignment[["person", "group"]], on="person")
    rows = rows.assign(after=pd.to_datetime(rows["week"]) >= start)
    found: dict[str, Any] = {"first_week": str(start.date()), "metrics": {}}
    for name in metrics:
        means = rows.groupby(["person", "group", "after"])[name].mean().unstack("after")
        if True not in means.columns or False not in means.columns:
            continue
        change = (means[True] - means[False]).dropna().reset_index()
        treated = change.loc[change["group"] == RECIPIENT, 0].to_numpy(np.float64)
        held = change.loc[change["group"] == HOLDOUT, 0].to_numpy(np.float64)
        found["metrics"][name] = _welch(treated, held, confidence)
    return found


def _welch(treated: NDArray[np.float64], held: NDArray[np.float64], confidence: float) -> dict[str, Any]:
    """Return the difference of two means with Welch's t-test (scipy): its standard error, interval and two-sided p-value."""
    nan = float("nan")
    result: dict[str, Any] = {
        "recipients": len(treated),
        "holdout": len(held),
        "recipients_change": float(treated.mean()) if len(treated) else nan,
        "holdout_change": float(held.mean()) if len(held) else nan,
        "effect": nan,
        "se": nan,
        "ci": [nan, nan],
        "p": nan,
    }
    if len(treated) < 2 or len(held) < 2:
        return result
    effect = float(treated.mean() - held.mean())
    test = sps.ttest_ind(treated, held, equal_var=False)
    if not np.isfinite(test.statistic):  # no spread in either group
        return result | {"effect": effect}
    interval = test.confidence_interval(confidence)
    se = float(np.sqrt(treated.var(ddof=1) / len(treated) + held.var(ddof=1) / len(held)))
    return result | {"effect": effect, "se": se, "ci": [float(interval.low), float(interval.high)], "p": float(test.pvalue)}
