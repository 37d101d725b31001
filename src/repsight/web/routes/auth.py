"""Signing in and out: the form, the session cookie, the lock-out after failed sign-ins (`web.throttle`), the audit entries (`access.record`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from repsight.web.access import CSRF_FIELD, check_csrf, client_address, record
from repsight.web.render import page
from repsight.web.throttle import Refusal, SignInThrottle

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
    typed = email.strip().lower()
    throttle: SignInThrottle = request.app.state.sign_ins
    address = client_address(request)
    refused = throttle.refusal(typed, address)
    if refused is not None:
        # Refused before the password is checked: the right one does not open a locked account.
        record(request, typed, f"sign-in refused: {refused.reason}")
        return _too_many(request, refused)
    account = request.app.state.accounts.verify(email, password)
    if account is None:
        record(request, typed, "sign-in refused")
        for begun in throttle.failed(typed, address):
            record(request, typed, f"{begun.reason} for {begun.wait}")
        return page(request, "login.html", None, status_code=401, error="Wrong email or password.")
    throttle.succeeded(typed)
    # A new session: nothing of the cookie the browser came with (fixed by someone else, perhaps) is carried into it.
    request.session.clear()
    request.session["email"] = account.email
    request.session["epoch"] = account.epoch
    request.session["since"] = int(request.app.state.clock())
    record(request, account.email, "signed in")
    return RedirectResponse("/", status_code=303)


def _too_many(request: Request, refused: Refusal) -> Response:
    error = f"Too many failed sign-ins. Try again in {refused.wait}."
    response = page(request, "login.html", None, status_code=429, error=error)
    response.headers["Retry-After"] = str(refused.minutes * 60)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token_value: CsrfField = None) -> Response:
    check_csrf(request, csrf_token_value)
    email = request.session.get("email")
    if email:
        request.app.state.accounts.end_sessions(email)  # a copied cookie must not outlive the sign-out
        record(request, email, "signed out")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
