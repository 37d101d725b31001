"""The workspace commands: `init`, `ingest`, `quarantine`, `status`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from repsight import terminal
from repsight.cli.console import FileProgress, err, ingest_errors, show
from repsight.cli.options import ConfigOption
from repsight.config import CONFIG_FILENAME, Config, load_config

if TYPE_CHECKING:
    from repsight.ingest import IngestReport

__all__ = ["ingest", "init", "quarantine", "quarantine_hint", "status"]


class Origin(StrEnum):
    """What a new workspace measures (`repsight init --from`)."""

    events = "events"
    viva = "viva"


def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    domain: Annotated[
        list[str] | None, typer.Option("--domain", "-d", help="An internal mail domain (repeat for several).")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Weeks start Monday 00:00 in this IANA zone.")] = "UTC",
    origin: Annotated[
        Origin,
        typer.Option(
            "--from",
            help="What the workspace measures: mail and calendar 'events', or a Viva Insights person query ('viva').",
        ),
    ] = Origin.events,
) -> None:
    """Create a workspace: repsight.toml and a pseudonymisation key."""
    from repsight.workspace import init_workspace

    viva = origin is Origin.viva
    config = init_workspace(directory, domains=domain or ["acme.example"], timezone=timezone, origin="viva" if viva else "events")
    lines = [f"Created {config.path}"]
    if not domain and not viva:
        lines.append("Its [company] domains is the placeholder acme.example: put your company's mail domains there.")
    lines.append(f"Key: {config.key_path} (keep it safe and out of version control; or set REPSIGHT_KEY)")
    if viva:
        folder = config.resolve("viva")
        lines.append(f"Next: put the person query CSV(s) in {folder} and the KPIs (PersonId, period, attainment) in ")
        lines[-1] += f"{config.resolve('kpis.csv')}, then `repsight ingest -c {config.path}`, `metrics`, `analyze`"
    else:
        lines.append(f"Next: put the roster, accounts, KPIs and exports beside it, then `repsight ingest -c {config.path}`")
    show(Text("\n".join(lines)))  # one line each (Rich joins several renderables with spaces)


def quarantine_hint(report: IngestReport, config: Config) -> None:
    """Say where the quarantined records are, where a load quarantined any."""
    if report.total().quarantined:
        command = f"`repsight quarantine -c {terminal.shown(config.path, Path.cwd())}`"
        show(terminal.Wrapped(f"Quarantined records are in the workspace: {command}", whole=[command]))


def ingest(
    config: ConfigOption = Path(CONFIG_FILENAME),
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="Read the files in this many processes; what is stored is the same as with one."
        ),
    ] = 1,
) -> None:
    """Load the configured roster, accounts, KPIs, mail and calendars into the workspace."""
    from repsight.ingest import run_ingest

    cfg = load_config(config)
    with FileProgress(err) as progress:
        report = run_ingest(cfg, progress=progress, jobs=jobs)
    show(report.render(cfg.root))
    ingest_errors(report)
    quarantine_hint(report, cfg)
    if not report.ok:
        raise typer.Exit(1)


def quarantine(
    config: ConfigOption = Path(CONFIG_FILENAME),
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many records.")] = 50,
) -> None:
    """List the records that could not be loaded, with file, position, field and reason."""
    from repsight.workspace import quarantine_list

    show(quarantine_list(load_config(config), limit))


def status(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Show what the workspace holds: rows per table and the latest loads."""
    from repsight.workspace import workspace_status

    show(workspace_status(load_config(config)))
