"""Writing the synthetic company to the input formats repsight reads.

Mail and calendars are written the way companies export them: in files of
a few dozen mailboxes each, so that a message between people in two files
is in both, as it is in real exports (the loader must store it once).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from repsight.sources.kpis import parse_period
from repsight.sources.salesforce import long_id
from repsight.synth.activity import SynthMeeting, SynthMessage
from repsight.synth.formats import open_exports
from repsight.synth.org import Company, ExternalOrg
from repsight.synth.random import Rng

__all__ = ["Exports", "write_accounts", "write_json", "write_kpis", "write_roster", "write_salesforce"]

MAILBOXES_PER_FILE = 25


def _writer(handle: IO[str]) -> Any:
    return csv.writer(handle, lineterminator="\n")


def write_roster(company: Company, path: Path) -> None:
    columns = (
        "email",
        "name",
        "manager_email",
        "org",
        "level",
        "function",
        "region",
        "segment",
        "channel",
        "hire_date",
        "leave_date",
        "timezone",
        "title",
    )
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(columns)
        for e in company.employees:
            out.writerow(
                (
                    e.email,
                    e.name,
                    e.manager.email if e.manager else "",
                    e.org,
                    e.level,
                    e.function,
                    e.region,
                    e.segment or "",
                    e.channel or "",
                    e.hire_date.isoformat(),
                    e.leave_date.isoformat() if e.leave_date else "",
                    e.timezone,
                    e.title,
                )
            )


def write_accounts(company: Company, path: Path) -> None:
    """Write the CRM accounts, each with its owning rep (`owner_email`, empty for partners and vendors)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(("account_id", "name", "domains", "type", "owner_email"))
        for a in company.accounts:
            out.writerow((a.account_id, a.name, a.domain, a.type, a.owner or ""))


def write_kpis(rows: Iterable[tuple[str, str, float, float]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = _writer(handle)
        out.writerow(("email", "period", "quota", "bookings"))
        for email, period, quota, bookings in rows:
            out.writerow((email, period, f"{quota:.2f}", f"{bookings:.2f}"))


# Salesforce's picklist values for each account type (its standard Account.Type values, and some custom ones).
SALESFORCE_TYPES = {
    "customer": ("Customer - Direct", "Customer - Channel"),
    "prospect": ("Prospect",),
    "partner": ("Technology Partner", "Channel Partner / Reseller", "Installation Partner"),
    "vendor": ("Vendor", "Supplier"),
}


def _salesforce_id(prefix: str, number: int) -> str:
    """Return an 18-character id; ids of one object sort in the order of `number`, as the accounts' ids of accounts.csv do."""
    return long_id(f"{prefix}Rs{number:010d}")


def _salesforce_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    # As Data Export writes them: a byte-order mark, every field quoted, CRLF line ends.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        out.writerow(header)
        out.writerows(rows)


def _website(account: ExternalOrg, rng: Rng) -> str:
    """Return the account's Website as CRM users type it; empty for some (their contacts give the domain)."""
    form = rng.weighted(("https", "bare", "page", "none"), (0.4, 0.3, 0.15, 0.15))
    return {
        "https": f"https://www.{account.domain}/",
        "bare": account.domain,
        "page": f"http://{account.domain}/about",
        "none": "",
    }[form]


def _cents(total: int, parts: int, rng: Rng) -> list[int]:
    """Return `parts` positive amounts in cents that sum to `total` exactly."""
    parts = max(1, min(parts, total))
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    amounts = [max(1, int(total * w / sum(weights))) for w in weights[:-1]]
    return [*amounts, total - sum(amounts)]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write_salesforce(company: Company, kpi_rows: Iterable[tuple[str, str, float, float]], folder: Path, *, seed: int = 0) -> None:
    """Write the CRM as a Salesforce export (docs/salesforce.md) holding what accounts.csv and kpis.csv hold.

    Each result's bookings are split into won opportunities that sum, in
    cents, to the bookings kpis.csv writes; lost and open opportunities,
    free-mail contacts, and 15-character references (as reports give them)
    are there to be left out. Draws come from their own seed, so writing
    this export changes nothing else the generator writes.
    """
    rng = Rng(seed + 104_729)
    folder.mkdir(parents=True, exist_ok=True)
    users = {e.email: _salesforce_id("005", i + 1) for i, e in enumerate(company.employees)}
    _salesforce_csv(
        folder / "User.csv",
        ("Id", "Username", "Name", "Email", "IsActive"),
        ((users[e.email], e.email, e.name, e.email, "true") for e in company.employees),
    )
    accounts = {a.account_id: _salesforce_id("001", i + 1) for i, a in enumerate(company.accounts)}
    _salesforce_csv(
        folder / "Account.csv",
        ("Id", "Name", "Type", "Website", "OwnerId", "Description"),
        (
            (
                accounts[a.account_id],
                a.name,
                rng.choice(SALESFORCE_TYPES[a.type]),
                _website(a, rng),
                users[a.owner] if a.owner else "",
                "Key account.\nReview at each renewal." if rng.chance(0.2) else "",  # a quoted field over two lines
            )
            for a in company.accounts
        ),
    )
    contacts: list[tuple[str, str, str]] = []
    for a in company.accounts:
        # Some references name the account by its 15-character id, as reports do.
        account = accounts[a.account_id][:15] if rng.chance(0.2) else accounts[a.account_id]
        addresses = list(a.contacts)
        if rng.chance(0.3):
            addresses.append(rng.choice(company.personal))  # a contact's private address: never the account's domain
        if rng.chance(0.1):
            addresses.append("")
        contacts.extend((_salesforce_id("003", len(contacts) + 1), account, address) for address in addresses)
    _salesforce_csv(folder / "Contact.csv", ("Id", "AccountId", "Email"), contacts)
    owned: dict[str, list[str]] = {}
    for a in company.accounts:
        if a.owner:
            owned.setdefault(a.owner, []).append(accounts[a.account_id])
    fallback = list(accounts.values())
    quotas: list[tuple[str, str, str, str]] = []
    opportunities: list[tuple[str, ...]] = []
    for email, period, quota, bookings in kpi_rows:
        _, first, last = parse_period(period)
        owner = users[email]
        quotas.append((_salesforce_id("0J9", len(quotas) + 1), owner, first.isoformat(), f"{quota:.2f}"))
        total = int(Decimal(f"{bookings:.2f}") * 100)
        won = _cents(total, rng.integer(2, 5), rng) if total > 0 else []
        lost = [rng.integer(100_000, 5_000_000) for _ in range(rng.integer(0, 2))]
        for i, cents in enumerate(won + lost):
            is_won = i < len(won)
            stage = "Closed Won" if is_won else rng.choice(("Closed Lost", "Negotiation/Review"))
            # Most rows say IsWon; some (a report's export) leave it to the stage.
            is_won_text = "" if rng.chance(0.05) else ("true" if is_won else "false")
            close = first + timedelta(days=rng.integer(0, (last - first).days))
            number = len(opportunities) + 1
            opportunities.append(
                (
                    _salesforce_id("006", number),
                    rng.choice(owned.get(email, fallback)),
                    f"Opportunity {number}",
                    owner[:15] if rng.chance(0.2) else owner,
                    stage,
                    close.isoformat(),
                    _money(cents),
                    is_won_text,
                )
            )
    _salesforce_csv(folder / "ForecastingQuota.csv", ("Id", "QuotaOwnerId", "StartDate", "QuotaAmount"), quotas)
    _salesforce_csv(
        folder / "Opportunity.csv",
        ("Id", "AccountId", "Name", "OwnerId", "StageName", "CloseDate", "Amount", "IsWon"),
        opportunities,
    )


def write_json(value: object, path: Path) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class Exports:
    """Mail and calendar exports, one of each per group of mailboxes, written as events stream in.

    A message is in a group's export because a mailbox of the group holds
    it (its sender's or a recipient's); a meeting, because it is on a
    calendar of the group. `missing_mailboxes` and `missing_calendars` are
    left out of the exports, so what only they hold is nowhere. `aliases`
    (second address → roster address) are mailboxes of their person's
    group, under the person's name.
    """

    def __init__(
        self,
        company: Company,
        folder: Path,
        formats: str = "csv",
        *,
        missing_mailboxes: Collection[str] = (),
        missing_calendars: Collection[str] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.group = {e.email: i // MAILBOXES_PER_FILE for i, e in enumerate(company.employees)}
        names = {e.email: e.name for e in company.employees}
        for alias, person in (aliases or {}).items():
            self.group[alias] = self.group[person]
            names[alias] = names[person]
        self.missing_mailboxes = frozenset(missing_mailboxes)
        self.missing_calendars = frozenset(missing_calendars)
        self.mail, self.calendars = open_exports(folder, max(self.group.values()) + 1, formats, names)
        self.messages = 0
        self.meetings = 0

    def groups_of(self, addresses: Iterable[str], missing: Collection[str] = ()) -> list[int]:
        """Return the groups of the exported mailboxes (or calendars) among `addresses`; none of `missing`."""
        return sorted({self.group[a] for a in addresses if a in self.group and a not in missing})

    def message(self, m: SynthMessage) -> None:
        """Write `m` into the mail export of each group that holds it; count it where one does."""
        groups = self.groups_of([m.sender, *m.to, *m.cc, *m.bcc], self.missing_mailboxes)
        for g in groups:
            self.mail[g].message(m)
        self.messages += bool(groups)

    def meeting(self, m: SynthMeeting) -> None:
        """Write `m` into the calendar export of each group with a calendar it is on; count it where one is."""
        groups = self.groups_of([m.organizer, *m.attendees], self.missing_calendars)
        for g in groups:
            self.calendars[g].meeting(m)
        self.meetings += bool(groups)

    def close(self) -> None:
        for mail in self.mail:
            mail.close()
        for calendar in self.calendars:
            calendar.close()
