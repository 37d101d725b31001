"""Deleting from the lake: a person erased (`repsight forget`, `[privacy] excluded`), events past the retention (`repsight purge`).

Parquet files are not changed in place: a table that loses rows is written
again, whole, by Spark into a folder beside it, which then takes its place
(the old folder is deleted after). The rules are those of the workspace
(`Store.erase_people`, `Store.purge_events`): a person's own events go with
every participant row; in others' events, their row goes and the event is
counted again without them, and a message left with no recipient goes.

Each table is replaced on its own. A run that stops between two tables
leaves the erasure half done, never a table half written; running it
again (`repsight forget` again, or the next ingest for an excluded
person) completes it, and deletes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from repsight.lake import Lake
from repsight.lake.ingest import lake_holds
from repsight.schema import TABLES

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = ["erase_from_lake", "purge_lake"]

_EVENTS = (
    ("messages", "message_recipients", "message_key", "sender", "recipient", "recipient_count", "sent_at"),
    ("meetings", "meeting_attendees", "meeting_key", "organizer", "attendee", "attendee_count", "start_at"),
)


def erase_from_lake(config: Config, people: list[str]) -> dict[str, int]:
    """Remove every event row of `people` (pseudonyms) from the lake; return the rows removed per table."""
    from pyspark.sql import functions as F

    from repsight.lake.session import spark_session

    lake = Lake.of(config)
    removed: dict[str, int] = {}
    if lake is None or not people:
        return removed
    with spark_session(config) as (session, _):
        them = session.createDataFrame([(p,) for p in people], "person STRING")
        for events_table, participants_table, key, owner, role, count, _ in _EVENTS:
            events, participants = _read(session, lake, events_table), _read(session, lake, participants_table)
            if events is None:
                continue
            own = events.join(them.withColumnRenamed("person", owner), owner, "left_semi").select(key)
            kept_participants = (
                participants.join(own, key, "left_anti")
                .join(them.withColumnRenamed("person", role), role, "left_anti")
                .localCheckpoint()
            )
            # Others' events they took part in are counted again without them.
            touched = participants.join(them.withColumnRenamed("person", role), role, "left_semi").select(key).distinct()
            recounted = kept_participants.groupBy(key).agg(F.count("*").alias("recounted"))
            kept_events = events.join(own, key, "left_anti").join(touched.withColumn("touched", F.lit(True)), key, "left")
            kept_events = kept_events.join(recounted, key, "left").withColumn(
                count,
                F.when(F.col("touched"), F.coalesce(F.col("recounted"), F.lit(0))).otherwise(F.col(count)),
            )
            if events_table == "messages":  # a message left with no recipient goes
                kept_events = kept_events.filter(F.col(count) > 0)
                kept_participants = kept_participants.join(kept_events.select(key), key, "left_semi")
            kept_events = kept_events.select(*TABLES[events_table], "week").localCheckpoint()
            _replace(session, lake, participants_table, participants, kept_participants, removed)
            _replace(session, lake, events_table, events, kept_events, removed)
    return removed


def purge_lake(config: Config, before: datetime) -> dict[str, int]:
    """Remove the events sent or begun before `before` (UTC) from the lake, with their participants; return the rows removed per table."""
    from pyspark.sql import functions as F

    from repsight.lake.session import spark_session

    lake = Lake.of(config)
    removed: dict[str, int] = {}
    if lake is None:
        return removed
    with spark_session(config) as (session, _):
        for events_table, participants_table, key, _, _, _, at in _EVENTS:
            events, participants = _read(session, lake, events_table), _read(session, lake, participants_table)
            if events is None:
                continue
            cutoff = F.lit(before.isoformat(sep=" ")).cast("timestamp_ntz")
            kept_events = events.filter(F.col(at) >= cutoff).localCheckpoint()
            kept_participants = participants.join(kept_events.select(key), key, "left_semi")
            _replace(session, lake, participants_table, participants, kept_participants, removed)
            _replace(session, lake, events_table, events, kept_events, removed)
    return removed


def _read(session: Any, lake: Lake, table: str) -> Any:
    path = lake.spark_path(table)
    return session.read.parquet(path) if lake_holds(session, path) else None


def _replace(session: Any, lake: Lake, table: str, before: Any, after: Any, removed: dict[str, int]) -> None:
    """Write `after` (the rows of `table` that stay, with `week`) in place of the table, where it has fewer rows than `before`."""
    gone = before.count() - after.count()
    if gone <= 0:
        return
    path = lake.spark_path(table)
    jvm = session.sparkContext._jvm
    conf = session.sparkContext._jsc.hadoopConfiguration()
    fresh, old = jvm.org.apache.hadoop.fs.Path(f"{path}.new"), jvm.org.apache.hadoop.fs.Path(f"{path}.old")
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(conf)
    fs.delete(fresh, True)
    after.write.mode("overwrite").partitionBy("week").parquet(f"{path}.new")
    fs.delete(old, True)
    fs.rename(target, old)
    fs.rename(fresh, target)
    fs.delete(old, True)
    removed[table] = removed.get(table, 0) + gone
