from datetime import date

import pytest

from shared.catalogue.model import Frequency
from shared.periods import Period, PeriodError


@pytest.mark.parametrize(
    ("code", "freq", "last_month", "fraction", "end", "label_cum"),
    [
        ("2024", Frequency.ANNUAL, 12, 1.0, date(2024, 12, 31), "2024年全年"),
        ("2024-S1", Frequency.HALF_YEARLY, 6, 0.5, date(2024, 6, 30), "2024年上半年"),
        ("2024-Q1", Frequency.QUARTERLY, 3, 0.25, date(2024, 3, 31), "2024年一季度"),
        ("2024-Q3", Frequency.QUARTERLY, 9, 0.75, date(2024, 9, 30), "2024年前三季度"),
        ("2024-M02", Frequency.MONTHLY, 2, 2 / 12, date(2024, 2, 29), "2024年1—2月"),  # leap year, combined release
        ("2024-M11", Frequency.MONTHLY, 11, 11 / 12, date(2024, 11, 30), "2024年1—11月"),
    ],
)
def test_periods_parse_and_describe_themselves(code, freq, last_month, fraction, end, label_cum) -> None:
    p = Period.parse(code)
    assert (p.frequency, p.last_month, p.end_date(), p.code) == (freq, last_month, end, code)
    assert p.year_fraction == pytest.approx(fraction)
    assert p.label_zh(cumulative=True) == label_cum


def test_single_month_and_quarter_labels() -> None:
    assert Period.parse("2024-M03").label_zh(cumulative=False) == "2024年3月"
    assert Period.parse("2024-Q2").label_zh(cumulative=False) == "2024年二季度"


@pytest.mark.parametrize(
    ("code", "rule"),
    [("2024-Q5", "between 1 and 4"), ("2024-M13", "between 1 and 12"), ("2024-M00", "between 1 and 12"),
     ("2024-M3", "two digits"), ("2024-S3", "between 1 and 2"), ("24-Q1", "not a period code"),
     ("2024Q1", "not a period code"), ("", "not a period code"), ("1900", "between 1990 and 2100")],
)
def test_bad_periods_name_the_rule(code: str, rule: str) -> None:
    with pytest.raises(PeriodError, match=rule):
        Period.parse(code)
