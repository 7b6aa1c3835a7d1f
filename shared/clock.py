"""Time as an injectable dependency, so tests can freeze it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

Clock = Callable[[], datetime]

# Beijing time (UTC+8, no daylight saving since 1991): how Chinese releases and departments date things.
# A fixed offset, not zoneinfo's Asia/Shanghai, so slim containers without tzdata behave the same.
CHINA_TZ = timezone(timedelta(hours=8), "CST")


def china_date(now: datetime) -> date:
    """The calendar date in China at ``now``: the day a bureau and a department call today.

    Between 00:00 and 08:00 Beijing time the UTC date is still yesterday's; a June figure sent at 05:00 on
    1 July is sent after June has ended.
    """
    return now.astimezone(CHINA_TZ).date()


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: returns ``now`` until moved with ``advance`` or ``set``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now
