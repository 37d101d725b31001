"""Deleting from the lake: a person erased (`repsight forget`, `[privacy] excluded`), events past the retention (`repsight purge`).

Parquet files are not changed in place: a table that loses rows is written
again, whole, by Spark into a folder beside it (`<table>.new`), which then
takes its place (`replace_folder`). The rules are those of the workspace
(`Store.erase_people`, `Store.purge_events`): a person's own events go with
every participant row; in others' events, their row goes and the event is
counted again without them, and a message left with no recipient goes.
Rows of the lake's quarantine that mention them go too.

Each table is replaced on its own, events before participants. A run that
stops between two tables leaves the erasure half done, never a table half
written (`settle` finishes a replacement that stopped between its two
renames); running it again (`repsight forget` again, or the next ingest for
an excluded person) completes it and deletes nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from repsight.errors import StoreError
from repsight.lake import Lake
from repsight.schema import PERSON_MENTIONS, TABLES

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = ["empty_table", "erase_from_lake", "purge_lake", "replace_folder", "settle"]

_EVENTS = (
    ("messages", "message_recipients", "message_key", "sender", "recipient", "recipient_count", "sent_at"),
    ("meetings", "meeting_attendees", "meeting_key", "organizer", "attendee", "attendee_count", "start_at"),
)

_SPARK_TYPES = {"string": "STRING", "timestamp": "TIMESTAMP_NTZ", "boolean": "BOOLEAN", "int64": "BIGINT", "date": "DATE"}


def empty_table(session: Any, table: str) -> Any:
    """Return an empty DataFrame of a lake table's columns and its `week`."""
    columns = ", ".join(f"{name} {_SPARK_TYPES[kind]}" for name, kind in TABLES[table].items())
    return session.createDataFrame([], f"{columns}, week DATE")


def erase_from_lake(config: Config, people: list[str], addresses: list[str]) -> dict[str, int]:
    """Remove every event row of `people` (pseudonyms), and quarantine rows mentioning them, from the lake; return the rows removed per table."""
    from repsight.lake.session import spark_session

    lake = Lake.of(config)
    removed: dict[str, int] = {}
    if lake is None or not people:
        return removed
    with spark_session(config) as (session, _):
        from pyspark.sql import functions as F

        them = session.createDataFrame([(p,) for p in people], "person STRING")
        for events_table, participants_table, key, owner, role, count, _ in _EVENTS:
            events = read_lake(session, lake, events_table)
            if events is None:
                continue
            participants = _participants(session, lake, participants_table)
            own = events.join(them.withColumnRenamed("person", owner), owner, "left_semi").select(key)
            others = participants.join(them.withColumnRenamed("person", role), role, "left_anti")
            # Others' events they took part in are counted again without them.
            touched = participants.join(them.withColumnRenamed("person", role), role, "left_semi").select(key).distinct()
            recounted = others.groupBy(key).agg(F.count("*").alias("recounted"))
            kept_events = events.join(own, key, "left_anti").join(touched.withColumn("touched", F.lit(True)), key, "left")
            kept_events = kept_events.join(recounted, key, "left").withColumn(
                count, F.when(F.col("touched"), F.coalesce(F.col("recounted"), F.lit(0))).otherwise(F.col(count))
            )
            if events_table == "messages":  # a message left with no recipient goes
                kept_events = kept_events.filter(F.col(count) > 0)
            kept_events = kept_events.select(*TABLES[events_table], "week").localCheckpoint()
            # Events first: participants are then those of the events kept, so a second run finishes a first one stopped between.
            kept_participants = others.join(kept_events.select(key), key, "left_semi").localCheckpoint()
            _replace(session, lake, events_table, events, kept_events, removed)
            _replace(session, lake, participants_table, participants, kept_participants, removed)
        _erase_quarantine(session, lake, [*people, *(a.lower() for a in addresses)], removed)
    return removed


def _erase_quarantine(session: Any, lake: Lake, needles: list[str], removed: dict[str, int]) -> None:
    """Remove the lake's quarantine rows whose text mentions one of `needles` (pseudonyms, lower-cased addresses)."""
    from pyspark.sql import functions as F

    path = lake.spark_path("quarantine")
    if not holds_files(session, path, partitioned=False):
        return
    rows = session.read.parquet(path)
    mentioned = F.lit(False)
    for column in PERSON_MENTIONS["quarantine"]:
        for needle in needles:
            mentioned = mentioned | F.lower(F.col(column)).contains(needle.lower())
    kept = rows.filter(~F.coalesce(mentioned, F.lit(False))).localCheckpoint()
    gone = rows.count() - kept.count()
    if gone:
        replace_folder(session, path, kept, partitioned=False)
        removed["quarantine"] = removed.get("quarantine", 0) + gone


def purge_lake(config: Config, before: datetime) -> dict[str, int]:
    """Remove the events sent or begun before `before` (UTC) from the lake, with their participants; return the rows removed per table."""
    from repsight.lake.session import spark_session

    lake = Lake.of(config)
    removed: dict[str, int] = {}
    if lake is None:
        return removed
    if before.tzinfo is not None:
        before = before.astimezone(UTC).replace(tzinfo=None)
    with spark_session(config) as (session, _):
        from pyspark.sql import functions as F

        for events_table, participants_table, key, _, _, _, at in _EVENTS:
            events = read_lake(session, lake, events_table)
            if events is None:
                continue
            participants = _participants(session, lake, participants_table)
            cutoff = F.lit(before.isoformat(sep=" ")).cast("timestamp_ntz")
            kept_events = events.filter(F.col(at) >= cutoff).localCheckpoint()
            kept_participants = participants.join(kept_events.select(key), key, "left_semi").localCheckpoint()
            _replace(session, lake, events_table, events, kept_events, removed)
            _replace(session, lake, participants_table, participants, kept_participants, removed)
    return removed


def _participants(session: Any, lake: Lake, table: str) -> Any:
    found = read_lake(session, lake, table)
    return empty_table(session, table) if found is None else found


def read_lake(session: Any, lake: Lake, table: str) -> Any:
    """Return the lake's `table` as Spark reads it (with `week`), or None where it has no files."""
    path = lake.spark_path(table)
    return session.read.parquet(path) if holds_files(session, path) else None


def holds_files(session: Any, path: str, *, partitioned: bool = True) -> bool:
    """Return whether the folder `path` holds Parquet files (in week folders where `partitioned`), a stopped replacement finished first.

    `path` is any that Spark's file systems read: a path, s3://, abfss://, dbfs:/.
    """
    settle(session, path)
    jvm = session.sparkContext._jvm
    glob = jvm.org.apache.hadoop.fs.Path(f"{path}/week=*/*.parquet" if partitioned else f"{path}/*.parquet")
    found = glob.getFileSystem(session.sparkContext._jsc.hadoopConfiguration()).globStatus(glob)
    return found is not None and len(found) > 0


def settle(session: Any, path: str) -> None:
    """Finish a replacement of the folder `path` that stopped between its two renames (`replace_folder`)."""
    jvm = session.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(session.sparkContext._jsc.hadoopConfiguration())
    if fs.exists(target):
        return
    fresh, old = jvm.org.apache.hadoop.fs.Path(f"{path}.new"), jvm.org.apache.hadoop.fs.Path(f"{path}.old")
    if fs.exists(jvm.org.apache.hadoop.fs.Path(f"{path}.new/_SUCCESS")):
        _rename(fs, fresh, target)
        fs.delete(old, True)
    elif fs.exists(old):
        _rename(fs, old, target)


def _rename(fs: Any, source: Any, target: Any) -> None:
    if not fs.rename(source, target):
        raise StoreError(f"{source}: could not be renamed to {target}; the lake is unchanged there, run the command again")


def replace_folder(session: Any, path: str, rows: Any, *, partitioned: bool = True) -> None:
    """Write `rows` (computed from what `path` holds: checkpoint them first) in place of the folder `path`.

    Into `path.new` first, whole; then `path` becomes `path.old` and
    `path.new` becomes `path`, and `path.old` is deleted. Stopped between
    the renames, `settle` completes it on the next read.
    """
    jvm = session.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(session.sparkContext._jsc.hadoopConfiguration())
    settle(session, path)
    fresh, old = jvm.org.apache.hadoop.fs.Path(f"{path}.new"), jvm.org.apache.hadoop.fs.Path(f"{path}.old")
    fs.delete(fresh, True)
    writer = rows.write.mode("overwrite")
    (writer.partitionBy("week") if partitioned else writer).parquet(f"{path}.new")
    fs.delete(old, True)
    if fs.exists(target):
        _rename(fs, target, old)
    _rename(fs, fresh, target)
    fs.delete(old, True)


def _replace(session: Any, lake: Lake, table: str, before: Any, after: Any, removed: dict[str, int]) -> None:
    """Write `after` (the rows of `table` that stay, with `week`) in place of the table, where it has fewer rows than `before`."""
    gone = before.count() - after.count()
    if gone <= 0:
        return
    replace_folder(session, lake.spark_path(table), after)
    removed[table] = removed.get(table, 0) + gone
