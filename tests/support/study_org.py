"""Synthetic sales organisations for the study tests, generated straight as rep-period rows.

The study reads rep-period rows (metrics, attainment, segment attributes);
generating them directly, with known effects, makes a study test take
seconds instead of a run through files, ingest and metrics. Each rep has a
lasting skill; each quarter blends it with a fresh draw, and that quarter's
skill drives attainment and, by the planted effects, the behaviours.

An effect is the log-change of a metric per standard deviation of skill;
0.151 makes the bottom quartile's mean about 25% below the top's, as the
study found for customer time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from repsight.metrics.catalog import STUDY_DEFAULT as STUDY_METRICS

REGIONS = ("NA", "EMEA", "APAC")
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
CHANNELS = ("Direct", "Partner")
QUARTERS = ("2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2")

# Typical weekly levels, so that the numbers look like a sales force's.
BASE = {
    "customer_hours": 4.0,
    "internal_network_size": 20.0,
    "org_span": 8.0,
    "network_prominence": 50.0,
    "network_brokerage": 50.0,
    "senior_leader_hours": 0.4,
    "manager_hours": 1.3,
    "collaboration_hours": 9.0,
    "external_hours": 4.2,
    "after_hours_collaboration_hours": 0.8,
    "accounts_touched": 12.0,
    "contacts_per_account": 2.0,
    "account_cadence": 0.3,
    "customer_reply_hours": 6.0,
}
# The study's first ten metrics; those added since draw their noise from a second stream,
# so that adding one leaves every earlier metric's values (and the tests that pin them) as they were.
FIRST_METRICS = STUDY_METRICS[:10]


@dataclass(frozen=True)
class Plan:
    """What a synthetic study organisation plants."""

    reps: int = 150
    seed: int = 1
    effects: dict[str, float] = field(default_factory=dict)
    """Metric → log-change per SD of skill, in every region."""
    by_region: dict[str, dict[str, float]] = field(default_factory=dict)
    """Metric → region → effect, overriding `effects` in that region."""
    noise: float = 0.25
    """SD of a metric's log noise, rep-period by rep-period."""
    persistence: float = 0.35
    """Weight of each quarter's fresh draw next to the lasting skill."""
    attainment_skill_correlation: float = 0.75
    region_weights: tuple[float, ...] = (0.4, 0.35, 0.25)


# The study's findings: bottom vs top about -25% customer time, -20% network and
# senior-leader time (effects measured on 20,000 reps: -24.8%, -19.8%, -19.8%).
DEMO_LIKE = {"customer_hours": 0.151, "internal_network_size": 0.117, "senior_leader_hours": 0.117}


def rep_period_rows(plan: Plan) -> pd.DataFrame:
    """Return one row per rep and quarter: person, period, period_start, attainment, region, segment, channel, metrics."""
    rng = np.random.default_rng(plan.seed)
    later = np.random.default_rng([plan.seed, 1])
    persons = [f"{i:032x}" for i in rng.permutation(plan.reps) + 1]
    region = rng.choice(REGIONS, size=plan.reps, p=plan.region_weights)
    segment = rng.choice(SEGMENTS, size=plan.reps)
    channel = rng.choice(CHANNELS, size=plan.reps, p=(0.75, 0.25))
    lasting = rng.normal(size=plan.reps)
    rows = []
    w = plan.persistence
    rho = plan.attainment_skill_correlation
    for period in QUARTERS:
        skill = np.sqrt(1 - w) * lasting + np.sqrt(w) * rng.normal(size=plan.reps)
        attainment = 0.95 * np.exp(0.28 * (rho * skill + np.sqrt(1 - rho * rho) * rng.normal(size=plan.reps)))
        year, quarter = int(period[:4]), int(period[-1])
        frame = pd.DataFrame(
            {
                "person": persons,
                "period": period,
                "period_start": date(year, 3 * quarter - 2, 1),
                "attainment": attainment,
                "region": region,
                "segment": segment,
                "channel": channel,
            }
        )
        for metric in STUDY_METRICS:
            effect = np.array([plan.by_region.get(metric, {}).get(r, plan.effects.get(metric, 0.0)) for r in region])
            noise = (rng if metric in FIRST_METRICS else later).normal(size=plan.reps)
            frame[metric] = BASE[metric] * np.exp(effect * skill + plan.noise * noise)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True).sort_values(["period", "person"]).reset_index(drop=True)
