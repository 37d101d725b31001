"""The one exception tree of repsight.

    RepsightError                 anything repsight reports to a user
    ├── ConfigError               repsight.toml is missing, unreadable or wrong
    ├── KeyFileError              the pseudonymisation key is missing or wrong
    ├── InputError                an input file cannot be read at all
    ├── StoreError                the workspace database refuses an operation
    ├── MetricsError              the stored data cannot be measured (no events, broken dates)
    ├── StudyError                the metrics cannot be studied (no reps with attainment, too few for tiers)
    └── GuidanceError             no guidance for this person or period (not on the roster, no metrics, no study)

A bad *record* is not an exception: it goes to the quarantine table and the
load goes on. These exceptions are for problems that stop a command; their
messages name the file (and, where there is one, the row and field) so the
command line can print them without a traceback.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "GuidanceError",
    "InputError",
    "KeyFileError",
    "MetricsError",
    "RepsightError",
    "StoreError",
    "StudyError",
]


class RepsightError(Exception):
    """A problem the user can fix; the message says what and where."""

    exit_code = 1


class ConfigError(RepsightError):
    """The workspace configuration is missing or invalid."""

    exit_code = 2


class KeyFileError(RepsightError):
    """The pseudonymisation key is missing, unreadable or does not fit the workspace."""

    exit_code = 2


class InputError(RepsightError):
    """An input file cannot be read at all (missing, wrong header, not text)."""


class StoreError(RepsightError):
    """The workspace database is unusable or refuses an operation."""


class MetricsError(RepsightError):
    """The stored data cannot be measured: nothing loaded yet, or dates that cannot be right."""


class StudyError(RepsightError):
    """The metrics cannot be studied: no reps with both metrics and attainment, or too few for tiers."""


class GuidanceError(RepsightError):
    """No guidance can be given: the person is not on the roster, has no metrics for the period, or there is no study yet."""
