"""Each validation rule on the smallest company that raises it, and the ones that must not: exact flags and numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from repsight.config import CompanyConfig, Config, StudyConfig, ValidationConfig
from repsight.metrics import compute_metrics
from repsight.store import Store
from repsight.validation import validate
from repsight.validation.run import ValidationResult
from tests.support import TEST_KEY
from tests.support.metrics_org import COMPANY_DOMAIN, OrgBuilder

MONDAY = date(2025, 1, 6)


def config_for(tmp_path: Path, **validation: Any) -> Config:
    return Config(
        company=CompanyConfig(domains=[COMPANY_DOMAIN]),
        study=StudyConfig(segment_by=["region"]),
        validation=ValidationConfig(**validation),
        path=tmp_path / "repsight.toml",
    )


def run(builder: OrgBuilder, tmp_path: Path, *, identities: list[tuple[str, str]] = (), **validation: Any) -> ValidationResult:
    """Store the builder's company, measure it, validate it; return the flags."""
    config = config_for(tmp_path, **validation)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in builder.tables().items():
            store.append(name, table)
        if identities:
            store.append(
                "identities",
                pa.table(
                    {
                        "person": [p for p, _ in identities],
                        "email": [f"{p}@x" for p, _ in identities],
                        "name": [n for _, n in identities],
                    }
                ),
            )
        compute_metrics(store, config)
        return validate(store, config)


def flags(result: ValidationResult, rule: str) -> list[tuple[Any, ...]]:
    return [(f.person, f.week, f.period, f.numbers) for f in result.flags if f.rule == rule]


def weekly(builder: OrgBuilder, weeks: int, meetings: Iterator[tuple[str, list[str]]] | list[tuple[str, list[str]]]) -> None:
    """Add, every week from MONDAY, a one-hour meeting on Tuesday for each (organiser, attendees)."""
    for w in range(weeks):
        for organizer, attendees in meetings:
            builder.meeting(f"{MONDAY + timedelta(weeks=w, days=1)} 10:00", 60, organizer, attendees)


def company(*names: str, **person: Any) -> OrgBuilder:
    builder = OrgBuilder()
    for name in names:
        builder.person(name, **person)
    builder.account("bigco.example", "customer")
    return builder


def test_a_rep_whose_own_mailbox_is_missing_is_flagged_and_one_with_it_is_not(tmp_path: Path) -> None:
    b = company("ana", "bob", "cid")
    for person in ("ana", "bob"):
        b.kpi(person, "2025Q1")
    for day in range(3):
        when = f"2025-01-0{6 + day} 09:00"
        b.message(when, "ana", ["x@bigco.example"])  # only ana's mailbox holds it
        b.message(when, "ana", ["bob", "x@bigco.example"])  # bob's copy would be in ana's export too
        b.message(when, "cid", ["bob"])
    result = run(b, tmp_path, min_messages=3)
    # bob is in 6 messages, each also in a colleague's mailbox: nothing only his own mailbox holds.
    assert flags(result, "no_own_mailbox") == [("bob", None, None, {"messages": 6, "only_theirs": 0, "sent_with_bcc": 0})]
    # cid is no rep (no KPI): he never writes outside, so a missing mailbox could not be told; he is not checked.


def test_a_sent_message_with_bcc_is_evidence_of_the_senders_own_mailbox(tmp_path: Path) -> None:
    b = company("ana", "bob")
    b.kpi("bob", "2025Q1")
    keys = [b.message(f"2025-01-0{6 + day} 09:00", "bob", ["ana", "cid@acme.example"]) for day in range(3)]
    for row in b.rows["message_recipients"]:
        if row["message_key"] == keys[0] and row["recipient"] == "cid@acme.example":
            row["kind"] = "bcc"
    assert flags(run(b, tmp_path, min_messages=3), "no_own_mailbox") == []


def test_too_few_messages_to_tell_flags_nobody(tmp_path: Path) -> None:
    b = company("ana", "bob")
    b.kpi("bob", "2025Q1")
    b.message("2025-01-06 09:00", "ana", ["bob"])
    assert flags(run(b, tmp_path, min_messages=2), "no_own_mailbox") == []


def test_a_rep_whose_own_calendar_is_missing_is_flagged(tmp_path: Path) -> None:
    b = company("ana", "bob")
    for person in ("ana", "bob"):
        b.kpi(person, "2025Q1")
    weekly(b, 2, [("ana", ["x@bigco.example"]), ("ana", ["bob", "x@bigco.example"])])
    result = run(b, tmp_path, min_meetings=2)
    assert flags(result, "no_own_calendar") == [("bob", None, None, {"meetings": 2, "only_theirs": 0, "sent_with_bcc": 0})]


def test_a_company_wide_quiet_week_is_a_holiday_and_the_datas_last_week_an_edge(tmp_path: Path) -> None:
    b = company("ana", "bob", "cid")
    for w in range(9):
        pairs = [("ana", ["bob"]), ("bob", ["cid"]), ("cid", ["ana"])]
        if w == 4:
            pairs = pairs[:0]
        for organizer, attendees in pairs:
            b.meeting(f"{MONDAY + timedelta(weeks=w, days=1)} 10:00", 120, organizer, attendees)
        if w == 4:
            b.message(f"{MONDAY + timedelta(weeks=w, days=1)} 10:00", "ana", ["bob"])
    b.meeting(f"{MONDAY + timedelta(weeks=9, days=1)} 10:00", 15, "ana", ["bob"])  # the export ends on that Tuesday
    result = run(b, tmp_path)
    [(person, week, _, numbers)] = flags(result, "holiday_week")
    assert (person, week) == (None, MONDAY + timedelta(weeks=4))
    assert numbers["weeks_compared"] == 8 and numbers["hours"] < 0.5 * numbers["usual_hours"]
    assert [w for _, w, _, _ in flags(result, "edge_week")] == [MONDAY + timedelta(weeks=9)]
    # The holiday is nobody's inactive week.
    assert flags(result, "inactive_week") == []


def test_a_persons_quiet_week_is_an_inactive_week_against_their_own_usual(tmp_path: Path) -> None:
    b = company("ana", "bob", "cid", "dan")
    for w in range(8):
        b.meeting(f"{MONDAY + timedelta(weeks=w, days=1)} 10:00", 120, "ana", ["bob"])
        b.meeting(f"{MONDAY + timedelta(weeks=w, days=2)} 10:00", 120, "cid", ["bob"])
        if w != 3:
            b.meeting(f"{MONDAY + timedelta(weeks=w, days=3)} 10:00", 120, "dan", ["cid"])
        else:
            b.message(f"{MONDAY + timedelta(weeks=w, days=3)} 10:00", "cid", ["dan"])  # dan receives one mail
    found = flags(run(b, tmp_path), "inactive_week")
    assert [(p, w) for p, w, _, _ in found] == [("dan", MONDAY + timedelta(weeks=3))]
    assert found[0][3] == {"collaboration_hours": round(2.5 / 60, 2), "usual_hours": 2.0}


def test_hire_and_leave_during_a_week_make_partial_weeks(tmp_path: Path) -> None:
    b = OrgBuilder()
    b.person("ana", hire_date=MONDAY + timedelta(days=2))
    b.person("bob", leave_date=MONDAY + timedelta(weeks=2, days=4))
    b.person("cid", hire_date=MONDAY)  # a Monday: a whole week
    for w in range(3):
        b.meeting(f"{MONDAY + timedelta(weeks=w, days=2)} 10:00", 60, "ana", ["bob", "cid"])
    found = flags(run(b, tmp_path), "partial_week")
    assert found == [
        ("ana", MONDAY, None, {"hire_date": (MONDAY + timedelta(days=2)).isoformat()}),
        ("bob", MONDAY + timedelta(weeks=2), None, {"leave_date": (MONDAY + timedelta(weeks=2, days=4)).isoformat()}),
    ]


def test_hours_above_the_plausible_maximum_and_odd_attainment_are_flagged(tmp_path: Path) -> None:
    b = company("ana", "bob")
    for day in range(5):
        b.meeting(f"{MONDAY + timedelta(days=day)} 09:00", 7 * 60, "ana", ["bob"])
    b.kpi("ana", "2025Q1")
    b.rows["kpis"][-1]["attainment"] = 9.0
    b.kpi("bob", "2025Q1")
    result = run(b, tmp_path, max_weekly_hours=30)
    values = flags(result, "implausible_value")
    assert {(p, n["metric"], n["value"]) for p, _, _, n in values} == {
        ("ana", "meeting_hours", 35.0),
        ("bob", "meeting_hours", 35.0),
        ("ana", "collaboration_hours", 35.0),  # meetings and no mail: the same hours
        ("bob", "collaboration_hours", 35.0),
    }
    assert flags(result, "implausible_attainment") == [("ana", None, "2025Q1", {"attainment": 9.0, "min": 0.0, "max": 5.0})]


def test_roster_people_without_events_and_busy_addresses_not_on_the_roster(tmp_path: Path) -> None:
    b = company("ana", "bob", "gus")
    for day in range(3):
        b.message(f"2025-01-0{6 + day} 09:00", "all-sales@acme.example", ["ana", "bob"])
    result = run(b, tmp_path, min_messages=3)
    assert flags(result, "no_data") == [("gus", None, None, {})]
    assert flags(result, "not_on_roster") == [("all-sales@acme.example", None, None, {"messages": 3})]


def test_one_person_under_two_addresses_is_a_duplicate_and_two_who_meet_are_not(tmp_path: Path) -> None:
    b = company("ana", "bob", "eve")
    b.message("2025-01-06 09:00", "ana", ["bob"])
    b.message("2025-01-13 09:00", "ana.d@acme.example", ["bob"])  # ana's second address, never beside ana
    b.message("2025-01-06 10:00", "eve", ["bob", "eve.k@acme.example"])  # two Eves who write together
    names = [
        ("ana", "Ana Duarte"),
        ("ana.d@acme.example", "ana  duarte"),
        ("bob", "Bob"),
        ("eve", "Eve K"),
        ("eve.k@acme.example", "Eve K"),
    ]
    found = flags(run(b, tmp_path, identities=names), "duplicate_person")
    assert found == [("ana.d@acme.example", None, None, {"other": "ana", "on_roster": ["ana"]})]


def test_kpi_coverage_and_small_groups(tmp_path: Path) -> None:
    b = OrgBuilder()
    for name in ("ana", "bob", "cid", "dan", "eli", "fay"):
        b.person(name, manager="boss" if name != "fay" else None)
    b.person("boss", function="Executive", level=8)
    b.person("hal", function="Legal")
    for name in ("ana", "bob", "cid", "dan", "eli", "fay", "boss", "hal"):
        b.meeting(f"{MONDAY + timedelta(days=1)} 10:00", 60, name, ["boss" if name != "boss" else "ana"])
        b.meeting(f"{MONDAY + timedelta(weeks=13, days=1)} 10:00", 60, name, ["boss" if name != "boss" else "ana"])
    for name in ("ana", "bob", "cid", "dan"):
        b.kpi(name, "2025Q1")
        b.kpi(name, "2025Q2")
    b.kpi("eli", "2025Q1")  # eli is measured in Q2 too, without a KPI there
    b.kpi("hal", "2025Q1")  # Legal carries no quota
    result = run(b, tmp_path)
    assert flags(result, "no_kpi") == [("eli", None, "2025Q2", {}), ("fay", None, None, {})]
    assert flags(result, "kpi_not_rep") == [("hal", None, "2025Q1", {"function": "Legal"})]
    # Five sellers with a KPI in region NA: the minimum. The boss's team of five (fay and hal report to nobody) too.
    assert flags(result, "small_group") == []
    # The same data under a stricter minimum group size.
    (tmp_path / "strict").mkdir()
    config = config_for(tmp_path / "strict")
    config = config.model_copy(update={"privacy": config.privacy.model_copy(update={"min_group_size": 7})})
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in b.tables().items():
            store.append(name, table)
        compute_metrics(store, config)
        strict = validate(store, config)
    assert [(p, n.get("segment"), n.get("people"), n.get("team")) for p, _, _, n in flags(strict, "small_group")] == [
        (None, "NA", 5, None),
        ("boss", None, None, 5),
    ]


def test_the_json_document_is_the_public_contract(tmp_path: Path) -> None:
    b = company("ana", "bob", "gus")
    b.message("2025-01-06 09:00", "ana", ["bob"])
    document = json.loads(run(b, tmp_path).to_json())
    assert set(document) == {"validated_at", "counts", "flags"}
    assert document["counts"]["no_data"] == 1 and list(document["counts"])[:3] == [
        "no_own_mailbox",
        "no_own_calendar",
        "holiday_week",
    ]
    [flag] = [f for f in document["flags"] if f["rule"] == "no_data"]
    assert flag == {
        "rule": "no_data",
        "person": "gus",
        "email": None,
        "detail": "on the roster but in no stored message or meeting: no data, not zero behaviour",
        "numbers": {},
    }


def test_validating_before_the_metrics_says_what_it_could_not_check(tmp_path: Path) -> None:
    b = company("ana", "bob")
    b.message("2025-01-06 09:00", "ana", ["bob"])
    config = config_for(tmp_path)
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in b.tables().items():
            store.append(name, table)
        result = validate(store, config)
    assert result.notes == [
        "no metrics yet: the week, value and no-data rules read them; run `repsight metrics` first, then validate again"
    ]
    assert flags(result, "no_data") == [] and flags(result, "holiday_week") == []
