"""The store owns its connection: it reads the key itself, and waits a little for a database another process holds."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from repsight.config import Config
from repsight.errors import StoreError
from repsight.store import Store

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_database(config: Config, seconds: float) -> subprocess.Popen[str]:
    """Start another process that holds the workspace database's write lock for `seconds`; return once it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(config.database_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_open_reads_the_workspace_key_itself(workspace: Config) -> None:
    with Store.open(workspace) as store:
        assert store.key == workspace.key_path.read_text(encoding="utf-8").strip()


def test_a_writer_waits_for_a_database_another_process_holds_for_a_moment(workspace: Config) -> None:
    Store.open(workspace).close()
    holder = hold_database(workspace, 1.0)
    started = time.monotonic()
    with Store.open(workspace) as store:
        assert store.count("workspace") == 2  # schema version and key fingerprint
    assert time.monotonic() - started >= 0.5
    holder.wait(timeout=30)


def test_a_reader_does_not_wait_and_says_the_database_is_in_use(workspace: Config) -> None:
    Store.open(workspace).close()
    holder = hold_database(workspace, 30.0)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="in use by another process"):
            Store.open(workspace, read_only=True)
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_writer_gives_up_after_its_wait_and_says_why(workspace: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    Store.open(workspace).close()
    monkeypatch.setattr("repsight.store.WRITER_LOCK_WAIT_SECONDS", 0.5)
    holder = hold_database(workspace, 30.0)
    try:
        with pytest.raises(StoreError, match="in use by another process") as raised:
            Store.open(workspace)
        assert str(workspace.database_path) in str(raised.value)
    finally:
        holder.kill()
        holder.wait(timeout=30)
