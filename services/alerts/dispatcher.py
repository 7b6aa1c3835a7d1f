"""Delivers queued notifications: retries with exponential backoff and jitter, honours Retry-After, never repeats.

A notification is marked sent only after the receiver answered 2xx; a crash between the two re-sends it with
the same idempotency key, which the receiver uses to drop the repeat.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import Engine, select, update

from services.alerts.adapters.tables import delivery_attempts, notifications
from services.alerts.channels import webhook
from services.alerts.metrics import AlertsMetrics
from shared.clock import Clock, utc_now

log = logging.getLogger(__name__)


def backoff_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff for the given (1-based) attempt."""
    return rng.uniform(0, min(max_s, base_s * 2 ** (attempt - 1)))


class Dispatcher:
    """Sends due notifications from the delivery queue."""

    def __init__(self, engine: Engine, *, secret: bytes, metrics: AlertsMetrics, timeout_s: float,
                 max_attempts: int, retry_base_s: float, retry_max_s: float, poll_interval_s: float,
                 clock: Clock = utc_now) -> None:
        self.engine = engine
        self.secret = secret
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self._wake = threading.Event()
        self._rng = random.Random()

    def wake(self) -> None:
        """Ask the dispatcher to look for due notifications now."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set."""
        with httpx.Client(http2=False, follow_redirects=False) as client:
            while not stop.is_set():
                try:
                    sent = self.dispatch_due(client)
                except Exception:
                    log.exception("dispatch round failed")
                    sent = 0
                    stop.wait(1.0)
                if sent == 0:
                    self._wake.wait(self.poll_interval_s)
                    self._wake.clear()

    def dispatch_due(self, client: httpx.Client, limit: int = 100) -> int:
        """Attempt every due notification once; returns how many were attempted."""
        n = notifications
        now = self.clock()
        with self.engine.connect() as conn:
            due = conn.execute(
                select(n.c.id, n.c.idempotency_key, n.c.channel, n.c.receiver, n.c.payload, n.c.attempts)
                .where(n.c.status == "pending", n.c.next_attempt_at <= now)
                .order_by(n.c.next_attempt_at, n.c.id).limit(limit)
            ).all()
        for row in due:
            self._attempt(client, row)
        return len(due)

    def _attempt(self, client: httpx.Client, row) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        body = row.payload.encode()
        result = webhook.post(client, row.receiver, body, secret=self.secret, idempotency_key=row.idempotency_key,
                              timestamp=str(int(time.time())), timeout_s=self.timeout_s)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        attempt = row.attempts + 1
        now = self.clock()
        values: dict[str, object] = {"attempts": attempt, "last_error": result.error}
        if result.delivered:
            values.update(status="sent", sent_at=now)
            outcome = "delivered"
            self.metrics.notifications_sent.labels(row.channel).inc()
        elif result.retryable and attempt < self.max_attempts:
            delay = backoff_s(attempt, self.retry_base_s, self.retry_max_s, self._rng)
            if result.retry_after_s is not None:
                delay = max(delay, min(result.retry_after_s, self.retry_max_s))
            values.update(next_attempt_at=now + timedelta(seconds=delay))
            outcome = "retry"
            self.metrics.notifications_failed.labels(row.channel, "retryable").inc()
        else:
            values.update(status="dead" if result.retryable else "failed")
            outcome = "failed"
            self.metrics.notifications_failed.labels(row.channel, "permanent").inc()
        with self.engine.begin() as conn:
            conn.execute(update(notifications).where(notifications.c.id == row.id).values(**values))
            conn.execute(delivery_attempts.insert().values(
                notification_id=row.id, attempt=attempt, at=now, outcome=outcome,
                http_status=result.http_status, error=result.error, duration_ms=elapsed_ms,
            ))


