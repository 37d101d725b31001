"""Customer engagement: the accounts, contacts and meetings of customer interactions, per person and week or period.

docs/metrics.md, *Customer engagement*, as Ibis expressions. Nothing here
knows which engine runs them.

A person's customer interactions are their counted non-broadcast messages
and counted meetings whose others include a customer address. Each pairs the
person with every such address (a contact) and its account (`customer_pairs`);
the three weekly columns are distinct counts over a person's pairs of the
week, the period's are distinct counts over the pairs of the person's weeks in
the period. Distinct counts of integers and text are the same on every
engine; the period's ratios are left to `weekly.person_period`, which divides
their integer parts as float64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.metrics.events import MailRows, MeetingRows

__all__ = ["ENGAGEMENT_COLUMNS", "PERIOD_ENGAGEMENT_COLUMNS", "customer_engagement", "customer_pairs", "period_engagement"]

ENGAGEMENT_COLUMNS = ("customer_accounts", "customer_contacts", "customer_meetings")
PERIOD_ENGAGEMENT_COLUMNS = ("accounts_touched", "contacts_per_account", "account_cadence")


def _pairs(participants: ir.Table, event: str, parties: ir.Table) -> ir.Table:
    """Return `event`, `party`, `week_start_day`, `contact`, `account`: each roster participant with each other customer participant.

    `participants` (`event`, `party`, `week_start_day`) holds the counted
    participants of the events that may be interactions, each once.
    """
    customers = parties.filter(parties.customer).select(_customer="party", account="account")
    contacts = participants.join(customers, participants.party == customers._customer)
    # A view: both sides of the joins below are read from `participants`.
    contacts = contacts.select(_event=contacts[event], contact=contacts.party, account=contacts.account).view()
    people = parties.filter(parties.person).select(_person="party")
    persons = participants.join(people, participants.party == people._person).select(event, "party", "week_start_day")
    # Inner: only events with a customer participant are paired.
    pairs = persons.join(contacts, persons[event] == contacts._event)
    # "Others": a person is never their own contact.
    pairs = pairs.filter(pairs.party != pairs.contact)
    return pairs.select(event, "party", "week_start_day", "contact", "account")


def customer_pairs(parties: ir.Table, mail: MailRows, meetings: MeetingRows) -> ir.Table:
    """Return `party`, `week_start_day`, `contact`, `account`, `meeting`: each person's customer interactions, one row per contact.

    `parties` is `events.Encoded.parties`; `mail` and `meetings` are the
    counted events (`events.counted_messages`, `events.counted_meetings`).
    `meeting` is null for a message; `account` is null for a domain without one.
    """
    kept = mail.messages.filter(~mail.messages.broadcast)
    senders = kept.select("message", "week_start_day", party=kept.sender)
    recipients = mail.recipients.join(kept.select("message", "week_start_day"), "message")
    # A sender is never among its message's recipients (`counted_messages`): each participant once.
    mail_parts = senders.union(recipients.select("message", "week_start_day", "party"), distinct=False)
    mail_pairs = _pairs(mail_parts, "message", parties)
    meeting_parts = meetings.participants.join(meetings.meetings.select("meeting", "week_start_day"), "meeting")
    meeting_pairs = _pairs(meeting_parts.select("meeting", "week_start_day", "party"), "meeting", parties)
    # One table of pairs; a message's row has no meeting.
    return mail_pairs.select("party", "week_start_day", "contact", "account", meeting=ibis.null("int64")).union(
        meeting_pairs.select("party", "week_start_day", "contact", "account", "meeting"), distinct=False
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


def period_engagement(pairs: ir.Table, grid: ir.Table, parties: ir.Table) -> ir.Table:
    """Return `_person`, `_period` and the integer parts of the period's engagement, for person-periods with a customer interaction.

    `pairs` is `customer_pairs`; `grid` (`party`, `week_start_day`, `period`)
    holds each person's weeks, so that an interaction outside them (before
    the hire week) does not count. The columns: `accounts_touched` (distinct
    accounts), `period_contacts` (distinct contacts) and `account_weeks` (the
    sum over the accounts touched of the weeks the person interacted with
    each). `_person` is the person's pseudonym.
    """
    weeks = grid.select(_party="party", _week="week_start_day", _period="period")
    dated = pairs.join(weeks, (pairs.party == weeks._party) & (pairs.week_start_day == weeks._week))
    dated = dated.select("party", "week_start_day", "contact", "account", period=dated._period)
    contacts = dated.group_by("party", "period").aggregate(period_contacts=dated.contact.nunique())
    with_account = dated.filter(dated.account.notnull())
    per_account = with_account.group_by("party", "period", "account").aggregate(weeks=with_account.week_start_day.nunique())
    accounts = per_account.group_by(_a_party="party", _a_period="period").aggregate(
        accounts_touched=per_account.count(), account_weeks=per_account.weeks.sum()
    )
    joined = contacts.left_join(accounts, (contacts.party == accounts._a_party) & (contacts.period == accounts._a_period))
    names = parties.select(_name_party="party", _person="address")
    joined = joined.join(names, joined.party == names._name_party)
    return joined.select(
        "_person",
        _period=joined.period,
        accounts_touched=joined.accounts_touched.fill_null(0).cast("int64"),
        period_contacts=joined.period_contacts.cast("int64"),
        account_weeks=joined.account_weeks.fill_null(0).cast("int64"),
    )
