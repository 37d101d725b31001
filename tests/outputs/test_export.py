"""`repsight export`: what the files hold, and the errors a user sees instead of a traceback."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from repsight.config import Config
from repsight.errors import MetricsError
from repsight.export import export_table, run_export
from repsight.metrics import compute_metrics
from repsight.store import Store
from tests.support import repsight
from tests.support.metrics_org import OrgBuilder


@pytest.fixture
def measured(workspace: Config) -> Config:
    """Return a workspace whose metrics are computed: ana (hired 2021-02-01) and bob mail each other once."""
    o = OrgBuilder()
    o.person("ana", hire_date=date(2021, 2, 1))
    o.person("bob")
    o.message("2025-01-07 09:00", "ana", ["bob"])
    with Store.open(workspace) as store:
        for name, table in o.tables().items():
            store.append(name, table)
        compute_metrics(store, workspace)
    return workspace


def test_viva_export_writes_every_date_as_month_day_year(measured: Config, tmp_path: Path) -> None:
    out = tmp_path / "viva.csv"
    result = run_export(measured, "person_period", "viva", out)
    assert (result.path, result.rows, result.table, result.columns[:2]) == (out, 2, "person_period", ["PersonId", "MetricDate"])
    assert result.summary() == f"Wrote 2 rows of person_period ({len(result.columns)} columns) to {out}"
    with out.open(encoding="utf-8") as handle:
        rows = {row["PersonId"]: row for row in csv.DictReader(handle)}
    assert (rows["ana"]["MetricDate"], rows["ana"]["HireDate"]) == ("01/01/2025", "02/01/2021")
    assert (rows["bob"]["MetricDate"], rows["bob"]["HireDate"]) == ("01/01/2025", "")


def test_export_from_a_workspace_without_the_metric_table_names_the_command(workspace: Config, tmp_path: Path) -> None:
    with Store.open(workspace) as store:
        store.backend.raw_sql("DROP TABLE person_period")  # as in a workspace made before the metrics existed
    result = repsight("export", "-c", "ws", "--out", "x.csv", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    config_file = tmp_path / "ws" / "repsight.toml"
    assert " ".join(result.stderr.split()) == (
        f"error: the workspace has no person_period table; compute the metrics first with `repsight metrics -c {config_file}`"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.csv").exists()
    with Store.open(workspace, read_only=True) as store, pytest.raises(MetricsError) as raised:
        export_table(store, "person_period", "csv", tmp_path / "x.csv", config_path=Path("ws"))
    assert (
        str(raised.value) == "the workspace has no person_period table; compute the metrics first with `repsight metrics -c ws`"
    )
    with pytest.raises(MetricsError) as raised:
        run_export(workspace, "person_period", "csv", tmp_path / "x.csv")
    assert str(raised.value).endswith(f"compute the metrics first with `repsight metrics -c {workspace.path}`")


def test_export_into_a_folder_that_cannot_be_made_is_one_clear_line(measured: Config, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    result = repsight("export", "-c", "ws", "--out", "notes.txt/metrics.csv", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "error: notes.txt/metrics.csv: cannot write the export: File exists\n"
