"""The private weekly digest: each rep's own guidance as one email to them alone (`repsight digest`).

A stage after the guidance. `run_digest` reads the workspace once
(`repsight.guidance.load_guidance_data`), builds one message per rep
(`content`: what it says; `message`: the email, HTML and plain text), and
either writes the messages to an outbox folder as `.eml` files or sends
them through the company's SMTP relay (`relay`), recording each outcome in
the workspace (`record`) so that a second run for the same week sends
nothing twice. It returns a `DigestResult`, which renders itself for the
command line (`render`).

Privacy: a message holds the rep's own figures, the top tier's medians
(shown only for groups of at least the minimum size, by the guidance) and
the colleagues and leaders the guidance suggests; never another rep's
figures. People on `digest.opt_out`, and people without a rep role, get nothing.
"""

from __future__ import annotations

from repsight.digest.content import CARDS, Card, Digest, digest_for, recipients
from repsight.digest.message import compose
from repsight.digest.result import DigestResult, MessageOutcome
from repsight.digest.run import run_digest

__all__ = ["CARDS", "Card", "Digest", "DigestResult", "MessageOutcome", "compose", "digest_for", "recipients", "run_digest"]
