"""Customer engagement in the synthetic company: replies with their headers in every format, account owners, planted parameters.

The files are read back by repsight's own readers (the parent a message
answers is `Message.parent_key`) and, for the headers as written, by the
standard library's `mailbox` and `json`.
"""

from __future__ import annotations

import json
import mailbox
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from repsight.sources.records import message_key
from repsight.synth import Params, generate
from tests.support import read_mail

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    generate(folder, people=120, months=3, seed=11, formats="mixed")
    return folder


@pytest.fixture(scope="module")
def as_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same company as `mixed`, every mailbox group as CSV."""
    folder = tmp_path_factory.mktemp("csv")
    generate(folder, people=120, months=3, seed=11, formats="csv")
    return folder


def csv_mail(folder: Path) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((folder / "mail").glob("*.csv"))]
    mail = pd.concat(frames, ignore_index=True).drop_duplicates("message_id").set_index("message_id")
    mail["sent"] = pd.to_datetime(mail.sent_at, utc=True, format="ISO8601")
    return mail


def mail_files(folder: Path) -> list[Path]:
    """Return every mail file of an export: mbox, Graph JSON, CSV and each maildir message."""
    return sorted(p for p in (folder / "mail").rglob("*") if p.is_file())


def parents_read_back(folder: Path) -> dict[str, dict[str, str | None]]:
    """Return, per mail format, each message's key and the key of the message it answers, as repsight's readers give them."""
    found: dict[str, dict[str, str | None]] = {}
    for path in mail_files(folder):
        kind = "maildir" if path.parent.name == "cur" else path.suffix.lstrip(".")
        messages, rejected = read_mail(path)
        assert rejected == [], path
        for m in messages:
            found.setdefault(kind, {})[m.key] = m.parent_key
    return found


def test_every_format_writes_the_parent_and_repsights_readers_read_it_back(mixed: Path, as_csv: Path) -> None:
    expected = csv_mail(as_csv)
    parent = {message_key(i, ()): (message_key(p, ()) if p else None) for i, p in expected.in_reply_to.items()}
    found = parents_read_back(mixed)
    assert set(found) == {"mbox", "maildir", "json", "csv"}
    for kind, parents in found.items():
        assert {k: parent[k] for k in parents} == parents, kind
        assert sum(p is not None for p in parents.values()) > 100, kind
    assert set().union(*found.values()) == set(parent)


def test_mbox_and_graph_hold_in_reply_to_and_the_thread_in_references(mixed: Path) -> None:
    replies = [m for p in sorted((mixed / "mail").glob("*.mbox")) for m in mailbox.mbox(p) if m["In-Reply-To"]]
    assert replies
    for m in replies:
        references = m["References"].split()
        assert m["In-Reply-To"] == references[-1] and m["Subject"] == "Re: Follow-up"
        assert len(set(references)) == len(references) <= 8
    assert any(len(m["References"].split()) > 1 for m in replies), "threads longer than one message"
    graph = [json.loads(line) for p in sorted((mixed / "mail").glob("*.json")) for line in p.read_text().splitlines()]
    headers = [{h["name"]: h["value"] for h in m["internetMessageHeaders"]} for m in graph]
    assert all(h["Message-ID"] == m["internetMessageId"] for h, m in zip(headers, graph, strict=True))
    answering = [h for h in headers if "In-Reply-To" in h]
    assert answering and all(h["References"].split()[-1] == h["In-Reply-To"] for h in answering)


def test_reps_answer_customers_within_days_and_colleagues_too(as_csv: Path) -> None:
    mail = csv_mail(as_csv)
    roster = pd.read_csv(as_csv / "roster.csv", dtype=str, keep_default_na=False)
    accounts = pd.read_csv(as_csv / "accounts.csv", dtype=str, keep_default_na=False)
    reps = set(roster.email[roster.title == "Account Executive"])
    customers = set(accounts.domains[accounts.type.isin(["customer", "prospect"])])
    replies = mail[mail.in_reply_to != ""]
    parents = mail.loc[replies.in_reply_to]
    assert replies.in_reply_to.isin(mail.index).all(), "every reply answers a message of the export"
    delay = replies.sent.to_numpy() - parents.sent.to_numpy()
    by_rep = replies.sender.isin(reps).to_numpy()
    to_customer = parents.sender.str.split("@").str[1].isin(customers).to_numpy()
    # The rep answers a customer's email to them: the customer is among the reply's recipients.
    answered = parents.sender.to_numpy()
    assert all(a in to.split(";") for a, to in zip(answered[by_rep & to_customer], replies.to[by_rep & to_customer], strict=True))
    assert all(r in to.split(";") for r, to in zip(replies.sender[by_rep], parents.to[by_rep], strict=True))
    customer_delay = pd.Series(delay[by_rep & to_customer])
    assert (customer_delay >= timedelta(0)).all()
    assert 1 < customer_delay.median() / timedelta(hours=1) < 12, "a few hours"
    late = (customer_delay > 14 * DAY).mean()
    assert 0 < late < 0.02, "rare replies past the 14 days a reply counts"
    assert (by_rep & ~to_customer & parents.sender.isin(set(roster.email)).to_numpy()).sum() > 100, "replies to colleagues"
    from_customer = replies.sender.str.split("@").str[1].isin(customers).to_numpy()
    assert (from_customer & parents.sender.isin(reps).to_numpy()).sum() > 100, "customers answer the reps' emails too"


def test_accounts_name_their_owning_rep_and_partners_and_vendors_none(as_csv: Path) -> None:
    accounts = pd.read_csv(as_csv / "accounts.csv", dtype=str, keep_default_na=False)
    roster = pd.read_csv(as_csv / "roster.csv", dtype=str, keep_default_na=False)
    reps = set(roster.email[roster.title == "Account Executive"])
    assert list(accounts.columns) == ["account_id", "name", "domains", "type", "owner_email"]
    owned = accounts.type.isin(["customer", "prospect"])
    assert accounts.owner_email[owned].isin(reps).all()
    assert (accounts.owner_email[~owned] == "").all()
    per_rep = accounts[owned].groupby("owner_email").size()
    assert set(per_rep.index) == reps and per_rep.between(7, 11).all()


def test_accounts_csv_with_owners_loads_without_rejections(as_csv: Path) -> None:
    from repsight.sources import open_source
    from repsight.sources.accounts import read_accounts
    from repsight.sources.records import Account

    with open_source(as_csv / "accounts.csv") as source:
        read = list(read_accounts(source))
    assert all(isinstance(a, Account) for a in read)
    assert len(read) == len(pd.read_csv(as_csv / "accounts.csv"))


def test_truth_records_the_planted_engagement(as_csv: Path) -> None:
    truth = json.loads((as_csv / "truth.json").read_text())
    params = truth["params"]
    assert params == Params().as_dict()
    expected = params["expected_bottom_vs_top"]
    assert expected["accounts_touched"] == -0.20 and expected["contacts_per_account"] == -0.20
    assert expected["customer_reply_hours"] == 0.40
    assert params["accounts_skill_effect"] > 0 and params["contacts_skill_effect"] > 0 and params["reply_skill_effect"] < 0
