"""A seeded random source whose every draw is built on `random.random()`.

Python guarantees that `random.Random(seed).random()` gives the same sequence
on every version and platform; its other methods may change. Building all
draws on it keeps "same seed, same bytes" true across Python releases.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["Rng"]

T = TypeVar("T")


class Rng:
    """Deterministic draws: uniform, normal, Poisson, choices, samples."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        return low + (high - low) * self._random()

    def chance(self, probability: float) -> bool:
        return self._random() < probability

    def integer(self, low: int, high: int) -> int:
        """Return an integer in [low, high], both included."""
        return low + min(int(self._random() * (high - low + 1)), high - low)

    def choice(self, items: Sequence[T]) -> T:
        return items[min(int(self._random() * len(items)), len(items) - 1)]

    def weighted(self, items: Sequence[T], weights: Sequence[float]) -> T:
        target = self._random() * sum(weights)
        running = 0.0
        for item, weight in zip(items, weights, strict=True):
            running += weight
            if target < running:
                return item
        return items[-1]

    def sample(self, items: Sequence[T], count: int) -> list[T]:
        """Return `count` distinct items (all of them if there are fewer), in draw order."""
        pool = list(items)
        count = min(count, len(pool))
        for i in range(count):
            j = i + min(int(self._random() * (len(pool) - i)), len(pool) - i - 1)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:count]

    def normal(self, mean: float = 0.0, sd: float = 1.0) -> float:
        # Box–Muller; 1 - random() is in (0, 1], so the log is finite.
        u1, u2 = 1.0 - self._random(), self._random()
        return mean + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, mean: float) -> int:
        """Return a Poisson draw (Knuth's method; the means here are small)."""
        if mean <= 0:
            return 0
        if mean > 30:
            return max(0, round(self.normal(mean, math.sqrt(mean))))
        limit, count, product = math.exp(-mean), 0, self._random()
        while product > limit:
            count += 1
            product *= self._random()
        return count
