"""Runs the whole study on a workspace and keeps its result: the JSON document and the reps' tiers."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
import pyarrow as pa

from repsight.errors import StudyError
from repsight.study.document import StudyDocument
from repsight.study.dynamics import dynamics, leading_indicators
from repsight.study.phases import multivariable_model, phase1, phase2
from repsight.study.table import assign_tiers, rep_periods, rep_weeks

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.store import Store
    from repsight.study.render import StudyView

__all__ = ["StudyResult", "compute_study", "jsonable", "run_study", "study_document"]


@dataclass(frozen=True)
class StudyResult:
    """The study of one workspace: the document of `repsight analyze --json`, and each rep-period's tier."""

    document: StudyDocument
    tiers: pd.DataFrame
    """person, period, attainment, tier (+1 top, −1 bottom, 0 neither)."""
    seconds: float

    def to_json(self, indent: int | None = 2) -> str:
        """Return the document as JSON; a value that does not exist (NaN) is null."""
        return json.dumps(_plain(self.document), indent=indent, allow_nan=False)

    def __rich__(self) -> StudyView:
        """Return the study for a terminal, a Rich renderable (`repsight.study.render`)."""
        from repsight.study.render import study_view

        return study_view(self.document)


def jsonable(document: StudyDocument) -> StudyDocument:
    """Return the document as its JSON reads back: NaN as None, numpy scalars as Python numbers.

    A figure that does not exist is then None where the type says float, as
    in the stored JSON; readers test for it with `repsight.report.numbers.is_missing`.
    """
    return cast("StudyDocument", _plain(document))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # a numpy scalar
        return _plain(value.item())
    return value


def study_document(rows: pd.DataFrame, config: Config, weeks: pd.DataFrame | None = None) -> tuple[StudyDocument, pd.DataFrame]:
    """Return the study of rep-period `rows` (see `rep_periods`) and the rows' tiers.

    `weeks` (the tiered reps' person-week rows, `rep_weeks`) feeds the
    dynamics; without it the document has none.
    """
    configured = config.study.metrics
    # A metric no rep has a value of is absent from the data (customer time in a Viva Insights person query):
    # said so, and left out of every test, not read as zero.
    absent = [m for m in configured if m in rows and rows[m].isna().all()]
    if len(absent) == len(configured):
        raise StudyError(
            f"no rep has a value of any metric the study tests ({', '.join(configured)}): "
            "choose measured metrics in [study] metrics"
        )
    study = config.study.model_copy(update={"metrics": [m for m in configured if m not in absent]})
    min_group = config.privacy.min_group_size
    # One order whatever the input's: the same data give the same figures to the last digit.
    rows = rows.sort_values(["period", "person"], kind="stable").reset_index(drop=True)
    periods = sorted(rows["period"].unique())
    _check_tiers(rows, config)
    tiers, found = phase1(rows, study)
    tiered = rows[["person", "period", "attainment"]].assign(tier=tiers, period_start=rows["period_start"])
    document: StudyDocument = {
        "population": {"reps": int(rows["person"].nunique()), "rep_periods": len(rows), "periods": periods},
        "thresholds": {
            "sales_functions": list(config.company.sales_functions),
            "tier_fraction": study.tier_fraction,
            "bootstrap_resamples": study.bootstrap_resamples,
            "confidence": study.confidence,
            "seed": study.seed,
            "q_threshold": study.q_threshold,
            "heterogeneity_i2": study.heterogeneity_i2,
            "min_group_size": min_group,
            "segment_by": list(study.segment_by),
            "metrics": list(configured),
        },
        "absent": absent,
        "tiers": {
            "top_rep_periods": int((tiers > 0).sum()),
            "bottom_rep_periods": int((tiers < 0).sum()),
            "top_reps": int(rows.loc[tiers > 0, "person"].nunique()),
            "bottom_reps": int(rows.loc[tiers < 0, "person"].nunique()),
        },
        "phase1": found,
        "model": multivariable_model(rows, study),
        "phase2": phase2(rows, study, min_group),
        "dynamics": dynamics(weeks, [m for m in study.metrics if m in weeks.columns], periods, min_group)
        if weeks is not None
        else {},
        "leading": leading_indicators(rows, study),
        "caveat": (
            "These are associations between behaviour and attainment, not proof that changing a behaviour "
            "changes results; the leading-indicator and within-person tests are the closest the data come."
        ),
    }
    return document, tiered.drop(columns="period_start")


def _check_tiers(rows: pd.DataFrame, config: Config) -> None:
    fraction = config.study.tier_fraction
    per_period = rows.groupby("period")["person"].nunique()
    if int((per_period * fraction + 1e-9).min()) < 1:
        raise StudyError(
            f"too few reps to form tiers: {int(per_period.min())} in period {per_period.idxmin()}; "
            f"each period needs at least {math.ceil(1 / fraction - 1e-9)} reps with metrics and attainment"
        )


def compute_study(store: Store, config: Config) -> StudyResult:
    """Return the study of the workspace's stored metrics, KPIs and roster, and store it (tables `study_tiers`, `study_results`)."""
    from repsight.validation.run import study_exclusions

    started = time.perf_counter()
    exclusions = study_exclusions(store, config)
    rows, unmeasured = rep_periods(store, config, exclusions)
    _check_tiers(rows, config)
    tiered = rows[["person", "period", "period_start"]].assign(tier=assign_tiers(rows, config.study.tier_fraction))
    document, tiers = study_document(rows, config, rep_weeks(store, config, tiered))
    document["population"] = {
        "people": int(store.table("person_period").person.nunique().execute()),
        **document["population"],
        "rep_periods_without_metrics": unmeasured,
    }
    document["validation"] = {
        "validated_at": exclusions.validated_at,
        "counts": exclusions.counts,
        "removed": exclusions.removed,
        "warning": exclusions.warning,
    }
    effect = _digest_effect(store, config)
    if effect is not None:
        document["digest"] = effect
    result = StudyResult(document, tiers, time.perf_counter() - started)
    created = datetime.now(UTC).replace(tzinfo=None)
    with store.transaction():
        store.replace("study_tiers", pa.Table.from_pandas(tiers, preserve_index=False))
        store.replace("study_results", pa.table({"created_at": [created], "document": [result.to_json(indent=None)]}))
    return result


def _digest_effect(store: Store, config: Config) -> dict[str, Any] | None:
    """Return the digest's effect on each weekly behaviour of the study, and on attainment, where a holdout was drawn (docs/guidance.md).

    Weeks from the holdout's first week on are *after*. For attainment, a
    period is *before* when it ends before that week and *after* when it
    starts on or after it; the period that holds it is neither.
    """
    from repsight.digest.holdout import stored_holdout
    from repsight.metrics.catalog import PERIOD_ONLY
    from repsight.study.digest_effect import digest_effect

    drawn = stored_holdout(store)
    if drawn.empty:
        return None
    first = pd.Timestamp(min(drawn["first_week"]))
    metrics = [m for m in config.study.metrics if m not in PERIOD_ONLY]
    weeks = store.to_pandas(store.table("person_week").select("person", "week", *metrics))
    found = digest_effect(weeks[weeks["person"].isin(drawn["person"])], drawn, first.date(), metrics, config.study.confidence)
    kpis = store.to_pandas(store.table("kpis").select("person", "period_start", "period_end", "attainment"))
    kpis = kpis[kpis["person"].isin(drawn["person"]) & kpis["attainment"].notna()]
    before, after = pd.to_datetime(kpis["period_end"]) < first, pd.to_datetime(kpis["period_start"]) >= first
    periods = kpis[before | after].rename(columns={"period_start": "week"})
    outcome = digest_effect(periods, drawn, first.date(), ["attainment"], config.study.confidence)["metrics"]
    found["attainment"] = outcome.get("attainment")
    found["holdout_weeks"] = config.digest.holdout_weeks
    found["held_out"] = int((drawn["group"] == "holdout").sum())
    return found


def run_study(config: Config) -> StudyResult:
    """Open the workspace of `config`, run the study and store it."""
    from repsight.store import Store

    with Store.open(config) as store:
        return compute_study(store, config)
