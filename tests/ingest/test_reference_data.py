"""Roster, accounts and KPIs: what loads, and each reason a row goes to quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest

from repsight.config import Config
from repsight.errors import InputError
from repsight.ingest import run_ingest
from repsight.privacy import pseudonym, read_key
from repsight.sources import open_source
from repsight.sources.records import Person, Rejected
from repsight.sources.roster import read_roster
from repsight.store import Store
from tests.support import ROSTER_HEADER, roster_rows, write_csv


def roster_outcome(path: Path) -> list[Person | Rejected]:
    with open_source(path) as source:
        return list(read_roster(source))


def rejected(outcome: list[Person | Rejected]) -> list[tuple[str, str, str]]:
    return [(r.position, r.field, r.reason) for r in outcome if isinstance(r, Rejected)]


def quarantine(config: Config) -> list[tuple[str, str, str, str]]:
    with Store.open(config) as store:
        rows = store.table("quarantine").to_pyarrow().to_pylist()
    return sorted((Path(r["source"]).name, r["position"], r["field"], r["reason"]) for r in rows)


def test_valid_roster_loads_everyone_with_pseudonyms_and_manager_links(workspace: Config) -> None:
    write_csv(workspace.root / "roster.csv", [*ROSTER_HEADER, "cost_center"], [[*r, "CC1"] for r in roster_rows()])
    report = run_ingest(workspace, files=[("roster", workspace.root / "roster.csv")])
    (result,) = report.files
    assert (result.read, result.loaded, result.new, result.quarantined) == (5, 5, 5, 0)
    key = read_key(workspace.key_path)
    with Store.open(workspace, key=key) as store:
        people = {r["person"]: r for r in store.table("people").to_pyarrow().to_pylist()}
        identities = {r["person"]: r for r in store.table("identities").to_pyarrow().to_pylist()}
    ana = people[pseudonym(key, "ana@acme.example")]
    assert ana["manager"] == pseudonym(key, "mgr@acme.example")
    assert (ana["org"], ana["level"], ana["function"], ana["segment"], ana["channel"]) == (
        "Sales NA SMB",
        3,
        "Sales",
        "SMB",
        "Direct",
    )
    assert ana["attributes"] == '{"cost_center": "CC1"}'
    assert people[pseudonym(key, "ceo@acme.example")]["manager"] is None
    assert identities[pseudonym(key, "ana@acme.example")] == {
        "person": pseudonym(key, "ana@acme.example"),
        "email": "ana@acme.example",
        "name": "Ana Rep",
    }
    assert not any("@" in str(v) for row in people.values() for v in row.values())


def test_each_roster_problem_is_quarantined_with_row_field_and_reason(tmp_path: Path) -> None:
    rows = roster_rows() + [
        ["", "No Email", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", ""],  # row 7
        ["cy@acme.example", "Cy", "ghost@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", ""],  # row 8
        ["di@acme.example", "Di", "mgr@acme.example", "Sales NA SMB", "senior", "Sales", "NA", "SMB", "Direct", ""],  # row 9
        ["Ana@Acme.example", "Ana Again", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", ""],  # row 10
        ["ed@acme.example", "Ed", "fay@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", ""],  # row 11
        ["fay@acme.example", "Fay", "ed@acme.example", "Sales NA SMB", 3, "Sales", "NA", "SMB", "Direct", ""],  # row 12
        [
            "gus@acme.example",
            "Gus",
            "mgr@acme.example",
            "Sales NA SMB",
            3,
            "Sales",
            "NA",
            "SMB",
            "Direct",
            "2024-13-01",
        ],  # row 13
    ]
    outcome = roster_outcome(write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))
    assert rejected(outcome) == [
        ("row 7", "email", "is empty; every person needs an email"),
        ("row 8", "manager_email", "the manager is not in the roster (no row has that email)"),
        ("row 9", "level", "'senior' is not a number"),
        ("row 10", "email", "duplicate person: the same email is on row 5"),
        ("row 11", "manager_email", "the manager chain loops: row 11 → row 12 → row 11"),
        ("row 12", "manager_email", "the manager chain loops: row 11 → row 12 → row 11"),
        ("row 13", "hire_date", "'2024-13-01' is not a date (YYYY-MM-DD)"),
    ]
    assert [p.email for p in outcome if isinstance(p, Person)] == [r[0] for r in roster_rows()]


def test_long_manager_cycle_quarantines_only_its_members(tmp_path: Path) -> None:
    rows = roster_rows() + [
        ["a@acme.example", "A", "b@acme.example", "X", 5, "Sales", "", "", "", ""],  # row 7
        ["b@acme.example", "B", "c@acme.example", "X", 5, "Sales", "", "", "", ""],  # row 8
        ["c@acme.example", "C", "a@acme.example", "X", 5, "Sales", "", "", "", ""],  # row 9
        ["d@acme.example", "D", "a@acme.example", "X", 3, "Sales", "", "", "", ""],  # row 10: below the loop
    ]
    outcome = roster_outcome(write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))
    loop = "the manager chain loops: row 7 → row 8 → row 9 → row 7"
    assert rejected(outcome) == [
        ("row 7", "manager_email", loop),
        ("row 8", "manager_email", loop),
        ("row 9", "manager_email", loop),
    ]
    assert "d@acme.example" in [p.email for p in outcome if isinstance(p, Person)]


def test_a_person_who_is_their_own_manager_is_the_top_of_the_chart(tmp_path: Path) -> None:
    rows = [["ceo@acme.example", "Cleo", "CEO@acme.example", "Executive", 9, "Executive", "", "", "", ""]]
    (person,) = roster_outcome(write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))
    assert isinstance(person, Person) and person.manager_email is None


def test_roster_without_a_required_column_is_refused_whole(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", ["email", "name", "org", "level", "function"], [])
    with pytest.raises(
        InputError,
        match=r"roster\.csv: row 1: missing column\(s\) manager_email; the header has email, name, org, level, function",
    ):
        roster_outcome(path)


def test_row_with_too_many_fields_and_bad_bytes_are_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    good = ",".join(str(v) for v in roster_rows()[0])
    path.write_bytes(
        (",".join(ROSTER_HEADER) + "\n" + good + "\n" + good.replace("ceo@", "x@") + ",extra\n").encode()
        + b"y@acme.example,Caf\xe9,,Executive,9,Executive,,,,\n"
    )
    assert rejected(roster_outcome(path)) == [
        ("row 3", "(row)", "has 11 fields; the header has 10"),
        ("row 4", "name", "not valid UTF-8"),
    ]


def test_kpi_problems_are_quarantined_and_attainment_is_bookings_over_quota(workspace: Config) -> None:
    write_csv(workspace.root / "roster.csv", ROSTER_HEADER, roster_rows())
    write_csv(
        workspace.root / "kpis.csv",
        ["email", "period", "quota", "bookings", "attainment"],
        [
            ["ana@acme.example", "2025Q1", "100,000", "80000", ""],  # row 2
            ["ben@acme.example", "2025-02", "", "", "95%"],  # row 3
            ["ben@acme.example", "2025Q1", "lots", "5", ""],  # row 4
            ["ghost@acme.example", "2025Q1", "1", "1", ""],  # row 5
            ["ana@acme.example", "2025Q5", "1", "1", ""],  # row 6
            ["ana@acme.example", "2025Q1", "1", "1", ""],  # row 7: duplicate of row 2
            ["ben@acme.example", "2025Q2", "", "", ""],  # row 8
            ["ben@acme.example", "2025Q3", "0", "10", ""],  # row 9
        ],
    )
    report = run_ingest(workspace, files=[("roster", workspace.root / "roster.csv"), ("kpis", workspace.root / "kpis.csv")])
    kpis = report.files[1]
    assert (kpis.read, kpis.loaded, kpis.quarantined) == (8, 2, 6)
    assert quarantine(workspace) == [
        ("kpis.csv", "row 4", "quota", "'lots' is not a number"),
        ("kpis.csv", "row 5", "email", "the person is not in the roster"),
        ("kpis.csv", "row 6", "period", "'2025Q5' is not a quarter (2025Q1) or a month (2025-01)"),
        ("kpis.csv", "row 7", "period", "duplicate result: the same person and period are on row 2"),
        ("kpis.csv", "row 8", "quota", "no result: give quota and bookings, or attainment"),
        ("kpis.csv", "row 9", "quota", "'0' is not a positive number"),
    ]
    key = read_key(workspace.key_path)
    with Store.open(workspace, key=key) as store:
        rows = sorted(store.table("kpis").to_pyarrow().to_pylist(), key=lambda r: r["period"])
    assert [(r["period"], str(r["period_start"]), str(r["period_end"]), r["quota"], r["attainment"]) for r in rows] == [
        ("2025-02", "2025-02-01", "2025-02-28", None, 0.95),
        ("2025Q1", "2025-01-01", "2025-03-31", 100000.0, 0.8),
    ]


def test_account_problems_are_quarantined(workspace: Config) -> None:
    write_csv(
        workspace.root / "accounts.csv",
        ["account_id", "name", "domains", "type"],
        [
            ["A1", "Northwind", "northwind.example; NW.example", "Customer"],  # row 2
            ["A2", "Bluefin", "bluefin.example", "lead"],  # row 3
            ["A1", "Again", "again.example", "customer"],  # row 4
            ["A3", "Copycat", "nw.example", "prospect"],  # row 5
            ["A4", "Nowhere", "", "vendor"],  # row 6
            ["A5", "Partner Co", "partner.example", "partner"],  # row 7
        ],
    )
    (result,) = run_ingest(workspace, files=[("accounts", workspace.root / "accounts.csv")]).files
    assert (result.read, result.loaded, result.quarantined) == (6, 2, 4)
    assert quarantine(workspace) == [
        ("accounts.csv", "row 3", "type", "'lead' is not one of customer, prospect, partner, vendor"),
        ("accounts.csv", "row 4", "account_id", "duplicate account: the same id is on row 2"),
        ("accounts.csv", "row 5", "domains", "nw.example already belongs to the account on row 2"),
        ("accounts.csv", "row 6", "domains", "is empty; an account needs at least one mail domain"),
    ]
    with Store.open(workspace) as store:
        domains = sorted(
            (r["domain"], r["account_id"], r["type"]) for r in store.table("account_domains").to_pyarrow().to_pylist()
        )
    assert domains == [
        ("northwind.example", "A1", "customer"),
        ("nw.example", "A1", "customer"),
        ("partner.example", "A5", "partner"),
    ]


def test_reloading_a_corrected_roster_updates_people_and_adds_no_duplicates(workspace: Config) -> None:
    path = write_csv(workspace.root / "roster.csv", ROSTER_HEADER, roster_rows())
    run_ingest(workspace, files=[("roster", path)])
    rows = roster_rows()
    rows[3][4] = 4  # Ana is promoted
    write_csv(path, ROSTER_HEADER, rows)
    (result,) = run_ingest(workspace, files=[("roster", path)]).files
    assert (result.read, result.loaded, result.new) == (5, 5, 0)
    key = read_key(workspace.key_path)
    with Store.open(workspace, key=key) as store:
        people = store.table("people").to_pyarrow().to_pylist()
    assert len(people) == 5
    assert {p["person"]: p["level"] for p in people}[pseudonym(key, "ana@acme.example")] == 4


def test_a_duplicate_written_with_a_display_name_is_still_a_duplicate(tmp_path: Path) -> None:
    rows = roster_rows() + [["Ana Rep <ANA@acme.example>", "Ana", "mgr@acme.example", "X", 3, "Sales", "", "", "", ""]]
    assert rejected(roster_outcome(write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))) == [
        ("row 7", "email", "duplicate person: the same email is on row 5")
    ]


def test_extra_roster_columns_never_keep_an_address(workspace: Config) -> None:
    header = ROSTER_HEADER + ["assistant", "cost_center"]
    write_csv(workspace.root / "roster.csv", header, [r + ["pa@acme.example", "CC7"] for r in roster_rows()])
    run_ingest(workspace, files=[("roster", workspace.root / "roster.csv")])
    with Store.open(workspace) as store:
        attributes = {r["attributes"] for r in store.table("people").to_pyarrow().to_pylist()}
    assert attributes == {'{"cost_center": "CC7"}'}


def test_a_value_that_looks_like_an_address_is_not_echoed_in_a_reason(tmp_path: Path) -> None:
    rows = roster_rows() + [["di@acme.example", "Di", "mgr@acme.example", "X", "di@acme.example", "Sales", "", "", "", ""]]
    assert rejected(roster_outcome(write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))) == [
        ("row 7", "level", "(a value that looks like a mail address) is not a number")
    ]


def test_reloading_accounts_replaces_an_accounts_domains_and_a_fixed_file_clears_its_quarantine(workspace: Config) -> None:
    path = workspace.root / "accounts.csv"
    header = ["account_id", "name", "domains", "type"]
    write_csv(
        path, header, [["A1", "Northwind", "northwind.example;nw.example", "customer"], ["A2", "Bad", "bad.example", "lead"]]
    )
    run_ingest(workspace, files=[("accounts", path)])
    write_csv(path, header, [["A1", "Northwind", "northwind.example", "customer"], ["A2", "Bad", "bad.example", "prospect"]])
    run_ingest(workspace, files=[("accounts", path)])
    with Store.open(workspace) as store:
        domains = sorted(r["domain"] for r in store.table("account_domains").to_pyarrow().to_pylist())
        quarantined = store.count("quarantine")
    assert domains == ["bad.example", "northwind.example"]
    assert quarantined == 0


def test_account_owners_are_pseudonymised_on_every_domain_and_a_bad_owner_is_quarantined(workspace: Config) -> None:
    write_csv(
        workspace.root / "accounts.csv",
        ["account_id", "name", "domains", "type", "owner_email"],
        [
            ["A1", "Northwind", "northwind.example; nw.example", "customer", "Ana Rep <ANA@acme.example>"],  # row 2
            ["A2", "Bluefin", "bluefin.example", "prospect", ""],  # row 3: no owner
            ["A3", "Copycat", "copycat.example", "customer", "not an address"],  # row 4
        ],
    )
    (result,) = run_ingest(workspace, files=[("accounts", workspace.root / "accounts.csv")]).files
    assert (result.read, result.loaded, result.quarantined) == (3, 2, 1)
    assert quarantine(workspace) == [("accounts.csv", "row 4", "owner_email", "is not a mail address")]
    ana = pseudonym(read_key(workspace.key_path), "ana@acme.example")
    with Store.open(workspace) as store:
        domains = sorted((r["domain"], r["owner"]) for r in store.table("account_domains").to_pyarrow().to_pylist())
        accounts = sorted((r["account_id"], r["owner"]) for r in store.table("accounts").to_pyarrow().to_pylist())
    assert domains == [("bluefin.example", None), ("northwind.example", ana), ("nw.example", ana)]
    assert accounts == [("A1", ana), ("A2", None)]
