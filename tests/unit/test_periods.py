from datetime import date

import pytest

from shared.catalogue.model import Frequency
from shared.periods import Period, PeriodError
from shared.wording import period_label

P = Period.parse


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
    assert period_label(p) == label_cum


def test_single_month_and_quarter_labels() -> None:
    assert period_label("2024-M03", "period") == "2024年3月"
    assert period_label("2024-Q2", "period") == "2024年二季度"


@pytest.mark.parametrize(
    ("code", "rule"),
    [("2024-Q5", "between 1 and 4"), ("2024-M13", "between 1 and 12"), ("2024-M00", "between 1 and 12"),
     ("2024-M3", "two digits"), ("2024-S3", "between 1 and 2"), ("24-Q1", "not a period code"),
     ("2024Q1", "not a period code"), ("", "not a period code"), ("1900", "between 1990 and 2100")],
)
def test_bad_periods_name_the_rule(code: str, rule: str) -> None:
    with pytest.raises(PeriodError, match=rule):
        Period.parse(code)


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        ("2024", "2024-M12"), ("2024", "2024-Q4"), ("2024", "2024-S2"), ("2024-S2", "2024-Q4"),
        ("2024-Q4", "2024-M12"), ("2024-S1", "2024-Q2"), ("2024-Q2", "2024-M06"), ("2024-S1", "2024-M06"),
        ("2024-M07", "2024-S1"), ("2024-Q3", "2024-M08"), ("2024-M03", "2024-M02"), ("2025-M01", "2024"),
    ],
)
def test_the_latest_period_is_one_total_order_coarser_wins_at_the_same_end(later: str, earlier: str) -> None:
    # 2024-S1 and 2024-Q2 end in the same month: the half-year figure is the later, fuller statement.
    assert P(later) > P(earlier) and P(earlier) < P(later)
    assert max([P(earlier), P(later)]) == P(later) == max([P(later), P(earlier)])


def test_the_order_is_total_and_agrees_with_equality() -> None:
    codes = ["2024", "2024-S1", "2024-S2", *(f"2024-Q{i}" for i in range(1, 5)),
             *(f"2024-M{m:02d}" for m in range(1, 13))]
    periods = [P(c) for c in codes]
    assert len({p.sort_key for p in periods}) == len(periods)  # no two periods tie
    ordered = sorted(periods)
    assert [p.code for p in ordered][-4:] == ["2024-M12", "2024-Q4", "2024-S2", "2024"]
    assert all((a < b) != (b < a) for a in periods for b in periods if a != b)


@pytest.mark.parametrize(
    ("code", "cumulative", "months"),
    [("2024-Q2", True, (1, 6)), ("2024-S1", True, (1, 6)), ("2024-M06", True, (1, 6)), ("2024-Q2", False, (4, 6)),
     ("2024-S2", False, (7, 12)), ("2024", False, (1, 12)), ("2024-M02", False, (2, 2))],
)
def test_the_months_a_figure_covers(code: str, cumulative: bool, months: tuple[int, int]) -> None:
    assert P(code).months(cumulative=cumulative) == months


def test_a_period_has_ended_only_after_its_last_day() -> None:
    assert not P("2024").has_ended(date(2024, 12, 31)) and P("2024").has_ended(date(2025, 1, 1))
    assert not P("2024-M06").has_ended(date(2024, 6, 30)) and P("2024-M06").has_ended(date(2024, 7, 1))
