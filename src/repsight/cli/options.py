"""The options several commands share, and the choices some options take."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ConfigOption", "ExportFormat", "RoleOption", "TableName"]

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The workspace's repsight.toml (or its folder).")]
RoleOption = Annotated[
    list[str] | None, typer.Option("--role", help="A role to grant: analyst, admin, executive, manager (repeat).")
]


class TableName(StrEnum):
    person_week = "person_week"
    person_period = "person_period"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    viva = "viva"
