"""When each period's statistics are due: the release calendar the "data overdue" alert is checked against.

Chinese statistical bureaus publish on a fixed rhythm. Monthly cumulative figures (1—N月) come out around
the 20th of the following month, and January is never released alone: the first monthly release of a year
is 1—2月 (period M02), in mid-March. Quarterly figures come out about 25 days after the quarter, half-year
figures about a month after, and the annual figures with the statistical communiqué (统计公报) by the end of
March. The lags below are those dates with a few days' slack; past them an indicator's data is overdue.

A due day that is not a working day moves to the next working day (遇节假日顺延), by the State Council's
holiday schedule with its make-up working days (shared/workdays.py): figures due on Sunday 2024-10-20 are
on time on Monday 10-21. ``TimeBasis.CALENDAR`` keeps the plain count (ingest: INGEST_RELEASE_DUE_IN).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from shared.catalogue.model import Frequency
from shared.clock import CHINA_TZ
from shared.periods import Period
from shared.workdays import TimeBasis, working_day_on_or_after

# Days after the end of a period by which its figures are due.
RELEASE_LAG_DAYS: dict[Frequency, int] = {
    Frequency.MONTHLY: 20,
    Frequency.QUARTERLY: 25,
    Frequency.HALF_YEARLY: 31,
    Frequency.ANNUAL: 90,
}
_PERIODS_PER_YEAR = {Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4, Frequency.HALF_YEARLY: 2, Frequency.ANNUAL: 1}


def expected_periods(year: int, frequency: Frequency) -> list[Period]:
    """The periods of a year a bureau releases, in order (monthly: 1—2月 first, no January alone)."""
    periods = [Period(year, frequency, i) for i in range(1, _PERIODS_PER_YEAR[frequency] + 1)]
    if frequency == Frequency.MONTHLY:
        periods = periods[1:]
    return periods


def due_date(period: Period, basis: TimeBasis = TimeBasis.WORKING_DAYS) -> date:
    """The last day on which the period's figures are still on time (moved to a working day unless
    ``basis`` is calendar)."""
    day = period.end_date() + timedelta(days=RELEASE_LAG_DAYS[period.frequency])
    return working_day_on_or_after(day) if basis is TimeBasis.WORKING_DAYS else day


def overdue_at(period: Period, basis: TimeBasis = TimeBasis.WORKING_DAYS) -> datetime:
    """The instant the period's figures become overdue: the end of its due day in China (UTC+8)."""
    return datetime.combine(due_date(period, basis) + timedelta(days=1), time(0), CHINA_TZ).astimezone(UTC)


def next_due(year: int, frequency: Frequency, latest_last_month: int | None) -> Period | None:
    """The first period of the year not yet covered by the data, or None when the year is complete.

    ``latest_last_month`` is the last month (1-12) the latest figures received reach, None when none came.
    """
    reached = latest_last_month or 0
    for period in expected_periods(year, frequency):
        if period.last_month > reached:
            return period
    return None
