"""The record of what the digest sent (table `digest_sent`): one row per week and rep, kept in the workspace.

A run reads the week's rows first: a rep whose message is recorded as
delivered is skipped; a failed one is tried again. Each message's row is
written as soon as the relay has answered, so that a run stopped half way
sends none of its delivered messages again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Final, Literal

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from repsight.store import Store

__all__ = ["DELIVERED", "FAILED", "Sent", "sent_in", "write_sent"]

DELIVERED: Final = "delivered"
FAILED: Final = "failed"


@dataclass(frozen=True)
class Sent:
    """One row of `digest_sent`."""

    week: date
    person: str
    message_id: str
    status: Literal["delivered", "failed"]
    attempts: int
    """Tries over every run so far."""
    sent_at: datetime
    """When the relay last answered (UTC)."""
    error: str | None


def sent_in(store: Store, week: date) -> dict[str, Sent]:
    """Return the week's record, by pseudonym."""
    table = store.table("digest_sent")
    rows = store.to_pandas(table.filter(table.week == week))
    found = {}
    for row in rows.itertuples(index=False):
        status: Literal["delivered", "failed"] = DELIVERED if row.status == DELIVERED else FAILED
        found[str(row.person)] = Sent(
            week=week,
            person=str(row.person),
            message_id=str(row.message_id),
            status=status,
            attempts=int(row.attempts),
            sent_at=pd.Timestamp(row.sent_at).to_pydatetime(),
            error=None if pd.isna(row.error) else str(row.error),
        )
    return found


def write_sent(store: Store, sent: Sent) -> None:
    """Store one message's outcome, replacing the week's earlier row for the rep."""
    when = sent.sent_at.astimezone(UTC).replace(tzinfo=None) if sent.sent_at.tzinfo else sent.sent_at
    row = {
        "week": [sent.week],
        "person": [sent.person],
        "message_id": [sent.message_id],
        "status": [sent.status],
        "attempts": [sent.attempts],
        "sent_at": [when],
        "error": [sent.error],
    }
    store.upsert("digest_sent", pa.table(row))
