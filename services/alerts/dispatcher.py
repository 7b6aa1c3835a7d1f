"""Delivers queued notifications: a pool of workers, backoff and a concurrency cap kept per receiver.

- A fetcher hands due notifications to a thread pool, at most ``per_receiver`` at once to one receiver
  (``department:channel``), so a slow or dead receiver only ever ties up its own share of the workers.
- A retryable failure (network, timeout, 408/425/429, 5xx, a robot's rate-limit code) blocks the receiver
  for an exponential backoff with jitter (at least its Retry-After); while blocked, only one notification at
  a time probes it. The first success unblocks it and makes its whole backlog due at once, so a receiver
  that comes back gets everything within a round trip or two. Other failures are permanent: no retry.
- A writer commits each attempt (notification state and the delivery log) in batches; only then does a
  notification count as sent and leave the in-flight set. A kill -9 between a delivery and that commit
  re-sends it once after the restart with the same Idempotency-Key, which the receiver uses to drop it.
- After ``max_attempts`` a notification is dead: its NotificationDeadLettered event goes to the outbox in
  the same transaction, for ``<prefix>.notifications.dlq``.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from services.alerts.adapters.tables import delivery_attempts, notifications
from services.alerts.channels.base import DeliveryResult, Notifier
from services.alerts.metrics import AlertsMetrics
from services.alerts.receivers import Receivers
from shared.clock import Clock, utc_now
from shared.leader import LeaderLock
from shared.messages import NotificationDeadLettered
from shared.outbox import Outbox

log = logging.getLogger(__name__)


def backoff_s(failures: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter" for the given number of consecutive failures (1-based).

    Half the delay is fixed so a dead receiver is never hammered; half is random so receivers that failed
    together do not retry together.
    """
    d = min(max_s, base_s * 2 ** (failures - 1))
    return d / 2 + rng.uniform(0, d / 2)


@dataclass
class ReceiverState:
    """What the dispatcher knows about one receiver (kept in memory; a restart starts afresh)."""

    inflight: int = 0
    failures: int = 0  # consecutive retryable failures
    blocked_until: float = 0.0  # time.monotonic(); 0 = not blocked
    probing: bool = False


@dataclass
class _Outcome:
    row: Any
    result: DeliveryResult
    duration_s: float
    delay_s: float
    recovered: bool  # first success after failures: make the receiver's backlog due


class Dispatcher:
    """Sends due notifications through the channels' notifiers."""

    def __init__(self, engine: Engine, receivers: Receivers, notifiers: dict[str, Notifier], *,
                 metrics: AlertsMetrics, outbox: Outbox, timeout_s: float, max_attempts: int, retry_base_s: float,
                 retry_max_s: float, poll_interval_s: float, workers: int = 32, per_receiver: int = 4,
                 flush_groups: Callable[[], float | None] | None = None, clock: Clock = utc_now,
                 rng: random.Random | None = None) -> None:
        self.engine = engine
        self.receivers = receivers
        self.notifiers = notifiers
        self.metrics = metrics
        self.outbox = outbox
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.poll_interval_s = poll_interval_s
        self.workers = workers
        self.per_receiver = per_receiver
        self.flush_groups = flush_groups
        self.clock = clock
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._states: dict[str, ReceiverState] = {}
        self._inflight: set[int] = set()  # fetched and not yet committed: buffered, being sent, or being recorded
        self._buffers: dict[str, deque[Any]] = {}
        self._need_fetch = True
        self._results: queue.Queue[_Outcome] = queue.Queue()
        self.writer_alive = True
        self.on_dead_letter: Callable[[], None] | None = None  # wakes the outbox relay
        self._leader = LeaderLock(engine, "dispatcher", self.ADVISORY_LOCK_KEY)

    def wake(self) -> None:
        """Ask the dispatcher to look for due notifications now (new rows were committed)."""
        self._need_fetch = True
        self._wake.set()

    def state(self, ref: str) -> ReceiverState:
        """The receiver's state (created on first use)."""
        with self._lock:
            return self._states.setdefault(ref, ReceiverState())

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set."""
        writer = threading.Thread(target=self._write_loop, args=(stop,), name="dispatch-writer", daemon=True)
        writer.start()
        last_fetch = 0.0
        with ThreadPoolExecutor(self.workers, thread_name_prefix="deliver") as pool:
            while not stop.is_set():
                wait = self.poll_interval_s
                self._wake.clear()
                try:
                    if self.flush_groups is not None and (self._need_fetch or
                                                          time.monotonic() - last_fetch > self.poll_interval_s):
                        next_flush = self.flush_groups()
                        if next_flush is not None:
                            wait = min(wait, max(0.01, next_flush))
                    # Query only when new rows may be due; a freed slot is served from the buffer.
                    if self._need_fetch or time.monotonic() - last_fetch >= min(wait, self._until_unblocked()):
                        self._need_fetch = False
                        last_fetch = time.monotonic()
                        self.fetch_due()
                    self.submit_buffered(pool.submit)
                    wait = min(wait, self._until_unblocked())
                except Exception:
                    log.exception("dispatch round failed")
                    wait = 1.0
                self._wake.wait(wait)
            writer.join(timeout=self.timeout_s + 5)
        self._leader.release()

    def _until_unblocked(self) -> float:
        now = time.monotonic()
        with self._lock:
            waits = [s.blocked_until - now for s in self._states.values()
                     if s.blocked_until > now and not s.probing]
        return max(0.01, min(waits)) if waits else self.poll_interval_s

    ADVISORY_LOCK_KEY = 0x0A1E_D15B

    def _is_leader(self) -> bool:
        """Only the replica holding the leader lock dispatches, so replicas never send twice (shared/leader.py)."""
        return self._leader.held()

    def fetch_due(self, limit: int = 2000) -> int:
        """Buffer due notifications not yet known to the dispatcher, per receiver; returns how many were new."""
        if not self._is_leader():
            return 0
        n = notifications
        with self._lock:
            known = list(self._inflight)
        q = (select(n.c.id, n.c.idempotency_key, n.c.channel, n.c.receiver, n.c.payload, n.c.attempts, n.c.kind,
                    n.c.department, n.c.alert_ids, n.c.created_at)
             .where(n.c.status == "pending", n.c.next_attempt_at <= self.clock()).order_by(n.c.id).limit(limit))
        if known and len(known) <= 5000:
            q = q.where(n.c.id.not_in(known))
        with self.engine.connect() as conn:
            due = conn.execute(q).all()
        new = 0
        with self._lock:
            for row in due:
                if row.id in self._inflight:
                    continue
                self._inflight.add(row.id)
                self._buffers.setdefault(row.receiver, deque()).append(row)
                new += 1
        return new

    def submit_buffered(self, submit: Callable[..., Any]) -> int:
        """Hand buffered notifications to workers within each receiver's cap and backoff; returns how many."""
        picked = []
        now_m = time.monotonic()
        with self._lock:
            for ref, buf in self._buffers.items():
                s = self._states.setdefault(ref, ReceiverState())
                while buf and s.inflight < self.per_receiver and not s.probing:
                    if s.failures:
                        if s.blocked_until > now_m:
                            break
                        s.probing = True  # half-open: one attempt tells whether the receiver is back
                    s.inflight += 1
                    picked.append(buf.popleft())
        for row in picked:
            submit(self._attempt, row)
        return len(picked)

    def submit_due(self, submit: Callable[..., Any]) -> int:
        """Fetch due notifications and hand what the receivers' caps allow to workers (tests call this)."""
        self.fetch_due()
        return self.submit_buffered(submit)

    def _attempt(self, row: Any) -> None:
        started = time.perf_counter()
        try:
            dest = self.receivers.resolve(row.receiver)
            notifier = self.notifiers.get(row.channel)
            if dest is None or notifier is None:
                result = DeliveryResult(False, False, None, f"receiver {row.receiver} is not configured any more")
            else:
                result = notifier.send(dest, row.payload.encode(), idempotency_key=row.idempotency_key,
                                       timeout_s=self.timeout_s)
        except Exception as exc:  # a bug in a notifier must not lose the notification: retry it
            log.exception("notifier %s failed", row.channel)
            result = DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}"[:300])
        duration = time.perf_counter() - started
        delay, recovered = 0.0, False
        with self._lock:
            s = self._states.setdefault(row.receiver, ReceiverState())
            s.probing = False
            s.inflight = max(0, s.inflight - 1)  # the request is over; the id stays known until committed
            if result.delivered:
                recovered = s.failures > 0
                s.failures, s.blocked_until = 0, 0.0
            elif result.retryable:
                s.failures += 1
                delay = backoff_s(s.failures, self.retry_base_s, self.retry_max_s, self._rng)
                if result.retry_after_s is not None:
                    delay = max(delay, min(result.retry_after_s, self.retry_max_s))
                s.blocked_until = time.monotonic() + delay
        self.metrics.delivery_duration.labels(row.channel).observe(duration)
        self._results.put(_Outcome(row, result, duration, delay, recovered))
        self._wake.set()  # a slot is free: serve the receiver's buffer

    def _write_loop(self, stop: threading.Event) -> None:
        batch: list[_Outcome] = []
        backoff = 0.1
        while True:
            if not batch:
                try:
                    batch.append(self._results.get(timeout=0.2))
                except queue.Empty:
                    with self._lock:
                        idle = not self._inflight
                    if stop.is_set() and idle:
                        break
                    continue
            while len(batch) < 1000:
                try:
                    batch.append(self._results.get_nowait())
                except queue.Empty:
                    break
            try:
                self._commit(batch)
            except Exception:
                # Keep the batch in flight (so it is not sent again) and retry the bookkeeping.
                log.exception("recording %d delivery outcomes failed; retrying in %.1fs", len(batch), backoff)
                self.writer_alive = False
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self.writer_alive, backoff = True, 0.1
            self._release(batch)
            batch = []
            self.wake()

    def _commit(self, batch: list[_Outcome]) -> None:
        now = self.clock()
        updates, attempts, dead = [], [], []
        recovered = {o.row.receiver for o in batch if o.recovered}
        for o in batch:
            r, res = o.row, o.result
            attempt = r.attempts + 1
            if res.delivered:
                status, outcome, next_at = "sent", "delivered", now
            elif res.retryable and attempt < self.max_attempts:
                status, outcome, next_at = "pending", "retry", now + timedelta(seconds=o.delay_s)
            elif res.retryable:
                status, outcome, next_at = "dead", "dead", now
                dead.append((r, attempt, res.error))
            else:
                status, outcome, next_at = "failed", "failed", now
            updates.append({"_id": r.id, "status": status, "attempts": attempt, "next_attempt_at": next_at,
                            "last_error": res.error, "sent_at": now if res.delivered else None})
            attempts.append({"notification_id": r.id, "attempt": attempt, "at": now, "outcome": outcome,
                             "http_status": res.http_status, "error": res.error,
                             "duration_ms": int(o.duration_s * 1000)})
        n = notifications
        with self.engine.begin() as conn:
            conn.execute(update(n).where(n.c.id == bindparam("_id")).values(
                status=bindparam("status"), attempts=bindparam("attempts"),
                next_attempt_at=bindparam("next_attempt_at"), last_error=bindparam("last_error"),
                sent_at=bindparam("sent_at")), updates)
            conn.execute(delivery_attempts.insert(), attempts)
            if recovered:
                conn.execute(update(n).where(n.c.receiver.in_(recovered), n.c.status == "pending",
                                             n.c.next_attempt_at > now).values(next_attempt_at=now))
            if dead:
                self.outbox.add(conn, [self._dead_letter(r, attempt, err, now) for r, attempt, err in dead], now)
        for o in batch:
            ch = o.row.channel
            if o.result.delivered:
                self.metrics.notifications_sent.labels(ch).inc()
            else:
                self.metrics.notifications_failed.labels(ch, "retryable" if o.result.retryable else "permanent").inc()
        for r, _, _ in dead:
            self.metrics.dead_letters.labels(r.channel).inc()
        if dead and self.on_dead_letter is not None:
            self.on_dead_letter()

    @staticmethod
    def _dead_letter(r: Any, attempts: int, error: str | None, now: datetime) -> NotificationDeadLettered:
        return NotificationDeadLettered(
            notification_id=r.id, idempotency_key=r.idempotency_key,
            alert_ids=tuple(a for a in (r.alert_ids or "").split(",") if a), kind=r.kind, department=r.department,
            channel=r.channel, attempts=attempts, last_error=error, created_at=r.created_at, dead_at=now)

    def _release(self, batch: list[_Outcome]) -> None:
        with self._lock:
            for o in batch:
                self._inflight.discard(o.row.id)
