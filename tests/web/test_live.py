"""New results without a restart: after `analyze` or `metrics`, the dashboard's next answer shows them."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from repsight.config import Config, load_config
from repsight.metrics import run_metrics
from repsight.study import run_study
from repsight.web import Accounts, dashboard
from repsight.web.data import WorkspaceData
from repsight.web.live import database_stamp, read_workspace
from tests.support.web_org import PASSWORD, Cast, signed_in


@pytest.fixture
def copied(workspace: tuple[Config, WorkspaceData, Cast], tmp_path: Path) -> Config:
    """A copy of the cast's workspace (key, database, accounts), for a test that writes to its database."""
    config, _, _ = workspace
    folder = tmp_path / "ws"
    shutil.copytree(config.path.parent, folder, ignore=shutil.ignore_patterns("mail", "calendar"))
    return load_config(folder / config.path.name)


def _with_study(config: Config, **settings: object) -> Config:
    return config.model_copy(update={"study": config.study.model_copy(update=settings)})


def test_after_analyze_the_next_request_shows_the_new_study_and_tiers(
    copied: Config, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, _, cast = workspace
    app = dashboard(copied)
    analyst = signed_in(app, cast.analyst)
    before = analyst.get("/api/study").json()
    assert before["thresholds"]["tier_fraction"] == 0.25
    loaded = app.state.workspace.current()
    assert app.state.workspace.current() is loaded  # nothing changed: nothing read again

    run_study(_with_study(copied, tier_fraction=0.5))  # as `repsight analyze` with a changed setting

    after = analyst.get("/api/study").json()
    assert after["thresholds"]["tier_fraction"] == 0.5
    assert after["tiers"]["top_reps"] > before["tiers"]["top_reps"]
    fresh, _ = read_workspace(copied)
    assert after == fresh.study
    # The top tier's band on a rep's page is drawn from the new tiers.
    band = next(c for c in analyst.get(f"/api/people/{cast.rep_person}").json()["charts"] if c["metric"] == "customer_hours")
    expected = fresh.top_band(cast.rep_person, "customer_hours")
    assert (band["top_tier"]["group"], band["top_tier"]["median"]) == (expected.group, expected.median)
    assert band["top_tier"]["median"] != loaded.top_band(cast.rep_person, "customer_hours").median


def test_after_metrics_the_next_request_shows_the_new_figures(
    copied: Config, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, _, cast = workspace
    app = dashboard(copied)
    analyst = signed_in(app, cast.analyst)

    def after_hours() -> pd.Series:
        table = pd.read_csv(io.StringIO(analyst.get("/analysis/person_period.csv").text))
        return table.set_index(["person", "period"])["after_hours_collaboration_hours"].sort_index()

    before = after_hours()
    # A shorter working day: more of the same collaboration falls after hours.
    run_metrics(copied.model_copy(update={"metrics": copied.metrics.model_copy(update={"working_hours": "10:00-16:00"})}))
    after = after_hours()
    assert (after >= before - 1e-9).all() and (after > before).any()
    fresh, _ = read_workspace(copied)
    stored = fresh.periods.set_index(["person", "period"])["after_hours_collaboration_hours"].sort_index()
    assert after.to_numpy() == pytest.approx(stored.to_numpy())


def test_while_a_writer_holds_the_database_the_dashboard_serves_what_it_read(
    copied: Config, workspace: tuple[Config, WorkspaceData, Cast], caplog: pytest.LogCaptureFixture
) -> None:
    _, _, cast = workspace
    app = dashboard(copied)
    analyst = signed_in(app, cast.analyst)
    before = analyst.get("/api/study").json()
    path = copied.database_path
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ready', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        stamp = database_stamp(path)
        assert stamp is not None
        os.utime(path, ns=(stamp[0] + 10**9, stamp[0] + 10**9))  # as a writer half-way through its work
        with caplog.at_level(logging.INFO, logger="repsight.web.live"):
            during = analyst.get("/api/study")
        assert during.status_code == 200 and during.json() == before
        assert "lock" in caplog.text  # it tried, and DuckDB refused a reader beside the writer
    finally:
        assert writer.stdin is not None
        writer.stdin.write("\n")
        writer.stdin.close()
        writer.wait(30)
    app.state.workspace.retry_seconds = 0  # the dashboard tries again at most once a second; no need to wait here
    run_study(_with_study(copied, tier_fraction=0.5))
    assert analyst.get("/api/study").json()["thresholds"]["tier_fraction"] == 0.5


def _on_the_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_a_refused_request_never_reads_the_workspace_on_the_event_loop(
    copied: Config, workspace: tuple[Config, WorkspaceData, Cast], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 403 handler runs on the event loop: a read there (over half a second) would hold up every other request."""
    _, _, cast = workspace
    app = dashboard(copied)
    rep = signed_in(app, cast.rep)
    live = app.state.workspace
    reads: list[bool] = []  # one per read of the workspace: whether it ran on the event loop
    read = live._read

    def counted(stamp: object) -> None:
        reads.append(_on_the_event_loop())
        read(stamp)

    monkeypatch.setattr(live, "_read", counted)
    stamp = database_stamp(copied.database_path)
    assert stamp is not None
    os.utime(copied.database_path, ns=(stamp[0] + 10**9, stamp[0] + 10**9))  # as `analyze` would: the next reader reads again

    # Refused by the route (a forged sign-out), not by `allow`: nothing of this request reads the workspace.
    forged = rep.post("/logout", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert reads == []
    assert Accounts(copied.accounts_path).audit_log(1)[0][1:] == (cast.rep, "forbidden", "/logout", "testclient")
    # Refused by `allow`: it read the new data, in a worker thread, and the handler used the user it found.
    refused = rep.get(f"/api/people/{cast.other_rep_person}")
    assert refused.status_code == 403
    assert reads == [False]
    assert rep.get("/api/team").status_code == 403  # nothing changed since: nothing read
    assert reads == [False]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(copied: Config) -> Iterator[str]:
    """`repsight serve` of the copied workspace in its own process, on a free loopback port."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "repsight", "serve", "-c", str(copied.path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"repsight serve stopped: {server.communicate()[0]}"
            try:
                if httpx.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "repsight serve did not answer within a minute"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


@pytest.mark.slow
def test_a_served_dashboard_shows_the_study_that_repsight_analyze_wrote_meanwhile(
    copied: Config, served: str, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    """Two processes, as in production: `repsight serve` up, `repsight analyze` run beside it; the next request shows the new study."""
    _, _, cast = workspace
    with httpx.Client(base_url=served, timeout=30) as analyst:
        token = re.search(r'name="csrf_token" value="([^"]+)"', analyst.get("/login").text)
        assert token is not None
        signed = analyst.post("/login", data={"email": cast.analyst, "password": PASSWORD, "csrf_token": token.group(1)})
        assert signed.status_code == 303
        before = analyst.get("/api/study").json()
        assert before["thresholds"]["tier_fraction"] == 0.25

        toml = copied.path.read_text(encoding="utf-8")
        assert toml.count("[study]") == 1 and "tier_fraction" not in toml
        copied.path.write_text(re.sub(r"^\[study\].*$", "\\g<0>\ntier_fraction = 0.5", toml, flags=re.M), encoding="utf-8")
        analyze = subprocess.run(
            [sys.executable, "-m", "repsight", "analyze", "-c", str(copied.path)], capture_output=True, text=True, timeout=300
        )
        assert analyze.returncode == 0, analyze.stderr

        after = analyst.get("/api/study").json()
        assert after["thresholds"]["tier_fraction"] == 0.5
        assert after["tiers"]["top_reps"] > before["tiers"]["top_reps"]
        fresh, _ = read_workspace(copied)
        assert after == fresh.study
