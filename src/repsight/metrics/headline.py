"""The study's three headline behaviours by attainment quartile: a first look at the effect."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from repsight.metrics.catalog import HEADLINE
from repsight.privacy import suppress_small_groups

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.store import Store

__all__ = ["HEADLINE", "headline_by_quartile"]


def headline_by_quartile(store: Store, config: Config) -> pa.Table:
    """Return, per attainment quartile (1 = lowest), the sellers' mean headline metrics over their person-periods.

    Quartiles are drawn within each period among people of the sales
    functions with an attainment that period. Columns: `quartile`, `people`,
    `person_periods`, then the headline metrics; a quartile of fewer people
    than the minimum group size shows no values.
    """
    periods = store.table("person_period")
    kpis = store.table("kpis").filter(lambda t: t.attainment.notnull())
    sellers = config.company.sellers(store.table("people")).select("person")
    joined = periods.join(kpis.select("person", "period", "attainment"), ["person", "period"]).semi_join(sellers, "person")
    ranked = joined.mutate(quartile=ibis.ntile(4).over(group_by="period", order_by="attainment") + 1)
    summary = (
        ranked.group_by("quartile")
        .aggregate(
            people=ranked.person.nunique(),
            person_periods=ranked.count(),
            **{name: ranked[name].mean() for name in HEADLINE},
        )
        .order_by("quartile")
    )
    rows = store.to_arrow(summary)
    return suppress_small_groups(rows, "people", list(HEADLINE), config.privacy.min_group_size)
