"""The dispatcher's delivery-log writer: a row the database refuses is isolated, a commit that keeps failing
fails readiness and is counted (issue 11 item 6). Fakes stand in for the database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DataError, OperationalError

from services.alerts.adapters.notifications import DueNotification, Recorded
from services.alerts.channels.base import DeliveryResult
from services.alerts.dispatcher import Dispatcher, _Outcome
from services.alerts.domain.model import DeliveryStatus
from services.alerts.domain.retry import RetryBudget
from services.alerts.metrics import AlertsMetrics

NOW = datetime(2024, 7, 1, tzinfo=UTC)


class FakeNotifications:
    def __init__(self, refuse: Callable[[list[Recorded]], Exception | None]) -> None:
        self.refuse = refuse
        self.stored: list[Recorded] = []

    def record(self, batch: list[Recorded], **_: Any) -> None:
        problem = self.refuse(batch)
        if problem is not None:
            raise problem
        self.stored += batch


class FakeDatabase:
    def __init__(self, notifications: FakeNotifications) -> None:
        self.notifications = notifications

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        yield self


class AlwaysLeader:
    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def _dispatcher(db: FakeDatabase, metrics: AlertsMetrics) -> Dispatcher:
    return Dispatcher(db, None, {}, leader=AlwaysLeader(), metrics=metrics, outbox=None,  # type: ignore[arg-type]
                      timeout_s=1, budget=RetryBudget(60), retry_base_s=0.1, retry_max_s=1, poll_interval_s=0.1,
                      clock=lambda: NOW)


def _outcome(nid: int, error: str | None) -> _Outcome:
    row = DueNotification(nid, f"k{nid}", "webhook", "fgw:webhook", "{}", 0, "firing", "fgw", "a", NOW, NOW, ())
    return _Outcome(row, DeliveryResult(False, True, 502, error), 0.01, 1.0, False)


def _wait(cond: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _failures(metrics: AlertsMetrics) -> float:
    return metrics.registry.get_sample_value("alerts_delivery_log_commit_failures_total") or 0.0


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_a_row_the_database_refuses_is_recorded_alone_and_holds_up_nothing(stop: threading.Event) -> None:
    def refuse(batch: list[Recorded]) -> Exception | None:
        # Something the cleaning cannot foresee (a value the database refuses for its own reasons).
        bad = any(r.error and "refused by the database" in r.error for r in batch)
        return DataError("UPDATE notifications", {}, ValueError("value too long")) if bad else None

    notes, metrics = FakeNotifications(refuse), AlertsMetrics(CollectorRegistry())
    d = _dispatcher(FakeDatabase(notes), metrics)
    d._inflight.update({1: "r", 2: "r", 3: "r"})
    for o in (_outcome(1, "HTTP 502"), _outcome(2, "HTTP 502: refused by the database"), _outcome(3, "HTTP 502")):
        d._results.put(o)
    threading.Thread(target=d._write_loop, args=(stop,), daemon=True).start()
    _wait(lambda: not d._inflight, "every outcome recorded")
    assert sorted(r.notification_id for r in notes.stored) == [1, 2, 3]
    assert next(r for r in notes.stored if r.notification_id == 2).error == \
        "(the answer could not be stored: DataError)"
    assert {r.status for r in notes.stored} == {DeliveryStatus.PENDING}
    assert _failures(metrics) == 1
    d.check_ready()


def test_commits_that_keep_failing_fail_readiness_until_they_work_again(stop: threading.Event) -> None:
    down = threading.Event()
    down.set()

    def refuse(batch: list[Recorded]) -> Exception | None:
        return OperationalError("UPDATE notifications", {}, ConnectionError("server closed")) if down.is_set() \
            else None

    notes, metrics = FakeNotifications(refuse), AlertsMetrics(CollectorRegistry())
    d = _dispatcher(FakeDatabase(notes), metrics)
    d._writer = threading.Thread(target=d._write_loop, args=(stop,), daemon=True)
    d._writer.start()
    d._inflight[1] = "r"
    d._results.put(_outcome(1, "HTTP 502"))

    def not_ready() -> bool:
        try:
            d.check_ready()
        except RuntimeError:
            return True
        return False

    _wait(not_ready, "readiness failing")
    assert _failures(metrics) >= 2 and notes.stored == [] and d._inflight.keys() == {1}  # kept, not sent again
    down.clear()
    _wait(lambda: not d._inflight, "the outcome recorded")
    d.check_ready()
    assert [r.notification_id for r in notes.stored] == [1]
