"""The plumbing that loses nothing and repeats nothing, against a real broker and real databases."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from devstack.broker import TansuBroker, free_port
from services.evaluator.adapters.tables import outbox, processed_events
from services.evaluator.config import EvaluatorSettings
from shared.catalogue.model import Measure
from shared.consumer import ConsumerLoop
from shared.db import make_engine, run_migrations
from shared.inbox import Inbox
from shared.kafka import ensure_topics, make_consumer, make_producer
from shared.messages import ObservationRecorded, ObservationStatus, encode, envelope_for
from shared.metrics import CommonMetrics
from shared.outbox import Outbox, OutboxRelay

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "evaluator" / "migrations"
NOW = datetime(2024, 4, 18, 9, 30, tzinfo=UTC)


def _settings(database_url: str, bootstrap: str, prefix: str) -> EvaluatorSettings:
    return EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,
                             topic_partitions=3, kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500)


def _obs(i: int, indicator: str = "gdp") -> ObservationRecorded:
    return ObservationRecorded(
        observation_id=f"o{i}", indicator=indicator, region="wuxi", period="2024-Q1",
        measure=Measure.CUMULATIVE_YOY_PCT, value=float(i), unit="%", status=ObservationStatus.PROVISIONAL,
        vintage=i + 1, submitted_by="test", recorded_at=NOW,
    )


def _read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    out: list = []
    deadline = time.monotonic() + timeout_s
    while len(out) < expected and time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=200).values():
            out.extend(recs)
    consumer.close()
    return out


def test_relay_publishes_outbox_rows_in_order_and_marks_them_sent(database_url, broker: TansuBroker,
                                                                   topic_prefix: str) -> None:
    settings = _settings(database_url, broker.bootstrap, topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    ensure_topics(settings, [f"{topic_prefix}.observations"])
    engine = make_engine(database_url)
    box = Outbox(outbox, source="/test", topic_prefix=topic_prefix)
    with engine.begin() as conn:
        ids = box.add(conn, [_obs(i, indicator=("gdp", "cpi")[i % 2]) for i in range(40)], NOW)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "t"), CommonMetrics(CollectorRegistry(), "t"),
                        batch_size=15)
    assert relay.publish_pending() == 15
    assert relay.publish_pending() == 15
    assert relay.publish_pending() == 10
    assert relay.publish_pending() == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar() == 0

    records = _read_all(broker.bootstrap, f"{topic_prefix}.observations", 40)
    assert sorted(r.value for r in records) == sorted(
        r for r in (engine.connect().execute(select(outbox.c.payload)).scalars())
    )
    by_key: dict[bytes, list[float]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(r.key, []).append(__import__("json").loads(r.value)["data"]["value"])
    assert by_key[b"gdp"] == sorted(by_key[b"gdp"]) and by_key[b"cpi"] == sorted(by_key[b"cpi"])
    assert len(ids) == 40
    engine.dispose()
    relay._reset_producer()


def test_relay_keeps_rows_while_the_broker_is_away(database_url, topic_prefix: str, tmp_path: Path) -> None:
    port = free_port()
    settings = _settings(database_url, f"127.0.0.1:{port}", topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        Outbox(outbox, source="/t", topic_prefix=topic_prefix).add(conn, [_obs(1), _obs(2)], NOW)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "t"), CommonMetrics(CollectorRegistry(), "t"))
    try:
        relay.publish_pending()
        raise AssertionError("publishing without a broker must fail")
    except Exception as exc:
        assert not isinstance(exc, AssertionError)
    relay._reset_producer()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar() == 2

    late = TansuBroker(port=port, log_path=tmp_path / "late.log")
    late.start()
    try:
        ensure_topics(settings, [f"{topic_prefix}.observations"])
        deadline = time.monotonic() + 20
        published = 0
        while published < 2 and time.monotonic() < deadline:
            try:
                published += relay.publish_pending()
            except Exception:
                relay._reset_producer()
                time.sleep(0.5)
        assert published == 2
        assert len(_read_all(late.bootstrap, f"{topic_prefix}.observations", 2)) == 2
    finally:
        relay._reset_producer()
        late.stop()
        engine.dispose()


def test_consumer_handles_each_event_once_and_dead_letters_the_unreadable(database_url, broker: TansuBroker,
                                                                          topic_prefix: str) -> None:
    settings = _settings(database_url, broker.bootstrap, topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    topic = f"{topic_prefix}.observations"
    ensure_topics(settings, [topic, f"{topic}.dlq"])
    producer = make_producer(settings, "t")
    envelopes = [envelope_for(_obs(i), source="/t", time=NOW) for i in range(5)]
    for env in envelopes + envelopes[:2]:  # the first two delivered twice, as after a producer retry
        producer.send(topic, key=b"gdp", value=encode(env))
    producer.send(topic, key=b"gdp", value=b"{broken")
    producer.flush()
    producer.close()

    engine = make_engine(database_url)
    handled: list[str] = []

    def run_group(group: str) -> None:
        metrics = CommonMetrics(CollectorRegistry(), "t")
        loop = ConsumerLoop(
            name=group, inbox=Inbox(engine, processed_events),
            consumer_factory=lambda: make_consumer(settings, group, "t"),
            dead_letter_producer_factory=lambda: make_producer(settings, "t-dlq"),
            topics=[topic], handler=lambda conn, env, data: handled.append(env.id), metrics=metrics,
        )
        stop = threading.Event()
        t = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and metrics.consumer_messages.labels(topic, "invalid")._value.get() < 1:
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        t.join(10)
        assert loop.crashed is None

    run_group("g1")
    assert sorted(handled) == sorted(e.id for e in envelopes)
    # A second group re-reads everything (as after lost offsets): the inbox makes it a no-op.
    run_group("g2")
    assert sorted(handled) == sorted(e.id for e in envelopes)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(processed_events)).scalar() == 5
    dead = _read_all(broker.bootstrap, f"{topic}.dlq", 2)
    assert [d.value for d in dead] == [b"{broken", b"{broken"]  # once per group that met it
    assert dict(dead[0].headers)["dlq-reason"].startswith(b"not a CloudEvents")
    engine.dispose()


def test_a_newer_producer_with_extra_fields_is_read_by_the_older_evaluator(db_factory, broker: TansuBroker,
                                                                          topic_prefix: str) -> None:
    """A rolling upgrade: ingest already publishes fields this evaluator does not know (issue 11, item 9)."""
    from fastapi.testclient import TestClient

    from services.evaluator.main import create_app as create_evaluator
    from shared.clock import FrozenClock

    settings = EvaluatorSettings(database_url=db_factory(), kafka_bootstrap_servers=broker.bootstrap,
                                 topic_prefix=topic_prefix, topic_partitions=1, kafka_session_timeout_ms=2000,
                                 kafka_heartbeat_interval_ms=500, consumer_group=f"{topic_prefix}-evaluator")
    topic = f"{topic_prefix}.observations"
    data = _obs(0).model_copy(update={"value": 4.9, "vintage": 1}).model_dump(mode="json")
    newer = {"specversion": "1.0", "id": "newer-1", "source": "/wuxi-targets/ingest",
             "type": ObservationRecorded.event_type, "time": NOW.isoformat(), "datacontenttype": "application/json",
             "traceparent": "00-abc-def-01",
             "data": {**data, "seasonally_adjusted": False, "quality": {"grade": "B"}}}
    registry = CollectorRegistry()
    app = create_evaluator(settings, clock=FrozenClock(datetime(2024, 4, 20, tzinfo=UTC)), registry=registry)
    with TestClient(app) as client:
        ensure_topics(settings, [topic])
        producer = make_producer(settings, "newer-ingest")
        producer.send(topic, key=b"gdp", value=__import__("json").dumps(newer).encode()).get(timeout=10)
        producer.close()
        deadline = time.monotonic() + 30
        while not client.get("/v1/targets/gdp_growth/evaluations").json():
            assert time.monotonic() < deadline, "the evaluator did not evaluate the newer event"
            time.sleep(0.1)
        labels = {"topic": topic}
        assert registry.get_sample_value("consumer_unknown_fields_total", labels) == 1
        assert registry.get_sample_value("consumer_messages_total", {**labels, "outcome": "processed"}) == 1
        assert not registry.get_sample_value("consumer_messages_total", {**labels, "outcome": "invalid"})
        [evaluation] = client.get("/v1/targets/gdp_growth/evaluations").json()
        assert evaluation["actual"] == 4.9


def test_every_loop_recreates_its_topics_after_the_broker_lost_them(database_url: str, topic_prefix: str,
                                                                     tmp_path: Path) -> None:
    """Tansu restarts empty: the consumer re-creates its topic and dead-letter topic, the relay its topic."""
    from shared.kafka import topic_creator
    from tests.integration.consumer_support import consuming, read_all, wait_for

    port = free_port()
    own = TansuBroker(port=port, log_path=tmp_path / "own.log")
    own.start()
    settings = _settings(database_url, own.bootstrap, topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    observations, deviations = f"{topic_prefix}.observations", f"{topic_prefix}.deviations"
    ensure = topic_creator(settings)
    engine = make_engine(database_url)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "t"), CommonMetrics(CollectorRegistry(), "t"),
                        ensure_topics=ensure)
    try:
        with consuming(settings, observations, lambda *_: None, group=f"{topic_prefix}-g", ensure_topics=ensure) as run:
            wait_for(lambda: run.loop.healthy, what="the consumer to join")
            own.kill()
            own = TansuBroker(port=port, log_path=tmp_path / "own2.log")
            own.start()  # empty: no topics, no groups
            wait_for(lambda: observations in _topics(own.bootstrap), timeout_s=60,
                     what="the consumer to bring its topic back")
            assert f"{observations}.dlq" not in _topics(own.bootstrap)  # lost with the broker
            producer = KafkaProducer(bootstrap_servers=own.bootstrap)
            producer.send(observations, key=b"gdp", value=b"{not an event").get(timeout=10)
            producer.close()
            wait_for(lambda: run.messages(observations, "invalid") == 1, timeout_s=60, what="a dead letter")
            assert run.loop.crashed is None
        assert [r.value for r in read_all(own.bootstrap, f"{observations}.dlq", 1)] == [b"{not an event"]
        # The relay: its first round fails on the missing topic, the next re-creates it and publishes.
        with engine.begin() as conn:
            Outbox(outbox, source="/t", topic_prefix=topic_prefix).add(conn, [_status_changed()], NOW)
        deadline = time.monotonic() + 30
        published = 0
        while not published:
            assert time.monotonic() < deadline, "the relay did not publish after the broker loss"
            try:
                published = relay.publish_pending()
            except Exception:
                relay._reset_producer()
        assert deviations in _topics(own.bootstrap)
    finally:
        relay._reset_producer()
        engine.dispose()
        own.stop()


def test_a_consumer_whose_topic_came_back_with_fewer_partitions_reads_every_partition_of_it(
        database_url: str, topic_prefix: str, tmp_path: Path) -> None:
    """The CI failure of 2026-12-01: a broker restarted empty, a consumer's metadata request re-created its topic
    with Tansu's 4 partitions before anyone made it with the configured 6, and the loop, still assigned 0..5,
    waited for partitions 4 and 5 and read nothing more. It must read every message of the new topic."""
    from shared.kafka import topic_creator
    from tests.integration.consumer_support import consuming, wait_for

    port = free_port()
    own = TansuBroker(port=port, log_path=tmp_path / "own.log")
    own.start()
    settings = EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers=own.bootstrap,
                                 topic_prefix=topic_prefix, topic_partitions=6)  # the services' group timings
    run_migrations(database_url, MIGRATIONS)
    topic = f"{topic_prefix}.observations"
    handled: list[str] = []
    try:
        with consuming(settings, topic, lambda conn, env, data: handled.append(env.id), group=f"{topic_prefix}-g",
                       ensure_topics=topic_creator(settings)) as run:
            wait_for(lambda: len(run.loop._consumer.assignment() if run.loop._consumer else ()) == 6, timeout_s=60,
                     what="the consumer to hold the topic's 6 partitions")
            own.kill()
            own = TansuBroker(port=port, log_path=tmp_path / "own2.log")
            own.start()  # empty
            # Whoever comes first (this or the loop's metadata request), the topic has Tansu's 4 partitions.
            ensure_topics(settings.model_copy(update={"topic_partitions": 4}), [topic])
            assert len(KafkaConsumer(bootstrap_servers=own.bootstrap).partitions_for_topic(topic) or ()) == 4
            envelopes = [envelope_for(_obs(i, indicator=f"ind{i}"), source="/t", time=NOW) for i in range(12)]
            producer = KafkaProducer(bootstrap_servers=own.bootstrap)
            for env in envelopes:  # twelve keys: every one of the 4 partitions gets some
                producer.send(topic, key=env.data["indicator"].encode(), value=encode(env)).get(timeout=10)
            producer.close()
            wait_for(lambda: len(handled) == 12, timeout_s=60,
                     what=f"the 12 messages of the re-created topic (handled {len(handled)})")
            assert run.loop.crashed is None
        assert sorted(handled) == sorted(e.id for e in envelopes)
    finally:
        own.stop()


def _topics(bootstrap: str) -> set[str]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return set(consumer.topics())
    finally:
        consumer.close()


def _status_changed():  # type: ignore[no-untyped-def]
    from shared.messages import Severity, TargetStatusChanged

    return TargetStatusChanged(
        evaluation_id="e1", target_id="gdp_growth", target_name_zh="地区生产总值增长5.5%左右", section="headline",
        kind="growth_about", indicator="gdp", region="wuxi", period="2024-Q1", status="behind",
        severity=Severity.WARNING, previous_status=None, previous_severity=None, actual=4.9, expected=5.5,
        target_value=5.5, unit="%", gap_abs=-0.6, gap_rel=None, gap_pp=-0.6, progress=None, expected_progress=None,
        projection=None, run_rate_needed=None, observation_status=None, lead_department="fgw", message_zh="滞后",
        observation_id="o1", observation_vintage=1, evaluated_at=NOW)


def test_sent_outbox_rows_and_processed_ids_past_their_retention_are_pruned(database_url: str) -> None:
    """Issue 11, item 14: the relay's leader deletes sent rows, the consumer old event ids; nothing else."""
    from datetime import timedelta

    from shared.clock import FrozenClock
    from shared.inbox import mark_processed

    run_migrations(database_url, MIGRATIONS)
    engine = make_engine(database_url)
    clock = FrozenClock(NOW)
    registry = CollectorRegistry()
    metrics = CommonMetrics(registry, "t")
    box = Outbox(outbox, source="/t", topic_prefix="t", clock=clock)
    relay = OutboxRelay(engine, outbox, lambda: None, metrics, clock=clock,  # type: ignore[arg-type,return-value]
                        retention=timedelta(hours=168))
    loop = ConsumerLoop(name="t", inbox=Inbox(engine, processed_events), consumer_factory=lambda: None,  # type: ignore
                        dead_letter_producer_factory=lambda: None, topics=["t"], handler=lambda *_: None,  # type: ignore
                        metrics=metrics, clock=clock, processed_retention=timedelta(hours=336))
    with engine.begin() as conn:
        old = box.add(conn, [_obs(i) for i in range(2500)], NOW)
        conn.execute(outbox.update().where(outbox.c.event_id.in_(old[:2400])).values(sent_at=NOW))
        mark_processed(conn, processed_events, [(f"e{i}", "t") for i in range(1200)], NOW)
    clock.set(NOW + timedelta(hours=200))
    with engine.begin() as conn:
        box.add(conn, [_obs(1)], clock())  # new, unsent
        mark_processed(conn, processed_events, [("recent", "t")], clock())
    assert relay.pruner is not None and relay.pruner.run() == 2400  # in chunks of 1000
    assert loop.pruner is not None and loop.pruner.run() == 0  # 200 h < 336 h
    clock.set(NOW + timedelta(hours=400))
    assert loop.pruner.run() == 1200
    with engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(outbox)).scalar()
        unsent = conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar()
        ids = set(conn.execute(select(processed_events.c.event_id)).scalars())
    assert (left, unsent) == (101, 101)  # unsent rows are never pruned, however old
    assert ids == {"recent"}
    assert registry.get_sample_value("pruned_rows_total", {"table": "outbox"}) == 2400
    assert registry.get_sample_value("pruned_rows_total", {"table": "processed_events"}) == 1200
    engine.dispose()
