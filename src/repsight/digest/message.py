"""One digest as an email (RFC 5322): a plain-text part and an inline-styled HTML part, to the rep alone.

Mail clients drop `<style>` blocks and block remote images, so every style
is inline and every bar is a table cell of a set width: no image, no
script, no tracking, and no link but the rep's own dashboard page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from jinja2 import Environment

from repsight.digest.content import Card, figure, week_figure

if TYPE_CHECKING:
    from repsight.config import Config
    from repsight.digest.content import Digest

__all__ = ["compose", "html_part", "message_id", "sender_of", "subject", "text_part"]

_YOU = "#2563eb"
_TOP = "#9ca3af"


def sender_of(config: Config) -> str:
    """Return the digest's From address: `digest.sender`, else repsight@ the company's first domain."""
    return config.digest.sender or f"repsight@{config.company.domains[0]}"


def message_id(digest: Digest, sender: str) -> str:
    """Return the message's Message-ID: the same for the same rep and week, so a message sent again is known as the same one."""
    return f"<digest.{digest.week:%Y%m%d}.{digest.person}@{sender.rsplit('@', 1)[1]}>"


def subject(digest: Digest) -> str:
    """Return the subject line, e.g. "Your week: 1 July 2024"."""
    return f"Your week: {digest.week.day} {digest.week:%B %Y}"


def _bar_widths(card: Card) -> tuple[int, int]:
    """Return the widths in percent of the rep's bar and the top tier's: the larger of the two fills the row."""
    you, top = card.value or 0.0, card.top_tier_median or 0.0
    longest = max(you, top)
    if longest <= 0:
        return 0, 0
    return round(100 * you / longest), round(100 * top / longest)


def _suggestion_line(step: str, name: str, email: str, org: str | None, reason: str) -> str:
    verb = "Connect with" if step == "connect" else "Meet"
    return f"{verb} {name} <{email}>" + (f", {org}" if org else "") + f": {reason}"


def text_part(digest: Digest) -> str:
    """Return the digest as plain text (the part every mail client can show)."""
    lines = [
        subject(digest),
        "",
        f"Hello {digest.first_name},",
        "",
        f"Here is how your week of {digest.week.isoformat()} looked, beside the median of the top tier "
        f"(the top quarter of reps by attainment) in {digest.period}. Only you receive this message.",
    ]
    for card in digest.cards:
        lines += [
            "",
            card.title.upper(),
            f"  {card.label}, your {digest.period} average: {figure(card.metric, card.value)} {card.unit}",
        ]
        if card.week_value is not None:
            lines.append(f"  This week: {week_figure(card.metric, card.week_value)} {card.unit}")
        if card.top_tier_median is not None:
            lines.append(f"  Top tier median ({card.group}): {figure(card.metric, card.top_tier_median)} {card.unit}")
        else:
            lines.append("  Top tier median: not shown (too few top-tier reps to show one)")
        if card.note:
            lines.append(f"  {card.note}")
    lines += ["", "WHERE THE GAP IS LARGEST"]
    gap = digest.top_gap
    if gap is None:
        lines.append("  None: you are at or above the top tier's median on every behaviour the study found.")
    else:
        lines.append(
            f"  {gap.label}: you {figure(gap.metric, gap.value)} {gap.unit}, "
            f"top tier median {figure(gap.metric, gap.top_tier_median)} {gap.unit} ({gap.group})"
        )
    if digest.suggestions:
        lines += ["", "SUGGESTIONS"]
        lines += [f"  - {_suggestion_line(step, s.name, s.email, s.org, s.reason)}" for step, s in digest.suggestions]
    lines += ["", f"Your dashboard: {digest.dashboard_url}", "", digest.caveat, ""]
    return "\n".join(lines)


_HTML = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:Arial,Helvetica,sans-serif;color:#111827">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6"><tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" style="max-width:640px;width:100%;background:#ffffff;border-radius:8px">
<tr><td style="padding:24px 24px 8px 24px">
  <h1 style="margin:0 0 8px 0;font-size:22px;font-weight:bold">{{ subject }}</h1>
  <p style="margin:0;font-size:14px;line-height:20px;color:#374151">Hello {{ d.first_name }}, here is how your week of {{ d.week.isoformat() }} looked,
  beside the median of the top tier (the top quarter of reps by attainment) in {{ d.period }}. Only you receive this message.</p>
</td></tr>
<tr><td style="padding:8px 16px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0">
{% for pair in cards|batch(2) %}<tr>
{% for c in pair %}<td class="card" valign="top" width="50%" style="padding:8px">
<div style="border:1px solid #e5e7eb;border-radius:6px;padding:12px">
  <div style="font-size:15px;font-weight:bold;margin-bottom:2px">{{ c.card.title }}</div>
  <div style="font-size:12px;color:#6b7280;margin-bottom:8px">{{ c.card.label }}, {{ c.card.unit }}, {{ d.period }} average</div>
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="font-size:12px">
    <tr><td width="72" style="padding:2px 4px 2px 0;color:#374151">You</td>
      <td style="padding:2px 0"><table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>
        {% if c.you %}<td class="bar" width="{{ c.you }}%" height="12" style="background:{{ you_colour }};height:12px;font-size:1px;line-height:1px">&nbsp;</td>{% endif %}
        {% if c.you < 100 %}<td style="font-size:1px;line-height:1px">&nbsp;</td>{% endif %}</tr></table></td>
      <td width="48" align="right" style="padding:2px 0 2px 6px;font-weight:bold">{{ c.value }}</td></tr>
    <tr><td width="72" style="padding:2px 4px 2px 0;color:#374151">Top tier</td>
      <td style="padding:2px 0">{% if c.card.top_tier_median is not none %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>
        {% if c.top %}<td class="bar" width="{{ c.top }}%" height="12" style="background:{{ top_colour }};height:12px;font-size:1px;line-height:1px">&nbsp;</td>{% endif %}
        {% if c.top < 100 %}<td style="font-size:1px;line-height:1px">&nbsp;</td>{% endif %}</tr></table>{% else %}<span style="color:#6b7280">too few to show</span>{% endif %}</td>
      <td width="48" align="right" style="padding:2px 0 2px 6px">{{ c.median }}</td></tr>
  </table>
  {% if c.card.week_value is not none %}<div style="font-size:12px;color:#374151;margin-top:8px">This week: {{ c.week }} {{ c.card.unit }}</div>{% endif %}
  {% if c.card.group %}<div style="font-size:12px;color:#6b7280;margin-top:2px">Top tier: median of {{ c.card.group }}</div>{% endif %}
  {% if c.card.note %}<div style="font-size:12px;color:#374151;margin-top:2px">{{ c.card.note }}</div>{% endif %}
</div></td>{% endfor %}
{% if pair|length == 1 %}<td width="50%" style="padding:8px"></td>{% endif %}
</tr>{% endfor %}
</table></td></tr>
<tr><td style="padding:8px 24px">
  <h2 style="margin:8px 0 4px 0;font-size:16px">Where the gap is largest</h2>
  {% if gap %}<p id="top-gap" style="margin:0;font-size:14px;line-height:20px">{{ gap.label }}: you {{ gap_value }} {{ gap.unit }},
  top tier median {{ gap_median }} {{ gap.unit }} <span style="color:#6b7280">({{ gap.group }})</span>.</p>
  {% else %}<p id="top-gap" style="margin:0;font-size:14px;line-height:20px">None: you are at or above the top tier's median on every behaviour the study found.</p>{% endif %}
</td></tr>
{% if d.suggestions %}<tr><td style="padding:8px 24px">
  <h2 style="margin:8px 0 4px 0;font-size:16px">Suggestions</h2>
  <ul style="margin:0;padding-left:20px;font-size:14px;line-height:20px">
  {% for step, s in d.suggestions %}<li class="suggestion">{{ 'Connect with' if step == 'connect' else 'Meet' }} <strong>{{ s.name }}</strong>
    &lt;{{ s.email }}&gt;{% if s.org %}, {{ s.org }}{% endif %}: <span style="color:#374151">{{ s.reason }}</span></li>
  {% endfor %}</ul>
</td></tr>{% endif %}
<tr><td style="padding:16px 24px">
  <a href="{{ d.dashboard_url }}" style="display:inline-block;background:{{ you_colour }};color:#ffffff;text-decoration:none;font-size:14px;padding:10px 16px;border-radius:6px">Open your dashboard</a>
</td></tr>
<tr><td style="padding:8px 24px 24px 24px;font-size:12px;line-height:18px;color:#6b7280">{{ d.caveat }}</td></tr>
</table></td></tr></table>
</body></html>
"""

_ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)


def html_part(digest: Digest) -> str:
    """Return the digest as one HTML document, every style inline, bars as table cells."""
    cards = []
    for card in digest.cards:
        you, top = _bar_widths(card)
        cards.append(
            {
                "card": card,
                "you": you,
                "top": top,
                "value": figure(card.metric, card.value),
                "median": figure(card.metric, card.top_tier_median),
                "week": week_figure(card.metric, card.week_value),
            }
        )
    gap = digest.top_gap
    return _ENVIRONMENT.from_string(_HTML).render(
        d=digest,
        subject=subject(digest),
        cards=cards,
        gap=gap,
        gap_value=None if gap is None else figure(gap.metric, gap.value),
        gap_median=None if gap is None else figure(gap.metric, gap.top_tier_median),
        you_colour=_YOU,
        top_colour=_TOP,
    )


def compose(digest: Digest, config: Config, now: datetime | None = None) -> EmailMessage:
    """Return the digest as an email to the rep alone: From `digest.sender`, To the rep, no Cc or Bcc."""
    sender = sender_of(config)
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = Address("repsight", addr_spec=sender)
    message["To"] = Address(digest.name, addr_spec=digest.email)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = message_id(digest, sender)
    # RFC 3834: a machine wrote it; out-of-office replies should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_part(digest))
    message.add_alternative(html_part(digest), subtype="html")
    return message
