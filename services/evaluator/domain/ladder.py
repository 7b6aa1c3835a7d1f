"""Thresholds on a score, with hysteresis on the evaluator's own boundaries only.

A ladder orders statuses from worst to best; ``bounds[i]`` is the lowest score that reaches
``statuses[i + 1]`` (the top bound, with ``strict_top``, must be exceeded: 左右 means beyond the band). A status
worsens as soon as the score crosses a boundary (an official wants to hear of 4.9% against 5.5%左右 at once).
It improves across a boundary at once too, unless that boundary is one of ``hysteresis_at``: the evaluator's
own boundaries (严重滞后 from 滞后, the 序时进度 tolerance), where a value wobbling around the line would
otherwise change the status every month. There the score must clear the boundary by ``margin``. An official
boundary (a 左右 band's edge, a 以上 floor, a cap's limit) has no hysteresis: 5.0% meets 5.5%左右 whatever
came before, so no message ever says a figure inside the band is behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# Scores are rounded before comparing so that 6.0 - 5.5 lands exactly on a 0.5 boundary.
_DECIMALS = 6


@dataclass(frozen=True)
class Classified:
    """The status a score reaches, and the boundary hysteresis held it at (None when not held)."""

    status: StrEnum
    raw: StrEnum  # without hysteresis
    held_at: int | None = None  # index into ``bounds`` of the boundary not yet cleared


@dataclass(frozen=True)
class Ladder:
    """Statuses from worst to best and the score thresholds between them."""

    statuses: tuple[StrEnum, ...]
    bounds: tuple[float, ...]
    strict_top: bool = False
    hysteresis_at: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.bounds) != len(self.statuses) - 1 or list(self.bounds) != sorted(self.bounds):
            raise ValueError("a ladder needs one ascending bound between each pair of statuses")

    def strict(self, i: int) -> bool:
        """Whether bound ``i`` must be exceeded rather than reached."""
        return self.strict_top and i == len(self.bounds) - 1

    def reaches(self, score: float, i: int) -> bool:
        """Whether ``score`` reaches the status above bound ``i``."""
        s, b = round(score, _DECIMALS), round(self.bounds[i], _DECIMALS)
        return s > b or (s == b and not self.strict(i))

    def level(self, score: float) -> int:
        """Index of the status a score reaches, without hysteresis."""
        return sum(1 for i in range(len(self.bounds)) if self.reaches(score, i))

    def classify(self, score: float, previous: StrEnum | None = None, margin: float = 0.0) -> Classified:
        """The status a score reaches; an improvement across a hysteresis boundary needs ``margin`` more."""
        raw = self.level(score)
        if previous is None or previous not in self.statuses or margin <= 0:
            return Classified(self.statuses[raw], self.statuses[raw])
        p = self.statuses.index(previous)
        if raw <= p:
            return Classified(self.statuses[raw], self.statuses[raw])
        reached = p
        for i in range(p, raw):
            if i in self.hysteresis_at and not self.reaches(score - margin, i):
                return Classified(self.statuses[reached], self.statuses[raw], held_at=i)
            reached = i + 1
        return Classified(self.statuses[raw], self.statuses[raw])

    def rank(self, status: StrEnum) -> int:
        """Position of a status on the ladder (0 = worst)."""
        return self.statuses.index(status)
