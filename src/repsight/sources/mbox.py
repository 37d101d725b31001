"""Mail as mbox files and as `.eml` messages (one file, or a folder tree such as a maildir).

Only each message's header block is read (Message-ID, In-Reply-To,
References, Date, From, Sender, To, Cc, Bcc, Resent-*); bodies are skipped
line by line, never decoded.

- **Separators.** A message starts at a line that begins with "From " and
  looks like a postmark (`From <sender> <weekday> ...`), so an unquoted
  "From here on..." in a body (mboxo) does not split a message; mboxrd
  quotes such lines anyway (">From ").
- **Sender.** The From address; where From names several mailboxes, the
  Sender. **Recipients**: To, Cc, Bcc (every copy of a repeated field), an
  address once, its first mention winning. Group syntax counts its members;
  an empty group (`undisclosed-recipients:;`) counts none. A recipient that
  is no address (no @) or cannot be a real one (`csvfile.address_problem`:
  a control character, no domain, longer than RFC 5321 allows) is left out;
  a From or Sender address that cannot be real quarantines the message,
  naming the field.
- **Date.** A missing or unreadable Date falls back to the mbox postmark's
  (the delivery time); without one the message is quarantined.
- **Key.** The Message-ID; without one, a hash of the fields every copy of
  the message shares (Date, From, Sender, To, Cc), so the sender's and a
  recipient's copy still meet.
- **Parent.** The message it replies to: In-Reply-To's Message-ID, else
  the last id of References (`records.parent_key`). A resending replies to
  nothing.
- **Resent-\\*.** Each resending is a message of its own (the resender to
  the new recipients, keyed by Resent-Message-ID), besides the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import IO

import pyarrow as pa

from repsight.errors import InputError
from repsight.sources.csvfile import address_problem, shown
from repsight.sources.files import Source
from repsight.sources.mailheaders import ADDRESS_FIELDS, HeaderError, parse_addresses, parse_date, parse_headers
from repsight.sources.records import MESSAGE_COLUMNS, RECIPIENT_COLUMNS, MessageBatch, Rejected, message_key, parent_key

__all__ = ["BATCH", "mbox_messages", "read_eml", "read_mbox"]

BATCH = 10_000
"""Messages per batch a reader yields."""

# A postmark: "From", the envelope sender, then a ctime date (weekday, month,
# day, time, and a year after it). Starting at the newline before it lets the
# engine scan for the literal "\nFrom "; the newline after it is left for
# the next match.
_POSTMARK = (
    rb"From [^\s:]\S* +((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    rb" +\d{1,2} +\d{1,2}:\d\d[^\n]*?\d{4}[^\n]*)"
)
_SEPARATOR = re.compile(rb"\n(" + _POSTMARK + rb")")
_POSTMARK_LINE = re.compile(_POSTMARK)
_FIRST_LINE = re.compile(rb"\s*(From [^\s:][^\n]*\n?)")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_CHUNK = 1 << 22
_HEADER_LIMIT = 1 << 20  # a "header" longer than this is a body with no blank line before it


class _Pending:
    """The message being read: where it starts, its postmark, and its header block so far."""

    def __init__(self, start: int, postmark: bytes, text: bytes) -> None:
        self.start, self.postmark = start, postmark
        self.header, self.complete = b"", False
        self.extend(text)

    def extend(self, text: bytes) -> None:
        """Take more of the message; only its header block is kept."""
        if self.complete:
            return
        combined = self.header + text
        # A leading newline lets the search find a blank first line (no header at all).
        found = _BLANK_LINE.search(b"\n" + combined)
        if found is not None:
            self.header, self.complete = combined[: found.start()], True
        elif len(combined) > _HEADER_LIMIT:
            # No blank line: the header block ends at the last line end within the limit.
            self.header, self.complete = combined[: combined.rfind(b"\n", 0, _HEADER_LIMIT) + 1], True
        else:
            self.header = combined


def mbox_messages(binary: IO[bytes]) -> Iterator[tuple[int, bytes, bytes]]:
    """Yield (byte offset, postmark line, header block) for each message of an mbox file.

    The file is scanned in large chunks that end at a line end (a separator
    never straddles two); of each message only the header block is kept.
    The first line may be any "From " line; later ones must be postmarks.
    """
    pending: _Pending | None = None
    offset = 0
    while chunk := binary.read(_CHUNK):
        if not chunk.endswith(b"\n"):
            chunk += binary.readline()
        # The newline before a chunk's first line ended the previous chunk.
        separators = [_line_span(chunk, m.start(1) - 1, m.end(1) - 1) for m in _SEPARATOR.finditer(b"\n" + chunk)]
        if pending is None:
            if not chunk.strip():  # blank lines before the first message
                offset += len(chunk)
                continue
            first = _FIRST_LINE.match(chunk)
            if first is None:
                raise InputError("not an mbox file: it does not begin with a 'From ' line")
            if not separators or separators[0][0] != first.start(1):
                separators.insert(0, first.span(1))
        before = separators[0][0] if separators else len(chunk)
        if pending is not None:
            pending.extend(chunk[:before])
        for i, (start, end) in enumerate(separators):
            if pending is not None:
                yield pending.start, pending.postmark, pending.header
            following = separators[i + 1][0] if i + 1 < len(separators) else len(chunk)
            pending = _Pending(offset + start, chunk[start:end], chunk[end:following])
        offset += len(chunk)
    if pending is not None:
        yield pending.start, pending.postmark, pending.header


def _line_span(chunk: bytes, start: int, end: int) -> tuple[int, int]:
    """Return the span of a postmark line, its line end included."""
    return start, end + 1 if chunk[end : end + 1] == b"\n" else end


class _Batch:
    """Messages gathered by column, for one `MessageBatch`."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.sent_at: list[datetime] = []
        self.senders: list[str] = []
        self.sender_names: list[str] = []
        self.parent_keys: list[str | None] = []
        # Recipients by column: their message's position in the batch and key, address, name, kind.
        self.recipients: tuple[list[int], list[str], list[str], list[str], list[str]] = ([], [], [], [], [])

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, block: bytes, postmark: bytes) -> list[HeaderError]:
        """Add the message and each resending of it (each a record) whose header block is `block`; return the problems of those that cannot be added."""
        headers = parse_headers(block)
        problems = []
        for fields, original, prefix in [
            (headers.fields, (), ""),
            *((r, _shared(headers.fields), "Resent-") for r in headers.resent),
        ]:
            try:
                self._add(fields, original, postmark if not prefix else b"", prefix)
            except HeaderError as problem:
                problems.append(problem)
        return problems

    def _add(self, fields: dict[str, list[str]], original: tuple[str, ...], postmark: bytes, prefix: str) -> None:
        date_values = fields.get("date")
        sent_at = parse_date(date_values[0]) if date_values else None
        if sent_at is None and postmark:
            sent_at = _postmark_date(postmark)
        if sent_at is None:
            if date_values:
                raise HeaderError(f"{prefix}Date", f"{shown(date_values[0])} is not a date")
            raise HeaderError(f"{prefix}Date", "missing")
        authors = _addresses(fields, "from", prefix)
        if len(authors) != 1:
            authors = _addresses(fields, "sender", prefix) or authors
        if not authors:
            field = f"{prefix}From"
            raise HeaderError(field, "has no mail address" if "from" in fields else "missing")
        sender_name, sender = authors[0]
        seen: dict[str, tuple[str, str, str]] = {}
        for kind in ADDRESS_FIELDS:
            for name, address in _addresses(fields, kind, prefix):
                seen.setdefault(address.lower(), (address, name, kind))
        if not seen:
            raise HeaderError(f"{prefix}To", "the message has no recipients")
        message_id = fields.get("message-id", [""])[0]
        key = message_key(message_id, (*original, *_shared(fields)) if not message_id.strip() else ())
        event = len(self.keys)
        self.keys.append(key)
        self.sent_at.append(sent_at)
        self.senders.append(sender)
        self.sender_names.append(sender_name)
        # A resending (`prefix`) answers nothing: there is no Resent-In-Reply-To.
        replying = not prefix and ("in-reply-to" in fields or "references" in fields)
        self.parent_keys.append(
            parent_key(fields.get("in-reply-to", [""])[0], fields.get("references", [""])[0]) if replying else None
        )
        events, keys, addresses, names, kinds = self.recipients
        for address, name, kind in seen.values():
            events.append(event)
            keys.append(key)
            addresses.append(address)
            names.append(name)
            kinds.append(kind)

    def batch(self) -> MessageBatch:
        messages = pa.table([self.keys, self.sent_at, self.senders, self.sender_names, self.parent_keys], schema=MESSAGE_COLUMNS)
        return MessageBatch(messages, pa.table(list(self.recipients), schema=RECIPIENT_COLUMNS))


def _addresses(fields: dict[str, list[str]], name: str, prefix: str) -> list[tuple[str, str]]:
    """Return the (display name, address) pairs of a field, each an address that can be real.

    A recipient's address that cannot be real is left out, as an entry that
    is no address is; a sender's refuses the message (HeaderError).
    """
    try:
        found = parse_addresses(fields.get(name, []))
    except HeaderError as problem:
        raise HeaderError(prefix + name.capitalize(), problem.reason) from None
    if name in ADDRESS_FIELDS:
        return [(display, address) for display, address in found if address_problem(address) is None]
    for _, address in found:
        reason = address_problem(address)
        if reason is not None:
            raise HeaderError(prefix + name.capitalize(), reason)
    return found


def _shared(fields: dict[str, list[str]]) -> tuple[str, ...]:
    """Return the fields every copy of a message has alike (a Bcc is in the sender's copy only).

    White space is collapsed: copies may be folded differently.
    """
    return tuple(
        "\x1e".join(" ".join(v.split()) for v in fields.get(name, ())) for name in ("date", "from", "sender", "to", "cc")
    )


def _read(messages: Iterator[tuple[str, bytes, bytes]]) -> Iterator[MessageBatch | Rejected]:
    batch = _Batch()
    for position, block, postmark in messages:
        try:
            problems = batch.add(block, postmark)
        except Exception as exc:  # a parser bug on one message must not stop the file
            problems = [HeaderError("(headers)", f"cannot be read ({type(exc).__name__})")]
        for problem in problems:
            yield Rejected(position, problem.field, problem.reason)
        if len(batch) >= BATCH:
            yield batch.batch()
            batch = _Batch()
    if len(batch):
        yield batch.batch()


def _postmark_date(postmark: bytes) -> datetime | None:
    found = _POSTMARK_LINE.match(postmark)
    return parse_date(found.group(1).decode("latin-1")) if found else None


def read_mbox(source: Source) -> Iterator[MessageBatch | Rejected]:
    """Yield the messages of an mbox file in batches, and Rejected for each message that has no sender, date or recipient."""

    def messages() -> Iterator[tuple[str, bytes, bytes]]:
        try:
            for offset, postmark, block in mbox_messages(source.binary):
                yield f"byte {offset}", block, postmark
        except InputError as exc:
            raise InputError(f"{source.path}: {exc}") from None

    return _read(messages())


def _header_block(data: bytes) -> tuple[bytes, bytes]:
    """Return a raw message's header block, and its postmark line if it starts with one."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    postmark = b""
    if _POSTMARK_LINE.match(data):
        postmark, _, data = data.partition(b"\n")
    # A leading newline lets the search find a blank first line (no header at all).
    found = _BLANK_LINE.search(b"\n" + data)
    return (data[: found.start()] if found else data[:_HEADER_LIMIT]), postmark


def read_eml(source: Source) -> Iterator[MessageBatch | Rejected]:
    """Yield the messages of an `.eml` file or a folder tree of message files, in batches, and Rejected ones."""

    def messages() -> Iterator[tuple[str, bytes, bytes]]:
        for name, data in source.members():
            block, postmark = _header_block(data)
            yield name, block, postmark

    return _read(messages())
