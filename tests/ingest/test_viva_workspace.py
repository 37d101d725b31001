"""A Viva Insights workspace end to end: the sample person query Microsoft ships, identities, reloads, the export's round trip.

The sample is read from the installed `vivainsights` package (MIT), never
copied into the repository; its attainment is generated here, seeded.
"""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import repsight.notebook
from repsight.config import VIVA_STUDY_METRICS, Config, load_config
from repsight.errors import MetricsError
from repsight.export import run_export
from repsight.ingest import run_ingest
from repsight.metrics import run_metrics
from repsight.metrics.catalog import CATALOG, PERIOD_ONLY, WEEKLY
from repsight.privacy import pseudonym, read_key
from repsight.store import Store
from repsight.study import run_study
from repsight.workspace import init_workspace
from tests.support import repsight as run_cli
from tests.support import studied_company

vivainsights = pytest.importorskip("vivainsights")

SAMPLE = Path(str(files("vivainsights") / "data" / "pq_data.csv"))
MAPPED = "bf361ad4-fc29-432f-95f3-837e689f4ac4"
"""The sample's first PersonId, which the tests' identity mapping names ana@acme.example."""


def _quarter(dates: pd.Series) -> pd.Series:
    return dates.dt.year.astype(str) + "Q" + dates.dt.quarter.astype(str)


def _sample_kpis(query: pd.DataFrame) -> pd.DataFrame:
    """Return a KPI per PersonId and quarter: attainment rising with network and leadership time, plus seeded noise."""
    rows = query.assign(period=_quarter(pd.to_datetime(query["MetricDate"])))
    means = rows.groupby(["PersonId", "period"], as_index=False)[["Internal_network_size", "Time_with_leadership"]].mean()
    noise = np.random.default_rng(7).normal(0, 0.2, len(means))
    attainment = 0.5 + 0.01 * means["Internal_network_size"] + 0.05 * means["Time_with_leadership"] + noise
    return pd.DataFrame({"PersonId": means["PersonId"], "period": means["period"], "attainment": attainment.round(4)})


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """Return the sample person query's workspace (`init --from viva`), ingested, measured and studied."""
    folder = tmp_path_factory.mktemp("viva") / "ws"
    config = init_workspace(folder, domains=[], origin="viva")
    text = config.path.read_text(encoding="utf-8").replace("bootstrap_resamples = 2000", "bootstrap_resamples = 200")
    text = text.replace('segment_by = ["org", "function"]', 'segment_by = ["org", "LevelDesignation"]')
    config.path.write_text(text, encoding="utf-8")
    # Who one PersonId is: that person may sign in to their own page; nobody else can.
    text = text.replace('# viva_identities = "identities.csv"', 'viva_identities = "identities.csv"')
    config.path.write_text(text, encoding="utf-8")
    (folder / "identities.csv").write_text(f"PersonId,email,name\n{MAPPED},ana@acme.example,Ana Duarte\n", encoding="utf-8")
    (folder / "viva").mkdir()
    shutil.copy(SAMPLE, folder / "viva" / "pq_data.csv")
    _sample_kpis(pd.read_csv(SAMPLE)).to_csv(folder / "kpis.csv", index=False)
    config = load_config(config.path)
    report = run_ingest(config)
    assert report.ok and report.total().quarantined == 0
    run_metrics(config)
    run_study(config)
    return config


def _document(config: Config) -> dict:
    with Store.open(config, read_only=True) as store:
        return json.loads(store.to_arrow(store.table("study_results"))["document"][0].as_py())


def test_the_sample_is_read_whole_with_its_hr_columns(sample: Config) -> None:
    query = pd.read_csv(SAMPLE)
    key = read_key(sample.key_path)
    with Store.open(sample, read_only=True) as store:
        people = store.to_pandas(store.table("people")).set_index("person")
        weeks = store.to_pandas(store.table("person_week"))
    assert len(weeks) == len(query) == 10_500
    assert len(people) == query["PersonId"].nunique() == 300
    first = query.iloc[0]
    assert first["PersonId"] == MAPPED
    person = pseudonym(key, "ana@acme.example")  # mapped: the email's pseudonym
    assert first["PersonId"] not in set(people.index)  # never stored raw
    assert people.at[person, "org"] == first["Organization"]
    assert people.at[person, "function"] == first["FunctionType"]
    assert json.loads(people.at[person, "attributes"])["LevelDesignation"] == first["LevelDesignation"]
    row = weeks[(weeks["person"] == person) & (pd.to_datetime(weeks["week"]) == pd.Timestamp(first["MetricDate"]))].iloc[0]
    assert row["collaboration_hours"] == first["Collaboration_hours"]
    assert row["manager_hours"] == first["Meeting_and_call_hours_with_manager"]
    # repsight's counts are whole: the sample's fractional organisations reached are rounded (docs/viva.md).
    assert row["org_span"] == round(first["Network_outside_organisation"]) == 14
    assert row["network_outside_company"] == first["Network_outside_company"]  # a Viva-only count is kept as it is
    assert row["leadership_hours"] == first["Time_with_leadership"]
    assert row["internal_network_size"] == first["Internal_network_size"]
    assert pd.isna(row["customer_hours"]) and pd.isna(row["senior_leader_hours"])


def test_phase_one_equals_a_pandas_computation_from_the_file_itself(sample: Config) -> None:
    query = pd.read_csv(SAMPLE)
    query["period"] = _quarter(pd.to_datetime(query["MetricDate"]))
    kpis = _sample_kpis(pd.read_csv(SAMPLE))
    columns = {
        "internal_network_size": "Internal_network_size",
        "collaboration_hours": "Collaboration_hours",
        "external_hours": "External_collaboration_hours",
        "manager_hours": "Meeting_and_call_hours_with_manager",
        "leadership_hours": "Time_with_leadership",
        "skip_level_hours": "Meeting_and_call_hours_with_skip_level",
        "org_span": "Network_outside_organisation",
        "after_hours_collaboration_hours": "After_hours_collaboration_hours",
    }
    absent = ["customer_hours", "senior_leader_hours"]
    assert set(VIVA_STUDY_METRICS) == {*absent, *columns}
    # repsight's counts are whole: rounded half away from zero, as docs/viva.md says.
    for column in ("Internal_network_size", "Network_outside_organisation"):
        query[column] = np.floor(query[column] + 0.5)
    means = query.groupby(["PersonId", "period"], as_index=False)[list(columns.values())].mean()
    rows = means.merge(kpis, on=["PersonId", "period"])
    key = read_key(sample.key_path)
    rows["person"] = [pseudonym(key, "ana@acme.example" if p == MAPPED else p) for p in rows["PersonId"]]
    # Each period's bottom and top quarter by attainment (ties by pseudonym), as docs/study.md defines the tiers.
    rows = rows.sort_values(["period", "attainment", "person"]).reset_index(drop=True)
    rows["tier"] = 0
    for _, index in rows.groupby("period").groups.items():
        size = len(index) // 4
        rows.loc[index[:size], "tier"] = -1
        rows.loc[index[-size:], "tier"] = 1
    document = _document(sample)
    assert document["absent"] == absent
    assert list(document["phase1"]) == [m for m in VIVA_STUDY_METRICS if m not in absent]
    assert document["population"]["rep_periods"] == len(rows) == 1_200
    for metric, column in columns.items():
        top = rows.loc[rows["tier"] == 1, column].mean()
        bottom = rows.loc[rows["tier"] == -1, column].mean()
        found = document["phase1"][metric]
        assert found["top_mean"] == pytest.approx(top, rel=1e-12), metric
        assert found["bottom_mean"] == pytest.approx(bottom, rel=1e-12), metric
        assert found["bottom_vs_top_pct"] == pytest.approx(100 * (bottom - top) / top, rel=1e-9), metric
    # The planted effect: a smaller network and less leadership time in the bottom tier.
    assert document["phase1"]["internal_network_size"]["bottom_vs_top_pct"] < -15
    assert document["phase1"]["leadership_hours"]["bottom_vs_top_pct"] < -15
    assert set(document["phase2"]) == {"org", "LevelDesignation"}
    assert set(document["phase2"]["LevelDesignation"]["segments"]) == {"Executive", "Junior IC", "Senior IC", "Senior Manager"}


def test_the_report_and_the_dashboard_say_what_is_absent_and_only_a_mapped_person_signs_in(
    sample: Config, tmp_path: Path
) -> None:
    from repsight.report import write_report
    from repsight.web import Accounts
    from repsight.web.app import create_app
    from repsight.web.data import load_data
    from tests.support.web_org import PASSWORD, signed_in

    report = tmp_path / "report.html"
    write_report(sample, report)
    page = report.read_text(encoding="utf-8")
    assert "Not in the data, so not tested: Customer time, Senior-leader time." in page
    assert page.count("not in the data</div>") == 2  # the two headline cards, not a zero
    with Store.open(sample, read_only=True) as store:
        data = load_data(store, sample)
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("ana@acme.example", PASSWORD)
    accounts.add("bob@acme.example", PASSWORD)
    accounts.add("analyst@acme.example", PASSWORD, frozenset({"analyst"}))
    app = create_app(sample, data, accounts, "s" * 64)
    analysis = signed_in(app, "analyst@acme.example").get("/analysis")
    assert analysis.status_code == 200
    assert "Not in the data, so not tested: Customer time (hours/week), Senior-leader time (hours/week)." in analysis.text
    own = signed_in(app, "ana@acme.example").get("/me")
    assert own.status_code == 200 and "Ana Duarte" in own.text
    assert signed_in(app, "bob@acme.example").get("/me").status_code == 403  # no identity: no page of their own


@pytest.mark.parametrize("mingroup", [5, 14, 60])
def test_group_means_equal_vivainsights_create_bar_and_hide_the_same_groups(sample: Config, mingroup: int) -> None:
    from repsight.config import PrivacyConfig

    query = vivainsights.load_pq_data()
    config = sample.model_copy(update={"privacy": PrivacyConfig(min_group_size=mingroup)})
    workspace = repsight.notebook.Workspace(config)
    for metric, column in (("collaboration_hours", "Collaboration_hours"), ("internal_network_size", "Internal_network_size")):
        expected = vivainsights.create_bar(query, column, "Organization", mingroup=mingroup, return_type="table")
        found = workspace.group_means(metric, "Organization")
        assert sorted(found["Organization"]) == sorted(expected["Organization"])
        assert ("Sales" in set(found["Organization"])) == (mingroup <= 13)  # Sales has 13 people
        by_group = expected.set_index("Organization")
        for _, row in found.iterrows():
            assert row["metric"] == pytest.approx(by_group.at[row["Organization"], "metric"], rel=1e-12)
            assert row["n"] == by_group.at[row["Organization"], "n"]


def test_the_cli_runs_the_study_on_the_sample_in_four_commands(tmp_path: Path) -> None:
    folder = tmp_path / "viva"
    created = run_cli("init", str(folder), "--from", "viva", cwd=tmp_path)
    assert created.returncode == 0
    lines = created.stdout.splitlines()
    assert lines[0] == f"Created {folder / 'repsight.toml'}" and lines[1].startswith("Key: ")
    (folder / "viva").mkdir()
    shutil.copy(SAMPLE, folder / "viva")
    _sample_kpis(pd.read_csv(SAMPLE)).to_csv(folder / "kpis.csv", index=False)
    config = folder / "repsight.toml"
    config.write_text(config.read_text().replace("bootstrap_resamples = 2000", "bootstrap_resamples = 100"))
    for command in ("ingest", "metrics", "analyze"):
        done = run_cli(command, "-c", str(config), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "network people" in done.stdout and "leadership h/wk" in done.stdout
    metrics = run_cli("metrics", "-c", str(config), cwd=tmp_path).stdout
    assert "not in the data" in metrics  # customer time and senior-leader time: absent, not zero


def _query(folder: Path, text: str) -> None:
    (folder / "viva").mkdir(exist_ok=True)
    (folder / "viva" / "query.csv").write_text(text, encoding="utf-8")


def _small(tmp_path: Path, query: str, kpis: str, identities: str | None = None) -> Config:
    config = init_workspace(tmp_path / "small", domains=[], origin="viva")
    _query(config.root, query)
    (config.root / "kpis.csv").write_text(kpis, encoding="utf-8")
    if identities is not None:
        (config.root / "identities.csv").write_text(identities, encoding="utf-8")
        text = config.path.read_text().replace('# viva_identities = "identities.csv"', 'viva_identities = "identities.csv"')
        config.path.write_text(text)
    return load_config(config.path)


QUERY = (
    "PersonId,MetricDate,Collaboration_hours,Internal_network_size,Organization,ManagerId\n"
    "p-1,03/31/2024,10,5,Sales,p-2\n"
    "p-1,04/07/2024,20,7,Sales,p-2\n"
    "p-2,04/07/2024,4,3,Sales,\n"
)


def test_an_identity_mapping_gives_people_their_emails_pseudonyms_and_kpis_by_person_id_join(tmp_path: Path) -> None:
    config = _small(
        tmp_path,
        QUERY,
        "PersonId,period,attainment\np-1,2024Q2,1.1\np-2,2024Q2,0.9\np-3,2024Q2,1.0\n",
        "PersonId,email,name\np-1,ana@acme.example,Ana Duarte\n",
    )
    report = run_ingest(config)
    key = read_key(config.key_path)
    ana, other = pseudonym(key, "ana@acme.example"), pseudonym(key, "p-2")
    with Store.open(config, read_only=True) as store:
        people = store.to_pandas(store.table("people")).set_index("person")
        kpis = store.to_pandas(store.table("kpis")).set_index("person")
        identities = store.to_pandas(store.table("identities"))
        quarantine = store.to_pandas(store.table("quarantine"))
    assert set(people.index) == {ana, other}
    assert people.at[ana, "manager"] == other
    assert dict(kpis["attainment"]) == {ana: 1.1, other: 0.9}
    assert identities.to_dict("records") == [{"person": ana, "email": "ana@acme.example", "name": "Ana Duarte"}]
    assert quarantine[["position", "field", "reason"]].to_dict("records") == [
        {"position": "row 4", "field": "PersonId", "reason": "the person is not in the Viva Insights person query or the roster"}
    ]
    assert [f.kind for f in report.files] == ["viva_identities", "viva", "kpis"]


def test_metrics_average_each_persons_weeks_in_a_period_and_a_reload_replaces_weeks(tmp_path: Path) -> None:
    config = _small(tmp_path, QUERY, "PersonId,period,attainment\np-1,2024Q2,1.1\n")
    run_ingest(config)
    run_ingest(config)  # the same file again: nothing doubled
    run_metrics(config)
    key = read_key(config.key_path)
    p1 = pseudonym(key, "p-1")
    with Store.open(config, read_only=True) as store:
        periods = store.to_pandas(store.table("person_period")).set_index(["person", "period"])
        assert store.count("viva_values") == 6
    # 03/31 is in the first quarter, 04/07 in the second: a period holds the weeks whose MetricDate falls in it.
    assert periods.loc[(p1, "2024Q1"), "collaboration_hours"] == 10.0
    assert periods.loc[(p1, "2024Q2"), "collaboration_hours"] == 20.0
    assert periods.loc[(p1, "2024Q2"), "weeks"] == 1
    assert pd.isna(periods.loc[(p1, "2024Q2"), "customer_hours"])
    assert pd.isna(periods.loc[(p1, "2024Q2"), "network_prominence"])
    # A corrected export: a value changed, a value removed, a week gone from the file stays as last loaded.
    _query(config.root, "PersonId,MetricDate,Collaboration_hours,Internal_network_size,Organization\np-1,04/07/2024,30,,Sales\n")
    run_ingest(config)
    run_metrics(config)
    with Store.open(config, read_only=True) as store:
        week = store.to_pandas(store.table("person_week").filter(lambda t: t.person == p1))
    week = week.set_index(pd.to_datetime(week["week"]))
    assert week.loc[pd.Timestamp("2024-04-07"), "collaboration_hours"] == 30.0
    assert pd.isna(week.loc[pd.Timestamp("2024-04-07"), "internal_network_size"])
    assert week.loc[pd.Timestamp("2024-03-31"), "collaboration_hours"] == 10.0


def test_a_workspace_with_both_events_and_a_person_query_is_refused(tmp_path: Path) -> None:
    config = _small(tmp_path, QUERY, "PersonId,period,attainment\n")
    run_ingest(config)
    with Store.open(config) as store:
        store.backend.con.execute(
            "INSERT INTO messages (message_key, sent_at, sender, recipient_count) VALUES ('k', TIMESTAMP '2024-04-08 10:00', 'x', 1)"
        )
    with pytest.raises(MetricsError, match="both mail or calendar events and a Viva Insights person query"):
        run_metrics(config)


def test_repsights_own_viva_export_reads_back_to_the_same_metrics(tmp_path: Path) -> None:
    events = studied_company(tmp_path / "events", people=40, months=3)
    out = tmp_path / "export.csv"
    run_export(events, "person_week", "viva", out)
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert '"Meeting_and_call_hours_with_manager_1_1"' in header and '"Network_outside_organisation"' in header
    assert '"customer_hours"' in header and "Time_with_leadership" not in header  # not measured from events

    viva = init_workspace(tmp_path / "back", domains=[], origin="viva")
    shutil.copy(events.key_path, viva.key_path)
    (viva.root / "viva").mkdir()
    shutil.copy(out, viva.root / "viva" / "export.csv")
    text = viva.path.read_text().replace('kpis = "kpis.csv"', 'kpis = ""')
    viva.path.write_text(text.replace('period = "auto"', 'period = "quarter"'))
    viva = load_config(viva.path)
    report = run_ingest(viva)
    assert report.ok and report.total().quarantined == 0
    run_metrics(viva)
    key = read_key(events.key_path)
    weekly = [m for m in WEEKLY if not next(c for c in CATALOG if c.name == m).viva_only]
    with Store.open(events, read_only=True) as store:
        before_weeks = store.to_pandas(store.table("person_week")).sort_values(["person", "week"])
        before = store.to_pandas(store.table("person_period")).sort_values(["person", "period"])
    with Store.open(viva, read_only=True) as store:
        after_weeks = store.to_pandas(store.table("person_week")).sort_values(["person", "week"])
        after = store.to_pandas(store.table("person_period")).sort_values(["person", "period"])
    # The export's PersonId is a pseudonym; read back, it is pseudonymised again under the same key.
    again = {pseudonym(key, p): p for p in before["person"].unique()}
    after_weeks["person"] = after_weeks["person"].map(again)
    after["person"] = after["person"].map(again)
    after_weeks = after_weeks.sort_values(["person", "week"]).reset_index(drop=True)
    after = after.sort_values(["person", "period"]).reset_index(drop=True)
    before_weeks, before = before_weeks.reset_index(drop=True), before.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        after_weeks[["person", "week", "period", *weekly]], before_weeks[["person", "week", "period", *weekly]]
    )
    pd.testing.assert_frame_equal(
        after[["person", "period", "period_start", "weeks"]], before[["person", "period", "period_start", "weeks"]]
    )
    pd.testing.assert_frame_equal(after[weekly], before[weekly], check_exact=False, rtol=1e-12, check_dtype=False)
    # What a week cannot carry is absent after the round trip, not zero: the period-only scores and engagement.
    assert after[list(PERIOD_ONLY)].isna().all().all()


def test_validation_finds_the_samples_implausible_weeks(sample: Config) -> None:
    from repsight.metrics.catalog import metric
    from repsight.sources.viva import METRIC_OF, canonical_name
    from repsight.validation import run_validation

    query = pd.read_csv(SAMPLE)
    key = read_key(sample.key_path)
    expected = set()
    for column in query.columns:
        name = METRIC_OF.get(canonical_name(column))
        found = metric(name) if name else None
        if found is None or found.kind != "hours" or found.grain != "week":
            continue
        for row in query[query[column] > 100].itertuples():
            person = pseudonym(key, "ana@acme.example" if row.PersonId == MAPPED else row.PersonId)
            expected.add((person, pd.Timestamp(row.MetricDate).date(), name, getattr(row, column)))
    # The sample has weeks of 168 hours with the manager and of meetings, and calls above 100 hours.
    assert {n for _, _, n, _ in expected} == {"meeting_hours", "manager_hours", "call_hours"}
    assert max(v for _, _, _, v in expected) == 168.0
    flags = run_validation(sample).flags
    found = {(f.person, f.week, f.numbers["metric"], f.numbers["value"]) for f in flags if f.rule == "implausible_value"}
    assert found == expected
