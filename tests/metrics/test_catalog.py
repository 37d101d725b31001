"""The metric catalogue is the one place a metric is named: every list of metrics is derived from it."""

from __future__ import annotations

import ast
import re

import pytest

from repsight.config import StudyConfig
from repsight.export import VIVA_NAMES
from repsight.metrics.catalog import (
    CATALOG,
    HEADLINE,
    PERIOD_ONLY,
    STUDY_DEFAULT,
    VIVA_ONLY,
    WEEKLY,
    Metric,
    label,
    label_with_unit,
    metric,
)
from repsight.schema import METRIC_COLUMNS, TABLES
from tests.support import REPO
from tests.support.metrics_oracle import COUNT_COLUMNS, HOUR_COLUMNS, PERIOD_COLUMNS

SOURCES = sorted(p for p in (REPO / "src" / "repsight").rglob("*") if p.suffix in (".py", ".html", ".j2"))


def literal_count(text: str) -> int:
    """Return how often `text` is a whole string literal in the package's code, or a quoted string in its templates."""
    count = 0
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            count += sum(1 for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant) and node.value == text)
        else:
            count += len(re.findall(rf"[\"']{re.escape(text)}[\"']", source))
    return count


@pytest.mark.parametrize("entry", CATALOG, ids=lambda m: m.name)
def test_a_metrics_label_and_viva_name_are_written_once_in_the_source(entry: Metric) -> None:
    found = metric(entry.name)
    assert found is entry
    assert literal_count(found.label) == 1 + (found.viva == found.label), found.label
    if found.viva:
        assert literal_count(found.viva) == 1 + (found.viva == found.label), found.viva


def test_the_stored_tables_hold_the_catalogues_metrics_in_its_order() -> None:
    week = [c for c in TABLES["person_week"] if c not in ("person", "week", "period")]
    period = [c for c in TABLES["person_period"] if c not in ("person", "period", "period_start", "weeks")]
    assert week == list(WEEKLY) == [m.name for m in CATALOG if m.grain == "week"]
    assert period == list(METRIC_COLUMNS) == [m.name for m in CATALOG]
    assert set(period) == {*WEEKLY, *PERIOD_ONLY}
    # Hours are floats; so are the Viva-only counts, which a person query may give as fractions.
    floats = [m.name for m in CATALOG if (m.kind == "hours" or m.viva_only) and m.grain == "week"]
    assert [c for c, kind in TABLES["person_week"].items() if kind == "float64"] == floats
    assert all(TABLES["person_period"][m] == "float64" for m in METRIC_COLUMNS)


# The metric columns of schema version 2's tables, before the customer-engagement counts.
VERSION_2_WEEKLY = [
    "meeting_hours",
    "email_hours",
    "collaboration_hours",
    "customer_hours",
    "external_hours",
    "senior_leader_hours",
    "manager_hours",
    "manager_1on1_hours",
    "after_hours_collaboration_hours",
    "meetings",
    "emails_sent",
    "emails_received",
    "internal_network_size",
    "org_span",
]
ENGAGEMENT = ["customer_accounts", "customer_contacts", "customer_meetings"]
# Schema version 4: the period-only customer engagement, after version 3's columns.
PERIOD_ENGAGEMENT = ["accounts_touched", "contacts_per_account", "account_cadence"]
# Schema version 5: reply time and book coverage, after version 4's.
REPLIES_AND_BOOK = ["customer_reply_hours", "owned_accounts", "owned_accounts_touched_pct"]


def test_new_metrics_are_appended_so_an_older_workspaces_columns_stay_a_prefix() -> None:
    # `Store.open` can only add missing columns at the end of a stored table.
    assert list(TABLES["person_week"])[3:] == [*VERSION_2_WEEKLY, *ENGAGEMENT, *VIVA_ONLY]
    assert list(TABLES["person_period"])[4:] == [
        *VERSION_2_WEEKLY,
        "network_prominence",
        "network_brokerage",
        *ENGAGEMENT,
        *PERIOD_ENGAGEMENT,
        *REPLIES_AND_BOOK,
        *VIVA_ONLY,
    ]
    for name in ENGAGEMENT:
        entry = metric(name)
        assert entry is not None
        assert (entry.kind, entry.grain, entry.study_rank, entry.headline_rank, entry.dashboard, entry.viva) == (
            "count",
            "week",
            None,
            None,
            False,
            None,
        )
        assert TABLES["person_week"][name] == "int64" and TABLES["person_period"][name] == "float64"
        assert len(entry.heading) <= 14


def test_the_period_engagement_metrics_exist_per_period_only() -> None:
    kinds = {
        "accounts_touched": "count",
        "contacts_per_account": "ratio",
        "account_cadence": "ratio",
        "customer_reply_hours": "hours",
        "owned_accounts": "count",
        "owned_accounts_touched_pct": "percent",
    }
    labels = {
        "accounts_touched": "Accounts touched",
        "contacts_per_account": "Contacts per account",
        "account_cadence": "Account cadence",
        "customer_reply_hours": "Customer reply time",
        "owned_accounts": "Owned accounts",
        "owned_accounts_touched_pct": "Book coverage",
    }
    # The study tests the first four; book coverage is shown, not tested (not every CRM export has owners).
    ranks = {"accounts_touched": 11, "contacts_per_account": 12, "account_cadence": 13, "customer_reply_hours": 14}
    assert ("network_prominence", "network_brokerage", *PERIOD_ENGAGEMENT, *REPLIES_AND_BOOK) == PERIOD_ONLY
    for name in (*PERIOD_ENGAGEMENT, *REPLIES_AND_BOOK):
        entry = metric(name)
        assert entry is not None
        assert (entry.kind, entry.grain, entry.label) == (kinds[name], "period", labels[name])
        assert (entry.study_rank, entry.headline_rank, entry.dashboard, entry.viva) == (ranks.get(name), None, False, None)
        # Only a metric a person-period may lack is optional; only the reply time is better lower.
        assert entry.optional == (name in REPLIES_AND_BOOK)
        assert entry.lower_is_better == (name == "customer_reply_hours")
        assert name not in TABLES["person_week"] and TABLES["person_period"][name] == "float64"
        assert len(entry.heading) <= 14
        assert name in PERIOD_COLUMNS


def test_the_study_defaults_and_headline_come_from_the_catalogue() -> None:
    assert StudyConfig().metrics == list(STUDY_DEFAULT)
    assert STUDY_DEFAULT == (
        "customer_hours",
        "internal_network_size",
        "org_span",
        "network_prominence",
        "network_brokerage",
        "senior_leader_hours",
        "manager_hours",
        "collaboration_hours",
        "external_hours",
        "after_hours_collaboration_hours",
        "accounts_touched",
        "contacts_per_account",
        "account_cadence",
        "customer_reply_hours",
    )
    assert HEADLINE == ("customer_hours", "internal_network_size", "senior_leader_hours")


def test_ranks_and_names_are_unique() -> None:
    names = [m.name for m in CATALOG]
    assert len(set(names)) == len(names)
    study = sorted(m.study_rank for m in CATALOG if m.study_rank is not None)
    assert study == list(range(1, len(study) + 1))
    headline = sorted(m.headline_rank for m in CATALOG if m.headline_rank is not None)
    assert headline == [1, 2, 3]
    vivas = [m.viva for m in CATALOG if m.viva]
    assert len(set(vivas)) == len(vivas)
    assert {m.name: m.viva for m in CATALOG if m.viva} == VIVA_NAMES


def test_every_catalogue_metric_is_specified_and_in_the_oracle() -> None:
    spec = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    for entry in CATALOG:
        assert f"`{entry.name}`" in spec, entry.name
    # The oracle computes every metric of mail and calendar events; the Viva-only ones come from a person query as they are.
    assert [*HOUR_COLUMNS, *COUNT_COLUMNS] == [m for m in WEEKLY if m not in VIVA_ONLY]


def test_labels_read_as_people_say_them() -> None:
    assert label("customer_hours") == "Customer time"
    assert label_with_unit("customer_hours") == "Customer time (hours/week)"
    assert label_with_unit("internal_network_size") == "Internal network (people)"
    assert label_with_unit("org_span") == "Org units reached"  # the unit is already in the name
    assert label("weeks") == "Weeks"  # a column that is no metric reads as itself
