"""Targets read as rates: growth rates (增长X%左右, 增长X%以上), shares read directly, caps (控制在…) and the
relational target (与经济增长基本同步). Pure.

A rate is compared as published, to two decimals at most, so that what the message prints is what was judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shared.catalogue.model import Comparator, Measure, Schedule, Target

from .ladder import Ladder
from .model import (
    DEFAULT_RATE_HYSTERESIS_PP,
    DEFAULT_WARN_MARGIN_PP,
    Evaluation,
    Hold,
    Reading,
    Status,
    band_of,
    goal_of,
    param,
    severity_of,
)

_PROGRESS = (Status.FAR_BEHIND, Status.BEHIND, Status.ON_TRACK, Status.AHEAD)
_CAP = (Status.BREACHED, Status.NEAR_CAP, Status.ON_TRACK)


def rate_ladder(target: Target) -> Ladder:
    """左右 and 同步: the band's edges are official (no hysteresis), 严重滞后 two bands below is the evaluator's.

    以上: the floor is official; 严重滞后 (two steps below) and 超前 (two steps above) are the evaluator's.
    """
    b = band_of(target)
    if target.comparator in (Comparator.ABOUT, Comparator.IN_STEP):
        return Ladder(_PROGRESS, (-2 * b, -b, b), strict_top=True, hysteresis_at=frozenset({0}))
    return Ladder(_PROGRESS, (-2 * b, 0.0, 2 * b), strict_top=True, hysteresis_at=frozenset({0, 2}))


def lower_edge(target: Target, goal: float) -> float:
    """The lowest value that meets the target: the band's lower edge (左右), or the floor itself (以上)."""
    if target.comparator in (Comparator.ABOUT, Comparator.IN_STEP):
        return goal - band_of(target)
    return goal


def _margin(target: Target) -> float:
    return param(target, "hysteresis_pp", DEFAULT_RATE_HYSTERESIS_PP)


def _classify(target: Target, ladder: Ladder, score: float, previous: Status | None) -> tuple[Status, Hold | None]:
    c = ladder.classify(score, previous, _margin(target))
    hold = None
    if c.held_at is not None:
        hold = Hold(Status(c.raw), ladder.bounds[c.held_at] + _margin(target), ladder.strict(c.held_at))
    return Status(c.status), hold


def _verdict(target: Target, ladder: Ladder, score: float) -> tuple[Status, bool]:
    """At the year's end: met (已完成) or not (未完成), and whether it is far off (the 严重滞后 step)."""
    level = ladder.level(score)
    met = level >= ladder.rank(Status.ON_TRACK)
    return (Status.ACHIEVED if met else Status.MISSED), level == 0


def _read(target: Target, value: float, goal: float, year_end: bool, previous: Status | None) -> Evaluation:
    ladder = rate_ladder(target)
    score = round(goal - value if target.comparator == Comparator.AT_MOST else value - goal, 6)
    hold = None
    far_off = False
    if year_end:
        status, far_off = _verdict(target, ladder, score)
    else:
        status, hold = _classify(target, ladder, score, previous)
        far_off = status == Status.FAR_BEHIND
    gap = round(value - goal, 6)
    return Evaluation(status, severity_of(status, target.strength, far_off=far_off), value, expected=goal,
                      goal=goal, gap_abs=gap, gap_pp=gap, gap_rel=round(gap / goal, 6) if goal else None,
                      year_end=year_end, far_off=far_off, held=hold)


def evaluate_growth(target: Target, r: Reading, previous: Status | None,
                    previous_year: Sequence[Reading] = ()) -> Evaluation:
    """A growth-rate target: the latest (year-to-date) growth against the target, with a band."""
    goal = goal_of(target)
    value = round(r.value, 2)
    ev = _read(target, value, goal, r.is_year_end, previous)
    if ev.status in (Status.BEHIND, Status.FAR_BEHIND) and target.measure == Measure.CUMULATIVE_YOY_PCT:
        needed, weight = growth_needed(value, r, lower_edge(target, goal), previous_year)
        return replace(ev, growth_needed=needed, growth_weight=weight)
    return ev


def growth_needed(value: float, r: Reading, edge: float,
                  previous_year: Sequence[Reading]) -> tuple[float, float | None]:
    """The growth the rest of the year needs for the year to reach ``edge``, and the weight used (None: equal).

    The year's growth is the periods' growths weighted by last year's levels: G = w·g + (1 - w)·g_rest, with w
    the share of last year's annual level in the months covered so far. With last year's cumulative levels
    sent as data, w comes from them; without, the remaining months count equally (w = months gone / 12).
    """
    n = r.period.last_month
    part = _latest([p for p in previous_year if p.period.last_month == n])
    full = _latest([p for p in previous_year if p.period.is_year_end])
    weight: float | None = None
    if part is not None and full is not None and full.value > 0 and 0 < part.value < full.value:
        weight = part.value / full.value
    w = weight if weight is not None else n / 12
    return round((edge - w * value) / (1 - w), 1), (round(weight, 4) if weight is not None else None)


def evaluate_share(target: Target, r: Reading, previous: Status | None) -> Evaluation:
    """A share or ratio read against its target value: every period (direct), or only at the year's end."""
    goal = goal_of(target)
    value = round(r.value, 2)
    if target.schedule == Schedule.YEAR_END and not r.is_year_end:
        gap = round(value - goal, 6)
        return Evaluation(Status.NOT_EVALUATED, severity_of(Status.NOT_EVALUATED, target.strength), value,
                          expected=goal, goal=goal, gap_abs=gap, gap_pp=gap)
    return _read(target, value, goal, r.is_year_end, previous)


def _cap_ladder(target: Target) -> tuple[Ladder, float]:
    """With a band (the province's 3%左右): over the limit but within the band is 接近上限, beyond it 突破上限.

    Without a band (a hard 以内): within ``warn_margin_pp`` below the limit is 接近上限, over it 突破上限.
    The limit (or the band's top) is official; the warning zone's edge is the evaluator's (hysteresis).
    """
    if "band_pp" in target.params:
        band = band_of(target)
        return Ladder(_CAP, (-band, 0.0), hysteresis_at=frozenset({1})), band
    warn = param(target, "warn_margin_pp", DEFAULT_WARN_MARGIN_PP)
    return Ladder(_CAP, (0.0, warn), hysteresis_at=frozenset({1})), 0.0


def evaluate_cap(target: Target, r: Reading, previous: Status | None) -> Evaluation:
    """A cap (涨幅控制在…): the value against the limit, read with the province's band when it has one."""
    limit = goal_of(target)
    value = round(r.value, 2)
    ladder, band = _cap_ladder(target)
    score = round(limit - value, 6)
    hold = None
    far_off = False
    if r.is_year_end:
        met = value <= limit + band + 1e-9
        status = Status.ACHIEVED if met else Status.MISSED
        far_off = value > limit + 2 * band + 1e-9
    else:
        c = ladder.classify(score, previous, _margin(target))
        status = Status(c.status)
        if c.held_at is not None:
            hold = Hold(Status(c.raw), ladder.bounds[c.held_at] + _margin(target), False)
    over = round(value - limit, 6)
    return Evaluation(status, severity_of(status, target.strength, far_off=far_off), value, expected=limit,
                      goal=limit, gap_abs=over, gap_pp=over, gap_rel=round(over / limit, 6) if limit else None,
                      year_end=r.is_year_end, far_off=far_off, held=hold)


def deflate(nominal: float, price_rise: float) -> float:
    """Real growth from nominal growth and the price rise, as NBS computes 实际增长 (to one decimal)."""
    return round(((1 + nominal / 100) / (1 + price_rise / 100) - 1) * 100, 1)


def evaluate_relational(target: Target, r: Reading, related: Reading, deflator: Reading | None,
                        previous: Status | None) -> Evaluation:
    """The target's growth against the related indicator's for the same months, like with like."""
    nominal = round(r.value, 2)
    value = deflate(nominal, deflator.value) if deflator is not None else nominal
    other = round(related.value, 2)
    year_end = r.is_year_end and related.is_year_end
    ev = _read(target, value, other, year_end, previous)
    return replace(ev, related_actual=other, nominal=nominal if deflator is not None else None,
                   deflator=round(deflator.value, 2) if deflator is not None else None)


def _latest(readings: Sequence[Reading]) -> Reading | None:
    return max(readings, key=lambda x: x.period) if readings else None


__all__ = ["deflate", "evaluate_cap", "evaluate_growth", "evaluate_relational", "evaluate_share",
           "growth_needed", "lower_edge", "rate_ladder"]
