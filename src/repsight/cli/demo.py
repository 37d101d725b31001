"""The `demo` command: a synthetic company through every stage (`repsight.synth.demo`), then optionally the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repsight.cli.console import FileProgress, err, ingest_errors, show
from repsight.cli.web import serve_dashboard
from repsight.cli.workspace import quarantine_hint

__all__ = ["demo"]


def demo(
    people: Annotated[int, typer.Option(help="Employees of the synthetic company.")] = 200,
    months: Annotated[int, typer.Option(help="Months of mail and calendar data.")] = 18,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same bytes.")] = 7,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo workspace.")] = Path("demo"),
    serve_after: Annotated[
        bool, typer.Option("--serve", help="Then create demo accounts (printed once) and serve the dashboard.")
    ] = False,
) -> None:
    """Generate a synthetic sales organisation and run every stage of repsight on it."""
    from repsight.synth.demo import run_demo

    with FileProgress(err) as progress:
        result = run_demo(out_dir, people=people, months=months, seed=seed, progress=progress, step=err.status)
    show(result)
    ingest_errors(result.ingest)
    quarantine_hint(result.ingest, result.config)
    if not result.ingest.ok:
        raise typer.Exit(1)
    if serve_after:
        from repsight.synth.demo import create_demo_accounts

        show(create_demo_accounts(result.config))
        serve_dashboard(result.config, result.config.web.host, result.config.web.port)
