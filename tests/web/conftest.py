"""One measured and studied workspace for the dashboard tests (built once: about five seconds)."""

from __future__ import annotations

import pytest

from repsight.config import Config
from repsight.web.data import WorkspaceData
from tests.support.web_org import Cast, build


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, WorkspaceData, Cast]:
    """The cast's workspace. Tests may add accounts and audit entries; none changes its database (copy it for that)."""
    return build(tmp_path_factory.mktemp("web") / "ws")
