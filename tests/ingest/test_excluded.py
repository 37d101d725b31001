"""`[privacy] excluded` (GDPR article 21): an excluded person is left out at ingest, as if they were not there (docs/privacy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config, load_config
from repsight.errors import ConfigError
from repsight.ingest import run_ingest
from repsight.metrics import run_metrics
from repsight.privacy import KEY_ENV, pseudonym
from repsight.schema import TABLES
from repsight.store import Store
from repsight.workspace import init_workspace
from tests.support import ROSTER_HEADER, TEST_KEY, roster_rows, write_csv

EVE = "eve@acme.example"
MAIL = ["message_id", "sent_at", "sender", "to", "cc", "bcc"]
CALENDAR = ["event_id", "start", "end", "organizer", "attendees", "declined", "is_cancelled", "is_all_day"]
NOT_COMPARED = ("workspace", "loads", "forgotten")
"""Tables that differ between two workspaces whatever their data: settings, load times, the record of forgetting."""


def write_company(root: Path, *, with_eve: bool) -> None:
    """Write the inputs of a tiny company; without Eve they are what the files would hold had she never been there.

    Eve, a rep, sends a message to two colleagues, receives one with a
    colleague and one alone, attends a meeting, organises one, and is the
    only attendee of a third; Dan's manager is Eve.
    """
    eve = [EVE] if with_eve else []
    roster = [
        *roster_rows(),
        ["dan@acme.example", "Dan Rep", EVE if with_eve else "", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", "2022-01-01"],
        *([[EVE, "Eve Rep", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", "2020-01-01"]] * len(eve)),
    ]
    write_csv(root / "roster.csv", ROSTER_HEADER, roster)
    write_csv(
        root / "accounts.csv",
        ["account_id", "name", "domains", "type", "owner_email"],
        [["A1", "Northwind", "northwind.example", "customer", EVE if with_eve else ""]],
    )
    kpis = [
        ["ana@acme.example", "2025Q1", 100, 90],
        ["ben@acme.example", "2025Q1", 100, 110],
        *([[EVE, "2025Q1", 100, 70]] * len(eve)),
    ]
    write_csv(root / "kpis.csv", ["email", "period", "quota", "bookings"], kpis)
    mail = [
        ["m2", "2025-01-07T09:00:00Z", "ana@acme.example", ";".join(["ben@acme.example", *eve]), "", ""],
        ["m4", "2025-01-08T09:00:00Z", "ana@acme.example", "ben@acme.example;mgr@acme.example", "", ""],
        ["m5", "2025-01-09T09:00:00Z", "ben@acme.example", "ana@acme.example", "bob@northwind.example", ""],
    ]
    if with_eve:
        mail += [
            ["m1", "2025-01-06T09:00:00Z", "Eve Rep <eve@acme.example>", "ana@acme.example;ben@acme.example", "", ""],
            ["m3", "2025-01-07T10:00:00Z", "ben@acme.example", EVE, "", ""],
        ]
    write_csv(root / "mail" / "mail.csv", MAIL, mail)
    calendar = [
        [
            "e1",
            "2025-01-07T14:00:00Z",
            "2025-01-07T15:00:00Z",
            "ana@acme.example",
            ";".join(["ben@acme.example", *eve]),
            "",
            "false",
            "false",
        ],
        ["e3", "2025-01-08T14:00:00Z", "2025-01-08T15:00:00Z", "ben@acme.example", ";".join(eve), "", "false", "false"],
        [
            "e4",
            "2025-01-09T14:00:00Z",
            "2025-01-09T15:00:00Z",
            "mgr@acme.example",
            "ana@acme.example;bob@northwind.example",
            "",
            "false",
            "false",
        ],
    ]
    if with_eve:
        calendar.append(
            ["e2", "2025-01-08T10:00:00Z", "2025-01-08T11:00:00Z", EVE, "ana@acme.example;ben@acme.example", "", "false", "false"]
        )
    write_csv(root / "calendar" / "calendar.csv", CALENDAR, calendar)


def company(folder: Path, *, with_eve: bool, settings: str = "") -> Config:
    """Return a new workspace (under the test key) with the tiny company's files and `settings` added to [privacy]."""
    config = init_workspace(folder, domains=["acme.example"], mail=["mail/*.csv"], calendar=["calendar/*.csv"])
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(text.replace("excluded = []", settings or "excluded = []"), encoding="utf-8")
    write_company(folder, with_eve=with_eve)
    return load_config(config.path)


def stored(config: Config) -> dict[str, list[dict[str, Any]]]:
    """Return every compared table's rows, without load ids, in a stable order."""
    with Store.open(config) as store:
        tables = {name: store.table(name).to_pyarrow().to_pylist() for name in TABLES if name not in NOT_COMPARED}
    return {
        name: sorted(({k: v for k, v in row.items() if k != "load_id"} for row in rows), key=repr)
        for name, rows in tables.items()
    }


def mentions(config: Config, needles: list[str]) -> list[tuple[str, str, object]]:
    """Return (table, column, value) for every stored value, in every table but `forgotten`, that contains one of `needles`."""
    found = []
    with Store.open(config) as store:
        for name in store.backend.list_tables():
            if name == "forgotten":
                continue
            for row in store.table(name).to_pyarrow().to_pylist():
                for column, value in row.items():
                    if any(n.lower() in str(value).lower() for n in needles):
                        found.append((name, column, value))
    return found


@pytest.fixture(autouse=True)
def _test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workspaces of a test share a key, so that their pseudonyms can be compared."""
    monkeypatch.setenv(KEY_ENV, TEST_KEY)


def test_excluded_person_leaves_no_row_and_colleagues_measure_as_without_her(tmp_path: Path) -> None:
    excluded = company(tmp_path / "excluded", with_eve=True, settings='excluded = ["  Eve@ACME.example "]')
    never = company(tmp_path / "never", with_eve=False)
    report = run_ingest(excluded)
    assert report.ok and run_ingest(never).ok
    # Her roster row, her KPI, and the messages m1 (hers) and m3 (to her alone), the meeting e2 (hers).
    assert {f.kind: f.left_out for f in report.files} == {"roster": 1, "accounts": 0, "kpis": 1, "mail": 2, "calendar": 1}
    assert "privacy: 5 records of excluded or forgotten people left out (docs/privacy.md)" in report.notes
    assert mentions(excluded, [pseudonym(TEST_KEY, EVE), EVE, "Eve Rep"]) == []
    assert stored(excluded) == stored(never)
    run_metrics(excluded)
    run_metrics(never)
    after = stored(excluded)
    assert after["person_week"] and after["week_ties"]
    assert after == stored(never)
    assert mentions(excluded, [pseudonym(TEST_KEY, EVE), EVE]) == []


def test_a_message_left_without_recipients_is_not_stored_and_a_lone_organiser_keeps_the_meeting(tmp_path: Path) -> None:
    config = company(tmp_path / "ws", with_eve=True, settings=f'excluded = ["{EVE}"]')
    assert run_ingest(config).ok
    tables = stored(config)
    recipients = {m["message_key"]: m["recipient_count"] for m in tables["messages"]}
    assert sorted(recipients.values()) == [1, 2, 2]  # m2 (Ben), m4 (Ben, Max), m5 (Ana, Bob); m3 went with its only recipient
    lone = [m for m in tables["meetings"] if m["attendee_count"] == 1]
    assert len(lone) == 1 and lone[0]["organizer"] == pseudonym(TEST_KEY, "ben@acme.example")


def test_excluded_file_adds_addresses_and_comments_are_skipped(tmp_path: Path) -> None:
    config = company(tmp_path / "ws", with_eve=True, settings='excluded_file = "optout.txt"')
    (config.root / "optout.txt").write_text("# objections received\n\nEVE@acme.example   # by letter\n", encoding="utf-8")
    assert run_ingest(config).ok
    assert mentions(config, [pseudonym(TEST_KEY, EVE), EVE]) == []


def test_a_person_excluded_after_a_load_is_removed_by_the_next(tmp_path: Path) -> None:
    config = company(tmp_path / "ws", with_eve=True)
    assert run_ingest(config).ok
    assert mentions(config, [pseudonym(TEST_KEY, EVE)]) != []
    config.path.write_text(config.path.read_text(encoding="utf-8").replace("excluded = []", f'excluded = ["{EVE}"]'))
    report = run_ingest(load_config(config.path))
    assert any(n.startswith("privacy: removed ") for n in report.notes)
    assert mentions(config, [pseudonym(TEST_KEY, EVE), EVE]) == []
    never = company(tmp_path / "never", with_eve=False)
    assert run_ingest(never).ok
    assert stored(config) == stored(never)


@pytest.mark.parametrize(
    ("settings", "file_text", "message"),
    [
        ('excluded = ["eve.acme.example"]', None, r"\[privacy\] excluded.*'eve.acme.example' is not an email address"),
        ('excluded_file = "optout.txt"', None, r"optout.txt: \[privacy\] excluded_file names a file that does not exist"),
        ('excluded_file = "optout.txt"', "ok@acme.example\nnot an address\n", r"optout.txt, line 2: 'not an address' is not"),
    ],
)
def test_a_wrong_exclusion_stops_the_ingest_before_anything_is_stored(
    tmp_path: Path, settings: str, file_text: str | None, message: str
) -> None:
    folder = tmp_path / "ws"
    config = init_workspace(folder, domains=["acme.example"], mail=["mail/*.csv"], calendar=["calendar/*.csv"])
    config.path.write_text(config.path.read_text(encoding="utf-8").replace("excluded = []", settings))
    write_company(folder, with_eve=True)
    if file_text is not None:
        (folder / "optout.txt").write_text(file_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        run_ingest(load_config(config.path))
    assert not config.database_path.exists()
