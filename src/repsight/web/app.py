"""The dashboard app: FastAPI, pages rendered on the server (Jinja2), Plotly charts, no build step and no CDN.

`create_app` only assembles: the session and security-header middleware,
the exception handlers, and the routers (`web.routes`). Every route declares
who may call it through `web.access.allow`, which checks the role on the
server and writes the audit entry of each person-level read; a refusal is a
403 and an audit entry (written here, where every refusal passes).
Aggregates over fewer people than `privacy.min_group_size` are never sent
(`web.views`, through `repsight.privacy`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from repsight.errors import RepsightError
from repsight.web.access import SignInRequired, audit_refusal, known_user
from repsight.web.live import LiveWorkspace
from repsight.web.render import page
from repsight.web.routes import ROUTERS
from repsight.web.throttle import SignInThrottle

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.web.accounts import Accounts
    from repsight.web.data import WorkspaceData

__all__ = ["create_app", "session_secret"]

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
"""Sent with every response: pages, the API, the scripts, errors (a 500 included)."""
_NO_STORE = {"Cache-Control": "no-store"}
"""Sent with every response that does not set its own caching (only the scripts do): no copy of a personal page is kept."""


def create_app(
    config: Config,
    workspace: WorkspaceData | LiveWorkspace,
    accounts: Accounts,
    session_secret: str,
    *,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """Return the dashboard app over `workspace` (live, or fixed data), with accounts and the audit log in `accounts`.

    `clock` (seconds since the epoch) dates sign-ins, for the sessions' lifetime and the sign-in lock-out; tests pass a fake.
    """
    app = FastAPI(
        title="repsight dashboard",
        description="The JSON API behind the dashboard's charts. Every call needs a signed-in session.",
        docs_url=None,  # the interactive docs page loads its scripts from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret,
        session_cookie="repsight_session",
        max_age=int(config.web.session_hours * 3600),
        same_site="strict",
        https_only=config.web.secure_cookies,
    )
    app.middleware("http")(_security_headers)
    app.state.config = config
    app.state.workspace = workspace if isinstance(workspace, LiveWorkspace) else LiveWorkspace.fixed(config, workspace)
    app.state.accounts = accounts
    app.state.clock = clock
    app.state.sign_ins = SignInThrottle(config.web, clock)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(RepsightError, _bad_input)
    app.add_exception_handler(HTTPException, _refused)  # Starlette's: FastAPI's, and the router's 404 and 405
    app.add_exception_handler(Exception, _server_error)
    for router in ROUTERS:
        app.include_router(router)
    return app


async def _security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
    response: Response = await call_next(request)
    response.headers.update(_SECURITY_HEADERS)
    if "cache-control" not in response.headers:
        response.headers.update(_NO_STORE)
    return response


async def _server_error(request: Request, _: Exception) -> Response:
    # Answered outside the other middleware (Starlette's ServerErrorMiddleware): the headers are set here.
    return PlainTextResponse("Something went wrong.", status_code=500, headers=_SECURITY_HEADERS | _NO_STORE)


async def _sign_in(request: Request, _: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "sign in first"}, status_code=401)
    return RedirectResponse("/login", status_code=303)


async def _bad_input(request: Request, exc: Exception) -> Response:
    # A user-fixable problem (an unknown account, a role that does not exist): say what, as a 400.
    return await _refused(request, HTTPException(status_code=400, detail=str(exc)))


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # On the event loop: the user as `allow` found them, never a new read of the workspace (`known_user`).
    user = known_user(request)
    if exc.status_code == 403:
        audit_refusal(request, user)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    response = page(request, "error.html", user, status_code=exc.status_code, status=exc.status_code, message=exc.detail)
    response.headers.update(exc.headers or {})
    return response


def session_secret(key: str) -> str:
    """Return the secret that signs session cookies: derived from the workspace key, so sessions survive a restart."""
    return hmac.new(key.encode("utf-8"), b"repsight:dashboard-session", hashlib.sha256).hexdigest()
