"""Who may see what: the one role and audit check every page and API call declares.

A route states its access with `allow(...)`, a FastAPI dependency. It
resolves the signed-in user (roles from the roster plus an admin's grants),
refuses (403) a user without one of the route's roles or, on a person's page,
a user who may not see that person, and writes the audit entry of every read
of person-level data. A refusal is written to the audit log by the app's 403
handler, the one place every refusal passes (`audit_refusal`).

Every row of the audit log the dashboard writes goes through `record`, with
the client's address: reads, refusals, sign-ins and an admin's changes.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

from repsight.web.roles import Role

if TYPE_CHECKING:
    from repsight.config import Config, PrivacyConfig, WebConfig
    from repsight.web.accounts import Accounts
    from repsight.web.data import WorkspaceData

__all__ = [
    "CSRF_FIELD",
    "Access",
    "Forbidden",
    "SignInRequired",
    "User",
    "Visit",
    "allow",
    "audit_refusal",
    "can_see_person",
    "check_csrf",
    "client_address",
    "csrf_token",
    "known_user",
    "record",
    "roles_of",
    "sees_names",
    "user_of",
]

CSRF_FIELD = "csrf_token"


class Forbidden(HTTPException):
    """A signed-in user asked for something their roles do not allow (403, and an audit entry)."""

    def __init__(self, what: str) -> None:
        super().__init__(status_code=403, detail=what)


class SignInRequired(Exception):
    """No signed-in user: pages go to the sign-in form, the API answers 401."""


@dataclass(frozen=True)
class User:
    """A signed-in user: their email, their person in the roster (if any) and their roles."""

    email: str
    person: str | None
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Visit:
    """A request `allow` let through: who asks, and the workspace it is answered from (the same for the whole request)."""

    user: User
    data: WorkspaceData
    config: Config
    accounts: Accounts
    person: str | None = None
    """The person whose data the route shows, for a route with a `subject`."""


def roles_of(email: str, person: str | None, data: WorkspaceData, granted: frozenset[Role]) -> frozenset[Role]:
    """Return the roles of a user: `rep` for anyone on the roster, `manager` with reports, `executive` from the senior level, plus grants."""
    roles = set(granted)
    if person is not None and person in data.people.index:
        roles.add(Role.REP)
        if data.reports.get(person):
            roles.add(Role.MANAGER)
        level = data.people.at[person, "level"]
        if level == level and int(level) >= data.config.company.senior_level:
            roles.add(Role.EXECUTIVE)
    return frozenset(roles)


def user_of(request: Request, web: WebConfig, data: WorkspaceData, accounts: Accounts) -> User | None:
    """Return the signed-in user of `request`: from the trusted proxy's header where configured, else from the session."""
    email: str | None = None
    client = client_address(request)
    from_proxy = False
    if web.trusted_header and client in web.trusted_proxies:
        email = request.headers.get(web.trusted_header)
        if email and accounts.get(email) is None:
            accounts.ensure(email)
            record(request, email.strip().lower(), "account created by single sign-on")
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
    if not from_proxy and not _fresh(request, web):
        return None
    person = data.person_of_email.get(account.email)
    return User(account.email, person, roles_of(account.email, person, data, account.roles))


def _fresh(request: Request, web: WebConfig) -> bool:
    # The cookie is signed again on every answer, so its own age is the time since the last request:
    # a session's lifetime is counted from its sign-in, kept in the session.
    since = request.session.get("since")
    if not isinstance(since, int):
        return False  # a session from before sign-ins were dated
    clock: Callable[[], float] = request.app.state.clock
    return clock() - since < web.session_hours * 3600


def can_see_person(user: User, person: str, data: WorkspaceData, privacy: PrivacyConfig) -> bool:
    """Return whether `user` may see `person`'s individual page: themselves; analysts; their manager line if the config allows."""
    if person not in data.people.index:
        return False
    if user.person == person or user.has(Role.ANALYST):
        return True
    if user.has(Role.MANAGER) and privacy.manager_sees_individuals and user.person is not None:
        return person in data.subtree(user.person)
    return False


def sees_names(user: User, person: str, data: WorkspaceData, privacy: PrivacyConfig) -> bool:
    """Return whether `user` sees `person`, and the colleagues on their page, by name: themselves, or their manager line where the config shows individuals.

    An analyst may open anyone's page (`can_see_person`) but sees people by
    pseudonym, as in the person-level tables: the identity map shows a person
    their own data and a manager their team's names.
    """
    if user.person == person:
        return True
    if user.has(Role.MANAGER) and privacy.manager_sees_individuals and user.person is not None:
        return person in data.subtree(user.person)
    return False


@dataclass(frozen=True)
class Access:
    """Who may call a route and what its reads write to the audit log; called by FastAPI once per request.

    Build it with `allow`.
    """

    roles: tuple[Role, ...]
    """The user needs one of these; none: any signed-in user."""
    refusal: str
    """What a refused user is told."""
    roster: bool = False
    """The route shows the user's own place in the roster (their team): refused to an account not linked to a roster person."""
    subject: str | None = None
    """A path parameter naming the person the route shows; the user must be allowed to see them (`can_see_person`)."""
    own: bool = False
    """With a `subject`: the person must be the user themself. For data that is theirs alone (the accounts a rep touched): not their manager's, an analyst's or an admin's."""
    audit: str | None = None
    """The audit action of a read (target: `target`, else the subject, else the path). A person reading their own data is not logged."""
    audit_if: Callable[[Visit], bool] | None = None
    """Log the read only when this says the response holds person-level data (a team list shown only where configured)."""
    target: str | None = None
    """The audit target of a read, where it is not the subject or the path: a download's file name."""

    def __call__(self, request: Request) -> Visit:
        state = request.app.state
        data: WorkspaceData = state.workspace.current()
        config: Config = state.config
        user = user_of(request, config.web, data, state.accounts)
        if user is None:
            raise SignInRequired()
        request.state.user = user  # for the error handlers, which must not read the workspace again (`known_user`)
        person = request.path_params.get(self.subject) if self.subject else None
        if not self.permits(user, person, data, config.privacy):
            raise Forbidden(self.refusal)
        visit = Visit(user, data, config, state.accounts, person)
        someone_else = self.subject is None or person != user.person
        if self.audit and someone_else and (self.audit_if is None or self.audit_if(visit)):
            record(request, user, self.audit, self.target or (person if self.subject else request.url.path))
        return visit

    def permits(self, user: User, person: str | None, data: WorkspaceData, privacy: PrivacyConfig) -> bool:
        """Return whether the rule lets `user` through, for `person` (the route's subject, where it has one)."""
        if self.roles and not any(user.has(role) for role in self.roles):
            return False
        if self.roster and user.person is None:
            return False
        if self.subject is None:
            return True
        if person is None or not can_see_person(user, person, data, privacy):
            return False
        return not self.own or person == user.person

    def allows(self, visit: Visit) -> bool:
        """Return whether the rule lets a visit through (its user, its person): a part of a page that fewer people may see than the page.

        It writes no audit entry: use it for a rule without `audit`, such as one that only lets a person see their own data.
        """
        return self.permits(visit.user, visit.person, visit.data, visit.config.privacy)


def allow(
    *roles: Role,
    refusal: str,
    roster: bool = False,
    subject: str | None = None,
    own: bool = False,
    audit: str | None = None,
    audit_if: Callable[[Visit], bool] | None = None,
    target: str | None = None,
) -> Access:
    """Return the dependency through which a route declares who may call it, and the audit action (and target) of its person-level reads."""
    return Access(tuple(roles), refusal, roster, subject, own, audit, audit_if, target)


def record(request: Request, who: User | str | None, action: str, target: str | None = None) -> None:
    """Write one row of the audit log: who (a user, an email as typed, or nobody known), what, on what, and the client's address.

    The dashboard writes every audit row here; readers of the log rely on
    its actions and targets staying as they are.
    """
    email = who.email if isinstance(who, User) else who
    request.app.state.accounts.audit(email, action, target, client_address(request))


def audit_refusal(request: Request, user: User | None) -> None:
    """Write the audit entry of a refused request (a 403: a role missing, a person not to be seen, a forged form)."""
    record(request, user, "forbidden", request.url.path)


def known_user(request: Request) -> User | None:
    """Return the signed-in user of a request being answered with an error, without ever reading the workspace again.

    The user `allow` resolved for this request where it ran; else (a route
    without `allow`, such as a forged sign-out) the user resolved from the
    data read last (`LiveWorkspace.peek`). The error handlers run on the
    event loop, where a read of the workspace would hold up every request.
    """
    found = getattr(request.state, "user", None)
    if isinstance(found, User):
        return found
    state = request.app.state
    return user_of(request, state.config.web, state.workspace.peek(), state.accounts)


def client_address(request: Request) -> str | None:
    """Return the address of the client of `request`, as the audit log and the sign-in lock-out name it."""
    return request.client.host if request.client else None


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
