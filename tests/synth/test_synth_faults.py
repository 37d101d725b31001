"""Faults planted in the synthetic company: missing mailboxes and calendars, holiday weeks, leave, second addresses.

The exports are read back with repsight's own readers, every format of a
mixed export; `truth.json` says what was planted, and the same company
without faults is the oracle for what the faults took away.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from repsight.sources.records import Meeting, Message
from repsight.synth import Faults, generate
from repsight.synth.writers import MAILBOXES_PER_FILE
from tests.support import read_records

COMPANY: dict[str, Any] = {"people": 60, "months": 3, "seed": 5, "start": date(2024, 10, 1), "formats": "mixed"}
WEEK = timedelta(days=7)
ONLY_MISSING = Faults(holiday_weeks=0, leave_share=0.0, duplicates=0)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@dataclass
class Export:
    """A generated company as its files give it."""

    folder: Path
    roster: list[str]  # the roster's addresses, in its order
    truth: dict[str, Any]
    mail: dict[int, list[Message]]  # by group of mailboxes
    meetings: dict[int, list[Meeting]]

    def messages(self) -> dict[str, Message]:
        return {m.key: m for group in self.mail.values() for m in group}

    def events(self) -> list[Message | Meeting]:
        meetings = {m.key: m for group in self.meetings.values() for m in group}
        return [*self.messages().values(), *meetings.values()]


def _group(path: Path) -> int:
    """Return the group of mailboxes a file exports: `export-003.mbox` and `export-003/cur/…` are group 2."""
    name = next(part for part in path.parts if part.startswith("export-"))
    return int(name.removeprefix("export-").split(".")[0]) - 1


def read_export(folder: Path) -> Export:
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False).email.tolist()
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    mail: dict[int, list[Message]] = {}
    for path in sorted(p for p in (folder / "mail").rglob("*") if p.is_file()):
        mail.setdefault(_group(path), []).extend(read_records("mail", path))
    meetings: dict[int, list[Meeting]] = {}
    for path in sorted((folder / "calendar").iterdir()):
        meetings.setdefault(_group(path), []).extend(read_records("calendar", path))
    return Export(folder, roster, truth, mail, meetings)


def parties(event: Message | Meeting) -> set[str]:
    if isinstance(event, Message):
        return {event.sender, *(r.address for r in event.recipients)}
    return {event.organizer, *(a.address for a in event.attendees)}


def moment(event: Message | Meeting) -> datetime:
    return event.sent_at if isinstance(event, Message) else event.start


def utc_monday(event: Message | Meeting) -> date:
    day = moment(event).astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Export:
    folder = tmp_path_factory.mktemp("plain")
    generate(folder, **COMPANY)
    return read_export(folder)


@pytest.fixture(scope="module")
def missing(tmp_path_factory: pytest.TempPathFactory) -> Export:
    """The same company with missing mailboxes and calendars only."""
    folder = tmp_path_factory.mktemp("missing")
    generate(folder, **COMPANY, faults=ONLY_MISSING)
    return read_export(folder)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Export:
    """The same company with every fault, as `Faults()` plants them by default."""
    folder = tmp_path_factory.mktemp("faulty")
    generate(folder, **COMPANY, faults=Faults())
    return read_export(folder)


def test_without_faults_every_file_is_what_generate_always_wrote(plain: Export, tmp_path: Path) -> None:
    generate(tmp_path, **COMPANY, faults=None)
    assert digest(tmp_path) == digest(plain.folder)
    assert "faults" not in plain.truth


def test_faults_leave_the_roster_the_crm_and_the_planted_skills_as_they_were(plain: Export, faulty: Export) -> None:
    for name in ("roster.csv", "accounts.csv", "kpis.csv"):
        assert (faulty.folder / name).read_bytes() == (plain.folder / name).read_bytes(), name
    assert {k: v for k, v in faulty.truth.items() if k != "faults"} == plain.truth


def test_truth_records_each_fault_planted(faulty: Export) -> None:
    faults = faulty.truth["faults"]
    reps = set(faulty.truth["reps"])
    assert faults["params"] == Faults().as_dict() | {"leave_weeks": [2, 6], "duplicate_weeks": [4, 10]}
    for key in ("missing_mailbox", "missing_calendar"):
        assert len(set(faults[key]) & reps) == round(0.05 * len(reps)) and len(set(faults[key]) - reps) == 2, key
    assert faults["holiday_weeks"][-1] == "2024-12-23" and len(faults["holiday_weeks"]) == 2
    assert len(faults["leave"]) == round(0.04 * 60) and len(faults["duplicates"]) == 3
    for span in [*faults["leave"].values(), *faults["duplicates"].values()]:
        first, last = date.fromisoformat(span["first"]), date.fromisoformat(span["last"])
        assert first.weekday() == 0 and last.weekday() == 0 and first <= last
    for span in faults["leave"].values():
        assert 2 * WEEK <= date.fromisoformat(span["last"]) - date.fromisoformat(span["first"]) + WEEK <= 6 * WEEK
    everyone = [*faults["missing_mailbox"], *faults["missing_calendar"], *faults["leave"], *faults["duplicates"]]
    assert len(everyone) == len(set(everyone)), "one fault a person"


def test_a_group_exports_an_event_only_where_a_present_mailbox_or_calendar_of_it_holds_it(plain: Export, missing: Export) -> None:
    group = {a: i // MAILBOXES_PER_FILE for i, a in enumerate(plain.roster)}
    for kind, gone in (
        ("mail", missing.truth["faults"]["missing_mailbox"]),
        ("meetings", missing.truth["faults"]["missing_calendar"]),
    ):
        before: dict[int, list[Message | Meeting]] = getattr(plain, kind)
        after: dict[int, list[Message | Meeting]] = getattr(missing, kind)
        for g in before:
            held = {e.key for e in before[g] if any(group.get(a) == g and a not in gone for a in parties(e))}
            assert {e.key for e in after.get(g, [])} == held, (kind, g)
            assert len(held) < len({e.key for e in before[g]}) or not any(group[a] == g for a in gone)


def test_a_reps_mail_with_customers_only_is_nowhere_without_their_mailbox_but_mail_with_a_colleague_is(
    plain: Export, missing: Export
) -> None:
    gone = set(missing.truth["faults"]["missing_mailbox"])
    internal = set(plain.roster)
    after = missing.messages()
    for rep in gone & set(missing.truth["reps"]):
        alone = [k for k, m in plain.messages().items() if parties(m) & internal == {rep}]
        shared = [k for k, m in plain.messages().items() if rep in parties(m) and (parties(m) & internal) - gone - {rep}]
        assert len(alone) > 20 and not set(alone) & set(after), rep
        assert len(shared) > 20 and set(shared) <= set(after), rep


def test_meetings_only_a_missing_calendar_holds_are_nowhere_but_those_with_a_present_colleague_are(
    plain: Export, missing: Export
) -> None:
    gone = set(missing.truth["faults"]["missing_calendar"])
    internal = set(plain.roster)
    before = {m.key: m for group in plain.meetings.values() for m in group}
    after = {m.key for group in missing.meetings.values() for m in group}
    for rep in gone & set(missing.truth["reps"]):
        alone = [k for k, m in before.items() if parties(m) & internal == {rep}]
        shared = [k for k, m in before.items() if rep in parties(m) and (parties(m) & internal) - gone - {rep}]
        assert len(alone) > 5 and not set(alone) & after, rep
        assert len(shared) > 5 and set(shared) <= after, rep


def test_holiday_weeks_have_a_tenth_of_the_events_of_the_weeks_around_them(plain: Export, faulty: Export) -> None:
    counts = Counter(utc_monday(e) for e in faulty.events())
    usual = Counter(utc_monday(e) for e in plain.events())
    for week in map(date.fromisoformat, faulty.truth["faults"]["holiday_weeks"]):
        around = min(counts[week - WEEK], counts[week + WEEK])
        assert 0 < counts[week] < 0.1 * around and usual[week] > 0.5 * around, week


def test_a_person_on_leave_is_in_no_event_of_their_leave_weeks(plain: Export, faulty: Export) -> None:
    for person, span in faulty.truth["faults"]["leave"].items():
        weeks = {date.fromisoformat(span["first"]) + i * WEEK for i in range(7)}
        weeks = {w for w in weeks if w <= date.fromisoformat(span["last"])}
        assert [e for e in faulty.events() if person in parties(e) and utc_monday(e) in weeks] == [], person
        assert sum(person in parties(e) and utc_monday(e) in weeks for e in plain.events()) > 5 * len(weeks), person
        assert any(person in parties(e) and utc_monday(e) == min(weeks) - WEEK for e in faulty.events()), person


def test_a_second_address_sends_and_receives_in_its_span_never_beside_the_roster_address(faulty: Export) -> None:
    names = {m.sender: m.sender_name for m in faulty.messages().values() if m.sender_name}
    holidays = faulty.truth["faults"]["holiday_weeks"]
    for person, alias in faulty.truth["faults"]["duplicates"].items():
        address, first, last = alias["alias"], alias["first"], alias["last"]
        assert address not in faulty.roster and address.endswith("@acme.example")
        used = [e for e in faulty.events() if address in parties(e)]
        assert sum(isinstance(e, Message) and e.sender == address for e in used) > 5
        assert sum(isinstance(e, Message) and e.sender != address for e in used) > 5
        span = [w for w in (date.fromisoformat(first) + i * WEEK for i in range(10)) if w.isoformat() <= last]
        working = [w for w in span if w.isoformat() not in holidays]  # a holiday week may have none
        assert {utc_monday(e) for e in used} <= set(span) and {working[0], working[-1]} <= {utc_monday(e) for e in used}
        assert not [e for e in faulty.events() if {person, address} <= parties(e)]
        in_span = [e for e in faulty.events() if person in parties(e) and first <= utc_monday(e).isoformat() <= last]
        assert in_span == []
        assert names[address] == names[person]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"leave_share": 1.5}, "leave_share must be between 0 and 1"),
        ({"duplicates": -1}, "duplicates must not be negative"),
        ({"leave_weeks": (3, 2)}, "leave_weeks must be"),
    ],
)
def test_faults_refuse_settings_that_cannot_be_planted(setting: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**setting)
