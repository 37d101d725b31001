"""How the report, its charts and the command line write numbers: signs, intervals, q-values, missing values."""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "MINUS",
    "NONE",
    "bracketed",
    "count",
    "interval",
    "is_missing",
    "percent",
    "plain",
    "q_value",
    "signed",
    "terminal",
    "value",
]

MINUS = "\u2212"
"""The typographic minus: −25% reads better than -25%, and lines up with +."""
NONE = "–"
"""Shown where a figure does not exist (a gap with a top mean of 0, a metric that never varies)."""


def is_missing(number: Any) -> bool:
    """Return whether `number` is no figure: None (the stored JSON's null) or NaN (the study's own document)."""
    return number is None or (isinstance(number, float) and not math.isfinite(number))


def value(number: Any) -> float | None:
    """Return `number` as a float, or None where it is missing: what a chart plots as a gap."""
    return None if is_missing(number) else float(number)


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def plain(number: Any, digits: int = 2) -> str:
    """Return `number` with `digits` decimals and thousands separators, e.g. 1,234.57."""
    return NONE if is_missing(number) else _minus(f"{float(number):,.{digits}f}")


def signed(number: Any, digits: int = 1, suffix: str = "") -> str:
    """Return `number` with its sign, e.g. −24.8% or +0.31."""
    return NONE if is_missing(number) else _minus(f"{float(number):+.{digits}f}") + suffix


def interval(bounds: Any, digits: int = 1, suffix: str = "") -> str:
    """Return an interval [low, high] as "−31.2 to −17.9" (with `suffix` after each bound)."""
    if not bounds or len(bounds) != 2 or is_missing(bounds[0]) or is_missing(bounds[1]):
        return NONE
    return f"{signed(bounds[0], digits, suffix)} to {signed(bounds[1], digits, suffix)}"


def q_value(q: Any) -> str:
    """Return a q- or p-value with three decimals, or "<0.001"."""
    if is_missing(q):
        return NONE
    return "<0.001" if float(q) < 0.001 else f"{float(q):.3f}"


def count(number: Any) -> str:
    """Return a whole number with thousands separators, e.g. 1,234."""
    return NONE if is_missing(number) else f"{int(number):,}"


def percent(number: Any, digits: int = 0) -> str:
    """Return a percentage with its sign, e.g. −23% (a percent gap: bottom vs top)."""
    return signed(number, digits, "%")


def bracketed(bounds: Any, digits: int = 0) -> str:
    """Return an interval as "[−26, −19]": signed bounds in brackets, as beside a percent gap; "" where it does not exist."""
    if not bounds or len(bounds) != 2 or is_missing(bounds[0]) or is_missing(bounds[1]):
        return ""
    return f"[{signed(bounds[0], digits)}, {signed(bounds[1], digits)}]"


def terminal(text: str) -> str:
    """Return a figure written by this module with ASCII signs, for a terminal or a pipe: "-" for the minus and for a missing figure.

    The typographic minus and the en dash are not in every terminal's
    character set (a Windows code page, a CJK terminal that draws them
    double-width), and "-" is what people grep for.
    """
    return text.replace(MINUS, "-").replace(NONE, "-")
