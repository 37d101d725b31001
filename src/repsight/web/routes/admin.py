"""Account administration: add accounts, grant roles, reset passwords, read the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from repsight.web.access import CSRF_FIELD, Visit, check_csrf, record
from repsight.web.accounts import new_password
from repsight.web.render import page
from repsight.web.roles import GRANTABLE_ROLES
from repsight.web.routes.policy import Admin

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

CsrfField = Annotated[str | None, Form(alias=CSRF_FIELD)]
Roles = Annotated[list[str] | None, Form()]


@router.get("", response_class=HTMLResponse)
def admin_page(request: Request, visit: Admin) -> HTMLResponse:
    return _accounts_page(request, visit)


def _accounts_page(request: Request, visit: Visit, shown: tuple[str, str] | None = None) -> HTMLResponse:
    accounts = visit.accounts
    return page(
        request, "admin.html", visit.user, accounts=accounts.all(), roles=GRANTABLE_ROLES, log=accounts.audit_log(50), shown=shown
    )


@router.post("/accounts")
def admin_add(
    request: Request, visit: Admin, email: Annotated[str, Form()], roles: Roles = None, csrf_token_value: CsrfField = None
) -> HTMLResponse:
    check_csrf(request, csrf_token_value)
    password = new_password()
    account = visit.accounts.add(email, password, roles or [])
    record(request, visit.user, f"added account: {', '.join(sorted(account.roles)) or 'no grants'}", account.email)
    return _accounts_page(request, visit, shown=(account.email, password))


@router.post("/password")
def admin_reset(
    request: Request, visit: Admin, email: Annotated[str, Form()], csrf_token_value: CsrfField = None
) -> HTMLResponse:
    check_csrf(request, csrf_token_value)
    password = new_password()
    visit.accounts.set_password(email, password)
    record(request, visit.user, "reset password", email.strip().lower())
    return _accounts_page(request, visit, shown=(email.strip().lower(), password))


@router.post("/roles")
def admin_roles(
    request: Request, visit: Admin, email: Annotated[str, Form()], roles: Roles = None, csrf_token_value: CsrfField = None
) -> Response:
    check_csrf(request, csrf_token_value)
    granted = sorted(set(roles or []))
    visit.accounts.set_roles(email, granted)
    record(request, visit.user, f"set roles: {', '.join(granted) or 'none'}", email.strip().lower())
    return RedirectResponse("/admin", status_code=303)
