"""Spark's session for a run (`repsight.lake.session`): the settings repsight gives it, and what a failure of Spark's says."""

from __future__ import annotations

from pathlib import Path

import pytest

from repsight.config import EngineConfig
from repsight.lake.session import _cause, spark_session
from repsight.workspace import init_workspace

# What py4j's error says when Spark's JVM fails (`str(exc)`), cut to the lines that matter: the call, its stack, the root cause.
COLLECTION_TOO_BIG = """An error occurred while calling o330.getResult.
: org.apache.spark.SparkException: Exception thrown in awaitResult:
\tat org.apache.spark.util.SparkThreadUtils$.awaitResult(SparkThreadUtils.scala:53)
\tat java.base/java.lang.Thread.run(Thread.java:840)
Caused by: org.apache.spark.SparkException: Job aborted due to stage failure: Total size of serialized results of 6 tasks (1100.0 MiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)
\tat org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$3(DAGScheduler.scala:2935)
"""

WORKER_RAISED = """An error occurred while calling o57.collectToPython.
: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed 1 times, most recent failure: Lost task 0.0 in stage 3.0 (TID 3) (127.0.0.1 executor driver): org.apache.spark.api.python.PythonException: Traceback (most recent call last):
  File "/work/repsight/lake/ingest.py", line 180, in batches
repsight.errors.SourceError: mail/a.mbox: message 3: field Date: not a date: 'yesterday'

\tat org.apache.spark.api.python.BasePythonRunner$ReaderIterator.handlePythonException(PythonRunner.scala:581)
Caused by: org.apache.spark.api.python.PythonException: Traceback (most recent call last):
  File "/work/repsight/lake/ingest.py", line 180, in batches
repsight.errors.SourceError: mail/a.mbox: message 3: field Date: not a date: 'yesterday'
"""


def test_a_failure_of_the_jvm_is_told_by_its_root_cause_not_by_the_call_that_waited() -> None:
    assert _cause(COLLECTION_TOO_BIG) == (
        "org.apache.spark.SparkException: Job aborted due to stage failure: Total size of serialized results of 6 tasks"
        " (1100.0 MiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)"
    )


def test_a_failure_in_a_python_worker_is_told_by_its_exception() -> None:
    assert _cause(WORKER_RAISED) == "repsight.errors.SourceError: mail/a.mbox: message 3: field Date: not a date: 'yesterday'"


def test_a_failure_of_one_line_is_that_line() -> None:
    assert _cause("\n  Python worker exited unexpectedly (crashed)  \n") == "Python worker exited unexpectedly (crashed)"


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_the_metric_tables_come_back_whole_whatever_their_size(tmp_path: Path) -> None:
    # Spark's default 1 GB limit on what a collection returns failed `week_ties` of 30,000 people over 18 months
    # after 37 minutes of computing (bench/README.md, Scale).
    config = init_workspace(tmp_path / "w", domains=["acme.example"], timezone="UTC")
    config = config.model_copy(update={"engine": EngineConfig(backend="pyspark", spark_master="local[2]")})
    with spark_session(config) as (session, _):
        assert session.sparkContext.getConf().get("spark.driver.maxResultSize") == "0"
