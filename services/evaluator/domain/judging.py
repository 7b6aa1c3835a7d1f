"""What a figure that just arrived does to a target: which targets it moves, and their verdict and sentence.

Pure: the use case (services/evaluator/service.py) loads the figures from the store and records the result;
the golden table (tests/golden/verdicts.csv) runs the same functions on figures held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.catalogue import Catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Target
from shared.messages import Severity
from shared.periods import Period

from .messages_zh import Composed, Context, compose_parts
from .model import Status
from .selection import Assessment, Inputs, TargetSeries, assess, series_of

ROLES = ("own", "related", "deflator", "previous_year")


@dataclass(frozen=True)
class Arrival:
    """The figure that just arrived (what the message says about a revision comes from it)."""

    indicator: str
    measure: str
    period: Period
    vintage: int
    previous_value: float | None = None


@dataclass(frozen=True)
class Judgement:
    """A target's new evaluation, the figures it stands on and its sentence."""

    assessment: Assessment
    composed: Composed
    is_revision: bool
    revised_from: float | None


def roles_of(catalogue: Catalogue, arrival: Arrival) -> list[tuple[Target, TargetSeries, str]]:
    """The targets a figure moves, with the part it plays in each: own, related, deflator or previous_year."""
    key = (arrival.indicator, arrival.measure)
    out = []
    for target in catalogue.targets_for_indicator(arrival.indicator):
        if target.kind not in QUANTITATIVE_KINDS or target.indicator is None:
            continue  # qualitative targets carry an indicator for context only
        series = series_of(target, catalogue.indicators[target.indicator])
        role: str | None = None
        if arrival.period.year == catalogue.year:
            role = next((name for name, s in (("own", series.own), ("related", series.related),
                                              ("deflator", series.deflator)) if s == key), None)
        elif arrival.period.year == catalogue.year - 1 and series.previous_year == key:
            role = "previous_year"
        if role is not None:
            out.append((target, series, role))
    return out


def judge(
    catalogue: Catalogue, target: Target, series: TargetSeries, role: str, inputs: Inputs,
    state: tuple[Status, Severity] | None, arrival: Arrival,
) -> Judgement | None:
    """The target's evaluation after ``arrival``; None when the figure does not move it.

    A figure for an earlier period than the one the target stands on changes nothing; last year's figures
    (a path, growth weights, a stock's start) re-evaluate the current figure.
    """
    previous, previous_severity = state if state is not None else (None, None)
    assessed = assess(target, series, inputs, previous)
    if assessed is None:
        return None  # nothing to stand on yet (no figure, or not every series of a relational target)
    used = {"own": assessed.reading, "related": assessed.related, "deflator": assessed.deflator}.get(role)
    if role != "previous_year" and (used is None or used.period != arrival.period):
        return None
    is_revision = role != "previous_year" and arrival.vintage > 1
    revised_from = arrival.previous_value if is_revision else None
    indicator = catalogue.indicators[str(target.indicator)]
    ctx = Context(
        lead_zh=catalogue.department_name(target.lead_department),
        co_zh=tuple(catalogue.department_name(d) for d in target.co_departments),
        previous=previous, previous_severity=previous_severity, is_revision=is_revision, revised_from=revised_from,
        indicator_name_zh=indicator.name_zh,
        related_name_zh=catalogue.indicators[series.related[0]].name_zh if series.related else None,
        deflator_name_zh=catalogue.indicators[series.deflator[0]].name_zh.removesuffix("涨幅")
        if series.deflator else None,
        related=assessed.related, deflator=assessed.deflator, provisional_zh=indicator.provisional_zh,
        at_date=indicator.at_date,
    )
    composed = compose_parts(target, assessed.reading, assessed.evaluation, ctx)
    return Judgement(assessed, composed, is_revision, revised_from)
