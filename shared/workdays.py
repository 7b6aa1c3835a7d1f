"""Working time by the State Council's holiday schedule (国务院办公厅关于部分节假日安排的通知), in Beijing time.

A working day counts whole: 24 hours, from 00:00 to 24:00 Beijing time. Weekends and public holidays count
nothing, and the make-up working days (调休上班, e.g. Sunday 2024-02-04 and Sunday 2024-02-18 around the
2024 Spring Festival holiday of 02-10..02-17) count like any working day. "One working day after Thursday
10:00" is Friday 10:00; "one working day after Friday 10:00" is Monday 10:00. Office hours are not modelled:
a whole-day count is simpler to check by hand and does not pretend to know each department's hours.

Which days are working days comes from the ``chinesecalendar`` package, which carries the published
schedules (pinned in pyproject.toml; upgrade it each year once the State Council publishes the next year's
schedule, usually in November). For a year the package does not know yet, Monday to Friday are taken as
working days and a warning is logged once for that year.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]

from shared.clock import CHINA_TZ

log = logging.getLogger(__name__)

_DAY = timedelta(days=1)


class TimeBasis(StrEnum):
    """How a deadline given in seconds is counted."""

    WORKING_DAYS = "working_days"  # only the time on working days (24 hours each) counts
    CALENDAR = "calendar"  # every second counts


@cache
def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in China: the published schedule, make-up days included; Monday to
    Friday (with a warning, once per year) for a year the schedule is not known for."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning("no holiday schedule for %d in chinesecalendar %s: counting Monday to Friday as working days; "
                "upgrade the package", year, getattr(chinese_calendar, "__version__", "?"))


def _china(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return at.astimezone(CHINA_TZ)


def working_day_on_or_after(day: date) -> date:
    """``day`` when it is a working day, else the next working day (a deadline on a holiday moves to the next
    working day, 遇节假日顺延; a make-up working day counts as a working day)."""
    while not is_working_day(day):
        day += _DAY
    return day


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA_TZ)


def working_seconds_between(a: datetime, b: datetime) -> float:
    """The seconds of [a, b) that fall on working days (0 when b is not after a)."""
    t, end = _china(a), _china(b)
    total = 0.0
    while t < end:
        next_midnight = _midnight(t.date() + _DAY)
        if is_working_day(t.date()):
            total += (min(next_midnight, end) - t).total_seconds()
        t = next_midnight
    return total


def add_working_time(start: datetime, seconds: float) -> datetime:
    """The earliest instant by which ``seconds`` of working time have passed since ``start``."""
    if seconds <= 0:
        return start
    t, left = _china(start), seconds
    while True:
        next_midnight = _midnight(t.date() + _DAY)
        if is_working_day(t.date()):
            available = (next_midnight - t).total_seconds()
            if left <= available:
                return (t + timedelta(seconds=left)).astimezone(start.tzinfo)
            left -= available
        t = next_midnight


def subtract_working_time(end: datetime, seconds: float) -> datetime:
    """The latest instant from which ``seconds`` of working time have passed by ``end``: a deadline of
    ``seconds`` counted from any instant up to it has passed at ``end``."""
    if seconds <= 0:
        return end
    t, left = _china(end), seconds
    while True:
        day_start = _midnight(t.date())
        if day_start == t:
            day_start -= _DAY
        if is_working_day(day_start.date()):
            available = (t - day_start).total_seconds()
            if left <= available:
                return (t - timedelta(seconds=left)).astimezone(end.tzinfo)
            left -= available
        t = day_start


def deadline_cutoff(now: datetime, seconds: float, basis: TimeBasis) -> datetime:
    """The latest start whose deadline of ``seconds`` (counted by ``basis``) has passed at ``now``."""
    if basis is TimeBasis.CALENDAR:
        return now - timedelta(seconds=seconds)
    return subtract_working_time(now, seconds)
