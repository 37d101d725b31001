"""The workspace commands: `init`, `ingest`, `quarantine`, `status`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from repsight import terminal
from repsight.cli.console import FileProgress, err, ingest_errors, show
from repsight.cli.options import ConfigOption
from repsight.config import CONFIG_FILENAME, Config, load_config

if TYPE_CHECKING:
    from rich.console import RenderableType

    from repsight.ingest import IngestReport

__all__ = ["ingest", "init", "quarantine", "quarantine_hint", "status"]


def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    domain: Annotated[
        list[str] | None, typer.Option("--domain", "-d", help="An internal mail domain (repeat for several).")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Weeks start Monday 00:00 in this IANA zone.")] = "UTC",
) -> None:
    """Create a workspace: repsight.toml and a pseudonymisation key."""
    from repsight.workspace import init_workspace

    config = init_workspace(directory, domains=domain or ["acme.example"], timezone=timezone)
    lines = [f"Created {config.path}"]
    if not domain:
        lines.append("Its [company] domains is the placeholder acme.example: put your company's mail domains there.")
    lines.append(f"Key: {config.key_path} (keep it safe and out of version control; or set REPSIGHT_KEY)")
    lines.append(f"Next: put the roster, accounts, KPIs and exports beside it, then `repsight ingest -c {config.path}`")
    show(*(Text(line) for line in lines))


def quarantine_hint(report: IngestReport, config: Config) -> None:
    """Say where the quarantined records are, where a load quarantined any."""
    if report.total().quarantined:
        show(
            Text(f"Quarantined records are in the workspace: `repsight quarantine -c {terminal.shown(config.path, Path.cwd())}`")
        )


def ingest(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Load the configured roster, accounts, KPIs, mail and calendars into the workspace."""
    from repsight.ingest import run_ingest

    cfg = load_config(config)
    with FileProgress(err) as progress:
        report = run_ingest(cfg, progress=progress)
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
    from repsight.report.numbers import count
    from repsight.store import Store

    cfg = load_config(config)
    with Store.open(cfg, read_only=True) as store:
        rows = store.table("quarantine").order_by(["source", "load_id"]).limit(limit).to_pyarrow().to_pylist()
        total = store.count("quarantine")
    table = terminal.table()
    terminal.path(table, "file")
    terminal.figures(table, "position")
    terminal.words(table, "field")
    terminal.words(table, "reason")
    for row in rows:
        table.add_row(
            terminal.data(terminal.shown(Path(row["source"]), cfg.root)),
            terminal.data(row["position"]),
            terminal.data(row["field"]),
            terminal.data(row["reason"]),
        )
    parts: list[RenderableType] = [terminal.titled(f"Quarantine ({count(total)} records)", table)]
    if total > len(rows):
        parts.append(Text(f"{count(total - len(rows))} more; use --limit"))
    show(*parts)


def status(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Show what the workspace holds: rows per table and the latest loads."""
    from repsight.report.numbers import count
    from repsight.schema import TABLES
    from repsight.store import Store

    cfg = load_config(config)
    with Store.open(cfg, read_only=True) as store:
        counts = {name: store.count(name) for name in TABLES if name != "workspace"}
        loads = store.table("loads").order_by("load_id").to_pyarrow().to_pylist()
    tables = terminal.table()
    terminal.words(tables, "table")
    terminal.figures(tables, "rows")
    for name, rows in counts.items():
        tables.add_row(name, count(rows))
    parts: list[RenderableType] = [terminal.titled(f"Workspace {terminal.shown(cfg.database_path, Path.cwd())}", tables)]
    latest: dict[str, dict[str, object]] = {str(row["source"]): row for row in loads}
    if latest:
        files = terminal.table()
        terminal.path(files, "file")
        for heading in ("read", "new", "quarantined", "finished (UTC)"):
            terminal.figures(files, heading)
        for source, row in latest.items():
            finished = row["finished_at"]
            files.add_row(
                terminal.data(terminal.shown(Path(source), cfg.root)),
                count(row["rows_read"] or 0),
                count(row["rows_new"] or 0),
                count(row["rows_quarantined"] or 0),
                f"{finished:%Y-%m-%d %H:%M}" if finished else Text("interrupted", style="yellow"),
            )
        parts += [Text(""), terminal.titled("Files, as last loaded", files)]
        if any(not row["finished_at"] for row in latest.values()):
            parts.append(terminal.note("an interrupted load kept whole batches: run `repsight ingest` again to complete it"))
    show(*parts)
