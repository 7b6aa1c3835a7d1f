"""How officials read a target's progress: a pure function per kind of target.

- growth rates ("增长X%左右"): the latest cumulative year-on-year growth (1—N月累计同比) against X, with a band;
- annual totals and counts: cumulative progress against the progress expected at the period end (时序进度,
  "时间过半、任务过半"; a seasonal path when ``params.seasonal_profile`` is set), a year-end projection and the
  run-rate needed per remaining month;
- caps: breached when over, near the cap within ``params.warn_margin_pp``;
- shares and levels: against the target value (a year-end state; intra-year along the path from the 2023
  baseline when the report states one);
- relational targets: the actual against the related indicator's actual for the same period;
- a year-end verdict (achieved / missed) once the final annual figure is in;
- provisional or estimated data soften a critical severity to a warning.

Every default below can be overridden per target in the catalogue's ``params``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from shared.catalogue.model import Comparator, Kind, Target
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

from .ladder import Ladder

# Half-width of the band around a "X%左右" growth or share target, in percentage points (params.band_pp).
# Chinese statistical practice reads 0.5 pp as within "about": 5.0%-6.0% meets "5.5%左右", and 0.5 pp is the
# smallest step in which Wuxi and Jiangsu set growth targets, so a narrower band would call noise a miss.
# For 以上 targets without a band, the same 0.5 pp decides behind (less than 1 pp short) from far behind.
DEFAULT_BAND_PP = 0.5
# Cumulative progress may trail the expected progress by this many percentage points and still be on track
# (params.tolerance_pp): a month's figure moves a year's progress by about 8 pp, so 3 pp is well inside one
# month's work; being more than 10 pp short (params.far_behind_pp) is over a month behind.
DEFAULT_PROGRESS_TOLERANCE_PP = 3.0
DEFAULT_FAR_BEHIND_PP = 10.0
# A cap warns when the value comes within this many percentage points of it (params.warn_margin_pp).
DEFAULT_WARN_MARGIN_PP = 0.5
# Levels in other units than % (亿元, 万家, …) get a band of this share of the target value (params.band).
DEFAULT_LEVEL_BAND_SHARE = 0.02
# Hysteresis (params.hysteresis_pp): a status changes only when the score clears the boundary by this much.
# 0.1 pp is the precision of a published rate, so a rate must move by at least one published step beyond
# the boundary; progress shares move in larger steps, so they need 1 pp.
DEFAULT_RATE_HYSTERESIS_PP = 0.1
DEFAULT_PROGRESS_HYSTERESIS_PP = 1.0


class Status(StrEnum):
    """Where a target stands."""

    AHEAD = "ahead"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    FAR_BEHIND = "far_behind"
    NEAR_CAP = "near_cap"
    BREACHED = "breached"
    ACHIEVED = "achieved"
    MISSED = "missed"
    NOT_EVALUATED = "not_evaluated"
    # From a department's status report on a milestone or qualitative target.
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    AT_RISK = "at_risk"


STATUS_ZH = {
    Status.AHEAD: "超前",
    Status.ON_TRACK: "符合进度",
    Status.BEHIND: "滞后",
    Status.FAR_BEHIND: "严重滞后",
    Status.NEAR_CAP: "接近上限",
    Status.BREACHED: "突破上限",
    Status.ACHIEVED: "已完成",
    Status.MISSED: "未完成",
    Status.NOT_EVALUATED: "暂不评估",
    Status.NOT_STARTED: "未启动",
    Status.IN_PROGRESS: "推进中",
    Status.AT_RISK: "存在风险",
}

SEVERITY_OF = {
    Status.AHEAD: Severity.OK,
    Status.ON_TRACK: Severity.OK,
    Status.ACHIEVED: Severity.OK,
    Status.NOT_EVALUATED: Severity.OK,
    Status.NOT_STARTED: Severity.OK,
    Status.IN_PROGRESS: Severity.OK,
    Status.BEHIND: Severity.WARNING,
    Status.NEAR_CAP: Severity.WARNING,
    Status.AT_RISK: Severity.WARNING,
    Status.FAR_BEHIND: Severity.CRITICAL,
    Status.BREACHED: Severity.CRITICAL,
    Status.MISSED: Severity.CRITICAL,
}

_PROGRESS = (Status.FAR_BEHIND, Status.BEHIND, Status.ON_TRACK, Status.AHEAD)
_CAP = (Status.BREACHED, Status.NEAR_CAP, Status.ON_TRACK)


@dataclass(frozen=True)
class Reading:
    """The figure an evaluation uses: a value for a period, with its status and vintage."""

    value: float
    period: Period
    status: ObservationStatus
    observation_id: str | None = None
    vintage: int | None = None
    recorded_at: datetime | None = None  # when ingest recorded it

    @property
    def is_final_annual(self) -> bool:
        """The final figure for the whole year: the one a year-end verdict needs."""
        return self.period.year_fraction >= 1.0 and self.status == ObservationStatus.FINAL


@dataclass(frozen=True)
class Evaluation:
    """The verdict on a target for one period."""

    status: Status
    severity: Severity
    actual: float | None
    expected: float | None = None  # expected by the period end (the goal itself for rates, caps, levels)
    goal: float | None = None  # the annual target value in force (a cap's provincial limit, …)
    gap_abs: float | None = None  # actual - expected, in the target's unit
    gap_rel: float | None = None  # gap_abs / expected
    gap_pp: float | None = None  # percentage points: rate gap, or progress minus expected progress
    progress: float | None = None  # share of the annual target done
    expected_progress: float | None = None  # share expected by the period end
    projection: float | None = None  # year-end value at the current pace
    run_rate_needed: float | None = None  # per remaining month, to reach the goal
    months_left: int | None = None
    related_actual: float | None = None  # the related indicator's value, for relational targets
    softened: bool = False  # severity lowered because the data is provisional or estimated


def evaluate(
    target: Target, reading: Reading, *, related: Reading | None = None, previous: Status | None = None
) -> Evaluation:
    """Evaluate a quantitative target from its latest reading (and the related one for relational targets)."""
    if target.kind == Kind.GROWTH_RATE:
        ev = _growth_rate(target, reading, previous)
    elif target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT):
        ev = _cumulative(target, reading, previous)
    elif target.kind in (Kind.SHARE, Kind.LEVEL):
        ev = _level(target, reading, previous)
    elif target.kind == Kind.CAP:
        ev = _cap(target, reading, previous)
    elif target.kind == Kind.RELATIONAL:
        if related is None:
            raise ValueError(f"target {target.id}: a relational evaluation needs the related reading")
        ev = _relational(target, reading, related, previous)
    else:
        raise ValueError(f"target {target.id}: {target.kind} targets are evaluated from status reports")
    provisional = reading.status != ObservationStatus.FINAL or (
        related is not None and related.status != ObservationStatus.FINAL
    )
    return soften(ev) if provisional else ev


def soften(ev: Evaluation) -> Evaluation:
    """Provisional or estimated data lower a critical severity to a warning; the status itself stands."""
    if ev.severity == Severity.CRITICAL:
        return replace(ev, severity=Severity.WARNING, softened=True)
    return ev


def band_of(target: Target) -> float:
    """Half-width of the band for a 左右 or in-step target, or the behind/far-behind step for 以上 targets."""
    if "band_pp" in target.params:
        return _param(target, "band_pp", DEFAULT_BAND_PP)
    if target.kind in (Kind.LEVEL, Kind.SHARE) and target.unit != "%" and target.value:
        return _param(target, "band", abs(target.value) * DEFAULT_LEVEL_BAND_SHARE)
    return DEFAULT_BAND_PP


def goal_of(target: Target) -> float:
    """The target value in force: the catalogue value, or the provincial limit when ``value_from='province'``."""
    if target.value is not None:
        return target.value
    if target.params.get("value_from") == "province":
        return _param(target, "province_limit", float("nan"))
    raise ValueError(f"target {target.id}: no value and no params.value_from")


def expected_progress_at(target: Target, period: Period) -> float:
    """Share of the annual total expected done by the end of ``period``: the seasonal path, or the time gone."""
    profile = target.params.get("seasonal_profile")
    if isinstance(profile, list) and len(profile) == 12:
        return float(profile[period.last_month - 1])
    return period.year_fraction


def _param(target: Target, name: str, default: float) -> float:
    value = target.params.get(name, default)
    if not isinstance(value, int | float):
        raise ValueError(f"target {target.id}: params.{name} must be a number")
    return float(value)


def _goal_ladder(target: Target) -> Ladder:
    band = band_of(target)
    if target.comparator in (Comparator.ABOUT, Comparator.IN_STEP):
        return Ladder(_PROGRESS, (-2 * band, -band, band), strict_top=True)
    return Ladder(_PROGRESS, (-2 * band, 0.0, 2 * band), strict_top=True)


def _against_goal(
    target: Target, actual: float, goal: float, final: bool, previous: Status | None, margin: float
) -> tuple[Status, float]:
    """Status and signed gap (actual - goal) of a value read directly against its goal."""
    gap = actual - goal
    score = -gap if target.comparator == Comparator.AT_MOST else gap
    ladder = _goal_ladder(target)
    if final:
        met = ladder.level(score) >= ladder.rank(Status.ON_TRACK)
        return (Status.ACHIEVED if met else Status.MISSED), gap
    return Status(ladder.classify(score, previous, margin)), gap


def _rate_margin(target: Target) -> float:
    return _param(target, "hysteresis_pp", DEFAULT_RATE_HYSTERESIS_PP)


def _growth_rate(target: Target, r: Reading, previous: Status | None) -> Evaluation:
    goal = goal_of(target)
    status, gap = _against_goal(target, r.value, goal, r.is_final_annual, previous, _rate_margin(target))
    return Evaluation(status, SEVERITY_OF[status], r.value, expected=goal, goal=goal, gap_abs=round(gap, 6),
                      gap_pp=round(gap, 6), gap_rel=round(gap / goal, 6) if goal else None)


def _progress_ladder(target: Target) -> Ladder:
    tol = _param(target, "tolerance_pp", DEFAULT_PROGRESS_TOLERANCE_PP)
    far = _param(target, "far_behind_pp", DEFAULT_FAR_BEHIND_PP)
    return Ladder(_PROGRESS, (-far, -tol, tol), strict_top=True)


def _cumulative(target: Target, r: Reading, previous: Status | None) -> Evaluation:
    goal = goal_of(target)
    expected_share = expected_progress_at(target, r.period)
    progress = r.value / goal if goal else 0.0
    expected = goal * expected_share
    gap_pp = (progress - expected_share) * 100
    months_left = 12 - r.period.last_month
    if r.is_final_annual:
        status = Status.ACHIEVED if r.value >= goal else Status.MISSED
    else:
        margin = _param(target, "hysteresis_pp", DEFAULT_PROGRESS_HYSTERESIS_PP)
        status = Status(_progress_ladder(target).classify(gap_pp, previous, margin))
    projection = r.value / expected_share if 0 < expected_share < 1 else None
    run_rate = max(0.0, goal - r.value) / months_left if months_left > 0 else None
    return Evaluation(
        status, SEVERITY_OF[status], r.value, expected=round(expected, 6), goal=goal,
        gap_abs=round(r.value - expected, 6), gap_rel=round((r.value - expected) / expected, 6) if expected else None,
        gap_pp=round(gap_pp, 6), progress=round(progress, 6), expected_progress=round(expected_share, 6),
        projection=round(projection, 6) if projection is not None else None,
        run_rate_needed=round(run_rate, 6) if run_rate is not None else None,
        months_left=months_left if months_left > 0 else None,
    )


def _level(target: Target, r: Reading, previous: Status | None) -> Evaluation:
    goal = goal_of(target)
    frac = r.period.year_fraction
    baseline = target.baseline_2023 if target.baseline_2023 is not None else target.params.get("start_value")
    if frac < 1 and target.comparator != Comparator.ABOUT:
        reached = (r.value <= goal) if target.comparator == Comparator.AT_MOST else (r.value >= goal)
        if isinstance(baseline, int | float) and baseline != goal and not reached:
            # A level reached by year-end, read along the straight path from the 2023 level.
            expected_share = expected_progress_at(target, r.period)
            progress = (r.value - baseline) / (goal - baseline)
            expected = baseline + (goal - baseline) * expected_share
            gap_pp = (progress - expected_share) * 100
            margin = _param(target, "hysteresis_pp", DEFAULT_PROGRESS_HYSTERESIS_PP)
            status = Status(_progress_ladder(target).classify(gap_pp, previous, margin))
            return Evaluation(
                status, SEVERITY_OF[status], r.value, expected=round(expected, 6), goal=goal,
                gap_abs=round(r.value - expected, 6), gap_pp=round(gap_pp, 6), progress=round(progress, 6),
                expected_progress=round(expected_share, 6),
            )
        if not reached:
            # No 2023 level to draw a path from: a year-end level short of its goal mid-year says nothing yet.
            gap = r.value - goal
            return Evaluation(Status.NOT_EVALUATED, Severity.OK, r.value, expected=goal, goal=goal,
                              gap_abs=round(gap, 6), gap_pp=round(gap, 6) if target.unit == "%" else None)
    status, gap = _against_goal(target, r.value, goal, r.is_final_annual, previous, _rate_margin(target))
    return Evaluation(status, SEVERITY_OF[status], r.value, expected=goal, goal=goal, gap_abs=round(gap, 6),
                      gap_rel=round(gap / goal, 6) if goal else None,
                      gap_pp=round(gap, 6) if target.unit == "%" else None)


def _cap(target: Target, r: Reading, previous: Status | None) -> Evaluation:
    limit = goal_of(target)
    over = r.value - limit
    if r.is_final_annual:
        status = Status.ACHIEVED if over <= 0 else Status.MISSED
    else:
        warn = _param(target, "warn_margin_pp", DEFAULT_WARN_MARGIN_PP)
        ladder = Ladder(_CAP, (0.0, warn), strict_top=False)
        status = Status(ladder.classify(-over, previous, _rate_margin(target)))
    return Evaluation(status, SEVERITY_OF[status], r.value, expected=limit, goal=limit, gap_abs=round(over, 6),
                      gap_pp=round(over, 6), gap_rel=round(over / limit, 6) if limit else None)


def _relational(target: Target, r: Reading, related: Reading, previous: Status | None) -> Evaluation:
    final = r.is_final_annual and related.is_final_annual
    status, gap = _against_goal(target, r.value, related.value, final, previous, _rate_margin(target))
    return Evaluation(status, SEVERITY_OF[status], r.value, expected=related.value, goal=related.value,
                      gap_abs=round(gap, 6), gap_pp=round(gap, 6), related_actual=related.value)


__all__ = [
    "DEFAULT_BAND_PP", "SEVERITY_OF", "STATUS_ZH", "Evaluation", "Reading", "Status", "band_of", "evaluate",
    "expected_progress_at", "goal_of", "soften",
]
