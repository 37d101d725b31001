"""The bulk synthetic company: written straight to the store, shaped as the loaders shape data, planted like activity.py."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bulk import EVENT_TABLES, BulkResult, generate_store, main
from bulk.events import hex_keys
from repsight.config import Config, EngineConfig, load_config
from repsight.errors import StoreError
from repsight.metrics import run_metrics
from repsight.privacy import pseudonym
from repsight.schema import KEYS, TABLES
from repsight.store import Store
from repsight.synth import DEFAULT_START, _full_quarters, _kpis, _months_later, _partial
from repsight.synth.activity import Params, quarter_skills
from repsight.synth.org import build_company
from repsight.synth.random import Rng
from repsight.workspace import init_workspace
from tests.support import TEST_KEY

PEOPLE, MONTHS, SEED = 60, 3, 3
WEEKS = 14  # Mondays from 2024-07-01 to 2024-09-30
DATA_TABLES = [
    "identities",
    "people",
    "accounts",
    "account_domains",
    "kpis",
    "messages",
    "message_recipients",
    "meetings",
    "meeting_attendees",
]
# A message that answers none has no parent; a partner or vendor account has no owner.
NULLABLE = {
    ("people", "manager"),
    ("people", "segment"),
    ("people", "channel"),
    ("people", "leave_date"),
    ("messages", "parent_key"),
    ("accounts", "owner"),
    ("account_domains", "owner"),
}
PERSONAL = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com")
Tables = dict[str, pa.Table]
KEYS_OF = {name: [(c, "ascending") for c in KEYS[name]] for name in EVENT_TABLES}


def build(folder: Path, *, people: int = PEOPLE, months: int = MONTHS, seed: int = SEED) -> tuple[Config, BulkResult, Tables]:
    config = init_workspace(folder, domains=["acme.example"], timezone="America/New_York")
    result = generate_store(config, TEST_KEY, people=people, months=months, seed=seed)
    with duckdb.connect(str(config.database_path), read_only=True) as con:
        tables = {name: con.execute(f"SELECT * FROM {name}").to_arrow_table() for name in [*DATA_TABLES, "loads"]}
    return config, result, tables


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, BulkResult, Tables]:
    return build(tmp_path_factory.mktemp("bulk") / "ws")


def rows(table: pa.Table, *columns: str) -> list[tuple[object, ...]]:
    return list(zip(*(table[c].to_pylist() for c in columns), strict=True))


def test_every_table_has_the_store_schema_and_no_unexpected_nulls(small: tuple[Config, BulkResult, Tables]) -> None:
    _, result, tables = small
    for name in DATA_TABLES:
        table = tables[name]
        assert table.schema.equals(ibis.schema(TABLES[name]).to_pyarrow()), name
        assert table.num_rows > 0, name
        for column in table.column_names:
            if (name, column) not in NULLABLE:
                assert table[column].null_count == 0, (name, column)
        assert result.rows[name] == table.num_rows
    assert result.rows == {
        "people": 60,
        "identities": 61,
        "accounts": 301,
        "account_domains": 301,
        "kpis": 26,
        "messages": 9334,
        "message_recipients": 11453,
        "meetings": 3710,
        "meeting_attendees": 9830,
    }, "same seed, same rows: a change here changes every benchmark's data"


def test_every_table_is_unique_on_its_key(small: tuple[Config, BulkResult, Tables]) -> None:
    _, _, tables = small
    for name in DATA_TABLES:
        keys = rows(tables[name], *KEYS[name])
        assert len(set(keys)) == len(keys), name
    assert all(len(k) == 32 for k in tables["messages"]["message_key"].to_pylist())


def test_counts_match_participant_rows_and_participants_are_well_formed(small: tuple[Config, BulkResult, Tables]) -> None:
    _, _, t = small
    sent = Counter(t["message_recipients"]["message_key"].to_pylist())
    assert {k: n for k, n in rows(t["messages"], "message_key", "recipient_count")} == dict(sent)
    sender = dict(rows(t["messages"], "message_key", "sender"))
    assert all(sender[k] != r for k, r in rows(t["message_recipients"], "message_key", "recipient"))
    assert set(t["message_recipients"]["kind"].to_pylist()) == {"to", "cc"}

    invited = Counter(t["meeting_attendees"]["meeting_key"].to_pylist())
    assert {k: n for k, n in rows(t["meetings"], "meeting_key", "attendee_count")} == dict(invited)
    organizer = dict(rows(t["meetings"], "meeting_key", "organizer"))
    organizer_rows = [
        (k, a) for k, a, r in rows(t["meeting_attendees"], "meeting_key", "attendee", "response") if r == "organizer"
    ]
    assert sorted(organizer_rows) == sorted(organizer.items()), "one organiser row per meeting: its organiser"
    assert set(t["meeting_attendees"]["response"].to_pylist()) == {
        "organizer",
        "accepted",
        "tentative",
        "declined",
        "needs-action",
        "none",
    }
    # Domains are the participants' own: one domain per pseudonym.
    for table, who, domain in (
        ("messages", "sender", "sender_domain"),
        ("message_recipients", "recipient", "recipient_domain"),
        ("meetings", "organizer", "organizer_domain"),
        ("meeting_attendees", "attendee", "attendee_domain"),
    ):
        pairs = set(rows(t[table], who, domain))
        assert len({p for p, _ in pairs}) == len(pairs), table


def test_identities_name_every_colleague_and_no_outsider(small: tuple[Config, BulkResult, Tables]) -> None:
    _, _, t = small
    identities = dict(rows(t["identities"], "person", "email"))
    assert all(pseudonym(TEST_KEY, email) == person for person, email in identities.items())
    assert all(email.endswith("@acme.example") for email in identities.values())
    assert set(t["people"]["person"].to_pylist()) | {pseudonym(TEST_KEY, "sales-all@acme.example")} == set(identities)
    for table, who, domain in (
        ("messages", "sender", "sender_domain"),
        ("message_recipients", "recipient", "recipient_domain"),
        ("meetings", "organizer", "organizer_domain"),
        ("meeting_attendees", "attendee", "attendee_domain"),
    ):
        for person, where in set(rows(t[table], who, domain)):
            assert (person in identities) == (where == "acme.example"), (table, where)
    managers = set(t["people"]["manager"].drop_null().to_pylist())
    assert managers <= set(identities)


def test_reference_tables_are_those_generate_would_load(small: tuple[Config, BulkResult, Tables]) -> None:
    _, result, t = small
    rng = Rng(SEED)
    end = _months_later(DEFAULT_START, MONTHS)
    company = build_company(PEOPLE, rng, DEFAULT_START, end)
    quarters = _full_quarters(DEFAULT_START, end)
    skills = quarter_skills(company, [q for q, _, _ in quarters] + _partial(DEFAULT_START, end, quarters), rng, Params())
    expected = {(pseudonym(TEST_KEY, e), p, q, b) for e, p, q, b in _kpis(company, quarters, skills, rng, Params())}
    assert set(rows(t["kpis"], "person", "period", "quota", "bookings")) == expected
    assert all(math.isclose(a, b / q) for q, b, a in rows(t["kpis"], "quota", "bookings", "attainment"))
    assert set(rows(t["kpis"], "period_start", "period_end")) == {(date(2024, 7, 1), date(2024, 9, 30))}
    people = {p: r for p, *r in rows(t["people"], "person", "level", "org", "hire_date", "leave_date", "timezone")}
    for e in company.employees:
        assert people[pseudonym(TEST_KEY, e.email)] == [e.level, e.org, e.hire_date, e.leave_date, e.timezone]
    assert result.skills == {pseudonym(TEST_KEY, r.email): r.skill for r in company.reps}
    account = dict(rows(t["account_domains"], "domain", "type"))
    assert account == {a.domain: a.type for a in company.accounts}
    loads = rows(t["loads"], "kind", "rows_new", "finished_at")
    assert [(k, n) for k, n, _ in loads] == [
        ("roster", 60),
        ("accounts", 301),
        ("kpis", 26),
        ("mail", 9334),
        ("calendar", 3710),
    ]
    assert all(finished is not None for _, _, finished in loads)


def test_same_seed_same_tables_other_seed_other_tables(small: tuple[Config, BulkResult, Tables], tmp_path: Path) -> None:
    _, _, first = small
    _, _, again = build(tmp_path / "again")
    for name in DATA_TABLES:
        assert again[name].equals(first[name]), name
    _, _, other = build(tmp_path / "other", seed=SEED + 1)
    assert not other["messages"].equals(first["messages"])


def test_rates_are_those_of_activity(small: tuple[Config, BulkResult, Tables]) -> None:
    """activity.py's rates (measured on `generate(people=200, months=3)` loaded by ingest) within sampling noise."""
    _, _, t = small
    person_weeks = PEOPLE * WEEKS
    messages, meetings = t["messages"], t["meetings"]
    assert 11 < messages.num_rows / person_weeks < 16  # activity: 13.5
    assert 4.2 < meetings.num_rows / person_weeks < 6.5  # activity: 5.3
    count = messages["recipient_count"].to_numpy()
    assert 1.1 < count.mean() < 1.4  # activity: 1.22
    assert 0 < (count > 50).mean() < 0.002  # the CEO's monthly mail to all
    attendees = meetings["attendee_count"].to_numpy()
    assert 2.3 < attendees.mean() < 3.0  # activity: 2.63, organiser included
    assert 0.93 < (attendees <= 5).mean() < 0.99  # activity: 0.976
    response = t["meeting_attendees"]["response"]
    declined = pc.sum(pc.equal(response, "declined")).as_py() / pc.sum(pc.not_equal(response, "organizer")).as_py()
    assert 0.025 < declined < 0.06  # activity: 0.042
    assert 0.015 < pc.mean(meetings["is_cancelled"].cast(pa.int8())).as_py() < 0.045  # activity: 0.030
    assert pc.any(meetings["is_all_day"]).as_py() and pc.any(meetings["is_transparent"]).as_py()
    domains = set(t["message_recipients"]["recipient_domain"].to_pylist()) | set(messages["sender_domain"].to_pylist())
    assert domains & set(PERSONAL)
    assert {d for d in domains if d.endswith(".example.org")}, "mail from domains of no account"


def test_times_fall_in_working_weeks_on_quarter_hours(small: tuple[Config, BulkResult, Tables]) -> None:
    _, _, t = small
    zone = dict(rows(t["people"], "person", "timezone"))
    start, end = datetime(2024, 6, 30), datetime(2024, 10, 8)
    late = total = 0
    for who, at in rows(t["messages"], "sender", "sent_at"):
        assert start <= at < end
        if who in zone:
            local = at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone[who]))
            late += local.weekday() >= 5 or not 8 <= local.hour < 18
            total += 1
    assert 0.07 < late / total < 0.15  # activity: 0.104
    lengths = Counter()
    for who, begin, finish, all_day in rows(t["meetings"], "organizer", "start_at", "end_at", "is_all_day"):
        minutes = (finish - begin) / timedelta(minutes=1)
        lengths[minutes] += 1
        if who in zone and not all_day:
            local = begin.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone[who]))
            assert local.minute % 15 == 0 and local.second == 0 and 8 <= local.hour < 18
            assert local.weekday() < 5
        if all_day:
            assert minutes == 24 * 60 and begin.hour == 0
    assert set(lengths) == {15, 30, 45, 60, 90, 120, 540, 1440}, "15 minutes to 2 hours; kick-offs (9 h) and offsites (all day)"


def test_skill_drives_customer_time_not_manager_time(small: tuple[Config, BulkResult, Tables]) -> None:
    _, result, t = small
    customers = set(
        pc.filter(
            t["account_domains"]["domain"], pc.is_in(t["account_domains"]["type"], pa.array(["customer", "prospect"]))
        ).to_pylist()
    )
    with_customer = {k for k, d in rows(t["meeting_attendees"], "meeting_key", "attendee_domain") if d in customers}
    per_rep = Counter(a for k, a in rows(t["meeting_attendees"], "meeting_key", "attendee") if k in with_customer)
    manager = dict(rows(t["people"], "person", "manager"))
    recipients = rows(t["message_recipients"], "message_key", "recipient")
    sender = dict(rows(t["messages"], "message_key", "sender"))
    to_manager = Counter(sender[k] for k, r in recipients if manager.get(sender[k]) == r)
    weeks = {p: _weeks_employed(hire, leave) for p, hire, leave in rows(t["people"], "person", "hire_date", "leave_date")}
    reps = sorted(result.skills)
    skill = np.array([result.skills[r] for r in reps])
    customer = np.log(np.array([per_rep[r] / weeks[r] for r in reps]) + 0.1)
    upward = np.log(np.array([to_manager[r] / weeks[r] for r in reps]) + 0.1)
    # Exact for this seed (as the row counts above); well above the 0.5 a planted effect of this size gives.
    assert round(float(np.corrcoef(skill, customer)[0, 1]), 3) == 0.772
    assert abs(np.corrcoef(skill, upward)[0, 1]) < 0.3


def _weeks_employed(hire: date, leave: date | None) -> float:
    first, last = max(hire, DEFAULT_START), min(leave or date(2024, 10, 1), date(2024, 10, 1))
    return max(1.0, (last - first).days / 7)


@pytest.mark.slow
def test_planted_effects_hold_in_a_larger_company(tmp_path: Path) -> None:
    _, result, t = build(tmp_path / "ws", people=300, months=6, seed=7)
    con = duckdb.connect()
    for name in ("people", "meetings", "meeting_attendees", "messages", "message_recipients", "account_domains"):
        con.register(name, t[name])
    con.register("skill", pa.table({"person": list(result.skills), "skill": list(result.skills.values())}))
    customer, manager, senior = con.execute(
        """
        WITH customer AS (
            SELECT a.attendee AS person, count(DISTINCT m.meeting_key) AS n
            FROM meetings m JOIN meeting_attendees a USING (meeting_key)
            WHERE NOT m.is_cancelled AND EXISTS (
                SELECT 1 FROM meeting_attendees b JOIN account_domains d ON d.domain = b.attendee_domain
                WHERE b.meeting_key = m.meeting_key AND d.type IN ('customer', 'prospect'))
            GROUP BY 1),
        manager AS (
            SELECT m.sender AS person, count(*) AS n FROM messages m JOIN people p ON p.person = m.sender
            JOIN message_recipients r USING (message_key) WHERE r.recipient = p.manager GROUP BY 1),
        senior AS (
            SELECT a.attendee AS person, count(*) AS n FROM meetings m JOIN meeting_attendees a USING (meeting_key)
            JOIN people o ON o.person = m.organizer WHERE o.level >= 7 AND m.attendee_count <= 4 GROUP BY 1)
        SELECT corr(s.skill, ln(coalesce(c.n, 0) + 1)), corr(s.skill, ln(coalesce(g.n, 0) + 1)), corr(s.skill, ln(coalesce(x.n, 0) + 1))
        FROM skill s JOIN people p USING (person)
        LEFT JOIN customer c USING (person) LEFT JOIN manager g USING (person) LEFT JOIN senior x USING (person)
        WHERE p.hire_date <= DATE '2024-07-01' AND p.leave_date IS NULL
        """
    ).fetchone()
    assert customer > 0.5
    assert abs(manager) < 0.15
    assert senior > 0.15


def test_replies_answer_stored_emails_that_reached_the_replier(small: tuple[Config, BulkResult, Tables]) -> None:
    _, result, t = small
    messages = {k: (s, d, at) for k, s, d, at in rows(t["messages"], "message_key", "sender", "sender_domain", "sent_at")}
    readers = set(rows(t["message_recipients"], "message_key", "recipient"))
    customers = {d for d, kind in rows(t["account_domains"], "domain", "type") if kind in ("customer", "prospect")}
    roster = set(t["people"]["person"].to_pylist())
    to_customers, to_colleagues = [], 0
    for key, replier, parent in rows(t["messages"], "message_key", "sender", "parent_key"):
        if parent is None:
            continue
        asker, domain, asked_at = messages[parent]  # a stored message
        assert (parent, replier) in readers, "the replier received the message answered"
        delay = messages[key][2] - asked_at
        assert timedelta(0) <= delay <= timedelta(days=30)
        if domain in customers:
            assert replier in result.skills, "reps answer customers"
            assert (key, asker) in readers, "a reply goes to the customer who wrote"
            to_customers.append(delay / timedelta(hours=1))
        else:
            assert asker in roster and delay <= timedelta(days=7), "a colleague's email of the same week"
            to_colleagues += 1
    # Exact for this seed: 41% of the reps' 2,955 emails to customers answer one, a median 4 hours later (planted: 4).
    assert (len(to_customers), to_colleagues) == (1211, 25)
    assert round(float(np.median(to_customers)), 1) == 3.9
    assert sum(hours > 14 * 24 for hours in to_customers) == 5, "the rare late reply, past what the metric counts"


def test_customer_and_prospect_accounts_are_owned_by_their_rep(small: tuple[Config, BulkResult, Tables]) -> None:
    _, result, t = small
    company = build_company(PEOPLE, Rng(SEED), DEFAULT_START, _months_later(DEFAULT_START, MONTHS))
    expected = {a.account_id: pseudonym(TEST_KEY, a.owner) if a.owner else None for a in company.accounts}
    assert dict(rows(t["accounts"], "account_id", "owner")) == expected
    assert dict(rows(t["account_domains"], "account_id", "owner")) == expected
    kinds = dict(rows(t["accounts"], "account_id", "type"))
    assert {kinds[a] for a, owner in expected.items() if owner is None} == {"partner", "vendor"}
    assert {kinds[a] for a, owner in expected.items() if owner is not None} == {"customer", "prospect"}
    assert {o for o in expected.values() if o} == set(result.skills), "every rep owns accounts, and only reps do"


def test_the_engine_measures_reply_times_and_book_coverage(
    small: tuple[Config, BulkResult, Tables], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, result, t = small
    monkeypatch.setenv("REPSIGHT_KEY", TEST_KEY)
    run_metrics(config)
    with duckdb.connect(str(config.database_path), read_only=True) as con:
        periods = con.execute(
            "SELECT person, period, customer_reply_hours, owned_accounts, owned_accounts_touched_pct FROM person_period"
        ).fetchall()
    owned = Counter(o for o in t["accounts"]["owner"].to_pylist() if o)
    quarter = [(p, hours, n, pct) for p, period, hours, n, pct in periods if period == "2024Q3" and p in result.skills]
    assert len(quarter) == len(result.skills) == 32
    assert all(hours is not None and 0 < hours < 24 * 14 for _, hours, _, _ in quarter), "every rep answered a customer"
    assert all(n == owned[p] for p, _, n, _ in quarter)
    # Accounts are drawn uniformly among the rep's (no book of worked accounts as activity.py plants):
    # over a full quarter every rep touches all they own; over the one week of 2024Q2, some.
    assert {pct for _, _, _, pct in quarter} == {100.0}
    stub = sorted(pct for p, period, _, _, pct in periods if period == "2024Q2" and p in result.skills)
    assert stub and 0 <= stub[0] < stub[-1] <= 100
    assert all(pct is None for p, _, _, _, pct in periods if p not in result.skills), "no owned account, no coverage"


def test_a_store_with_data_is_refused(small: tuple[Config, BulkResult, Tables]) -> None:
    config, _, _ = small
    with pytest.raises(StoreError, match="already holds data"):
        generate_store(config, TEST_KEY, people=PEOPLE, months=MONTHS)
    with pytest.raises(ValueError, match="at least 3 months"):
        generate_store(config, TEST_KEY, people=PEOPLE, months=2)


def test_keys_are_distinct_hex() -> None:
    keys = hex_keys(np.arange(100_000, dtype=np.int64), 11).to_pylist()
    assert len(set(keys)) == 100_000 and all(len(k) == 32 and int(k, 16) >= 0 for k in keys[:100])
    assert hex_keys(np.arange(10, dtype=np.int64), 12).to_pylist() != keys[:10]


def test_command_line_creates_a_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPSIGHT_KEY", TEST_KEY)
    assert main([str(tmp_path / "out"), "--people", "40", "--months", "3", "--seed", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "message_recipients" in printed and "seconds" in printed
    assert (tmp_path / "out" / "truth.json").exists()
    config = load_config(tmp_path / "out" / "repsight.toml")
    with Store.open(config, read_only=True, key=TEST_KEY) as store:
        assert store.count("people") == 40 and store.count("meetings") > 0
    # An earlier generated workspace is replaced.
    assert main([str(tmp_path / "out"), "--people", "40", "--months", "3", "--seed", "2", "--quiet"]) == 0


def test_with_a_lake_the_events_are_also_parquet_in_a_folder_per_week(tmp_path: Path) -> None:
    config = init_workspace(tmp_path / "ws", domains=["acme.example"], timezone="America/New_York")
    lake = tmp_path / "ws" / "lake"
    result = generate_store(config, TEST_KEY, people=PEOPLE, months=MONTHS, seed=SEED, lake=lake)
    with duckdb.connect(str(config.database_path), read_only=True) as con:
        stored = {name: con.execute(f"SELECT * FROM {name}").to_arrow_table() for name in EVENT_TABLES}
    for name in EVENT_TABLES:
        files = sorted(lake.glob(f"{name}/*/*.parquet"))
        assert files and {f.parent.name[:5] for f in files} == {"week="}
        assert pq.read_schema(files[0]) == stored[name].schema, "the store's columns and types, without the week"
        rows = duckdb.sql(f"SELECT * FROM read_parquet('{lake / name}/*/*.parquet', hive_partitioning = true)").to_arrow_table()
        assert rows.drop_columns(["week"]).sort_by(KEYS_OF[name]) == stored[name].sort_by(KEYS_OF[name])
        assert rows.num_rows == result.rows[name]
    # An event sits in the week of its UTC day's Monday; a participant in its event's.
    read = {name: f"read_parquet('{lake / name}/*/*.parquet', hive_partitioning = true)" for name in EVENT_TABLES}
    for event, moment, party, key in (
        ("messages", "sent_at", "message_recipients", "message_key"),
        ("meetings", "start_at", "meeting_attendees", "meeting_key"),
    ):
        assert duckdb.sql(f"SELECT count(*) FROM {read[event]} WHERE week <> date_trunc('week', {moment})::DATE").fetchone() == (
            0,
        )
        elsewhere = f"SELECT count(*) FROM {read[party]} p JOIN {read[event]} e USING ({key}) WHERE p.week <> e.week"
        assert duckdb.sql(elsewhere).fetchone() == (0,)
    with pytest.raises(StoreError, match="lake folder already holds files"):
        generate_store(init_workspace(tmp_path / "other", domains=["acme.example"]), TEST_KEY, people=PEOPLE, lake=lake)


def _sorted_metrics(config: Config) -> dict[str, pa.Table]:
    with Store.open(config, read_only=True) as store:
        return {
            name: store.to_arrow(store.backend.table(name)).sort_by([(k, "ascending") for k in keys])
            for name, keys in (("person_week", ["person", "week"]), ("person_period", ["person", "period"]))
        }


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_on_the_lake_measures_what_duckdb_measures_on_the_store_full_and_incremental(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four months, the last week held back (bench-scale's setup), then loaded: Spark runs full, then incremental, DuckDB full."""
    from bench_scale import step_hold_back, step_load_held_back

    monkeypatch.setenv("REPSIGHT_KEY", TEST_KEY)
    config = init_workspace(tmp_path / "duckdb", domains=["acme.example"], timezone="America/New_York")
    generate_store(config, TEST_KEY, people=PEOPLE, months=4, seed=SEED, lake=tmp_path / "duckdb" / "lake")
    shutil.copytree(tmp_path / "duckdb", tmp_path / "spark")
    spark = load_config(tmp_path / "spark" / "repsight.toml")
    engine = EngineConfig(backend="pyspark", spark_master="local[2]", lake=str(tmp_path / "spark" / "lake"))
    spark = spark.model_copy(update={"engine": engine})
    for each in (config, spark):
        assert step_hold_back(each.root)["week"] == "2024-11-04"
    run_metrics(config, full=True)
    full = run_metrics(spark, full=True)
    assert full.backend == "pyspark" and full.person_weeks > 0
    assert _sorted_metrics(spark) == _sorted_metrics(config)
    for each in (config, spark):
        step_load_held_back(each.root)
    run_metrics(config, full=True)
    report = run_metrics(spark)
    assert report.since is not None and 0 < report.person_weeks < full.person_weeks, "the last quarter only"
    assert _sorted_metrics(spark) == _sorted_metrics(config)
