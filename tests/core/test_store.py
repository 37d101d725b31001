"""The store owns its connection: it reads the key itself, waits a little for a database another process holds, and upgrades an old workspace."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime

import pytest

from repsight.config import Config
from repsight.errors import StoreError
from repsight.ingest import run_ingest
from repsight.schema import SCHEMA_VERSION, TABLES
from repsight.sources.records import message_key
from repsight.store import Store
from tests.support import write_csv

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_database(config: Config, seconds: float) -> subprocess.Popen[str]:
    """Start another process that holds the workspace database's write lock for `seconds`; return once it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(config.database_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_open_reads_the_workspace_key_itself(workspace: Config) -> None:
    with Store.open(workspace) as store:
        assert store.key == workspace.key_path.read_text(encoding="utf-8").strip()


def test_a_writer_waits_for_a_database_another_process_holds_for_a_moment(workspace: Config) -> None:
    Store.open(workspace).close()
    holder = hold_database(workspace, 1.0)
    started = time.monotonic()
    with Store.open(workspace) as store:
        assert store.count("workspace") == 2  # schema version and key fingerprint
    assert time.monotonic() - started >= 0.5
    holder.wait(timeout=30)


def test_a_reader_does_not_wait_and_says_the_database_is_in_use(workspace: Config) -> None:
    Store.open(workspace).close()
    holder = hold_database(workspace, 30.0)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match="in use by another process"):
            Store.open(workspace, read_only=True)
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_writer_gives_up_after_its_wait_and_says_why(workspace: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    Store.open(workspace).close()
    monkeypatch.setattr("repsight.store.WRITER_LOCK_WAIT_SECONDS", 0.5)
    holder = hold_database(workspace, 30.0)
    try:
        with pytest.raises(StoreError, match="in use by another process") as raised:
            Store.open(workspace)
        assert str(workspace.database_path) in str(raised.value)
    finally:
        holder.kill()
        holder.wait(timeout=30)


# A workspace made before `messages.parent_key` (schema version 1).

V1_MESSAGES = (
    "message_key VARCHAR, sent_at TIMESTAMP, sender VARCHAR, sender_domain VARCHAR, recipient_count BIGINT, load_id BIGINT"
)


def make_version_1(config: Config, messages_columns: str = V1_MESSAGES) -> None:
    """Turn the workspace into one as version 1 left it: `messages` without parent_key, one message stored."""
    import duckdb

    Store.open(config).close()
    with duckdb.connect(str(config.database_path)) as db:
        db.execute("DROP TABLE messages")
        db.execute(f"CREATE TABLE messages ({messages_columns})")
        db.execute(
            "INSERT INTO messages (message_key, sent_at, sender, sender_domain, recipient_count, load_id) "
            "VALUES ('k1', TIMESTAMP '2025-01-06 09:30:00', 'p1', 'acme.example', 1, 1)"
        )
        db.execute("UPDATE workspace SET value = '1' WHERE name = 'schema_version'")


def test_a_writer_adds_the_parent_column_to_an_old_workspace_and_keeps_its_rows(workspace: Config) -> None:
    make_version_1(workspace)
    with Store.open(workspace) as store:
        assert list(store.table("messages").columns) == list(TABLES["messages"])
        assert store.to_arrow(store.table("messages")).to_pylist() == [
            {
                "message_key": "k1",
                "sent_at": datetime(2025, 1, 6, 9, 30),
                "sender": "p1",
                "sender_domain": "acme.example",
                "recipient_count": 1,
                "load_id": 1,
                "parent_key": None,
            }
        ]
        assert store.setting("schema_version") == str(SCHEMA_VERSION) == "9"
        assert store.count("workspace") == 2
    # A second open finds nothing to add.
    with Store.open(workspace) as store:
        assert store.setting("schema_version") == "9" and store.count("messages") == 1


def test_a_writer_adds_the_account_owner_to_a_version_4_workspace_and_keeps_its_rows(workspace: Config) -> None:
    import duckdb

    Store.open(workspace).close()
    with duckdb.connect(str(workspace.database_path)) as db:
        db.execute("DROP TABLE account_domains")
        db.execute("CREATE TABLE account_domains (domain VARCHAR, account_id VARCHAR, type VARCHAR)")
        db.execute("INSERT INTO account_domains VALUES ('northwind.example', 'A1', 'customer')")
        db.execute("DROP TABLE account_touches")
        db.execute("UPDATE workspace SET value = '4' WHERE name = 'schema_version'")
    with Store.open(workspace) as store:
        assert store.to_arrow(store.table("account_domains")).to_pylist() == [
            {"domain": "northwind.example", "account_id": "A1", "type": "customer", "owner": None}
        ]
        assert store.count("account_touches") == 0
        assert store.setting("schema_version") == "9"


def test_an_upgraded_workspace_stores_replies_and_a_second_load_adds_nothing(workspace: Config) -> None:
    make_version_1(workspace)
    write_csv(
        workspace.root / "mail" / "a.csv",
        ["message_id", "sent_at", "sender", "to", "cc", "bcc", "in_reply_to"],
        [["<a1@acme.example>", "2025-01-06T10:30:00Z", "ana@acme.example", "kim@customer.example", "", "", "<q1@acme.example>"]],
    )
    for new in (1, 0):
        (result,) = run_ingest(workspace, files=[("mail", workspace.root / "mail" / "a.csv")]).files
        assert (result.read, result.new, result.quarantined) == (1, new, 0)
    with Store.open(workspace, read_only=True) as store:
        rows = store.to_arrow(store.table("messages").select("message_key", "parent_key")).to_pylist()
    assert sorted(rows, key=lambda r: r["message_key"]) == [
        {"message_key": message_key("a1@acme.example", ()), "parent_key": message_key("q1@acme.example", ())},
        {"message_key": "k1", "parent_key": None},
    ]


def test_a_reader_reads_an_old_workspace_as_it_is(workspace: Config) -> None:
    make_version_1(workspace)
    with Store.open(workspace, read_only=True) as store:
        messages = store.table("messages")
        assert "parent_key" not in messages.columns
        assert store.to_arrow(messages.select("message_key", "sender")).to_pylist() == [{"message_key": "k1", "sender": "p1"}]
        assert store.setting("schema_version") == "1"
    with Store.open(workspace) as store:  # the writer upgrades it
        assert "parent_key" in store.table("messages").columns


def test_a_table_whose_columns_are_in_another_order_is_refused_not_mixed_up(workspace: Config) -> None:
    make_version_1(
        workspace,
        "sent_at TIMESTAMP, message_key VARCHAR, sender VARCHAR, sender_domain VARCHAR, recipient_count BIGINT, load_id BIGINT",
    )
    with pytest.raises(StoreError, match=r"repsight\.duckdb: table messages has the columns sent_at, message_key, .*") as raised:
        Store.open(workspace)
    assert "can only add the missing ones at the end" in str(raised.value)
    with Store.open(workspace, read_only=True) as store:  # nothing was changed
        assert "parent_key" not in store.table("messages").columns and store.setting("schema_version") == "1"


def test_status_reads_a_workspace_that_lacks_the_tables_added_since(workspace: Config) -> None:
    import duckdb

    from repsight.workspace import workspace_status

    Store.open(workspace).close()
    with duckdb.connect(str(workspace.database_path)) as db:
        db.execute("DROP TABLE week_ties")
        db.execute("DROP TABLE digest_sent")
    status = workspace_status(workspace)  # reads only: it adds nothing, and counts nothing for them
    assert status.tables["week_ties"] == status.tables["digest_sent"] == 0
    with duckdb.connect(str(workspace.database_path), read_only=True) as db:
        assert not db.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'week_ties'").fetchone()[0]
