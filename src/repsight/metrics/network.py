"""Ties between colleagues, the weekly internal network, and the period graphs' edges.

docs/metrics.md, *Network*, as Ibis expressions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from repsight.metrics.events import in_week

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.config import Config
    from repsight.metrics.events import Encoded, MailRows, MeetingRows

__all__ = ["period_edges", "shifts_table", "ties", "week_ties", "weekly_network"]


def _pairs(participants: ir.Table, key: str) -> ir.Table:
    """Return `a`, `b` (a < b, parties), `key`: every pair of internal participants of one event (a meeting's counted people)."""
    internal = participants.filter(participants.internal)
    left = internal.select(_key=internal[key], a=internal.party)
    right = internal.select(_key2=internal[key], b=internal.party)
    joined = left.join(right, [left._key == right._key2, left.a < right.b])
    return joined.select("a", "b", **{key: joined._key})


def ties(mail: MailRows, meetings: MeetingRows, config: Config) -> ir.Table:
    """Return `a`, `b` (parties), `week_start_day`, `interactions`: meaningful interactions of two internal addresses in a week."""
    most = config.metrics.meaningful_max_people
    # A message links its sender with each recipient.
    messages = mail.messages.filter(lambda t: ~t.broadcast & (t.people <= most) & t.sender_internal)
    sent = mail.recipients.filter(mail.recipients.internal).join(messages, "message")
    by_mail = sent.select(
        a=ibis.least(sent.sender, sent.party), b=ibis.greatest(sent.sender, sent.party), week_start_day=sent.week_start_day
    )
    small = meetings.meetings.filter(lambda t: t.people <= most)
    met = meetings.participants.semi_join(small, "meeting")
    by_meeting = _pairs(met, "meeting").join(small.select("meeting", "week_start_day"), "meeting")
    both = by_mail.union(by_meeting.select("a", "b", "week_start_day"), distinct=False)
    return both.group_by("a", "b", "week_start_day").aggregate(interactions=lambda t: t.count())


def shifts_table(config: Config) -> pa.Table:
    """Return `shift`: the days by which a week's ties count in the later weeks of the network window."""
    return pa.table({"shift": pa.array([7 * k for k in range(config.metrics.network_window_weeks)], pa.int64())})


def weekly_network(tie_weeks: ir.Table, encoded: Encoded, shifts: ir.Table, config: Config) -> ir.Table:
    """Return `party`, `week_start_day`, `internal_network_size`, `org_span` for roster people with a network.

    Each side's org is the one in force in the week whose network it is (`events.Encoded.dated`).
    """
    parties = encoded.parties
    rules = config.metrics
    # A pair's sum over a window is the same from either side: sum once per
    # pair, then give each side its row.
    spread = tie_weeks.cross_join(shifts)
    spread = spread.select("a", "b", "interactions", week_start_day=spread.week_start_day + spread.shift)
    window = spread.group_by("a", "b", "week_start_day").aggregate(interactions=lambda t: t.interactions.sum())
    close = window.filter(window.interactions >= rules.network_min_interactions)
    directed = close.select(party="a", other="b", week_start_day="week_start_day").union(
        close.select(party="b", other="a", week_start_day="week_start_day"), distinct=False
    )
    # Addresses not on the roster have no org, and no network of their own here.
    roster = parties.filter(parties.person)
    own = roster.select(_own="party", own_org="org")
    network = directed.join(own, directed.party == own._own)
    others = roster.select(_other="party", other_org="org")
    network = network.left_join(others, network.other == others._other)
    network = in_week(in_week(network, encoded.dated, "party", own_org="org"), encoded.dated, "other", other_org="org")
    outside = (network.other_org != network.own_org) | network.own_org.isnull()
    return network.group_by("party", "week_start_day").aggregate(
        internal_network_size=network.other.count(),
        org_span=network.other_org.nunique(where=outside),
    )


def period_edges(tie_weeks: ir.Table, calendar: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `period`, `a`, `b` (pseudonyms, a < b), `weight`: the edges of each period's internal graph."""
    joined = tie_weeks.join(calendar.select("week_start_day", "period"), "week_start_day")
    edges = joined.group_by("period", "a", "b").aggregate(weight=joined.interactions.sum())
    first = parties.select(_a="party", _address_a="address")
    second = parties.select(_b="party", _address_b="address")
    named = edges.join(first, edges.a == first._a).join(second, edges.b == second._b)
    return named.select(
        "period",
        a=ibis.least(named._address_a, named._address_b),
        b=ibis.greatest(named._address_a, named._address_b),
        weight=named.weight,
    )


def week_ties(tie_weeks: ir.Table, calendar: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `week` (its Monday), `a`, `b` (pseudonyms, a < b), `interactions`: each pair's meaningful interactions in a week.

    What the network window reads: who has, and who has not, interacted with whom lately (the guidance's "no interaction in the window").
    """
    weeks = calendar.select(_week_start_day="week_start_day", week="week")
    joined = tie_weeks.join(weeks, tie_weeks.week_start_day == weeks._week_start_day)
    first = parties.select(_a="party", _address_a="address")
    second = parties.select(_b="party", _address_b="address")
    named = joined.join(first, joined.a == first._a)
    named = named.join(second, named.b == second._b)
    return named.select(
        "week",
        a=ibis.least(named._address_a, named._address_b),
        b=ibis.greatest(named._address_a, named._address_b),
        interactions=named.interactions.cast("int64"),
    )
