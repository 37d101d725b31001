"""Shared fixtures: a fresh workspace and small helpers to write inputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from repsight.config import Config
from repsight.privacy import KEY_ENV
from repsight.store import Store
from repsight.workspace import init_workspace
from tests.support import TEST_KEY as TEST_KEY

# The same examples on every run: a CI failure can be reproduced, and a
# shared machine's speed does not fail a test (no deadline).
settings.register_profile("repsight", derandomize=True, deadline=None, database=None)
settings.load_profile("repsight")


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

    with Store.open(workspace) as opened:
        yield opened
