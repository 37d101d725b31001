"""An org chart that changes: each rep-period's segments come from the roster row in force on the period's last day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from repsight.config import CompanyConfig, Config, StudyConfig
from repsight.ingest import run_ingest
from repsight.metrics import compute_metrics
from repsight.sources import open_source, reader_for
from repsight.sources.records import Person, Rejected
from repsight.store import Store
from repsight.study import rep_periods
from repsight.workspace import init_workspace
from tests.support import TEST_KEY, write_csv
from tests.support.metrics_org import COMPANY_DOMAIN, OrgBuilder

HEADER = ["email", "name", "manager_email", "org", "level", "function", "region", "effective_date"]


def test_a_roster_with_effective_dates_keeps_every_row_and_people_holds_the_latest(tmp_path: Path) -> None:
    config = init_workspace(tmp_path / "ws", domains=["acme.example"], mail=[], calendar=[])
    write_csv(
        config.root / "roster.csv",
        HEADER,
        [
            ["boss@acme.example", "Boss", "", "Sales", 8, "Executive", "NA", ""],
            ["ana@acme.example", "Ana", "boss@acme.example", "Sales", 3, "Sales", "EMEA", "2025-01-01"],
            ["ana@acme.example", "Ana", "boss@acme.example", "Sales", 4, "Sales", "NA", "2025-04-01"],
            ["ana@acme.example", "Ana", "boss@acme.example", "Sales", 4, "Sales", "APAC", "2025-04-01"],
        ],
    )
    with open_source(config.root / "roster.csv") as source:
        found = list(reader_for("roster", config.root / "roster.csv")(source))
    assert [type(r) for r in found] == [Person, Person, Person, Rejected]
    assert found[3] == Rejected("row 5", "email", "duplicate person: the same email and effective date is on row 4")
    config = config.model_copy(update={"sources": config.sources.model_copy(update={"accounts": None, "kpis": None})})
    report = run_ingest(config)
    assert report.ok and report.files[0].new == 3
    with Store.open(config, read_only=True) as store:
        history = store.to_pandas(store.table("people_history").order_by(["person", "effective_date"]))
        people = store.to_pandas(store.table("people"))
    assert sorted(zip(history["region"], history["effective_date"].astype(str), strict=True)) == [
        ("EMEA", "2025-01-01"),
        ("NA", "0001-01-01"),
        ("NA", "2025-04-01"),
    ]
    assert sorted(zip(people["region"], people["level"], strict=True)) == [("NA", 4), ("NA", 8)]


def test_a_dated_file_name_is_the_effective_date_of_its_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "roster-2025-07-01.csv", HEADER[:-1], [["ana@acme.example", "Ana", "", "Sales", 3, "Sales", "NA"]]
    )
    with open_source(path) as source:
        [person] = list(reader_for("roster", path)(source))
    assert isinstance(person, Person) and person.effective_date == date(2025, 7, 1)


def test_each_rep_period_takes_the_segments_in_force_on_its_last_day(tmp_path: Path) -> None:
    b = OrgBuilder()
    names = ("ana", "bob", "cid", "dan")
    for name in names:
        b.person(name)
    monday = date(2025, 1, 6)
    for week in (0, 14):  # one week in each quarter
        for name in names:
            b.meeting(f"{monday + timedelta(weeks=week, days=1)} 10:00", 60, name, [n for n in names if n != name][:1])
    for name in names:
        b.kpi(name, "2025Q1")
        b.kpi(name, "2025Q2")
    config = Config(
        company=CompanyConfig(domains=[COMPANY_DOMAIN]),
        study=StudyConfig(metrics=["meeting_hours"], segment_by=["region", "level"]),
        path=tmp_path / "repsight.toml",
    )
    history = {
        "person": ["ana", "ana", "bob", "bob", "dan", "dan"],
        "effective_date": pa.array(
            [date(1, 1, 1), date(2025, 5, 1), date(1, 1, 1), date(2025, 7, 1), date(2025, 7, 1), date(2025, 8, 1)], pa.date32()
        ),
        "region": ["EMEA", "NA", "NA", "APAC", "APAC", "LATAM"],
        "level": [3, 4, 3, 5, 5, 6],
        "function": ["Sales"] * 6,
    }
    with Store.open(config, key=TEST_KEY) as store:
        for name, table in b.tables().items():
            store.append(name, table)
        store.append("people_history", pa.table(history))
        compute_metrics(store, config)
        rows, _ = rep_periods(store, config)
    found = {(r.person, r.period): (r.region, r.level) for r in rows.itertuples()}
    assert found[("ana", "2025Q1")] == ("EMEA", "3")  # in force on 31 March
    assert found[("ana", "2025Q2")] == ("NA", "4")  # from 1 May: in force on 30 June
    assert found[("bob", "2025Q2")] == ("NA", "3")  # his move on 1 July is after the quarter
    assert found[("dan", "2025Q1")] == ("APAC", "5")  # every row of his is later: the first one is taken
    assert found[("cid", "2025Q2")] == ("NA", "3")  # no history: as `people` says


def test_a_glob_of_dated_roster_files_loads_them_in_name_order_as_one_history(tmp_path: Path) -> None:
    config = init_workspace(tmp_path / "ws", domains=["acme.example"], mail=[], calendar=[])
    (config.root / "roster").mkdir()
    for day, region in (("2025-01-01", "EMEA"), ("2025-04-01", "NA")):
        write_csv(
            config.root / "roster" / f"roster-{day}.csv",
            HEADER[:-1],
            [["ana@acme.example", "Ana", "", "Sales", 3, "Sales", region]],
        )
    sources = config.sources.model_copy(update={"roster": "roster/roster-*.csv", "accounts": None, "kpis": None})
    config = config.model_copy(update={"sources": sources})
    report = run_ingest(config)
    assert [f.path.name for f in report.files] == ["roster-2025-01-01.csv", "roster-2025-04-01.csv"]
    with Store.open(config, read_only=True) as store:
        assert store.count("people_history") == 2
        assert store.to_pandas(store.table("people"))["region"].tolist() == ["NA"]
