"""Retention: finished notifications and their delivery log, and long-resolved alerts, are deleted in small batches.

Pending notifications are never pruned. Resolved alerts are kept for audit at least a year
(ALERTS_ALERT_RETENTION_DAYS, 730 by default); the delivery log for ALERTS_DELIVERY_LOG_RETENTION_DAYS (90).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from services.alerts.adapters.db import Database
from services.alerts.loops import run_every
from shared.clock import Clock, utc_now

log = logging.getLogger(__name__)
BATCH = 1000  # rows per transaction: short write locks on SQLite


@dataclass
class Pruned:
    """What one round deleted."""

    notifications: int = 0
    alerts: int = 0


class Pruner:
    """Deletes rows past their retention."""

    def __init__(self, db: Database, *, delivery_log_days: float, alert_days: float, interval_s: float,
                 clock: Clock = utc_now) -> None:
        self.db = db
        self.delivery_log = timedelta(days=delivery_log_days)
        self.alerts = timedelta(days=alert_days)
        self.interval_s = interval_s
        self.clock = clock

    def run(self, stop: threading.Event) -> None:
        """Prune every ``interval_s`` until ``stop`` is set."""
        run_every(self.interval_s, self.prune, stop, "retention")

    def prune(self) -> Pruned:
        """Delete what is past its retention, batch by batch."""
        now = self.clock()
        out = Pruned()
        while True:
            with self.db.transaction() as repos:
                done = repos.notifications.prune(now - self.delivery_log, BATCH)
            out.notifications += done
            if done < BATCH:
                break
        while True:
            with self.db.transaction() as repos:
                done = repos.alerts.prune_resolved(now - self.alerts, BATCH)
            out.alerts += done
            if done < BATCH:
                break
        if out.notifications or out.alerts:
            log.info("pruned %d notifications and %d resolved alerts", out.notifications, out.alerts)
        return out
