"""A digest's HTML part in a real Chromium (Debian's, driven by Playwright), with every request refused: it must draw whole.

With REPSIGHT_SCREENSHOTS set (`make screenshots`), the screenshot goes to
docs/screenshots/digest.png for the README; without it the test checks the
same and writes nothing into the repository.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config
from repsight.digest import run_digest
from tests.digest.reading import parse, parts
from tests.support import REPO

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "screenshots" / "digest.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(str(CHROMIUM)) is None,
        reason=f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium (scripts/ensure-chromium.sh); it could not here",
    ),
]


def _showcase(folder: Path) -> str:
    """Return the HTML part of a message that uses every part of the layout: a top gap, three suggestions, every card with a value."""
    for path in sorted(folder.iterdir()):
        text, html = parts(parse(path.read_bytes()))
        full = text.count("\n  - ") == 3 and "None: you are at or above" not in text and "0.0 hours/week" not in text
        if full:
            return html
    raise AssertionError("no message with a gap, three suggestions and customer time")


def test_a_digest_draws_its_four_cards_and_bars_in_chromium_without_fetching_anything(company: Config, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    run_digest(company, outbox=tmp_path, now=datetime(2024, 10, 7, 6, 30, tzinfo=UTC))
    html = _showcase(tmp_path)
    requested: list[str] = []
    errors: list[str] = []

    def refuse(route: Any) -> None:
        requested.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 720, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.route("**/*", refuse)
            page.set_content(html, wait_until="load")
            cards = page.locator("td.card")
            assert cards.count() == 4
            titles = [cards.nth(i).locator("div >> nth=1").inner_text() for i in range(4)]
            assert titles == ["Time with customers", "Depth of engagement", "Internal network", "Connecting with leadership"]
            # Each card draws two bars (the rep's and the top tier's), the longer one across the whole track.
            for i in range(4):
                bars = [cards.nth(i).locator("td.bar").nth(j).bounding_box() for j in range(2)]
                assert all(box is not None and box["width"] > 0 and box["height"] >= 10 for box in bars), (titles[i], bars)
            assert page.locator("li.suggestion").count() == 3
            assert page.locator("#top-gap").inner_text().split(":")[0]
            links = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
            assert len(links) == 1 and links[0].startswith("http://localhost:8000/people/")
            if os.environ.get("REPSIGHT_SCREENSHOTS"):
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert requested == [] and errors == []
