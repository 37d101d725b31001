"""Forgetting a person (GDPR article 17): `repsight forget`, and the list of the forgotten that every ingest leaves out.

Forgetting removes every row that holds the person's pseudonym (the columns
of `repsight.schema.PERSON_REFERENCES`, and free text that mentions them,
`PERSON_MENTIONS`), their dashboard account and its audit entries, and
records in `forgotten` the pseudonym and the time, never the address, so
that loading the same files again does not bring them back. The rules are
in docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from repsight.errors import StoreError
from repsight.privacy import canonical_address, is_address
from repsight.schema import PERSON_REFERENCES

if TYPE_CHECKING:
    from rich.console import Group

    from repsight.config import Config
    from repsight.store import Store

__all__ = ["ForgetResult", "erase", "forget_person", "forgotten_people", "with_aliases"]

METRIC_TABLES = ("person_week", "person_period", "period_edges", "week_ties", "account_touches", "study_tiers", "validation")
"""The tables later stages compute: a forgotten person's rows go, but colleagues' figures still count them until the stage runs again."""


@dataclass
class ForgetResult:
    """What `repsight forget` did: the rows removed per table, the account, and when."""

    person: str
    """The forgotten pseudonym (the address is kept nowhere)."""
    forgotten_at: datetime
    removed: dict[str, int] = field(default_factory=dict)
    """Rows removed (or, for a reference such as a colleague's manager, emptied) per table."""
    account_rows: int = 0
    """Rows removed from the dashboard's accounts file: the account and the audit entries by or about the person."""
    already: datetime | None = None
    """When the person was forgotten before, where nothing was left to remove."""

    @property
    def stale(self) -> list[str]:
        """Return the computed tables the person's rows were removed from: colleagues' figures there still count them."""
        return [name for name in METRIC_TABLES if self.removed.get(name)]

    def __rich__(self) -> Group:
        from rich.console import Group

        from repsight import terminal
        from repsight.report.numbers import count

        if self.already is not None:
            return Group(
                terminal.note(f"{self.person} was forgotten on {self.already:%Y-%m-%d %H:%M} UTC; nothing of theirs is left")
            )
        table = terminal.table()
        terminal.words(table, "table")
        terminal.figures(table, "rows removed")
        for name, rows in sorted(self.removed.items()):
            table.add_row(name, count(rows))
        if self.account_rows:
            table.add_row("dashboard accounts file", count(self.account_rows))
        notes = [
            f"Forgot {self.person}: recorded in `forgotten` (the pseudonym and the time, not the address); "
            "ingest leaves them out from now on."
        ]
        if self.stale:
            notes.append(
                "Their own metric rows are removed, but colleagues' metrics (networks, ties, the study's tiers) still count "
                "them until `repsight metrics` runs again (and the study until `repsight analyze`)."
            )
        notes.append("Digest messages already written to an outbox folder (WEEK_EMAIL.eml) are not tracked: delete them there.")
        return Group(terminal.titled("Forget", table), *(terminal.note(n) for n in notes))


def forgotten_people(store: Store) -> set[str]:
    """Return the pseudonyms of `forgotten`: people every ingest leaves out."""
    if not store.has_table("forgotten"):
        return set()
    return {str(p) for p in store.to_arrow(store.table("forgotten").select("person"))["person"].to_pylist()}


def with_aliases(store: Store, people: Iterable[str]) -> set[str]:
    """Return `people` with the pseudonyms of the Viva PersonIds mapped to them (`person_aliases`)."""
    found = set(people)
    aliases = store.table("person_aliases")
    mapped = store.to_arrow(aliases.filter(aliases.person.isin(sorted(found))).select("alias"))["alias"].to_pylist()
    return found | {str(a) for a in mapped}


def erase(store: Store, people: set[str], addresses: list[str]) -> dict[str, int]:
    """Remove every stored row of `people` (pseudonyms) and of the Viva PersonIds mapped to them, in one transaction; return the rows per table."""
    return store.erase_people(sorted(with_aliases(store, people)), addresses)


def _rows_of(store: Store, people: set[str]) -> int:
    """Return how many rows of the person-keyed columns hold one of `people`."""
    found = 0
    for name, columns in PERSON_REFERENCES.items():
        if not store.has_table(name):
            continue
        table = store.table(name)
        for column in columns:
            found += int(table.filter(table[column].isin(sorted(people))).count().execute())
    return found


def forget_person(config: Config, email: str, *, now: datetime | None = None) -> ForgetResult:
    """Erase the person of `email` from the workspace and its accounts file, record it without the address, and return what went.

    Everything happens in one transaction of the workspace database (the
    accounts file is changed last, inside it): a failure leaves both as
    they were. A lake (`[engine] lake`) cannot take part in it: its tables
    are rewritten first (`repsight.lake.rewrite`), and a failure after that
    leaves the lake without the person and the workspace as it was;
    forgetting them again completes it. An address the workspace does not know is an error, and
    nothing changes.
    """
    from repsight.privacy import pseudonym
    from repsight.store import Store
    from repsight.web.accounts import Accounts

    address = canonical_address(email)
    if not is_address(address):
        raise StoreError(f"{email!r} is not an email address (--person); nothing was changed")
    when = (now or datetime.now(UTC)).replace(tzinfo=None)
    accounts = Accounts(config.accounts_path) if config.accounts_path.exists() else None
    with Store.open(config) as store:
        person = pseudonym(store.key, address)
        people = with_aliases(store, {person})
        result = ForgetResult(person, when)
        has_account = accounts is not None and accounts.holds(address)
        if not _rows_of(store, people) and not has_account:
            stored = store.table("forgotten")
            earlier = store.to_arrow(stored.filter(stored.person == person).select("forgotten_at"))["forgotten_at"].to_pylist()
            if earlier:
                result.already = earlier[0]
                return result
            raise StoreError(
                f"{email.strip()}: no one with this address in the workspace {config.database_path} "
                f"or its accounts file {config.accounts_path}; nothing was changed"
            )
        with store.transaction():
            result.removed = store.erase_people(sorted(people), [address])
            rows = pa.table({"person": pa.array(sorted(people), pa.string()), "forgotten_at": [when] * len(people)})
            store.insert_new("forgotten", rows)
            if accounts is not None:
                # Last: a failure of the accounts file rolls the workspace back; nothing runs after it could fail.
                result.account_rows = accounts.forget(address, sorted(people))
    return result
