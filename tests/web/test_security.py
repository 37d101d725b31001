"""The dashboard's security promises, each a test: sign-in lock-out, session lifetime and fixation, escaping, inert CSV cells, headers.

Time is a fake clock passed to `create_app`; nothing sleeps.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sqlite3
import time
from base64 import b64encode
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from repsight.config import Config, WebConfig
from repsight.export import inert_cells
from repsight.web import Accounts
from repsight.web.app import create_app, session_secret
from tests.support.web_org import PASSWORD, Cast, csrf_token, signed_in
from tests.web.test_routes import ROUTES, SIGNED_OUT, WHO, Context, app_routes, ask

if TYPE_CHECKING:
    from fastapi import FastAPI

    from repsight.web.data import WorkspaceData

SECRET = "a session secret for these tests only"
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'


class FakeClock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(
    workspace: tuple[Config, WorkspaceData, Cast],
    clock: FakeClock | None = None,
    data: WorkspaceData | None = None,
    **web: object,
) -> FastAPI:
    config, fixed, _ = workspace
    config = config.model_copy(update={"web": config.web.model_copy(update=web)}) if web else config
    accounts = Accounts(config.accounts_path)
    return create_app(config, data or fixed, accounts, session_secret(SECRET), clock=clock or time.time)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}, follow_redirects=False
    )
    return response.status_code


def audit_mark(config: Config) -> int:
    with sqlite3.connect(config.accounts_path) as db:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM audit").fetchone()[0])


def audit_since(config: Config, mark: int) -> list[tuple[str | None, str, str | None, str | None]]:
    with sqlite3.connect(config.accounts_path) as db:
        rows = db.execute("SELECT email, action, target, address FROM audit WHERE rowid > ? ORDER BY rowid", (mark,))
        return [(e, a, t, ad) for e, a, t, ad in rows.fetchall()]


# -- sign-in: lock-out per account, refusal per client address ---------------------------------------------


def test_the_sign_in_limits_default_to_five_per_account_twenty_per_address_in_fifteen_minutes() -> None:
    web = WebConfig()
    assert (web.max_sign_in_failures, web.max_address_failures) == (5, 20)
    assert (web.sign_in_window_minutes, web.lockout_minutes) == (15.0, 15.0)


def test_an_account_is_locked_after_its_failures_even_for_the_right_password_and_audited(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, _, cast = workspace
    clock = FakeClock()
    app = make_app(workspace, clock, max_sign_in_failures=3, lockout_minutes=10)
    client = TestClient(app)
    mark = audit_mark(config)
    assert [sign_in(client, cast.rep, "wrong one") for _ in range(3)] == [401, 401, 401]
    locked = client.post(
        "/login", data={"email": cast.rep, "password": PASSWORD, "csrf_token": csrf_token(client)}, follow_redirects=False
    )
    assert locked.status_code == 429 and locked.headers["retry-after"] == "600"
    assert "Too many failed sign-ins. Try again in 10 minutes." in locked.text
    clock.advance(10 * 60 - 1)
    assert sign_in(client, cast.rep) == 429  # a second before the lock ends
    clock.advance(1)
    assert sign_in(client, cast.rep) == 303
    refused = (cast.rep, "sign-in refused", None, "testclient")
    assert audit_since(config, mark) == [
        refused,
        refused,
        refused,
        (cast.rep, "account locked for 10 minutes", None, "testclient"),
        (cast.rep, "sign-in refused: account locked", None, "testclient"),
        (cast.rep, "sign-in refused: account locked", None, "testclient"),
        (cast.rep, "signed in", None, "testclient"),
    ]
    with sqlite3.connect(config.accounts_path) as db:
        assert not db.execute("SELECT 1 FROM audit WHERE instr(email || action || coalesce(target, ''), 'wrong one')").fetchall()


def test_failures_older_than_the_window_do_not_count(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    _, _, cast = workspace
    clock = FakeClock()
    client = TestClient(make_app(workspace, clock, max_sign_in_failures=3, sign_in_window_minutes=5))
    assert [sign_in(client, cast.manager, "wrong") for _ in range(2)] == [401, 401]
    clock.advance(5 * 60)  # the first two are now out of the window
    assert [sign_in(client, cast.manager, "wrong") for _ in range(2)] == [401, 401]
    assert sign_in(client, cast.manager) == 303


def test_a_right_password_clears_the_accounts_failures(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    _, _, cast = workspace
    client = TestClient(make_app(workspace, FakeClock(), max_sign_in_failures=3))
    assert [sign_in(client, cast.analyst, "wrong") for _ in range(2)] == [401, 401]
    assert sign_in(client, cast.analyst) == 303
    assert [sign_in(client, cast.analyst, "wrong") for _ in range(2)] == [401, 401]
    assert sign_in(client, cast.analyst) == 303


def test_an_email_without_an_account_is_locked_alike_so_a_lock_tells_nobody_who_has_one(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, _, _ = workspace
    client = TestClient(make_app(workspace, FakeClock(), max_sign_in_failures=2, lockout_minutes=1))
    mark = audit_mark(config)
    assert [sign_in(client, " Nobody@Acme.Example ", "guess") for _ in range(3)] == [401, 401, 429]
    assert [row[:2] for row in audit_since(config, mark)] == [
        ("nobody@acme.example", "sign-in refused"),
        ("nobody@acme.example", "sign-in refused"),
        ("nobody@acme.example", "account locked for 1 minute"),
        ("nobody@acme.example", "sign-in refused: account locked"),
    ]


def test_a_client_address_is_refused_after_its_failures_whatever_the_email(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, _, cast = workspace
    clock = FakeClock()
    app = make_app(workspace, clock, max_address_failures=4, lockout_minutes=15)
    guesser = TestClient(app, client=("10.1.2.3", 50000))
    mark = audit_mark(config)
    assert [sign_in(guesser, f"guess{i}@acme.example", "wrong") for i in range(4)] == [401] * 4
    assert sign_in(guesser, cast.rep) == 429  # a right password too, from that address
    assert sign_in(TestClient(app, client=("10.9.9.9", 50000)), cast.rep) == 303  # another address signs in
    rows = audit_since(config, mark)
    assert rows[4:6] == [
        ("guess3@acme.example", "address refused for 15 minutes", None, "10.1.2.3"),
        (cast.rep, "sign-in refused: address refused", None, "10.1.2.3"),
    ]
    clock.advance(15 * 60)
    assert sign_in(guesser, cast.rep) == 303


# -- sessions: lifetime, fixation, sign-out ----------------------------------------------------------------


def test_a_session_older_than_session_hours_no_longer_signs_in_however_busy(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    _, _, cast = workspace
    clock = FakeClock()
    client = signed_in(make_app(workspace, clock, session_hours=2), cast.rep)
    own = f"/api/people/{cast.rep_person}"
    for _ in range(4):  # a request every half hour renews the cookie, not the session
        clock.advance(30 * 60 - 1)
        assert client.get(own).status_code == 200
    clock.advance(4)
    assert client.get(own).status_code == 401
    assert client.get("/me", follow_redirects=False).headers["location"] == "/login"


def _forged_cookie(session: dict[str, object], age_seconds: float) -> str:
    import itsdangerous

    class Backdated(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_seconds)

    return Backdated(session_secret(SECRET)).sign(b64encode(json.dumps(session).encode())).decode()


def test_a_cookie_signed_longer_ago_than_session_hours_is_refused(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, _, cast = workspace
    app = make_app(workspace, session_hours=1)
    epoch = Accounts(config.accounts_path).get(cast.rep)
    assert epoch is not None
    session = {"email": cast.rep, "epoch": epoch.epoch, "since": int(time.time())}
    own = f"/api/people/{cast.rep_person}"
    fresh = TestClient(app, cookies={"repsight_session": _forged_cookie(session, 0)})
    assert fresh.get(own).status_code == 200  # the forgery is a good cookie...
    old = TestClient(app, cookies={"repsight_session": _forged_cookie(session, 3600 + 5)})
    assert old.get(own).status_code == 401  # ...until its signature is older than the session's hours


def test_a_cookie_from_before_sign_in_never_becomes_a_signed_in_session(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    _, _, cast = workspace
    app = make_app(workspace)
    client = TestClient(app)
    token = csrf_token(client)  # the sign-in form starts a session: a cookie someone could have planted
    planted = client.cookies["repsight_session"]
    response = client.post("/login", data={"email": cast.rep, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    signed = client.cookies["repsight_session"]
    assert signed != planted
    attacker = TestClient(app, cookies={"repsight_session": planted})
    assert attacker.get(f"/api/people/{cast.rep_person}").status_code == 401
    # The session's CSRF token is new too: the planted one no longer passes.
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 403


def test_signing_out_clears_the_cookie(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    _, _, cast = workspace
    client = signed_in(make_app(workspace), cast.rep)
    token = csrf_token(client)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("repsight_session=null;") and "expires=Thu, 01 Jan 1970 00:00:00 GMT" in cookie
    assert "repsight_session" not in client.cookies
    assert client.get(f"/api/people/{cast.rep_person}").status_code == 401


# -- injection: roster text escaped in pages, inert in CSV downloads ---------------------------------------

INERT = {
    FORMULA: "'" + FORMULA,
    "+1+1": "'+1+1",
    "-1+1": "'-1+1",
    "@SUM(A1)": "'@SUM(A1)",
    "\tTab": "'\tTab",
    "\rReturn": "'\rReturn",
    "Enterprise": "Enterprise",
}


def _hostile(data: WorkspaceData, cast: Cast) -> WorkspaceData:
    """Return the workspace with hostile roster text: everyone's name a script, orgs formulas (and one plain)."""
    people = data.people.copy()
    people["name"] = SCRIPT
    hostile = list(INERT)
    people["org"] = [hostile[i % len(hostile)] for i in range(len(people))]
    return dataclasses.replace(data, people=people)


def test_roster_text_renders_as_text_in_every_page_for_every_role(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, cast = workspace
    privacy = config.privacy.model_copy(update={"manager_sees_individuals": True})
    shown = config.model_copy(update={"privacy": privacy})
    app = create_app(shown, _hostile(data, cast), Accounts(config.accounts_path), session_secret(SECRET))
    ctx = Context(shown, app.state.workspace.current(), cast)
    escaped_in: set[str] = set()
    for who in WHO:
        if who == "admin":  # the admin's page shows the latest of the audit log: what was typed at sign-in
            sign_in(TestClient(app), f"<img src=x onerror=alert(1)>{SCRIPT}@acme.example", "wrong")
        client = TestClient(app) if who == SIGNED_OUT else signed_in(app, ctx.email(who))
        paths = [f"/people/{cast.rep_person}", f"/people/{cast.other_rep_person}"]
        paths += [template for method, template in app_routes(app) if method == "GET" and "{" not in template]
        for path in paths:
            response = client.get(path)
            if "text/html" not in response.headers["content-type"]:
                continue
            assert SCRIPT not in response.text and "<img src=x" not in response.text, (who, path)
            if "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text:
                escaped_in.add(response.url.path)
    assert {f"/people/{cast.rep_person}", "/team", "/admin"} <= escaped_in


def test_the_person_period_download_makes_formula_cells_inert(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, cast = workspace
    app = create_app(config, _hostile(data, cast), Accounts(config.accounts_path), session_secret(SECRET))
    response = signed_in(app, cast.analyst).get("/analysis/person_period.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
    assert {row["org"] for row in rows} <= set(INERT.values())
    assert {"'" + FORMULA, "'\tTab", "'\rReturn"} <= {row["org"] for row in rows}
    for row in rows:
        for column, cell in row.items():
            assert cell[:1] not in "=+-@\t\r" or cell == "" or _number(cell), (column, cell)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True  # a negative number is a number, quoted or not: no formula


def test_the_export_makes_formula_cells_inert_and_leaves_numbers_alone() -> None:
    rows = pa.table({"org": list(INERT) + [None, "a=b"], "attainment": [-0.5, 1, 2, 3, 4, 5, 6, 7, 8]})
    assert inert_cells(rows).to_pydict() == {
        "org": list(INERT.values()) + [None, "a=b"],
        "attainment": [-0.5, 1, 2, 3, 4, 5, 6, 7, 8],
    }


# -- security headers on every route, for every role, errors included --------------------------------------

PROMISED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
STATIC = {"/static/plotly.min.js": "max-age=86400", "/static/charts.js": "no-store"}


def _check_headers(response: object, label: str) -> list[str]:
    headers = response.headers  # type: ignore[attr-defined]
    path = response.url.path  # type: ignore[attr-defined]
    problems = [f"{label}: {name} is {headers.get(name)!r}" for name, value in PROMISED.items() if headers.get(name) != value]
    csp = headers.get("content-security-policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        if directive not in csp:
            problems.append(f"{label}: no {directive} in the CSP")
    cache = STATIC.get(path, "no-store")
    if headers.get("cache-control") != cache:
        problems.append(f"{label}: cache-control {headers.get('cache-control')!r}, expected {cache!r}")
    return problems


@pytest.fixture(scope="module")
def routed(workspace: tuple[Config, WorkspaceData, Cast]) -> tuple[FastAPI, Context]:
    config, data, cast = workspace
    return make_app(workspace), Context(config, data, cast)


@pytest.mark.parametrize("who", WHO)
def test_every_route_and_error_sends_the_security_headers(routed: tuple[FastAPI, Context], who: str) -> None:
    app, ctx = routed
    client = TestClient(app) if who == SIGNED_OUT else signed_in(app, ctx.email(who))
    problems: list[str] = []
    statuses: set[int] = set()
    walked = sorted(app_routes(app), key=lambda key: (ROUTES[key].order, key))
    assert len(walked) == len(ROUTES)
    for method, template in walked:
        expect = ROUTES[(method, template)]
        path = expect.path(ctx) if expect.path else template
        response = ask(client, ctx, who, method, path, expect)
        statuses.add(response.status_code)
        problems += _check_headers(response, f"{method} {path} as {who}")
    client = TestClient(app) if who == SIGNED_OUT else signed_in(app, ctx.email(who))
    errors = [
        client.get("/no-such-page"),
        client.get("/api/no-such-call"),
        client.delete("/login"),  # 405
        client.post("/login", data={"csrf_token": csrf_token(client)}),  # 422: no email, no password
        client.get("/people/nobody"),
        client.get("/api/people/nobody"),
    ]
    for response in errors:
        statuses.add(response.status_code)
        problems += _check_headers(response, f"{response.request.method} {response.url.path} as {who}")
    assert problems == []
    assert {404, 405, 422} <= statuses and ({401, 303} if who == SIGNED_OUT else {403}) <= statuses


def test_a_server_error_sends_the_security_headers_and_no_traceback(
    workspace: tuple[Config, WorkspaceData, Cast], monkeypatch: pytest.MonkeyPatch
) -> None:
    from repsight.web import views

    _, _, cast = workspace
    app = make_app(workspace)
    client = signed_in(app, cast.rep)
    client = TestClient(app, raise_server_exceptions=False, cookies=client.cookies)

    def broken(*_: object) -> None:
        raise RuntimeError("a bug, with a secret in its message")

    monkeypatch.setattr(views, "person_view", broken)
    response = client.get(f"/api/people/{cast.rep_person}")
    assert response.status_code == 500
    assert response.text == "Something went wrong."
    assert _check_headers(response, "500") == []


def test_the_accounts_file_keeps_an_argon2id_hash_never_the_password(tmp_path: Path) -> None:
    from repsight.web import Accounts

    Accounts(tmp_path / "accounts.sqlite").add("ana@acme.example", "correct horse battery staple")
    with sqlite3.connect(tmp_path / "accounts.sqlite") as db:
        [(stored,)] = db.execute("SELECT password_hash FROM accounts").fetchall()
        everything = " ".join(
            str(v) for table in ("accounts", "audit") for row in db.execute(f"SELECT * FROM {table}") for v in row
        )
    assert stored.startswith("$argon2id$") and "correct horse" not in everything
