"""The timed transitions with a frozen clock: reminders and escalations count working days by default, so they
skip the 2024 Spring Festival holiday (02-10..02-17) and honour its make-up working day (Sunday 02-18)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from services.alerts.config import AlertsSettings
from services.alerts.timed import TimedTransitions
from shared.clock import CHINA_TZ, FrozenClock
from shared.workdays import TimeBasis

DAY = 86400.0
OPENED = datetime(2024, 2, 9, 10, tzinfo=CHINA_TZ)  # 除夕, the last working day before the holiday


@dataclass
class Row:
    id: int
    opened_at: datetime
    last_notified_at: datetime
    escalated_at: datetime | None = None
    escalation_level: int = 0
    lead_department: str = "swj"
    event: str = "{}"


class FakeAlerts:
    """Records which alerts the loop decided to remind or escalate (and answers that someone acknowledged
    them meanwhile, so nothing further is sent)."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.reminded: list[int] = []
        self.escalated: list[int] = []

    def firing_notified_before(self, cutoff: datetime) -> list[Row]:
        return [r for r in self.rows if r.last_notified_at <= cutoff]

    def mark_reminded(self, alert_id: int, last: datetime, now: datetime) -> bool:
        self.reminded.append(alert_id)
        return False

    def firing_critical(self) -> list[Row]:
        return self.rows

    def escalate_step(self, alert_id: int, level: int, now: datetime) -> bool:
        self.escalated.append(alert_id)
        return False


class FakeDb:
    def __init__(self, alerts: FakeAlerts) -> None:
        self.alerts = alerts

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        yield self


CATALOGUE = SimpleNamespace(departments={"swj": SimpleNamespace(parent="gov_office"),
                                         "gov_office": SimpleNamespace(parent=None)})


def _timed(alerts: FakeAlerts, clock: FrozenClock, basis: TimeBasis | None) -> TimedTransitions:
    extra = {} if basis is None else {"deadlines_in": basis}
    return TimedTransitions(FakeDb(alerts), CATALOGUE, None, None,  # type: ignore[arg-type]
                            escalate_after_s=DAY, repeat_interval_s=DAY, interval_s=1, clock=clock, **extra)


@pytest.mark.parametrize(("now", "due"), [
    (OPENED + timedelta(hours=23), False),  # 02-10 09:00: the holiday has begun, 14 h of working time passed
    (datetime(2024, 2, 12, 10, tzinfo=CHINA_TZ), False),
    (datetime(2024, 2, 17, 23, 59, tzinfo=CHINA_TZ), False),
    (datetime(2024, 2, 18, 9, 59, tzinfo=CHINA_TZ), False),  # the make-up Sunday counts: 10 h to go at 00:00
    (datetime(2024, 2, 18, 10, tzinfo=CHINA_TZ), True),
])
def test_reminders_and_escalations_skip_the_spring_festival_holiday(now: datetime, due: bool) -> None:
    alerts = FakeAlerts([Row(1, OPENED, OPENED)])
    _timed(alerts, FrozenClock(now), None).tick()  # the default: working days
    assert alerts.reminded == ([1] if due else [])
    assert alerts.escalated == ([1] if due else [])


def test_calendar_basis_reminds_during_the_holiday() -> None:
    alerts = FakeAlerts([Row(1, OPENED, OPENED)])
    _timed(alerts, FrozenClock(datetime(2024, 2, 10, 10, tzinfo=CHINA_TZ)), TimeBasis.CALENDAR).tick()
    assert alerts.reminded == [1] and alerts.escalated == [1]


def test_the_setting_defaults_to_working_days() -> None:
    assert AlertsSettings().deadlines_in is TimeBasis.WORKING_DAYS
    assert AlertsSettings(deadlines_in="calendar").deadlines_in is TimeBasis.CALENDAR  # type: ignore[arg-type]
