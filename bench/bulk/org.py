"""The synthetic company as numpy arrays: who works with whom, for `bench/bulk`.

`repsight.synth.activity` looks contact pools up person by person (quadratic
in the head count); here every pool is built once, as CSR arrays (row `i`'s
values are `values[ptr[i]:ptr[i + 1]]`), so a week of events is a handful of
array operations whatever the company's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from repsight.synth.activity import Params
from repsight.synth.org import Company, Employee

__all__ = [
    "DAY_US",
    "MINUTE_US",
    "NEVER",
    "Clock",
    "OrgArrays",
    "build_arrays",
    "ceil_half_hours",
    "contacts",
    "day_number",
    "pick",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

DAY_US = 86_400_000_000
MINUTE_US = 60_000_000
EPOCH = date(1970, 1, 1)
NEVER = 10**7  # a day number after any leave date
OTHER_EXTERNAL_PER_EMPLOYEE = 0.05  # newsletters, recruiters: external domains that are no account


def day_number(day: date) -> int:
    """Return the number of days from 1970-01-01 to `day`."""
    return (day - EPOCH).days


def csr(rows: list[list[int]]) -> tuple[I64, I64]:
    """Return (ptr, values) of a list of integer lists."""
    ptr = np.zeros(len(rows) + 1, np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    values = np.fromiter((v for r in rows for v in r), np.int64, count=int(ptr[-1]))
    return ptr, values


class Clock:
    """UTC offsets of each time zone per local day, to turn local times into UTC in bulk.

    The offset is taken at local noon: clocks change at night, and every
    synthetic event is timed between 08:00 and 22:00 local.
    """

    def __init__(self, zones: list[str], first: date, last: date) -> None:
        self.first = day_number(first)
        days = (last - first).days + 1
        self.offset_us = np.empty((len(zones), days), np.int64)
        for z, name in enumerate(zones):
            info = ZoneInfo(name)
            for d in range(days):
                offset = datetime.combine(first + timedelta(days=d), time(12), info).utcoffset()
                assert offset is not None
                self.offset_us[z, d] = round(offset.total_seconds()) * 1_000_000

    def utc(self, zone: I64, local_day: I64, minute: I64) -> I64:
        """Return UTC microseconds of local day numbers and minutes of the day in the given zones."""
        result: I64 = local_day * DAY_US + minute * MINUTE_US - self.offset_us[zone, local_day - self.first]
        return result


@dataclass
class OrgArrays:
    """The company, indexed: employees are addresses 0 … employees-1, external addresses follow."""

    size: int  # addresses in all
    employees: int
    zones: list[str]
    zone: I64
    level: I64
    manager: I64  # -1: none
    hire: I64  # day numbers
    leave: I64  # day numbers; NEVER where the person stays
    rep_of: I64  # rep row of an employee, -1 for others
    reps: I64  # employee of each rep row
    skill: F64  # (reps, quarters): the quarter's standardised skill
    quarter: dict[str, int]
    partner_channel: Bools
    engineer: I64  # the rep's pre-sales engineer, -1: none
    chain: I64  # (reps, 2): the nearest two senior leaders above the rep, -1: none
    seniors: I64
    customers: tuple[I64, I64]  # rep → customer and prospect accounts
    partners: tuple[I64, I64]  # rep → partner accounts
    network: tuple[I64, I64]  # rep → regular internal contacts
    peers: tuple[I64, I64]  # employee → everyday colleagues (non-reps)
    reports: tuple[I64, I64]  # manager row → reports
    managers: I64  # employee of each manager row
    contact_start: I64  # account → its first contact's address
    contact_count: I64
    vendors: I64  # vendor accounts
    personal: I64  # personal (free-mail) addresses
    other_external: I64  # external addresses of no account
    sales_all: int  # the sales distribution list
    ceo: int
    product_head: int
    marketing_head: int
    region: I64
    region_vps: I64  # employee of each region's sales VP
    is_sales: Bools


def build_arrays(
    company: Company, skills: dict[str, dict[str, float]], rng: np.random.Generator, params: Params
) -> tuple[OrgArrays, list[str]]:
    """Return the company's arrays and every address they index; contact pools are drawn with `rng` as activity.py draws them."""
    people = company.employees
    index = {id(e): i for i, e in enumerate(people)}
    n = len(people)
    zones = sorted({e.timezone for e in people})
    regions = sorted({e.region for e in people})
    orgs = sorted({e.org for e in people})
    addresses = [e.email for e in people]
    contact_start, contact_count = [], []
    for account in company.accounts:
        contact_start.append(len(addresses))
        contact_count.append(len(account.contacts))
        addresses.extend(account.contacts)
    personal = np.arange(len(addresses), len(addresses) + len(company.personal), dtype=np.int64)
    addresses.extend(company.personal)
    others = max(5, round(OTHER_EXTERNAL_PER_EMPLOYEE * n))
    other_external = np.arange(len(addresses), len(addresses) + others, dtype=np.int64)
    addresses.extend(f"updates@mailer-{i + 1}.example.org" for i in range(others))
    sales_all = len(addresses)
    addresses.append(f"sales-all@{company.domain}")

    level = np.array([e.level for e in people], np.int64)
    region = np.array([regions.index(e.region) for e in people], np.int64)
    org = np.array([orgs.index(e.org) for e in people], np.int64)
    presales = np.array([e.function == "Pre-sales" for e in people])
    manager = np.array([index[id(e.manager)] if e.manager is not None else -1 for e in people], np.int64)
    rep_list = [e for e in people if e.is_rep]
    reps = np.array([index[id(e)] for e in rep_list], np.int64)
    rep_of = np.full(n, -1, np.int64)
    rep_of[reps] = np.arange(len(reps))
    lasting = np.zeros(n)
    lasting[reps] = [e.skill or 0.0 for e in rep_list]
    quarters = list(next(iter(skills.values()))) if skills else []
    account_row = {a.account_id: i for i, a in enumerate(company.accounts)}
    seniors = np.flatnonzero(level >= 7).astype(np.int64)

    def chain_of(rep: Employee) -> list[int]:
        found, boss = [], rep.manager
        while boss is not None:
            if boss.level >= 7:
                found.append(index[id(boss)])
            boss = boss.manager
        return (found + [-1, -1])[:2]

    def first(title: str, fallback: int) -> int:
        return next((i for i, e in enumerate(people) if e.title == title), fallback)

    managers = [e for e in people if e.reports]
    marketing = next(i for i, e in enumerate(people) if e.title in ("Head of Marketing", "Chief Marketing Officer"))
    arrays = OrgArrays(
        size=len(addresses),
        employees=n,
        zones=zones,
        zone=np.array([zones.index(e.timezone) for e in people], np.int64),
        level=level,
        manager=manager,
        hire=np.array([day_number(e.hire_date) for e in people], np.int64),
        leave=np.array([day_number(e.leave_date) if e.leave_date else NEVER for e in people], np.int64),
        rep_of=rep_of,
        reps=reps,
        skill=np.array([[skills[e.email][q] for q in quarters] for e in rep_list], np.float64).reshape(len(reps), len(quarters)),
        quarter={q: i for i, q in enumerate(quarters)},
        partner_channel=np.array([e.channel == "Partner" for e in rep_list], bool),
        engineer=_engineers(rng, reps, region, level, presales),
        chain=np.array([chain_of(e) for e in rep_list], np.int64).reshape(len(reps), 2),
        seniors=seniors,
        customers=csr([[account_row[a.account_id] for a in e.accounts if a.type in ("customer", "prospect")] for e in rep_list]),
        partners=csr([[account_row[a.account_id] for a in e.accounts if a.type == "partner"] for e in rep_list]),
        network=_networks(rng, params, reps, org, region, presales, level, manager, lasting),
        peers=_peers(rng, org, np.array([e.function != "Sales" for e in people]), rep_of),
        reports=csr([[index[id(r)] for r in m.reports] for m in managers]),
        managers=np.array([index[id(m)] for m in managers], np.int64),
        contact_start=np.array(contact_start, np.int64),
        contact_count=np.array(contact_count, np.int64),
        vendors=np.array([i for i, a in enumerate(company.accounts) if a.type == "vendor"], np.int64),
        personal=personal,
        other_external=other_external,
        sales_all=sales_all,
        ceo=0,
        product_head=first("Head of Product", 0),
        marketing_head=marketing,
        region=region,
        region_vps=np.array([first(f"VP Sales {r}", 0) for r in regions], np.int64),
        is_sales=np.array([e.function == "Sales" for e in people]),
    )
    return arrays, addresses


def _engineers(rng: np.random.Generator, reps: I64, region: I64, level: I64, presales: Bools) -> I64:
    """Return each rep's pre-sales engineer: one of their region's (below level 5), else anyone's."""
    everyone = np.flatnonzero(presales & (level < 7))
    result = np.full(len(reps), -1, np.int64)
    for r in np.unique(region[reps]):
        pool = np.flatnonzero(presales & (level < 5) & (region == r))
        pool = pool if len(pool) else everyone
        mine = np.flatnonzero(region[reps] == r)
        if len(pool):
            result[mine] = pool[rng.integers(0, len(pool), len(mine))]
    return result


def _networks(
    rng: np.random.Generator,
    params: Params,
    reps: I64,
    org: I64,
    region: I64,
    presales: Bools,
    level: I64,
    manager: I64,
    lasting: F64,
) -> tuple[I64, I64]:
    """Return each rep's regular internal contacts (CSR): more with more skill, half near, half far.

    As in activity.py, contacts are drawn with weight exp(effect × skill),
    without replacement (near: Efraimidis–Spirakis keys; far: weighted draws
    with repeats dropped, which is the same successive sampling), so skilled
    reps are sought out and the planted network effect is not diluted.
    """
    effect = params.network_skill_effect
    weight = np.exp(effect * lasting)
    eligible = level < 7
    members: dict[int, I64] = {o: np.flatnonzero((org == o) & eligible) for o in np.unique(org)}
    engineers: dict[int, I64] = {r: np.flatnonzero(presales & (region == r) & eligible) for r in np.unique(region)}
    sizes = np.maximum(2, np.round(params.internal_contacts * np.exp(effect * lasting[reps])).astype(np.int64))
    near_rows: list[I64] = []
    far_need = np.zeros(len(reps), np.int64)
    for row, rep in enumerate(reps):
        pool = np.concatenate([members[int(org[rep])], engineers[int(region[rep])]])
        pool = pool[(pool != rep) & (pool != manager[rep])]
        count = min(len(pool), round(int(sizes[row]) * 0.5))
        keys = rng.random(len(pool)) ** (1.0 / weight[pool])
        near_rows.append(pool[np.argsort(-keys, kind="stable")[:count]])
        far_need[row] = sizes[row] - count
    # Far contacts for all reps at once: weighted draws, then per rep the first distinct valid ones.
    far_pool = np.flatnonzero(eligible)
    cdf = np.cumsum(weight[far_pool])
    draws = 4 * far_need + 8
    owner = np.repeat(np.arange(len(reps)), draws)
    picked = far_pool[np.minimum(np.searchsorted(cdf, rng.random(len(owner)) * cdf[-1], side="right"), len(far_pool) - 1)]
    rep = reps[owner]
    near = (org[picked] == org[rep]) | (presales[picked] & (region[picked] == region[rep]))
    valid = (picked != rep) & (picked != manager[rep]) & ~near
    owner, picked = owner[valid], picked[valid]
    _, firsts = np.unique(owner * len(org) + picked, return_index=True)
    firsts.sort()
    owner, picked = owner[firsts], picked[firsts]
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
    keep = rank < far_need[owner]
    owner, picked = owner[keep], picked[keep]
    far_start = np.searchsorted(owner, np.arange(len(reps) + 1))
    rows = [np.concatenate([near_rows[r], picked[far_start[r] : far_start[r + 1]]]) for r in range(len(reps))]
    return csr([r.tolist() for r in rows])


def _peers(rng: np.random.Generator, org: I64, non_sales: Bools, rep_of: I64) -> tuple[I64, I64]:
    """Return each non-rep's everyday colleagues (CSR): five of their own org, two of another non-sales one."""
    members: dict[int, I64] = {o: np.flatnonzero(org == o) for o in np.unique(org)}
    outside = np.flatnonzero(non_sales)
    rows: list[list[int]] = []
    for person in range(len(org)):
        if rep_of[person] >= 0:
            rows.append([])
            continue
        same = members[int(org[person])]
        same = same[same != person]
        chosen = same[rng.permutation(len(same))[:5]].tolist() if len(same) <= 64 else _distinct(rng, same, 5)
        candidates = outside[rng.integers(0, len(outside), 8)] if len(outside) else outside
        chosen += _first_distinct(candidates[org[candidates] != org[person]], 2)
        rows.append(chosen)
    return csr(rows)


def _distinct(rng: np.random.Generator, pool: I64, count: int) -> list[int]:
    """Return `count` distinct members of a large pool, drawn uniformly."""
    return _first_distinct(pool[rng.integers(0, len(pool), 4 * count)], count)


def _first_distinct(values: I64, count: int) -> list[int]:
    seen: dict[int, None] = {}
    for v in values.tolist():
        seen.setdefault(v, None)
        if len(seen) == count:
            break
    return list(seen)


def pick(rng: np.random.Generator, table: tuple[I64, I64], rows: I64) -> I64:
    """Return one value of each row of a CSR table, drawn uniformly; -1 for an empty row."""
    ptr, values = table
    start, size = ptr[rows], ptr[rows + 1] - ptr[rows]
    offset = np.minimum((rng.random(len(rows)) * size).astype(np.int64), np.maximum(size - 1, 0))
    if len(values) == 0:
        return np.full(len(rows), -1, np.int64)
    found: I64 = np.where(size > 0, values[np.minimum(start + offset, len(values) - 1)], -1)
    return found


def contacts(rng: np.random.Generator, o: OrgArrays, accounts: I64, wanted: I64, width: int) -> I64:
    """Return up to `width` distinct contacts of each account (the first `wanted`), -1 padded.

    Accounts have at most four contacts: random keys on four slots, sorted,
    give a random order of each account's contacts.
    """
    count = o.contact_count[accounts]
    slots = max(4, int(count.max(initial=0)))
    keys = rng.random((len(accounts), slots))
    keys[np.arange(slots)[None, :] >= count[:, None]] = 2.0
    order = np.argsort(keys, axis=1)[:, :width]
    chosen: I64 = o.contact_start[accounts][:, None] + order
    chosen[np.arange(width)[None, :] >= np.minimum(wanted, count)[:, None]] = -1
    return chosen


def ceil_half_hours(minutes: I64) -> I64:
    """Return how many half hours `minutes` span, rounded up."""
    result: I64 = -(-minutes // 30)
    return result
