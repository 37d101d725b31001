"""`repsight demo`: a synthetic company, generated into a workspace and run through every stage."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from repsight import terminal
from repsight.config import CONFIG_FILENAME, Config
from repsight.errors import ConfigError
from repsight.ingest import IngestReport, Progress, run_ingest
from repsight.metrics import MetricsReport, run_metrics
from repsight.metrics.render import metrics_summary
from repsight.report.numbers import count
from repsight.study import StudyResult, run_study
from repsight.synth import MIN_PEOPLE, SynthResult, generate
from repsight.terminal import shown
from repsight.validation import run_validation
from repsight.workspace import init_workspace

if TYPE_CHECKING:
    from repsight.web.demo import DemoAccount

__all__ = [
    "DemoAccounts",
    "DemoResult",
    "Step",
    "create_demo_accounts",
    "create_demo_workspace",
    "demo_view",
    "prepare_folder",
    "run_demo",
]

TRUTH = "truth.json"

Step = Callable[[str], AbstractContextManager[Any]]
"""Where `run_demo` says which step it is in: called with a sentence, it returns a context held during the step."""


@dataclass(frozen=True)
class DemoResult:
    """What `run_demo` made: the workspace, the company generated, and each stage's result (None after a failed load)."""

    config: Config
    synth: SynthResult
    ingest: IngestReport
    metrics: MetricsReport | None = None
    study: StudyResult | None = None

    def next_steps(self, cwd: Path | None = None) -> list[tuple[str, str]]:
        """Return what to run or open next, with what each shows; paths relative to `cwd` (the current folder)."""
        here = cwd or Path.cwd()
        config = shown(self.config.path, here)
        return [
            (f"repsight status -c {config}", "what the workspace holds"),
            (f"repsight quarantine -c {config}", "records that could not be loaded, and why"),
            (f"repsight analyze -c {config} --json study.json", "every figure of the study, as JSON"),
            (f"repsight report -c {config} --out report.html", "the study as one HTML file (opens offline)"),
            (f"repsight demo --out {shown(self.config.root, here)} --serve", "the same, then the dashboard with demo accounts"),
            (f"repsight export -c {config} --out metrics.csv", "the metrics, for a spreadsheet"),
            (shown(self.config.root / TRUTH, here), "the planted effects and each rep's hidden skill"),
            (shown(self.config.database_path, here), "the tables, for SQL (DuckDB)"),
        ]

    def __rich__(self) -> Group:
        """Return the demo for a terminal: what was generated, each stage's result, where to look next, the study."""
        return demo_view(self, Path.cwd())


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
    step: Step | None = None,
) -> DemoResult:
    """Generate a synthetic company into a new workspace at `folder` and run every stage on it.

    `progress` follows the load file by file; `step`, where given, is held
    while the company is generated, the metrics computed and the study run
    (the command line shows a spinner). A load with a file that could not be
    read stops there: the result has no metrics and no study.
    """

    def during(what: str) -> AbstractContextManager[Any]:
        return step(what) if step is not None else nullcontext()

    with during(f"Generating {people:,} people and {months} months of mail and meetings…"):
        config, synth = create_demo_workspace(folder, people=people, months=months, seed=seed)
    report = run_ingest(config, progress=progress)
    if not report.ok:
        return DemoResult(config, synth, report)
    with during("Computing the metrics…"):
        measured = run_metrics(config)
    with during("Validating the data…"):
        run_validation(config)
    with during("Running the study…"):
        studied = run_study(config)
    return DemoResult(config, synth, report, measured, studied)


@dataclass(frozen=True)
class DemoAccounts:
    """The demo's dashboard accounts, one per view, with their new passwords (`create_demo_accounts`)."""

    accounts: list[DemoAccount]

    def __rich__(self) -> Group:
        """Return the accounts with their passwords, for a terminal (shown this once)."""
        accounts = terminal.table()
        terminal.words(accounts, "view")
        terminal.path(accounts, "email")
        accounts.add_column("password", no_wrap=True)
        for account in self.accounts:
            accounts.add_row(terminal.data(account.view), terminal.file_name(account.email), terminal.data(account.password))
        return terminal.titled("Demo accounts (passwords shown once)", accounts)


def create_demo_accounts(config: Config) -> DemoAccounts:
    """Create (or reset) the demo workspace's dashboard accounts, one per view, and return them with their new passwords."""
    from repsight.store import Store
    from repsight.web.data import load_data
    from repsight.web.demo import demo_accounts

    with Store.open(config, read_only=True) as store:
        return DemoAccounts(demo_accounts(config, load_data(store, config)))


def demo_view(result: DemoResult, cwd: Path) -> Group:
    """Return the demo for a terminal: what was generated, the load, the metrics, where to look next, then the study."""
    synth = result.synth
    quarters = f"{len(synth.quarters)} quarter{'' if len(synth.quarters) == 1 else 's'}"
    generated = Text.assemble(
        "Generated ",
        (count(synth.people), "bold"),
        f" people ({count(synth.reps)} quota-carrying reps), {count(synth.accounts)} CRM accounts, "
        f"{count(synth.messages)} emails and {count(synth.meetings)} meetings over {quarters} "
        f"({', '.join(synth.quarters)}) into {shown(result.config.root, cwd)}",
    )
    parts: list[RenderableType] = [generated, Text(""), result.ingest.render(result.config.root)]
    if result.metrics is not None:
        # What was measured only: the study below shows the behaviours by attainment.
        parts += [Text(""), metrics_summary(result.metrics)]
    parts += [Text(""), Text("Where to look next", style="bold"), NextSteps(result.next_steps(cwd))]
    if result.study is not None:
        parts += [Text(""), result.study]
    return Group(*parts)


class NextSteps:
    """Commands and files beside what each shows, each pair on one line where they fit, else each description under its command.

    A command never wraps, so that it can be copied whole.
    """

    def __init__(self, steps: list[tuple[str, str]]) -> None:
        self.steps = steps

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        commands = max((len(command) for command, _ in self.steps), default=0)
        descriptions = max((len(description) for _, description in self.steps), default=0)
        if commands + 2 + descriptions <= options.max_width:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True)
            grid.add_column()
            for command, description in self.steps:
                grid.add_row(Text(command), Text(description, style="dim"))
            yield grid
            return
        for command, description in self.steps:
            yield Text(command, no_wrap=True, overflow="ignore")
            yield Text("    " + description, style="dim")
