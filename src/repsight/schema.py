"""The workspace's tables: every stored table's columns, types and key.

The store (`repsight.store`) creates and loads them; docs/metrics.md and
docs/study.md document the stages' tables. The metric columns come from the
metric catalogue (`repsight.metrics.catalog`).
"""

from __future__ import annotations

from typing import Literal

from repsight.metrics.catalog import CATALOG

__all__ = [
    "HR_ATTRIBUTES",
    "KEYS",
    "METRIC_COLUMNS",
    "PERSON_COLUMNS",
    "PERSON_MENTIONS",
    "PERSON_REFERENCES",
    "SCHEMA_VERSION",
    "TABLES",
]


def _metric_columns(table: Literal["week", "period"]) -> dict[str, str]:
    # A week holds hours as floats and counts as integers; a period holds their weekly means
    # and the period-only scores, all in the catalogue's order (new metrics are appended there,
    # so an older workspace's columns stay a prefix that `Store.open` can extend).
    if table == "week":
        # A Viva-only count may be fractional in a person query (an average over days): kept as it is.
        return {m.name: "float64" if m.kind == "hours" or m.viva_only else "int64" for m in CATALOG if m.grain == "week"}
    return {m.name: "float64" for m in CATALOG}


SCHEMA_VERSION = 9
"""The version of these tables; `Store.open` brings an older writable workspace up to it (1 → 2: `messages.parent_key`; 2 → 3: the customer-engagement columns of `person_week` and `person_period`; 3 → 4: the period-only engagement columns of `person_period`, `accounts_touched`, `contacts_per_account`, `account_cadence`; 4 → 5: the account owner, `accounts.owner` and `account_domains.owner`, the reply time and book coverage of `person_period`, and the `account_touches` and `week_ties` tables; 5 → 6: the Viva Insights person query, `viva_values` and `person_aliases`, and the Viva-only metric columns of `person_week` and `person_period`; 6 → 7: `loads.rows_changed` and `loads.rows_removed` (reference files are snapshots), the `validation` table and `people_history` (the roster's rows by effective date); 7 → 8: the `forgotten` table (docs/privacy.md), which `Store.open` creates like any table a workspace lacks)."""

# Every table the store keeps, with its columns and their types. The key
# columns of each table are in KEYS; a load never stores a key twice.
TABLES: dict[str, dict[str, str]] = {
    "workspace": {"name": "string", "value": "string"},
    "loads": {
        "load_id": "int64",
        "source": "string",
        "kind": "string",
        "size_bytes": "int64",
        "sha256": "string",
        "rows_read": "int64",
        "rows_loaded": "int64",
        "rows_new": "int64",
        "rows_quarantined": "int64",
        "started_at": "timestamp",
        "finished_at": "timestamp",
        # A reference file is a snapshot (README, *Inputs*): the stored keys it changed, and those it no longer has.
        "rows_changed": "int64",
        "rows_removed": "int64",
    },
    "quarantine": {
        "load_id": "int64",
        "source": "string",
        "kind": "string",
        "position": "string",
        "field": "string",
        "reason": "string",
    },
    "identities": {"person": "string", "email": "string", "name": "string"},
    "people": {
        "person": "string",
        "domain": "string",
        "manager": "string",
        "org": "string",
        "level": "int64",
        "function": "string",
        "region": "string",
        "segment": "string",
        "channel": "string",
        "hire_date": "date",
        "leave_date": "date",
        "timezone": "string",
        "attributes": "string",
        "load_id": "int64",
    },
    # `owner`, added in schema version 5: the CRM account owner's pseudonym (accounts.csv `owner_email`), null for none.
    "accounts": {
        "account_id": "string",
        "name": "string",
        "type": "string",
        "domains": "string",
        "load_id": "int64",
        "owner": "string",
    },
    "account_domains": {"domain": "string", "account_id": "string", "type": "string", "owner": "string"},
    "kpis": {
        "person": "string",
        "period": "string",
        "period_start": "date",
        "period_end": "date",
        "quota": "float64",
        "bookings": "float64",
        "attainment": "float64",
        "load_id": "int64",
    },
    "messages": {
        "message_key": "string",
        "sent_at": "timestamp",
        "sender": "string",
        "sender_domain": "string",
        "recipient_count": "int64",
        "load_id": "int64",
        # Added in schema version 2. A column added later goes last, as `Store.open` adds it to an older table.
        "parent_key": "string",  # the message_key of the message this one replies to; null when none
    },
    "message_recipients": {
        "message_key": "string",
        "recipient": "string",
        "recipient_domain": "string",
        "kind": "string",
    },
    "meetings": {
        "meeting_key": "string",
        "series_key": "string",
        "start_at": "timestamp",
        "end_at": "timestamp",
        "organizer": "string",
        "organizer_domain": "string",
        "is_cancelled": "boolean",
        "is_all_day": "boolean",
        "is_transparent": "boolean",
        "attendee_count": "int64",
        "load_id": "int64",
    },
    "meeting_attendees": {
        "meeting_key": "string",
        "attendee": "string",
        "attendee_domain": "string",
        "response": "string",
    },
    # A Viva Insights person query (docs/viva.md): every numeric column of every row, by its canonical Viva name.
    # `week` is the row's MetricDate; `metric` the column's name in snake case (`Collaboration_hours`).
    "viva_values": {"person": "string", "week": "date", "metric": "string", "value": "float64", "load_id": "int64"},
    # An identity mapping (`[sources] viva_identities`): the pseudonym of a Viva PersonId → the pseudonym of the person's email.
    "person_aliases": {"alias": "string", "person": "string", "load_id": "int64"},
}

# Every roster row with the day from which it is in force (0001-01-01: always): an org chart's history.
# `people` holds each roster person's latest row; these are its columns, with the effective date after the person.
TABLES["people_history"] = {
    "person": "string",
    "effective_date": "date",
    **{column: kind for column, kind in TABLES["people"].items() if column != "person"},
}

# The metrics stage's tables (docs/metrics.md), replaced whole on every run;
# their metric columns come from the catalogue.
TABLES["person_week"] = {"person": "string", "week": "date", "period": "string", **_metric_columns("week")}
TABLES["person_period"] = {
    "person": "string",
    "period": "string",
    "period_start": "date",
    "weeks": "int64",
    **_metric_columns("period"),
}
TABLES["period_edges"] = {"period": "string", "a": "string", "b": "string", "weight": "int64"}
# Each pair's meaningful interactions per week (docs/metrics.md, *Network*): who met whom lately.
TABLES["week_ties"] = {"week": "date", "a": "string", "b": "string", "interactions": "int64"}
# Each roster person's first and last week with an event, hire and leave aside: what the next incremental run extends.
TABLES["activity_spans"] = {"person": "string", "first_week": "date", "last_week": "date"}
# Each person's accounts touched in each period (docs/metrics.md, *Customer engagement*): the rep's own list.
TABLES["account_touches"] = {
    "person": "string",
    "period": "string",
    "account_id": "string",
    "contacts": "int64",
    "weeks": "int64",
    "last_touch": "timestamp",
}

# The study's tables (docs/study.md), replaced whole on every run.
TABLES["study_tiers"] = {"person": "string", "period": "string", "attainment": "float64", "tier": "int64"}
TABLES["study_results"] = {"created_at": "timestamp", "document": "string"}

# The data validation's flags (`repsight validate`, docs/validation.md), replaced whole on every run.
TABLES["validation"] = {
    "rule": "string",
    "person": "string",
    "week": "date",
    "period": "string",
    "detail": "string",
    "numbers": "string",
    "validated_at": "timestamp",
}

# The weekly digest's record (`repsight digest --send`): one row per week and rep, what became of their message.
# Kept across runs, never replaced: a message recorded as delivered is never sent again; a failed one is retried.
TABLES["digest_sent"] = {
    "week": "date",
    "person": "string",
    "message_id": "string",
    "status": "string",
    "attempts": "int64",
    "sent_at": "timestamp",
    "error": "string",
}
# Who the digest holds out to measure its effect (docs/guidance.md, *Measuring the digest*), stored at the first send.
TABLES["digest_holdout"] = {
    "person": "string",
    "stratum": "string",
    "group": "string",
    "first_week": "date",
    "until_week": "date",
}

# The people erased with `repsight forget` (docs/privacy.md): their pseudonym and when, never their address.
# Kept for good: ingest leaves out every record of a pseudonym listed here, as it does for `[privacy] excluded`.
TABLES["forgotten"] = {"person": "string", "forgotten_at": "timestamp"}

KEYS: dict[str, tuple[str, ...]] = {
    "workspace": ("name",),
    "loads": ("load_id",),
    "quarantine": ("source", "position", "field", "reason"),
    "identities": ("person",),
    "people": ("person",),
    "people_history": ("person", "effective_date"),
    "accounts": ("account_id",),
    "account_domains": ("domain",),
    "kpis": ("person", "period"),
    "messages": ("message_key",),
    "message_recipients": ("message_key", "recipient"),
    "meetings": ("meeting_key",),
    "meeting_attendees": ("meeting_key", "attendee"),
    "viva_values": ("person", "week", "metric"),
    "person_aliases": ("alias",),
    "person_week": ("person", "week"),
    "person_period": ("person", "period"),
    "period_edges": ("period", "a", "b"),
    "account_touches": ("person", "period", "account_id"),
    "week_ties": ("week", "a", "b"),
    "activity_spans": ("person",),
    "study_tiers": ("person", "period"),
    "study_results": ("created_at",),
    "validation": ("rule", "person", "week", "period", "detail"),
    "digest_sent": ("week", "person"),
    "digest_holdout": ("person",),
    "forgotten": ("person",),
}

PERSON_REFERENCES: dict[str, dict[str, Literal["delete", "clear"]]] = {
    "identities": {"person": "delete"},
    "people": {"person": "delete", "manager": "clear"},
    "people_history": {"person": "delete", "manager": "clear"},
    "accounts": {"owner": "clear"},
    "account_domains": {"owner": "clear"},
    "kpis": {"person": "delete"},
    "messages": {"sender": "delete"},
    "message_recipients": {"recipient": "delete"},
    "meetings": {"organizer": "delete"},
    "meeting_attendees": {"attendee": "delete"},
    "viva_values": {"person": "delete"},
    "person_aliases": {"person": "delete", "alias": "delete"},
    "person_week": {"person": "delete"},
    "person_period": {"person": "delete"},
    "period_edges": {"a": "delete", "b": "delete"},
    "week_ties": {"a": "delete", "b": "delete"},
    "activity_spans": {"person": "delete"},
    "account_touches": {"person": "delete"},
    "study_tiers": {"person": "delete"},
    "validation": {"person": "delete"},
    "digest_sent": {"person": "delete"},
    "digest_holdout": {"person": "delete"},
}
"""Every column that holds a person's pseudonym, and what erasing the person does there (docs/privacy.md).

"delete" removes the row (the person's own row, or their part of an event);
"clear" empties the reference and keeps the row, which is someone else's (a
colleague's manager, an account's owner). A message or meeting whose sender
or organiser goes takes its recipients or attendees with it; one that loses a
recipient or attendee is counted again. `forgotten` is the one table that
keeps the pseudonym, on purpose.
"""

PERSON_MENTIONS: dict[str, tuple[str, ...]] = {
    "quarantine": ("position", "field", "reason"),
    "validation": ("detail", "numbers"),
    "study_results": ("document",),
}
"""Columns of free text that may mention a person's pseudonym or address: a row that does is removed whole."""

METRIC_COLUMNS: tuple[str, ...] = tuple(
    c for c in TABLES["person_period"] if c not in ("person", "period", "period_start", "weeks")
)
"""The metric columns of `person_period`: what the study may test."""

HR_ATTRIBUTES: tuple[str, ...] = ("org", "level", "function", "region", "segment", "channel")
"""The roster attributes (columns of `people`) that outputs show beside a person's metrics and group people by."""
PERSON_COLUMNS: tuple[str, ...] = tuple(c for c in TABLES["people"] if c not in ("person", "domain", "attributes", "load_id"))
"""Every roster column of `people` a person-level table may carry beside the pseudonym: manager, HR attributes, dates, zone."""
