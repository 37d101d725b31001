"""Mail metadata as CSV: `message_id,sent_at,sender,to,cc,bcc`, addresses `;`-separated.

An optional `in_reply_to` column holds the Message-ID of the message a row
replies to (its parent, keyed as every Message-ID is); empty or absent, none.

Rows in the contract's plain form (bare addresses, ISO 8601 times with an
offset) are read by column with Arrow; any other row goes through the
row-by-row parser, which is the reference: it accepts display names and
gives the exact reason for a rejected row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from repsight.sources.csvfile import (
    CsvChunk,
    FieldError,
    any_per_row,
    count_per_row,
    first_mentions,
    is_bare_address,
    parse_address,
    parse_address_list,
    parse_chunks,
    parse_rows,
    parse_timestamp,
    parse_timestamps,
    split_list,
)
from repsight.sources.files import Source
from repsight.sources.records import (
    MESSAGE_COLUMNS,
    RECIPIENT_COLUMNS,
    Message,
    MessageBatch,
    Recipient,
    Rejected,
    message_key,
    parent_key,
)

__all__ = ["REQUIRED_COLUMNS", "read_mail_csv", "read_mail_csv_rows"]

REQUIRED_COLUMNS = ("message_id", "sent_at", "sender", "to")
KINDS = ("to", "cc", "bcc")


def _message(position: str, fields: dict[str, str]) -> Message:
    sent_at = parse_timestamp(fields["sent_at"], "sent_at")
    if not fields["sender"]:
        raise FieldError("sender", "is empty")
    sender, sender_name = parse_address(fields["sender"], "sender")
    recipients: dict[str, Recipient] = {}
    for kind in KINDS:
        for address, name in parse_address_list(fields.get(kind, ""), kind):
            recipients.setdefault(address.lower(), Recipient(address, kind, name))
    if not recipients:
        raise FieldError("to", "the message has no recipients")
    key = message_key(
        fields["message_id"],
        (fields["sent_at"], fields["sender"], fields["to"], fields.get("cc", ""), fields.get("bcc", "")),
    )
    replied_to = parent_key(fields.get("in_reply_to", ""))
    return Message(position, key, sent_at, sender, tuple(recipients.values()), sender_name, replied_to)


def read_mail_csv_rows(source: Source) -> Iterator[Message | Rejected]:
    """Yield each message row of a mail CSV, or Rejected with the reason (row by row)."""
    return parse_rows(source, REQUIRED_COLUMNS, _message)


def _batch(chunk: CsvChunk) -> tuple[MessageBatch, pa.BooleanArray]:
    """Return the chunk's plain rows as a batch, and which rows those are."""
    rows = len(chunk)
    sent_text, sender = chunk.column("sent_at"), chunk.column("sender")
    sent_at, sent_ok = parse_timestamps(sent_text)
    lists = [chunk.column(kind) for kind in KINDS]
    parents, addresses, kinds, order = [], [], [], []
    for kind_index, values in enumerate(lists):
        kind_parents, kind_addresses = split_list(values)
        parents.append(kind_parents)
        addresses.append(kind_addresses)
        kinds.append(pa.repeat(KINDS[kind_index], len(kind_addresses)))
        order.append(
            pc.add(pc.multiply(pa.repeat(kind_index, len(kind_addresses)), 1 << 32), pa.array(range(len(kind_addresses))))
        )
    parent = pa.chunked_array(parents).combine_chunks()
    address = pa.chunked_array(addresses).combine_chunks()
    texts = [chunk.column(name) for name in chunk.names]
    undecodable = pc.match_substring(pc.binary_join_element_wise(*texts, ""), "\ufffd")
    plain = pc.and_(
        pc.and_(sent_ok, is_bare_address(sender)),
        pc.and_(
            pc.invert(any_per_row(rows, parent, pc.invert(is_bare_address(address)))), pc.greater(count_per_row(rows, parent), 0)
        ),
    )
    plain = pc.and_(plain, pc.invert(undecodable))
    ids = chunk.column("message_id").to_pylist()
    fallback = [c.to_pylist() for c in (sent_text, sender, *lists)]
    keys = pa.array(
        [message_key(ids[i], tuple(column[i] for column in fallback)) if ok else None for i, ok in enumerate(plain.to_pylist())],
        pa.string(),
    )
    if "in_reply_to" in chunk.names:
        replied_to = pa.array([parent_key(v) if v else None for v in chunk.column("in_reply_to").to_pylist()], pa.string())
    else:
        replied_to = pa.nulls(rows, pa.string())
    recipients = pa.table(
        {
            "row": parent,
            "address": address,
            "lower": pc.utf8_lower(address),
            "kind": pa.chunked_array(kinds).combine_chunks(),
            "order": pa.chunked_array(order).combine_chunks(),
        }
    ).filter(pc.take(plain, parent))
    # An address in both To and Cc is one recipient: the first mention wins, as row by row.
    recipients = first_mentions(recipients)
    messages = pa.table(
        {
            "key": keys,
            "sent_at": sent_at,
            "sender": sender,
            "sender_name": pa.repeat("", rows),
            "parent_key": replied_to,
        },
        schema=MESSAGE_COLUMNS,
    ).filter(plain)
    event_of_row = pc.subtract(pc.cumulative_sum(pc.cast(plain, pa.int64())), pa.scalar(1, pa.int64()))
    recipient_table = pa.table(
        {
            "event": pc.take(event_of_row, recipients["row"]),
            "key": pc.take(keys, recipients["row"]),
            "address": recipients["address"],
            "name": pa.repeat("", recipients.num_rows),
            "kind": recipients["kind"],
        },
        schema=RECIPIENT_COLUMNS,
    )
    return MessageBatch(messages, recipient_table), plain


def read_mail_csv(source: Source) -> Iterator[MessageBatch | Rejected]:
    """Yield the messages of a mail CSV in batches, in file order, and the rows it rejects."""
    return parse_chunks(source, REQUIRED_COLUMNS, _batch, _message)
