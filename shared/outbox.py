"""The transactional outbox: events are written with the data they describe, then a relay publishes them.

"Accepted" means committed together with its outbox row. The relay publishes unsent rows in id order with
acks=all and marks them sent in the same database transaction that selected them; a crash between the
send and that commit re-sends the rows, which the consumers drop by event id. Sent rows are deleted once
they are older than the retention (``<P>OUTBOX_RETENTION_H``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import (
    Column,
    Engine,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from shared.adapters.leader import LeaderLock
from shared.adapters.retention import Pruner
from shared.clock import Clock, utc_now
from shared.db import BigId, UTCDateTime, insert_rows, one_of
from shared.deadletters import EnsureTopics
from shared.failures import dependency_of, describe, is_transient
from shared.faults import fault_point
from shared.kafka import STRUCTURED_MODE_HEADERS
from shared.messages import EventData, encode_events
from shared.metrics import CommonMetrics
from shared.runtime import current_log_context, event_fields, log_events

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table, in the service's own metadata (and its own migrations)."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("sent_at", UTCDateTime, nullable=True),
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL"),
              sqlite_where=text("sent_at IS NULL")),
    )


class Outbox:
    """Writes events to the outbox inside the caller's transaction."""

    def __init__(self, table: Table, *, source: str, topic_prefix: str, clock: Clock = utc_now) -> None:
        self.table = table
        self.source = source
        self.topic_prefix = topic_prefix
        self.clock = clock

    def rows(self, events: Iterable[EventData], now: datetime | None = None) -> list[dict[str, object]]:
        """Outbox rows for events, ready for an executemany insert; each gets a fresh event id."""
        now = now or self.clock()
        events = list(events)
        return [
            {"event_id": event_id, "topic": f"{self.topic_prefix}.{data.topic}", "key": data.key(),
             "payload": payload, "created_at": now}
            for data, (event_id, payload) in zip(events, encode_events(events, source=self.source, time=now),
                                                 strict=True)
        ]

    def add(self, conn: Connection, events: Iterable[EventData], now: datetime | None = None) -> list[str]:
        """Insert events into the outbox in ``conn``'s transaction; returns their event ids."""
        events = list(events)
        rows = self.rows(events, now)
        if rows:
            insert_rows(conn, self.table, rows)
            cause = current_log_context().get("event_id")  # the event being handled, in a consumer
            log_events(log, "outbox: wrote", list(zip(rows, events, strict=True)), lambda item: {
                **event_fields(str(item[0]["event_id"]), item[1].event_type, item[1].model_dump(mode="json")),
                "caused_by": cause})
        return [str(r["event_id"]) for r in rows]


class OutboxRelay:
    """Publishes unsent outbox rows to Kafka; runs in a background thread of the service."""

    # A constant key for PostgreSQL's advisory lock (see _is_leader).
    ADVISORY_LOCK_KEY = 0x0B0C_5E1A

    def __init__(
        self,
        engine: Engine,
        table: Table,
        producer_factory: Callable[[], KafkaProducer],
        metrics: CommonMetrics,
        *,
        batch_size: int = 1000,
        poll_interval_s: float = 0.5,
        clock: Clock = utc_now,
        ensure_topics: EnsureTopics | None = None,
        retention: timedelta | None = None,
    ) -> None:
        self.engine = engine
        self.table = table
        self.producer_factory = producer_factory
        self.metrics = metrics
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self.ensure_topics = ensure_topics
        self.pruner = None if retention is None else Pruner(
            engine, table.name, lambda conn, before, n: prune_sent(conn, table, before, n), retention, metrics,
            clock=clock)
        self._producer: KafkaProducer | None = None
        self._leader = LeaderLock(engine, "relay", self.ADVISORY_LOCK_KEY)
        self._wake = threading.Event()
        self._last_gauge_update = 0.0
        self.healthy = False

    def wake(self) -> None:
        """Ask the relay to publish now (called after a commit that wrote to the outbox)."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; broker and database failures are retried with backoff, never dropped.

        Anything else is a bug and ends the loop (shared/runtime.py then fails readiness and the process).
        """
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    published = self.publish_pending()
                    self._update_gauges()
                    if self.pruner is not None and self._leader.held():
                        self.pruner.maybe_run()
                    backoff = 0.2
                    self.healthy = True
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    # broker or database away: keep the rows, retry later
                    log.warning("outbox relay round failed; retrying in %.1fs: %s", backoff, describe(exc))
                    self.metrics.outbox_publish_failures.inc()
                    self.metrics.transient_failures.labels("outbox-relay", dependency_of(exc)).inc()
                    self.healthy = False
                    self._reset_producer()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if published < self.batch_size:
                    self._wake.wait(self.poll_interval_s)
                    self._wake.clear()
        finally:
            self.healthy = False
            self._reset_producer()
            self._release_leadership()

    def publish_pending(self) -> int:
        """Publish one batch of unsent rows; returns how many were published.

        No transaction is held while sending, so a slow or absent broker never blocks writers.
        """
        if not self._is_leader():
            return 0
        t = self.table
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.topic, t.c.key, t.c.payload)
                .where(t.c.sent_at.is_(None))
                .order_by(t.c.id)
                .limit(self.batch_size)
            ).all()
        if not rows:
            return 0
        producer = self._get_producer(sorted({r.topic for r in rows}))
        futures = [producer.send(r.topic, key=r.key.encode(), value=bytes(r.payload), headers=STRUCTURED_MODE_HEADERS)
                   for r in rows]
        producer.flush(timeout=30)
        for f in futures:
            f.get(timeout=30)  # raises the send's KafkaError: nothing is marked sent, the round is retried
        fault_point("outbox.after_send")  # a crash here re-sends the batch: consumers drop it by event id
        with self.engine.begin() as conn:  # the ids as one array on PostgreSQL (one_of), not 1,000 placeholders
            conn.execute(update(t).where(one_of(conn, t.c.id, [r.id for r in rows])).values(sent_at=self.clock()))
        for topic, n in Counter(r.topic for r in rows).items():
            self.metrics.outbox_published.labels(topic).inc(n)
        return len(rows)

    def _is_leader(self) -> bool:
        """Only one replica publishes, keeping the outbox order (shared/adapters/leader.py)."""
        return self._leader.held()

    def _release_leadership(self) -> None:
        self._leader.release()

    def _get_producer(self, topics: list[str]) -> KafkaProducer:
        if self._producer is None:
            # Made anew after every failed round. A broker that restarted empty lost the topics too, and
            # producers never create them (docs/kafka.md): make sure they exist before publishing again.
            if self.ensure_topics is not None:
                self.ensure_topics(topics)
            self._producer = self.producer_factory()
        return self._producer

    def _reset_producer(self) -> None:
        # An idempotent producer that lived through a broker restart stays broken (docs/kafka.md): recreate it.
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.close(timeout=2)
            self._producer = None

    def _update_gauges(self) -> None:
        now = time.monotonic()
        if now - self._last_gauge_update < 1.0:
            return
        self._last_gauge_update = now
        t = self.table
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(t.c.created_at)).where(t.c.sent_at.is_(None))
            ).one()
        self.metrics.outbox_pending.set(count)
        if oldest is None:
            self.metrics.outbox_oldest_age.set(0)
        else:
            self.metrics.outbox_oldest_age.set(max(0.0, (self.clock() - oldest).total_seconds()))


def prune_sent(conn: Connection, table: Table, before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` outbox rows sent before ``before`` (oldest first); returns how many."""
    ids = list(conn.execute(select(table.c.id).where(table.c.sent_at < before).order_by(table.c.id)
                            .limit(limit)).scalars())
    if ids:
        conn.execute(delete(table).where(table.c.id.in_(ids)))
    return len(ids)
