"""A lake on an object store (`[engine] lake = "s3://…"`): the workspace reads it through fsspec, as it reads a lake folder.

An S3 server (moto's, on loopback) holds the lake of a bulk company (the
layout Spark's ingest writes: docs/spark.md, *The lake*); a workspace whose
own event tables are empty reads the same rows from it as the company's
workspace holds, plans from it, finishes a replacement stopped half-way,
and finds a person's rows for `forget`. Spark's side of an object store
(`s3a://` through Hadoop's S3 connector) is the cluster's: the pip
package of PySpark does not carry the connector.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from repsight.config import Config, EngineConfig
from repsight.errors import StoreError
from repsight.lake import EVENT_TABLES, Lake, LakeNotMounted, move_folder
from repsight.lake.ingest import check_lake
from repsight.metrics.incremental import event_spans
from repsight.schema import KEYS, TABLES
from repsight.store import Store
from repsight.workspace import init_workspace
from tests.support import REPO, TEST_KEY

if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

from bulk import generate_store  # bench/, put on the path above

BUCKET = "repsight-lake"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3() -> Iterator[object]:
    """An S3 server on loopback, and the environment that points s3fs (botocore) at it; the file system, emptied after."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    before = {name: os.environ.get(name) for name in [*CREDENTIALS, "AWS_ENDPOINT_URL"]}
    os.environ.update(CREDENTIALS, AWS_ENDPOINT_URL=f"http://{host}:{port}")
    import fsspec

    store = fsspec.filesystem("s3", skip_instance_cache=True)
    fsspec.filesystem("s3").clear_instance_cache()  # the instance the workspace takes sees this server
    store.mkdir(BUCKET)
    try:
        yield store
    finally:
        fsspec.filesystem("s3").clear_instance_cache()
        server.stop()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory, s3: object) -> tuple[Config, Config]:
    """A bulk company's workspace (its events in its own tables), and a copy reading them from its lake on S3 (own tables emptied)."""
    root = tmp_path_factory.mktemp("object-store")
    config = init_workspace(root / "local", domains=["acme.example"], timezone="America/New_York")
    generate_store(config, TEST_KEY, people=60, months=3, seed=3, lake=root / "local" / "lake")
    s3.put(str(root / "local" / "lake"), f"{BUCKET}/lake", recursive=True)  # type: ignore[attr-defined]
    shutil.copytree(root / "local", root / "remote", ignore=shutil.ignore_patterns("lake"))
    with duckdb.connect(str(root / "remote" / "repsight.duckdb")) as con:
        for name in EVENT_TABLES:
            con.execute(f"DELETE FROM {name}")
    remote = config.model_copy(
        update={
            "path": root / "remote" / "repsight.toml",
            "engine": EngineConfig(backend="pyspark", spark_master="local[2]", lake=f"s3://{BUCKET}/lake"),
        }
    )
    return config, remote


def _rows(config: Config, name: str) -> pa.Table:
    with Store.open(config, read_only=True, key=TEST_KEY) as store:
        return store.to_arrow(store.table(name)).sort_by([(c, "ascending") for c in KEYS[name]])


def test_the_workspace_reads_the_same_events_from_the_lake_on_s3(company: tuple[Config, Config]) -> None:
    local, remote = company
    with Store.open(remote, read_only=True, key=TEST_KEY) as store:
        assert store.lake == Lake(f"s3://{BUCKET}/lake", None)
        assert store.own_events() == 0, "the events read below are the lake's"
    for name in EVENT_TABLES:
        expected = _rows(local, name)
        assert expected.num_rows > 0
        assert _rows(remote, name) == expected, name
    with Store.open(local, read_only=True, key=TEST_KEY) as one, Store.open(remote, read_only=True, key=TEST_KEY) as other:
        assert event_spans(other, remote) == event_spans(one, local)  # the plan of an incremental run reads these
    # Open-source Spark's name for the same bucket (Hadoop's S3A connector).
    hadoop = remote.model_copy(update={"engine": remote.engine.model_copy(update={"lake": f"s3a://{BUCKET}/lake/"})})
    assert _rows(hadoop, "messages") == _rows(local, "messages")


def test_a_file_written_since_is_read_and_a_stopped_replacement_is_finished(company: tuple[Config, Config], s3: object) -> None:
    local, remote = company
    before = _rows(remote, "meetings").num_rows
    files = s3.glob(f"{BUCKET}/lake/meetings/week=*/*.parquet")  # type: ignore[attr-defined]
    # A replacement of the table stopped between its renames: the old folder moved aside, the new one complete.
    for path in files:
        s3.copy(path, path.replace("/meetings/", "/meetings.new/"))  # type: ignore[attr-defined]
    s3.pipe(f"{BUCKET}/lake/meetings.new/_SUCCESS", b"")  # type: ignore[attr-defined]
    move_folder(s3, f"{BUCKET}/lake/meetings", f"{BUCKET}/lake/meetings.old")
    assert _rows(remote, "meetings").num_rows == before
    assert sorted(s3.glob(f"{BUCKET}/lake/meetings/week=*/*.parquet")) == sorted(files)  # type: ignore[attr-defined]
    assert not s3.exists(f"{BUCKET}/lake/meetings.old") and not s3.exists(f"{BUCKET}/lake/meetings.new")  # type: ignore[attr-defined]
    # The files are listed at each read: one taken away, then written again.
    first = sorted(files)[0]
    data = s3.cat(first)  # type: ignore[attr-defined]
    s3.rm(first)  # type: ignore[attr-defined]
    assert _rows(remote, "meetings").num_rows < before
    s3.pipe(first, data)  # type: ignore[attr-defined]
    assert _rows(remote, "meetings") == _rows(local, "meetings")


def test_forget_finds_a_persons_rows_in_the_lake_on_s3(company: tuple[Config, Config], s3: object) -> None:
    import pyarrow.parquet as pq

    _, remote = company
    sender = _rows(remote, "messages")["sender"][0].as_py()
    nobody = ["0" * 32]
    with Store.open(remote, read_only=True, key=TEST_KEY) as store:
        assert store._lake_mentions([sender], [])
        assert not store._lake_mentions(nobody, ["ana.lopez@acme.example"])
    # A quarantine row that names someone only in its free text: their address, in any case, or their pseudonym.
    columns = {
        "load_id": [1, 1],
        "source": ["mail/a.csv", "mail/a.csv"],
        "kind": ["mail", "mail"],
        "position": ["row 2", "row 3"],
        "field": ["to", "to"],
        "reason": ["not an address: 'Ana.Lopez@ACME.example;'", f"unknown sender {'f' * 32}"],
    }
    rows = pa.table(columns, schema=pa.schema([(name, pa.int64() if name == "load_id" else pa.string()) for name in columns]))
    assert rows.column_names == list(TABLES["quarantine"])
    with s3.open(f"{BUCKET}/lake/quarantine/part-0.parquet", "wb") as file:  # type: ignore[attr-defined]
        pq.write_table(rows, file)
    try:
        with Store.open(remote, read_only=True, key=TEST_KEY) as store:
            assert store._lake_mentions(nobody, ["ana.lopez@acme.example"])
            assert store._lake_mentions(["f" * 32], [])
            assert not store._lake_mentions(nobody, ["ana.lopes@acme.example"])
    finally:
        s3.rm(f"{BUCKET}/lake/quarantine", recursive=True)  # type: ignore[attr-defined]


def test_ingest_checks_that_the_workspace_can_read_the_lake(
    company: tuple[Config, Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, remote = company
    with Store.open(remote, key=TEST_KEY) as store:
        assert check_lake(store, remote) == Lake(f"s3://{BUCKET}/lake", None)

        def missing(uri: str) -> None:
            raise ImportError(f"Install s3fs to access {uri}")

        monkeypatch.setattr("repsight.lake._filesystem", missing)
        with pytest.raises(StoreError, match=r"reads the lake with s3fs: pip install 'repsight\[s3\]'"):
            check_lake(store, remote)
        unknown = remote.model_copy(update={"engine": remote.engine.model_copy(update={"lake": "hdfs://namenode/lake"})})
        with pytest.raises(LakeNotMounted, match="hdfs://namenode/lake"):
            check_lake(store, unknown)
