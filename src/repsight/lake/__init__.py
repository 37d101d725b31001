"""The lake: the event tables as Parquet partitioned by week, written by Spark (`[engine] lake`; docs/spark.md, *The lake*).

With a lake, `repsight ingest` reads the mail and calendar files on Spark's
executors (`lake.ingest`) and appends the new events to
`<lake>/messages`, `<lake>/message_recipients`, `<lake>/meetings` and
`<lake>/meeting_attendees`, each a folder of Parquet files in one folder
per week (`week=YYYY-MM-DD`, the Monday of the event's UTC date; a
participant row sits in its event's week); rejected rows go to
`<lake>/quarantine` as well as to the workspace. Everything else (roster,
accounts, KPIs, loads, identities, the metric tables) stays in the
workspace database.

Spark reads the lake where it is (a path or any URI it writes); the
workspace (DuckDB) reads it as files for what it computes itself
(validation, the plan of an incremental run), so its folder must be a
path on the machine that runs `repsight`: a local or shared folder, or
`dbfs:/…`, which Databricks mounts at `/dbfs/…`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repsight.errors import StoreError

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = ["EVENT_TABLES", "Lake", "LakeNotMounted", "settle_folder"]

EVENT_TABLES = ("messages", "message_recipients", "meetings", "meeting_attendees")
"""The tables that live in the lake when there is one."""


@dataclass(frozen=True)
class Lake:
    """Where the lake is: as Spark names it, and as a folder of this machine (None where it is not one)."""

    uri: str
    folder: Path | None

    @classmethod
    def of(cls, config: Config) -> Lake | None:
        """Return the lake of `config` (`[engine] lake`), or None where there is none."""
        setting = config.engine.lake
        if setting is None:
            return None
        scheme, _, rest = setting.partition(":")
        if len(scheme) > 1 and rest.startswith("/"):  # a URI (a one-letter scheme is a Windows drive)
            if scheme == "file":
                folder = Path(rest.removeprefix("//"))
                return cls(folder.as_uri(), folder)
            if scheme == "dbfs":
                return cls(setting, Path("/dbfs") / rest.lstrip("/"))
            return cls(setting.rstrip("/"), None)
        folder = config.resolve(setting)
        return cls(str(folder), folder)

    def spark_path(self, table: str) -> str:
        """Return the folder of `table` as Spark names it."""
        return f"{self.uri.rstrip('/')}/{table}"

    def files(self, table: str) -> str | None:
        """Return the glob of `table`'s Parquet files on this machine, or None where it has none yet."""
        if self.folder is None:
            raise LakeNotMounted(self.uri)
        folder = self.folder / table
        settle_folder(folder)
        if not folder.is_dir() or next(folder.glob("week=*/*.parquet"), None) is None:
            return None
        return str(folder / "week=*" / "*.parquet")


def settle_folder(folder: Path) -> None:
    """Finish a replacement of `folder` that stopped between its two renames (`lake.rewrite.replace_folder`), on this machine's files."""
    if folder.exists():
        return
    fresh, old = folder.with_name(f"{folder.name}.new"), folder.with_name(f"{folder.name}.old")
    if (fresh / "_SUCCESS").exists():
        fresh.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    elif old.exists():
        old.rename(folder)


class LakeNotMounted(StoreError):
    """The lake is a URI this machine cannot read as files."""

    def __init__(self, uri: str) -> None:
        super().__init__(
            f"[engine] lake = {uri!r}: the workspace reads the lake's event tables as files, and this machine sees no folder "
            "there; use a path it sees too (a shared folder, or dbfs:/ on Databricks: docs/spark.md, The lake)"
        )
