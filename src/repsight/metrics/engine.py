"""Runs the metric expressions on the configured backend and stores the two tables.

The workspace store is always DuckDB. With `engine.backend = "duckdb"` the
expressions run in it directly; with `"pyspark"` the input tables are staged
as Parquet, Spark runs the same expressions, and the results come back to
the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from repsight.errors import MetricsError
from repsight.lake import EVENT_TABLES
from repsight.metrics.centrality import period_scores
from repsight.metrics.engagement import (
    account_touches,
    customer_engagement,
    customer_pairs,
    customer_replies,
    owned_accounts,
    period_engagement,
    reply_hours,
)
from repsight.metrics.events import (
    DATED_FACTS,
    Inputs,
    counted_meetings,
    counted_messages,
    encode,
    fixed_classes_table,
    roster_weeks_table,
)
from repsight.metrics.incremental import Plan, plan_run, recent_tables, save_state, window_start
from repsight.metrics.network import period_edges, shifts_table, ties, week_ties, weekly_network
from repsight.metrics.weekly import activity_weeks, person_period, person_week, person_weeks, seen_weeks, weekly_counts
from repsight.metrics.weeks import EPOCH, calendar_table, monday_of, period_grain, valid_zone, zone_days_table
from repsight.schema import TABLES

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    from rich.console import Group

    from repsight.config import Config
    from repsight.store import Store

__all__ = ["INPUT_TABLES", "MetricsReport", "compute_metrics", "run_metrics"]

INPUT_TABLES = ("people", "account_domains", "kpis", "messages", "message_recipients", "meetings", "meeting_attendees")


@dataclass(frozen=True)
class MetricsReport:
    """What `compute_metrics` measured and stored."""

    backend: str
    grain: str
    first_week: date
    last_week: date
    people: int
    person_weeks: int
    person_periods: int
    periods: list[str]
    seconds: float
    estimated_betweenness: dict[str, int] = field(default_factory=dict)
    """period → people in its graph, where betweenness was estimated from samples."""
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds each step took: events, network, tables, graph, store."""
    headline: list[dict[str, Any]] | None = None
    """The headline behaviours per attainment quartile (`headline_by_quartile` rows), where `run_metrics` computed them."""
    min_group_size: int = 0
    """The minimum group size the headline rows were suppressed at (a quartile below it shows no values)."""
    since: date | None = None
    """The first week recomputed (an incremental run, `metrics.incremental`); None: every week, or none."""
    why: str = ""
    """Why the run recomputed what it did."""
    stored_periods: list[str] = field(default_factory=list)
    """Where nothing was recomputed: the periods stored."""

    def __rich__(self) -> Group:
        """Return what was measured, then the headline quartiles where computed, for a terminal (`repsight.metrics.render`)."""
        from repsight.metrics.render import metrics_view

        return metrics_view(self)


class _Compute:
    """One backend the expressions run on, with the stored tables it reads."""

    def __init__(self, backend: ibis.BaseBackend, tables: dict[str, ir.Table]) -> None:
        self.backend: Any = backend
        self.tables = tables
        self._cached: list[ir.Table] = []

    def cache(self, expr: ir.Table) -> ir.Table:
        """Return `expr` computed once and kept (a temporary table) until `release`."""
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def release(self) -> None:
        """Drop every table `cache` kept, while the connection is still open."""
        while self._cached:
            self._cached.pop().release()

    def small_table(self, name: str, rows: pa.Table) -> ir.Table:
        """Return `rows` (a small table built here) as a table of the backend."""
        import ibis

        return ibis.memtable(rows)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        result: pa.Table = self.backend.to_pyarrow(expr)
        return result

    def row_id(self, table: ir.Table) -> ir.IntegerValue:
        """Return a number unique to each row of the stored `table`, in no particular order (`events.Inputs.row_id`)."""
        # The stored row's own id, not a window: an unordered row_number is
        # a streaming window, which DuckDB does not run in parallel. A table
        # of some rows only carries it as `_row` (`incremental.recent_tables`).
        return table["_row"] if "_row" in table.columns else table.rowid()


def _spark_row_id() -> ir.IntegerValue:
    """Return Spark's `monotonically_increasing_id()`: unique per row, numbered in each partition at once."""
    import ibis

    def monotonically_increasing_id() -> None:
        """Spark's built-in function of that name: no arguments, a 64-bit integer."""

    # Ibis's decorator is untyped: called as a function, its result is typed here.
    function: Callable[[], ir.IntegerValue] = ibis.udf.scalar.builtin(monotonically_increasing_id, signature=((), "int64"))
    return function()


class _SparkCompute(_Compute):
    """Spark only: intermediates are checkpointed, so that each query's plan starts from them.

    Spark's own cache keeps a view's whole lineage; plans built on several
    cached views grow until printing them exhausts the driver's memory. The
    SQL handed to Spark's session is what Ibis compiles from an expression;
    none is written here.
    """

    def __init__(self, backend: ibis.BaseBackend, tables: dict[str, ir.Table], staging: Path) -> None:
        super().__init__(backend, tables)
        self._views: list[tuple[str, Any]] = []
        self._staging = staging

    def small_table(self, name: str, rows: pa.Table) -> ir.Table:
        # Through Parquet, as the stored tables: a named table, seen by cached
        # intermediates too. (An Ibis memtable reaches Spark through pandas,
        # where a null text becomes "NaN" and an integer column with a null
        # loses its values.)
        import pyarrow.parquet as pq

        path = self._staging / f"small_{name}.parquet"
        pq.write_table(rows, path)
        return self.backend.read_parquet(str(path), table_name=f"repsight_{name}")

    def cache(self, expr: ir.Table) -> ir.Table:
        name = f"repsight_step_{len(self._views)}"
        frame = self.backend._session.sql(self.backend.compile(expr)).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._views.append((name, frame))
        return self.backend.table(name)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        # Spark's own Arrow collection. Ibis's `to_pyarrow` goes through
        # `toPandas()` without Arrow: a Python object per value on the driver,
        # which at 30,000 people over 18 months took the machine past its 24 GiB.
        from ibis.formats.pyarrow import PyArrowData

        table = expr.as_table()
        rows = self.backend._session.sql(self.backend.compile(table)).toArrow()
        result: pa.Table = PyArrowData.convert_table(rows, table.schema())
        return result

    def row_id(self, table: ir.Table) -> ir.IntegerValue:
        # Spark runs a window without an order (ROW_NUMBER() OVER (ORDER BY
        # NULL)) in one partition, on one core: its own row ids are numbered
        # in every partition at once (partition index in the upper 31 bits).
        return _spark_row_id()

    def release(self) -> None:
        while self._views:
            name, frame = self._views.pop()
            self.backend._session.catalog.dropTempView(name)
            frame.unpersist()


def _input_tables(store: Store, config: Config, since: int | None, *, row_ids: bool) -> dict[str, ir.Table]:
    """Return the stored tables the metrics read: all their rows, or (from week `since`) the events that run reads."""
    tables = {name: store.table(name) for name in INPUT_TABLES}
    return tables if since is None else recent_tables(tables, since, config, row_ids=row_ids)


@contextmanager
def _duckdb(store: Store, config: Config, since: int | None) -> Iterator[_Compute]:
    # DuckDB-only: the expressions run in place, on the store's own connection.
    compute = _Compute(store.backend, _input_tables(store, config, since, row_ids=True))
    try:
        yield compute
    finally:
        compute.release()


@contextmanager
def _pyspark(store: Store, config: Config, since: int | None) -> Iterator[_Compute]:
    import ibis

    from repsight.lake.session import spark_session

    with spark_session(config) as (session, staging):
        backend = ibis.pyspark.connect(session)
        lake = _lake_tables(backend, store, config, since)
        tables = dict(lake)
        # The workspace's tables (the events too, without a lake), staged as Parquet for the executors;
        # an incremental run stages only the rows it reads.
        if since is None or lake:
            stored = {name: store.table(name) for name in INPUT_TABLES if name not in lake}
        else:
            stored = _input_tables(store, config, since, row_ids=False)
        for name, rows in stored.items():
            path = staging / f"{name}.parquet"
            store.write_parquet(name, path, None if since is None or name not in EVENT_TABLES else rows)
            tables[name] = backend.read_parquet(str(path), table_name=f"repsight_{name}")
        if lake and since is not None:
            tables = recent_tables(tables, since, config, row_ids=False)
        compute = _SparkCompute(backend, tables, staging)
        try:
            yield compute
        finally:
            compute.release()


def _lake_tables(backend: Any, store: Store, config: Config, since: int | None) -> dict[str, ir.Table]:
    """Return the event tables the lake holds (`repsight.lake`), read by Spark where they are; none without a lake.

    An incremental run reads only the week folders of its window (`incremental.window_start`).
    """
    if store.lake is None:
        return {}
    from repsight.lake.rewrite import holds_files

    tables = {}
    for name in EVENT_TABLES:
        path = store.lake.spark_path(name)
        if holds_files(backend._session, path):
            table = backend.read_parquet(path, table_name=f"repsight_lake_{name}")
            if since is not None:  # an event's folder is the Monday of its UTC day, as is a participant's
                first = window_start(since, config).date()
                table = table.filter(table.week >= first - timedelta(days=first.weekday()))
            tables[name] = table.select(*TABLES[name])
    return tables


def _span(store: Store) -> tuple[int, int]:
    """Return the first and last UTC epoch day on which a stored message was sent or a stored meeting starts."""
    # Starts only: they alone are turned into local time and weeks (a meeting's
    # end is its start plus its length), and a meeting too long to count may
    # end decades later without being a broken date.
    messages, meetings = store.table("messages"), store.table("meetings")
    ends = [
        store.to_arrow(messages.aggregate(first=messages.sent_at.min(), last=messages.sent_at.max())),
        store.to_arrow(meetings.aggregate(first=meetings.start_at.min(), last=meetings.start_at.max())),
    ]
    # Stored times are naive UTC: a moment's epoch day is its date's distance from 1970-01-01.
    days = [(moment.date() - EPOCH).days for row in ends for moment in row.to_pylist()[0].values() if moment is not None]
    if not days:
        raise MetricsError("no messages or meetings are stored yet; load some with `repsight ingest`")
    return min(days), max(days)


@dataclass(frozen=True)
class _Weeks:
    """The days and weeks a run covers, and its periods."""

    first_day: int
    last_day: int
    first_week: int
    last_week: int
    grain: str
    calendar: pa.Table


def _weeks(store: Store, config: Config) -> _Weeks:
    first_day, last_day = _span(store)
    # A week starts up to a day off its UTC day; one day either side covers every zone.
    first_week, last_week = monday_of(first_day - 1), monday_of(last_day + 1)
    kpi_periods = store.to_arrow(store.table("kpis").select("period").distinct())["period"].to_pylist()
    grain = period_grain(config.metrics.period, kpi_periods)
    return _Weeks(first_day, last_day, first_week, last_week, grain, calendar_table(first_week, last_week, grain))


def _inputs(compute: _Compute, store: Store, config: Config, weeks: _Weeks) -> Inputs:
    first_day, last_day, first_week, last_week = weeks.first_day, weeks.last_day, weeks.first_week, weeks.last_week
    roster = store.to_arrow(store.table("people").select("person", "timezone"))
    company = config.company.timezone
    given = roster["timezone"].to_pylist()
    zones = [zone if valid_zone(zone) else company for zone in given]
    person_zones = pa.table({"person": roster["person"], "zone": pa.array(zones, pa.string())})
    t = compute.tables
    roster_weeks = _roster_weeks(store, first_week, last_week)
    inputs = Inputs(
        people=t["people"],
        account_domains=t["account_domains"],
        messages=t["messages"],
        message_recipients=t["message_recipients"],
        meetings=t["meetings"],
        meeting_attendees=t["meeting_attendees"],
        zone_days=compute.small_table("zone_days", zone_days_table(sorted({company, *zones}), first_day - 1, last_day + 1)),
        calendar=compute.small_table("calendar", weeks.calendar),
        person_zones=compute.small_table("person_zones", person_zones),
        fixed_classes=compute.small_table("fixed_classes", fixed_classes_table(config)),
        network_shifts=compute.small_table("network_shifts", shifts_table(config)),
        roster_weeks=None if roster_weeks is None else compute.small_table("roster_weeks", roster_weeks),
        keep=compute.cache,
        row_id=compute.row_id,
    )
    return inputs


def _roster_weeks(store: Store, first_week: int, last_week: int) -> pa.Table | None:
    """Return `events.roster_weeks_table` of the stored roster history, or None where it has none (a workspace before it)."""
    if not store.has_table("people_history"):
        return None
    history = store.table("people_history").select("person", "effective_date", *DATED_FACTS)
    return roster_weeks_table(store.to_arrow(history), first_week, last_week)


def _has_owners(store: Store) -> bool:
    """Return whether any stored account has an owner (accounts.csv's optional `owner_email`): book coverage is measured only then."""
    domains = store.table("account_domains")
    return bool(store.to_arrow(domains.aggregate(n=domains.owner.count()))["n"][0].as_py())


def _owned_counts(owned: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `_owner` (a pseudonym), `owned_accounts`: how many accounts each roster person owns (`engagement.owned_accounts`)."""
    counts = owned.group_by("party").aggregate(owned_accounts=owned.count())
    names = parties.select(_name_party="party", _owner="address")
    counts = counts.join(names, counts.party == names._name_party)
    return counts.select("_owner", "owned_accounts")


def _touch_rows(touches: ir.Table, parties: ir.Table) -> ir.Table:
    """Return the `account_touches` table from `engagement.account_touches`, with pseudonyms instead of numbers.

    `last_touch` is still an epoch second here: `_as_timestamps` turns it into the stored timestamp.
    """
    names = parties.select(_name_party="party", person="address")
    rows = touches.join(names, touches.party == names._name_party)
    return rows.select(
        "person",
        "period",
        account_id=rows.account,
        contacts=rows.contacts.cast("int64"),
        weeks=rows.weeks.cast("int64"),
        last_touch=rows.last_second.cast("int64"),
    )


def _as_timestamps(rows: pa.Table, column: str) -> pa.Table:
    """Return `rows` with the epoch seconds of `column` as naive UTC timestamps, as the store keeps times (the same on every engine)."""
    seconds = rows[column].cast(pa.int64()).cast(pa.timestamp("s")).cast(pa.timestamp("us"))
    return rows.set_column(rows.schema.get_field_index(column), column, seconds)


def compute_metrics(store: Store, config: Config, *, full: bool = False) -> MetricsReport:
    """Compute `person_week` and `person_period` from the stored events and store them.

    Only the weeks the events loaded since the last run can change are
    recomputed, with the values a full recompute gives (`incremental`);
    `full` recomputes every week. A workspace of a Viva Insights person
    query has its weekly metrics already: `metrics.viva` builds the tables from them.
    """
    from repsight.metrics.viva import compute_viva_metrics, has_viva

    report = compute_viva_metrics(store, config) if has_viva(store) else _compute_event_metrics(store, config, full=full)
    # When the metrics last changed: a validation older than this no longer describes them (`repsight analyze` warns).
    measured_at = datetime.now(UTC).replace(tzinfo=None).isoformat()
    store.upsert("workspace", pa.table({"name": ["measured_at"], "value": [measured_at]}))
    return report


def _compute_event_metrics(store: Store, config: Config, *, full: bool = False) -> MetricsReport:
    """Compute `person_week` and `person_period` from the stored mail and calendar events (`compute_metrics`).

    Only the weeks that the events loaded since the last run can change are
    recomputed (`incremental`), unless `full`.
    """
    started = time.perf_counter()
    steps: dict[str, float] = {}
    clock = [started]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = now - clock[0]
        clock[0] = now

    backend = config.engine.backend
    weeks = _weeks(store, config)
    plan = plan_run(store, config, weeks.grain, weeks.calendar, full=full)
    if plan.nothing_new:
        return _unchanged(store, backend, weeks, plan, time.perf_counter() - started)
    since = plan.since
    runner = _pyspark(store, config, since) if backend == "pyspark" else _duckdb(store, config, since)
    with runner as compute:
        inputs = _inputs(compute, store, config, weeks)
        encoded = encode(inputs, config)
        if plan.spans is None:
            seen = compute.cache(seen_weeks(encoded))
            spans_rows = compute.to_arrow(seen.order_by("person"))
        else:
            spans_rows = plan.spans
            seen = compute.small_table("seen_weeks", spans_rows)
        spans = compute.cache(activity_weeks(inputs, encoded, seen, since))
        mail = counted_messages(encoded, inputs, config)
        meetings = counted_meetings(encoded, inputs, config)
        step("events")
        tie_weeks = compute.cache(ties(mail, meetings, config))
        network = compute.cache(weekly_network(tie_weeks, encoded, inputs.network_shifts, config))
        step("network")
        pairs = compute.cache(customer_pairs(encoded.parties, mail, meetings))
        engagement = customer_engagement(pairs)
        counts = compute.cache(weekly_counts(inputs, config, encoded.parties, mail, meetings, network, engagement, spans))
        grid = person_weeks(inputs.calendar, spans)
        touches = compute.cache(account_touches(pairs, grid))
        owned = compute.cache(owned_accounts(inputs.account_domains, encoded.parties))
        engaged = period_engagement(pairs, touches, owned, grid, encoded.parties)
        replies = reply_hours(customer_replies(encoded, mail, config.metrics.reply_max_days), grid, encoded.parties)
        week_rows = compute.to_arrow(person_week(counts, config).order_by("person", "week"))
        owners = _owned_counts(owned, encoded.parties) if _has_owners(store) else None
        period_rows = compute.to_arrow(person_period(counts, config, engaged, replies, owners).order_by("person", "period"))
        recent = _recent_weeks(tie_weeks, since)
        edges = compute.to_arrow(period_edges(recent, inputs.calendar, encoded.parties).order_by("period", "a", "b"))
        pair_weeks = compute.to_arrow(week_ties(recent, inputs.calendar, encoded.parties).order_by("week", "a", "b"))
        touches = _touch_rows(touches, encoded.parties).order_by("person", "period", "account_id")
        touch_rows = _as_timestamps(compute.to_arrow(touches), "last_touch")
        step("tables")
    scores = period_scores(edges, period_rows.select(["person", "period"]), config.metrics)
    period_rows = period_rows.join(scores.table, ["person", "period"], join_type="left outer").sort_by(
        [("person", "ascending"), ("period", "ascending")]
    )
    step("graph")
    tables = {
        "person_week": week_rows,
        "person_period": period_rows,
        "period_edges": edges,
        "account_touches": touch_rows,
        "week_ties": pair_weeks,
    }
    with store.transaction():
        if since is None:
            for name, rows in tables.items():
                store.replace(name, rows)
        else:
            _replace_from(store, tables, since, weeks.calendar)
        save_state(store, plan, spans_rows)
    step("store")
    return MetricsReport(
        backend=backend,
        grain=weeks.grain,
        first_week=EPOCH + timedelta(days=weeks.first_week),
        last_week=EPOCH + timedelta(days=weeks.last_week),
        people=len(set(week_rows["person"].to_pylist())) if since is None else _stored_people(store),
        person_weeks=week_rows.num_rows,
        person_periods=period_rows.num_rows,
        periods=sorted(set(period_rows["period"].to_pylist())),
        seconds=time.perf_counter() - started,
        estimated_betweenness=scores.estimated,
        steps=steps,
        since=None if since is None else EPOCH + timedelta(days=since),
        why=plan.why,
    )


def _recent_weeks(tie_weeks: ir.Table, since: int | None) -> ir.Table:
    """Return the ties of the weeks from `since` on: those of the periods recomputed (all, without `since`)."""
    return tie_weeks if since is None else tie_weeks.filter(tie_weeks.week_start_day >= since)


def _replace_from(store: Store, tables: dict[str, pa.Table], since: int, calendar: pa.Table) -> None:
    """Replace the stored rows of the weeks from `since` on, and of their periods, with `tables` (an incremental run's)."""
    monday = EPOCH + timedelta(days=since)
    periods = pa.array(
        sorted({p for w, p in zip(*(calendar[c].to_pylist() for c in ("week_start_day", "period")), strict=True) if w >= since}),
        pa.string(),
    )
    for name in ("person_week", "week_ties"):
        store.delete_from(name, "week", monday)
    for name in ("person_period", "period_edges", "account_touches"):
        store.delete_where(name, "period", periods)
    for name, rows in tables.items():
        store.append(name, rows)


def _stored_people(store: Store) -> int:
    week = store.table("person_week")
    return int(store.to_arrow(week.aggregate(n=week.person.nunique()))["n"][0].as_py())


def _unchanged(store: Store, backend: str, weeks: _Weeks, plan: Plan, seconds: float) -> MetricsReport:
    """Return the report of a run that found nothing loaded since the last: the stored tables stand."""
    period = store.table("person_period")
    return MetricsReport(
        backend=backend,
        grain=weeks.grain,
        first_week=EPOCH + timedelta(days=weeks.first_week),
        last_week=EPOCH + timedelta(days=weeks.last_week),
        people=_stored_people(store),
        person_weeks=0,
        person_periods=0,
        periods=[],
        seconds=seconds,
        since=None,
        why=plan.why,
        stored_periods=sorted(store.to_arrow(period.select("period").distinct())["period"].to_pylist()),
    )


def run_metrics(config: Config, *, full: bool = False) -> MetricsReport:
    """Open the workspace of `config`, compute its metrics (every week with `full`) and store them; the report carries the headline quartiles."""
    from dataclasses import replace

    from repsight.metrics.headline import headline_by_quartile
    from repsight.store import Store

    with Store.open(config) as store:
        report = compute_metrics(store, config, full=full)
        headline = headline_by_quartile(store, config).to_pylist()
    return replace(report, headline=headline, min_group_size=config.privacy.min_group_size)
