"""Ingest on Spark: mail and calendar files read by the executors, the new events appended to the lake.

One Spark task per file runs the same reader as `repsight ingest` and
pseudonymises what it reads with the workspace key (which reaches the
executors inside the task, as a broadcast value does, and is never
written anywhere). Each event and participant row carries its file's load id
and its place in the file, so that Spark can keep what a single process
keeps (`ingest.loaders`):

- of the copies of an event (one per mailbox it sits in), the first of the
  first file in load order, whole, with its own participants; where that
  copy is left out (below), the first copy of the next file, as a file
  loaded after it finds nothing stored under that key (one process also
  looks again in each later batch of 20,000 events of the same file: for
  a file that large, it may keep a later copy there where Spark does not);
- of a person named twice in one event, the first mention;
- no event already in the lake (loading a file again adds nothing);
- no excluded or forgotten person: their own events go, their place in
  others' too, and a message left without a recipient goes (and counts
  as left out in its file);
- `recipient_count` and `attendee_count` of what is kept.

What the tasks read is written once to the staging folder, and the four
tables are appended from it, participants before their events: a run that
stops half-way leaves events that a second load completes, and doubles
nothing (participants are kept only where the lake lacks them too).

The workspace receives what is small: a `loads` row per file, the quarantine
(also written to `<lake>/quarantine`), and the colleagues' `identities`.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from repsight.errors import InputError, StoreError
from repsight.lake import Lake
from repsight.lake.rewrite import holds_files, read_lake, replace_folder
from repsight.sources.records import MeetingBatch, MessageBatch, Rejected, series_key

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.ingest.run import FileResult
    from repsight.store import Store

__all__ = ["RAW", "check_lake", "load_into_lake", "read_task"]

CHUNK = 20_000
"""Events per Arrow batch a task hands to Spark."""

RAW = pa.schema(
    [
        ("part", pa.string()),  # "message", "recipient", "meeting", "attendee", "rejected" or "file"
        ("load_id", pa.int64()),  # the file's: files load in the order of their ids
        ("ordinal", pa.int64()),  # the event's place in its file
        ("mention", pa.int64()),  # a participant's place among its file's participant rows
        ("key", pa.string()),
        ("at", pa.timestamp("us")),  # sent or start, UTC
        ("end_at", pa.timestamp("us")),
        ("owner", pa.string()),  # the sender's or organiser's pseudonym
        ("owner_domain", pa.string()),
        ("parent_key", pa.string()),
        ("series_key", pa.string()),
        ("is_cancelled", pa.bool_()),
        ("is_all_day", pa.bool_()),
        ("is_transparent", pa.bool_()),
        ("person", pa.string()),  # a participant's pseudonym
        ("domain", pa.string()),
        ("role", pa.string()),  # a recipient's kind, an attendee's response
        ("email", pa.string()),  # a colleague's canonical address and display name (`identities`), else null
        ("name", pa.string()),
        ("position", pa.string()),  # a rejected record's
        ("field", pa.string()),
        ("reason", pa.string()),
        ("rows_read", pa.int64()),  # a file's
        ("size_bytes", pa.int64()),
        ("sha256", pa.string()),
        ("seconds", pa.float64()),
        ("error", pa.string()),
        ("trace", pa.string()),  # the traceback of a reader's internal error, for --debug
    ]
)
"""What a task hands to Spark: rows of every kind in one schema, told apart by `part`."""


def _ddl() -> str:
    """Return `RAW` as Spark's DDL (times without a zone: stored times are UTC, as in the workspace)."""
    names = {pa.string(): "STRING", pa.int64(): "BIGINT", pa.bool_(): "BOOLEAN", pa.float64(): "DOUBLE"}
    return ", ".join(f"{f.name} {'TIMESTAMP_NTZ' if pa.types.is_timestamp(f.type) else names[f.type]}" for f in RAW)


def _rows(part: str, n: int, **columns: Any) -> pa.RecordBatch:
    """Return `n` rows of `part` in the `RAW` schema, the columns not given null."""
    arrays = []
    for f in RAW:
        value = columns.get(f.name)
        if f.name == "part":
            arrays.append(pa.array([part] * n, pa.string()))
        elif value is None:
            arrays.append(pa.nulls(n, f.type))
        elif isinstance(value, list):
            arrays.append(pa.array(value, f.type))
        else:
            cast = pc.cast(value, f.type)
            arrays.append(cast.combine_chunks() if isinstance(cast, pa.ChunkedArray) else cast)
    return pa.RecordBatch.from_arrays(arrays, schema=RAW)


class _Addresses:
    """Each distinct address once through the pseudonymisation: its pseudonym, domain, and canonical form where a colleague's."""

    def __init__(self, key: str, internal: list[str]) -> None:
        from repsight.privacy import Pseudonymizer

        self.pseudo = Pseudonymizer(key)
        self.internal = pa.array(sorted(set(internal)), pa.string())

    def of(self, addresses: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Return each address's pseudonym, domain, and canonical form where a colleague's (null where not)."""
        from repsight.ingest.loaders import pseudonymise

        pseudonyms, domains, canonical = pseudonymise(self.pseudo, addresses)
        colleague = pc.is_in(domains, self.internal)
        return pseudonyms, domains, pc.if_else(colleague, canonical, pa.scalar(None, pa.string()))


class _FileReader:
    """One task's file: its records as `RAW` batches, then its `file` row."""

    def __init__(self, load_id: int, kind: str, path: str, config: Config, addresses: _Addresses) -> None:
        self.load_id, self.kind, self.path, self.config, self.addresses = load_id, kind, Path(path), config, addresses
        self.events = 0
        self.mentions = 0
        self.read = 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        from repsight.ingest.reading import read_here

        started = time.perf_counter()
        size, digest, error, trace = None, None, None, None
        singles: list[Any] = []
        rejected: list[Rejected] = []
        batch_type = MessageBatch if self.kind == "mail" else MeetingBatch
        try:
            with read_here(self.kind, self.path, self.config) as source:
                size = source.size
                for _, item in source.records():
                    if isinstance(item, MessageBatch | MeetingBatch):
                        if singles:
                            yield from self.event_rows(batch_type.of(singles))
                            singles = []
                        self.read += len(item)
                        yield from self.event_rows(item)
                        continue
                    self.read += 1
                    if isinstance(item, Rejected):
                        rejected.append(item)
                    else:
                        singles.append(item)
                        if len(singles) >= CHUNK:
                            yield from self.event_rows(batch_type.of(singles))
                            singles = []
                    if len(rejected) >= CHUNK:
                        yield self.rejected_rows(rejected)
                        rejected = []
                if singles:
                    yield from self.event_rows(batch_type.of(singles))
                digest = source.sha256()
        except InputError as exc:
            error = str(exc)
        except Exception as exc:  # a reader's bug: this file fails, the others load
            error = (
                f"{self.path}: internal error while reading it ({type(exc).__name__}: {exc}); what was read before it is "
                "stored, and loading the file again completes it once the cause is fixed"
            )
            trace = traceback.format_exc()
        if rejected:
            yield self.rejected_rows(rejected)
        yield _rows(
            "file",
            1,
            load_id=[self.load_id],
            rows_read=[self.read],
            size_bytes=[size],
            sha256=[digest],
            seconds=[time.perf_counter() - started],
            error=[error],
            trace=[trace],
        )

    def rejected_rows(self, rejected: list[Rejected]) -> pa.RecordBatch:
        return _rows(
            "rejected",
            len(rejected),
            load_id=[self.load_id] * len(rejected),
            position=[r.position for r in rejected],
            field=[r.field for r in rejected],
            reason=[r.reason for r in rejected],
        )

    def event_rows(self, batch: MessageBatch | MeetingBatch) -> Iterator[pa.RecordBatch]:
        events, participants, n = batch.events, batch.participants, len(batch)
        ordinals = pa.array(range(self.events, self.events + n), pa.int64())
        base = pa.scalar(self.events, pa.int64())
        self.events += n
        common = {"load_id": pa.repeat(pa.scalar(self.load_id, pa.int64()), n), "ordinal": ordinals, "key": events["key"]}
        if isinstance(batch, MessageBatch):
            owners, domains, emails = self.addresses.of(events["sender"].combine_chunks())
            names = pc.if_else(pc.is_null(emails), pa.nulls(n, pa.string()), events["sender_name"].combine_chunks())
            extra = {"at": events["sent_at"], "parent_key": events["parent_key"], "email": emails, "name": names}
            kind, part, role = "message", "recipient", participants["kind"]
        else:
            owners, domains, _ = self.addresses.of(events["organizer"].combine_chunks())
            flags = {f: events[f] for f in ("is_cancelled", "is_all_day", "is_transparent")}
            series = pa.array([series_key(uid) for uid in events["uid"].to_pylist()], pa.string())
            extra = {"at": events["start"], "end_at": events["end"], "series_key": series, **flags}
            kind, part, role = "meeting", "attendee", participants["response"]
        yield _rows(
            kind,
            n,
            **common,
            owner=owners,
            owner_domain=domains,
            **extra,
        )
        m = participants.num_rows
        if m == 0:
            return
        people, domains, emails = self.addresses.of(participants["address"].combine_chunks())
        yield _rows(
            part,
            m,
            load_id=pa.repeat(pa.scalar(self.load_id, pa.int64()), m),
            ordinal=pc.add(participants["event"], base),
            mention=pa.array(range(self.mentions, self.mentions + m), pa.int64()),
            key=participants["key"],
            person=people,
            domain=domains,
            role=role,
            email=emails,
            name=pc.if_else(pc.is_null(emails), pa.nulls(m, pa.string()), participants["name"].combine_chunks()),
        )
        self.mentions += m


def read_task(
    tasks: list[tuple[int, str, str]], config: Config, key: str
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Return the function Spark maps over the task numbers (`mapInArrow`): each number's file, read, as `RAW` batches."""

    def run(numbers: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        addresses = _Addresses(key, config.company.domains)
        for batch in numbers:
            for number in batch.column(0).to_pylist():
                load_id, kind, path = tasks[number]
                yield from _FileReader(load_id, kind, path, config, addresses).batches()

    return run


_EVENTS = {
    "mail": ("message", "recipient", "messages", "message_recipients", "message_key", "recipient", "kind", "recipient_count"),
    "calendar": ("meeting", "attendee", "meetings", "meeting_attendees", "meeting_key", "attendee", "response", "attendee_count"),
}


def check_lake(store: Store, config: Config) -> Lake:
    """Return the lake of `config`, where the workspace can use it: refuse one it cannot read, or one that would hide its own events."""
    lake = Lake.of(config)
    assert lake is not None
    if lake.folder is None:  # an object store: the workspace must read what Spark writes there (docs/spark.md, The lake)
        lake.filesystem()  # its fsspec library is installed
    held = store.own_events()
    if held:
        raise StoreError(
            f"{config.path}: [engine] lake is set, but the workspace holds {held:,} messages and meetings loaded before it: "
            "Spark would not see them, and the lake would hide them; load into a new workspace with the lake set"
        )
    return lake


def load_into_lake(store: Store, config: Config, files: list[tuple[str, Path]], excluded: set[str]) -> list[FileResult]:
    """Read the mail and calendar `files` on Spark and append their new events to the lake; return what each file did.

    The workspace gets each file's `loads` row, its quarantine and the
    colleagues it names (`identities`).
    """
    from repsight.ingest.reading import read_here
    from repsight.ingest.run import FileResult

    lake = check_lake(store, config)
    tasks, opened, results = [], [], {}
    for number, (kind, path) in enumerate(files):
        try:
            with read_here(kind, path, config) as source:  # a file no reader opens fails here, with no load, as in one process
                size = source.size
        except InputError as exc:
            results[number] = FileResult(kind, path, error=str(exc))
            continue
        load_id = store.next_load_id()
        store.start_load(load_id, str(path), kind, size)
        tasks.append((load_id, kind, str(path)))
        opened.append(number)
    if not tasks:
        return list(results.values())
    try:
        done = _on_spark(store, config, lake, tasks, [files[n] for n in opened], excluded)
    except StoreError as exc:
        names = ", ".join(Path(path).name for _, _, path in tasks[:3]) + (", …" if len(tasks) > 3 else "")
        raise StoreError(
            f"loading {len(tasks)} mail and calendar files ({names}) on Spark stopped; what it wrote stays, and loading "
            f"them again completes it: {exc}"
        ) from exc
    results |= dict(zip(opened, done, strict=True))
    return [results[number] for number in range(len(files))]


def _on_spark(
    store: Store, config: Config, lake: Lake, tasks: list[tuple[int, str, str]], files: list[tuple[str, Path]], excluded: set[str]
) -> list[FileResult]:
    """Read the `tasks`' files on Spark into the lake, and record what each did in the workspace."""
    from repsight.lake.session import spark_session

    with spark_session(config) as (session, staging):
        from pyspark.sql import functions as F

        raw_path = str(staging / "read")
        read = session.range(0, len(tasks), 1, max(len(tasks), 1)).mapInArrow(read_task(tasks, config, store.key), _ddl())
        read.write.partitionBy("part").parquet(raw_path)  # read once, then used by every step
        raw = session.read.schema(_ddl()).parquet(raw_path)
        them = session.createDataFrame([(p,) for p in sorted(excluded)], "person STRING")
        stored: dict[int, dict[str, int]] = {}
        identities = []
        for kind in ("mail", "calendar"):
            counts, people = _store_events(session, raw, lake, kind, them)
            for load_id, numbers in counts.items():
                stored.setdefault(load_id, {"new": 0, "left_out": 0})
                for name, value in numbers.items():
                    stored[load_id][name] += value
            identities.append(people)
        files_read = raw.filter(F.col("part") == "file").select(
            "load_id", "rows_read", "size_bytes", "sha256", "seconds", "error", "trace"
        )
        files_read = files_read.toArrow()
        rejected = raw.filter(F.col("part") == "rejected").select("load_id", "position", "field", "reason")
        quarantine = rejected.toArrow()
        _write_quarantine(session, lake, rejected, tasks)
    return _record(store, files, tasks, files_read, quarantine, stored, pa.concat_tables(identities))


def _write_quarantine(session: Any, lake: Lake, rejected: Any, tasks: list[tuple[int, str, str]]) -> None:
    """Store the rejected rows in `<lake>/quarantine` with their file's name and kind, in place of what these files had there.

    As in the workspace, the quarantine shows each file as last loaded: a
    file fixed and loaded again has no old entries left.
    """

    files = session.createDataFrame(tasks, "load_id BIGINT, kind STRING, source STRING")
    rows = rejected.join(files, "load_id").select("load_id", "source", "kind", "position", "field", "reason")
    path = lake.spark_path("quarantine")
    if not holds_files(session, path, partitioned=False):
        if rows.limit(1).count():
            rows.write.parquet(path)
        return
    stored = session.read.parquet(path)
    if not stored.join(files.select("source"), "source", "left_semi").limit(1).count() and not rows.limit(1).count():
        return
    others = stored.join(files.select("source"), "source", "left_anti")
    kept = others.unionByName(rows).dropDuplicates(["source", "position", "field", "reason"]).localCheckpoint()
    replace_folder(session, path, kept, partitioned=False)


def _store_events(session: Any, raw: Any, lake: Lake, kind: str, them: Any) -> tuple[dict[int, dict[str, int]], pa.Table]:
    """Append the new events of `kind` to the lake; return per load id how many were new and left out, and the colleagues named."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    event_part, participant_part, events_table, participants_table, key, role, role_column, count = _EVENTS[kind]
    events = raw.filter(F.col("part") == event_part)
    # A file's first copy of each event not in the lake yet: each is considered, in load order, as one process does.
    in_file = Window.partitionBy("key", "load_id").orderBy("ordinal")
    events = events.withColumn("n", F.row_number().over(in_file)).filter(F.col("n") == 1).drop("n")
    known = read_lake(session, lake, events_table)
    if known is not None:
        events = events.join(known.select(F.col(key).alias("key")), "key", "left_anti")
    events = events.localCheckpoint()
    participants = raw.filter(F.col("part") == participant_part).join(
        events.select("key", "load_id", "ordinal"), ["key", "load_id", "ordinal"], "left_semi"
    )
    mentions = participants  # every mention, for `identities`
    mention = Window.partitionBy("key", "load_id", "person").orderBy("mention")
    participants = participants.withColumn("n", F.row_number().over(mention)).filter(F.col("n") == 1).drop("n")
    participants = participants.join(them, "person", "left_anti")
    # A copy is left out where its sender or organiser is excluded, or (mail) no recipient is left.
    kept = events.join(them.withColumnRenamed("person", "owner"), "owner", "left_anti")
    if kind == "mail":
        kept = kept.join(participants.select("key", "load_id").distinct(), ["key", "load_id"], "left_semi")
    # The first file's copy that is kept is stored; the copies before it were left out, those after it are old.
    stored_from = kept.groupBy("key").agg(F.min("load_id").alias("stored_from"))
    kept = kept.join(stored_from, "key").filter(F.col("load_id") == F.col("stored_from")).drop("stored_from")
    left_out = events.join(stored_from, "key", "left").filter(
        F.col("stored_from").isNull() | (F.col("load_id") < F.col("stored_from"))
    )
    participants = participants.join(kept.select("key", "load_id"), ["key", "load_id"], "left_semi")
    numbers = participants.groupBy("key").agg(F.count("*").alias(count))
    week = F.to_date(F.date_trunc("week", F.col("at").cast("timestamp")))
    kept = kept.join(numbers, "key", "left").withColumn("week", week).localCheckpoint()
    participants = participants.join(kept.select("key", "week"), "key")
    if kind == "mail":
        rows = kept.select(
            F.col("key").alias("message_key"),
            F.col("at").alias("sent_at"),
            F.col("owner").alias("sender"),
            F.col("owner_domain").alias("sender_domain"),
            count,
            "load_id",
            "parent_key",
            "week",
        )
    else:
        rows = kept.select(
            F.col("key").alias("meeting_key"),
            "series_key",
            F.col("at").alias("start_at"),
            "end_at",
            F.col("owner").alias("organizer"),
            F.col("owner_domain").alias("organizer_domain"),
            "is_cancelled",
            "is_all_day",
            "is_transparent",
            count,
            "load_id",
            "week",
        )
    who = participants.select(
        F.col("key").alias(key),
        F.col("person").alias(role),
        F.col("domain").alias(f"{role}_domain"),
        F.col("role").alias(role_column),
        "week",
    )
    # Participants first: events without them are completed by a second load; the reverse would double them.
    held = read_lake(session, lake, participants_table)
    if held is not None:
        who = who.join(held.select(key, role), [key, role], "left_anti")
    who.write.mode("append").partitionBy("week").parquet(lake.spark_path(participants_table))
    rows.write.mode("append").partitionBy("week").parquet(lake.spark_path(events_table))
    per_file = kept.select("load_id", F.lit(1).alias("new"), F.lit(0).alias("left_out")).unionByName(
        left_out.select("load_id", F.lit(0).alias("new"), F.lit(1).alias("left_out"))
    )
    counts = {
        r["load_id"]: {"new": int(r["new"]), "left_out": int(r["left_out"])}
        for r in per_file.groupBy("load_id").agg(F.sum("new").alias("new"), F.sum("left_out").alias("left_out")).collect()
    }
    # Colleagues named in the events stored (mail: senders too, as one process does), with the file that named them.
    named = mentions.join(kept.select("key", "load_id"), ["key", "load_id"], "left_semi").select(
        "person", "email", "name", "load_id"
    )
    if kind == "mail":
        named = named.unionByName(kept.select(F.col("owner").alias("person"), "email", "name", "load_id"))
    colleagues = named.filter(F.col("email").isNotNull()).join(them, "person", "left_anti")
    people = colleagues.groupBy("person", "load_id").agg(F.first("email").alias("email"), F.max("name").alias("name"))
    schema = pa.schema([("person", pa.string()), ("load_id", pa.int64()), ("email", pa.string()), ("name", pa.string())])
    return counts, people.select("person", "load_id", "email", "name").toArrow().cast(schema)


def _record(
    store: Store,
    files: list[tuple[str, Path]],
    tasks: list[tuple[int, str, str]],
    files_read: pa.Table,
    quarantine: pa.Table,
    stored: dict[int, dict[str, int]],
    identities: pa.Table,
) -> list[FileResult]:
    """Store in the workspace what the run read: loads, quarantine, identities; return each file's result."""
    from repsight.ingest.run import FileResult

    by_load = {row["load_id"]: row for row in files_read.to_pylist()}
    rejected: dict[int, int] = {}
    for load_id in quarantine["load_id"].to_pylist():
        rejected[load_id] = rejected.get(load_id, 0) + 1
    results = []
    paths = {load_id: (kind, path) for (load_id, _, _), (kind, path) in zip(tasks, files, strict=True)}
    unopened = []
    with store.transaction():
        for load_id, (kind, path) in paths.items():
            row = by_load.get(load_id, {})
            error = row.get("error")
            numbers = stored.get(load_id, {"new": 0, "left_out": 0})
            result = FileResult(kind, path, read=row.get("rows_read") or 0, quarantined=rejected.get(load_id, 0))
            result.loaded = result.read - result.quarantined
            result.new, result.left_out = numbers["new"], numbers["left_out"]
            result.seconds = row.get("seconds") or 0.0
            if error:
                result.error = error
                if row.get("trace"):
                    result.exception = _ReadFailed(row["trace"])
            if row.get("size_bytes") is None:  # not opened at all: no load, as in one process
                unopened.append(load_id)
            elif not error:  # one that failed half-way stays unfinished, what it read stored
                store.finish_load(
                    load_id,
                    sha256=row.get("sha256") or "",
                    rows_read=result.read,
                    rows_loaded=result.loaded,
                    rows_new=result.new,
                    rows_quarantined=result.quarantined,
                    rows_changed=0,
                    rows_removed=0,
                )
            results.append(result)
        if unopened:
            store.delete_where("loads", "load_id", pa.array(unopened, pa.int64()))
        sources = {load_id: str(path) for load_id, (_, path) in paths.items()}
        kinds = {load_id: kind for load_id, (kind, _) in paths.items()}
        ids = quarantine["load_id"].to_pylist()
        store.insert_new(
            "quarantine",
            pa.table(
                {
                    "load_id": quarantine["load_id"],
                    "source": pa.array([sources[i] for i in ids], pa.string()),
                    "kind": pa.array([kinds[i] for i in ids], pa.string()),
                    "position": quarantine["position"],
                    "field": quarantine["field"],
                    "reason": quarantine["reason"],
                }
            ),
        )
        if identities.num_rows:
            store.insert_new("identities", _first_named(identities))
    return results


def _first_named(named: pa.Table) -> pa.Table:
    """Return a colleague's identity as one process stores it: from the first file that names them, a display name over none.

    `named` holds `person`, `load_id`, `email` and `name` (the greatest of that file's).
    (One process keeps the first batch's, of 20,000 events: the same for a file of fewer.)
    """
    first = named.group_by("person", use_threads=False).aggregate([("load_id", "min")])
    rows = named.join(first.rename_columns(["person", "load_id"]), ["person", "load_id"], join_type="inner")
    return rows.select(["person", "email", "name"]).sort_by("person")


class _ReadFailed(Exception):
    """A reader's internal error on an executor; its traceback there is the message, for `--debug`."""
