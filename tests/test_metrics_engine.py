"""The metrics engine against the independent oracle, on DuckDB and on local Spark.

The oracle (tests/metrics_oracle.py, pandas and networkx) is written from
docs/metrics.md without sharing code with the engine. Every metric of every
person and week, and of every person and period, must agree: counts exactly,
hours and percentiles to 1e-9. DuckDB and Spark must give identical tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from conftest import TEST_KEY
from metrics_oracle import oracle_metrics
from metrics_org import EDGE_CASE_ACTIVE, edge_case_config, edge_case_tables
from repsight.config import Config, EngineConfig
from repsight.errors import MetricsError
from repsight.metrics import compute_metrics
from repsight.metrics.engine import INPUT_TABLES
from repsight.store import Store

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
    return store.table("person_week").to_pandas(), store.table("person_period").to_pandas()


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
    with Store.open(config, TEST_KEY) as store:
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


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Config]]:
    """A generated company (60 people, 4 months), read from its CSV exports."""
    from repsight.demo import create_demo_workspace
    from repsight.ingest import ingest
    from repsight.privacy import read_key

    config, _ = create_demo_workspace(tmp_path_factory.mktemp("synthetic") / "demo", people=60, months=4, formats="csv")
    assert ingest(config).ok
    with Store.open(config, read_key(config.key_path)) as store:
        yield store, config


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_equals_oracle_on_a_generated_company(synthetic_store: tuple[Store, Config], backend: str) -> None:
    store, config = synthetic_store
    weeks, periods = engine_metrics(store, on_backend(config, backend))
    oracle_weeks, oracle_periods = oracle_metrics(stored_tables(store), config)
    assert len(weeks) > 1000 and weeks["internal_network_size"].sum() > 0
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert_same(periods, oracle_periods, ["person", "period"])


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_duckdb_and_spark_give_identical_tables(edge_store: tuple[Store, Config]) -> None:
    store, config = edge_store
    duck = engine_metrics(store, on_backend(config, "duckdb"))
    spark = engine_metrics(store, on_backend(config, "pyspark"))
    for mine, theirs in zip(duck, spark, strict=True):
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_metrics_replace_the_previous_run(edge_store: tuple[Store, Config]) -> None:
    store, config = edge_store
    first = engine_metrics(store, config)
    second = engine_metrics(store, config)
    for mine, theirs in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)


def test_an_empty_workspace_is_a_clear_error(store: Store, workspace: Config) -> None:
    with pytest.raises(MetricsError, match="no messages or meetings are stored yet"):
        compute_metrics(store, workspace)
