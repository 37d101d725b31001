"""`repsight demo`: a synthetic company, generated into a workspace and run through every stage."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from repsight.config import CONFIG_FILENAME, Config
from repsight.errors import ConfigError
from repsight.ingest import IngestReport, Progress, run_ingest
from repsight.metrics import MetricsReport, run_metrics
from repsight.study import StudyResult, run_study
from repsight.synth import MIN_PEOPLE, SynthResult, generate
from repsight.workspace import init_workspace

__all__ = ["DemoResult", "create_demo_workspace", "prepare_folder", "run_demo"]

TRUTH = "truth.json"


@dataclass(frozen=True)
class DemoResult:
    config: Config
    synth: SynthResult
    ingest: IngestReport
    metrics: MetricsReport | None = None
    study: StudyResult | None = None


def prepare_folder(folder: Path) -> None:
    """Empty `folder` for a new demo; refuse a folder that holds anything but an earlier demo."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise ConfigError(f"{folder}: exists and is not a folder")
    if not any(folder.iterdir()):
        return
    if (folder / TRUTH).exists() and (folder / CONFIG_FILENAME).exists():
        shutil.rmtree(folder)
        return
    raise ConfigError(f"{folder}: not empty and not an earlier demo; choose another --out folder")


def create_demo_workspace(
    folder: str | Path, *, people: int = 200, months: int = 18, seed: int = 7, formats: str = "mixed"
) -> tuple[Config, SynthResult]:
    """Create a workspace at `folder` holding a newly generated synthetic company.

    `formats` is "mixed" (mbox, maildir, iCalendar, Graph JSON and CSV, as
    companies export them) or "csv".
    """
    if people < MIN_PEOPLE:
        raise ConfigError(f"--people {people}: a demo company needs at least {MIN_PEOPLE} people")
    if months < 3:
        raise ConfigError(f"--months {months}: a demo needs at least 3 months (one quarter)")
    folder = Path(folder)
    prepare_folder(folder)
    config = init_workspace(
        folder,
        domains=["acme.example"],
        # Every export the synthetic company writes: mbox files, maildir
        # folders, Graph JSON and CSV; iCalendar, Graph JSON and CSV.
        mail=["mail/*"],
        calendar=["calendar/*"],
        timezone="America/New_York",
    )
    return config, generate(folder, people=people, months=months, seed=seed, formats=formats)


def run_demo(
    folder: str | Path,
    *,
    people: int = 200,
    months: int = 18,
    seed: int = 7,
    progress: Progress | None = None,
) -> DemoResult:
    """Generate a synthetic company into a new workspace at `folder` and run every stage on it."""
    config, synth = create_demo_workspace(folder, people=people, months=months, seed=seed)
    report = run_ingest(config, progress=progress)
    if not report.ok:
        return DemoResult(config, synth, report)
    return DemoResult(config, synth, report, run_metrics(config), run_study(config))
