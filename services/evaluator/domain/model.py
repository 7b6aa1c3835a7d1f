"""The evaluator's domain types and defaults: statuses, readings, evaluations. Pure: no I/O.

Every default below can be overridden per target in the catalogue's ``params``; docs/reading-rules.md gives
each one with the official phrase it implements and why it is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from shared.catalogue.model import Strength, Target
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

# Half-width of the band around a "X%左右" growth or share target, in percentage points (params.band_pp).
# Chinese statistical practice reads 0.5 pp as within "about": 5.0%-6.0% meets "5.5%左右", and 0.5 pp is the
# smallest step in which Wuxi and Jiangsu set growth targets, so a narrower band would call noise a miss.
# For 以上 targets, the same 0.5 pp is the step: below the floor is 滞后, more than 2 steps (1 pp) 严重滞后.
DEFAULT_BAND_PP = 0.5
# Cumulative progress may trail the expected progress (序时进度) by this many percentage points and still be
# on schedule (params.tolerance_pp): a month's work moves a year's progress by about 8 pp, so 3 pp is well
# inside one month; more than 10 pp short (params.far_behind_pp) is over a month behind. At the year's end
# there is no tolerance: the target is met or not.
DEFAULT_PROGRESS_TOLERANCE_PP = 3.0
DEFAULT_FAR_BEHIND_PP = 10.0
# A hard cap without a band warns when the value comes within this many points of it (params.warn_margin_pp).
DEFAULT_WARN_MARGIN_PP = 0.5
# Hysteresis (params.hysteresis_pp) on the evaluator's own boundaries (严重滞后 from 滞后, a 以上 target's 超前,
# a cap's warning zone, the 序时进度 tolerance), never on an official one (a 左右 band's edges, a 以上 floor, a
# cap's limit): a status improves across an own boundary only once the value clears it by the margin. 0.1 pp
# is one published step of a rate; progress shares move in larger steps, so they need 1 pp.
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

# Severity of each status; a missed target depends on its strength (see ``severity_of``).
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


def severity_of(status: Status, strength: Strength, *, far_off: bool = False) -> Severity:
    """Missing a binding target is critical; missing an expected one is a warning unless far off."""
    if status == Status.MISSED:
        return Severity.CRITICAL if strength == Strength.BINDING or far_off else Severity.WARNING
    return SEVERITY_OF[status]


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
    def is_year_end(self) -> bool:
        """A figure reaching December: for a year-to-date measure or a stock, the year's figure."""
        return self.period.is_year_end


@dataclass(frozen=True)
class Hold:
    """A status held by hysteresis: what the figure alone would give, and the score that releases it."""

    raw: Status  # the status without hysteresis
    release: float  # the score (in the ladder's units) the value must reach
    strict: bool  # whether it must exceed ``release`` rather than reach it


@dataclass(frozen=True)
class Evaluation:
    """The verdict on a target for one period, with every figure the message states."""

    status: Status
    severity: Severity
    actual: float | None
    expected: float | None = None  # expected by the period end (the goal itself for rates, caps, levels)
    goal: float | None = None  # the annual target value in force (a cap's provincial limit, …)
    gap_abs: float | None = None  # actual - expected, in the target's unit
    gap_rel: float | None = None  # gap_abs / expected
    gap_pp: float | None = None  # percentage points: rate gap, or progress minus expected progress
    progress: float | None = None  # share of the annual target done (of the rise, for a stock)
    expected_progress: float | None = None  # share expected by the period end (序时进度)
    projection: float | None = None  # year-end value at the current pace, rounded as the message states it
    run_rate_needed: float | None = None  # per remaining month, to reach the goal
    months_left: int | None = None
    related_actual: float | None = None  # the related indicator's value, for relational targets
    softened: bool = False  # severity lowered because the data is an estimate (预计数)
    year_end: bool = False  # a year-end verdict (已完成 / 未完成)
    far_off: bool = False  # missed or behind by more than the far-behind step
    held: Hold | None = None  # the status is held by hysteresis
    linear_progress: float | None = None  # the share of the year gone, when a path sets expected_progress
    path: str | None = None  # what set expected_progress: linear, previous_year, linear_no_data, batch
    next_period_needed: float | None = None  # along a path: what the next period must add
    growth_needed: float | None = None  # growth rates behind their band: growth the rest of the year needs
    growth_weight: float | None = None  # the share of last year's level already covered (None: equal weights)
    nominal: float | None = None  # relational on a real basis: the nominal growth before deflation
    deflator: float | None = None  # and the price rise it was deflated by
    start: float | None = None  # stocks: the level at the last year's end the path starts from
    start_from_data: bool = False  # whether that level came from a figure sent (else the report's)


def soften(ev: Evaluation) -> Evaluation:
    """An estimate (预计数) lowers a critical severity to a warning; the status itself stands."""
    if ev.severity == Severity.CRITICAL:
        return replace(ev, severity=Severity.WARNING, softened=True)
    return ev


def param(target: Target, name: str, default: float) -> float:
    """A numeric parameter of the target, or its default."""
    value = target.params.get(name, default)
    if not isinstance(value, int | float):
        raise ValueError(f"target {target.id}: params.{name} must be a number")
    return float(value)


def goal_of(target: Target) -> float:
    """The target value in force: the catalogue value, or the provincial limit when ``value_from='province'``."""
    if target.value is not None:
        return target.value
    if target.params.get("value_from") == "province":
        return param(target, "province_limit", float("nan"))
    raise ValueError(f"target {target.id}: no value and no params.value_from")


def band_of(target: Target) -> float:
    """Half-width of a 左右 band, or the behind / far-behind step of a 以上 target (percentage points)."""
    return param(target, "band_pp", DEFAULT_BAND_PP)
