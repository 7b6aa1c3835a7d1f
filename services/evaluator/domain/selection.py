"""Which figures an evaluation stands on. Pure.

- A figure is usable unless it is an estimate for the whole year (a 预计 full-year figure is never the basis of
  the status) or it was recorded before its period ended (it would freeze the target mid-year).
- The latest figure of a series is the latest usable period in the one total order on periods (Period): at
  the same end month the coarser period wins, so 2024-S1 over 2024-Q2 over 2024-M06.
- A relational target pairs figures covering the same months (2024-S1 with 2024-Q2 and 2024-M06 for
  year-to-date measures), at the latest months every series it needs has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.catalogue.model import Accrual, Indicator, Kind, Measure, Schedule, Target
from shared.clock import CHINA_TZ
from shared.messages import ObservationStatus

from .evaluation import evaluate
from .model import Evaluation, Reading, Status

Series = tuple[str, str]  # (indicator id, measure)
_CUMULATIVE = frozenset({Measure.CUMULATIVE_LEVEL, Measure.CUMULATIVE_YOY_PCT})


@dataclass(frozen=True)
class TargetSeries:
    """The series a target's evaluation reads: its own, and those that relate, deflate or shape it."""

    own: Series
    related: Series | None = None  # relational: the indicator compared with
    deflator: Series | None = None  # relational on a real basis: the price index deflating the own growth
    previous_year: Series | None = None  # last year's figures: a path, growth weights, a stock's start


@dataclass(frozen=True)
class Inputs:
    """The figures of a target's series that the store holds (this year's; last year's for previous_year)."""

    own: Sequence[Reading] = ()
    related: Sequence[Reading] = ()
    deflator: Sequence[Reading] = ()
    previous_year: Sequence[Reading] = ()


@dataclass(frozen=True)
class Assessment:
    """The figures a target's evaluation stands on, and the evaluation."""

    reading: Reading
    evaluation: Evaluation
    related: Reading | None = None
    deflator: Reading | None = None


def series_of(target: Target, indicator: Indicator) -> TargetSeries:
    """The series a quantitative target reads (``indicator`` is its own indicator)."""
    own = (indicator.id, str(target.measure))
    related = deflator = previous = None
    if target.kind == Kind.RELATIONAL:
        related = (str(target.params["related_indicator"]), str(target.params.get("related_measure", target.measure)))
        if isinstance(target.params.get("deflator"), str):
            deflator = (str(target.params["deflator"]), str(target.measure))
    elif target.kind == Kind.GROWTH_RATE and target.measure == Measure.CUMULATIVE_YOY_PCT \
            and Measure.CUMULATIVE_LEVEL in indicator.measures:
        previous = (indicator.id, Measure.CUMULATIVE_LEVEL.value)  # weights of the growth still needed
    elif target.schedule == Schedule.PREVIOUS_YEAR_PATH or (
            target.accrual == Accrual.STOCK and target.schedule == Schedule.LINEAR):
        previous = own  # last year's 1—N月 shape, or its year-end level
    return TargetSeries(own, related, deflator, previous)


def usable(r: Reading) -> bool:
    """Whether a figure may be the basis of a status (see the module docstring)."""
    if r.status == ObservationStatus.ESTIMATED and r.period.is_year_end:
        return False
    if r.recorded_at is not None:
        recorded = r.recorded_at.astimezone(CHINA_TZ).date() if r.recorded_at.tzinfo else r.recorded_at.date()
        if not r.period.has_ended(recorded):
            return False
    return True


def latest(readings: Sequence[Reading]) -> Reading | None:
    """The latest usable figure of a series."""
    found = [r for r in readings if usable(r)]
    return max(found, key=lambda r: r.period) if found else None


def _by_months(readings: Sequence[Reading], cumulative: bool) -> dict[tuple[int, int], Reading]:
    """The latest usable figure for each span of months covered."""
    out: dict[tuple[int, int], Reading] = {}
    for r in readings:
        if not usable(r):
            continue
        key = r.period.months(cumulative=cumulative)
        if key not in out or r.period > out[key].period:
            out[key] = r
    return out


def assess(target: Target, series: TargetSeries, inputs: Inputs, previous: Status | None) -> Assessment | None:
    """Choose the figures a target stands on and evaluate it; None while they are not all there."""
    if target.kind != Kind.RELATIONAL:
        reading = latest(inputs.own)
        if reading is None:
            return None
        ev = evaluate(target, reading, previous_year=inputs.previous_year, previous=previous)
        return Assessment(reading, ev)
    cumulative = target.measure in _CUMULATIVE
    own, rel = _by_months(inputs.own, cumulative), _by_months(inputs.related, cumulative)
    common = set(own) & set(rel)
    defl: dict[tuple[int, int], Reading] = {}
    if series.deflator is not None:
        defl = _by_months(inputs.deflator, cumulative)
        common &= set(defl)  # real against real: no comparison before the price index for the same months
    if not common:
        return None
    months = max(common, key=lambda m: (m[1], m[1] - m[0]))
    reading, related, deflator = own[months], rel[months], defl.get(months)
    ev = evaluate(target, reading, related=related, deflator=deflator, previous=previous)
    return Assessment(reading, ev, related, deflator)
