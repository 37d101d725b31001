"""The validation in a terminal: how many flags each rule raised, then the first flags with whom and when they concern."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text

from repsight import terminal
from repsight.report.numbers import count

if TYPE_CHECKING:
    from repsight.validation.run import ValidationResult

__all__ = ["SHOWN", "validation_view"]

SHOWN = 20
"""Flags listed in a terminal; `repsight validate --json FILE` writes every one."""


def validation_view(result: ValidationResult) -> Group:
    """Return the counts per rule, then up to SHOWN flags (people by email where known, else pseudonym)."""
    counts = terminal.table()
    terminal.words(counts, "rule")
    terminal.figures(counts, "flags")
    for rule, found in result.counts().items():
        counts.add_row(rule, Text(count(found), style="yellow" if found else ""))
    flags = terminal.table()
    terminal.words(flags, "rule")
    terminal.words(flags, "who")
    terminal.words(flags, "when")
    terminal.words(flags, "detail")
    for flag in result.flags[:SHOWN]:
        who = result.emails.get(flag.person, flag.person) if flag.person else ""
        when = flag.week.isoformat() if flag.week else flag.period or ""
        flags.add_row(flag.rule, terminal.data(who or ""), when, flag.detail)
    parts: list[Group | Text] = [terminal.titled(f"Validation: {count(len(result.flags))} flags", counts)]
    if result.flags:
        parts += [Text(""), terminal.titled(f"The first {min(SHOWN, len(result.flags))}", flags)]
        parts.append(Text("`repsight validate --json FILE` writes every flag with the numbers behind it.", style="dim"))
    parts += [terminal.note(note) for note in result.notes]
    return Group(*parts)
