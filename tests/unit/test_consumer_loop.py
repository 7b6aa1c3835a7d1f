"""shared/consumer.py's promises, one round at a time, against a real SQLite file and a recording consumer in
Kafka's place: the offsets are committed only after the database (and any dead letters), a repeated event is
handled once, an unreadable or refused message is dead-lettered with its reason and the rest go on, a
transient failure commits nothing and rewinds, a row the database refuses is isolated, and a bug stops the loop.

The real broker's side (groups, rebalances, a broker restarting) is in tests/integration and tests/e2e.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import Column, MetaData, String, Table, create_engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, OperationalError

from shared.consumer import ConsumerLoop
from shared.deadletters import CONSUMER, OFFSET, PARTITION, REASON
from shared.deadletters import TOPIC as FROM_TOPIC
from shared.inbox import Inbox, inbox_table
from shared.messages import (
    Envelope,
    EventData,
    InvalidMessage,
    ObservationRecorded,
    ObservationStatus,
    encode,
    envelope_for,
)
from shared.metrics import CommonMetrics
from shared.runtime import current_log_context

T0 = datetime(2024, 7, 15, 2, 0, tzinfo=UTC)
TOPIC = "wx.observations"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def _obs(n: int) -> ObservationRecorded:
    return ObservationRecorded(
        observation_id=f"obs{n:04d}", indicator="gdp", region="wuxi", period="2024-Q2",
        measure="cumulative_yoy_pct", value=4.6, unit="%", status=ObservationStatus.PROVISIONAL,
        vintage=1, submitted_by="stats", recorded_at=T0)


@dataclass
class Rec:
    """A consumed record, as kafka-python gives it."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = b"gdp"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def rec(tp: TopicPartition, offset: int, n: int, event_id: str | None = None) -> Rec:
    return Rec(tp.topic, tp.partition, offset, encode(envelope_for(_obs(n), source="/t", time=T0,
                                                                   event_id=event_id or f"ev{n}")))


class Consumer:
    """Hands out the prepared polls, then nothing; records commits (with what the database held) and seeks."""

    def __init__(self, polls: list[dict[TopicPartition, list[Rec]]], on_commit) -> None:  # type: ignore[no-untyped-def]
        self.polls = list(polls)
        self.on_commit = on_commit
        self.commits: list[object] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.subscribed: list[str] = []
        self.closed = False
        self.polled_with: list[tuple[int, int | None]] = []

    def subscribe(self, topics: list[str], listener: object = None) -> None:
        self.subscribed = list(topics)

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[Rec]]:
        self.polled_with.append((timeout_ms, max_records))
        return self.polls.pop(0) if self.polls else {}

    def assignment(self) -> set[TopicPartition]:
        return {P0, P1}

    def commit(self) -> None:
        self.commits.append(self.on_commit())

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    def highwater(self, tp: TopicPartition) -> None:
        return None

    def close(self, autocommit: bool = True) -> None:  # kafka-python's default commits the positions
        self.closed = True
        self.autocommit = autocommit


class Producer:
    """A dead-letter producer that records what it sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes, dict[str, bytes]]] = []

    def send(self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> Producer:
        self.sent.append((topic, key, value, dict(headers)))
        return self

    def get(self, timeout: float) -> None:
        return None

    def close(self, timeout: float = 0) -> None:
        return None


class Handler:
    """Writes each event's id into a table of its own in the batch's transaction; can be told to fail."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.calls: list[str] = []
        self.contexts: list[tuple[str | None, str | None]] = []
        self.fail: dict[str, BaseException] = {}  # observation id -> what to raise

    def __call__(self, conn: Any, envelope: Envelope, data: EventData) -> None:
        assert isinstance(data, ObservationRecorded)
        self.calls.append(envelope.id)
        context = current_log_context()  # what every log line written while handling it carries
        self.contexts.append((context.get("event_id"), context.get("event_type")))
        conn.execute(self.table.insert().values(event_id=envelope.id, note=data.observation_id))
        if data.observation_id in self.fail:
            raise self.fail[data.observation_id]


class Batched(Handler):
    """A batch handler: sees each batch's new events first and closes it at the end, in the transaction."""

    def __init__(self, table: Table) -> None:
        super().__init__(table)
        self.batches: list[list[str]] = []
        self.ended = 0
        self.connections: list[object] = []

    def begin_batch(self, conn: Any, items: list[tuple[Envelope, EventData]]) -> None:
        self.batches.append([e.id for e, _ in items])
        self.connections.append(conn)

    def end_batch(self, conn: Any) -> None:
        self.ended += 1
        self.connections.append(conn)


@dataclass
class World:
    loop: ConsumerLoop
    consumer: Consumer
    producer: Producer
    handler: Handler
    inbox: Inbox
    handled: Table
    registry: CollectorRegistry
    after_commit: list[int]

    def round(self) -> None:
        self.loop._round()

    def rows(self) -> list[str]:
        with self.inbox.engine.connect() as conn:
            return sorted(conn.execute(select(self.handled.c.event_id)).scalars())

    def count(self, outcome: str) -> float | None:
        return self.registry.get_sample_value("consumer_messages_total", {"topic": TOPIC, "outcome": outcome})


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    engine = create_engine(f"sqlite:///{tmp_path / 'consumer.db'}")
    metadata = MetaData()
    table = inbox_table(metadata)
    handled = Table("handled", metadata, Column("event_id", String(64), primary_key=True),
                    Column("note", String(8), nullable=False))
    metadata.create_all(engine)
    inbox = Inbox(engine, table)

    def build(polls: list[dict[TopicPartition, list[Rec]]], handler_cls: type[Handler] = Handler) -> World:
        registry = CollectorRegistry()
        producer = Producer()
        handler = handler_cls(handled)
        after: list[int] = []

        def committed_state() -> tuple[list[str], list[str]]:
            """What the database holds when the offsets are committed: the handled rows and recorded ids."""
            with engine.connect() as conn:
                return (sorted(conn.execute(select(handled.c.event_id)).scalars()),
                        sorted(conn.execute(select(table.c.event_id)).scalars()))

        consumer = Consumer(polls, committed_state)
        loop = ConsumerLoop(name="evaluator", inbox=inbox, consumer_factory=lambda: consumer,  # type: ignore[arg-type,return-value]
                            dead_letter_producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
                            topics=[TOPIC], handler=handler, metrics=CommonMetrics(registry, "evaluator"),
                            after_commit=lambda: after.append(1), clock=lambda: T0)
        return World(loop, consumer, producer, handler, inbox, handled, registry, after)

    yield build
    engine.dispose()


def test_a_batch_is_handled_in_one_transaction_and_its_offsets_committed_after_it(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 10, 1), rec(P0, 11, 2)], P1: [rec(P1, 5, 3)]}])
    w.round()
    assert w.consumer.subscribed == [TOPIC]
    assert w.handler.calls == ["ev1", "ev2", "ev3"]
    # When the offsets were committed, the handler's rows and the recorded event ids were already in the database.
    assert w.consumer.commits == [(["ev1", "ev2", "ev3"], ["ev1", "ev2", "ev3"])]
    assert (w.count("processed"), w.count("duplicate"), w.count("invalid")) == (3.0, 0.0, 0.0)
    assert w.after_commit == [1] and w.consumer.seeks == []
    assert w.loop._positions == {P0: 12, P1: 6}  # where this loop has read to, for its lag
    assert w.loop.healthy is True
    w.round()  # nothing polled: nothing handled, nothing committed
    assert len(w.consumer.commits) == 1 and w.after_commit == [1]


def test_the_relay_or_dispatcher_is_woken_once_the_batch_is_in_the_database_before_the_offset_commit(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 10, 1), rec(P0, 11, 2)]}])
    woken: list[tuple[list[str], int]] = []
    w.loop.after_commit = lambda: woken.append((w.rows(), len(w.consumer.commits)))
    w.round()
    # The rows to deliver are committed when it is woken, and it does not wait for the broker's offset commit.
    assert woken == [(["ev1", "ev2"], 0)] and len(w.consumer.commits) == 1


def test_an_event_already_processed_is_not_handled_again_and_the_same_event_twice_in_a_batch_once(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 0, 1)]}, {P0: [rec(P0, 1, 1), rec(P0, 2, 2), rec(P0, 3, 2)]}])
    w.round()
    w.round()  # ev1 again (redelivered after a crash), ev2 twice in one batch
    assert w.handler.calls == ["ev1", "ev2"]
    assert w.rows() == ["ev1", "ev2"]
    assert (w.count("processed"), w.count("duplicate")) == (2.0, 2.0)
    assert len(w.consumer.commits) == 2  # a batch of duplicates is committed too, or it comes back for ever


def test_an_unreadable_message_and_one_its_handler_refuses_are_dead_lettered_and_the_rest_handled(make) -> None:  # type: ignore[no-untyped-def]
    bad = Rec(TOPIC, 0, 7, b"{not json", headers=[("content-type", b"application/cloudevents+json")])
    w = make([{P0: [bad, rec(P0, 8, 1), rec(P0, 9, 2)]}])
    w.handler.fail["obs0002"] = InvalidMessage("indicator unknown to this catalogue")
    w.round()
    assert [s[0] for s in w.producer.sent] == [f"{TOPIC}.dlq", f"{TOPIC}.dlq"]
    unreadable, refused = (s[3] for s in w.producer.sent)
    assert w.producer.sent[0][2] == b"{not json" and unreadable["content-type"] == b"application/cloudevents+json"
    assert unreadable[REASON].startswith(b"not a CloudEvents 1.0 JSON event: ")  # the decoder's reason
    assert refused[REASON] == b"indicator unknown to this catalogue"
    assert [(h[FROM_TOPIC], h[PARTITION], h[OFFSET], h[CONSUMER]) for h in (unreadable, refused)] == [
        (TOPIC.encode(), b"0", b"7", b"evaluator"), (TOPIC.encode(), b"0", b"9", b"evaluator")]
    # ev2's handler wrote before refusing: InvalidMessage is to be raised before writing, but nothing of
    # a refused message may be recorded as processed.
    with w.inbox.engine.connect() as conn:
        assert sorted(conn.execute(select(w.inbox.table.c.event_id)).scalars()) == ["ev1"]
    assert (w.count("processed"), w.count("invalid")) == (1.0, 2.0)
    assert len(w.consumer.commits) == 1


def test_a_transient_failure_commits_nothing_rewinds_to_the_batch_and_the_retry_handles_it(make) -> None:  # type: ignore[no-untyped-def]
    batch = {P0: [rec(P0, 20, 1), rec(P0, 21, 2)], P1: [rec(P1, 3, 3)]}
    w = make([batch, batch])
    w.handler.fail["obs0002"] = OperationalError("INSERT …", {}, Exception("database is locked"))
    with pytest.raises(OperationalError):
        w.round()
    assert w.consumer.commits == [] and w.rows() == []  # rolled back: ev1 is not half-done
    assert sorted(w.consumer.seeks) == [(P0, 20), (P1, 3)]  # back to each partition's first offset
    assert w.registry.get_sample_value("consumer_batch_failures_total", {"topic": TOPIC}) == 2.0  # per partition
    assert w.after_commit == [] and w.count("processed") == 0.0
    del w.handler.fail["obs0002"]
    w.round()
    assert w.rows() == ["ev1", "ev2", "ev3"] and len(w.consumer.commits) == 1


def test_the_loop_retries_a_transient_failure_and_stops_on_a_bug(make) -> None:  # type: ignore[no-untyped-def]
    batch = {P0: [rec(P0, 0, 1)]}
    w = make([batch, batch, {P0: [rec(P0, 1, 2)]}])
    w.handler.fail["obs0001"] = OperationalError("INSERT …", {}, Exception("database is locked"))
    stop = threading.Event()
    calls = 0
    original = w.loop._round

    def round_then_heal() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            w.handler.fail.clear()
            w.handler.fail["obs0002"] = ValueError("a bug in the handler")
        original()

    w.loop._round = round_then_heal  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="a bug in the handler"):
        w.loop.run(stop)
    assert w.rows() == ["ev1"] and len(w.consumer.commits) == 1  # the transient failure was retried
    assert isinstance(w.loop.crashed, ValueError) and w.loop.healthy is False and w.consumer.closed
    transient = {"loop": "consumer", "dependency": "database"}
    assert w.registry.get_sample_value("transient_failures_total", transient) == 1.0
    with pytest.raises(RuntimeError, match="stopped on an unexpected error"):
        w.loop.check_ready()


def test_a_row_the_database_refuses_is_isolated_and_only_its_message_dead_lettered(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 0, 1), rec(P0, 1, 2), rec(P0, 2, 3)]}])
    w.handler.fail["obs0002"] = DataError("INSERT …", {}, Exception("value too long for type character varying"))
    w.round()
    assert w.rows() == ["ev1", "ev3"]  # the others, each in a transaction of its own
    assert len(w.producer.sent) == 1 and w.producer.sent[0][2] == rec(P0, 1, 2).value
    assert w.producer.sent[0][3][REASON] == (
        b"the database refused it: Exception: value too long for type character varying")  # the driver's words
    assert (w.count("processed"), w.count("invalid")) == (2.0, 1.0) and len(w.consumer.commits) == 1


def test_a_batch_handler_sees_the_batchs_new_events_then_its_end_in_the_transaction(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 0, 1)]}, {P0: [rec(P0, 1, 1), rec(P0, 2, 2)]}], Batched)
    w.round()
    w.round()
    assert isinstance(w.handler, Batched)
    assert w.handler.batches == [["ev1"], ["ev2"]] and w.handler.ended == 2  # the repeat of ev1 left out
    assert w.handler.calls == ["ev1", "ev2"]
    assert all(isinstance(c, Connection) for c in w.handler.connections)  # the batch's own transaction
    assert len(w.handler.connections) == 4


def test_not_ready_until_it_has_joined_and_unknown_fields_are_counted(make) -> None:  # type: ignore[no-untyped-def]
    env = envelope_for(_obs(1), source="/t", time=T0, event_id="ev1").model_dump(mode="json")
    env["data"]["a_field_from_a_newer_version"] = 1
    w = make([{P0: [Rec(TOPIC, 0, 0, json.dumps(env).encode())]}])
    with pytest.raises(RuntimeError, match="has not joined its group yet"):
        w.loop.check_ready()
    w.round()
    w.loop.check_ready()
    assert w.rows() == ["ev1"]
    assert w.registry.get_sample_value("consumer_unknown_fields_total", {"topic": TOPIC}) == 1.0


# What the broker does under the loop (kafka-python's metadata and coordinator, read through getattr as the loop
# reads them): lag per partition, a rebalance taking partitions away, a topic re-created with fewer partitions or
# a new id by a broker that restarted empty, topics appearing after the group formed.

class Cluster:
    def __init__(self, partitions: dict[str, set[int] | None], ids: dict[str, object] | None = None) -> None:
        self.partitions = partitions
        self.ids = ids or {}

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions.get(topic)

    def topic_id(self, topic: str) -> object:
        return self.ids.get(topic)


class Coordinator:
    def __init__(self, stable: bool = True) -> None:
        self.is_stable = stable
        self.rejoin_needed = False
        self.rejoins = 0

    def stable(self) -> bool:
        return self.is_stable

    def request_rejoin(self) -> None:
        self.rejoins += 1
        self.rejoin_needed = True


class Broker(Consumer):
    """The recording consumer, with the metadata, the coordinator and the positions a broker gives."""

    def __init__(self, cluster: Cluster, coordinator: Coordinator, assigned: set[TopicPartition]) -> None:
        super().__init__([], lambda: None)
        self._cluster = cluster
        self._coordinator = coordinator
        self.assigned = set(assigned)
        self.high: dict[TopicPartition, int] = {}
        self.positions: dict[TopicPartition, int | Exception] = {}
        self.to_beginning: list[TopicPartition] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> int | None:  # type: ignore[override]
        return self.high.get(tp)

    def position(self, tp: TopicPartition, timeout_ms: int = 0) -> int | None:
        found = self.positions.get(tp)
        if isinstance(found, Exception):
            raise found
        return found

    def seek_to_beginning(self, *parts: TopicPartition) -> None:
        self.to_beginning += parts


def _loop_on(make, broker: Broker) -> World:  # type: ignore[no-untyped-def]
    w = make([])
    w.loop.consumer_factory = lambda: broker
    w.consumer = broker
    w.loop._get_consumer()
    return w


def _lag(w: World, tp: TopicPartition) -> float | None:
    return w.registry.get_sample_value("consumer_lag_messages", {"topic": tp.topic, "partition": str(tp.partition)})


def test_lag_per_partition_from_what_was_read_and_a_partition_handed_over_stops_being_reported(make) -> None:  # type: ignore[no-untyped-def]
    from kafka.errors import KafkaTimeoutError

    p2, p3 = TopicPartition(TOPIC, 2), TopicPartition(TOPIC, 3)
    broker = Broker(Cluster({TOPIC: {0, 1, 2, 3}}), Coordinator(), {P0, P1})
    w = _loop_on(make, broker)
    w.loop._positions[P0] = 12  # read to offset 12
    broker.high = {P0: 15, P1: 4}
    broker.positions = {P1: 4}  # not read yet: asked once
    w.loop._update_lag(broker)
    assert (_lag(w, P0), _lag(w, P1)) == (3.0, 0.0) and w.loop._positions[P1] == 4
    assert w.registry.get_sample_value("consumer_assigned_partitions", {"topic": TOPIC}) == 2.0
    broker.high[P0] = 20
    w.loop._update_lag(broker)  # within the second: not read again
    assert _lag(w, P0) == 3.0
    # A rebalance: P1 goes to another replica, P2 and P3 come; P3's position cannot be had just now.
    broker.assigned = {P0, p2, p3}
    broker.high.update({p2: 10, p3: 9})
    broker.positions = {p2: 7, p3: KafkaTimeoutError()}
    w.loop._lag_updated = 0.0
    w.loop._update_lag(broker)
    assert (_lag(w, P0), _lag(w, P1), _lag(w, p2), _lag(w, p3)) == (8.0, None, 3.0, None)
    assert P1 not in w.loop._positions and w.loop._positions[p2] == 7 and p3 not in w.loop._positions
    assert w.registry.get_sample_value("consumer_assigned_partitions", {"topic": TOPIC}) == 3.0
    broker.positions = {p3: None}  # still nothing to say: no lag shown rather than a wrong one
    w.loop._lag_updated = 0.0
    w.loop._update_lag(broker)
    assert _lag(w, p3) is None and p3 not in w.loop._positions


def test_a_partition_its_topic_no_longer_has_makes_the_member_rejoin_once(make) -> None:  # type: ignore[no-untyped-def]
    gone = TopicPartition(TOPIC, 5)
    coordinator = Coordinator()
    broker = Broker(Cluster({TOPIC: {0, 1, 2, 3}}), coordinator, {P0, gone})
    w = _loop_on(make, broker)
    w.loop._positions = {P0: 3, gone: 9}
    assert w.loop._holds_vanished_partitions(broker) is True
    assert coordinator.rejoins == 1 and w.loop._positions == {}
    assert w.loop._holds_vanished_partitions(broker) is True  # under way: not asked twice
    assert coordinator.rejoins == 1
    broker.assigned = {P0, P1}
    assert w.loop._holds_vanished_partitions(broker) is False
    broker._cluster = Cluster({TOPIC: None})  # no metadata for the topic yet: nothing to judge by
    broker.assigned = {gone}
    assert w.loop._holds_vanished_partitions(broker) is False
    del broker._coordinator
    broker._cluster = Cluster({TOPIC: {0}})
    assert w.loop._holds_vanished_partitions(broker) is False  # another client library: left alone


def test_a_topic_recreated_with_a_new_id_is_read_from_its_start(make) -> None:  # type: ignore[no-untyped-def]
    other = TopicPartition("wx.other", 0)
    cluster = Cluster({TOPIC: {0, 1}}, {TOPIC: "id-1"})
    broker = Broker(cluster, Coordinator(), {P0, P1, other})
    w = _loop_on(make, broker)
    w.loop._rewind_recreated_topics(broker)  # first sight: remembered, nothing rewound
    assert broker.to_beginning == []
    w.loop._positions = {P0: 40, P1: 41}
    w.loop._rewind_recreated_topics(broker)  # the same id: nothing
    assert broker.to_beginning == [] and w.loop._positions == {P0: 40, P1: 41}
    cluster.ids[TOPIC] = "id-2"  # the broker restarted empty and the topic came back
    w.loop._rewind_recreated_topics(broker)
    assert sorted(broker.to_beginning) == [P0, P1] and w.loop._positions == {}
    cluster.ids[TOPIC] = None  # unknown for a moment: the last id seen is kept
    w.loop._rewind_recreated_topics(broker)
    cluster.ids[TOPIC] = "id-2"
    w.loop._rewind_recreated_topics(broker)
    assert len(broker.to_beginning) == 2


def test_topics_appearing_after_the_group_formed_make_a_stable_member_join_again(make) -> None:  # type: ignore[no-untyped-def]
    coordinator = Coordinator(stable=False)
    cluster = Cluster({TOPIC: None})
    broker = Broker(cluster, coordinator, set())
    w = _loop_on(make, broker)
    w.loop._rejoin_if_topics_appeared(broker)  # not joined yet: a zero means nothing
    cluster.partitions[TOPIC] = {0, 1}
    w.loop._rejoin_if_topics_appeared(broker)
    assert w.loop._consumer is broker  # it never saw them missing as a member: stays
    cluster.partitions[TOPIC] = set()
    coordinator.is_stable = True
    w.loop._rejoin_if_topics_appeared(broker)  # a member that sees no partitions: the topics are missing
    assert w.loop._consumer is broker
    cluster.partitions[TOPIC] = {0, 1}
    w.loop._rejoin_if_topics_appeared(broker)
    assert w.loop._consumer is None and broker.closed  # joins again, as a new member, on the next round


def test_event_ids_past_the_retention_are_forgotten_by_the_round_that_comes_after(make) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    w = make([{P0: [rec(P0, 0, 1)]}])
    w.round()
    assert w.loop.pruner is None  # no retention given: nothing is ever forgotten
    kept = ConsumerLoop(name="evaluator", inbox=w.inbox, consumer_factory=lambda: w.consumer,  # type: ignore[arg-type,return-value]
                        dead_letter_producer_factory=lambda: w.producer,  # type: ignore[arg-type,return-value]
                        topics=[TOPIC], handler=w.handler, metrics=CommonMetrics(CollectorRegistry(), "evaluator"),
                        clock=lambda: T0 + timedelta(days=8), processed_retention=timedelta(days=7))
    assert kept.pruner is not None
    kept._round()  # the pruner does not run at start-up (a restarting fleet would all prune at once)
    with w.inbox.engine.connect() as conn:
        assert list(conn.execute(select(w.inbox.table.c.event_id)).scalars()) == ["ev1"]
    kept.pruner._last -= kept.pruner.interval_s  # its interval has passed
    kept._round()  # nothing polled; ev1, recorded 8 days before this clock, is forgotten
    with w.inbox.engine.connect() as conn:
        assert list(conn.execute(select(w.inbox.table.c.event_id)).scalars()) == []


class Flaky(Consumer):
    """Raises the prepared errors from poll, one per call, then polls normally."""

    def __init__(self, errors: list[BaseException | None], built: list[Flaky]) -> None:
        super().__init__([], lambda: None)
        self.errors = errors  # None: a round that polls normally
        built.append(self)

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[Rec]]:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return {}


def test_a_broker_away_rebuilds_the_consumer_and_a_group_changing_keeps_it(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kafka.errors import KafkaConnectionError, RebalanceInProgressError

    errors: list[BaseException | None] = [KafkaConnectionError("broker away"), RebalanceInProgressError(),
                                   OperationalError("SELECT", {}, Exception("database is locked")),
                                   ValueError("a bug")]
    built: list[Flaky] = []
    w = make([])
    w.loop.consumer_factory = lambda: Flaky(errors, built)
    waits: list[float] = []
    stop = threading.Event()
    monkeypatch.setattr(stop, "wait", lambda s: waits.append(s))
    with pytest.raises(ValueError, match="a bug"):
        w.loop.run(stop)
    # The broker away closed the consumer (a new one next round); a rebalance and a database failure kept it:
    # closing a member while its group changes leaves a ghost the group waits for (docs/kafka.md).
    assert len(built) == 2 and built[0].closed and built[1].closed  # the second closed only as the loop ended
    # Never committing on close: offsets are committed only after the database (a rewound batch stays uncommitted).
    assert built[0].autocommit is False and built[1].autocommit is False
    assert waits == [0.2, 0.4, 0.8]  # backoff doubling from 0.2 s
    transient = w.registry.get_sample_value
    assert transient("transient_failures_total", {"loop": "consumer", "dependency": "broker"}) == 2.0
    assert transient("transient_failures_total", {"loop": "consumer", "dependency": "database"}) == 1.0


def test_each_poll_waits_200ms_for_at_most_500_records_and_handling_carries_the_events_fields(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 0, 1), rec(P0, 1, 2)]}])
    w.round()
    w.round()
    assert w.consumer.polled_with == [(200, 500), (200, 500)]  # the defaults ConsumerLoop documents
    kind = "cn.gov.wuxi.targets.observation.recorded.v1"
    assert w.handler.contexts == [("ev1", kind), ("ev2", kind)]


def test_the_crash_point_after_the_database_commit_comes_before_the_offsets_are_committed(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from shared.faults import POINTS

    w = make([{P0: [rec(P0, 0, 1)]}])
    passed: list[tuple[str, list[str], int]] = []
    monkeypatch.setattr("shared.consumer.fault_point", lambda name: passed.append((name, w.rows(), len(
        w.consumer.commits))))
    w.round()
    assert passed == [("consumer.after_db_commit", ["ev1"], 0)]  # committed in the database, not yet in Kafka
    assert passed[0][0] in POINTS and len(w.consumer.commits) == 1


def test_an_invalid_message_first_in_its_batch_leaves_the_rest_handled(make) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 0, 1), rec(P0, 1, 2), rec(P0, 2, 3)]}])
    w.handler.fail["obs0001"] = InvalidMessage("indicator unknown to this catalogue")
    w.round()
    assert w.handler.calls == ["ev1", "ev2", "ev3"] and (w.count("processed"), w.count("invalid")) == (2.0, 1.0)
    with w.inbox.engine.connect() as conn:
        assert sorted(conn.execute(select(w.inbox.table.c.event_id)).scalars()) == ["ev2", "ev3"]


def test_isolating_a_refused_batch_keeps_every_duplicate_and_says_why_it_re_runs(make, caplog) -> None:  # type: ignore[no-untyped-def]
    w = make([{P0: [rec(P0, 0, 1), rec(P0, 1, 3)]}, {P0: [rec(P0, 2, 1), rec(P0, 3, 2), rec(P0, 4, 3)]}])
    w.round()  # ev1 and ev3 handled
    w.handler.fail["obs0002"] = DataError("INSERT …", {}, Exception("value too long for type character varying"))
    with caplog.at_level("WARNING", logger="shared.consumer"):
        w.round()  # ev1 and ev3 again around a row the database refuses: isolated one by one
    assert (w.count("processed"), w.count("duplicate"), w.count("invalid")) == (2.0, 2.0, 1.0)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "evaluator: the database refused a batch of 3 (Exception: value too long for type character varying); "
        "re-running it one message at a time",
        "evaluator: dead-lettering wx.observations[0]@3: the database refused it: Exception: value too long for type "
        "character varying"]


class Clock:
    """Stands in for the ``time`` module shared/consumer.py reads its intervals from."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now

    def perf_counter(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


def test_an_unassigned_member_ensures_its_topics_and_their_dead_letter_topics_every_10s(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(100.0)
    monkeypatch.setattr("shared.consumer.time", clock)
    w = make([])
    ensured: list[tuple[float, list[str]]] = []
    w.loop.ensure_topics = lambda topics: ensured.append((clock.now, list(topics)))
    assigned: set[TopicPartition] = set()
    w.consumer.assignment = lambda: assigned  # type: ignore[method-assign]
    for now in (100.0, 105.0, 109.9, 110.0, 115.0):
        clock.now = now
        w.round()
    assert ensured == [(100.0, [TOPIC, f"{TOPIC}.dlq"]), (110.0, [TOPIC, f"{TOPIC}.dlq"])]
    assigned.add(P0)  # a member holding partitions has its topics: no more checks
    clock.now = 130.0
    w.round()
    assert len(ensured) == 2


def test_lag_and_assignment_are_reported_at_most_once_a_second(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(100.0)
    monkeypatch.setattr("shared.consumer.time", clock)
    w = make([])
    assigned = {P0, P1}
    w.consumer.assignment = lambda: assigned  # type: ignore[method-assign]

    def partitions_at(now: float) -> float | None:
        clock.now = now
        w.round()
        return w.registry.get_sample_value("consumer_assigned_partitions", {"topic": TOPIC})

    assert partitions_at(100.0) == 2.0
    assigned.discard(P1)
    assert partitions_at(100.5) == 2.0  # within the second: not read again
    assert partitions_at(100.999) == 2.0
    assert partitions_at(101.0) == 1.0  # a second later
    assigned.discard(P0)
    assert partitions_at(101.5) == 1.0 and partitions_at(102.0) == 0.0


def test_backoff_doubles_to_5s_resets_after_a_good_round_and_every_failure_is_logged(make, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from kafka.errors import KafkaConnectionError

    broker = KafkaConnectionError("broker away")
    bug = ValueError("a bug")
    errors: list[BaseException | None] = [broker] * 7 + [None, broker, bug]
    built: list[Flaky] = []
    w = make([])
    w.loop.consumer_factory = lambda: Flaky(errors, built)  # type: ignore[arg-type,return-value]
    waits: list[tuple[float, bool]] = []
    stop = threading.Event()
    monkeypatch.setattr(stop, "wait", lambda s: waits.append((s, w.loop.healthy)))
    with pytest.raises(RuntimeError, match=r"^the consumer has not joined its group yet$"):
        w.loop.check_ready()
    with caplog.at_level("WARNING", logger="shared.consumer"), pytest.raises(ValueError, match="a bug"):
        w.loop.run(stop)
    assert waits == [(0.2, False), (0.4, False), (0.8, False), (1.6, False), (3.2, False), (5.0, False),
                     (5.0, False), (0.2, False)]  # capped at 5 s; the good round in between starts it again
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]  # what other tests' logging lets through
    said = [(r.levelname, r.getMessage()) for r in warned]
    retrying = ("evaluator: transient failure, retrying in {:.1f}s: "
                "KafkaConnectionError: KafkaConnectionError: broker away")
    assert said == [("WARNING", retrying.format(s)) for s, _ in waits] + [
        ("ERROR", "evaluator: consumer loop stopped by an unexpected error")]
    assert warned[-1].exc_info is not None and warned[-1].exc_info[1] is bug
    with pytest.raises(RuntimeError, match=r"^the consumer stopped on an unexpected error$"):
        w.loop.check_ready()
