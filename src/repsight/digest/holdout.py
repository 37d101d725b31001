"""The digest's holdout: who gets no digest for a while, so that its effect can be measured (docs/guidance.md).

With `digest.holdout_fraction` above 0, the first digest sent draws the
holdout among the week's recipients (`repsight.study.digest_effect.assign_holdout`,
within each segment and tier of the period) and stores it in
`digest_holdout`, with the week it starts and the week it ends. Later runs
read it: a held-out rep gets nothing until then. Writing an outbox draws it
too (the same reps and seed give the same draw) but stores nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from repsight.study.digest_effect import HOLDOUT, assign_holdout

if TYPE_CHECKING:
    from repsight.guidance import GuidanceData
    from repsight.store import Store

__all__ = ["held_out", "stored_holdout"]


def stored_holdout(store: Store) -> pd.DataFrame:
    """Return the stored holdout (person, stratum, group, first_week, until_week); empty when none was drawn."""
    if not store.has_table("digest_holdout"):
        return pd.DataFrame(columns=["person", "stratum", "group", "first_week", "until_week"])
    return store.to_pandas(store.table("digest_holdout"))


def held_out(store: Store, data: GuidanceData, people: list[str], week: date, period: str, *, keep: bool) -> set[str]:
    """Return the reps among `people` held out in `week`; draw the holdout first if there is none and one is asked for (`keep`: store it)."""
    settings = data.config.digest
    drawn = stored_holdout(store)
    if drawn.empty:
        if settings.holdout_fraction == 0 or not people:
            return set()
        tiers = data.tiers[data.tiers["period"].astype(str) == period].set_index("person")["tier"]
        reps = pd.DataFrame(
            {
                "person": people,
                "segment": [data.people.at[p, "segment"] if p in data.people.index else None for p in people],
                "tier": [int(tiers.get(p, 0)) for p in people],
            }
        )
        drawn = assign_holdout(reps, settings.holdout_fraction, settings.holdout_seed)
        drawn = drawn.assign(first_week=week, until_week=week + timedelta(weeks=settings.holdout_weeks))
        if keep:
            rows = {
                "person": drawn["person"].astype(str).tolist(),
                "stratum": drawn["stratum"].astype(str).tolist(),
                "group": drawn["group"].astype(str).tolist(),
                "first_week": pa.array(drawn["first_week"].tolist(), pa.date32()),
                "until_week": pa.array(drawn["until_week"].tolist(), pa.date32()),
            }
            store.insert_new("digest_holdout", pa.table(rows))
    first = drawn["first_week"].map(lambda d: pd.Timestamp(d).date())
    until = drawn["until_week"].map(lambda d: pd.Timestamp(d).date())
    active = (drawn["group"] == HOLDOUT) & (first <= week) & (week < until)
    return set(drawn.loc[active, "person"].astype(str)) & set(people)
