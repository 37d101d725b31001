"""Crash safety, shown by real kills: a command killed with SIGKILL at any moment leaves the workspace whole.

An ingest killed at random moments, then run again until it completes,
leaves exactly the store an uninterrupted ingest leaves, table by table.
A killed `metrics` or `analyze` leaves the previous results whole until a
completed run replaces them. A full disk stops an ingest with one clear
line, and the store keeps whole batches that a later ingest completes.

The commands run in children of a fork server (`forkserver`) that has
imported repsight once: each is the `repsight` command line, killed by the
kernel, but the kill moments fall on the work rather than on the imports.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config, load_config
from tests.robustness.crash import ForkServer, Run, build_company, copy_workspace, snapshot

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("robustness")]

SEED = 20250105
"""Seeds every kill moment: a failure names its copy, cycle and moment, and the same seed replays it."""

INGEST_KILLS = 52
"""Kills that must land while `repsight ingest` runs (not after it exited)."""

METRIC_TABLES = ("person_week", "person_period", "period_edges", "account_touches", "week_ties")
STUDY_TABLES = ("study_tiers", "study_results")


@dataclass(frozen=True)
class Reference:
    """An uninterrupted ingest: its workspace, every table as comparable rows, and how long it took."""

    config: Config
    tables: dict[str, Any]
    seconds: float


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def company(folder: Path) -> Path:
    """The generated workspace's inputs, never loaded: each test copies them."""
    build_company(folder / "company")
    return folder / "company"


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[ForkServer]:
    logs = folder / "logs"
    logs.mkdir()
    forks = ForkServer(logs)
    yield forks
    forks.close()


@pytest.fixture(scope="module")
def reference(company: Path, server: ForkServer, folder: Path) -> Reference:
    config = copy_workspace(company, folder / "reference")
    run = server.run("ingest", "-c", str(config.path), cwd=folder)
    assert run.returncode == 0, run.output
    return Reference(config, snapshot(config), run.seconds)


def _ingest(server: ForkServer, config: Config, kill_after: float | None = None) -> Run:
    return server.run("ingest", "-c", str(config.path), cwd=config.root, kill_after=kill_after)


def _differences(found: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Return, per table that differs, how: rows missing and rows extra (a doubled row counts as extra)."""
    problems = []
    for name, rows in expected.items():
        if found[name] == rows:
            continue
        if isinstance(rows, dict):
            problems.append(f"{name}: {found[name]} != {rows}")
            continue
        missing, extra = list(rows), []
        for row in found[name]:
            if row in missing:
                missing.remove(row)
            else:
                extra.append(row)
        problems.append(f"{name}: {len(missing)} rows missing (e.g. {missing[:2]}), {len(extra)} extra (e.g. {extra[:2]})")
    return problems


def test_ingest_killed_at_random_moments_then_completed_equals_an_uninterrupted_ingest(
    reference: Reference, company: Path, server: ForkServer, folder: Path
) -> None:
    # Two copies, two cycles each: a fresh store killed again and again, then the completed store
    # (whose files are loaded again: reference files replaced, events skipped) killed again and again.
    draws = Moments(random.Random(SEED), reference.seconds)
    landed = 0
    per_cycle = INGEST_KILLS // 4
    for copy in range(2):
        config = copy_workspace(company, folder / f"ingest-{copy}")
        for cycle in range(2):
            moments = []
            for _ in range(3 * per_cycle):
                moment = draws.draw()
                run = _ingest(server, config, kill_after=moment)
                draws.ran(run)
                moments.append((round(moment, 3), run.killed))
                if run.killed:
                    landed += 1
                    if sum(killed for _, killed in moments) == per_cycle:
                        break
                else:
                    assert run.returncode == 0, run.output
            completed = _ingest(server, config)
            assert completed.returncode == 0, completed.output
            problems = _differences(snapshot(config), reference.tables)
            assert not problems, f"seed {SEED}, copy {copy}, cycle {cycle}, kills (moment, landed) {moments}: {problems}"
    assert landed >= INGEST_KILLS


FULL_DISK = 2_000_000
"""Past this many bytes a write fails (EFBIG), as on a full disk: the reference files fit, the first mail batch does not."""


def test_ingest_on_a_full_disk_fails_without_a_traceback_and_a_later_ingest_doubles_nothing(
    reference: Reference, company: Path, server: ForkServer, folder: Path
) -> None:
    config = copy_workspace(company, folder / "full-disk")
    full = server.run("ingest", "-c", str(config.path), cwd=config.root, file_size_limit=FULL_DISK)
    assert full.returncode == 1, full.output
    assert "Traceback" not in full.output
    assert 'Could not write file "' + str(config.root / "repsight.duckdb.wal") + '": File too large' in full.output
    for name, rows in snapshot(config).items():
        if name != "loads":
            assert len(set(rows)) == len(rows), name
    completed = _ingest(server, config)
    assert completed.returncode == 0, completed.output
    found = snapshot(config)
    assert {name: len(rows) for name, rows in found.items()} == {name: len(rows) for name, rows in reference.tables.items()}
    assert found["loads"] == reference.tables["loads"]


def test_ingest_on_a_full_disk_stops_at_once_and_a_later_ingest_equals_an_uninterrupted_one(
    reference: Reference, company: Path, server: ForkServer, folder: Path
) -> None:
    config = copy_workspace(company, folder / "full-disk-stops")
    full = server.run("ingest", "-c", str(config.path), cwd=config.root, file_size_limit=FULL_DISK)
    assert full.returncode not in (0, None), full.output
    assert [line for line in full.output.splitlines() if line.startswith("error:")] == [
        line for line in full.output.splitlines() if line.startswith("error:") and "bulk.csv" in line
    ], "files were loaded after the disk was full"
    completed = _ingest(server, config)
    assert completed.returncode == 0, completed.output
    assert not _differences(snapshot(config), reference.tables)


class Moments:
    """Kill moments drawn at random up to how long a run takes: after a run that ended before its moment, up to that run's time.

    The machine is shared: a reference run timed while a neighbour was busy
    may be twice as long as the runs that follow, whose kills would then
    often come after they exited. The bound follows the runs, so kills keep
    landing mid-run however the machine's load changes.
    """

    def __init__(self, rng: random.Random, seconds: float) -> None:
        self.rng, self.upper = rng, seconds

    def draw(self) -> float:
        return self.rng.uniform(0.0, self.upper)

    def ran(self, run: Run) -> None:
        if not run.killed:
            self.upper = min(self.upper, run.seconds)


def _loaded_copy(reference: Reference, target: Path) -> Config:
    """Copy the reference workspace with its database (loaded, nothing computed yet)."""
    shutil.copytree(reference.config.root, target)
    return load_config(target)


def _set(config: Config, old: str, new: str) -> None:
    text = config.path.read_text(encoding="utf-8")
    assert old in text
    config.path.write_text(text.replace(old, new), encoding="utf-8")


def test_metrics_killed_mid_run_leave_the_previous_metrics_whole(reference: Reference, server: ForkServer, folder: Path) -> None:
    config = _loaded_copy(reference, folder / "metrics")
    first = server.run("metrics", "-c", str(config.path), cwd=config.root)
    assert first.returncode == 0, first.output
    before = snapshot(config, METRIC_TABLES)
    _set(config, 'working_hours = "08:00-18:00"', 'working_hours = "09:00-17:00"')  # other metrics from here on
    draws = Moments(random.Random(SEED), first.seconds)
    states: list[dict[str, Any]] = []
    moments: list[tuple[float, bool]] = []
    while sum(killed for _, killed in moments) < 4:  # four kills that land mid-run, in at most twelve runs
        assert len(moments) < 12, f"seed {SEED}: the kills came after the run ended: {moments}"
        moment = draws.draw()
        run = server.run("metrics", "-c", str(config.path), cwd=config.root, kill_after=moment)
        draws.ran(run)
        assert run.killed or run.returncode == 0, run.output
        moments.append((round(moment, 3), run.killed))
        states.append(snapshot(config, METRIC_TABLES))
    completed = server.run("metrics", "-c", str(config.path), cwd=config.root)
    assert completed.returncode == 0, completed.output
    after = snapshot(config, METRIC_TABLES)
    assert after != before
    for (moment, killed), state in zip(moments, states, strict=True):
        assert state in (before, after), f"seed {SEED}: metrics killed at {moment} s (landed: {killed}) left a mix"


def test_analyze_killed_mid_run_leaves_the_previous_study_whole(reference: Reference, server: ForkServer, folder: Path) -> None:
    config = _loaded_copy(reference, folder / "analyze")
    assert server.run("metrics", "-c", str(config.path), cwd=config.root).returncode == 0
    study = config.root / "study.json"
    first = server.run("analyze", "-c", str(config.path), "--json", str(study), cwd=config.root)
    assert first.returncode == 0, first.output
    before = snapshot(config, STUDY_TABLES)
    _set(config, "seed = 0", "seed = 1")  # other bootstrap intervals from here on
    draws = Moments(random.Random(SEED), first.seconds)
    outcomes: list[tuple[float, bool, dict[str, Any], str]] = []
    while sum(killed for _, killed, _, _ in outcomes) < 4:  # four kills that land mid-run, in at most twelve runs
        assert len(outcomes) < 12, f"seed {SEED}: the kills came after the run ended: {[o[:2] for o in outcomes]}"
        moment = draws.draw()
        run = server.run("analyze", "-c", str(config.path), "--json", str(study), cwd=config.root, kill_after=moment)
        draws.ran(run)
        assert run.killed or run.returncode == 0, run.output
        outcomes.append((round(moment, 3), run.killed, snapshot(config, STUDY_TABLES), study.read_text(encoding="utf-8")))
    completed = server.run("analyze", "-c", str(config.path), "--json", str(study), cwd=config.root)
    assert completed.returncode == 0, completed.output
    after = snapshot(config, STUDY_TABLES)
    assert after != before
    for moment, killed, tables, text in outcomes:
        assert tables in (before, after), f"seed {SEED}: analyze killed at {moment} s (landed: {killed}) left a mix"
        json.loads(text)  # whole: the old study or the new one


def test_analyze_killed_while_writing_its_json_leaves_the_previous_file(
    reference: Reference, server: ForkServer, folder: Path
) -> None:
    config = _loaded_copy(reference, folder / "analyze-json")
    assert server.run("metrics", "-c", str(config.path), cwd=config.root).returncode == 0
    study = config.root / "study.json"
    first = server.run("analyze", "-c", str(config.path), "--json", str(study), cwd=config.root)
    assert first.returncode == 0, first.output
    written = study.read_text(encoding="utf-8")
    half = len(written.encode()) // 2
    killed = server.run("analyze", "-c", str(config.path), "--json", str(study), cwd=config.root, die_writing=(study, half))
    assert killed.died_of == signal.SIGXFSZ, killed.output
    assert study.read_text(encoding="utf-8") == written
