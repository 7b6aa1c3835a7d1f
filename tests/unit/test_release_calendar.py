"""The release calendar: when each period's figures are due, and which period is next."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.catalogue.model import Frequency
from shared.periods import Period
from shared.release_calendar import due_date, expected_periods, next_due, overdue_at
from shared.workdays import TimeBasis, working_day_on_or_after


def test_monthly_figures_are_due_by_the_20th_of_the_next_month_and_january_comes_with_february() -> None:
    assert [p.code for p in expected_periods(2024, Frequency.MONTHLY)][:2] == ["2024-M02", "2024-M03"]
    assert due_date(Period.parse("2024-M02")) == date(2024, 3, 20)
    assert due_date(Period.parse("2024-M12")) == date(2025, 1, 20)
    assert next_due(2024, Frequency.MONTHLY, None) == Period.parse("2024-M02")


def test_quarterly_figures_are_due_25_days_after_the_quarter() -> None:
    assert due_date(Period.parse("2024-Q1")) == date(2024, 4, 25)
    assert next_due(2024, Frequency.QUARTERLY, 3) == Period.parse("2024-Q2")
    # a monthly figure reaching May covers Q1 only
    assert next_due(2024, Frequency.QUARTERLY, 5) == Period.parse("2024-Q2")


def test_annual_figures_and_a_complete_year() -> None:
    assert due_date(Period.parse("2024")) == date(2025, 3, 31)
    assert next_due(2024, Frequency.ANNUAL, 12) is None
    assert next_due(2024, Frequency.HALF_YEARLY, 12) is None


def test_overdue_at_is_the_end_of_the_due_day_in_china() -> None:
    assert overdue_at(Period.parse("2024-Q1")) == datetime(2024, 4, 25, 16, 0, tzinfo=UTC)


def test_a_due_day_on_a_weekend_moves_to_the_next_working_day() -> None:
    # 2024-M09 + 20 days is Sunday 2024-10-20; Monday 10-21 is the last day on time.
    assert due_date(Period.parse("2024-M09")) == date(2024, 10, 21)
    assert overdue_at(Period.parse("2024-M09")) == datetime(2024, 10, 21, 16, 0, tzinfo=UTC)
    assert due_date(Period.parse("2024-M09"), TimeBasis.CALENDAR) == date(2024, 10, 20)
    # the 2023 annual figures: 90 days after 2023-12-31 is Saturday 2024-03-30.
    assert due_date(Period.parse("2023")) == date(2024, 4, 1)


def test_a_due_day_in_the_spring_festival_moves_to_the_make_up_sunday() -> None:
    # The 2024 Spring Festival holiday is 02-10..02-17; Sunday 02-18 is a make-up working day (调休上班).
    assert working_day_on_or_after(date(2024, 2, 10)) == date(2024, 2, 18)
    assert working_day_on_or_after(date(2024, 2, 18)) == date(2024, 2, 18)
    # National Day 2024 (10-01..10-07); Saturday 10-12 is a make-up working day.
    assert working_day_on_or_after(date(2024, 10, 1)) == date(2024, 10, 8)
    assert working_day_on_or_after(date(2024, 10, 12)) == date(2024, 10, 12)
