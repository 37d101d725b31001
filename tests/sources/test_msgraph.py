"""The Microsoft Graph readers: every container shape, Data Connect's enums, zones, recurrence, exact records."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config
from repsight.errors import InputError
from repsight.ingest import run_ingest
from repsight.sources import Window, open_source, reader_for
from repsight.sources.calendar_csv import read_calendar_csv_rows
from repsight.sources.jsonstream import Resource, read_resources
from repsight.sources.mail_csv import read_mail_csv_rows
from repsight.sources.msgraph import graph_time_zone, read_graph_events, read_graph_messages
from repsight.sources.records import Attendee, Meeting, Message, Recipient, Rejected, meeting_key, message_key
from tests.support import DATA as TEST_DATA
from tests.support import SHARED

DATA = TEST_DATA / "graph"
# The real Graph Data Connect samples, shared by every checkout of the project.
SAMPLES = SHARED / "data" / "graph-samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared Graph samples are not present")

Item = Message | Meeting | Rejected


def read(kind: str, path: Path, window: Window | None = None) -> list[Item]:
    with open_source(path, window) as source:
        return list(reader_for(kind, path)(source))


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_lines(path: Path, resources: list[dict[str, Any]]) -> Path:
    return write_text(path, "".join(json.dumps(r) + "\n" for r in resources))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def mailbox(address: str, name: str = "") -> dict[str, Any]:
    return {"emailAddress": {"name": name, "address": address}}


def unplaced(items: list[Item]) -> list[Item]:
    """The records without their positions, which differ from one container shape to another."""
    return [replace(i, position="") for i in items]


# Messages


def test_messages_give_exact_records_and_reasons() -> None:
    fallback = ("2024-07-01T15:00:00Z", "ana@acme.example", "bob@acme.example;cy@acme.example", "kim.lee@customer.example", "")
    assert read("mail", DATA / "messages.jsonl") == [
        # a name that repeats the address is no name; BOB in Cc repeats bob in To: the first mention wins
        Message(
            "line 1",
            message_key("m1@acme.example", ()),
            at(2024, 7, 1, 9),
            "ana@acme.example",
            (
                Recipient("bob@acme.example", "to"),
                Recipient("kim.lee@customer.example", "to", "Lee, Kim"),
                Recipient("cy@acme.example", "cc", "Cy"),
                Recipient("dana@customer.example", "bcc"),
            ),
            "Ana Brandt",
        ),
        # seven fractional digits and an offset
        Message(
            "line 2",
            message_key("m2@acme.example", ()),
            at(2024, 7, 1, 10, 0, 0, 123456),
            "bob@acme.example",
            (Recipient("ana@acme.example", "to", "Ana Brandt"),),
            "Bob Berg",
        ),
        # no `from`: the `sender`; an `@odata.etag` before the fields
        Message(
            "line 3",
            message_key("m3@acme.example", ()),
            at(2024, 7, 1, 11),
            "cy@acme.example",
            (Recipient("ana@acme.example", "to", "Ana Brandt"),),
            "Cy",
        ),
        Rejected("line 4", "isDraft", "a draft, never sent"),
        Rejected("line 5", "from", "the message has no sender"),
        Rejected("line 6", "toRecipients", "the message has no recipients"),
        Rejected("line 7", "sentDateTime", "'yesterday' is not an ISO 8601 timestamp"),
        # no internetMessageId: keyed by its headers
        Message(
            "line 8",
            message_key("", fallback),
            at(2024, 7, 1, 15),
            "ana@acme.example",
            (
                Recipient("bob@acme.example", "to"),
                Recipient("cy@acme.example", "to"),
                Recipient("kim.lee@customer.example", "cc"),
            ),
        ),
        # a line cut short: found on the next line, which is read as usual
        Rejected("line 9", "(json)", "not valid JSON: Expecting ',' delimiter (line 10, column 1)"),
        Rejected("line 10", "ccRecipients", "is not a mail address"),
        Rejected("line 11", "sentDateTime", "(a value that looks like a mail address) is not an ISO 8601 timestamp"),
        Message(
            "line 13",
            message_key("m13@acme.example", ()),
            at(2024, 7, 2, 9),
            "kim.lee@customer.example",
            (Recipient("ana@acme.example", "to", "Ana Brandt"),),
            "Kim Lee",
        ),
    ]


def test_a_message_without_an_id_keys_as_the_same_message_in_csv(tmp_path: Path) -> None:
    csv = tmp_path / "mail.csv"
    csv.write_text(
        "message_id,sent_at,sender,to,cc,bcc\n"
        ",2024-07-01T15:00:00Z,ana@acme.example,bob@acme.example;cy@acme.example,kim.lee@customer.example,\n"
    )
    with open_source(csv) as source:
        (from_csv,) = read_mail_csv_rows(source)
    from_graph = read("mail", DATA / "messages.jsonl")[7]
    assert isinstance(from_csv, Message) and isinstance(from_graph, Message)
    assert from_graph.key == from_csv.key


def page(resources: list[dict[str, Any]], *, last: bool = False) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('ana')/messages",
        "value": resources,
    }
    if not last:
        envelope["@odata.nextLink"] = "https://graph.microsoft.com/v1.0/users/ana/messages?$skiptoken=X"
    return envelope


def container_shapes() -> dict[str, str]:
    """The well-formed resources of messages.jsonl in every container Graph exports come in."""
    resources = []
    for line in (DATA / "messages.jsonl").read_text().splitlines():
        try:
            resources.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    first, second = page(resources[:4]), page(resources[4:], last=True)
    etagged = [{"@odata.etag": 'W/"CQAAAB"', **r} for r in resources]
    return {
        "json lines": "".join(json.dumps(r) + "\n" for r in resources),
        "array": json.dumps(resources, indent=2),
        "array on one line": json.dumps(resources),
        "one page": json.dumps(page(resources, last=True), indent=2),
        "pages concatenated": json.dumps(first, indent=2) + json.dumps(second, indent=2),
        "a page per line": json.dumps(first) + "\n" + json.dumps(second) + "\n",
        "array of pages": json.dumps([first, second], indent=1),
        "value first": json.dumps({"value": resources, "@odata.nextLink": "https://x.example/next"}),
        "annotated resources in a page": json.dumps(page(etagged, last=True), indent=2),
        "annotated resources, one per line": "".join(json.dumps(r) + "\n" for r in etagged),
    }


def test_every_container_shape_gives_the_same_records(tmp_path: Path) -> None:
    expected = unplaced(
        [i for i in read("mail", DATA / "messages.jsonl") if not (isinstance(i, Rejected) and i.field == "(json)")]
    )
    assert len(expected) == 11
    for name, text in container_shapes().items():
        path = write_text(tmp_path / f"{name}.json", text)
        assert unplaced(read("mail", path)) == expected, name


def test_resources_that_straddle_blocks_read_as_in_one_block() -> None:
    for name, text in {**container_shapes(), "messages.jsonl": (DATA / "messages.jsonl").read_text()}.items():
        whole = list(read_resources(io.StringIO(text), Path(name)))
        # Blocks of 7 characters cut keys, strings, numbers and literals everywhere.
        assert list(read_resources(io.StringIO(text), Path(name), block_chars=7)) == whole, name


def test_positions_are_the_lines_where_resources_start(tmp_path: Path) -> None:
    text = json.dumps(page([{"sentDateTime": "2024-07-01T09:00:00Z"}, {"isDraft": True}]), indent=2)
    items = read("mail", write_text(tmp_path / "page.json", text))
    assert text.splitlines()[3:4] == ["    {"]
    assert items == [
        Rejected("line 4", "from", "the message has no sender"),
        Rejected("line 7", "isDraft", "a draft, never sent"),
    ]


def test_malformed_json_inside_a_page_stops_the_file_with_one_rejected() -> None:
    assert read("mail", DATA / "broken-page.json") == [
        Message(
            "line 4",
            message_key("p1@acme.example", ()),
            at(2024, 7, 1, 9),
            "ana@acme.example",
            (Recipient("bob@acme.example", "to"),),
        ),
        # the third message is well formed, but nothing says where it starts
        Rejected(
            "from line 5",
            "(json)",
            "not valid JSON: Expecting ',' delimiter (line 5, column 68); the rest of the file is not read",
        ),
    ]


def test_lines_that_are_not_resources_are_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    good = json.dumps({"sentDateTime": "2024-07-01T09:00:00Z", "isDraft": True})
    text = f"{good}\nnot json at all\n[1, {good}]\n{good}"
    assert read("mail", write_text(tmp_path / "odd.jsonl", text)) == [
        Rejected("line 1", "isDraft", "a draft, never sent"),
        Rejected("line 2", "(json)", "not valid JSON: Expecting an object or an array (column 1)"),
        Rejected("line 3", "(json)", "not a Graph resource (a JSON object)"),
        Rejected("line 3", "isDraft", "a draft, never sent"),
        Rejected("line 4", "isDraft", "a draft, never sent"),
    ]


def test_a_first_line_cut_short_in_json_lines_is_quarantined_alone(tmp_path: Path) -> None:
    draft = json.dumps({"sentDateTime": "2024-07-01T09:00:00Z", "isDraft": True})
    text = f'{{"isDraft": true, "from": {{"emailAddress": {{}}}}\n{draft}\n'
    expected = [
        Rejected("line 1", "(json)", "not valid JSON: Expecting ',' delimiter (line 2, column 1)"),
        Rejected("line 2", "isDraft", "a draft, never sent"),
    ]
    assert read("mail", write_text(tmp_path / "cut.jsonl", text)) == expected
    # The same text as .json could be one pretty-printed resource: nothing says where the next starts.
    assert read("mail", write_text(tmp_path / "cut.json", text)) == [
        Rejected(
            "from line 1",
            "(json)",
            "not valid JSON: Expecting ',' delimiter (line 2, column 1); the rest of the file is not read",
        )
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty; expected Microsoft Graph JSON"),
        ("\n  \n", "the file is empty; expected Microsoft Graph JSON"),
        ("message_id,sent_at\n", "line 1: not JSON; expected Microsoft Graph JSON"),
    ],
)
def test_a_file_with_no_json_at_all_is_an_input_error(tmp_path: Path, text: str, problem: str) -> None:
    path = write_text(tmp_path / "export.json", text)
    with pytest.raises(InputError) as raised:
        read("mail", path)
    assert str(raised.value).startswith(f"{path}: {problem}")


def test_a_large_page_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """200,000 resources in one page: memory holds one resource and a block of text, never the page."""
    path = tmp_path / "large.json"
    sent = '{"sentDateTime":"2024-07-01T09:00:00Z","from":{"emailAddress":{"address":"a@x.example"}},"toRecipients":[{"emailAddress":{"address":"b%d@x.example"}}]}'
    # Drafts keep the test quick; their bodies are what a Data Connect row carries and the reader never keeps.
    draft = (
        '{"id":"AAMkA%06d","isDraft":true,"body":{"contentType":"html","content":"<html><body>'
        + "Notes. " * 20
        + '</body></html>"}}'
    )
    with path.open("w", encoding="utf-8") as file:
        file.write('{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#messages",\n "value": [\n')
        file.write(",\n".join((sent if i % 1000 == 0 else draft) % i for i in range(200_000)))
        file.write('\n],\n "@odata.nextLink": "https://graph.microsoft.com/v1.0/next"}\n')
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with open_source(path) as source:
            read = Counter(type(item).__name__ for item in read_graph_messages(source))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == {"Message": 200, "Rejected": 199_800}
    assert size > 40_000_000
    assert peak < size / 100


# Events


def meeting(position: str, uid: str, start: datetime, end: datetime, attendees: list[Attendee], **flags: bool) -> Meeting:
    return Meeting(position, meeting_key(uid, start), uid, start, end, attendees[0].address, tuple(attendees), **flags)


ANA = Attendee("ana@acme.example", "organizer", "Ana Brandt")
BOB = Attendee("bob@acme.example", "organizer", "Bob Berg")


def test_events_give_exact_records_and_reasons() -> None:
    assert read("calendar", DATA / "events.jsonl") == [
        # Data Connect's enums; Pacific daylight time; every response; the organiser listed again; a room left out
        meeting(
            "line 1",
            "uid-summer",
            at(2024, 7, 1, 16),
            at(2024, 7, 1, 17, 30),
            [
                ANA,
                Attendee("bob@acme.example", "accepted", "Bob Berg"),
                Attendee("cy@acme.example", "tentative", "Cy"),
                Attendee("kim.lee@customer.example", "declined", "Lee, Kim"),
                Attendee("dana@customer.example", "needs-action"),
                Attendee("eve@partner.example", "none", "Eve"),
            ],
        ),
        # the same zone in standard time; an attendee whose response says organizer
        meeting(
            "line 2",
            "uid-winter",
            at(2024, 1, 15, 17),
            at(2024, 1, 15, 17, 30),
            [ANA, Attendee("bob@acme.example", "accepted", "Bob Berg"), Attendee("cy@acme.example", "organizer", "Cy")],
        ),
        # all day: midnight UTC of its dates, whatever the zone
        meeting("line 3", "uid-holiday", at(2024, 7, 4), at(2024, 7, 6), [BOB], is_all_day=True),
        meeting(
            "line 4",
            "uid-cancelled",
            at(2024, 7, 2, 15),
            at(2024, 7, 2, 16),
            [Attendee("kim.lee@customer.example", "organizer", "Kim"), Attendee("ana@acme.example", "none", "Ana Brandt")],
            is_cancelled=True,
            is_transparent=True,
        ),
        # an IANA zone; shown as free in Data Connect's spelling
        meeting("line 5", "uid-focus", at(2024, 7, 3, 6), at(2024, 7, 3, 8), [BOB], is_transparent=True),
        Rejected("line 6", "start", "the time zone 'Mars Standard Time' is unknown"),
        Rejected("line 7", "end", "the meeting ends before it starts"),
        Rejected("line 8", "organizer", "the meeting has no organizer"),
        Rejected("line 9", "type", "'appointment' is not singleInstance, occurrence, exception or seriesMaster"),
    ]


def test_windows_zone_names_map_to_the_zones_the_synthetic_exports_mean() -> None:
    from repsight.synth.formats import WINDOWS_ZONES

    for iana, windows in WINDOWS_ZONES.items():
        assert str(graph_time_zone(windows)) == iana, windows
    assert str(graph_time_zone("Europe/Berlin")) == "Europe/Berlin"
    assert graph_time_zone("tzone://Microsoft/Custom") is None
    assert graph_time_zone("Mars Standard Time") is None


def test_series_are_expanded_across_dst_with_an_exception_in_its_place_unless_the_file_lists_the_occurrences() -> None:
    weekly = "040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6A7B8000000000000000010000000AABBCCDD"
    moved = "040000008200E00074C5B7101A82E00807E8030BA1B2C3D4E5F6A7B8000000000000000010000000AABBCCDD"
    bob = Attendee("bob@acme.example", "accepted", "Bob Berg")
    cy = Attendee("cy@acme.example", "organizer")
    half_hour = timedelta(minutes=30)
    assert read("calendar", DATA / "series.jsonl") == [
        # a calendar view's occurrences: their master is not expanded
        meeting("line 5", "uid-viewed", at(2024, 7, 1, 9), at(2024, 7, 1, 10), [cy]),
        meeting("line 6", "uid-viewed", at(2024, 7, 2, 9), at(2024, 7, 2, 10), [cy]),
        # Mondays and Wednesdays at 9:00 Pacific: 17:00 UTC, then 16:00 UTC from 10 March
        meeting("line 1", weekly, at(2024, 3, 4, 17), at(2024, 3, 4, 17) + half_hour, [ANA, bob]),
        meeting("line 1", weekly, at(2024, 3, 6, 17), at(2024, 3, 6, 17) + half_hour, [ANA, bob]),
        # 11 March moved to 18:00 UTC, Bob declining: keyed with the series, at its new start
        meeting(
            "line 2", moved, at(2024, 3, 11, 18), at(2024, 3, 11, 19), [ANA, Attendee("bob@acme.example", "declined", "Bob Berg")]
        ),
        meeting("line 1", weekly, at(2024, 3, 13, 16), at(2024, 3, 13, 16) + half_hour, [ANA, bob]),
        meeting("line 1", weekly, at(2024, 3, 18, 16), at(2024, 3, 18, 16) + half_hour, [ANA, bob]),
        # the second Tuesday of the month at 10:00 London, until 30 April
        *[
            meeting("line 3", "uid-second-tuesday", start, start + timedelta(hours=1), [BOB])
            for start in (at(2024, 1, 9, 10), at(2024, 2, 13, 10), at(2024, 3, 12, 10), at(2024, 4, 9, 9))
        ],
    ]
    assert meeting_key(moved, at(2024, 3, 11, 18)) == meeting_key(weekly, at(2024, 3, 11, 18))


def master(
    pattern: dict[str, Any], range_: dict[str, Any], start: str, *, all_day: bool = False, **fields: Any
) -> dict[str, Any]:
    end = (datetime.fromisoformat(start) + (timedelta(days=1) if all_day else timedelta(hours=1))).isoformat()
    return {
        "id": fields.pop("id", "m1"),
        "iCalUId": "uid-series",
        "type": "seriesMaster",
        "isAllDay": all_day,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
        "organizer": mailbox("ana@acme.example"),
        "recurrence": {"pattern": pattern, "range": range_},
        **fields,
    }


def starts(items: list[Item]) -> list[datetime | str]:
    """The start of each meeting, or the field and reason of each rejected record."""
    return [
        i.start if isinstance(i, Meeting) else f"{i.field}: {i.reason}" if isinstance(i, Rejected) else repr(i) for i in items
    ]


def numbered(count: int, start: str) -> dict[str, Any]:
    return {"type": "numbered", "startDate": start[:10], "numberOfOccurrences": count}


@pytest.mark.parametrize(
    ("pattern", "start", "expected"),
    [
        ({"type": "daily", "interval": 2}, "2024-07-01T09:00:00", [at(2024, 7, 1, 9), at(2024, 7, 3, 9), at(2024, 7, 5, 9)]),
        (
            {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday"},
            "2024-07-01T09:00:00",
            [at(2024, 7, 1, 9), at(2024, 7, 15, 9), at(2024, 7, 29, 9)],
        ),
        # Outlook's "day 31": the last day of a shorter month
        (
            {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
            "2024-01-31T09:00:00",
            [at(2024, 1, 31, 9), at(2024, 2, 29, 9), at(2024, 3, 31, 9)],
        ),
        (
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
            "2024-05-31T09:00:00",
            [at(2024, 5, 31, 9), at(2024, 6, 28, 9), at(2024, 7, 26, 9)],
        ),
        (
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["saturday", "sunday"], "index": "first"},
            "2024-06-01T09:00:00",
            [at(2024, 6, 1, 9), at(2024, 7, 6, 9), at(2024, 8, 3, 9)],
        ),
        (
            {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 29, "month": 2},
            "2024-02-29T09:00:00",
            [at(2024, 2, 29, 9), at(2025, 2, 28, 9), at(2026, 2, 28, 9)],
        ),
        (
            {"type": "relativeYearly", "interval": 1, "daysOfWeek": ["thursday"], "index": "fourth", "month": 11},
            "2024-11-28T17:00:00",
            [at(2024, 11, 28, 17), at(2025, 11, 27, 17), at(2026, 11, 26, 17)],
        ),
        (
            {"type": "hourly", "interval": 1},
            "2024-07-01T09:00:00",
            ["recurrence: the pattern 'hourly' is not one repsight can expand"],
        ),
    ],
)
def test_every_recurrence_pattern(tmp_path: Path, pattern: dict[str, Any], start: str, expected: list[Any]) -> None:
    path = write_lines(tmp_path / "series.jsonl", [master(pattern, numbered(3, start), start)])
    assert starts(read("calendar", path)) == expected


def test_an_end_date_is_the_last_day_an_occurrence_may_fall_on(tmp_path: Path) -> None:
    weekly = {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}
    until = {"type": "endDate", "startDate": "2024-07-01", "endDate": "2024-07-15"}
    # A master without an id is expanded too: no occurrence in the file can name it.
    path = write_lines(tmp_path / "series.jsonl", [master(weekly, until, "2024-07-01T23:00:00", id="")])
    assert starts(read("calendar", path)) == [at(2024, 7, 1, 23), at(2024, 7, 8, 23), at(2024, 7, 15, 23)]


def test_a_series_with_no_end_runs_to_the_last_event_of_the_file_or_the_window(tmp_path: Path) -> None:
    daily = master({"type": "daily", "interval": 1}, {"type": "noEnd", "startDate": "2024-07-01"}, "2024-07-01T09:00:00")
    later = {
        "iCalUId": "uid-later",
        "type": "singleInstance",
        "start": {"dateTime": "2024-07-03T08:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2024-07-03T09:00:00", "timeZone": "UTC"},
        "organizer": mailbox("bob@acme.example"),
    }
    alone = write_lines(tmp_path / "alone.jsonl", [daily])
    assert starts(read("calendar", alone)) == [at(2024, 7, 1, 9)]
    both = write_lines(tmp_path / "both.jsonl", [daily, later])
    assert starts(read("calendar", both)) == [at(2024, 7, 3, 8), at(2024, 7, 1, 9), at(2024, 7, 2, 9), at(2024, 7, 3, 9)]
    window = Window(at(2024, 7, 2, 9), at(2024, 7, 5))
    assert starts(read("calendar", both, window)) == [at(2024, 7, 3, 8), at(2024, 7, 2, 9), at(2024, 7, 3, 9), at(2024, 7, 4, 9)]


def test_an_all_day_series_keeps_dates_and_takes_its_exception(tmp_path: Path) -> None:
    weekly = {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]}
    berlin = {"originalStartTimeZone": "W. Europe Standard Time"}
    series = master(weekly, numbered(3, "2024-07-01"), "2024-07-01T00:00:00", all_day=True, **berlin)
    # Moved from Monday 8 July (midnight in Berlin) to the Tuesday.
    exception = {
        **master(weekly, {}, "2024-07-09T00:00:00", all_day=True, id="x1"),
        "type": "exception",
        "seriesMasterId": "m1",
        "originalStart": "2024-07-07T22:00:00Z",
        "recurrence": None,
    }
    items = read("calendar", write_lines(tmp_path / "series.jsonl", [series, exception]))
    assert starts(items) == [at(2024, 7, 1), at(2024, 7, 9), at(2024, 7, 15)]
    assert [i.position for i in items] == ["line 1", "line 2", "line 1"]
    assert all(isinstance(i, Meeting) and i.is_all_day and i.end - i.start == timedelta(days=1) for i in items)


def test_graph_files_load_keyed_and_quarantined_and_a_second_load_adds_nothing(workspace: Config) -> None:
    files = [("mail", DATA / "messages.jsonl"), ("calendar", DATA / "events.jsonl"), ("calendar", DATA / "series.jsonl")]
    first, again = run_ingest(workspace, files=files), run_ingest(workspace, files=files)
    assert [(f.read, f.loaded, f.new, f.quarantined) for f in first.files] == [(12, 5, 5, 7), (9, 5, 5, 4), (11, 11, 11, 0)]
    assert [(f.read, f.new) for f in again.files] == [(12, 0), (9, 0), (11, 0)]


# The real Graph Data Connect samples


@needs_samples
def test_the_samples_read_without_a_rejected_record() -> None:
    for name, kind, count in [("Message_v1", "mail", 10), ("SentItem_v1", "mail", 10), ("CalendarView_v0", "calendar", 10)]:
        items = read(kind, SAMPLES / f"{name}.jsonl")
        assert len(items) == count and not any(isinstance(i, Rejected) for i in items), name
    first = read("calendar", SAMPLES / "CalendarView_v0.jsonl")[0]
    assert isinstance(first, Meeting)
    assert (first.start, first.end, first.organizer, first.attendees) == (
        at(2020, 1, 7, 22),
        at(2020, 1, 7, 23),
        "LidiaH@M365x723843.OnMicrosoft.com",
        (
            Attendee("LidiaH@M365x723843.OnMicrosoft.com", "organizer", "Lidia Holloway"),
            Attendee("MeganB@M365x723843.OnMicrosoft.com", "accepted", "Megan Bowen"),
            Attendee("LynneR@M365x723843.OnMicrosoft.com", "none", "Lynne Robbins"),
            Attendee("BrianJ@M365x723843.OnMicrosoft.com", "none", "Brian Johnson (TAILSPIN)"),
            Attendee("JoniS@M365x723843.OnMicrosoft.com", "tentative", "Joni Sherman"),
        ),
    )


@needs_samples
def test_a_sample_master_and_a_calendar_view_give_one_key_for_one_occurrence() -> None:
    """Event_v1's master (2012, weekly, Pacific) expands to the occurrences CalendarView_v0 lists, DST included."""
    view = {m.start: m for m in read("calendar", SAMPLES / "CalendarView_v0.jsonl") if isinstance(m, Meeting)}
    for start in (at(2020, 1, 7, 22), at(2021, 5, 4, 21)):
        window = Window(start - timedelta(days=1), start + timedelta(days=1))
        expanded = [
            m for m in read("calendar", SAMPLES / "Event_v1.jsonl", window) if isinstance(m, Meeting) and m.position == "line 1"
        ]
        assert [m.start for m in expanded] == [start]
        assert expanded[0].key == view[start].key
        assert expanded[0].uid != view[start].uid  # Graph gives each occurrence its own iCalUId


# The synthetic organisation's Graph exports read as its CSV exports


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from repsight.synth import generate

    csv, mixed = tmp_path_factory.mktemp("csv"), tmp_path_factory.mktemp("mixed")
    generate(csv, people=60, months=3, seed=5, formats="csv")
    generate(mixed, people=60, months=3, seed=5, formats="mixed")
    return csv, mixed


def same_as_csv(item: Item) -> Item:
    """A Graph record as the CSV export gives it: no names, no position, and no response but declined."""
    if isinstance(item, Message):
        return replace(item, position="", sender_name="", recipients=tuple(replace(r, name="") for r in item.recipients))
    if isinstance(item, Meeting):
        csv_response = {"organizer": "organizer", "declined": "declined"}
        people = tuple(Attendee(a.address, csv_response.get(a.response, "none")) for a in item.attendees)
        return replace(item, position="", attendees=people)
    return item


def by_key(item: Item) -> str:
    return item.key if isinstance(item, Message | Meeting) else repr(item)


@pytest.mark.slow
def test_the_synthetic_graph_exports_give_the_records_of_the_csv_exports(exports: tuple[Path, Path]) -> None:
    csv, mixed = exports
    graph_files = sorted(mixed.glob("*/*.json"))
    assert {p.parent.name for p in graph_files} == {"mail", "calendar"}
    for path in graph_files:
        csv_path = csv / path.parent.name / f"{path.stem}.csv"
        with open_source(csv_path) as source:
            rows = read_mail_csv_rows if path.parent.name == "mail" else read_calendar_csv_rows
            expected = [same_as_csv(r) for r in rows(source)]
        with open_source(path) as source:
            reader = read_graph_messages if path.parent.name == "mail" else read_graph_events
            found = [same_as_csv(r) for r in reader(source)]
        assert len(found) > 100
        # Exceptions come after the rest of the file: compare the records whatever their order.
        assert sorted(found, key=by_key) == sorted(expected, key=by_key), path.name


# Fuzzed inputs: each bad resource is one Rejected, reading goes on, nothing runs away.

REPRO = DATA / "repro"


@pytest.mark.parametrize("path", sorted([*DATA.glob("*.json*"), *REPRO.glob("*.json*")]), ids=lambda p: p.name)
def test_results_never_depend_on_the_block_size(path: Path) -> None:
    def resources(block_chars: int) -> list[Any]:
        with path.open(encoding="utf-8") as text:
            return list(read_resources(text, path, block_chars=block_chars))

    whole = resources(65536)
    for block_chars in (1, 2, 7, 64):
        assert resources(block_chars) == whole, block_chars


def test_a_number_cut_by_the_block_end_is_read_whole() -> None:
    path = REPRO / "graph_float_split.json"  # [12345.5, {"id": "a"}]
    for block_chars in (1, 7, 65536):
        with path.open(encoding="utf-8") as text:
            assert list(read_resources(text, path, block_chars=block_chars)) == [
                Rejected("line 1", "(json)", "not a Graph resource (a JSON object)"),
                Resource("line 1", {"id": "a"}),
            ]


def test_a_page_failing_in_json_lines_yields_no_resource_twice() -> None:
    path = REPRO / "graph_jsonl_pretty_envelope_resync.jsonl"
    with path.open(encoding="utf-8") as text:
        items = list(read_resources(text, path, block_chars=65536))
    positions = [i.position for i in items if isinstance(i, Resource)]
    assert positions[:2] == ["line 4", "line 16"]
    assert len(positions) == len(set(positions))
    # Reading goes on at the line after the failing resource's start (line 17), not inside the page again.
    assert [i.position for i in items if isinstance(i, Rejected)][:2] == ["line 1", "line 18"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("graph_deep.jsonl", "not valid JSON: the value is nested too deeply (column 1)"),
        ("graph_bigint.jsonl", "not valid JSON: a number has too many digits (column 1)"),
        ("graph_bigint_array.json", "not valid JSON: a number has too many digits (column 2)"),
    ],
)
def test_json_python_cannot_decode_is_malformed_json(name: str, reason: str) -> None:
    assert read("calendar", REPRO / name) == [Rejected("line 1", "(json)", reason)]


def test_json_lines_go_on_after_json_python_cannot_decode(tmp_path: Path) -> None:
    good = json.dumps(
        {"iCalUId": "uid-1", "start": {"dateTime": "2024-07-01T09:00:00"}, "end": {"dateTime": "2024-07-01T10:00:00"}}
    )
    good = good[:-1] + ', "organizer": {"emailAddress": {"address": "ana@acme.example"}}}'
    path = write_text(tmp_path / "e.jsonl", "[" * 100_000 + "\n" + '{"a": ' + "9" * 5000 + "}\n" + good + "\n")
    items = read("calendar", path)
    assert [type(i).__name__ for i in items] == ["Rejected", "Rejected", "Meeting"]


def test_a_time_zone_is_only_a_known_name_never_a_path() -> None:
    assert graph_time_zone("A/" * 600 + "B") is None
    assert graph_time_zone("/etc/localtime") is None
    assert graph_time_zone("../../etc/localtime") is None
    assert graph_time_zone("Europe/Berlin") is not None
    assert graph_time_zone("W. Europe Standard Time") is not None
    items = read("calendar", REPRO / "graph_tz_long.jsonl")
    assert len(items) == 1 and isinstance(items[0], Rejected) and items[0].reason.endswith("is unknown")


def test_a_long_zone_name_in_a_series_range_falls_back_to_its_start_zone(tmp_path: Path) -> None:
    daily = {"type": "daily", "interval": 1}
    range_ = {**numbered(2, "2024-07-01"), "recurrenceTimeZone": "A/" * 600 + "B"}
    path = write_lines(tmp_path / "series.jsonl", [master(daily, range_, "2024-07-01T09:00:00")])
    assert starts(read("calendar", path)) == [at(2024, 7, 1, 9), at(2024, 7, 2, 9)]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (
            {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 10**20},
            "the day of the month '100000000000000000000' is not 1 to 31",
        ),
        ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 32}, "the day of the month '32' is not 1 to 31"),
        (
            {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 0},
            "the pattern 'absolutemonthly' is not one repsight can expand",
        ),
        ({"type": "daily", "interval": 1, "dayOfMonth": 10**8}, "the day of the month '100000000' is not 1 to 31"),
        ({"type": "absoluteYearly", "interval": 1, "dayOfMonth": 1, "month": 13}, "'13' is not a month"),
        ({"type": "daily", "interval": 0}, "the interval '0' is not a whole number from 1"),
        (
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"], "index": "fifth"},
            "the index 'fifth' is not first, second, third, fourth or last",
        ),
    ],
)
def test_a_pattern_out_of_range_is_rejected_before_anything_is_built(
    tmp_path: Path, pattern: dict[str, Any], reason: str
) -> None:
    path = write_lines(tmp_path / "series.jsonl", [master(pattern, numbered(2, "2024-07-01"), "2024-07-01T09:00:00")])
    assert starts(read("calendar", path)) == [f"recurrence: {reason}"]


@pytest.mark.parametrize("name", ["graph_dayofmonth_1e20.jsonl", "graph_dayofmonth_1e8.jsonl"])
def test_the_fuzzed_days_of_the_month_are_rejected(name: str) -> None:
    items = read("calendar", REPRO / name)
    assert len(items) == 1 and isinstance(items[0], Rejected) and items[0].reason.endswith("is not 1 to 31")


TOO_MANY = (
    "recurrence: the series has more than 10,000 occurrences in the window;"
    " set [sources] calendar_from/calendar_until to a narrower window"
)


def test_a_series_beyond_the_occurrence_limit_is_rejected_whole(tmp_path: Path) -> None:
    assert starts(read("calendar", REPRO / "graph_count_1e9.jsonl")) == [TOO_MANY]
    daily = {"type": "daily", "interval": 1}
    forever = {"type": "endDate", "startDate": "2024-07-01", "endDate": "9999-12-31"}
    path = write_lines(tmp_path / "series.jsonl", [master(daily, forever, "2024-07-01T09:00:00")])
    assert starts(read("calendar", path)) == [TOO_MANY]
    # Within a window the same series is expanded.
    assert len(read("calendar", path, Window(at(2024, 7, 1), at(2025, 7, 1)))) == 365
    at_limit = write_lines(tmp_path / "limit.jsonl", [master(daily, numbered(10_000, "2024-07-01"), "2024-07-01T09:00:00")])
    assert len(read("calendar", at_limit)) == 10_000


def test_a_series_is_expanded_at_most_fifty_years(tmp_path: Path) -> None:
    yearly = {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 1, "month": 7}
    forever = {"type": "endDate", "startDate": "2024-07-01", "endDate": "9999-12-31"}
    path = write_lines(tmp_path / "series.jsonl", [master(yearly, forever, "2024-07-01T09:00:00")])
    assert starts(read("calendar", path))[-1] == at(2073, 7, 1, 9)
    assert len(read("calendar", path)) == 50
    # Fifty years counted from the window's start.
    assert starts(read("calendar", path, Window(at(2100, 1, 1), None)))[:2] == [at(2100, 7, 1, 9), at(2101, 7, 1, 9)]


def test_an_occurrence_across_a_dst_change_lasts_as_long_as_its_master() -> None:
    # 22:00 to 06:00 Pacific, over the night DST starts: 7 hours elapsed.
    items = read("calendar", REPRO / "g_overnight_dst.jsonl")
    assert [(i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in items if isinstance(i, Meeting)] == [
        (at(2024, 3, 10, 6), at(2024, 3, 10, 13)),
        (at(2024, 3, 11, 5), at(2024, 3, 11, 12)),
        (at(2024, 3, 12, 5), at(2024, 3, 12, 12)),
    ]


def test_a_range_starting_before_the_master_gives_nothing_before_the_master() -> None:
    # Mondays and Wednesdays from Monday 4 March, the master on Wednesday 6 March.
    assert starts(read("calendar", REPRO / "g_startdate_diff.jsonl")) == [
        at(2024, 3, 6, 9),
        at(2024, 3, 11, 9),
        at(2024, 3, 13, 9),
    ]


def test_a_series_that_cannot_be_expanded_costs_only_that_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import repsight.sources.msgraph as graph

    def broken(*args: Any) -> Any:
        raise OverflowError("date value out of range")

    daily = {"type": "daily", "interval": 1}
    single = {**master(daily, {}, "2024-07-01T09:00:00", id="s"), "type": "singleInstance", "iCalUId": "uid-single"}
    path = write_lines(tmp_path / "series.jsonl", [master(daily, numbered(2, "2024-07-01"), "2024-07-01T09:00:00"), single])
    monkeypatch.setattr(graph, "_rule", broken)
    assert starts(read("calendar", path)) == [at(2024, 7, 1, 9), "recurrence: cannot be expanded (OverflowError)"]
