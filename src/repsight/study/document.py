"""The study document: the typed shape of `repsight analyze --json` (docs/study.md).

Every reader (the command line, the report, the dashboard, privacy's
suppression, the notebook API) reads the study through these types, so
strict mypy finds each reader of a key that changes. The JSON keys are a
public contract; `ci` is the interval at the level `thresholds.confidence`
gives.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "CONSISTENT",
    "SEGMENT_SPECIFIC",
    "UNTESTED",
    "VERDICTS",
    "Coefficient",
    "Comparison",
    "Dynamics",
    "Heterogeneity",
    "Leading",
    "LeadingTest",
    "Model",
    "Phase2Attribute",
    "Population",
    "Segment",
    "Slope",
    "StudyDocument",
    "Thresholds",
    "Tiers",
    "Verdict",
]

Verdict = Literal["consistent", "segment-specific", "untested"]
"""Phase 2's reading of one metric across one attribute's segments."""
CONSISTENT: Verdict = "consistent"
"""The effect holds alike in every kept segment; no segment is named."""
SEGMENT_SPECIFIC: Verdict = "segment-specific"
"""The effect differs between segments; `differing_segments` names the ones that drive it."""
UNTESTED: Verdict = "untested"
"""Fewer than two segments were kept, or the metric is constant: nothing to compare."""
VERDICTS: tuple[Verdict, ...] = (CONSISTENT, SEGMENT_SPECIFIC, UNTESTED)


class Population(TypedDict, total=False):
    """Who was studied."""

    people: int
    """People with a person-period row (stored studies only)."""
    reps: int
    rep_periods: int
    periods: list[str]
    rep_periods_without_metrics: int
    """Rep-periods with a KPI but no metrics (stored studies only)."""


class Thresholds(TypedDict):
    """The settings the study ran with."""

    sales_functions: list[str]
    tier_fraction: float
    bootstrap_resamples: int
    confidence: float
    """The level of every `ci` in the document."""
    seed: int
    q_threshold: float
    heterogeneity_i2: float
    min_group_size: int
    segment_by: list[str]
    metrics: list[str]


class Tiers(TypedDict):
    top_rep_periods: int
    bottom_rep_periods: int
    top_reps: int
    bottom_reps: int


class Comparison(TypedDict):
    """One metric, top tier against bottom tier."""

    top_mean: float
    bottom_mean: float
    bottom_vs_top_pct: float
    ci: list[float]
    """The bootstrap interval of `bottom_vs_top_pct`, [low, high], at `thresholds.confidence`."""
    se: float
    rho: float
    p: float
    q: float


class Coefficient(TypedDict):
    """One metric's coefficient in a regression."""

    coef: float
    se: float
    ci: list[float]
    p: float
    q: float


class Model(TypedDict):
    """Attainment on every standardised metric at once (`model`)."""

    outcome: str
    scale: str
    fixed_effects: list[str]
    errors: str
    n: int
    reps: int
    r2: float
    coefficients: dict[str, Coefficient]
    left_out: list[str]


class Slope(TypedDict):
    slope: float
    se: float


class Heterogeneity(TypedDict):
    """One metric across one attribute's kept segments."""

    p: float
    q: float
    i2: float
    slopes: dict[str, Slope]
    verdict: Verdict
    consensus_pct: float
    differing_segments: list[str]
    """The segments that drive a segment-specific verdict; empty for any other verdict."""


class Segment(TypedDict):
    n_reps: int
    top_reps: int
    bottom_reps: int
    metrics: dict[str, Comparison]


class Phase2Attribute(TypedDict):
    segments: dict[str, Segment]
    left_out: list[str]
    heterogeneity: dict[str, Heterogeneity]


Dynamics = dict[str, Any]
"""Weekly means by week of the period: `weeks` (1, 2, …), `top_reps` and
`bottom_reps` (reps per week, None where suppressed), and per metric
`{"top": [...], "bottom": [...]}` (None where a tier-week is too small).
Metric names sit beside the fixed keys, so the shape is a plain mapping."""


class LeadingTest(TypedDict):
    n: int
    reps: int
    metrics: dict[str, Coefficient]


class Leading(TypedDict):
    next_period: LeadingTest
    within_person: LeadingTest


class StudyDocument(TypedDict):
    """The whole study, as `repsight analyze --json` writes it."""

    population: Population
    thresholds: Thresholds
    tiers: Tiers
    phase1: dict[str, Comparison]
    model: Model
    phase2: dict[str, Phase2Attribute]
    dynamics: Dynamics
    leading: Leading
    caveat: str
