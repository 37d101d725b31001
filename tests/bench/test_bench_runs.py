"""The benchmarks run from a clean clone with any flags: a step rerun with `--only` finds no earlier company, and makes one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_metrics_only_some_steps_in_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "metrics"
    command = [sys.executable, str(ROOT / "bench" / "bench_metrics.py"), "--people", "40", "--months", "3"]
    done = subprocess.run(
        [*command, "--only", "engine", "pandas", "--out", str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    (row,) = json.loads((out / "results.json").read_text())
    assert row["people"] == 40 and row["generate"]["rows"]["messages"] > 0
    assert row["engine"]["person_weeks"] == row["pandas"]["person_weeks"] > 0
