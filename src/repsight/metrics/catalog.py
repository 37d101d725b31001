"""The metric catalogue: every behaviour metric, named, labelled and placed once.

Each list of metrics elsewhere (the stored tables' columns, the study's
default metrics, the report's and dashboard's labels and units, the command
line's column headings, the Viva Insights export's names, the headline
behaviours) is derived from `CATALOG`. Adding a metric means writing its rule
(`metrics/weekly.py` or a module it reads, or `metrics/centrality.py`) and
one entry here, appended at the end: the stored tables hold the columns in
this order, and an older workspace's tables can only grow at their end.

This module imports nothing of repsight: the configuration, the schema and
the graph workers read it without Ibis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CATALOG",
    "HEADLINE",
    "PERIOD_ENGAGEMENT",
    "PERIOD_ONLY",
    "STUDY_DEFAULT",
    "VIVA_ONLY",
    "WEEKLY",
    "Metric",
    "better",
    "label",
    "label_with_unit",
    "metric",
    "unit",
]

Grain = Literal["week", "period"]
Kind = Literal["hours", "count", "percentile", "ratio", "percent"]


@dataclass(frozen=True)
class Metric:
    """One behaviour metric: its column, how people read it, where it is measured and who uses it."""

    name: str
    """The column in `person_week` / `person_period` (docs/metrics.md)."""
    label: str
    """Its name for people in the report and on the dashboard, e.g. "Customer time"."""
    short: str
    """Its heading in a terminal table: a few characters, read with `unit_short`."""
    unit: str
    """The unit of a weekly value (or of the period's value, for period-only metrics)."""
    unit_short: str
    """The unit in a terminal table."""
    kind: Kind
    """Hours (a float per week, or per period for a period-only median), a count (an integer per week, or per period for a period-only count), a percentile (per period), a ratio (per period) or a percent (0–100, per period)."""
    grain: Grain
    """"week": measured each week, a period holds the weekly mean; "period": measured per period only."""
    study_rank: int | None = None
    """Its place among the study's default metrics (`[study] metrics`); None when the study does not test it by default."""
    headline_rank: int | None = None
    """Its place among the study's three headline behaviours, or None."""
    dashboard: bool = False
    """Whether every dashboard view charts it week by week."""
    viva: str | None = None
    """Its column in the Viva Insights-style export; None keeps repsight's name."""
    lower_is_better: bool = False
    """Whether less of it is the better behaviour (a reply time): the study reads its gaps the other way round."""
    optional: bool = False
    """Whether it may be empty (null) for a person-period: no reply to a customer, no account owned. The study leaves such rows out of its comparisons."""
    advised: bool = True
    """Whether the guidance may name it as a gap to close (docs/guidance.md): never more work outside working hours."""
    viva_only: bool = False
    """Whether only a Viva Insights person query measures it (docs/viva.md): repsight has no rule of its own, and it is empty in a workspace of mail and calendar events."""

    @property
    def label_with_unit(self) -> str:
        """Return the label with its unit, e.g. "Customer time (hours/week)"."""
        said = [self.unit] if self.unit.lower() not in self.label.lower() else []
        said += ["lower is better"] if self.lower_is_better else []
        return f"{self.label} ({'; '.join(said)})" if said else self.label

    @property
    def heading(self) -> str:
        """Return the terminal heading with its unit, e.g. "customer h/wk"."""
        return f"{self.short} {self.unit_short}".strip()


def _hours(
    name: str,
    label: str,
    short: str,
    *,
    study_rank: int | None = None,
    headline_rank: int | None = None,
    dashboard: bool = False,
    viva: str | None = None,
    advised: bool = True,
    viva_only: bool = False,
) -> Metric:
    return Metric(
        name,
        label,
        short,
        "hours/week",
        "h/wk",
        "hours",
        "week",
        study_rank,
        headline_rank,
        dashboard,
        viva,
        advised=advised,
        viva_only=viva_only,
    )


def _count(
    name: str,
    label: str,
    short: str,
    unit: str,
    unit_short: str,
    *,
    study_rank: int | None = None,
    headline_rank: int | None = None,
    dashboard: bool = False,
    viva: str | None = None,
    viva_only: bool = False,
) -> Metric:
    return Metric(
        name, label, short, unit, unit_short, "count", "week", study_rank, headline_rank, dashboard, viva, viva_only=viva_only
    )


CATALOG: tuple[Metric, ...] = (
    # In the order the tables hold them: hours, then counts, then the period-only network scores,
    # then the metrics added since (appended: a stored table's columns are never reordered).
    _hours("meeting_hours", "Meeting time", "meetings", viva="Meeting_hours"),
    _hours("email_hours", "Email time", "email", viva="Email_hours"),
    _hours("collaboration_hours", "Collaboration", "collab", study_rank=8, viva="Collaboration_hours"),
    _hours("customer_hours", "Customer time", "customer", study_rank=1, headline_rank=1, dashboard=True),
    _hours("external_hours", "External time", "external", study_rank=9, viva="External_collaboration_hours"),
    _hours("senior_leader_hours", "Senior-leader time", "leaders", study_rank=6, headline_rank=3, dashboard=True),
    _hours("manager_hours", "Manager time", "manager", study_rank=7, dashboard=True, viva="Meeting_and_call_hours_with_manager"),
    _hours("manager_1on1_hours", "Manager 1:1 time", "1:1", viva="Meeting_and_call_hours_with_manager_1_1"),
    _hours(
        "after_hours_collaboration_hours",
        "After-hours collaboration",
        "after hours",
        study_rank=10,
        viva="After_hours_collaboration_hours",
        advised=False,
    ),
    _count("meetings", "Meetings", "meetings", "meetings/week", "/wk", viva="Meetings"),
    _count("emails_sent", "Emails sent", "sent", "emails/week", "/wk", viva="Emails_sent"),
    _count("emails_received", "Emails received", "received", "emails/week", "/wk"),
    _count(
        "internal_network_size",
        "Internal network",
        "network",
        "people",
        "people",
        study_rank=2,
        headline_rank=2,
        dashboard=True,
        viva="Internal_network_size",
    ),
    _count("org_span", "Org units reached", "org units", "org units", "", study_rank=3, viva="Network_outside_organisation"),
    Metric("network_prominence", "Network prominence", "prominence", "percentile", "pct", "percentile", "period", study_rank=4),
    Metric("network_brokerage", "Network brokerage", "brokerage", "percentile", "pct", "percentile", "period", study_rank=5),
    # Customer engagement: counts added later, after every earlier column, so that a
    # stored table of an older workspace is a prefix of the new one (`Store.open` adds them).
    _count("customer_accounts", "Customer accounts", "accounts", "accounts", ""),
    _count("customer_contacts", "Customer contacts", "contacts", "contacts", ""),
    _count("customer_meetings", "Customer meetings", "cust mtgs", "meetings/week", "/wk"),
    # Customer engagement over a whole period (not weekly means): appended after the weekly counts.
    Metric("accounts_touched", "Accounts touched", "accts touched", "accounts", "", "count", "period", study_rank=11),
    Metric(
        "contacts_per_account", "Contacts per account", "contacts/acct", "contacts/account", "", "ratio", "period", study_rank=12
    ),
    Metric("account_cadence", "Account cadence", "cadence", "share of weeks", "", "ratio", "period", study_rank=13),
    # Reply time and book coverage, appended after the period's engagement counts.
    Metric(
        "customer_reply_hours",
        "Customer reply time",
        "reply",
        "median hours",
        "h",
        "hours",
        "period",
        study_rank=14,
        lower_is_better=True,
        optional=True,
    ),
    Metric("owned_accounts", "Owned accounts", "owned", "accounts", "", "count", "period", optional=True),
    Metric(
        "owned_accounts_touched_pct",
        "Book coverage",
        "coverage",
        "% of owned accounts",
        "%",
        "percent",
        "period",
        optional=True,
    ),
    # Measured only by a Viva Insights person query (docs/viva.md): weekly, appended last. Empty in a
    # workspace of mail and calendar events; a Viva workspace has them, and the study may test them.
    _hours("leadership_hours", "Time with leadership", "leadership", viva="Time_with_leadership", viva_only=True),
    _hours("skip_level_hours", "Skip-level time", "skip level", viva="Meeting_and_call_hours_with_skip_level", viva_only=True),
    _hours("meeting_and_call_hours", "Meeting and call time", "mtg+call", viva="Meeting_and_call_hours", viva_only=True),
    _hours("call_hours", "Call time", "calls", viva="Call_hours", viva_only=True),
    _hours("chat_hours", "Chat time", "chat", viva="Chat_hours", viva_only=True),
    _hours("multitasking_hours", "Multitasking", "multitask", viva="Multitasking_hours", viva_only=True),
    _hours("conflicting_meeting_hours", "Conflicting meetings", "conflicts", viva="Conflicting_meeting_hours", viva_only=True),
    _hours(
        "large_and_long_meeting_hours",
        "Large and long meetings",
        "large mtgs",
        viva="Large_and_long_meeting_hours",
        viva_only=True,
    ),
    _hours(
        "weekend_collaboration_hours",
        "Weekend collaboration",
        "weekend",
        viva="Weekend_collaboration_hours",
        advised=False,
        viva_only=True,
    ),
    _hours("uninterrupted_hours", "Uninterrupted time", "focus", viva="Uninterrupted_hours", viva_only=True),
    _hours("workweek_span", "Workweek span", "span", viva="Workweek_span", advised=False, viva_only=True),
    _count(
        "collaboration_span", "Collaboration span", "collab span", "people", "people", viva="Collaboration_span", viva_only=True
    ),
    _count(
        "external_network_size",
        "External network",
        "ext network",
        "people",
        "people",
        viva="External_network_size",
        viva_only=True,
    ),
    _count(
        "network_outside_company",
        "Companies reached",
        "companies",
        "companies",
        "",
        viva="Network_outside_company",
        viva_only=True,
    ),
)
"""Every metric, in the order `person_period` holds them (`person_week`: the weekly ones, in this order)."""

_BY_NAME = {m.name: m for m in CATALOG}
WEEKLY: tuple[str, ...] = tuple(m.name for m in CATALOG if m.grain == "week")
"""The metrics measured week by week: the columns of `person_week`, in order."""
PERIOD_ONLY: tuple[str, ...] = tuple(m.name for m in CATALOG if m.grain == "period")
"""The metrics measured per period only (the network scores, the period's customer engagement): no weekly values."""
STUDY_DEFAULT: tuple[str, ...] = tuple(
    m.name for m in sorted((m for m in CATALOG if m.study_rank is not None), key=lambda m: m.study_rank or 0)
)
"""The metrics the study tests unless `[study] metrics` says otherwise."""
PERIOD_ENGAGEMENT: tuple[str, ...] = tuple(m.name for m in CATALOG if m.grain == "period" and m.kind != "percentile")
"""The period's customer engagement (docs/metrics.md, *Customer engagement*), in the catalogue's order: the period-only metrics but the network scores."""
VIVA_ONLY: tuple[str, ...] = tuple(m.name for m in CATALOG if m.viva_only)
"""The metrics only a Viva Insights person query measures, in the catalogue's order."""
HEADLINE: tuple[str, ...] = tuple(
    m.name for m in sorted((m for m in CATALOG if m.headline_rank is not None), key=lambda m: m.headline_rank or 0)
)
"""The study's three headline behaviours: customer time, internal network, senior-leader time."""


def metric(name: str) -> Metric | None:
    """Return the catalogue entry of a metric column, or None for a column that is not a metric."""
    return _BY_NAME.get(name)


def better(name: str) -> Literal["higher", "lower"]:
    """Return which way a metric's better behaviour lies: "lower" for a reply time, "higher" for every other (and a column that is no metric)."""
    found = _BY_NAME.get(name)
    return "lower" if found is not None and found.lower_is_better else "higher"


def label(name: str) -> str:
    """Return a metric's name for people, e.g. "Customer time" (a column that is no metric reads as itself)."""
    found = _BY_NAME.get(name)
    return found.label if found else name.replace("_", " ").capitalize()


def unit(name: str) -> str:
    """Return a metric's unit, e.g. "hours/week" ("" for a column that is no metric)."""
    found = _BY_NAME.get(name)
    return found.unit if found else ""


def label_with_unit(name: str) -> str:
    """Return a metric's name for people with its unit, e.g. "Customer time (hours/week)"."""
    found = _BY_NAME.get(name)
    return found.label_with_unit if found else label(name)
