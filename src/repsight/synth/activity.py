"""Synthetic collaboration: a week-by-week stream of emails and meetings.

Every rep has a latent skill. In each quarter it is blended with a
quarter-specific draw (so results and behaviour move together within a
person too), and it raises attainment, customer time, internal network and
senior-leader time. Manager time is planted with no effect. Customer time
falls and internal networking rises as a quarter goes on.

Customer engagement is planted too: each quarter a rep works some of the
accounts they own and reaches some of each account's contacts (more of both
with more skill), and answers customers' emails after a delay that is
shorter with more skill. These choices, and the replies' headers, are drawn
from a stream of their own (`engagement_rng`): every draw of the main
stream, and so every count and time it gives, is what it was without them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from repsight.synth.org import Company, Employee, ExternalOrg
from repsight.synth.random import Rng

__all__ = ["Params", "SynthMeeting", "SynthMessage", "engagement_rng", "generate_activity", "quarter_of", "quarter_skills"]


@dataclass(frozen=True)
class Params:
    """The planted parameters, written to truth.json."""

    skill_persistence: float = 0.35
    """Weight of the quarter's own draw next to the lasting skill (0: skill never changes)."""
    attainment_skill_correlation: float = 0.75
    """Correlation of log attainment with the quarter's skill."""
    attainment_median: float = 0.95
    attainment_log_sd: float = 0.28
    customer_skill_effect: float = 0.151
    """Log-change of customer time per standard deviation of skill."""
    network_skill_effect: float = 0.15
    """Log-change of the number of regular internal contacts per standard deviation of skill."""
    senior_skill_effect: float = 0.117
    """Log-change of senior-leader time per standard deviation of skill."""
    manager_skill_effect: float = 0.0
    """Manager time does not depend on skill (a planted null)."""
    customer_meetings_per_week: float = 3.0
    customer_emails_sent_per_week: float = 7.0
    customer_emails_received_per_week: float = 5.0
    internal_contacts: int = 14
    interactions_per_contact_per_week: float = 0.55
    senior_interactions_per_week: float = 0.9
    manager_emails_per_week: float = 2.5
    customer_time_quarter_trend: float = -0.30
    """Customer time from the first to the last week of a quarter changes by this share."""
    network_quarter_trend: float = 0.30
    """Internal interactions from the first to the last week of a quarter change by this share."""
    accounts_worked_log_odds: float = 0.8
    """Log-odds that a rep works one of their customer or prospect accounts in a quarter, at average skill."""
    accounts_skill_effect: float = 0.50
    """Change of those log-odds per standard deviation of skill."""
    contacts_reached_log_odds: float = 0.8
    """Log-odds that a rep reaches one of a worked account's contacts in a quarter, at average skill (at least one is reached)."""
    contacts_skill_effect: float = 0.55
    """Change of those log-odds per standard deviation of skill."""
    customer_reply_share: float = 0.5
    """Share of a rep's emails to customers that answer an email the customer sent them."""
    reply_median_hours: float = 4.0
    """Median time a rep takes to answer a customer, at average skill."""
    reply_log_sd: float = 1.0
    """Standard deviation of the log of that time."""
    reply_skill_effect: float = -0.18
    """Log-change of the reply time per standard deviation of skill (negative: skilled reps answer sooner)."""
    late_reply_share: float = 0.005
    """Share of replies to customers sent 15 to 30 days later, past the 14 days a reply counts for."""
    colleague_reply_share: float = 0.3
    """Chance that a rep's email to a colleague answers the colleague's last email to them (within 14 days)."""
    expected_bottom_vs_top: dict[str, float] = field(
        default_factory=lambda: {
            "customer_hours": -0.25,
            "internal_network_size": -0.20,
            "senior_leader_hours": -0.20,
            "manager_hours": 0.0,
            "accounts_touched": -0.20,
            "contacts_per_account": -0.20,
            "customer_reply_hours": 0.40,
        }
    )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class SynthMessage:
    message_id: str
    sent_at: datetime  # aware, UTC
    sender: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    in_reply_to: str | None = None  # the Message-ID this message answers
    references: list[str] = field(default_factory=list)  # the thread's Message-IDs, oldest first, ending with in_reply_to


@dataclass(slots=True)
class SynthMeeting:
    uid: str
    start: datetime  # aware, in the organiser's zone
    end: datetime
    organizer: str
    attendees: list[str]
    declined: list[str] = field(default_factory=list)
    cancelled: bool = False
    all_day: bool = False
    transparent: bool = False
    original_start: datetime | None = None  # where a moved occurrence of a series was due
    series: bool = False  # one occurrence of a recurring meeting


Event = SynthMessage | SynthMeeting

REPLY_MAX_DAYS = 14
"""Replies sent later than this are the rare late ones (`Params.late_reply_share`); the metric does not count them."""
THREAD_IDS = 8
"""References keeps the thread's last Message-IDs, as mail clients trim a long thread."""


def engagement_rng(seed: int) -> Rng:
    """Return the stream the customer-engagement choices are drawn from: derived from the seed, apart from the main stream."""
    digest = hashlib.sha256(f"repsight synthetic engagement {seed}".encode()).digest()
    return Rng(int.from_bytes(digest[:8], "big"))


def _logistic(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds))


def reply(message: SynthMessage, parent: SynthMessage) -> None:
    """Make `message` answer `parent`: In-Reply-To names it, References holds its thread."""
    message.in_reply_to = parent.message_id
    message.references = [*parent.references, parent.message_id][-THREAD_IDS:]


class _Book:
    """The accounts a rep works in one quarter and the contacts they reach at each: more of both with more skill.

    The main stream still draws an account and contacts as it always did; a
    draw outside the book is moved into it with the engagement stream. An
    account drawn uniformly among the rep's accounts lands uniformly among
    the worked ones.
    """

    def __init__(self, accounts: Sequence[ExternalOrg], skill: float, p: Params, rng: Rng) -> None:
        self._rng = rng
        worked_chance = _logistic(p.accounts_worked_log_odds + p.accounts_skill_effect * skill)
        reach_chance = _logistic(p.contacts_reached_log_odds + p.contacts_skill_effect * skill)
        worked = [a for a in accounts if rng.chance(worked_chance)] or [rng.choice(accounts)]
        self._worked = worked
        self._reached = {
            a.account_id: [c for c in a.contacts if rng.chance(reach_chance)] or [rng.choice(a.contacts)] for a in worked
        }

    def contacts(self, account: ExternalOrg, drawn: list[str]) -> list[str]:
        """Return the contacts the rep writes to or meets, for `drawn` contacts of `account` as the main stream drew them."""
        if account.account_id not in self._reached:
            account = self._rng.choice(self._worked)
        reached = self._reached[account.account_id]
        chosen: list[str] = []
        for contact in drawn:
            if contact in reached and contact not in chosen:
                chosen.append(contact)
                continue
            left = [c for c in reached if c not in chosen and c not in drawn]
            if left:
                chosen.append(self._rng.choice(left))
        return chosen

    def seat(self, meeting: SynthMeeting, account: ExternalOrg, drawn: list[str]) -> SynthMeeting:
        """Return `meeting` with the book's contacts in the places of the `drawn` ones (a decline stays with its place)."""
        chosen = self.contacts(account, drawn)
        rename = dict(zip(drawn, chosen, strict=False))  # never empty: drawn[0], the organiser where a guest organises, is kept
        left_out = set(drawn[len(chosen) :])
        meeting.organizer = rename.get(meeting.organizer, meeting.organizer)
        meeting.attendees = [rename.get(a, a) for a in meeting.attendees if a not in left_out]
        meeting.declined = [rename.get(a, a) for a in meeting.declined if a not in left_out]
        return meeting


def quarter_of(day: date) -> tuple[str, date]:
    """Return the quarter's name (`2025Q1`) and first day for a day."""
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year}Q{quarter}", date(day.year, 3 * quarter - 2, 1)


def quarter_skills(company: Company, quarters: list[str], rng: Rng, params: Params) -> dict[str, dict[str, float]]:
    """Return each rep's standardised skill in each quarter."""
    tau = params.skill_persistence
    scale = math.sqrt(1 + tau * tau)
    skills: dict[str, dict[str, float]] = {}
    for rep in company.reps:
        assert rep.skill is not None
        skills[rep.email] = {q: (rep.skill + tau * rng.normal()) / scale for q in quarters}
    return skills


class _Generator:
    def __init__(
        self, company: Company, rng: Rng, params: Params, skills: dict[str, dict[str, float]], seed: int, first_week: date
    ) -> None:
        self.company = company
        self.rng = rng
        self.engagement = engagement_rng(seed)
        self.p = params
        self.skills = skills
        self.seed = seed
        self.first_week = first_week
        self.sequence = 0
        self.books: dict[tuple[str, str], _Book] = {}
        self.last_sent: dict[tuple[str, str], SynthMessage] = {}  # (rep, customer contact): the rep's latest email to them
        self.last_heard: dict[tuple[str, str], SynthMessage] = {}  # (rep, colleague): the colleague's latest email to the rep
        self.zones: dict[str, ZoneInfo] = {}
        self.ceo = company.employees[0]
        self.seniors = [e for e in company.employees if e.level >= 7]
        self.marketing_head = next(
            e for e in company.employees if e.title == "Head of Marketing" or e.title == "Chief Marketing Officer"
        )
        self.product_head = next((e for e in company.employees if e.title == "Head of Product"), self.ceo)
        self.contacts = {rep.email: self._network(rep) for rep in company.reps}
        self.partner_se = {rep.email: self._engineer(rep) for rep in company.reps}
        self.peers = {e.email: self._peers(e) for e in company.employees if not e.is_rep}

    # -- identities and times -------------------------------------------------

    def next_id(self) -> int:
        self.sequence += 1
        return self.sequence

    def message_id(self) -> str:
        return f"{self.next_id():09d}.{self.seed}@mail.{self.company.domain}"

    def uid(self) -> str:
        return f"{self.next_id():09d}-{self.seed}@calendar.{self.company.domain}"

    def zone(self, person: Employee) -> ZoneInfo:
        found = self.zones.get(person.timezone)
        if found is None:
            found = self.zones[person.timezone] = ZoneInfo(person.timezone)
        return found

    def local_time(self, person: Employee, monday: date, after_hours: float = 0.0) -> datetime:
        """Return a moment in `person`'s working week (sometimes evening or weekend)."""
        rng = self.rng
        if rng.chance(after_hours):
            day = rng.integer(0, 6)
            minutes = rng.integer(18 * 60, 22 * 60) if day < 5 else rng.integer(9 * 60, 20 * 60)
        else:
            day = rng.integer(0, 4)
            minutes = rng.integer(8 * 60, 17 * 60 + 30)
        moment = datetime.combine(monday + timedelta(days=day), time(minutes // 60, minutes % 60), self.zone(person))
        return moment

    def slot(self, person: Employee, monday: date, minutes: int) -> tuple[datetime, datetime]:
        """Return a meeting slot on a half hour within `person`'s working day."""
        rng = self.rng
        day = rng.integer(0, 4)
        latest = 18 * 2 - math.ceil(minutes / 30)
        half_hours = rng.integer(8 * 2, max(8 * 2, latest))
        start = datetime.combine(monday + timedelta(days=day), time(half_hours // 2, 30 * (half_hours % 2)), self.zone(person))
        return start, start + timedelta(minutes=minutes)

    # -- who works with whom ------------------------------------------------------

    def _network(self, rep: Employee) -> list[Employee]:
        """Return the rep's regular internal contacts: more, and broader, with more skill."""
        assert rep.skill is not None
        size = max(2, round(self.p.internal_contacts * math.exp(self.p.network_skill_effect * rep.skill)))
        pool = [e for e in self.company.employees if e is not rep and e.level < 7 and e is not rep.manager]
        near = [e for e in pool if e.org == rep.org or (e.region == rep.region and e.function == "Pre-sales")]
        chosen_near = set(near)
        far = [e for e in pool if e not in chosen_near]
        near_count = min(len(near), round(size * 0.5))
        return self._attached(near, near_count) + self._attached(far, size - near_count)

    def _attached(self, pool: list[Employee], count: int) -> list[Employee]:
        """Return `count` people of `pool`, skilled reps more likely (they are sought out).

        Without this, the contacts others choose would dilute the planted
        network effect. Weighted sampling without replacement by
        Efraimidis–Spirakis keys: the largest u ** (1 / weight).
        """
        effect = self.p.network_skill_effect
        keyed = sorted(
            ((self.rng.uniform() ** (1 / math.exp(effect * (e.skill or 0.0))), i) for i, e in enumerate(pool)),
            reverse=True,
        )
        return [pool[i] for _, i in keyed[:count]]

    def _engineer(self, rep: Employee) -> Employee | None:
        engineers = [e for e in self.company.by_function("Pre-sales") if e.region == rep.region and e.level < 5]
        engineers = engineers or [e for e in self.company.by_function("Pre-sales") if e.level < 7]
        return self.rng.choice(engineers) if engineers else None

    def _peers(self, person: Employee) -> list[Employee]:
        same = [e for e in self.company.employees if e.org == person.org and e is not person]
        other = [e for e in self.company.employees if e.org != person.org and e.function != "Sales"]
        return self.rng.sample(same, 5) + self.rng.sample(other, 2)

    def senior_for(self, rep: Employee) -> Employee:
        chain = []
        boss = rep.manager
        while boss is not None:
            if boss.level >= 7:
                chain.append(boss)
            boss = boss.manager
        pick = self.rng.uniform()
        if pick < 0.6 and chain:
            return chain[0]
        if pick < 0.85 and len(chain) > 1:
            return chain[1]
        return self.rng.choice(self.seniors)

    # -- events -------------------------------------------------------------------

    def email(self, sender: str, to: list[str], when: datetime, cc: list[str] | None = None) -> SynthMessage:
        return SynthMessage(self.message_id(), when.astimezone(UTC), sender, to, cc or [])

    def meeting(
        self,
        organizer: str,
        others: list[str],
        start: datetime,
        end: datetime,
        *,
        decline: float = 0.04,
        uid: str | None = None,
        cancelled: float = 0.0,
    ) -> SynthMeeting:
        declined = [a for a in others if self.rng.chance(decline)]
        return SynthMeeting(
            uid or self.uid(),
            start,
            end,
            organizer,
            others,
            declined,
            cancelled=self.rng.chance(cancelled),
            series=uid is not None,
        )

    # -- customer engagement (the engagement stream) ----------------------------------

    def book(self, rep: Employee, quarter: str, customers: list[ExternalOrg]) -> _Book:
        """Return the accounts and contacts `rep` works in `quarter`, drawn the first time they are asked for."""
        found = self.books.get((rep.email, quarter))
        if found is None:
            found = self.books[(rep.email, quarter)] = _Book(customers, self.skills[rep.email][quarter], self.p, self.engagement)
        return found

    def reply_delay(self, skill: float) -> timedelta:
        """Return how long a rep of `skill` takes to answer a customer: log-normal, shorter with skill; rarely weeks."""
        e, p = self.engagement, self.p
        if e.chance(p.late_reply_share):
            return timedelta(seconds=round(e.uniform(REPLY_MAX_DAYS + 1, 30) * 86400))
        hours = p.reply_median_hours * math.exp(p.reply_skill_effect * skill + p.reply_log_sd * e.normal())
        return timedelta(seconds=round(hours * 3600))

    def answer_customers(self, rep: Employee, skill: float, sent: list[SynthMessage], received: list[SynthMessage]) -> None:
        """Make some of the rep's emails to customers replies to the week's emails from customers.

        The reply keeps its time; the email it answers is moved to the reply
        time before it and comes from the customer replied to, so that the
        main stream's counts and the rep's own sending times stay as drawn.
        An email moved earlier than the rep's first week is not made (it
        would widen the weeks measured); a customer's email answers the
        rep's latest email to them where that came before it, within 14 days.
        """
        e, p = self.engagement, self.p
        hired = max(self.first_week, rep.hire_date - timedelta(days=rep.hire_date.weekday()))
        earliest = datetime.combine(hired, time(12, 0), UTC)  # a Monday in every zone the company has
        waiting = list(received)
        for message in sent:
            if not waiting or not e.chance(p.customer_reply_share):
                continue
            asked_at = message.sent_at - self.reply_delay(skill)
            if asked_at < earliest:
                continue
            asked = waiting.pop(0)
            asked.sender, asked.sent_at = message.to[0], asked_at
            before = self.last_sent.get((rep.email, asked.sender))
            if before is not None and timedelta(0) < asked_at - before.sent_at <= timedelta(days=REPLY_MAX_DAYS):
                reply(asked, before)
            reply(message, asked)
        for message in sent:
            for contact in message.to:
                latest = self.last_sent.get((rep.email, contact))
                if latest is None or latest.sent_at < message.sent_at:
                    self.last_sent[(rep.email, contact)] = message

    def answer_colleague(self, rep: Employee, colleague: Employee, message: SynthMessage) -> None:
        """Make the rep's email to a colleague, some of the time, a reply to the colleague's latest email to them."""
        heard = self.last_heard.get((rep.email, colleague.email))
        if heard is None or not timedelta(0) <= message.sent_at - heard.sent_at <= timedelta(days=REPLY_MAX_DAYS):
            return
        if self.engagement.chance(self.p.colleague_reply_share):
            reply(message, heard)

    def rep_week(self, rep: Employee, monday: date, quarter: str, week_of_quarter: int) -> Iterator[Event]:
        rng, p = self.rng, self.p
        skill = self.skills[rep.email][quarter]
        progress = min(week_of_quarter, 12) / 12
        customer_rate = math.exp(p.customer_skill_effect * skill) * (1 + p.customer_time_quarter_trend * (progress - 0.5))
        network_rate = 1 + p.network_quarter_trend * (progress - 0.5)
        senior_rate = math.exp(p.senior_skill_effect * skill)
        customers = [a for a in rep.accounts if a.type in ("customer", "prospect")]
        book = self.book(rep, quarter, customers)
        engineer = self.partner_se[rep.email]
        manager = rep.manager

        for _ in range(rng.poisson(p.customer_meetings_per_week * customer_rate)):
            account = rng.choice(customers)
            drawn = rng.sample(account.contacts, rng.integer(1, 3))
            internal = [rep.email]
            if engineer is not None and rng.chance(0.35):
                internal.append(engineer.email)
            start, end = self.slot(rep, monday, rng.choice((30, 45, 60, 60, 90)))
            if rng.chance(0.2):
                meeting = self.meeting(drawn[0], drawn[1:] + internal, start, end, cancelled=0.04)
            else:
                meeting = self.meeting(rep.email, internal[1:] + drawn, start, end, cancelled=0.04)
            # Made with the drawn guests, so that the main stream draws a decline for each as it always did.
            yield book.seat(meeting, account, drawn)
        sent, received = [], []
        for _ in range(rng.poisson(p.customer_emails_sent_per_week * customer_rate)):
            account = rng.choice(customers)
            cc = [engineer.email] if engineer is not None and rng.chance(0.1) else []
            to = book.contacts(account, rng.sample(account.contacts, rng.integer(1, 2)))
            sent.append(self.email(rep.email, to, self.local_time(rep, monday, 0.08), cc))
        for _ in range(rng.poisson(p.customer_emails_received_per_week * customer_rate)):
            account = rng.choice(customers)
            sender = book.contacts(account, [rng.choice(account.contacts)])[0]
            received.append(self.email(sender, [rep.email], self.local_time(rep, monday, 0.15)))
        self.answer_customers(rep, skill, sent, received)
        yield from sent
        yield from received

        for contact in self.contacts[rep.email]:
            for _ in range(rng.poisson(p.interactions_per_contact_per_week * network_rate)):
                third = [rng.choice(self.contacts[rep.email]).email] if rng.chance(0.2) else []
                third = [t for t in third if t != contact.email]
                if rng.chance(0.35):
                    start, end = self.slot(rep, monday, 30)
                    organizer, other = (rep, contact) if rng.chance(0.6) else (contact, rep)
                    yield self.meeting(organizer.email, [other.email, *third], start, end)
                elif rng.chance(0.55):
                    message = self.email(rep.email, [contact.email], self.local_time(rep, monday, 0.1), third)
                    self.answer_colleague(rep, contact, message)
                    yield message
                else:
                    message = self.email(contact.email, [rep.email], self.local_time(contact, monday, 0.1), third)
                    self.last_heard[(rep.email, contact.email)] = message
                    yield message

        for _ in range(rng.poisson(p.senior_interactions_per_week * senior_rate)):
            leader = self.senior_for(rep)
            # A peer from the rep's regular contacts, never the manager: manager
            # time is planted with no effect, so skill must not bring it in.
            with_peer = [rng.choice(self.contacts[rep.email]).email] if rng.chance(0.3) else []
            if rng.chance(0.5):
                start, end = self.slot(rep, monday, rng.choice((30, 45)))
                yield self.meeting(leader.email, [rep.email, *with_peer], start, end)
            elif rng.chance(0.5):
                yield self.email(rep.email, [leader.email], self.local_time(rep, monday, 0.1), with_peer)
            else:
                yield self.email(leader.email, [rep.email], self.local_time(leader, monday, 0.2), with_peer)

        if manager is not None:
            for _ in range(rng.poisson(p.manager_emails_per_week)):
                if rng.chance(0.5):
                    yield self.email(rep.email, [manager.email], self.local_time(rep, monday, 0.1))
                else:
                    yield self.email(manager.email, [rep.email], self.local_time(manager, monday, 0.15))

        if rep.channel == "Partner":
            partners = [a for a in rep.accounts if a.type == "partner"]
            for _ in range(rng.poisson(2.0)):
                yield self.email(rep.email, [rng.choice(rng.choice(partners).contacts)], self.local_time(rep, monday, 0.1))
        for _ in range(rng.poisson(0.6)):
            friend = rng.choice(self.company.personal)
            if rng.chance(0.5):
                yield self.email(rep.email, [friend], self.local_time(rep, monday, 0.5))
            else:
                yield self.email(friend, [rep.email], self.local_time(rep, monday, 0.5))

    def background_week(self, person: Employee, monday: date) -> Iterator[Event]:
        """Everyday traffic of a person who is not a rep, with their own colleagues."""
        rng = self.rng
        for peer in self.peers[person.email]:
            for _ in range(rng.poisson(0.4)):
                if rng.chance(0.25):
                    start, end = self.slot(person, monday, 30)
                    yield self.meeting(person.email, [peer.email], start, end)
                else:
                    yield self.email(person.email, [peer.email], self.local_time(person, monday, 0.1))
        if rng.chance(0.03):
            vendor = rng.choice([a for a in self.company.accounts if a.type == "vendor"])
            yield self.email(rng.choice(vendor.contacts), [person.email], self.local_time(person, monday))


def _series_slot(
    generator: _Generator, person: Employee, monday: date, weekday: int, hour: int, minutes: int
) -> tuple[datetime, datetime]:
    start = datetime.combine(monday + timedelta(days=weekday), time(hour, 0), generator.zone(person))
    return start, start + timedelta(minutes=minutes)


def generate_activity(
    company: Company, weeks: list[date], rng: Rng, params: Params, skills: dict[str, dict[str, float]], seed: int
) -> Iterator[Event]:
    """Yield every email and meeting of the company, week by week, in a fixed order."""
    g = _Generator(company, rng, params, skills, seed, weeks[0])
    managers = [e for e in company.employees if e.reports]
    one_on_one = {e.email: g.uid() for m in managers for e in m.reports}
    team_meeting = {m.email: g.uid() for m in managers}
    all_hands = g.uid()
    for monday in weeks:
        quarter, quarter_start = quarter_of(monday)
        week_of_quarter = (monday - quarter_start).days // 7
        end_of_week = monday + timedelta(days=7)
        active = [e for e in company.employees if e.hire_date < end_of_week and (e.leave_date is None or e.leave_date > monday)]
        present = {e.email for e in active}
        for manager in managers:
            reports = [e for e in manager.reports if e.email in present]
            if manager.email not in present or not reports:
                continue
            for report in reports:
                # A weekly 1:1 series, with the odd skipped or moved occurrence.
                start, end = _series_slot(g, manager, monday, 1 + len(manager.reports) % 3, 10 + reports.index(report) % 6, 30)
                due = None
                if rng.chance(0.08):
                    due, start, end = start, start + timedelta(days=1), end + timedelta(days=1)
                one = g.meeting(
                    manager.email, [report.email], start, end, decline=0.02, uid=one_on_one[report.email], cancelled=0.08
                )
                one.original_start = due
                yield one
            start, end = _series_slot(g, manager, monday, 0, 9, 45)
            yield g.meeting(manager.email, [e.email for e in reports], start, end, decline=0.05, uid=team_meeting[manager.email])
            if week_of_quarter == 6:
                offsite = datetime.combine(monday + timedelta(days=3), time(0, 0), UTC)
                event = g.meeting(manager.email, [e.email for e in reports], offsite, offsite + timedelta(days=1))
                event.all_day = True
                yield event
        if monday.day <= 7:
            start, end = _series_slot(g, g.ceo, monday, 1, 11, 60)
            yield g.meeting(g.ceo.email, [e.email for e in active if e is not g.ceo], start, end, decline=0.12, uid=all_hands)
            yield g.email(g.ceo.email, [e.email for e in active if e is not g.ceo], g.local_time(g.ceo, monday))
            reps = [e.email for e in active if e.is_rep]
            start, end = g.slot(g.product_head, monday, 60)
            webinar = g.meeting(g.product_head.email, rng.sample(reps, 30), start, end, decline=0.1)
            webinar.transparent = True
            yield webinar
        yield g.email(g.marketing_head.email, [f"sales-all@{company.domain}"], g.local_time(g.marketing_head, monday))
        for person in active:
            if person.is_rep:
                yield from g.rep_week(person, monday, quarter, week_of_quarter)
            else:
                yield from g.background_week(person, monday)
