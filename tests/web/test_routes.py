"""Every route of the dashboard × every role: the status, the audit entries, and no aggregate over fewer people than the minimum.

The table below is the specification. The walk takes the routes from
`app.routes`, so a route added without an entry here fails the test. The
routes that show the study are walked again with `privacy.min_group_size`
raised after the study ran: a phase-2 segment the study kept is then under
the workspace's minimum, and must be left out for all but analysts.
"""

from __future__ import annotations

import ast
import html
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from repsight.config import Config
from repsight.guidance import advise_person, coaching
from repsight.web import Accounts, dashboard
from repsight.web.access import Access
from repsight.web.app import create_app, session_secret
from repsight.web.data import WorkspaceData
from tests.support import REPO
from tests.support.web_org import PASSWORD, Cast, csrf_token, signed_in

SIGNED_OUT = "signed out"
WHO = ("rep", "manager", "small manager", "executive", "analyst", "admin", SIGNED_OUT)
"""Who asks: the cast (tests/support/web_org.py) and nobody signed in."""
SPARE = "spare@acme.example"
"""An account the admin's forms change (new password, roles), so that the cast's stay as they are."""

AuditRow = tuple[str | None, str, str | None]
"""An audit row as the table gives it: who, the action, the target."""
WrittenRow = tuple[str | None, str, str | None, str | None]
"""An audit row as written: who, the action, the target, and the client's address."""
CLIENT = "testclient"
"""The client address of every request of a test client: every audit row of the dashboard carries it."""
Check = Callable[["Context", str, httpx.Response], None]


@dataclass(frozen=True)
class Context:
    config: Config
    data: WorkspaceData
    cast: Cast

    def email(self, who: str) -> str:
        return str(getattr(self.cast, who.replace(" ", "_")))

    def person(self, who: str) -> str:
        return self.data.person_of_email[self.email(who)]

    def roles(self, who: str) -> set[str]:
        """Return the roles of `who` as DESIGN.md gives them: on the roster a rep, with reports a manager, at the senior level an executive; analyst and admin granted."""
        if who == SIGNED_OUT:
            return set()
        if who in ("analyst", "admin"):
            return {who}
        person = self.person(who)
        found = {"rep"}
        if self.data.reports.get(person):
            found.add("manager")
        if self.data.people.at[person, "level"] >= self.config.company.senior_level:
            found.add("executive")  # the cast's manager of 3 may be one too: pseudonyms order the cast
        return found


@dataclass(frozen=True)
class Expect:
    """What one route answers each of WHO, and what it writes to the audit log."""

    status: Callable[[Context, str], int]
    location: Callable[[Context, str], str | None] = lambda ctx, who: None
    """Where a 303 sends `who`."""
    audit: Callable[[Context, str, str], list[AuditRow]] | None = None
    """The audit rows of an answer that is not a refusal (`who`, the path asked); a 403 writes `forbidden` and the path."""
    check: Check | None = None
    """Checks of a 200's body: no group smaller than the minimum."""
    form: Callable[[Context, str], dict[str, Any]] | None = None
    """A POST's form (the session's CSRF token is added)."""
    path: Callable[[Context], str] | None = None
    """The URL to ask, for a path with parameters."""
    order: int = 0
    """Walked in this order, then by path: sign-in and sign-out last."""


def everyone(status: int) -> Callable[[Context, str], int]:
    return lambda ctx, who: status


def only(*roles: str, api: bool = False, ok: int = 200) -> Callable[[Context, str], int]:
    """Return the status of a route for those of `roles` (`ok`), the others signed in (403), and nobody signed in (401 from the API, 303 to the sign-in form from a page)."""

    def status(ctx: Context, who: str) -> int:
        if who == SIGNED_OUT:
            return 401 if api else 303
        return ok if ctx.roles(who) & set(roles) else 403

    return status


def signed_out_to_login(ctx: Context, who: str) -> str | None:
    return "/login" if who == SIGNED_OUT else None


def read_by(
    action: str, target: Callable[[Context, str], str | None] | None = None
) -> Callable[[Context, str, str], list[AuditRow]]:
    """Return the audit rows of a person-level read: one, by `who`, of `action` on `target` (default: the path)."""
    return lambda ctx, who, path: [(ctx.email(who), action, target(ctx, path) if target else path)]


# -- the privacy checks of answers with aggregates ------------------------------------------------------


def _present(data: WorkspaceData, people: list[str], whole_periods: bool) -> dict[str, frozenset[str]]:
    """Return each week's people: all with a row that week, or (`whole_periods`) those with a row in every week of its period."""
    rows = data.weeks[data.weeks["person"].isin(people)]
    found = {str(week): frozenset(group) for week, group in rows.groupby("week")["person"]}
    if whole_periods:
        for _, weeks in rows.groupby("period")["week"]:
            core = frozenset.intersection(*(found[str(week)] for week in weeks.unique()))
            found.update({str(week): core for week in weeks.unique()})
    return found


def _kept_apart(present: dict[str, frozenset[str]], weeks: list[str], shown: set[str], minimum: int) -> bool:
    """Return whether no week shown has fewer people than the minimum, no two differ by a few, and a week of
    enough people is hidden only where it differs by a few from one shown."""
    return (
        all(len(present[week]) >= minimum for week in shown)
        and all(not 0 < len(present[a] ^ present[b]) < minimum for a in shown for b in shown)
        and all(
            len(present[week]) < minimum or any(0 < len(present[w] ^ present[week]) < minimum for w in shown)
            for week in set(weeks) - shown
        )
    )


def _check_weekly_means(ctx: Context, charts: list[dict[str, Any]], people: list[str]) -> None:
    minimum = ctx.config.privacy.min_group_size
    ways = [_present(ctx.data, people, whole_periods) for whole_periods in (False, True)]
    for chart in charts:
        shown = {week for week, value in zip(chart["weeks"], chart["values"], strict=True) if value is not None}
        # Each week over its own people, or each period's weeks over the same people (charts.mean_by_week).
        assert any(_kept_apart(present, chart["weeks"], shown, minimum) for present in ways), chart["metric"]


def _team(ctx: Context, who: str) -> list[str]:
    return sorted(set(ctx.data.reports.get(ctx.person(who), [])) & set(ctx.data.weeks["person"]))


def _check_engagement_means(ctx: Context, engagement: dict[str, Any], people: list[str]) -> None:
    rows, minimum = ctx.data.periods[ctx.data.periods["person"].isin(people)], ctx.config.privacy.min_group_size
    for row in engagement["metrics"]:
        having = {
            period: frozenset(rows.loc[(rows["period"] == period) & rows[row["metric"]].notna(), "person"])
            for period in engagement["periods"]
        }
        shown = {period for period, value in zip(engagement["periods"], row["values"], strict=True) if value is not None}
        # A period's mean over fewer members with a value than the minimum is not shown, nor two differing by a few;
        # a period of enough members is hidden only where it differs by a few from one shown.
        assert all(len(having[period]) >= minimum for period in shown), row["metric"]
        assert all(not 0 < len(having[a] ^ having[b]) < minimum for a in shown for b in shown), row["metric"]
        for period in set(engagement["periods"]) - shown:
            assert len(having[period]) < minimum or any(0 < len(having[p] ^ having[period]) < minimum for p in shown)


def check_team_api(ctx: Context, who: str, response: httpx.Response) -> None:
    team = response.json()
    measured = _team(ctx, who)
    assert team["measured"] == len(measured)
    if len(measured) < ctx.config.privacy.min_group_size:
        assert team["suppressed"] is True and "charts" not in team and "members" not in team and "engagement" not in team
    else:
        assert team["suppressed"] is False and "members" not in team  # individuals only where configured
        _check_weekly_means(ctx, team["charts"], measured)
        _check_engagement_means(ctx, team["engagement"], measured)


def check_team_page(ctx: Context, who: str, response: httpx.Response) -> None:
    small = len(_team(ctx, who)) < ctx.config.privacy.min_group_size
    assert ("data-figure" not in response.text) == small
    assert ('id="suppressed"' in response.text) == small
    # The coaching view counts the reps below the manager (directly or not): shown for at least the minimum, never fewer.
    assert ctx.data.guidance is not None
    shown = coaching(ctx.data.guidance, ctx.person(who)).shown
    assert ('id="coaching-gaps"' in response.text) == shown
    assert ('id="coaching-suppressed"' in response.text) == (not shown)


def check_coaching_api(ctx: Context, who: str, response: httpx.Response) -> None:
    assert ctx.data.guidance is not None
    found = response.json()
    expected = coaching(ctx.data.guidance, ctx.person(who))
    assert found == json.loads(json.dumps(expected.to_json()))
    assert found["shown"] == (found["reps"] >= ctx.config.privacy.min_group_size)
    assert found["members"] == []  # individuals only where configured
    if not found["shown"]:
        assert found["gaps"] == []


def check_guidance_api(ctx: Context, who: str, response: httpx.Response) -> None:
    """The rep's own guidance, as `repsight advise --json` writes it."""
    assert ctx.data.guidance is not None
    expected = advise_person(ctx.data.guidance, ctx.person(who)).to_json()
    assert response.json() == json.loads(json.dumps(expected))


def _smallest_group(segment: dict[str, Any]) -> int:
    """Return the fewest reps a phase-2 segment's figures are over: the segment's, or its top or bottom tier's."""
    return int(min(segment["n_reps"], segment["top_reps"], segment["bottom_reps"]))


def _study_segments(ctx: Context, who: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Return the phase-2 segments (attribute, segment) of the study an executive's org page shows: all, and those of at least the minimum."""
    document, _ = ctx.data.org_study(ctx.data.subtree(ctx.person(who)))
    smallest = {
        (a, s): _smallest_group(dict(seg)) for a, part in document["phase2"].items() for s, seg in part["segments"].items()
    }
    return set(smallest), {key for key, reps in smallest.items() if reps >= ctx.config.privacy.min_group_size}


def check_org_api(ctx: Context, who: str, response: httpx.Response) -> None:
    org = response.json()
    minimum = ctx.config.privacy.min_group_size
    for attribute in org["phase2"].values():
        assert all(_smallest_group(segment) >= minimum for segment in attribute["segments"].values())
    _, shown = _study_segments(ctx, who)
    assert {(a, s) for a, part in org["phase2"].items() for s in part["segments"]} == shown
    reps = sorted(p for p in ctx.data.subtree(ctx.person(who)) if ctx.data.is_rep(p) and p in set(ctx.data.weeks["person"]))
    assert org["reps"] == len(reps) and org["suppressed"] == (len(reps) < minimum)
    if org["suppressed"]:
        assert "charts" not in org
    else:
        _check_weekly_means(ctx, org["charts"], reps)


def check_org_page(ctx: Context, who: str, response: httpx.Response) -> None:
    """The phase-2 grid draws a column for each segment of at least the minimum, and none for a smaller one."""
    found = re.search(r'<script type="application/json" id="grid-spec">(.*?)</script>', response.text, re.S)
    assert found, "no phase-2 grid on the org page"
    grid = json.loads(found.group(1))
    drawn = {(trace["name"], x) for trace in grid["data"] if trace["type"] == "heatmap" for x in trace["x"]}
    _, shown = _study_segments(ctx, who)
    assert drawn == {(html.escape(a, quote=False), html.escape(s, quote=False)) for a, s in shown}


def check_whole_study(ctx: Context, who: str, response: httpx.Response) -> None:
    """An analyst gets the study as it ran: every segment it kept, under the workspace's minimum or not."""
    assert json.loads(response.text) == ctx.data.study


def check_person_api(ctx: Context, who: str, response: httpx.Response) -> None:
    view = response.json()
    for row in view["standing"]:
        # A percentile among fewer reps than the minimum would tell where the others stand.
        assert (row["percentile"] is None) == (row["reps"] < ctx.config.privacy.min_group_size), row["metric"]
    top = ctx.data.tiers[ctx.data.tiers["tier"] == 1][["person", "period"]]
    for chart in view["charts"]:
        band = chart["top_tier"]
        rows = top
        if band["group"] != "the company":
            rows = top[top["person"].map(ctx.data.people["segment"]) == band["group"].removeprefix("segment ")]
        present = ctx.data.weeks.merge(rows, on=["person", "period"]).groupby("week")["person"].nunique()
        for week, median in zip(band["weeks"], band["median"], strict=True):
            if present.get(week, 0) < ctx.config.privacy.min_group_size:
                assert median is None, (chart["metric"], week)
    engagement = view["engagement"]
    for row in engagement["metrics"]:
        band = row["top_tier"]
        rows = top[top["period"] == engagement["period"]]
        if band["group"] != "the company":
            rows = rows[rows["person"].map(ctx.data.people["segment"]) == band["group"].removeprefix("segment ")]
        values = ctx.data.periods.merge(rows, on=["person", "period"])[row["metric"]].dropna()
        # The top tier's quartiles of a period are over at least the minimum of its reps with a value.
        assert (band["median"] is None) == (len(values) < ctx.config.privacy.min_group_size), row["metric"]
    assert "accounts" not in view  # the list of accounts is the rep's own (/api/people/{person}/accounts)


# -- the table --------------------------------------------------------------------------------------------

OTHER_PERSON: Callable[[Context], str] = lambda ctx: f"/people/{ctx.cast.other_rep_person}"  # noqa: E731

ROUTES: dict[tuple[str, str], Expect] = {
    ("GET", "/static/plotly.min.js"): Expect(everyone(200)),
    ("GET", "/static/charts.js"): Expect(everyone(200)),
    ("GET", "/api/openapi.json"): Expect(everyone(200)),
    ("GET", "/login"): Expect(everyone(200)),
    ("POST", "/login"): Expect(
        everyone(401),
        form=lambda ctx, who: {"email": "nobody@acme.example" if who == SIGNED_OUT else ctx.email(who), "password": "wrong"},
        audit=lambda ctx, who, path: [("nobody@acme.example" if who == SIGNED_OUT else ctx.email(who), "sign-in refused", None)],
        order=1,
    ),
    ("POST", "/logout"): Expect(
        everyone(303),
        location=lambda ctx, who: "/login",
        form=lambda ctx, who: {},
        audit=lambda ctx, who, path: [] if who == SIGNED_OUT else [(ctx.email(who), "signed out", None)],
        order=2,
    ),
    ("GET", "/"): Expect(
        everyone(303),
        location=lambda ctx, who: {"analyst": "/analysis", "admin": "/admin", SIGNED_OUT: "/login"}.get(who, "/me"),
    ),
    ("GET", "/me"): Expect(
        only("rep", ok=303),
        location=lambda ctx, who: "/login" if who == SIGNED_OUT else f"/people/{ctx.person(who)}",
    ),
    ("GET", "/people/{person}"): Expect(
        only("analyst"),
        location=signed_out_to_login,
        path=OTHER_PERSON,
        audit=read_by("viewed another person's page", lambda ctx, path: ctx.cast.other_rep_person),
    ),
    ("GET", "/api/people/{person}"): Expect(
        only("analyst", api=True),
        path=lambda ctx: "/api" + OTHER_PERSON(ctx),
        audit=read_by("viewed another person's page", lambda ctx, path: ctx.cast.other_rep_person),
        check=check_person_api,
    ),
    # The accounts a rep touched: their own only, not their manager's, an analyst's or an admin's.
    ("GET", "/api/people/{person}/accounts"): Expect(
        lambda ctx, who: 401 if who == SIGNED_OUT else 200 if who == "rep" else 403,
        path=lambda ctx: f"/api/people/{ctx.cast.rep_person}/accounts",
    ),
    # A person's guidance: their own only, like their list of accounts.
    ("GET", "/api/people/{person}/guidance"): Expect(
        lambda ctx, who: 401 if who == SIGNED_OUT else 200 if who == "rep" else 403,
        path=lambda ctx: f"/api/people/{ctx.cast.rep_person}/guidance",
        check=check_guidance_api,
    ),
    ("GET", "/team"): Expect(only("manager"), location=signed_out_to_login, check=check_team_page),
    ("GET", "/api/team"): Expect(only("manager", api=True), check=check_team_api),
    ("GET", "/api/team/coaching"): Expect(only("manager", api=True), check=check_coaching_api),
    ("GET", "/org"): Expect(only("executive"), location=signed_out_to_login, check=check_org_page),
    ("GET", "/api/org"): Expect(only("executive", api=True), check=check_org_api),
    ("GET", "/analysis"): Expect(only("analyst"), location=signed_out_to_login, audit=read_by("viewed person-level tables")),
    # A download's audit target is its file name, as the audit log has always written it (its readers rely on it).
    ("GET", "/analysis/person_period.csv"): Expect(
        only("analyst"), location=signed_out_to_login, audit=read_by("downloaded", lambda ctx, path: "person_period.csv")
    ),
    ("GET", "/analysis/study.json"): Expect(
        only("analyst"),
        location=signed_out_to_login,
        audit=read_by("downloaded", lambda ctx, path: "study.json"),
        check=check_whole_study,
    ),
    ("GET", "/api/study"): Expect(only("analyst", api=True), audit=read_by("downloaded"), check=check_whole_study),
    ("GET", "/admin"): Expect(only("admin"), location=signed_out_to_login),
    ("POST", "/admin/accounts"): Expect(
        only("admin"),
        location=signed_out_to_login,
        form=lambda ctx, who: {"email": f"added-by-{who.replace(' ', '-')}@acme.example"},
        audit=lambda ctx, who, path: [(ctx.cast.admin, "added account: no grants", "added-by-admin@acme.example")],
    ),
    ("POST", "/admin/password"): Expect(
        only("admin"),
        location=signed_out_to_login,
        form=lambda ctx, who: {"email": SPARE},
        audit=lambda ctx, who, path: [(ctx.cast.admin, "reset password", SPARE)],
    ),
    ("POST", "/admin/roles"): Expect(
        only("admin", ok=303),
        location=lambda ctx, who: "/login" if who == SIGNED_OUT else "/admin",
        form=lambda ctx, who: {"email": SPARE, "roles": []},
        audit=lambda ctx, who, path: [(ctx.cast.admin, "set roles: none", SPARE)],
    ),
}
PUBLIC = {
    ("GET", "/static/plotly.min.js"),
    ("GET", "/static/charts.js"),
    ("GET", "/api/openapi.json"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
}
"""Routes anyone may call, signed in or not; every other declares its access with `allow`."""
STUDY_ROUTES = {("GET", "/org"), ("GET", "/api/org"), ("GET", "/analysis/study.json"), ("GET", "/api/study")}
"""The routes that show the study: walked again with the workspace's minimum raised after the study ran."""


# -- fixtures and helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def context(workspace: tuple[Config, WorkspaceData, Cast]) -> Context:
    config, data, cast = workspace
    accounts = Accounts(config.accounts_path)
    if accounts.get(SPARE) is None:
        accounts.add(SPARE, PASSWORD)
    return Context(config, data, cast)


@pytest.fixture(scope="module")
def app(context: Context) -> FastAPI:
    return dashboard(context.config)  # as `repsight serve` builds it


@pytest.fixture(scope="module")
def raised(context: Context) -> tuple[FastAPI, Context]:
    """The dashboard (and its context) with `privacy.min_group_size` raised after the study ran, above its smallest phase-2 segment."""
    study = context.data.study
    smallest = min(segment["n_reps"] for part in study["phase2"].values() for segment in part["segments"].values())
    assert study["thresholds"]["min_group_size"] <= smallest  # the study kept it
    privacy = context.config.privacy.model_copy(update={"min_group_size": smallest + 1})
    config = context.config.model_copy(update={"privacy": privacy})
    app = dashboard(config)
    return app, Context(config, app.state.workspace.current(), context.cast)


def effective_routes(app: FastAPI) -> list[Any]:
    """Return every route of `app.routes`, the included routers' routes with their full paths."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that copies an included router's routes into app.routes
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Return (method, path) of every route of the app (HEAD aside: it answers as GET)."""
    found = []
    for route in effective_routes(app):
        for method in sorted(route.methods or []):
            if method != "HEAD":
                found.append((method, str(route.path)))
    return found


def client_of(app: FastAPI, ctx: Context, who: str) -> TestClient:
    return TestClient(app) if who == SIGNED_OUT else signed_in(app, ctx.email(who))


def audit_mark(config: Config) -> int:
    with sqlite3.connect(config.accounts_path) as db:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM audit").fetchone()[0])


def audit_since(config: Config, mark: int) -> list[WrittenRow]:
    with sqlite3.connect(config.accounts_path) as db:
        rows = db.execute("SELECT email, action, target, address FROM audit WHERE rowid > ? ORDER BY rowid", (mark,)).fetchall()
    return [(email, action, target, address) for email, action, target, address in rows]


def from_client(rows: list[AuditRow]) -> list[WrittenRow]:
    """Return the rows as the dashboard writes them for a test client's requests: with the client's address."""
    return [(*row, CLIENT) for row in rows]


def ask(client: TestClient, ctx: Context, who: str, method: str, path: str, expect: Expect) -> httpx.Response:
    response: httpx.Response
    if method == "GET":
        response = client.get(path, follow_redirects=False)
    else:
        form = dict(expect.form(ctx, who)) if expect.form else {}
        form["csrf_token"] = csrf_token(client)
        response = client.post(path, data=form, follow_redirects=False)
    return response


# -- the tests --------------------------------------------------------------------------------------------


def test_every_route_of_the_app_is_in_the_table(app: FastAPI) -> None:
    assert sorted(app_routes(app)) == sorted(ROUTES)


def test_every_route_but_signing_in_and_the_scripts_declares_its_access_with_allow(app: FastAPI) -> None:
    checked = 0
    for route in effective_routes(app):
        declared = getattr(route, "original_route", route)
        if not isinstance(declared, APIRoute):
            assert route.path == "/api/openapi.json"  # FastAPI's own: the API description
            continue
        rules = [d.call for d in declared.dependant.dependencies if isinstance(d.call, Access)]
        public = all((method, route.path) in PUBLIC for method in route.methods)
        assert len(rules) == (0 if public else 1), route.path
        checked += 1
    assert checked == len(ROUTES) - 1


def walk(app: FastAPI, ctx: Context, who: str, routes: set[tuple[str, str]] | None = None) -> list[str]:
    """Ask each route of `app.routes` (those of `routes` only, where given) as `who`; return what differs from the table."""
    client = client_of(app, ctx, who)
    keys = [key for key in app_routes(app) if routes is None or key in routes]
    walked = sorted(keys, key=lambda key: (ROUTES[key].order if key in ROUTES else 0, key))
    problems: list[str] = []
    for method, template in walked:
        expect = ROUTES.get((method, template))
        if expect is None:
            problems.append(f"{method} {template}: a route without an entry in ROUTES")
            continue
        path = expect.path(ctx) if expect.path else template
        mark = audit_mark(ctx.config)
        response = ask(client, ctx, who, method, path, expect)
        written = audit_since(ctx.config, mark)
        status = expect.status(ctx, who)
        if response.status_code != status:
            problems.append(f"{method} {path} as {who}: {response.status_code}, expected {status}")
            continue
        if status == 303:
            wanted = expect.location(ctx, who)
            if response.headers["location"] != wanted:
                problems.append(f"{method} {path} as {who}: to {response.headers['location']}, expected {wanted}")
        expected_rows: list[AuditRow]
        if status == 403:
            expected_rows = [(ctx.email(who), "forbidden", path)]
        elif who == SIGNED_OUT and (method, template) not in PUBLIC:
            expected_rows = []  # sent to sign in: the route never ran
        else:
            expected_rows = expect.audit(ctx, who, path) if expect.audit else []
        if written != from_client(expected_rows):
            problems.append(f"{method} {path} as {who}: audit {written}, expected {from_client(expected_rows)}")
        if status == 200 and expect.check:
            try:
                expect.check(ctx, who, response)
            except AssertionError as exc:
                problems.append(f"{method} {path} as {who}: {exc!r}")
    return problems


@pytest.mark.parametrize("who", WHO)
def test_each_route_answers_each_role_as_the_table_says(app: FastAPI, context: Context, who: str) -> None:
    """Walk `app.routes`: the status (and where a redirect goes), the audit rows written, and the suppression of small groups."""
    assert walk(app, context, who) == []


@pytest.mark.parametrize("who", WHO)
def test_a_minimum_raised_after_the_study_leaves_its_smaller_segments_out_for_all_but_analysts(
    raised: tuple[FastAPI, Context], who: str
) -> None:
    """The study kept a segment the workspace's minimum now leaves out: gone from the org page and API, whole for analysts."""
    app, ctx = raised
    executive_sees, shown = _study_segments(ctx, "executive")
    assert executive_sees - shown, "the walk needs a segment under the minimum in the study the executive is shown"
    assert walk(app, ctx, who, STUDY_ROUTES) == []


def test_every_audit_row_of_the_dashboard_is_written_by_access_record() -> None:
    """One place writes the audit log (with the client's address): `web.access.record`, which `allow` and the routes call."""
    package = REPO / "src" / "repsight" / "web"
    writers = []
    for module in sorted(package.rglob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "audit":
                    writers.append((module.relative_to(package).as_posix(), function.name))
    assert writers == [("access.py", "record")]


def test_a_team_list_is_audited_only_where_members_are_shown(context: Context) -> None:
    ctx = context
    config = ctx.config.model_copy(update={"privacy": ctx.config.privacy.model_copy(update={"manager_sees_individuals": True})})
    app = create_app(config, ctx.data, Accounts(config.accounts_path), session_secret("a session secret for this test only"))
    manager = client_of(app, ctx, "manager")
    for path in ("/api/team", "/team"):
        mark = audit_mark(config)
        assert manager.get(path).status_code == 200
        assert audit_since(config, mark) == from_client([(ctx.cast.manager, "viewed team members", path)])
    member = _team(ctx, "manager")[0]
    mark = audit_mark(config)
    assert manager.get(f"/api/people/{member}").status_code == 200
    assert audit_since(config, mark) == from_client([(ctx.cast.manager, "viewed another person's page", member)])
    # A team of 3 shows its size only: no list, nothing to audit.
    small = client_of(app, ctx, "small manager")
    mark = audit_mark(config)
    team = small.get("/api/team").json()
    assert team["suppressed"] is True and "members" not in team
    assert audit_since(config, mark) == []


def test_reading_ones_own_page_is_not_audited(app: FastAPI, context: Context) -> None:
    rep = client_of(app, context, "rep")
    mark = audit_mark(context.config)
    assert rep.get(f"/api/people/{context.cast.rep_person}").status_code == 200
    assert rep.get(f"/people/{context.cast.rep_person}").status_code == 200
    assert audit_since(context.config, mark) == []
