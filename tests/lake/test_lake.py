"""The lake (`[engine] lake`): ingest on Spark stores exactly what one process stores, and the metrics on it equal DuckDB's.

One company, loaded twice in the same two runs (the mail of its last weeks
comes in the second): into a workspace by one process, and into a lake by
Spark local[2]. Every table (events read back from the lake's Parquet,
quarantine, loads, identities) is the same; after each run the metrics
computed on Spark over the lake (the second run incremental) equal a full
DuckDB run's exactly; erasing a person and purging old events leave the
same tables too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from repsight.config import Config, load_config
from repsight.ingest.run import IngestReport, configured_files, run_ingest
from repsight.metrics import run_metrics
from repsight.metrics.engine import MetricsReport
from repsight.store import Store
from tests.ingest.test_jobs import _company, _stored

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

LATE = "2024-09-16"
"""The mail sent from this day on is loaded by the second run."""

METRIC_TABLES = {
    "person_week": ["person", "week"],
    "person_period": ["person", "period"],
    "account_touches": ["person", "period", "account_id"],
    "period_edges": ["period", "a", "b"],
}


def on_lake(config: Config) -> Config:
    """Return `config` with its events in a lake folder beside it, on Spark local[2]."""
    text = config.path.read_text().replace('backend = "duckdb"', 'backend = "pyspark"\nspark_master = "local[2]"\nlake = "lake"')
    config.path.write_text(text)
    return load_config(config.path)


def _split_late_mail(root: Path) -> Path:
    """Move the Graph mail export's messages sent from `LATE` on to a file of their own; return it."""
    export = root / "mail" / "export-003.json"
    early, late = [], []
    for line in export.read_text().splitlines():
        (late if json.loads(line)["sentDateTime"] >= LATE else early).append(line)
    assert early and late
    export.write_text("\n".join(early) + "\n")
    later = root / "mail" / "late.json"
    later.write_text("\n".join(late) + "\n")
    return later


def _timeless(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Return stored rows without the `workspace` row that says when the metrics ran."""
    return [row for row in rows if row[:1] != ("measured_at",)]


@dataclass
class Loaded:
    one: Config
    lake: Config
    reports: dict[str, list[IngestReport]]
    metrics: dict[str, list[MetricsReport]]
    stored: dict[str, list[dict[str, list[tuple[object, ...]]]]]
    measured: dict[str, list[dict[str, pa.Table]]]


def _metric_tables(config: Config) -> dict[str, pa.Table]:
    with Store.open(config, read_only=True) as store:
        return {
            name: store.to_arrow(store.table(name)).sort_by([(k, "ascending") for k in keys])
            for name, keys in METRIC_TABLES.items()
        }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    company = tmp_path_factory.mktemp("company")
    _company(company, people=70)
    late = _split_late_mail(company)
    base = tmp_path_factory.mktemp("workspaces")
    configs = {}
    for name in ("one", "lake"):
        shutil.copytree(company, base / name)
        configs[name] = load_config(base / name / "repsight.toml")
    configs["lake"] = on_lake(configs["lake"])
    result = Loaded(configs["one"], configs["lake"], {}, {}, {}, {})
    for name, config in configs.items():
        result.reports[name], result.metrics[name], result.stored[name], result.measured[name] = [], [], [], []
        every = configured_files(config)[0]
        first = [(kind, path) for kind, path in every if path.name != late.name]
        second = [(kind, path) for kind, path in every if path.name in (late.name, "bad.csv")]
        for files in (first, second):  # the second run: the late mail, and bad.csv again (its quarantine replaced)
            result.reports[name].append(run_ingest(config, files=files))
            # DuckDB recomputes every week; Spark, incremental the second time.
            result.metrics[name].append(run_metrics(config, full=name == "one"))
            result.stored[name].append(_stored(config))
            result.measured[name].append(_metric_tables(config))
    yield result


def test_ingest_on_spark_stores_exactly_what_one_process_stores(loaded: Loaded) -> None:
    for step in (0, 1):
        one, lake = loaded.stored["one"][step], loaded.stored["lake"][step]
        assert len(one["messages"]) > 1000 and len(one["meetings"]) > 500, "the events are read back from the lake"
        assert len(one["quarantine"]) == 2 and one["identities"]
        for name in one:
            assert _timeless(lake[name]) == _timeless(one[name]), name
        counts = [
            [(f.kind, f.path.name, f.read, f.loaded, f.new, f.quarantined, f.left_out) for f in loaded.reports[name][step].files]
            for name in ("one", "lake")
        ]
        assert counts[0] == counts[1]
        errors = [
            [(f.path.name, f.error is not None) for f in loaded.reports[name][step].files if f.error] for name in ("one", "lake")
        ]
        assert errors[0] == errors[1] == ([("unknown.xyz", True)] if step == 0 else [])
    second = {f.path.name: f for f in loaded.reports["lake"][1].files}
    assert sorted(second) == ["bad.csv", "late.json"] and second["late.json"].new > 0
    assert sum(f.left_out for f in loaded.reports["lake"][0].files) > 0, "the excluded person's events are left out"


def test_the_lake_is_parquet_in_a_folder_per_week_with_the_quarantine_beside(loaded: Loaded) -> None:
    lake = loaded.lake.root / "lake"
    assert sorted(p.name for p in lake.iterdir()) == [
        "meeting_attendees",
        "meetings",
        "message_recipients",
        "messages",
        "quarantine",
    ]
    weeks = {p.name for p in (lake / "messages").iterdir() if p.is_dir()}
    mondays = [date.fromisoformat(w.removeprefix("week=")) for w in weeks]
    assert len(mondays) >= 12 and all(m.weekday() == 0 for m in mondays)
    assert weeks == {p.name for p in (lake / "message_recipients").iterdir() if p.is_dir()}
    import pyarrow.parquet as pq

    quarantined = pq.read_table(lake / "quarantine")
    assert sorted(quarantined["field"].to_pylist()) == ["sender", "sent_at"], "kept once, though bad.csv loaded twice"
    assert {Path(s).name for s in quarantined["source"].to_pylist()} == {"bad.csv"}
    for table in ("messages", "message_recipients", "meetings", "meeting_attendees", "quarantine"):
        rows = pq.read_table(lake / table)
        texts = [v for c in rows.column_names if pa.types.is_string(rows[c].type) for v in rows[c].to_pylist() if v]
        assert texts and not [v for v in texts if "@" in v and not v.startswith("/")], f"{table} holds an address"


def test_the_metrics_on_the_lake_equal_duckdbs_full_and_incremental(loaded: Loaded) -> None:
    first, second = loaded.metrics["lake"]
    assert first.since is None and first.backend == "pyspark"
    assert second.since is not None and second.since > first.first_week, second.why
    for step in (0, 1):
        one, lake = loaded.measured["one"][step], loaded.measured["lake"][step]
        for name in METRIC_TABLES:
            assert one[name].num_rows > 0
            assert lake[name].equals(one[name]), (step, name)


def test_erasing_a_person_and_purging_old_events_change_the_lake_as_the_workspace(loaded: Loaded, tmp_path: Path) -> None:
    from repsight.forget import forget_person
    from repsight.retention import run_purge

    stored = []
    for config in (loaded.one, loaded.lake):
        root = tmp_path / config.root.name
        shutil.copytree(config.root, root)
        copy = load_config(root / "repsight.toml")
        roster = (root / "roster.csv").read_text().splitlines()
        forgotten = forget_person(copy, roster[9].split(",")[0], now=datetime(2026, 11, 1, 9, tzinfo=UTC))
        text = copy.path.read_text().replace("# retention_months = 24", "retention_months = 26")
        copy.path.write_text(text)
        purged = run_purge(load_config(copy.path), today=date(2026, 11, 1))
        assert forgotten.removed.get("messages") and purged.removed.get("messages")
        stored.append((_stored(copy), forgotten.removed, purged.removed))
    (one, forgot_one, purged_one), (lake, forgot_lake, purged_lake) = stored
    assert forgot_lake == forgot_one and purged_lake == purged_one
    for name in one:
        if name not in ("loads", "quarantine"):  # they name the files of the workspaces copied
            assert _timeless(lake[name]) == _timeless(one[name]), name


def test_ingest_on_the_lake_says_what_went_wrong_without_a_traceback(loaded: Loaded, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from repsight.cli import app

    root = tmp_path / "cli"
    shutil.copytree(loaded.lake.root, root)
    toml = root / "repsight.toml"
    text = toml.read_text().replace('mail = ["mail/*"]', 'mail = ["mail/unknown.xyz", "mail/bad.csv"]')
    toml.write_text(text.replace('calendar = ["calendar/*"]', "calendar = []"))
    result = CliRunner().invoke(app, ["ingest", "-c", str(toml)])
    assert result.exit_code == 1, result.output
    assert "unknown.xyz" in result.output and "Traceback" not in result.output
    with Store.open(load_config(toml), read_only=True) as store:
        assert store.count("messages") == len(loaded.stored["lake"][1]["messages"])
        quarantine = store.table("quarantine")
        here = quarantine.filter(quarantine.source == str(root / "mail" / "bad.csv"))
        assert store.to_arrow(here).num_rows == 2
    import pyarrow.parquet as pq

    lake = pq.read_table(root / "lake" / "quarantine")
    assert lake.filter(pa.compute.equal(lake["source"], str(root / "mail" / "bad.csv"))).num_rows == 2


def test_a_replacement_stopped_between_its_renames_is_finished_on_the_next_read(loaded: Loaded, tmp_path: Path) -> None:
    """`rewrite.replace_folder` writes `<table>.new` whole, then renames: stopped between, the next reader completes it."""
    expected = len(loaded.stored["lake"][1]["messages"])
    root = tmp_path / "swap"
    shutil.copytree(loaded.lake.root, root)
    lake = root / "lake"
    (lake / "messages").rename(lake / "messages.new")  # written, not yet in place (Spark's _SUCCESS in it)
    (lake / "meetings").rename(lake / "meetings.old")  # moved aside, the new one never written
    config = load_config(root / "repsight.toml")
    with Store.open(config, read_only=True) as store:
        assert store.count("messages") == expected
        assert store.count("meetings") == len(loaded.stored["lake"][1]["meetings"])
    assert sorted(p.name for p in lake.iterdir()) == sorted(p.name for p in (loaded.lake.root / "lake").iterdir())


def test_a_lake_is_refused_where_the_workspace_holds_events_or_cannot_read_it(loaded: Loaded, tmp_path: Path) -> None:
    from repsight.errors import StoreError
    from repsight.lake import LakeNotMounted

    root = tmp_path / "before"
    shutil.copytree(loaded.one.root, root)  # its events are in the workspace
    config = on_lake(load_config(root / "repsight.toml"))
    with pytest.raises(StoreError, match=r"holds [\d,]+ messages and meetings loaded before"):
        run_ingest(config)
    remote = config.path.read_text().replace('lake = "lake"', 'lake = "hdfs://namenode/lake"')
    config.path.write_text(remote)
    with pytest.raises(LakeNotMounted, match="hdfs://namenode/lake"):  # an object store it reads: tests/lake/test_object_store.py
        run_ingest(load_config(config.path))
