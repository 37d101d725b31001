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
workspace (DuckDB) reads it too, for what it computes itself (validation,
the plan of an incremental run): a folder of this machine (a local or
shared folder, or `dbfs:/…`, which Databricks mounts at `/dbfs/…`), or an
object store through fsspec (`s3://` and `s3a://` with s3fs, `abfs://` and
`abfss://` with adlfs, `gs://` with gcsfs: `pip install 'repsight[s3]'`,
`[azure]` or `[gcs]`), with the credentials those libraries find (the
environment, the machine's role).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repsight.errors import StoreError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from repsight.config import Config

__all__ = ["EVENT_TABLES", "Lake", "LakeNotMounted", "move_folder", "settle_folder", "settle_remote"]

STORES = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
    "gs": ("gcsfs", "gcs"),
}
"""The object stores the workspace reads a lake on: URI scheme → the fsspec package that reads it, repsight's extra that installs it."""

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
        """Return the glob of `table`'s Parquet files on this machine, or None where it has none yet (an object store's lake: `dataset`)."""
        if self.folder is None:
            raise LakeNotMounted(self.uri)
        folder = self.folder / table
        settle_folder(folder)
        if not folder.is_dir() or next(folder.glob("week=*/*.parquet"), None) is None:
            return None
        return str(folder / "week=*" / "*.parquet")

    def dataset(self, table: str, schema: pa.Schema | None = None, *, partitioned: bool = True) -> ds.Dataset | None:
        """Return `table`'s Parquet files on the lake's object store as one Arrow dataset (of `schema`: the files' own without), or None where it has none yet.

        The files are listed now: a dataset taken later sees the files written since.
        """
        import pyarrow.dataset as ds

        store, path = self.filesystem()
        root = f"{path.rstrip('/')}/{table}"
        settle_remote(store, root)
        files = sorted(store.glob(f"{root}/week=*/*.parquet" if partitioned else f"{root}/*.parquet"))
        if not files:
            return None
        return ds.dataset(files, schema=schema, format="parquet", filesystem=store)

    def filesystem(self) -> tuple[Any, str]:
        """Return the fsspec file system of the lake's object store, and the lake's path on it (a lake that is a folder of this machine has none).

        The URI is read whole, as fsspec reads it: `abfss://container@account.dfs.core.windows.net/…` names its account.
        """
        scheme = self.uri.partition(":")[0]
        if self.folder is not None or scheme not in STORES:
            raise LakeNotMounted(self.uri)
        package, extra = STORES[scheme]
        try:
            return _filesystem(self.uri)
        except ImportError:
            raise StoreError(
                f"[engine] lake = {self.uri!r}: the workspace reads the lake with {package}: pip install 'repsight[{extra}]'"
            ) from None


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


def _filesystem(uri: str) -> tuple[Any, str]:
    import fsspec

    store, path = fsspec.core.url_to_fs(uri)  # one instance per store and settings: fsspec keeps it
    return store, str(path)


def settle_remote(store: Any, root: str) -> None:
    """Finish a replacement of the folder `root` on an object store (`store`, fsspec) that stopped between its two moves, as Spark's `settle` does."""
    if store.exists(root):
        return
    fresh, old = f"{root}.new", f"{root}.old"
    if store.exists(f"{fresh}/_SUCCESS"):
        move_folder(store, fresh, root)
        if store.exists(old):
            store.rm(old, recursive=True)
    elif store.exists(old):
        move_folder(store, old, root)


def move_folder(store: Any, source: str, target: str) -> None:
    """Move the folder `source` to `target` on an object store (`store`, fsspec): each file copied, then the folder removed.

    An object store has no folders to rename (s3fs's own recursive move
    fails on the folder entries it lists), so this is not atomic, no more
    than Hadoop's rename of a folder on S3 that Spark's `settle` does: a
    move stopped half-way leaves both folders part-filled.
    """
    for path in store.find(source):  # files only
        store.copy(path, target + path[len(source) :])
    store.rm(source, recursive=True)


class LakeNotMounted(StoreError):
    """The lake is a URI this machine can read neither as files nor on an object store it knows."""

    def __init__(self, uri: str) -> None:
        super().__init__(
            f"[engine] lake = {uri!r}: the workspace reads the lake's event tables too, and cannot read them there: use a path "
            "this machine sees (a shared folder, or dbfs:/ on Databricks), or s3://, s3a://, abfs://, abfss:// or gs:// "
            "(docs/spark.md, The lake)"
        )
