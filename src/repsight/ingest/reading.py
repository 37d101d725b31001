"""Reading an input file, here or in other processes (`repsight ingest --jobs N`).

A load is two halves: a reader turns a file into records, and a loader
pseudonymises them and stores them. With `--jobs N`, N processes run the
readers, each writing what it read to a spool file beside the workspace
database; the main process replays the spools through the loaders one file
after another, in load order, exactly as it would have read them. So the
store holds the same rows, load ids, quarantine and identities as a
single-process load (the first copy of a duplicated event is the one of the
first file, and batches commit at the same records), and only the reading,
where most of the time goes, runs in parallel.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from repsight.errors import InputError

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.sources import Source

__all__ = ["FileRead", "read_here", "read_in_processes"]

_CHUNK = 2048
"""Records per pickled chunk of a spool (a batch of events is a chunk of its own)."""


class FileRead(Protocol):
    """One file being read: its size, its records with the bytes read so far, and its SHA-256 once read."""

    size: int

    def records(self) -> Iterator[tuple[int, Any]]:
        """Yield (bytes read so far, record) in the reader's order; raise what the reader raised, where it raised it."""
        ...

    def sha256(self) -> str: ...


def _reader(kind: str, path: Path, config: Config) -> Any:
    """Return the reader of `kind` for `path`, with the settings the Salesforce reader needs."""
    from repsight.sources import reader_for

    reader = reader_for(kind, path)
    if kind == "salesforce":  # the one reader that needs settings: the type mapping, the quota period, free-mail domains
        reader = partial(reader, settings=config.salesforce, personal_domains=config.company.personal_domains)  # type: ignore[call-arg]
    return reader


@dataclass
class _Here:
    """A file read in this process, as the load goes."""

    source: Source
    reader: Any
    size: int

    def records(self) -> Iterator[tuple[int, Any]]:
        for record in self.reader(self.source):
            yield self.source.bytes_read, record

    def sha256(self) -> str:
        digest: str = self.source.counter.sha256.hexdigest()
        return digest


@contextmanager
def read_here(kind: str, path: Path, config: Config) -> Iterator[FileRead]:
    """Open `path` to be read by the reader of `kind` in this process; an unreadable file raises `InputError` here."""
    from repsight.ingest.run import calendar_window
    from repsight.sources import open_source

    reader = _reader(kind, path, config)
    with open_source(path, calendar_window(config)) as source:
        yield _Here(source, reader, source.size)


@dataclass
class _Spooled:
    """What a reading process left: the file's size and digest, its spool, and the error that stopped it, if any."""

    opened: bool = False
    """False where the file could not be opened at all (`error` says why)."""
    size: int = 0
    digest: str = ""
    spool: Path | None = None
    error: BaseException | None = None

    def records(self) -> Iterator[tuple[int, Any]]:
        if self.spool is not None:
            with self.spool.open("rb") as spool:
                while chunk := _next_chunk(spool):
                    bytes_read, records = chunk
                    for record in records:
                        yield bytes_read, record
        if self.error is not None:
            raise self.error

    def sha256(self) -> str:
        return self.digest


def _next_chunk(spool: IO[bytes]) -> tuple[int, list[Any]] | None:
    try:
        chunk: tuple[int, list[Any]] = pickle.load(spool)
    except EOFError:
        return None
    return chunk


def _sendable(exc: BaseException) -> BaseException:
    """Return `exc` as it can cross to the main process: with the reading process's traceback as a note (`--debug` shows it)."""
    exc.add_note("".join(traceback.format_exception(exc)).rstrip())
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        plain = RuntimeError(f"{type(exc).__name__}: {exc}")
        plain.add_note("".join(traceback.format_exception(exc)).rstrip())
        return plain
    return exc


def _read_to_spool(kind: str, path: Path, config: Config, spool: Path) -> _Spooled:
    """Read `path` in a worker process, pickling its records to `spool` in chunks; return what `_Spooled` needs."""
    try:
        opened = read_here(kind, path, config)
        read = opened.__enter__()
    except Exception as exc:
        return _Spooled(error=_sendable(exc))
    result = _Spooled(opened=True, size=read.size, spool=spool)
    try:
        with spool.open("wb") as out:
            chunk: list[Any] = []
            bytes_read = 0
            try:
                for bytes_read, record in _grouped(kind, read.records()):
                    chunk.append(record)
                    if len(chunk) >= _CHUNK or not _is_single(record):
                        pickle.dump((bytes_read, chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
                        chunk = []
            except Exception as exc:  # the main process raises it after the records read before it, as a load here would
                result.error = _sendable(exc)
            if chunk:
                pickle.dump((bytes_read, chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
        result.digest = read.sha256()
    finally:
        opened.__exit__(None, None, None)
    return result


def _grouped(kind: str, records: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    """Yield `records` with each run of single messages or meetings as one batch, cut where the main process's load commits.

    A batch crosses processes far faster than its records one by one. The
    main process adds a batch to its loader as it would add the records, and
    the runs end at the records after which it would commit (`BATCH_SIZE`
    events pending, or as many rejected), so its batches, and what each
    stores, are the same.
    """
    from repsight.ingest.run import BATCH_SIZE
    from repsight.sources.records import MeetingBatch, MessageBatch, Rejected

    types: dict[str, type[MessageBatch] | type[MeetingBatch]] = {"mail": MessageBatch, "calendar": MeetingBatch}
    batch_type = types.get(kind)
    if batch_type is None:
        yield from records
        return
    run: list[Any] = []
    pending = rejected = last = 0
    for bytes_read, record in records:
        if isinstance(record, batch_type | Rejected):
            if run:
                yield last, batch_type.of(run)
                run = []
            yield bytes_read, record
            pending, rejected = (pending, rejected + 1) if isinstance(record, Rejected) else (pending + len(record), rejected)
        else:
            run.append(record)
            pending, last = pending + 1, bytes_read
        if pending >= BATCH_SIZE or rejected >= BATCH_SIZE:  # the main process commits after this record
            if run:
                yield last, batch_type.of(run)
                run = []
            pending = rejected = 0
        elif len(run) >= _CHUNK:
            yield last, batch_type.of(run)
            run = []
    if run:
        yield last, batch_type.of(run)


def _is_single(record: Any) -> bool:
    from repsight.sources.records import MeetingBatch, MessageBatch

    return not isinstance(record, MessageBatch | MeetingBatch)


@contextmanager
def read_in_processes(
    files: list[tuple[str, Path]], config: Config, jobs: int
) -> Iterator[Iterator[AbstractContextManager[FileRead]]]:
    """Read `files` in `jobs` processes; yield, in the order of `files`, a read of each to enter once its process has finished it.

    Entering a read of a file that could not be opened raises its
    `InputError`, as `read_here` does; leaving it deletes its spool. At most
    twice `jobs` files are read ahead of the one being stored, so the spools
    on disk stay bounded.
    """
    folder = Path(tempfile.mkdtemp(prefix=".repsight-ingest-", dir=config.database_path.parent))
    # "spawn": the main process holds the open DuckDB database, which a forked child must not inherit.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
    pending: dict[int, Future[_Spooled]] = {}

    def submit(index: int) -> None:
        kind, path = files[index]
        pending[index] = pool.submit(_read_to_spool, kind, path, config, folder / f"{index}.pickle")

    def reads() -> Iterator[AbstractContextManager[FileRead]]:
        ahead = min(len(files), 2 * jobs)
        for index in range(ahead):
            submit(index)
        for index in range(len(files)):
            if ahead < len(files):
                submit(ahead)
                ahead += 1
            yield _replayed(pending.pop(index))

    try:
        yield reads()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _replayed(future: Future[_Spooled]) -> Iterator[FileRead]:
    """Wait for a file's reading process; yield its spooled read (raising where it could not be opened); delete the spool."""
    spooled = future.result()
    try:
        if not spooled.opened:
            raise spooled.error if spooled.error is not None else InputError("the file could not be read")
        yield spooled
    finally:
        if spooled.spool is not None:
            spooled.spool.unlink(missing_ok=True)
