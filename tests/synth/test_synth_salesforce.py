"""The synthetic company's CRM as a Salesforce export: the same accounts, results and study as accounts.csv and kpis.csv."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from repsight.config import Config, SalesforceConfig, load_config
from repsight.sources import open_source
from repsight.sources.accounts import read_accounts
from repsight.sources.kpis import read_kpis
from repsight.sources.records import Account, Kpi, Rejected
from repsight.sources.salesforce import read_salesforce
from repsight.synth import generate

PERSONAL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("company")
    generate(folder, people=120, months=6, seed=11, formats="csv", crm="both")
    return folder


def read_export(company: Path) -> list[Account | Kpi | Rejected]:
    with open_source(company / "sfdc") as source:
        return list(read_salesforce(source, SalesforceConfig(), PERSONAL))


def test_both_crm_forms_leave_every_other_file_as_the_csv_form_writes_it(company: Path, tmp_path: Path) -> None:
    generate(tmp_path, people=120, months=6, seed=11, formats="csv")
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(company) for p in company.rglob("*") if p.is_file() and "sfdc" not in p.parts)
    assert all((tmp_path / p).read_bytes() == (company / p).read_bytes() for p in written)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_export_holds_what_a_real_one_does(company: Path) -> None:
    accounts = (company / "sfdc" / "Account.csv").read_bytes()
    assert accounts.startswith(b'\xef\xbb\xbf"Id","Name","Type","Website","OwnerId"')
    assert any("\n" in a["Description"] for a in rows(company / "sfdc" / "Account.csv"))  # a quoted field over two lines
    websites = [a["Website"] for a in rows(company / "sfdc" / "Account.csv")]
    assert any(w.startswith("https://www.") for w in websites) and any(w.endswith("/about") for w in websites)
    assert "" in websites and any(w and "/" not in w for w in websites)  # none (the contacts give the domain), and bare
    contacts = rows(company / "sfdc" / "Contact.csv")
    assert any(c["Email"].endswith(tuple(f"@{d}" for d in PERSONAL)) for c in contacts)
    assert any(len(c["AccountId"]) == 15 for c in contacts)
    opportunities = rows(company / "sfdc" / "Opportunity.csv")
    assert {(o["StageName"], o["IsWon"]) for o in opportunities} == {
        ("Closed Won", "true"),
        ("Closed Won", ""),  # IsWon left to the stage
        ("Closed Lost", "false"),
        ("Closed Lost", ""),
        ("Negotiation/Review", "false"),
        ("Negotiation/Review", ""),
    }
    assert any(len(o["OwnerId"]) == 15 for o in opportunities)


def test_the_export_reads_as_the_same_accounts_and_results_as_the_csv_files(company: Path) -> None:
    records = read_export(company)
    assert [r for r in records if isinstance(r, Rejected)] == []
    with open_source(company / "accounts.csv") as source:
        accounts = list(read_accounts(source))
    with open_source(company / "kpis.csv") as source:
        kpis = list(read_kpis(source))
    assert [(a.name, a.domains, a.type, a.owner_email) for a in records if isinstance(a, Account)] == [
        (a.name, a.domains, a.type, a.owner_email) for a in accounts if isinstance(a, Account)
    ]
    # The same floats, attainment included: bookings are summed in decimal from the amounts' text.
    assert [
        (k.email, k.period, k.period_start, k.period_end, k.quota, k.bookings, k.attainment)
        for k in records
        if isinstance(k, Kpi)
    ] == [
        (k.email, k.period, k.period_start, k.period_end, k.quota, k.bookings, k.attainment) for k in kpis if isinstance(k, Kpi)
    ]


def workspace(root: Path, company: Path, key: Path | None, *, salesforce: bool) -> Config:
    """Return a workspace at `root` on the company's files, its CRM from the CSV files or from the export."""
    from repsight.workspace import init_workspace

    root.mkdir()
    if key is not None:
        shutil.copy2(key, root / ".repsight.key")  # the same key: the same pseudonyms
    config = init_workspace(
        root,
        domains=["acme.example"],
        mail=[f"{company}/mail/*"],
        calendar=[f"{company}/calendar/*"],
        timezone="America/New_York",
    )
    crm = (
        f'accounts = ""\nkpis = ""\nsalesforce = "{company}/sfdc"'
        if salesforce
        else f'accounts = "{company}/accounts.csv"\nkpis = "{company}/kpis.csv"'
    )
    text = config.path.read_text(encoding="utf-8")
    text = text.replace(
        'roster = "roster.csv"\naccounts = "accounts.csv"\nkpis = "kpis.csv"', f'roster = "{company}/roster.csv"\n{crm}'
    )
    config.path.write_text(text, encoding="utf-8")
    return load_config(config.path)


def studied(config: Config) -> tuple[pa.Table, str]:
    """Return the workspace's person_period table, in a fixed order, and its study's JSON, after every stage."""
    from repsight.ingest import run_ingest
    from repsight.metrics import run_metrics
    from repsight.store import Store
    from repsight.study import run_study

    report = run_ingest(config)
    assert report.ok and report.total().quarantined == 0, report.files
    crm = {f.kind: f.loaded for f in report.files if f.kind in ("accounts", "kpis", "salesforce")}
    assert set(crm) == ({"salesforce"} if config.sources.salesforce else {"accounts", "kpis"}) and all(crm.values())
    run_metrics(config)
    document = run_study(config).to_json()
    with Store.open(config) as store:
        person_period = store.to_arrow(store.table("person_period"))
    return person_period.sort_by([("person", "ascending"), ("period", "ascending")]), document


def test_a_study_from_the_salesforce_export_equals_the_study_from_accounts_and_kpis(company: Path, tmp_path: Path) -> None:
    from_csv = workspace(tmp_path / "csv", company, None, salesforce=False)
    from_export = workspace(tmp_path / "sfdc", company, from_csv.key_path, salesforce=True)
    person_period, document = studied(from_csv)
    export_person_period, export_document = studied(from_export)
    assert person_period.num_rows > 0
    assert export_person_period.equals(person_period)
    assert export_document == document
