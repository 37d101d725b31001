"""Shared fixtures: a fresh workspace and small helpers to write inputs."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from repsight.config import Config
from repsight.privacy import KEY_ENV
from repsight.store import Store
from repsight.workspace import init_workspace

# The same examples on every run: a CI failure can be reproduced, and a
# shared machine's speed does not fail a test (no deadline).
settings.register_profile("repsight", derandomize=True, deadline=None, database=None)
settings.load_profile("repsight")

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


@pytest.fixture(autouse=True)
def _no_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their key explicitly; a developer's REPSIGHT_KEY must not leak in."""
    monkeypatch.delenv(KEY_ENV, raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Config:
    """Return the configuration of a new, empty workspace with CSV mail and calendars."""
    return init_workspace(tmp_path / "ws", domains=["acme.example"], mail=["mail/*.csv"], calendar=["calendar/*.csv"])


@pytest.fixture
def store(workspace: Config) -> Iterator[Store]:
    from repsight.privacy import read_key

    with Store.open(workspace, read_key(workspace.key_path)) as opened:
        yield opened
