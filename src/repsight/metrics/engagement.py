"""Customer engagement per person and week: the accounts, contacts and meetings of customer interactions.

docs/metrics.md, *Customer engagement*, as Ibis expressions. Nothing here
knows which engine runs them.

A person's customer interactions are their counted non-broadcast messages
and counted meetings whose others include a customer address. Each pairs the
person with every such address (a contact) and its account; the three
columns are distinct counts over a person's pairs of the week. Distinct
counts of integers and text are the same on every engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from repsight.metrics.events import MailRows, MeetingRows

__all__ = ["ENGAGEMENT_COLUMNS", "customer_engagement"]

ENGAGEMENT_COLUMNS = ("customer_accounts", "customer_contacts", "customer_meetings")


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


def customer_engagement(parties: ir.Table, mail: MailRows, meetings: MeetingRows) -> ir.Table:
    """Return `party`, `week_start_day` and the three engagement counts, for person-weeks with a customer interaction.

    `parties` is `events.Encoded.parties`; `mail` and `meetings` are the
    counted events (`events.counted_messages`, `events.counted_meetings`).
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
    pairs = mail_pairs.select("party", "week_start_day", "contact", "account", meeting=ibis.null("int64")).union(
        meeting_pairs.select("party", "week_start_day", "contact", "account", "meeting"), distinct=False
    )
    return pairs.group_by("party", "week_start_day").aggregate(
        customer_accounts=pairs.account.nunique(),
        customer_contacts=pairs.contact.nunique(),
        customer_meetings=pairs.meeting.nunique(),
    )
