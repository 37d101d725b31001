"""The normalised records every reader yields, before pseudonymisation."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Generic, Self, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "RESPONSES",
    "Account",
    "Attendee",
    "EventBatch",
    "Kpi",
    "Meeting",
    "MeetingBatch",
    "Message",
    "MessageBatch",
    "Person",
    "Recipient",
    "Rejected",
    "VivaIdentity",
    "VivaWeek",
    "meeting_key",
    "message_key",
    "parent_key",
    "series_key",
    "series_uid",
]

# Attendee responses, as iCalendar PARTSTAT and Graph `status.response` map onto them.
RESPONSES = ("organizer", "accepted", "tentative", "declined", "needs-action", "none")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# Keys are hashes of the identifiers a source gives: identifiers such as
# Message-IDs and iCalendar UIDs look like addresses and sometimes hold one,
# and the event tables keep pseudonyms and domains only.


def message_key(message_id: str, fallback: tuple[str, ...]) -> str:
    """Return the key of a message: a hash of its Message-ID, or of its headers when it has none."""
    cleaned = message_id.strip().strip("<>").strip()
    if cleaned:
        return _digest("message-id\x1f" + cleaned)
    return _digest("headers\x1f" + "\x1f".join(fallback))


# A msg-id as In-Reply-To and References write it (RFC 5322 3.6.4).
_MSG_ID = re.compile(r"<([^<>]*)>")


def parent_key(in_reply_to: str, references: str = "") -> str | None:
    """Return the key of the message a message replies to, or None when its headers name none.

    The parent is In-Reply-To's Message-ID (its first `<id>`, or the whole
    value where it has no angle brackets); where In-Reply-To is missing or
    empty, the last id of References. It is keyed as every Message-ID is
    (`message_key`). A message that names itself is kept as it is.
    """
    found = _MSG_ID.search(in_reply_to)
    parent = found.group(1) if found else in_reply_to
    if not parent.strip():
        ids = _MSG_ID.findall(references)
        parent = ids[-1] if ids else (references.split() or [""])[-1]
    return message_key(parent, ()) if parent.strip() else None


# Outlook's UIDs are GlobalObjectIds: a class id, then 4 bytes for the date of
# one occurrence (zero in the series' own id), then the series' identity.
# Microsoft Graph gives each occurrence the id with its date filled in; the
# series' id names it in every calendar and format.
_OUTLOOK_CLASS = "040000008200E00074C5B7101A82E008"


def series_uid(uid: str) -> str:
    """Return the UID that every occurrence of a meeting shares (Outlook's occurrence date zeroed)."""
    uid = uid.strip()
    if len(uid) >= 40 and uid[:32].upper() == _OUTLOOK_CLASS:
        return uid[:32] + "00000000" + uid[40:]
    return uid


def series_key(uid: str) -> str:
    """Return the key shared by every occurrence of a (possibly recurring) meeting."""
    return _digest("uid\x1f" + series_uid(uid))


def meeting_key(uid: str, start: datetime) -> str:
    """Return the key of one occurrence of a meeting: its series' UID and its start in UTC."""
    return _digest(f"occurrence\x1f{series_uid(uid)}\x1f{start.astimezone(UTC):%Y%m%dT%H%M%SZ}")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that cannot be loaded: where it is, which field, and why."""

    position: str
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Person:
    position: str
    email: str
    name: str
    manager_email: str | None
    org: str
    level: int
    function: str
    region: str | None = None
    segment: str | None = None
    channel: str | None = None
    hire_date: date | None = None
    leave_date: date | None = None
    timezone: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    effective_date: date | None = None
    """From when this row of the person is in force (`effective_date` column, or the date in a dated roster file's name); None: always."""


@dataclass(frozen=True, slots=True)
class Account:
    position: str
    account_id: str
    name: str
    domains: tuple[str, ...]
    type: str
    owner_email: str | None = None
    """The CRM's account owner (optional `owner_email` column), as written; None when the row names none."""


@dataclass(frozen=True, slots=True)
class Kpi:
    position: str
    email: str
    period: str
    period_start: date
    period_end: date
    quota: float | None
    bookings: float | None
    attainment: float
    by_viva_id: bool = False
    """Whether `email` holds a Viva Insights `PersonId` (a `PersonId` column instead of `email`), not an address."""


@dataclass(frozen=True, slots=True)
class VivaWeek:
    """One row of a Viva Insights person query: a person's week of metrics and their HR attributes then."""

    position: str
    person_id: str
    """`PersonId` as written (already pseudonymous in Viva; repsight pseudonymises it again)."""
    week: date
    """`MetricDate`: the day the Viva week starts on."""
    values: dict[str, float]
    """Every numeric column, by its canonical Viva name (`collaboration_hours`)."""
    hr: dict[str, str]
    """Every HR column with a value, by its header as written (`Organization`, `LevelDesignation`)."""
    manager_id: str | None = None
    """`ManagerId` (or repsight's own export's `manager`), where the row has one."""


@dataclass(frozen=True, slots=True)
class VivaIdentity:
    """One row of an identity mapping: who a Viva `PersonId` is."""

    position: str
    person_id: str
    email: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    kind: str  # "to", "cc" or "bcc"
    name: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    position: str
    key: str
    sent_at: datetime  # aware
    sender: str
    recipients: tuple[Recipient, ...]
    sender_name: str = ""
    parent_key: str | None = None  # the key of the message this one replies to, as `parent_key()` gives it


@dataclass(frozen=True, slots=True)
class Attendee:
    address: str
    response: str  # one of RESPONSES
    name: str = ""


@dataclass(frozen=True, slots=True)
class Meeting:
    position: str
    key: str
    uid: str
    start: datetime  # aware
    end: datetime  # aware
    organizer: str
    attendees: tuple[Attendee, ...]
    is_cancelled: bool = False
    is_all_day: bool = False
    is_transparent: bool = False


# Batches: many events by column, as vectorised readers give them and the
# loader stores them. Addresses are raw here; the loader pseudonymises them.
# Every participant row names its event by position (`event`) in the batch,
# so that two copies of one event (two mailboxes) stay apart until the loader
# keeps the first.
MESSAGE_COLUMNS = pa.schema(
    [
        ("key", pa.string()),
        ("sent_at", pa.timestamp("us", "UTC")),
        ("sender", pa.string()),
        ("sender_name", pa.string()),
        ("parent_key", pa.string()),
    ]
)
RECIPIENT_COLUMNS = pa.schema(
    [("event", pa.int64()), ("key", pa.string()), ("address", pa.string()), ("name", pa.string()), ("kind", pa.string())]
)
MEETING_COLUMNS = pa.schema(
    [
        ("key", pa.string()),
        ("uid", pa.string()),
        ("start", pa.timestamp("us", "UTC")),
        ("end", pa.timestamp("us", "UTC")),
        ("organizer", pa.string()),
        ("is_cancelled", pa.bool_()),
        ("is_all_day", pa.bool_()),
        ("is_transparent", pa.bool_()),
    ]
)
ATTENDEE_COLUMNS = pa.schema(
    [("event", pa.int64()), ("key", pa.string()), ("address", pa.string()), ("name", pa.string()), ("response", pa.string())]
)


R = TypeVar("R", "Message", "Meeting")


@dataclass(frozen=True)
class EventBatch(Generic[R]):
    """Events by column and their participants, each participant row naming its event's position."""

    events: pa.Table
    participants: pa.Table

    def __len__(self) -> int:
        return int(self.events.num_rows)

    @classmethod
    def of(cls, records: list[R]) -> Self:
        """Return the batch holding `records`."""
        raise NotImplementedError

    def merged(self, rows: list[int], other: Self, other_rows: list[int]) -> Self:
        """Return this batch and `other` as one, events in the order of their source `rows`."""
        order = pc.sort_indices(pa.array(rows + other_rows, pa.int64()))
        # Where each event moves to, so participant rows can follow it.
        moved = pc.sort_indices(order)
        shifted = other.participants.set_column(0, "event", pc.add(other.participants["event"], pa.scalar(len(self), pa.int64())))
        participants = pa.concat_tables([self.participants, shifted])
        participants = participants.set_column(0, "event", pc.take(moved, participants["event"]))
        return type(self)(pa.concat_tables([self.events, other.events]).take(order), participants)


class MessageBatch(EventBatch["Message"]):
    """Messages (`MESSAGE_COLUMNS`) and their recipients (`RECIPIENT_COLUMNS`)."""

    @classmethod
    def of(cls, records: list[Message]) -> Self:
        """Return the batch holding `records`."""
        messages = pa.Table.from_pydict(
            {
                "key": [m.key for m in records],
                "sent_at": [m.sent_at.astimezone(UTC) for m in records],
                "sender": [m.sender for m in records],
                "sender_name": [m.sender_name for m in records],
                "parent_key": [m.parent_key for m in records],
            },
            schema=MESSAGE_COLUMNS,
        )
        recipients = pa.Table.from_pylist(
            [
                {"event": i, "key": m.key, "address": r.address, "name": r.name, "kind": r.kind}
                for i, m in enumerate(records)
                for r in m.recipients
            ],
            schema=RECIPIENT_COLUMNS,
        )
        return cls(messages, recipients)

    def records(self) -> list[Message]:
        """Return the batch's messages as records (positions are not kept in a batch)."""
        recipients: list[list[Recipient]] = [[] for _ in range(len(self))]
        for row in self.participants.to_pylist():
            recipients[row["event"]].append(Recipient(row["address"], row["kind"], row["name"]))
        return [
            Message("", row["key"], row["sent_at"], row["sender"], tuple(recipients[i]), row["sender_name"], row["parent_key"])
            for i, row in enumerate(self.events.to_pylist())
        ]


class MeetingBatch(EventBatch["Meeting"]):
    """Meeting occurrences (`MEETING_COLUMNS`) and their attendees (`ATTENDEE_COLUMNS`)."""

    @classmethod
    def of(cls, records: list[Meeting]) -> Self:
        """Return the batch holding `records`."""
        meetings = pa.Table.from_pydict(
            {
                "key": [m.key for m in records],
                "uid": [m.uid for m in records],
                "start": [m.start.astimezone(UTC) for m in records],
                "end": [m.end.astimezone(UTC) for m in records],
                "organizer": [m.organizer for m in records],
                "is_cancelled": [m.is_cancelled for m in records],
                "is_all_day": [m.is_all_day for m in records],
                "is_transparent": [m.is_transparent for m in records],
            },
            schema=MEETING_COLUMNS,
        )
        attendees = pa.Table.from_pylist(
            [
                {"event": i, "key": m.key, "address": a.address, "name": a.name, "response": a.response}
                for i, m in enumerate(records)
                for a in m.attendees
            ],
            schema=ATTENDEE_COLUMNS,
        )
        return cls(meetings, attendees)

    def records(self) -> list[Meeting]:
        """Return the batch's meetings as records (positions are not kept in a batch)."""
        attendees: list[list[Attendee]] = [[] for _ in range(len(self))]
        for row in self.participants.to_pylist():
            attendees[row["event"]].append(Attendee(row["address"], row["response"], row["name"]))
        return [
            Meeting(
                "",
                row["key"],
                row["uid"],
                row["start"],
                row["end"],
                row["organizer"],
                tuple(attendees[i]),
                row["is_cancelled"],
                row["is_all_day"],
                row["is_transparent"],
            )
            for i, row in enumerate(self.events.to_pylist())
        ]
