"""The analysis commands: `metrics`, `analyze`, `export`, `report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from repsight.cli.console import err, error, show
from repsight.cli.options import ConfigOption, ExportFormat, TableName
from repsight.config import CONFIG_FILENAME, load_config

__all__ = ["analyze", "export", "metrics", "report", "validate"]


def metrics(
    config: ConfigOption = Path(CONFIG_FILENAME),
    full: Annotated[
        bool,
        typer.Option("--full", help="Recompute every week, not only those the exports loaded since the last run can change."),
    ] = False,
) -> None:
    """Compute the behaviour metrics per person and week, and per person and period (docs/metrics.md)."""
    from repsight.metrics import run_metrics

    cfg = load_config(config)
    with err.status(f"Computing the metrics on {cfg.engine.backend}…"):
        report = run_metrics(cfg, full=full)
    show(report)


def validate(
    config: ConfigOption = Path(CONFIG_FILENAME),
    json_file: Annotated[Path | None, typer.Option("--json", help="Write every flag as JSON to this file.")] = None,
) -> None:
    """Check the data before the study: missing mailboxes and calendars, holidays, leave, odd values (docs/validation.md)."""
    from repsight.validation import run_validation

    cfg = load_config(config)
    with err.status("Validating the data…"):
        result = run_validation(cfg)
    show(result)
    if json_file is not None:
        _write_text(json_file, result.to_json(), what="the validation")
        show(Text(f"Wrote {len(result.flags):,} flags to {json_file}"))


def analyze(
    config: ConfigOption = Path(CONFIG_FILENAME),
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the whole study as JSON to this file.")] = None,
) -> None:
    """Run the study: top vs bottom sellers' behaviour, whole org then segment by segment (docs/study.md)."""
    from repsight.report.numbers import count
    from repsight.study import run_study

    cfg = load_config(config)
    with err.status("Running the study…"):
        result = run_study(cfg)
    if warning := result.document.get("validation", {}).get("warning"):
        error(warning, "warning:")
    if json_file is None:
        show(result)
        return
    _write_text(json_file, result.to_json())
    show(Text(f"Wrote the study ({count(result.document['population']['rep_periods'])} rep-periods) to {json_file}"))


def _write_text(path: Path, text: str, what: str = "the study") -> None:
    from repsight.atomic import write_text
    from repsight.errors import StudyError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text + "\n")
    except OSError as exc:
        raise StudyError(f"{path}: cannot write {what}: {exc.strerror or exc}") from None


def export(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    table: Annotated[TableName, typer.Option("--table", help="Which metric table.")] = TableName.person_period,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="csv, parquet, or viva (Viva Insights person-query columns, CSV).")
    ] = ExportFormat.csv,
) -> None:
    """Export a metric table, people as pseudonyms with their HR attributes and attainment."""
    from repsight.export import run_export

    show(run_export(load_config(config), table.value, fmt.value, out_file))


def report(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Write the study as one self-contained HTML report (opens offline)."""
    from repsight.report import run_report

    show(run_report(load_config(config), out_file))
