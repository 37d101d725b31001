"""Ingest and metrics on a real Spark cluster: a standalone master and two workers on loopback, from the pip-installed PySpark.

The test starts the cluster (`spark-class` Master and Worker, one core and
1 GB each), loads a generated company's raw exports into a lake with
`engine.spark_master = "spark://127.0.0.1:PORT"` (the executors read the
files), computes its metrics there, and requires exactly the tables that
one process and DuckDB leave. It stops the cluster and its own Spark
session after, so that the other Spark tests of its worker get a local
session again. (The edge-case company, which exercises every metric rule,
runs on local Spark in `test_engine.py`.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from repsight.config import Config, EngineConfig

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

WORKERS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def _alive_workers(ui_port: int) -> int:
    """Return how many workers the master's status page lists as alive (0 while it is not up)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as answer:
            status = json.load(answer)
    except OSError:
        return 0
    return sum(1 for worker in status.get("workers", []) if worker.get("state") == "ALIVE")


def _stop_spark_session() -> None:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the master URL of a standalone cluster of two one-core workers on 127.0.0.1; stop it after."""
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("no Java runtime: `make java` installs one (the cluster's master and workers are JVMs)")
    folder = tmp_path_factory.mktemp("spark-cluster")
    port, ui_port = _free_port(), _free_port()
    environment = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_WORKER_DIR": str(folder / "work"),
        "PYSPARK_PYTHON": sys.executable,
    }
    spark_class = str(_spark_class())
    master = f"spark://127.0.0.1:{port}"
    started = [
        subprocess.Popen(
            [
                spark_class,
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(ui_port),
            ],
            env=environment,
            stdout=(folder / "master.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        for n in range(WORKERS):
            command = [spark_class, "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1"]
            command += [
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(_free_port()),
                "--work-dir",
                str(folder / f"work{n}"),
            ]
            started.append(
                subprocess.Popen(command, env=environment, stdout=(folder / f"worker{n}.log").open("w"), stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 120
        while _alive_workers(ui_port) < WORKERS:
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                logs = "\n".join((folder / name).read_text()[-2000:] for name in ("master.log", "worker0.log", "worker1.log"))
                pytest.fail(f"the standalone cluster did not come up with {WORKERS} workers:\n{logs}")
            time.sleep(0.5)
        _stop_spark_session()  # a local session of an earlier test would be reused instead of the cluster's
        yield master
    finally:
        _stop_spark_session()
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def on_cluster(config: Config, master: str) -> Config:
    """Return `config` computing on the cluster: executors of one core and 512 MB, a few shuffle partitions for a small company."""
    engine = EngineConfig(
        backend="pyspark",
        spark_master=master,
        spark_conf={"spark.executor.memory": "512m", "spark.executor.cores": "1", "spark.sql.shuffle.partitions": "4"},
    )
    return config.model_copy(update={"engine": engine})


def test_ingest_and_metrics_of_raw_exports_on_a_standalone_cluster_equal_one_process_and_duckdb(
    cluster: str, tmp_path: Path
) -> None:
    """The executors read the export files into a lake, and the metrics run over it: every table as one process and DuckDB leave it."""
    from repsight.config import load_config
    from repsight.ingest.run import run_ingest
    from repsight.metrics import run_metrics
    from repsight.synth import generate
    from repsight.workspace import init_workspace
    from tests.ingest.test_jobs import _stored

    company = tmp_path / "company"
    generate(company, people=50, months=3, seed=11)
    init_workspace(company, domains=["acme.example"], mail=["mail/*"], calendar=["calendar/*"])
    configs = {}
    for name in ("one", "cluster"):
        shutil.copytree(company, tmp_path / name)
        configs[name] = load_config(tmp_path / name / "repsight.toml")
    lake = on_cluster(configs["cluster"], cluster)
    engine = lake.engine.model_copy(update={"lake": str(tmp_path / "lake"), "spark_staging": str(tmp_path / "staging")})
    configs["cluster"] = lake.model_copy(update={"engine": engine})
    for config in configs.values():
        report = run_ingest(config)
        assert report.ok, [f.error for f in report.files]
        run_metrics(config)
    one, on_the_cluster = _stored(configs["one"]), _stored(configs["cluster"])
    assert len(one["messages"]) > 1000 and len(one["person_week"]) > 500
    for name in one:
        if name != "workspace":  # when the metrics ran
            assert on_the_cluster[name] == one[name], name
    assert sorted(p.name for p in (tmp_path / "lake").iterdir())[:2] == ["meeting_attendees", "meetings"]
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    assert session is not None and session.sparkContext.master == cluster  # the cluster's session, not a local one
