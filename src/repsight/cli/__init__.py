"""The command line: parses, calls the Python API, prints what the stages return. No logic of its own.

    workspace.py   init, ingest, quarantine, status
    analysis.py    metrics, analyze, export, report
    guidance.py    advise
    digest.py      digest
    web.py         serve, users add | set-role | reset-password | list
    privacy.py     forget, purge
    demo.py        demo
    console.py     where output goes: terminal or pipe, errors, progress bars
    options.py     the options several commands share

Each command makes one call of the Python API and prints its typed result,
which renders itself: `IngestReport` (`run_ingest`), `MetricsReport`
(`run_metrics`, with the headline quartiles), `StudyResult` (`run_study`),
`ExportResult` (`repsight.export.run_export`), `ReportResult`
(`repsight.report.run_report`), `WorkspaceStatus` and `QuarantineList`
(`repsight.workspace.workspace_status`, `quarantine_list`), `DemoResult` and
`DemoAccounts` (`repsight.synth.demo`), `Advice` (`repsight.guidance.run_advice`), `ForgetResult`
(`repsight.forget.forget_person`), `PurgeResult` (`repsight.retention.run_purge`). They are Rich renderables, built by
each stage's `render` module with `repsight.terminal`; the command line opens
no store and runs no query. Errors of the `repsight.errors` tree are one
line and exit with their class's code; `--debug` shows the traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from repsight.cli import analysis, demo, digest, guidance, privacy, web, workspace
from repsight.cli.console import debug as debugging
from repsight.cli.console import err, error, set_debug
from repsight.errors import RepsightError

__all__ = ["app", "main"]

app = typer.Typer(
    help="People analytics for sales teams: the behaviours behind quota attainment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    set_debug(debug)


for command in (
    workspace.init,
    workspace.ingest,
    workspace.quarantine,
    workspace.status,
    analysis.metrics,
    analysis.validate,
    analysis.analyze,
    analysis.export,
    analysis.report,
    guidance.advise,
    digest.digest,
    web.serve,
    privacy.forget,
    privacy.purge,
):
    app.command()(command)

users_app = typer.Typer(help="Dashboard accounts: add them, grant roles, reset passwords.", no_args_is_help=True)
users_app.command("add")(web.users_add)
users_app.command("set-role")(web.users_set_role)
users_app.command("reset-password")(web.users_reset_password)
users_app.command("list")(web.users_list)
app.add_typer(users_app, name="users")
app.command()(demo.demo)


def main() -> None:
    """Run the command line; errors are one clear line each (tracebacks only with --debug)."""
    try:
        app()
    except RepsightError as exc:
        if debugging():
            raise
        error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted: whole batches are kept; run the command again to complete the load", highlight=False)
        sys.exit(130)
    except Exception as exc:  # a bug: say so, without a traceback unless asked
        if debugging():
            raise
        error(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)", label="internal error:")
        sys.exit(70)
