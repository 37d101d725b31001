"""Calendar metadata as CSV: `event_id,start,end,organizer,attendees,declined,is_cancelled,is_all_day`.

Optional columns: `is_transparent` (free/busy "free"). A date without a time
is read as midnight UTC (all-day events). One row is one occurrence; the
meeting key is event id + start, as for iCalendar's UID + occurrence start.

As for mail, rows in the plain form are read by column with Arrow and the
rest (all-day dates, display names, anything wrong) by the row-by-row
parser, which is the reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from repsight.sources.csvfile import (
    CsvChunk,
    FieldError,
    any_per_row,
    first_mentions,
    is_bare_address,
    parse_address,
    parse_address_list,
    parse_bool,
    parse_chunks,
    parse_rows,
    parse_timestamp,
    parse_timestamps,
    shown,
    split_list,
)
from repsight.sources.files import Source
from repsight.sources.records import ATTENDEE_COLUMNS, MEETING_COLUMNS, Attendee, Meeting, MeetingBatch, Rejected, meeting_key

__all__ = ["REQUIRED_COLUMNS", "read_calendar_csv", "read_calendar_csv_rows"]

REQUIRED_COLUMNS = ("event_id", "start", "end", "organizer", "attendees")


def _moment(value: str, field: str, all_day: bool) -> datetime:
    if all_day and len(value) == 10:
        try:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        except ValueError:
            raise FieldError(field, f"{shown(value)} is not a date (YYYY-MM-DD)") from None
    return parse_timestamp(value, field)


def _meeting(position: str, fields: dict[str, str]) -> Meeting:
    uid = fields["event_id"]
    if not uid:
        raise FieldError("event_id", "is empty")
    all_day = parse_bool(fields.get("is_all_day", ""), "is_all_day")
    start = _moment(fields["start"], "start", all_day)
    end = _moment(fields["end"], "end", all_day)
    if end < start:
        raise FieldError("end", "the meeting ends before it starts")
    if not fields["organizer"]:
        raise FieldError("organizer", "is empty")
    organizer, organizer_name = parse_address(fields["organizer"], "organizer")
    declined = {a.lower(): a for a, _ in parse_address_list(fields.get("declined", ""), "declined")}
    attendees = {organizer.lower(): Attendee(organizer, "organizer", organizer_name)}
    for address, name in parse_address_list(fields["attendees"], "attendees"):
        response = "declined" if address.lower() in declined else "none"
        attendees.setdefault(address.lower(), Attendee(address, response, name))
    for lowered, address in declined.items():
        attendees.setdefault(lowered, Attendee(address, "declined"))
    return Meeting(
        position=position,
        key=meeting_key(uid, start),
        uid=uid,
        start=start,
        end=end,
        organizer=organizer,
        attendees=tuple(attendees.values()),
        is_cancelled=parse_bool(fields.get("is_cancelled", ""), "is_cancelled"),
        is_all_day=all_day,
        is_transparent=parse_bool(fields.get("is_transparent", ""), "is_transparent"),
    )


def read_calendar_csv_rows(source: Source) -> Iterator[Meeting | Rejected]:
    """Yield each meeting row of a calendar CSV, or Rejected with the reason (row by row)."""
    return parse_rows(source, REQUIRED_COLUMNS, _meeting)


_TRUE = pa.array(["true", "1", "yes", "y", "t"])
_FALSE = pa.array(["false", "0", "no", "n", "f", ""])


def _flags(values: pa.StringArray) -> tuple[pa.BooleanArray, pa.BooleanArray]:
    lowered = pc.utf8_lower(values)
    return pc.is_in(lowered, _TRUE), pc.or_(pc.is_in(lowered, _TRUE), pc.is_in(lowered, _FALSE))


def _batch(chunk: CsvChunk) -> tuple[MeetingBatch, pa.BooleanArray]:
    """Return the chunk's plain rows as a batch, and which rows those are."""
    rows = len(chunk)
    uid, organizer = chunk.column("event_id"), chunk.column("organizer")
    start_text, end_text = chunk.column("start"), chunk.column("end")
    start, start_ok = parse_timestamps(start_text)
    end, end_ok = parse_timestamps(end_text)
    cancelled, cancelled_ok = _flags(chunk.column("is_cancelled"))
    all_day, all_day_ok = _flags(chunk.column("is_all_day"))
    transparent, transparent_ok = _flags(chunk.column("is_transparent"))
    invited_parent, invited = split_list(chunk.column("attendees"))
    declined_parent, declined = split_list(chunk.column("declined"))
    texts = [chunk.column(name) for name in chunk.names]
    undecodable = pc.match_substring(pc.binary_join_element_wise(*texts, ""), "\ufffd")
    checks = [
        pc.not_equal(uid, ""),
        start_ok,
        end_ok,
        pc.fill_null(pc.greater_equal(end, start), False),
        cancelled_ok,
        pc.and_(all_day_ok, pc.invert(all_day)),  # all-day dates take the full parser
        transparent_ok,
        is_bare_address(organizer),
        pc.invert(any_per_row(rows, invited_parent, pc.invert(is_bare_address(invited)))),
        pc.invert(any_per_row(rows, declined_parent, pc.invert(is_bare_address(declined)))),
        pc.invert(undecodable),
    ]
    plain = checks[0]
    for check in checks[1:]:
        plain = pc.and_(plain, check)
    uids, starts = uid.to_pylist(), start.to_pylist()
    keys = pa.array([meeting_key(uids[i], starts[i]) if ok else None for i, ok in enumerate(plain.to_pylist())], pa.string())

    # The organiser first, then the invited, then any decliner not invited:
    # the first mention of a person wins, as row by row.
    def row_address(parent: pa.Array, address: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(pc.cast(parent, pa.string()), pc.utf8_lower(address), "|")

    declined_set = row_address(declined_parent, declined)
    invited_response = pc.if_else(pc.is_in(row_address(invited_parent, invited), declined_set), "declined", "none")
    people = pa.concat_tables(
        [
            pa.table({"row": pa.array(range(rows), pa.int64()), "address": organizer, "response": pa.repeat("organizer", rows)}),
            pa.table({"row": invited_parent, "address": invited, "response": invited_response}),
            pa.table({"row": declined_parent, "address": declined, "response": pa.repeat("declined", len(declined))}),
        ]
    )
    people = people.append_column("order", pa.array(range(people.num_rows), pa.int64()))
    people = people.append_column("lower", pc.utf8_lower(people["address"])).filter(pc.take(plain, people["row"]))
    people = first_mentions(people)
    meetings = pa.table(
        {
            "key": keys,
            "uid": uid,
            "start": start,
            "end": end,
            "organizer": organizer,
            "is_cancelled": cancelled,
            "is_all_day": all_day,
            "is_transparent": transparent,
        },
        schema=MEETING_COLUMNS,
    ).filter(plain)
    event_of_row = pc.subtract(pc.cumulative_sum(pc.cast(plain, pa.int64())), pa.scalar(1, pa.int64()))
    attendees = pa.table(
        {
            "event": pc.take(event_of_row, people["row"]),
            "key": pc.take(keys, people["row"]),
            "address": people["address"],
            "name": pa.repeat("", people.num_rows),
            "response": people["response"],
        },
        schema=ATTENDEE_COLUMNS,
    )
    return MeetingBatch(meetings, attendees), plain


def read_calendar_csv(source: Source) -> Iterator[MeetingBatch | Rejected]:
    """Yield the meetings of a calendar CSV in batches, in file order, and the rows it rejects."""
    return parse_chunks(source, REQUIRED_COLUMNS, _batch, _meeting)
