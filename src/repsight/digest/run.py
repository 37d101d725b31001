"""A digest run: read the guidance once, build each rep's message, then write the outbox or send through the relay and record."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from repsight.atomic import write_bytes
from repsight.digest.content import Recipients, digest_for, recipients, resolve_week, week_values
from repsight.digest.holdout import held_out
from repsight.digest.message import compose, sender_of
from repsight.digest.record import DELIVERED, FAILED, Sent, sent_in, write_sent
from repsight.digest.relay import ATTEMPTS, BACKOFF_SECONDS, Relay, relay_settings
from repsight.digest.result import DigestResult, MessageOutcome
from repsight.errors import GuidanceError

if TYPE_CHECKING:
    from email.message import EmailMessage

    from repsight.config import Config
    from repsight.guidance import GuidanceData
    from repsight.store import Store

__all__ = ["eml_name", "run_digest"]


def eml_name(week: date, email: str) -> str:
    """Return the outbox file name of a rep's message, e.g. 2024-07-01_ana.brandt@acme.example.eml."""
    return f"{week.isoformat()}_{re.sub(r'[^A-Za-z0-9._@+-]', '_', email)}.eml"


def _as_bytes(message: EmailMessage) -> bytes:
    # RFC 5322 lines end in CRLF, on the wire and in a .eml file.
    return message.as_bytes(policy=policy.SMTP)


def run_digest(
    config: Config,
    *,
    week: date | None = None,
    outbox: Path | None = None,
    send: bool = False,
    now: datetime | None = None,
    attempts: int = ATTEMPTS,
    backoff_seconds: float = BACKOFF_SECONDS,
) -> DigestResult:
    """Build each rep's private digest for `week` (default: the latest with metrics), and write it to `outbox` or `send` it.

    Exactly one of `outbox` (a folder for `.eml` files) and `send` (through
    the relay of `[digest]`). Sending records each message in the workspace
    (`digest_sent`): a message delivered for the week is never sent again; a
    failed one is tried again by the next run. `attempts` and
    `backoff_seconds` set the retries of a temporary failure.
    """
    from repsight.guidance import load_guidance_data
    from repsight.store import Store

    if (outbox is None) == (not send):
        raise GuidanceError("the digest needs one of an outbox folder (--outbox DIR) and --send, not both or neither")
    relay = relay_settings(config) if send else None  # a missing password is said before anything is read
    now = now or datetime.now(UTC)
    with Store.open(config, read_only=not send) as store:
        data = load_guidance_data(store, config)
        week, period = resolve_week(store, week)
        chosen = recipients(data, week, period)
        held = held_out(store, data, chosen.people, week, period, keep=send)
        if held:
            chosen = replace(chosen, people=[p for p in chosen.people if p not in held], held_out=len(held))
        if outbox is not None:
            return _write_outbox(store, data, config, chosen, week, period, outbox, now)
        assert relay is not None
        with Relay(relay) as session:
            return _send(store, data, config, chosen, week, period, session, now, attempts, backoff_seconds)


def _messages(
    store: Store, data: GuidanceData, config: Config, people: list[str], week: date, period: str, now: datetime
) -> list[tuple[str, EmailMessage]]:
    weekly = week_values(store, week)
    return [(person, compose(digest_for(data, person, week, period, weekly), config, now)) for person in people]


def _result(
    chosen: Recipients,
    week: date,
    period: str,
    mode: Literal["outbox", "send"],
    messages: list[MessageOutcome],
    outbox: Path | None = None,
) -> DigestResult:
    return DigestResult(
        week=week,
        period=period,
        mode=mode,
        messages=messages,
        opted_out=chosen.opted_out,
        not_reps=chosen.not_reps,
        left=chosen.left,
        unmeasured=chosen.unmeasured,
        held_out=chosen.held_out,
        outbox=outbox,
    )


def _write_outbox(
    store: Store, data: GuidanceData, config: Config, chosen: Recipients, week: date, period: str, outbox: Path, now: datetime
) -> DigestResult:
    outcomes = []
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        for person, message in _messages(store, data, config, chosen.people, week, period, now):
            path = outbox / eml_name(week, data.email(person))
            write_bytes(path, _as_bytes(message))
            outcomes.append(
                MessageOutcome(
                    data.email(person), data.name(person), "written", str(message["Message-ID"]), path=path, person=person
                )
            )
    except OSError as exc:
        where = exc.filename or outbox
        raise GuidanceError(f"{where}: cannot write the digest: {exc.strerror or exc}") from None
    return _result(chosen, week, period, "outbox", outcomes, outbox)


def _send(
    store: Store,
    data: GuidanceData,
    config: Config,
    chosen: Recipients,
    week: date,
    period: str,
    relay: Relay,
    now: datetime,
    attempts: int,
    backoff_seconds: float,
) -> DigestResult:
    sender = sender_of(config)
    earlier = sent_in(store, week)
    outcomes: dict[str, MessageOutcome] = {}
    to_send = []
    for person in chosen.people:
        before = earlier.get(person)
        if before is not None and before.status == DELIVERED:
            said = f"delivered by an earlier run, {before.sent_at:%Y-%m-%d %H:%M} UTC"
            outcomes[person] = MessageOutcome(
                data.email(person), data.name(person), "skipped", before.message_id, detail=said, person=person
            )
        else:
            to_send.append(person)
    for person, message in _messages(store, data, config, to_send, week, period, now):
        email, message_id = data.email(person), str(message["Message-ID"])
        before = earlier.get(person)
        tried_before = before.attempts if before is not None else 0
        if relay.down is not None:
            # Not tried: the relay could not be reached for an earlier message of this run.
            outcome = MessageOutcome(
                email, data.name(person), "failed", message_id, detail=f"not tried: {relay.down}", person=person
            )
            write_sent(store, Sent(week, person, message_id, FAILED, tried_before, datetime.now(UTC), outcome.detail))
            outcomes[person] = outcome
            continue
        delivery = relay.deliver(sender, email, _as_bytes(message), attempts=attempts, backoff_seconds=backoff_seconds)
        status: Literal["delivered", "failed"] = DELIVERED if delivery.delivered else FAILED
        write_sent(
            store, Sent(week, person, message_id, status, tried_before + delivery.attempts, datetime.now(UTC), delivery.error)
        )
        outcomes[person] = MessageOutcome(
            email, data.name(person), status, message_id, attempts=delivery.attempts, detail=delivery.error, person=person
        )
    return _result(chosen, week, period, "send", [outcomes[p] for p in chosen.people])
