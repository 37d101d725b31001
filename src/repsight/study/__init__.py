"""The study: top vs bottom sellers' behaviour, whole org and segment by segment (docs/study.md)."""

from repsight.study.run import StudyResult, analyze, run_study, study_document
from repsight.study.table import assign_tiers, rep_periods

__all__ = ["StudyResult", "analyze", "assign_tiers", "rep_periods", "run_study", "study_document"]
