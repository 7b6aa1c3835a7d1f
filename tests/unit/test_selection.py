"""Which figures an evaluation stands on (services/evaluator/domain/selection.py), as tables: the series each
kind of target reads, which figures are usable, and which months a relational target compares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.evaluator.domain.model import Reading, Status
from services.evaluator.domain.selection import Inputs, TargetSeries, assess, series_of, usable
from shared.catalogue import load_catalogue
from shared.catalogue.model import Indicator, Measure
from shared.messages import ObservationStatus
from shared.periods import Period

CAT = load_catalogue()
PROV, EST = ObservationStatus.PROVISIONAL, ObservationStatus.ESTIMATED


def _series(target_id: str, **changes: object) -> TargetSeries:
    t = CAT.targets[target_id].model_copy(update=changes) if changes else CAT.targets[target_id]
    return series_of(t, CAT.indicators[str(t.indicator)])


@pytest.mark.parametrize(("target_id", "series"), [
    # a cumulative growth rate: last year's levels weigh the growth still needed
    ("gdp_growth", TargetSeries(("gdp", "cumulative_yoy_pct"), previous_year=("gdp", "cumulative_level"))),
    ("tech_enterprise_loans_growth", TargetSeries(("tech_enterprise_loans", "yoy_pct"))),  # a monthly rate
    # along last year's path, or a stock from last year's end level: last year's own series
    ("fixed_asset_investment_total", TargetSeries(("fixed_asset_investment", "cumulative_level"),
                                                  previous_year=("fixed_asset_investment", "cumulative_level"))),
    ("deposits_and_loans_5tn", TargetSeries(("deposits_and_loans", "level"),
                                            previous_year=("deposits_and_loans", "level"))),
    ("rural_sewage_operation_rate", TargetSeries(("rural_sewage_operation_rate", "level"))),  # judged at year end
    ("urban_new_jobs", TargetSeries(("urban_new_jobs", "cumulative_level"))),  # linear: nothing of last year
    ("income_in_step_with_growth", TargetSeries(("disposable_income", "cumulative_yoy_pct"),
                                                related=("gdp", "cumulative_yoy_pct"),
                                                deflator=("cpi", "cumulative_yoy_pct"))),
])
def test_the_series_a_target_reads(target_id: str, series: TargetSeries) -> None:
    assert _series(target_id) == series


def test_a_relational_targets_own_related_measure_and_no_deflator() -> None:
    params = {**CAT.targets["income_in_step_with_growth"].params, "related_measure": "yoy_pct"}
    assert _series("income_in_step_with_growth", params=params).related == ("gdp", "yoy_pct")
    nominal = {k: v for k, v in params.items() if k not in ("deflator", "related_measure")}
    got = _series("income_in_step_with_growth", params=nominal)
    assert got.related == ("gdp", "cumulative_yoy_pct") and got.deflator is None


def test_a_growth_rate_without_levels_has_no_weights_to_read() -> None:
    t = CAT.targets["gdp_growth"]
    rates_only = Indicator.model_validate({**CAT.indicators["gdp"].model_dump(), "measures": ["cumulative_yoy_pct"]})
    assert series_of(t, rates_only).previous_year is None


def _r(period: str, value: float = 5.0, status: ObservationStatus = PROV, recorded_at: datetime | None = None,
       ) -> Reading:
    return Reading(value, Period.parse(period), status, recorded_at=recorded_at)


@pytest.mark.parametrize(("reading", "ok"), [
    (_r("2024-M06"), True),
    (_r("2024-M06", status=EST), True),  # an estimate mid-year: used, its severity softened
    (_r("2024-M12", status=EST), False),  # a 预计 full-year figure is never the basis of the status
    (_r("2024", status=EST), False),
    # recorded after the period ended, in China's time: 01:00 on 1 July in Wuxi is still 30 June in UTC
    (_r("2024-M06", recorded_at=datetime(2024, 6, 30, 17, 0, tzinfo=UTC)), True),
    (_r("2024-M06", recorded_at=datetime(2024, 6, 30, 15, 0, tzinfo=UTC)), False),  # 23:00 on 30 June in Wuxi
    (_r("2024-M06", recorded_at=datetime(2024, 6, 30, 23, 30)), False),  # a naive time is China's own
    (_r("2024-M06", recorded_at=datetime(2024, 7, 1, 0, 30)), True),
])
def test_which_figures_are_usable(reading: Reading, ok: bool) -> None:
    assert usable(reading) is ok


INCOME = CAT.targets["income_in_step_with_growth"]
NOMINAL = INCOME.model_copy(update={"params": {k: v for k, v in INCOME.params.items() if k != "deflator"}})


def test_a_relational_target_compares_the_latest_months_both_series_have() -> None:
    series = series_of(NOMINAL, CAT.indicators["disposable_income"])
    inputs = Inputs(own=[_r("2024-Q1", 5.0), _r("2024-S1", 5.1)], related=[_r("2024-Q1", 5.3), _r("2024-Q2", 5.2)])
    got = assess(NOMINAL, series, inputs, None)
    assert got is not None and (got.reading.period.code, got.related and got.related.period.code) == ("2024-S1",
                                                                                                     "2024-Q2")
    assert got.evaluation.related_actual == 5.2 and got.deflator is None


def test_on_a_monthly_basis_the_longest_span_ending_latest_is_compared() -> None:
    """Growth of the month alone (yoy_pct): 2024-Q2 covers April to June, 2024-M06 June only; both end in June,
    the quarter is the wider comparison."""
    t = NOMINAL.model_copy(update={"measure": Measure.YOY_PCT,
                                   "params": {**NOMINAL.params, "related_measure": "yoy_pct"}})
    series = series_of(t, CAT.indicators["disposable_income"])
    inputs = Inputs(own=[_r("2024-M06", 4.0), _r("2024-Q2", 5.0)], related=[_r("2024-M06", 4.0), _r("2024-Q2", 5.0)])
    got = assess(t, series, inputs, None)
    assert got is not None and got.reading.period.code == "2024-Q2"


def test_a_real_terms_target_waits_for_the_price_index_of_the_same_months() -> None:
    series = series_of(INCOME, CAT.indicators["disposable_income"])
    inputs = Inputs(own=[_r("2024-S1", 6.0)], related=[_r("2024-Q2", 5.0)], deflator=[_r("2024-M05", 0.5)])
    assert assess(INCOME, series, inputs, None) is None
    got = assess(INCOME, series, Inputs(own=inputs.own, related=inputs.related,
                                        deflator=[_r("2024-M05", 0.5), _r("2024-M06", 0.5)]), None)
    assert got is not None and got.deflator is not None and got.deflator.period.code == "2024-M06"


def test_a_relational_verdict_holds_within_its_margin() -> None:
    series = series_of(NOMINAL, CAT.indicators["disposable_income"])
    inputs = Inputs(own=[_r("2024-S1", 4.05)], related=[_r("2024-S1", 5.0)])  # 0.95 pp slower: just inside 滞后
    held = assess(NOMINAL, series, inputs, Status.FAR_BEHIND)
    fresh = assess(NOMINAL, series, inputs, None)
    assert held is not None and fresh is not None
    assert (held.evaluation.status, fresh.evaluation.status) == (Status.FAR_BEHIND, Status.BEHIND)


def test_nothing_to_stand_on_yet() -> None:
    assert assess(CAT.targets["gdp_growth"], _series("gdp_growth"), Inputs(), None) is None
    assert assess(CAT.targets["gdp_growth"], _series("gdp_growth"),
                  Inputs(own=[_r("2024-M12", status=EST)]), None) is None
    series = series_of(NOMINAL, CAT.indicators["disposable_income"])
    assert assess(NOMINAL, series, Inputs(own=[_r("2024-S1")], related=[_r("2024-Q1")]), None) is None
