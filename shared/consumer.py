"""The Kafka consumer loop: decode, handle in one database transaction, commit the database, then the offsets.

Failures are sorted by type (as in arroyo; shared/failures.py):
- a message that cannot be read, or that its handler refuses (``InvalidMessage``), goes to the dead-letter
  topic with the reason;
- an event id already in ``processed_events`` is skipped, also when an overlapping owner of the partition
  (one whose session timed out while it worked) recorded it while this batch ran: the batch's
  IntegrityError is then settled message by message, and that message is found processed;
- a message whose data the database refuses (DataError: a field longer than its column; a constraint) is
  isolated: the batch is re-run one message per transaction, and only the refused ones are dead-lettered;
- a transient failure (database locked, busy or away, broker away) rewinds to the batch's first offsets and
  retries with backoff;
- anything else is a bug: the loop stops, readiness fails, and the process exits non-zero
  (shared/runtime.py) so that the orchestrator restarts it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)

from shared.clock import Clock, utc_now
from shared.db import Connection
from shared.deadletters import DeadLetters, EnsureTopics, dead_letter_topic
from shared.failures import dependency_of, describe, is_transient, is_unstorable
from shared.faults import fault_point
from shared.inbox import Inbox
from shared.messages import Envelope, EventData, InvalidMessage, decode
from shared.metrics import CommonMetrics
from shared.runtime import event_fields, log_context, log_events

log = logging.getLogger(__name__)

# The group is changing under the member (its commit came during a rebalance): it rejoins by itself on the
# next poll. Closing it then would leave a member the broker still waits for (on Tansu a ghost that keeps
# the group rebalancing), so the loop keeps it and retries the batch.
GROUP_CHANGING = (RebalanceInProgressError, CommitFailedError, IllegalGenerationError, UnknownMemberIdError)
# Without partitions for this long, the loop makes sure its topics exist (a broker that restarted empty
# lost them, and whichever service comes back first re-creates them).
ENSURE_TOPICS_INTERVAL_S = 10.0


class Handler(Protocol):
    """Handles one event, writing through ``conn`` (the batch's transaction).

    It raises ``InvalidMessage`` before writing anything for a message that can never be processed, since
    the batch's other messages commit with it.
    """

    def __call__(self, conn: Connection, envelope: Envelope, data: EventData, /) -> None: ...


@runtime_checkable
class BatchHandler(Handler, Protocol):
    """A handler that also sees the batch: it loads what a batch needs at once and writes deferred rows at its end.

    The loop calls ``begin_batch`` with the batch's new events, the handler once per event, then ``end_batch``,
    all in one transaction. A batch may be rolled back after ``end_batch`` and re-run (a transient failure,
    or one event per batch to isolate one the database refuses), so neither hook may keep state from a batch
    beyond the next ``begin_batch``.
    """

    def begin_batch(self, conn: Connection, items: list[tuple[Envelope, EventData]], /) -> None: ...

    def end_batch(self, conn: Connection, /) -> None: ...


@dataclass
class _Decoded:
    record: Any  # kafka-python's ConsumerRecord
    envelope: Envelope
    data: EventData


@dataclass
class _Outcome:
    """What a batch did, counted only once its transaction committed."""

    processed: list[_Decoded] = field(default_factory=list)
    duplicates: list[_Decoded] = field(default_factory=list)
    invalid: list[tuple[Any, str]] = field(default_factory=list)  # (record, reason): to dead-letter

    def add(self, other: _Outcome) -> None:
        self.processed += other.processed
        self.duplicates += other.duplicates
        self.invalid += other.invalid


class ConsumerLoop:
    """Consumes topics as one member of a consumer group and hands each new event to ``handler``."""

    def __init__(
        self,
        *,
        name: str,
        inbox: Inbox,
        consumer_factory: Callable[[], KafkaConsumer],
        dead_letter_producer_factory: Callable[[], KafkaProducer],
        topics: list[str],
        handler: Handler | BatchHandler,
        metrics: CommonMetrics,
        after_commit: Callable[[], None] | None = None,
        clock: Clock = utc_now,
        poll_timeout_ms: int = 200,
        max_records: int = 500,
        ensure_topics: EnsureTopics | None = None,
        processed_retention: timedelta | None = None,
    ) -> None:
        self.name = name
        self.inbox = inbox
        self.consumer_factory = consumer_factory
        self.topics = topics
        self.handler = handler
        self.batch_handler = handler if isinstance(handler, BatchHandler) else None
        self.metrics = metrics
        metrics.init_consumer_series(topics)
        self.after_commit = after_commit
        self.clock = clock
        self.poll_timeout_ms = poll_timeout_ms
        self.max_records = max_records
        self.ensure_topics = ensure_topics
        self.dead_letters = DeadLetters(name, dead_letter_producer_factory, ensure_topics)
        self.pruner = None if processed_retention is None else inbox.pruner(processed_retention, metrics, clock=clock)
        self.healthy = False
        self.crashed: BaseException | None = None
        self._consumer: KafkaConsumer | None = None
        self._lag_reported: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._lag_updated = 0.0
        self._topics_ensured = 0.0
        self._topics_were_missing = False  # this consumer, unassigned, once saw its topics without partitions
        self._topic_ids: dict[str, object] = {}  # topic -> its id in the broker's metadata, as last seen

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; raises (after closing its clients) when a bug stops it."""
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    self._round()
                    backoff = 0.2
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    log.warning("%s: transient failure, retrying in %.1fs: %s", self.name, backoff, describe(exc))
                    self.metrics.transient_failures.labels("consumer", dependency_of(exc)).inc()
                    self.healthy = False
                    if isinstance(exc, KafkaError | ConnectionError) and not isinstance(exc, GROUP_CHANGING):
                        self._close_consumer()  # a database failure keeps the group membership: no rebalance
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
        except BaseException as exc:
            self.crashed = exc
            self.healthy = False
            log.exception("%s: consumer loop stopped by an unexpected error", self.name)
            raise
        finally:
            self._close_consumer()
            self.dead_letters.close()

    def check_ready(self) -> None:
        """Raise unless the loop has joined its group (a readiness check)."""
        if not self.healthy:
            raise RuntimeError("the consumer has not joined its group yet" if self.crashed is None
                               else "the consumer stopped on an unexpected error")

    def _round(self) -> None:
        consumer = self._get_consumer()
        polled = consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
        assigned = bool(consumer.assignment())
        # Ready once this member has joined its group (a join takes seconds on Tansu). A replica left without
        # partitions (more replicas than partitions) is still a ready member.
        self.healthy = assigned or _joined(consumer)
        if polled:
            self._process(consumer, polled)
        self._rewind_recreated_topics(consumer)
        if self._holds_vanished_partitions(consumer):
            return
        self._update_lag(consumer)
        if not assigned and time.monotonic() - self._topics_ensured >= ENSURE_TOPICS_INTERVAL_S:
            self._ensure_topics()
        if not assigned:
            self._rejoin_if_topics_appeared(consumer)
        if self.pruner is not None:
            self.pruner.maybe_run()

    def _process(self, consumer: KafkaConsumer, polled: dict[TopicPartition, list[Any]]) -> None:
        start = time.perf_counter()
        first_offsets = {tp: recs[0].offset for tp, recs in polled.items() if recs}
        decoded: list[_Decoded] = []
        unreadable: list[tuple[Any, str]] = []
        for rec in (r for recs in polled.values() for r in recs):
            try:
                env = decode(rec.value)
                data, unknown = env.read()
            except InvalidMessage as exc:
                unreadable.append((rec, str(exc)))
                continue
            if unknown:
                self.metrics.consumer_unknown_fields.labels(rec.topic).inc()
            decoded.append(_Decoded(rec, env, data))
        try:
            try:
                outcome = self._run_batch(decoded)
            except Exception as exc:
                if not is_unstorable(exc):
                    raise
                log.warning("%s: the database refused a batch of %d (%s); re-running it one message at a time",
                            self.name, len(decoded), describe(exc))
                outcome = self._isolate(decoded)
            # The batch's rows are committed: wake what delivers them (the outbox relay, the dispatcher) now,
            # not after the offset commit's round trip to the broker (10-20 ms of every event's latency).
            if self.after_commit is not None:
                self.after_commit()
            outcome.invalid = unreadable + outcome.invalid
            for rec, reason in outcome.invalid:
                self.dead_letters.send(rec, reason)
            fault_point("consumer.after_db_commit")  # a crash here redelivers the batch: processed_events drops it
            consumer.commit()  # only after the database commit (and the dead letters) succeeded
            log_events(log, f"{self.name}: handled", [d.envelope for d in outcome.processed],
                       lambda e: event_fields(e.id, e.type, e.data))
        except BaseException:
            for tp in polled:
                self.metrics.consumer_failures.labels(tp.topic).inc()
            self._rewind(consumer, first_offsets)
            raise
        for tp, recs in polled.items():
            if recs:
                self._positions[tp] = recs[-1].offset + 1
        self._count(outcome)
        self.metrics.consumer_duration.observe(time.perf_counter() - start)
        self.metrics.consumer_last_message.set(time.time())

    def _run_batch(self, items: Sequence[_Decoded]) -> _Outcome:
        """Handle ``items`` in one transaction that also records their event ids."""
        outcome = _Outcome()
        with self.inbox.transaction() as conn:
            seen = self.inbox.already_processed(conn, (d.envelope.id for d in items))
            if self.batch_handler is not None:
                self.batch_handler.begin_batch(
                    conn, [(d.envelope, d.data) for d in items if d.envelope.id not in seen])
            for d in items:
                if d.envelope.id in seen:
                    outcome.duplicates.append(d)
                    continue
                try:
                    with log_context(**event_fields(d.envelope.id, d.envelope.type, d.envelope.data)):
                        self.handler(conn, d.envelope, d.data)
                except InvalidMessage as exc:
                    outcome.invalid.append((d.record, str(exc)))
                    continue
                seen.add(d.envelope.id)  # the same event twice in one batch: the second is a duplicate
                outcome.processed.append(d)
            if self.batch_handler is not None:
                self.batch_handler.end_batch(conn)
            self.inbox.mark_processed(conn, [(d.envelope.id, d.envelope.type) for d in outcome.processed],
                                      self.clock())
        return outcome

    def _isolate(self, items: Sequence[_Decoded]) -> _Outcome:
        """Re-run a refused batch one message per transaction; dead-letter only the messages refused alone."""
        outcome = _Outcome()
        for d in items:
            try:
                outcome.add(self._run_batch([d]))
            except Exception as exc:
                if not is_unstorable(exc):
                    raise
                if self.inbox.recorded(d.envelope.id):  # an overlapping owner processed it meanwhile
                    outcome.duplicates.append(d)
                    continue
                outcome.invalid.append((d.record, f"the database refused it: {describe(exc)}"))
        return outcome

    def _count(self, outcome: _Outcome) -> None:
        for d in outcome.processed:
            self.metrics.consumer_messages.labels(d.record.topic, "processed").inc()
        for d in outcome.duplicates:
            self.metrics.consumer_messages.labels(d.record.topic, "duplicate").inc()
        for rec, _ in outcome.invalid:
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
            high = consumer.highwater(tp)  # right on Tansu, unlike end_offsets() (docs/kafka.md)
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

    def _ensure_topics(self) -> None:
        """Make sure the topics and their dead-letter topics exist."""
        self._topics_ensured = time.monotonic()
        if self.ensure_topics is not None:
            self.ensure_topics([*self.topics, *(dead_letter_topic(t) for t in self.topics)])

    def _rewind_recreated_topics(self, consumer: KafkaConsumer) -> None:
        """Read a topic that came back with a new id (a broker that restarted empty) from its start.

        kafka-python keeps its positions in partitions that stay assigned: in the new topic, whose first
        messages lie below them, it would wait for offsets that come only later and skip those
        (docs/kafka.md). Seeking, not rebuilding the consumer: a member closed while the new broker's group
        forms leaves a ghost that keeps Tansu's group rebalancing.
        """
        topic_id = getattr(getattr(consumer, "_cluster", None), "topic_id", None)
        if topic_id is None:
            return
        for t in self.topics:
            new = topic_id(t)
            if new is None:
                continue
            old = self._topic_ids.get(t)
            self._topic_ids[t] = new
            if old is not None and old != new:
                parts = [tp for tp in consumer.assignment() if tp.topic == t]
                log.warning("%s: %s was re-created (the broker lost it); reading %d partitions from the start",
                            self.name, t, len(parts))
                for tp in parts:
                    self._positions.pop(tp, None)
                if parts:
                    consumer.seek_to_beginning(*parts)

    def _holds_vanished_partitions(self, consumer: KafkaConsumer) -> bool:
        """Rejoin the group when the assignment holds partitions its topic no longer has.

        A broker that restarted empty may re-create a subscribed topic with fewer partitions (Tansu makes 4 on a
        consumer's metadata request, before any loop makes it with the configured count). Tansu keeps answering
        the old member's heartbeats, so kafka-python never rejoins by itself, and it waits for the positions of
        the gone partitions before fetching any: the loop would read nothing more (docs/kafka.md). The member
        rejoins in place, not as a new consumer: one closed while the new broker holds it in the group leaves a
        ghost the next join waits for.
        """
        cluster = getattr(consumer, "_cluster", None)
        coordinator = getattr(consumer, "_coordinator", None)
        partitions_for = getattr(cluster, "partitions_for_topic", None)
        request_rejoin = getattr(coordinator, "request_rejoin", None)
        if partitions_for is None or request_rejoin is None:
            return False
        for tp in consumer.assignment():
            known = partitions_for(tp.topic)
            if known and tp.partition not in known:
                if getattr(coordinator, "rejoin_needed", False):
                    return True  # asked already; the rejoin is under way (the next poll makes it)
                log.warning("%s: %s now has %d partitions and this member holds partition %d; rejoining the group",
                            self.name, tp.topic, len(known), tp.partition)
                request_rejoin()
                self._positions.clear()  # asked afresh for the new assignment
                return True
        return False

    def _rejoin_if_topics_appeared(self, consumer: KafkaConsumer) -> None:
        # A group that formed while its topics were missing keeps its empty assignment when they come back
        # (docs/kafka.md): join again, as a new member, once the metadata shows them, whoever created them.
        # A replica left without partitions because the group has more members than partitions sees no
        # change and stays. Rejoining in place does not help on Tansu, which answers the same generation
        # with the same empty assignment; and only a stable member leaves, since one closed while its group
        # forms leaves a ghost (see above).
        partitions_for = getattr(getattr(consumer, "_cluster", None), "partitions_for_topic", None)
        if partitions_for is None:
            return
        seen = sum(len(partitions_for(t) or ()) for t in self.topics)  # the metadata at hand: no request
        joined = _joined(consumer)  # a member that joined has its topics' metadata: a zero then is real
        if seen == 0 and joined:
            self._topics_were_missing = True
        elif seen and self._topics_were_missing and joined:
            log.warning("%s: its topics appeared after the group formed; joining again to get partitions",
                        self.name)
            self._close_consumer()

    def _get_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._topics_were_missing = False
            self._ensure_topics()
            self._consumer = self.consumer_factory()
            self._consumer.subscribe(self.topics, listener=_RebalanceFaults())
        return self._consumer

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False)
            except Exception:
                log.debug("closing consumer failed", exc_info=True)
            self._consumer = None


class _RebalanceFaults(ConsumerRebalanceListener):  # type: ignore[misc]  # kafka-python is untyped
    """The rebalance's fault point: a member that loses partitions to a joining one dies before it rejoins."""

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Called before the member rejoins (kafka-python, eager protocol), also with nothing on a first join."""
        if revoked:  # only a member that held partitions leaves the group mid-rebalance with work to hand over
            fault_point("consumer.partitions_revoked")

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: positions come from the committed offsets."""


def _joined(consumer: KafkaConsumer) -> bool:
    """Whether the consumer is a stable member of its group (kafka-python keeps this on its coordinator)."""
    coordinator = getattr(consumer, "_coordinator", None)
    stable = getattr(coordinator, "stable", None)
    return bool(stable()) if callable(stable) else False
