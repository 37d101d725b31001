"""The column-wise CSV readers give exactly what the row-by-row reference parser gives.

Files mix plain rows with every kind of irregular one, so both paths of
the fast reader (Arrow for plain rows, the reference for the rest) are
exercised, and compared record by record with the reference on its own.
"""

from __future__ import annotations

import random
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from repsight.sources import open_source
from repsight.sources.calendar_csv import read_calendar_csv, read_calendar_csv_rows
from repsight.sources.mail_csv import read_mail_csv, read_mail_csv_rows
from repsight.sources.records import Meeting, MeetingBatch, Message, MessageBatch, Rejected

ADDRESSES = ["ana@acme.example", "Ben@Acme.example", "cy@customer.example", "dee@gmail.com", "eve@partner.example"]
ODD_ADDRESSES = [
    "Ana Brandt <ana@acme.example>",
    "not-an-address",
    "<cy@customer.example>",
    "x@y",
    "a\u00a0b@acme.example",
    "zoë@acme.example",
]
TIMES = ["2025-01-06T09:30:00Z", "2025-01-06T09:30:00+01:00", "2025-01-06 09:30:00.250-05:00", "2025-03-30T01:30Z"]
ODD_TIMES = [
    "2025-01-06T09:30:00", "yesterday", "2025-13-06T09:30:00Z", "20250106T093000Z", "",
    "0000-01-01T10:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00",
]  # fmt: skip


def addresses(rng: random.Random, most: int) -> str:
    chosen = [rng.choice(ODD_ADDRESSES) if rng.random() < 0.04 else rng.choice(ADDRESSES) for _ in range(rng.randint(0, most))]
    return ";".join(f" {a} " if rng.random() < 0.1 else a for a in chosen)


# What an `in_reply_to` column may hold: nothing, an id with or without brackets, a comment, two ids.
REPLIED_TO = [
    "",
    "",
    "<m1@acme.example>",
    " m2@acme.example ",
    "<m3@acme.example> (Ana's)",
    "<m4@acme.example> <m5@acme.example>",
    "<>",
]


def mail_rows(rng: random.Random, count: int, *, in_reply_to: bool = False) -> list[str]:
    rows = []
    for i in range(count):
        message_id = "" if rng.random() < 0.05 else f"<m{i}@acme.example>"
        when = rng.choice(ODD_TIMES) if rng.random() < 0.05 else rng.choice(TIMES)
        sender = rng.choice(ODD_ADDRESSES) if rng.random() < 0.05 else rng.choice(ADDRESSES)
        row = [message_id, when, sender, addresses(rng, 3), addresses(rng, 2), addresses(rng, 1)]
        if in_reply_to:
            row.append(rng.choice(REPLIED_TO))
        if rng.random() < 0.02:
            row.append("extra")
        rows.append(",".join(f'"{v}"' for v in row))
        if i % 97 == 0:
            rows.append("")
    return rows


def calendar_rows(rng: random.Random, count: int) -> list[str]:
    rows = []
    for i in range(count):
        start = rng.choice(ODD_TIMES) if rng.random() < 0.05 else rng.choice(TIMES)
        end = rng.choice(["2025-01-06T10:30:00Z", "2025-01-06T08:00:00Z", start])
        all_day = rng.choice(["false", "false", "FALSE", "", "true", "maybe"])
        if all_day == "true" and rng.random() < 0.5:
            start, end = "2025-01-06", "2025-01-07"
        row = [
            "" if rng.random() < 0.03 else f"uid-{i}",
            start,
            end,
            rng.choice(ODD_ADDRESSES) if rng.random() < 0.04 else rng.choice(ADDRESSES),
            addresses(rng, 4),
            addresses(rng, 2),
            rng.choice(["false", "true", "0", "1", "", "cancelled"]),
            all_day,
            rng.choice(["false", "true", "", "no"]),
        ]
        rows.append(",".join(f'"{v}"' for v in row))
    return rows


def normalised(items: list[Any]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Return (events, rejections) as sorted tuples, whichever form the reader gave them in.

    Every row has its own event id, so a key stands for one row (rows without
    an id are keyed by their content, so equal keys mean equal rows).
    """
    events: list[tuple[Any, ...]] = []
    rejected = sorted((r.position, r.field, r.reason) for r in items if isinstance(r, Rejected))
    for kind in (MessageBatch, MeetingBatch):
        records = [i for i in items if isinstance(i, Message | Meeting) and isinstance(i, Message) == (kind is MessageBatch)]
        batches = [i for i in items if isinstance(i, kind)] + ([kind.of(records)] if records else [])
        for batch in batches:
            participants: dict[str, list[tuple[Any, ...]]] = {}
            for p in batch.participants.to_pylist():
                participants.setdefault(p["key"], []).append(tuple(v for k, v in p.items() if k not in ("key", "event")))
            for event in batch.events.to_pylist():
                moments = {k: v.astimezone(UTC) for k, v in event.items() if hasattr(v, "astimezone")}
                events.append((*sorted({**event, **moments}.items()), tuple(sorted(participants.get(event["key"], [])))))
    return sorted(events, key=repr), rejected


@pytest.mark.parametrize(("seed", "in_reply_to"), [(1, False), (2, False), (3, False), (4, True), (5, True)])
def test_mail_csv_by_column_equals_row_by_row(tmp_path: Path, seed: int, in_reply_to: bool) -> None:
    path = tmp_path / "mail.csv"
    rows = mail_rows(random.Random(seed), 600, in_reply_to=in_reply_to)
    header = "message_id,sent_at,sender,to,cc,bcc" + (",in_reply_to" if in_reply_to else "")
    undecodable = [
        b'"m9","2025-01-06T09:30:00Z","caf\xe9@acme.example","a@b.example","",""',
        b'"m\xff","2025-01-06T09:30:00Z","ana@acme.example","a@b.example","",""',
    ]
    last = b',""\n' if in_reply_to else b"\n"
    path.write_bytes((header + "\n" + "\n".join(rows) + "\n").encode() + b"".join(row + last for row in undecodable))
    with open_source(path) as source:
        fast = list(read_mail_csv(source))
    with open_source(path) as source:
        reference = list(read_mail_csv_rows(source))
    assert any(isinstance(i, MessageBatch) for i in fast) and not any(isinstance(i, Message) for i in fast)
    assert any(isinstance(i, Rejected) for i in fast)
    assert normalised(fast) == normalised(reference)
    # Every kind of value reached both paths: no parent, and the parents m1 to m4.
    parents = {dict(event[:-1])["parent_key"] for event in normalised(fast)[0]}
    assert len(parents) == (5 if in_reply_to else 1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calendar_csv_by_column_equals_row_by_row(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "calendar.csv"
    header = "event_id,start,end,organizer,attendees,declined,is_cancelled,is_all_day,is_transparent\n"
    path.write_text(header + "\n".join(calendar_rows(random.Random(seed), 600)) + "\n", encoding="utf-8")
    with open_source(path) as source:
        fast = list(read_calendar_csv(source))
    with open_source(path) as source:
        reference = list(read_calendar_csv_rows(source))
    assert any(isinstance(i, MeetingBatch) for i in fast) and not any(isinstance(i, Meeting) for i in fast)
    assert any(isinstance(i, Rejected) for i in fast)
    assert normalised(fast) == normalised(reference)
