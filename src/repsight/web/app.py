"""The dashboard: FastAPI, pages rendered on the server (Jinja2), Plotly charts, no build step and no CDN.

Every page and API call resolves the signed-in user and checks, on the
server, what their roles let them see; a refusal is a 403 and an entry in
the audit log. Aggregates over fewer people than `privacy.min_group_size`
are never sent.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.middleware.sessions import SessionMiddleware

from repsight.errors import RepsightError
from repsight.privacy import suppress_small_study_groups
from repsight.web.access import CSRF_FIELD, Forbidden, User, can_see_person, check_csrf, csrf_token, user_of
from repsight.web.accounts import GRANTABLE_ROLES, Accounts, new_password
from repsight.web.charts import figure_json, mean_by_week, network_chart, standing_chart, weekly_chart
from repsight.web.data import BEHAVIOURS, LABELS, WorkspaceData

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = ["create_app", "session_secret"]


class _SignIn(Exception):
    """No signed-in user: pages go to the sign-in form, the API answers 401."""


def _json_script(value: str) -> str:
    # JSON inside <script type="application/json">: no character may close the tag.
    return value.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    script: str = get_plotlyjs()
    return script


_CHARTS_JS = """
document.querySelectorAll('[data-figure]').forEach(function (el) {
  var spec = JSON.parse(document.getElementById(el.dataset.figure).textContent);
  Plotly.newPlot(el, spec.data, spec.layout, {displaylogo: false, responsive: true});
});
"""
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _current_user(request: Request) -> User:
    state = request.app.state
    user = user_of(request, state.config.web, state.data, state.accounts)
    if user is None:
        raise _SignIn()
    return user


# FastAPI reads these annotations by name from the module: they must live here, not in create_app.
Signed = Annotated[User, Depends(_current_user)]


def create_app(config: Config, data: WorkspaceData, accounts: Accounts, session_secret: str) -> FastAPI:
    """Return the dashboard app over `data`, with accounts and the audit log in `accounts`."""
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
    templates = Environment(loader=PackageLoader("repsight.web", "templates"), autoescape=select_autoescape(["html"]))
    templates.filters["json_script"] = _json_script
    minimum = config.privacy.min_group_size

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.update(_SECURITY_HEADERS)
        return response

    app.state.config = config
    app.state.data = data
    app.state.accounts = accounts

    def page(request: Request, template: str, user: User | None, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(
            user=user, csrf=csrf_token(request), csrf_field=CSRF_FIELD, minimum=minimum, **values
        )
        return HTMLResponse(html)

    @app.exception_handler(_SignIn)
    async def _sign_in(request: Request, _: _SignIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(RepsightError)
    async def _bad_input(request: Request, exc: RepsightError) -> Response:
        # A user-fixable problem (an unknown account, a role that does not exist): say what, as a 400.
        return await _refused(request, HTTPException(status_code=400, detail=str(exc)))

    @app.exception_handler(HTTPException)
    async def _refused(request: Request, exc: HTTPException) -> Response:
        user = user_of(request, config.web, data, accounts)
        if exc.status_code == 403:
            address = request.client.host if request.client else None
            accounts.audit(user.email if user else None, "forbidden", request.url.path, address)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        response = page(request, "error.html", user, status=exc.status_code, message=exc.detail)
        response.status_code = exc.status_code
        return response

    # -- static files and signing in ---------------------------------------------------------------

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return Response(_plotly_js(), media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/charts.js", include_in_schema=False)
    def charts_js() -> Response:
        return Response(_CHARTS_JS, media_type="application/javascript")

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", None, error=None)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        email: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf_token_value: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
    ) -> Response:
        check_csrf(request, csrf_token_value)
        address = request.client.host if request.client else None
        account = accounts.verify(email, password)
        if account is None:
            accounts.audit(email.strip().lower(), "sign-in refused", None, address)
            response = page(request, "login.html", None, error="Wrong email or password.")
            response.status_code = 401
            return response
        request.session.clear()
        request.session["email"] = account.email
        request.session["epoch"] = account.epoch
        accounts.audit(account.email, "signed in", None, address)
        return RedirectResponse("/", status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token_value: Annotated[str | None, Form(alias=CSRF_FIELD)] = None) -> Response:
        check_csrf(request, csrf_token_value)
        email = request.session.get("email")
        if email:
            accounts.end_sessions(email)  # a copied cookie must not outlive the sign-out
            accounts.audit(email, "signed out", None, request.client.host if request.client else None)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", include_in_schema=False)
    def home(user: Signed) -> Response:
        for role, path in (("rep", "/me"), ("executive", "/org"), ("analyst", "/analysis"), ("admin", "/admin")):
            if user.has(role):
                return RedirectResponse(path, status_code=303)
        raise Forbidden("your account has no role yet: ask an admin to grant one")

    # -- a person's own view -----------------------------------------------------------------------

    def person_view(user: User, person: str) -> dict[str, Any]:
        if person not in data.people.index or not can_see_person(user, person, data, config.privacy):
            raise Forbidden("you may see your own page only")
        if person != user.person:
            accounts.audit(user.email, "viewed another person's page", person)
        charts = []
        for metric in BEHAVIOURS:
            rows = data.series([person], metric)  # in week order
            band = data.top_band(person, metric) if data.is_rep(person) else None
            charts.append(
                {
                    "metric": metric,
                    "label": LABELS[metric],
                    "weeks": rows["week"].tolist(),
                    "values": [None if v != v else float(v) for v in rows[metric]],
                    "band": band,
                }
            )
        return {
            "person": person,
            "name": data.name(person),
            "charts": charts,
            "standing": data.standing(person),
            "network": data.network(person),
        }

    @app.get("/me", include_in_schema=False)
    def me(user: Signed) -> Response:
        if user.person is None:
            raise Forbidden("your account is not linked to a person on the roster")
        return RedirectResponse(f"/people/{user.person}", status_code=303)

    @app.get("/people/{person}", response_class=HTMLResponse, include_in_schema=False)
    def person_page(request: Request, person: str, user: Signed) -> HTMLResponse:
        view = person_view(user, person)
        figures = [
            figure_json(
                weekly_chart(c["label"], c["weeks"], c["values"], "you" if person == user.person else view["name"], c["band"])
            )
            for c in view["charts"]
        ]
        standing = figure_json(standing_chart(view["standing"])) if view["standing"] else None
        network = figure_json(network_chart(view["network"]["by_org"])) if view["network"]["by_org"] else None
        return page(request, "person.html", user, view=view, figures=figures, standing=standing, network=network)

    @app.get("/api/people/{person}", response_class=JSONResponse)
    def person_api(person: str, user: Signed) -> JSONResponse:
        """One person's weekly behaviours, the top tier's band of their segment, where they stand, and their network."""
        view = person_view(user, person)
        for chart in view["charts"]:
            band = chart.pop("band")
            chart["top_tier"] = (
                None
                if band is None
                else {"group": band.group, "weeks": band.weeks, "low": band.low, "median": band.median, "high": band.high}
            )
        # Plain JSON of plain values: FastAPI's encoder would walk every number again.
        return JSONResponse(view)

    # -- a manager's team --------------------------------------------------------------------------

    def team_view(user: User) -> dict[str, Any]:
        if not user.has("manager") or user.person is None:
            raise Forbidden("the team view is for managers")
        members = data.reports.get(user.person, [])
        measured = sorted(set(members) & set(data.weeks["person"]))
        view: dict[str, Any] = {"size": len(members), "measured": len(measured), "suppressed": len(measured) < minimum}
        if view["suppressed"]:
            return view
        charts = []
        for metric in BEHAVIOURS:
            weeks, values = mean_by_week(data.series(measured, metric), metric, minimum)
            charts.append({"metric": metric, "label": LABELS[metric], "weeks": weeks, "values": values})
        view["charts"] = charts
        if config.privacy.manager_sees_individuals:
            latest = data.periods[data.periods["person"].isin(measured)].sort_values("period").groupby("person").tail(1)
            view["members"] = [
                {
                    "person": row.person,
                    "name": data.name(row.person),
                    "period": row.period,
                    **{m: float(getattr(row, m)) for m in BEHAVIOURS},
                }
                for row in latest.itertuples()
            ]
        return view

    @app.get("/team", response_class=HTMLResponse, include_in_schema=False)
    def team_page(request: Request, user: Signed) -> HTMLResponse:
        view = team_view(user)
        figures = []
        if not view["suppressed"]:
            band_person = data.reports[user.person or ""][0]
            figures = [
                figure_json(
                    weekly_chart(c["label"], c["weeks"], c["values"], "team mean", data.top_band(band_person, c["metric"]))
                )
                for c in view["charts"]
            ]
        return page(request, "team.html", user, view=view, figures=figures, labels=LABELS, behaviours=BEHAVIOURS)

    @app.get("/api/team")
    def team_api(user: Signed) -> dict[str, Any]:
        """The signed-in manager's team: weekly means, or only its size when it is smaller than the minimum group."""
        return team_view(user)

    # -- an executive's org ------------------------------------------------------------------------

    def shown_study(document: dict[str, Any] | None = None) -> dict[str, Any]:
        """The study as anyone but an analyst may see it: no segment or tier-week under the minimum group."""
        return suppress_small_study_groups(document if document is not None else data.study or {}, minimum)

    def org_view(user: User) -> dict[str, Any]:
        if not user.has("executive"):
            raise Forbidden("the organisation view is for senior leaders")
        members = data.subtree(user.person) if user.person else []
        reps = [p for p in members if data.is_rep(p)]
        measured = sorted(set(reps) & set(data.weeks["person"]))
        view: dict[str, Any] = {"org_people": len(members), "reps": len(measured), "suppressed": len(measured) < minimum}
        document, scope = data.org_study(members)
        view["study_of"] = scope
        view["study"] = shown_study(document)
        if not view["suppressed"]:
            view["charts"] = []
            for metric in BEHAVIOURS:
                weeks, values = mean_by_week(data.series(measured, metric), metric, minimum)
                view["charts"].append({"metric": metric, "label": LABELS[metric], "weeks": weeks, "values": values})
        return view

    @app.get("/org", response_class=HTMLResponse, include_in_schema=False)
    def org_page(request: Request, user: Signed) -> HTMLResponse:
        from repsight.report.figures import headline_figure, phase2_grid_figure

        view = org_view(user)
        study = view.pop("study")
        trends = [
            figure_json(weekly_chart(c["label"], c["weeks"], c["values"], "your org's reps, mean", None))
            for c in view.get("charts", [])
        ]
        return page(
            request,
            "org.html",
            user,
            view=view,
            study=study,
            headline=figure_json(headline_figure(study)),
            grid=figure_json(phase2_grid_figure(study)),
            trends=trends,
        )

    @app.get("/api/org")
    def org_api(user: Signed) -> dict[str, Any]:
        """The signed-in executive's org: its reps' weekly means (or its size when too small), and the study's phase 2."""
        view = org_view(user)
        view["phase2"] = view.pop("study").get("phase2", {})
        return view

    # -- the analyst's tables ----------------------------------------------------------------------

    def analyst(user: User, download: str | None = None) -> None:
        if not user.has("analyst"):
            raise Forbidden("the analysis view is for analysts")
        if download:
            accounts.audit(user.email, "downloaded", download)

    @app.get("/analysis", response_class=HTMLResponse, include_in_schema=False)
    def analysis_page(request: Request, user: Signed) -> HTMLResponse:
        analyst(user)
        periods = _with_attributes(data).head(50)
        return page(
            request, "analysis.html", user, study=data.study or {}, rows=periods.to_dict("records"), columns=list(periods.columns)
        )

    @app.get("/analysis/person_period.csv", include_in_schema=False)
    def analysis_csv(user: Signed) -> Response:
        analyst(user, "person_period.csv")
        return _csv(_with_attributes(data), "person_period.csv")

    @app.get("/api/study")
    def study_api(user: Signed) -> dict[str, Any]:
        """The whole study (docs/study.md), for analysts."""
        analyst(user, "/api/study")
        return data.study or {}

    @app.get("/analysis/study.json", include_in_schema=False)
    def study_download(user: Signed) -> Response:
        analyst(user, "study.json")
        return Response(json.dumps(data.study, indent=2), media_type="application/json", headers=_attachment("study.json"))

    # -- accounts ----------------------------------------------------------------------------------

    @app.get("/admin", response_class=HTMLResponse, include_in_schema=False)
    def admin_page(request: Request, user: Signed, shown: tuple[str, str] | None = None) -> HTMLResponse:
        admin(user)
        return page(
            request, "admin.html", user, accounts=accounts.all(), roles=GRANTABLE_ROLES, log=accounts.audit_log(50), shown=shown
        )

    def admin(user: User) -> None:
        if not user.has("admin"):
            raise Forbidden("account administration is for admins")

    @app.post("/admin/accounts", include_in_schema=False)
    def admin_add(
        request: Request,
        user: Signed,
        email: Annotated[str, Form()],
        roles: Annotated[list[str] | None, Form()] = None,
        csrf_token_value: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
    ) -> HTMLResponse:
        check_csrf(request, csrf_token_value)
        admin(user)
        password = new_password()
        account = accounts.add(email, password, frozenset(roles or []))
        accounts.audit(user.email, f"added account: {', '.join(sorted(account.roles)) or 'no grants'}", account.email)
        return admin_page(request, user, shown=(account.email, password))

    @app.post("/admin/password", include_in_schema=False)
    def admin_reset(
        request: Request,
        user: Signed,
        email: Annotated[str, Form()],
        csrf_token_value: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
    ) -> HTMLResponse:
        check_csrf(request, csrf_token_value)
        admin(user)
        password = new_password()
        accounts.set_password(email, password)
        accounts.audit(user.email, "reset password", email.strip().lower())
        return admin_page(request, user, shown=(email.strip().lower(), password))

    @app.post("/admin/roles", include_in_schema=False)
    def admin_roles(
        request: Request,
        user: Signed,
        email: Annotated[str, Form()],
        roles: Annotated[list[str] | None, Form()] = None,
        csrf_token_value: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
    ) -> Response:
        check_csrf(request, csrf_token_value)
        admin(user)
        granted = frozenset(roles or [])
        accounts.set_roles(email, granted)
        accounts.audit(user.email, f"set roles: {', '.join(sorted(granted)) or 'none'}", email.strip().lower())
        return RedirectResponse("/admin", status_code=303)

    return app


def _with_attributes(data: WorkspaceData) -> Any:
    attributes = data.people[["org", "level", "function", "region", "segment", "channel"]]
    return data.periods.merge(attributes, left_on="person", right_index=True, how="left")


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _csv(frame: Any, name: str) -> Response:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_NONNUMERIC)
    return PlainTextResponse(buffer.getvalue(), media_type="text/csv", headers=_attachment(name))


def session_secret(key: str) -> str:
    """Return the secret that signs session cookies: derived from the workspace key, so sessions survive a restart."""
    return hmac.new(key.encode("utf-8"), b"repsight:dashboard-session", hashlib.sha256).hexdigest()
