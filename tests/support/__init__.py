"""What the tests share besides fixtures: small input writers, the test key, paths, and the generated organisations.

- `metrics_org`: small organisations built table by table, for the metrics tests;
- `metrics_oracle`: the metrics computed again with pandas and networkx, the engine's oracle;
- `study_org`: rep-period tables with planted effects, for the study tests;
- `planted`: the synthetic organisation's planted truth, measured independently;
- `web_org`: a workspace with a cast of users, for the dashboard tests.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from repsight.config import Config
    from repsight.sources.records import Message, Rejected

__all__ = [
    "DATA",
    "REPO",
    "ROSTER_HEADER",
    "SHARED",
    "TEST_KEY",
    "events_measured",
    "read_mail",
    "read_records",
    "repsight",
    "roster_rows",
    "studied_company",
    "write_csv",
]

REPO = Path(__file__).resolve().parents[2]
"""The repository's root."""
DATA = REPO / "tests" / "data"
"""The test inputs kept in the repository (mail, calendars, Graph JSON)."""
SHARED = REPO.parent / "shared"
"""The project's shared folder beside the repository (reference data of real exports)."""

TEST_KEY = "repsight-test-key"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """Write a CSV file (creating folders) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


ROSTER_HEADER = ["email", "name", "manager_email", "org", "level", "function", "region", "segment", "channel", "hire_date"]


def roster_rows() -> list[list[object]]:
    """A five-person company: a CEO, a VP, a manager and two reps."""
    return [
        ["ceo@acme.example", "Cleo Ceo", "", "Executive", 9, "Executive", "NA", "", "", "2015-01-01"],
        ["vp@acme.example", "Vic Vp", "ceo@acme.example", "Sales NA", 7, "Sales", "NA", "", "", "2018-03-01"],
        ["mgr@acme.example", "Max Mgr", "vp@acme.example", "Sales NA SMB", 5, "Sales", "NA", "SMB", "", "2019-06-01"],
        ["ana@acme.example", "Ana Rep", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", "2021-02-01"],
        ["ben@acme.example", "Ben Rep", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Partner", "2022-09-15"],
    ]


# What would make the output depend on the machine running the tests: a key, or colours forced on a pipe.
_OUTSIDE = ("REPSIGHT_KEY", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def repsight(*args: str, cwd: Path, env: dict[str, str] | None = None, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """Run the `repsight` command line as a user would, piped, in a subprocess `columns` wide, without a REPSIGHT_KEY from outside."""
    environment = {k: v for k, v in os.environ.items() if k not in _OUTSIDE} | {"COLUMNS": str(columns)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "repsight", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )


def read_records(kind: str, path: Path) -> list[Any]:
    """Return every record a file of `kind` gives (batches unpacked); a rejected record fails the test."""
    from repsight.sources import open_source, reader_for
    from repsight.sources.records import MeetingBatch, MessageBatch
    from repsight.sources.records import Rejected as Refused

    found: list[Any] = []
    with open_source(path) as source:
        for item in reader_for(kind, path)(source):
            assert not isinstance(item, Refused), item
            found.extend(item.records() if isinstance(item, MessageBatch | MeetingBatch) else [item])
    return found


def read_mail(path: Path) -> tuple[list[Message], list[Rejected]]:
    """Return the messages a mail file gives (whether its reader yields batches or messages) and the records it rejects."""
    from repsight.sources import open_source, reader_for
    from repsight.sources.records import Message, MessageBatch

    messages: list[Message] = []
    rejected: list[Rejected] = []
    with open_source(path) as source:
        for item in reader_for("mail", path)(source):
            if isinstance(item, MessageBatch):
                messages.extend(item.records())
            elif isinstance(item, Message):
                messages.append(item)
            else:
                rejected.append(item)
    return messages, rejected


def studied_company(folder: Path, *, people: int, months: int) -> Config:
    """Return a generated company (CSV exports, seed 7) in `folder`, ingested, measured and studied."""
    from repsight.ingest import run_ingest
    from repsight.metrics import run_metrics
    from repsight.study import run_study
    from repsight.synth.demo import create_demo_workspace

    config, _ = create_demo_workspace(folder, people=people, months=months, formats="csv")
    assert run_ingest(config).ok
    run_metrics(config)
    run_study(config)
    return config


def events_measured(table: pd.DataFrame) -> pd.DataFrame:
    """Return a stored `person_week` or `person_period` of mail and calendar events without the Viva-only columns, which it leaves empty."""
    from repsight.metrics.catalog import VIVA_ONLY

    viva_only = [c for c in VIVA_ONLY if c in table.columns]
    assert table[viva_only].isna().all().all(), "a metric only a Viva person query measures has a value from events"
    return table.drop(columns=viva_only)
