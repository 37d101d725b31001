"""The mbox and EML readers: messy real-world headers, exact records, quarantine, idempotence."""

from __future__ import annotations

import email
import io
import shutil
import sys
from datetime import UTC, datetime
from email import policy
from email.utils import getaddresses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repsight.errors import InputError
from repsight.ingest import run_ingest
from repsight.sources import open_source, reader_for
from repsight.sources.mailheaders import parse_addresses, parse_date
from repsight.sources.mbox import mbox_messages
from repsight.sources.records import Message, Recipient, Rejected, message_key
from tests.support import DATA as TEST_DATA
from tests.support import read_mail

DATA = TEST_DATA / "mail"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def summary(m: Message) -> tuple[object, ...]:
    return (m.sent_at, m.sender_name, m.sender, [(r.address, r.name, r.kind) for r in m.recipients])


def test_messy_mbox_gives_exact_records():
    messages, _ = read_mail(DATA / "odd.mbox")
    assert [summary(m) for m in messages] == [
        # RFC 2047 name; folded To; a quoted name with a comma; a Cc repeating a To (first mention wins)
        (
            at(2024, 7, 1, 9),
            "Jürgen Müller",
            "jurgen@acme.example",
            [
                ("ana@acme.example", "Ana Brandt", "to"),
                ("kim.lee@customer.example", "Lee, Kim", "to"),
                ("bob@acme.example", "", "cc"),
            ],
        ),
        # undisclosed-recipients:; counts no one; the Bcc does
        (at(2024, 7, 1, 10), "", "ana@acme.example", [("dana@customer.example", "", "bcc")]),
        # a group's members; a second To header; -0000 is UTC
        (
            at(2024, 7, 1, 11),
            "Ana Brandt",
            "ana@acme.example",
            [("bob@acme.example", "", "to"), ("cy@acme.example", "Cy", "to"), ("eve@partner.example", "", "to")],
        ),
        # +05:30 with a colon; no Message-ID
        (at(2024, 7, 1, 12), "", "bob@acme.example", [("ana@acme.example", "", "to")]),
        # no Date: the postmark's time
        (at(2024, 7, 2, 8, 15), "", "bob@acme.example", [("ana@acme.example", "", "to")]),
        # an unreadable Date: the postmark's time
        (at(2024, 7, 2, 9, 15), "", "bob@acme.example", [("ana@acme.example", "", "to")]),
        # a resent message: the original, then the resending
        (at(2024, 7, 3, 15), "Lee, Kim", "kim.lee@customer.example", [("ana@acme.example", "", "to")]),
        (at(2024, 7, 4, 9), "Ana Brandt", "ana@acme.example", [("bob@acme.example", "", "to")]),
        # 8-bit headers: UTF-8, and a Latin-1 byte; CEST
        (
            at(2024, 7, 4, 10),
            "Zoë Ærø",
            "zoe@acme.example",
            [("ana@acme.example", "", "to"), ("rene@acme.example", "René", "to")],
        ),
        # two From mailboxes: the Sender sent it; EDT and a two-digit year
        (at(2024, 7, 4, 11), "Ana Brandt", "ana@acme.example", [("cy@acme.example", "", "to")]),
    ]
    assert messages[0].key == message_key("<m1@acme.example>", ())
    assert messages[7].key == message_key("<r9@acme.example>", ())


def test_messy_mbox_quarantines_with_byte_offsets():
    _, rejected = read_mail(DATA / "odd.mbox")
    data = (DATA / "odd.mbox").read_bytes()
    assert [(r.field, r.reason) for r in rejected] == [
        ("From", "has no mail address"),
        ("To", "the message has no recipients"),
    ]
    offsets = [int(r.position.removeprefix("byte ")) for r in rejected]
    assert [data[o : o + 24] for o in offsets] == [b"From cy@acme.example Wed", b"From cy@acme.example Wed"]
    assert data[offsets[0] :].split(b"\n")[1] == b"Message-ID: <m7@acme.example>"
    assert data[offsets[1] :].split(b"\n")[1] == b"Message-ID: <m8@acme.example>"


def test_from_lines_in_bodies_do_not_split_messages():
    with (DATA / "odd.mbox").open("rb") as file:
        found = list(mbox_messages(file))
    assert len(found) == 11
    assert all(postmark.startswith(b"From ") for _, postmark, _ in found)


def test_crlf_mbox_reads_like_lf():
    messages, rejected = read_mail(DATA / "crlf.mbox")
    assert rejected == []
    assert [summary(m) for m in messages] == [
        (at(2024, 7, 5, 9), "Ana Brandt", "ana@acme.example", [("bob@acme.example", "Bob", "to"), ("cy@acme.example", "", "to")]),
        (at(2024, 7, 5, 10), "", "bob@acme.example", [("ana@acme.example", "", "to")]),
    ]


def test_message_without_id_has_the_same_key_in_every_copy():
    in_mbox, _ = read_mail(DATA / "odd.mbox")
    in_maildir, _ = read_mail(DATA / "maildir")
    assert in_maildir[0].key == in_mbox[3].key  # the recipient's copy: other Received lines, other body


def test_maildir_skips_tmp_and_hidden_folders_and_names_files():
    messages, rejected = read_mail(DATA / "maildir")
    assert len(messages) == 1
    assert rejected == [Rejected("new/1719910800.M2P1.host", "Date", "'the day after tomorrow' is not a date")]


def test_a_single_eml_file_with_a_postmark():
    messages, rejected = read_mail(DATA / "single.eml")
    assert rejected == []
    assert [summary(m) for m in messages] == [
        (
            at(2024, 7, 1, 9),
            "",
            "jurgen@acme.example",
            [("ana@acme.example", "", "to"), ("kim.lee@customer.example", "", "cc"), ("bob@acme.example", "", "cc")],
        )
    ]


def test_a_file_that_is_not_mbox_is_refused_with_its_name(tmp_path):
    path = tmp_path / "notes.mbox"
    path.write_text("Dear diary,\n")
    with open_source(path) as source, pytest.raises(InputError, match=r"notes\.mbox: not an mbox file"):
        list(reader_for("mail", path)(source))


def test_mbox_without_extension_is_recognised(tmp_path):
    path = tmp_path / "Inbox"
    shutil.copy(DATA / "crlf.mbox", path)
    assert len(read_mail(path)[0]) == 2


def test_ingest_counts_every_message_and_loads_twice_without_doubling(workspace):
    config = workspace
    folder = config.root / "mail"
    folder.mkdir(exist_ok=True)
    shutil.copy(DATA / "odd.mbox", folder / "odd.mbox")
    shutil.copytree(DATA / "maildir", folder / "maildir")
    first = run_ingest(config, files=[("mail", folder / "odd.mbox"), ("mail", folder / "maildir")])
    assert [(f.read, f.loaded, f.new, f.quarantined) for f in first.files] == [(12, 10, 10, 2), (2, 1, 0, 1)]
    again = run_ingest(config, files=[("mail", folder / "odd.mbox"), ("mail", folder / "maildir")])
    assert [(f.read, f.loaded, f.new, f.quarantined) for f in again.files] == [(12, 10, 0, 2), (2, 1, 0, 1)]


# The standard library is the oracle: our address lists and dates equal its own.

_atoms = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=8).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
_addresses = st.builds(lambda local, host: f"{local}@{host}.example", _atoms, _atoms)
_names = st.text(alphabet="ABCabc xyzÄé'-.,\"", max_size=12)


@st.composite
def _address_lists(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        address, name = draw(_addresses), draw(_names)
        form = draw(st.sampled_from(["bare", "angle", "named", "quoted", "group", "empty", "comment", "nested", "stray"]))
        if form == "bare":
            parts.append(address)
        elif form == "angle":
            parts.append(f"<{address}>")
        elif form == "named":
            plain = name.replace(chr(34), "").replace(",", "")
            parts.append(f"{plain} <{address}>")
        elif form == "quoted":
            quoted = name.replace(chr(34), "")
            parts.append(f'"{quoted}" <{address}>')
        elif form == "group":
            parts.append(f"Team: {address};")
        elif form == "comment":
            parts.append(f"{address} ({name.replace('(', '').replace(')', '')})")
        elif form == "nested":
            parts.append(f"{address} (a ({name}), b)")
        elif form == "stray":
            parts.append(draw(st.sampled_from(['"', "(", ")", "<", ""])) + address)
        else:
            parts.append("undisclosed-recipients:;")
    return draw(st.sampled_from([", ", ",", ",\n "])).join(parts)


@settings(max_examples=300, deadline=None)
@given(_address_lists())
def test_address_lists_equal_the_standard_parser(value):
    unfolded = value.replace("\n", "")
    expected = [(n, a) for n, a in getaddresses([unfolded]) if "@" in a]
    assert parse_addresses([unfolded]) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    st.integers(-14 * 60, 14 * 60),
)
def test_dates_equal_the_standard_parser(moment, offset_minutes):
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = moment.strftime("%a, %d %b %Y %H:%M:%S ") + f"{sign}{hours:02d}{minutes:02d}"
    expected = email.utils.parsedate_to_datetime(text).astimezone(UTC)
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 1 Jul 2024 09:00:00 EDT", at(2024, 7, 1, 13)),
        ("Mon, 1 Jul 2024 09:00:00 CEST", at(2024, 7, 1, 7)),
        ("Mon, 1 Jul 2024 09:00:00 GMT+2", at(2024, 7, 1, 7)),
        ("Mon, 1 Jul 2024 09:00:00 +02:00", at(2024, 7, 1, 7)),
        ("Mon, 1 Jul 2024 09:00:00 +0200 (CEST)", at(2024, 7, 1, 7)),
        ("1 Jul 2024 09:00 -0430", at(2024, 7, 1, 13, 30)),
        ("Mon, 1 Jul 24 09:00:00 +0000", at(2024, 7, 1, 9)),
        ("Mon Jul  1 09:00:00 2024", at(2024, 7, 1, 9)),
        ("Mon, 1 Jul 2024 09:00:00", at(2024, 7, 1, 9)),
        ("Mon, 1 Jul 2024 09:00:00 XYZ", at(2024, 7, 1, 9)),
        ("31 Feb 2024 10:00:00 +0000", None),
        ("the day after tomorrow", None),
        ("", None),
    ],
)
def test_odd_dates(text, expected):
    assert parse_date(text) == expected


CPYTHON_MAIL = (
    Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "test" / "test_email" / "data"
)


@pytest.mark.skipif(not CPYTHON_MAIL.is_dir(), reason="this Python has no test/test_email/data")
def test_cpython_odd_messages_match_the_email_package(tmp_path):
    folder = tmp_path / "cpython"
    folder.mkdir()
    for path in CPYTHON_MAIL.glob("msg_*.txt"):
        shutil.copy(path, folder / path.name)
    messages: dict[str, Message] = {}
    rejected: dict[str, Rejected] = {}
    with open_source(folder) as source:
        members = {name: data for name, data in source.members()}
    for name, data in members.items():
        one = tmp_path / "one" / (name + ".eml")
        one.parent.mkdir(exist_ok=True)
        one.write_bytes(data)
        found, problems = read_mail(one)
        assert len(found) + len(problems) >= 1
        if found:
            messages[name] = found[0]
        else:
            rejected[name] = problems[0]
    assert len(messages) + len(rejected) == len(members) > 40
    for name, message in messages.items():
        parsed = email.message_from_bytes(members[name], policy=policy.compat32)
        expected: dict[str, None] = {}
        for field in ("to", "cc", "bcc"):
            for _, address in getaddresses([str(v) for v in parsed.get_all(field, [])]):
                if "@" in address:
                    expected.setdefault(address.lower(), None)
        assert [r.address.lower() for r in message.recipients] == list(expected), name
    assert all(r.field in {"From", "To", "Date"} for r in rejected.values())


def test_reader_never_reads_bodies(monkeypatch):
    # A body of 20 MB after a small header: the reader keeps the header only.
    body = b"x" * 80 + b"\n"
    data = b"From a@acme.example Mon Jul  1 09:00:00 2024\nFrom: a@acme.example\nTo: b@acme.example\n\n" + body * 250_000
    found = list(mbox_messages(io.BytesIO(data)))
    assert [(o, h) for o, _, h in found] == [(0, b"From: a@acme.example\nTo: b@acme.example\n")]


def test_recipient_records_carry_display_names():
    messages, _ = read_mail(DATA / "crlf.mbox")
    assert messages[0].recipients[0] == Recipient("bob@acme.example", "to", "Bob")


# Found in review: inputs that must neither stop a load nor change with the chunk size.


def mbox_bytes(*messages: bytes) -> bytes:
    return b"".join(messages)


def read_bytes(tmp_path: Path, data: bytes, name: str = "box.mbox") -> tuple[list[Message], list[Rejected]]:
    path = tmp_path / name
    path.write_bytes(data)
    return read_mail(path)


POSTMARK = b"From a@acme.example Mon Jul  1 09:00:00 2024\n"


@pytest.mark.parametrize(
    "header",
    [
        b"To: =?utf-8?b?a?= <b@acme.example>\n",  # bad base64 in an encoded word
        "To: =?utf-é?q?x?= <b@acme.example>\n".encode(),  # an 8-bit charset name
        b"To: " + b"(" * 500 + b"b@acme.example\n",  # nesting deeper than the parser's recursion
        b"Date: Mon, 01 Jan 0001 00:00:00 +0100\nTo: b@acme.example\n",  # .NET's DateTime.MinValue
        b"Date: Fri, 31 Dec 9999 23:00:00 -0200\nTo: b@acme.example\n",
    ],
)
def test_unreadable_headers_are_quarantined_or_read_never_raised(tmp_path, header):
    data = (
        POSTMARK + b"From: a@acme.example\n" + header + b"\nbody\n" + POSTMARK + b"From: a@acme.example\nTo: c@acme.example\n\n"
    )
    messages, rejected = read_bytes(tmp_path, data)
    assert len(messages) + len(rejected) == 2
    assert messages[-1].recipients == (Recipient("c@acme.example", "to"),)


def test_dates_out_of_range_fall_back_to_the_postmark(tmp_path):
    data = POSTMARK + b"From: a@acme.example\nDate: Mon, 01 Jan 0001 00:00:00 +0100\nTo: b@acme.example\n\n"
    messages, _ = read_bytes(tmp_path, data)
    assert messages[0].sent_at == at(2024, 7, 1, 9)


@pytest.mark.parametrize(
    "value",
    [
        "ana@acme.example (x (y), bob@acme.example), cy@acme.example",
        "Ana (team (EMEA), see also <bob@acme.example>) <ana@acme.example>",
        "ana@acme.example (Ana (Sales), EMEA)",
        '"unbalanced <ana@acme.example>, bob@acme.example',
        "ana@acme.example,, bob@acme.example,",
        '"Lee \\"K\\", Kim" <kim@customer.example>, bob@acme.example',
    ],
)
def test_odd_lists_equal_the_standard_parser(value):
    assert parse_addresses([value]) == [(n, a) for n, a in getaddresses([value]) if "@" in a]


def _postmarked(sender: bytes, day: bytes, headers: bytes) -> bytes:
    return b"From " + sender + b" " + day + b" Jul  2 08:00:00 2024\n" + headers + b"\n"


def test_a_weekday_in_the_envelope_sender_does_not_hide_the_postmark_date(tmp_path):
    data = _postmarked(b"Sat@acme.example", b"Tue", b"From: a@acme.example\nTo: b@acme.example\n")
    messages, _ = read_bytes(tmp_path, data)
    assert messages[0].sent_at == at(2024, 7, 2, 8)


def test_a_numeric_offset_wins_over_a_zone_name():
    assert parse_date("Mon, 1 Jul 2024 09:00:00 +0200 CET") == at(2024, 7, 1, 7)
    assert parse_date("Mon, 1 Jul 2024 09:00:00 +0000 BST") == at(2024, 7, 1, 9)
    assert parse_date("Thu Jul  4 10:00:00 CEST 2024") == at(2024, 7, 4, 8)


def test_an_eml_beginning_with_obsolete_from_space_colon_is_a_header(tmp_path):
    data = b"From : ana@acme.example\nDate: Mon, 1 Jul 2024 09:00:00 +0000\nTo: b@acme.example\n\n"
    messages, rejected = read_bytes(tmp_path, data, "one.eml")
    assert rejected == [] and messages[0].sender == "ana@acme.example"


def test_an_eml_with_a_byte_order_mark(tmp_path):
    data = b"\xef\xbb\xbfFrom: ana@acme.example\nDate: Mon, 1 Jul 2024 09:00:00 +0000\nTo: b@acme.example\n\n"
    assert read_bytes(tmp_path, data, "one.eml")[0][0].sender == "ana@acme.example"


def test_copies_folded_differently_share_their_key(tmp_path):
    base = b"From: ana@acme.example\nDate: Mon, 1 Jul 2024 09:00:00 +0000\nTo: b@acme.example,\n"
    spaced, _ = read_bytes(tmp_path, base + b" c@acme.example\n\n", "a.eml")
    tabbed, _ = read_bytes(tmp_path, base + b"\tc@acme.example\n\n", "b.eml")
    assert spaced[0].key == tabbed[0].key


def test_two_resent_to_fields_are_one_resending(tmp_path):
    data = POSTMARK + (
        b"Resent-From: ana@acme.example\nResent-Date: Tue, 2 Jul 2024 09:00:00 +0000\n"
        b"Resent-To: bob@acme.example\nResent-To: cy@acme.example\n"
        b"From: kim@customer.example\nDate: Mon, 1 Jul 2024 09:00:00 +0000\nTo: ana@acme.example\n\n"
    )
    messages, rejected = read_bytes(tmp_path, data)
    assert rejected == []
    assert [[r.address for r in m.recipients] for m in messages] == [
        ["ana@acme.example"],
        ["bob@acme.example", "cy@acme.example"],
    ]


def test_a_resending_is_read_when_the_original_cannot_be(tmp_path):
    data = POSTMARK + (
        b"Resent-From: ana@acme.example\nResent-Date: Tue, 2 Jul 2024 09:00:00 +0000\nResent-To: bob@acme.example\n"
        b"From: kim@customer.example\nDate: Mon, 1 Jul 2024 09:00:00 +0000\n\n"
    )
    messages, rejected = read_bytes(tmp_path, data)
    assert [(r.field, r.reason) for r in rejected] == [("To", "the message has no recipients")]
    assert [m.sender for m in messages] == ["ana@acme.example"]


_lines = st.sampled_from(
    [
        POSTMARK,
        b"From b@acme.example Tue Jul  2 10:00:00 2024\r\n",
        b"From: a@acme.example\n",
        b"To: b@acme.example,\n c@acme.example\n",
        b"Cc: leak@acme.example\n",
        b"\n",
        b"\r\n",
        b">From the body\n",
        b"From here on, a body line\n",
        b"From Bob Sat 3pm, a body line\n",
        b"x" * 150 + b"\n",
        b"Date: Mon, 1 Jul 2024 09:00:00 +0000",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_lines, max_size=40), st.sampled_from([1, 7, 64, 100]))
def test_messages_do_not_depend_on_the_chunk_size(lines, chunk):
    import repsight.sources.mbox as mbox

    data = POSTMARK + b"".join(lines)
    whole = list(mbox_messages(io.BytesIO(data)))
    saved = mbox._CHUNK
    mbox._CHUNK = chunk
    try:
        assert list(mbox_messages(io.BytesIO(data))) == whole
    finally:
        mbox._CHUNK = saved


def test_two_postmarks_in_a_row_are_two_messages():
    data = POSTMARK + b"From b@acme.example Tue Jul  2 10:00:00 2024\nFrom: b@acme.example\n\n"
    assert [offset for offset, _, _ in mbox_messages(io.BytesIO(data))] == [0, len(POSTMARK)]


def test_a_header_without_a_blank_line_is_cut_at_the_limit_whatever_the_chunks(monkeypatch):
    import repsight.sources.mbox as mbox

    data = POSTMARK + b"From: a@acme.example\nTo: b@acme.example\n" + (b"y" * 99 + b"\n") * 30 + b"Cc: leak@acme.example\n"
    monkeypatch.setattr(mbox, "_HEADER_LIMIT", 1000)
    results = []
    for chunk in (64, 1000, 1 << 22):
        monkeypatch.setattr(mbox, "_CHUNK", chunk)
        results.append(list(mbox_messages(io.BytesIO(data))))
    assert results[0] == results[1] == results[2]
    assert b"leak" not in results[0][0][2] and len(results[0][0][2]) <= 1000


def test_blank_lines_before_the_first_message_longer_than_a_chunk(monkeypatch):
    import repsight.sources.mbox as mbox

    monkeypatch.setattr(mbox, "_CHUNK", 8)
    data = b"\n" * 50 + POSTMARK + b"From: a@acme.example\n\n"
    assert [offset for offset, _, _ in mbox_messages(io.BytesIO(data))] == [50]
