"""The digest's holdout: drawn at the first send, kept, honoured for its weeks, and the study's measure of the digest against it."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pytest
from rich.console import Console

from repsight.config import Config
from repsight.digest import run_digest
from repsight.store import Store
from repsight.study.run import compute_study
from tests.digest.conftest import Relay, with_digest
from tests.digest.test_send import FAST


def stored(config: Config, table: str) -> pd.DataFrame:
    with Store.open(config, read_only=True) as store:
        return store.to_pandas(store.table(table))


def test_a_holdout_gets_no_digest_for_its_weeks_and_the_study_measures_the_digest(fresh: Config, relay: Relay) -> None:
    weeks = sorted(pd.Timestamp(w).date() for w in stored(fresh, "person_week")["week"].unique())
    start = weeks[len(weeks) // 2 - 2]
    config = with_digest(fresh, **relay.settings(holdout_fraction=0.4, holdout_weeks=2, holdout_seed=1))
    first = run_digest(config, week=start, send=True, **FAST)
    drawn = stored(config, "digest_holdout")
    held = set(drawn.loc[drawn["group"] == "holdout", "person"])
    emails = stored(config, "identities").set_index("person")["email"]
    assert first.held_out == len(held) > 0 and len(drawn) == first.held_out + len(first.messages)
    assert not {emails[p] for p in held} & {a for m in relay.handler.received for a in m.recipients}
    for stratum, part in drawn.groupby("stratum"):
        assert (part["group"] == "holdout").sum() == round(len(part) * 0.4), stratum
    assert set(drawn["first_week"].map(lambda d: pd.Timestamp(d).date())) == {start}
    assert set(drawn["until_week"].map(lambda d: pd.Timestamp(d).date())) == {start + timedelta(weeks=2)}
    # The draw is kept: a later week in the holdout's time holds out the same reps, and after it they get theirs.
    later = run_digest(config, week=start + timedelta(weeks=1), send=True, **FAST)
    assert later.held_out == len(held) and stored(config, "digest_holdout").equals(drawn)
    after = run_digest(config, week=start + timedelta(weeks=2), send=True, **FAST)
    assert after.held_out == 0 and held <= {m.person for m in after.messages}

    # The study measures the digest: each rep's change from before the first digest to after, recipients against the holdout.
    with Store.open(config) as store:
        result = compute_study(store, config)
    before = result.document["digest"]
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(result)
    shown = console.export_text()
    assert f"The digest, measured: {len(held)} reps held out for 2 weeks from {start.isoformat()}" in " ".join(shown.split())
    found = before["metrics"]["customer_hours"]
    rows = stored(config, "person_week").merge(drawn[["person", "group"]], on="person")
    rows["after"] = pd.to_datetime(rows["week"]) >= pd.Timestamp(start)
    means = rows.groupby(["person", "group", "after"])["customer_hours"].mean().unstack("after").dropna()
    change = (means[True] - means[False]).groupby("group").mean()
    assert found["effect"] == pytest.approx(change["recipient"] - change["holdout"], rel=1e-9)
    assert (before["held_out"], before["holdout_weeks"], before["first_week"]) == (len(held), 2, start.isoformat())

    # Plant a response: half an hour more customer time a week for every recipient from the first digest on.
    with Store.open(config) as store:
        table = store.to_pandas(store.table("person_week"))
        planted = (~table["person"].isin(held)) & (pd.to_datetime(table["week"]) >= pd.Timestamp(start))
        table.loc[planted, "customer_hours"] += 0.5
        store.replace("person_week", pa.Table.from_pandas(table, preserve_index=False))
        measured = compute_study(store, config).document["digest"]["metrics"]["customer_hours"]
    assert measured["effect"] - found["effect"] == pytest.approx(0.5, abs=1e-9)
    assert measured["ci"][0] - found["ci"][0] == pytest.approx(0.5, abs=1e-9)


def test_without_a_holdout_nobody_is_held_out_and_the_study_says_nothing_of_the_digest(fresh: Config, relay: Relay) -> None:
    first = run_digest(with_digest(fresh, **relay.settings()), send=True, **FAST)
    assert first.held_out == 0 and stored(fresh, "digest_holdout").empty
    with Store.open(fresh) as store:
        assert "digest" not in compute_study(store, fresh).document
