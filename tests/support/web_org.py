"""A small measured and studied workspace for the dashboard tests, with one account per view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repsight.config import Config
from repsight.store import Store
from repsight.web import Accounts
from repsight.web.data import WorkspaceData, load_data
from tests.support import studied_company

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Cast:
    """Who signs in: emails (and pseudonyms) of a rep, another rep, managers, a senior leader, an analyst, an admin."""

    rep: str
    rep_person: str
    other_rep_person: str
    manager: str
    """Manages a measured team of at least the minimum group size."""
    small_manager: str
    """Manages a team of 3."""
    executive: str
    analyst: str
    admin: str


def build(folder: Path) -> tuple[Config, WorkspaceData, Cast]:
    """Create a 60-person, 3-month workspace, run every stage, and create the cast's accounts (password PASSWORD)."""
    config = studied_company(folder, people=60, months=3)
    with Store.open(config, read_only=True) as store:
        data = load_data(store, config)
    measured = set(data.weeks["person"]) & set(data.tiers["person"])
    reps = sorted(p for p in data.people.index if data.is_rep(p) and p in measured)
    teams = {m: [r for r in members if r in set(data.weeks["person"])] for m, members in data.reports.items()}
    manager = next(
        m for m, t in sorted(teams.items()) if len(t) >= config.privacy.min_group_size and all(data.is_rep(r) for r in t)
    )
    small = next(m for m, t in sorted(teams.items()) if len(data.reports[m]) == 3 and all(data.is_rep(r) for r in t))
    senior = data.people[data.people["level"] >= config.company.senior_level]
    executive = max(senior.index, key=lambda p: (len(data.subtree(p)), p))
    email = data.people["email"]
    cast = Cast(
        rep=email[reps[0]],
        rep_person=reps[0],
        other_rep_person=reps[1],
        manager=email[manager],
        small_manager=email[small],
        executive=email[executive],
        analyst="analyst@acme.example",
        admin="admin@acme.example",
    )
    accounts = Accounts(config.accounts_path)
    for who in (cast.rep, cast.manager, cast.small_manager, cast.executive):
        accounts.add(who, PASSWORD)
    accounts.add(cast.analyst, PASSWORD, frozenset({"analyst"}))
    accounts.add(cast.admin, PASSWORD, frozenset({"admin"}))
    return config, data, cast


def csrf_token(client: TestClient) -> str:
    """Return the CSRF token of the client's session, from the sign-in form (which starts a session if there is none)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert found, "no CSRF token on the sign-in form"
    return found.group(1)


def signed_in(app: FastAPI, email: str) -> TestClient:
    """Return a test client of `app` signed in through the form as `email` (password PASSWORD)."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)}, follow_redirects=False
    )
    assert response.status_code == 303, f"{email} could not sign in"
    return client
