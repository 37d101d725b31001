"""Benchmark: the metrics engine against pandas and networkx, at the study's scale and at 10,000 people.

    .venv/bin/python bench/bench_metrics.py                       # 1,500 and 10,000 people, 18 months
    .venv/bin/python bench/bench_metrics.py --people 1500         # one size
    .venv/bin/python bench/bench_metrics.py --baseline-limit 1200 # give pandas/networkx at most 20 minutes each
    .venv/bin/python bench/bench_metrics.py --people 1500 --only engine pandas --repeat 3
                                                # engine and pandas in turn, three times; medians kept
    .venv/bin/python bench/bench_metrics.py --people 1500 --only generate engine engine_before --now 4b56300 --repeat 3
                                                # a new company; the engines of 4b56300 and 1460fc5 in turn

Each company is generated straight into a workspace (`bench/bulk`,
no text exports). Every step runs in its own process, so its time and peak
memory (max RSS) are its own:

- `engine`: `repsight.metrics.run_metrics` on DuckDB, all of it: both
  tables, the graphs, storing the results; its steps are timed too, and
  "tables" (everything but the graphs) is what pandas is compared with.
- `engine_before`: the same, by the engine before issue 16's customer
  engagement (commit 1460fc5, `BEFORE`), on a copy of the same company made
  as that commit stores it (schema version 2: without the account owners,
  `account_touches` and the newer metric columns). Its `src/` is extracted
  with `git archive` into the out folder once per run, and the step runs
  with it first on `PYTHONPATH`; the copy is made once per run too, before
  the steps. What the new columns cost is `engine` less `engine_before`.
  `engine` is the working tree's engine, or with `--now REV` that of commit
  REV, run the same way as the engine before (on a copy made as REV stores
  it): a fixed commit, where others edit the working tree meanwhile.
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
import inspect
import json
import math
import os
import re
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
BEFORE = "1460fc5"
"""The engine before issue 16's customer-engagement metrics (it already stores `messages.parent_key`: schema version 2)."""
STEPS = ("engine", "engine_before", "pandas", "igraph", "networkx")
ENGINES = ("engine", "engine_before")
ENGINE_STEPS = ("events", "network", "tables", "graph", "store")
"""The engine's own timed steps (`MetricsReport.steps`), in the order it runs them."""
# A baseline is stopped above this resident memory, before the kernel's OOM killer (24 GiB machine).
BASELINE_MEMORY_MB = 16 * 1024


def _run_step(step: str, folder: Path, limit: float | None = None, env: dict[str, str] | None = None) -> dict[str, object]:
    """Run one step in a new process; a baseline (with a `limit`) is stopped past it or past BASELINE_MEMORY_MB."""
    return run_step(__file__, step, folder, KEY, limit, BASELINE_MEMORY_MB if limit is not None else None, env)


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
        rows["replies"] = int(store.table("messages").parent_key.count().execute())
        rows["owned_accounts"] = int(store.table("accounts").owner.count().execute())
    return {"seconds": seconds, "peak_mb": _peak_mb(), "rows": rows}


def _open(config: Config) -> Store:
    from repsight.store import Store

    return Store.open(config, read_only=True)


def step_engine(folder: Path) -> dict[str, object]:
    """Return what `run_metrics` measured: of today's engine, or of the one first on PYTHONPATH (`engine_before`)."""
    import repsight
    from repsight import load_config
    from repsight.metrics import run_metrics

    # Every week, every time (`--repeat` runs it again on the same workspace); an engine before incremental runs has no `full`.
    full = {"full": True} if "full" in inspect.signature(run_metrics).parameters else {}
    report = run_metrics(load_config(folder), **full)
    return {
        "code": str(Path(repsight.__file__).parents[1]),
        "seconds": report.seconds,
        "peak_mb": _peak_mb(),
        "steps": report.steps,
        "person_weeks": report.person_weeks,
        "person_periods": report.person_periods,
        "estimated": report.estimated_betweenness,
    }


def step_downgrade(folder: Path) -> dict[str, object]:
    """Return what was dropped after making the workspace's database what the engine on PYTHONPATH stores.

    Run with an extracted commit's src first on PYTHONPATH (`BEFORE`'s, or
    `--now`'s): its `repsight.schema` says which tables and columns it knows
    (1460fc5: schema version 2); every other table and column is dropped and
    `schema_version` set to its version, so that its `Store.open` finds
    nothing to refuse. The store has no way to
    drop a column, so this talks to DuckDB itself: it is the benchmark's
    setup, not a use of the package.
    """
    import duckdb

    import repsight
    from repsight import load_config
    from repsight.config import Config
    from repsight.schema import SCHEMA_VERSION, TABLES

    started = time.perf_counter()
    dropped = _drop_sections(folder / "repsight.toml", set(Config.model_fields))
    with duckdb.connect(str(load_config(folder).database_path)) as con:
        stored: dict[str, list[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main' ORDER BY ordinal_position"
        ).fetchall():
            stored.setdefault(table, []).append(column)
        for table, columns in stored.items():
            if table not in TABLES:
                con.execute(f'DROP TABLE "{table}"')
                dropped.append(table)
                continue
            for column in columns:
                if column not in TABLES[table]:
                    con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
                    dropped.append(f"{table}.{column}")
        con.execute("UPDATE workspace SET value = ? WHERE name = 'schema_version'", [str(SCHEMA_VERSION)])
        con.execute("CHECKPOINT")
    return {
        "seconds": time.perf_counter() - started,
        "code": str(Path(repsight.__file__).parents[1]),
        "schema_version": SCHEMA_VERSION,
        "dropped": dropped,
    }


def _drop_sections(path: Path, known: set[str]) -> list[str]:
    """Return the sections of a workspace's configuration that the engine on PYTHONPATH does not know, after removing them.

    A later repsight writes sections an older one refuses as unknown
    settings (`[guidance]`, issue 17); each goes whole, to the next header.
    """
    kept, dropped, skipping = [], [], False
    for line in path.read_text().splitlines(keepends=True):
        header = re.match(r"\s*\[([A-Za-z_]+)\]", line)
        if header:
            skipping = header.group(1) not in known
            if skipping:
                dropped.append(f"[{header.group(1)}]")
        if not skipping:
            kept.append(line)
    path.write_text("".join(kept))
    return dropped


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
        "--only",
        nargs="*",
        choices=("generate", *STEPS),
        help="rerun just these steps on the companies of the last run (e.g. --only igraph networkx); "
        "with `generate`, on new companies (e.g. --only generate engine engine_before)",
    )
    parser.add_argument(
        "--now",
        metavar="REV",
        help="run `engine` from this commit's src (extracted, as for engine_before), not from the working tree",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the steps this many times, taking turns, and keep each step's median run (the machine is shared and noisy)",
    )
    args = parser.parse_args()
    args.out = args.out.resolve()  # the engine before is found by absolute path
    if args.table:
        _print_table(json.loads((args.out / "results.json").read_text()))
        return
    if args.step:
        steps = {
            "engine": step_engine,
            "engine_before": step_engine,
            "downgrade": step_downgrade,
            "pandas": step_pandas,
            "igraph": step_igraph,
            "networkx": step_networkx,
        }
        result = step_generate(args.folder, *args.size) if args.step == "generate" else steps[args.step](args.folder)
        print(json.dumps(result))
        return
    results = []
    saved = args.out / "results.json"
    earlier = {r["people"]: r for r in json.loads(saved.read_text())} if saved.exists() else {}
    generate = not args.only or "generate" in args.only
    chosen = [s for s in STEPS if s in args.only] if args.only else list(STEPS)
    # Each engine run from an extracted commit: its src (PYTHONPATH) and, per company, a workspace made as it stores it.
    extracted = {"engine_before": BEFORE, **({"engine": args.now} if args.now and "engine" in chosen else {})}
    sources = {step: _extract(args.out, rev) for step, rev in extracted.items() if step in chosen}
    code = {step: _revision(rev) for step, rev in extracted.items() if step in sources}
    code.setdefault("engine", _working_tree())
    for people in args.people:
        folder = args.out / f"people-{people}"
        row: dict[str, object]
        # `--only` reruns steps on the last run's company; from a clean clone (none yet) it is generated first.
        if not generate and (folder / "repsight.toml").exists():
            row = earlier.get(people, {"people": people, "months": args.months})
        else:
            shutil.rmtree(folder, ignore_errors=True)
            generated = _run_generate(folder, people, args.months)
            # A new company: the earlier run's figures were measured on other data, and go.
            row = {"people": people, "months": args.months, "generate": generated}
            print(f"{people:,} people: generated {generated['rows']} in {float(str(generated['seconds'])):.0f} s", flush=True)
        folders = {step: folder for step in chosen}
        for step, src in sources.items():
            folders[step], row[f"{step}_workspace"] = _workspace_for(folder, src)
            print(f"  {step} workspace: {json.dumps(row[f'{step}_workspace'])}", flush=True)
        runs: dict[str, list[dict[str, object]]] = {}
        for _ in range(args.repeat):
            for step in chosen:
                if any(run.get("stopped") for run in runs.get(step, [])):
                    continue  # a baseline past its limit once is past it every time
                limit = None if step in (*ENGINES, "igraph") else args.baseline_limit
                src = sources.get(step)
                run = _run_step(step, folders[step], limit, {"PYTHONPATH": str(src)} if src else None)
                if src and run.get("code") != str(src):
                    raise SystemExit(f"{step} ran the engine of {run.get('code')}, not of {src}")
                if step in code:
                    run["revision"] = code[step]
                runs.setdefault(step, []).append(run)
                print(f"  {step}: {json.dumps(run)}", flush=True)
        for step, done in runs.items():
            row[step] = _median_run(done, step)
        results.append(row)
    # The other companies of earlier runs are kept: measuring one size does not drop the other's rows.
    results = [*(r for n, r in earlier.items() if n not in args.people), *results]
    results.sort(key=lambda r: int(str(r["people"])))
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    _print_table(results)


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def _revision(rev: str) -> str:
    """Return the short hash of a commit."""
    return _git("rev-parse", "--short", f"{rev}^{{commit}}")


def _working_tree() -> str:
    """Return what the working tree's engine is: HEAD's short hash, and whether src/ differs from it."""
    changed = _git("status", "--porcelain", "--", "src")
    return f"working tree at {_revision('HEAD')}{', src changed' if changed else ''}"


def _extract(out: Path, rev: str) -> Path:
    """Return the `src` folder of commit `rev`, extracted (anew) into the out folder with `git archive`."""
    target = out / f"engine-{_revision(rev)}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def _workspace_for(folder: Path, src: Path) -> tuple[Path, dict[str, object]]:
    """Return a copy of the company's workspace made as the engine of `src` stores it, and what making it took and dropped."""
    copy = folder.with_name(f"{folder.name}-{src.parent.name}")
    shutil.rmtree(copy, ignore_errors=True)
    started = time.perf_counter()
    shutil.copytree(folder, copy)
    copied = time.perf_counter() - started
    result = _run_step("downgrade", copy, env={"PYTHONPATH": str(src)})
    if result.get("code") != str(src):
        raise SystemExit(f"the downgrade ran the schema of {result.get('code')}, not of {src}")
    return copy, {**result, "copy_seconds": copied}


def _tables_seconds(engine: dict[str, object]) -> float:
    """Return the seconds of an engine run without its graphs: what pandas is compared with."""
    steps = engine["steps"]
    assert isinstance(steps, dict)
    return sum(float(v) for k, v in steps.items() if k != "graph")


def _median_run(runs: list[dict[str, object]], step: str) -> dict[str, object]:
    """Return the median of a step's runs (by the seconds compared: an engine's without graphs), with every run's seconds.

    Of an even number of runs, the faster of the two middle ones.
    """

    def seconds(run: dict[str, object]) -> float:
        return _tables_seconds(run) if step in ENGINES else float(str(run["seconds"]))

    ordered = sorted(runs, key=seconds)
    median = ordered[(len(ordered) - 1) // 2]
    result = {**median, "runs": [round(seconds(run), 2) for run in runs]}
    if step in ENGINES:
        result["runs_all"] = [round(float(str(run["seconds"])), 2) for run in runs]
        result["runs_peak_mb"] = [round(float(str(run["peak_mb"]))) for run in runs]
    return result


def _run_generate(folder: Path, people: int, months: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--step", "generate", "--folder", str(folder), "--size", str(people), str(months)]
    process = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "REPSIGHT_KEY": KEY}, check=True)
    result: dict[str, object] = json.loads(process.stdout.strip().splitlines()[-1])
    return result


def _print_table(results: list[dict[str, object]]) -> None:
    """Print the engine against its baselines, then (where both ran) the engine now against the engine before issue 16."""
    lines = [line for row in results for line in _baseline_lines(row)]
    if lines:
        print("\n| people | step | seconds | peak MB | engine is faster by |")
        print("|---:|---|---:|---:|---|")
        print("\n".join(lines))
    compared = [row for row in results if all(isinstance(row.get(step), dict) for step in ENGINES)]
    if compared:
        _print_engagement_cost(compared)


def _baseline_lines(row: dict[str, object]) -> list[str]:
    """Return the table lines of one company's engine and baselines: the steps it has results of."""
    engine, pandas, igraph, networkx = (row.get(s) for s in ("engine", "pandas", "igraph", "networkx"))
    tables = _tables_seconds(engine) if isinstance(engine, dict) else None
    wanted: list[tuple[str, dict[str, object] | None, float | None, float | str]] = [
        ("engine, all", engine if isinstance(engine, dict) else None, None, ""),
        ("engine, tables (no graphs)", engine if isinstance(engine, dict) else None, tables, ""),
        ("pandas, person_week", pandas if isinstance(pandas, dict) else None, None, tables if tables is not None else ""),
        ("engine, graphs (igraph)", igraph if isinstance(igraph, dict) else None, None, ""),
        ("networkx, graphs", networkx if isinstance(networkx, dict) else None, None, "igraph"),
    ]
    lines = []
    for name, result, own, base in wanted:
        if result is None:
            continue
        if base == "igraph":
            base = float(str(igraph["seconds"])) if isinstance(igraph, dict) else ""
        seconds = own if own is not None else float(str(result["seconds"]))
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
        lines.append(f"| {row['people']:,} | {name} | {shown} | {float(str(result['peak_mb'])):,.0f} | {ratio} |")
    return lines


def _print_engagement_cost(rows: list[dict[str, object]]) -> None:
    """Print the engine before issue 16 and now on the same company, same run: seconds, peak memory and the difference."""
    print("\n| people | engine | seconds, tables (no graphs) | seconds, all | peak MB |")
    print("|---:|---|---:|---:|---:|")
    for row in rows:
        before, now = row["engine_before"], row["engine"]
        assert isinstance(before, dict) and isinstance(now, dict)
        figures = {}
        now_name = f"engine now ({now.get('revision', 'working tree')})"
        for step, name, run in (("engine_before", f"engine before issue 16 ({BEFORE})", before), ("engine", now_name, now)):
            figures[step] = (_tables_seconds(run), float(str(run["seconds"])), float(str(run["peak_mb"])))
            tables, total, peak = figures[step]
            print(
                f"| {row['people']:,} | {name} | {tables:,.1f}{_runs(run, 'runs')} | {total:,.1f}{_runs(run, 'runs_all')} "
                f"| {peak:,.0f}{_runs(run, 'runs_peak_mb', '.0f')} |"
            )
        change = [
            f"{n - b:+,.1f} s ({(n - b) / b:+.0%})"
            for b, n in zip(figures["engine_before"][:2], figures["engine"][:2], strict=True)
        ]
        b, n = figures["engine_before"][2], figures["engine"][2]
        print(f"| {row['people']:,} | difference | {change[0]} | {change[1]} | {n - b:+,.0f} MB ({(n - b) / b:+.0%}) |")
    print(f"\n| people | engine | {' | '.join(ENGINE_STEPS)} |")
    print(f"|---:|---|{'---:|' * len(ENGINE_STEPS)}")
    for row in rows:
        for step, name in (("engine_before", f"before ({BEFORE})"), ("engine", "now")):
            run = row[step]
            assert isinstance(run, dict) and isinstance(run["steps"], dict)
            seconds = [f"{float(run['steps'].get(s, 0.0)):,.1f}" for s in ENGINE_STEPS]
            print(f"| {row['people']:,} | {name} | {' | '.join(seconds)} |")


def _runs(run: dict[str, object], key: str, shown: str = ".1f") -> str:
    """Return ' (runs: a, b, c)', every run's figure, for a step run more than once (the median run is the one by tables seconds)."""
    runs = run.get(key)
    if not isinstance(runs, list) or len(runs) < 2:
        return ""
    return f" (runs: {', '.join(f'{float(r):{shown}}' for r in runs)})"


if __name__ == "__main__":
    main()
