"""Benchmark: the metrics engine against pandas and networkx, at the study's scale and at 10,000 people.

    .venv/bin/python bench/bench_metrics.py                       # 1,500 and 10,000 people, 18 months
    .venv/bin/python bench/bench_metrics.py --people 1500         # one size
    .venv/bin/python bench/bench_metrics.py --baseline-limit 1200 # give pandas/networkx at most 20 minutes each
    .venv/bin/python bench/bench_metrics.py --people 1500 --only engine pandas --repeat 3
                                                # engine and pandas in turn, three times; medians kept

Each company is generated straight into a workspace (`bench/bulk`,
no text exports). Every step runs in its own process, so its time and peak
memory (max RSS) are its own:

- `engine`: `repsight.metrics.run_metrics` on DuckDB, all of it: both
  tables, the graphs, storing the results; its steps are timed too, and
  "tables" (everything but the graphs) is what pandas is compared with.
- `pandas`: the same rules written in plain pandas (`oracle_person_week` of
  `tests/support/metrics_oracle.py`, the oracle the tests compare the engine with), on
  tables read from the same workspace; the reading is not counted. It stops
  at `--baseline-limit`.
- `igraph` and `networkx`: network prominence and brokerage on the same
  period edge tables (exported by the engine's run): the engine's igraph code
  against networkx (`eigenvector_centrality_numpy`, `betweenness_centrality`),
  which is what a user of networkx would write. Where the engine estimates
  betweenness from sampled sources (graphs above
  `betweenness_exact_max_people`), networkx does too, from as many (`k`).
  The engine shares a large graph's sources between one worker process per
  core; networkx runs on one core, so part of the ratio is the second core.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from steps import run_step

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.store import Store

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key-0123456789abcdef"
# A baseline is stopped above this resident memory, before the kernel's OOM killer (24 GiB machine).
BASELINE_MEMORY_MB = 16 * 1024


def _run_step(step: str, folder: Path, limit: float | None = None) -> dict[str, object]:
    """Run one step in a new process; a baseline (with a `limit`) is stopped past it or past BASELINE_MEMORY_MB."""
    return run_step(__file__, step, folder, KEY, limit, BASELINE_MEMORY_MB if limit is not None else None)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_generate(folder: Path, people: int, months: int) -> dict[str, object]:
    from bulk import main as generate
    from repsight import load_config

    started = time.perf_counter()
    generate([str(folder), "--people", str(people), "--months", str(months), "--quiet"])
    seconds = time.perf_counter() - started
    config = load_config(folder)
    with _open(config) as store:
        rows = {name: store.count(name) for name in ("messages", "message_recipients", "meetings", "meeting_attendees")}
    return {"seconds": seconds, "peak_mb": _peak_mb(), "rows": rows}


def _open(config: Config) -> Store:
    from repsight.store import Store

    return Store.open(config, read_only=True)


def step_engine(folder: Path) -> dict[str, object]:
    from repsight import load_config
    from repsight.metrics import run_metrics

    report = run_metrics(load_config(folder))
    return {
        "seconds": report.seconds,
        "peak_mb": _peak_mb(),
        "steps": report.steps,
        "person_weeks": report.person_weeks,
        "person_periods": report.person_periods,
        "estimated": report.estimated_betweenness,
    }


def step_pandas(folder: Path) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))  # the tests' oracle: tests/support/metrics_oracle.py
    from tests.support.metrics_oracle import oracle_person_week

    from repsight import load_config
    from repsight.metrics.engine import INPUT_TABLES

    config = load_config(folder)
    with _open(config) as store:
        tables = {name: store.table(name).to_pyarrow() for name in INPUT_TABLES}
    started = time.perf_counter()
    weeks = oracle_person_week(tables, config)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "person_weeks": len(weeks)}


def _stored(folder: Path, table: str) -> pa.Table:
    from repsight import load_config

    with _open(load_config(folder)) as store:
        rows: pa.Table = store.table(table).to_pyarrow()
    return rows


def step_igraph(folder: Path) -> dict[str, object]:
    from repsight import load_config
    from repsight.metrics.centrality import period_scores

    config = load_config(folder)
    edges = _stored(folder, "period_edges")
    people = _stored(folder, "person_period").select(["person", "period"])
    started = time.perf_counter()
    scores = period_scores(edges, people, config.metrics)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "rows": scores.table.num_rows}


def step_networkx(folder: Path) -> dict[str, object]:
    import networkx as nx

    from repsight import load_config

    rules = load_config(folder).metrics
    edges = _stored(folder, "period_edges").to_pandas()
    started = time.perf_counter()
    rows = 0
    for _, part in edges.groupby("period"):
        graph = nx.Graph()
        graph.add_weighted_edges_from(part[["a", "b", "weight"]].itertuples(index=False))
        for component in nx.connected_components(graph):  # numpy eigenvectors need one component
            if len(component) > 2:
                nx.eigenvector_centrality_numpy(graph.subgraph(component), weight="weight")
        # Where the engine estimates betweenness, so does this: from as many sampled sources (networkx's `k`).
        nodes = graph.number_of_nodes()
        sampled = nodes > rules.betweenness_exact_max_people
        k = min(rules.betweenness_samples, nodes) if sampled else None
        rows += len(nx.betweenness_centrality(graph, k=k, seed=rules.betweenness_seed if sampled else None))
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="*", default=[1500, 10_000])
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "metrics")
    parser.add_argument("--baseline-limit", type=float, default=1800.0, help="seconds each baseline may run")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--table", action="store_true", help="print the table of the last run's results.json")
    parser.add_argument(
        "--only", nargs="*", help="rerun just these steps on the companies of the last run (e.g. --only igraph networkx)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the steps this many times, taking turns, and keep each step's median run (the machine is shared and noisy)",
    )
    args = parser.parse_args()
    if args.table:
        _print_table(json.loads((args.out / "results.json").read_text()))
        return
    if args.step:
        steps = {"engine": step_engine, "pandas": step_pandas, "igraph": step_igraph, "networkx": step_networkx}
        result = step_generate(args.folder, *args.size) if args.step == "generate" else steps[args.step](args.folder)
        print(json.dumps(result))
        return
    results = []
    saved = args.out / "results.json"
    earlier = {r["people"]: r for r in json.loads(saved.read_text())} if saved.exists() else {}
    for people in args.people:
        folder = args.out / f"people-{people}"
        row: dict[str, object]
        if args.only:
            row = earlier[people]
        else:
            shutil.rmtree(folder, ignore_errors=True)
            generated = _run_generate(folder, people, args.months)
            row = {"people": people, "months": args.months, "generate": generated}
            print(f"{people:,} people: generated {generated['rows']} in {float(str(generated['seconds'])):.0f} s", flush=True)
        runs: dict[str, list[dict[str, object]]] = {}
        for _ in range(args.repeat):
            for step in args.only or ("engine", "pandas", "igraph", "networkx"):
                if any(run.get("stopped") for run in runs.get(step, [])):
                    continue  # a baseline past its limit once is past it every time
                limit = None if step in ("engine", "igraph") else args.baseline_limit
                runs.setdefault(step, []).append(_run_step(step, folder, limit))
                print(f"  {step}: {json.dumps(runs[step][-1])}", flush=True)
        for step, done in runs.items():
            row[step] = _median_run(done, step)
        results.append(row)
    # The other companies of earlier runs are kept: measuring one size does not drop the other's rows.
    results = [*(r for n, r in earlier.items() if n not in args.people), *results]
    results.sort(key=lambda r: int(str(r["people"])))
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    _print_table(results)


def _tables_seconds(engine: dict[str, object]) -> float:
    """Return the seconds of an engine run without its graphs: what pandas is compared with."""
    steps = engine["steps"]
    assert isinstance(steps, dict)
    return sum(float(v) for k, v in steps.items() if k != "graph")


def _median_run(runs: list[dict[str, object]], step: str) -> dict[str, object]:
    """Return the median of a step's runs (by the seconds compared: the engine's without graphs), with every run's seconds.

    Of an even number of runs, the faster of the two middle ones.
    """

    def seconds(run: dict[str, object]) -> float:
        return _tables_seconds(run) if step == "engine" else float(str(run["seconds"]))

    ordered = sorted(runs, key=seconds)
    return {**ordered[(len(ordered) - 1) // 2], "runs": [round(seconds(run), 2) for run in runs]}


def _run_generate(folder: Path, people: int, months: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--step", "generate", "--folder", str(folder), "--size", str(people), str(months)]
    process = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "REPSIGHT_KEY": KEY}, check=True)
    result: dict[str, object] = json.loads(process.stdout.strip().splitlines()[-1])
    return result


def _print_table(results: list[dict[str, object]]) -> None:
    print("\n| people | step | seconds | peak MB | engine is faster by |")
    print("|---:|---|---:|---:|---|")
    for row in results:
        engine, pandas, igraph, networkx = (row[s] for s in ("engine", "pandas", "igraph", "networkx"))
        assert isinstance(engine, dict) and isinstance(pandas, dict) and isinstance(igraph, dict) and isinstance(networkx, dict)
        tables = _tables_seconds(engine)
        lines = [
            ("engine, all", float(engine["seconds"]), engine, ""),
            ("engine, tables (no graphs)", tables, engine, ""),
            ("pandas, person_week", float(pandas["seconds"]), pandas, tables),
            ("engine, graphs (igraph)", float(igraph["seconds"]), igraph, ""),
            ("networkx, graphs", float(networkx["seconds"]), networkx, float(igraph["seconds"])),
        ]
        for name, seconds, result, base in lines:
            stopped = result.get("stopped") if base != "" else None
            times = seconds / float(base) if base != "" else 0.0
            if stopped:  # a lower bound: one decimal, rounded down, never up past it
                times = math.floor(times * 10) / 10
            shown_times = f"{times:.1f}" if times < 10 or stopped else f"{times:.0f}"
            ratio = f"{'more than ' if stopped else ''}{shown_times}×" if base != "" else ""
            shown = f"{seconds:,.1f}" + (f" (stopped: {stopped} limit)" if stopped else "")
            runs = result.get("runs")
            if isinstance(runs, list) and len(runs) > 1 and name != "engine, all":
                shown += f" (median of {', '.join(f'{run:.1f}' for run in runs)})"
            if stopped == "memory":
                ratio = "did not finish within 16 GiB"
            print(f"| {row['people']:,} | {name} | {shown} | {float(str(result['peak_mb'])):,.0f} | {ratio} |")


if __name__ == "__main__":
    main()
