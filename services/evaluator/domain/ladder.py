"""Thresholds on a score, with hysteresis so a value wobbling around a threshold does not flap.

A ladder orders statuses from worst to best; ``bounds[i]`` is the lowest score that reaches
``statuses[i + 1]``. With a previous status on the same ladder, a status worsens as soon as the score
crosses a boundary (an official wants to hear of 4.9% against 5.5%左右 at once), but improves only
when the score clears the boundary by ``margin`` (``score - margin`` reaches the better level): the
deadband of an alert that fires at a threshold and resolves only beyond it. A figure wobbling around a
boundary (4.97, 5.02, 4.98, 5.03, …) therefore changes the status once, not every month.
The result is ``max(up, min(raw, previous))``, which never decreases as the score grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Scores are rounded before comparing so that 6.0 - 5.5 lands exactly on a 0.5 boundary.
_DECIMALS = 6


@dataclass(frozen=True)
class Ladder:
    """Statuses from worst to best and the score thresholds between them."""

    statuses: tuple[StrEnum, ...]
    bounds: tuple[float, ...]
    strict_top: bool = False  # the best status needs a score strictly above its bound (左右: beyond the band)

    def __post_init__(self) -> None:
        if len(self.bounds) != len(self.statuses) - 1 or list(self.bounds) != sorted(self.bounds):
            raise ValueError("a ladder needs one ascending bound between each pair of statuses")

    def level(self, score: float) -> int:
        """Index of the status a score reaches, without hysteresis."""
        s = round(score, _DECIMALS)
        n = 0
        for i, b in enumerate(self.bounds):
            top = i == len(self.bounds) - 1
            if s > b or (s == b and not (top and self.strict_top)):
                n += 1
        return n

    def classify(self, score: float, previous: StrEnum | None = None, margin: float = 0.0) -> StrEnum:
        """The status a score reaches, holding ``previous`` unless the score clears a boundary by ``margin``."""
        if previous is None or previous not in self.statuses or margin <= 0:
            return self.statuses[self.level(score)]
        p = self.statuses.index(previous)
        up = self.level(score - margin)
        raw = self.level(score)
        return self.statuses[max(up, min(raw, p))]

    def rank(self, status: StrEnum) -> int:
        """Position of a status on the ladder (0 = worst)."""
        return self.statuses.index(status)
