"""Delivery through the company's SMTP relay (`[digest]`): one connection per run, a temporary failure retried with back-off.

A reply in the 4xx range (or a dropped connection) is temporary: the
message is tried again, after `backoff_seconds`, then twice that, and so
on, up to `attempts` tries. A 5xx reply is permanent: the message fails at
once, with the relay's words. Where the relay cannot be reached at all, the
run stops trying (`Relay.down`): every later message would wait as long.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from repsight.errors import ConfigError

if TYPE_CHECKING:
    from repsight.config import Config

__all__ = ["ATTEMPTS", "BACKOFF_SECONDS", "TIMEOUT_SECONDS", "Delivery", "Relay", "RelaySettings", "relay_settings"]

ATTEMPTS = 3
"""Tries per message before a temporary failure counts as failed (the next run tries again)."""
BACKOFF_SECONDS = 2.0
"""The wait before the second try; each later wait is twice the one before."""
TIMEOUT_SECONDS = 30.0
"""How long one exchange with the relay may take."""


@dataclass(frozen=True)
class RelaySettings:
    """Where and how to reach the relay; the password read from its environment variable."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"]
    user: str | None
    password: str | None

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"RelaySettings(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r})"


def relay_settings(config: Config) -> RelaySettings:
    """Return the relay of `[digest]`; a ConfigError where the password's environment variable is named but not set."""
    digest = config.digest
    password = None
    if digest.smtp_password_env is not None:
        password = os.environ.get(digest.smtp_password_env)
        if password is None:
            raise ConfigError(
                f"{config.path}: [digest] smtp_password_env: the environment variable {digest.smtp_password_env} "
                "is not set; set it to the relay's password"
            )
    return RelaySettings(digest.smtp_host, digest.smtp_port, digest.smtp_security, digest.smtp_user, password)


@dataclass(frozen=True)
class Delivery:
    """What became of one message: delivered or failed, after how many tries, and the relay's last words."""

    delivered: bool
    attempts: int
    error: str | None = None


def _words(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply).strip()


class _Unreachable(Exception):
    """The relay could not be reached or refused the session (connect, TLS, sign-in)."""

    def __init__(self, error: str, code: int | None) -> None:
        super().__init__(error)
        self.error = error
        self.code = code


class Relay:
    """An SMTP session with the relay, opened at the first message, reopened after a failure, closed at the end."""

    def __init__(self, settings: RelaySettings, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.timeout = timeout
        self.down: str | None = None
        """Why the relay could not be reached, once a message has failed for that reason: later ones are not tried."""
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._drop(polite=True)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        smtp: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                if s.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if s.user is not None:
                smtp.login(s.user, s.password or "")
        except smtplib.SMTPNotSupportedError as exc:
            self._close(smtp)
            raise _Unreachable(f"{self._where()}: {exc} (check [digest] smtp_security)", 554) from None
        except smtplib.SMTPResponseException as exc:
            self._close(smtp)
            raise _Unreachable(f"{self._where()}: {exc.smtp_code} {_words(exc.smtp_error)}", exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._close(smtp)
            raise _Unreachable(f"cannot reach the relay {self._where()}: {exc or type(exc).__name__}", None) from None
        self._smtp = smtp
        return smtp

    @staticmethod
    def _close(smtp: smtplib.SMTP | None, *, polite: bool = False) -> None:
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    def _drop(self, *, polite: bool = False) -> None:
        self._close(self._smtp, polite=polite)
        self._smtp = None

    def deliver(
        self, sender: str, recipient: str, data: bytes, *, attempts: int = ATTEMPTS, backoff_seconds: float = BACKOFF_SECONDS
    ) -> Delivery:
        """Send `data` from `sender` to `recipient` alone: tried again on a temporary failure, at most `attempts` times."""
        error = ""
        for attempt in range(1, attempts + 1):
            unreachable = False
            try:
                self._session().sendmail(sender, [recipient], data)
                return Delivery(True, attempt)
            except _Unreachable as exc:
                code, error, unreachable = exc.code, exc.error, True
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = exc.recipients.get(recipient, (None, b"refused"))
                error = f"{code} {_words(reply)}"
            except smtplib.SMTPResponseException as exc:
                code, error = exc.smtp_code, f"{exc.smtp_code} {_words(exc.smtp_error)}"
            except (smtplib.SMTPException, OSError) as exc:
                code, error = None, f"the relay {self._where()} broke off: {exc or type(exc).__name__}"
            # Start the next try (or the next message) on a fresh session: the state of this one is unknown.
            self._drop()
            if code is not None and not 400 <= code < 500:
                if unreachable:
                    self.down = error
                return Delivery(False, attempt, error)
            if attempt < attempts:
                time.sleep(backoff_seconds * 2 ** (attempt - 1))
            elif unreachable:
                self.down = error
        return Delivery(False, attempts, error)
