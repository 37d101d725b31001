"""Every reader refuses an address that cannot be real: a control character, no domain, longer than RFC 5321 allows.

Each reader gets the smallest input with one good record and one carrying
the address, in the sender's (organizer's, person's) field and in a
recipient's (attendee's). The CSV, Graph, roster, KPI, account, Viva
identity and Salesforce readers quarantine the record with its position,
field and reason; mbox, EML and iCalendar quarantine a message or event
whose sender or organizer cannot be real and leave out such a recipient or
attendee, as they leave out one that is no address.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from repsight.config import Config, SalesforceConfig
from repsight.ingest import run_ingest
from repsight.sources import open_source, reader_for
from repsight.sources.calendar_csv import read_calendar_csv_rows
from repsight.sources.csvfile import address_problem, is_bare_address, shown
from repsight.sources.mail_csv import read_mail_csv_rows
from repsight.sources.records import (
    Account,
    Kpi,
    Meeting,
    MeetingBatch,
    Message,
    MessageBatch,
    Person,
    Rejected,
    VivaIdentity,
)
from repsight.sources.salesforce import read_salesforce
from repsight.store import Store
from tests.support import write_csv

NUL = "ana\x00@acme.example"
NO_AT = "ana.acme.example"
NO_DOMAIN = "ana@"
NO_LOCAL = "@acme.example"
LONG_LOCAL = "a" * 65 + "@acme.example"
LONG_ADDRESS = "a" * 64 + "@" + "d" * 182 + ".example"
AT_LIMITS = "a" * 64 + "@" + "d" * 181 + ".example"
HUGE = "a" * 5_000_000 + "@acme.example"

CONTROL = "contains a control character"
LONG_LOCAL_REASON = "its local part is longer than RFC 5321 allows (65 octets; at most 64)"
LONG_ADDRESS_REASON = "is longer than RFC 5321 allows (255 octets; at most 254)"
HUGE_REASON = "its local part is longer than RFC 5321 allows (5,000,000 octets; at most 64)"

# Each bad address, by name, and the reason the rule gives for it.
BAD = {
    "nul": (NUL, CONTROL),
    "no_at": (NO_AT, "is not a mail address"),
    "no_domain": (NO_DOMAIN, "has no domain"),
    "no_local_part": (NO_LOCAL, "has no local part (nothing before the @)"),
    "local_part_of_65_octets": (LONG_LOCAL, LONG_LOCAL_REASON),
    "address_of_255_octets": (LONG_ADDRESS, LONG_ADDRESS_REASON),
    "5_mb": (HUGE, HUGE_REASON),
}


def test_the_rule_names_why_an_address_cannot_be_real() -> None:
    assert address_problem("ana@acme.example") is None
    assert address_problem("ana@localhost") is None  # a dotless domain is left to the reader
    assert address_problem(AT_LIMITS) is None
    assert [address_problem(a) for a in ("a\tb@x.example", "a\x7fb@x.example", "a\x85b@x.example", "a@x.example\x1f")] == [
        CONTROL
    ] * 4
    assert address_problem("zoë@acme.example\u00a0") is None  # no-break space is white space, not a control character
    assert [address_problem(a) for a in (NO_AT, NO_DOMAIN, "@", NO_LOCAL)] == [
        "has no domain",
        "has no domain",
        "has no domain",
        "has no local part (nothing before the @)",
    ]
    assert address_problem(LONG_LOCAL) == LONG_LOCAL_REASON
    assert address_problem(LONG_ADDRESS) == LONG_ADDRESS_REASON
    assert address_problem("a@" + "d" * 256) == "its domain is longer than RFC 5321 allows (256 octets; at most 255)"
    # Octets, not characters: 33 é are 66 octets.
    assert address_problem("é" * 33 + "@acme.example") == "its local part is longer than RFC 5321 allows (66 octets; at most 64)"
    assert address_problem("é" * 32 + "@acme.example") is None
    assert address_problem("\ud800@acme.example") is None  # a lone surrogate (JSON) is counted, not raised


def test_the_vectorised_check_sends_every_address_the_rule_refuses_to_the_full_parser() -> None:
    values = pa.array(["ana@acme.example", AT_LIMITS, NUL, "a\x7fb@x.example", LONG_LOCAL, LONG_ADDRESS, HUGE])
    assert is_bare_address(values).to_pylist() == [True, True, False, False, False, False, False]


def test_a_quoted_value_is_cut_short_and_an_address_is_never_quoted() -> None:
    assert shown("x" * 5_000_000) == repr("x" * 60) + "… (5,000,000 characters)"
    assert shown(HUGE) == "(a value that looks like a mail address)"


# The readers


def summary(record: Any) -> tuple[Any, ...]:
    """What a kept record says of its people (participants sorted: a batch need not keep their order)."""
    if isinstance(record, Message):
        return ("message", record.sender, tuple(sorted(r.address for r in record.recipients)))
    if isinstance(record, Meeting):
        return ("meeting", record.organizer, tuple(sorted(a.address for a in record.attendees)))
    if isinstance(record, Person):
        return ("person", record.email, record.manager_email)
    if isinstance(record, Kpi):
        return ("kpi", record.email)
    if isinstance(record, Account):
        return ("account", record.account_id, record.owner_email)
    assert isinstance(record, VivaIdentity)
    return ("identity", record.person_id, record.email)


def read(kind: str, path: Path) -> list[Any]:
    """Return what a reader gives for `path`: a summary of each kept record, and each Rejected as it is."""
    found: list[Any] = []
    with open_source(path) as source:
        items = read_salesforce(source, SalesforceConfig(), []) if kind == "salesforce" else reader_for(kind, path)(source)
        for item in items:
            if isinstance(item, MessageBatch | MeetingBatch):
                found += [summary(r) for r in item.records()]
            else:
                found.append(item if isinstance(item, Rejected) else summary(item))
    return found


MAIL = ["message_id", "sent_at", "sender", "to", "cc", "bcc"]
CALENDAR = ["event_id", "start", "end", "organizer", "attendees", "declined", "is_cancelled", "is_all_day"]
ROSTER = ["email", "name", "manager_email", "org", "level", "function"]
ANA, BOB, CY = "ana@acme.example", "bob@acme.example", "cy@acme.example"
MONDAY = "2025-01-06T09:00:00Z"


def mail_csv(folder: Path, sender: str, to: str) -> Path:
    rows: list[list[object]] = [["m1", MONDAY, ANA, BOB, "", ""], ["m2", MONDAY, sender, to, CY, ""]]
    return write_csv(folder / "mail.csv", MAIL, rows)


def calendar_csv(folder: Path, organizer: str, attendee: str) -> Path:
    rows: list[list[object]] = [
        ["e1", MONDAY, "2025-01-06T10:00:00Z", ANA, BOB, "", "", ""],
        ["e2", MONDAY, "2025-01-06T10:00:00Z", organizer, f"{attendee};{CY}", "", "", ""],
    ]
    return write_csv(folder / "calendar.csv", CALENDAR, rows)


def roster(folder: Path, email: str, manager: str) -> Path:
    rows: list[list[object]] = [[ANA, "Ana", "", "Sales", 5, "Sales"], [email, "Bob", manager, "Sales", 3, "Sales"]]
    return write_csv(folder / "roster.csv", ROSTER, rows)


def kpis(folder: Path, email: str) -> Path:
    return write_csv(folder / "kpis.csv", ["email", "period", "attainment"], [[ANA, "2025Q1", "1.0"], [email, "2025Q1", "0.5"]])


def accounts(folder: Path, owner: str) -> Path:
    rows: list[list[object]] = [
        ["A1", "Initech", "initech.example", "customer", ANA],
        ["A2", "Globex", "globex.example", "customer", owner],
    ]
    return write_csv(folder / "accounts.csv", ["account_id", "name", "domains", "type", "owner_email"], rows)


def identities(folder: Path, email: str) -> Path:
    return write_csv(folder / "identities.csv", ["PersonId", "email"], [["P1", ANA], ["P2", email]])


SF_ANA, SF_BOB = "0055000000Ana01AAB", "0055000000Bob01AAB"
SF_ACCOUNT = "0015000000Gv7qJAAR"


def salesforce(folder: Path, user: str, contact: str) -> Path:
    root = folder / "sfdc"
    root.mkdir()
    write_csv(root / "User.csv", ["Id", "Email"], [[SF_ANA, ANA], [SF_BOB, user]])
    write_csv(
        root / "Account.csv",
        ["Id", "Name", "Type", "Website", "OwnerId"],
        [[SF_ACCOUNT, "Initech", "Customer", "initech.example", SF_ANA]],
    )
    write_csv(root / "Contact.csv", ["AccountId", "Email"], [[SF_ACCOUNT, contact]])
    return root


DATE = "Mon, 6 Jan 2025 09:00:00 +0000"
FIRST_MESSAGE = f"From ana@acme.example Mon Jan  6 09:00:00 2025\nFrom: {ANA}\nTo: {BOB}\nDate: {DATE}\n\nHello\n"


def headers(sender: str, to: str) -> str:
    # To last: a header line past the mbox reader's 1 MB header limit is read as the body.
    return f"From: {sender}\nDate: {DATE}\nCc: {CY}\nTo: {to}\n\nHello\n"


def mbox(folder: Path, sender: str, to: str) -> Path:
    path = folder / "mail.mbox"
    path.write_bytes((FIRST_MESSAGE + "From x@y Mon Jan  6 09:00:00 2025\n" + headers(sender, to)).encode("utf-8"))
    return path


def eml(folder: Path, sender: str, to: str) -> Path:
    root = folder / "maildir"
    root.mkdir()
    (root / "a.eml").write_bytes(f"From: {ANA}\nTo: {BOB}\nDate: {DATE}\n\nHello\n".encode())
    (root / "b.eml").write_bytes(headers(sender, to).encode("utf-8"))
    return root


def mailbox(address: str) -> dict[str, Any]:
    return {"emailAddress": {"address": address}}


def graph_messages(folder: Path, sender: str, to: str) -> Path:
    def message(sender: str, to: list[str]) -> dict[str, Any]:
        return {"sentDateTime": MONDAY, "from": mailbox(sender), "toRecipients": [mailbox(a) for a in to]}

    path = folder / "messages.jsonl"
    path.write_text(json.dumps(message(ANA, [BOB])) + "\n" + json.dumps(message(sender, [to, CY])) + "\n")
    return path


def graph_events(folder: Path, organizer: str, attendee: str) -> Path:
    def event(uid: str, organizer: str, attendees: list[str]) -> dict[str, Any]:
        times = {
            "start": {"dateTime": "2025-01-06T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2025-01-06T10:00:00", "timeZone": "UTC"},
        }
        return {"iCalUId": uid, **times, "organizer": mailbox(organizer), "attendees": [mailbox(a) for a in attendees]}

    path = folder / "events.jsonl"
    path.write_text(json.dumps(event("e1", ANA, [BOB])) + "\n" + json.dumps(event("e2", organizer, [attendee, CY])) + "\n")
    return path


def ics(folder: Path, organizer: str, attendee: str) -> Path:
    def event(uid: str, organizer: str, attendees: list[str]) -> str:
        people = "".join(f"ATTENDEE:mailto:{a}\n" for a in attendees)
        times = "DTSTART:20250106T090000Z\nDTEND:20250106T100000Z\n"
        return f"BEGIN:VEVENT\nUID:{uid}\n{times}ORGANIZER:mailto:{organizer}\n{people}END:VEVENT\n"

    path = folder / "calendar.ics"
    path.write_text("BEGIN:VCALENDAR\n" + event("e1", ANA, [BOB]) + event("e2", organizer, [attendee, CY]) + "END:VCALENDAR\n")
    return path


@dataclass(frozen=True)
class Reader:
    """A reader, the smallest input for it, and where the second record's bad address is reported."""

    kind: str
    write: Callable[[Path, str], Path]
    kept: tuple[Any, ...]
    """What the first, good record gives."""
    position: str
    field: str
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)
    """Where the reader's reason is not the rule's: it never found the address."""


# Each reader with the address as the sender (organizer, person, owner, user).
SENDERS = {
    "mail_csv": Reader("mail", lambda d, a: mail_csv(d, a, BOB), ("message", ANA, (BOB,)), "row 3", "sender"),
    "calendar_csv": Reader("calendar", lambda d, a: calendar_csv(d, a, BOB), ("meeting", ANA, (ANA, BOB)), "row 3", "organizer"),
    "graph_messages": Reader("mail", lambda d, a: graph_messages(d, a, BOB), ("message", ANA, (BOB,)), "line 2", "from"),
    "graph_events": Reader("calendar", lambda d, a: graph_events(d, a, BOB), ("meeting", ANA, (ANA, BOB)), "line 2", "organizer"),
    "mbox": Reader(
        "mail",
        lambda d, a: mbox(d, a, BOB),
        ("message", ANA, (BOB,)),
        f"byte {len(FIRST_MESSAGE)}",
        "From",
        # The parser finds no address in these; a 5 MB From line is past the header limit.
        {"no_at": "has no mail address", "no_domain": "has no mail address", "5_mb": "missing"},
    ),
    "eml": Reader(
        "mail",
        lambda d, a: eml(d, a, BOB),
        ("message", ANA, (BOB,)),
        "b.eml",
        "From",
        {"no_at": "has no mail address", "no_domain": "has no mail address"},
    ),
    "ics": Reader(
        "calendar",
        lambda d, a: ics(d, a, BOB),
        ("meeting", ANA, (ANA, BOB)),
        "line 9",
        "ORGANIZER",
        {"no_at": "'ana.acme.example' is not a mail address"},
    ),
    "roster": Reader("roster", lambda d, a: roster(d, a, ANA), ("person", ANA, None), "row 3", "email"),
    "kpis": Reader("kpis", kpis, ("kpi", ANA), "row 3", "email"),
    "accounts": Reader("accounts", accounts, ("account", "A1", ANA), "row 3", "owner_email"),
    "viva_identities": Reader("viva_identities", identities, ("identity", "P1", ANA), "row 3", "email"),
    "salesforce": Reader(
        "salesforce", lambda d, a: salesforce(d, a, "kim@initech.example"), ("account", SF_ACCOUNT, ANA), "User.csv row 3", "Email"
    ),
}  # fmt: skip


# Readers that yield records in batches (CSV by chunk, mbox and EML by 10,000 messages)
# give a batch's rejected records before it; Salesforce quarantines users and contacts
# as it reads them, before the accounts they belong to.
REJECTED_FIRST = {"mail_csv", "calendar_csv", "mbox", "eml", "salesforce"}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("name", list(SENDERS))
def test_a_sender_organizer_or_person_that_cannot_be_real_quarantines_the_record(tmp_path: Path, name: str, case: str) -> None:
    reader = SENDERS[name]
    address, reason = BAD[case]
    found = read(reader.kind, reader.write(tmp_path, address))
    rejected = Rejected(reader.position, reader.field, reader.reasons.get(case, reason))
    assert found == ([rejected, reader.kept] if name in REJECTED_FIRST else [reader.kept, rejected])
    assert len(rejected.reason) < 100 and "\x00" not in rejected.reason


@pytest.mark.parametrize("name", list(SENDERS))
def test_an_address_at_rfc_5321s_limits_is_kept(tmp_path: Path, name: str) -> None:
    reader = SENDERS[name]
    found = read(reader.kind, reader.write(tmp_path, AT_LIMITS))
    assert reader.kept in found and not any(isinstance(r, Rejected) for r in found)
    assert len(found) == (1 if name == "salesforce" else 2)  # a Salesforce user is no record of its own


# Each reader with the address as a recipient (attendee, manager, contact), and what it makes of
# that second record: quarantined (the reason is the rule's) or kept without the address.
RECIPIENTS: dict[str, tuple[str, Callable[[Path, str], Path], Any]] = {
    "mail_csv": ("mail", lambda d, a: mail_csv(d, ANA, a), Rejected("row 3", "to", "")),
    "calendar_csv": ("calendar", lambda d, a: calendar_csv(d, ANA, a), Rejected("row 3", "attendees", "")),
    "graph_messages": ("mail", lambda d, a: graph_messages(d, ANA, a), Rejected("line 2", "toRecipients", "")),
    "graph_events": ("calendar", lambda d, a: graph_events(d, ANA, a), Rejected("line 2", "attendees", "")),
    "mbox": ("mail", lambda d, a: mbox(d, ANA, a), ("message", ANA, (CY,))),
    "eml": ("mail", lambda d, a: eml(d, ANA, a), ("message", ANA, (CY,))),
    "ics": ("calendar", lambda d, a: ics(d, ANA, a), ("meeting", ANA, (ANA, CY))),
    "roster": ("roster", lambda d, a: roster(d, BOB, a), Rejected("row 3", "manager_email", "")),
    "salesforce": ("salesforce", lambda d, a: salesforce(d, BOB, a), Rejected("Contact.csv row 2", "Email", "")),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("name", list(RECIPIENTS))
def test_a_recipient_or_attendee_that_cannot_be_real_is_treated_as_the_reader_treats_a_malformed_one(
    tmp_path: Path, name: str, case: str
) -> None:
    kind, write, second = RECIPIENTS[name]
    address, reason = BAD[case]
    if isinstance(second, Rejected):
        second = Rejected(second.position, second.field, reason)
    first = SENDERS[name].kept
    found = read(kind, write(tmp_path, address))
    assert found == ([second, first] if name in REJECTED_FIRST and isinstance(second, Rejected) else [first, second])


def test_the_row_by_row_csv_readers_refuse_what_the_vectorised_ones_refuse(tmp_path: Path) -> None:
    for case, (address, reason) in BAD.items():
        folder = tmp_path / case
        folder.mkdir()
        for path, rows_reader, field_name in (
            (mail_csv(folder, address, BOB), read_mail_csv_rows, "sender"),
            (calendar_csv(folder, address, BOB), read_calendar_csv_rows, "organizer"),
        ):
            with open_source(path) as source:
                refused = [r for r in rows_reader(source) if isinstance(r, Rejected)]
            assert refused == [Rejected("row 3", field_name, reason)], (case, path.name)


def test_an_address_of_multibyte_characters_is_measured_in_octets(tmp_path: Path) -> None:
    reason = "its local part is longer than RFC 5321 allows (66 octets; at most 64)"
    assert read("mail", mail_csv(tmp_path, "é" * 33 + "@acme.example", BOB)) == [
        Rejected("row 3", "sender", reason),
        ("message", ANA, (BOB,)),
    ]


@pytest.mark.parametrize("value", ["ana\t@acme.example", "Ana\x00 <ana@acme.example>", "Ana\nBrandt <ana@acme.example>"])
def test_a_control_character_the_parser_would_drop_still_refuses_a_csv_value(tmp_path: Path, value: str) -> None:
    # The parser reads `ana\t@acme.example` as ana@acme.example, and keeps no display name's controls in the address.
    assert read("mail", mail_csv(tmp_path, value, BOB)) == [Rejected("row 3", "sender", CONTROL), ("message", ANA, (BOB,))]


def test_ingest_stores_no_impossible_address_and_quarantines_the_row(workspace: Config) -> None:
    mail_csv(workspace.root / "mail", NUL, BOB)
    (report,) = run_ingest(workspace, files=[("mail", workspace.root / "mail" / "mail.csv")]).files
    assert (report.read, report.loaded, report.quarantined) == (2, 1, 1)
    with Store.open(workspace) as store:
        quarantine = store.table("quarantine").to_pyarrow().to_pylist()
        messages = store.table("messages").to_pyarrow().num_rows
    assert [(Path(q["source"]).name, q["position"], q["field"], q["reason"]) for q in quarantine] == [
        ("mail.csv", "row 3", "sender", CONTROL)
    ]
    assert messages == 1
