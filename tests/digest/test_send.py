"""`repsight digest --send`: delivered through a real SMTP relay (aiosmtpd, in-process), each message once per week, failures retried.

The relay records what it accepts; its handler can answer 451 for a while
(a temporary failure: tried again, with a back-off kept tiny here) or 550
for one recipient (a permanent one: failed, recorded, tried again by the
next run only).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pandas as pd
import pytest

from repsight.config import Config
from repsight.digest import DigestResult, run_digest
from repsight.digest.relay import Relay as Session
from repsight.digest.relay import RelaySettings
from repsight.errors import ConfigError
from repsight.store import Store
from tests.digest.conftest import Relay, with_digest
from tests.digest.oracle import read_company
from tests.digest.reading import parse, recipients

NOW = datetime(2024, 10, 7, 6, 30, tzinfo=UTC)
FAST = {"backoff_seconds": 0.01, "now": NOW}


def record(config: Config) -> dict[str, tuple[str, int, str | None]]:
    """Return the workspace's digest record: email → (status, attempts, error)."""
    with Store.open(config, read_only=True) as store:
        rows = store.to_pandas(store.table("digest_sent"))
        identities = store.to_pandas(store.table("identities"))
    email = dict(zip(identities["person"], identities["email"], strict=True))
    return {email[r.person]: (r.status, int(r.attempts), None if pd.isna(r.error) else str(r.error)) for r in rows.itertuples()}


def by_status(result: DigestResult) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for message in result.messages:
        found.setdefault(message.status, set()).add(message.email)
    return found


def only(config: Config, relay: Relay, keep: list[str], **settings: object) -> Config:
    """Return `config` sending through `relay` to the reps in `keep` only (everyone else opted out: a short run)."""
    everyone = [r["email"] for r in read_company(config).roster]
    return with_digest(config, **relay.settings(opt_out=[e for e in everyone if e not in keep], **settings))


def test_a_week_sent_twice_delivers_each_reps_message_once(fresh: Config, relay: Relay) -> None:
    stored = read_company(fresh)
    opted = sorted(r["email"] for r in stored.roster if r["function"] == "Sales")[0]
    config = with_digest(fresh, **relay.settings(opt_out=[opted]))
    first = run_digest(config, send=True, **FAST)
    expected = stored.reps(stored.latest_week, stored.period, {opted})
    assert by_status(first) == {"delivered": expected}
    assert all(m.attempts == 1 and m.detail is None for m in first.messages)
    second = run_digest(config, send=True, **FAST)
    assert by_status(second) == {"skipped": expected}
    assert all(m.detail is not None and m.detail.startswith("delivered by an earlier run, ") for m in second.messages)
    # The relay saw each rep once, from the sender, each message to that rep alone.
    received = Counter(address for message in relay.handler.received for address in message.recipients)
    assert received == Counter(expected)
    for message in relay.handler.received:
        assert message.sender == "digest@acme.example"
        parsed = parse(message.data)
        assert recipients(parsed) == message.recipients
        assert parsed["From"].addresses[0].addr_spec == "digest@acme.example"
    assert opted not in received
    assert not any(r["email"] in received for r in stored.roster if r["function"] != "Sales")
    assert record(config) == {email: ("delivered", 1, None) for email in expected}
    assert first.ok and second.ok


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_temporary_failure_is_tried_again_and_delivered(fresh: Config, relay: Relay, stage: str) -> None:
    reps = sorted(read_company(fresh).reps(read_company(fresh).latest_week, read_company(fresh).period))[:3]
    relay.handler.temporary, relay.handler.stage = 2, stage
    result = run_digest(only(fresh, relay, reps), send=True, **FAST)
    assert by_status(result) == {"delivered": set(reps)}
    # The first message met the two 451 replies: delivered at its third try; the others at their first.
    assert [m.attempts for m in result.messages] == [3, 1, 1]
    assert relay.handler.replies == ["451", "451"]
    assert sorted(a for m in relay.handler.received for a in m.recipients) == reps
    assert record(fresh) == {reps[0]: ("delivered", 3, None), reps[1]: ("delivered", 1, None), reps[2]: ("delivered", 1, None)}


def test_a_temporary_failure_that_lasts_fails_after_the_last_try_and_the_next_run_delivers(fresh: Config, relay: Relay) -> None:
    stored = read_company(fresh)
    reps = sorted(stored.reps(stored.latest_week, stored.period))[:2]
    config = only(fresh, relay, reps)
    relay.handler.temporary = 5  # more than 2 messages × 2 tries
    failed = run_digest(config, send=True, attempts=2, **FAST)
    assert by_status(failed) == {"failed": set(reps)}
    assert [m.detail for m in failed.messages] == ["451 4.3.0 Try again later"] * 2 and not failed.ok
    assert record(config) == {email: ("failed", 2, "451 4.3.0 Try again later") for email in reps}
    relay.handler.temporary = 0
    again = run_digest(config, send=True, attempts=2, **FAST)
    assert by_status(again) == {"delivered": set(reps)}
    # Tries add up over the runs.
    assert record(config) == {email: ("delivered", 3, None) for email in reps}


def test_a_refused_recipient_fails_alone_and_only_it_is_tried_again(fresh: Config, relay: Relay) -> None:
    stored = read_company(fresh)
    reps = sorted(stored.reps(stored.latest_week, stored.period))[:4]
    refused = reps[1]
    config = only(fresh, relay, reps)
    relay.handler.refuse = {refused}
    first = run_digest(config, send=True, **FAST)
    assert by_status(first) == {"delivered": set(reps) - {refused}, "failed": {refused}}
    failure = next(m for m in first.messages if m.status == "failed")
    # A permanent refusal (5xx) is not tried again within the run.
    assert (failure.attempts, failure.detail) == (1, "550 5.1.1 Mailbox unavailable")
    assert record(config)[refused] == ("failed", 1, "550 5.1.1 Mailbox unavailable")
    assert sorted(a for m in relay.handler.received for a in m.recipients) == sorted(set(reps) - {refused})
    # The mailbox is fixed: the next run sends the failed message only.
    relay.handler.refuse = set()
    relay.handler.received.clear()
    second = run_digest(config, send=True, **FAST)
    assert by_status(second) == {"skipped": set(reps) - {refused}, "delivered": {refused}}
    assert [a for m in relay.handler.received for a in m.recipients] == [refused]
    assert record(config)[refused] == ("delivered", 2, None)
    # The message sent again is the same message: the same Message-ID.
    assert next(m for m in second.messages if m.email == refused).message_id == failure.message_id


def test_a_relay_that_cannot_be_reached_fails_every_message_without_waiting_for_each(fresh: Config, relay: Relay) -> None:
    from tests.digest.conftest import free_port

    stored = read_company(fresh)
    reps = sorted(stored.reps(stored.latest_week, stored.period))[:3]
    closed = only(fresh, relay, reps, smtp_port=free_port())
    result = run_digest(closed, send=True, attempts=2, **FAST)
    assert by_status(result) == {"failed": set(reps)}
    first, *rest = result.messages
    assert first.attempts == 2 and first.detail is not None and first.detail.startswith("cannot reach the relay 127.0.0.1:")
    assert all(m.attempts == 0 and m.detail == f"not tried: {first.detail}" for m in rest)
    assert {status for status, _, _ in record(closed).values()} == {"failed"}
    delivered = run_digest(only(fresh, relay, reps), send=True, **FAST)
    assert by_status(delivered) == {"delivered": set(reps)}


def test_the_relay_is_signed_into_with_the_password_from_the_named_environment_variable(
    fresh: Config, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = read_company(fresh)
    reps = sorted(stored.reps(stored.latest_week, stored.period))[:1]
    config = only(fresh, relay, reps, smtp_user="digest", smtp_password_env="REPSIGHT_TEST_SMTP_PASSWORD")
    monkeypatch.delenv("REPSIGHT_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(
        ConfigError, match=r"\[digest\] smtp_password_env: the environment variable REPSIGHT_TEST_SMTP_PASSWORD is not set"
    ):
        run_digest(config, send=True, **FAST)
    assert relay.logins == [] and relay.handler.received == []
    monkeypatch.setenv("REPSIGHT_TEST_SMTP_PASSWORD", "wrong")
    refused = run_digest(config, send=True, **FAST)
    assert by_status(refused) == {"failed": set(reps)}
    assert refused.messages[0].detail is not None and refused.messages[0].detail.startswith("127.0.0.1:")
    assert " 535 " in f" {refused.messages[0].detail.split(': ', 1)[1]}"
    monkeypatch.setenv("REPSIGHT_TEST_SMTP_PASSWORD", "s3cret")
    delivered = run_digest(config, send=True, **FAST)
    assert by_status(delivered) == {"delivered": set(reps)}
    # A refused sign-in (535) is permanent: one session (smtplib tries each mechanism the relay offers once), no retry.
    *wrong, right = relay.logins
    assert set(wrong) == {("digest", "wrong")} and len(wrong) <= 2 and right == ("digest", "s3cret")


def test_starttls_with_a_relay_that_does_not_offer_it_fails_clearly(relay: Relay) -> None:
    settings = RelaySettings(relay.host, relay.port, "starttls", None, None)
    with Session(settings) as session:
        delivery = session.deliver("digest@acme.example", "ana@acme.example", b"Subject: x\r\n\r\nx\r\n", backoff_seconds=0.01)
    assert not delivery.delivered and delivery.attempts == 1
    assert delivery.error is not None and "STARTTLS" in delivery.error and "smtp_security" in delivery.error
    assert session.down == delivery.error


def test_the_relays_settings_never_show_the_password() -> None:
    settings = RelaySettings("smtp.acme.example", 587, "starttls", "digest", "s3cret")
    assert "s3cret" not in repr(settings)
