"""The ingest stage: read the configured inputs, pseudonymise, quarantine, store.

Each file loads in one transaction with its quarantine entries and its row
in `loads`: a failure half-way stores nothing of that file, and loading the
same records again adds nothing (every table is keyed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from repsight.config import Config
from repsight.errors import InputError
from repsight.privacy import Pseudonymizer, domain_of, read_key
from repsight.sources import open_source, reader_for
from repsight.sources.records import Account, Kpi, Meeting, Message, Person, Rejected, series_key
from repsight.store import Store, utc_naive

__all__ = ["FileResult", "IngestReport", "Progress", "configured_files", "ingest", "ingest_file"]

BATCH_SIZE = 20_000


@dataclass
class FileResult:
    """What loading one file did. loaded + quarantined = read; `new` of `loaded` were not stored before."""

    kind: str
    path: Path
    read: int = 0
    loaded: int = 0
    new: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    error: str | None = None


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
            quarantined=sum(f.quarantined for f in chosen),
            seconds=sum(f.seconds for f in chosen),
        )


class Progress(Protocol):
    """Where a load reports how far it is (the CLI draws Rich progress bars)."""

    def start(self, path: Path, total_bytes: int) -> None: ...
    def advance(self, bytes_read: int, records: int) -> None: ...
    def finish(self) -> None: ...


class _Loader:
    """Turns records of one kind into rows of the store's tables, in batches."""

    def __init__(self, store: Store, pseudo: Pseudonymizer, config: Config, load_id: int) -> None:
        self.store = store
        self.pseudo = pseudo
        self.config = config
        self.load_id = load_id
        self.pending = 0

    def add(self, record: Any) -> Rejected | None:
        raise NotImplementedError

    def flush(self) -> int:
        """Store what is pending; return how many records were new."""
        raise NotImplementedError

    def identity_rows(self, found: dict[str, tuple[str, str]]) -> pa.Table:
        return pa.table(
            {
                "person": list(found),
                "email": [email for email, _ in found.values()],
                "name": [name for _, name in found.values()],
            }
        )


class _RosterLoader(_Loader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.people: list[Person] = []

    def add(self, record: Person) -> None:
        self.people.append(record)
        self.pending += 1

    def flush(self) -> int:
        if not self.people:
            return 0
        p = self.pseudo
        rows = pa.table(
            {
                "person": [p(x.email) for x in self.people],
                "domain": [domain_of(x.email) for x in self.people],
                "manager": [p(x.manager_email) if x.manager_email else None for x in self.people],
                "org": [x.org for x in self.people],
                "level": [x.level for x in self.people],
                "function": [x.function for x in self.people],
                "region": [x.region for x in self.people],
                "segment": [x.segment for x in self.people],
                "channel": [x.channel for x in self.people],
                "hire_date": pa.array([x.hire_date for x in self.people], pa.date32()),
                "leave_date": pa.array([x.leave_date for x in self.people], pa.date32()),
                "timezone": [x.timezone for x in self.people],
                "attributes": [json.dumps(x.attributes, sort_keys=True) if x.attributes else None for x in self.people],
                "load_id": [self.load_id] * len(self.people),
            }
        )
        new = self.store.upsert("people", rows)
        identities = {p(x.email): (x.email.strip().lower(), x.name) for x in self.people}
        self.store.upsert("identities", self.identity_rows(identities))
        self.people, self.pending = [], 0
        return new


class _AccountLoader(_Loader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.accounts: list[Account] = []

    def add(self, record: Account) -> None:
        self.accounts.append(record)
        self.pending += 1

    def flush(self) -> int:
        if not self.accounts:
            return 0
        a = self.accounts
        rows = pa.table(
            {
                "account_id": [x.account_id for x in a],
                "name": [x.name for x in a],
                "type": [x.type for x in a],
                "domains": [";".join(x.domains) for x in a],
                "load_id": [self.load_id] * len(a),
            }
        )
        domains = [(d, x.account_id, x.type) for x in a for d in x.domains]
        new = self.store.upsert("accounts", rows)
        self.store.upsert(
            "account_domains",
            pa.table(
                {
                    "domain": [d for d, _, _ in domains],
                    "account_id": [i for _, i, _ in domains],
                    "type": [t for _, _, t in domains],
                }
            ),
        )
        self.accounts, self.pending = [], 0
        return new


class _KpiLoader(_Loader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.kpis: list[tuple[str, Kpi]] = []
        self.roster = set(self.store.table("people").person.to_pyarrow().to_pylist())

    def add(self, record: Kpi) -> Rejected | None:
        person = self.pseudo(record.email)
        if person not in self.roster:
            return Rejected(record.position, "email", "the person is not in the roster")
        self.kpis.append((person, record))
        self.pending += 1
        return None

    def flush(self) -> int:
        if not self.kpis:
            return 0
        k = [x for _, x in self.kpis]
        rows = pa.table(
            {
                "person": [person for person, _ in self.kpis],
                "period": [x.period for x in k],
                "period_start": pa.array([x.period_start for x in k], pa.date32()),
                "period_end": pa.array([x.period_end for x in k], pa.date32()),
                "quota": pa.array([x.quota for x in k], pa.float64()),
                "bookings": pa.array([x.bookings for x in k], pa.float64()),
                "attainment": [x.attainment for x in k],
                "load_id": [self.load_id] * len(k),
            }
        )
        self.kpis, self.pending = [], 0
        return self.store.upsert("kpis", rows)


class _EventLoader(_Loader):
    """Shared batching of keyed events with participant rows (messages, meetings)."""

    table = ""
    key_column = ""
    participants_table = ""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.internal = set(self.config.company.domains)
        self.batch: dict[str, Any] = {}
        self.identities: dict[str, tuple[str, str]] = {}
        self.known: dict[str, tuple[str, str]] = {}

    def add(self, record: Message | Meeting) -> None:
        # The same event twice in one batch (two mailboxes in one export) keeps the first.
        if record.key not in self.batch:
            self.batch[record.key] = record
            self.pending += 1

    def person(self, address: str, name: str) -> tuple[str, str]:
        """Return (pseudonym, domain) of an address, noting colleagues' identities."""
        known = self.known.get(address)
        if known is None:
            known = self.pseudo(address), domain_of(address)
            if len(self.known) < 500_000:
                self.known[address] = known
        pseudonym, domain = known
        if domain in self.internal and pseudonym not in self.identities:
            self.identities[pseudonym] = (address.strip().lower(), name)
        return known

    def rows(self, records: list[Any]) -> tuple[pa.Table, pa.Table]:
        raise NotImplementedError

    def flush(self) -> int:
        if not self.batch:
            return 0
        keys = pa.table({self.key_column: list(self.batch)})
        fresh = set(self.store.unseen(self.table, keys).column(self.key_column).to_pylist())
        records = [r for k, r in self.batch.items() if k in fresh]
        events, participants = self.rows(records)
        # Only new events are left, so their rows go in without a key check.
        self.store.append(self.table, events)
        self.store.append(self.participants_table, participants)
        self.store.insert_new("identities", self.identity_rows(self.identities))
        self.batch, self.identities, self.pending = {}, {}, 0
        return len(records)


class _MailLoader(_EventLoader):
    table, key_column, participants_table = "messages", "message_key", "message_recipients"

    def rows(self, records: list[Message]) -> tuple[pa.Table, pa.Table]:
        events: dict[str, list[Any]] = {c: [] for c in ("message_key", "sent_at", "sender", "sender_domain", "recipient_count")}
        people: dict[str, list[Any]] = {c: [] for c in ("message_key", "recipient", "recipient_domain", "kind")}
        for m in records:
            sender, sender_domain = self.person(m.sender, m.sender_name)
            events["message_key"].append(m.key)
            events["sent_at"].append(utc_naive(m.sent_at))
            events["sender"].append(sender)
            events["sender_domain"].append(sender_domain)
            events["recipient_count"].append(len(m.recipients))
            for r in m.recipients:
                pseudonym, domain = self.person(r.address, r.name)
                people["message_key"].append(m.key)
                people["recipient"].append(pseudonym)
                people["recipient_domain"].append(domain)
                people["kind"].append(r.kind)
        table = pa.table(events | {"load_id": [self.load_id] * len(records)})
        return table, pa.table(people)


class _CalendarLoader(_EventLoader):
    table, key_column, participants_table = "meetings", "meeting_key", "meeting_attendees"

    def rows(self, records: list[Meeting]) -> tuple[pa.Table, pa.Table]:
        columns = (
            "meeting_key",
            "series_key",
            "start_at",
            "end_at",
            "organizer",
            "organizer_domain",
            "is_cancelled",
            "is_all_day",
            "is_transparent",
            "attendee_count",
        )
        events: dict[str, list[Any]] = {c: [] for c in columns}
        people: dict[str, list[Any]] = {c: [] for c in ("meeting_key", "attendee", "attendee_domain", "response")}
        for m in records:
            organizer, organizer_domain = self.person(m.organizer, "")
            for column, value in zip(
                columns,
                (
                    m.key,
                    series_key(m.uid),
                    utc_naive(m.start),
                    utc_naive(m.end),
                    organizer,
                    organizer_domain,
                    m.is_cancelled,
                    m.is_all_day,
                    m.is_transparent,
                    len(m.attendees),
                ),
                strict=True,
            ):
                events[column].append(value)
            for a in m.attendees:
                pseudonym, domain = self.person(a.address, a.name)
                people["meeting_key"].append(m.key)
                people["attendee"].append(pseudonym)
                people["attendee_domain"].append(domain)
                people["response"].append(a.response)
        table = pa.table(events | {"load_id": [self.load_id] * len(records)})
        return table, pa.table(people)


_LOADERS: dict[str, Callable[..., _Loader]] = {
    "roster": _RosterLoader,
    "accounts": _AccountLoader,
    "kpis": _KpiLoader,
    "mail": _MailLoader,
    "calendar": _CalendarLoader,
}


def ingest_file(
    store: Store,
    pseudo: Pseudonymizer,
    config: Config,
    kind: str,
    path: Path,
    progress: Progress | None = None,
) -> FileResult:
    """Load one file of `kind` into the store; return what it did."""
    result = FileResult(kind, path)
    started = time.perf_counter()
    started_at = datetime.now(UTC).replace(tzinfo=None)
    reader = reader_for(kind, path)
    load_id = store.next_load_id()
    rejected: list[Rejected] = []
    with store.transaction():
        loader = _LOADERS[kind](store, pseudo, config, load_id)
        with open_source(path) as source:
            if progress is not None:
                progress.start(path, source.size)
            for record in reader(source):
                result.read += 1
                problem = record if isinstance(record, Rejected) else loader.add(record)
                if problem is not None:
                    rejected.append(problem)
                elif loader.pending >= BATCH_SIZE and kind in ("mail", "calendar"):
                    result.new += loader.flush()
                if progress is not None and result.read % 2048 == 0:
                    progress.advance(source.bytes_read, result.read)
            result.new += loader.flush()
            if progress is not None:
                progress.advance(source.bytes_read, result.read)
            digest = source.counter.sha256.hexdigest()
        result.quarantined = len(rejected)
        result.loaded = result.read - result.quarantined
        store.insert_new("quarantine", _quarantine_rows(rejected, load_id, str(path), kind))
        store.record_load(
            {
                "load_id": load_id,
                "source": str(path),
                "kind": kind,
                "size_bytes": source.size,
                "sha256": digest,
                "rows_read": result.read,
                "rows_loaded": result.loaded,
                "rows_new": result.new,
                "rows_quarantined": result.quarantined,
                "started_at": started_at,
                "finished_at": datetime.now(UTC).replace(tzinfo=None),
            }
        )
    if progress is not None:
        progress.finish()
    result.seconds = time.perf_counter() - started
    return result


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
    for kind in ("roster", "accounts", "kpis"):
        name = getattr(config.sources, kind)
        if name:
            files.append((kind, config.resolve(name)))
    for kind in ("mail", "calendar"):
        patterns: list[str] = getattr(config.sources, kind)
        matched = config.expand(patterns)
        if patterns and not matched:
            notes.append(f"{kind}: no file matches {', '.join(patterns)}")
        files.extend((kind, path) for path in matched)
    return files, notes


def ingest(
    config: Config,
    *,
    files: Iterable[tuple[str, Path]] | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Load the configured inputs (or the given files) into the workspace; return what happened.

    A file that cannot be read at all is reported with its error and the
    others still load.
    """
    key = read_key(config.key_path)
    report = IngestReport()
    if files is None:
        files, report.notes = configured_files(config)
    pseudo = Pseudonymizer(key)
    with Store.open(config, key) as store:
        for kind, path in files:
            try:
                report.files.append(ingest_file(store, pseudo, config, kind, path, progress))
            except InputError as exc:
                if progress is not None:
                    progress.finish()
                report.files.append(FileResult(kind, path, error=str(exc)))
    return report
