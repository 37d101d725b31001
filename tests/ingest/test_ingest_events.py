"""Mail and calendar CSV loads: keyed, idempotent, quarantining, pseudonymised."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repsight.config import Config
from repsight.errors import InputError
from repsight.ingest import IngestReport, configured_files, run_ingest
from repsight.privacy import pseudonym, read_key
from repsight.sources.records import meeting_key, message_key, series_key
from repsight.store import Store
from tests.support import DATA, write_csv

MAIL = ["message_id", "sent_at", "sender", "to", "cc", "bcc"]
CALENDAR = ["event_id", "start", "end", "organizer", "attendees", "declined", "is_cancelled", "is_all_day"]


def mail_file(config: Config, name: str, rows: list[list[object]]) -> Path:
    return write_csv(config.root / "mail" / name, MAIL, rows)


def calendar_file(config: Config, name: str, rows: list[list[object]]) -> Path:
    return write_csv(config.root / "calendar" / name, CALENDAR, rows)


def load(config: Config) -> IngestReport:
    """Ingest the configured mail and calendar files (this module's tests have no roster)."""
    files, _ = configured_files(config)
    return run_ingest(config, files=[(kind, path) for kind, path in files if kind in ("mail", "calendar")])


def table(config: Config, name: str) -> list[dict[str, object]]:
    with Store.open(config) as store:
        rows: list[dict[str, object]] = store.table(name).to_pyarrow().to_pylist()
    return rows


def counts(config: Config, *names: str) -> tuple[int, ...]:
    return tuple(len(table(config, n)) for n in names)


def test_keys_are_hashes_of_the_source_identifiers() -> None:
    assert (
        message_key("<m1@acme.example>", ()) == message_key(" m1@acme.example ", ()) == "f89b75e7aed74e0d56e12ae4813ba1aa"
    )  # sha256("message-id\x1f" + id)[:32]
    assert meeting_key("u1", datetime(2025, 1, 6, 11, tzinfo=UTC)) != meeting_key("u1", datetime(2025, 1, 13, 11, tzinfo=UTC))


def test_message_is_stored_with_pseudonyms_domains_and_utc_time(workspace: Config) -> None:
    mail_file(
        workspace,
        "a.csv",
        [
            [
                "<m1@acme.example>",
                "2025-01-06T09:30:00+01:00",
                "Ana <ana@acme.example>",
                "bob@customer.example; ana@acme.example",
                "cy@acme.example",
                "",
            ]
        ],
    )
    (result,) = load(workspace).files
    assert (result.read, result.loaded, result.new, result.quarantined) == (1, 1, 1, 0)
    key = read_key(workspace.key_path)
    (message,) = table(workspace, "messages")
    assert message["message_key"] == message_key("m1@acme.example", ())
    assert message["sent_at"] == datetime(2025, 1, 6, 8, 30)
    assert (message["sender"], message["sender_domain"], message["recipient_count"]) == (
        pseudonym(key, "ana@acme.example"),
        "acme.example",
        3,
    )
    recipients = sorted((r["recipient"], r["recipient_domain"], r["kind"]) for r in table(workspace, "message_recipients"))
    assert recipients == sorted(
        [
            (pseudonym(key, "bob@customer.example"), "customer.example", "to"),
            (pseudonym(key, "ana@acme.example"), "acme.example", "to"),
            (pseudonym(key, "cy@acme.example"), "acme.example", "cc"),
        ]
    )
    # Colleagues' addresses go to identities; the customer's address is kept nowhere.
    assert sorted(r["email"] for r in table(workspace, "identities")) == ["ana@acme.example", "cy@acme.example"]


def test_no_address_or_name_reaches_an_event_table(workspace: Config) -> None:
    mail_file(
        workspace,
        "a.csv",
        [["m1", "2025-01-06T09:30:00Z", "Ana Brandt <ana@acme.example>", "bob@customer.example", "", "eve@gmail.com"]],
    )
    calendar_file(
        workspace,
        "a.csv",
        [
            [
                "e1",
                "2025-01-06T10:00:00Z",
                "2025-01-06T11:00:00Z",
                "ana@acme.example",
                "bob@customer.example",
                "",
                "false",
                "false",
            ]
        ],
    )
    load(workspace)
    for name in ("messages", "message_recipients", "meetings", "meeting_attendees"):
        for row in table(workspace, name):
            for value in row.values():
                assert "@" not in str(value), (name, value)
                assert "Brandt" not in str(value) and "bob" not in str(value)


def test_loading_the_same_file_twice_adds_nothing(workspace: Config) -> None:
    mail_file(
        workspace,
        "a.csv",
        [
            ["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "bob@customer.example", "", ""],
            ["m2", "2025-01-07T09:30:00Z", "bob@customer.example", "ana@acme.example", "", ""],
        ],
    )
    first = load(workspace).files[0]
    second = load(workspace).files[0]
    assert (first.read, first.new) == (2, 2)
    assert (second.read, second.loaded, second.new) == (2, 2, 0)
    assert counts(workspace, "messages", "message_recipients") == (2, 2)
    assert [r["rows_new"] for r in sorted(table(workspace, "loads"), key=lambda r: r["load_id"])] == [2, 0]


def test_a_reply_is_stored_with_its_parents_key_and_a_second_load_adds_nothing(workspace: Config) -> None:
    ana, kim = "ana@acme.example", "kim@customer.example"
    write_csv(
        workspace.root / "mail" / "a.csv",
        [*MAIL, "in_reply_to"],
        [
            ["<q1@customer.example>", "2025-01-06T09:30:00Z", kim, ana, "", "", ""],
            ["<a1@acme.example>", "2025-01-06T10:30:00Z", ana, kim, "", "", "<q1@customer.example>"],
            # a display name: read row by row
            ["<a2@acme.example>", "2025-01-06T11:30:00Z", f"Ana <{ana}>", kim, "", "", "q0@customer.example"],
        ],
    )
    first, second = load(workspace).files[0], load(workspace).files[0]
    assert (first.new, second.new, second.quarantined) == (3, 0, 0)
    assert sorted((m["message_key"], m["parent_key"]) for m in table(workspace, "messages")) == sorted(
        [
            (message_key("q1@customer.example", ()), None),
            (message_key("a1@acme.example", ()), message_key("q1@customer.example", ())),
            # the parent need not be stored
            (message_key("a2@acme.example", ()), message_key("q0@customer.example", ())),
        ]
    )


def test_mbox_replies_are_stored_with_their_parents_keys(workspace: Config) -> None:
    path = workspace.root / "mail" / "replies.mbox"
    path.parent.mkdir(exist_ok=True)
    shutil.copy(DATA / "mail" / "replies.mbox", path)
    (result,) = run_ingest(workspace, files=[("mail", path)]).files
    assert (result.read, result.new, result.quarantined) == (8, 8, 0)
    stored = {m["message_key"]: m["parent_key"] for m in table(workspace, "messages")}
    assert stored[message_key("q1@customer.example", ())] is None
    assert stored[message_key("a1@acme.example", ())] == message_key("q1@customer.example", ())
    assert stored[message_key("q2@customer.example", ())] == message_key("a1@acme.example", ())
    assert stored[message_key("r1@acme.example", ())] is None  # a resending
    # Every parent the file names is one of its messages (a4 names itself).
    assert {p for p in stored.values() if p} <= set(stored)
    (again,) = run_ingest(workspace, files=[("mail", path)]).files
    assert (again.read, again.new) == (8, 0)


def test_overlapping_exports_store_each_message_and_meeting_once(workspace: Config) -> None:
    # The same message in the sender's and the recipient's mailbox export.
    shared = ["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "ben@acme.example", "", ""]
    mail_file(workspace, "ana.csv", [shared, ["m2", "2025-01-06T10:00:00Z", "ana@acme.example", "x@customer.example", "", ""]])
    mail_file(workspace, "ben.csv", [shared, shared])
    meeting = [
        "weekly",
        "2025-01-06T10:00:00Z",
        "2025-01-06T10:30:00Z",
        "ana@acme.example",
        "ben@acme.example",
        "",
        "false",
        "false",
    ]
    next_week = [
        "weekly",
        "2025-01-13T10:00:00Z",
        "2025-01-13T10:30:00Z",
        "ana@acme.example",
        "ben@acme.example",
        "",
        "false",
        "false",
    ]
    calendar_file(workspace, "ana.csv", [meeting, next_week])
    calendar_file(workspace, "ben.csv", [meeting])
    report = load(workspace)
    assert [(f.path.name, f.read, f.new) for f in report.files] == [
        ("ana.csv", 2, 2),
        ("ben.csv", 2, 0),
        ("ana.csv", 2, 2),
        ("ben.csv", 1, 0),
    ]
    assert counts(workspace, "messages", "message_recipients", "meetings", "meeting_attendees") == (2, 2, 2, 4)
    stored = {(m["meeting_key"], m["series_key"]) for m in table(workspace, "meetings")}
    assert stored == {
        (meeting_key("weekly", datetime(2025, 1, 6, 10, tzinfo=UTC)), series_key("weekly")),
        (meeting_key("weekly", datetime(2025, 1, 13, 10, tzinfo=UTC)), series_key("weekly")),
    }


def test_bad_rows_are_quarantined_and_the_rest_loads(workspace: Config) -> None:
    mail_file(
        workspace,
        "a.csv",
        [
            ["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "bob@customer.example", "", ""],  # row 2
            ["m2", "2025-01-06 09:30", "ana@acme.example", "bob@customer.example", "", ""],  # row 3: no offset
            ["m3", "yesterday", "ana@acme.example", "bob@customer.example", "", ""],  # row 4
            ["m4", "2025-01-06T09:30:00Z", "", "bob@customer.example", "", ""],  # row 5
            ["m5", "2025-01-06T09:30:00Z", "ana@acme.example", "", "", ""],  # row 6
            ["m6", "2025-01-06T09:30:00Z", "ana@acme.example", "not-an-address", "", ""],  # row 7
            ["", "2025-01-06T09:30:00Z", "ana@acme.example", "bob@customer.example", "", ""],  # row 8: keyed by hash
        ],
    )
    calendar_file(
        workspace,
        "a.csv",
        [
            [
                "e1",
                "2025-01-06T10:00:00Z",
                "2025-01-06T09:00:00Z",
                "ana@acme.example",
                "bob@customer.example",
                "",
                "false",
                "false",
            ],  # row 2
            [
                "e2",
                "2025-01-06T10:00:00Z",
                "2025-01-06T11:00:00Z",
                "ana@acme.example",
                "bob@customer.example",
                "",
                "maybe",
                "false",
            ],  # row 3
            ["e3", "2025-01-06", "2025-01-07", "ana@acme.example", "bob@customer.example", "", "false", "true"],  # row 4: all-day
        ],
    )
    mail, calendar = load(workspace).files
    assert (mail.read, mail.loaded, mail.quarantined) == (7, 2, 5)
    assert (calendar.read, calendar.loaded, calendar.quarantined) == (3, 1, 2)
    assert sorted((r["kind"], r["position"], r["field"], r["reason"]) for r in table(workspace, "quarantine")) == [
        ("calendar", "row 2", "end", "the meeting ends before it starts"),
        ("calendar", "row 3", "is_cancelled", "'maybe' is not true or false"),
        ("mail", "row 3", "sent_at", "'2025-01-06 09:30' has no UTC offset (add 'Z' or '+01:00')"),
        ("mail", "row 4", "sent_at", "'yesterday' is not an ISO 8601 timestamp"),
        ("mail", "row 5", "sender", "is empty"),
        ("mail", "row 6", "to", "the message has no recipients"),
        ("mail", "row 7", "to", "is not a mail address"),
    ]
    without_id = message_key("", ("2025-01-06T09:30:00Z", "ana@acme.example", "bob@customer.example", "", ""))
    assert {m["message_key"] for m in table(workspace, "messages")} == {message_key("m1", ()), without_id}
    (all_day,) = table(workspace, "meetings")
    assert (all_day["is_all_day"], all_day["start_at"]) == (True, datetime(2025, 1, 6))


def test_reloading_a_file_with_bad_rows_does_not_double_the_quarantine(workspace: Config) -> None:
    mail_file(workspace, "a.csv", [["m1", "never", "ana@acme.example", "b@c.example", "", ""]])
    load(workspace)
    load(workspace)
    assert len(table(workspace, "quarantine")) == 1


def test_declined_and_organizer_responses_are_recorded(workspace: Config) -> None:
    calendar_file(
        workspace,
        "a.csv",
        [
            [
                "e1",
                "2025-01-06T10:00:00Z",
                "2025-01-06T11:00:00Z",
                "ana@acme.example",
                "ana@acme.example;ben@acme.example;cy@acme.example",
                "cy@acme.example",
                "false",
                "false",
            ]
        ],
    )
    load(workspace)
    key = read_key(workspace.key_path)
    responses = {r["attendee"]: r["response"] for r in table(workspace, "meeting_attendees")}
    assert responses == {
        pseudonym(key, "ana@acme.example"): "organizer",
        pseudonym(key, "ben@acme.example"): "none",
        pseudonym(key, "cy@acme.example"): "declined",
    }
    (meeting,) = table(workspace, "meetings")
    assert (meeting["attendee_count"], meeting["is_cancelled"], meeting["is_transparent"]) == (3, False, False)


def test_an_interrupted_load_keeps_whole_batches_and_a_rerun_completes_it(
    workspace: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    ingest_module = importlib.import_module("repsight.ingest.run")
    loaders = importlib.import_module("repsight.ingest.loaders")
    rows = [[f"m{i}", "2025-01-06T09:30:00Z", "ana@acme.example", "b@c.example", "", ""] for i in range(30)]
    rows[25][1] = "never"  # quarantined in the third batch
    mail_file(workspace, "a.csv", rows)
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 10)
    monkeypatch.setattr(importlib.import_module("repsight.sources.csvfile"), "CHUNK_ROWS", 10)
    original = loaders._MailLoader.flush
    calls = {"n": 0}

    def failing_flush(self: object) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self)  # type: ignore[arg-type]

    monkeypatch.setattr(loaders._MailLoader, "flush", failing_flush)
    with pytest.raises(KeyboardInterrupt):
        load(workspace)
    assert counts(workspace, "messages", "message_recipients", "quarantine") == (20, 20, 0)
    (interrupted,) = table(workspace, "loads")
    assert interrupted["finished_at"] is None and interrupted["rows_read"] is None
    monkeypatch.setattr(loaders._MailLoader, "flush", original)
    (result,) = load(workspace).files
    assert (result.read, result.loaded, result.new, result.quarantined) == (30, 29, 9, 1)
    assert counts(workspace, "messages", "message_recipients", "quarantine") == (29, 29, 1)
    finished = max(table(workspace, "loads"), key=lambda r: r["load_id"])
    assert (finished["rows_read"], finished["rows_new"], finished["finished_at"] is not None) == (30, 9, True)


def test_an_unreadable_file_is_reported_and_the_others_still_load(workspace: Config) -> None:
    mail_file(workspace, "good.csv", [["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "b@c.example", "", ""]])
    write_csv(workspace.root / "mail" / "bad.csv", ["id", "when"], [["1", "2"]])
    report = load(workspace)
    assert not report.ok
    bad, good = report.files
    assert bad.error is not None and "bad.csv: row 1: missing column(s) message_id, sent_at, sender, to" in bad.error
    assert (good.read, good.new) == (1, 1)


def test_a_file_with_no_reader_for_its_format_says_so(workspace: Config) -> None:
    from repsight.sources import reader_for

    path = workspace.root / "notes.txt"
    path.write_text("Dear diary, today I met a customer.\n")
    with pytest.raises(
        InputError,
        match=r"notes\.txt: this version of repsight has no mail reader for '\.txt' files \(it reads: csv, eml, graph, mbox\)",
    ):
        reader_for("mail", path)
    invite = workspace.root / "invite.ics"
    invite.write_text("BEGIN:VCALENDAR\n")
    with pytest.raises(InputError, match=r"invite\.ics: this version of repsight has no mail reader for ics files"):
        reader_for("mail", invite)


def test_unmatched_globs_are_noted(workspace: Config) -> None:
    report = run_ingest(workspace)
    assert report.notes == ["mail: no file matches mail/*.csv", "calendar: no file matches calendar/*.csv"]
    assert [(f.kind, f.error is not None) for f in report.files] == [("roster", True), ("accounts", True), ("kpis", True)]


def test_the_first_row_of_a_duplicated_meeting_wins_whatever_its_form(workspace: Config) -> None:
    # Row 2 needs the full parser (a display name), row 3 is plain: row 2 still wins.
    calendar_file(
        workspace,
        "a.csv",
        [
            [
                "e1",
                "2025-01-06T10:00:00Z",
                "2025-01-06T11:00:00Z",
                "Olga <o@acme.example>",
                "p@acme.example",
                "",
                "false",
                "false",
            ],
            ["e1", "2025-01-06T10:00:00Z", "2025-01-06T12:00:00Z", "o@acme.example", "p@acme.example", "", "true", "false"],
        ],
    )
    (result,) = load(workspace).files
    assert (result.read, result.new) == (2, 1)
    (meeting,) = table(workspace, "meetings")
    assert (meeting["is_cancelled"], meeting["end_at"]) == (False, datetime(2025, 1, 6, 11))


@pytest.mark.parametrize("files", [1, 2])
def test_a_duplicated_message_keeps_the_first_copys_recipients_in_one_file_or_two(workspace: Config, files: int) -> None:
    first = ["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "ben@acme.example", "", ""]
    second = ["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "ben@acme.example;cy@acme.example", "", ""]
    if files == 1:
        mail_file(workspace, "a.csv", [first, second])
    else:
        mail_file(workspace, "a.csv", [first])
        mail_file(workspace, "b.csv", [second])
    load(workspace)
    (message,) = table(workspace, "messages")
    assert message["recipient_count"] == 1
    assert len(table(workspace, "message_recipients")) == 1


@pytest.mark.parametrize("moment", ["0000-01-01T10:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_time_outside_the_calendar_is_quarantined_not_a_crash(workspace: Config, moment: str) -> None:
    mail_file(workspace, "a.csv", [["m1", moment, "ana@acme.example", "b@c.example", "", ""]])
    calendar_file(
        workspace, "a.csv", [["e1", moment, "2025-01-06T11:00:00Z", "ana@acme.example", "b@c.example", "", "false", "false"]]
    )
    mail, calendar = load(workspace).files
    assert (mail.quarantined, calendar.quarantined) == (1, 1)
    reasons = sorted(r["reason"] for r in table(workspace, "quarantine"))
    assert all("is out of range" in r or "is not an ISO 8601 timestamp" in r for r in reasons), reasons


def test_stored_pseudonyms_follow_the_published_contract_for_any_address(workspace: Config) -> None:
    odd = ["ZOË@Acme.Example", "İlker@acme.example", " Ana@ACME.example "]
    mail_file(workspace, "a.csv", [[f"m{i}", "2025-01-06T09:30:00Z", a, "ben@acme.example", "", ""] for i, a in enumerate(odd)])
    load(workspace)
    key = read_key(workspace.key_path)
    assert {m["sender"] for m in table(workspace, "messages")} == {pseudonym(key, a) for a in odd}
    assert {r["email"] for r in table(workspace, "identities")} == {a.strip().lower() for a in odd} | {"ben@acme.example"}


def test_a_reader_that_fails_unexpectedly_stops_its_file_only(workspace: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import repsight.sources.mail_csv as mail_csv

    mail_file(workspace, "a.csv", [["m1", "2025-01-06T09:30:00Z", "ana@acme.example", "b@c.example", "", ""]])
    mail_file(workspace, "b.csv", [["m2", "2025-01-06T09:30:00Z", "ana@acme.example", "b@c.example", "", ""]])
    real = mail_csv.read_mail_csv

    def broken(source):  # type: ignore[no-untyped-def]
        if source.path.name == "a.csv":
            raise ZeroDivisionError("a bug in a reader")
        return real(source)

    monkeypatch.setattr(mail_csv, "read_mail_csv", broken)
    report = load(workspace)
    first, second = report.files
    assert (
        first.error is not None and "a.csv: internal error while reading it (ZeroDivisionError: a bug in a reader)" in first.error
    )
    assert isinstance(first.exception, ZeroDivisionError)
    assert (second.read, second.new, second.error) == (1, 1, None)
