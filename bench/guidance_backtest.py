"""Back-test of the guidance: do reps who close their top gap from one period to the next gain more attainment?

    .venv/bin/repsight demo --out demo                    # or any studied workspace
    .venv/bin/python bench/guidance_backtest.py demo      # the table, and --json FILE for every pair

For every rep and two consecutive periods t and t+1 with metrics and an
attainment in both: the rep's top gap in t (`repsight.guidance`, as
`repsight advise --period t` gives it) is **closed** when the rep's value of
that behaviour in t+1 reaches the top tier's median of t (the target the
guidance showed). The table compares the change of attainment from t to t+1
between reps who closed it and reps who did not, with a 95% interval from
2,000 bootstrap resamples of reps (each rep's pairs together). Closing is
all or nothing; the last line also gives how far each rep moved on their top
gap (in the top tier's spreads of t) against their change of attainment, as
a rank correlation with the same kind of interval.

On the synthetic company the behaviours and attainment both follow each
quarter's latent skill, so the guidance points at levers that move with
results by construction: this checks that it points at them, not that
changing a behaviour changes results (no observational data can).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def pairs(folder: Path) -> pd.DataFrame:
    """Return one row per rep and consecutive periods: the top gap in t, whether it was closed in t+1, and attainment in both."""
    from repsight import load_config
    from repsight.guidance import advise_person, load_guidance_data
    from repsight.store import Store

    config = load_config(folder)
    with Store.open(config, read_only=True) as store:
        data = load_guidance_data(store, config)
        kpis = store.to_pandas(store.table("kpis"))[["person", "period", "attainment"]].dropna()
    attainment = {(str(r.person), str(r.period)): float(r.attainment) for r in kpis.itertuples(index=False)}
    values = data.periods.set_index(["person", "period"])
    periods = data.period_names
    rows = []
    for person in sorted(p for p in data.people.index if data.is_rep(p)):
        for now, following in itertools.pairwise(periods):
            if (
                (person, now) not in attainment
                or (person, following) not in attainment
                or (person, following) not in values.index
            ):
                continue
            if (person, now) not in values.index:
                continue
            advice = advise_person(data, person, now)
            if not advice.gaps:
                continue
            top = advice.gaps[0]
            later = float(values.at[(person, following), top.metric])
            if later != later:
                continue
            closed = later <= top.top_tier_median if top.better == "lower" else later >= top.top_tier_median
            sign = -1.0 if top.better == "lower" else 1.0
            rows.append(
                {
                    # How far the rep moved towards the target, in the top tier's spreads of t (negative: away from it).
                    "moved": sign * (later - top.value) / (top.gap / top.spreads),
                    "person": person,
                    "period": now,
                    "next_period": following,
                    "metric": top.metric,
                    "closed": bool(closed),
                    "attainment": attainment[(person, now)],
                    "next_attainment": attainment[(person, following)],
                }
            )
    found = pd.DataFrame(rows)
    found["change"] = found["next_attainment"] - found["attainment"]
    return found


def difference(found: pd.DataFrame, resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Return the mean change of attainment of closers minus non-closers (points), and its 95% rep-clustered bootstrap interval."""
    reps = sorted(found["person"].unique())
    code = found["person"].map({p: i for i, p in enumerate(reps)}).to_numpy()
    change = 100 * found["change"].to_numpy(np.float64)
    closed = found["closed"].to_numpy(bool)

    def estimate(weights: np.ndarray) -> float:
        w = weights[code]
        return float(np.average(change[closed], weights=w[closed]) - np.average(change[~closed], weights=w[~closed]))

    draws = np.random.default_rng(seed).integers(0, len(reps), size=(resamples, len(reps)))
    estimates = []
    for draw in draws:
        weights = np.bincount(draw, minlength=len(reps)).astype(np.float64)
        if weights[code][closed].sum() > 0 and weights[code][~closed].sum() > 0:
            estimates.append(estimate(weights))
    low, high = np.quantile(estimates, [0.025, 0.975])
    return estimate(np.ones(len(reps))), float(low), float(high)


def moved_correlation(found: pd.DataFrame, resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Return Spearman's rho of how far reps moved on their top gap and their change of attainment, and its 95% rep-clustered bootstrap interval."""
    from scipy.stats import spearmanr

    reps = sorted(found["person"].unique())
    rows_of = [np.flatnonzero(found["person"].to_numpy() == p) for p in reps]
    moved, change = found["moved"].to_numpy(np.float64), found["change"].to_numpy(np.float64)
    rho = float(spearmanr(moved, change).statistic)
    draws = np.random.default_rng(seed).integers(0, len(reps), size=(resamples, len(reps)))
    estimates = []
    for draw in draws:
        index = np.concatenate([rows_of[i] for i in draw])
        estimates.append(float(spearmanr(moved[index], change[index]).statistic))
    low, high = np.quantile(estimates, [0.025, 0.975])
    return rho, float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", type=Path, help="a studied workspace (its folder or repsight.toml)")
    parser.add_argument("--json", type=Path, help="write every rep-period pair to this file")
    args = parser.parse_args()
    found = pairs(args.workspace)
    if found.empty:
        sys.exit("no rep has a top gap in one period and metrics and attainment in the next")
    if args.json:
        args.json.write_text(found.to_json(orient="records", indent=1))
    print("| top gap in t | pairs | closed in t+1 | attainment change, closed | not closed | difference (points) [95% CI] |")
    print("|---|---:|---:|---:|---:|---|")
    groups = [
        ("all", found),
        *((m, part) for m, part in found.groupby("metric") if part["closed"].any() and (~part["closed"]).any()),
    ]
    for name, part in groups:
        closers, others = part[part["closed"]], part[~part["closed"]]
        shown = f"{len(part)} | {len(closers)} | {100 * closers['change'].mean():+.1f} | {100 * others['change'].mean():+.1f}"
        if name == "all" or min(part["person"].nunique(), closers["person"].nunique(), others["person"].nunique()) >= 10:
            estimate, low, high = difference(part)
            shown += f" | {estimate:+.1f} [{low:+.1f}, {high:+.1f}]"
        else:
            shown += " | (too few reps)"
        print(f"| {name} | {shown} |")
    rho, low, high = moved_correlation(found)
    print(
        f"\nHow far reps moved on their top gap (in the top tier's spreads) against their change of attainment: "
        f"Spearman's rho {rho:+.2f} [{low:+.2f}, {high:+.2f}] over {len(found)} pairs of {found['person'].nunique()} reps"
    )
    print(json.dumps({"pairs": len(found), "closed": int(found["closed"].sum()), "rho_moved_change": rho}))


if __name__ == "__main__":
    main()
