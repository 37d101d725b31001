"""Which of the bulk company's emails answer which: replies to customers and between colleagues, drawn in bulk.

The rules are activity.py's (`_Generator.answer_customers` and
`answer_colleague`), vectorised over a week of emails: about half of a rep's
emails to customers (`Params.customer_reply_share`) answer an email a
customer sent them that week, which is moved to the reply's time less a
log-normal delay (shorter with more skill; rarely 15 to 30 days, past what the
metric counts) and made to come from the customer replied to; some of a
rep's emails to a colleague (`Params.colleague_reply_share`) answer the
colleague's latest email to them earlier that week.

Every choice here is drawn from a stream of its own (`reply_draws`), so
the main stream's draws, and so every row's count, recipients and the
sending times of the rows that are not moved, are what they were without
replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from bulk.org import DAY_US, OrgArrays, day_number
from repsight.synth.activity import REPLY_MAX_DAYS, Params

__all__ = ["ReplyDraws", "answer_colleagues", "answer_customers", "monday_of", "reply_draws"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

SECOND_US = 1_000_000
ENGAGEMENT_STREAM = 16  # issue 16: the stream's own number beside the seed


@dataclass(frozen=True)
class ReplyDraws:
    """The stream replies are drawn from, and per rep row the first moment an email to the rep may be moved to."""

    rng: np.random.Generator
    earliest: I64  # UTC microseconds: noon on the Monday of the rep's first week with data


def reply_draws(o: OrgArrays, seed: int, first_week: date) -> ReplyDraws:
    """Return the reply stream of a company: derived from the seed, apart from the main stream."""
    first = np.maximum(day_number(first_week), monday_of(o.hire[o.reps]))
    return ReplyDraws(np.random.default_rng([seed, ENGAGEMENT_STREAM]), first * DAY_US + 12 * 3600 * SECOND_US)


def monday_of(day: I64) -> I64:
    """Return the day number of the Monday of each day number's week (1970-01-01 was a Thursday)."""
    result: I64 = day - (day + 3) % 7
    return result


def answer_customers(
    rng: np.random.Generator,
    p: Params,
    skill: F64,
    earliest: I64,
    sent_rep: I64,
    sent_at: I64,
    replied_to: I64,
    received_rep: I64,
    received_at: I64,
    received_from: I64,
) -> tuple[I64, I64, I64]:
    """Return, for a week of reps' emails to and from customers, each sent email's parent and the received emails' new senders and times.

    `sent_rep` and `received_rep` are rep rows in ascending order (as
    `np.repeat` over the active reps gives them); `skill` and `earliest` are
    per rep row: the quarter's skill, and the first moment (UTC microseconds)
    an email to the rep may be moved to (noon on the Monday of their first
    week with data: earlier would widen the weeks measured). `replied_to` is
    each sent email's first recipient. The parent is an index into the
    received emails, -1 for none. As activity.py, the k-th email of a rep
    that answers is paired with the rep's k-th received email of the week.
    """
    answers = np.flatnonzero(rng.random(len(sent_rep)) < p.customer_reply_share)
    rep = sent_rep[answers]
    rank = np.arange(len(rep)) - np.searchsorted(rep, rep, side="left")
    first = np.searchsorted(received_rep, rep, side="left")
    paired = rank < np.searchsorted(received_rep, rep, side="right") - first
    answers, rep, asked = answers[paired], rep[paired], (first + rank)[paired]

    n = len(answers)
    late = rng.random(n) < p.late_reply_share
    late_seconds = np.round(rng.uniform(REPLY_MAX_DAYS + 1, 30, n) * 86_400)
    hours = p.reply_median_hours * np.exp(p.reply_skill_effect * skill[rep] + p.reply_log_sd * rng.standard_normal(n))
    delay = np.where(late, late_seconds, np.round(hours * 3600)).astype(np.int64) * SECOND_US
    asked_at = sent_at[answers] - delay
    kept = asked_at >= earliest[rep]

    parent = np.full(len(sent_rep), -1, np.int64)
    parent[answers[kept]] = asked[kept]
    sender, at = received_from.copy(), received_at.copy()
    sender[asked[kept]] = replied_to[answers[kept]]
    at[asked[kept]] = asked_at[kept]
    return parent, sender, at


def answer_colleagues(rng: np.random.Generator, p: Params, sent_pair: I64, sent_at: I64, heard_pair: I64, heard_at: I64) -> I64:
    """Return, for reps' emails to colleagues, the index of the colleague's email each answers (-1: none).

    A pair is (rep, colleague) as one integer; a `heard` email is the
    colleague's to the rep. An email answers, with chance
    `Params.colleague_reply_share`, the colleague's latest email to the rep
    sent at or before it in the same batch (a week: within 14 days).
    """
    n_heard = len(heard_pair)
    pair = np.concatenate([heard_pair, sent_pair])
    at = np.concatenate([heard_at, sent_at])
    is_sent = np.concatenate([np.zeros(n_heard, bool), np.ones(len(sent_pair), bool)])
    order = np.lexsort((is_sent, at, pair))  # by pair, then time; an email heard at the same second comes first
    pair, is_sent = pair[order], is_sent[order]
    position = np.arange(len(order))
    latest_heard = np.maximum.accumulate(np.where(is_sent, -1, position)) if len(order) else position
    starts = np.ones(len(order), bool)
    starts[1:] = pair[1:] != pair[:-1]
    pair_start = np.maximum.accumulate(np.where(starts, position, 0)) if len(order) else position
    answered = is_sent & (latest_heard >= pair_start)

    parent = np.full(len(sent_pair), -1, np.int64)
    chance = rng.random(len(sent_pair)) < p.colleague_reply_share
    sent = order[answered] - n_heard
    parent[sent] = order[latest_heard[answered]]
    parent[~chance] = -1
    return parent
