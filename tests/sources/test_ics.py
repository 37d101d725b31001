"""The iCalendar reader: one Meeting per occurrence, exactly as written; each bad event quarantined with its line.

Besides the hand-written calendars under tests/data/ics, three oracles
check it: icalendar reads every event the fast path reads
(`read_ics_reference`; event by event, on the fixtures and on generated
content lines; and on damaged calendars), recurring-ical-events expands
every test calendar the icalendar and recurring-ical-events wheels ship, and
the CSV export of a synthetic company holds the meetings of its iCalendar
export.
"""

from __future__ import annotations

import io
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from repsight.errors import InputError
from repsight.sources import open_source
from repsight.sources.calendar_csv import read_calendar_csv
from repsight.sources.files import MAX_OCCURRENCES, Source, Window
from repsight.sources.ics import read_ics, read_ics_reference
from repsight.sources.ics.lines import EVENT, blocks
from repsight.sources.ics.parse import USED, parse_fast, parse_reference, used_lines
from repsight.sources.records import Attendee, Meeting, MeetingBatch, Rejected, meeting_key
from repsight.synth import generate
from tests.support import DATA as TEST_DATA

DATA = TEST_DATA / "ics"
FIXTURES = sorted(p for p in DATA.glob("*.ics") if p.name != "not_a_calendar.ics")
SITE = Path(icalendar.__file__).parent.parent
SHIPPED = sorted(
    [*SITE.glob("icalendar/tests/**/*.ics"), *SITE.glob("recurring_ical_events/test/calendars/*.ics")],
    key=lambda p: str(p.relative_to(SITE)),
)
ANA = Attendee("ana@acme.example", "organizer")
Reader = Callable[[Source], Iterator[Meeting | Rejected]]


def read(path: Path, window: Window | None = None, reader: Reader = read_ics) -> list[Meeting | Rejected]:
    with open_source(path, window) as source:
        return list(reader(source))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def meeting(position: int, uid: str, start: datetime, end: datetime, *attendees: Attendee, **flags: bool) -> Meeting:
    """The Meeting the reader should give: organizer ana unless the attendees say otherwise."""
    people = attendees or (ANA,)
    return Meeting(f"line {position}", meeting_key(uid, start), uid, start, end, people[0].address, people, **flags)


def of(records: list[Meeting | Rejected], uid: str) -> list[Meeting]:
    return [r for r in records if isinstance(r, Meeting) and r.uid == uid]


def calendar(tmp_path: Path, *events: str) -> Path:
    """Write a one-calendar file of the given VEVENT bodies, each organised by ana."""
    body = "".join(f"BEGIN:VEVENT\nORGANIZER:mailto:ana@acme.example\n{e.strip()}\nEND:VEVENT\n" for e in events)
    path = tmp_path / "calendar.ics"
    path.write_text(f"BEGIN:VCALENDAR\nVERSION:2.0\n{body}END:VCALENDAR\n")
    return path


# Series


def test_weekly_series_with_until_keeps_its_local_time_across_daylight_saving() -> None:
    ben = Attendee("ben@acme.example", "accepted")
    organizer = Attendee("ana@acme.example", "organizer", "Ana Brandt")
    uid = "weekly-until@acme.example"
    assert of(read(DATA / "series.ics"), uid) == [
        meeting(21, uid, utc(2024, 3, 21, 9), utc(2024, 3, 21, 9, 30), organizer, ben),
        meeting(21, uid, utc(2024, 3, 28, 9), utc(2024, 3, 28, 9, 30), organizer, ben),
        meeting(21, uid, utc(2024, 4, 4, 8), utc(2024, 4, 4, 8, 30), organizer, ben),  # CEST from 31 March
    ]


def test_weekly_series_with_count() -> None:
    starts = [utc(2024, 1, 2, 15), utc(2024, 1, 9, 15), utc(2024, 1, 16, 15)]
    assert of(read(DATA / "series.ics"), "weekly-count") == [
        meeting(31, "weekly-count", s, s + timedelta(hours=1)) for s in starts
    ]


def test_rdate_adds_an_occurrence_and_exdate_removes_one() -> None:
    starts = [utc(2024, 5, 6, 7), utc(2024, 5, 8, 7), utc(2024, 5, 9, 7), utc(2024, 5, 20, 12)]
    assert of(read(DATA / "series.ics"), "rdate-exdate") == [
        meeting(39, "rdate-exdate", s, s + timedelta(minutes=30)) for s in starts
    ]


def test_all_day_series_with_a_date_exdate() -> None:
    assert of(read(DATA / "series.ics"), "all-day-series") == [
        meeting(49, "all-day-series", utc(2024, 7, d), utc(2024, 7, d + 1), is_all_day=True, is_transparent=True) for d in (1, 3)
    ]


def test_overrides_move_cancel_and_change_attendees_of_their_occurrence() -> None:
    ben, cara = Attendee("ben@acme.example", "accepted"), Attendee("cara@acme.example", "accepted")
    assert read(DATA / "overrides.ics") == [
        meeting(4, "team-sync", utc(2024, 6, 3, 10), utc(2024, 6, 3, 11), ANA, ben, cara),
        meeting(13, "team-sync", utc(2024, 6, 11, 14), utc(2024, 6, 11, 15), ANA, ben, cara),
        meeting(23, "team-sync", utc(2024, 6, 17, 10), utc(2024, 6, 17, 11), ANA, ben, cara, is_cancelled=True),
        meeting(
            34,
            "team-sync",
            utc(2024, 6, 24, 10),
            utc(2024, 6, 24, 11),
            ANA,
            Attendee("ben@acme.example", "declined"),
            cara,
            Attendee("dan@acme.example", "tentative"),
        ),
    ]


def test_open_ended_series_runs_up_to_the_latest_other_event_of_the_file() -> None:
    standups = [utc(2024, 1, d, 9) for d in (1, 8, 15)]  # the offsite ends 20 January, 11:00
    assert read(DATA / "open_ended.ics") == [
        meeting(11, "offsite", utc(2024, 1, 20, 10), utc(2024, 1, 20, 11)),
        *[meeting(4, "standup", s, s + timedelta(minutes=30)) for s in standups],
    ]


def test_open_ended_series_alone_gives_only_its_first_occurrence() -> None:
    assert read(DATA / "open_ended_alone.ics") == [meeting(4, "standup", utc(2024, 1, 1, 9), utc(2024, 1, 1, 9, 30))]


def test_open_ended_series_lean_on_each_other_and_on_series_that_end(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        "UID:a\nDTSTART:20240101T090000Z\nRRULE:FREQ=WEEKLY",
        "UID:b\nDTSTART:20240201T090000Z\nRRULE:FREQ=MONTHLY",
        "UID:c\nDTSTART:20240102T090000Z\nRRULE:FREQ=WEEKLY;COUNT=3",
    )
    starts = {uid: [m.start for m in of(read(path), uid)] for uid in "abc"}
    assert starts == {
        "a": [utc(2024, 1, d, 9) for d in (1, 8, 15, 22, 29)],  # up to b's first occurrence
        "b": [utc(2024, 2, 1, 9)],  # a's first is earlier, c ends 16 January
        "c": [utc(2024, 1, d, 9) for d in (2, 9, 16)],
    }


def test_window_end_expands_open_ended_series_up_to_it() -> None:
    found = read(DATA / "open_ended.ics", Window(end=utc(2024, 1, 29, 9)))
    assert [m.start for m in of(found, "standup")] == [utc(2024, 1, d, 9) for d in (1, 8, 15, 22)]


def test_window_start_drops_earlier_occurrences_but_never_a_single_event() -> None:
    found = read(DATA / "open_ended.ics", Window(start=utc(2024, 1, 21), end=utc(2024, 2, 1)))
    assert [(m.uid, m.start) for m in found if isinstance(m, Meeting)] == [
        ("offsite", utc(2024, 1, 20, 10)),
        ("standup", utc(2024, 1, 22, 9)),
        ("standup", utc(2024, 1, 29, 9)),
    ]


def test_an_override_outside_the_window_is_left_out() -> None:
    found = read(DATA / "overrides.ics", Window(start=utc(2024, 6, 12)))
    assert [m.start for m in found if isinstance(m, Meeting)] == [utc(2024, 6, 17, 10), utc(2024, 6, 24, 10)]


# Flags, ends, zones


def test_status_transparency_all_day_and_default_ends() -> None:
    assert read(DATA / "flags.ics") == [
        meeting(4, "cancelled", utc(2024, 3, 1, 10), utc(2024, 3, 1, 11), is_cancelled=True),
        meeting(11, "free", utc(2024, 3, 1, 12), utc(2024, 3, 1, 13), is_transparent=True),
        meeting(18, "conference", utc(2024, 8, 15), utc(2024, 8, 17), is_all_day=True),
        meeting(24, "holiday", utc(2024, 10, 3), utc(2024, 10, 4), is_all_day=True),  # no DTEND: one day
        meeting(29, "reminder", utc(2024, 3, 2, 8), utc(2024, 3, 2, 8)),  # no DTEND: no length
        meeting(34, "call", utc(2024, 3, 2, 9), utc(2024, 3, 2, 9, 45)),  # DURATION
        meeting(40, "leave", utc(2024, 7, 22), utc(2024, 7, 26), is_all_day=True),  # a date-time DTEND: its date
    ]


def test_time_zones_by_windows_name_vtimezone_and_globally_unique_id() -> None:
    found = {m.uid: (m.start, m.end) for m in read(DATA / "zones.ics") if isinstance(m, Meeting)}
    assert found == {
        "windows-berlin": (utc(2024, 1, 15, 8), utc(2024, 1, 15, 9)),
        "windows-pacific": (utc(2024, 7, 15, 16), utc(2024, 7, 15, 17)),
        "own-zone": (utc(2024, 3, 1, 4, 30), utc(2024, 3, 1, 5)),  # VTIMEZONE at +05:30
        "own-rules-summer": (utc(2024, 7, 1, 8), utc(2024, 7, 1, 9)),  # VTIMEZONE rules: summer time
        "x-properties-zone": (utc(2024, 3, 1, 11), utc(2024, 3, 1, 12)),  # a VTIMEZONE dateutil reads once mended
        "zone-defined-later": (utc(2024, 3, 1, 6), utc(2024, 3, 1, 7)),  # its VTIMEZONE follows it
        "globally-unique": (utc(2024, 3, 1, 1), utc(2024, 3, 1, 2)),
        "in-utc": (utc(2024, 3, 1, 10), utc(2024, 3, 1, 11)),
    }


def test_an_event_whose_zone_is_defined_later_comes_at_its_calendars_end() -> None:
    assert [m.uid for m in read(DATA / "zones.ics") if isinstance(m, Meeting)][-1] == "zone-defined-later"


def test_floating_times_are_read_in_x_wr_timezone_else_in_utc() -> None:
    found = {(m.uid, m.start) for m in read(DATA / "floating.ics") if isinstance(m, Meeting)}
    assert found == {
        ("floating-new-york", utc(2024, 1, 10, 14)),
        ("floating-utc", utc(2024, 1, 10, 9)),
        # A UTC series in an X-WR-TIMEZONE calendar recurs at 10:00 New York time, EST then EDT.
        ("utc-series-new-york", utc(2024, 3, 5, 15)),
        ("utc-series-new-york", utc(2024, 3, 12, 14)),
    }


# People


def test_organizer_first_then_attendees_once_each_with_their_responses() -> None:
    (found,) = read(DATA / "people.ics")
    assert isinstance(found, Meeting)
    assert found.organizer == "Ana.Brandt@Acme.Example"
    assert found.attendees == (
        Attendee("Ana.Brandt@Acme.Example", "organizer", "Brandt, Ana"),  # also invited: still the organizer
        Attendee("ben@acme.example", "accepted", "Ben Okafor"),
        Attendee("cara@acme.example", "tentative"),
        Attendee("dan@customer.example", "declined"),
        Attendee("eve@acme.example", "needs-action"),
        Attendee("fay@acme.example", "needs-action"),  # no PARTSTAT
        Attendee("gus@acme.example", "none"),  # DELEGATED
        Attendee("hal@acme.example", "accepted"),
        # BEN@acme.example again: the first mention wins; the room and the projector are no mail addresses
        Attendee("ivy@acme.example", "accepted"),
    )


def test_a_shared_export_yields_each_series_occurrence_once_and_each_copy_of_a_single_event() -> None:
    found = [(m.position, m.uid, m.start) for m in read(DATA / "shared.ics") if isinstance(m, Meeting)]
    assert found == [
        ("line 5", "kickoff", utc(2024, 4, 2, 13)),
        ("line 25", "kickoff", utc(2024, 4, 2, 13)),  # the second calendar's copy: the loader keeps the first
        ("line 12", "weekly-1on1", utc(2024, 4, 1, 8)),
        ("line 12", "weekly-1on1", utc(2024, 4, 8, 8)),
    ]


def test_an_outlook_occurrence_id_gives_the_key_of_its_series_occurrence() -> None:
    series = read(DATA / "outlook.ics")
    (occurrence,) = read(DATA / "outlook_occurrence.ics")
    assert [m.start for m in series if isinstance(m, Meeting)] == [utc(2024, 5, 6, 7), utc(2024, 5, 13, 8), utc(2024, 5, 27, 7)]
    assert isinstance(occurrence, Meeting) and occurrence.uid != series[1].uid  # type: ignore[union-attr]
    assert occurrence.key == series[1].key  # type: ignore[union-attr]


# Bad input


def test_each_bad_event_is_quarantined_with_its_line_and_the_file_goes_on() -> None:
    found = read(DATA / "bad.ics")
    assert found == [
        Rejected("line 4", "UID", "missing"),
        Rejected("line 9", "DTSTART", "missing"),
        meeting(14, "good", utc(2024, 3, 1, 10), utc(2024, 3, 1, 11)),
        Rejected("line 20", "DTSTART", "'2024-03-01 10:00' is not an iCalendar date or date-time"),
        Rejected("line 25", "DTSTART", "(a value that looks like a mail address) is not an iCalendar date or date-time"),
        Rejected("line 30", "DTEND", "'20240301T25000Z' is not an iCalendar date or date-time"),
        Rejected("line 41", "RRULE", "'FREQ=SOMETIMES' is not a recurrence rule"),
        Rejected("line 47", "DTEND", "the meeting ends before it starts"),
        Rejected("line 53", "DURATION", "the meeting ends before it starts"),
        Rejected("line 59", "ORGANIZER", "missing"),
        Rejected("line 64", "ORGANIZER", "'urn:x-room:boardroom' is not a mail address"),
        Rejected("line 69", "DTSTART", "appears more than once"),
        Rejected("line 75", "VEVENT", "has no END:VEVENT"),
        # A TZID may be defined later in its calendar, so this one is judged at the calendar's end.
        Rejected(
            "line 36",
            "DTSTART",
            "unknown time zone 'Mars/Olympus_Mons': not an IANA or Windows zone name, and no VTIMEZONE defines it",
        ),
    ]


def test_no_reason_echoes_an_address(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        "UID:a\nDTSTART:ben@acme.example",
        "UID:b\nDTSTART;TZID=ben@acme.example:20240101T100000",
        "UID:c\nDTSTART:20240101T100000Z\nRRULE:FREQ=WEEKLY;X-NOTE=ben@acme.example",
    )
    reasons = [r.reason for r in read(path) if isinstance(r, Rejected)]
    assert len(reasons) == 3 and not any("@" in reason for reason in reasons)


def test_dates_at_the_end_of_time_are_quarantined_not_raised(tmp_path: Path) -> None:
    path = calendar(
        tmp_path,
        "UID:a\nDTSTART:99991231T230000Z\nDURATION:PT2H",
        "UID:b\nDTSTART;VALUE=DATE:99991231",
        "UID:c\nDTSTART:20240101T100000Z",
    )
    assert read(path) == [
        Rejected("line 3", "DTSTART", "is too near the year 1 or 9999 to compute with"),
        Rejected("line 9", "DTSTART", "is too near the year 1 or 9999 to compute with"),
        meeting(14, "c", utc(2024, 1, 1, 10), utc(2024, 1, 1, 10)),
    ]


def test_folded_lines_nested_alarms_and_dropped_text() -> None:
    (found,) = read(DATA / "folded.ics")
    assert found == meeting(
        4,
        "folded-uid",
        utc(2024, 3, 1, 10),
        utc(2024, 3, 1, 11),
        Attendee("ana@acme.example", "organizer", "Ana Brandt"),
        Attendee("ben@acme.example", "accepted", "Ben"),  # not the VALARM's reminders@, nor the stray line's eve@
    )
    assert not re.search("Globex|Agenda|Room 4", repr(found))


def test_crlf_and_lf_line_endings_read_alike(tmp_path: Path) -> None:
    crlf = (DATA / "series.ics").read_bytes()
    assert b"\r\n" in crlf
    (tmp_path / "lf.ics").write_bytes(crlf.replace(b"\r\n", b"\n"))
    assert read(tmp_path / "lf.ics") == read(DATA / "series.ics")


def test_a_file_that_is_not_icalendar_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not_a_calendar.ics: line 1: not an iCalendar file"):
        read(DATA / "not_a_calendar.ics")
    (tmp_path / "empty.ics").write_bytes(b"\n\n")
    with pytest.raises(InputError, match="the file is empty"):
        read(tmp_path / "empty.ics")


def test_single_events_are_yielded_as_the_file_is_read(tmp_path: Path) -> None:
    events = "".join(
        f"BEGIN:VEVENT\nUID:e{i}\nDTSTART:20240101T{i % 24:02d}0000Z\nORGANIZER:mailto:ana@acme.example\nEND:VEVENT\n"
        for i in range(20_000)
    )
    path = tmp_path / "big.ics"
    path.write_text(f"BEGIN:VCALENDAR\n{events}END:VCALENDAR\n")
    with open_source(path) as source:
        records = read_ics(source)
        first = next(records)
        assert isinstance(first, Meeting) and first.uid == "e0"
        assert source.bytes_read < source.size / 4
        assert sum(1 for _ in records) == 19_999


# The fast path against icalendar


# icalendar drops the lines of a TZID it cannot resolve, so it names another
# field than the fast path does; both reject the event.
REFERENCE_DIFFERS = {"fuzz_tzid_long.ics"}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_the_fast_path_reads_every_fixture_as_icalendar_does(path: Path) -> None:
    if path.name in REFERENCE_DIFFERS:
        assert [type(r) for r in read(path)] == [type(r) for r in read(path, reader=read_ics_reference)] == [Rejected]
        return
    assert read(path) == read(path, reader=read_ics_reference)
    for used in _events(path):
        fast = parse_fast(used)
        if fast is not None:
            assert fast == parse_reference(used)


_LINE_NAMES = sorted(USED) + ["dtstart", "attendee", "SUMMARY"]
_PARAMETERS = [
    *(
        "",
        ";CN=Ana",
        ';CN="Brandt, Ana"',
        ";CN=Brandt, Ana",
        ";CN=",
        ';CN=""',
        ";CN=x^'y",
        ";CN=a\\,b",
        ";CN=Ana;CN=Bo",
        ";CN= Ana ",
        ';CN=" Ana"',
    ),
    *(";PARTSTAT=DECLINED", ";partstat=tentative", ';X-NOTE="a:b"', ";RANGE=THISANDFUTURE"),
    *(
        ";TZID=Europe/Berlin",
        ';TZID="W. Europe Standard Time"',
        ";VALUE=DATE",
        ";VALUE=DATE-TIME",
        ";VALUE=PERIOD",
        ";value=date",
    ),
]
_VALUES = [
    *("20240301T100000Z", "20240301T100000", "20240301", "2024-03-01", "20240301T250000Z", "20240230T100000", "20240301T100000z"),
    *("20240301T100000Z,20240302T100000Z", "20240301,20240302", "20240301T100000Z/PT1H", " 20240301T100000Z", ""),
    *("mailto:ana@acme.example", "MAILTO:Ana@Acme.Example", "ana@acme.example", "urn:x-room:1", "a\\,b", "a\\nb"),
    *("FREQ=WEEKLY;COUNT=3", "FREQ=WEEKLY;UNTIL=20240401", "FREQ=SOMETIMES", "FREQ=WEEKLY;BYDAY=MO, TU", "freq=daily"),
    *("PT45M", "-PT1H", "P1W", "P", "P1DT", "P1W2D", "PT1H30M", "99999999999999999999D", "CANCELLED", "TRANSPARENT", "x"),
]
_lines = st.tuples(st.sampled_from(_LINE_NAMES), st.lists(st.sampled_from(_PARAMETERS), max_size=2), st.sampled_from(_VALUES))


@settings(max_examples=300, deadline=None)
@given(st.lists(_lines.map(lambda t: t[0] + "".join(t[1]) + ":" + t[2]), max_size=5))
def test_the_fast_path_reads_an_event_as_icalendar_does_or_leaves_it_to_icalendar(lines: list[str]) -> None:
    used = used_lines(lines)
    fast = parse_fast(used)
    assert fast is None or fast == parse_reference(used)


_INSERTS = [
    *("BEGIN:VEVENT", "END:VEVENT", "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VALARM", "END:VALARM", " folded on"),
    *("RRULE:FREQ=DAILY", "RRULE:FREQ=WEEKLY;UNTIL=20240101", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", "UID:same"),
    *("EXDATE;VALUE=DATE:20240102", "EXDATE:20240101T100000", "RDATE;VALUE=PERIOD:20240101T100000Z/PT1H"),
    *("RECURRENCE-ID:20240101T100000Z", "RECURRENCE-ID;VALUE=DATE:20240101", "DTSTART;VALUE=DATE:20240101", "DURATION:P1D"),
    *("DTSTART;TZID=Europe/Berlin:20240101T100000", "DTEND:20240101T100000", "X-WR-TIMEZONE:Europe/Berlin", "SEQUENCE:5"),
    *("ORGANIZER:mailto:x@acme.example", "ATTENDEE:mailto:a@acme.example", "STATUS:CANCELLED", "DTSTART:00010101T000000"),
]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([p for p in FIXTURES if p.name not in REFERENCE_DIFFERS]),
    st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([None, *_INSERTS])), min_size=1, max_size=6),
    st.booleans(),
)
def test_a_damaged_calendar_never_stops_the_reader(path: Path, edits: list[tuple[int, str | None]], windowed: bool) -> None:
    """Lines deleted or inserted anywhere: every record is read or quarantined, the same way on both paths."""
    lines = path.read_text().splitlines()
    for at, line in edits:
        if line is None:
            del lines[at % len(lines)]
        else:
            lines.insert(at % (len(lines) + 1), line)
    with tempfile.TemporaryDirectory() as folder:
        damaged = Path(folder) / "damaged.ics"
        damaged.write_text("\n".join(lines) + "\n")
        window = WINDOW if windowed else None
        try:
            found = read(damaged, window)
        except InputError:  # only where the first (unfolded) line is no longer BEGIN:VCALENDAR
            assert not re.sub(r"\n[ \t]", "", "\n".join(lines)).upper().startswith("BEGIN:VCALENDAR\n")
            return
        assert found == read(damaged, window, reader=read_ics_reference)


def _events(path: Path) -> Iterator[list[tuple[str, str]]]:
    text = io.StringIO(path.read_bytes().decode("utf-8-sig", "replace"), newline="")
    for block in blocks(text, path):
        if block.kind == EVENT:
            yield used_lines(block.lines)


# The calendars icalendar and recurring-ical-events test themselves with

WINDOW = Window(utc(2000, 1, 1), utc(2030, 1, 1))

# Where read_ics deliberately differs from recurring-ical-events.
DIFFERENT = {
    "icalendar/tests/calendars/issue_526_calendar_with_different_events.ics": "an unknown TZID rejects the event (icalendar reads it floating)",
    "icalendar/tests/calendars/issue_526_calendar_with_event_subset.ics": "an unknown TZID rejects the event",
    "icalendar/tests/calendars/issue_526_calendar_with_events.ics": "an unknown TZID rejects the event",
    "icalendar/tests/calendars/issue_526_calendar_with_shuffeled_events.ics": "an unknown TZID rejects the event",
    "recurring_ical_events/test/calendars/end_before_start_event.ics": "an end before the start rejects the event",
    "recurring_ical_events/test/calendars/issue_132_swapped_start_and_end.ics": "an end before the start rejects the event",
    "recurring_ical_events/test/calendars/issue_75_range_parameter.ics": "RANGE=THISANDFUTURE overrides one occurrence only",
}


def _with_organizer(data: bytes) -> bytes:
    """Return a calendar whose every event has one mail-address ORGANIZER, so that occurrences, not organizers, are compared."""
    text = re.sub(r"\r?\n[ \t]", "", data.decode("utf-8", "replace"))
    text = re.sub(r"(?im)^ORGANIZER[;:].*\r?\n", "", text)
    return re.sub(r"(?im)^(BEGIN:VEVENT\r?\n)", r"\1ORGANIZER:mailto:organizer@example.com\r\n", text).encode()


def _starts_by_recurring_ical_events(data: bytes) -> set[tuple[str, datetime]] | None:
    def utc_of(value: date) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.combine(value, datetime.min.time(), UTC)

    assert WINDOW.start and WINDOW.end
    found = set()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for cal in icalendar.Calendar.from_ical(data, multiple=True):
                for event in recurring_ical_events.of(cal).between(WINDOW.start, WINDOW.end):
                    if "UID" in event and "DTSTART" in event:
                        found.add((str(event["UID"]), utc_of(event["DTSTART"].dt)))
    except Exception:
        return None  # recurring-ical-events cannot read it either
    return {(uid, start) for uid, start in found if WINDOW.start <= start < WINDOW.end}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(SITE)))
def test_shipped_calendars_read_without_error_and_expand_as_recurring_ical_events_does(path: Path, tmp_path: Path) -> None:
    name = str(path.relative_to(SITE))
    head = path.read_bytes().removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head.upper().startswith(b"BEGIN:VCALENDAR"):
        with pytest.raises(InputError, match="not an iCalendar file"):
            read(path)
        return
    read(path)
    data = _with_organizer(path.read_bytes())
    (tmp_path / "calendar.ics").write_bytes(data)
    ours = read(tmp_path / "calendar.ics", WINDOW)
    assert ours == read(tmp_path / "calendar.ics", WINDOW, reader=read_ics_reference)
    theirs = _starts_by_recurring_ical_events(data)
    if theirs is None:
        pytest.skip("recurring-ical-events cannot read it")
    # A non-recurring event is yielded whatever the window; the comparison keeps the window's.
    found = {(m.uid, m.start) for m in ours if isinstance(m, Meeting) and WINDOW.start <= m.start < WINDOW.end}  # type: ignore[operator]
    if name in DIFFERENT:
        assert found != theirs, f"no longer different: {DIFFERENT[name]}"
    else:
        assert found == theirs


# The synthetic company: the iCalendar export holds the meetings of the CSV export


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    csv_folder, mixed_folder = tmp_path_factory.mktemp("csv"), tmp_path_factory.mktemp("mixed")
    generate(csv_folder, people=60, months=3, seed=5, formats="csv")
    generate(mixed_folder, people=60, months=3, seed=5, formats="mixed")
    return csv_folder, mixed_folder


Row = tuple[str, datetime, datetime, str, frozenset[str], bool, bool, bool]


def _rows_of_ics(path: Path) -> Counter[Row]:
    found: Counter[Row] = Counter()
    for m in read(path):
        assert isinstance(m, Meeting), m
        declined = frozenset(a.address for a in m.attendees if a.response == "declined")
        found[(m.key, m.start, m.end, m.organizer, declined, m.is_cancelled, m.is_all_day, m.is_transparent)] += 1
    return found


def _rows_of_csv(path: Path) -> Counter[Row]:
    found: Counter[Row] = Counter()
    with open_source(path) as source:
        for batch in read_calendar_csv(source):
            assert isinstance(batch, MeetingBatch), batch
            events = batch.events.to_pylist()
            declined: dict[int, set[str]] = {}
            for p in batch.participants.to_pylist():
                if p["response"] == "declined":
                    declined.setdefault(p["event"], set()).add(p["address"])
            for i, e in enumerate(events):
                row = (e["key"], e["start"], e["end"], e["organizer"], frozenset(declined.get(i, ())))
                found[(*row, e["is_cancelled"], e["is_all_day"], e["is_transparent"])] += 1
    return found


def test_the_icalendar_export_holds_the_meetings_of_the_csv_export(exports: tuple[Path, Path]) -> None:
    csv_folder, mixed_folder = exports
    ics = sorted((mixed_folder / "calendar").glob("*.ics"))
    assert ics
    for path in ics:
        expected = _rows_of_csv(csv_folder / "calendar" / f"{path.stem}.csv")
        found = _rows_of_ics(path)
        assert found == expected, path.name
        assert any(row[5] for row in found) and any(row[6] for row in found) and any(row[4] for row in found)


def test_the_fast_path_reads_every_event_of_the_synthetic_export(exports: tuple[Path, Path]) -> None:
    _, mixed_folder = exports
    events = [used for path in sorted((mixed_folder / "calendar").glob("*.ics")) for used in _events(path)]
    assert events and all(parse_fast(used) is not None for used in events)


# Inputs a fuzzer found: each bad series or event is rejected, and reading goes on in bounded time.


def _fuzz(name: str, window: Window | None = None) -> list[Meeting | Rejected]:
    return read(DATA / f"fuzz_{name}.ics", window)


def _reasons(records: list[Meeting | Rejected]) -> list[tuple[str, str]]:
    return [(r.field, r.reason) for r in records if isinstance(r, Rejected)]


@pytest.mark.parametrize(
    ("name", "field", "reason"),
    [
        ("interval0", "RRULE", "INTERVAL must be positive"),
        ("byday99", "RRULE", "cannot be expanded (IndexError)"),
        ("rid_year1", "RECURRENCE-ID", "too near the year 1 or 9999"),
        ("tzid_long", "DTSTART", "unknown time zone"),
        ("vtimezone_bad_rrule", "VTIMEZONE", "outside RFC 5545's ranges"),
        ("vtimezone_bymonth99", "VTIMEZONE", "outside RFC 5545's ranges"),
        ("secondly_window", "RRULE", "more often than hourly"),
        ("minutely_from_1900_window", "RRULE", "more often than hourly"),
    ],
)
def test_a_rule_zone_or_time_that_cannot_be_expanded_is_rejected(name: str, field: str, reason: str) -> None:
    found = _fuzz(name)
    assert [(f, r) for f, r in _reasons(found) if reason in r] == [(field, _reasons(found)[0][1])]
    assert not [r for r in found if isinstance(r, Meeting)]


@pytest.mark.parametrize("rule", ["FREQ=DAILY;COUNT=0", "FREQ=DAILY;COUNT=-2", "FREQ=WEEKLY;INTERVAL=-1"])
def test_a_count_or_interval_below_one_rejects_the_rule(tmp_path: Path, rule: str) -> None:
    found = read(calendar(tmp_path, f"UID:u\nDTSTART:20240101T090000Z\nRRULE:{rule}"))
    assert [(r.field, "must be positive" in r.reason) for r in found if isinstance(r, Rejected)] == [("RRULE", True)]


def test_a_huge_sequence_is_read_not_raised() -> None:
    assert [r.start for r in _fuzz("seq5000") if isinstance(r, Meeting)] == [utc(2024, 1, 1, 9)]


@pytest.mark.parametrize("tzid", ["/etc/localtime", "localtime", "/usr/lib/posixrules"])
def test_a_tzid_must_name_a_zone_not_a_file(tmp_path: Path, tzid: str) -> None:
    found = read(calendar(tmp_path, f"UID:u\nDTSTART;TZID={tzid}:20240101T090000"))
    assert [r.field for r in found if isinstance(r, Rejected)] == ["DTSTART"]


def test_a_series_past_the_occurrence_limit_is_rejected_naming_it() -> None:
    found = _fuzz("count1e9")
    meetings = [r for r in found if isinstance(r, Meeting)]
    assert len(meetings) <= MAX_OCCURRENCES
    assert [(f, f"{MAX_OCCURRENCES:,}" in r and "calendar_until" in r) for f, r in _reasons(found)] == [("RRULE", True)]
    # A daily series from the year 1 walks past the limit long before a window in 2024.
    found = _fuzz("daily_from_year1_window", Window(utc(2024, 1, 1), utc(2024, 3, 1)))
    assert not [r for r in found if isinstance(r, Meeting)]
    assert [f for f, r in _reasons(found) if "calendar_from" in r] == ["RRULE"]


def test_a_rule_that_never_occurs_gives_only_dtstart() -> None:
    for window in (None, Window(utc(2024, 1, 1), utc(2030, 1, 1))):
        assert [r.start for r in _fuzz("hourly_feb31", window)] == [utc(2024, 1, 1, 9)]


def test_an_override_moved_past_the_window_end_is_left_out() -> None:
    found = _fuzz("override_moved_out_of_window", Window(utc(2024, 1, 1), utc(2024, 1, 10)))
    starts = [r.start for r in found if isinstance(r, Meeting)]
    assert starts == [utc(2024, 1, day, 9) for day in (1, 2, 3, 4, 6, 7, 8, 9)]
    # Without a window it is yielded, at its own start.
    assert utc(2024, 3, 1, 9) in [r.start for r in _fuzz("override_moved_out_of_window") if isinstance(r, Meeting)]
