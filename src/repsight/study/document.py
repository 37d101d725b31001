"""The study document: the typed shape of `repsight analyze --json` (docs/study.md).

Every reader (the command line, the report, the dashboard, privacy's
suppression, the notebook API) reads the study through these types, so
strict mypy finds each reader of a key that changes. The JSON keys are a
public contract; `ci` is the interval at the level `thresholds.confidence`
gives. A study stored by an earlier version (`ci95`) is read through
`upgraded` and checked with `missing_keys` (`repsight.report.report.latest_study`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, Required, TypedDict, cast, get_origin, get_type_hints

__all__ = [
    "CONSISTENT",
    "DYNAMICS_KEYS",
    "RENAMED_KEYS",
    "SEGMENT_SPECIFIC",
    "TIERS",
    "TOO_SMALL",
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
    "Tier",
    "TierSeries",
    "Tiers",
    "Verdict",
    "differing_segments",
    "dynamics_reps",
    "dynamics_series",
    "dynamics_weeks",
    "missing_keys",
    "upgraded",
]

Verdict = Literal["consistent", "segment-specific", "untested"]
"""Phase 2's reading of one metric across one attribute's segments."""
CONSISTENT: Verdict = "consistent"
"""The effect holds alike in every kept segment; no segment is named."""
SEGMENT_SPECIFIC: Verdict = "segment-specific"
"""The effect differs between segments; `differing_segments` names the ones that drive it."""
UNTESTED: Verdict = "untested"
"""Fewer than two segments were kept, or the metric is constant: nothing to compare."""
TOO_SMALL = "a segment too small to show"
"""What a segment-specific verdict names where every segment it named is smaller than the workspace's minimum now."""
VERDICTS: tuple[Verdict, ...] = (CONSISTENT, SEGMENT_SPECIFIC, UNTESTED)
"""Every verdict, in the order above: the values `Verdict` allows."""


class Population(TypedDict):
    """Who was studied."""

    people: NotRequired[int]
    """People with a person-period row (stored studies only)."""
    reps: Required[int]
    rep_periods: Required[int]
    periods: Required[list[str]]
    rep_periods_without_metrics: NotRequired[int]
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
    better: NotRequired[Literal["higher", "lower"]]
    """Which way the better behaviour lies: "lower" for a reply time (a positive gap is then the bottom tier's slower replies)."""
    missing: NotRequired[int]
    """Rep-periods left out of this comparison for want of a value (no reply to a customer in the period)."""
    top_reps: NotRequired[int]
    """The reps whose rep-periods make the top tier's mean (those with a value)."""
    bottom_reps: NotRequired[int]
    """The reps whose rep-periods make the bottom tier's mean (those with a value)."""


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
    without_values: NotRequired[int]
    """Rep-periods left out of the model because a metric had no value for them."""


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


Tier = Literal["top", "bottom"]
"""A tier of the dynamics."""
TIERS: tuple[Tier, ...] = ("top", "bottom")


class TierSeries(TypedDict):
    """One metric's weekly means in the dynamics, week by week; None where a tier-week is too small to show."""

    top: list[float | None]
    bottom: list[float | None]


Dynamics = dict[str, Any]
"""Weekly means by week of the period: `weeks` (1, 2, …), `top_reps` and
`bottom_reps` (reps per week, None where suppressed), and per metric a
`TierSeries` (`{"top": [...], "bottom": [...]}`); `{}` for a study without
weekly rows. Metric names sit beside the fixed keys, which a TypedDict cannot
say (mypy has no `extra_items`), so the shape is a plain mapping: read it
through `dynamics_weeks`, `dynamics_reps` and `dynamics_series`."""
DYNAMICS_KEYS: tuple[str, ...] = ("weeks", "top_reps", "bottom_reps")
"""The fixed keys of the dynamics: no metric has these names."""


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
    validation: NotRequired[dict[str, Any]]
    """What the data validation took out (`repsight validate`, docs/validation.md): `validated_at`, `removed` (per rule: people, rep_periods, weeks), `warning` (none yet, or older than the data; null when current)."""
    absent: NotRequired[list[str]]
    """Metrics of `thresholds.metrics` that no rep has a value of (absent from the data, e.g. customer time in a Viva Insights workspace): in no test."""
    digest: NotRequired[dict[str, Any]]
    """The weekly digest's effect, where a holdout was drawn (`repsight.study.digest_effect.digest_effect`, plus `attainment`)."""


def differing_segments(segments: list[str]) -> str:
    """Return the segments a segment-specific verdict names, as every output says them: "APAC, EMEA".

    A report or dashboard applies the workspace's minimum group size as it
    is now (`repsight.privacy.suppress_small_study_groups`), which may take
    every named segment away: the verdict stays, driven by "a segment too
    small to show" (docs/study.md).
    """
    return ", ".join(segments) or TOO_SMALL


def dynamics_weeks(document: StudyDocument) -> list[int]:
    """Return the weeks of the period the dynamics show (1, 2, …); none for a study without weekly rows."""
    weeks = document["dynamics"].get("weeks")  # a study without weekly rows has no dynamics at all
    return [int(w) for w in weeks] if isinstance(weeks, list) else []


def dynamics_reps(document: StudyDocument, tier: Tier) -> list[int | None]:
    """Return the reps of `tier` week by week (None where suppressed), one per week of `dynamics_weeks`."""
    reps = document["dynamics"].get(f"{tier}_reps")
    if not isinstance(reps, list):
        return [None] * len(dynamics_weeks(document))
    return [None if n is None else int(n) for n in reps]


def dynamics_series(document: StudyDocument, metric: str) -> TierSeries | None:
    """Return `metric`'s weekly means by tier, or None when the dynamics hold no weekly values of it."""
    if metric in DYNAMICS_KEYS:
        return None
    series = document["dynamics"].get(metric)
    if isinstance(series, dict) and all(isinstance(series.get(tier), list) for tier in TIERS):
        return cast("TierSeries", series)
    return None


RENAMED_KEYS: dict[str, str] = {"ci95": "ci"}
"""Keys that documents stored by earlier versions spell otherwise: the old name, and the name now."""


def upgraded(stored: Any) -> Any:
    """Return a stored document (parsed JSON) with the keys of earlier versions renamed at any depth (`ci95` → `ci`).

    Only an interval is renamed (a key whose value is a list, where the new
    name is not taken), so a segment or metric that happens to be called
    `ci95` keeps its name.
    """
    if isinstance(stored, list):
        return [upgraded(v) for v in stored]
    if not isinstance(stored, dict):
        return stored
    renamed: dict[Any, Any] = {}
    for key, value in stored.items():
        new = RENAMED_KEYS.get(key, key) if isinstance(key, str) and isinstance(value, list) else key
        renamed[key if new in stored else new] = upgraded(value)
    return renamed


def _required_keys(kind: type) -> list[str]:
    # `__required_keys__` counts a NotRequired key as required when the annotations are strings (PEP 563, Python < 3.14).
    hints = get_type_hints(kind, include_extras=True)
    return [key for key, hint in hints.items() if get_origin(hint) is not NotRequired]


_SECTIONS: dict[str, type] = {
    "population": Population,
    "thresholds": Thresholds,
    "tiers": Tiers,
    "model": Model,
    "leading": Leading,
}
"""The top-level sections with fixed keys of their own."""


def missing_keys(stored: Any) -> list[str]:
    """Return the required keys a stored document lacks, at the top level and in the sections with fixed keys ("tiers.top_reps")."""
    if not isinstance(stored, Mapping):
        return _required_keys(StudyDocument)
    missing = [key for key in _required_keys(StudyDocument) if key not in stored]
    for section, kind in _SECTIONS.items():
        found = stored.get(section)
        if isinstance(found, Mapping):
            missing += [f"{section}.{key}" for key in _required_keys(kind) if key not in found]
        elif section in stored:
            missing.append(section)
    return missing
