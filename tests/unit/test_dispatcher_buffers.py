"""The dispatcher's buffers are bounded: a receiver with a full buffer is left out of the next query (so another
receiver's notifications are not stuck behind its backlog, and the ids the query leaves out stay few), and a
buffer the last fetch left short is topped up when it is half empty, before it runs dry."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from services.alerts.adapters.notifications import DueNotification
from services.alerts.dispatcher import Dispatcher, ReceiverState
from services.alerts.domain.retry import RetryBudget
from services.alerts.metrics import AlertsMetrics
from tests.unit.dispatcher_fakes import ReadDatabase

NOW = datetime(2024, 7, 1, tzinfo=UTC)


def _row(i: int, receiver: str) -> DueNotification:
    return DueNotification(i, f"k{i}", "webhook", receiver, "{}", 0, "firing", receiver.split(":")[0], "a", NOW,
                           NOW, ())


class _Notifications:
    """The pending notifications, and each query the dispatcher made (what it left out, how many it asked)."""

    def __init__(self, rows: list[DueNotification]) -> None:
        self.rows = rows
        self.queries: list[tuple[set[int], set[str], int]] = []
        self.notifications, self.silences = self, self

    def due(self, now: datetime, *, exclude: Sequence[int], limit: int,
            exclude_receivers: Sequence[str] = ()) -> list[DueNotification]:
        self.queries.append((set(exclude), set(exclude_receivers), limit))
        return [r for r in self.rows if r.id not in exclude and r.receiver not in exclude_receivers][:limit]

    def active(self, now: datetime) -> list[object]:
        return []


def _dispatcher(repos: _Notifications, *, per_receiver: int, most: int) -> Dispatcher:
    return Dispatcher(ReadDatabase(repos), None, {}, leader=None,  # type: ignore[arg-type]
                      metrics=AlertsMetrics(CollectorRegistry()), outbox=None,  # type: ignore[arg-type]
                      timeout_s=1, budget=RetryBudget(60), retry_base_s=0.1, retry_max_s=1, poll_interval_s=0.5,
                      clock=lambda: NOW, buffer_per_receiver=per_receiver, max_buffered=most)


def _sent(d: Dispatcher, repos: _Notifications, receiver: str, n: int) -> None:
    """``n`` of the receiver's buffered notifications delivered and recorded (out of the buffer and the table)."""
    done = [d._buffers[receiver].popleft().id for _ in range(n)]
    d._forget(done)
    repos.rows = [r for r in repos.rows if r.id not in done]


def test_a_receiver_with_a_full_buffer_is_left_out_and_another_receivers_rows_come_next() -> None:
    # A burst of 10 for fgw (ids 1-10), then two for stats (ids 11-12).
    repos = _Notifications([_row(i, "fgw:webhook") for i in range(1, 11)] + [_row(11, "stats:webhook"),
                                                                               _row(12, "stats:webhook")])
    d = _dispatcher(repos, per_receiver=4, most=100)
    assert d.fetch_due(limit=4) == 4 and [r.id for r in d._buffers["fgw:webhook"]] == [1, 2, 3, 4]
    assert d.fetch_due(limit=4) == 2 and [r.id for r in d._buffers["stats:webhook"]] == [11, 12]
    excluded_ids, excluded_receivers, _ = repos.queries[-1]
    assert excluded_receivers == {"fgw:webhook"} and excluded_ids == set(), \
        "the full receiver is left out by name, not by its ids"
    assert d._capped == {"fgw:webhook"} and not d._running_low()
    _sent(d, repos, "fgw:webhook", 2)  # down to half of its bound: fetch before it runs dry
    assert d._running_low()
    assert d.fetch_due(limit=4) == 4
    assert [r.id for r in d._buffers["fgw:webhook"]] == [3, 4, 5, 6, 7, 8]
    assert repos.queries[-1][0] == {3, 4, 11, 12}, "what is in flight is left out, so nothing is buffered twice"


def test_no_more_than_the_bound_is_buffered_in_all_and_a_short_buffer_is_topped_up_when_half_empty() -> None:
    repos = _Notifications([_row(i, f"d{i % 5}:webhook") for i in range(1, 41)])  # 40 due, for 5 receivers
    d = _dispatcher(repos, per_receiver=100, most=10)
    assert d.fetch_due() == 10 and sum(len(b) for b in d._buffers.values()) == 10
    assert d.fetch_due() == 0 and len(repos.queries) == 1, "full: the database is not asked for rows"
    assert d._truncated and not d._running_low()
    for receiver in ("d1:webhook", "d2:webhook", "d3:webhook"):
        _sent(d, repos, receiver, 2)
    assert sum(len(b) for b in d._buffers.values()) == 4 and d._running_low()
    assert d.fetch_due() == 6 and repos.queries[-1][2] == 6, "asks for the room left"
    assert sorted(r.id for b in d._buffers.values() for r in b) == [4, 5, 9, 10, 11, 12, 13, 14, 15, 16]


def test_a_receiver_backing_off_is_left_out_and_its_backlog_does_not_count_towards_the_bound() -> None:
    # fgw's receiver is down with 8 buffered (ids 1-8); stats has 3 due (ids 9-11). The bound in all is 8.
    repos = _Notifications([_row(i, "fgw:webhook") for i in range(1, 9)]
                           + [_row(i, "stats:webhook") for i in range(9, 12)])
    d = _dispatcher(repos, per_receiver=100, most=8)
    assert d.fetch_due() == 8 and d._truncated
    d._states["fgw:webhook"] = ReceiverState(failures=3, blocked_until=time.monotonic() + 60)
    assert d.fetch_due() == 3, "the stats rows are fetched although fgw's backlog fills the bound"
    assert repos.queries[-1] == (set(), {"fgw:webhook"}, 8)
    assert [r.id for r in d._buffers["stats:webhook"]] == [9, 10, 11]
    assert d._capped == set() and not d._running_low(), "a backlog waiting out its backoff asks for no fetch"
