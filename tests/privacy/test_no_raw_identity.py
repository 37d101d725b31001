"""No raw name or address anywhere it does not belong, after every stage of repsight has run on a company of marked identities.

The company (tests/privacy/marked.py) is generated in mixed export formats
(mbox, maildir, Graph JSON: display names in every header), with bad roster,
KPI and account rows planted. Then the command line runs every stage as a
user would (ingest, status, quarantine, metrics, validate, analyze, report,
every export, advise, digest to an outbox, users), and the dashboard is
walked route by route, signed in as each role. Every output is scanned:

- every column of every table of the store but `identities`, and every
  column of the accounts file (sign-in emails, the audit log);
- every file written (exports, study, validation, guidance, the report);
- every command's standard output and error, and every log record;
- every digest message, headers and decoded parts;
- every answer of every GET route, per role, headers included.

What belongs where is written once, in `Belongs`, with the sentence of
DESIGN.md, the README or docs/ that allows it. Anything else is a leak: the
test names the place (table.column, file, command, route and role) and whose
identity it found.
"""

from __future__ import annotations

import email
import email.policy
import io
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from repsight.cli import app as cli
from repsight.config import Config
from repsight.store import Store
from repsight.web import Accounts, dashboard
from repsight.web.data import WorkspaceData, load_data
from tests.privacy.marked import DOMAIN, Marks, Someone, generate_marked, hits
from tests.support.web_org import PASSWORD, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("no_raw_identity")]
# About 25 s: a 60-person company generated, every stage run, the dashboard walked; one worker builds it once.

PEOPLE = 60
MONTHS = 3
ANALYST = f"zqxaddr9001@{DOMAIN}"
ADMIN = f"zqxaddr9002@{DOMAIN}"
NOBODY = frozenset[str]()


@dataclass(frozen=True)
class Place:
    """One text scanned: where it is, and the markers that belong there."""

    where: str
    text: str
    allowed: frozenset[str] = NOBODY


@dataclass
class Run:
    """Everything the stages wrote, gathered once for the checks."""

    config: Config
    marks: Marks
    files: Path
    store: list[Place] = field(default_factory=list)
    accounts_file: list[Place] = field(default_factory=list)
    written: list[Place] = field(default_factory=list)
    commands: list[Place] = field(default_factory=list)
    digests: list[Place] = field(default_factory=list)
    pages: dict[str, list[Place]] = field(default_factory=dict)
    columns: int = 0
    tables: int = 0


def first_leak(places: list[Place], marks: Marks) -> str | None:
    """Return what the first place holding a marker that does not belong there holds (and how many more leak), or None."""
    leaks = [(place, hit) for place in places for hit in hits(place.text) if hit.token not in place.allowed]
    if not leaks:
        return None
    place, hit = leaks[0]
    more = len({p.where for p, _ in leaks}) - 1
    return f"{place.where}: {hit.token} ({marks.whose(hit.token)}) in …{hit.context}…" + (
        f" (and leaks in {more} more places)" if more else ""
    )


# -- running every stage ----------------------------------------------------------------------------------


def _command(run: Run, allowed: frozenset[str], *args: str) -> None:
    """Run one command of the command line as a user would with its output piped; keep its output as a place."""
    result = CliRunner().invoke(cli, [*args, "-c", str(run.config.path)], env={"COLUMNS": "300"}, catch_exceptions=False)
    assert result.exit_code == 0, f"repsight {' '.join(args)}: {result.output}"
    name = " ".join(a.replace(str(run.files), "OUT") for a in args)
    run.commands.append(Place(f"`repsight {name}` standard output", result.stdout, allowed))
    run.commands.append(Place(f"`repsight {name}` standard error", result.stderr, allowed))


def _table_text(path: Path) -> str:
    """Return a file's text; a Parquet file's column names and values as CSV."""
    if path.suffix == ".parquet":
        buffer = io.StringIO()
        pq.read_table(path).to_pandas().to_csv(buffer, index=False)
        return buffer.getvalue()
    return path.read_text(encoding="utf-8")


def _stages(run: Run) -> None:
    """Run every stage through the command line, as a user would; keep what each printed and wrote."""
    files, marks = run.files, run.marks
    for stage in (["ingest"], ["status"], ["quarantine"], ["metrics"]):
        _command(run, NOBODY, *stage)
    _command(run, NOBODY, "validate", "--json", str(files / "validation.json"))
    flagged = _flagged(run)
    # docs/validation.md: each flag names its person by pseudonym and email (a public contract), and the command shows the first flags.
    run.commands[-2:] = [Place(p.where, p.text, flagged) for p in run.commands[-2:]]
    run.written.append(Place("validation.json (`repsight validate --json`)", (files / "validation.json").read_text(), flagged))
    _command(run, NOBODY, "analyze", "--json", str(files / "study.json"))
    run.written.append(Place("study.json (`repsight analyze --json`)", (files / "study.json").read_text()))
    _command(run, NOBODY, "report", "--out", str(files / "report.html"))
    run.written.append(Place("report.html (`repsight report`)", (files / "report.html").read_text()))
    for table in ("person_week", "person_period"):
        for kind in ("csv", "parquet", "viva"):
            out = files / f"{table}-{kind}.{'parquet' if kind == 'parquet' else 'csv'}"
            _command(run, NOBODY, "export", "--table", table, "--format", kind, "--out", str(out))
            run.written.append(Place(f"{out.name} (`repsight export --table {table} --format {kind}`)", _table_text(out)))
    rep = _rep(run)
    # docs/guidance.md: the guidance names the person (email, name) and the colleagues and leaders it suggests (email, name).
    guidance = marks.of(rep) | marks.roster_names | marks.roster_addresses
    _command(run, guidance, "advise", "--person", rep, "--json", str(files / "advice.json"))
    run.written.append(Place("advice.json (`repsight advise --json`)", (files / "advice.json").read_text(), guidance))
    outbox = files / "outbox"
    # README, The weekly digest: one .eml per rep in the outbox (docs/privacy.md: named WEEK_EMAIL.eml), which the command lists.
    _command(run, NOBODY, "digest", "--outbox", str(outbox))
    recipients = [_recipient(path) for path in sorted(outbox.glob("*.eml"))]
    addresses = marks.addresses_of(*(r for r, _ in recipients))
    run.commands[-2:] = [Place(p.where, p.text, addresses) for p in run.commands[-2:]]
    for path, (recipient, parts) in zip(sorted(outbox.glob("*.eml")), recipients, strict=True):
        # README: each rep gets one private message, to them alone, with up to three colleagues to connect with
        # or leaders to meet from their guidance (docs/guidance.md: each `email`, `name`). The recipient's own are theirs.
        suggested = marks.roster_names | marks.roster_addresses
        run.digests += [Place(f"digest {path.name}, {part}", text, marks.of(recipient) | suggested) for part, text in parts]
    for account, roles in ((ANALYST, ["--role", "analyst"]), (ADMIN, ["--role", "admin"])):
        marks.add(Someone(account, None, False))
        # The accounts file holds sign-in emails (README: `users add` prints the new account and its password once).
        _command(run, marks.of(account), "users", "add", account, *roles)


def _flagged(run: Run) -> frozenset[str]:
    """Return the address markers of the people the validation flagged (their pseudonyms, from the store)."""
    with Store.open(run.config, read_only=True) as store:
        flags = store.to_pandas(store.table("validation"))
        identities = store.to_pandas(store.table("identities"))
    emails = identities[identities["person"].isin(set(flags["person"].dropna()))]["email"]
    return run.marks.addresses_of(*emails)


def _rep(run: Run) -> str:
    """Return the address of the first rep measured and studied."""
    data = _data(run.config)
    measured = set(data.weeks["person"]) & set(data.tiers["person"])
    return str(data.people.at[min(p for p in data.people.index if data.is_rep(p) and p in measured), "email"])


def _recipient(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """Return a digest message's recipient address, and its headers and each decoded part as text."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    (to,) = message["To"].addresses
    parts = [("headers", "".join(f"{k}: {v}\n" for k, v in message.items()))]
    parts += [(f"part {part.get_content_type()}", str(part.get_content())) for part in message.walk() if not part.is_multipart()]
    return to.addr_spec, parts


def _data(config: Config) -> WorkspaceData:
    with Store.open(config, read_only=True) as store:
        return load_data(store, config)


def _store(run: Run) -> None:
    """Scan every column of every table but `identities`, as text; keep each value holding a marker as a place."""
    with duckdb.connect(str(run.config.database_path), read_only=True) as db:
        tables = [t for (t,) in db.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        assert "identities" in tables
        marked = db.execute("SELECT count(*) FROM identities WHERE email ILIKE 'zqxaddr%' AND name ILIKE 'zqxname%'").fetchone()
        assert marked is not None and marked[0] >= PEOPLE, "the identities table does not hold the marked people"
        quarantined = db.execute("SELECT count(*) FROM quarantine").fetchone()
        assert quarantined is not None and quarantined[0] >= 3, "the planted bad rows were not quarantined"
        for table in tables:
            if table == "identities":
                continue  # DESIGN.md: the identity map (pseudonym → name, email) is a separate table
            run.tables += 1
            for (column,) in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
            ).fetchall():
                run.columns += 1
                found = db.execute(
                    f'SELECT CAST("{column}" AS VARCHAR) AS v FROM "{table}" '
                    "WHERE regexp_matches(CAST(\"{column}\" AS VARCHAR), '(?i)zqx|sales-all') LIMIT 1".replace("{column}", column)
                ).fetchall()
                run.store += [Place(f"table {table}.{column}", str(value)) for (value,) in found]


def _accounts_file(run: Run) -> None:
    """Scan every column of the accounts file: sign-in emails belong there (README: accounts, role grants and the audit log)."""
    accounts = frozenset(a.email for a in Accounts(run.config.accounts_path).all())
    allowed = run.marks.addresses_of(*accounts)
    with sqlite3.connect(run.config.accounts_path) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            rows = db.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in rows.description]
            for row in rows.fetchall():
                run.accounts_file += [
                    Place(f"accounts file {table}.{n}", str(v), allowed) for n, v in zip(names, row, strict=True) if v is not None
                ]


# -- the dashboard ----------------------------------------------------------------------------------------


def _get_routes(app: FastAPI) -> list[str]:
    """Return the path of every GET route of the app (the included routers' routes with their full paths)."""
    routes: list[Any]
    try:
        from fastapi.routing import iter_route_contexts

        routes = list(iter_route_contexts(app.routes))
    except ImportError:  # a FastAPI that copies an included router's routes into app.routes
        routes = list(app.routes)
    return sorted({str(r.path) for r in routes if "GET" in (getattr(r, "methods", None) or ())})


@dataclass(frozen=True)
class Visitor:
    """Who signs in to the dashboard: a role's name, the account's email, the roster person (if any)."""

    role: str
    email: str | None
    person: str | None


def _visitors(run: Run, data: WorkspaceData) -> list[Visitor]:
    """Return one account per role (created, password PASSWORD), the admin last (their page shows the audit log), and nobody signed in."""
    minimum = run.config.privacy.min_group_size
    measured = set(data.weeks["person"])
    teams = {m: [r for r in members if r in measured] for m, members in data.reports.items()}
    rep = min(p for p in data.people.index if data.is_rep(p) and p in measured and p in set(data.tiers["person"]))
    manager = min(m for m, t in teams.items() if len(t) >= minimum and all(data.is_rep(r) for r in t))
    senior = data.people[data.people["level"] >= run.config.company.senior_level]
    executive = max(senior.index, key=lambda p: (len(data.subtree(p)), p))
    accounts = Accounts(run.config.accounts_path)
    visitors = [Visitor(role, str(data.people.at[p, "email"]), p) for role, p in (("rep", rep), ("manager", manager))]
    visitors.append(Visitor("executive", str(data.people.at[executive, "email"]), executive))
    for visitor in visitors:
        accounts.add(visitor.email or "", PASSWORD)
    for email_, role in ((ANALYST, "analyst"), (ADMIN, "admin")):
        accounts.set_password(email_, PASSWORD)
        visitors.append(Visitor(role, email_, None))
    return [*visitors[:-1], Visitor("nobody signed in", None, None), visitors[-1]]


def _belongs(run: Run, visitor: Visitor, path: str, person: str | None, flagged: frozenset[str]) -> frozenset[str]:
    """Return the markers that may be in the answer of `path` to `visitor` (about `person`, for a person's route)."""
    marks = run.marks
    if visitor.email is None:
        return NOBODY
    # Every page says who is signed in (base.html); their own name and address are theirs to see on any answer.
    own = marks.of(visitor.email)
    yours = person is not None and person == visitor.person
    if yours and path in ("/people/{person}", "/api/people/{person}"):
        # README, Rep: their network by org unit with their own contacts by name; their guidance names colleagues
        # to connect with and leaders to meet (docs/guidance.md: by name and org on the page).
        return own | marks.roster_names
    if yours and path == "/api/people/{person}/guidance":
        # docs/guidance.md, the JSON (`repsight advise --json`): `connect_with` and `leaders`, each `email`, `name`.
        return own | marks.roster_names | marks.roster_addresses
    if visitor.role == "analyst" and path == "/analysis":
        # docs/validation.md: each flag names its person by pseudonym and email; the analysis page lists the flags.
        return own | flagged
    if visitor.role == "admin" and path == "/admin":
        # README, Admin: add accounts, grant roles, reset passwords, read the audit log: the accounts file's sign-in emails.
        return own | marks.addresses_of(*(a.email for a in Accounts(run.config.accounts_path).all()))
    return own


def _dashboard(run: Run) -> None:
    """Fetch every GET route as each role, path parameters filled with the visitor's own pseudonym and another rep's."""
    app = dashboard(run.config)  # as `repsight serve` builds it
    data: WorkspaceData = app.state.workspace.current()
    flagged = _flagged(run)
    visitors = _visitors(run, data)
    others = sorted(p for p in data.people.index if data.is_rep(p) and p not in {v.person for v in visitors})
    for visitor in visitors:
        client = TestClient(app) if visitor.email is None else signed_in(app, visitor.email)
        places = run.pages.setdefault(visitor.role, [])
        for route in _get_routes(app):
            people = [visitor.person or others[1], others[0]] if "{person}" in route else [None]
            for person in people:
                url = route.replace("{person}", person or "")
                answer = client.get(url, follow_redirects=False)
                text = "".join(f"{k}: {v}\n" for k, v in answer.headers.items()) + answer.text
                whose = "" if person is None else " (their own)" if person == visitor.person else " (another rep)"
                where = f"GET {url}{whose} as {visitor.role} ({visitor.email}), {answer.status_code}"
                places.append(Place(where, text, _belongs(run, visitor, route, person, flagged)))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Every stage run on a marked company, and everything written gathered (the log records too)."""
    folder = tmp_path_factory.mktemp("privacy")
    config, marks = generate_marked(folder / "ws", people=PEOPLE, months=MONTHS)
    run = Run(config, marks, folder / "out")
    run.files.mkdir()
    records = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        _stages(run)
        _dashboard(run)
    finally:
        root.removeHandler(records)
        root.setLevel(level)
    _store(run)
    _accounts_file(run)
    run.commands += [Place(f"log record of {r.name} ({r.levelname})", r.getMessage()) for r in records.records]
    yield run


class _Records(logging.Handler):
    """Every log record of the run."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# -- the checks -------------------------------------------------------------------------------------------


def test_no_table_but_identities_holds_a_name_or_address(run: Run) -> None:
    assert run.tables >= 20 and run.columns >= 200, (run.tables, run.columns)
    leak = first_leak(run.store, run.marks)
    assert leak is None, leak


def test_accounts_file_holds_only_sign_in_emails(run: Run) -> None:
    assert run.accounts_file, "the accounts file is empty"
    leak = first_leak(run.accounts_file, run.marks)
    assert leak is None, leak


def test_no_written_file_holds_a_name_or_address_that_does_not_belong(run: Run) -> None:
    leak = first_leak(run.written, run.marks)
    assert leak is None, leak


def test_no_command_output_or_log_record_holds_a_name_or_address_that_does_not_belong(run: Run) -> None:
    leak = first_leak(run.commands, run.marks)
    assert leak is None, leak


def test_each_digest_names_only_its_recipient_and_the_colleagues_it_suggests(run: Run) -> None:
    assert len(run.digests) >= 3 * 10, "fewer than ten digest messages were written"
    leak = first_leak(run.digests, run.marks)
    assert leak is None, leak


ROLES = ("rep", "manager", "executive", "analyst", "admin", "nobody signed in")


def _analyst_on_anothers_page(place: Place) -> bool:
    return place.where.startswith(("GET /people/", "GET /api/people/")) and "(another rep) as analyst" in place.where


@pytest.mark.parametrize("role", ROLES)
def test_no_dashboard_answer_shows_a_name_or_address_that_does_not_belong(run: Run, role: str) -> None:
    places = [p for p in run.pages[role] if not _analyst_on_anothers_page(p)]
    assert places, role
    leak = first_leak(places, run.marks)
    assert leak is None, leak


def test_an_analyst_sees_another_persons_page_without_a_name(run: Run) -> None:
    # The page and its API answer; the guidance and accounts of someone else are refused to an analyst (403).
    places = [p for p in run.pages["analyst"] if _analyst_on_anothers_page(p) and ", 200" in p.where]
    assert len(places) >= 2, [p.where for p in run.pages["analyst"] if _analyst_on_anothers_page(p)]
    leak = first_leak(places, run.marks)
    assert leak is None, leak


def test_the_scan_finds_what_belongs(run: Run) -> None:
    """The scan is not blind: the rep's own page, the digest's To header and the accounts file do show the markers they may."""
    own_page = [p for p in run.pages["rep"] if "(their own) as rep" in p.where and p.where.startswith("GET /people/")]
    assert own_page and any(h.token.startswith("zqxname") for h in hits(own_page[0].text))
    assert all(any(h.token in p.allowed for h in hits(p.text)) for p in run.digests if p.where.endswith("headers"))
    assert any(hits(p.text) for p in run.accounts_file)
