"""Chat robots' send limits: the per-robot sliding window (a fake clock), a rate-limit pause, the settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from services.alerts.adapters.notifications import DueNotification
from services.alerts.channels.base import Destination
from services.alerts.config import AlertsSettings
from services.alerts.dispatcher import Dispatcher, RobotLimits
from services.alerts.domain.delivery import Attempted, settle
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.model import AttemptOutcome, DeliveryStatus
from services.alerts.domain.retry import RetryBudget
from services.alerts.metrics import AlertsMetrics
from services.alerts.ratelimit import SlidingWindow
from tests.unit.dispatcher_fakes import ReadDatabase

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


class _Leader:
    def __init__(self) -> None:
        self.leading = False

    def held(self) -> bool:
        return self.leading

    def release(self) -> None:
        pass


class _Repos:
    def __init__(self, sent: list[tuple[str, datetime]]) -> None:
        self.notifications = self
        self.silences = self
        self.sent = sent
        self.asked_since: datetime | None = None

    def recent_sends(self, channels: list[str], since: datetime) -> list[tuple[str, datetime]]:
        assert set(channels) == {"wecom", "dingtalk", "feishu"}
        self.asked_since = since
        return [(r, at) for r, at in self.sent if at >= since]

    def due(self, now: datetime, *, exclude: list[int], limit: int,
            exclude_receivers: Sequence[str] = ()) -> list[DueNotification]:
        return [DueNotification(i, f"k{i}", "wecom", "fgw:wecom", "{}", 0, "firing", "fgw", "a", NOW, NOW, ())
                for i in range(1, 4) if i not in exclude and "fgw:wecom" not in exclude_receivers][:limit]

    def active(self, now: datetime) -> list[object]:
        return []


class _Receivers:
    def resolve(self, ref: str) -> Destination | None:
        channel = ref.split(":")[1]
        return Destination(ref, ChannelType(channel), f"http://robot/{ref}")


def test_only_the_leader_sends_and_a_new_leader_counts_the_previous_leaders_recent_robot_sends() -> None:
    # The previous leader sent to fgw's WeCom robot 18 times within the last minute, once 2 minutes ago.
    repos = _Repos([("fgw:wecom", NOW - timedelta(seconds=5))] * 18 + [("fgw:wecom", NOW - timedelta(minutes=2))])
    leader = _Leader()
    d = Dispatcher(ReadDatabase(repos), _Receivers(), {}, leader=leader,  # type: ignore[arg-type]
                   metrics=AlertsMetrics(CollectorRegistry()), outbox=None,  # type: ignore[arg-type]
                   timeout_s=1, budget=RetryBudget(60), retry_base_s=0.1, retry_max_s=1, poll_interval_s=0.1,
                   robot_limits=RobotLimits(18, {}, 60.0), merge=lambda rows: None, clock=lambda: NOW)
    submitted: list[object] = []
    d._round(lambda *a: submitted.append(a), 0.0)
    assert submitted == [] and repos.asked_since is None, "a replica that does not lead sends and reads nothing"
    leader.leading = True
    d._round(lambda *a: submitted.append(a), 0.0)
    assert repos.asked_since == NOW - timedelta(seconds=60)
    assert d.limiter.remaining("http://robot/fgw:wecom") == 0
    assert submitted == [], "the robot's window is full with what the previous leader sent"
    assert d._until_unblocked() == pytest.approx(55.0, abs=1.0), "the dispatcher wakes when a slot frees"
