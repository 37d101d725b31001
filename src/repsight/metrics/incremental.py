"""Incremental runs: after new exports are loaded, `repsight metrics` recomputes only the weeks whose values can change.

A week's values are made of the events of that week and, for the internal
network, of the weeks of the network window before it; a period's, of its
weeks. So where the events loaded since the last run all fall in week W
or later, every week and period before W's period is what the last run
stored, and the run recomputes from the first week of W's period on
(reading the events from the window and the reply window before it). The
result equals a full recompute (`tests/metrics/test_incremental.py`).

Everything else the metrics read makes the next run a full one: a changed
roster, account list or KPI periods, other `[company]` or `[metrics]`
settings, or events deleted (`purge`, `forget`, a person excluded since).
Each run stores what it saw (`STATE`, in the `workspace` table) and each
roster person's first and last week with any event (`activity_spans`), so
that the next one can tell.

One more thing can reach back: a person's weeks run from their first to
their last week with an event, so a person seen again after a silence gains
the silent weeks; the run then starts at the first of them (its period's
first week).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from repsight.metrics.weeks import DAY, EPOCH, monday_of

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config
    from repsight.store import Store

__all__ = ["STATE", "Plan", "event_spans", "merged_spans", "plan_run", "recent_tables", "save_state", "window_start"]

STATE = "metrics_state"
"""The `workspace` row where a run records what it measured (JSON: fingerprint, event counts, last load id)."""

EVENT_TABLES = ("messages", "message_recipients", "meetings", "meeting_attendees")
REFERENCE_TABLES = ("people", "people_history", "account_domains")
"""The stored tables besides the events that the metrics read; a change to any of them changes every week."""


@dataclass(frozen=True)
class Plan:
    """What a metrics run recomputes."""

    since: int | None
    """The epoch day of the first week recomputed (the first week of its period); None: every week."""
    why: str
    """Why the run is full, or what it recomputes."""
    state: dict[str, Any]
    """What this run measures (`STATE`), to be stored once its tables are."""
    spans: pa.Table | None = None
    """With `since`: `person`, `first_week`, `last_week` (epoch days) of every roster person's events, old and new."""
    nothing_new: bool = False
    """Nothing was loaded since the last run: the stored tables stand."""


def _fingerprint(store: Store, config: Config, grain: str) -> str:
    """Return a digest of everything but the events that the metrics read: settings, roster, accounts, the period grain."""
    digest = hashlib.sha256()
    digest.update(config.company.model_dump_json().encode())
    digest.update(config.metrics.model_dump_json().encode())
    digest.update(grain.encode())
    for name in REFERENCE_TABLES:
        table = store.table(name)
        columns = [c for c in table.columns if c != "load_id"]  # a roster loaded again with the same rows is the same roster
        rows = store.to_arrow(table.select(columns)).sort_by([(c, "ascending") for c in columns])
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows)
        digest.update(name.encode())
        digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()


def _counts(store: Store, since_load: int | None = None) -> dict[str, int]:
    """Return the rows of each event table: all, or those of the loads after `since_load`."""
    messages, meetings = store.table("messages"), store.table("meetings")
    if since_load is not None:
        messages = messages.filter(messages.load_id > since_load)
        meetings = meetings.filter(meetings.load_id > since_load)
    recipients = store.table("message_recipients").semi_join(messages.select("message_key"), "message_key")
    attendees = store.table("meeting_attendees").semi_join(meetings.select("meeting_key"), "meeting_key")
    tables = {"messages": messages, "message_recipients": recipients, "meetings": meetings, "meeting_attendees": attendees}
    return {name: int(store.to_arrow(table.count().as_table())[0][0].as_py()) for name, table in tables.items()}


def _last_load(store: Store) -> int:
    loads = store.table("loads")
    last = store.to_arrow(loads.aggregate(last=loads.load_id.max()))["last"][0].as_py()
    return int(last or 0)


def plan_run(store: Store, config: Config, grain: str, calendar: pa.Table, *, full: bool = False) -> Plan:
    """Return what this run recomputes (every week with `full`), from what the last run stored (`STATE`) and what was loaded since.

    `calendar` is this run's (`weeks.calendar_table`): a recomputation starts at the first week of a period.
    """
    counts = _counts(store)
    state: dict[str, Any] = {"fingerprint": _fingerprint(store, config, grain), "events": counts, "load_id": _last_load(store)}
    if full:
        return Plan(None, "a full run was asked for", state)
    earlier = json.loads(store.setting(STATE) or "null")
    if not earlier or earlier.get("fingerprint") != state["fingerprint"]:
        why = "a first run" if not earlier else "the roster, accounts, KPI periods or settings changed"
        return Plan(None, why, state)
    if any(store.count(name) != count for name, count in earlier.get("tables", {}).items()) or not earlier.get("tables"):
        return Plan(None, "the stored metric tables changed since the last run", state)
    new = _counts(store, earlier["load_id"])
    if any(counts[name] - new[name] != earlier["events"].get(name) for name in EVENT_TABLES):
        return Plan(None, "events were deleted since the last run", state)
    if not new["messages"] and not new["meetings"]:
        return Plan(None, "no events loaded since the last run", state, nothing_new=True)
    first_new = _first_new_day(store, earlier["load_id"])
    spans = merged_spans(_stored_spans(store), event_spans(store, config, earlier["load_id"]))
    # A week up to a day off its UTC day: one day before covers every zone.
    since = min(monday_of(first_new - 1), _first_new_week(store, config, spans))
    return Plan(
        _period_start(calendar, since), f"events loaded since the last run reach back to the week of {_day(since)}", state, spans
    )


def _day(epoch_day: int) -> str:
    return (EPOCH + timedelta(days=epoch_day)).isoformat()


def _first_new_day(store: Store, since_load: int) -> int:
    """Return the first UTC epoch day on which an event loaded after `since_load` was sent or starts."""
    messages, meetings = store.table("messages"), store.table("meetings")
    firsts = [
        store.to_arrow(messages.filter(messages.load_id > since_load).aggregate(first=messages.sent_at.min()))["first"][0],
        store.to_arrow(meetings.filter(meetings.load_id > since_load).aggregate(first=meetings.start_at.min()))["first"][0],
    ]
    days: list[int] = [(moment.as_py().date() - EPOCH).days for moment in firsts if moment.is_valid]
    return min(days)


def _period_start(calendar: pa.Table, week: int) -> int:
    """Return the first week (epoch day) of the period that holds `week`, per `calendar`."""
    weeks: list[int] = calendar["week_start_day"].to_pylist()
    periods: list[str] = calendar["period"].to_pylist()
    period = periods[weeks.index(week)] if week in weeks else periods[0]
    return min(w for w, p in zip(weeks, periods, strict=True) if p == period)


def event_spans(store: Store, config: Config, since_load: int | None = None) -> pa.Table:
    """Return `person`, `first_week`, `last_week`: each roster person's first and last week with an event, hire and leave aside.

    Weeks are in the company's zone, as `weekly.activity_weeks` counts them,
    from every stored event (or those of the loads after `since_load`): a
    message for its sender and recipients, a meeting for its organiser and
    attendees. Runs on the store (DuckDB), whatever the engine.
    """
    import ibis

    from repsight.metrics.events import local_seconds, seconds, week_of
    from repsight.metrics.weeks import zone_days_table

    messages, meetings = store.table("messages"), store.table("meetings")
    if since_load is not None:
        messages = messages.filter(messages.load_id > since_load)
        meetings = meetings.filter(meetings.load_id > since_load)
    sent = messages.select("message_key", address=messages.sender, second=seconds(messages.sent_at))
    recipients = store.table("message_recipients").join(sent.select("message_key", "second"), "message_key")
    started = meetings.select("meeting_key", address=meetings.organizer, second=seconds(meetings.start_at))
    attendees = store.table("meeting_attendees").join(started.select("meeting_key", "second"), "meeting_key")
    seen = (
        sent.select("address", "second")
        .union(recipients.select(address=recipients.recipient, second=recipients.second), distinct=False)
        .union(started.select("address", "second"), distinct=False)
        .union(attendees.select(address=attendees.attendee, second=attendees.second), distinct=False)
    )
    people = store.table("people").select("person")
    seen = seen.join(people, seen.address == people.person)
    bounds = store.to_arrow(seen.aggregate(first=seen.second.min(), last=seen.second.max())).to_pylist()[0]
    if bounds["first"] is None:
        return pa.table(
            {"person": pa.array([], pa.string()), "first_week": pa.array([], pa.int64()), "last_week": pa.array([], pa.int64())}
        )
    zone = config.company.timezone
    zone_days = ibis.memtable(zone_days_table([zone], bounds["first"] // DAY - 1, bounds["last"] // DAY + 1))
    local = local_seconds(seen, "second", zone, zone_days, "local")
    weeks = local.select("person", week=week_of(local.local))
    spans = weeks.group_by("person").aggregate(first_week=weeks.week.min(), last_week=weeks.week.max())
    return store.to_arrow(spans.order_by("person")).cast(
        pa.schema([("person", pa.string()), ("first_week", pa.int64()), ("last_week", pa.int64())])
    )


def merged_spans(*spans: pa.Table) -> pa.Table:
    """Return `event_spans` of several sets of events as of their union: each person's earliest first and latest last week."""
    rows = pa.concat_tables(spans)
    merged = rows.group_by("person", use_threads=False).aggregate([("first_week", "min"), ("last_week", "max")])
    merged = merged.rename_columns(["person", "first_week", "last_week"])
    return merged.sort_by("person")


def _stored_spans(store: Store) -> pa.Table:
    rows = store.to_arrow(store.table("activity_spans"))
    return pa.table(
        {
            "person": rows["person"].cast(pa.string()),
            "first_week": pa.array([(d - EPOCH).days for d in rows["first_week"].to_pylist()], pa.int64()),
            "last_week": pa.array([(d - EPOCH).days for d in rows["last_week"].to_pylist()], pa.int64()),
        }
    )


def _first_new_week(store: Store, config: Config, spans: pa.Table) -> int:
    """Return the first week that a person's range gains with `spans` (the weeks `person_week` holds, per `weekly.activity_weeks`)."""
    people = store.to_arrow(store.table("people").select("person", "hire_date", "leave_date")).to_pylist()
    dates = {row["person"]: row for row in people}
    week = store.table("person_week")
    stored = store.to_arrow(week.group_by("person").aggregate(first=week.week.min(), last=week.week.max())).to_pylist()
    held = {row["person"]: ((row["first"] - EPOCH).days, (row["last"] - EPOCH).days) for row in stored}
    gained = []
    for person, first, last in zip(*(spans[c].to_pylist() for c in spans.column_names), strict=True):
        row = dates.get(person)
        if row is None:
            continue
        if row["hire_date"] is not None:
            first = max(first, monday_of((row["hire_date"] - EPOCH).days))
        if row["leave_date"] is not None:
            last = min(last, monday_of((row["leave_date"] - EPOCH).days))
        if first > last:
            continue
        before = held.get(person)
        if before is None or first < before[0]:
            gained.append(first)
        elif last > before[1]:
            gained.append(before[1] + 7)
    return min(gained, default=1 << 40)


def window_start(since: int, config: Config) -> datetime:
    """Return the first moment (UTC) whose events a run from week `since` reads: the network and reply windows before it, and two days."""
    rules = config.metrics
    reach = max(7 * (rules.network_window_weeks - 1), rules.reply_max_days) + 2
    return datetime.combine(EPOCH + timedelta(days=since - reach), datetime.min.time())


def recent_tables(tables: dict[str, ir.Table], since: int, config: Config, *, row_ids: bool) -> dict[str, ir.Table]:
    """Return `tables` with the events of the weeks a run from week `since` reads, and their participants; the rest whole.

    That is the network window and the reply window before `since`, and two
    days more (a week in a zone up to 14 hours off UTC). With `row_ids`
    (DuckDB), each event keeps its stored row's id as `_row`: a filtered
    table has no `rowid` of its own (`engine._Compute.row_id`).
    """
    start = window_start(since, config)
    messages, meetings = tables["messages"], tables["meetings"]
    if row_ids:
        messages, meetings = messages.mutate(_row=messages.rowid()), meetings.mutate(_row=meetings.rowid())
    messages = messages.filter(messages.sent_at >= start)
    meetings = meetings.filter(meetings.start_at >= start)
    return {
        **tables,
        "messages": messages,
        "message_recipients": tables["message_recipients"].semi_join(messages.select("message_key"), "message_key"),
        "meetings": meetings,
        "meeting_attendees": tables["meeting_attendees"].semi_join(meetings.select("meeting_key"), "meeting_key"),
    }


def save_state(store: Store, plan: Plan, spans: pa.Table) -> None:
    """Record what the run measured and each roster person's `event_spans` (call inside the transaction that stores the tables)."""
    rows = pa.table(
        {
            "person": spans["person"].cast(pa.string()),
            "first_week": pc.cast(spans["first_week"], pa.int64()).cast(pa.int32()).cast(pa.date32()),
            "last_week": pc.cast(spans["last_week"], pa.int64()).cast(pa.int32()).cast(pa.date32()),
        }
    )
    store.replace("activity_spans", rows)
    # The metric tables' sizes as stored: a run finding others (a table emptied by hand) is a full one.
    state = {**plan.state, "tables": {name: store.count(name) for name in ("person_week", "person_period")}}
    store.upsert("workspace", pa.table({"name": [STATE], "value": [json.dumps(state, sort_keys=True)]}))
