"""The fuzz targets: one per reader, each a function of the raw bytes of one input file.

A target writes the bytes to a file named as the reader expects, opens it
as `repsight.sources.open_source` does for a load, and reads it to the end,
consuming every record. What a target lets through is what a reader may do
with any input: yield records, quarantine (`Rejected`), or refuse the whole
file with `InputError`. Anything else is a bug, and so is a record that
holds an address no mail system could deliver to (`impossible_address`):
`check_record` raises `ImpossibleAddress` for it.

The Salesforce reader reads a folder of object CSVs; its input is a bundle
of them, each file after a line `==> Account.csv <==` (as `head` prints
several files), so that one byte string names the whole folder.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "RULES",
    "TARGETS",
    "ImpossibleAddress",
    "Target",
    "addresses_of",
    "check_record",
    "impossible_address",
    "salesforce_files",
]

MAX_LOCAL = 64
"""RFC 5321 4.5.3.1.1: the most octets of a local part."""
MAX_DOMAIN = 255
"""RFC 5321 4.5.3.1.2: the most octets of a domain."""
MAX_ADDRESS = 254
"""RFC 5321 4.5.3.1.3 (a path of 256 octets, less its angle brackets): the most octets of an address."""


class ImpossibleAddress(AssertionError):
    """A record holds an address that cannot be real: the invariant every reader must keep."""

    def __init__(self, record: str, field: str, kind: str, reason: str, address: str) -> None:
        super().__init__(f"{record}.{field}: {reason}: {address[:80]!r}{'…' if len(address) > 80 else ''}")
        self.record = record
        self.field = field
        self.kind = kind
        """Which rule it breaks, one of `RULES` (or "not-text")."""
        self.reason = reason


RULES = ("control-character", "no-at", "no-local-part", "no-domain", "local-part-too-long", "domain-too-long", "too-long")
"""The rules an address can break, as `impossible_address` names them."""


def _octets(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def impossible_address(address: str) -> tuple[str, str] | None:
    """Return (rule, reason) where `address` cannot be a real mail address, or None where it may be one.

    Only what no mail system accepts is refused: a control character
    anywhere, a missing local part or domain, and the lengths RFC 5321
    allows (counted in UTF-8 octets, as SMTPUTF8 sends them). The local
    part is what comes before the last `@` (a quoted one may hold an `@`).
    """
    control = next((c for c in address if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        return "control-character", f"holds the control character U+{ord(control):04X}"
    local, at, domain = address.rpartition("@")
    if not at:
        return "no-at", "has no @"
    if not local:
        return "no-local-part", "has no local part"
    if not domain:
        return "no-domain", "has no domain"
    if _octets(local) > MAX_LOCAL:
        return "local-part-too-long", f"local part of {_octets(local)} octets (RFC 5321: {MAX_LOCAL})"
    if _octets(domain) > MAX_DOMAIN:
        return "domain-too-long", f"domain of {_octets(domain)} octets (RFC 5321: {MAX_DOMAIN})"
    if _octets(address) > MAX_ADDRESS:
        return "too-long", f"{_octets(address)} octets (RFC 5321: {MAX_ADDRESS})"
    return None


def addresses_of(record: Any) -> Iterator[tuple[str, str]]:
    """Yield (field, address) for every mail address a reader's record holds; a batch is read column by column."""
    from repsight.sources.records import (
        Account,
        Kpi,
        Meeting,
        MeetingBatch,
        Message,
        MessageBatch,
        Person,
        VivaIdentity,
    )

    if isinstance(record, MessageBatch):
        yield from (("sender", a) for a in record.events.column("sender").to_pylist())
        yield from (("recipient", a) for a in record.participants.column("address").to_pylist())
        record.records()  # every row converts back to a record
    elif isinstance(record, MeetingBatch):
        yield from (("organizer", a) for a in record.events.column("organizer").to_pylist())
        yield from (("attendee", a) for a in record.participants.column("address").to_pylist())
        record.records()
    elif isinstance(record, Message):
        yield "sender", record.sender
        yield from (("recipient", r.address) for r in record.recipients)
    elif isinstance(record, Meeting):
        yield "organizer", record.organizer
        yield from (("attendee", a.address) for a in record.attendees)
    elif isinstance(record, Person):
        yield "email", record.email
        if record.manager_email is not None:
            yield "manager_email", record.manager_email
    elif isinstance(record, Account):
        if record.owner_email is not None:
            yield "owner_email", record.owner_email
    elif isinstance(record, Kpi):
        if not record.by_viva_id:
            yield "email", record.email
    elif isinstance(record, VivaIdentity):
        yield "email", record.email


def check_record(record: Any) -> None:
    """Raise ImpossibleAddress where `record` holds an address that cannot be real."""
    for field, address in addresses_of(record):
        if not isinstance(address, str):
            raise ImpossibleAddress(type(record).__name__, field, "not-text", f"is a {type(address).__name__}", repr(address))
        broken = impossible_address(address)
        if broken is not None:
            raise ImpossibleAddress(type(record).__name__, field, *broken, address)


_SECTION = re.compile(rb"^==> ([A-Za-z]+\.csv) <==\r?\n", re.MULTILINE)


def salesforce_files(data: bytes) -> dict[str, bytes]:
    """Return the files of a Salesforce bundle by name (text before the first `==> Name.csv <==` line is left out)."""
    found = list(_SECTION.finditer(data))
    files: dict[str, bytes] = {}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(data)
        files.setdefault(match.group(1).decode("ascii"), data[match.end() : end])
    return files


_WORKDIR: Path | None = None


def _workdir() -> Path:
    """Return a private folder for this process's input files (one, reused: a fuzzer runs millions of inputs)."""
    global _WORKDIR
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="repsight-fuzz-"))
    return _WORKDIR


def _consume(records: Iterable[Any]) -> int:
    count = 0
    for record in records:
        check_record(record)
        count += 1
    return count


def _reading(kind: str, suffix: str | Callable[[bytes], str]) -> Callable[[bytes], int]:
    """Return a target that reads the bytes as one file of `kind`, named `input<suffix>`."""

    def target(data: bytes) -> int:
        from repsight.sources import open_source
        from repsight.sources.files import Source

        reader: Callable[[Source], Iterable[Any]] = _reader(kind)
        path = _workdir() / f"input{suffix(data) if callable(suffix) else suffix}"
        path.write_bytes(data)
        with open_source(path) as source:
            return _consume(reader(source))

    return target


def _reader(kind: str) -> Callable[[Any], Iterable[Any]]:
    import importlib

    module, _, name = _ENTRY_POINTS[kind].partition(":")
    reader: Callable[[Any], Iterable[Any]] = getattr(importlib.import_module(module), name)
    return reader


def _graph_suffix(data: bytes) -> str:
    # An array or a pretty-printed page is a `.json` export; anything else is read as JSON Lines.
    return ".json" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" else ".jsonl"


def _salesforce(data: bytes) -> int:
    from repsight.config import SalesforceConfig
    from repsight.sources import open_source
    from repsight.sources.salesforce import read_salesforce

    folder = _workdir() / "salesforce"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(exist_ok=True)
    for name, content in salesforce_files(data).items():
        (folder / name).write_bytes(content)
    with open_source(folder) as source:
        return _consume(read_salesforce(source, SalesforceConfig(), ["gmail.com", "outlook.com"]))


_ENTRY_POINTS = {
    "roster": "repsight.sources.roster:read_roster",
    "accounts": "repsight.sources.accounts:read_accounts",
    "kpis": "repsight.sources.kpis:read_kpis",
    "viva": "repsight.sources.viva:read_viva",
    "viva_identities": "repsight.sources.viva:read_viva_identities",
    "mail_csv": "repsight.sources.mail_csv:read_mail_csv",
    "calendar_csv": "repsight.sources.calendar_csv:read_calendar_csv",
    "mbox": "repsight.sources.mbox:read_mbox",
    "eml": "repsight.sources.mbox:read_eml",
    "graph_messages": "repsight.sources.msgraph:read_graph_messages",
    "graph_events": "repsight.sources.msgraph:read_graph_events",
    "ics": "repsight.sources.ics:read_ics",
}


@dataclass(frozen=True)
class Target:
    """A fuzz target: the reader it drives, and the function of one input's bytes that reads it to the end."""

    name: str
    reader: str
    run: Callable[[bytes], int]
    """Read the input; return the number of records and rejections. Raises InputError where the reader refuses the file."""


TARGETS: dict[str, Target] = {
    "roster": Target("roster", _ENTRY_POINTS["roster"], _reading("roster", ".csv")),
    "accounts": Target("accounts", _ENTRY_POINTS["accounts"], _reading("accounts", ".csv")),
    "kpis": Target("kpis", _ENTRY_POINTS["kpis"], _reading("kpis", ".csv")),
    "viva": Target("viva", _ENTRY_POINTS["viva"], _reading("viva", ".csv")),
    "viva_identities": Target("viva_identities", _ENTRY_POINTS["viva_identities"], _reading("viva_identities", ".csv")),
    "salesforce": Target("salesforce", "repsight.sources.salesforce:read_salesforce", _salesforce),
    "mail_csv": Target("mail_csv", _ENTRY_POINTS["mail_csv"], _reading("mail_csv", ".csv")),
    "calendar_csv": Target("calendar_csv", _ENTRY_POINTS["calendar_csv"], _reading("calendar_csv", ".csv")),
    "mbox": Target("mbox", _ENTRY_POINTS["mbox"], _reading("mbox", ".mbox")),
    "eml": Target("eml", _ENTRY_POINTS["eml"], _reading("eml", ".eml")),
    "graph_messages": Target("graph_messages", _ENTRY_POINTS["graph_messages"], _reading("graph_messages", _graph_suffix)),
    "graph_events": Target("graph_events", _ENTRY_POINTS["graph_events"], _reading("graph_events", _graph_suffix)),
    "ics": Target("ics", _ENTRY_POINTS["ics"], _reading("ics", ".ics")),
}
"""Every target by name (the folder names of `fuzz/corpus/` and `fuzz/regressions/`)."""
