"""Which targets a figure moves, and as what: a table of arrivals (services/evaluator/domain/judging.py).

A figure of this year moves the targets that read it as their own figure, as the related growth of a
relational target or as its deflator; a figure of last year moves the targets that read last year's path,
weights or start from it; anything else (two years back, last year's figure of a series no target reads as
last year's, a qualitative target's context indicator) moves nothing.
"""

from __future__ import annotations

import pytest

from services.evaluator.domain.judging import Arrival, judge, roles_of
from services.evaluator.domain.model import Reading
from services.evaluator.domain.selection import Inputs
from shared.catalogue import load_catalogue
from shared.messages import ObservationStatus
from shared.periods import Period

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(("indicator", "measure", "period", "roles"), [
    ("gdp", "cumulative_yoy_pct", "2024-Q1", {("gdp_growth", "own"), ("income_in_step_with_growth", "related")}),
    ("cpi", "cumulative_yoy_pct", "2024-M06", {("cpi_within_provincial_limit", "own"),
                                               ("income_in_step_with_growth", "deflator")}),
    ("fixed_asset_investment", "cumulative_level", "2023-M06", {("fixed_asset_investment_total", "previous_year")}),
    ("gdp", "cumulative_level", "2023-Q1", {("gdp_growth", "previous_year")}),  # growth weights
    ("fixed_asset_investment", "cumulative_level", "2022-M06", set()),  # two years back
    ("cpi", "cumulative_yoy_pct", "2023-M06", set()),  # last year's growth: no target reads it
    ("gdp", "cumulative_level", "2024-Q1", set()),  # this year's level of a growth target
    ("foreign_trade", "cumulative_level", "2024-M06", set()),  # 外贸稳中提质 is qualitative: context only
    ("fixed_asset_investment", "cumulative_level", "2025-M06", set()),  # next year's
])
def test_the_targets_a_figure_moves(indicator: str, measure: str, period: str, roles: set[tuple[str, str]]) -> None:
    found = roles_of(CATALOGUE, Arrival(indicator, measure, Period.parse(period), vintage=1))
    assert {(t.id, role) for t, _, role in found} == roles
    assert all(role in ("own", "related", "deflator", "previous_year") for _, _, role in found)


def _gdp(period: str, value: float, vintage: int = 1) -> Reading:
    return Reading(value, Period.parse(period), ObservationStatus.PROVISIONAL, vintage=vintage)


def _judge(inputs: Inputs, arrival: Arrival):  # type: ignore[no-untyped-def]
    [(target, series, role)] = [x for x in roles_of(CATALOGUE, arrival) if x[0].id == "gdp_growth"]
    return judge(CATALOGUE, target, series, role, inputs, None, arrival)


def test_a_revised_figure_is_said_to_be_a_revision_of_the_value_it_replaces() -> None:
    j = _judge(Inputs(own=[_gdp("2024-Q1", 4.9, vintage=2)]),
               Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q1"), vintage=2, previous_value=5.1))
    assert (j.is_revision, j.revised_from) == (True, 5.1)
    assert "本次评估依据修订后的数据（第2版，由5.1%修订为4.9%）。" in j.composed.text
    first = _judge(Inputs(own=[_gdp("2024-Q1", 4.9)]),
                   Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q1"), vintage=1))
    assert (first.is_revision, first.revised_from) == (False, None) and "修订" not in first.composed.text


def test_last_years_figure_re_reads_the_current_one_and_is_no_revision() -> None:
    inputs = Inputs(own=[_gdp("2024-Q1", 4.6)], previous_year=[_gdp("2023-Q1", 25.0), _gdp("2023-Q4", 100.0)])
    j = _judge(inputs, Arrival("gdp", "cumulative_level", Period.parse("2023-Q1"), vintage=2, previous_value=24.0))
    assert j is not None and (j.is_revision, j.revised_from) == (False, None)
    assert j.assessment.reading.period == Period.parse("2024-Q1")
    assert j.assessment.evaluation.growth_weight == 0.25


def test_a_figure_for_an_earlier_period_than_the_one_stood_on_moves_nothing() -> None:
    inputs = Inputs(own=[_gdp("2024-Q1", 4.9), _gdp("2024-Q2", 5.2)])
    assert _judge(inputs, Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q1"), vintage=2)) is None
    assert _judge(inputs, Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q2"), vintage=1)) is not None
    assert _judge(Inputs(), Arrival("gdp", "cumulative_yoy_pct", Period.parse("2024-Q2"), vintage=1)) is None
