"""The ingest stage: read the configured inputs, pseudonymise, quarantine, store.

Every table is keyed, so loading the same records again adds nothing. A
reference file (roster, accounts, KPIs, ...) is a snapshot: loaded again, it
also changes what it changed and removes what it no longer has.
Events are committed in batches, each with its quarantine entries, so
memory stays flat whatever a file's size; an interrupted load keeps whole
batches, and loading the file again completes it.

Privacy (docs/privacy.md): the people of `[privacy] excluded` and those
forgotten (`repsight forget`) are left out of every file, and what an
earlier load stored of someone excluded since is removed first; with
`[privacy] retention_months` set, events older than the retention are
deleted at the end of every run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from repsight.config import Config
from repsight.errors import InputError, StoreError
from repsight.ingest.loaders import LOADERS
from repsight.ingest.reading import FileRead, read_here, read_in_processes
from repsight.privacy import Pseudonymizer
from repsight.sources import Window
from repsight.sources.records import MeetingBatch, MessageBatch, Rejected
from repsight.store import Store

if TYPE_CHECKING:
    from rich.console import Group

__all__ = ["FileResult", "IngestReport", "Progress", "calendar_window", "configured_files", "ingest_file", "run_ingest"]

BATCH_SIZE = 20_000

LAKE_KINDS = ("mail", "calendar")
"""The kinds of input read on Spark into the lake where there is one (`[engine] lake`)."""


@dataclass
class FileResult:
    """What loading one file did. loaded + quarantined = read; `new` of `loaded` were not stored before.

    A reference file (`SNAPSHOT_KINDS`) is a snapshot: `changed` of `loaded`
    were stored before with other values, and `removed` keys that an earlier
    load of the same file stored are gone because the file no longer has them
    (or has them only on a quarantined row). Events are never changed or removed.
    """

    kind: str
    path: Path
    read: int = 0
    loaded: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    quarantined: int = 0
    left_out: int = 0
    """Records of excluded or forgotten people left out (counted in `loaded`: nothing is wrong with them; docs/privacy.md)."""
    seconds: float = 0.0
    error: str | None = None
    exception: Exception | None = field(default=None, repr=False)
    """The unexpected error behind `error`, kept for `--debug`."""


@dataclass
class IngestReport:
    """What an ingest run did, file by file."""

    files: list[FileResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.error is None for f in self.files)

    def total(self, kind: str | None = None) -> FileResult:
        """Return the sums over all files (of one kind, if given)."""
        chosen = [f for f in self.files if kind is None or f.kind == kind]
        return FileResult(
            kind=kind or "all",
            path=Path("(total)"),
            read=sum(f.read for f in chosen),
            loaded=sum(f.loaded for f in chosen),
            new=sum(f.new for f in chosen),
            changed=sum(f.changed for f in chosen),
            removed=sum(f.removed for f in chosen),
            quarantined=sum(f.quarantined for f in chosen),
            left_out=sum(f.left_out for f in chosen),
            seconds=sum(f.seconds for f in chosen),
        )

    def render(self, root: Path) -> Group:
        """Return the report for a terminal: a table of the files (names relative to `root`), then the notes."""
        from repsight.ingest.render import ingest_view

        return ingest_view(self, root)

    def __rich__(self) -> Group:
        """Return the report for a terminal, file names relative to the current folder."""
        return self.render(Path.cwd())


class Progress(Protocol):
    """Where a load reports how far it is (the CLI draws Rich progress bars)."""

    def start(self, path: Path, total_bytes: int) -> None: ...
    def advance(self, bytes_read: int, records: int) -> None: ...
    def finish(self) -> None: ...


def ingest_file(
    store: Store,
    pseudo: Pseudonymizer,
    config: Config,
    kind: str,
    path: Path,
    progress: Progress | None = None,
    excluded: set[str] | None = None,
    read: AbstractContextManager[FileRead] | None = None,
) -> FileResult:
    """Load one file of `kind` into the store; return what it did.

    Events are committed batch by batch, each batch with its quarantine
    entries, so memory stays flat however large the file. A reference file
    is stored whole, in one transaction, and replaces what its earlier load
    stored (`FileResult.changed`, `.removed`). A load that is
    interrupted keeps whole batches and its `loads` row has no
    `finished_at`; loading the file again adds the rest and doubles nothing.
    The records of `excluded` people (pseudonyms) are left out
    (`FileResult.left_out`); `run_ingest` passes the configured and forgotten ones.
    `read` is the file as another process read it (`reading.read_in_processes`);
    without it the file is read here.
    """
    result = FileResult(kind, path)
    started = time.perf_counter()
    opened = read if read is not None else read_here(kind, path, config)
    load_id = store.next_load_id()
    rejected: list[Rejected] = []
    loader = LOADERS[kind](store, pseudo, config, load_id, excluded)

    def commit() -> None:
        with store.transaction():
            result.new += loader.flush()
            store.insert_new("quarantine", _quarantine_rows(rejected, load_id, str(path), kind))
        result.changed, result.removed, result.left_out = loader.changed, loader.removed, loader.left_out
        result.quarantined += len(rejected)
        rejected.clear()

    with opened as source:
        store.start_load(load_id, str(path), kind, source.size)
        if progress is not None:
            progress.start(path, source.size)
        reported, bytes_read = 0, 0
        for bytes_read, item in source.records():
            if isinstance(item, MessageBatch | MeetingBatch):
                result.read += len(item)
                loader.add(item)
            else:
                result.read += 1
                problem = item if isinstance(item, Rejected) else loader.add(item)
                if problem is not None:
                    rejected.append(problem)
            if loader.streams and (loader.pending >= BATCH_SIZE or len(rejected) >= BATCH_SIZE):
                commit()
            if progress is not None and result.read - reported >= 2048:
                progress.advance(bytes_read, result.read)
                reported = result.read
        commit()
        if progress is not None:
            progress.advance(source.size, result.read)
            progress.finish()
        result.loaded = result.read - result.quarantined
        store.finish_load(
            load_id,
            sha256=source.sha256(),
            rows_read=result.read,
            rows_loaded=result.loaded,
            rows_new=result.new,
            rows_quarantined=result.quarantined,
            rows_changed=result.changed,
            rows_removed=result.removed,
        )
    result.seconds = time.perf_counter() - started
    return result


def calendar_window(config: Config) -> Window:
    """Return the span recurring meetings are expanded within, from `[sources] calendar_from/until`."""
    start, until = config.sources.calendar_from, config.sources.calendar_until
    return Window(
        start=datetime.combine(start, datetime.min.time(), UTC) if start else None,
        end=datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC) if until else None,
    )


def _quarantine_rows(rejected: list[Rejected], load_id: int, source: str, kind: str) -> pa.Table:
    return pa.table(
        {
            "load_id": pa.array([load_id] * len(rejected), pa.int64()),
            "source": pa.array([source] * len(rejected), pa.string()),
            "kind": pa.array([kind] * len(rejected), pa.string()),
            "position": pa.array([r.position for r in rejected], pa.string()),
            "field": pa.array([r.field for r in rejected], pa.string()),
            "reason": pa.array([r.reason for r in rejected], pa.string()),
        }
    )


def configured_files(config: Config) -> tuple[list[tuple[str, Path]], list[str]]:
    """Return the (kind, path) pairs the configuration names, in load order, and notes."""
    files: list[tuple[str, Path]] = []
    notes: list[str] = []
    sources = config.sources

    def single(kind: str, name: str | None) -> None:
        if name:
            files.append((kind, config.resolve(name)))

    def globs(kind: str, patterns: list[str]) -> None:
        matched = config.expand(patterns)
        if patterns and not matched:
            notes.append(f"{kind}: no file matches {', '.join(patterns)}")
        files.extend((kind, path) for path in matched)

    # People first (the roster, who each Viva PersonId is, the person query's HR columns), then what refers to them.
    # Several dated roster files (`roster = "roster/roster-*.csv"`) load in name order: an org chart's history.
    if sources.roster and any(c in sources.roster for c in "*?["):
        globs("roster", [sources.roster])
    else:
        single("roster", sources.roster)
    single("viva_identities", sources.viva_identities)
    globs("viva", sources.viva)
    single("accounts", sources.accounts)
    single("kpis", sources.kpis)
    single("salesforce", sources.salesforce)
    globs("mail", sources.mail)
    globs("calendar", sources.calendar)
    return files, notes


def run_ingest(
    config: Config,
    *,
    files: Iterable[tuple[str, Path]] | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> IngestReport:
    """Load the configured inputs (or the given files) into the workspace; return what happened.

    A file that cannot be read at all is reported with its error and the
    others still load. The people of `[privacy] excluded` and the forgotten
    are left out, and what is stored of someone excluded since an earlier
    load is removed; with `[privacy] retention_months`, older events are
    deleted once the files are loaded (docs/privacy.md).

    With `jobs` above 1, that many processes read the files while this one
    stores them in order (`reading`): the store ends exactly as with one.
    """
    from repsight.forget import erase, forgotten_people
    from repsight.privacy import excluded_addresses
    from repsight.retention import purge_store

    report = IngestReport()
    if files is None:
        files, report.notes = configured_files(config)
    addresses = excluded_addresses(config)  # a wrong [privacy] setting stops the run before anything is stored
    with Store.open(config) as store:
        pseudo = Pseudonymizer(store.key)
        objected = {pseudo(address) for address in addresses}
        excluded = objected | forgotten_people(store)
        if objected:
            removed = sum(erase(store, objected, addresses).values())
            if removed:
                report.notes.append(
                    f"privacy: removed {removed:,} stored rows of people added to [privacy] excluded since they were loaded"
                )
        files = list(files)
        events: list[tuple[str, Path]] = []
        if store.lake is not None:  # mail and calendars are read on Spark, into the lake (`repsight.lake.ingest`)
            from repsight.lake.ingest import check_lake

            events = [(kind, path) for kind, path in files if kind in LAKE_KINDS]
            files = [(kind, path) for kind, path in files if kind not in LAKE_KINDS]
            if events:
                check_lake(store, config)  # before anything is stored
        with _reads(files, config, jobs) as reads:
            _load_files(store, pseudo, config, files, reads, progress, excluded, report)
        if events:
            from repsight.lake.ingest import load_into_lake

            report.files.extend(load_into_lake(store, config, events, excluded))
        left_out = report.total().left_out
        if left_out:
            report.notes.append(f"privacy: {left_out:,} records of excluded or forgotten people left out (docs/privacy.md)")
        if config.privacy.retention_months is not None:
            report.notes.append(purge_store(store, config).summary())
    return report


def _reads(
    files: list[tuple[str, Path]], config: Config, jobs: int
) -> AbstractContextManager[Iterator[AbstractContextManager[FileRead] | None]]:
    """Return the reads of `files` by `jobs` processes (`reading.read_in_processes`); with one job, None for each: read here."""
    if jobs > 1 and files:
        return read_in_processes(files, config, jobs)
    return nullcontext(iter([None] * len(files)))


def _load_files(
    store: Store,
    pseudo: Pseudonymizer,
    config: Config,
    files: list[tuple[str, Path]],
    reads: Iterator[AbstractContextManager[FileRead] | None],
    progress: Progress | None,
    excluded: set[str],
    report: IngestReport,
) -> None:
    """Load `files` one after another, in order, each from its read; a file that fails is reported and the next loads."""
    for (kind, path), read in zip(files, reads, strict=True):
        try:
            report.files.append(ingest_file(store, pseudo, config, kind, path, progress, excluded, read))
        except InputError as exc:
            if progress is not None:
                progress.finish()
            report.files.append(FileResult(kind, path, error=str(exc)))
        except StoreError as exc:
            # The store cannot take more (a full disk): loading the next files would store
            # their copies of events in place of this file's. Stop; the whole batches stay.
            if progress is not None:
                progress.finish()
            raise StoreError(f"{path}: loading stopped, and no later file was loaded: {exc}") from exc
        except Exception as exc:  # a reader's bug must not stop the other files
            if progress is not None:
                progress.finish()
            error = (
                f"{path}: internal error while reading it ({type(exc).__name__}: {exc}); the batches stored "
                "before it are kept, and loading the file again completes it once the cause is fixed"
            )
            report.files.append(FileResult(kind, path, error=error, exception=exc))
