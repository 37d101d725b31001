"""Who may call each route of the dashboard, in one table: the `allow` rule every router declares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from repsight.web.access import Visit, allow
from repsight.web.roles import Role
from repsight.web.views import coaching_shows_members, team_page_shows_members, team_shows_members

__all__ = [
    "ACCOUNT_LIST",
    "GUIDANCE",
    "HOMES",
    "AccountsReader",
    "Admin",
    "Analyst",
    "Anyone",
    "CoachingReader",
    "Downloader",
    "Executive",
    "GuidanceReader",
    "Manager",
    "OnRoster",
    "PersonReader",
    "StudyDownloader",
    "TableDownloader",
    "TeamPageReader",
]

HOMES: tuple[tuple[Role, str], ...] = (
    (Role.REP, "/me"),
    (Role.EXECUTIVE, "/org"),
    (Role.ANALYST, "/analysis"),
    (Role.ADMIN, "/admin"),
)
"""Where `/` sends a user: the first of their roles here."""

ANYONE = allow(*(role for role, _ in HOMES), refusal="your account has no role yet: ask an admin to grant one")
ON_ROSTER = allow(Role.REP, refusal="your account is not linked to a person on the roster")
PERSON = allow(
    Role.REP,
    Role.ANALYST,
    subject="person",
    refusal="you may see your own page only",
    audit="viewed another person's page",
)
# The accounts a rep touched are business data, but the list is the rep's (docs/metrics.md): their own page shows it,
# and their own API call returns it; a manager, an analyst or an admin on that page sees their engagement figures only.
ACCOUNT_LIST = allow(
    Role.REP,
    subject="person",
    own=True,
    refusal="a rep's list of accounts is shown to that rep only",
)
# A person's guidance (their gaps, the colleagues to meet) is theirs alone, like their list of accounts:
# not their manager's, an analyst's or an admin's, whoever else may open their page. A manager sees the coaching view.
GUIDANCE = allow(
    Role.REP,
    subject="person",
    own=True,
    refusal="a person's guidance is shown to that person only",
)
MANAGER = allow(
    Role.MANAGER,
    roster=True,
    refusal="the team view is for managers",
    audit="viewed team members",
    audit_if=team_shows_members,
)
# The team page shows the team's chart and the coaching view: its read is logged where either lists a member.
TEAM_PAGE = allow(
    Role.MANAGER,
    roster=True,
    refusal="the team view is for managers",
    audit="viewed team members",
    audit_if=team_page_shows_members,
)
COACHING = allow(
    Role.MANAGER,
    roster=True,
    refusal="the team view is for managers",
    audit="viewed team members",
    audit_if=coaching_shows_members,
)
EXECUTIVE = allow(Role.EXECUTIVE, refusal="the organisation view is for senior leaders")
ANALYST = allow(Role.ANALYST, refusal="the analysis view is for analysts", audit="viewed person-level tables")
DOWNLOAD = allow(Role.ANALYST, refusal="the analysis view is for analysts", audit="downloaded")
# A download's audit target is its file name, as the audit log has always written it (its readers rely on it).
TABLE_DOWNLOAD = allow(Role.ANALYST, refusal="the analysis view is for analysts", audit="downloaded", target="person_period.csv")
STUDY_DOWNLOAD = allow(Role.ANALYST, refusal="the analysis view is for analysts", audit="downloaded", target="study.json")
ADMIN = allow(Role.ADMIN, refusal="account administration is for admins")

# FastAPI reads these annotations by name from the routers' modules.
Anyone = Annotated[Visit, Depends(ANYONE)]
OnRoster = Annotated[Visit, Depends(ON_ROSTER)]
PersonReader = Annotated[Visit, Depends(PERSON)]
AccountsReader = Annotated[Visit, Depends(ACCOUNT_LIST)]
GuidanceReader = Annotated[Visit, Depends(GUIDANCE)]
Manager = Annotated[Visit, Depends(MANAGER)]
TeamPageReader = Annotated[Visit, Depends(TEAM_PAGE)]
CoachingReader = Annotated[Visit, Depends(COACHING)]
Executive = Annotated[Visit, Depends(EXECUTIVE)]
Analyst = Annotated[Visit, Depends(ANALYST)]
Downloader = Annotated[Visit, Depends(DOWNLOAD)]
TableDownloader = Annotated[Visit, Depends(TABLE_DOWNLOAD)]
StudyDownloader = Annotated[Visit, Depends(STUDY_DOWNLOAD)]
Admin = Annotated[Visit, Depends(ADMIN)]
