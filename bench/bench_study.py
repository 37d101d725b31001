"""Benchmark: the whole study at the study's scale, against the notebook a people-analytics analyst would write.

    .venv/bin/python bench/bench_study.py                        # 1,500 people, 18 months
    .venv/bin/python bench/bench_study.py --baseline-limit 600   # give the notebook at most 10 minutes

The company is generated straight into a workspace (`bench/bulk`)
and measured (`run_metrics`) once; that is not timed. Then, each in its own
process, so that time and peak memory (max RSS) are its own:

- `study`: `repsight.study.analyze`: tiers, phase 1 with bootstrap intervals,
  the model, phase 2 over region, segment and channel with heterogeneity
  tests, dynamics, leading indicators, and storing the result.
- `notebook`: phase 1 alone, written the way the libraries' documentation
  shows: per metric, `scipy.stats.bootstrap` over reps with a pandas
  statistic (2,000 resamples, percentile), and Spearman's p-value from a
  statsmodels formula with rep-clustered errors. It stops at
  `--baseline-limit`; its time for all metrics is then projected from the
  metrics it finished.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from steps import run_step

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key-0123456789abcdef"


def _run_step(step: str, folder: Path, limit: float | None = None) -> dict[str, object]:
    """Run one step in a new process; a stopped one reports the metrics it finished (its progress file)."""
    progress = folder / f"{step}.progress.json"
    progress.unlink(missing_ok=True)  # a file of an earlier run must not pass for this one's
    result = run_step(__file__, step, folder, KEY, limit)
    if result.get("stopped") and progress.exists():
        result.update(json.loads(progress.read_text()))
    return result


def _prepare(folder: Path, people: int) -> dict[str, object]:
    from bulk import generate_store
    from repsight.config import load_config
    from repsight.metrics import run_metrics
    from repsight.workspace import init_workspace

    marker = folder / "measured.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    config = init_workspace(folder, domains=["acme.example"], timezone="America/New_York")
    started = time.perf_counter()
    generated = generate_store(config, KEY, people=people, months=18, seed=7)
    report = run_metrics(load_config(folder))
    facts = {
        "people": people,
        "rows": generated.rows,
        "person_periods": report.person_periods,
        "prepare_seconds": time.perf_counter() - started,
    }
    marker.write_text(json.dumps(facts))
    return facts


def _step_study(folder: Path) -> dict[str, object]:
    from repsight.config import load_config
    from repsight.study import run_study

    started = time.perf_counter()
    result = run_study(load_config(folder))
    seconds = time.perf_counter() - started
    doc = result.document
    return {
        "seconds": seconds,
        "reps": doc["population"]["reps"],
        "rep_periods": doc["population"]["rep_periods"],
        "segments": sum(len(part["segments"]) for part in doc["phase2"].values()),
        "metrics": len(doc["phase1"]),
        "headline": {m: round(doc["phase1"][m]["bottom_vs_top_pct"], 1) for m in ("customer_hours", "internal_network_size")},
    }


def _step_notebook(folder: Path) -> dict[str, object]:
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf
    from scipy import stats

    from repsight.config import load_config
    from repsight.store import Store
    from repsight.study import rep_periods

    config = load_config(folder)
    with Store.open(config, read_only=True) as store:
        rows, _ = rep_periods(store, config)
    started = time.perf_counter()
    rank = rows.groupby("period")["attainment"].rank(method="first")
    size = rows.groupby("period")["attainment"].transform("size")
    rows["tier"] = np.where(rank <= size // 4, "bottom", np.where(rank > size - size // 4, "top", ""))
    by_rep = dict(tuple(rows.groupby("person")))
    reps = np.array(sorted(by_rep))
    finished: dict[str, float] = {}
    progress = folder / "notebook.progress.json"
    for metric in config.study.metrics:
        metric_started = time.perf_counter()

        def gap(sample: np.ndarray, metric: str = metric) -> float:
            frame = pd.concat([by_rep[r] for r in sample])
            top = frame.loc[frame.tier == "top", metric].mean()
            return float(100 * (frame.loc[frame.tier == "bottom", metric].mean() - top) / top)

        stats.bootstrap((reps,), gap, n_resamples=2000, method="percentile", vectorized=False, rng=np.random.default_rng(0))
        ranks = pd.DataFrame({"y": rows["attainment"].rank(), "x": rows[metric].rank()})
        smf.ols("y ~ x", ranks).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["person"])[0]})
        finished[metric] = time.perf_counter() - metric_started
        progress.write_text(json.dumps({"metrics_done": len(finished), "per_metric_seconds": finished}))
    return {"seconds": time.perf_counter() - started, "metrics_done": len(finished), "per_metric_seconds": finished}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--baseline-limit", type=float, default=300.0)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--step", choices=["study", "notebook"], default=None)
    args = parser.parse_args()
    if args.step:
        result = _step_study(args.folder) if args.step == "study" else _step_notebook(args.folder)
        print(json.dumps(result))
        return
    folder = args.folder or ROOT / "bench" / "out" / "study" / str(args.people)
    folder.parent.mkdir(parents=True, exist_ok=True)
    os.environ["REPSIGHT_KEY"] = KEY
    facts = _prepare(folder, args.people)
    study = _run_step("study", folder)
    notebook = _run_step("notebook", folder, args.baseline_limit)
    metrics = int(str(study["metrics"]))
    per_metric = notebook.get("per_metric_seconds") or {}
    assert isinstance(per_metric, dict)
    projected = sum(per_metric.values()) / len(per_metric) * metrics if per_metric else None
    results = {"company": facts, "study": study, "notebook": notebook, "notebook_projected_seconds": projected}
    (folder.parent / "results.json").write_text(json.dumps(results, indent=2))
    print(f"{args.people:,} people: {study['reps']:,} reps, {study['rep_periods']:,} rep-periods, {study['segments']} segments")
    print(
        f"  repsight study (phase 1, model, phase 2, dynamics, leading): {study['seconds']:.1f} s, peak {study['peak_mb']:.0f} MB"
    )
    stopped = f" (stopped at {notebook['seconds']:.0f} s)" if notebook.get("stopped") else ""
    print(
        f"  notebook, phase 1 only: {notebook.get('metrics_done', 0)} of {metrics} metrics in "
        f"{sum(per_metric.values()):.1f} s{stopped}, peak {notebook['peak_mb']:.0f} MB"
    )
    if projected:
        ratio = projected / float(str(study["seconds"]))
        print(f"  notebook projected for phase 1's {metrics} metrics: {projected:.0f} s ({ratio:.0f}x the whole study)")


if __name__ == "__main__":
    main()
