"""The dashboard in a real Chromium (Debian's, driven by Playwright), served by uvicorn on loopback.

Each view is signed into through the form and its charts must render (SVG
with data points). With REPSIGHT_SCREENSHOTS set (`make screenshots`), each
view's screenshot at 1280×800 goes to docs/screenshots/ for the README;
without it the tests check the same and write nothing into the repository.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config
from repsight.web import dashboard
from repsight.web.data import WorkspaceData
from tests.support import REPO
from tests.support.web_org import PASSWORD, Cast

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "docs" / "screenshots"
SCREENSHOTS_ENV = "REPSIGHT_SCREENSHOTS"
"""Set non-empty to write the README's screenshots (tracked files) while the tests run."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(str(CHROMIUM)) is None,
        reason=f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium (scripts/ensure-chromium.sh); it could not here",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(workspace: tuple[Config, WorkspaceData, Cast]) -> Iterator[tuple[str, WorkspaceData, Cast]]:
    """The dashboard as `repsight serve` runs it (`dashboard(config)`), on a free loopback port."""
    import uvicorn

    config, data, cast = workspace
    app = dashboard(config)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the dashboard did not start"
    yield f"http://127.0.0.1:{port}", data, cast
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" and "403" not in message.text else None
    )
    yield page
    context.close()
    assert errors == [], errors


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def rendered_points(page: Any, chart: str) -> int:
    """Return how many data points (markers, line paths, bars, heatmap images) the chart drew."""
    page.wait_for_selector(f"{chart} svg.main-svg")
    selectors = [".scatterlayer .point", ".scatterlayer .js-line", ".barlayer .point", ".heatmaplayer image", ".hm image"]
    return sum(page.locator(f"{chart} {s}").count() for s in selectors)


def screenshot(page: Any, name: str) -> None:
    if not os.environ.get(SCREENSHOTS_ENV):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_a_rep_sees_their_charts_and_is_refused_another_reps_page(page: Any, served: tuple[str, WorkspaceData, Cast]) -> None:
    base, _, cast = served
    sign_in(page, base, cast.rep)
    assert page.url == f"{base}/people/{cast.rep_person}"
    assert page.locator("h1").inner_text() == "Your behaviours, week by week"
    for chart in ("#weekly-1", "#weekly-2", "#weekly-3", "#weekly-4", "#standing"):
        assert rendered_points(page, chart) > 0, chart
    screenshot(page, "me.png")
    refused = page.goto(f"{base}/people/{cast.other_rep_person}")
    assert refused is not None and refused.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    api = page.request.get(f"{base}/api/people/{cast.other_rep_person}")
    assert api.status == 403


def test_a_manager_of_three_with_minimum_five_sees_suppression(page: Any, served: tuple[str, WorkspaceData, Cast]) -> None:
    base, _, cast = served
    sign_in(page, base, cast.small_manager)
    page.goto(f"{base}/team")
    notice = page.locator("#suppressed").inner_text()
    assert "Your team has 3 measured people" in notice and "groups of 5 or more" in notice
    assert page.locator("svg.main-svg").count() == 0
    screenshot(page, "team-suppressed.png")


def test_a_manager_sees_the_team_against_the_top_tier(page: Any, served: tuple[str, WorkspaceData, Cast]) -> None:
    base, _, cast = served
    sign_in(page, base, cast.manager)
    page.goto(f"{base}/team")
    assert rendered_points(page, "#team-1") > 0
    screenshot(page, "team.png")


def test_an_executive_sees_the_phase2_grid(page: Any, served: tuple[str, WorkspaceData, Cast]) -> None:
    base, _, cast = served
    sign_in(page, base, cast.executive)
    assert page.url == f"{base}/me" or page.url.startswith(f"{base}/people/")
    page.goto(f"{base}/org")
    assert rendered_points(page, "#grid") > 0
    assert rendered_points(page, "#headline") > 0
    screenshot(page, "org.png")


def test_analyst_and_admin_views(page: Any, served: tuple[str, WorkspaceData, Cast]) -> None:
    base, _, cast = served
    sign_in(page, base, cast.analyst)
    assert page.url == f"{base}/analysis"
    assert page.locator("#phase1 tbody tr").count() >= 9
    screenshot(page, "analysis.png")
    sign_in(page, base, cast.admin)
    assert page.url == f"{base}/admin"
    screenshot(page, "admin.png")


def test_form_posts_without_the_csrf_token_are_refused(page: Any, served: tuple[str, WorkspaceData, Cast]) -> None:
    base, _, cast = served
    sign_in(page, base, cast.admin)
    forged = page.request.post(f"{base}/admin/roles", form={"email": cast.rep, "roles": "admin"})
    assert forged.status == 403
    signed_out = page.request.post(f"{base}/logout", form={})
    assert signed_out.status == 403
    page.goto(f"{base}/admin")
    assert page.url == f"{base}/admin"  # still signed in: the forged sign-out did nothing
