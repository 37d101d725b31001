"""A Salesforce export (a folder of object CSVs): accounts with their owners and domains, and each owner's quota and bookings.

The folder holds the CSVs that Data Export or Data Loader write, named by
object: `Account.csv` and `User.csv` (required), `Contact.csv`,
`Opportunity.csv` and `ForecastingQuota.csv` (optional; without the last two
there are no KPIs). The records are those of `accounts.csv` and `kpis.csv`,
so that a study from either is the same. docs/salesforce.md is the contract.

Ids are matched in their 18-character form: a 15-character id (reports, old
exports) gets Salesforce's checksum suffix, so both forms name one record.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Context, Decimal
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from repsight.errors import InputError
from repsight.sources.csvfile import FieldError, parse_address, parse_bool, parse_date, parse_number, read_csv, shown
from repsight.sources.files import ByteCounter, Source
from repsight.sources.kpis import parse_period
from repsight.sources.records import Account, Kpi, Rejected

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

    from repsight.config import SalesforceConfig

__all__ = ["OPTIONAL_FILES", "REQUIRED_FILES", "long_id", "read_salesforce", "registrable_domain"]

REQUIRED_FILES = ("Account.csv", "User.csv")
OPTIONAL_FILES = ("Contact.csv", "Opportunity.csv", "ForecastingQuota.csv")

_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# One label of a host name: letters (any script), digits and inner hyphens.
_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")
# Bookings are summed in decimal, from the text, so that their float is the
# one the same total written in kpis.csv parses to; this precision never rounds money.
_EXACT = Context(prec=100)


def long_id(value: str) -> str:
    """Return the 18-character form of a 15- or 18-character Salesforce id, or raise FieldError.

    The suffix encodes which of the first 15 characters are upper case, five
    characters to a suffix character.
    """
    if not _ID.fullmatch(value):
        raise FieldError("Id", f"{shown(value)} is not a Salesforce id (15 or 18 letters and digits)")
    if len(value) == 18:
        return value
    suffix = ""
    for chunk in (value[0:5], value[5:10], value[10:15]):
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _CHECKSUM[bits]
    return value + suffix


def _key(value: str, column: str) -> str:
    """Return the key an id is matched by: its 18-character form, upper-cased (the suffix keeps ids that differ in case apart)."""
    try:
        return long_id(value).upper()
    except FieldError as exc:
        raise FieldError(column, exc.reason) from None


@cache
def _suffixes() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList

    # The list shipped inside the package: never fetched at run time.
    return PublicSuffixList()


def registrable_domain(website: str) -> str:
    """Return the registrable domain of a web address (`https://www.shop.acme.co.uk/x` → `acme.co.uk`), or raise FieldError."""
    text = website.strip()
    try:
        host = (urlsplit(text if "//" in text else "//" + text).hostname or "").rstrip(".")
    except ValueError:
        host = ""
    labels = host.split(".")
    is_name = len(labels) > 1 and all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()
    registrable = _suffixes().privatesuffix(host) if is_name else None
    if not registrable:
        raise FieldError("Website", f"{shown(website)} is not a web domain")
    return str(registrable)


class _Counted(io.RawIOBase):
    """One file of the folder, its bytes counted and hashed into the source's counter."""

    def __init__(self, path: Path, counter: ByteCounter) -> None:
        try:
            self._raw = path.open("rb")
        except OSError as exc:
            raise InputError(f"{path}: cannot open: {exc.strerror}") from None
        self._counter = counter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._counter.counted(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class _Folder:
    """The export's files, found case-insensitively, each read as a CSV with positions that name it."""

    source: Source
    files: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        folder = self.source.path
        if not folder.is_dir():
            raise InputError(
                f"{folder}: is not a folder; a Salesforce export is a folder of object CSVs ({', '.join(REQUIRED_FILES)}, …)"
            )
        self.files = {path.name.lower(): path for path in sorted(folder.iterdir()) if path.is_file()}
        for name in REQUIRED_FILES:
            if name.lower() not in self.files:
                raise InputError(
                    f"{folder}: no {name}; a Salesforce export needs {' and '.join(REQUIRED_FILES)} "
                    f"({', '.join(OPTIONAL_FILES)} are optional)"
                )

    def has(self, name: str) -> bool:
        return name.lower() in self.files

    def rows(self, name: str, required: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str], Rejected | None]]:
        """Yield (position, fields, problem) for each row of file `name`; positions read `Account.csv row 7`."""
        path = self.files[name.lower()]
        raw = io.BufferedReader(_Counted(path, self.source.counter), buffer_size=1 << 16)
        # As Source.text: a byte-order mark is skipped, undecodable bytes quarantine their row.
        with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text:
            for row in read_csv(text, path, required=required):
                position = f"{path.name} {row.position}"
                problem = None if row.problem is None else Rejected(position, row.problem.field, row.problem.reason)
                yield position, row.fields, problem

    def columns(self, name: str) -> list[str]:
        """Return the lower-cased column names of file `name`."""
        with self.files[name.lower()].open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            return [column.strip().lower() for column in next(csv.reader(handle), [])]


@dataclass
class _Users:
    """Who each user id is: an email, or the position of the user row that was quarantined."""

    emails: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def email(self, value: str, column: str) -> str:
        key = _key(value, column)
        if key in self.emails:
            return self.emails[key]
        if key in self.rejected:
            raise FieldError(column, f"its user is quarantined ({self.rejected[key]})")
        raise FieldError(column, "no user with this id in User.csv")


def _read_users(folder: _Folder, users: _Users) -> Iterator[Rejected]:
    """Fill `users` from User.csv; yield the rows that cannot be read."""
    seen: dict[str, str] = {}
    for position, fields, problem in folder.rows("User.csv", ("id", "email")):
        if problem is not None:
            yield problem
            continue
        try:
            key = _key(fields["id"], "Id")
            if key in seen:
                raise FieldError("Id", f"duplicate user: the same id is on {seen[key]}")
        except FieldError as exc:
            yield Rejected(position, exc.field, exc.reason)
            continue
        seen[key] = position
        try:
            users.emails[key] = parse_address(fields["email"], "Email")[0]
        except FieldError as exc:
            users.rejected[key] = position
            yield Rejected(position, exc.field, exc.reason)


@dataclass
class _Pending:
    """An account row that passed its own checks, waiting for its contacts' domains."""

    position: str
    account_id: str
    name: str
    type: str
    owner_email: str | None
    website: str | None
    contacts: list[str] = field(default_factory=list)

    @property
    def domains(self) -> tuple[str, ...]:
        """The website's domain first, then the contacts' domains in sorted order."""
        return (*([self.website] if self.website else []), *sorted(self.contacts))


def _account_type(value: str, settings: SalesforceConfig) -> str:
    for pattern, kind in settings.account_types.items():
        if fnmatchcase(value.lower(), pattern.lower()):
            return kind
    raise FieldError("Type", f"{shown(value)} is not mapped to an account type; add it to [salesforce] account_types")


def _read_accounts(
    folder: _Folder, users: _Users, settings: SalesforceConfig, personal: set[str], accounts: dict[str, _Pending | None]
) -> Iterator[Rejected]:
    """Fill `accounts` by key (None for a quarantined row), each website's domain claimed in file order; yield the quarantined rows."""
    owners: dict[str, str] = {}
    seen: dict[str, str] = {}
    for position, fields, problem in folder.rows("Account.csv", ("id", "name", "type")):
        if problem is not None:
            yield problem
            continue
        try:
            key = _key(fields["id"], "Id")
            if key in seen:
                raise FieldError("Id", f"duplicate account: the same id is on {seen[key]}")
            seen[key] = position
            accounts[key] = None
            kind = _account_type(fields["type"], settings)
            website = registrable_domain(fields["website"]) if fields.get("website") else None
            if website in personal:
                website = None
            if website is not None and website in owners:
                raise FieldError("Website", f"{website} already belongs to the account on {owners[website]}")
            owner = fields.get("ownerid", "")
            owner_email = users.email(owner, "OwnerId") if owner else None
        except FieldError as exc:
            yield Rejected(position, exc.field, exc.reason)
            continue
        if website is not None:
            owners[website] = position
        accounts[key] = _Pending(position, long_id(fields["id"]), fields["name"], kind, owner_email, website)


def _add_contacts(folder: _Folder, accounts: dict[str, _Pending | None], personal: set[str]) -> Iterator[Rejected]:
    """Add each contact's mail domain to its account; yield the contacts that cannot give one."""
    owners = {account.website: account.position for account in accounts.values() if account and account.website}
    for position, fields, problem in folder.rows("Contact.csv", ("accountid", "email")):
        if problem is not None:
            yield problem
            continue
        # A contact without an address or an account (a private contact) names no domain: nothing to load.
        if not fields["email"] or not fields["accountid"]:
            continue
        try:
            key = _key(fields["accountid"], "AccountId")
            if key not in accounts:
                raise FieldError("AccountId", "no account with this id in Account.csv")
            domain = parse_address(fields["email"], "Email")[0].rpartition("@")[2].lower()
            account = accounts[key]
            # The contacts of a quarantined account give nothing; free mail is never an account's.
            if account is None or domain in personal or domain in account.domains:
                continue
            if domain in owners:
                raise FieldError("Email", f"its domain {domain} already belongs to the account on {owners[domain]}")
        except FieldError as exc:
            yield Rejected(position, exc.field, exc.reason)
            continue
        owners[domain] = account.position
        account.contacts.append(domain)


def _period(day: date, grain: str) -> str:
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _amount(value: str, column: str) -> Decimal:
    if not value:
        raise FieldError(column, "is empty")
    parse_number(value, column)
    return Decimal(value.replace(",", "").replace("_", "").strip())


@dataclass
class _Quota:
    position: str
    email: str
    period: str
    amount: Decimal
    bookings: Decimal = Decimal(0)


def _read_quotas(folder: _Folder, users: _Users, grain: str, quotas: dict[tuple[str, str], _Quota]) -> Iterator[Rejected]:
    """Fill `quotas` by owner key and period; yield the rows that cannot be read."""
    for position, fields, problem in folder.rows("ForecastingQuota.csv", ("quotaownerid", "startdate", "quotaamount")):
        if problem is not None:
            yield problem
            continue
        try:
            owner = _key(fields["quotaownerid"], "QuotaOwnerId")
            email = users.email(fields["quotaownerid"], "QuotaOwnerId")
            start = parse_date(fields["startdate"], "StartDate")
            period = _period(start, grain)
            if start != parse_period(period)[1]:
                raise FieldError("StartDate", f"{start} is not the first day of a {grain} ([salesforce] quota_period)")
            if (owner, period) in quotas:
                raise FieldError(
                    "StartDate", f"duplicate quota: the same owner and period are on {quotas[owner, period].position}"
                )
            amount = _amount(fields["quotaamount"], "QuotaAmount")
            if amount <= 0:
                raise FieldError("QuotaAmount", f"{shown(fields['quotaamount'])} is not a positive number")
        except FieldError as exc:
            yield Rejected(position, exc.field, exc.reason)
            continue
        quotas[owner, period] = _Quota(position, email, period, amount)


def _is_won(fields: dict[str, str], won_stages: set[str]) -> bool:
    # Data Loader exports hold IsWon; a report or an export without it has the stage only.
    if fields.get("iswon", ""):
        return parse_bool(fields["iswon"], "IsWon")
    return fields.get("stagename", "").lower() in won_stages


def _add_bookings(
    folder: _Folder, users: _Users, settings: SalesforceConfig, quotas: dict[tuple[str, str], _Quota]
) -> Iterator[Rejected]:
    """Add each won opportunity's amount to its owner's quota of the period it closed in; yield those that cannot count."""
    if not {"iswon", "stagename"} & set(folder.columns("Opportunity.csv")):
        path = folder.files["opportunity.csv"]
        raise InputError(f"{path}: row 1: needs an IsWon or a StageName column to tell won opportunities")
    won_stages = {stage.lower() for stage in settings.won_stages}
    for position, fields, problem in folder.rows("Opportunity.csv", ("ownerid", "closedate", "amount")):
        if problem is not None:
            yield problem
            continue
        try:
            # Open and lost opportunities book nothing: they are read and left.
            if not _is_won(fields, won_stages):
                continue
            owner = _key(fields["ownerid"], "OwnerId")
            users.email(fields["ownerid"], "OwnerId")
            period = _period(parse_date(fields["closedate"], "CloseDate"), settings.quota_period)
            amount = _amount(fields["amount"], "Amount")
            if (owner, period) not in quotas:
                raise FieldError("OwnerId", f"no quota for its owner in that period ({period})")
        except FieldError as exc:
            yield Rejected(position, exc.field, exc.reason)
            continue
        quota = quotas[owner, period]
        quota.bookings = _EXACT.add(quota.bookings, amount)


def read_salesforce(
    source: Source, settings: SalesforceConfig, personal_domains: list[str]
) -> Iterator[Account | Kpi | Rejected]:
    """Yield each account and each owner's result per quota period of a Salesforce export, or Rejected with the reason.

    Users, accounts and contacts are read first, then the quotas, then the
    opportunities as they stream by; the quarantined rows come as they are
    found, the accounts in Account.csv's order once their contacts are read,
    and the results last, in ForecastingQuota.csv's order.
    """
    folder = _Folder(source)
    personal = {d.lower() for d in personal_domains}
    users = _Users()
    yield from _read_users(folder, users)
    accounts: dict[str, _Pending | None] = {}
    yield from _read_accounts(folder, users, settings, personal, accounts)
    if folder.has("Contact.csv"):
        yield from _add_contacts(folder, accounts, personal)
    for account in accounts.values():
        if account is None:
            continue
        if not account.domains:
            yield Rejected(account.position, "Website", "no mail domain: no website and no contact at a company address")
            continue
        yield Account(account.position, account.account_id, account.name, account.domains, account.type, account.owner_email)
    # Bookings count against a quota: without both files there are no results.
    if not (folder.has("Opportunity.csv") and folder.has("ForecastingQuota.csv")):
        return
    quotas: dict[tuple[str, str], _Quota] = {}
    yield from _read_quotas(folder, users, settings.quota_period, quotas)
    yield from _add_bookings(folder, users, settings, quotas)
    for quota in quotas.values():
        period, first, last = parse_period(quota.period)
        amount, bookings = float(quota.amount), float(quota.bookings)
        yield Kpi(quota.position, quota.email, period, first, last, amount, bookings, bookings / amount)
