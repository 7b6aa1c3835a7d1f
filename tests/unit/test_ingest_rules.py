from datetime import date

import pytest

from services.ingest.domain.observations import Checked, Outcome, Submission, check_submission, decide
from shared.catalogue import load_catalogue

TODAY = date(2024, 7, 20)
CAT = load_catalogue()


def sub(**kw) -> Submission:
    base = dict(indicator="gdp", region="wuxi", period="2024-Q1", measure="cumulative_yoy_pct", value=4.9,
                unit="%", status="provisional")
    base.update(kw)
    return Submission(**base)


def rules(s: Submission) -> set[tuple[str, str]]:
    out = check_submission(CAT, 0, s, TODAY)
    assert isinstance(out, list), "expected rejection"
    return {(e.field, e.rule) for e in out}


def test_a_growth_on_the_indicator_s_own_basis_passes() -> None:
    assert isinstance(check_submission(CAT, 0, sub(growth_basis="real"), TODAY), Checked)
    ok = check_submission(CAT, 0, sub(indicator="disposable_income", value=5.1, growth_basis="nominal"), TODAY)
    assert isinstance(ok, Checked)
    [err] = check_submission(CAT, 0, sub(indicator="disposable_income", value=3.6, growth_basis="real"), TODAY)
    assert "居民人均可支配收入按名义增长（现价）报送和评估，不接受实际增长" in err.message_zh


def test_a_good_observation_passes_and_converts_units() -> None:
    ok = check_submission(CAT, 0, sub(measure="cumulative_level", value=3_1000_000.0, unit="万元"), TODAY)
    assert isinstance(ok, Checked)
    assert ok.value == pytest.approx(3100.0) and ok.unit == "亿元"
    assert ok.series_key == "gdp|wuxi|2024-Q1|cumulative_level"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"indicator": "gpd"}, ("indicator", "unknown_indicator")),
        ({"region": "shanghai"}, ("region", "unknown_region")),
        ({"period": "2024-Q5"}, ("period", "period_format")),
        ({"period": "2024-M13"}, ("period", "period_format")),
        ({"period": "2024-Q4"}, ("period", "period_in_future")),
        ({"period": "2024-M03"}, ("period", "period_frequency")),  # GDP is quarterly
        ({"value": float("nan")}, ("value", "finite")),
        ({"value": float("inf")}, ("value", "finite")),
        ({"value": 5000.0}, ("value", "plausible_range")),
        ({"unit": "亿元"}, ("unit", "unit_mismatch")),
        ({"measure": "yoy_pct"}, ("measure", "measure_not_reported")),
        ({"measure": "cumulative_level", "unit": "亿美元", "value": 1.0}, ("unit", "unit_mismatch")),
        ({"measure": "cumulative_level", "unit": "亿元", "value": 1e9}, ("value", "plausible_range")),
        # Income is read as nominal growth against GDP's real one, deflated by the CPI: a real figure would
        # pair unlike with unlike (issue 10, problem 7).
        ({"indicator": "disposable_income", "value": 3.6, "growth_basis": "real"},
         ("growth_basis", "growth_basis_mismatch")),
        ({"growth_basis": "nominal"}, ("growth_basis", "growth_basis_mismatch")),  # GDP growth is real
        ({"growth_basis": "constant"}, ("growth_basis", "growth_basis_value")),
        ({"measure": "cumulative_level", "unit": "亿元", "value": 3000.0, "growth_basis": "real"},
         ("growth_basis", "growth_basis_not_a_growth")),
    ],
)
def test_each_rule_names_the_field(kw: dict, expected: tuple[str, str]) -> None:
    assert expected in rules(sub(**kw))


@pytest.mark.parametrize(
    ("period", "today"),
    [("2024", date(2024, 7, 20)),  # an annual figure before the year ends (issue 10, problem 8)
     ("2024", date(2024, 12, 31)),  # the last day still belongs to the year
     ("2024-Q3", date(2024, 7, 20)),  # a quarter under way
     ("2024-S2", date(2024, 12, 31))],
)
def test_a_period_that_has_not_ended_is_refused(period: str, today: date) -> None:
    out = check_submission(CAT, 0, sub(period=period), today)
    assert isinstance(out, list)
    [err] = out
    assert (err.field, err.rule) == ("period", "period_not_ended")
    assert period in err.message and period in err.message_zh and "尚未结束" in err.message_zh


def test_a_period_is_accepted_the_day_after_it_ends() -> None:
    assert isinstance(check_submission(CAT, 0, sub(period="2024"), date(2025, 1, 1)), Checked)


def test_every_error_of_a_row_is_reported_at_once() -> None:
    found = rules(sub(indicator="gpd", region="x", period="2024-Q9", value=float("nan")))
    assert {f for f, _ in found} == {"indicator", "region", "period", "value"}


def test_revision_decisions() -> None:
    c = check_submission(CAT, 0, sub(), TODAY)
    assert isinstance(c, Checked)
    assert decide(None, None, c) == Outcome.CREATED
    assert decide(4.9, "provisional", c) == Outcome.UNCHANGED
    assert decide(5.0, "provisional", c) == Outcome.REVISED
    assert decide(4.9, "final", c) == Outcome.REVISED  # a status change is a new vintage too
