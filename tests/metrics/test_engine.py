"""The metrics engine against the independent oracle, on DuckDB and on local Spark.

The oracle (tests/metrics_oracle.py, pandas and networkx) is written from
docs/metrics.md without sharing code with the engine. Every metric of every
person and week, and of every person and period, must agree: counts exactly,
hours and percentiles to 1e-9. DuckDB and Spark must give identical tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from repsight.config import Config, EngineConfig
from repsight.errors import MetricsError
from repsight.lake.session import staging_folder as _staging_folder
from repsight.metrics import compute_metrics
from repsight.metrics.catalog import VIVA_ONLY
from repsight.metrics.engine import INPUT_TABLES, _pyspark
from repsight.privacy import pseudonym, read_key
from repsight.store import Store
from tests.support import TEST_KEY, events_measured
from tests.support.metrics_oracle import oracle_account_touches, oracle_metrics, oracle_week_ties
from tests.support.metrics_org import EDGE_CASE_ACTIVE, OrgBuilder, edge_case_config, edge_case_tables, make_config

BACKENDS = [
    "duckdb",
    # One worker runs every Spark test, so one JVM starts, once.
    pytest.param("pyspark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
]


def on_backend(config: Config, backend: str) -> Config:
    """Return `config` computing on `backend` (Spark: two local cores)."""
    engine = EngineConfig(backend=backend, spark_master="local[2]" if backend == "pyspark" else None)
    return config.model_copy(update={"engine": engine})


def engine_metrics(store: Store, config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (person_week, person_period) as the engine computes and stores them."""
    compute_metrics(store, config)
    return events_measured(store.table("person_week").to_pandas()), events_measured(store.table("person_period").to_pandas())


def stored_touches(store: Store) -> pd.DataFrame:
    """Return the stored `account_touches`, its last touch as whole epoch seconds (as the oracle gives it)."""
    touches = store.table("account_touches").to_pandas()
    touches["last_touch"] = (touches["last_touch"] - pd.Timestamp(0)) // pd.Timedelta(seconds=1)
    return touches


def stored_tables(store: Store) -> dict[str, pa.Table]:
    return {name: store.table(name).to_pyarrow() for name in INPUT_TABLES}


def assert_same(engine: pd.DataFrame, oracle: pd.DataFrame, keys: list[str]) -> None:
    """Assert equal rows and values: integers exactly, floats to 1e-9."""
    engine, oracle = _normalised(engine, keys), _normalised(oracle, keys)
    assert list(engine.columns) == list(oracle.columns)
    assert engine[keys].values.tolist() == oracle[keys].values.tolist(), "the two tables hold different rows"
    for column in engine.columns:
        if column in keys:
            continue
        mine, theirs = engine[column], oracle[column]
        if mine.dtype == object:
            assert mine.tolist() == theirs.tolist(), column
        elif pd.api.types.is_float_dtype(mine) or pd.api.types.is_float_dtype(theirs):
            np.testing.assert_allclose(mine.astype(float), theirs.astype(float), rtol=0, atol=1e-9, err_msg=column)
        else:
            assert mine.astype("int64").tolist() == theirs.astype("int64").tolist(), column


def _normalised(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    columns = {}
    for name in table.columns:
        values = table[name].tolist()
        if name in ("week", "period_start"):
            # Dates as ISO text: pandas turns date objects back into timestamps.
            values = [pd.Timestamp(value).date().isoformat() for value in values]
        columns[name] = pd.Series(values, dtype=object if name in ("person", "period", "week", "period_start") else None)
    return pd.DataFrame(columns).sort_values(keys).reset_index(drop=True)


@pytest.fixture
def edge_store(tmp_path: Path) -> Iterator[tuple[Store, Config]]:
    config = edge_case_config(tmp_path)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in edge_case_tables().items():
            store.append(name, table)
        yield store, config


@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_equals_oracle_on_the_edge_case_company(edge_store: tuple[Store, Config], backend: str) -> None:
    store, config = edge_store
    weeks, periods = engine_metrics(store, on_backend(config, backend))
    oracle_weeks, oracle_periods = oracle_metrics(stored_tables(store), config)
    assert sorted(set(weeks["person"])) == sorted(EDGE_CASE_ACTIVE)
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert_same(periods, oracle_periods, ["person", "period"])
    assert_same(stored_touches(store), oracle_account_touches(stored_tables(store), config), ["person", "period", "account_id"])
    ties = store.table("week_ties").to_pandas()
    assert_same(ties, oracle_week_ties(stored_tables(store), config), ["week", "a", "b"])
    assert len(ties) > 20
    # The edge cases' replies (tests/support/metrics_org.py): ana 3.5 hours, hal the median of 5 and 36.
    replies = periods.set_index(["person", "period"])["customer_reply_hours"].dropna().to_dict()
    assert replies == {("ana", "2025Q1"): 3.5, ("hal", "2025Q1"): 20.5}
    owned = periods.set_index(["person", "period"])[["owned_accounts", "owned_accounts_touched_pct"]]
    assert owned.loc[("ana", "2025Q1")].tolist() == [1.0, 100.0]
    assert owned.loc[("ben", "2025Q1")].tolist() == [2.0, 50.0]  # the prospect written to; the partner is no customer


@pytest.mark.parametrize(
    ("hours", "days"),
    [("07:30-16:00", ["Sun", "Mon", "Tue", "Wed", "Thu"]), ("00:00-23:59", ["Sat"]), ("09:00-17:00", [])],
)
def test_other_working_weeks_equal_the_oracle(edge_store: tuple[Store, Config], hours: str, days: list[str]) -> None:
    # After-hours time counts working seconds day by day: a week that starts on Sunday, one working day, none.
    store, config = edge_store
    metrics = config.metrics.model_copy(update={"working_hours": hours, "working_days": days})
    config = config.model_copy(update={"metrics": type(config.metrics).model_validate(metrics.model_dump())})
    weeks, _ = engine_metrics(store, config)
    oracle_weeks, _ = oracle_metrics(stored_tables(store), config)
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert weeks["after_hours_collaboration_hours"].sum() > 0


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Config]]:
    """A generated company (60 people, 4 months), read from its CSV exports."""
    from repsight.ingest import run_ingest
    from repsight.synth.demo import create_demo_workspace

    config, _ = create_demo_workspace(tmp_path_factory.mktemp("synthetic") / "demo", people=60, months=4, formats="csv")
    assert run_ingest(config).ok
    with Store.open(config) as store:
        yield store, config


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_equals_oracle_on_a_generated_company(synthetic_store: tuple[Store, Config], backend: str) -> None:
    store, config = synthetic_store
    weeks, periods = engine_metrics(store, on_backend(config, backend))
    oracle_weeks, oracle_periods = oracle_metrics(stored_tables(store), config)
    assert len(weeks) > 1000 and weeks["internal_network_size"].sum() > 0
    # The generated company answers customers and names account owners: the reply time and book coverage are compared too.
    assert periods["customer_reply_hours"].notna().sum() > 50 and periods["owned_accounts_touched_pct"].notna().sum() > 50
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert_same(periods, oracle_periods, ["person", "period"])
    assert_same(stored_touches(store), oracle_account_touches(stored_tables(store), config), ["person", "period", "account_id"])


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_duckdb_and_spark_give_identical_tables(edge_store: tuple[Store, Config]) -> None:
    store, config = edge_store
    duck = (*engine_metrics(store, on_backend(config, "duckdb")), stored_touches(store))
    spark = (*engine_metrics(store, on_backend(config, "pyspark")), stored_touches(store))
    for mine, theirs in zip(duck, spark, strict=True):
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_numbers_rows_in_every_partition_at_once(edge_store: tuple[Store, Config]) -> None:
    # A window without an order would gather every message into one partition, on one core.
    store, config = edge_store
    with _pyspark(store, on_backend(config, "pyspark"), None) as compute:
        session = compute.backend._session
        # The rows to number, spread over three partitions before they are numbered.
        spread = session.sql(compute.backend.compile(compute.tables["message_recipients"])).repartition(3)
        spread.createOrReplaceTempView("repsight_spread")
        try:
            spread_table = compute.backend.table("repsight_spread")
            numbered = spread_table.mutate(number=compute.row_id(spread_table))
            frame = session.sql(compute.backend.compile(numbered))
            plan = frame._jdf.queryExecution().executedPlan().toString()
            numbers = [row["number"] for row in frame.collect()]
        finally:
            session.catalog.dropTempView("repsight_spread")
    assert "RoundRobinPartitioning(3)" in plan
    assert "Window" not in plan and "SinglePartition" not in plan
    assert len(numbers) == store.count("message_recipients") == len(set(numbers))
    # The partition's index is the upper 31 bits of each number: all three numbered their own rows.
    assert {number >> 33 for number in numbers} == {0, 1, 2}


def test_metrics_replace_the_previous_run(edge_store: tuple[Store, Config]) -> None:
    store, config = edge_store
    first = engine_metrics(store, config)
    second = engine_metrics(store, config)
    for mine, theirs in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)


@pytest.mark.parametrize("version", [2, 3, 4])
def test_a_workspace_stored_before_the_engagement_columns_gets_them_and_equals_the_oracle(tmp_path: Path, version: int) -> None:
    import duckdb

    weekly = ("customer_accounts", "customer_contacts", "customer_meetings")
    period_only = ("accounts_touched", "contacts_per_account", "account_cadence")
    replies_and_book = ("customer_reply_hours", "owned_accounts", "owned_accounts_touched_pct")
    config = edge_case_config(tmp_path)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in edge_case_tables().items():
            store.append(name, table)
    # The metric tables as that version left them: the same columns, less the new ones at the end.
    added_since = {2: (*weekly, *period_only, *replies_and_book), 3: (*period_only, *replies_and_book), 4: replies_and_book}
    dropped = {
        "person_week": (*(weekly if version == 2 else ()), *VIVA_ONLY),
        "person_period": (*added_since[version], *VIVA_ONLY),
        "account_domains": ("owner",) if version < 5 else (),
    }
    with duckdb.connect(str(config.database_path)) as db:
        for table, columns in dropped.items():
            for column in columns:
                db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        db.execute("DROP TABLE account_touches")
        db.execute("DROP TABLE week_ties")
    with Store.open(config, key=TEST_KEY) as store:
        assert list(store.table("person_period").columns)[-11 - len(VIVA_ONLY) :] == [
            "network_prominence",
            "network_brokerage",
            *weekly,
            *period_only,
            *replies_and_book,
            *VIVA_ONLY,
        ]
        weeks, periods = engine_metrics(store, config)
        oracle_weeks, oracle_periods = oracle_metrics(stored_tables(store), config)
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert_same(periods, oracle_periods, ["person", "period"])
    assert weeks["customer_contacts"].max() >= 2
    assert periods["accounts_touched"].max() >= 2 and 0 < periods["account_cadence"].max() <= 1
    # The owners went with the dropped column: no book coverage for anyone, until accounts.csv is loaded again.
    assert periods["owned_accounts"].isna().all() and periods["customer_reply_hours"].notna().sum() == 2


def test_an_empty_workspace_is_a_clear_error(store: Store, workspace: Config) -> None:
    with pytest.raises(MetricsError, match="no messages or meetings are stored yet"):
        compute_metrics(store, workspace)


def test_spark_staging_uses_a_new_folder_and_deletes_only_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with _staging_folder(tmp_path) as folder:
        assert folder.parent == tmp_path and folder.name.startswith("repsight-spark-")
        (folder / "people.parquet").write_bytes(b"staged")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_spark_staging_creates_a_missing_folder(tmp_path: Path) -> None:
    with _staging_folder(tmp_path / "a" / "b") as folder:
        assert folder.is_dir() and folder.parent == tmp_path / "a" / "b"
    assert list((tmp_path / "a" / "b").iterdir()) == []


def test_staging_a_table_to_a_path_with_an_apostrophe(store: Store, tmp_path: Path) -> None:
    builder = OrgBuilder()
    builder.person("ana")
    store.append("people", builder.tables()["people"])
    path = tmp_path / "o'brien" / "people.parquet"
    path.parent.mkdir()
    store.write_parquet("people", path)
    assert pq.read_table(path)["person"].to_pylist() == ["ana"]


def org_before_1970() -> OrgBuilder:
    """A company in New York with events around the epoch (negative epoch seconds), hire and leave dates in 1969."""
    o = OrgBuilder(timezone="America/New_York")
    o.person("ana")
    o.person("bob", hire_date=date(1969, 12, 17))
    o.person("cid", leave_date=date(1969, 12, 24))
    o.message("1969-12-16 09:00", "ana", ["bob", "cid"])
    o.message("1969-12-26 12:00", "ana", ["cid"])
    o.message("1969-12-28 23:30", "ana", ["bob"])
    o.message("1970-01-01 00:00", "ana", ["bob", "cid"])
    o.meeting("1969-12-23 07:00", 120, "ana", ["bob"])
    o.meeting("1969-12-31 23:00", 120, "ana", ["bob"])  # across the epoch
    return o


def on_spark_staged_in(config: Config, staging: str) -> Config:
    engine = EngineConfig(backend="pyspark", spark_master="local[2]", spark_staging=staging)
    return config.model_copy(update={"engine": engine})


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_staged_in_the_users_own_folder_leaves_it_alone(tmp_path: Path) -> None:
    folder = tmp_path / "it's mine"  # an apostrophe in the path, too
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    config = on_spark_staged_in(make_config(folder, timezone="America/New_York"), ".")
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in org_before_1970().tables().items():
            store.append(name, table)
        compute_metrics(store, config)
        assert store.count("person_week") == 8
    assert (folder / "notes.txt").read_text() == "mine"
    assert not [p.name for p in folder.iterdir() if p.name.startswith("repsight-spark-")]


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_duckdb_and_spark_agree_before_1970(tmp_path: Path) -> None:
    config = make_config(tmp_path, timezone="America/New_York")
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in org_before_1970().tables().items():
            store.append(name, table)
        duck = engine_metrics(store, config)
        spark = engine_metrics(store, on_spark_staged_in(config, ".repsight-spark"))
        oracle_weeks, _ = oracle_metrics(stored_tables(store), config)
    for mine, theirs in zip(duck, spark, strict=True):
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    assert_same(spark[0], oracle_weeks, ["person", "week"])
    weeks = sorted({pd.Timestamp(week).date().isoformat() for week in spark[0]["week"]})
    assert weeks == ["1969-12-15", "1969-12-22", "1969-12-29"]


def test_a_meeting_too_long_to_count_does_not_stretch_the_span(tmp_path: Path) -> None:
    o = OrgBuilder()
    o.person("ana")
    o.person("bob")
    o.meeting("2025-01-07 09:00", 60, "ana", ["bob"])
    o.meeting("2025-01-08 09:00", 60 * 24 * 366 * 50, "ana", ["bob"])  # ends 50 years later: not counted
    config = make_config(tmp_path)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in o.tables().items():
            store.append(name, table)
        weeks, _ = engine_metrics(store, config)
    ana = weeks[weeks["person"] == "ana"]
    assert (len(ana), ana["meetings"].tolist(), ana["meeting_hours"].tolist()) == (1, [1], [1.0])


def test_equal_meetings_stored_out_of_order_make_one_island() -> None:
    # `_islands` reads the "latest earlier end" of a first window from a
    # stored table whose row order is not kept. Of two meetings with the same
    # start and end, the one that opens an island ([20, 30) after [0, 10))
    # may come after its twin; it must still open the island, or [20, 30)
    # would be counted in two islands and its after-hours time twice.
    import ibis

    from repsight.metrics.weekly import _islands

    reached = ibis.memtable(
        {
            "party": [1, 1, 1],
            "week_start_day": [7, 7, 7],
            "category": [0, 0, 0],
            "_key": [99, 99, 99],
            "start": [0, 20, 20],
            "end": [10, 30, 30],
            "reach": [None, 30, 10],  # the twin that opens has reach 10
        }
    )
    islands = ibis.duckdb.connect().to_pyarrow(_islands(reached).order_by("start"))
    assert list(zip(islands["start"].to_pylist(), islands["end"].to_pylist(), strict=True)) == [(0, 10), (20, 30)]


def test_a_reply_whose_parent_is_in_another_mailboxs_export(tmp_path: Path) -> None:
    """The customer's message is only in ben's export, ana's answer only in hers: ingested, they make a reply."""
    from repsight.ingest import run_ingest
    from repsight.workspace import init_workspace
    from tests.support import roster_rows, write_csv

    config = init_workspace(tmp_path / "ws", domains=["acme.example"], mail=["mail/*.mbox"])
    write_csv(
        config.root / "roster.csv", ["email", "name", "manager_email", "org", "level", "function"], [r[:6] for r in roster_rows()]
    )
    write_csv(
        config.root / "accounts.csv",
        ["account_id", "name", "domains", "type", "owner_email"],
        [["A1", "Northwind", "northwind.example", "customer", "ana@acme.example"]],
    )
    (config.root / "mail").mkdir()
    (config.root / "mail" / "ben.mbox").write_text(
        "From kim@northwind.example Tue Jan  7 09:00:00 2025\n"
        "Message-ID: <q1@northwind.example>\n"
        "Date: Tue, 07 Jan 2025 09:00:00 +0000\n"
        "From: Kim <kim@northwind.example>\n"
        "To: ana@acme.example, ben@acme.example\n\n"
        "A question.\n"
    )
    (config.root / "mail" / "ana.mbox").write_text(
        "From ana@acme.example Tue Jan  7 11:30:00 2025\n"
        "Message-ID: <a1@acme.example>\n"
        "In-Reply-To: <q1@northwind.example>\n"
        "References: <q1@northwind.example>\n"
        "Date: Tue, 07 Jan 2025 12:30:00 +0100\n"
        "From: ana@acme.example\n"
        "To: kim@northwind.example\n\n"
        "An answer, two and a half hours later.\n"
    )
    assert run_ingest(config, files=[("roster", config.root / "roster.csv"), ("accounts", config.root / "accounts.csv")]).ok
    assert run_ingest(config, files=[("mail", config.root / "mail" / "ben.mbox")]).ok
    assert run_ingest(config, files=[("mail", config.root / "mail" / "ana.mbox")]).ok
    with Store.open(config) as store:
        compute_metrics(store, config)
        periods = store.table("person_period").to_pandas()
        touches = store.table("account_touches").to_pandas()
    replies = periods.set_index("person")["customer_reply_hours"]
    ana, ben = (pseudonym(read_key(config.key_path), f"{name}@acme.example") for name in ("ana", "ben"))
    assert replies[ana] == 2.5
    assert np.isnan(replies[ben])  # received it, never answered
    assert periods.set_index("person").loc[ana, ["owned_accounts", "owned_accounts_touched_pct"]].tolist() == [1.0, 100.0]
    # The rep's list: the account, its one contact, one week, the last interaction (UTC).
    last = {ana: pd.Timestamp("2025-01-07 11:30"), ben: pd.Timestamp("2025-01-07 09:00")}
    assert sorted(touches.to_dict("records"), key=lambda r: str(r["person"])) == sorted(
        (
            {"person": p, "period": "2025Q1", "account_id": "A1", "contacts": 1, "weeks": 1, "last_touch": t}
            for p, t in last.items()
        ),
        key=lambda r: str(r["person"]),
    )
