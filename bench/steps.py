"""Running one benchmark step in its own process: its result, its peak memory, and a stop at a time or memory limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def rss_mb(pid: int) -> float:
    """Return the resident memory of process `pid` and its descendants (Spark's JVM, reading processes) in MB (0 once gone)."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
    except OSError:
        return total
    return total + sum(rss_mb(child) for child in children)


def run_step(
    script: str,
    step: str,
    folder: Path,
    key: str,
    limit: float | None = None,
    memory_mb: float | None = None,
    env: dict[str, str] | None = None,
    *,
    keep_going: bool = False,
) -> dict[str, object]:
    """Run `script --step STEP --folder FOLDER`, with `env` added to the environment; return the JSON of its last line of output.

    The process's resident memory is sampled every half second; `peak_mb` is
    the step's own figure where it reports one, else the largest sample. A
    step over `limit` seconds or `memory_mb` is stopped: the result then says
    `stopped` ("time" or "memory") with the time and memory it reached. A
    step that fails ends the benchmark, or with `keep_going` is reported as
    `failed` (its exit status) with the time and memory it reached.
    """
    command = [sys.executable, script, "--step", step, "--folder", str(folder)]
    started = time.perf_counter()
    environment = {**os.environ, "REPSIGHT_KEY": key, **(env or {})}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment, text=True)
    peak = 0.0
    while True:
        try:
            stdout, _ = process.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            peak = max(peak, rss_mb(process.pid))
            elapsed = time.perf_counter() - started
            over = "time" if limit is not None and elapsed > limit else "memory" if memory_mb and peak > memory_mb else None
            if over:
                process.kill()
                process.communicate()
                return {"seconds": elapsed, "peak_mb": peak, "stopped": over}
    if process.returncode != 0:
        if keep_going:  # its error went to the benchmark's standard error, as it ran
            return {"seconds": time.perf_counter() - started, "peak_mb": peak, "failed": f"exit status {process.returncode}"}
        raise SystemExit(f"step {step} failed")
    result: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - started
    result.setdefault("peak_mb", peak)
    return result
