"""A week of the synthetic company's mail and meetings, drawn for everyone at once with numpy.

The behaviour is activity.py's, rate for rate (see `week`); only the draws
differ: counts per person are Poisson draws over arrays, and the partners of
each event are picked from the CSR pools of `bulk.org`. A `Sink` collects
events as integer arrays (addresses are indexes into the list `build_arrays`
returns) and gives them as integer columns, which `to_arrow` turns into
rows of the store's event tables.

Where it differs from activity.py, on purpose: meetings start on quarter
as well as half hours, in the organiser's zone (the rep's when a customer
invites), and last 15 minutes to 2 hours; invitees answer accepted,
tentative, needs-action or none, not only none. And it adds what
activity.py lacks, so that every rule of docs/metrics.md meets data: mail
from external domains of no account, an outside adviser in one customer
meeting in a hundred, and each region's quarterly 9-hour kick-off (longer
than the metrics' longest counted meeting). Replies (`messages.parent_key`)
are chosen in `bulk.replies`, from a stream of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bulk.org import DAY_US, MINUTE_US, Clock, OrgArrays, ceil_half_hours, contacts, day_number, pick
from bulk.replies import ReplyDraws, answer_colleagues, answer_customers
from repsight.synth.activity import Params

__all__ = ["RESPONSES", "Columns", "Sink", "hex_keys", "to_arrow", "week"]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Columns = dict[str, npt.NDArray[Any]]  # integer columns of one table

Slot = Callable[[I64, I64], tuple[I64, I64]]
LocalTime = Callable[[I64, float], I64]

RESPONSES = ("organizer", "accepted", "tentative", "declined", "needs-action", "none")
ORGANIZER, DECLINED = 0, 3
# Responses of invitees who do not decline: accepted, tentative, needs-action, none.
REPLY_CODES = np.array([1, 2, 4, 5], np.int8)
REPLY_SHARES = np.array([0.55, 0.08, 0.12, 0.25])
CANCELLED, ALL_DAY, TRANSPARENT = 1, 2, 4
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MASK = (1 << 64) - 1


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Return splitmix64's finaliser of `x`: a bijection of 64-bit integers, so distinct inputs stay distinct."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    result: npt.NDArray[np.uint64] = x ^ (x >> np.uint64(31))
    return result


def hex_keys(numbers: I64, salt: int, valid: Bools | None = None) -> pa.Array:
    """Return 32-hex-character keys of event numbers: distinct numbers give distinct keys; null where `valid` is False.

    The first half is a bijection of the number, the second of the number
    and another salt; keys look like the store's hashed keys.
    """
    n = len(numbers)
    with np.errstate(over="ignore"):
        x = numbers.astype(np.uint64)
        halves = np.stack([_mix(x ^ np.uint64(salt & _MASK)), _mix(x ^ np.uint64((salt * 31 + 17) & _MASK))], axis=1)
    raw = halves.astype(">u8").view(np.uint8).reshape(n, 16)
    text = np.empty((n, 32), np.uint8)
    text[:, 0::2] = _HEX[raw >> 4]
    text[:, 1::2] = _HEX[raw & 15]
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    nulls = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), n, [nulls, pa.py_buffer(offsets), pa.py_buffer(text)])


def _timestamps(us: I64) -> pa.Array:
    return pa.array(us.view("datetime64[us]"), pa.timestamp("us"))


class Sink:
    """Events of one batch, as arrays of address indexes and UTC microseconds."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.messages = 0
        self.meetings = 0
        self._m: dict[str, list[npt.NDArray[np.generic]]] = {
            k: [] for k in ("sender", "sent", "parent", "r_msg", "r_addr", "r_kind")
        }
        self._g: dict[str, list[npt.NDArray[np.generic]]] = {
            k: [] for k in ("organizer", "start", "end", "series", "flags", "a_mtg", "a_addr", "a_resp")
        }

    def message(self, sender: I64, sent: I64, to: I64, cc: I64 | None = None, parent: I64 | None = None) -> None:
        """Add messages; `to` and `cc` hold each message's recipients in a row, -1 where there are fewer.

        `parent` holds the number in this batch (`messages` before the call
        that added it, plus its position) of the message each answers, -1 for none.
        """
        n = len(sender)
        if n == 0:
            return
        number = self.messages + np.arange(n, dtype=np.int64)
        for matrix, kind in ((to, 0), (cc, 1)):
            if matrix is None:
                continue
            rows, cols = np.nonzero(matrix.reshape(n, -1) >= 0)
            self._m["r_msg"].append(number[rows])
            self._m["r_addr"].append(matrix.reshape(n, -1)[rows, cols])
            self._m["r_kind"].append(np.full(len(rows), kind, np.int8))
        self._m["sender"].append(sender)
        self._m["sent"].append(sent)
        self._m["parent"].append(np.full(n, -1, np.int64) if parent is None else parent)
        self.messages += n

    def broadcast(self, sender: int, sent: int, recipients: I64) -> None:
        """Add one message to many recipients."""
        self.message(np.array([sender]), np.array([sent]), recipients.reshape(1, -1))

    def meeting(
        self,
        organizer: I64,
        start: I64,
        end: I64,
        others: I64,
        *,
        decline: float,
        cancelled: float = 0.0,
        series: I64 | None = None,
        flags: int = 0,
    ) -> None:
        """Add meetings; `others` holds each meeting's invitees in a row, -1 where there are fewer."""
        rows, cols = np.nonzero(others >= 0)
        self.meeting_flat(
            organizer, start, end, rows, others[rows, cols], decline=decline, cancelled=cancelled, series=series, flags=flags
        )

    def meeting_flat(
        self,
        organizer: I64,
        start: I64,
        end: I64,
        which: I64,
        invitee: I64,
        *,
        decline: float,
        cancelled: float = 0.0,
        series: I64 | None = None,
        flags: int = 0,
    ) -> None:
        """Add meetings whose invitees are given as (meeting position, address) pairs."""
        n, rng = len(organizer), self.rng
        number = self.meetings + np.arange(n, dtype=np.int64)
        reply = REPLY_CODES[rng.choice(len(REPLY_CODES), len(invitee), p=REPLY_SHARES)]
        reply[rng.random(len(invitee)) < decline] = DECLINED
        self._g["a_mtg"] += [number, number[which]]
        self._g["a_addr"] += [organizer, invitee]
        self._g["a_resp"] += [np.full(n, ORGANIZER, np.int8), reply]
        self._g["organizer"].append(organizer)
        self._g["start"].append(start)
        self._g["end"].append(end)
        self._g["series"].append(np.full(n, -1, np.int64) if series is None else series)
        self._g["flags"].append(np.where(rng.random(n) < cancelled, CANCELLED, 0).astype(np.int8) | np.int8(flags))
        self.meetings += n

    def rows(self, o: OrgArrays, first: tuple[int, int]) -> dict[str, Columns]:
        """Return the batch's rows of messages, message_recipients, meetings and meeting_attendees, as integer columns.

        Events are numbered from `first` (the batch's first message and
        meeting within the run), so keys stay unique across batches; `to_arrow`
        turns numbers and address indexes into keys, pseudonyms and domains.
        A person is a participant of an event once (their first mention),
        never as its own recipient.
        """
        m = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in self._m.items()}
        g = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in self._g.items()}
        self._m, self._g = {}, {}  # the chunks go as soon as they are joined

        # Recipients: drop the sender and repeats; counts follow the rows kept.
        r_msg, r_addr, r_kind = m["r_msg"], m["r_addr"], m["r_kind"]
        own = r_addr != m["sender"][r_msg]
        r_msg, r_addr, r_kind = r_msg[own], r_addr[own], r_kind[own]
        _, firsts = np.unique(r_msg * o.size + r_addr, return_index=True)
        r_msg, r_addr, r_kind = r_msg[firsts], r_addr[firsts], r_kind[firsts]
        count = np.bincount(r_msg, minlength=self.messages)
        kept = np.flatnonzero(count > 0)
        # A reply's parent is a stored message (one with a recipient) or none.
        parent = m["parent"][kept]
        parent = np.where((parent >= 0) & (count[np.maximum(parent, 0)] > 0), first[0] + parent, -1)

        # Attendees: the organiser's row comes first, so it wins over an invitation to themself.
        a_mtg, a_addr, a_resp = g["a_mtg"], g["a_addr"], g["a_resp"]
        order = np.lexsort((a_resp != ORGANIZER, a_addr, a_mtg))
        a_mtg, a_addr, a_resp = a_mtg[order], a_addr[order], a_resp[order]
        new = np.ones(len(a_mtg), bool)
        new[1:] = (a_mtg[1:] != a_mtg[:-1]) | (a_addr[1:] != a_addr[:-1])
        a_mtg, a_addr, a_resp = a_mtg[new], a_addr[new], a_resp[new]
        return {
            "messages": {
                "number": first[0] + kept,
                "sent": m["sent"][kept],
                "sender": m["sender"][kept],
                "count": count[kept].astype(np.int64),
                "parent": parent,
            },
            "message_recipients": {"number": first[0] + r_msg, "address": r_addr, "kind": r_kind},
            "meetings": {
                "number": first[1] + np.arange(self.meetings, dtype=np.int64),
                "series": g["series"],
                "start": g["start"],
                "end": g["end"],
                "organizer": g["organizer"],
                "flags": g["flags"],
                "count": np.bincount(a_mtg, minlength=self.meetings).astype(np.int64),
            },
            "meeting_attendees": {"number": first[1] + a_mtg, "address": a_addr, "response": a_resp},
        }


def to_arrow(name: str, columns: Columns, names: pa.Array, domains: pa.Array, salt: int) -> pa.Table:
    """Return rows of an event table (from `Sink.rows`) as the store's columns: keys, pseudonyms, domains, timestamps."""
    if name in ("messages", "message_recipients"):
        key = hex_keys(columns["number"], salt)
    else:
        key = hex_keys(columns["number"], salt + 1)
    if name == "messages":
        sender = pa.array(columns["sender"])
        return pa.table(
            {
                "message_key": key,
                "sent_at": _timestamps(columns["sent"]),
                "sender": names.take(sender),
                "sender_domain": domains.take(sender),
                "recipient_count": pa.array(columns["count"]),
                "parent_key": hex_keys(np.maximum(columns["parent"], 0), salt, columns["parent"] >= 0),
            }
        )
    if name == "meetings":
        organizer, flags, series = pa.array(columns["organizer"]), columns["flags"], columns["series"]
        return pa.table(
            {
                "meeting_key": key,
                "series_key": pc.if_else(pa.array(series < 0), key, hex_keys(np.maximum(series, 0), salt + 2)),
                "start_at": _timestamps(columns["start"]),
                "end_at": _timestamps(columns["end"]),
                "organizer": names.take(organizer),
                "organizer_domain": domains.take(organizer),
                "is_cancelled": pa.array(flags & CANCELLED > 0),
                "is_all_day": pa.array(flags & ALL_DAY > 0),
                "is_transparent": pa.array(flags & TRANSPARENT > 0),
                "attendee_count": pa.array(columns["count"]),
            }
        )
    address = pa.array(columns["address"])
    labels: tuple[str, ...]
    if name == "message_recipients":
        role, extra, labels, codes = "recipient", "kind", ("to", "cc"), columns["kind"]
    else:
        role, extra, labels, codes = "attendee", "response", RESPONSES, columns["response"]
    return pa.table(
        {
            "message_key" if name == "message_recipients" else "meeting_key": key,
            role: names.take(address),
            f"{role}_domain": domains.take(address),
            extra: pa.array(labels).take(pa.array(codes)),
        }
    )


def week(
    o: OrgArrays,
    clock: Clock,
    rng: np.random.Generator,
    sink: Sink,
    monday: date,
    quarter: str,
    week_of_quarter: int,
    p: Params,
    replies: ReplyDraws,
) -> None:
    """Add one week of the company's events to `sink`: activity.py's behaviour, drawn in bulk; replies from `replies`' stream."""
    first = day_number(monday)
    active = (o.hire < first + 7) & (o.leave > first)

    def local_time(who: I64, after_hours: float) -> I64:
        """Return moments in each person's working week (sometimes evening or weekend), as activity.local_time."""
        n = len(who)
        late = rng.random(n) < after_hours
        day = np.where(late, rng.integers(0, 7, n), rng.integers(0, 5, n))
        evening = np.where(day < 5, rng.integers(18 * 60, 22 * 60 + 1, n), rng.integers(9 * 60, 20 * 60 + 1, n))
        minute = np.where(late, evening, rng.integers(8 * 60, 17 * 60 + 31, n))
        return clock.utc(o.zone[who], first + day, minute) + rng.integers(0, 60, n) * 1_000_000

    def slot(who: I64, minutes: I64) -> tuple[I64, I64]:
        """Return meetings on a half (sometimes a quarter) hour within each person's working day, as activity.slot."""
        n = len(who)
        latest = np.maximum(16, 36 - ceil_half_hours(minutes))
        minute = rng.integers(16, latest + 1) * 30
        minute += 15 * ((rng.random(n) < 0.15) & (minute + 15 + minutes <= 18 * 60))
        start = clock.utc(o.zone[who], first + rng.integers(0, 5, n), minute)
        return start, start + minutes * MINUTE_US

    def lengths(n: int, minutes: tuple[int, ...], shares: tuple[float, ...]) -> I64:
        return np.asarray(minutes, np.int64)[rng.choice(len(minutes), n, p=shares)]

    def col(*columns: I64) -> I64:
        return np.column_stack(columns) if columns else np.zeros((0, 0), np.int64)

    _series_meetings(o, clock, rng, sink, first, active, week_of_quarter)
    if monday.day <= 7:
        _monthly(o, clock, rng, sink, first, active, slot, local_time)
    if week_of_quarter == 0:
        _kickoffs(o, clock, sink, first, active)
    sink.broadcast(o.marketing_head, int(local_time(np.array([o.marketing_head]), 0.0)[0]), np.array([o.sales_all]))

    # Reps: customers, regular contacts, senior leaders, manager, partners, friends.
    ra = np.flatnonzero(active[o.reps])
    skill = o.skill[ra, o.quarter[quarter]]
    progress = min(week_of_quarter, 12) / 12
    customer_rate = np.exp(p.customer_skill_effect * skill) * (1 + p.customer_time_quarter_trend * (progress - 0.5))
    network_rate = 1 + p.network_quarter_trend * (progress - 0.5)

    rep = np.repeat(ra, rng.poisson(p.customer_meetings_per_week * customer_rate))
    me, n = o.reps[rep], len(rep)
    guests = contacts(rng, o, pick(rng, o.customers, rep), rng.integers(1, 4, n), 3)
    engineer = np.where(rng.random(n) < 0.35, o.engineer[rep], -1)
    # One customer meeting in a hundred brings an outside adviser (a domain of no account).
    adviser = np.where(rng.random(n) < 0.01, o.other_external[rng.integers(0, len(o.other_external), n)], -1)
    # Slots are in the organiser's zone; a customer who invites has none, so the rep's.
    start, end = slot(me, lengths(n, (30, 45, 60, 90, 120), (0.2, 0.2, 0.4, 0.15, 0.05)))
    by_guest = rng.random(n) < 0.2
    others = col(np.where(by_guest, me, -1), engineer, np.where(by_guest, -1, guests[:, 0]), guests[:, 1], guests[:, 2], adviser)
    sink.meeting(np.where(by_guest, guests[:, 0], me), start, end, others, decline=0.04, cancelled=0.04)

    rep = np.repeat(ra, rng.poisson(p.customer_emails_sent_per_week * customer_rate))
    me, n = o.reps[rep], len(rep)
    to = contacts(rng, o, pick(rng, o.customers, rep), rng.integers(1, 3, n), 2)
    sent_at, cc = local_time(me, 0.08), np.where(rng.random(n) < 0.1, o.engineer[rep], -1)
    heard_rep = np.repeat(ra, rng.poisson(p.customer_emails_received_per_week * customer_rate))
    heard_me = o.reps[heard_rep]
    sender = contacts(rng, o, pick(rng, o.customers, heard_rep), np.ones(len(heard_rep), np.int64), 1)[:, 0]
    heard_at = local_time(heard_me, 0.15)
    all_skills = o.skill[:, o.quarter[quarter]]
    parent, sender, heard_at = answer_customers(
        replies.rng, p, all_skills, replies.earliest, rep, sent_at, to[:, 0], heard_rep, heard_at, sender
    )
    numbered = sink.messages  # the received emails are numbered after the sent ones
    sink.message(me, sent_at, to, cc, parent=np.where(parent >= 0, numbered + n + parent, -1))
    sink.message(sender, heard_at, heard_me)

    sizes = o.network[0][ra + 1] - o.network[0][ra]
    rep = np.repeat(ra, rng.poisson(p.interactions_per_contact_per_week * network_rate * sizes))
    me, n = o.reps[rep], len(rep)
    contact = pick(rng, o.network, rep)
    third = np.where(rng.random(n) < 0.2, pick(rng, o.network, rep), -1)
    third[third == contact] = -1
    kind = rng.random(n)
    meet, sends = kind < 0.35, (kind >= 0.35) & (rng.random(n) < 0.55)
    receives = ~meet & ~sends
    mine = rng.random(n) < 0.6
    organizer = np.where(mine, me, contact)[meet]
    start, end = slot(organizer, lengths(int(meet.sum()), (15, 30, 60), (0.1, 0.8, 0.1)))
    sink.meeting(organizer, start, end, col(np.where(mine, contact, me)[meet], third[meet]), decline=0.04)
    sent_at, heard_at = local_time(me[sends], 0.1), local_time(contact[receives], 0.1)
    pair = me * o.size + contact
    parent = answer_colleagues(replies.rng, p, pair[sends], sent_at, pair[receives], heard_at)
    numbered = sink.messages
    replying = np.where(parent >= 0, numbered + len(sent_at) + parent, -1)
    sink.message(me[sends], sent_at, contact[sends], third[sends], parent=replying)
    sink.message(contact[receives], heard_at, me[receives], third[receives])

    rep = np.repeat(ra, rng.poisson(p.senior_interactions_per_week * np.exp(p.senior_skill_effect * skill)))
    me, n = o.reps[rep], len(rep)
    u = rng.random(n)
    chain = o.chain[rep]
    leader = np.where(
        (u < 0.6) & (chain[:, 0] >= 0),
        chain[:, 0],
        np.where((u < 0.85) & (chain[:, 1] >= 0), chain[:, 1], o.seniors[rng.integers(0, len(o.seniors), n)]),
    )
    # A peer from the rep's regular contacts, never the manager: manager time is planted with no effect.
    peer = np.where(rng.random(n) < 0.3, pick(rng, o.network, rep), -1)
    kind = rng.random(n)
    meet, sends = kind < 0.5, (kind >= 0.5) & (rng.random(n) < 0.5)
    receives = ~meet & ~sends
    start, end = slot(leader[meet], lengths(int(meet.sum()), (30, 45), (0.5, 0.5)))
    sink.meeting(leader[meet], start, end, col(me[meet], peer[meet]), decline=0.04)
    sink.message(me[sends], local_time(me[sends], 0.1), leader[sends], peer[sends])
    sink.message(leader[receives], local_time(leader[receives], 0.2), me[receives], peer[receives])

    rep = np.repeat(ra, rng.poisson(p.manager_emails_per_week, len(ra)))
    me = o.reps[rep]
    boss = o.manager[me]
    up = (rng.random(len(rep)) < 0.5) & (boss >= 0)
    down = ~up & (boss >= 0)
    sink.message(me[up], local_time(me[up], 0.1), boss[up])
    sink.message(boss[down], local_time(boss[down], 0.15), me[down])

    partnering = ra[o.partner_channel[ra]]
    rep = np.repeat(partnering, rng.poisson(2.0, len(partnering)))
    me = o.reps[rep]
    partner = contacts(rng, o, pick(rng, o.partners, rep), np.ones(len(rep), np.int64), 1)
    sink.message(me, local_time(me, 0.1), partner)

    me = o.reps[np.repeat(ra, rng.poisson(0.6, len(ra)))]
    friend = o.personal[rng.integers(0, len(o.personal), len(me))]
    sends = rng.random(len(me)) < 0.5
    when = local_time(me, 0.5)
    sink.message(np.where(sends, me, friend), when, np.where(sends, friend, me))

    # Everyone else: everyday traffic with their peers, the odd vendor mail.
    na = np.flatnonzero(active & (o.rep_of < 0))
    sizes = o.peers[0][na + 1] - o.peers[0][na]
    me = np.repeat(na, rng.poisson(0.4 * sizes))
    peer = pick(rng, o.peers, me)
    meet = rng.random(len(me)) < 0.25
    start, end = slot(me[meet], np.full(int(meet.sum()), 30, np.int64))
    sink.meeting(me[meet], start, end, peer[meet].reshape(-1, 1), decline=0.04)
    sink.message(me[~meet], local_time(me[~meet], 0.1), peer[~meet])
    me = na[rng.random(len(na)) < 0.03]
    vendor = o.vendors[rng.integers(0, len(o.vendors), len(me))]
    sink.message(contacts(rng, o, vendor, np.ones(len(me), np.int64), 1)[:, 0], local_time(me, 0.0), me)
    # Newsletters and recruiters: external mail from domains of no account.
    me = np.repeat(np.flatnonzero(active), rng.poisson(0.1, int(active.sum())))
    sink.message(o.other_external[rng.integers(0, len(o.other_external), len(me))], local_time(me, 0.3), me)


def _series_meetings(
    o: OrgArrays, clock: Clock, rng: np.random.Generator, sink: Sink, first: int, active: Bools, week_of_quarter: int
) -> None:
    """Add each manager's weekly 1:1s and team meeting (recurring series), and the mid-quarter offsite."""
    ptr, report = o.reports
    teams = len(o.managers)
    owner = np.repeat(np.arange(teams), np.diff(ptr))
    present = active[report] & active[o.managers[owner]]
    running = np.cumsum(present)
    before = np.concatenate([[0], running])[ptr[:-1]]
    position = (running - 1 - before[owner])[present]
    pair = np.flatnonzero(present)
    boss, who = o.managers[owner[pair]], report[pair]
    # A 1:1 series per report, on a weekday and hour that follow the team, the odd one moved a day.
    weekday = 1 + np.diff(ptr)[owner[pair]] % 3 + (rng.random(len(pair)) < 0.08)
    start = clock.utc(o.zone[boss], first + weekday, (10 + position % 6) * 60)
    sink.meeting(boss, start, start + 30 * MINUTE_US, who.reshape(-1, 1), decline=0.02, cancelled=0.08, series=pair)

    led = np.flatnonzero(np.bincount(owner[pair], minlength=teams) > 0)
    row_of = np.full(teams, -1, np.int64)
    row_of[led] = np.arange(len(led))
    boss = o.managers[led]
    start = clock.utc(o.zone[boss], np.full(len(led), first), np.full(len(led), 9 * 60))
    series = len(report) + led
    sink.meeting_flat(boss, start, start + 45 * MINUTE_US, row_of[owner[pair]], who, decline=0.05, series=series)
    if week_of_quarter == 6:
        offsite = np.full(len(led), (first + 3) * DAY_US)
        sink.meeting_flat(boss, offsite, offsite + DAY_US, row_of[owner[pair]], who, decline=0.04, flags=ALL_DAY)


def _monthly(
    o: OrgArrays, clock: Clock, rng: np.random.Generator, sink: Sink, first: int, active: Bools, slot: Slot, local_time: LocalTime
) -> None:
    """Add the first week of a month's all-hands (a series), the CEO's mail to all and a product webinar."""
    everyone = np.flatnonzero(active)
    everyone = everyone[everyone != o.ceo]
    ceo = np.array([o.ceo])
    start = clock.utc(o.zone[ceo], np.array([first + 1]), np.array([11 * 60]))
    series = np.array([len(o.reports[1]) + len(o.managers)])
    sink.meeting_flat(
        ceo, start, start + 60 * MINUTE_US, np.zeros(len(everyone), np.int64), everyone, decline=0.12, series=series
    )
    sink.broadcast(o.ceo, int(local_time(ceo, 0.0)[0]), everyone)
    reps = o.reps[active[o.reps]]
    audience = rng.choice(reps, min(30, len(reps)), replace=False)
    host = np.array([o.product_head])
    start, end = slot(host, np.array([60]))
    sink.meeting_flat(host, start, end, np.zeros(len(audience), np.int64), audience, decline=0.1, flags=TRANSPARENT)


def _kickoffs(o: OrgArrays, clock: Clock, sink: Sink, first: int, active: Bools) -> None:
    """Add each region's quarterly sales kick-off: a 9-hour day, longer than any meeting the metrics count."""
    for vp in o.region_vps.tolist():
        crowd = np.flatnonzero(active & o.is_sales & (o.region == o.region[vp]) & (o.level < 7))
        if not len(crowd):
            continue
        host = np.array([vp])
        start = clock.utc(o.zone[host], np.array([first + 2]), np.array([8 * 60]))
        sink.meeting_flat(host, start, start + 9 * 60 * MINUTE_US, np.zeros(len(crowd), np.int64), crowd, decline=0.05)
