"""Signing in and out: the form, the session cookie, the audit entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from repsight.web.access import CSRF_FIELD, check_csrf
from repsight.web.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CsrfField = Annotated[str | None, Form(alias=CSRF_FIELD)]


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page(request, "login.html", None, error=None)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token_value: CsrfField = None,
) -> Response:
    check_csrf(request, csrf_token_value)
    accounts = request.app.state.accounts
    address = request.client.host if request.client else None
    account = accounts.verify(email, password)
    if account is None:
        accounts.audit(email.strip().lower(), "sign-in refused", None, address)
        return page(request, "login.html", None, status_code=401, error="Wrong email or password.")
    request.session.clear()
    request.session["email"] = account.email
    request.session["epoch"] = account.epoch
    accounts.audit(account.email, "signed in", None, address)
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token_value: CsrfField = None) -> Response:
    check_csrf(request, csrf_token_value)
    email = request.session.get("email")
    if email:
        accounts = request.app.state.accounts
        accounts.end_sessions(email)  # a copied cookie must not outlive the sign-out
        accounts.audit(email, "signed out", None, request.client.host if request.client else None)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
