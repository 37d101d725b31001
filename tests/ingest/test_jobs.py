"""`repsight ingest --jobs N`: N processes read the files, and the store ends exactly as a load in one process leaves it."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from repsight.cli import app
from repsight.config import Config, load_config
from repsight.ingest import reading, run
from repsight.ingest.run import configured_files, ingest_file, run_ingest
from repsight.privacy import Pseudonymizer
from repsight.schema import TABLES
from repsight.store import Store
from repsight.synth import generate
from repsight.workspace import init_workspace
from tests.support import write_csv

RUN_TIMES = {"loads": ("started_at", "finished_at")}
"""Columns that hold when a run happened, not what it stored."""


def _company(root: Path, people: int = 100) -> Config:
    """Write a small company in every format, with what makes loading order matter; return its configuration.

    A mailbox exported twice (the second copy under other display names: the
    first file's copy of an event must win), a CSV mail file with rows to
    quarantine, a file no reader can open, and an excluded person.
    """
    generate(root, people=people, months=3, seed=5)
    # Small Graph exports (JSON lines: a record per event) at both ends of the load order, the second a copy.
    lines = (root / "mail" / "export-003.json").read_text().splitlines()[:300]
    # Within a file too, people under two display names, the one in capitals first, on either side of where
    # a batch of 5, 7 or 40 ends: the name stored is the first batch's, so it shows where batches are cut.
    shifting = list(lines)
    for last in (5, 7, 40):
        for number, name in ((last - 1, f"BATCH {last}"), (last, f"Batch {last}")):
            shifting[number] = _sent_by(lines[number], f"batch{last}@acme.example", name)
    (root / "mail" / "aa-first.json").write_text("\n".join(shifting) + "\n")
    (root / "mail" / "zz-second-copy.json").write_text("\n".join(_shouted(line) for line in lines) + "\n")
    events = (root / "calendar" / "export-003.json").read_text().splitlines()[:200]
    (root / "calendar" / "aa-first.json").write_text("\n".join(events) + "\n")
    write_csv(
        root / "mail" / "bad.csv",
        ["message_id", "sent_at", "sender", "to", "cc", "bcc"],
        [
            ["b1", "not a time", "ana@acme.example", "ben@acme.example", "", ""],
            ["b2", "2025-01-07T09:00:00Z", "", "ben@acme.example", "", ""],
        ],
    )
    (root / "mail" / "unknown.xyz").write_bytes(b"\x00\x01 no reader knows this")
    roster = (root / "roster.csv").read_text().splitlines()
    excluded = roster[5].split(",")[0]
    config = init_workspace(root, domains=["acme.example"], mail=["mail/*"], calendar=["calendar/*"])
    text = config.path.read_text().replace("excluded = []", f'excluded = ["{excluded}"]')
    config.path.write_text(text)
    return load_config(config.path)


def _shouted(line: str) -> str:
    """Return a Graph message (a JSON line) with its sender's display name in capitals."""
    message = json.loads(line)
    message["from"]["emailAddress"]["name"] = message["from"]["emailAddress"].get("name", "").upper()
    return json.dumps(message)


def _sent_by(line: str, address: str, name: str) -> str:
    """Return a Graph message (a JSON line) as sent by `address` under `name`."""
    message = json.loads(line)
    message["from"] = {"emailAddress": {"address": address, "name": name}}
    return json.dumps(message)


def _stored(config: Config) -> dict[str, list[tuple[Any, ...]]]:
    """Return every table of the workspace as sorted rows, paths relative to the workspace, without run times."""
    root = str(config.root)
    found = {}
    with Store.open(config, read_only=True) as store:
        for name in TABLES:
            rows = store.to_arrow(store.table(name)).drop_columns(list(RUN_TIMES.get(name, ()))).to_pylist()
            shown = [tuple(str(v).replace(root, "<root>") if isinstance(v, str) else v for v in row.values()) for row in rows]
            found[name] = sorted(shown, key=repr)
    return found


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("company")


def _workspace(company: Path, tmp_path: Path, name: str) -> Config:
    root = tmp_path / name
    if not (company / "repsight.toml").exists():
        _company(company)
    shutil.copytree(company, root, ignore=shutil.ignore_patterns("*.duckdb*"))
    return load_config(root / "repsight.toml")


def test_two_and_three_jobs_store_exactly_what_one_stores(company: Path, tmp_path: Path) -> None:
    one = _workspace(company, tmp_path, "one")
    reports = {1: run_ingest(one)}
    stored = _stored(one)
    assert len(stored["messages"]) > 1000 and len(stored["meetings"]) > 500
    assert len(stored["quarantine"]) >= 2 and stored["identities"]
    for jobs in (2, 3):
        config = _workspace(company, tmp_path, f"jobs{jobs}")
        reports[jobs] = run_ingest(config, jobs=jobs)
        assert _stored(config) == stored
    errors = {
        jobs: [(f.path.name, (f.error or "").split(": ", 1)[1]) for f in report.files if f.error]
        for jobs, report in reports.items()
    }
    assert errors[1] == errors[2] == errors[3]
    assert [name for name, _ in errors[1]] == ["unknown.xyz"]
    counts = {jobs: [(f.path.name, f.read, f.new, f.quarantined, f.left_out) for f in r.files] for jobs, r in reports.items()}
    assert counts[1] == counts[2] == counts[3]
    assert sum(left_out for *_, left_out in counts[1]) > 0


def test_a_second_load_with_jobs_adds_nothing(company: Path, tmp_path: Path) -> None:
    config = _workspace(company, tmp_path, "again")
    run_ingest(config, jobs=2)
    before = _stored(config)
    again = run_ingest(config, jobs=2)
    assert again.total().new == 0
    after = _stored(config)
    events = ("messages", "message_recipients", "meetings", "meeting_attendees", "identities")
    assert [after[name] for name in events] == [before[name] for name in events]


def _spooled_here(kind: str, path: Path, config: Config, spool: Path) -> Any:
    """Return `reading._replayed` of a file spooled in this process (so that a patched BATCH_SIZE reaches the reader's side too)."""
    future: Future[Any] = Future()
    future.set_result(reading._read_to_spool(kind, path, config, spool))
    return reading._replayed(future)


@pytest.mark.parametrize(("batch", "chunk"), [(7, 3), (5, 64), (40, 6)])
def test_batches_replayed_from_a_spool_commit_where_a_load_here_commits(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int, chunk: int
) -> None:
    """Runs of records cross as batches, cut at the records after which the load commits: every commit stores the same."""
    monkeypatch.setattr(run, "BATCH_SIZE", batch)
    monkeypatch.setattr(reading, "_CHUNK", chunk)
    stores = []
    for how in ("here", "spooled"):
        config = _workspace(company, tmp_path, how)
        small = ("aa-first.json", "bad.csv", "zz-second-copy.json")
        files = [(k, p) for k, p in configured_files(config)[0] if p.name in small]
        assert len(files) == 4
        with Store.open(config) as store:
            pseudo = Pseudonymizer(store.key)
            for index, (kind, path) in enumerate(files):
                read = _spooled_here(kind, path, config, tmp_path / f"{how}{index}.pickle") if how == "spooled" else None
                ingest_file(store, pseudo, config, kind, path, excluded=set(), read=read)
        stores.append(_stored(config))
    names = {email: name for _, email, name in stores[0]["identities"] if email.startswith("batch")}
    assert names == {
        f"batch{last}@acme.example": f"BATCH {last}" if last % batch == 0 else f"Batch {last}" for last in (5, 7, 40)
    }
    assert stores[0] == stores[1]


def test_a_reader_that_fails_half_way_keeps_the_same_batches_when_spooled(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader's error after some records: the batches committed before it stay, the same read here or in another process."""
    real = reading._reader
    monkeypatch.setattr(run, "BATCH_SIZE", 50)

    def failing(kind: str, path: Path, config: Config) -> Any:
        def read(source: Any) -> Any:
            for number, record in enumerate(real(kind, path, config)(source)):
                if number == 120:
                    raise RuntimeError("the reader broke")
                yield record

        return read

    monkeypatch.setattr(reading, "_reader", failing)
    results = []
    for how in ("here", "spooled"):
        config = _workspace(company, tmp_path, how)
        kind, path = next((k, p) for k, p in configured_files(config)[0] if p.name == "aa-first.json")
        with Store.open(config) as store:
            pseudo = Pseudonymizer(store.key)
            read = _spooled_here(kind, path, config, tmp_path / f"{how}.pickle") if how == "spooled" else None
            with pytest.raises(RuntimeError, match="the reader broke") as raised:
                ingest_file(store, pseudo, config, kind, path, excluded=set(), read=read)
            loads = store.table("loads")
            unfinished = store.to_arrow(loads.filter(loads.finished_at.isnull()).count().as_table())
        if how == "spooled":
            assert "in read" in "".join(raised.value.__notes__), "the reading process's traceback comes along for --debug"
        stored = _stored(config)
        assert len(stored["messages"]) == 100 and unfinished[0][0].as_py() == 1  # two batches of 50; the load never finished
        results.append(stored)
    assert results[0] == results[1]


def test_the_cli_takes_jobs(company: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    config = _workspace(company, tmp_path, "cli")
    result = CliRunner().invoke(app, ["ingest", "-c", str(config.path), "--jobs", "2"])
    assert result.exit_code == 1, result.output  # unknown.xyz has no reader
    assert "unknown.xyz" in result.output and "Traceback" not in result.output
    with Store.open(config, read_only=True) as store:
        assert store.to_arrow(store.table("messages").count().as_table())[0][0].as_py() > 1000
    assert not list(config.root.glob(".repsight-ingest-*")), "the spool folder is removed"
