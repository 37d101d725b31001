"""Small synthetic organisations for the metrics tests: a builder of store tables, and the edge-case company.

Tables follow `repsight.schema.TABLES` exactly (columns and arrow types). An
address written "ana" is a pseudonym on the company domain; "bob@bigco.example"
is the pseudonym "bob@bigco.example" on the domain after the "@". Times are
given as local wall-clock strings in the builder's time zone and stored as
naive UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from repsight.config import CompanyConfig, Config, MetricsConfig
from repsight.schema import TABLES

__all__ = ["EDGE_CASE_ACTIVE", "EDGE_CASE_PEOPLE", "OrgBuilder", "edge_case_config", "edge_case_tables", "make_config"]

COMPANY_DOMAIN = "acme.example"
EDGE_CASE_TIMEZONE = "America/New_York"

Attendee = str | tuple[str, str | None]


@dataclass
class OrgBuilder:
    """Collects people, accounts, KPIs, messages and meetings; `tables()` returns them as store tables."""

    timezone: str = "UTC"
    domain: str = COMPANY_DOMAIN
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in _EVENT_TABLES})
    _serial: int = 0

    # ---- addresses and times

    def address(self, name: str) -> tuple[str, str]:
        """Return (pseudonym, domain) of a written address."""
        return (name, name.rsplit("@", 1)[1].lower()) if "@" in name else (name, self.domain)

    def utc(self, when: str | datetime) -> datetime:
        """Return a local wall-clock time in the builder's zone as a naive UTC datetime."""
        stamp = pd.Timestamp(when)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(self.timezone)
        return stamp.tz_convert("UTC").tz_localize(None).to_pydatetime()

    def _key(self, prefix: str, key: str | None) -> str:
        self._serial += 1
        return key or f"{prefix}{self._serial:04d}"

    # ---- reference data

    def person(
        self,
        name: str,
        *,
        manager: str | None = None,
        org: str | None = "Sales",
        level: int = 3,
        function: str = "Sales",
        timezone: str | None = None,
        hire_date: date | None = None,
        leave_date: date | None = None,
    ) -> str:
        """Add a roster person; return their pseudonym."""
        pseudonym, domain = self.address(name)
        self.rows["people"].append(
            {
                "person": pseudonym,
                "domain": domain,
                "manager": manager,
                "org": org,
                "level": level,
                "function": function,
                "region": "NA",
                "segment": None,
                "channel": None,
                "hire_date": hire_date,
                "leave_date": leave_date,
                "timezone": timezone,
                "attributes": None,
                "load_id": 1,
            }
        )
        return pseudonym

    def account(self, domain: str, kind: str, *, account_id: str | None = None, owner: str | None = None) -> None:
        """Add an account domain of type `kind` (customer, prospect, partner, vendor); its account is its own unless named.

        `owner` is the pseudonym of the account's owner (accounts.csv `owner_email`).
        """
        self.rows["account_domains"].append(
            {"domain": domain, "account_id": account_id or f"acct-{domain}", "type": kind, "owner": owner}
        )

    def kpi(self, person: str, period: str) -> None:
        """Add a KPI row for `person` and `period` ("2025Q1" or "2025-01")."""
        if "Q" in period:
            year, quarter = int(period[:4]), int(period[-1])
            start = date(year, 3 * quarter - 2, 1)
            end = (date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)) - timedelta(days=1)
        else:
            year, month = int(period[:4]), int(period[5:])
            start = date(year, month, 1)
            end = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        self.rows["kpis"].append(
            {
                "person": person,
                "period": period,
                "period_start": start,
                "period_end": end,
                "quota": 100.0,
                "bookings": 90.0,
                "attainment": 0.9,
                "load_id": 1,
            }
        )

    # ---- events

    def message(
        self,
        when: str | datetime,
        sender: str,
        recipients: Iterable[str],
        *,
        key: str | None = None,
        replies_to: str | None = None,
    ) -> str:
        """Add a message; return its key. Recipients are stored once each, as written; `replies_to` is its parent's key."""
        key = self._key("m", key)
        pseudonym, domain = self.address(sender)
        written = list(dict.fromkeys(recipients))
        self.rows["messages"].append(
            {
                "message_key": key,
                "sent_at": self.utc(when),
                "sender": pseudonym,
                "sender_domain": domain,
                "recipient_count": len(written),
                "load_id": 1,
                "parent_key": replies_to,
            }
        )
        for recipient in written:
            r, d = self.address(recipient)
            self.rows["message_recipients"].append({"message_key": key, "recipient": r, "recipient_domain": d, "kind": "to"})
        return key

    def meeting(
        self,
        start: str | datetime,
        minutes: float,
        organizer: str | None,
        attendees: Iterable[Attendee] = (),
        *,
        cancelled: bool = False,
        all_day: bool = False,
        transparent: bool = False,
        organizer_row: str | None = "organizer",
        key: str | None = None,
    ) -> str:
        """Add a meeting of `minutes` minutes; return its key.

        Attendees are addresses (accepted) or (address, response) pairs. The
        organiser also gets an attendee row with response `organizer_row`
        unless that is None or they are listed among the attendees.
        """
        key = self._key("g", key)
        begin = self.utc(start)
        listed: dict[str, str | None] = {}
        for item in attendees:
            name, response = (item, "accepted") if isinstance(item, str) else item
            listed[name] = response
        if organizer is not None and organizer_row is not None and organizer not in listed:
            listed = {organizer: organizer_row, **listed}
        org_pseudonym, org_domain = self.address(organizer) if organizer is not None else (None, None)
        self.rows["meetings"].append(
            {
                "meeting_key": key,
                "series_key": None,
                "start_at": begin,
                "end_at": begin + timedelta(minutes=minutes),
                "organizer": org_pseudonym,
                "organizer_domain": org_domain,
                "is_cancelled": cancelled,
                "is_all_day": all_day,
                "is_transparent": transparent,
                "attendee_count": len(listed),
                "load_id": 1,
            }
        )
        for name, response in listed.items():
            a, d = self.address(name)
            self.rows["meeting_attendees"].append({"meeting_key": key, "attendee": a, "attendee_domain": d, "response": response})
        return key

    # ---- output

    def tables(self) -> dict[str, pa.Table]:
        """Return the collected rows as arrow tables with the store's schemas."""
        out = {}
        for name in _EVENT_TABLES:
            schema = ibis.schema(TABLES[name]).to_pyarrow()
            rows = self.rows[name]
            out[name] = pa.Table.from_pydict({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)
        return out

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the collected rows as pandas frames (arrow tables converted)."""
        return {name: table.to_pandas() for name, table in self.tables().items()}


_EVENT_TABLES = ("people", "account_domains", "kpis", "messages", "message_recipients", "meetings", "meeting_attendees")


def make_config(tmp_path: Path, *, timezone: str = "UTC", **metrics: Any) -> Config:
    """Return a configuration for the company domain acme.example in `timezone`, with metrics settings."""
    return Config(
        company=CompanyConfig(domains=[COMPANY_DOMAIN], timezone=timezone, senior_level=7),
        metrics=MetricsConfig(**metrics),
        path=Path(tmp_path) / "repsight.toml",
    )


# ---------------------------------------------------------------- the edge-case company

# Who is on the roster, and who should have rows (gus never appears).
EDGE_CASE_PEOPLE = [
    "ana",
    "ben",
    "cat",
    "ceo",
    "dan",
    "eve",
    "fay",
    "gus",
    "hal",
    "ivy",
    "jon",
    "kim",
    "lea",
    "max",
    "mia",
    "vic",
]
EDGE_CASE_ACTIVE = [p for p in EDGE_CASE_PEOPLE if p != "gus"]


def edge_case_config(tmp_path: Path) -> Config:
    """Return the configuration of the edge-case company (New York time, senior level 7)."""
    return make_config(tmp_path, timezone=EDGE_CASE_TIMEZONE)


def edge_case_tables() -> dict[str, pa.Table]:
    """Return the store tables of a small company built to exercise every rule of docs/metrics.md.

    Weeks run from Monday 2025-02-17 to Monday 2025-04-14 (New York time):
    New York changes to summer time on Sunday 2025-03-09 and Berlin on
    Sunday 2025-03-30; the quarter changes with the week of 2025-04-07.
    """
    o = OrgBuilder(timezone=EDGE_CASE_TIMEZONE)

    # ---- roster: 16 people
    o.person("ceo", org="Executive", level=9, function="Executive")
    o.person("vic", manager="ceo", org="Sales", level=7)  # senior leader
    o.person("lea", manager="ceo", org="Finance", level=8, function="Finance")  # senior leader who is measured too
    o.person("max", manager="vic", org="Sales East", level=5)
    o.person("mia", manager="vic", org="Sales West", level=6)
    o.person("ana", manager="max", org="Sales East")
    o.person("ben", manager="max", org="Sales East", timezone="Europe/Berlin")  # works in another zone
    o.person("cat", manager="mia", org="Sales West", timezone="")  # empty zone: the company's
    o.person("dan", manager="mia", org="Sales West", timezone="Mars/Olympus")  # not an IANA zone: the company's
    o.person("eve", manager="max", org="Sales East", hire_date=date(2025, 3, 5))  # hired mid-range (a Wednesday)
    o.person("fay", manager="mia", org="Sales West", leave_date=date(2025, 3, 20))  # left mid-range (a Thursday)
    o.person("gus", manager="mia", org="Sales West")  # on the roster, in no event
    o.person("hal", manager="vic", org="Solutions", level=4, function="Presales")
    o.person("ivy", manager="ceo", org="Marketing", level=4, function="Marketing")
    o.person("jon", manager="ceo", org="Product", level=4, function="Product")  # jon and kim: a separate component
    o.person("kim", manager="jon", org=None, level=3, function="Product")  # no org
    for name in ("ana", "ben", "cat", "dan", "eve", "fay", "gus"):
        o.kpi(name, "2025Q1")
        o.kpi(name, "2025Q2")

    # Owners: ana owns one account of two domains, ben a prospect and a partner, an owner off the roster the vendor.
    o.account("bigco.example", "customer", owner="ana")
    o.account("newco.example", "prospect", owner="ben")
    o.account("partnerco.example", "partner", owner="ben")
    o.account("supplyco.example", "vendor", owner="gone")
    o.account("bigco-eu.example", "customer", account_id="acct-bigco.example", owner="ana")  # a second domain of one account
    buyer, lead, pat, sal, who = (
        "buyer@bigco.example",
        "lead@newco.example",
        "pat@partnerco.example",
        "sal@supplyco.example",
        "who@random.example",  # a domain no account holds: other_external
    )
    home, friend = "ana.home@gmail.com", "friend@gmail.com"  # personal addresses
    nora = "nora"  # internal address that is not on the roster (a contractor)
    staff = [f"staff{i:02d}" for i in range(1, 50)]  # internal, not on the roster: broadcast lists

    # ---- week of 2025-02-17: meeting unions (ana), window starts
    o.meeting("2025-02-18 10:00", 60, "ana", ["hal"])  # overlapping pair: 10:00-11:30 once
    o.meeting("2025-02-18 10:30", 60, "hal", ["ana"])
    o.meeting("2025-02-18 13:00", 120, "ana", ["max"])  # nested: 13:30-14:00 inside 13:00-15:00
    o.meeting("2025-02-18 13:30", 30, "max", ["ana"])
    o.meeting("2025-02-18 16:00", 30, "ana", ["cat"])  # back to back
    o.meeting("2025-02-18 16:30", 30, "cat", ["ana"])
    o.message("2025-02-18 09:00", "ceo", ["lea"])  # ceo–lea: ties 3 weeks apart (this week and 2025-03-10)
    o.message("2025-02-19 09:00", "vic", ["mia"])  # vic–mia: ties 4 weeks apart (this week and 2025-03-17)
    o.message("2025-02-19 09:05", "ana", ["dan"])
    o.message("2025-02-19 09:10", "eve", ["ana"])  # before eve's hire week: cut from her rows, still a tie
    o.message("2025-02-20 11:00", "ana", [nora])  # nora twice: in ana's network, no org
    o.message("2025-02-20 11:30", nora, ["ana"])
    # declined attendees: ben declines; a meeting with only one counted person
    o.meeting("2025-02-20 14:00", 60, "max", ["ana", ("ben", "declined"), ("cat", "tentative"), ("dan", "needs-action")])
    o.meeting("2025-02-20 15:00", 60, "hal", [("ana", "declined")])  # one counted person: does not count
    o.meeting("2025-02-20 16:00", 60, "cat", [("dan", "none"), ("fay", None)])
    # the jon–kim component
    o.message("2025-02-21 10:00", "jon", ["kim"])
    o.message("2025-02-21 10:05", "kim", ["jon"])
    o.meeting("2025-02-21 11:00", 45, "jon", ["kim"])

    # ---- week of 2025-02-24: meeting validity, email oddities, boundaries of time of day
    o.meeting("2025-02-24 09:00", 60, "ana", ["ben"], cancelled=True)
    o.meeting("2025-02-24 00:00", 24 * 60, "ana", ["ben"], all_day=True)
    o.meeting("2025-02-24 11:00", 60, "ana", ["ben"], transparent=True)
    o.meeting("2025-02-25 08:00", 8 * 60, "ben", ["ana"])  # exactly 8 hours: not counted
    o.meeting("2025-02-26 08:00", 8 * 60 - 1, "ben", ["ana"])  # 7 h 59 min: counted, 07:59 of it in NY hours
    o.meeting("2025-02-27 12:00", 0, "ana", ["ben"])  # zero length
    o.meeting("2025-02-27 13:00", 30, "ana", [home])  # only other person personal: one counted person
    o.message("2025-02-25 09:00", "ana", ["ana"])  # to self only: no recipients
    o.message("2025-02-25 09:10", "ana", ["ana", "ben"])  # sender also a recipient
    o.message("2025-02-25 09:20", friend, ["ana"])  # personal sender
    o.message("2025-02-25 09:30", "ana", [home])  # only recipient personal
    o.message("2025-02-25 09:40", "ana", ["ben", home])  # personal recipient dropped
    o.message("2025-02-25 07:59", "ana", ["hal"])  # outside hours
    o.message("2025-02-25 08:00", "ana", ["hal"])  # inside
    o.message("2025-02-25 17:59", "ana", ["hal"])  # inside
    o.message("2025-02-25 18:00", "ana", ["hal"])  # outside
    o.message("2025-02-25 08:00", "ana", ["ben"])  # 14:00 in Berlin for ben: inside for him
    o.message("2025-02-25 03:00", "ben", ["ana"])  # 09:00 Berlin: inside for ben, outside for ana
    o.message("2025-02-25 19:00", "cat", ["dan"])  # both fall back to New York: outside
    o.message("2025-03-01 10:00", "ana", ["cat"])  # Saturday: weekend work
    o.meeting("2025-03-01 10:00", 90, "ana", ["max"])  # Saturday meeting: all after hours
    o.meeting("2025-02-26 17:00", 120, "dan", ["cat"])  # 17:00-19:00: one after-hours hour
    o.meeting("2025-02-26 07:00", 120, "ben", ["hal"])  # 13:00-15:00 Berlin for ben, 07:00-09:00 NY for hal
    # the week boundary in local time: Sunday 23:30 vs Monday 00:00
    o.message("2025-03-02 23:30", "ana", ["hal"])  # week of 2025-02-24
    o.meeting("2025-03-02 23:30", 60, "ana", ["hal"])  # runs into Monday, counted in its start's week
    o.meeting("2025-03-03 00:00", 30, "hal", ["ana"])  # overlaps the previous one, but in the next week

    # ---- week of 2025-03-03: DST (Sunday 2025-03-09 02:00 New York), eve's first week
    o.message("2025-03-04 10:00", "eve", ["max"])
    o.message("2025-03-04 10:05", "max", ["eve"])
    o.message("2025-03-09 23:30", "ana", ["ben"])  # Sunday 23:30 EDT = Monday 03:30 UTC: still this week
    o.meeting("2025-03-09 01:00", 120, "ana", ["hal"])  # across the DST jump: 01:00 EST to 04:00 EDT (2 real hours)

    # ---- week of 2025-03-10: the first summer-time week
    o.message("2025-03-10 00:00", "ana", ["ben"])  # Monday 00:00 EDT = 04:00 UTC: this week
    o.message("2025-03-11 09:00", "lea", ["ceo"])  # closes the 3-weeks-apart ceo–lea pair: a network of 1
    o.meeting("2025-03-10 07:30", 60, "ana", ["max"])  # 07:30-08:30 EDT: half an hour after hours
    # customers, prospects, partners, vendors, unknown domains
    o.message("2025-03-11 10:00", "ana", [buyer])  # customer
    asked = o.message("2025-03-11 10:10", lead, ["ana"])  # prospect, received
    # replies to customers: 3.5 hours; across the DST jump 5 real hours; a colleague's message, a message
    # ana did not receive, 15 days later, a message that names itself and a parent not stored are no replies
    o.message("2025-03-11 13:40", "ana", [lead], replies_to=asked)
    late = o.message("2025-03-08 22:00", buyer, ["hal", "cat"])  # EST
    o.message("2025-03-09 04:00", "hal", [buyer], replies_to=late)  # EDT: 5 hours later, not 6
    o.message("2025-03-10 11:00", "hal", [buyer], replies_to=late)  # 36 hours: hal's median is 20.5
    o.message("2025-03-24 09:00", "cat", [buyer], replies_to=late)  # 15 days and 11 hours: too late
    o.message("2025-03-11 11:00", "ben", [buyer], replies_to=late)  # ben never received it
    o.message("2025-03-11 11:10", "ben", [lead])  # one of ben's two owned accounts touched
    own = o.message("2025-03-11 11:05", "ben", ["ana"])
    o.message("2025-03-11 11:15", "ana", ["ben", buyer], replies_to=own)  # a colleague's message
    o.message("2025-03-11 11:20", "cat", [buyer], key="m-itself", replies_to="m-itself")
    o.message("2025-03-11 11:25", "cat", [lead], replies_to="m-not-stored")
    o.message("2025-03-11 10:20", "ben", [pat])  # partner: external, not customer
    o.message("2025-03-11 10:30", "ben", [sal])  # vendor: external, not customer
    o.message("2025-03-11 10:40", "cat", [who])  # unknown domain: external
    o.meeting("2025-03-12 10:00", 60, "ana", [buyer, "hal"])  # customer meeting
    o.meeting("2025-03-12 10:30", 60, "ben", [pat, "ana"])  # overlapping external meeting
    o.meeting("2025-03-12 14:00", 30, "cat", [lead])  # prospect meeting
    # customer engagement: one account under two domains; a declined person has no interaction
    o.message("2025-03-12 16:00", "cat", [buyer, "eu@bigco-eu.example"])  # 1 account, 2 contacts
    o.meeting("2025-03-12 16:30", 30, "hal", ["eu@bigco-eu.example", ("dan", "declined")])  # hal only
    # senior leaders: vic and lea; lea is measured too
    o.meeting("2025-03-13 09:00", 30, "lea", ["ana"])  # ana gets senior time, lea none (lea is the only senior)
    o.meeting("2025-03-13 10:00", 30, "lea", ["vic"])  # two senior leaders: each gets the other's time
    o.message("2025-03-13 11:00", "vic", ["ana", "ben", "max"])
    # 8 vs 9 counted people: senior-leader and manager boundary
    eight = ["vic", "max", "ana", "ben", "cat", "dan", "hal"]  # with the organiser ivy: 8
    o.meeting("2025-03-13 13:00", 30, "ivy", eight)
    o.meeting("2025-03-13 14:00", 30, "ivy", [*eight, "mia"])  # 9
    o.message("2025-03-13 15:00", "ivy", eight)  # 8 people
    o.message("2025-03-13 15:05", "ivy", [*eight, "mia"])  # 9 people
    # manager 1:1s: plain, with a declined third, and with a declined organiser listed as attendee
    o.meeting("2025-03-14 09:00", 30, "max", ["ana"])
    o.meeting("2025-03-14 10:00", 30, "ana", ["max", ("hal", "declined")])
    o.meeting("2025-03-14 11:00", 30, "max", ["ana"], organizer_row="declined")
    o.meeting("2025-03-14 12:00", 30, "mia", ["cat", "ceo"])  # a manager meeting that is not a 1:1

    # ---- week of 2025-03-17: meaningful boundary, broadcasts, fay's last week, ana–dan second tie
    o.message("2025-03-17 09:00", "mia", ["vic"])  # 4 weeks after the first: no network
    five = ["ben", "cat", "dan", "eve"]  # 5 people with the sender ana
    o.message("2025-03-18 09:00", "ana", five)
    o.message("2025-03-18 09:05", "ana", five)  # twice: ties ana–ben/cat/dan/eve, not among the others
    o.message("2025-03-18 09:10", "ana", [*five, "hal"])  # 6 people: no ties
    o.message("2025-03-18 09:15", "ana", [*five, "hal"])
    o.meeting("2025-03-18 13:00", 30, "max", ["ben", "cat", "dan", "eve"])  # 5 counted: ties every pair
    o.meeting("2025-03-18 14:00", 30, "max", ["ben", "cat", "dan", "eve"])
    o.meeting("2025-03-18 15:00", 30, "max", ["ben", "cat", "dan", "eve", "fay"])  # 6 counted: no ties
    o.meeting("2025-03-18 16:00", 30, "max", ["ben", "cat", "dan", "eve", "fay", (buyer, "declined")])  # declined: still 6
    o.message("2025-03-19 20:00", "ivy", ["ana", "ben", buyer, *staff[:47]])  # 50 recipients: not a broadcast
    o.message("2025-03-19 20:05", "ivy", ["ana", "ben", buyer, *staff[:48]])  # 51 recipients: a broadcast
    o.message("2025-03-20 10:00", "fay", ["cat"])
    o.message("2025-03-20 10:05", "cat", ["fay"])

    # ---- week of 2025-03-24: fay appears after leaving; a multi-day union chain
    o.message("2025-03-25 10:00", "cat", ["fay"])
    o.meeting("2025-03-26 22:00", 7 * 60, "ana", ["ben"])  # overnight 22:00-05:00 NY (03:00-10:00 in Berlin)
    o.meeting("2025-03-27 04:00", 7 * 60, "ben", ["ana"])  # chains with the previous one: one 13-hour interval

    # ---- week of 2025-03-31: Berlin in summer time, last Q1 week
    o.message("2025-03-31 02:30", "ben", ["max"])  # 08:30 CEST: inside for ben (07:30 CET would be outside)
    o.meeting("2025-04-01 11:00", 60, "ben", ["max"])  # 17:00-18:00 CEST: inside
    o.message("2025-04-02 10:00", "jon", ["kim"])
    o.message("2025-04-02 10:05", "kim", ["jon"])

    # ---- weeks of 2025-04-07 and 2025-04-14: Q2
    o.message("2025-04-07 09:00", "ana", ["ben"])
    o.message("2025-04-07 09:05", "ben", ["ana"])
    o.meeting("2025-04-08 10:00", 60, "ana", ["ben", "max"])
    o.meeting("2025-04-09 10:00", 60, "max", ["ana", "ben", "hal"])
    o.message("2025-04-09 11:00", "hal", ["max"])
    o.message("2025-04-10 11:00", "jon", ["kim"])  # Q2: jon–kim again, a disconnected pair
    o.message("2025-04-10 11:05", "kim", ["jon"])
    o.message("2025-04-15 09:00", "ana", ["ceo"])
    o.message("2025-04-15 09:05", "ceo", ["ana", "vic"])
    o.meeting("2025-04-16 10:00", 30, "dan", ["cat"], cancelled=True)  # dan's last appearance: a cancelled meeting
    o.message("2025-04-17 10:00", "mia", ["cat", "dan"])
    o.message("2025-04-17 10:05", "lea", ["mia"])
    o.message("2025-04-17 10:10", "ivy", ["lea", "ceo"])
    return o.tables()
