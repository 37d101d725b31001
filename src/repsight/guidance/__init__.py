"""Personal guidance: the behaviours the company's own study found, turned into each person's gaps and suggestions.

A stage after the study (docs/guidance.md). `run_advice` opens a workspace
read-only and returns one person's `Advice`; `load_guidance_data` and
`advise` serve many people from one read (the weekly digest, a manager's
coaching view). No web or command-line code lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repsight.guidance.advice import CAVEAT, Advice, Gap, Suggestion, TopTier, advise, advise_person, top_tier
from repsight.guidance.coaching import Coaching, coaching
from repsight.guidance.data import GuidanceData, load_guidance_data

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = [
    "CAVEAT",
    "Advice",
    "Coaching",
    "Gap",
    "GuidanceData",
    "Suggestion",
    "TopTier",
    "advise",
    "advise_person",
    "coaching",
    "load_guidance_data",
    "run_advice",
    "top_tier",
]


def run_advice(config: Config, email: str, period: str | None = None) -> Advice:
    """Open the workspace of `config` read-only and return the guidance for the person of `email` (their latest period by default)."""
    from repsight.store import Store

    with Store.open(config, read_only=True) as store:
        data = load_guidance_data(store, config)
    return advise(data, email, period)
