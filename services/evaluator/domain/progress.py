"""Targets read as progress over the year: counts, totals and levels (时间过半、任务过半). Pure.

How a target accrues (catalogue ``accrual``) and how it is read mid-year (``schedule``) decide what is expected
by a period's end:

- new this year or net added, ``linear``: the share of the year gone (1—2月 = 2/12, 一季度 = 3/12);
- ``previous_year_path``: last year's released 1—N月 share of its year (sent as figures of that year), the
  linear share when they were not sent;
- ``batch``: nothing before the first batch month (暂不评估), then linear over the batch months;
- ``year_end``: only the year-end figure is judged (暂不评估 before, unless the target is already reached);
- a stock at a date, ``linear``: the straight path from last year's end level (sent, or stated in the report)
  to the target; without that level, 暂不评估 until the year's end unless already reached.

At the year's end (a figure reaching December, whatever its status) the target is met or not: no tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from shared.catalogue.model import Accrual, Comparator, Schedule, Target
from shared.wording import COUNT_UNITS, decimals_of

from .ladder import Ladder
from .model import (
    DEFAULT_FAR_BEHIND_PP,
    DEFAULT_PROGRESS_HYSTERESIS_PP,
    DEFAULT_PROGRESS_TOLERANCE_PP,
    Evaluation,
    Hold,
    Reading,
    Status,
    goal_of,
    param,
    severity_of,
)

_PROGRESS = (Status.FAR_BEHIND, Status.BEHIND, Status.ON_TRACK, Status.AHEAD)


def progress_ladder(target: Target) -> Ladder:
    """Progress against 序时进度 in percentage points; every boundary is the evaluator's, so all hold."""
    tol = param(target, "tolerance_pp", DEFAULT_PROGRESS_TOLERANCE_PP)
    far = param(target, "far_behind_pp", DEFAULT_FAR_BEHIND_PP)
    return Ladder(_PROGRESS, (-far, -tol, tol), strict_top=True, hysteresis_at=frozenset({0, 1, 2}))


@dataclass(frozen=True)
class Expected:
    """The share of the target expected by a period's end, and what set it."""

    share: float
    path: str  # linear, previous_year, linear_no_data, batch
    linear: float  # the share of the year gone, for comparison


def evaluate_progress(target: Target, r: Reading, previous: Status | None,
                      previous_year: Sequence[Reading] = ()) -> Evaluation:
    """A count, total or level: against 序时进度 mid-year, met or not at the year's end."""
    if target.accrual == Accrual.STOCK:
        return _stock(target, r, previous, previous_year)
    return _flow(target, r, previous, previous_year)


def _reached(target: Target, value: float, goal: float) -> bool:
    return value <= goal if target.comparator == Comparator.AT_MOST else value >= goal


def _far_short(target: Target, value: float, goal: float) -> bool:
    """More than ``far_behind_pp`` of the target short (what would be 严重滞后)."""
    far = param(target, "far_behind_pp", DEFAULT_FAR_BEHIND_PP) / 100
    if target.comparator == Comparator.AT_MOST:
        return value > goal * (1 + far)
    return value < goal * (1 - far)


def _year_end(target: Target, r: Reading, goal: float, progress: float | None) -> Evaluation:
    met = _reached(target, r.value, goal)
    status = Status.ACHIEVED if met else Status.MISSED
    far_off = not met and _far_short(target, r.value, goal)
    gap = round(r.value - goal, 6)
    return Evaluation(status, severity_of(status, target.strength, far_off=far_off), r.value, expected=goal,
                      goal=goal, gap_abs=gap, gap_rel=round(gap / goal, 6) if goal else None,
                      progress=round(progress, 6) if progress is not None else None, expected_progress=1.0,
                      year_end=True, far_off=far_off)


def _waiting(target: Target, r: Reading, goal: float, progress: float | None, path: str) -> Evaluation:
    """Before a batch, or mid-year for a year-end target: 暂不评估, unless the target is already reached."""
    status = Status.AHEAD if _reached(target, r.value, goal) else Status.NOT_EVALUATED
    gap = round(r.value - goal, 6)
    return Evaluation(status, severity_of(status, target.strength), r.value, expected=goal, goal=goal,
                      gap_abs=gap, progress=round(progress, 6) if progress is not None else None, path=path)


def expected_share(target: Target, r: Reading, previous_year: Sequence[Reading]) -> Expected | None:
    """The share expected done by the end of ``r``'s period; None while a batch or the year's end is awaited."""
    n = r.period.last_month
    linear = n / 12
    if target.schedule == Schedule.YEAR_END:
        return None
    if target.schedule == Schedule.BATCH:
        months = target.batch_months
        done = sum(1 for m in months if m <= n)
        return Expected(done / len(months), "batch", linear) if done else None
    if target.schedule == Schedule.PREVIOUS_YEAR_PATH:
        part, full = _previous(previous_year, n), _previous_full(previous_year)
        if part is not None and full is not None and full.value > 0 and 0 <= part.value <= full.value:
            return Expected(part.value / full.value, "previous_year", linear)
        return Expected(linear, "linear_no_data", linear)
    return Expected(linear, "linear", linear)


def _classify(target: Target, gap_pp: float, previous: Status | None) -> tuple[Status, Hold | None]:
    ladder = progress_ladder(target)
    margin = param(target, "hysteresis_pp", DEFAULT_PROGRESS_HYSTERESIS_PP)
    c = ladder.classify(gap_pp, previous, margin)
    hold = None
    if c.held_at is not None:
        hold = Hold(Status(c.raw), ladder.bounds[c.held_at] + margin, ladder.strict(c.held_at))
    return Status(c.status), hold


def _flow(target: Target, r: Reading, previous: Status | None, previous_year: Sequence[Reading]) -> Evaluation:
    goal = goal_of(target)
    progress = r.value / goal if goal else 0.0
    if r.is_year_end:
        return _year_end(target, r, goal, progress)
    exp = expected_share(target, r, previous_year)
    if exp is None:
        return _waiting(target, r, goal, progress, "batch" if target.schedule == Schedule.BATCH else "year_end")
    # Judged on the shares as the message prints them (one decimal), so the words never contradict the status.
    progress_pct, expected_pct = round(progress * 100, 1), round(exp.share * 100, 1)
    gap_pp = round(progress_pct - expected_pct, 1)
    status, hold = _classify(target, gap_pp, previous)
    months_left = r.period.months_left
    expected = round(goal * exp.share, decimals_of(target.unit))
    remaining = max(0.0, goal - r.value)
    projection = _projection(r.value / exp.share, target.unit) if 0 < exp.share < 1 else None
    return Evaluation(
        status, severity_of(status, target.strength), r.value, expected=expected, goal=goal,
        gap_abs=round(r.value - expected, 6), gap_rel=round((r.value - expected) / expected, 6) if expected else None,
        gap_pp=gap_pp, progress=round(progress, 6), expected_progress=round(exp.share, 6), projection=projection,
        run_rate_needed=_per_month(remaining, months_left, target.unit), months_left=months_left or None,
        far_off=status == Status.FAR_BEHIND, held=hold, path=exp.path,
        linear_progress=round(exp.linear, 6) if exp.path != "linear" else None,
        next_period_needed=_next_needed(target, r, remaining, previous_year) if exp.path == "previous_year" else None,
    )


def _stock(target: Target, r: Reading, previous: Status | None, previous_year: Sequence[Reading]) -> Evaluation:
    goal = goal_of(target)
    start_reading = _previous_full(previous_year)
    start = start_reading.value if start_reading is not None else target.baseline_2023
    from_data = start_reading is not None
    rise = goal - start if start is not None else None
    progress = (r.value - start) / rise if start is not None and rise else None
    if r.is_year_end:
        ev = _year_end(target, r, goal, progress)
        return _started(ev, start, from_data)
    if target.schedule == Schedule.YEAR_END or start is None or not rise or (rise < 0) != (
            target.comparator == Comparator.AT_MOST):
        # No straight path to draw (no level at last year's end, or it already met the target): 暂不评估
        # until the year's end, unless the target is already reached.
        return _started(_waiting(target, r, goal, progress, "year_end" if target.schedule == Schedule.YEAR_END
                                 else "no_start"), start, from_data)
    share = r.period.year_fraction
    assert progress is not None
    progress_pct, expected_pct = round(progress * 100, 1), round(share * 100, 1)
    gap_pp = round(progress_pct - expected_pct, 1)
    status, hold = _classify(target, gap_pp, previous)
    expected = round(start + rise * share, decimals_of(target.unit) + 2)
    return Evaluation(
        status, severity_of(status, target.strength), r.value, expected=expected, goal=goal,
        gap_abs=round(r.value - expected, 6), gap_pp=gap_pp, progress=round(progress, 6),
        expected_progress=round(share, 6), far_off=status == Status.FAR_BEHIND, held=hold, path="linear",
        months_left=r.period.months_left or None, start=start, start_from_data=from_data,
    )


def _started(ev: Evaluation, start: float | None, from_data: bool) -> Evaluation:
    return replace(ev, start=start, start_from_data=from_data and start is not None)


def _per_month(remaining: float, months_left: int, unit: str | None) -> float | None:
    """The monthly run-rate still needed, as the message states it: counts whole (rounded up)."""
    if months_left <= 0:
        return None
    per = remaining / months_left
    if unit in COUNT_UNITS:
        return float(math.ceil(round(per, 6)))
    return round(per, decimals_of(unit))


def _projection(x: float, unit: str | None) -> float:
    """A year-end projection, to the three significant figures a partial-year figure supports."""
    if x == 0 or not math.isfinite(x):
        return 0.0
    rounded = float(f"{x:.3g}")
    return float(round(rounded)) if unit in COUNT_UNITS else rounded


def _next_needed(target: Target, r: Reading, remaining: float, previous_year: Sequence[Reading]) -> float | None:
    """Along last year's path, what the next period must add for the year to reach the target."""
    n = r.period.last_month
    nxt = n + r.period.months_spanned
    part, later, full = _previous(previous_year, n), _previous(previous_year, nxt), _previous_full(previous_year)
    if nxt > 12 or part is None or later is None or full is None or full.value <= part.value:
        return None
    need = remaining * (later.value - part.value) / (full.value - part.value)
    if target.unit in COUNT_UNITS:
        return float(math.ceil(round(need, 6)))
    return round(need, decimals_of(target.unit))


def _previous(previous_year: Sequence[Reading], last_month: int) -> Reading | None:
    found = [p for p in previous_year if p.period.last_month == last_month]
    return max(found, key=lambda p: p.period) if found else None


def _previous_full(previous_year: Sequence[Reading]) -> Reading | None:
    return _previous(previous_year, 12)
