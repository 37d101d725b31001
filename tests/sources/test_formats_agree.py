"""Every format gives the same normalised records: random valid mail and meetings, written in each format, read back.

The writers are the synthetic organisation's (`repsight.synth.formats`),
which build mbox and maildir messages with `email.utils`, iCalendar with
`icalendar` (folding weekly occurrences back into RRULE or RDATE series with
EXDATE and RECURRENCE-ID overrides) and Graph JSON with `json`; the readers
are repsight's. CSV carries neither display names nor accepted/none
responses, so those are compared among the formats that carry them.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repsight.sources.records import Meeting, Message
from repsight.synth.activity import SynthMeeting, SynthMessage
from repsight.synth.formats import CsvCalendar, CsvMail, GraphCalendar, GraphMail, IcsCalendar, MaildirMail, MboxMail
from tests.support import read_records

PEOPLE = [
    "ana@acme.example",
    "bo.berg@acme.example",
    "cy@acme.example",
    "dee@acme.example",
    "kim.lee@customer.example",
    "ola@partner.example",
]
NAMES = {
    "ana@acme.example": "Ana Brandt",
    "bo.berg@acme.example": "Bo Berg-Ødegård",
    "kim.lee@customer.example": "Lee, Kim",
    "ola@partner.example": "Ola (Partner) Nilsen",
}
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


_moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)


@st.composite
def synth_messages(draw: st.DrawFn) -> list[SynthMessage]:
    found = []
    for n in range(draw(st.integers(1, 6))):
        people = st.sampled_from(PEOPLE)
        found.append(
            SynthMessage(
                message_id=f"{n}.{draw(st.integers(0, 10**6))}@mail.acme.example",
                sent_at=draw(_moments),
                sender=draw(people),
                to=draw(st.lists(people, min_size=1, max_size=4, unique=True)),
                cc=draw(st.lists(people, max_size=3, unique=True)),
                bcc=draw(st.lists(people, max_size=2, unique=True)),
            )
        )
    return found


@st.composite
def synth_meetings(draw: st.DrawFn) -> list[SynthMeeting]:
    found: list[SynthMeeting] = []
    for n in range(draw(st.integers(1, 4))):
        zone = ZoneInfo(draw(st.sampled_from(ZONES)))
        organizer = draw(st.sampled_from(PEOPLE))
        others = draw(st.lists(st.sampled_from([p for p in PEOPLE if p != organizer]), min_size=1, max_size=4, unique=True))
        first = draw(_moments).astimezone(zone).replace(minute=draw(st.sampled_from([0, 30])), second=0)
        length = timedelta(minutes=draw(st.sampled_from([30, 45, 60, 90])))
        all_day = draw(st.booleans()) and draw(st.booleans())
        occurrences = draw(st.integers(1, 5)) if not all_day else 1
        weeks = sorted(draw(st.lists(st.integers(0, 8), min_size=occurrences, max_size=occurrences, unique=True)))
        for week in weeks:
            due = first + timedelta(weeks=week - weeks[0])
            moved = occurrences > 1 and draw(st.booleans()) and draw(st.booleans())
            start = due + timedelta(hours=2) if moved else due
            if all_day:
                start = datetime.combine(start.date(), datetime.min.time(), UTC)
                end = start + timedelta(days=1)
            else:
                end = start + length
            found.append(
                SynthMeeting(
                    uid=f"u{n}.{draw(st.integers(0, 10**6))}@acme.example",
                    start=start,
                    end=end,
                    organizer=organizer,
                    attendees=others,
                    declined=draw(st.lists(st.sampled_from(others), max_size=len(others), unique=True)),
                    cancelled=draw(st.booleans()) and draw(st.booleans()),
                    all_day=all_day,
                    transparent=draw(st.booleans()) and draw(st.booleans()),
                    original_start=due if moved else None,
                    series=occurrences > 1,
                )
            )
        # A series keeps one UID for all its occurrences.
        for i in range(len(found) - occurrences, len(found)):
            found[i].uid = found[len(found) - occurrences].uid
    return found


def _write(writer: Any, events: list[Any], method: str) -> None:
    for event in events:
        getattr(writer, method)(event)
    writer.close()


def _graph_variants(path: Path) -> list[Path]:
    """Return the JSON Lines file re-written as a JSON array and as paged envelopes."""
    resources = [json.loads(line) for line in path.read_text().splitlines()]
    array, pages = path.with_suffix(".array.json"), path.with_suffix(".pages.json")
    array.write_text(json.dumps(resources, indent=1))
    half = len(resources) // 2
    envelopes = [
        {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/messages", "value": resources[:half]},
        {"value": resources[half:], "@odata.nextLink": None},
    ]
    pages.write_text("\n".join(json.dumps(e) for e in envelopes))
    return [path, array, pages]


def message_view(m: Message, names: bool) -> tuple[object, ...]:
    recipients = tuple((r.address.lower(), r.kind, r.name if names else "") for r in m.recipients)
    return (m.key, m.sent_at.astimezone(UTC), m.sender.lower(), m.sender_name if names else "", recipients, m.parent_key)


@SETTINGS
@given(synth_messages())
def test_every_mail_format_gives_the_same_messages(messages: list[SynthMessage]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _write(CsvMail(root / "mail.csv"), messages, "message")
        _write(MboxMail(root / "mail.mbox", NAMES), messages, "message")
        _write(MaildirMail(root / "maildir", NAMES), messages, "message")
        _write(GraphMail(root / "mail.jsonl", NAMES), messages, "message")
        paths = [root / "mail.csv", root / "mail.mbox", root / "maildir", *_graph_variants(root / "mail.jsonl")]
        # A maildir's files are in the order of their names, not of the export: compare sorted.
        views = {path.name: sorted(message_view(m, False) for m in read_records("mail", path)) for path in paths}
        expected = views["mail.csv"]
        assert len(expected) == len({m.message_id for m in messages})
        for name, view in views.items():
            assert view == expected, name
        named = sorted(message_view(m, True) for m in read_records("mail", root / "mail.mbox"))
        assert named == sorted(message_view(m, True) for m in read_records("mail", root / "mail.jsonl"))
        assert named == sorted(message_view(m, True) for m in read_records("mail", root / "maildir"))


def meeting_view(m: Meeting, responses: bool) -> tuple[object, ...]:
    def response(value: str) -> str:
        return value if responses or value in ("organizer", "declined") else "attending"

    people = tuple(sorted((a.address.lower(), response(a.response)) for a in m.attendees))
    return (
        m.key,
        m.start.astimezone(UTC),
        m.end.astimezone(UTC),
        m.organizer.lower(),
        people,
        m.is_cancelled,
        m.is_all_day,
        m.is_transparent,
    )


@SETTINGS
@given(synth_meetings())
def test_every_calendar_format_gives_the_same_occurrences(meetings: list[SynthMeeting]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _write(CsvCalendar(root / "calendar.csv"), meetings, "meeting")
        _write(IcsCalendar(root / "calendar.ics", NAMES), meetings, "meeting")
        _write(GraphCalendar(root / "calendar.jsonl", NAMES), meetings, "meeting")
        expected = sorted(meeting_view(m, False) for m in read_records("calendar", root / "calendar.csv"))
        assert len(expected) == len({(m.uid, m.start) for m in meetings})
        assert sorted(meeting_view(m, False) for m in read_records("calendar", root / "calendar.ics")) == expected
        for path in _graph_variants(root / "calendar.jsonl"):
            assert sorted(meeting_view(m, False) for m in read_records("calendar", path)) == expected, path.name
        assert sorted(meeting_view(m, True) for m in read_records("calendar", root / "calendar.ics")) == sorted(
            meeting_view(m, True) for m in read_records("calendar", root / "calendar.jsonl")
        )


def _tables(config: Any) -> dict[str, list[tuple[object, ...]]]:
    import duckdb

    with duckdb.connect(str(config.database_path), read_only=True) as db:
        return {
            "messages": db.sql("select message_key, sent_at, sender, recipient_count from messages order by 1").fetchall(),
            "recipients": db.sql("select message_key, recipient, kind from message_recipients order by 1, 2").fetchall(),
            "meetings": db.sql(
                "select meeting_key, series_key, start_at, end_at, organizer, is_cancelled, is_all_day, is_transparent,"
                " attendee_count from meetings order by 1"
            ).fetchall(),
            "attendees": db.sql(
                "select meeting_key, attendee, response = 'declined' from meeting_attendees order by 1, 2"
            ).fetchall(),
        }


@pytest.mark.slow
def test_a_mixed_export_stores_exactly_what_its_csv_export_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from repsight.ingest import run_ingest
    from repsight.privacy import KEY_ENV
    from repsight.synth import generate
    from repsight.workspace import init_workspace

    monkeypatch.setenv(KEY_ENV, "one-key-for-both-workspaces")  # so pseudonyms agree
    stored = []
    for formats in ("csv", "mixed"):
        config = init_workspace(tmp_path / formats, domains=["acme.example"], mail=["mail/*"], calendar=["calendar/*"])
        generate(config.root, people=130, months=3, seed=11, formats=formats)
        report = run_ingest(config)
        assert report.ok and report.total().quarantined == 0
        stored.append(_tables(config))
    csv, mixed = stored
    assert len(csv["messages"]) > 10_000 and len(csv["meetings"]) > 3_000
    for table in csv:
        assert mixed[table] == csv[table], table
