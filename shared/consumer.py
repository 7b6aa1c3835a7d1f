"""The Kafka consumer loop: decode, handle in one database transaction, commit the database, then the offsets.

Failures are sorted by type (as in arroyo): a message that can never be processed goes to the dead-letter
topic; a transient failure (database or broker away) rewinds to the batch's first offsets and retries with
backoff; anything else is a bug and stops the loop loudly (the service's /readyz then fails).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import Engine, Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError

from shared.clock import Clock, utc_now
from shared.inbox import already_processed, mark_processed
from shared.kafka import DEAD_LETTER_SUFFIX
from shared.messages import Envelope, EventData, InvalidMessage, decode
from shared.metrics import CommonMetrics
from shared.runtime import event_fields, log_context, log_events

log = logging.getLogger(__name__)

# A handler writes through ``conn`` (the batch's transaction). It must raise InvalidMessage before writing
# anything, since the batch's other messages commit with it.
Handler = Callable[[Connection, Envelope, EventData], None]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, KafkaError, ConnectionError, TimeoutError,
)


@dataclass
class _Decoded:
    record: object
    envelope: Envelope
    data: EventData


class ConsumerLoop:
    """Consumes topics as one member of a consumer group and hands each new event to ``handler``."""

    def __init__(
        self,
        *,
        name: str,
        engine: Engine,
        inbox: Table,
        consumer_factory: Callable[[], KafkaConsumer],
        dead_letter_producer_factory: Callable[[], KafkaProducer],
        topics: list[str],
        handler: Handler,
        metrics: CommonMetrics,
        after_commit: Callable[[], None] | None = None,
        clock: Clock = utc_now,
        poll_timeout_ms: int = 200,
        max_records: int = 500,
    ) -> None:
        self.name = name
        self.engine = engine
        self.inbox = inbox
        self.consumer_factory = consumer_factory
        self.dead_letter_producer_factory = dead_letter_producer_factory
        self.topics = topics
        self.handler = handler
        self.metrics = metrics
        metrics.init_consumer_series(topics)
        self.after_commit = after_commit
        self.clock = clock
        self.poll_timeout_ms = poll_timeout_ms
        self.max_records = max_records
        self.healthy = False
        self.crashed: BaseException | None = None
        self._consumer: KafkaConsumer | None = None
        self._dlq: KafkaProducer | None = None
        self._lag_reported: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._lag_updated = 0.0

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set."""
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    consumer = self._get_consumer()
                    polled = consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
                    # Ready once this member has joined its group (a join takes seconds on Tansu). A replica
                    # left without partitions (more replicas than partitions) is still a ready member.
                    self.healthy = bool(consumer.assignment()) or _joined(consumer)
                    if polled:
                        self._process(consumer, polled)
                    self._update_lag(consumer)
                    backoff = 0.2
                except TRANSIENT_ERRORS as exc:
                    log.warning("%s: transient failure, retrying in %.1fs: %s", self.name, backoff, exc)
                    self.healthy = False
                    self._close_consumer()
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
        except BaseException as exc:
            self.crashed = exc
            self.healthy = False
            log.exception("%s: consumer loop stopped by an unexpected error", self.name)
            raise
        finally:
            self._close_consumer()
            if self._dlq is not None:
                self._dlq.close(timeout=2)

    def check_ready(self) -> None:
        """Raise unless the loop has joined its group and holds partitions (a readiness check)."""
        if not self.healthy:
            raise RuntimeError("the consumer has not joined its group yet" if self.crashed is None
                               else f"the consumer stopped: {self.crashed!r}")

    def _process(self, consumer: KafkaConsumer, polled: dict[TopicPartition, list]) -> None:
        start = time.perf_counter()
        first_offsets = {tp: recs[0].offset for tp, recs in polled.items() if recs}
        records = [r for recs in polled.values() for r in recs]
        decoded: list[_Decoded] = []
        invalid: list[tuple[object, str]] = []
        for rec in records:
            try:
                env = decode(rec.value)
                decoded.append(_Decoded(rec, env, env.payload()))
            except InvalidMessage as exc:
                invalid.append((rec, str(exc)))
        try:
            with self.engine.begin() as conn:
                seen = already_processed(conn, self.inbox, (d.envelope.id for d in decoded))
                done: list[tuple[str, str]] = []
                fresh = [(d.envelope, d.data) for d in decoded if d.envelope.id not in seen]
                # Handlers may load what a whole batch needs at once, and write deferred rows at its end.
                begin_batch = getattr(self.handler, "begin_batch", None)
                if begin_batch is not None:
                    begin_batch(conn, fresh)
                for d in decoded:
                    if d.envelope.id in seen:
                        self.metrics.consumer_messages.labels(d.record.topic, "duplicate").inc()
                        continue
                    try:
                        with log_context(**event_fields(d.envelope.id, d.envelope.type, d.envelope.data)):
                            self.handler(conn, d.envelope, d.data)
                    except InvalidMessage as exc:
                        invalid.append((d.record, str(exc)))
                        continue
                    seen.add(d.envelope.id)
                    done.append((d.envelope.id, d.envelope.type))
                    self.metrics.consumer_messages.labels(d.record.topic, "processed").inc()
                end_batch = getattr(self.handler, "end_batch", None)
                if end_batch is not None:
                    end_batch(conn)
                mark_processed(conn, self.inbox, done, self.clock())
            for rec, reason in invalid:
                self._dead_letter(rec, reason)
            consumer.commit()  # only after the database commit (and the dead letters) succeeded
            handled = {event_id for event_id, _ in done}
            log_events(log, f"{self.name}: handled", [d.envelope for d in decoded if d.envelope.id in handled],
                       lambda e: event_fields(e.id, e.type, e.data))
            for tp, recs in polled.items():
                if recs:
                    self._positions[tp] = recs[-1].offset + 1
        except BaseException:
            for tp in polled:
                self.metrics.consumer_failures.labels(tp.topic).inc()
            self._rewind(consumer, first_offsets)
            raise
        self.metrics.consumer_duration.observe(time.perf_counter() - start)
        self.metrics.consumer_last_message.set(time.time())
        if self.after_commit is not None:
            self.after_commit()

    def _dead_letter(self, rec: object, reason: str) -> None:
        log.error("%s: dead-lettering %s[%s]@%s: %s", self.name, rec.topic, rec.partition, rec.offset, reason)
        if self._dlq is None:
            self._dlq = self.dead_letter_producer_factory()
        headers = [("dlq-reason", reason[:1000].encode()), ("dlq-offset", str(rec.offset).encode()),
                   ("dlq-partition", str(rec.partition).encode())]
        self._dlq.send(f"{rec.topic}.{DEAD_LETTER_SUFFIX}", key=rec.key, value=rec.value,
                       headers=[*(rec.headers or []), *headers]).get(timeout=30)  # its content-type stays
        self.metrics.consumer_messages.labels(rec.topic, "invalid").inc()

    def _rewind(self, consumer: KafkaConsumer, first_offsets: dict[TopicPartition, int]) -> None:
        try:
            for tp, offset in first_offsets.items():
                consumer.seek(tp, offset)
        except Exception:  # the consumer is closed and rebuilt anyway; its committed offsets are earlier
            log.debug("rewind failed", exc_info=True)

    def _update_lag(self, consumer: KafkaConsumer) -> None:
        # Once a second at most; positions come from what this loop consumed, because consumer.position()
        # asks the coordinator on every call (a round trip per partition).
        now = time.monotonic()
        if now - self._lag_updated < 1.0:
            return
        self._lag_updated = now
        assignment = consumer.assignment()
        # After a rebalance a partition may belong to another replica: drop its lag here, or this replica
        # would report the last value it saw forever.
        for tp in self._lag_reported - assignment:
            self._positions.pop(tp, None)
            with contextlib.suppress(KeyError):
                self.metrics.consumer_lag.remove(tp.topic, str(tp.partition))
        self._lag_reported = set(assignment)
        for topic in self.topics:
            self.metrics.consumer_assigned_partitions.labels(topic).set(
                sum(1 for tp in assignment if tp.topic == topic))
        for tp in assignment:
            high = consumer.highwater(tp)  # right on Tansu, unlike end_offsets() (Kafka notes)
            if high is None:
                continue
            pos = self._positions.get(tp)
            if pos is None:  # newly assigned: ask once, so a stuck consumer still shows its lag
                try:
                    pos = consumer.position(tp, timeout_ms=100)
                except KafkaError:
                    continue
                if pos is None:
                    continue
                self._positions[tp] = pos
            self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, high - pos))

    def _get_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = self.consumer_factory()
            self._consumer.subscribe(self.topics)
        return self._consumer

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except Exception:
                log.debug("closing consumer failed", exc_info=True)
            self._consumer = None


def _joined(consumer: KafkaConsumer) -> bool:
    """Whether the consumer is a stable member of its group (kafka-python keeps this on its coordinator)."""
    coordinator = getattr(consumer, "_coordinator", None)
    stable = getattr(coordinator, "stable", None)
    return bool(stable()) if callable(stable) else False
