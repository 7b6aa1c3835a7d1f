"""How officials read a target's progress: a pure function per kind of target.

Growth rates compare the latest cumulative year-on-year growth (1—N月累计同比) with the target; annual
totals and counts compare cumulative progress with the share of the year gone (时序进度, "时间过半、任务过半")
and project the year-end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.catalogue.model import Comparator, Kind, Target
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

# Half-width of the band around a "X%左右" growth target, in percentage points, when the catalogue sets none.
# Chinese statistical practice reads 0.5 pp as within "about": 5.0%-6.0% meets "5.5%左右".
DEFAULT_BAND_PP = 0.5
# Cumulative progress may trail the time gone by this many percentage points and still be on track.
DEFAULT_PROGRESS_TOLERANCE_PP = 3.0


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


STATUS_ZH = {
    Status.AHEAD: "超前",
    Status.ON_TRACK: "符合进度",
    Status.BEHIND: "滞后",
    Status.FAR_BEHIND: "严重滞后",
    Status.NEAR_CAP: "接近上限",
    Status.BREACHED: "突破上限",
    Status.ACHIEVED: "已完成",
    Status.MISSED: "未完成",
    Status.NOT_EVALUATED: "未评估",
}

SEVERITY_OF = {
    Status.AHEAD: Severity.OK,
    Status.ON_TRACK: Severity.OK,
    Status.ACHIEVED: Severity.OK,
    Status.NOT_EVALUATED: Severity.OK,
    Status.BEHIND: Severity.WARNING,
    Status.NEAR_CAP: Severity.WARNING,
    Status.FAR_BEHIND: Severity.CRITICAL,
    Status.BREACHED: Severity.CRITICAL,
    Status.MISSED: Severity.CRITICAL,
}


@dataclass(frozen=True)
class Reading:
    """The figure an evaluation uses: a value for a period, with its status and vintage."""

    value: float
    period: Period
    status: ObservationStatus
    observation_id: str | None = None
    vintage: int | None = None


@dataclass(frozen=True)
class Evaluation:
    """The verdict on a target for one period."""

    status: Status
    severity: Severity
    actual: float | None
    expected: float | None = None
    gap_abs: float | None = None
    gap_rel: float | None = None
    gap_pp: float | None = None
    progress: float | None = None
    expected_progress: float | None = None
    projection: float | None = None
    run_rate_needed: float | None = None


def evaluate(target: Target, reading: Reading) -> Evaluation:
    """Evaluate a quantitative target from its latest reading."""
    if target.kind == Kind.GROWTH_RATE:
        return _growth_rate(target, reading)
    if target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT):
        return _cumulative(target, reading)
    return Evaluation(Status.NOT_EVALUATED, Severity.OK, reading.value)


def _growth_rate(target: Target, r: Reading) -> Evaluation:
    assert target.value is not None
    goal = target.value
    gap = r.value - goal
    if target.comparator == Comparator.ABOUT:
        band = float(target.params.get("band_pp", DEFAULT_BAND_PP))  # type: ignore[arg-type]
        if gap >= band:
            status = Status.AHEAD
        elif gap >= -band:
            status = Status.ON_TRACK
        elif gap >= -2 * band:
            status = Status.BEHIND
        else:
            status = Status.FAR_BEHIND
    else:  # at least
        status = Status.ON_TRACK if gap >= 0 else (Status.BEHIND if gap >= -1.0 else Status.FAR_BEHIND)
    if r.period.year_fraction >= 1.0 and r.status == ObservationStatus.FINAL:
        status = Status.ACHIEVED if status in (Status.AHEAD, Status.ON_TRACK) else Status.MISSED
    return Evaluation(status, SEVERITY_OF[status], r.value, expected=goal, gap_abs=round(gap, 6),
                      gap_pp=round(gap, 6), gap_rel=round(gap / goal, 6) if goal else None)


def _cumulative(target: Target, r: Reading) -> Evaluation:
    assert target.value is not None
    goal = target.value
    frac = r.period.year_fraction
    progress = r.value / goal if goal else 0.0
    expected = goal * frac
    gap_pp = (progress - frac) * 100
    tolerance = float(target.params.get("tolerance_pp", DEFAULT_PROGRESS_TOLERANCE_PP))  # type: ignore[arg-type]
    if gap_pp >= tolerance:
        status = Status.AHEAD
    elif gap_pp >= -tolerance:
        status = Status.ON_TRACK
    elif gap_pp >= -3 * tolerance:
        status = Status.BEHIND
    else:
        status = Status.FAR_BEHIND
    months_left = 12 - r.period.last_month
    if frac >= 1.0:
        status = Status.ACHIEVED if r.value >= goal else Status.MISSED
    projection = r.value / frac if frac > 0 else None
    run_rate = max(0.0, goal - r.value) / months_left if months_left > 0 else None
    return Evaluation(
        status, SEVERITY_OF[status], r.value, expected=round(expected, 6), gap_abs=round(r.value - expected, 6),
        gap_rel=round((r.value - expected) / expected, 6) if expected else None, gap_pp=round(gap_pp, 6),
        progress=round(progress, 6), expected_progress=round(frac, 6),
        projection=round(projection, 6) if projection is not None else None,
        run_rate_needed=round(run_rate, 6) if run_rate is not None else None,
    )
