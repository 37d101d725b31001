"""The synthetic sales organisation behind `repsight demo`, the tests and the benchmarks.

`generate()` writes a roster, CRM accounts (with each account's owning rep),
six quarters of KPIs and 18 months of mail and calendar metadata, replies
with their In-Reply-To and References, for a company whose reps have a
hidden skill; `truth.json` records that skill and every planted parameter,
so a study run on the files can be checked against what was planted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from repsight.synth.activity import Params, SynthMessage, generate_activity, quarter_of, quarter_skills
from repsight.synth.faults import Faults, PlantedFaults, apply_faults, faults_rng, plan_faults
from repsight.synth.formats import FORMATS
from repsight.synth.org import MIN_PEOPLE, Company, build_company
from repsight.synth.random import Rng
from repsight.synth.writers import Exports, write_accounts, write_json, write_kpis, write_roster, write_salesforce

__all__ = ["DEFAULT_START", "FORMATS", "MIN_PEOPLE", "Faults", "Params", "SynthResult", "generate"]

DEFAULT_START = date(2024, 7, 1)
QUOTA_BY_SEGMENT = {"SMB": 120_000.0, "Mid-Market": 260_000.0, "Enterprise": 520_000.0}


@dataclass(frozen=True)
class SynthResult:
    """What `generate` wrote."""

    folder: Path
    people: int
    reps: int
    accounts: int
    quarters: list[str]
    messages: int
    meetings: int


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _weeks(start: date, end: date) -> list[date]:
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    weeks = []
    while monday < end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _full_quarters(start: date, end: date) -> list[tuple[str, date, date]]:
    quarters = []
    name, first = quarter_of(start)
    while True:
        following = _months_later(first, 3)
        if first >= start and following <= end:
            quarters.append((name, first, following))
        if following >= end:
            return quarters
        name, first = quarter_of(following)


def _kpis(
    company: Company, quarters: list[tuple[str, date, date]], skills: dict[str, dict[str, float]], rng: Rng, params: Params
) -> list[tuple[str, str, float, float]]:
    rows = []
    rho = params.attainment_skill_correlation
    for rep in company.reps:
        base_quota = QUOTA_BY_SEGMENT[rep.segment or "SMB"] * math.exp(rng.normal(0, 0.1))
        for name, first, following in quarters:
            noise = rng.normal()
            employed = rep.hire_date <= first + timedelta(days=30) and (rep.leave_date is None or rep.leave_date >= following)
            if not employed:
                continue
            signal = rho * skills[rep.email][name] + math.sqrt(1 - rho * rho) * noise
            attainment = params.attainment_median * math.exp(params.attainment_log_sd * signal)
            quota = round(base_quota, -3)
            rows.append((rep.email, name, quota, round(quota * attainment, 2)))
    return rows


def generate(
    folder: str | Path,
    *,
    people: int = 200,
    months: int = 18,
    seed: int = 7,
    start: date = DEFAULT_START,
    params: Params | None = None,
    formats: str = "mixed",
    crm: Literal["csv", "salesforce", "both"] = "csv",
    faults: Faults | None = None,
) -> SynthResult:
    """Write a synthetic company's inputs and `truth.json` into `folder`; same seed, same bytes.

    `formats="mixed"` writes each group of mailboxes the way companies export
    them: mostly mbox and iCalendar, some Microsoft Graph JSON, some CSV.
    `formats="csv"` writes every group as CSV. `crm` chooses how the CRM is
    written: `accounts.csv` and `kpis.csv` ("csv"), a Salesforce export in
    `sfdc/` ("salesforce", docs/salesforce.md), or both, which hold the same.
    `faults` plants the faults real exports have (`repsight.synth.faults`)
    and records them in truth.json under "faults"; without it, no file
    changes by a byte.
    """
    if months < 3:
        raise ValueError("a synthetic company needs at least 3 months of data (one quarter)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    params = params or Params()
    rng = Rng(seed)
    end = _months_later(start, months)
    company = build_company(people, rng, start, end)
    quarters = _full_quarters(start, end)
    skills = quarter_skills(company, [q for q, _, _ in quarters] + _partial(start, end, quarters), rng, params)
    write_roster(company, folder / "roster.csv")
    kpi_rows = _kpis(company, quarters, skills, rng, params)
    if crm in ("csv", "both"):
        write_accounts(company, folder / "accounts.csv")
        write_kpis(kpi_rows, folder / "kpis.csv")
    if crm in ("salesforce", "both"):
        write_salesforce(company, kpi_rows, folder / "sfdc", seed=seed)
    weeks = _weeks(start, end)
    events = generate_activity(company, weeks, rng, params, skills, seed)
    planted: PlantedFaults | None = None
    if faults is None:
        exports = Exports(company, folder, formats)
    else:
        fault_rng = faults_rng(seed)
        planted = plan_faults(company, weeks, faults, fault_rng)
        events = apply_faults(events, planted, fault_rng)
        exports = Exports(
            company,
            folder,
            formats,
            missing_mailboxes=planted.missing_mailbox,
            missing_calendars=planted.missing_calendar,
            aliases={a.address: person for person, a in planted.aliases.items()},
        )
    try:
        for event in events:
            if isinstance(event, SynthMessage):
                exports.message(event)
            else:
                exports.meeting(event)
    finally:
        exports.close()
    truth: dict[str, object] = {
        "seed": seed,
        "people": people,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "company_domain": company.domain,
        "quarters": [q for q, _, _ in quarters],
        "params": params.as_dict(),
        "reps": {
            rep.email: {
                "skill": round(rep.skill or 0.0, 6),
                "quarter_skill": {q: round(s, 6) for q, s in skills[rep.email].items()},
            }
            for rep in company.reps
        },
    }
    if planted is not None:
        truth["faults"] = planted.as_dict()
    write_json(truth, folder / "truth.json")
    return SynthResult(
        folder,
        len(company.employees),
        len(company.reps),
        len(company.accounts),
        [q for q, _, _ in quarters],
        exports.messages,
        exports.meetings,
    )


def _partial(start: date, end: date, full: list[tuple[str, date, date]]) -> list[str]:
    """Return the quarters the data range touches without covering them whole."""
    names = {q for q, _, _ in full}
    touched: list[str] = []
    day = start
    while day < end:
        name, first = quarter_of(day)
        if name not in names and name not in touched:
            touched.append(name)
        day = _months_later(first, 3)
    return touched
