"""The mixed-format exports hold exactly the events of the CSV exports, read back by independent parsers.

mbox through the standard library's `mailbox`, iCalendar through `icalendar`
and `recurring-ical-events` (which expand the series, exceptions and
exclusions the writer folded), Graph JSON through `json`.
"""

from __future__ import annotations

import json
import mailbox
from datetime import UTC, date, datetime
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pandas as pd
import pytest
import recurring_ical_events

from repsight.synth import generate
from repsight.synth.formats import WINDOWS_ZONES

Event = tuple[str, str, str, str, tuple[str, ...], tuple[str, ...], bool, bool]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same company written as CSV and as a mixed export."""
    csv_folder, mixed_folder = tmp_path_factory.mktemp("csv"), tmp_path_factory.mktemp("mixed")
    generate(csv_folder, people=130, months=3, seed=11, formats="csv")
    generate(mixed_folder, people=130, months=3, seed=11, formats="mixed")
    return csv_folder, mixed_folder


def _utc(value: str | datetime | date) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value if len(value) == 10 else _utc(datetime.fromisoformat(value))


def csv_messages(folder: Path) -> dict[str, tuple[str, str, frozenset[str], frozenset[str]]]:
    found = {}
    for path in sorted((folder / "mail").glob("*.csv")):
        for row in pd.read_csv(path, dtype=str, keep_default_na=False).itertuples():
            found[row.message_id] = (
                _utc(row.sent_at),
                row.sender,
                frozenset(filter(None, row.to.split(";"))),
                frozenset(filter(None, row.cc.split(";"))),
            )
    return found


def mixed_messages(folder: Path) -> dict[str, tuple[str, str, frozenset[str], frozenset[str]]]:
    found = csv_messages(folder)
    maildirs = [mailbox.Maildir(path, create=False) for path in sorted((folder / "mail").iterdir()) if path.is_dir()]
    for box in [*(mailbox.mbox(path) for path in sorted((folder / "mail").glob("*.mbox"))), *maildirs]:
        for message in box:
            key = message["Message-ID"].strip("<>")
            found[key] = (
                _utc(parsedate_to_datetime(message["Date"])),
                getaddresses([message["From"]])[0][1],
                frozenset(a for _, a in getaddresses(message.get_all("To", []))),
                frozenset(a for _, a in getaddresses(message.get_all("Cc", []))),
            )
    for path in sorted((folder / "mail").glob("*.json")):
        for line in path.read_text().splitlines():
            m = json.loads(line)
            found[m["internetMessageId"].strip("<>")] = (
                m["sentDateTime"],
                m["from"]["emailAddress"]["address"],
                frozenset(r["emailAddress"]["address"] for r in m["toRecipients"]),
                frozenset(r["emailAddress"]["address"] for r in m["ccRecipients"]),
            )
    return found


def csv_meetings(folder: Path) -> set[Event]:
    found = set()
    for path in sorted((folder / "calendar").glob("*.csv")):
        for row in pd.read_csv(path, dtype=str, keep_default_na=False).itertuples():
            found.add((
                row.event_id, _utc(row.start), _utc(row.end), row.organizer,
                tuple(sorted(filter(None, row.attendees.split(";")))), tuple(sorted(filter(None, row.declined.split(";")))),
                row.is_cancelled == "true", row.is_transparent == "true",
            ))  # fmt: skip
    return found


def mixed_meetings(folder: Path) -> set[Event]:
    found = csv_meetings(folder)
    for path in sorted((folder / "calendar").glob("*.ics")):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        for event in recurring_ical_events.of(calendar).between(date(2024, 6, 1), date(2025, 2, 1)):
            attendees = event.get("attendee", [])
            attendees = attendees if isinstance(attendees, list) else [attendees]
            found.add((
                str(event["uid"]), _utc(event["dtstart"].dt), _utc(event["dtend"].dt), str(event["organizer"]).removeprefix("mailto:"),
                tuple(sorted(str(a).removeprefix("mailto:") for a in attendees)),
                tuple(sorted(str(a).removeprefix("mailto:") for a in attendees if a.params.get("PARTSTAT") == "DECLINED")),
                str(event.get("status", "")) == "CANCELLED", str(event.get("transp", "")) == "TRANSPARENT",
            ))  # fmt: skip
    for path in sorted((folder / "calendar").glob("*.json")):
        for line in path.read_text().splitlines():
            found.add(_graph_event(json.loads(line)))
    return found


def _graph_event(e: dict[str, Any]) -> Event:
    windows = {v: k for k, v in WINDOWS_ZONES.items()}

    def moment(value: dict[str, str]) -> str:
        local = datetime.fromisoformat(value["dateTime"][:19])
        if e["isAllDay"]:
            return local.date().isoformat()
        return _utc(local.replace(tzinfo=ZoneInfo(windows[value["timeZone"]])))

    people = [a["emailAddress"]["address"] for a in e["attendees"]]
    declined = [a["emailAddress"]["address"] for a in e["attendees"] if a["status"]["response"] == "declined"]
    return (
        e["iCalUId"], moment(e["start"]), moment(e["end"]), e["organizer"]["emailAddress"]["address"],
        tuple(sorted(people)), tuple(sorted(declined)), e["isCancelled"], e["showAs"] == "free",
    )  # fmt: skip


def test_mixed_export_uses_every_format(both: tuple[Path, Path]) -> None:
    _, mixed = both
    suffixes = {p.suffix for p in (mixed / "mail").iterdir()} | {p.suffix for p in (mixed / "calendar").iterdir()}
    assert suffixes == {".mbox", "", ".ics", ".json", ".csv"}  # "": a maildir folder
    assert any((mixed / "mail").glob("*/cur/*:2,S"))
    text = "\n".join(p.read_text() for p in (mixed / "calendar").glob("*.ics"))
    for feature in (
        "RRULE:FREQ=WEEKLY",
        "EXDATE",
        "RECURRENCE-ID",
        "RDATE",
        "STATUS:CANCELLED",
        "TRANSP:TRANSPARENT",
        "PARTSTAT=DECLINED",
        "BEGIN:VTIMEZONE",
        "VALUE=DATE",
    ):
        assert feature in text, feature


def test_every_message_reads_back_the_same_from_mbox_graph_and_csv(both: tuple[Path, Path]) -> None:
    csv_folder, mixed = both
    assert mixed_messages(mixed) == csv_messages(csv_folder)


def test_every_meeting_occurrence_reads_back_the_same_from_ics_graph_and_csv(both: tuple[Path, Path]) -> None:
    csv_folder, mixed = both
    expected, found = csv_meetings(csv_folder), mixed_meetings(mixed)
    assert found - expected == set()
    assert expected - found == set()


def test_the_mixed_export_is_byte_for_byte_repeatable(both: tuple[Path, Path], tmp_path: Path) -> None:
    _, mixed = both
    generate(tmp_path, people=130, months=3, seed=11, formats="mixed")
    for path in sorted(p for p in mixed.rglob("*") if p.is_file()):
        assert (tmp_path / path.relative_to(mixed)).read_bytes() == path.read_bytes(), path.name


def test_graph_events_of_a_series_are_occurrences_of_one_master(both: tuple[Path, Path]) -> None:
    _, mixed = both
    events = [json.loads(line) for path in (mixed / "calendar").glob("*.json") for line in path.read_text().splitlines()]
    by_uid: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_uid.setdefault(e["iCalUId"], []).append(e)
    repeated = [group for group in by_uid.values() if len(group) > 1]
    assert repeated
    for group in repeated:
        assert {e["type"] for e in group} <= {"occurrence", "exception"}, group[0]["iCalUId"]
        assert len({e["seriesMasterId"] for e in group}) == 1
    assert any(e["type"] == "exception" for e in events) and any(e["type"] == "singleInstance" for e in events)
