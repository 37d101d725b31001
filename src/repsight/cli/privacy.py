"""The privacy commands: `forget` (GDPR article 17) and `purge` (`[privacy] retention_months`); docs/privacy.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from repsight.cli.console import show
from repsight.cli.options import ConfigOption
from repsight.config import CONFIG_FILENAME, load_config

__all__ = ["forget", "purge"]


def forget(
    person: Annotated[str, typer.Option("--person", help="The person's email address.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Erase a person: every stored row of theirs and their dashboard account; later loads leave them out (docs/privacy.md)."""
    from repsight.forget import forget_person

    show(forget_person(load_config(config), person))


def purge(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Delete the events older than [privacy] retention_months; print what went and the span left (docs/privacy.md)."""
    from repsight.retention import run_purge

    show(run_purge(load_config(config)))
