"""The study on synthetic organisations with known effects: what it must find, and what it must not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from repsight.config import CompanyConfig, Config, StudyConfig
from repsight.errors import StudyError
from repsight.metrics.catalog import STUDY_DEFAULT as STUDY_METRICS
from repsight.study import study_document
from tests.support.study_org import DEMO_LIKE, Plan, rep_period_rows

HEADLINE_PLANTED = {"customer_hours": -25.0, "internal_network_size": -20.0, "senior_leader_hours": -20.0}


def config(resamples: int = 1000, **study: Any) -> Config:
    return Config(company=CompanyConfig(domains=["acme.example"]), study=StudyConfig(bootstrap_resamples=resamples, **study))


def verdicts(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for attribute, part in document["phase2"].items():
        for metric, test in part["heterogeneity"].items():
            yield attribute, metric, test


def test_document_has_the_contract_keys_for_every_metric() -> None:
    document, tiers = study_document(rep_period_rows(Plan(reps=80, effects=DEMO_LIKE)), config(200))
    assert document["population"] == {"reps": 80, "rep_periods": 480, "periods": sorted(set(tiers["period"]))}
    assert set(document["thresholds"]) >= {"tier_fraction", "bootstrap_resamples", "seed", "q_threshold", "min_group_size"}
    for metric in STUDY_METRICS:
        assert set(document["phase1"][metric]) >= {"top_mean", "bottom_mean", "bottom_vs_top_pct", "ci", "rho", "p", "q"}
    assert set(document["phase2"]) == {"region", "segment", "channel"}
    for attribute, metric, test in verdicts(document):
        assert set(test) >= {"p", "q", "i2", "verdict", "differing_segments"}, (attribute, metric)
    for segment in document["phase2"]["region"]["segments"].values():
        assert set(segment) == {"n_reps", "top_reps", "bottom_reps", "metrics"} and set(segment["metrics"]) == set(STUDY_METRICS)
        assert min(segment["top_reps"], segment["bottom_reps"]) >= 5
    # 80 reps a period: 20 in each tier, every period.
    assert document["tiers"]["top_rep_periods"] == document["tiers"]["bottom_rep_periods"] == 6 * 20
    assert set(tiers.columns) == {"person", "period", "attainment", "tier"}


def test_planted_effects_are_recovered_with_their_sign_and_size() -> None:
    document, _ = study_document(rep_period_rows(Plan(reps=150, seed=2, effects=DEMO_LIKE)), config())
    for metric, planted in HEADLINE_PLANTED.items():
        found = document["phase1"][metric]
        low, high = found["ci"]
        assert low <= planted <= high, (metric, found)
        assert found["q"] < 0.05 and found["rho"] > 0
    manager = document["phase1"]["manager_hours"]
    assert manager["q"] >= 0.05 and manager["ci"][0] <= 0 <= manager["ci"][1]
    assert all(test["verdict"] == "consistent" for _, _, test in verdicts(document))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_behaviour_that_matters_in_two_regions_only_is_segment_specific_to_the_third(seed: int) -> None:
    plan = Plan(
        reps=150,
        seed=seed,
        effects=DEMO_LIKE,
        by_region={"customer_hours": {"APAC": 0.0}},
        region_weights=(1 / 3, 1 / 3, 1 / 3),
    )
    document, _ = study_document(rep_period_rows(plan), config(500))
    flagged = document["phase2"]["region"]["heterogeneity"]["customer_hours"]
    assert flagged["verdict"] == "segment-specific", flagged
    assert flagged["differing_segments"] == ["APAC"]
    assert flagged["q"] < 0.05 and flagged["i2"] >= 0.5
    others = [
        (a, m) for a, m, test in verdicts(document) if test["verdict"] != "consistent" and (a, m) != ("region", "customer_hours")
    ]
    assert others == []
    # Within APAC, customer time shows no gap; elsewhere it does.
    segments = document["phase2"]["region"]["segments"]
    assert segments["APAC"]["metrics"]["customer_hours"]["ci"][0] < 0 < segments["APAC"]["metrics"]["customer_hours"]["ci"][1]
    assert (
        segments["NA"]["metrics"]["customer_hours"]["ci"][1] < 0
        and segments["EMEA"]["metrics"]["customer_hours"]["ci"][1] < 0
    )


def _families(document: dict[str, Any]) -> dict[str, list[float]]:
    return {
        "phase1": [m["q"] for m in document["phase1"].values()],
        "phase2": [
            m["q"] for part in document["phase2"].values() for s in part["segments"].values() for m in s["metrics"].values()
        ],
        "heterogeneity": [test["q"] for _, _, test in verdicts(document)],
        "model": [c["q"] for c in document["model"]["coefficients"].values()],
        "next_period": [c["q"] for c in document["leading"]["next_period"]["metrics"].values()],
        "within_person": [c["q"] for c in document["leading"]["within_person"]["metrics"].values()],
    }


@pytest.mark.slow
def test_without_planted_effects_discoveries_are_as_rare_as_the_false_discovery_rate_allows() -> None:
    """Under no effect at all, a family of tests has a discovery (some q < 0.05) in at most about 5% of organisations.

    With no true effect, every discovery is false, so the false discovery
    rate is the share of organisations with any discovery. Over 40
    organisations, 5% is 2 expected; more than 6 in a family would happen by
    chance with probability 0.003 if the rate were honest.
    """
    counts = dict.fromkeys(_families(study_document(rep_period_rows(Plan(reps=100, seed=0)), config(100))[0]), 0)
    clean = 0
    for seed in range(40):
        document, _ = study_document(rep_period_rows(Plan(reps=100, seed=seed)), config(100))
        families = _families(document)
        for family, q in families.items():
            counts[family] += min(q) < 0.05
        clean += all(min(q) >= 0.05 for q in families.values())
    assert all(count <= 6 for count in counts.values()), counts
    assert clean >= 28, (clean, counts)


def test_segment_smaller_than_the_minimum_group_is_left_out_and_listed() -> None:
    rows = rep_period_rows(Plan(reps=60, seed=4, effects=DEMO_LIKE))
    few = sorted(rows["person"].unique())[:4]
    rows.loc[rows["person"].isin(few), "region"] = "LATAM"
    document, _ = study_document(rows, config(200))
    assert document["phase2"]["region"]["left_out"] == ["LATAM"]
    assert "LATAM" not in document["phase2"]["region"]["segments"]
    # The left-out reps still count in the whole-org phase.
    assert document["population"]["reps"] == 60


def test_segment_whose_tiers_hold_fewer_reps_than_the_minimum_is_left_out() -> None:
    rows = rep_period_rows(Plan(reps=60, seed=4, effects=DEMO_LIKE))
    # Six reps in LATAM, the same six every period: each tier holds one rep a period, always the same one or two.
    six = sorted(rows["person"].unique())[:6]
    rows.loc[rows["person"].isin(six), "region"] = "LATAM"
    rows.loc[rows["person"].isin(six), "attainment"] = (
        rows.loc[rows["person"].isin(six), "person"].map({p: i for i, p in enumerate(six)}) + 0.5
    )
    document, _ = study_document(rows, config(200))
    assert "LATAM" in document["phase2"]["region"]["left_out"]


def test_too_few_reps_for_tiers_is_a_clear_error() -> None:
    rows = rep_period_rows(Plan(reps=12, seed=1))
    rows = rows[~((rows["period"] == "2024Q3") & rows["person"].isin(sorted(rows["person"].unique())[:10]))]
    with pytest.raises(StudyError, match=r"too few reps to form tiers: 2 in period 2024Q3; each period needs at least 4"):
        study_document(rows.reset_index(drop=True), config(200))


def test_same_data_and_seed_give_the_same_document() -> None:
    rows = rep_period_rows(Plan(reps=50, seed=5, effects=DEMO_LIKE))
    first, _ = study_document(rows, config(200))
    again, _ = study_document(rows.sample(frac=1, random_state=1).reset_index(drop=True), config(200))
    assert pd.json_normalize(first).to_dict() == pd.json_normalize(again).to_dict()


def test_an_attribute_with_fewer_than_two_kept_segments_is_untested_not_consistent() -> None:
    rows = rep_period_rows(Plan(reps=40, seed=6, effects=DEMO_LIKE))
    rows["channel"] = "Direct"  # one segment: nothing to compare it with
    document, _ = study_document(rows, config(100))
    tests = document["phase2"]["channel"]["heterogeneity"].values()
    assert {t["verdict"] for t in tests} == {"untested"}
    assert all(t["p"] != t["p"] for t in tests)  # NaN: no test was made
