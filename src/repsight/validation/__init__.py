"""Data validation before the study (docs/validation.md): flags with the rule and the numbers behind each.

`run_validation(config)` checks the stored tables and stores the flags;
the study leaves out what they flag (`[validation]` settings).
"""

from repsight.validation.run import ValidationResult, run_validation, stale_validation, study_exclusions, validate

__all__ = ["ValidationResult", "run_validation", "stale_validation", "study_exclusions", "validate"]
