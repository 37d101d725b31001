"""Spark's session for a run of `repsight metrics` or `repsight ingest` (`[engine] backend = "pyspark"`; docs/spark.md)."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repsight.errors import MetricsError, StoreError

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = ["spark_errors", "spark_session", "staging_folder"]


@contextmanager
def staging_folder(staging: Path) -> Iterator[Path]:
    """Yield a new, empty folder inside `staging` (created if missing) for one run; delete only that folder afterwards.

    `staging` is the user's setting and may be a folder that holds their own
    files (".", their home): nothing else in it is touched.
    """
    try:
        staging.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="repsight-spark-", dir=staging))
    except OSError as exc:
        raise StoreError(f"{staging}: cannot create the Spark staging folder: {exc.strerror or exc}") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def spark_session(config: Config) -> Iterator[tuple[Any, Path]]:
    """Yield Spark's session, set up per `[engine]`, and a new staging folder for this run (deleted after)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MetricsError(f"{config.path}: [engine] backend = 'pyspark' needs PySpark: pip install 'repsight[spark]'") from None
    builder = SparkSession.builder.appName("repsight")
    master = config.engine.spark_master
    if master:
        builder = builder.master(master)
    if not master or master.startswith("local"):
        # One machine: a few partitions per core, not Spark's cluster-sized 200.
        builder = builder.config("spark.sql.shuffle.partitions", "8").config("spark.ui.enabled", "false")
        builder = builder.config("spark.ui.showConsoleProgress", "false")  # no bars drawn over the command's output
    # The metric tables come back to the workspace whole (`week_ties` of 30,000 people over 18 months
    # is past Spark's default 1 GB): the driver's memory bounds them, not a second limit.
    builder = builder.config("spark.driver.maxResultSize", "0")
    if "spark.pyspark.python" not in config.engine.spark_conf:
        # Ingest runs repsight's readers in Spark's Python workers: unless told otherwise (PYSPARK_PYTHON),
        # the Python running repsight, which has it (on a cluster, at the same path on every node: docs/spark.md).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for name, value in config.engine.spark_conf.items():  # the user's, over the defaults above
        builder = builder.config(name, str(value).lower() if isinstance(value, bool) else str(value))
    with staging_folder(config.resolve(config.engine.spark_staging)) as staging:
        # Stored times are UTC; Spark must not read them in the machine's zone.
        # Nothing of Spark's own (a warehouse folder) lands in the user's working folder.
        builder = builder.config("spark.sql.warehouse.dir", str(staging / "warehouse"))
        session = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        with spark_errors():
            yield session, staging


@contextmanager
def spark_errors() -> Iterator[None]:
    """Turn an error of Spark's own (the JVM's, through py4j) into a `StoreError` that says it failed, keeping the cause for `--debug`."""
    try:
        yield
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise StoreError(f"Spark failed: {_cause(str(exc))}") from exc
        raise


def _cause(text: str) -> str:
    """Return the line of a Spark error that says what went wrong.

    A Python worker's last exception; else the JVM's root cause (its last
    `Caused by:`: the first line only names the call that waited for it);
    else the first line.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    return raised[-1] if raised else causes[-1] if causes else (lines[0] if lines else type(text).__name__)
