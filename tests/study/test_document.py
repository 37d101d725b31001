"""The study document's types and readers: verdicts, the dynamics' accessors, and documents stored by earlier versions."""

from __future__ import annotations

import typing
from typing import Any

import pandas as pd

from repsight.study.document import (
    DYNAMICS_KEYS,
    VERDICTS,
    Model,
    Population,
    StudyDocument,
    Thresholds,
    Verdict,
    dynamics_reps,
    dynamics_series,
    dynamics_weeks,
    missing_keys,
    upgraded,
)
from repsight.study.dynamics import dynamics

TOP_LEVEL = ["population", "thresholds", "tiers", "phase1", "model", "phase2", "dynamics", "leading", "caveat"]


def test_verdicts_are_the_values_the_verdict_type_allows() -> None:
    assert typing.get_args(Verdict) == VERDICTS


def test_population_requires_reps_rep_periods_and_periods_only() -> None:
    hints = typing.get_type_hints(Population, include_extras=True)
    optional = {key for key, hint in hints.items() if typing.get_origin(hint) is typing.NotRequired}
    assert optional == {"people", "rep_periods_without_metrics"}
    assert set(hints) - optional == {"reps", "rep_periods", "periods"}


def weekly_document() -> dict[str, Any]:
    """A document whose dynamics hold three weeks of customer time; one bottom tier-week is too small to show."""
    rows = pd.DataFrame(
        [
            {"person": f"{'t' if tier > 0 else 'b'}{rep}", "tier": tier, "week_of_period": week, "customer_hours": hours}
            for tier, hours in ((1, 5.0), (-1, 3.0))
            for week in (1, 2, 3, 4, 5)
            for rep in range(2 if (tier, week) == (-1, 2) else 3)
        ]
    )
    return {"dynamics": dynamics(rows, ["customer_hours"], ["2024-01"], 3)}


def test_the_dynamics_accessors_read_weeks_reps_and_each_metrics_series() -> None:
    document: Any = weekly_document()
    assert dynamics_weeks(document) == [1, 2, 3, 4, 5]
    assert dynamics_reps(document, "top") == [3] * 5
    assert dynamics_reps(document, "bottom") == [3, 2, 3, 3, 3]
    assert dynamics_series(document, "customer_hours") == {"top": [5.0] * 5, "bottom": [3.0, None, 3.0, 3.0, 3.0]}
    assert dynamics_series(document, "manager_hours") is None
    assert all(dynamics_series(document, key) is None for key in DYNAMICS_KEYS)


def test_a_study_without_weekly_rows_has_no_weeks_reps_or_series() -> None:
    document: Any = {"dynamics": {}}
    assert dynamics_weeks(document) == []
    assert dynamics_reps(document, "top") == []
    assert dynamics_series(document, "customer_hours") is None


def test_a_document_stored_with_ci95_is_read_with_ci_at_every_depth() -> None:
    stored = {
        "phase1": {"customer_hours": {"bottom_vs_top_pct": -25.0, "ci95": [-30.0, -20.0]}},
        "phase2": {"region": {"segments": {"ci95": {"metrics": {"customer_hours": {"ci95": [-1.0, None]}}}}}},
        "model": {"coefficients": {"customer_hours": {"coef": 0.1, "ci95": [0.05, 0.15]}}},
        "leading": {"next_period": {"metrics": {"customer_hours": {"ci95": [0.0, 1.0]}}}},
        "caveat": "ci95",
    }
    assert upgraded(stored) == {
        "phase1": {"customer_hours": {"bottom_vs_top_pct": -25.0, "ci": [-30.0, -20.0]}},
        # A segment called "ci95" is a name from the data, not an interval: it keeps its name.
        "phase2": {"region": {"segments": {"ci95": {"metrics": {"customer_hours": {"ci": [-1.0, None]}}}}}},
        "model": {"coefficients": {"customer_hours": {"coef": 0.1, "ci": [0.05, 0.15]}}},
        "leading": {"next_period": {"metrics": {"customer_hours": {"ci": [0.0, 1.0]}}}},
        "caveat": "ci95",
    }
    # A document of today is read as it is.
    today = upgraded(stored)
    assert upgraded(today) == today
    assert upgraded({"ci": [1.0, 2.0], "ci95": [0.0, 3.0]}) == {"ci": [1.0, 2.0], "ci95": [0.0, 3.0]}


def complete() -> StudyDocument:
    """The smallest document with every required key (its sections' figures made up)."""
    document: Any = {
        "population": {"reps": 8, "rep_periods": 8, "periods": ["2024Q1"]},
        "thresholds": dict.fromkeys(Thresholds.__annotations__, 0),
        "tiers": {"top_rep_periods": 2, "bottom_rep_periods": 2, "top_reps": 2, "bottom_reps": 2},
        "phase1": {},
        "model": dict.fromkeys(Model.__annotations__),
        "phase2": {},
        "dynamics": {},
        "leading": {"next_period": {}, "within_person": {}},
        "caveat": "associations",
    }
    return typing.cast("StudyDocument", document)


def test_missing_keys_names_the_required_keys_a_stored_document_lacks() -> None:
    assert missing_keys(complete()) == []
    older: dict[str, Any] = dict(complete())
    del older["dynamics"]
    older["population"] = {"people": 9, "reps": 8, "periods": ["2024Q1"]}
    older["tiers"] = {k: v for k, v in older["tiers"].items() if k != "top_reps"}
    assert missing_keys(older) == ["dynamics", "population.rep_periods", "tiers.top_reps"]
    assert missing_keys(None) == TOP_LEVEL
    assert missing_keys({**complete(), "leading": None}) == ["leading"]
