"""A synthetic company whose every name and address is a marker, and the scan that finds those markers in any text.

Person 12 of the roster is `zqxaddr0012@acme.example`, "Zqxname0012
Zqxsurname0012"; customer contact 7 is `zqxext0007@<its company's domain>`.
Each marker names one person, so a scan tells whose identity it found, and
every part of one (the address's local part, the first name, the last name)
is enough. "zqx" starts no English word and no hexadecimal pseudonym: a hit
is always a raw identity, and a truncated marker (`zqxaddr00…`) is a hit too.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from datetime import date

    from repsight.config import Config
    from repsight.synth.org import Company
    from repsight.synth.random import Rng

__all__ = ["DOMAIN", "MARK", "Hit", "Marks", "Someone", "generate_marked", "hits"]

DOMAIN = "acme.example"
MARK = re.compile(r"zqx[a-z]*\d*|sales-all", re.IGNORECASE)
"""A marker, whole or cut short; and the one address the generator writes that is no person's (a distribution list)."""


@dataclass(frozen=True)
class Someone:
    """One marked identity: a roster person, a customer contact, a stranger of a bad input row, or a dashboard account."""

    email: str
    name: str | None
    on_roster: bool

    @property
    def tokens(self) -> frozenset[str]:
        """Return the markers of this identity, lower-cased: what a scan finds of it."""
        text = f"{self.email.split('@')[0]} {self.name or ''}"
        return frozenset(m.lower() for m in MARK.findall(text))


@dataclass(frozen=True)
class Hit:
    """One marker found in a text, with the text around it."""

    token: str
    context: str


def hits(text: str) -> list[Hit]:
    """Return every marker in `text`, in order."""
    return [
        Hit(m.group(0).lower(), text[max(0, m.start() - 60) : m.end() + 60].replace("\n", "\\n")) for m in MARK.finditer(text)
    ]


class Marks:
    """Every marked identity of the company, by address and by marker."""

    def __init__(self, people: list[Someone]) -> None:
        self.people = {p.email: p for p in people}
        self._by_token = {t: p for p in people for t in p.tokens}

    def add(self, someone: Someone) -> None:
        self.people[someone.email] = someone
        self._by_token.update(dict.fromkeys(someone.tokens, someone))

    def whose(self, token: str) -> str:
        """Return whose a marker is, for a failure message."""
        found = self._by_token.get(token)
        if found is None:
            return "a marker cut short, or the distribution list: no one's identity may be shown in part"
        return f"{found.email} / {found.name}" if found.name else found.email

    def of(self, *emails: str) -> frozenset[str]:
        """Return the markers of the identities with these addresses (all of them: address, first and last name)."""
        return frozenset(t for e in emails for t in self.people[e.lower()].tokens)

    def addresses_of(self, *emails: str) -> frozenset[str]:
        """Return the markers of these addresses only (not the names)."""
        return frozenset(t for e in emails for t in Someone(e.lower(), None, False).tokens)

    @property
    def roster_names(self) -> frozenset[str]:
        """Return the name markers of everyone on the roster."""
        return frozenset(t for p in self.people.values() if p.on_roster for t in Someone("@", p.name, True).tokens)

    @property
    def roster_addresses(self) -> frozenset[str]:
        """Return the address markers of everyone on the roster."""
        return self.addresses_of(*(p.email for p in self.people.values() if p.on_roster))


STRANGERS = {
    # A roster row whose level is not a whole number: quarantined.
    "level": Someone(f"zqxaddr0901@{DOMAIN}", "Zqxname0901 Zqxsurname0901", False),
    # A roster row whose manager is on no row: quarantined.
    "manager": Someone(f"zqxaddr0902@{DOMAIN}", "Zqxname0902 Zqxsurname0902", False),
    "absent manager": Someone(f"zqxaddr0903@{DOMAIN}", None, False),
    # A KPI of someone not on the roster: quarantined with its row.
    "kpi": Someone(f"zqxaddr0904@{DOMAIN}", None, False),
    # An account owned by someone not on the roster.
    "owner": Someone(f"zqxaddr0905@{DOMAIN}", None, False),
}
"""Identities of input rows that cannot be loaded as they are: what the quarantine says of them must not repeat them."""


def _mark(company: Company) -> Company:
    """Give every person and contact of a generated company a marked address (and every person a marked name)."""
    renamed: dict[str, str] = {}
    for number, person in enumerate(company.employees, 1):
        renamed[person.email] = f"zqxaddr{number:04d}@{company.domain}"
        person.email = renamed[person.email]
        person.name = f"Zqxname{number:04d} Zqxsurname{number:04d}"
    external: dict[str, str] = {}

    def contact(address: str) -> str:
        if address not in external:
            external[address] = f"zqxext{len(external) + 1:04d}@{address.split('@')[1]}"
        return external[address]

    for account in company.accounts:
        account.contacts = [contact(a) for a in account.contacts]
        account.owner = renamed[account.owner] if account.owner else None
    company.personal = [contact(a) for a in company.personal]
    return company


def _append(path: Path, rows: list[list[str]]) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _plant_bad_rows(folder: Path, manager: str) -> None:
    """Append to the roster, KPIs and accounts the rows the quarantine (or the loader) must keep without their identities."""
    level, orphan, absent, kpi, owner = (STRANGERS[k] for k in ("level", "manager", "absent manager", "kpi", "owner"))
    roster = ["Sales NA SMB", "Sales", "NA", "SMB", "Direct", "2021-02-01", "", "America/New_York", "Account Executive"]
    _append(
        folder / "roster.csv",
        [
            [level.email, level.name or "", manager, "Sales NA SMB", "senior", *roster[1:]],
            [orphan.email, orphan.name or "", absent.email, "Sales NA SMB", "3", *roster[1:]],
        ],
    )
    _append(folder / "kpis.csv", [[kpi.email, "2024Q3", "100000.00", "90000.00"]])
    _append(folder / "accounts.csv", [["A99999", "Zephyr Quarry Hotels", "zephyr-quarry.example", "customer", owner.email]])


def generate_marked(folder: Path, *, people: int, months: int) -> tuple[Config, Marks]:
    """Generate a company of marked identities into a new workspace at `folder` (mixed export formats), with bad rows planted."""
    import repsight.synth
    from repsight.synth import generate
    from repsight.synth.org import build_company  # what `generate` calls, as `repsight.synth` imports it
    from repsight.workspace import init_workspace

    config = init_workspace(folder, domains=[DOMAIN], mail=["mail/*"], calendar=["calendar/*"], timezone="America/New_York")
    company: list[Company] = []

    def marked(count: int, rng: Rng, start: date, end: date) -> Company:
        company.append(_mark(build_company(count, rng, start, end)))
        return company[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repsight.synth, "build_company", marked)
        generate(folder, people=people, months=months, formats="mixed")
    (built,) = company
    _plant_bad_rows(folder, built.employees[0].email)
    identities = [Someone(e.email, e.name, True) for e in built.employees]
    identities += [
        Someone(a, None, False) for a in sorted({c for acc in built.accounts for c in acc.contacts} | set(built.personal))
    ]
    return config, Marks(identities + list(STRANGERS.values()))
