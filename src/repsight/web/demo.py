"""Accounts for the demo workspace: one person per view, with new passwords (printed once by `repsight demo --serve`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from repsight.privacy import large_enough
from repsight.web.accounts import Accounts, new_password
from repsight.web.roles import Role

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.web.data import WorkspaceData

__all__ = ["DemoAccount", "demo_accounts"]


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in: what it shows, the email, the password."""

    view: str
    email: str
    password: str


def demo_accounts(config: Config, data: WorkspaceData) -> list[DemoAccount]:
    """Create (or reset) one account per view of the demo organisation and return them with their new passwords.

    A rep; a manager whose team is large enough to show; a manager of a team
    smaller than the minimum group (the page shows suppression); a senior
    leader over the sales organisation; an analyst and an admin, who are not
    on the roster.
    """
    people = data.people
    minimum = config.privacy.min_group_size
    measured = set(data.weeks["person"])
    reps = sorted(p for p in people.index if data.is_rep(p) and p in measured and p in set(data.tiers["person"]))
    team_sizes = {m: len([r for r in members if r in measured]) for m, members in data.reports.items()}
    sales_teams = {m: n for m, n in team_sizes.items() if data.is_rep(data.reports[m][0])}
    managers = sorted((m for m, n in sales_teams.items() if large_enough(n, minimum)), key=data.name)
    small = sorted((m for m, n in sales_teams.items() if n and not large_enough(n, minimum)), key=data.name)
    senior = people[people["level"] >= config.company.senior_level]
    executives = sorted(senior.index, key=lambda p: (-len(data.subtree(p)), data.name(p)))
    domain = config.company.domains[0]
    chosen = [
        ("rep", _email(data, reps[0]) if reps else None, frozenset[Role]()),
        (
            f"manager (team of {team_sizes[managers[0]]})" if managers else "manager",
            _email(data, managers[0]) if managers else None,
            frozenset(),
        ),
        (
            f"manager (team of {team_sizes[small[0]]}: suppressed)" if small else "manager",
            _email(data, small[0]) if small else None,
            frozenset(),
        ),
        ("executive", _email(data, executives[0]) if executives else None, frozenset()),
        ("analyst", f"analyst@{domain}", frozenset({Role.ANALYST})),
        ("admin", f"admin@{domain}", frozenset({Role.ADMIN})),
    ]
    accounts = Accounts(config.accounts_path)
    created = []
    for view, email, roles in chosen:
        if email is None:
            continue
        password = new_password()
        if accounts.get(email) is None:
            accounts.add(email, password, roles)
        else:
            accounts.set_password(email, password)
            accounts.set_roles(email, roles)
        created.append(DemoAccount(view, email, password))
    return created


def _email(data: WorkspaceData, person: str) -> str | None:
    email = data.people.at[person, "email"]
    return str(email) if isinstance(email, str) else None
