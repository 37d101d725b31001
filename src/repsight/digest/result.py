"""What a digest run did, message by message: a value for callers, a table for the command line (`render`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Group

__all__ = ["DigestResult", "MessageOutcome", "Status"]

Status = Literal["written", "delivered", "failed", "skipped"]


@dataclass(frozen=True)
class MessageOutcome:
    """One rep's message: written to the outbox, delivered, failed, or skipped (delivered by an earlier run)."""

    email: str
    name: str
    status: Status
    message_id: str
    attempts: int = 0
    """Tries in this run (0 for a message written, skipped, or not tried because the relay was down)."""
    detail: str | None = None
    """The relay's last words for a failure; when an earlier run delivered it, for a skipped one."""
    path: Path | None = None
    """The `.eml` file, for a message written to the outbox."""
    person: str = field(default="", repr=False)
    """The rep's pseudonym."""


@dataclass(frozen=True)
class DigestResult:
    """A digest run for one week: each message's outcome, and how many people got nothing, by reason."""

    week: date
    period: str
    mode: Literal["outbox", "send"]
    messages: list[MessageOutcome]
    opted_out: int
    not_reps: int
    left: int
    unmeasured: int
    outbox: Path | None = None
    held_out: int = 0
    """Reps in the digest's holdout this week."""

    def count(self, status: Status) -> int:
        """Return how many messages ended with `status`."""
        return sum(1 for m in self.messages if m.status == status)

    @property
    def ok(self) -> bool:
        """Whether no message failed."""
        return self.count("failed") == 0

    def __rich__(self) -> Group:
        """Return the run for a terminal (`repsight.digest.render`)."""
        from repsight.digest.render import digest_view

        return digest_view(self)
