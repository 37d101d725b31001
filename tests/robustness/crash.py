"""What the crash tests share: the workspace they load, its tables as comparable rows, and the fork server's client.

A table's rows are compared whole, sorted, with every column except those
that legitimately differ between an interrupted and an uninterrupted run
(`comparable_rows` says which and why).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from repsight.config import Config, load_config
from repsight.schema import TABLES
from repsight.store import Store
from tests.robustness.forkserver import THREAD_FREE
from tests.support import REPO

__all__ = [
    "BULK_ROWS",
    "ForkServer",
    "Run",
    "build_company",
    "comparable_rows",
    "copy_workspace",
    "latest_loads",
    "snapshot",
]

Rows = list[tuple[Any, ...]]

BULK_ROWS = 24_000
"""Messages in the planted CSV export: two batches of the ingest (20,000 each), so a kill can land inside a file."""

BROKEN_BULK_ROWS = (10, 22_000)
"""Rows of the planted CSV export with an unreadable `sent_at`: one quarantine entry in each batch."""

OUTSIDE = ("REPSIGHT_KEY", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
"""What would make a run depend on the machine running the tests (as `tests.support.repsight` leaves out)."""


def build_company(folder: Path) -> Config:
    """Generate a small company in every export format, then plant a multi-batch CSV export and broken records.

    105 people make five groups of mailboxes, exported as mbox, maildir,
    Graph JSON, mbox, CSV (mail) and iCalendar, iCalendar, Graph JSON,
    iCalendar, CSV (calendars); the second and fourth groups' exports are
    left out, to keep one load near two seconds: the rest is one file of
    each format, with the roster, accounts and KPIs. The planted records
    give the quarantine an entry in the roster, a calendar CSV and each
    batch of the bulk mail export.
    """
    from repsight.synth.demo import create_demo_workspace

    config, _ = create_demo_workspace(folder, people=105, months=3, formats="mixed")
    shutil.rmtree(folder / "mail" / "export-002")
    for export in ("mail/export-004.mbox", "calendar/export-002.ics", "calendar/export-004.ics"):
        (folder / export).unlink()
    with (folder / "roster.csv").open("a", encoding="utf-8") as roster:
        roster.write(",No Email,,Sales,3,Sales,NA,,,2020-01-01,,America/New_York,Rep\n")
    with (folder / "calendar" / "export-005.csv").open("a", encoding="utf-8") as calendar:
        calendar.write(
            "broken-1@calendar.acme.example,not a time,2024-07-03T15:30:00-05:00,kofi.ahmed@acme.example,,,false,false,false\n"
        )
    people = [line.split(",", 1)[0] for line in (folder / "roster.csv").read_text(encoding="utf-8").splitlines()[1:-1]]
    _write_bulk_mail(folder / "mail" / "bulk.csv", people)
    return config


def _write_bulk_mail(path: Path, people: list[str]) -> None:
    start = datetime(2024, 7, 1, 8)
    with path.open("w", encoding="utf-8") as bulk:
        bulk.write("message_id,sent_at,sender,to,cc,bcc\n")
        for row in range(1, BULK_ROWS + 1):
            sent = "yesterday" if row in BROKEN_BULK_ROWS else (start + timedelta(minutes=3 * row)).isoformat() + "Z"
            sender, to, cc = people[row % len(people)], people[(row * 7 + 1) % len(people)], people[(row * 13 + 2) % len(people)]
            bulk.write(f"<bulk-{row}@mail.acme.example>,{sent},{sender},{to},{cc},\n")


def copy_workspace(source: Path, target: Path) -> Config:
    """Copy a workspace's inputs, configuration and key (not its database) to `target`; return its configuration."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("repsight.duckdb*"))
    return load_config(target)


RUN_TIMES = {
    ("study_results", "created_at"),
    ("validation", "validated_at"),
    ("forgotten", "forgotten_at"),
    ("digest_sent", "sent_at"),
}
"""When a run happened: two runs never agree on it."""

RUN_SETTINGS = {"measured_at"}
"""Rows of `workspace` that say when a stage last ran."""


def comparable_rows(store: Store, name: str, root: Path) -> Rows:
    """Return the rows of table `name`, sorted, as they must be whatever the interruptions.

    `load_id` becomes the file that load read, and `source` (a file's
    path) is relative to `root`, where the copies differ; run
    times are left out (`RUN_TIMES`, `RUN_SETTINGS`). `loads` itself is
    compared through `latest_loads`.
    """
    columns = [c for c in TABLES[name] if (name, c) not in RUN_TIMES]
    rows = store.to_arrow(store.table(name).select(*columns)).to_pylist()
    if "source" in columns:
        for row in rows:
            row["source"] = _relative(row["source"], root)
    if "load_id" in columns:
        sources = _load_sources(store, root)
        for row in rows:
            row["load_id"] = sources.get(row["load_id"], f"(load {row['load_id']} not in loads)")
    if name == "workspace":
        rows = [row for row in rows if row["name"] not in RUN_SETTINGS]
    return sorted((tuple(row.values()) for row in rows), key=repr)


def _load_sources(store: Store, root: Path) -> dict[int, str]:
    loads = store.to_arrow(store.table("loads").select("load_id", "source")).to_pylist()
    return {row["load_id"]: _relative(row["source"], root) for row in loads}


def _relative(source: str, root: Path) -> str:
    path = Path(source)
    return str(path.relative_to(root)) if path.is_relative_to(root) else source


def latest_loads(store: Store, root: Path) -> dict[str, dict[str, Any]]:
    """Return each file's latest load: what it read, loaded and quarantined, its hash, and whether it finished.

    `rows_new` is left out: a load that completes an interrupted one finds
    stored what the interrupted one stored, so it counts fewer new records.
    `load_id`, `started_at` and the time of `finished_at` are the run's.
    """
    loads = store.to_arrow(store.table("loads")).to_pylist()
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(loads, key=lambda r: r["load_id"]):
        latest[_relative(row["source"], root)] = {
            "kind": row["kind"],
            "size_bytes": row["size_bytes"],
            "sha256": row["sha256"],
            "rows_read": row["rows_read"],
            "rows_loaded": row["rows_loaded"],
            "rows_quarantined": row["rows_quarantined"],
            "rows_changed": row["rows_changed"],
            "rows_removed": row["rows_removed"],
            "finished": row["finished_at"] is not None,
        }
    return latest


def snapshot(config: Config, tables: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Return every table of the workspace (or `tables`) as comparable rows, and `loads` as `latest_loads`."""
    with Store.open(config, read_only=True) as store:
        names = tables if tables is not None else tuple(n for n in TABLES if n != "loads")
        found: dict[str, Any] = {name: comparable_rows(store, name, config.root) for name in names}
        if tables is None:
            found["loads"] = latest_loads(store, config.root)
        return found


@dataclass(frozen=True)
class Run:
    """What became of one command run by the fork server."""

    died_of: int | None
    """The signal that ended the process, if one did."""
    returncode: int | None
    seconds: float
    output: str
    """Its standard output and error, interleaved."""

    @property
    def killed(self) -> bool:
        """Whether a SIGKILL landed: the process died of it (False: it had exited before the moment came)."""
        return self.died_of == signal.SIGKILL


class ForkServer:
    """The client of `tests.robustness.forkserver`: runs `repsight` command lines and kills them at chosen moments."""

    def __init__(self, logs: Path) -> None:
        environment = {k: v for k, v in os.environ.items() if k not in OUTSIDE} | THREAD_FREE | {"COLUMNS": "200"}
        self.logs = logs
        self.runs = 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.robustness.forkserver"],
            cwd=REPO,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._read()
        assert ready == {"ready": True, "threads": 1}, ready

    def run(
        self,
        *argv: str,
        cwd: Path,
        kill_after: float | None = None,
        file_size_limit: int | None = None,
        die_writing: tuple[Path, int] | None = None,
    ) -> Run:
        """Run `repsight ARGV` in `cwd`; kill it with SIGKILL `kill_after` seconds after it starts, if it still runs then.

        `file_size_limit` and `die_writing`: `tests.robustness.forkserver._child`.
        """
        self.runs += 1
        log = self.logs / f"run-{self.runs:04d}.log"
        request = {
            "argv": list(argv),
            "cwd": str(cwd),
            "log": str(log),
            "kill_after": kill_after,
            "file_size_limit": file_size_limit,
            "die_writing": None if die_writing is None else [str(die_writing[0]), die_writing[1]],
        }
        stdin = self._stdin()
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        reply = self._read()
        assert "error" not in reply, reply["error"]
        return Run(
            died_of=reply["signal"],
            returncode=reply["returncode"],
            seconds=reply["seconds"],
            output=log.read_text(encoding="utf-8", errors="replace"),
        )

    def close(self) -> None:
        self._stdin().close()
        self.process.wait(timeout=30)

    def _stdin(self) -> IO[str]:
        assert self.process.stdin is not None
        return self.process.stdin

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the fork server stopped (exit status {self.process.poll()})"
        reply: dict[str, Any] = json.loads(line)
        return reply
