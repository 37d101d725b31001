"""The digest command: `digest`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from repsight.cli.console import err, show
from repsight.cli.options import ConfigOption
from repsight.config import CONFIG_FILENAME, load_config

__all__ = ["digest"]


def _monday(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2025-03-03 (a Monday)") from None


def digest(
    config: ConfigOption = Path(CONFIG_FILENAME),
    week: Annotated[
        str | None, typer.Option("--week", help="The week's Monday, YYYY-MM-DD (default: the latest week with metrics).")
    ] = None,
    outbox: Annotated[
        Path | None, typer.Option("--outbox", help="Write each rep's message to this folder as a .eml file.")
    ] = None,
    send: Annotated[
        bool,
        typer.Option("--send", help="Deliver through the SMTP relay of the \\[digest] settings; each message once per week."),
    ] = False,
) -> None:
    """The private weekly digest: each rep's own figures, top gap and suggestions, in an email to them alone."""
    from repsight.digest import run_digest

    if (outbox is None) == (not send):
        raise typer.BadParameter("give one of --outbox DIR and --send")
    monday = _monday(week)
    cfg = load_config(config)
    with err.status("Writing the digest…" if outbox is not None else "Sending the digest…"):
        result = run_digest(cfg, week=monday, outbox=outbox, send=send)
    show(result)
    if not result.ok:
        raise typer.Exit(1)
