"""Personal guidance on the dashboard: a rep's own on their page and API, a manager's coaching view, a workspace without it.

The figures are `repsight.guidance`'s (`advise_person`, `coaching`) on the
measured workspace (tests/support/web_org.py); these tests check that the
dashboard shows exactly those, to whom, and says what to run where the
workspace cannot give them yet.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from fastapi import FastAPI
from markupsafe import escape

from repsight.config import Config, load_config
from repsight.guidance import CAVEAT, Gap, GuidanceData, advise_person, coaching
from repsight.metrics import run_metrics
from repsight.privacy import read_key
from repsight.store import Store
from repsight.web import Accounts, dashboard
from repsight.web.app import create_app, session_secret
from repsight.web.data import WorkspaceData, load_data
from repsight.web.views import SHOWN_GAPS, gap_words
from tests.support.web_org import PASSWORD, Cast, signed_in


def _guidance(data: WorkspaceData) -> GuidanceData:
    assert data.guidance is not None, data.guidance_missing
    return data.guidance


def _with_privacy(config: Config, **settings: object) -> Config:
    return config.model_copy(update={"privacy": config.privacy.model_copy(update=settings)})


def _read(config: Config) -> WorkspaceData:
    """Return the workspace's dashboard data read under `config` (its privacy settings are the guidance's too)."""
    with Store.open(config, read_only=True) as store:
        return load_data(store, config)


def _app(config: Config, data: WorkspaceData) -> FastAPI:
    return create_app(config, data, Accounts(config.accounts_path), session_secret(read_key(config.key_path)))


def _html(text: str) -> str:
    return str(escape(text))


def _audited_since(config: Config, mark: int) -> list[tuple[str, str, str]]:
    with sqlite3.connect(config.accounts_path) as db:
        rows = db.execute("SELECT email, action, target FROM audit WHERE rowid > ? ORDER BY rowid", (mark,)).fetchall()
    return [(str(email), str(action), str(target)) for email, action, target in rows]


def _audit_mark(config: Config) -> int:
    with sqlite3.connect(config.accounts_path) as db:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM audit").fetchone()[0])


def _account(config: Config, email: str) -> str:
    accounts = Accounts(config.accounts_path)
    if accounts.get(email) is None:
        accounts.add(email, PASSWORD)
    return email


def _gap(metric: str, label: str, unit: str, value: float, median: float, group: str, better: str = "higher") -> Gap:
    return Gap(
        metric=metric,
        label=label,
        unit=unit,
        better=better,  # type: ignore[arg-type]
        value=value,
        top_tier_median=median,
        top_tier_low=median - 1,
        top_tier_high=median + 1,
        group=group,
        gap=median - value,
        spreads=0.5,
        association=0.4,
        association_from="the company",
        score=0.2,
    )


def test_a_gap_reads_as_a_plain_sentence_with_the_top_sellers_median_and_where_they_are() -> None:
    customer = _gap("customer_hours", "Customer time", "hours/week", 3.54, 4.31, "segment SMB")
    assert gap_words(customer) == "Customer time: 3.5 hours/week; the top sellers in your segment (SMB): 4.3 at the median"
    network = _gap("internal_network_size", "Internal network", "people", 19.36, 20.42, "the company")
    assert gap_words(network) == "Internal network: 19.4 people; the top sellers in the company: 20.4 at the median"
    reply = _gap("customer_reply_hours", "Customer reply time", "median hours", 9.0, 4.24, "the company", better="lower")
    assert gap_words(reply) == (
        "Customer reply time: 9.0 median hours; the top sellers in the company: 4.2 at the median; less is better here"
    )
    prominence = _gap("network_prominence", "Network prominence", "percentile", 41.6, 63.2, "the company")
    assert gap_words(prominence) == "Network prominence: 42 percentile; the top sellers in the company: 63 at the median"


def test_a_rep_sees_their_own_guidance_as_advise_person_gives_it(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, _ = workspace
    guidance = _guidance(data)
    # A rep the workspace gives something in every part (pseudonyms, and so the cast, change with each build's key):
    # a test of an empty section would prove nothing.
    person, advice = next(
        (p, a)
        for p in sorted(data.reps)
        if p in set(data.periods["person"])
        and (a := advise_person(guidance, p)).gaps
        and len(a.gaps) > SHOWN_GAPS
        and a.strengths
        and a.connect_with
        and a.leaders
    )
    client = signed_in(_app(config, data), _account(config, data.people.at[person, "email"]))
    assert client.get(f"/api/people/{person}/guidance").json() == json.loads(json.dumps(advice.to_json()))
    page = client.get("/me")
    assert page.status_code == 200 and page.url.path == f"/people/{person}"
    text = page.text
    assert 'id="guidance"' in text and _html(CAVEAT) in text
    assert f"Guidance ({advice.period})" in text
    first, rest = advice.gaps[:SHOWN_GAPS], advice.gaps[SHOWN_GAPS:]
    shown = text.split('<ul id="gaps">', 1)[1].split("</ul>", 1)[0]
    assert shown == "".join(f"<li>{_html(gap_words(g))}</li>" for g in first)  # the largest first
    for gap in rest:
        assert _html(gap_words(gap)) in text.split('id="more-gaps"', 1)[1]
    for gap in advice.strengths:
        assert _html(gap_words(gap)) in text.split('id="strengths"', 1)[1]
    colleagues = text.split('id="connect-with"', 1)[1].split("</table>", 1)[0]
    assert colleagues.count("<tr>") == 1 + len(advice.connect_with) <= 1 + config.guidance.max_suggestions
    for s in advice.connect_with:
        assert f"<td>{_html(s.name)}</td><td>{_html(s.org or '–')}</td><td>{_html(s.reason)}</td>" in colleagues
    leaders = text.split('id="leaders"', 1)[1].split("</table>", 1)[0]
    for s in advice.leaders:
        assert f"<td>{_html(s.name)}</td><td>{_html(s.org or '–')}</td><td>{_html(s.reason)}</td>" in leaders


def test_no_one_else_sees_a_reps_guidance_not_their_manager_an_analyst_or_an_admin(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, data, cast = workspace
    # A workspace whose managers see their members' pages: the manager may open the page, never the guidance.
    open_config = _with_privacy(config, manager_sees_individuals=True)
    app = _app(open_config, data)
    team = sorted(m for m in data.reports[data.person_of_email[cast.manager]] if m in set(data.weeks["person"]))
    member, advice = next((m, a) for m in team if (a := advise_person(_guidance(data), m)).gaps)
    for who, page_status in ((cast.manager, 200), (cast.analyst, 200), (cast.admin, 403)):
        client = signed_in(app, who)
        refused = client.get(f"/api/people/{member}/guidance")
        assert refused.status_code == 403 and refused.json() == {"detail": "a person's guidance is shown to that person only"}
        page = client.get(f"/people/{member}")
        assert page.status_code == page_status, who
        assert 'id="guidance"' not in page.text and _html(gap_words(advice.gaps[0])) not in page.text
        assert _html(CAVEAT) not in page.text
    refusals = [(row[1], row[3]) for row in Accounts(config.accounts_path).audit_log(30) if row[2] == "forbidden"]
    assert (cast.manager, f"/api/people/{member}/guidance") in refusals


def test_the_team_page_shows_the_coaching_counts_that_coaching_gives(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, cast = workspace
    manager = data.person_of_email[cast.manager]
    expected = coaching(_guidance(data), manager)
    assert expected.shown and expected.gaps and expected.reps >= config.privacy.min_group_size
    client = signed_in(_app(config, data), cast.manager)
    assert client.get("/api/team/coaching").json() == json.loads(json.dumps(expected.to_json()))
    table = client.get("/team").text.split('id="coaching-gaps"', 1)[1].split("</table>", 1)[0]
    rows = [
        f'<tr><td>{_html(g["label"])}</td><td class="num">{g["members"]} of {expected.reps}</td><td class="num">{g["first"]}</td></tr>'
        for g in expected.gaps
    ]
    assert table.split("<tbody>", 1)[1].split("</tbody>", 1)[0] == "".join(rows)
    assert "coaching-members" not in client.get("/team").text  # each member's gaps only where configured


def test_a_team_under_the_minimum_gets_no_coaching_counts(workspace: tuple[Config, WorkspaceData, Cast]) -> None:
    config, data, _ = workspace
    guidance = _guidance(data)
    minimum = config.privacy.min_group_size
    # A manager with reps below them, fewer than the minimum (the cast's managers have more, directly or not).
    small = next(m for m in sorted(data.reports) if 0 < coaching(guidance, m).reps < minimum)
    found = coaching(guidance, small)
    assert not found.shown and found.gaps == [] and found.members == []
    client = signed_in(_app(config, data), _account(config, data.people.at[small, "email"]))
    answer = client.get("/api/team/coaching").json()
    assert answer == {
        "manager": found.manager,
        "period": found.period,
        "reps": found.reps,
        "shown": False,
        "gaps": [],
        "members": [],
    }
    page = client.get("/team").text
    assert 'id="coaching-suppressed"' in page and 'id="coaching-gaps"' not in page
    reps = f"{found.reps} {'rep' if found.reps == 1 else 'reps'}"
    assert f"Your team has {reps} with metrics in {found.period}, fewer than the minimum group of {minimum}" in page


def test_each_members_gaps_are_listed_and_audited_only_where_managers_see_individuals(
    workspace: tuple[Config, WorkspaceData, Cast],
) -> None:
    config, _, _ = workspace
    open_config = _with_privacy(config, manager_sees_individuals=True)
    data = _read(open_config)  # the guidance reads its privacy settings from the workspace's configuration
    # A manager with too few direct reports for the team's list, and enough reps below them for the coaching view
    # (chosen by email: the org chart is the generator's, whatever the key that pseudonymises it).
    guidance = _guidance(data)
    minimum = config.privacy.min_group_size
    manager = min(
        (m for m, members in data.reports.items() if len(members) < minimum and coaching(guidance, m).shown),
        key=lambda m: data.people.at[m, "email"],
    )
    email = _account(config, data.people.at[manager, "email"])
    expected = coaching(guidance, manager)
    assert expected.shown and len(expected.members) == expected.reps
    client = signed_in(_app(open_config, data), email)

    def audited(path: str) -> list[tuple[str, str, str]]:
        mark = _audit_mark(config)
        assert client.get(path).status_code == 200
        return _audited_since(config, mark)

    assert audited("/api/team") == []  # its own list is suppressed: nothing person-level
    assert audited("/api/team/coaching") == [(email, "viewed team members", "/api/team/coaching")]
    assert audited("/team") == [(email, "viewed team members", "/team")]
    page = client.get("/team").text
    members = page.split('id="coaching-members"', 1)[1].split("</table>", 1)[0]
    for advice in expected.members:
        gaps = ", ".join(g.label for g in advice.gaps[:SHOWN_GAPS]) or "–"
        assert f'<td><a href="/people/{advice.pseudonym}">{_html(advice.name)}</a></td><td>{_html(gaps)}</td>' in members
    api = client.get("/api/team/coaching").json()
    assert [m["person"] for m in api["members"]] == [a.person for a in expected.members]


@pytest.fixture
def without_week_ties(workspace: tuple[Config, WorkspaceData, Cast], tmp_path: Path) -> Config:
    """A copy of the workspace as a version before `week_ties` left it: measured and studied, without the table."""
    config, _, _ = workspace
    folder = tmp_path / "ws"
    shutil.copytree(config.path.parent, folder, ignore=shutil.ignore_patterns("mail", "calendar"))
    copied = load_config(folder / config.path.name)
    with duckdb.connect(str(copied.database_path)) as db:
        db.execute("DROP TABLE week_ties")
    return copied


def test_a_workspace_without_week_ties_says_to_run_metrics_and_gets_its_guidance_after(
    without_week_ties: Config, workspace: tuple[Config, WorkspaceData, Cast]
) -> None:
    _, _, cast = workspace
    config = without_week_ties
    app = dashboard(config)  # as `repsight serve` starts: the rest of the dashboard works
    rep = signed_in(app, cast.rep)
    run = f"run `repsight metrics -c {config.path}`"
    page = rep.get("/me")
    assert page.status_code == 200 and "data-figure" in page.text
    assert 'id="guidance-missing"' in page.text and _html(run) in page.text
    missing = rep.get(f"/api/people/{cast.rep_person}/guidance")
    assert missing.status_code == 503 and run in missing.json()["detail"]
    manager = signed_in(app, cast.manager)
    assert 'id="coaching-missing"' in manager.get("/team").text
    assert manager.get("/api/team/coaching").status_code == 503

    run_metrics(config)  # as `repsight metrics`: the dashboard reads the workspace again, guidance and all

    fresh = app.state.workspace.current()
    guidance = rep.get(f"/api/people/{cast.rep_person}/guidance")
    assert guidance.status_code == 200
    assert guidance.json() == json.loads(json.dumps(advise_person(_guidance(fresh), cast.rep_person).to_json()))
    page = rep.get("/me")
    assert 'id="guidance-missing"' not in page.text and f"Guidance ({guidance.json()['period']})" in page.text
