"""Mail metadata as CSV: `message_id,sent_at,sender,to,cc,bcc`, addresses `;`-separated."""

from __future__ import annotations

from collections.abc import Iterator

from repsight.sources.csvfile import (
    FieldError,
    parse_address,
    parse_address_list,
    parse_rows,
    parse_timestamp,
)
from repsight.sources.files import Source
from repsight.sources.records import Message, Recipient, Rejected, message_key

__all__ = ["REQUIRED_COLUMNS", "read_mail_csv"]

REQUIRED_COLUMNS = ("message_id", "sent_at", "sender", "to")


def _message(position: str, fields: dict[str, str]) -> Message:
    sent_at = parse_timestamp(fields["sent_at"], "sent_at")
    if not fields["sender"]:
        raise FieldError("sender", "is empty")
    sender, sender_name = parse_address(fields["sender"], "sender")
    recipients: dict[str, Recipient] = {}
    for kind in ("to", "cc", "bcc"):
        for address, name in parse_address_list(fields.get(kind, ""), kind):
            recipients.setdefault(address.lower(), Recipient(address, kind, name))
    if not recipients:
        raise FieldError("to", "the message has no recipients")
    key = message_key(
        fields["message_id"],
        (fields["sent_at"], fields["sender"], fields["to"], fields.get("cc", ""), fields.get("bcc", "")),
    )
    return Message(position, key, sent_at, sender, tuple(recipients.values()), sender_name)


def read_mail_csv(source: Source) -> Iterator[Message | Rejected]:
    """Yield each message row of a mail CSV, or Rejected with the reason."""
    return parse_rows(source, REQUIRED_COLUMNS, _message)
