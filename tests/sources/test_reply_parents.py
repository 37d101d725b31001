"""Each message's parent (the message it replies to): In-Reply-To, else the last References id, keyed like a Message-ID.

Every reader stores `message_key` of the parent's Message-ID: mbox and
`.eml` from the headers (never the body), the mail CSV from its optional
`in_reply_to` column, Graph JSON from `internetMessageHeaders` (never from
`conversationId`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from repsight.sources import open_source
from repsight.sources.mail_csv import read_mail_csv, read_mail_csv_rows
from repsight.sources.records import Message, MessageBatch, message_key, parent_key
from tests.support import DATA, read_mail

MAIL = DATA / "mail"


def key(message_id: str) -> str:
    return message_key(message_id, ())


# The rule


@pytest.mark.parametrize(
    ("in_reply_to", "references", "parent"),
    [
        ("<p@acme.example>", "<r1@acme.example> <r2@acme.example>", "p@acme.example"),  # In-Reply-To wins
        ("", "<r1@acme.example> <r2@acme.example>", "r2@acme.example"),  # else the last References id
        ("  ", "<r1@acme.example>\t<r2@acme.example> ", "r2@acme.example"),  # blank is empty
        ("< p@acme.example >", "", "p@acme.example"),  # spaces inside the brackets, as for Message-ID
        ("p@acme.example", "", "p@acme.example"),  # no brackets: the whole value
        ("<p@acme.example> (Ana's message of Monday)", "", "p@acme.example"),  # a comment after the id
        ("<p@acme.example> <q@acme.example>", "", "p@acme.example"),  # two ids: the first
        ("", "r1@acme.example r2@acme.example", "r2@acme.example"),  # References without brackets: the last word
    ],
)
def test_the_parent_is_in_reply_to_else_the_last_reference(in_reply_to: str, references: str, parent: str) -> None:
    assert parent_key(in_reply_to, references) == key(parent) == key(f"<{parent}>")


@pytest.mark.parametrize(("in_reply_to", "references"), [("", ""), (" ", " "), ("<>", ""), ("", "<> ")])
def test_no_parent_when_neither_header_names_one(in_reply_to: str, references: str) -> None:
    assert parent_key(in_reply_to, references) is None


# mbox and .eml


def test_mbox_parents_follow_the_headers_only() -> None:
    messages, rejected = read_mail(MAIL / "replies.mbox")
    assert rejected == []
    assert [(m.key, m.parent_key) for m in messages] == [
        # no parent: In-Reply-To and References in the body are never read
        (key("q1@customer.example"), None),
        # In-Reply-To wins over References
        (key("a1@acme.example"), key("q1@customer.example")),
        # no In-Reply-To: the last id of a References folded over three lines
        (key("q2@customer.example"), key("a1@acme.example")),
        # an empty In-Reply-To falls back to References
        (key("a2@acme.example"), key("q2@customer.example")),
        # a lower-case name, the value on a folded line, a comment after the id
        (key("a3@acme.example"), key("q2@customer.example")),
        # a message that names itself keeps it
        (key("a4@acme.example"), key("a4@acme.example")),
        # the original replies to q2; its resending replies to nothing
        (key("a5@acme.example"), key("q2@customer.example")),
        (key("r1@acme.example"), None),
    ]


def test_crlf_headers_give_the_same_parents(tmp_path: Path) -> None:
    path = tmp_path / "crlf.mbox"
    path.write_bytes((MAIL / "replies.mbox").read_bytes().replace(b"\n", b"\r\n"))
    assert [m.parent_key for m in read_mail(path)[0]] == [m.parent_key for m in read_mail(MAIL / "replies.mbox")[0]]


def test_a_folder_of_eml_files_gives_the_mbox_parents(tmp_path: Path) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    parts = (MAIL / "replies.mbox").read_bytes().split(b"\n\nFrom ")
    for i, part in enumerate(parts):
        # Each message without its postmark line, as a mail client saves it.
        (folder / f"{i:02d}.eml").write_bytes(part.split(b"\n", 1)[1])
    assert len(parts) == 7
    assert [(m.key, m.parent_key) for m in read_mail(folder)[0]] == [
        (m.key, m.parent_key) for m in read_mail(MAIL / "replies.mbox")[0]
    ]


# The mail CSV

CSV_HEADER = "message_id,sent_at,sender,to,cc,bcc,in_reply_to\n"


def test_csv_in_reply_to_column_by_column_and_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "mail.csv"
    path.write_text(
        CSV_HEADER
        + "<q1@customer.example>,2024-07-01T09:00:00Z,kim.lee@customer.example,ana@acme.example,,,\n"
        + "<a1@acme.example>,2024-07-01T10:00:00Z,ana@acme.example,kim.lee@customer.example,,,<q1@customer.example>\n"
        + "<a2@acme.example>,2024-07-01T11:00:00Z,ana@acme.example,kim.lee@customer.example,,, q1@customer.example \n"
        # a display name: read row by row, not by column
        + '<a3@acme.example>,2024-07-01T12:00:00Z,"Ana <ana@acme.example>",kim.lee@customer.example,,,<a2@acme.example>\n',
        encoding="utf-8",
    )
    expected = [
        (key("q1@customer.example"), None),
        (key("a1@acme.example"), key("q1@customer.example")),
        (key("a2@acme.example"), key("q1@customer.example")),
        (key("a3@acme.example"), key("a2@acme.example")),
    ]
    with open_source(path) as source:
        items = list(read_mail_csv(source))
    assert all(isinstance(i, MessageBatch) for i in items)
    assert [(m.key, m.parent_key) for i in items if isinstance(i, MessageBatch) for m in i.records()] == expected
    with open_source(path) as source:
        assert [(m.key, m.parent_key) for m in read_mail_csv_rows(source) if isinstance(m, Message)] == expected


def test_csv_without_the_column_has_no_parents(tmp_path: Path) -> None:
    path = tmp_path / "mail.csv"
    path.write_text(
        "message_id,sent_at,sender,to,cc,bcc\n"
        "<a1@acme.example>,2024-07-01T10:00:00Z,ana@acme.example,kim.lee@customer.example,,\n"
        '<a2@acme.example>,2024-07-01T11:00:00Z,"Ana <ana@acme.example>",kim.lee@customer.example,,\n',
        encoding="utf-8",
    )
    messages, rejected = read_mail(path)
    assert rejected == []
    assert [(m.key, m.parent_key) for m in messages] == [(key("a1@acme.example"), None), (key("a2@acme.example"), None)]
    with open_source(path) as source:
        assert [m.parent_key for m in read_mail_csv_rows(source) if isinstance(m, Message)] == [None, None]


# Graph message JSON


def graph_message(message_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"AAMk-{message_id}",
        "internetMessageId": f"<{message_id}>",
        "sentDateTime": "2024-07-01T10:00:00Z",
        "from": {"emailAddress": {"name": "Ana Brandt", "address": "ana@acme.example"}},
        "toRecipients": [{"emailAddress": {"address": "kim.lee@customer.example"}}],
        "conversationId": "AAQkAGI1-thread",
        **fields,
    }


def headers(**values: str) -> list[dict[str, str]]:
    return [{"name": name.replace("_", "-"), "value": value} for name, value in values.items()]


def test_graph_parents_come_from_internet_message_headers_only(tmp_path: Path) -> None:
    received = headers(Received="from mx.acme.example", Content_Type="text/plain")
    resources = [
        # no internetMessageHeaders (the export did not ask for them): no parent, whatever conversationId says
        graph_message("a1@acme.example"),
        graph_message("a2@acme.example", conversationId="AAQkAGI1-other", conversationIndex="AQHa"),
        graph_message(
            "a3@acme.example",
            internetMessageHeaders=received
            + headers(References="<r1@acme.example> <q1@customer.example>")
            + headers(In_Reply_To="<q2@customer.example>"),
        ),
        graph_message(
            "a4@acme.example", internetMessageHeaders=headers(References="<r1@acme.example>\r\n <q1@customer.example>")
        ),
        graph_message(
            "a5@acme.example", internetMessageHeaders=headers(**{"in-reply-to": "", "REFERENCES": "<q1@customer.example>"})
        ),
        graph_message("a6@acme.example", internetMessageHeaders=received),  # headers, but neither of the two
        graph_message("a7@acme.example", internetMessageHeaders=[]),
        graph_message("a8@acme.example", internetMessageHeaders="In-Reply-To: <q1@customer.example>"),
        graph_message("a9@acme.example", internetMessageHeaders=[{"name": "In-Reply-To", "value": 7}]),
    ]
    path = tmp_path / "mail.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    messages, rejected = read_mail(path)
    assert [(m.key, m.parent_key) for m in messages] == [
        (key("a1@acme.example"), None),
        (key("a2@acme.example"), None),
        (key("a3@acme.example"), key("q2@customer.example")),
        (key("a4@acme.example"), key("q1@customer.example")),
        (key("a5@acme.example"), key("q1@customer.example")),
        (key("a6@acme.example"), None),
        (key("a7@acme.example"), None),
    ]
    assert [(r.position, r.field, r.reason) for r in rejected] == [
        ("line 8", "internetMessageHeaders", "is not a list"),
        ("line 9", "internetMessageHeaders", "is not text"),
    ]


# Every format


def test_every_mail_format_names_the_stored_parent(tmp_path: Path) -> None:
    """A reply in any format names the key its parent is stored under, whichever format the parent came in."""
    csv = tmp_path / "mail.csv"
    csv.write_text(
        CSV_HEADER + "<a9@acme.example>,2024-07-01T16:00:00Z,ana@acme.example,kim.lee@customer.example,,,<q2@customer.example>\n",
        encoding="utf-8",
    )
    graph = tmp_path / "mail.jsonl"
    graph.write_text(
        json.dumps(graph_message("a10@acme.example", internetMessageHeaders=headers(In_Reply_To="<q2@customer.example>"))) + "\n",
        encoding="utf-8",
    )
    eml = tmp_path / "a11.eml"
    eml.write_text(
        "Message-ID: <a11@acme.example>\nIn-Reply-To: <q2@customer.example>\nDate: Mon, 1 Jul 2024 17:00:00 +0000\n"
        "From: ana@acme.example\nTo: kim.lee@customer.example\n\nBody.\n",
        encoding="utf-8",
    )
    (parent,) = [m for m in read_mail(MAIL / "replies.mbox")[0] if m.key == key("q2@customer.example")]
    for path in (csv, graph, eml):
        (reply,) = read_mail(path)[0]
        assert reply.parent_key == parent.key, path.name
