"""Chat robots' send limits: the per-robot sliding window (a fake clock), a rate-limit pause, the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.alerts.config import AlertsSettings
from services.alerts.domain.delivery import Attempted, settle
from services.alerts.domain.model import AttemptOutcome, DeliveryStatus
from services.alerts.domain.retry import RetryBudget
from services.alerts.ratelimit import SlidingWindow

NOW = datetime(2024, 7, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_window_allows_its_limit_then_frees_a_slot_as_the_oldest_send_ages_out() -> None:
    clock = FakeClock()
    w = SlidingWindow(lambda key: 3, 60.0, clock)
    for i in range(3):
        assert w.try_acquire("robot-a"), i
        clock.t += 10
    assert not w.try_acquire("robot-a") and w.remaining("robot-a") == 0
    assert w.wait_s("robot-a") == pytest.approx(30.0)  # the first send (t=1000) leaves the window at t=1060
    assert w.try_acquire("robot-b"), "each robot has its own window"
    clock.t = 1059.9
    assert not w.try_acquire("robot-a")
    clock.t = 1060.0
    assert w.try_acquire("robot-a") and not w.try_acquire("robot-a")
    # A slot given back (nothing was sent with it) is free again.
    w.release("robot-a")
    assert w.remaining("robot-a") == 1


def test_a_paused_robot_gets_nothing_until_the_pause_ends_and_a_new_leader_counts_recent_sends() -> None:
    clock = FakeClock()
    w = SlidingWindow(lambda key: 18, 60.0, clock)
    w.block("ding", 600)
    assert w.remaining("ding") == 0 and not w.try_acquire("ding")
    assert w.wait_s("ding") == pytest.approx(600.0) and w.blocked_for("ding") == pytest.approx(600.0)
    clock.t += 600
    assert w.try_acquire("ding")
    # Sends made 5 s and 50 s ago by the previous leader count; one 70 s ago is out of the window.
    w.seed("wecom", [5.0, 50.0, 70.0])
    assert w.remaining("wecom") == 16
    clock.t += 10.0
    assert w.remaining("wecom") == 17  # the one of 50 s ago left the window


def test_a_rate_limit_answer_leaves_the_notification_pending_past_its_budget_never_dead() -> None:
    budget = RetryBudget(60)
    long_ago = NOW - timedelta(hours=2)  # its budget ran out long ago
    status, outcome, at = settle(Attempted(False, True, False, None, paused=True), since=long_ago, now=NOW,
                                 delay_s=600, budget=budget, retry_ambiguous=False)
    assert (status, outcome, at) == (DeliveryStatus.PENDING, AttemptOutcome.RETRY, NOW + timedelta(seconds=600))
    status, _, _ = settle(Attempted(False, True, False, None), since=long_ago, now=NOW, delay_s=1, budget=budget,
                          retry_ambiguous=False)
    assert status == DeliveryStatus.DEAD, "a real failure past the budget is still given up"


def test_robot_limit_settings_are_checked() -> None:
    s = AlertsSettings(robot_max_per_minute_by_channel={"feishu": 90})
    assert s.robot_max_per_minute == 18 and s.robot_window_s == 60 and s.dingtalk_pause_s == 600
    with pytest.raises(ValueError, match="not a chat robot channel"):
        AlertsSettings(robot_max_per_minute_by_channel={"email": 5})
    with pytest.raises(ValueError, match="1 to 1000"):
        AlertsSettings(robot_max_per_minute_by_channel={"wecom": 0})
