"""`repsight digest --outbox`: one private message per rep, to that rep alone, with their own figures and nobody else's.

Each message is read back with the standard library's parser, and checked
against the stored tables read again with pandas (`oracle`): who should
get one, the rep's own values, and the top tier's medians.
"""

from __future__ import annotations

import numbers as numbers_
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from repsight.config import Config
from repsight.digest import DigestResult, run_digest
from repsight.errors import GuidanceError
from repsight.guidance import advise_person, load_guidance_data
from repsight.metrics.catalog import label
from repsight.report.numbers import plain
from repsight.schema import METRIC_COLUMNS
from repsight.store import Store
from tests.digest.conftest import with_digest
from tests.digest.oracle import Company, read_company
from tests.digest.reading import DECIMAL, URL, parse, parts, recipients, visible

NOW = datetime(2024, 10, 7, 6, 30, tzinfo=UTC)
PUBLIC_URL = "https://repsight.acme.example"


@pytest.fixture(scope="module")
def stored(company: Config) -> Company:
    return read_company(company)


@pytest.fixture(scope="module")
def opted_out(stored: Company) -> str:
    """A rep who asked for no digest."""
    return sorted(r["email"] for r in stored.roster if r["function"] == "Sales" and r["level"] == "3" and not r["leave_date"])[0]


@pytest.fixture(scope="module")
def outbox(company: Config, opted_out: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[DigestResult, dict[str, bytes]]:
    """The digest of the latest week written to an outbox: the result, and each file's bytes by the email in its name."""
    # Written as a person might type it: upper case, and the URL with a trailing slash.
    config = with_digest(company, opt_out=[f" {opted_out.upper()} "], public_url=PUBLIC_URL + "/")
    folder = tmp_path_factory.mktemp("outbox")
    result = run_digest(config, outbox=folder, now=NOW)
    files = {}
    for path in sorted(folder.iterdir()):
        week, email = path.stem.split("_", 1)
        assert week == result.week.isoformat() and path.suffix == ".eml"
        files[email] = path.read_bytes()
    return result, files


def test_the_outbox_holds_one_message_per_rep_not_opted_out_and_nothing_for_anyone_else(
    outbox: tuple[DigestResult, dict[str, bytes]], stored: Company, opted_out: str
) -> None:
    result, files = outbox
    expected = stored.reps(stored.latest_week, stored.period, {opted_out})
    assert len(expected) >= 40
    assert set(files) == expected
    assert (result.week, result.period, result.mode) == (stored.latest_week, stored.period, "outbox")
    assert sorted(m.email for m in result.messages) == sorted(expected)
    assert {m.status for m in result.messages} == {"written"}
    assert result.opted_out == 1 and opted_out not in files
    # Pre-sales, Product, Finance and the rest carry no quota: no digest.
    not_reps = [r["email"] for r in stored.roster if r["function"] != "Sales"]
    assert result.not_reps == len(not_reps) == 11 and not set(not_reps) & set(files)
    gone = [
        r
        for r in stored.roster
        if r["function"] == "Sales" and r["leave_date"] and date.fromisoformat(r["leave_date"]) <= result.week
    ]
    assert result.left == len(gone)
    assert result.ok


def test_each_message_parses_and_is_addressed_to_its_rep_alone(outbox: tuple[DigestResult, dict[str, bytes]]) -> None:
    result, files = outbox
    ids = set()
    for email, data in files.items():
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # RFC 5322 line ends
        message = parse(data)
        assert message.defects == []
        assert recipients(message) == [email]
        assert message["Cc"] is None and message["Bcc"] is None
        assert message["From"].addresses[0].addr_spec == "repsight@acme.example"  # no digest.sender: the company's first domain
        assert message["Subject"] == "Your week: 30 September 2024" and result.week == date(2024, 9, 30)
        assert message["Date"].datetime == NOW
        assert message["Auto-Submitted"] == "auto-generated"
        ids.add(message["Message-ID"])
        assert message.get_content_type() == "multipart/alternative"
        parts(message)  # a text/plain part and a text/html part
    assert len(ids) == len(files)


def test_the_only_link_is_the_reps_own_dashboard_page_and_nothing_is_fetched(
    outbox: tuple[DigestResult, dict[str, bytes]], stored: Company
) -> None:
    _, files = outbox
    for email, data in files.items():
        text, html = parts(parse(data))
        own = f"{PUBLIC_URL}/people/{stored.person_of[email]}"
        assert set(URL.findall(text)) == {own} and set(URL.findall(html)) == {own}
        # Nothing a mail client would fetch or run: no image, style sheet, script, frame or form.
        assert not re.search(r"<(img|script|style|link|iframe|object|form)\b|\bsrc=|url\(", html, re.IGNORECASE)


def test_no_other_persons_name_or_email_is_in_a_message_but_the_people_it_suggests(
    outbox: tuple[DigestResult, dict[str, bytes]], stored: Company, company: Config
) -> None:
    _, files = outbox
    with Store.open(company, read_only=True) as store:
        data = load_guidance_data(store, company)
    suggested_anywhere = 0
    for email, raw in files.items():
        text, html = parts(parse(raw))
        shown = text + "\n" + visible(html)
        advice = advise_person(data, stored.person_of[email], stored.period)
        suggested = {s.email for s in [*advice.connect_with, *advice.leaders]}
        mine = next(r["name"] for r in stored.roster if r["email"] == email)
        named = set()
        for row in stored.roster:
            other = row["email"].lower()
            if other == email or row["name"] == mine:
                continue
            if re.search(rf"\b{re.escape(row['name'])}\b", shown) or other in shown.lower():
                named.add(other)
        assert named <= suggested, (email, named - suggested)
        assert len(named) <= 3
        suggested_anywhere += len(named)
    assert suggested_anywhere > 0


def _allowed_figures(stored: Company, email: str, week: date, period: str, minimum: int) -> set[str]:
    """Every figure a rep's message may show: their own values in the period and the week, and the top tier's medians."""
    own = stored.own(email, period)
    this_week = stored.own_week(email, week)
    mine = stored.weeks[(stored.weeks["person"] == stored.person_of[email]) & (stored.weeks["period"] == period)]
    hours = mine.sort_values("week")["customer_hours"].to_numpy()
    halves = [hours[: len(hours) // 2].mean(), hours[len(hours) // 2 :].mean()]
    medians = []
    for metric in METRIC_COLUMNS:
        found = stored.top_tier_median(metric, period, stored.segment(email), minimum)
        medians += [found[0]] if found else []
    numbers = [v for v in [*own.to_numpy(), *this_week.to_numpy(), *halves, *medians] if isinstance(v, numbers_.Real)]
    return {plain(v, digits) for v in numbers for digits in (0, 1, 2)}


def test_every_figure_in_a_message_is_the_reps_own_or_a_top_tier_median(
    outbox: tuple[DigestResult, dict[str, bytes]], stored: Company, company: Config
) -> None:
    result, files = outbox
    for email, raw in files.items():
        text, html = parts(parse(raw))
        allowed = _allowed_figures(stored, email, result.week, result.period, company.privacy.min_group_size)
        for shown in (text, visible(html)):
            figures = set(DECIMAL.findall(shown))
            assert figures and figures <= allowed, (email, figures - allowed)


def test_the_four_cards_show_the_reps_values_beside_the_top_tiers_medians(
    outbox: tuple[DigestResult, dict[str, bytes]], stored: Company, company: Config
) -> None:
    result, files = outbox
    cards = [
        ("TIME WITH CUSTOMERS", "customer_hours", "hours/week", 1, 1),
        ("DEPTH OF ENGAGEMENT", "contacts_per_account", "contacts/account", 2, None),
        # The network of one week is a whole number of people; the period's is a mean.
        ("INTERNAL NETWORK", "internal_network_size", "people", 1, 0),
        ("CONNECTING WITH LEADERSHIP", "senior_leader_hours", "hours/week", 1, 1),
    ]
    for email in sorted(files)[::7]:
        text, _ = parts(parse(files[email]))
        own, week = stored.own(email, result.period), stored.own_week(email, result.week)
        for title, metric, unit, digits, week_digits in cards:
            block = text.split(title + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
            assert block[0] == f"  {label(metric)}, your {result.period} average: {plain(own[metric], digits)} {unit}"
            median = stored.top_tier_median(metric, result.period, stored.segment(email), company.privacy.min_group_size)
            assert median is not None
            tier = f"  Top tier median ({median[1]}): {plain(median[0], digits)} {unit}"
            if week_digits is not None:
                assert block[1:3] == [f"  This week: {plain(week[metric], week_digits)} {unit}", tier]
            else:
                assert block[1] == tier
        accounts = text.split("DEPTH OF ENGAGEMENT\n", 1)[1].split("\n\n", 1)[0]
        assert f"  Accounts touched: {plain(own['accounts_touched'], 0)} accounts" in accounts


def test_the_top_gap_is_the_guidances_first(
    outbox: tuple[DigestResult, dict[str, bytes]], stored: Company, company: Config
) -> None:
    result, files = outbox
    with Store.open(company, read_only=True) as store:
        data = load_guidance_data(store, company)
    for email in sorted(files)[::5]:
        text, _ = parts(parse(files[email]))
        advice = advise_person(data, stored.person_of[email], result.period)
        said = text.split("WHERE THE GAP IS LARGEST\n", 1)[1].split("\n", 1)[0]
        if advice.gaps:
            assert said.startswith(f"  {advice.gaps[0].label}: you ")
            assert said.endswith(f"({advice.gaps[0].group})")
        else:
            assert said.startswith("  None: you are at or above")


def test_where_the_top_tier_is_smaller_than_the_minimum_group_no_median_and_no_suggestion_is_shown(
    company: Config, stored: Company, tmp_path: Path
) -> None:
    privacy = company.privacy.model_copy(update={"min_group_size": 40})
    config = company.model_copy(update={"privacy": privacy})
    result = run_digest(config, outbox=tmp_path, now=NOW)
    assert result.count("written") >= 40
    for path in sorted(tmp_path.iterdir())[:5]:
        text, html = parts(parse(path.read_bytes()))
        assert text.count("Top tier median: not shown (too few top-tier reps to show one)") == 4
        assert "Top tier median (" not in text and "WHERE THE GAP IS LARGEST\n  None" in text
        # No colleague tied to top sellers, no leader they meet: a group that small is not shown. The manager chain is no group.
        suggestions = [line for line in text.splitlines() if line.startswith("  - ")]
        assert all(line.endswith(": in your management chain") for line in suggestions), suggestions
        assert visible(html).count("too few to show") == 4


def test_a_week_must_be_a_monday_with_metrics(company: Config, stored: Company, tmp_path: Path) -> None:
    with pytest.raises(GuidanceError, match=r"^--week 2024-09-25: a week starts on a Monday, and that day is a Wednesday$"):
        run_digest(company, week=date(2024, 9, 25), outbox=tmp_path)
    first = min(stored.weeks["week"])
    later = stored.latest_week + timedelta(weeks=4)
    message = f"--week {later}: no metrics for that week; the workspace has the weeks of {first} to {stored.latest_week}"
    with pytest.raises(GuidanceError, match=f"^{re.escape(message)}$"):
        run_digest(company, week=later, outbox=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_earlier_week_reads_its_own_period_and_week(company: Config, stored: Company, tmp_path: Path) -> None:
    week = min(
        w for w in stored.weeks["week"] if str(stored.weeks.loc[stored.weeks["week"] == w, "period"].iloc[0]) != stored.period
    )
    period = str(stored.weeks.loc[stored.weeks["week"] == week, "period"].iloc[0])
    result = run_digest(company, week=week, outbox=tmp_path, now=NOW)
    assert (result.week, result.period) == (week, period)
    email = sorted(stored.reps(week, period))[0]
    text, _ = parts(parse((tmp_path / f"{week}_{email}.eml").read_bytes()))
    own, this_week = stored.own(email, period), stored.own_week(email, week)
    assert f"  Customer time, your {period} average: {plain(own['customer_hours'], 1)} hours/week\n" in text
    assert f"  This week: {plain(this_week['customer_hours'], 1)} hours/week\n" in text


def test_the_outbox_or_send_not_both_nor_neither(company: Config, tmp_path: Path) -> None:
    for outbox, send in ((None, False), (tmp_path, True)):
        with pytest.raises(GuidanceError, match="needs one of an outbox folder"):
            run_digest(company, outbox=outbox, send=send)


def test_an_outbox_that_cannot_be_written_is_a_clear_error(company: Config, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(
        GuidanceError, match=rf"^{re.escape(str(tmp_path / 'taken' / 'out'))}: cannot write the digest: Not a directory$"
    ):
        run_digest(company, outbox=tmp_path / "taken" / "out")
