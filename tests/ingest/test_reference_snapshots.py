"""Reference files are snapshots: loaded again, a file changes what it changed and removes what it no longer has (issue 19)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from repsight.config import Config
from repsight.ingest import FileResult, IngestReport, run_ingest
from repsight.privacy import pseudonym, read_key
from repsight.store import Store
from tests.support import ROSTER_HEADER, roster_rows, write_csv

KPI_HEADER = ["email", "period", "quota", "bookings", "attainment"]
ACCOUNT_HEADER = ["account_id", "name", "domains", "type"]


def load(config: Config, *files: tuple[str, Path]) -> list[FileResult]:
    report = run_ingest(config, files=list(files))
    assert report.ok, [f.error for f in report.files]
    return report.files


def counts(result: FileResult) -> tuple[int, int, int, int, int, int]:
    return (result.read, result.loaded, result.new, result.changed, result.removed, result.quarantined)


def table(config: Config, name: str) -> list[dict[str, Any]]:
    with Store.open(config) as store:
        rows: list[dict[str, Any]] = store.table(name).to_pyarrow().to_pylist()
    return rows


def contents(config: Config, name: str) -> list[str]:
    """Return the rows of table `name` without the load that stored them, sorted."""
    return sorted(str({k: v for k, v in row.items() if k != "load_id"}) for row in table(config, name))


def kpis(config: Config) -> list[tuple[str, str, float | None, float | None]]:
    """Return the stored KPIs as (email, period, quota, attainment), sorted."""
    key = read_key(config.key_path)
    emails = {pseudonym(key, row[0]): row[0] for row in roster_rows()}
    return sorted((emails[r["person"]], r["period"], r["quota"], r["attainment"]) for r in table(config, "kpis"))


def with_roster(config: Config) -> tuple[str, Path]:
    return ("roster", write_csv(config.root / "roster.csv", ROSTER_HEADER, roster_rows()))


def test_a_kpi_row_removed_from_the_file_is_gone_after_the_reload(workspace: Config) -> None:
    path = workspace.root / "kpis.csv"
    write_csv(path, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""], ["ben@acme.example", "2025Q1", 100, 120, ""]])
    load(workspace, with_roster(workspace), ("kpis", path))
    write_csv(path, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""]])
    (result,) = load(workspace, ("kpis", path))
    assert counts(result) == (1, 1, 0, 0, 1, 0)
    assert kpis(workspace) == [("ana@acme.example", "2025Q1", 100.0, 0.8)]


def test_a_changed_quota_changes_attainment(workspace: Config) -> None:
    path = workspace.root / "kpis.csv"
    write_csv(path, KPI_HEADER, [["ana@acme.example", "2025Q1", 100_000, 80_000, ""]])
    load(workspace, with_roster(workspace), ("kpis", path))
    write_csv(path, KPI_HEADER, [["ana@acme.example", "2025Q1", 160_000, 80_000, ""]])
    (result,) = load(workspace, ("kpis", path))
    assert counts(result) == (1, 1, 0, 1, 0, 0)
    assert kpis(workspace) == [("ana@acme.example", "2025Q1", 160_000.0, 0.5)]


def test_new_changed_and_removed_are_counted_by_key_and_recorded_in_loads(workspace: Config) -> None:
    path = workspace.root / "kpis.csv"
    write_csv(
        path,
        KPI_HEADER,
        [
            ["ana@acme.example", "2025Q1", 100, 80, ""],
            ["ben@acme.example", "2025Q1", 100, 90, ""],
            ["ana@acme.example", "2025Q2", 100, 70, ""],
        ],
    )
    load(workspace, with_roster(workspace), ("kpis", path))
    write_csv(
        path,
        KPI_HEADER,
        [
            ["ana@acme.example", "2025Q1", 100, 85, ""],  # changed
            ["ben@acme.example", "2025Q1", 100, 90, ""],  # the same
            ["ben@acme.example", "2025Q2", "", "", "110%"],  # new; ana's 2025Q2 is removed
        ],
    )
    (result,) = load(workspace, ("kpis", path))
    assert counts(result) == (3, 3, 1, 1, 1, 0)
    last = max(table(workspace, "loads"), key=lambda r: r["load_id"])
    assert (last["rows_new"], last["rows_changed"], last["rows_removed"]) == (1, 1, 1)
    assert kpis(workspace) == [
        ("ana@acme.example", "2025Q1", 100.0, 0.85),
        ("ben@acme.example", "2025Q1", 100.0, 0.9),
        ("ben@acme.example", "2025Q2", None, 1.1),
    ]


def test_a_row_quarantined_on_reload_removes_the_row_stored_before(workspace: Config) -> None:
    path = workspace.root / "kpis.csv"
    write_csv(path, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""], ["ben@acme.example", "2025Q1", 100, 90, ""]])
    load(workspace, with_roster(workspace), ("kpis", path))
    write_csv(path, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""], ["ben@acme.example", "2025Q1", "lots", 90, ""]])
    (result,) = load(workspace, ("kpis", path))
    assert counts(result) == (2, 1, 0, 0, 1, 1)
    assert kpis(workspace) == [("ana@acme.example", "2025Q1", 100.0, 0.8)]


def test_a_second_kpi_files_rows_survive_reloading_the_first(workspace: Config) -> None:
    first, second = workspace.root / "kpis-2025.csv", workspace.root / "kpis-2024.csv"
    write_csv(first, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""], ["ben@acme.example", "2025Q1", 100, 90, ""]])
    write_csv(second, KPI_HEADER, [["ana@acme.example", "2024Q4", 100, 60, ""]])
    load(workspace, with_roster(workspace), ("kpis", first), ("kpis", second))
    write_csv(first, KPI_HEADER, [["ben@acme.example", "2025Q1", 100, 90, ""]])
    (result,) = load(workspace, ("kpis", first))
    assert counts(result) == (1, 1, 0, 0, 1, 0)
    assert kpis(workspace) == [("ana@acme.example", "2024Q4", 100.0, 0.6), ("ben@acme.example", "2025Q1", 100.0, 0.9)]


def test_a_key_the_other_file_loaded_last_is_not_removed_by_reloading_the_first(workspace: Config) -> None:
    first, second = workspace.root / "kpis-a.csv", workspace.root / "kpis-b.csv"
    write_csv(first, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""]])
    write_csv(second, KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 50, ""]])
    load(workspace, with_roster(workspace), ("kpis", first), ("kpis", second))
    write_csv(first, KPI_HEADER, [["ben@acme.example", "2025Q1", 100, 90, ""]])
    (result,) = load(workspace, ("kpis", first))
    assert counts(result) == (1, 1, 1, 0, 0, 0)  # the second file said ana's 2025Q1 last: it is the second file's row
    assert kpis(workspace) == [("ana@acme.example", "2025Q1", 100.0, 0.5), ("ben@acme.example", "2025Q1", 100.0, 0.9)]


def test_a_person_removed_from_the_roster_is_gone_from_people_and_keeps_their_identity(workspace: Config) -> None:
    kind, path = with_roster(workspace)
    load(workspace, (kind, path))
    write_csv(path, ROSTER_HEADER, roster_rows()[:4])  # without Ben
    (result,) = load(workspace, (kind, path))
    assert counts(result) == (4, 4, 0, 0, 1, 0)
    key = read_key(workspace.key_path)
    assert sorted(r["person"] for r in table(workspace, "people")) == sorted(pseudonym(key, r[0]) for r in roster_rows()[:4])
    # `identities` is filled by mail and calendars too: a person's name and address stay (see the loader).
    assert len(table(workspace, "identities")) == 5


def test_a_broken_export_with_no_valid_row_removes_nothing(workspace: Config) -> None:
    kind, path = with_roster(workspace)
    load(workspace, (kind, path))
    before = contents(workspace, "people")
    broken = [[*row[:4], "L5", *row[5:]] for row in roster_rows()]  # every level refused
    write_csv(path, ROSTER_HEADER, broken)
    (result,) = load(workspace, (kind, path))
    assert counts(result) == (5, 0, 0, 0, 0, 5)
    assert contents(workspace, "people") == before


def test_a_new_level_or_a_new_name_in_the_roster_is_a_change(workspace: Config) -> None:
    kind, path = with_roster(workspace)
    load(workspace, (kind, path))
    rows = roster_rows()
    rows[3][4] = 4  # Ana is promoted
    rows[4][1] = "Benjamin Rep"  # Ben's name is written out
    write_csv(path, ROSTER_HEADER, rows)
    (result,) = load(workspace, (kind, path))
    assert counts(result) == (5, 5, 0, 2, 0, 0)
    key = read_key(workspace.key_path)
    names = {r["person"]: r["name"] for r in table(workspace, "identities")}
    assert names[pseudonym(key, "ben@acme.example")] == "Benjamin Rep"


def test_an_account_removed_takes_its_domains_out_of_account_domains(workspace: Config) -> None:
    path = workspace.root / "accounts.csv"
    write_csv(
        path,
        ACCOUNT_HEADER,
        [["A1", "Northwind", "northwind.example;nw.example", "customer"], ["A2", "Bluefin", "bluefin.example", "prospect"]],
    )
    load(workspace, ("accounts", path))
    write_csv(path, ACCOUNT_HEADER, [["A2", "Bluefin", "bluefin.example", "customer"]])
    (result,) = load(workspace, ("accounts", path))
    assert counts(result) == (1, 1, 0, 1, 1, 0)
    assert [(r["account_id"], r["type"]) for r in table(workspace, "accounts")] == [("A2", "customer")]
    assert [(r["domain"], r["account_id"], r["type"]) for r in table(workspace, "account_domains")] == [
        ("bluefin.example", "A2", "customer")
    ]


def test_loading_the_identical_files_twice_reports_nothing_new_changed_or_removed(workspace: Config) -> None:
    write_csv(workspace.root / "kpis.csv", KPI_HEADER, [["ana@acme.example", "2025Q1", 100, 80, ""]])
    write_csv(workspace.root / "accounts.csv", ACCOUNT_HEADER, [["A1", "Northwind", "northwind.example", "customer"]])
    write_csv(workspace.root / "identities.csv", ["PersonId", "email", "name"], [["P-1", "ana@acme.example", "Ana Rep"]])
    files = [
        with_roster(workspace),
        ("viva_identities", workspace.root / "identities.csv"),
        ("accounts", workspace.root / "accounts.csv"),
        ("kpis", workspace.root / "kpis.csv"),
    ]
    assert [counts(r) for r in load(workspace, *files)] == [
        (5, 5, 5, 0, 0, 0),
        (1, 1, 1, 0, 0, 0),
        (1, 1, 1, 0, 0, 0),
        (1, 1, 1, 0, 0, 0),
    ]
    stored = {name: contents(workspace, name) for name in ("people", "identities", "accounts", "kpis", "person_aliases")}
    assert [counts(r) for r in load(workspace, *files)] == [
        (5, 5, 0, 0, 0, 0),
        (1, 1, 0, 0, 0, 0),
        (1, 1, 0, 0, 0, 0),
        (1, 1, 0, 0, 0, 0),
    ]
    assert {name: contents(workspace, name) for name in stored} == stored


def test_a_viva_identity_mapping_the_file_no_longer_has_is_removed(workspace: Config) -> None:
    path = workspace.root / "identities.csv"
    header = ["PersonId", "email", "name"]
    write_csv(path, header, [["P-1", "ana@acme.example", "Ana Rep"], ["P-2", "ben@acme.example", "Ben Rep"]])
    load(workspace, ("viva_identities", path))
    write_csv(path, header, [["P-1", "ana@acme.example", "Ana R."]])
    (result,) = load(workspace, ("viva_identities", path))
    assert counts(result) == (1, 1, 0, 1, 1, 0)
    key = read_key(workspace.key_path)
    assert [(r["alias"], r["person"]) for r in table(workspace, "person_aliases")] == [
        (pseudonym(key, "P-1"), pseudonym(key, "ana@acme.example"))
    ]


def test_an_account_removed_from_a_salesforce_export_is_gone_with_its_domain(workspace: Config) -> None:
    folder = workspace.root / "sfdc"
    folder.mkdir()
    (folder / "User.csv").write_text("Id,Email\n0055000000Ana01AAB,ana@acme.example\n", encoding="utf-8")
    accounts = "Id,Name,Type,Website,OwnerId\n"
    initech = "0015000000Init1AAC,Initech,Customer - Direct,initech.example,0055000000Ana01AAB\n"
    globex = "0015000000Glbx1AAC,Globex,Prospect,globex.example,\n"
    (folder / "Account.csv").write_text(accounts + initech + globex, encoding="utf-8")
    load(workspace, ("salesforce", folder))
    (folder / "Account.csv").write_text(accounts + initech, encoding="utf-8")
    (result,) = load(workspace, ("salesforce", folder))
    assert (result.new, result.changed, result.removed) == (0, 0, 1)
    assert [r["account_id"] for r in table(workspace, "accounts")] == ["0015000000Init1AAC"]
    assert [r["domain"] for r in table(workspace, "account_domains")] == ["initech.example"]


def test_the_ingest_table_shows_changed_and_removed_when_a_reference_file_changed_something() -> None:
    root = Path("/workspace")
    kpis = FileResult("kpis", root / "kpis.csv", read=3, loaded=3, new=1, changed=1, removed=2, seconds=0.1)
    mail = FileResult("mail", root / "mail/a.csv", read=9, loaded=9, new=9, seconds=0.2)
    assert lines(IngestReport(files=[kpis, mail])) == [
        "Ingest",
        "kind file read loaded new changed removed quarantined secs",
        "kpis kpis.csv 3 3 1 1 2 0 0.1",
        "mail mail/a.csv 9 9 9 0 0.2",  # events never change: blank
        "total 12 12 10 1 2 0 0.3",
    ]
    unchanged = FileResult("kpis", root / "kpis.csv", read=3, loaded=3, new=3, seconds=0.1)
    assert lines(IngestReport(files=[unchanged, mail]))[1:3] == [
        "kind file read loaded new quarantined secs",
        "kpis kpis.csv 3 3 3 0 0.1",
    ]


def lines(report: IngestReport) -> list[str]:
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    console.print(report.render(Path("/workspace")))
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return [" ".join(line.replace("│", " ").replace("─", " ").split()) for line in text.splitlines() if line.strip("─ ")]
