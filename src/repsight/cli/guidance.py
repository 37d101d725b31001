"""The guidance commands: `advise`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from repsight.atomic import write_text
from repsight.cli.console import err, show
from repsight.cli.options import ConfigOption
from repsight.config import CONFIG_FILENAME, load_config

__all__ = ["advise"]


def advise(
    person: Annotated[str, typer.Option("--person", help="The person's email, as the roster writes it.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    period: Annotated[str | None, typer.Option("--period", help="The period, e.g. 2025Q3 (default: their latest).")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the guidance as JSON to this file.")] = None,
) -> None:
    """Personal guidance: a person's gaps against the top tier, their strengths, whom to meet (docs/guidance.md)."""
    from repsight.errors import GuidanceError
    from repsight.guidance import run_advice

    cfg = load_config(config)
    with err.status("Reading the study and the metrics…"):
        advice = run_advice(cfg, person, period)
    if json_file is None:
        show(advice)
        return
    try:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        write_text(json_file, json.dumps(advice.to_json(), indent=2, allow_nan=False) + "\n")
    except OSError as exc:
        raise GuidanceError(f"{json_file}: cannot write the guidance: {exc.strerror or exc}") from None
    show(Text(f"Wrote the guidance for {advice.person} ({advice.period}) to {json_file}"))
