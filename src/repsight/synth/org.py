"""The synthetic company: an org chart, CRM accounts, partners and vendors."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from repsight.synth.names import (
    COMPANY_KINDS,
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    PARTNER_KINDS,
    PERSONAL_DOMAINS,
    VENDOR_KINDS,
)
from repsight.synth.random import Rng

__all__ = ["MIN_PEOPLE", "Company", "Employee", "ExternalOrg", "build_company"]

MIN_PEOPLE = 40
DOMAIN = "acme.example"
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_WEIGHTS = (0.4, 0.35, 0.25)
ZONES = {
    "NA": ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    "EMEA": ("Europe/London", "Europe/Berlin", "Europe/Paris"),
    "APAC": ("Asia/Singapore", "Australia/Sydney", "Asia/Tokyo"),
    "LATAM": ("America/Sao_Paulo", "America/Mexico_City"),
}
# Non-sales functions a rep works with, their share of non-sales staff, and
# whether they are organised by region.
FUNCTIONS = (
    ("Pre-sales", 0.35, True),
    ("Product", 0.2, False),
    ("Marketing", 0.15, False),
    ("Support", 0.15, True),
    ("Finance", 0.1, False),
    ("Legal", 0.05, False),
)
NON_SALES_SHARE = 0.22
TEAM_SIZE = 8


@dataclass(eq=False)  # a person is themself: identity, not field-by-field equality
class Employee:
    """One person on the roster, with the hidden skill that drives a rep's results."""

    email: str
    name: str
    title: str
    level: int
    function: str
    org: str
    region: str
    timezone: str
    manager: Employee | None = None
    segment: str | None = None
    channel: str | None = None
    hire_date: date = date(2020, 1, 1)
    leave_date: date | None = None
    skill: float | None = None  # latent skill, reps only
    reports: list[Employee] = field(default_factory=list)
    accounts: list[ExternalOrg] = field(default_factory=list)

    @property
    def is_rep(self) -> bool:
        return self.skill is not None


@dataclass
class ExternalOrg:
    """A customer, prospect, partner or vendor, with its contacts' addresses and the rep who owns it in the CRM."""

    account_id: str
    name: str
    domain: str
    type: str
    contacts: list[str]
    owner: str | None = None  # the owning rep's address; None for partners (shared) and vendors


@dataclass
class Company:
    domain: str
    employees: list[Employee]
    accounts: list[ExternalOrg]
    personal: list[str]
    start: date
    end: date

    @property
    def reps(self) -> list[Employee]:
        return [e for e in self.employees if e.is_rep]

    def by_function(self, function: str) -> list[Employee]:
        return [e for e in self.employees if e.function == function]


class _Builder:
    def __init__(self, rng: Rng, start: date, end: date) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self.employees: list[Employee] = []
        self.used: dict[str, int] = {}

    def _email(self, first: str, last: str, domain: str) -> str:
        base = f"{first}.{last}".lower()
        count = self.used.get(f"{base}@{domain}", 0)
        self.used[f"{base}@{domain}"] = count + 1
        return f"{base}{count + 1 if count else ''}@{domain}"

    def person(self, title: str, level: int, function: str, org: str, region: str, manager: Employee | None) -> Employee:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        tenure_days = rng.integer(120, 3000)
        employee = Employee(
            email=self._email(first, last, DOMAIN),
            name=f"{first} {last}",
            title=title,
            level=level,
            function=function,
            org=org,
            region=region,
            timezone=rng.choice(ZONES[region]),
            manager=manager,
            hire_date=self.start - timedelta(days=tenure_days),
        )
        if manager is not None:
            manager.reports.append(employee)
        self.employees.append(employee)
        return employee

    def external_person(self, domain: str) -> str:
        return self._email(self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES), domain)


def _split(total: int, weights: tuple[float, ...]) -> list[int]:
    """Return `total` split by `weights` into whole numbers that add up to `total`."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def build_company(people: int, rng: Rng, start: date, end: date) -> Company:
    """Return a company of exactly `people` employees with accounts for its reps."""
    if people < MIN_PEOPLE:
        raise ValueError(f"a synthetic company needs at least {MIN_PEOPLE} people")
    b = _Builder(rng, start, end)
    ceo = b.person("Chief Executive Officer", 9, "Executive", "Executive", "NA", None)
    cro = b.person("Chief Revenue Officer", 8, "Sales", "Sales", "NA", ceo)
    execs = {
        "Finance": b.person("Chief Financial Officer", 8, "Finance", "Finance", "NA", ceo),
        "Product": b.person("Chief Product Officer", 8, "Product", "Product", "NA", ceo),
        "Marketing": b.person("Chief Marketing Officer", 8, "Marketing", "Marketing", "NA", ceo),
        "Legal": b.person("General Counsel", 8, "Legal", "Legal", "NA", ceo),
    }
    non_sales = round(NON_SALES_SHARE * people)
    sales_staff = people - len(b.employees) - non_sales
    # Reps plus one manager per team, a VP per region and some directors.
    reps_total = max(8, round((sales_staff - len(REGIONS)) / (1 + 1 / TEAM_SIZE + 0.02)))
    _build_sales(b, cro, reps_total, sales_staff)
    _build_functions(b, cro, execs, people - len(b.employees))
    company = Company(DOMAIN, b.employees, [], [], start, end)
    _build_accounts(b, company)
    _plan_tenure(b, company)
    return company


def _build_sales(b: _Builder, cro: Employee, reps_total: int, sales_staff: int) -> None:
    rng = b.rng
    per_region = _split(reps_total, REGION_WEIGHTS)
    budget = sales_staff - reps_total - len(REGIONS)  # managers and directors
    for region, region_reps in zip(REGIONS, per_region, strict=True):
        vp = b.person(f"VP Sales {region}", 7, "Sales", f"Sales {region}", region, cro)
        for segment, count in zip(SEGMENTS, _split(region_reps, SEGMENT_WEIGHTS), strict=True):
            if count == 0:
                continue
            org = f"Sales {region} {segment}"
            teams = max(1, math.ceil(count / TEAM_SIZE))
            head = vp
            if teams >= 2 and budget > teams:
                head = b.person(f"Director {segment} {region}", 6, "Sales", org, region, vp)
                budget -= 1
            for team_reps in _split(count, (1.0,) * teams):
                manager = b.person(f"Sales Manager {segment}", 5, "Sales", org, region, head)
                budget -= 1
                for _ in range(team_reps):
                    level = rng.weighted((2, 3, 4), (0.25, 0.5, 0.25))
                    rep = b.person("Account Executive", level, "Sales", org, region, manager)
                    rep.segment = segment
                    rep.channel = "Partner" if rng.chance(0.25) else "Direct"
                    rep.skill = rng.normal()


def _build_functions(b: _Builder, cro: Employee, execs: dict[str, Employee], remaining: int) -> None:
    shares = tuple(share for _, share, _ in FUNCTIONS)
    for (function, _, regional), count in zip(FUNCTIONS, _split(remaining, shares), strict=True):
        if count == 0:
            continue
        boss = execs.get(function, cro)
        head = b.person(f"Head of {function}", 7, function, function, "NA", boss)
        staff = count - 1
        teams = max(1, round(staff / (TEAM_SIZE + 1))) if staff >= 4 else 0
        managers: list[Employee] = []
        for i in range(teams):
            region = REGIONS[i % len(REGIONS)] if regional else b.rng.choice(("NA", "EMEA"))
            org = f"{function} {region}" if regional else function
            managers.append(b.person(f"{function} Manager", 5, function, org, region, head))
        for i in range(staff - teams):
            manager = managers[i % len(managers)] if managers else head
            region = manager.region if regional and managers else b.rng.choice(("NA", "EMEA", "APAC"))
            org = manager.org if managers else function
            if i == 0:  # every function has its junior coordinator
                b.person(f"{function} Coordinator", 1, function, org, region, manager)
                continue
            level = b.rng.weighted((2, 3, 4), (0.3, 0.45, 0.25))
            b.person(f"{function} Specialist", level, function, org, region, manager)


def _build_accounts(b: _Builder, company: Company) -> None:
    rng = b.rng
    names: dict[str, None] = {}

    def new_org(kind: str, kinds: Sequence[str], contacts: int) -> ExternalOrg:
        while True:
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(kinds)}"
            if name not in names:
                break
            name = f"{name} {len(names)}"
            if name not in names:
                break
        names[name] = None
        domain = name.lower().replace(" ", "-") + ".example"
        people = [b.external_person(domain) for _ in range(contacts)]
        account = ExternalOrg(f"A{len(company.accounts) + 1:05d}", name, domain, kind, people)
        company.accounts.append(account)
        return account

    partners = [new_org("partner", PARTNER_KINDS, 4) for _ in range(max(3, len(company.reps) // 25))]
    for _ in range(max(2, len(company.employees) // 150)):
        new_org("vendor", VENDOR_KINDS, 2)
    for rep in company.reps:
        owned = [new_org("customer", COMPANY_KINDS, rng.integer(2, 4)) for _ in range(rng.integer(3, 5))]
        owned += [new_org("prospect", COMPANY_KINDS, rng.integer(1, 3)) for _ in range(rng.integer(4, 6))]
        for account in owned:
            account.owner = rep.email
        if rep.channel == "Partner":
            owned += rng.sample(partners, 2)
        rep.accounts = owned
    company.personal = [b.external_person(rng.choice(PERSONAL_DOMAINS)) for _ in range(max(20, len(company.employees) // 4))]


def _plan_tenure(b: _Builder, company: Company) -> None:
    """Hire some reps during the data range and let some leave, as real rosters show."""
    rng = b.rng
    span = (company.end - company.start).days
    for rep in company.reps:
        if rng.chance(0.10):
            rep.hire_date = company.start + timedelta(days=rng.integer(14, span * 2 // 3))
        elif rng.chance(0.06):
            rep.leave_date = company.start + timedelta(days=rng.integer(span // 3, span - 14))
