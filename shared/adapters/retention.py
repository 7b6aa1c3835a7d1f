"""Pruning rows past their retention (sent outbox rows, processed event ids), now and then, in small chunks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from shared.clock import Clock, utc_now
from shared.metrics import CommonMetrics

log = logging.getLogger(__name__)

# Often enough that a table never holds much more than its retention, rarely enough to cost nothing.
PRUNE_INTERVAL_S = 600.0
# Rows per transaction: SQLite has one writer, and a short delete keeps the others moving.
PRUNE_CHUNK = 1000

Prune = Callable[[Connection, datetime, int], int]  # (conn, delete rows older than this, at most n) -> deleted


class Pruner:
    """Runs ``prune`` for rows older than ``retention`` at most once per ``interval_s``."""

    def __init__(self, engine: Engine, table: str, prune: Prune, retention: timedelta, metrics: CommonMetrics, *,
                 clock: Clock = utc_now, interval_s: float = PRUNE_INTERVAL_S, chunk: int = PRUNE_CHUNK) -> None:
        self.engine = engine
        self.table = table
        self.prune = prune
        self.retention = retention
        self.metrics = metrics
        self.clock = clock
        self.interval_s = interval_s
        self.chunk = chunk
        self._last = time.monotonic()  # not at start-up: a restarting fleet should not all prune at once

    def maybe_run(self) -> int:
        """Prune when the interval has passed since the last run; returns the rows deleted."""
        if time.monotonic() - self._last < self.interval_s:
            return 0
        return self.run()

    def run(self) -> int:
        """Delete every row past the retention now, a chunk per transaction; returns how many."""
        self._last = time.monotonic()
        before = self.clock() - self.retention
        total = 0
        while True:
            with self.engine.begin() as conn:
                n = self.prune(conn, before, self.chunk)
            total += n
            self.metrics.pruned_rows.labels(self.table).inc(n)
            if n < self.chunk:
                break
        if total:
            log.info("pruned %d %s rows older than %s", total, self.table, before.isoformat())
        return total
