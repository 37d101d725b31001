"""Customer engagement: accounts, contacts, meetings, reply time and book coverage, per person and week or period.

docs/metrics.md, *Customer engagement*, as Ibis expressions. Nothing here
knows which engine runs them.

A person's customer interactions are their counted non-broadcast messages
and counted meetings whose others include a customer address. Each pairs the
person with every such address (a contact) and its account (`customer_pairs`);
the three weekly columns are distinct counts over a person's pairs of the
week, the period's are distinct counts over the pairs of the person's weeks in
the period. Distinct counts of integers and text are the same on every
engine; the period's ratios are left to `weekly.person_period`, which divides
their integer parts as float64. A reply time is a difference of whole
seconds, and a median of them is the mean of at most two of them, taken as
integers and divided once: exact, and the same on every engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from repsight.metrics.catalog import PERIOD_ENGAGEMENT
from repsight.metrics.weeks import DAY

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.metrics.events import Encoded, MailRows, MeetingRows

__all__ = [
    "ENGAGEMENT_COLUMNS",
    "PERIOD_ENGAGEMENT_COLUMNS",
    "account_touches",
    "customer_engagement",
    "customer_pairs",
    "customer_replies",
    "owned_accounts",
    "period_engagement",
    "reply_hours",
]

ENGAGEMENT_COLUMNS = ("customer_accounts", "customer_contacts", "customer_meetings")
PERIOD_ENGAGEMENT_COLUMNS = PERIOD_ENGAGEMENT


def _pairs(participants: ir.Table, event: str, parties: ir.Table) -> ir.Table:
    """Return `event`, `party`, `week_start_day`, `second`, `contact`, `account`: each roster participant with each other customer participant.

    `participants` (`event`, `party`, `week_start_day`, `second`) holds the
    counted participants of the events that may be interactions, each once.
    """
    customers = parties.filter(parties.customer).select(_customer="party", account="account")
    contacts = participants.join(customers, participants.party == customers._customer)
    # A view: both sides of the joins below are read from `participants`.
    contacts = contacts.select(_event=contacts[event], contact=contacts.party, account=contacts.account).view()
    people = parties.filter(parties.person).select(_person="party")
    persons = participants.join(people, participants.party == people._person).select(event, "party", "week_start_day", "second")
    # Inner: only events with a customer participant are paired.
    pairs = persons.join(contacts, persons[event] == contacts._event)
    # "Others": a person is never their own contact.
    pairs = pairs.filter(pairs.party != pairs.contact)
    return pairs.select(event, "party", "week_start_day", "second", "contact", "account")


def customer_pairs(parties: ir.Table, mail: MailRows, meetings: MeetingRows) -> ir.Table:
    """Return `party`, `week_start_day`, `second`, `contact`, `account`, `meeting`: each person's customer interactions, one row per contact.

    `parties` is `events.Encoded.parties`; `mail` and `meetings` are the
    counted events (`events.counted_messages`, `events.counted_meetings`).
    `second` is the event's UTC epoch second (a message's sending, a
    meeting's start). `meeting` is null for a message; `account` is null for
    a domain without one.
    """
    kept = mail.messages.filter(~mail.messages.broadcast)
    senders = kept.select("message", "week_start_day", "second", party=kept.sender)
    recipients = mail.recipients.join(kept.select("message", "week_start_day", "second"), "message")
    # A sender is never among its message's recipients (`counted_messages`): each participant once.
    mail_parts = senders.union(recipients.select("message", "week_start_day", "second", "party"), distinct=False)
    mail_pairs = _pairs(mail_parts, "message", parties)
    meeting_parts = meetings.participants.join(meetings.meetings.select("meeting", "week_start_day", second="start"), "meeting")
    meeting_pairs = _pairs(meeting_parts.select("meeting", "week_start_day", "second", "party"), "meeting", parties)
    columns = ("party", "week_start_day", "second", "contact", "account")
    # One table of pairs; a message's row has no meeting.
    return mail_pairs.select(*columns, meeting=ibis.null("int64")).union(
        meeting_pairs.select(*columns, "meeting"), distinct=False
    )


def customer_engagement(pairs: ir.Table) -> ir.Table:
    """Return `party`, `week_start_day` and the three weekly engagement counts, for person-weeks with a customer interaction.

    `pairs` is `customer_pairs`.
    """
    return pairs.group_by("party", "week_start_day").aggregate(
        customer_accounts=pairs.account.nunique(),
        customer_contacts=pairs.contact.nunique(),
        customer_meetings=pairs.meeting.nunique(),
    )


def _in_weeks(table: ir.Table, grid: ir.Table) -> ir.Table:
    """Return the rows of `table` (`party`, `week_start_day`, …) in their person's weeks, with the week's `period`.

    `grid` (`party`, `week_start_day`, `period`) holds each person's weeks, so
    that an event outside them (before the hire week) does not count.
    """
    weeks = grid.select(_party="party", _week="week_start_day", _period="period")
    dated = table.join(weeks, (table.party == weeks._party) & (table.week_start_day == weeks._week))
    return dated.select(*table.columns, period=dated._period)


def account_touches(pairs: ir.Table, grid: ir.Table) -> ir.Table:
    """Return `party`, `period`, `account`, `contacts`, `weeks`, `last_second`: each account a person touched in a period.

    `pairs` is `customer_pairs`, `grid` as for `_in_weeks`. `contacts` are
    the distinct contacts met at the account, `weeks` the person's weeks with
    an interaction with it, `last_second` the UTC epoch second of the last.
    """
    dated = _in_weeks(pairs, grid)
    with_account = dated.filter(dated.account.notnull())
    return with_account.group_by("party", "period", "account").aggregate(
        contacts=with_account.contact.nunique(),
        weeks=with_account.week_start_day.nunique(),
        last_second=with_account.second.max(),
    )


def owned_accounts(account_domains: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `party`, `account`: the accounts each roster person owns (`account_domains.owner`)."""
    owned = account_domains.filter(account_domains.owner.notnull()).select(_owner="owner", account="account_id").distinct()
    people = parties.filter(parties.person).select("party", _address="address")
    owned = owned.join(people, owned._owner == people._address)
    return owned.select("party", "account")


def period_engagement(pairs: ir.Table, touches: ir.Table, owned: ir.Table, grid: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `_person`, `_period` and the integer parts of the period's engagement, for person-periods with a customer interaction.

    `pairs` is `customer_pairs`, `touches` is `account_touches`, `owned` is
    `owned_accounts`, `grid` as for `_in_weeks`. The columns:
    `accounts_touched` (distinct accounts), `period_contacts` (distinct
    contacts), `account_weeks` (the sum over the accounts touched of the
    weeks the person interacted with each) and `owned_touched` (the accounts
    touched that the person owns). `_person` is the person's pseudonym.
    """
    dated = _in_weeks(pairs, grid)
    contacts = dated.group_by("party", "period").aggregate(period_contacts=dated.contact.nunique())
    mine = touches.join(owned, (touches.party == owned.party) & (touches.account == owned.account)).select("party", "period")
    mine = mine.group_by(_o_party="party", _o_period="period").aggregate(owned_touched=mine.count())
    accounts = touches.group_by(_a_party="party", _a_period="period").aggregate(
        accounts_touched=touches.count(), account_weeks=touches.weeks.sum()
    )
    joined = contacts.left_join(accounts, (contacts.party == accounts._a_party) & (contacts.period == accounts._a_period))
    joined = joined.left_join(mine, (joined.party == mine._o_party) & (joined.period == mine._o_period))
    names = parties.select(_name_party="party", _person="address")
    joined = joined.join(names, joined.party == names._name_party)
    return joined.select(
        "_person",
        _period=joined.period,
        accounts_touched=joined.accounts_touched.fill_null(0).cast("int64"),
        period_contacts=joined.period_contacts.cast("int64"),
        account_weeks=joined.account_weeks.fill_null(0).cast("int64"),
        owned_touched=joined.owned_touched.fill_null(0).cast("int64"),
    )


def customer_replies(encoded: Encoded, mail: MailRows, max_days: int) -> ir.Table:
    """Return `party`, `week_start_day`, `seconds`: each reply to a customer by a roster person, with its reply time.

    A reply to a customer is a counted message M of the person whose parent
    (`Encoded.replies`) is a stored message R sent by a customer address
    with the person among its recipients, and 0 <= M's second - R's second
    <= `max_days` days. `week_start_day` is M's week.
    """
    parties = encoded.parties
    people = parties.filter(parties.person).select(_person="party")
    sent = mail.messages.select("message", "sender", "second", "week_start_day")
    sent = sent.join(people, sent.sender == people._person)
    sent = sent.join(encoded.replies, sent.message == encoded.replies.child)
    customers = parties.filter(parties.customer).select(_customer="party")
    received = encoded.messages.select(_parent="message", _parent_sender="sender", _parent_second="second")
    received = received.join(customers, received._parent_sender == customers._customer)
    replies = sent.join(received, sent.parent == received._parent)
    # The person was among the parent's recipients (any stored recipient row).
    readers = encoded.recipients.select(_read="message", _reader="party")
    replies = replies.semi_join(readers, (replies.parent == readers._read) & (replies.sender == readers._reader))
    delay = replies.second - replies._parent_second
    replies = replies.filter((delay >= 0) & (delay <= max_days * DAY))
    return replies.select(party=replies.sender, week_start_day=replies.week_start_day, seconds=delay)


def reply_hours(replies: ir.Table, grid: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `_person`, `_period`, `customer_reply_hours`: the median reply time in hours, for person-periods with a reply.

    `replies` is `customer_replies`, `grid` as for `_in_weeks`. Of n reply
    times in order, the median is the mean of the ((n + 1) // 2)-th and the
    (n // 2 + 1)-th: one value when n is odd.
    """
    dated = _in_weeks(replies, grid)
    group = ibis.window(group_by=[dated.party, dated.period])
    ranked = dated.mutate(
        # Spark's row_number is 32-bit whatever Ibis believes: spelled out through int32 (`events._numbered`).
        _rank=ibis.row_number().over(group_by=[dated.party, dated.period], order_by=dated.seconds).cast("int32").cast("int64")
        + 1,
        _n=dated.seconds.count().over(group),
    )
    middle = ranked.filter((ranked._rank == (ranked._n + 1) // 2) | (ranked._rank == ranked._n // 2 + 1))
    medians = middle.group_by("party", "period").aggregate(_low=middle.seconds.min(), _high=middle.seconds.max())
    names = parties.select(_name_party="party", _person="address")
    medians = medians.join(names, medians.party == names._name_party)
    # (low + high) / 2 seconds, in hours: one division of an exact integer.
    hours = (medians._low + medians._high).cast("float64") / (2 * 3600.0)
    return medians.select("_person", _period=medians.period, customer_reply_hours=hours)
