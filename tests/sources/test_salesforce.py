"""The Salesforce export reader: accounts, owners, domains, bookings and quotas, with exact records and quarantine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from repsight.config import SalesforceConfig
from repsight.errors import InputError
from repsight.sources import open_source
from repsight.sources.records import Account, Kpi, Rejected
from repsight.sources.salesforce import long_id, read_salesforce, registrable_domain

ANA_15 = "0055000000Ana01"
ANA = "0055000000Ana01AAB"  # A is the only capital among the first 15: bit 0 of the third chunk
BOB = "0055000000Bob01AAB"
USERS = f"Id,Email\n{ANA},ana@acme.example\n{BOB},bob@acme.example\n"
ACCOUNT = "0015000000Gv7qJAAR"
ACCOUNTS = f"Id,Name,Type,Website,OwnerId\n{ACCOUNT},Initech,Customer - Direct,initech.example,{ANA}\n"


def read(
    tmp_path: Path, files: dict[str, str | bytes], settings: SalesforceConfig | None = None
) -> list[Account | Kpi | Rejected]:
    folder = tmp_path / "sfdc"
    folder.mkdir(parents=True)
    for name, text in {"User.csv": USERS, "Account.csv": ACCOUNTS, **files}.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with open_source(folder) as source:
        return list(read_salesforce(source, settings or SalesforceConfig(), ["gmail.com", "yahoo.com"]))


def rejected(records: list[Account | Kpi | Rejected]) -> list[Rejected]:
    return [r for r in records if isinstance(r, Rejected)]


def kpis(records: list[Account | Kpi | Rejected]) -> list[Kpi]:
    return [r for r in records if isinstance(r, Kpi)]


def test_a_15_character_id_gets_salesforces_checksum_suffix():
    assert long_id("0015000000Gv7qJ") == "0015000000Gv7qJAAR"
    assert long_id("001500000000000") == "001500000000000AAA"
    assert long_id("0015000000Gv7qJAAR") == "0015000000Gv7qJAAR"
    assert long_id("ABCDEFGHIJKLMNO") == "ABCDEFGHIJKLMNO555"


def test_registrable_domain_of_a_website_follows_the_public_suffix_list():
    assert registrable_domain("https://www.shop.acme.co.uk/x") == "acme.co.uk"
    assert registrable_domain("WWW.Initech.COM") == "initech.com"
    assert registrable_domain("initech.example:8443/contact") == "initech.example"
    assert registrable_domain("http://tools.globex.github.io/") == "globex.github.io"


def test_accounts_get_their_type_owner_website_domain_and_contacts_domains(tmp_path: Path):
    accounts = (
        "Id,Name,Type,Website,OwnerId\n"
        f"0015000000Acme1AAC,Acme,Customer - Direct,https://www.shop.acme.co.uk/x,{ANA_15}\n"
        "0015000000Glbx1AAC,Globex,Technology Partner,globex.example,\n"
        f"0015000000Init1AAC,Initech,Prospect,,{BOB}\n"
        "0015000000Hoop1AAC,Hooli,Channel Partner / Reseller,http://www.hooli.example/,\n"
        "0015000000Umbr1AAC,Umbrella,Vendor,umbrella.example,\n"
    )
    contacts = (
        "Id,AccountId,Email\n"
        "0035000000Con01AAC,0015000000Acme1AAC,kim@acme.co.uk\n"
        "0035000000Con02AAC,0015000000Acme1AAC,zed@acme-mail.example\n"
        "0035000000Con03AAC,0015000000Acme1AAC,Pat <pat@gmail.com>\n"  # free mail: never an account's domain
        "0035000000Con04AAC,0015000000Acme1AAC,lee@acme-eu.example\n"
        "0035000000Con05AAC,0015000000Init1AAC,joe@initech.example\n"
        "0035000000Con06AAC,0015000000Init1AAC,\n"  # no address: gives nothing, and is not an error
        "0035000000Con07AAC,,solo@freelance.example\n"  # a private contact: no account
    )
    records = read(tmp_path, {"Account.csv": accounts, "Contact.csv": contacts})
    assert records == [
        Account(
            "Account.csv row 2",
            "0015000000Acme1AAC",
            "Acme",
            ("acme.co.uk", "acme-eu.example", "acme-mail.example"),
            "customer",
            "ana@acme.example",
        ),
        Account("Account.csv row 3", "0015000000Glbx1AAC", "Globex", ("globex.example",), "partner", None),
        Account("Account.csv row 4", "0015000000Init1AAC", "Initech", ("initech.example",), "prospect", "bob@acme.example"),
        Account("Account.csv row 5", "0015000000Hoop1AAC", "Hooli", ("hooli.example",), "partner", None),
        Account("Account.csv row 6", "0015000000Umbr1AAC", "Umbrella", ("umbrella.example",), "vendor", None),
    ]


def test_15_and_18_character_ids_of_one_record_match_and_ids_differing_in_case_do_not(tmp_path: Path):
    accounts = (
        "Id,Name,Type,Website,OwnerId\n"
        "0015000000Gv7qJ,Initech,Customer,initech.example,\n"  # the 15-character form of ACCOUNT
        f"0015000000Gv7qj,Other,Customer,other.example,{ANA_15.lower()}\n"  # another account, and no user is 0055000000ana01
    )
    contacts = f"AccountId,Email\n{ACCOUNT},joe@initech-mail.example\n"
    assert read(tmp_path, {"Account.csv": accounts, "Contact.csv": contacts}) == [
        Rejected("Account.csv row 3", "OwnerId", "no user with this id in User.csv"),
        Account("Account.csv row 2", ACCOUNT, "Initech", ("initech.example", "initech-mail.example"), "customer", None),
    ]


def test_a_byte_order_mark_and_a_name_over_two_lines_are_read(tmp_path: Path):
    accounts = (
        '\ufeff"Id","Name","Type","Website","OwnerId"\r\n'
        f'"{ACCOUNT}","Initech\r\nHoldings","Customer","initech.example","{ANA}"\r\n'
        '"0015000000Other1AB","Other","Other","other.example",""\r\n'
    )
    assert read(tmp_path, {"Account.csv": accounts.encode("utf-8")}) == [
        Rejected("Account.csv row 4", "Type", "'Other' is not mapped to an account type; add it to [salesforce] account_types"),
        Account("Account.csv row 2", ACCOUNT, "Initech\r\nHoldings", ("initech.example",), "customer", "ana@acme.example"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Customer - Channel", "customer"),  # Customer* comes before *Partner*
        ("customer - direct", "customer"),
        ("Prospect", "prospect"),
        ("Installation Partner", "partner"),
        ("Reseller", "partner"),
        ("Supplier", "vendor"),
    ],
)
def test_default_type_mapping_is_case_insensitive_and_the_first_match_wins(tmp_path: Path, value: str, expected: str):
    accounts = f"Id,Name,Type,Website\n{ACCOUNT},Initech,{value},initech.example\n"
    assert read(tmp_path, {"Account.csv": accounts}) == [
        Account("Account.csv row 2", ACCOUNT, "Initech", ("initech.example",), expected, None)
    ]


def test_configured_type_mapping_replaces_the_defaults(tmp_path: Path):
    settings = SalesforceConfig(account_types={"*Partner*": "Partner", "Customer*": "customer"})
    accounts = (
        f"Id,Name,Type,Website\n{ACCOUNT},Initech,Customer Partner,initech.example\n0015000000Other1AB,Other,Prospect,o.example\n"
    )
    assert read(tmp_path, {"Account.csv": accounts}, settings) == [
        Rejected(
            "Account.csv row 3", "Type", "'Prospect' is not mapped to an account type; add it to [salesforce] account_types"
        ),
        Account("Account.csv row 2", ACCOUNT, "Initech", ("initech.example",), "partner", None),
    ]


def test_a_mapping_to_an_unknown_account_type_is_refused():
    with pytest.raises(ValueError, match="the type must be one of customer, prospect, partner, vendor"):
        SalesforceConfig(account_types={"Customer*": "client"})


@pytest.mark.parametrize("website", ["N/A", "localhost", "co.uk", "http://10.0.0.1/", "acme corp.com"])
def test_a_website_that_is_not_a_domain_is_quarantined(tmp_path: Path, website: str):
    accounts = f"Id,Name,Type,Website\n{ACCOUNT},Initech,Customer,{website}\n"
    assert read(tmp_path, {"Account.csv": accounts}) == [
        Rejected("Account.csv row 2", "Website", f"{website!r} is not a web domain")
    ]


def test_accounts_without_a_domain_or_sharing_one_are_quarantined(tmp_path: Path):
    accounts = (
        "Id,Name,Type,Website\n"
        f"{ACCOUNT},Initech,Customer,https://initech.example\n"
        "0015000000Other1AB,Initech EU,Customer,www.initech.example\n"
        "0015000000Third1AB,Nowhere,Prospect,\n"
        "0015000000Fourt1AB,Fourth,Prospect,\n"
    )
    contacts = (
        "AccountId,Email\n"
        "0015000000Fourt1AB,sue@initech.example\n"
        "0015000000Fourt1AB,sue@fourth.example\n"
        "0015000000Gone01AB,amy@gone.example\n"
    )
    assert read(tmp_path, {"Account.csv": accounts, "Contact.csv": contacts}) == [
        Rejected("Account.csv row 3", "Website", "initech.example already belongs to the account on Account.csv row 2"),
        Rejected("Contact.csv row 2", "Email", "its domain initech.example already belongs to the account on Account.csv row 2"),
        Rejected("Contact.csv row 4", "AccountId", "no account with this id in Account.csv"),
        Account("Account.csv row 2", ACCOUNT, "Initech", ("initech.example",), "customer", None),
        Rejected("Account.csv row 4", "Website", "no mail domain: no website and no contact at a company address"),
        Account("Account.csv row 5", "0015000000Fourt1AB", "Fourth", ("fourth.example",), "prospect", None),
    ]


def test_an_account_of_a_quarantined_user_names_the_users_row(tmp_path: Path):
    users = f"Id,Email\n{ANA},ana@acme.example\n{BOB},not an address\n"
    accounts = f"Id,Name,Type,Website,OwnerId\n{ACCOUNT},Initech,Customer,initech.example,{BOB}\n"
    assert read(tmp_path, {"User.csv": users, "Account.csv": accounts}) == [
        Rejected("User.csv row 3", "Email", "is not a mail address"),
        Rejected("Account.csv row 2", "OwnerId", "its user is quarantined (User.csv row 3)"),
    ]


QUOTAS = f"Id,QuotaOwnerId,StartDate,QuotaAmount\n0J95000000Quo01AAC,{ANA},2025-01-01,100000\n0J95000000Quo02AAC,{ANA_15},2025-04-01,80000.00\n"


def test_bookings_are_the_won_opportunities_closed_in_each_quota_period(tmp_path: Path):
    opportunities = (
        "Id,AccountId,OwnerId,CloseDate,Amount,IsWon,StageName\n"
        f'0065000000Opp01AAC,{ACCOUNT},{ANA_15},2025-01-15,"20,000.50",true,Closed Won\n'
        f"0065000000Opp02AAC,{ACCOUNT},{ANA},2025-03-31,30000,1,Closed Won\n"
        f"0065000000Opp03AAC,{ACCOUNT},{ANA},2025-02-01,99999,false,Closed Won\n"  # IsWon says lost
        f"0065000000Opp04AAC,{ACCOUNT},{ANA},2025-04-01,5000,,Closed Won\n"  # no IsWon: the stage says won
        f"0065000000Opp05AAC,{ACCOUNT},{ANA},2025-05-01,7000,,Negotiation\n"  # open
        f"0065000000Opp06AAC,{ACCOUNT},{ANA},2025-05-02,,false,Closed Lost\n"  # lost: its fields are not checked
    )
    records = read(tmp_path, {"ForecastingQuota.csv": QUOTAS, "Opportunity.csv": opportunities})
    assert rejected(records) == []
    assert kpis(records) == [
        Kpi(
            "ForecastingQuota.csv row 2",
            "ana@acme.example",
            "2025Q1",
            date(2025, 1, 1),
            date(2025, 3, 31),
            100000.0,
            50000.5,
            0.500005,
        ),
        Kpi(
            "ForecastingQuota.csv row 3",
            "ana@acme.example",
            "2025Q2",
            date(2025, 4, 1),
            date(2025, 6, 30),
            80000.0,
            5000.0,
            0.0625,
        ),
    ]


def test_without_is_won_the_configured_won_stages_tell_won_opportunities(tmp_path: Path):
    opportunities = (
        "OwnerId,CloseDate,Amount,StageName\n"
        f"{ANA},2025-01-15,1000,Closed Won\n"
        f"{ANA},2025-01-16,2000,Signed\n"
        f"{ANA},2025-01-17,4000,closed won\n"
    )
    files: dict[str, str | bytes] = {"ForecastingQuota.csv": QUOTAS, "Opportunity.csv": opportunities}
    assert [k.bookings for k in kpis(read(tmp_path / "a", files))] == [5000.0, 0.0]
    settings = SalesforceConfig(won_stages=["Signed"])
    assert [k.bookings for k in kpis(read(tmp_path / "b", files, settings))] == [2000.0, 0.0]


def test_bookings_are_summed_in_decimal_so_their_float_is_kpis_csvs(tmp_path: Path):
    quotas = f"QuotaOwnerId,StartDate,QuotaAmount\n{ANA},2025-01-01,0.7\n"
    opportunities = f"OwnerId,CloseDate,Amount,IsWon\n{ANA},2025-01-02,0.1,true\n{ANA},2025-01-03,0.2,true\n"
    [kpi] = kpis(read(tmp_path, {"ForecastingQuota.csv": quotas, "Opportunity.csv": opportunities}))
    assert kpi.bookings == float("0.3")  # 0.1 + 0.2 in floats is 0.30000000000000004
    assert kpi.attainment == float("0.3") / float("0.7")


def test_bad_quotas_are_quarantined_with_file_row_and_field(tmp_path: Path):
    quotas = (
        "QuotaOwnerId,StartDate,QuotaAmount\n"
        f"{ANA},2025-01-01,100000\n"
        f"{ANA},2025-02-01,100000\n"  # not the first day of a quarter
        f"{ANA_15},2025-01-01,90000\n"  # the same owner and quarter again
        f"0055000000Zed01AAB,2025-04-01,90000\n"
        f"{BOB},2025-04-01,0\n"
        f"{BOB},2025-07-01,\n"
    )
    records = read(tmp_path, {"ForecastingQuota.csv": quotas, "Opportunity.csv": "OwnerId,CloseDate,Amount,IsWon\n"})
    assert rejected(records) == [
        Rejected(
            "ForecastingQuota.csv row 3", "StartDate", "2025-02-01 is not the first day of a quarter ([salesforce] quota_period)"
        ),
        Rejected(
            "ForecastingQuota.csv row 4",
            "StartDate",
            "duplicate quota: the same owner and period are on ForecastingQuota.csv row 2",
        ),
        Rejected("ForecastingQuota.csv row 5", "QuotaOwnerId", "no user with this id in User.csv"),
        Rejected("ForecastingQuota.csv row 6", "QuotaAmount", "'0' is not a positive number"),
        Rejected("ForecastingQuota.csv row 7", "QuotaAmount", "is empty"),
    ]
    assert [k.period for k in kpis(records)] == ["2025Q1"]


def test_monthly_quotas_give_monthly_periods(tmp_path: Path):
    quotas = f"QuotaOwnerId,StartDate,QuotaAmount\n{ANA},2025-02-01,1000\n{ANA},2025-02-15,1000\n"
    opportunities = f"OwnerId,CloseDate,Amount,IsWon\n{ANA},2025-02-28,250,true\n"
    records = read(
        tmp_path, {"ForecastingQuota.csv": quotas, "Opportunity.csv": opportunities}, SalesforceConfig(quota_period="month")
    )
    assert rejected(records) == [
        Rejected(
            "ForecastingQuota.csv row 3", "StartDate", "2025-02-15 is not the first day of a month ([salesforce] quota_period)"
        )
    ]
    assert kpis(records) == [
        Kpi("ForecastingQuota.csv row 2", "ana@acme.example", "2025-02", date(2025, 2, 1), date(2025, 2, 28), 1000.0, 250.0, 0.25)
    ]


def test_won_opportunities_that_cannot_count_are_quarantined(tmp_path: Path):
    opportunities = (
        "OwnerId,CloseDate,Amount,IsWon\n"
        "0055000000Zed01AAB,2025-01-15,1000,true\n"
        f"{ANA},2025-07-15,1000,true\n"
        f"{BOB},2025-01-15,1000,true\n"
        f"{ANA},15/01/2025,1000,true\n"
        f"{ANA},2025-01-15,lots,true\n"
        f"{ANA},2025-01-15,1000,maybe\n"
    )
    records = read(tmp_path, {"ForecastingQuota.csv": QUOTAS, "Opportunity.csv": opportunities})
    assert rejected(records) == [
        Rejected("Opportunity.csv row 2", "OwnerId", "no user with this id in User.csv"),
        Rejected("Opportunity.csv row 3", "OwnerId", "no quota for its owner in that period (2025Q3)"),
        Rejected("Opportunity.csv row 4", "OwnerId", "no quota for its owner in that period (2025Q1)"),
        Rejected("Opportunity.csv row 5", "CloseDate", "'15/01/2025' is not a date (YYYY-MM-DD)"),
        Rejected("Opportunity.csv row 6", "Amount", "'lots' is not a number"),
        Rejected("Opportunity.csv row 7", "IsWon", "'maybe' is not true or false"),
    ]
    assert [k.bookings for k in kpis(records)] == [0.0, 0.0]


def test_without_opportunities_and_quotas_there_are_no_results(tmp_path: Path):
    records = read(tmp_path, {"ForecastingQuota.csv": QUOTAS})
    assert records == [Account("Account.csv row 2", ACCOUNT, "Initech", ("initech.example",), "customer", "ana@acme.example")]


@pytest.mark.parametrize("missing", ["Account.csv", "User.csv"])
def test_a_missing_required_file_names_the_folder_and_the_file(tmp_path: Path, missing: str):
    folder = tmp_path / "sfdc"
    folder.mkdir(parents=True)
    for name, text in {"User.csv": USERS, "Account.csv": ACCOUNTS}.items():
        if name != missing:
            (folder / name).write_text(text, encoding="utf-8")
    with open_source(folder) as source, pytest.raises(InputError, match=rf"sfdc: no {missing}; a Salesforce export needs"):
        list(read_salesforce(source, SalesforceConfig(), []))


def test_opportunities_without_is_won_or_stage_name_are_refused(tmp_path: Path):
    with pytest.raises(InputError, match=r"Opportunity\.csv: row 1: needs an IsWon or a StageName column"):
        read(tmp_path, {"ForecastingQuota.csv": QUOTAS, "Opportunity.csv": "OwnerId,CloseDate,Amount\n"})


def test_an_id_given_twice_in_its_15_and_18_character_forms_is_a_duplicate(tmp_path: Path):
    users = f"Id,Email\n{ANA},ana@acme.example\n{ANA_15},ana2@acme.example\n"
    accounts = (
        f"Id,Name,Type,Website\n{ACCOUNT},Initech,Customer,initech.example\n0015000000Gv7qJ,Initech,Customer,initech2.example\n"
    )
    assert read(tmp_path, {"User.csv": users, "Account.csv": accounts}) == [
        Rejected("User.csv row 3", "Id", "duplicate user: the same id is on User.csv row 2"),
        Rejected("Account.csv row 3", "Id", "duplicate account: the same id is on Account.csv row 2"),
        Account("Account.csv row 2", ACCOUNT, "Initech", ("initech.example",), "customer", None),
    ]
