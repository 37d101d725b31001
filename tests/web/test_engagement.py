"""Customer engagement on the dashboard: a rep's figures against the top tier, their own list of accounts, a team's means.

A hand-built team of five gives the exact figures; the measured workspace
(tests/support/web_org.py) checks the same through the pages and the API,
and who may see the list of accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

import pandas as pd
import pytest
from fastapi import FastAPI

from repsight.config import CompanyConfig, Config, PrivacyConfig
from repsight.metrics.catalog import STUDY_DEFAULT
from repsight.privacy import read_key
from repsight.store import Store
from repsight.web import Accounts
from repsight.web.access import User
from repsight.web.app import create_app, session_secret
from repsight.web.data import BEHAVIOURS, ENGAGEMENT, WorkspaceData
from repsight.web.views import account_list, person_view, team_view
from tests.support.web_org import PASSWORD, Cast, signed_in

TEAM = ["r1", "r2", "r3", "r4", "r5"]


def small_org(min_group_size: int = 5) -> WorkspaceData:
    """Return a manager `m` with five reps r1..r5 (segment SMB), all in the top tier of 2024Q1.

    Accounts touched 2, 4, 6, 8, 10; contacts per account 1, 1, 2, 2, 4;
    reply hours 1, 2, 3, 4 and none for r5 (no reply to a customer). r1
    touched three accounts in 2024Q1 (one without a name) and one in 2023Q4.
    """
    config = Config(company=CompanyConfig(domains=["acme.example"]), privacy=PrivacyConfig(min_group_size=min_group_size))
    people = pd.DataFrame(
        {
            "person": ["m", *TEAM],
            "manager": [None, "m", "m", "m", "m", "m"],
            "org": "Sales",
            "level": [5, 3, 3, 3, 3, 3],
            "function": "Sales",
            "region": "EMEA",
            "segment": "SMB",
            "channel": "Direct",
            "email": [f"{p}@acme.example" for p in ["m", *TEAM]],
            "name": ["Mia", "Ana", "Ben", "Cem", "Dan", "Eva"],
        }
    ).set_index("person")
    periods = pd.DataFrame({"person": TEAM, "period": "2024Q1"})
    for name in {*STUDY_DEFAULT, *ENGAGEMENT}:
        periods[name] = 1.0
    periods["accounts_touched"] = [2.0, 4.0, 6.0, 8.0, 10.0]
    periods["contacts_per_account"] = [1.0, 1.0, 2.0, 2.0, 4.0]
    periods["customer_reply_hours"] = [1.0, 2.0, 3.0, 4.0, float("nan")]
    weeks = pd.DataFrame({"person": TEAM, "week": "2024-01-01", "period": "2024Q1", **dict.fromkeys(BEHAVIOURS, 1.0)})
    tiers = pd.DataFrame({"person": TEAM, "period": "2024Q1", "attainment": 1.0, "tier": 1})
    edges = pd.DataFrame({"period": pd.Series(dtype=str), "a": [], "b": [], "weight": []})
    touches = pd.DataFrame(
        {
            "person": ["r1", "r1", "r1", "r1", "r2"],
            "period": ["2024Q1", "2024Q1", "2024Q1", "2023Q4", "2024Q1"],
            "account_id": ["A1", "A2", "A3", "A1", "A1"],
            "contacts": [3, 1, 2, 5, 1],
            "weeks": [5, 1, 2, 9, 1],
            "last_touch": pd.to_datetime(
                ["2024-03-20 10:00", "2024-02-01 08:00", "2024-03-20 09:00", "2023-12-01 08:00", "2024-03-29 23:30"]
            ),
            "account": ["Acme Corp", "A2", "Birch Ltd", "Acme Corp", "Acme Corp"],
        }
    )
    study = cast("Any", {})
    return WorkspaceData(config, people, weeks, periods, tiers, edges, study, None, touches)


def test_a_reps_accounts_are_those_of_their_latest_period_the_last_touched_first() -> None:
    assert account_list(small_org(), "r1") == {
        "period": "2024Q1",
        "accounts": [
            {"account": "Acme Corp", "contacts": 3, "weeks": 5, "last_touch": "2024-03-20"},
            {"account": "Birch Ltd", "contacts": 2, "weeks": 2, "last_touch": "2024-03-20"},
            {"account": "A2", "contacts": 1, "weeks": 1, "last_touch": "2024-02-01"},  # no name: its id
        ],
    }
    assert account_list(small_org(), "m") == {"period": None, "accounts": []}


def test_a_reps_engagement_stands_against_the_top_tiers_quartiles_in_the_period() -> None:
    rows = {row["metric"]: row for row in person_view(small_org(), "r1")["engagement"]["metrics"]}
    touched = rows["accounts_touched"]
    # Quartiles of 2, 4, 6, 8, 10 over the five top-tier reps of segment SMB: 4, 6, 8.
    assert touched["value"] == 2.0 and touched["position"] == "below"
    assert touched["top_tier"] == {"group": "segment SMB", "low": 4.0, "median": 6.0, "high": 8.0}
    assert rows["contacts_per_account"]["top_tier"] == {"group": "segment SMB", "low": 1.0, "median": 2.0, "high": 2.0}
    assert rows["contacts_per_account"]["position"] == "within"
    # Four top-tier reps replied to a customer: fewer than five, so no band, in the segment or the company.
    reply = rows["customer_reply_hours"]
    assert reply["value"] == 1.0 and reply["lower_is_better"] is True and reply["position"] is None
    assert reply["top_tier"] == {"group": "the company", "low": None, "median": None, "high": None}
    # r5 sent no reply to a customer: the reply time is not shown at all.
    assert "customer_reply_hours" not in [row["metric"] for row in person_view(small_org(), "r5")["engagement"]["metrics"]]


def test_a_team_shows_the_mean_of_the_members_with_a_value_only_over_the_minimum() -> None:
    data = small_org()
    engagement = team_view(data, User("m@acme.example", "m", frozenset()), data.config.privacy)["engagement"]
    rows = {row["metric"]: row for row in engagement["metrics"]}
    assert engagement["periods"] == ["2024Q1"]
    assert rows["accounts_touched"]["values"] == [6.0]  # (2 + 4 + 6 + 8 + 10) / 5
    assert rows["contacts_per_account"]["values"] == [2.0]  # (1 + 1 + 2 + 2 + 4) / 5
    assert rows["accounts_touched"]["top_tier_median"] == 6.0
    # Four members with a reply time, under the minimum of five: no mean (its mean would be 2.5).
    assert rows["customer_reply_hours"]["values"] == [None] and rows["customer_reply_hours"]["top_tier_median"] is None
    four = small_org(min_group_size=4)
    rows = {
        r["metric"]: r
        for r in team_view(four, User("m@acme.example", "m", frozenset()), four.config.privacy)["engagement"]["metrics"]
    }
    assert rows["customer_reply_hours"]["values"] == [2.5]


def test_a_team_smaller_than_the_minimum_shows_no_engagement() -> None:
    data = small_org(min_group_size=6)
    view = team_view(data, User("m@acme.example", "m", frozenset()), data.config.privacy)
    assert view["suppressed"] is True and "engagement" not in view


# -- the measured workspace, through the pages and the API -------------------------------------------------


def _app(config: Config, data: WorkspaceData) -> FastAPI:
    return create_app(config, data, Accounts(config.accounts_path), session_secret(read_key(config.key_path)))


def _rows(page: str, table: str) -> list[list[str]]:
    """Return the body rows of the table with id `table` as cell texts."""
    found = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, f"no table {table}"
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    ]


def _stored_accounts(config: Config, person: str, period: str) -> list[dict[str, Any]]:
    """Return the person's accounts of `period` straight from the store: the last touched first, then by name."""
    with Store.open(config, read_only=True) as store:
        touches = store.to_pandas(store.table("account_touches"))
        names = store.to_pandas(store.table("accounts"))[["account_id", "name"]]
    mine = touches[(touches["person"] == person) & (touches["period"] == period)].merge(names, on="account_id")
    mine = mine.sort_values(["last_touch", "name"], ascending=[False, True])
    return [
        {"account": n, "contacts": int(c), "weeks": int(w), "last_touch": t.strftime("%Y-%m-%d")}
        for n, c, w, t in zip(mine["name"], mine["contacts"], mine["weeks"], mine["last_touch"], strict=True)
    ]


@pytest.fixture
def open_team(workspace: tuple[Config, WorkspaceData, Cast]) -> Iterator[tuple[Config, WorkspaceData, str, str]]:
    """The workspace where managers may open their reps' pages; a member of the cast's manager's team, with an account."""
    config, data, cast = workspace
    member = sorted(set(data.reports[data.person_of_email[cast.manager]]) & set(data.weeks["person"]))[0]
    email = str(data.people.at[member, "email"])
    accounts = Accounts(config.accounts_path)
    if accounts.get(email) is None:
        accounts.add(email, PASSWORD)
    if accounts.get("admin-analyst@acme.example") is None:
        accounts.add("admin-analyst@acme.example", PASSWORD, frozenset({"admin", "analyst"}))
    privacy = config.privacy.model_copy(update={"manager_sees_individuals": True})
    yield config.model_copy(update={"privacy": privacy}), data, member, email


def test_a_rep_sees_the_accounts_they_touched_on_their_own_page_and_in_the_api(
    open_team: tuple[Config, WorkspaceData, str, str],
) -> None:
    config, data, member, email = open_team
    period = data.latest_period(member)
    assert period is not None
    expected = _stored_accounts(config, member, period)
    assert expected, "the member touched no account: the test needs one"
    rep = signed_in(_app(config, data), email)
    assert rep.get(f"/api/people/{member}/accounts").json() == {"period": period, "accounts": expected}
    page = rep.get(f"/people/{member}").text
    assert _rows(page, "accounts") == [[a["account"], str(a["contacts"]), str(a["weeks"]), a["last_touch"]] for a in expected]
    assert f"Accounts you touched ({period})" in page


@pytest.mark.parametrize("who", ["manager", "analyst", "admin-analyst"])
def test_the_account_list_is_shown_to_no_one_but_the_rep(open_team: tuple[Config, WorkspaceData, str, str], who: str) -> None:
    """Their manager (allowed their page), an analyst and an admin who is an analyst see the rep's engagement figures, not the accounts."""
    config, data, member, _ = open_team
    email = {"manager": None, "analyst": "analyst@acme.example", "admin-analyst": "admin-analyst@acme.example"}[who]
    if email is None:
        email = next(str(e) for p, e in data.people["email"].items() if member in data.reports.get(str(p), []))
    reader = signed_in(_app(config, data), email)
    page = reader.get(f"/people/{member}")
    assert page.status_code == 200
    assert 'id="engagement"' in page.text and 'id="accounts"' not in page.text and "Accounts you touched" not in page.text
    assert reader.get(f"/api/people/{member}/accounts").status_code == 403
    assert "accounts" not in reader.get(f"/api/people/{member}").json()


def test_an_admin_sees_neither_the_page_nor_the_accounts(
    open_team: tuple[Config, WorkspaceData, str, str], workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    config, data, member, _ = open_team
    admin = signed_in(_app(config, data), workspace[2].admin)
    assert admin.get(f"/people/{member}").status_code == 403
    assert admin.get(f"/api/people/{member}/accounts").status_code == 403


def test_the_team_page_shows_each_periods_mean_over_members_with_a_value(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, data, cast = workspace
    manager = data.person_of_email[cast.manager]
    members = sorted(set(data.reports[manager]) & set(data.weeks["person"]))
    rows = data.periods[data.periods["person"].isin(members)]
    # One member sent no reply to a customer in the latest period: its mean is over the others, or none under the minimum.
    latest = str(rows["period"].max())
    silent = (data.periods["person"] == members[0]) & (data.periods["period"] == latest)
    periods = data.periods.copy()
    periods.loc[silent, "customer_reply_hours"] = float("nan")
    quiet = replace(data, periods=periods, _bands={}, _org_studies={}, _period_bands={})
    manager_client = signed_in(_app(config, quiet), cast.manager)
    engagement = manager_client.get("/api/team").json()["engagement"]
    page = manager_client.get("/team").text
    kept = periods[periods["person"].isin(members)]
    assert engagement["periods"] == sorted(kept["period"].unique())
    table = _rows(page, "team-engagement")
    for row, shown in zip(engagement["metrics"], table, strict=True):
        for period, value in zip(engagement["periods"], row["values"], strict=True):
            values = kept.loc[kept["period"] == period, row["metric"]].dropna()
            expected = values.mean() if len(values) >= config.privacy.min_group_size else None
            assert value == (None if expected is None else pytest.approx(expected)), (row["metric"], period)
        assert shown[1:-1] == ["–" if v is None else f"{v:.2f}" for v in row["values"]]
    # The team of five has four reply times left in the latest period: no mean; accounts touched, five: a mean.
    replied = kept.loc[kept["period"] == latest, "customer_reply_hours"].notna().sum()
    assert replied < config.privacy.min_group_size <= len(members)
    shown_now = {r["metric"]: r["values"][-1] for r in engagement["metrics"]}
    assert shown_now["customer_reply_hours"] is None and shown_now["accounts_touched"] is not None
    small = signed_in(_app(config, data), cast.small_manager)
    assert "engagement" not in small.get("/api/team").json()
    assert 'id="team-engagement"' not in small.get("/team").text
