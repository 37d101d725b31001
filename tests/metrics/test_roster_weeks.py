"""Each week's metrics read the roster in force that week (docs/metrics.md, *Roster history*).

A person's manager, level (senior leader or not) and org follow `people_history`:
a week takes the row in force on its Sunday, a week before a person's first
effective date their first row. The oracle (`oracle_metrics_in_force`) runs
whole on each roster in force and takes each week from its own roster's run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from repsight.config import Config
from repsight.metrics.events import roster_weeks_table
from repsight.metrics.weeks import EPOCH
from repsight.schema import TABLES
from repsight.store import Store
from tests.metrics.test_engine import BACKENDS, assert_same, engine_metrics, on_backend
from tests.support import TEST_KEY
from tests.support.metrics_oracle import oracle_metrics, oracle_metrics_in_force
from tests.support.metrics_org import OrgBuilder, edge_case_config, edge_case_tables, make_config

ALWAYS = date(1, 1, 1)
Changes = dict[str, list[tuple[date, dict[str, Any]]]]


def day(text: str) -> int:
    return (date.fromisoformat(text) - EPOCH).days


def with_history(tables: dict[str, pa.Table], changes: Changes) -> tuple[dict[str, pa.Table], pa.Table]:
    """Return the tables with `people` as each person's latest row, and `people_history`.

    A person's builder row is in force since always unless their first change
    says otherwise (a change dated ALWAYS replaces it); each later change
    applies its values on top of the row before it.
    """
    people = tables["people"].to_pylist()
    history = []
    for row in people:
        versions = [(ALWAYS, dict(row))]
        for when, values in changes.get(row["person"], []):
            updated = {**versions[-1][1], **values}
            versions = [(when, updated)] if when == ALWAYS or versions[0][0] > when else [*versions, (when, updated)]
        history += [{"person": row["person"], "effective_date": when, **values} for when, values in versions]
    schema = pa.schema(
        [
            (name, tables["people"].schema.field(name).type if name != "effective_date" else pa.date32())
            for name in TABLES["people_history"]
        ]
    )
    latest = {row["person"]: row for row in sorted(history, key=lambda r: r["effective_date"])}
    people_schema = tables["people"].schema
    tables = {
        **tables,
        "people": pa.Table.from_pylist(
            [{k: v for k, v in r.items() if k != "effective_date"} for r in latest.values()], people_schema
        ),
    }
    return tables, pa.Table.from_pylist(history, schema)


def test_a_week_takes_the_row_in_force_on_its_sunday_and_an_early_week_the_first_row() -> None:
    history = pa.table(
        {
            "person": ["ana", "ana", "bob", "cid", "cid", "dan", "dan"],
            "effective_date": pa.array(
                [ALWAYS, date(2025, 1, 15), ALWAYS, ALWAYS, date(2025, 1, 10), date(2025, 1, 20), date(2025, 2, 3)], pa.date32()
            ),
            "manager": ["bob", "cid", None, "bob", "bob", "bob", "bob"],
            "level": [3, 3, 9, 5, 5, 5, 8],
            "org": ["East", "East", "HQ", "West", "West", None, None],
        }
    )
    weeks = roster_weeks_table(history, day("2025-01-06"), day("2025-02-03"))
    assert weeks is not None
    rows = [(r["person"], str(EPOCH + timedelta(days=r["week_start_day"])), r["manager"], r["level"]) for r in weeks.to_pylist()]
    # bob has one row and cid's rows agree on the facts (only its effective date differs): neither is listed.
    assert rows == [
        ("ana", "2025-01-06", "bob", 3),  # its Sunday, 12 January, is before the 15th
        ("ana", "2025-01-13", "cid", 3),  # its Sunday, the 19th, is after
        ("ana", "2025-01-20", "cid", 3),
        ("ana", "2025-01-27", "cid", 3),
        ("ana", "2025-02-03", "cid", 3),
        ("dan", "2025-01-06", "bob", 5),  # before his first row: that first row
        ("dan", "2025-01-13", "bob", 5),
        ("dan", "2025-01-20", "bob", 5),
        ("dan", "2025-01-27", "bob", 5),  # its Sunday is 2 February, the day before the change
        ("dan", "2025-02-03", "bob", 8),
    ]
    assert set(weeks.column("org").to_pylist()) == {"East", None}


def test_history_that_changes_no_fact_the_metrics_read_gives_no_table() -> None:
    history = pa.table(
        {
            "person": ["ana", "ana", "bob"],
            "effective_date": pa.array([ALWAYS, date(2025, 3, 1), ALWAYS], pa.date32()),
            "manager": ["bob", "bob", None],
            "level": [3, 3, 9],
            "org": ["East", "East", "HQ"],
        }
    )
    assert roster_weeks_table(history, day("2025-01-06"), day("2025-03-31")) is None


@pytest.fixture(params=["oracle", "engine"])
def implementation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def metrics_with_history(
    tables: dict[str, pa.Table], history: pa.Table, config: Config, implementation: str, backend: str = "duckdb"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (person_week, person_period) of the engine on `backend`, or of the oracle."""
    if implementation == "oracle":
        return oracle_metrics_in_force(tables, history.to_pandas(), config)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in tables.items():
            store.append(name, table)
        store.append("people_history", history)
        return engine_metrics(store, on_backend(config, backend))


def test_manager_and_senior_time_follow_the_roster_of_each_week(tmp_path: Path, implementation: str) -> None:
    b = OrgBuilder()
    for name in ("bob", "cid"):
        b.person(name, level=5)
    b.person("dan", level=3)
    b.person("ana", manager="bob")
    b.meeting("2025-01-07 10:00", 30, "ana", ["bob"])  # bob is ana's manager this week
    b.meeting("2025-01-14 10:00", 60, "ana", ["bob"])  # from the 15th cid is: this week's Sunday is after it
    b.meeting("2025-01-15 10:00", 60, "ana", ["cid"])
    b.meeting("2025-01-16 10:00", 60, "ana", ["dan"])  # dan is a senior leader from the 20th only
    b.meeting("2025-01-21 10:00", 60, "ana", ["dan"])
    b.message("2025-01-17 09:00", "ana", ["dan"])  # 5 minutes of email, with a senior leader only in the later week
    b.message("2025-01-22 09:00", "ana", ["dan"])
    tables, history = with_history(
        b.tables(), {"ana": [(date(2025, 1, 15), {"manager": "cid"})], "dan": [(date(2025, 1, 20), {"level": 8})]}
    )
    weeks, _ = metrics_with_history(tables, history, make_config(tmp_path), implementation)
    ana = weeks[weeks["person"] == "ana"].set_index(weeks["week"].astype(str)[weeks["person"] == "ana"])
    assert ana["manager_1on1_hours"].to_dict() == {"2025-01-06": 0.5, "2025-01-13": 1.0, "2025-01-20": 0.0}
    assert ana["senior_leader_hours"].to_dict() == {"2025-01-06": 0.0, "2025-01-13": 0.0, "2025-01-20": 1 + 5 / 60}


# The edge-case company's org chart over its weeks (2025-02-17 to 2025-04-14): a senior leader stops
# being one, a peer becomes one, reps change manager and org, a manager is gone, a person's rows all start late.
EDGE_CASE_CHANGES: Changes = {
    "vic": [(date(2025, 3, 12), {"level": 4})],
    "hal": [(date(2025, 3, 1), {"level": 8})],
    "ana": [(date(2025, 3, 5), {"manager": "mia", "org": "Sales West"})],
    "ben": [(date(2025, 4, 1), {"org": "Solutions"})],
    "kim": [(date(2025, 2, 25), {"manager": None})],
    "dan": [(date(2025, 3, 1), {"manager": "max"}), (date(2025, 3, 20), {"manager": "mia", "level": 7})],
}


@pytest.fixture
def edge_history() -> Iterator[tuple[dict[str, pa.Table], pa.Table]]:
    yield with_history(edge_case_tables(), EDGE_CASE_CHANGES)


@pytest.mark.parametrize("backend", BACKENDS)
def test_engine_equals_the_oracle_on_the_edge_case_company_with_a_changing_org_chart(
    edge_history: tuple[dict[str, pa.Table], pa.Table], tmp_path: Path, backend: str
) -> None:
    tables, history = edge_history
    config = edge_case_config(tmp_path)
    weeks, periods = metrics_with_history(tables, history, config, "engine", backend)
    oracle_weeks, oracle_periods = oracle_metrics_in_force(tables, history.to_pandas(), config)
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert_same(periods, oracle_periods, ["person", "period"])
    # The history changes what is measured: against the latest roster alone, these differ.
    latest_weeks, _ = oracle_metrics(tables, config)
    changed = {
        column
        for column in ("manager_hours", "manager_1on1_hours", "senior_leader_hours", "org_span")
        if not weeks.sort_values(["person", "week"])[column]
        .reset_index(drop=True)
        .equals(latest_weeks[column].reset_index(drop=True))
    }
    assert changed == {"manager_hours", "manager_1on1_hours", "senior_leader_hours", "org_span"}


def test_the_stored_history_of_an_unchanged_roster_leaves_the_metrics_as_they_were(tmp_path: Path) -> None:
    tables, history = with_history(edge_case_tables(), {"ana": [(date(2025, 3, 5), {"region": "EMEA"})]})
    config = edge_case_config(tmp_path)
    weeks, periods = metrics_with_history(tables, history, config, "engine")
    oracle_weeks, oracle_periods = oracle_metrics(tables, config)
    assert_same(weeks, oracle_weeks, ["person", "week"])
    assert_same(periods, oracle_periods, ["person", "period"])
