"""The dashboard in-process: who may see what, sign-in, sessions, CSRF, the API, suppression of small groups."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from repsight.config import Config
from repsight.privacy import read_key
from repsight.web import Accounts
from repsight.web.app import create_app, session_secret
from repsight.web.data import WorkspaceData
from tests.support.web_org import PASSWORD, Cast


def _client(config: Config, data: WorkspaceData) -> TestClient:
    app = create_app(config, data, Accounts(config.accounts_path), session_secret(read_key(config.key_path)))
    return TestClient(app)


@pytest.fixture
def client(workspace: tuple[Config, WorkspaceData, Cast]) -> Iterator[TestClient]:
    config, data, _ = workspace
    with _client(config, data) as test_client:
        yield test_client


def _token(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> int:
    client.cookies.clear()
    return int(
        client.post(
            "/login", data={"email": email, "password": password, "csrf_token": _token(client)}, follow_redirects=False
        ).status_code
    )


def test_sign_in_sets_a_signed_http_only_same_site_cookie(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, _, cast = workspace
    client.get("/login")
    response = client.post(
        "/login", data={"email": cast.rep, "password": PASSWORD, "csrf_token": _token(client)}, follow_redirects=False
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("repsight_session=") and "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert PASSWORD not in cookie and cast.rep not in cookie  # signed, and base64: the email is not in clear text


def test_wrong_password_is_refused_and_audited(client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, _, cast = workspace
    assert sign_in(client, cast.rep, "wrong") == 401
    assert sign_in(client, "nobody@acme.example", "wrong") == 401
    log = Accounts(config.accounts_path).audit_log(5)
    assert (cast.rep, "sign-in refused") in [(row[1], row[2]) for row in log]
    assert client.get("/me", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/team").status_code == 401


def test_posts_without_the_csrf_token_are_refused(client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    _, _, cast = workspace
    client.get("/login")
    assert client.post("/login", data={"email": cast.rep, "password": PASSWORD}).status_code == 403
    assert client.post("/login", data={"email": cast.rep, "password": PASSWORD, "csrf_token": "forged"}).status_code == 403
    assert sign_in(client, cast.admin) == 303
    assert client.post("/admin/roles", data={"email": cast.rep, "roles": "analyst"}).status_code == 403
    assert client.post("/logout").status_code == 403
    # With the token the same post goes through.
    response = client.post(
        "/admin/roles", data={"email": cast.rep, "roles": [], "csrf_token": _token(client, "/admin")}, follow_redirects=False
    )
    assert response.status_code == 303


def test_a_rep_sees_their_own_page_and_api_but_not_another_reps(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    config, data, cast = workspace
    assert sign_in(client, cast.rep) == 303
    page = client.get("/me")
    assert page.status_code == 200 and page.url.path == f"/people/{cast.rep_person}"
    assert "Your behaviours, week by week" in page.text and "data-figure" in page.text
    mine = client.get(f"/api/people/{cast.rep_person}").json()
    weeks = data.weeks[data.weeks["person"] == cast.rep_person].sort_values("week")
    customer = next(c for c in mine["charts"] if c["metric"] == "customer_hours")
    assert customer["values"] == pytest.approx(weeks["customer_hours"].tolist())
    assert customer["top_tier"]["group"] in ("the company", f"segment {data.people.at[cast.rep_person, 'segment']}")
    for path in (f"/people/{cast.other_rep_person}", f"/api/people/{cast.other_rep_person}"):
        assert client.get(path).status_code == 403
    assert client.get("/team").status_code == 403 and client.get("/api/study").status_code == 403
    refusals = [row for row in Accounts(config.accounts_path).audit_log(10) if row[2] == "forbidden"]
    assert (cast.rep, f"/api/people/{cast.other_rep_person}") in [(row[1], row[3]) for row in refusals]


def test_the_top_tier_band_is_quartiles_of_top_tier_reps_never_fewer_than_the_minimum(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, data, cast = workspace
    band = data.top_band(cast.rep_person, "customer_hours")
    top = data.tiers[data.tiers["tier"] == 1][["person", "period"]]
    if band.group != "the company":
        segment = data.people.at[cast.rep_person, "segment"]
        top = top[top["person"].map(data.people["segment"]) == segment]
    rows = data.weeks.merge(top, on=["person", "period"])
    for week, low, median, high in zip(band.weeks, band.low, band.median, band.high, strict=True):
        values = rows.loc[rows["week"] == week, "customer_hours"]
        if len(values) < config.privacy.min_group_size:
            assert (low, median, high) == (None, None, None)
        else:
            assert (low, median, high) == pytest.approx((values.quantile(0.25), values.median(), values.quantile(0.75)))


def test_a_manager_of_a_small_team_sees_suppression_not_numbers(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    config, _, cast = workspace
    assert sign_in(client, cast.small_manager) == 303
    team = client.get("/api/team").json()
    assert team["suppressed"] is True and "charts" not in team and "members" not in team
    page = client.get("/team").text
    assert f"Team figures are shown for groups of {config.privacy.min_group_size} or more" in page
    assert "data-figure" not in page


def test_a_manager_sees_team_aggregates_and_individuals_only_when_configured(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, data, cast = workspace
    manager_person = data.person_of_email[cast.manager]
    members = [m for m in data.reports[manager_person] if m in set(data.weeks["person"])]
    with _client(config, data) as client:
        assert sign_in(client, cast.manager) == 303
        team = client.get("/api/team").json()
        assert team["suppressed"] is False and "members" not in team
        customer = next(c for c in team["charts"] if c["metric"] == "customer_hours")
        grouped = data.weeks[data.weeks["person"].isin(members)].groupby("week")["customer_hours"]
        expected = [
            m if n >= config.privacy.min_group_size else None for m, n in zip(grouped.mean(), grouped.count(), strict=True)
        ]
        assert any(v is not None for v in expected)
        assert [None if v is None else pytest.approx(v) for v in customer["values"]] == expected
        assert client.get(f"/people/{members[0]}").status_code == 403
    open_config = config.model_copy(update={"privacy": config.privacy.model_copy(update={"manager_sees_individuals": True})})
    with _client(open_config, data) as client:
        assert sign_in(client, cast.manager) == 303
        assert sorted(m["person"] for m in client.get("/api/team").json()["members"]) == sorted(members)
        assert client.get(f"/people/{members[0]}").status_code == 200
        outside = next(p for p in data.people.index if p not in data.subtree(manager_person) and p != manager_person)
        assert client.get(f"/people/{outside}").status_code == 403


def test_an_executive_sees_the_study_and_the_phase2_grid(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, data, cast = workspace
    assert sign_in(client, cast.executive) == 303
    page = client.get("/org")
    assert page.status_code == 200 and 'id="phase2"' in page.text
    api = client.get("/api/org").json()
    assert set(api["phase2"]) == set((data.study or {})["phase2"])
    assert client.get("/analysis").status_code == 403


def test_an_analyst_downloads_pseudonymised_tables_and_the_study(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, data, cast = workspace
    assert sign_in(client, cast.analyst) == 303
    table = client.get("/analysis/person_period.csv")
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    header, *rows = table.text.strip().splitlines()
    assert '"person"' in header and '"region"' in header and len(rows) == len(data.periods)
    assert "@" not in table.text  # pseudonyms, no addresses
    assert client.get("/api/study").json()["population"] == (data.study or {})["population"]
    assert client.get(f"/people/{cast.rep_person}").status_code == 200


def test_admin_grants_a_role_and_the_audit_log_shows_it(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    config, _, cast = workspace
    assert sign_in(client, cast.admin) == 303
    token = _token(client, "/admin")
    assert (
        client.post(
            "/admin/roles", data={"email": cast.rep, "roles": ["analyst"], "csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    accounts = Accounts(config.accounts_path)
    try:
        assert accounts.get(cast.rep).roles == frozenset({"analyst"})  # type: ignore[union-attr]
        assert (cast.admin, "set roles: analyst", cast.rep) in [row[1:4] for row in accounts.audit_log(5)]
    finally:
        accounts.set_roles(cast.rep, frozenset())


def test_trusted_header_signs_in_only_from_the_proxy(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, cast = workspace
    web = config.web.model_copy(update={"trusted_header": "X-Forwarded-Email", "trusted_proxies": ["testclient"]})
    proxied = config.model_copy(update={"web": web})
    with _client(proxied, data) as client:
        client.headers["X-Forwarded-Email"] = cast.rep  # the proxy adds it to every request
        response = client.get("/me")
        assert response.status_code == 200 and response.url.path == f"/people/{cast.rep_person}"
    elsewhere = config.model_copy(update={"web": web.model_copy(update={"trusted_proxies": ["10.0.0.1"]})})
    with _client(elsewhere, data) as client:
        assert client.get("/api/team", headers={"X-Forwarded-Email": cast.manager}).status_code == 401


def test_pages_load_nothing_from_elsewhere_and_the_api_is_described(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, _, cast = workspace
    assert sign_in(client, cast.rep) == 303
    page = client.get("/me")
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/people/{person}", "/api/team", "/api/org", "/api/study"} <= set(paths)
    assert client.get("/docs").status_code == 404  # FastAPI's docs page would load a CDN


def test_users_cli_adds_resets_and_grants(tmp_path: Path) -> None:
    import subprocess
    import sys

    from repsight.workspace import init_workspace

    config = init_workspace(tmp_path / "ws", domains=["acme.example"])

    def users(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "repsight", "users", *args, "-c", str(config.path)],
            capture_output=True,
            text=True,
            env={"COLUMNS": "200", "PATH": ""},
        )

    added = users("add", "Ana@Acme.example", "--role", "analyst")
    assert added.returncode == 0, added.stderr
    password = re.search(r"password, shown once: (\S+)", added.stdout).group(1)  # type: ignore[union-attr]
    accounts = Accounts(config.accounts_path)
    assert accounts.verify("ana@acme.example", password) is not None
    assert users("add", "ana@acme.example").returncode == 2
    assert "has an account already" in users("add", "ana@acme.example").stderr
    reset = users("reset-password", "ana@acme.example")
    new = re.search(r"new password, shown once: (\S+)", reset.stdout).group(1)  # type: ignore[union-attr]
    assert accounts.verify("ana@acme.example", password) is None and accounts.verify("ana@acme.example", new) is not None
    assert users("set-role", "ana@acme.example", "--role", "admin").returncode == 0
    assert accounts.get("ana@acme.example").roles == frozenset({"admin"})  # type: ignore[union-attr]
    wrong = users("set-role", "ana@acme.example", "--role", "king")
    assert wrong.returncode == 2 and "unknown role king" in wrong.stderr and "Traceback" not in wrong.stderr


def test_standing_is_the_percentile_among_the_periods_reps(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    from scipy.stats import percentileofscore

    _, data, cast = workspace
    rows = data.standing(cast.rep_person)
    period = rows[0]["period"]
    reps = data.periods[(data.periods["period"] == period) & data.periods["person"].isin(data.reps)]
    for row in rows:
        # Among the reps with a value: a rep without a reply to a customer has no reply time to place.
        expected = percentileofscore(reps[row["metric"]].dropna(), row["value"], kind="mean")
        assert row["percentile"] == pytest.approx(expected), row["metric"]


def test_an_organisation_large_enough_gets_its_own_study(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    from repsight.study import study_document
    from repsight.study.run import jsonable

    config, data, _ = workspace
    assert data.rep_rows is not None
    everyone = sorted(data.rep_rows["person"].unique())
    assert data.org_study(everyone)[1] == "the company"
    part = everyone[:24]
    document, scope = data.org_study(part)
    expected, _ = study_document(data.rep_rows[data.rep_rows["person"].isin(part)].reset_index(drop=True), config)
    assert scope == "your organisation" and document["population"]["reps"] == 24
    assert document["phase1"] == jsonable(expected)["phase1"]
    # Too few reps for tiers of the minimum group: the company's study, and the page says so.
    assert data.org_study(everyone[:8])[1].startswith("the company: your organisation has too few reps")


def test_admin_adds_an_account_and_resets_a_password_shown_once(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    config, _, cast = workspace
    assert sign_in(client, cast.admin) == 303
    token = _token(client, "/admin")
    added = client.post("/admin/accounts", data={"email": "New.Analyst@acme.example", "roles": ["analyst"], "csrf_token": token})
    assert added.status_code == 200
    password = re.search(r"shown once: <code>([^<]+)</code>", added.text).group(1)  # type: ignore[union-attr]
    accounts = Accounts(config.accounts_path)
    assert accounts.verify("new.analyst@acme.example", password) is not None
    assert client.post("/admin/accounts", data={"email": "new.analyst@acme.example", "csrf_token": token}).status_code == 400
    reset = client.post("/admin/password", data={"email": "new.analyst@acme.example", "csrf_token": token})
    new = re.search(r"shown once: <code>([^<]+)</code>", reset.text).group(1)  # type: ignore[union-attr]
    assert accounts.verify("new.analyst@acme.example", password) is None and accounts.verify("new.analyst@acme.example", new)
    assert client.get("/admin").text.count("shown once") == 0  # not on the next visit
    assert client.post("/admin/password", data={"email": "new.analyst@acme.example"}).status_code == 403
    assert sign_in(client, cast.rep) == 303
    assert (
        client.post("/admin/accounts", data={"email": "x@acme.example", "csrf_token": _token(client, "/me")}).status_code == 403
    )


def test_a_week_with_fewer_team_members_than_the_minimum_shows_no_mean(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    from repsight.web.charts import mean_by_week

    rows = pd.DataFrame(
        {"person": ["a", "b", "c", "a", "b"], "week": ["w1", "w1", "w1", "w2", "w2"], "customer_hours": [1.0, 2.0, 6.0, 4.0, 8.0]}
    )
    assert mean_by_week(rows, "customer_hours", 3) == (["w1", "w2"], [3.0, None])
    config, data, cast = workspace
    with _client(config, data) as client:
        assert sign_in(client, cast.manager) == 303
        members = [m for m in data.reports[data.person_of_email[cast.manager]] if m in set(data.weeks["person"])]
        present = data.weeks[data.weeks["person"].isin(members)].groupby("week")["person"].nunique()
        customer = next(c for c in client.get("/api/team").json()["charts"] if c["metric"] == "customer_hours")
        for week, value in zip(customer["weeks"], customer["values"], strict=True):
            assert (value is None) == (present[week] < config.privacy.min_group_size), week


def test_signing_out_or_a_new_password_ends_copied_sessions(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    config, _, cast = workspace
    assert sign_in(client, cast.rep) == 303
    copied = dict(client.cookies)
    assert client.post("/logout", data={"csrf_token": _token(client, "/me")}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.update(copied)
    assert client.get("/api/team").status_code == 401  # the copied cookie no longer signs anyone in
    assert sign_in(client, cast.rep) == 303
    copied = dict(client.cookies)
    Accounts(config.accounts_path).set_password(cast.rep, PASSWORD)  # an admin's reset, same password even
    client.cookies.clear()
    client.cookies.update(copied)
    assert client.get(f"/api/people/{cast.rep_person}").status_code == 401
    assert "signed out" in [row[2] for row in Accounts(config.accounts_path).audit_log(20) if row[1] == cast.rep]


def test_an_executive_whose_org_has_no_reps_sees_the_company_study(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, _ = workspace
    senior = data.people[(data.people["level"] >= config.company.senior_level) & (data.people["function"] != "Sales")]
    person = next(p for p in senior.index if not any(data.is_rep(m) for m in data.subtree(p)))
    accounts = Accounts(config.accounts_path)
    email = data.people.at[person, "email"]
    if accounts.get(email) is None:
        accounts.add(email, PASSWORD)
    with _client(config, data) as client:
        assert sign_in(client, email) == 303
        page = client.get("/org")
        assert page.status_code == 200 and "The study of the company: your organisation has too few reps" in page.text


def test_bad_admin_input_is_a_clear_400_and_a_blank_email_is_refused(
    client: TestClient, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, _, cast = workspace
    assert sign_in(client, cast.admin) == 303
    token = _token(client, "/admin")
    assert client.post("/admin/roles", data={"email": "nobody@acme.example", "csrf_token": token}).status_code == 400
    assert client.post("/admin/roles", data={"email": cast.rep, "roles": "king", "csrf_token": token}).status_code == 400
    blank = client.post("/admin/accounts", data={"email": "  ", "csrf_token": token})
    assert blank.status_code == 400 and "is not an email address" in blank.text


def test_a_person_without_a_value_in_a_metric_is_not_placed_in_it(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    from dataclasses import replace

    _, data, cast = workspace
    periods = data.periods.copy()
    periods.loc[periods["person"] == cast.rep_person, "customer_hours"] = float("nan")
    broken = replace(data, periods=periods, _bands={}, _org_studies={})
    metrics = [row["metric"] for row in broken.standing(cast.rep_person)]
    assert "customer_hours" not in metrics and "internal_network_size" in metrics


def _with_reps_in_latest_period(data: WorkspaceData, person: str, count: int) -> WorkspaceData:
    """Return `data` with only `count` reps (`person` among them) measured in `person`'s latest period, each with a value of every study metric."""
    from dataclasses import replace

    period = data.latest_period(person)
    periods = data.periods
    complete = periods[list(data.config.study.metrics)].notna().all(axis="columns")
    there = periods[(periods["period"] == period) & periods["person"].isin(data.reps) & complete]["person"]
    kept = [person, *sorted(set(there) - {person})[: count - 1]]
    assert len(kept) == count
    dropped = (periods["period"] == period) & periods["person"].isin(data.reps) & ~periods["person"].isin(kept)
    return replace(data, periods=periods[~dropped], _bands={}, _org_studies={})


def test_no_percentile_among_fewer_reps_than_the_minimum(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, cast = workspace
    minimum = config.privacy.min_group_size
    # Among two reps, one rep's percentile would tell where the other stands.
    for count in (2, minimum - 1):
        rows = _with_reps_in_latest_period(data, cast.rep_person, count).standing(cast.rep_person)
        assert rows and all(row["percentile"] is None and row["reps"] == count for row in rows), count
    rows = _with_reps_in_latest_period(data, cast.rep_person, minimum).standing(cast.rep_person)
    assert rows and all(row["percentile"] is not None and row["reps"] == minimum for row in rows)
    # The page says why, as for other figures left out; the API sends no percentile.
    few = _with_reps_in_latest_period(data, cast.rep_person, 2)
    with _client(config, few) as client:
        assert sign_in(client, cast.rep) == 303
        standing = client.get(f"/api/people/{cast.rep_person}").json()["standing"]
        assert standing and all(row["percentile"] is None for row in standing)
        page = client.get(f"/people/{cast.rep_person}").text
        assert 'id="standing-suppressed"' in page and 'id="standing"' not in page
        assert f"shown for groups of {minimum} or more" in page
    with _client(config, data) as client:
        assert sign_in(client, cast.rep) == 303
        page = client.get(f"/people/{cast.rep_person}").text
        assert 'id="standing"' in page and 'id="standing-suppressed"' not in page


def test_the_org_api_sends_the_studys_phase_2_as_it_is_never_one_made_up(
    workspace: tuple[Config, WorkspaceData, Cast], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`phase2` is a required key of the study document (docs/study.md): a view without it is a bug to see, not an empty grid."""
    from repsight.web import views

    config, data, cast = workspace
    org_view = views.org_view

    def without_phase2(*args: object, **kwargs: object) -> dict[str, object]:
        view = org_view(*args, **kwargs)  # type: ignore[arg-type]
        view["study"] = {k: v for k, v in view["study"].items() if k != "phase2"}
        return view

    with _client(config, data) as client:
        assert sign_in(client, cast.executive) == 303
        assert client.get("/api/org").json()["phase2"]  # the study's segments (the route table checks which)
        monkeypatch.setattr(views, "org_view", without_phase2)
        with pytest.raises(KeyError, match="phase2"):
            client.get("/api/org")
