"""The study: top vs bottom sellers' behaviour, whole org and segment by segment (docs/study.md)."""

from repsight.study.run import StudyResult, compute_study, run_study, study_document
from repsight.study.table import assign_tiers, rep_periods

__all__ = ["StudyResult", "assign_tiers", "compute_study", "rep_periods", "run_study", "study_document"]
