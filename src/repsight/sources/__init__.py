"""Readers: one per input format, each a generator of normalised records.

A reader takes an open `Source` and yields records (`Person`, `Message`, ...)
or `Rejected` entries for the quarantine. It never touches the store and
never pseudonymises: the ingest stage does both, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from repsight.errors import InputError
from repsight.sources.accounts import read_accounts
from repsight.sources.calendar_csv import read_calendar_csv
from repsight.sources.files import Source, open_source
from repsight.sources.kpis import read_kpis
from repsight.sources.mail_csv import read_mail_csv
from repsight.sources.records import Rejected
from repsight.sources.roster import read_roster

__all__ = ["KINDS", "Reader", "Rejected", "Source", "open_source", "reader_for"]

Reader = Callable[[Source], Iterator[Any]]

KINDS = ("roster", "accounts", "kpis", "mail", "calendar")

_READERS: dict[tuple[str, str], Reader] = {
    ("roster", ".csv"): read_roster,
    ("accounts", ".csv"): read_accounts,
    ("kpis", ".csv"): read_kpis,
    ("mail", ".csv"): read_mail_csv,
    ("calendar", ".csv"): read_calendar_csv,
}


def reader_for(kind: str, path: Path) -> Reader:
    """Return the reader for a `kind` of input in the format of `path` (by its extension)."""
    suffix = path.suffix.lower()
    reader = _READERS.get((kind, suffix))
    if reader is None:
        readable = ", ".join(sorted(s for k, s in _READERS if k == kind))
        raise InputError(
            f"{path}: this version of repsight has no {kind} reader for '{suffix or '(no extension)'}' "
            f"files (it reads: {readable})"
        )
    return reader
