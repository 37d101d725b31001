"""The digest's fixtures: a small generated company (once per module), a fresh copy of it per test, and a real SMTP relay in-process."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from repsight.config import Config, DigestConfig, load_config
from tests.support import studied_company


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A 60-person company over three months, ingested, measured and studied."""
    return studied_company(tmp_path_factory.mktemp("digest") / "demo", people=60, months=3)


@pytest.fixture
def fresh(company: Config, tmp_path: Path) -> Config:
    """A copy of the company's workspace for one test: its own digest record."""
    copy = tmp_path / "ws"
    shutil.copytree(company.root, copy, ignore=shutil.ignore_patterns("mail", "calendar"))
    return load_config(copy)


def with_digest(config: Config, **settings: Any) -> Config:
    """Return `config` with these `[digest]` settings."""
    return config.model_copy(update={"digest": DigestConfig(**settings)})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    """One message as the relay accepted it."""

    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps what it accepts; it can refuse some recipients for good, or any for a while.

    `temporary` replies 451 to that many commands at `stage` ("RCPT" or
    "DATA") before it accepts; `refuse` replies 550 to these recipients.
    """

    refuse: set[str] = field(default_factory=set)
    temporary: int = 0
    stage: str = "RCPT"
    received: list[Received] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def _later(self, stage: str) -> str | None:
        if self.stage == stage and self.temporary > 0:
            self.temporary -= 1
            self.replies.append("451")
            return "451 4.3.0 Try again later"
        return None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            self.replies.append("550")
            return "550 5.1.1 Mailbox unavailable"
        later = self._later("RCPT")
        if later:
            return later
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        later = self._later("DATA")
        if later:
            return later
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"


@dataclass
class Relay:
    """A running relay: where it listens and what it received."""

    host: str
    port: int
    handler: RecordingHandler
    logins: list[tuple[str, str]]

    def settings(self, **more: Any) -> dict[str, Any]:
        """Return the `[digest]` settings that point at this relay."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none", "sender": "digest@acme.example", **more}


@pytest.fixture
def relay() -> Iterator[Relay]:
    """A real SMTP server (aiosmtpd) on loopback that records every message; set its handler's fields to make it fail."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    handler = RecordingHandler()
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.password == b"s3cret", handled=False)
        return AuthResult(success=False, handled=False)

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield Relay("127.0.0.1", port, handler, logins)
    finally:
        controller.stop()
