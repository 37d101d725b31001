"""Incremental weekly runs: after new exports, `metrics` recomputes only the weeks they can change, and gives a full run's values."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config, EngineConfig, load_config
from repsight.forget import forget_person
from repsight.ingest import run_ingest
from repsight.metrics import compute_metrics
from repsight.metrics.engine import MetricsReport
from repsight.metrics.incremental import event_spans
from repsight.store import Store
from repsight.synth import generate
from repsight.workspace import init_workspace
from tests.support import ROSTER_HEADER, roster_rows, write_csv

METRIC_TABLES = ("person_week", "person_period", "period_edges", "week_ties", "account_touches", "activity_spans")
TIME_COLUMN = {"mail": "sent_at", "calendar": "start"}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _split(source: Path, target: Path, kind: str, start: datetime | None, end: datetime | None) -> None:
    """Write the rows of the CSV export `source` sent or starting in [start, end) to `target`."""
    with source.open(newline="") as handle:
        rows = list(csv.reader(handle))
    at = rows[0].index(TIME_COLUMN[kind])
    kept = [r for r in rows[1:] if (start is None or _moment(r[at]) >= start) and (end is None or _moment(r[at]) < end)]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *kept])


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A company of 60 people over two quarters (July to December 2024), as CSV exports."""
    root = tmp_path_factory.mktemp("company")
    generate(root, people=60, months=6, seed=3, formats="csv")
    # One key for every workspace here, so that their pseudonyms agree.
    keyed = init_workspace(tmp_path_factory.mktemp("key"), domains=["acme.example"])
    shutil.copy(keyed.key_path, root / "key")
    return root


def _workspace(company: Path, root: Path, backend: str = "duckdb") -> Config:
    config = init_workspace(root, domains=["acme.example"], mail=["mail/*.csv"], calendar=["calendar/*.csv"])
    for name in ("roster.csv", "accounts.csv", "kpis.csv"):
        shutil.copy(company / name, root / name)
    shutil.copy(company / "key", config.key_path)
    config = load_config(config.path)
    if backend == "pyspark":
        config = config.model_copy(update={"engine": EngineConfig(backend="pyspark", spark_master="local[2]")})
    return config


def _load(company: Path, config: Config, start: str | None, end: str | None, name: str) -> None:
    """Load the company's events from `start` to `end` (UTC days) as files called `name`."""
    bounds = [None if day is None else datetime.fromisoformat(day).replace(tzinfo=UTC) for day in (start, end)]
    for kind in ("mail", "calendar"):
        for source in sorted((company / kind).glob("*.csv")):
            _split(source, config.root / kind / f"{source.stem}-{name}.csv", kind, *bounds)
    files = [
        (k, p)
        for k, p in (
            (k, config.root / k / f"{s.stem}-{name}.csv")
            for k in ("mail", "calendar")
            for s in sorted((company / k).glob("*.csv"))
        )
    ]
    reference = [
        ("roster", config.root / "roster.csv"),
        ("accounts", config.root / "accounts.csv"),
        ("kpis", config.root / "kpis.csv"),
    ]
    report = run_ingest(config, files=[*reference, *files])
    assert report.ok, [f.error for f in report.files if f.error]


def _tables(config: Config) -> dict[str, Any]:
    with Store.open(config, read_only=True) as store:
        return {name: store.to_arrow(store.table(name)).to_pylist() for name in METRIC_TABLES}


def _sorted(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {name: sorted(rows, key=lambda r: repr(sorted(r.items()))) for name, rows in tables.items()}


def _metrics(config: Config, *, full: bool = False) -> MetricsReport:
    with Store.open(config) as store:
        return compute_metrics(store, config, full=full)


@pytest.fixture(scope="module")
def full(company: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The metric tables of a full run over every event: the oracle of every incremental run here."""
    config = _workspace(company, tmp_path_factory.mktemp("full"))
    _load(company, config, None, None, "all")
    report = _metrics(config)
    assert report.since is None and report.person_weeks > 1000
    return _sorted(_tables(config))


def test_weekly_loads_recompute_from_their_period_and_equal_a_full_run(
    company: Path, full: dict[str, Any], tmp_path: Path
) -> None:
    config = _workspace(company, tmp_path / "weekly")
    _load(company, config, None, "2024-10-16", "a")
    first = _metrics(config)
    assert first.since is None and first.why == "a first run"
    _load(company, config, "2024-10-16", "2024-11-20", "b")
    second = _metrics(config)
    # Mid-October is in the fourth quarter: from its first week on (a week is in the period of its Monday: 7 October).
    assert second.since == date(2024, 10, 7) and second.periods == ["2024Q4"]
    assert second.person_weeks < first.person_weeks
    _load(company, config, "2024-11-20", None, "c")
    third = _metrics(config)
    assert third.since == date(2024, 10, 7)
    assert _sorted(_tables(config)) == full


def test_nothing_loaded_recomputes_nothing(company: Path, full: dict[str, Any], tmp_path: Path) -> None:
    config = _workspace(company, tmp_path / "again")
    _load(company, config, None, None, "all")
    _metrics(config)
    again = _metrics(config)
    assert again.person_weeks == 0 and again.stored_periods == ["2024Q2", "2024Q3", "2024Q4", "2025Q1"]
    assert _sorted(_tables(config)) == full
    assert _metrics(config, full=True).person_weeks == len(full["person_week"])


def test_exports_of_earlier_weeks_loaded_later_recompute_from_their_period(
    company: Path, full: dict[str, Any], tmp_path: Path
) -> None:
    config = _workspace(company, tmp_path / "backfill")
    _load(company, config, "2024-08-20", None, "late")
    _metrics(config)
    _load(company, config, None, "2024-08-20", "early")
    report = _metrics(config)
    assert report.since is not None and report.since <= date(2024, 7, 1)
    assert _sorted(_tables(config)) == full


def test_the_spans_kept_on_the_store_are_those_the_engine_counts(company: Path, tmp_path: Path) -> None:
    config = _workspace(company, tmp_path / "spans")
    _load(company, config, None, None, "all")
    _metrics(config)
    with Store.open(config, read_only=True) as store:
        stored = store.to_arrow(store.table("activity_spans")).to_pylist()
        counted = event_spans(store, config).to_pylist()
    assert len(stored) == len(counted) > 50
    epoch = date(1970, 1, 1)
    assert [
        (r["person"], (r["first_week"] - epoch).days, (r["last_week"] - epoch).days)
        for r in sorted(stored, key=lambda r: r["person"])
    ] == [(r["person"], r["first_week"], r["last_week"]) for r in counted]


def test_a_deletion_or_a_roster_change_makes_the_next_run_full(company: Path, tmp_path: Path) -> None:
    config = _workspace(company, tmp_path / "changes")
    _load(company, config, None, "2024-11-01", "a")
    _metrics(config)
    roster = (config.root / "roster.csv").read_text().splitlines()
    forget_person(config, roster[-1].split(",")[0])
    _load(company, config, "2024-11-01", None, "b")
    report = _metrics(config)
    assert report.since is None and report.why == "the roster, accounts, KPI periods or settings changed"
    with Store.open(config) as store:
        store.backend.con.execute("DELETE FROM messages WHERE sent_at < '2024-07-08'")
    assert _metrics(config).why == "events were deleted since the last run"


def _tiny_company(root: Path) -> Config:
    """Ana, Ben, Cy and their manager, Mo; Cy falls silent after January and writes again in May."""
    config = init_workspace(root, domains=["acme.example"], mail=["mail/*.csv"], calendar=["calendar/*.csv"])
    write_csv(
        root / "roster.csv",
        ROSTER_HEADER,
        [
            *roster_rows(),
            ["cy@acme.example", "Cy Rep", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", "2020-01-01"],
        ],
    )
    return config


MAIL = ["message_id", "sent_at", "sender", "to", "cc", "bcc"]


def test_a_person_seen_again_after_a_silence_reaches_back_to_the_silent_weeks(tmp_path: Path) -> None:
    """Cy's weeks run to their last event: mail from May gives them the weeks since January, which a run from May would miss."""
    results = []
    for name in ("incremental", "full"):
        config = _tiny_company(tmp_path / name)
        if name == "full":  # the same key, so that the pseudonyms agree
            shutil.copy(tmp_path / "incremental" / config.key_path.name, config.key_path)
        january = [
            [f"j{n}", f"2025-01-{6 + n:02d}T10:00:00Z", "cy@acme.example", "ana@acme.example;ben@acme.example", "", ""]
            for n in range(3)
        ]
        weekly = [
            [f"w{n}", f"2025-{month:02d}-{day:02d}T10:00:00Z", "ana@acme.example", "ben@acme.example", "", ""]
            for n, (month, day) in enumerate((m, d) for m in range(1, 7) for d in (3, 17))
        ]
        may = [["m1", "2025-05-20T10:00:00Z", "cy@acme.example", "ana@acme.example", "", ""]]
        early = [row for row in weekly if row[1] < "2025-05"]
        write_csv(config.root / "mail" / "a.csv", MAIL, january + early)
        if name == "incremental":
            run_ingest(config)
            assert _metrics(config).since is None
        write_csv(config.root / "mail" / "b.csv", MAIL, may + [row for row in weekly if row not in early])
        run_ingest(config)
        report = _metrics(config)
        if name == "incremental":
            # The new mail is in the second quarter (from 7 April); Cy's new weeks start on 13 January, in the first (from 6 January).
            assert report.since == date(2025, 1, 6) and "2025-01-13" in report.why
        results.append(_sorted(_tables(config)))
    assert results[0] == results[1]
    cy = [r for r in results[0]["person_week"] if r["emails_sent"] and r["week"] >= date(2025, 5, 19)]
    assert cy, "Cy's May mail is measured"


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_incremental_runs_equal_duckdb_full_runs(company: Path, full: dict[str, Any], tmp_path: Path) -> None:
    config = _workspace(company, tmp_path / "spark", "pyspark")
    _load(company, config, None, "2024-11-20", "a")
    assert _metrics(config).since is None
    _load(company, config, "2024-11-20", None, "b")
    report = _metrics(config)
    assert report.backend == "pyspark" and report.since == date(2024, 10, 7)
    assert _sorted(_tables(config)) == full
