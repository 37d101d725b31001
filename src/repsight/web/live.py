"""The dashboard's workspace data, read again after `repsight metrics` or `analyze` changed the database.

Each request asks `LiveWorkspace.current()` (in `web.access.allow`, a
dependency FastAPI runs in a worker thread). It compares the database
file's modification time and size (and its write-ahead log's) with those it
last read, a `stat` call. When they changed, it opens the database read-only,
reads the tables into a new `WorkspaceData`, and closes it at once: DuckDB
lets one process write *or* several read, so the dashboard never holds the
file between requests. While a writer holds it, the open fails and the
dashboard keeps serving what it read last, trying again at most once a
second (a failed open costs tens of milliseconds). Code on the event loop
(the app's exception handlers) asks `peek()`, which never reads: a read there
(half a second and more) would hold up every other request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from repsight.errors import RepsightError

if TYPE_CHECKING:
    from pathlib import Path

    from repsight.config import Config
    from repsight.web.data import WorkspaceData

__all__ = ["LiveWorkspace", "Stamp", "database_stamp"]

Stamp = tuple[int, int, int | None, int | None]
"""The database file's modification time (ns) and size, and its write-ahead log's (None without one)."""

_log = logging.getLogger(__name__)


def database_stamp(path: Path) -> Stamp | None:
    """Return what changes when a writer changes the database at `path`; None when there is no database."""
    try:
        main = os.stat(path)
    except OSError:
        return None
    try:
        wal = os.stat(f"{path}.wal")
    except OSError:
        return (main.st_mtime_ns, main.st_size, None, None)
    return (main.st_mtime_ns, main.st_size, wal.st_mtime_ns, wal.st_size)


def read_workspace(config: Config, key: str | None = None) -> tuple[WorkspaceData, str]:
    """Return the workspace's dashboard data and its key, holding the database open (read-only) only while its tables are read."""
    from repsight.store import Store
    from repsight.web.data import load_data

    with Store.open(config, read_only=True, key=key) as store:
        data = load_data(store, config)
        key = store.key
    data.warm()  # after closing: the file is free for a writer while the caches are built
    return data, key


class LiveWorkspace:
    """The workspace data the dashboard answers from: the latest the database holds, or fixed (`watch=False`, for tests)."""

    retry_seconds: float = 1.0
    """After a failed read (a writer holds the database), wait this long before trying again."""

    def __init__(
        self, config: Config, data: WorkspaceData, *, key: str | None = None, stamp: Stamp | None = None, watch: bool = True
    ) -> None:
        self.config = config
        self.key = key
        """The workspace key the data were read under (None for fixed data)."""
        self._data = data
        self._stamp = stamp
        self._watch = watch
        self._failed_at: float | None = None
        self._reading = threading.Lock()

    @classmethod
    def open(cls, config: Config) -> LiveWorkspace:
        """Return the live data of `config`'s workspace, read now (errors, such as no study yet, are raised)."""
        stamp = database_stamp(config.database_path)  # before reading: a change made meanwhile is read again
        data, key = read_workspace(config)
        return cls(config, data, key=key, stamp=stamp)

    @classmethod
    def fixed(cls, config: Config, data: WorkspaceData) -> LiveWorkspace:
        """Return `data`, never read again."""
        return cls(config, data, watch=False)

    def current(self) -> WorkspaceData:
        """Return the latest data: read again when the database changed since the last read, else as they are."""
        if not self._watch:
            return self._data
        stamp = database_stamp(self.config.database_path)
        if stamp is None or stamp == self._stamp:
            return self._data
        if self._failed_at is not None and time.monotonic() - self._failed_at < self.retry_seconds:
            return self._data
        # One request reads; the others meanwhile answer from what is there.
        if not self._reading.acquire(blocking=False):
            return self._data
        try:
            self._read(stamp)
        finally:
            self._reading.release()
        return self._data

    def peek(self) -> WorkspaceData:
        """Return the data read last, never reading again: for code on the event loop."""
        return self._data

    def _read(self, stamp: Stamp) -> None:
        import duckdb

        try:
            data, _ = read_workspace(self.config, self.key)
        except (RepsightError, duckdb.Error) as exc:
            # A writer holds the database, or is half-way (no study yet): keep what was read last.
            self._failed_at = time.monotonic()
            _log.info("dashboard: keeping the data read before; the workspace could not be read now: %s", exc)
            return
        self._data, self._stamp, self._failed_at = data, stamp, None
