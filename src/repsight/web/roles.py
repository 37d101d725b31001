"""The dashboard's roles: what each lets a user see, and which an admin may grant."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from repsight.errors import ConfigError

__all__ = ["GRANTABLE_ROLES", "Role", "granted_roles", "stored_roles"]


class Role(StrEnum):
    """A role on the dashboard. `rep`, `manager` and `executive` follow from the roster; an admin grants the others (and may grant those too)."""

    REP = "rep"
    """Anyone on the roster: their own page."""
    MANAGER = "manager"
    """Someone with reports: their team's aggregates (individuals where the workspace allows)."""
    EXECUTIVE = "executive"
    """The senior level: aggregates of their organisation and the study."""
    ANALYST = "analyst"
    """Pseudonymised person-level tables and the whole study."""
    ADMIN = "admin"
    """Accounts, grants and the audit log."""


GRANTABLE_ROLES: tuple[Role, ...] = (Role.ANALYST, Role.ADMIN, Role.EXECUTIVE, Role.MANAGER)
"""Roles an admin may grant; `rep`, `manager` and `executive` also follow from the roster."""


def granted_roles(names: Iterable[str]) -> frozenset[Role]:
    """Return the roles named (an admin's form, the command line); an unknown or ungrantable name is a ConfigError."""
    names = set(names)
    unknown = sorted(names - set(GRANTABLE_ROLES))
    if unknown:
        raise ConfigError(f"unknown role {', '.join(unknown)}: grant one of {', '.join(GRANTABLE_ROLES)}")
    return frozenset(Role(name) for name in names)


def stored_roles(text: str) -> frozenset[Role]:
    """Return the roles of an accounts-file row (comma-separated names); a name that is no longer a role grants nothing."""
    known = {role.value for role in Role}
    return frozenset(Role(name) for name in text.split(",") if name in known)
