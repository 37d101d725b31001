"""Benchmark: the metrics at 10,000, 30,000 and 100,000 people, on DuckDB and on Spark local[2], full and incremental; ingest throughput.

    make bench-scale                                   # = .venv/bin/python bench/bench_scale.py
    .venv/bin/python bench/bench_scale.py --sizes 10000:18 --engines duckdb     # one company, one engine
    .venv/bin/python bench/bench_scale.py --only ingest                         # ingest throughput alone
    .venv/bin/python bench/bench_scale.py --table                               # the last run's table and plot

Companies (`--sizes PEOPLE:MONTHS`, default 10,000 and 30,000 people over
18 months and 100,000 over one quarter) are written by the bulk generator
(`bench/bulk --lake`) straight into a workspace's event tables, and into
the event tables' Parquet layout in a lake beside it (docs/spark.md,
*The lake*). DuckDB reads the workspace's tables; Spark reads the lake
(`[engine] lake`), as it would on a cluster. For each company and engine,
each step runs in its own process, so that its time and peak memory (the
process and its children: Spark's JVM included) are its own:

- `full`: `run_metrics(full=True)`, every week, with the events of the last
  week held back (from the workspace and from the lake);
- `incremental`: that last week loaded (as a new load), then `run_metrics`:
  the run recomputes from the first week of the last week's period
  (docs/metrics.md, *Incremental runs*). The baseline is the `full` row.
  Not for a company of one quarter, where that period is every week.

Ingest throughput (`--ingest-people`, 1,500 by default, 18 months, as
raw mixed exports: mbox, iCalendar, Graph JSON, CSV): `repsight ingest`
in one process, with `--jobs 2`, and on Spark local[2] into a lake
(docs/spark.md, *The lake*), in messages and meetings stored per second,
per second and core, and (one process, `--jobs 2`) per CPU-second.

Results go to `--out` (bench/out/scale/results.json); the plot of cost
against person-weeks to docs/screenshots/scale.png (with another `--out`,
beside its results, unless `--plot` says where).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from steps import run_step

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key-0123456789abcdef"
SIZES = ("10000:18", "30000:18", "100000:3")
ENGINES = ("duckdb", "pyspark")
STEP_LIMIT = 3 * 3600.0
"""Seconds a step may run before it is stopped (and reported as stopped)."""
EVENT_TABLES = ("messages", "message_recipients", "meetings", "meeting_attendees")
OUT = ROOT / "bench" / "out" / "scale"


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _config(folder: Path, engine: str) -> Any:
    from repsight import load_config
    from repsight.config import EngineConfig

    config = load_config(folder)
    if engine == "pyspark":
        spark = EngineConfig(
            backend="pyspark",
            spark_master="local[2]",
            spark_staging=str(folder / "staging"),
            lake=str(folder / "lake"),
            spark_conf={"spark.driver.memory": "12g", "spark.local.dir": str(folder / "spark-tmp")},
        )
        config = config.model_copy(update={"engine": spark})
    return config


def step_generate(folder: Path, people: int, months: int) -> dict[str, object]:
    from bulk import main as generate

    started = time.perf_counter()
    generate([str(folder), "--people", str(people), "--months", str(months), "--lake", "--quiet"])
    seconds = time.perf_counter() - started
    with _store(folder) as store:
        rows = {name: store.count(name) for name in EVENT_TABLES}
    return {"seconds": seconds, "peak_mb": _peak_mb(), "rows": rows}


def _store(folder: Path) -> Any:
    from repsight import load_config
    from repsight.store import Store

    return Store.open(load_config(folder))


def _last_week_start(con: Any) -> Any:
    (last,) = con.execute("SELECT max(sent_at) FROM messages").fetchone()
    return (last - timedelta(days=last.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def step_hold_back(folder: Path) -> dict[str, object]:
    """Move the events of the last week out of the event tables, into Parquet files beside the workspace (benchmark setup)."""
    import duckdb

    from repsight import load_config

    held = folder / "held-back"
    held.mkdir(exist_ok=True)
    with duckdb.connect(str(load_config(folder).database_path)) as con:
        start = _last_week_start(con)
        for table, time_column, key in (("messages", "sent_at", "message_key"), ("meetings", "start_at", "meeting_key")):
            con.execute(
                f"COPY (SELECT * FROM {table} WHERE {time_column} >= ?) TO '{held / table}.parquet' (FORMAT parquet)", [start]
            )
            part = "message_recipients" if table == "messages" else "meeting_attendees"
            con.execute(
                f"COPY (SELECT * FROM {part} WHERE {key} IN (SELECT {key} FROM {table} WHERE {time_column} >= ?)) "
                f"TO '{held / part}.parquet' (FORMAT parquet)",
                [start],
            )
            con.execute(f"DELETE FROM {part} WHERE {key} IN (SELECT {key} FROM {table} WHERE {time_column} >= ?)", [start])
            con.execute(f"DELETE FROM {table} WHERE {time_column} >= ?", [start])
        con.execute("CHECKPOINT")
    # The lake's folders of that week (an event's folder is the Monday of its UTC day, a participant's its event's).
    for table in EVENT_TABLES:
        for week in sorted((folder / "lake" / table).glob("week=*")):
            if week.name >= f"week={start.date()}":
                (held / "lake" / table).mkdir(parents=True, exist_ok=True)
                week.rename(held / "lake" / table / week.name)
    return {"week": str(start.date())}


def step_load_held_back(folder: Path) -> dict[str, object]:
    """Add the held-back week again, as a new load (what `repsight ingest` of a week's exports stores)."""
    import duckdb

    from repsight import load_config

    held = folder / "held-back"
    with duckdb.connect(str(load_config(folder).database_path)) as con:
        (last,) = con.execute("SELECT coalesce(max(load_id), 0) FROM loads").fetchone()
        load = last + 1
        con.execute(
            "INSERT INTO loads (load_id, source, kind, size_bytes, started_at, finished_at) VALUES (?, 'held-back week', 'mail', 0, now(), now())",
            [load],
        )
        rows = {}
        for table in EVENT_TABLES:
            columns = [
                c
                for (c,) in con.execute(
                    f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
                ).fetchall()
            ]
            chosen = ", ".join(f"{load} AS load_id" if c == "load_id" else c for c in columns)
            con.execute(f"INSERT INTO {table} SELECT {chosen} FROM '{held / table}.parquet'")
            (rows[table],) = con.execute(f"SELECT count(*) FROM '{held / table}.parquet'").fetchone()
        con.execute("CHECKPOINT")
    _load_lake_weeks(folder / "lake", held / "lake", load)
    return {"rows": rows}


def _load_lake_weeks(lake: Path, held: Path, load: int) -> None:
    """Put the held-back week folders back into the lake, their events marked as loaded by `load`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for table in EVENT_TABLES:
        for week in sorted((held / table).glob("week=*")):
            target = lake / table / week.name
            target.mkdir(parents=True)
            for part in sorted(week.glob("*.parquet")):
                rows = pq.read_table(part)
                if "load_id" in rows.column_names:
                    at = rows.column_names.index("load_id")
                    rows = rows.set_column(at, "load_id", pa.repeat(pa.scalar(load, pa.int64()), rows.num_rows))
                pq.write_table(rows, target / part.name)
            shutil.rmtree(week)


def _metrics(folder: Path, engine: str, full: bool) -> dict[str, object]:
    from repsight.metrics import run_metrics

    report = run_metrics(_config(folder, engine), full=full)
    return {
        "seconds": report.seconds,
        "own_peak_mb": _peak_mb(),
        "steps": report.steps,
        "person_weeks": report.person_weeks,
        "person_periods": report.person_periods,
        "since": str(report.since) if report.since else None,
        "why": report.why,
    }


def step_full_duckdb(folder: Path) -> dict[str, object]:
    return _metrics(folder, "duckdb", True)


def step_incremental_duckdb(folder: Path) -> dict[str, object]:
    return _metrics(folder, "duckdb", False)


def step_full_pyspark(folder: Path) -> dict[str, object]:
    return _metrics(folder, "pyspark", True)


def step_incremental_pyspark(folder: Path) -> dict[str, object]:
    return _metrics(folder, "pyspark", False)


def step_ingest_generate(folder: Path, people: int, months: int) -> dict[str, object]:
    from repsight.synth import generate

    started = time.perf_counter()
    generate(folder, people=people, months=months, seed=7)
    return {"seconds": time.perf_counter() - started, "bytes": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())}


def _run(step: str, folder: Path, size: list[int] | None = None) -> dict[str, object]:
    """Run a step in its own process (its peak memory: the process and its children, sampled)."""
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src")])}
    if size is None:
        # A step that fails (Spark's JVM killed for memory) is a result of the company, not the end of the run.
        return run_step(__file__, step, folder, KEY, STEP_LIMIT, None, env, keep_going=step.startswith(("full_", "incremental_")))
    command = [sys.executable, __file__, "--step", step, "--folder", str(folder), "--size", *map(str, size)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "REPSIGHT_KEY": KEY, **env}, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _ingest_throughput(out: Path, people: int) -> dict[str, object]:
    """Time `repsight ingest` of raw mixed exports in one process and with `--jobs 2`, each into a new workspace."""
    exports = out / f"exports-{people}"
    row: dict[str, object] = {"people": people}
    if not (exports / "roster.csv").exists():
        shutil.rmtree(exports, ignore_errors=True)
        row["generate"] = _run("ingest_generate", exports, [people, 18])
    runs: dict[str, object] = {}
    for jobs in (1, 2, "spark"):
        workspace = out / f"ingest-{people}-jobs{jobs}"
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.copytree(exports, workspace, ignore=shutil.ignore_patterns("*.duckdb*", "*.key", "repsight.toml"))
        env = {**os.environ, "REPSIGHT_KEY": KEY}
        init = [str(ROOT / ".venv" / "bin" / "repsight"), "init", str(workspace), "--domain", "acme.example"]
        subprocess.run(init, check=True, capture_output=True, env=env)
        toml = workspace / "repsight.toml"
        text = (
            toml.read_text()
            .replace('mail = ["mail/*.mbox"]', 'mail = ["mail/*"]')
            .replace('calendar = ["calendar/*.ics"]', 'calendar = ["calendar/*"]')
        )
        if jobs == "spark":  # ingest on Spark local[2], into a lake beside the workspace (docs/spark.md, The lake)
            text = text.replace(
                'backend = "duckdb"',
                'backend = "pyspark"\nspark_master = "local[2]"\nlake = "lake"\n'
                f'spark_conf = {{ "spark.driver.memory" = "8g", "spark.local.dir" = "{workspace / "spark-tmp"}" }}',
            )
        toml.write_text(text)
        command = [str(ROOT / ".venv" / "bin" / "repsight"), "ingest", "-c", str(toml)]
        command += [] if jobs == "spark" else ["--jobs", str(jobs)]
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", *command], capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"ingest ({jobs}) failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        _, peak_kb, user, system = done.stderr.strip().splitlines()[-1].split()
        count = [
            "-c",
            "import sys; from repsight.config import load_config; from repsight.store import Store; "
            "s = Store.open(load_config(sys.argv[1]), read_only=True); print(s.count('messages'), s.count('meetings'))",
            str(toml),
        ]
        stored = subprocess.run([sys.executable, *count], capture_output=True, text=True, check=True, env=env).stdout
        messages, meetings = (int(n) for n in stored.split())
        events = messages + meetings
        cores = 1 if jobs == 1 else 2
        runs[f"jobs{jobs}"] = {
            "seconds": seconds,
            # The repsight process's own peak (GNU time's %M): Spark's JVM and --jobs' readers are not in it.
            "peak_mb": int(peak_kb) / 1024,
            "events": events,
            "events_per_second": events / seconds,
            # Per core the run had: one process, or two (--jobs 2, local[2]).
            "events_per_core_second": events / (seconds * cores),
        }
        if jobs != "spark":  # CPU time of the process and the readers it waited for (Spark's JVM is not waited for)
            runs[f"jobs{jobs}"]["cpu_seconds"] = float(user) + float(system)
            runs[f"jobs{jobs}"]["events_per_cpu_second"] = events / (float(user) + float(system))
        print(f"  ingest {jobs}: {json.dumps(runs[f'jobs{jobs}'])}", flush=True)
    row["runs"] = runs
    return row


def _company(out: Path, people: int, months: int, engines: list[str]) -> dict[str, object]:
    folder = out / f"people-{people}-{months}m"
    row: dict[str, object] = {"people": people, "months": months}
    shutil.rmtree(folder, ignore_errors=True)
    row["generate"] = _run("generate", folder, [people, months])
    print(f"{people:,} people, {months} months: generated {row['generate']}", flush=True)
    for engine in engines:
        hold = _run("hold_back", folder) if months > 3 else {}
        full = _run(f"full_{engine}", folder)
        print(f"  {engine} full: {json.dumps(full)}", flush=True)
        if full.get("stopped") or full.get("failed"):
            row[engine] = {"full": full}
            if hold:  # the company whole again for the next engine
                _run("load_held_back", folder)
            continue
        if months <= 3:  # one period: an incremental run recomputes it all, as the full run did
            row[engine] = {"full": full}
            continue
        loaded = _run("load_held_back", folder)
        incremental = _run(f"incremental_{engine}", folder)
        print(f"  {engine} incremental ({hold['week']}): {json.dumps(incremental)}", flush=True)
        row[engine] = {"full": full, "incremental": incremental, "held_back": {**hold, **loaded}}
        # Back to the company as generated, for the next engine: the held-back week is held back again first.
    shutil.rmtree(folder / "staging", ignore_errors=True)
    shutil.rmtree(folder / "spark-tmp", ignore_errors=True)
    return row


def _peak(run: dict[str, Any]) -> float:
    return max(float(run.get("peak_mb", 0)), float(run.get("own_peak_mb", 0)))


def _print_table(results: dict[str, Any]) -> None:
    print(
        "\n| people | months | person-weeks | engine | run | seconds | peak MB | events / network / tables / graph / store (s) |"
    )
    print("|---:|---:|---:|---|---|---:|---:|---|")
    for row in results.get("companies", []):
        for engine in ENGINES:
            for kind in ("full", "incremental"):
                run = row.get(engine, {}).get(kind)
                if not run:
                    continue
                steps = run.get("steps", {})
                parts = " / ".join(f"{steps[s]:.0f}" for s in ("events", "network", "tables", "graph", "store") if s in steps)
                shown = f"{run['seconds']:.0f}" + (f" (stopped: {run['stopped']})" if run.get("stopped") else "")
                shown += f" (failed: {run['failed']})" if run.get("failed") else ""
                weeks = run.get("person_weeks", "")
                print(
                    f"| {row['people']:,} | {row['months']} | {weeks:,} | {engine} | {kind} | {shown} | {_peak(run):,.0f} | {parts} |"
                    if isinstance(weeks, int)
                    else f"| {row['people']:,} | {row['months']} | | {engine} | {kind} | {shown} | {_peak(run):,.0f} | {parts} |"
                )
    ingest = results.get("ingest")
    if ingest:
        print(
            "\n| ingest | seconds | CPU seconds | peak MB (repsight process) | events | events/s | events/s per core | per CPU-second |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, run in ingest["runs"].items():
            cores = 1 if name == "jobs1" else 2
            per_core = run.get("events_per_core_second", run["events_per_second"] / cores)
            cpu = f"{run['cpu_seconds']:.1f}" if "cpu_seconds" in run else "n/a"
            per_cpu = f"{run['events_per_cpu_second']:,.0f}" if "events_per_cpu_second" in run else "n/a"
            print(
                f"| {name} | {run['seconds']:.1f} | {cpu} | {run['peak_mb']:,.0f} | {run['events']:,} | "
                f"{run['events_per_second']:,.0f} | {per_core:,.0f} | {per_cpu} |"
            )


def _plot(results: dict[str, Any], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    for engine, colour in zip(ENGINES, ("#1f6feb", "#d97706"), strict=True):
        for kind, marker in (("full", "o"), ("incremental", "^")):
            points = sorted(
                (row[engine]["full"]["person_weeks"], row[engine][kind]["seconds"], row["people"])
                for row in results.get("companies", [])
                if row.get(engine, {}).get(kind)
                and not row[engine][kind].get("stopped")
                and not row[engine][kind].get("failed")
                and row[engine]["full"].get("person_weeks")
            )
            if not points:
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            axes.plot(xs, ys, marker=marker, color=colour, linestyle="-" if kind == "full" else ":", label=f"{engine}, {kind}")
            for x, y, people in points:
                axes.annotate(f"{people:,}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color=colour)
    axes.set_xlabel("person-weeks in the company (the full run's)")
    axes.set_ylabel("seconds")
    axes.set_title("repsight metrics: cost against person-weeks (2 cores)", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), help="PEOPLE:MONTHS of each company")
    parser.add_argument("--engines", nargs="*", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--ingest-people", type=int, default=1500)
    parser.add_argument("--only", choices=("metrics", "ingest"), help="run one part only")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--plot", type=Path, help="where the plot goes (docs/screenshots/scale.png; OUT/scale.png with another --out)"
    )
    parser.add_argument("--table", action="store_true", help="print the last run's table and redraw its plot")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        function = globals()[f"step_{args.step}"]
        result = function(args.folder, *args.size) if args.size else function(args.folder)
        print(json.dumps(result))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "results.json"
    results: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {}
    if not args.table:
        if args.only != "ingest":
            companies = {(r["people"], r["months"]): r for r in results.get("companies", [])}
            for size in args.sizes:
                people, months = (int(n) for n in size.split(":"))
                # A run of some engines keeps the company's results of the others (from the same generator and seed).
                companies[(people, months)] = {
                    **companies.get((people, months), {}),
                    **_company(args.out, people, months, args.engines),
                }
                results["companies"] = sorted(companies.values(), key=lambda r: (r["people"], r["months"]))
                saved.write_text(json.dumps(results, indent=2))
        if args.only != "metrics":
            results["ingest"] = _ingest_throughput(args.out, args.ingest_people)
            saved.write_text(json.dumps(results, indent=2))
    _print_table(results)
    _plot(results, args.plot or (ROOT / "docs" / "screenshots" / "scale.png" if args.out == OUT else args.out / "scale.png"))


if __name__ == "__main__":
    main()
