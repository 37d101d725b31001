"""Readers: one per input format, each a generator of normalised records.

A reader takes an open `Source` and yields records (`Person`, `Message`,
`Meeting`, or batches of them by column) or `Rejected` entries for the
quarantine. It never touches the store and never pseudonymises: the ingest
stage does both, in one place.

The format of a file follows from its extension; a file without a known
extension is recognised by its first bytes, and a folder is a tree of
message files (`.eml`, maildir).

Mail addresses: every reader refuses, by one rule (`csvfile.address_problem`),
an address that cannot be real: one with a control character (C0, DEL or
C1), one without an @, a local part or a domain, one longer than RFC 5321
allows (local part 64 octets, domain 255, address 254, in UTF-8). Each
reader treats such an address as it treats one that does not parse: the
CSV, Graph, roster, KPI, account, Viva identity and Salesforce readers
quarantine the record that carries it (row, message or event) with its
position, the field and the reason; the mbox/EML and iCalendar readers
quarantine a message or event whose sender or organizer cannot be real,
and leave out a recipient or attendee that cannot be, as they leave out
one that is no address. Reasons never quote an address, and quote at most
60 characters of any other value (`csvfile.shown`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from repsight.errors import InputError
from repsight.sources.files import Source, Window, open_source
from repsight.sources.records import Rejected

__all__ = ["FORMATS", "KINDS", "Reader", "Rejected", "Source", "Window", "format_of", "open_source", "reader_for"]

Reader = Callable[[Source], Iterator[Any]]

KINDS = ("roster", "viva_identities", "viva", "accounts", "kpis", "salesforce", "mail", "calendar")

# Readers by (kind, format), imported when first needed.
_READERS: dict[tuple[str, str], str] = {
    ("roster", "csv"): "repsight.sources.roster:read_roster",
    ("accounts", "csv"): "repsight.sources.accounts:read_accounts",
    ("kpis", "csv"): "repsight.sources.kpis:read_kpis",
    ("viva", "csv"): "repsight.sources.viva:read_viva",
    ("viva_identities", "csv"): "repsight.sources.viva:read_viva_identities",
    ("salesforce", "folder"): "repsight.sources.salesforce:read_salesforce",
    ("mail", "csv"): "repsight.sources.mail_csv:read_mail_csv",
    ("mail", "mbox"): "repsight.sources.mbox:read_mbox",
    ("mail", "eml"): "repsight.sources.mbox:read_eml",
    ("mail", "graph"): "repsight.sources.msgraph:read_graph_messages",
    ("calendar", "csv"): "repsight.sources.calendar_csv:read_calendar_csv",
    ("calendar", "ics"): "repsight.sources.ics:read_ics",
    ("calendar", "graph"): "repsight.sources.msgraph:read_graph_events",
}

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".mbox": "mbox",
    ".mbx": "mbox",
    ".eml": "eml",
    ".json": "graph",
    ".jsonl": "graph",
    ".ndjson": "graph",
    ".ics": "ics",
    ".ical": "ics",
    ".ifb": "ics",
}
"""Formats by file extension."""


def _sniff(path: Path) -> str | None:
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return None
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"From "):
        return "mbox"
    if text[:1] in (b"{", b"["):
        return "graph"
    if text.upper().startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    first = text.split(b"\n", 1)[0]
    name, colon, _ = first.partition(b":")
    if colon and name and all(33 <= c <= 126 for c in name):
        return "eml"  # a header line: one raw message
    return None


def format_of(path: Path) -> str | None:
    """Return the format of `path`: by extension, by its first bytes, "eml" for a folder; None if unknown."""
    if path.is_dir():
        return "eml"
    return FORMATS.get(path.suffix.lower()) or _sniff(path)


def reader_for(kind: str, path: Path) -> Reader:
    """Return the reader for a `kind` of input in the format of `path`."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    fmt = "folder" if kind == "salesforce" and path.is_dir() else format_of(path)
    target = _READERS.get((kind, fmt or ""))
    if target is None:
        readable = ", ".join(sorted(f for k, f in _READERS if k == kind))
        shown = f"'{path.suffix}'" if path.suffix else "(no extension)"
        found = f"{fmt} files" if fmt else f"{shown} files"
        raise InputError(f"{path}: this version of repsight has no {kind} reader for {found} (it reads: {readable})")
    module, _, name = target.partition(":")
    reader: Reader = getattr(importlib.import_module(module), name)
    return reader
