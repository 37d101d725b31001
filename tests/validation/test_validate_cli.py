"""`repsight validate` and what `analyze` says about it, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repsight.config import Config
from tests.support import repsight, studied_company


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return studied_company(tmp_path_factory.mktemp("validate") / "demo", people=60, months=3)


def test_validate_then_analyze_and_a_newer_metrics_run_makes_analyze_warn(company: Config, tmp_path: Path) -> None:
    cwd = company.root
    before = repsight("analyze", "-c", ".", cwd=cwd)
    assert before.returncode == 0
    assert "warning: the data have not been validated: `repsight validate`" in before.stderr

    checked = repsight("validate", "-c", ".", "--json", str(tmp_path / "flags.json"), cwd=cwd)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("Validation: ") and "no_own_mailbox" in checked.stdout
    document = json.loads((tmp_path / "flags.json").read_text(encoding="utf-8"))
    assert set(document) == {"validated_at", "counts", "flags"}
    assert sum(document["counts"].values()) == len(document["flags"])

    after = repsight("analyze", "-c", ".", "--json", str(tmp_path / "study.json"), cwd=cwd)
    assert after.returncode == 0 and "warning" not in after.stderr
    study = json.loads((tmp_path / "study.json").read_text(encoding="utf-8"))
    assert study["validation"]["warning"] is None and study["validation"]["validated_at"]
    assert study["validation"]["counts"] == {k: v for k, v in document["counts"].items() if v}

    assert repsight("metrics", "-c", ".", cwd=cwd).returncode == 0
    stale = repsight("analyze", "-c", ".", cwd=cwd)
    assert "warning: the validation (" in stale.stderr and "is older than the data" in stale.stderr
