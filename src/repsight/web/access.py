"""Who may see what: roles from the roster plus an admin's grants, checked on the server for every page and API call."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

if TYPE_CHECKING:
    from repsight.config import PrivacyConfig, WebConfig
    from repsight.web.accounts import Accounts
    from repsight.web.data import WorkspaceData

__all__ = ["CSRF_FIELD", "Forbidden", "User", "can_see_person", "check_csrf", "csrf_token", "user_of"]

CSRF_FIELD = "csrf_token"


class Forbidden(HTTPException):
    """A signed-in user asked for something their roles do not allow (403, and an audit entry)."""

    def __init__(self, what: str) -> None:
        super().__init__(status_code=403, detail=what)


@dataclass(frozen=True)
class User:
    """A signed-in user: their email, their person in the roster (if any) and their roles."""

    email: str
    person: str | None
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


def roles_of(email: str, person: str | None, data: WorkspaceData, granted: frozenset[str]) -> frozenset[str]:
    """Return the roles of a user: `rep` for anyone on the roster, `manager` with reports, `executive` from the senior level, plus grants."""
    roles = set(granted)
    if person is not None and person in data.people.index:
        roles.add("rep")
        if data.reports.get(person):
            roles.add("manager")
        level = data.people.at[person, "level"]
        if level == level and int(level) >= data.config.company.senior_level:
            roles.add("executive")
    return frozenset(roles)


def user_of(request: Request, web: WebConfig, data: WorkspaceData, accounts: Accounts) -> User | None:
    """Return the signed-in user of `request`: from the trusted proxy's header where configured, else from the session."""
    email: str | None = None
    client = request.client.host if request.client else None
    from_proxy = False
    if web.trusted_header and client in web.trusted_proxies:
        email = request.headers.get(web.trusted_header)
        if email and accounts.get(email) is None:
            accounts.ensure(email)
            accounts.audit(email.strip().lower(), "account created by single sign-on", None, client)
        from_proxy = bool(email)
    if not email:
        email = request.session.get("email")
    if not email:
        return None
    account = accounts.get(email)
    if account is None or account.disabled:
        return None
    if not from_proxy and request.session.get("epoch") != account.epoch:
        return None  # signed out, or the password changed, since this session began
    person = data.person_of_email.get(account.email)
    return User(account.email, person, roles_of(account.email, person, data, account.roles))


def can_see_person(user: User, person: str, data: WorkspaceData, privacy: PrivacyConfig) -> bool:
    """Return whether `user` may see `person`'s individual page: themselves; analysts; their manager line if the config allows."""
    if user.person == person or user.has("analyst"):
        return True
    if user.has("manager") and privacy.manager_sees_individuals and user.person is not None:
        return person in data.subtree(user.person)
    return False


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating it on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403) a form post whose token is not the session's."""
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise HTTPException(
            status_code=403, detail="the form has expired or did not come from this site; reload the page and try again"
        )
