"""Failed sign-ins, counted: an account locked, a client address refused, for a while (`[web]` sign-in settings).

After `web.max_sign_in_failures` failed sign-ins for one email within
`web.sign_in_window_minutes`, that email is locked for `web.lockout_minutes`,
the right password included: a guesser learns nothing from a lock. The email
is counted as typed (canonical), whether or not it has an account, so a lock
does not tell who has one either. After `web.max_address_failures` failures
from one client address within the window, that address is refused for as
long, whatever the email. A success does not clear the address's count (one
known password must not reset a guesser's budget); it clears the account's.

The counts are kept in memory, per server process: with several worker
processes each counts its own, and a restart forgets them.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from repsight.config import WebConfig

__all__ = ["Reason", "Refusal", "SignInThrottle"]

Reason = Literal["account locked", "address refused"]
_SWEEP_ABOVE = 10_000
"""Counts kept before the expired ones are swept."""


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused before its password is checked, and for how many more seconds."""

    reason: Reason
    seconds: float

    @property
    def minutes(self) -> int:
        """Return the minutes to wait, rounded up (at least 1)."""
        return max(1, math.ceil(self.seconds / 60))

    @property
    def wait(self) -> str:
        """Return the wait in words: "1 minute", "15 minutes"."""
        return f"{self.minutes} minute{'' if self.minutes == 1 else 's'}"


class SignInThrottle:
    """The failed sign-ins of one server process, per email and per client address, on `clock` (seconds)."""

    def __init__(self, web: WebConfig, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._window = web.sign_in_window_minutes * 60
        self._lockout = web.lockout_minutes * 60
        self._max_account = web.max_sign_in_failures
        self._max_address = web.max_address_failures
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()  # routes run in a thread pool

    def refusal(self, email: str, address: str | None) -> Refusal | None:
        """Return why a sign-in as `email` from `address` is refused now, or None when it may be tried."""
        now = self.clock()
        with self._lock:
            for key, reason in self._keys(email, address):
                until = self._until.get(key)
                if until is not None and now < until:
                    return Refusal(reason, until - now)
        return None

    def failed(self, email: str, address: str | None) -> list[Refusal]:
        """Count a failed sign-in; return the locks it begins (the account's, the address's), for the audit log."""
        now = self.clock()
        begun: list[Refusal] = []
        with self._lock:
            if len(self._failures) + len(self._until) > _SWEEP_ABOVE:
                self._sweep(now)
            for key, reason in self._keys(email, address):
                limit = self._max_account if reason == "account locked" else self._max_address
                recent = self._failures.setdefault(key, deque())
                recent.append(now)
                while recent[0] <= now - self._window:
                    recent.popleft()
                if len(recent) >= limit:
                    del self._failures[key]
                    self._until[key] = now + self._lockout
                    begun.append(Refusal(reason, self._lockout))
        return begun

    def succeeded(self, email: str) -> None:
        """Forget the account's failures after a right password (the address's stay counted)."""
        with self._lock:
            self._failures.pop(("account", email), None)

    @staticmethod
    def _keys(email: str, address: str | None) -> tuple[tuple[tuple[str, str], Reason], ...]:
        return ((("account", email), "account locked"), (("address", address or ""), "address refused"))

    def _sweep(self, now: float) -> None:
        # Many emails typed once (a guesser's list): forget what can no longer count, so memory stays bounded.
        self._failures = {k: v for k, v in self._failures.items() if v[-1] > now - self._window}
        self._until = {k: v for k, v in self._until.items() if v > now}
