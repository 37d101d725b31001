"""A manager's coaching view: the most common gaps in their team, and how many members have each.

Aggregates only under the minimum group rule: a team with fewer reps with
metrics than `privacy.min_group_size` gets no counts at all. Each member's
own gaps are listed only where `privacy.manager_sees_individuals` allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from repsight.errors import GuidanceError
from repsight.guidance.advice import Advice, advise_person, gaps_of
from repsight.metrics.catalog import label
from repsight.privacy import large_enough

if TYPE_CHECKING:
    from repsight.guidance.data import GuidanceData

__all__ = ["Coaching", "coaching"]


@dataclass(frozen=True)
class Coaching:
    """The coaching view of one manager's team in one period."""

    manager: str
    """The manager's email."""
    period: str
    reps: int
    """Reps of the team with metrics in the period."""
    shown: bool
    """Whether the team is large enough for its counts to be shown (at least the minimum group)."""
    gaps: list[dict[str, Any]] = field(default_factory=list)
    """Per behaviour: `metric`, `label`, `members` (with it as a gap), `first` (with it as their largest gap), most common first."""
    members: list[Advice] = field(default_factory=list)
    """Each member's advice, only with `privacy.manager_sees_individuals`."""

    def to_json(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "period": self.period,
            "reps": self.reps,
            "shown": self.shown,
            "gaps": self.gaps,
            "members": [m.to_json() for m in self.members],
        }


def coaching(data: GuidanceData, manager: str, period: str | None = None) -> Coaching:
    """Return the coaching view of `manager`'s team (a pseudonym): everyone below them who carries quota and has metrics."""
    period = period or (data.period_names[-1] if data.period_names else None)
    if period is None:
        raise GuidanceError("the workspace has no metrics yet")
    measured = set(data.periods.loc[data.periods["period"].astype(str) == period, "person"])
    members = [p for p in data.team(manager) if data.is_rep(p) and p in measured]
    shown = large_enough(len(members), data.config.privacy.min_group_size)
    if not shown:
        return Coaching(data.email(manager), period, len(members), False)
    # The counts need each member's gaps only; the whole advice (suggestions too) only where individuals are shown.
    individuals = (
        [advise_person(data, member, period) for member in members] if data.config.privacy.manager_sees_individuals else []
    )
    gap_lists = [a.gaps for a in individuals] if individuals else [gaps_of(data, member, period)[0] for member in members]
    counts: dict[str, dict[str, Any]] = {}
    for gaps in gap_lists:
        for rank, gap in enumerate(gaps):
            entry = counts.setdefault(gap.metric, {"metric": gap.metric, "label": label(gap.metric), "members": 0, "first": 0})
            entry["members"] += 1
            entry["first"] += rank == 0
    ranked = sorted(counts.values(), key=lambda e: (-e["members"], -e["first"], e["metric"]))
    return Coaching(data.email(manager), period, len(members), True, ranked, individuals)
