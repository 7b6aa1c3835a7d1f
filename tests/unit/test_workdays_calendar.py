"""Working time by the State Council's schedule: the 2024 Spring Festival (holiday 02-10..02-17, make-up working
days Sunday 02-04 and Sunday 02-18), and a year the package does not know."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from shared import workdays
from shared.clock import CHINA_TZ
from shared.workdays import (
    TimeBasis,
    add_working_time,
    deadline_cutoff,
    is_working_day,
    subtract_working_time,
    working_seconds_between,
)

DAY = 86400.0


def bj(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    workdays.is_working_day.cache_clear()
    workdays._warn_unknown_year.cache_clear()
    yield
    workdays.is_working_day.cache_clear()
    workdays._warn_unknown_year.cache_clear()


@pytest.mark.parametrize(("day", "working"), [
    (date(2024, 2, 3), False),  # Saturday
    (date(2024, 2, 4), True),  # Sunday, make-up working day (调休上班)
    (date(2024, 2, 8), True),
    (date(2024, 2, 9), True),  # 除夕, a Friday: a working day in the 2024 schedule
    (date(2024, 2, 10), False),
    (date(2024, 2, 12), False),  # Monday inside the holiday
    (date(2024, 2, 17), False),
    (date(2024, 2, 18), True),  # Sunday, make-up working day
    (date(2024, 2, 19), True),
])
def test_spring_festival_2024_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(("start", "seconds", "due"), [
    # A 1-working-day reminder of an alert opened on 除夕 comes after the holiday, on the make-up Sunday.
    (bj(2, 9, 10), DAY, bj(2, 18, 10)),
    # Opened on Thursday 02-08: Friday 02-09 is still a working day.
    (bj(2, 8, 10), DAY, bj(2, 9, 10)),
    # Two working days from Thursday 02-08 10:00: 02-09, then the holiday is skipped.
    (bj(2, 8, 10), 2 * DAY, bj(2, 18, 10)),
    # Opened inside the holiday: the clock starts at 00:00 on 02-18.
    (bj(2, 12, 15), DAY, bj(2, 19, 0)),
    (bj(2, 12, 15), 4 * 3600, bj(2, 18, 4)),
    # Opened on Saturday 02-03: the make-up Sunday 02-04 counts.
    (bj(2, 3, 9), DAY, bj(2, 5, 0)),
    (bj(2, 3, 9), 3600, bj(2, 4, 1)),
    # Friday 02-02 18:00 plus one working day: the Saturday is skipped, the Sunday works.
    (bj(2, 2, 18), DAY, bj(2, 4, 18)),
    # Exactly the rest of the last working day before the holiday ends at 24:00 on 02-09.
    (bj(2, 9, 10), 14 * 3600, bj(2, 10, 0)),
    (bj(2, 9, 10), 0, bj(2, 9, 10)),
])
def test_add_working_time_over_the_2024_spring_festival(start: datetime, seconds: float, due: datetime) -> None:
    assert add_working_time(start, seconds) == due
    assert working_seconds_between(start, due) == seconds


@pytest.mark.parametrize(("end", "seconds", "latest_start"), [
    (bj(2, 18, 10), DAY, bj(2, 9, 10)),  # the holiday is not counted backwards either
    (bj(2, 14, 12), DAY, bj(2, 9, 0)),  # inside the holiday: the whole of 02-09 is needed
    (bj(2, 5, 9), DAY, bj(2, 4, 9)),  # 9 h of Monday 02-05 and 15 h of the make-up Sunday 02-04
    (bj(2, 19, 0), 3600, bj(2, 18, 23)),  # ends at midnight: the hour before it, on 02-18
])
def test_subtract_working_time(end: datetime, seconds: float, latest_start: datetime) -> None:
    got = subtract_working_time(end, seconds)
    assert got == latest_start
    assert working_seconds_between(got, end) == seconds


def test_inverse_of_add_in_utc() -> None:
    start = datetime(2024, 2, 8, 1, 30, tzinfo=UTC)
    due = add_working_time(start, 2 * DAY)  # 02-08 09:30 Beijing time: 14.5 h, all of 02-09, 9.5 h of 02-18
    assert due.tzinfo is UTC and due == datetime(2024, 2, 18, 1, 30, tzinfo=UTC)  # 02-18 09:30 Beijing time
    assert subtract_working_time(due, 2 * DAY) == start


def test_whole_holiday_weeks() -> None:
    # 02-03 (Sat) .. 02-18 (Sun): working 02-04..02-09 and 02-18, seven days.
    assert working_seconds_between(bj(2, 3), bj(2, 19)) == 7 * DAY
    assert working_seconds_between(bj(2, 10), bj(2, 18)) == 0
    assert working_seconds_between(bj(2, 19), bj(2, 18)) == 0


def test_calendar_basis_counts_every_second() -> None:
    now = bj(2, 14, 12)
    assert deadline_cutoff(now, DAY, TimeBasis.CALENDAR) == bj(2, 13, 12)
    assert deadline_cutoff(now, DAY, TimeBasis.WORKING_DAYS) == bj(2, 9, 0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(datetime(2024, 2, 9, 10), DAY)


def test_a_year_without_a_schedule_falls_back_to_monday_to_friday_with_one_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.workdays"):
        # 2040 is past every schedule the package carries.
        friday = date(2040, 10, 5)
        assert friday.weekday() == 4 and is_working_day(friday) is True  # National Day not known for 2040
        assert is_working_day(friday + timedelta(days=1)) is False  # Saturday
        assert is_working_day(friday + timedelta(days=2)) is False
        assert add_working_time(datetime(2040, 10, 5, 12, tzinfo=CHINA_TZ), DAY) == datetime(
            2040, 10, 8, 12, tzinfo=CHINA_TZ)
    warnings = [r for r in caplog.records if "no holiday schedule for 2040" in r.getMessage()]
    assert len(warnings) == 1
