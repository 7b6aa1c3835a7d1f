"""A forward judgement per target: likely, at risk or unlikely to be met by the year's end (年底预判). Pure.

From a target's evaluations over the year (one per release, the latest vintage of each period):

1. each release gives a year-end reading in the units the target is judged in: a growth rate, share or cap its
   year-to-date value (a cumulative rate carried to December); the relational target its gap to the related
   growth; a count, total or level its projected year-end completion rate (完成率 ÷ 序时进度);
2. the typical move between releases is the root mean square of the release-to-release changes of that reading
   (never below one published step: 0.1 pp for rates, 1 pp of completion);
3. what the rest of the year may still move is that typical move times the square root of the releases left
   (independent moves add up like a random walk; cumulative figures settle as the year goes on, so this errs on
   the side of 有风险);
4. the latest reading's distance from the edge that meets the target (a 左右 band's lower edge, a floor, a cap's
   top, 100% completion), in those units of what may still move: at least +1 预计可完成, at most -1 难以完成,
   in between 有风险. Fewer than three releases (two moves) give no spread: 数据不足. Once the year-end figure
   is in, the target is met or not.

docs/reading-rules.md (十二、年底预判) states the method for officials to review.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from shared.catalogue.model import Comparator, Kind, Target
from shared.periods import Period

from .model import DEFAULT_PROGRESS_HYSTERESIS_PP, DEFAULT_RATE_HYSTERESIS_PP, band_of, goal_of

MIN_RELEASES = 3  # two release-to-release moves are the fewest a spread can be measured on
DECIDED_AT = 1.0  # distances (in what may still move) beyond which the year-end is called either way
RATE_STEP = DEFAULT_RATE_HYSTERESIS_PP  # one published step of a rate, in percentage points
COMPLETION_STEP = DEFAULT_PROGRESS_HYSTERESIS_PP / 100  # one step of a completion rate (1 pp), as a share


class Verdict(StrEnum):
    """Whether the target will likely be met by the year's end."""

    LIKELY = "likely"
    AT_RISK = "at_risk"
    UNLIKELY = "unlikely"
    TOO_FEW = "too_few"


VERDICT_ZH = {
    Verdict.LIKELY: "预计可完成",
    Verdict.AT_RISK: "有风险",
    Verdict.UNLIKELY: "难以完成",
    Verdict.TOO_FEW: "数据不足",
}


@dataclass(frozen=True)
class TrendPoint:
    """One stored evaluation's figures, as the board's trend and the outlook read them."""

    period: Period
    actual: float | None = None
    expected: float | None = None
    progress: float | None = None
    expected_progress: float | None = None
    projection: float | None = None
    gap_pp: float | None = None
    related_actual: float | None = None


@dataclass(frozen=True)
class Outlook:
    """The forward judgement and the figures it stands on (in the units of ``edge``)."""

    verdict: Verdict
    latest: float | None  # the latest release's year-end reading
    edge: float  # the value that meets the target
    spread: float | None  # the typical release-to-release move
    distance: float | None  # (latest - edge), signed so that positive is on the right side, in spreads to come
    releases: int
    releases_left: int

    @property
    def verdict_zh(self) -> str:
        """The verdict as the board prints it."""
        return VERDICT_ZH[self.verdict]


def judge_outlook(values: Sequence[float], edge: float, *, higher_is_better: bool, releases_left: int,
                  min_spread: float) -> Outlook:
    """The verdict from the year-end readings of successive releases (oldest first) and the edge that meets it."""
    n = len(values)
    if n == 0:
        return Outlook(Verdict.TOO_FEW, None, edge, None, None, 0, releases_left)
    latest = values[-1]
    ahead = latest - edge if higher_is_better else edge - latest
    if releases_left <= 0:  # the year-end figure is in: met or not
        return Outlook(Verdict.LIKELY if ahead >= 0 else Verdict.UNLIKELY, latest, edge, None, None, n, 0)
    if n < MIN_RELEASES:
        return Outlook(Verdict.TOO_FEW, latest, edge, None, None, n, releases_left)
    moves = [b - a for a, b in pairwise(values)]
    spread = max(math.sqrt(sum(m * m for m in moves) / len(moves)), min_spread)
    distance = round(ahead / (spread * math.sqrt(releases_left)), 6)
    if distance >= DECIDED_AT:
        verdict = Verdict.LIKELY
    elif distance <= -DECIDED_AT:
        verdict = Verdict.UNLIKELY
    else:
        verdict = Verdict.AT_RISK
    return Outlook(verdict, latest, edge, round(spread, 6), distance, n, releases_left)


def releases(points: Sequence[TrendPoint]) -> list[TrendPoint]:
    """One point per period, the last given (evaluations come oldest first: a revision replaces its period)."""
    by_period: dict[Period, TrendPoint] = {}
    for p in points:
        by_period[p.period] = p
    return [by_period[k] for k in sorted(by_period)]


def releases_left(period: Period) -> int:
    """How many releases of the same span are still to come this year (一季度: three more quarters)."""
    return math.ceil(period.months_left / period.months_spanned)


def year_end_reading(target: Target, p: TrendPoint) -> float | None:
    """A release's year-end reading in the units the target is judged in, or None when it has none."""
    if target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL):
        if p.progress is None or not p.expected_progress:
            return None  # 暂不评估 (before a batch, a year-end target mid-year): no 序时进度 to project from
        return p.progress / p.expected_progress if p.expected_progress < 1 else p.progress
    if target.kind == Kind.RELATIONAL:
        return p.gap_pp
    if target.kind in (Kind.GROWTH_RATE, Kind.SHARE, Kind.CAP):
        return p.actual
    return None


def meeting_edge(target: Target) -> tuple[float, bool, float]:
    """The value that meets the target in its year-end reading, whether higher is better, and the least spread."""
    if target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL):
        return 1.0, target.comparator != Comparator.AT_MOST, COMPLETION_STEP
    if target.kind == Kind.RELATIONAL:
        return -band_of(target), True, RATE_STEP
    goal = goal_of(target)
    if target.kind == Kind.CAP:
        band = band_of(target) if "band_pp" in target.params else 0.0
        return goal + band, False, RATE_STEP
    if target.comparator == Comparator.AT_MOST:
        return (goal + band_of(target)) if "band_pp" in target.params else goal, False, RATE_STEP
    if target.comparator in (Comparator.ABOUT, Comparator.IN_STEP):
        return goal - band_of(target), True, RATE_STEP
    return goal, True, RATE_STEP


def outlook_of(target: Target, points: Sequence[TrendPoint]) -> Outlook | None:
    """The target's year-end outlook from its evaluations (oldest first); None for targets not read from figures."""
    if target.kind in (Kind.MILESTONE, Kind.QUALITATIVE):
        return None  # read from the department's status report, not projected
    edge, higher, least = meeting_edge(target)
    usable = [(p, v) for p in releases(points) if (v := year_end_reading(target, p)) is not None]
    left = releases_left(usable[-1][0].period) if usable else 12
    return judge_outlook([v for _, v in usable], edge, higher_is_better=higher, releases_left=left,
                         min_spread=least)


__all__ = ["COMPLETION_STEP", "DECIDED_AT", "MIN_RELEASES", "RATE_STEP", "VERDICT_ZH", "Outlook", "TrendPoint",
           "Verdict", "judge_outlook", "meeting_edge", "outlook_of", "releases", "releases_left",
           "year_end_reading"]
