"""A large synthetic company written straight into a workspace store, for benchmarks.

`repsight.synth.generate` writes export files event by event (minutes for a
few thousand people); `generate_store` skips the files: the same org chart,
skills and KPIs (`build_company`, `quarter_skills` and `_kpis` with the same
seed give the same people and results), then activity.py's weekly behaviour
drawn with numpy for everyone at once (`bulk.events`), appended to the store
a few weeks at a time so that memory stays flat whatever the size. As the
demo's generator does, accounts name their owning rep (`accounts.owner`,
`account_domains.owner`) and some emails answer others (`messages.parent_key`,
`bulk.replies`), so that every customer-engagement metric meets data.

With `--lake`, the event tables are written a second time, as Parquet in
the lake's layout (`OUT_FOLDER/lake/<table>/week=YYYY-MM-DD/`, docs/spark.md,
*The lake*): what Spark reads where a workspace sets `[engine] lake`.

    .venv/bin/python bench/bulk OUT_FOLDER --people 10000 --months 18 --seed 7 [--lake]

It lives beside the benchmarks that use it, not in the package: no user runs it.
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from bulk.events import Columns, Sink, to_arrow, week
from bulk.org import DAY_US, Clock, OrgArrays, build_arrays
from bulk.replies import reply_draws
from repsight.config import Config
from repsight.errors import StoreError
from repsight.privacy import domain_of, pseudonym
from repsight.schema import TABLES
from repsight.sources.kpis import parse_period
from repsight.store import Store
from repsight.synth import DEFAULT_START, _full_quarters, _kpis, _months_later, _partial, _weeks
from repsight.synth.activity import Params, quarter_of, quarter_skills
from repsight.synth.org import MIN_PEOPLE, Company, build_company
from repsight.synth.random import Rng
from repsight.synth.writers import write_json

__all__ = ["EVENT_TABLES", "BulkResult", "generate_store", "main"]

EVENT_TABLES = ("messages", "message_recipients", "meetings", "meeting_attendees")
LOAD_OF = {"people": "roster", "accounts": "accounts", "kpis": "kpis", "messages": "mail", "meetings": "calendar"}
"""The load each table's rows are recorded under (tables with a load_id column)."""
STORE_MEMORY = "64MB"  # DuckDB's cache while generating: the run writes blocks it never reads again
MESSAGES_PER_PERSON_WEEK = 15  # about what activity.py sends; sizes the batches
ROW_GROUP = 122_880  # DuckDB's rows per row group


@dataclass(frozen=True)
class BulkResult:
    """What `generate_store` wrote: rows per table, seconds, and each rep's planted skill by pseudonym."""

    people: int
    reps: int
    accounts: int
    quarters: list[str]
    rows: dict[str, int]
    seconds: float
    skills: dict[str, float]


def generate_store(
    config: Config,
    key: str,
    *,
    people: int = 10_000,
    months: int = 18,
    seed: int = 7,
    start: date = DEFAULT_START,
    params: Params | None = None,
    batch_messages: int = 150_000,
    lake: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> BulkResult:
    """Return what was written after filling the workspace's empty store with a synthetic company.

    Same arguments (and key), same rows. Events are drawn a week or more at
    a time (about `batch_messages` messages) as integer columns, and a
    writer thread turns them into Arrow tables and appends them while the
    next batch is drawn: memory stays flat (about 500 MB at 10,000 people,
    most of it the company's objects, libraries and DuckDB's cache).

    With `lake` (a folder), each batch's events are also written there as
    Parquet in the lake's layout (`repsight.lake`): the same rows, columns
    and types as the store's, in a folder per week (`week=YYYY-MM-DD`, the
    Monday of the event's UTC day; a participant in its event's week), as
    Spark's ingest writes them.

    The store must be empty. Each batch is committed as it is written, so a
    run that fails leaves a partial store: generate into a new workspace.
    """
    if people < MIN_PEOPLE:
        raise ValueError(f"a synthetic company needs at least {MIN_PEOPLE} people")
    if months < 3:
        raise ValueError("a synthetic company needs at least 3 months of data (one quarter)")
    began = time.perf_counter()
    params = params or Params()
    draws = np.random.default_rng(seed)
    end = _months_later(start, months)
    org, names, domains, reference, skills, quarters = _company(people, seed, start, end, params, draws, key)
    rows: dict[str, int] = {}
    with Store.open(config, key=key) as store:
        if any(store.count(t) for t in ("people", *EVENT_TABLES)):
            raise StoreError(f"{config.database_path}: the store already holds data; generate into a new workspace")
        if lake is not None and lake.exists() and any(lake.iterdir()):
            raise StoreError(f"{lake}: the lake folder already holds files; generate into a new workspace")
        # DuckDB would keep the blocks this run writes (and never reads) cached up to
        # [engine] memory_limit; for this connection only, it keeps little (no slower).
        store.set_memory_limit(STORE_MEMORY)
        loads = {kind: _start_load(store, kind) for kind in ("roster", "accounts", "kpis", "mail", "calendar")}
        for name, table in reference.items():
            table = table.append_column("load_id", pa.repeat(loads[LOAD_OF[name]], table.num_rows)) if name in LOAD_OF else table
            with store.transaction():
                store.append(name, table)
            rows[name] = table.num_rows
        del reference
        if progress is not None:
            progress(f"reference tables written ({time.perf_counter() - began:.1f} s)")
        rows.update(
            _write_events(store, org, names, domains, draws, params, seed, start, end, batch_messages, loads, lake, progress)
        )
        for kind, table in (
            ("roster", "people"),
            ("accounts", "accounts"),
            ("kpis", "kpis"),
            ("mail", "messages"),
            ("calendar", "meetings"),
        ):
            n = rows.get(table, 0)
            store.finish_load(loads[kind], rows_read=n, rows_loaded=n, rows_new=n, rows_quarantined=0)
    return BulkResult(
        people=int(org.employees),
        reps=len(org.reps),
        accounts=len(org.contact_start),
        quarters=quarters,
        rows=rows,
        seconds=time.perf_counter() - began,
        skills=skills,
    )


def _company(
    people: int, seed: int, start: date, end: date, params: Params, draws: np.random.Generator, key: str
) -> tuple[OrgArrays, pa.Array, pa.Array, dict[str, pa.Table], dict[str, float], list[str]]:
    """Return the company's arrays, every address's pseudonym and domain, the reference tables, the reps' skills, the quarters.

    The company's Python objects (and the address strings) stay in here: at
    10,000 people they weigh more than a batch of events, and the events
    need the arrays only.
    """
    rng = Rng(seed)
    # The same draws, in the same order, as `generate`: the same people, skills and KPIs.
    company = build_company(people, rng, start, end)
    quarters = _full_quarters(start, end)
    skills = quarter_skills(company, [q for q, _, _ in quarters] + _partial(start, end, quarters), rng, params)
    kpis = _kpis(company, quarters, skills, rng, params)
    org, addresses = build_arrays(company, skills, draws, params)
    # Each address is hashed once, here, and kept in `names` only (no Pseudonymizer cache).
    names = pa.array([pseudonym(key, a) for a in addresses], pa.string())
    domains = pa.array([domain_of(a) for a in addresses], pa.string())
    reference = _reference_tables(company, org, kpis, names)
    truth = {names[i].as_py(): float(company.employees[i].skill or 0.0) for i in org.reps.tolist()}
    return org, names, domains, reference, truth, [q for q, _, _ in quarters]


def _start_load(store: Store, kind: str) -> int:
    load_id = store.next_load_id()
    store.start_load(load_id, f"synth:bulk/{kind}", kind, 0)
    return load_id


def _reference_tables(
    company: Company, org: OrgArrays, kpis: list[tuple[str, str, float, float]], names: pa.Array
) -> dict[str, pa.Table]:
    """Return people, identities, accounts, account_domains and kpis as the loaders store them (load_id aside).

    Accounts carry their owner as the accounts loader stores `owner_email`: the rep's pseudonym.
    """
    staff = company.employees
    employees = names.slice(0, len(staff))
    manager = pa.array(org.manager, mask=org.manager < 0)
    people = pa.table(
        {
            "person": employees,
            "domain": [domain_of(e.email) for e in staff],
            "manager": pc.take(employees, manager),
            "org": [e.org for e in staff],
            "level": pa.array([e.level for e in staff], pa.int64()),
            "function": [e.function for e in staff],
            "region": [e.region for e in staff],
            "segment": [e.segment for e in staff],
            "channel": [e.channel for e in staff],
            "hire_date": pa.array([e.hire_date for e in staff], pa.date32()),
            "leave_date": pa.array([e.leave_date for e in staff], pa.date32()),
            "timezone": [e.timezone for e in staff],
            "attributes": [json.dumps({"title": e.title}, sort_keys=True) for e in staff],
        }
    )
    # The loaders name colleagues only: the staff, and the sales list (an internal address with no name).
    identities = pa.table(
        {
            "person": pa.concat_arrays([employees, names.slice(org.sales_all, 1)]),
            "email": [e.email.lower() for e in staff] + [f"sales-all@{company.domain}"],
            "name": [e.name for e in staff] + [""],
        }
    )
    accounts = company.accounts
    row = {e.email: i for i, e in enumerate(staff)}
    # The CRM owner of a customer or prospect account is its rep; partners and vendors have none.
    owned_by = np.array([row[a.owner] if a.owner is not None else -1 for a in accounts], np.int64)
    owner = pc.take(employees, pa.array(owned_by, mask=owned_by < 0))
    periods = {period: parse_period(period) for period in {p for _, p, _, _ in kpis}}
    return {
        "people": people,
        "identities": identities,
        "accounts": pa.table(
            {
                "account_id": [a.account_id for a in accounts],
                "name": [a.name for a in accounts],
                "type": [a.type for a in accounts],
                "domains": [a.domain for a in accounts],
                "owner": owner,
            }
        ),
        "account_domains": pa.table(
            {
                "domain": [a.domain for a in accounts],
                "account_id": [a.account_id for a in accounts],
                "type": [a.type for a in accounts],
                "owner": owner,
            }
        ),
        "kpis": pa.table(
            {
                "person": employees.take(pa.array([row[email] for email, _, _, _ in kpis], pa.int64())),
                "period": [p for _, p, _, _ in kpis],
                "period_start": pa.array([periods[p][1] for _, p, _, _ in kpis], pa.date32()),
                "period_end": pa.array([periods[p][2] for _, p, _, _ in kpis], pa.date32()),
                "quota": pa.array([q for _, _, q, _ in kpis], pa.float64()),
                "bookings": pa.array([b for _, _, _, b in kpis], pa.float64()),
                "attainment": pa.array([b / q for _, _, q, b in kpis], pa.float64()),
            }
        ),
    }


def _write_events(
    store: Store,
    org: OrgArrays,
    names: pa.Array,
    domains: pa.Array,
    draws: np.random.Generator,
    params: Params,
    seed: int,
    start: date,
    end: date,
    batch_messages: int,
    loads: dict[str, int],
    lake: Path | None,
    progress: Callable[[str], None] | None,
) -> dict[str, int]:
    """Return rows written per event table, after drawing and appending every week's events (and writing them to `lake`).

    Drawing (numpy, this thread) and appending (DuckDB, a writer thread)
    overlap: the next batch is drawn while the last one is stored, and no
    more, so at most two batches are in memory.
    """
    weeks = _weeks(start, end)
    clock = Clock(org.zones, start - timedelta(days=7), end + timedelta(days=14))
    replies = reply_draws(org, seed, weeks[0])
    per_batch = max(1, batch_messages // (MESSAGES_PER_PERSON_WEEK * org.employees))
    salt = seed * 1_000_003 + 0x5EED
    counts = dict.fromkeys(EVENT_TABLES, 0)
    pending: queue.Queue[dict[str, Columns] | None] = queue.Queue()
    failure: list[BaseException] = []
    carry: dict[str, Columns] = {}
    written = 0

    def writer() -> None:
        nonlocal written
        while True:
            batch = pending.get()
            try:
                if batch is None:
                    if not failure:
                        _append(store, carry, names, domains, salt, loads, counts)
                    return
                if not failure and lake is not None:  # whole batches: an event and its participants together
                    written += 1
                    _write_lake(lake, batch, names, domains, salt, loads, written)
                if not failure:
                    _append(store, _whole_row_groups(batch, carry), names, domains, salt, loads, counts)
            except BaseException as exc:  # handed to the producer, which raises it
                failure.append(exc)
            finally:
                batch = None  # freed before the producer is told this batch is done
                pending.task_done()

    thread = threading.Thread(target=writer, name="repsight-bulk-writer", daemon=True)
    thread.start()
    numbers = (0, 0)
    try:
        for i in range(0, len(weeks), per_batch):
            sink = Sink(draws)
            for monday in weeks[i : i + per_batch]:
                quarter, quarter_start = quarter_of(monday)
                week(org, clock, draws, sink, monday, quarter, (monday - quarter_start).days // 7, params, replies)
            tables = sink.rows(org, numbers)
            numbers = (numbers[0] + sink.messages, numbers[1] + sink.meetings)
            del sink
            pending.join()  # the previous batch is stored: at most two are alive
            if failure:
                break
            pending.put(tables)
            del tables
            if progress is not None:
                done = min(i + per_batch, len(weeks))
                progress(f"weeks {done}/{len(weeks)}: {numbers[0]:,} messages, {numbers[1]:,} meetings drawn")
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]
    return counts


def _whole_row_groups(batch: dict[str, Columns], carry: dict[str, Columns]) -> dict[str, Columns]:
    """Return the rows of `batch` (after those carried over) that fill whole row groups; carry the rest.

    DuckDB writes an insert's full row groups straight into the file, but
    sends a partial one through the WAL and, at the next checkpoint, into
    the file again: with a week per batch, twice the time. (One transaction
    for the whole run would do as well, but holds it all in memory until
    the commit.)
    """
    ready: dict[str, Columns] = {}
    for name, columns in batch.items():
        if name in carry:
            columns = {c: np.concatenate([carry[name][c], v]) for c, v in columns.items()}
        whole = len(columns["number"]) // ROW_GROUP * ROW_GROUP
        ready[name] = {c: v[:whole] for c, v in columns.items()}
        carry[name] = {c: v[whole:].copy() for c, v in columns.items()}  # a copy: the batch's arrays go
    return ready


def _append(
    store: Store,
    tables: dict[str, Columns],
    names: pa.Array,
    domains: pa.Array,
    salt: int,
    loads: dict[str, int],
    counts: dict[str, int],
) -> None:
    """Append event rows in one transaction, one table at a time (so one is ever in Arrow form), adding up `counts`."""
    with store.transaction():
        for name, columns in tables.items():
            table = to_arrow(name, columns, names, domains, salt)
            if name in LOAD_OF:
                table = table.append_column("load_id", pa.repeat(loads[LOAD_OF[name]], table.num_rows))
            store.append(name, table)
            counts[name] += table.num_rows
            del table


def _write_lake(
    lake: Path, tables: dict[str, Columns], names: pa.Array, domains: pa.Array, salt: int, loads: dict[str, int], part: int
) -> None:
    """Write a batch's event rows to `lake` as Parquet, a folder per week (`week=YYYY-MM-DD`), as `repsight.lake` lays them out.

    An event's week is the Monday of its UTC day (`sent_at`, `start_at`); a
    participant's, its event's. Columns and types are the store's (times
    without a zone, as Spark's ingest writes them); the week is the folder's
    name, not a column of the files.
    """
    days: dict[str, np.ndarray] = {}
    for name, moment in (("messages", "sent"), ("meetings", "start")):
        days[name] = tables[name][moment] // DAY_US
    for name, columns in tables.items():
        if name in days:
            day = days[name]
        else:  # a participant: the day of its event, found by number (numbers rise within a batch)
            event = "messages" if name == "message_recipients" else "meetings"
            numbers = tables[event]["number"]
            at = np.searchsorted(numbers, columns["number"])
            assert np.array_equal(numbers[np.minimum(at, len(numbers) - 1)], columns["number"]), "a participant without its event"
            day = days[event][at]
        monday = (day - (day + 3) % 7).astype(np.int32)  # 1970-01-01, epoch day 0, was a Thursday
        table = to_arrow(name, columns, names, domains, salt)
        if name in LOAD_OF:
            table = table.append_column("load_id", pa.repeat(loads[LOAD_OF[name]], table.num_rows))
        schema = ibis.schema(TABLES[name]).to_pyarrow()
        table = table.select(schema.names).cast(schema).append_column("week", pa.array(monday, pa.date32()))
        ds.write_dataset(
            table,
            lake / name,
            format="parquet",
            partitioning=["week"],
            partitioning_flavor="hive",
            basename_template=f"part-{part:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )


def main(argv: list[str] | None = None) -> int:
    """Return 0 after creating a workspace at OUT_FOLDER and filling its store with a synthetic company."""
    from repsight.privacy import read_key
    from repsight.synth.demo import TRUTH, prepare_folder
    from repsight.workspace import init_workspace

    parser = argparse.ArgumentParser(prog="bench/bulk", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="the workspace folder to create (an earlier one made here is replaced)")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", action="store_true", help="also write the event tables to OUT/lake, as Parquet by week")
    parser.add_argument("--quiet", action="store_true", help="print the totals only")
    args = parser.parse_args(argv)
    prepare_folder(args.out)
    config = init_workspace(args.out, domains=["acme.example"], timezone="America/New_York")
    report = None if args.quiet else (lambda line: print(line, flush=True))
    lake = args.out / "lake" if args.lake else None
    result = generate_store(
        config, read_key(config.key_path), people=args.people, months=args.months, seed=args.seed, lake=lake, progress=report
    )
    # truth.json marks the folder as generated (so it may be replaced) and records the planted skills.
    write_json(
        {"seed": args.seed, "people": args.people, "months": args.months, "quarters": result.quarters, "skills": result.skills},
        args.out / TRUTH,
    )
    for name, count in result.rows.items():
        print(f"{name:20} {count:>12,}")
    print(f"{'seconds':20} {result.seconds:>12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
