"""Signing in and out: the form, the session cookie, the audit entries (`access.record`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from repsight.web.access import CSRF_FIELD, check_csrf, record
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
    account = request.app.state.accounts.verify(email, password)
    if account is None:
        record(request, email.strip().lower(), "sign-in refused")
        return page(request, "login.html", None, status_code=401, error="Wrong email or password.")
    request.session.clear()
    request.session["email"] = account.email
    request.session["epoch"] = account.epoch
    record(request, account.email, "signed in")
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token_value: CsrfField = None) -> Response:
    check_csrf(request, csrf_token_value)
    email = request.session.get("email")
    if email:
        request.app.state.accounts.end_sessions(email)  # a copied cookie must not outlive the sign-out
        record(request, email, "signed out")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
