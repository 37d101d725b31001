"""A workspace: creating one (the configuration file and the pseudonymisation key), and what it holds.

`workspace_status` and `quarantine_list` read the store and return results
that render themselves in a terminal (`repsight status`, `repsight quarantine`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from repsight.config import CONFIG_FILENAME, Config, load_config, render_config, render_viva_config
from repsight.errors import ConfigError
from repsight.privacy import KEY_ENV, write_new_key

if TYPE_CHECKING:
    from rich.console import Group, RenderableType

__all__ = [
    "LoadedFile",
    "QuarantineList",
    "QuarantinedRecord",
    "WorkspaceStatus",
    "init_workspace",
    "quarantine_list",
    "workspace_status",
]


def init_workspace(
    directory: str | Path,
    *,
    domains: list[str],
    mail: list[str] | None = None,
    calendar: list[str] | None = None,
    timezone: str = "UTC",
    origin: Literal["events", "viva"] = "events",
) -> Config:
    """Create `directory/repsight.toml` and, unless REPSIGHT_KEY is set, a new key file; return the config.

    `origin` "viva" makes a workspace of a Viva Insights person query (docs/viva.md) instead of mail and calendar exports.
    """
    directory = Path(directory)
    config_path = directory / CONFIG_FILENAME
    if config_path.exists():
        raise ConfigError(f"{config_path}: a workspace is already here; edit it instead of re-creating it")
    try:
        if origin == "viva":
            text = render_viva_config(timezone)
        else:
            text = render_config(domains, mail=mail, calendar=calendar, timezone=timezone)
    except ValidationError as exc:
        raise ConfigError(f"{config_path}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        config_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot write the configuration: {exc.strerror}") from None
    config = load_config(config_path)
    if KEY_ENV not in os.environ and not config.key_path.exists():
        write_new_key(config.key_path)
    return config


@dataclass(frozen=True)
class LoadedFile:
    """A source file as last loaded: its records read, new and quarantined; when the load finished (None: interrupted).

    `changed` and `removed` are a reference file's (roster, accounts, KPIs: a snapshot) rows whose values changed
    and rows an earlier load of it stored that it no longer has; 0 for an event file.
    """

    source: Path
    read: int
    new: int
    quarantined: int
    finished_at: datetime | None
    changed: int = 0
    removed: int = 0


@dataclass(frozen=True)
class WorkspaceStatus:
    """What a workspace holds: rows per table, and each source file as last loaded (`workspace_status`)."""

    database: Path
    root: Path
    """The workspace folder; file names show relative to it."""
    tables: dict[str, int]
    files: list[LoadedFile]

    def __rich__(self) -> Group:
        """Return the status for a terminal: the tables' rows, then the files, the database relative to the current folder."""
        return _status_view(self, Path.cwd())


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record that could not be loaded: its file, its position there, the field and the reason."""

    source: Path
    position: str | None
    field: str | None
    reason: str | None


@dataclass(frozen=True)
class QuarantineList:
    """The first quarantined records of a workspace, and how many it holds in all (`quarantine_list`)."""

    root: Path
    """The workspace folder; file names show relative to it."""
    records: list[QuarantinedRecord]
    total: int

    def __rich__(self) -> Group:
        """Return the records for a terminal, then how many more there are."""
        return _quarantine_view(self)


def workspace_status(config: Config) -> WorkspaceStatus:
    """Return what the workspace of `config` holds: rows per table, and each source file's latest load (reads only)."""
    from repsight.schema import TABLES
    from repsight.store import Store

    with Store.open(config, read_only=True) as store:
        # A table added since the workspace was last written (a read opens nothing new) holds nothing yet.
        tables = {name: store.count(name) if store.has_table(name) else 0 for name in TABLES if name != "workspace"}
        loads = store.table("loads").order_by("load_id").to_pyarrow().to_pylist()
    latest = {str(row["source"]): row for row in loads}  # a later load of a file replaces its earlier one
    files = [
        LoadedFile(
            source=Path(source),
            read=int(row["rows_read"] or 0),
            new=int(row["rows_new"] or 0),
            quarantined=int(row["rows_quarantined"] or 0),
            finished_at=row["finished_at"],
            changed=int(row.get("rows_changed") or 0),
            removed=int(row.get("rows_removed") or 0),
        )
        for source, row in latest.items()
    ]
    return WorkspaceStatus(config.database_path, config.root, tables, files)


def quarantine_list(config: Config, limit: int = 50) -> QuarantineList:
    """Return the first `limit` records of the workspace of `config` that could not be loaded, by file (reads only)."""
    from repsight.store import Store

    with Store.open(config, read_only=True) as store:
        rows = store.table("quarantine").order_by(["source", "load_id"]).limit(limit).to_pyarrow().to_pylist()
        total = store.count("quarantine")
    records = [QuarantinedRecord(Path(row["source"]), row["position"], row["field"], row["reason"]) for row in rows]
    return QuarantineList(config.root, records, total)


def _status_view(status: WorkspaceStatus, cwd: Path) -> Group:
    from rich.console import Group
    from rich.text import Text

    from repsight import terminal
    from repsight.report.numbers import count

    tables = terminal.table()
    terminal.words(tables, "table")
    terminal.figures(tables, "rows")
    for name, rows in status.tables.items():
        tables.add_row(name, count(rows))
    parts: list[RenderableType] = [terminal.titled(f"Workspace {terminal.shown(status.database, cwd)}", tables)]
    if status.files:
        files = terminal.table()
        terminal.path(files, "file")
        # A reference file loaded again may change and remove rows: those columns show where one did.
        snapshots = any(loaded.changed or loaded.removed for loaded in status.files)
        headings = ("read", "new", *(("changed", "removed") if snapshots else ()), "quarantined", "finished (UTC)")
        for heading in headings:
            terminal.figures(files, heading)
        for loaded in status.files:
            finished = loaded.finished_at
            files.add_row(
                terminal.file_name(terminal.shown(loaded.source, status.root)),
                count(loaded.read),
                count(loaded.new),
                *((count(loaded.changed), count(loaded.removed)) if snapshots else ()),
                count(loaded.quarantined),
                f"{finished:%Y-%m-%d %H:%M}" if finished else Text("interrupted", style="yellow"),
            )
        parts += [Text(""), terminal.titled("Files, as last loaded", files)]
        if any(not loaded.finished_at for loaded in status.files):
            parts.append(terminal.note("an interrupted load kept whole batches: run `repsight ingest` again to complete it"))
    return Group(*parts)


def _quarantine_view(listing: QuarantineList) -> Group:
    from rich.console import Group
    from rich.text import Text

    from repsight import terminal
    from repsight.report.numbers import count

    table = terminal.table()
    terminal.path(table, "file")
    terminal.figures(table, "position")
    terminal.words(table, "field")
    terminal.words(table, "reason")
    for record in listing.records:
        table.add_row(
            terminal.file_name(terminal.shown(record.source, listing.root)),
            terminal.data(record.position),
            terminal.data(record.field),
            terminal.data(record.reason),
        )
    parts: list[RenderableType] = [terminal.titled(f"Quarantine ({count(listing.total)} records)", table)]
    if listing.total > len(listing.records):
        parts.append(Text(f"{count(listing.total - len(listing.records))} more; use --limit"))
    return Group(*parts)
